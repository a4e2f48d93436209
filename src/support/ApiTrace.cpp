// Trace lines share the process logger's sink but always print, whatever CUSHIM_LOG says.
#include "support/ApiTrace.h"

#include "support/Config.h"
#include "support/ErrorTables.h"
#include "support/Log.h"

namespace cushim {

bool traceEnabled() { return config().Trace; }

// Messages usually name their API already; avoid "cudaMemcpy: cudaMemcpy: ...".
static void logFailure(const char *Name, const std::string &Message) {
  if (Message.rfind(Name, 0) == 0)
    CUSHIM_LOG_WARN("{}", Message);
  else
    CUSHIM_LOG_WARN("{}: {}", Name, Message);
}

static void emit(const char *Name, const std::string &Args, const char *Result) {
  auto &L = logger();
  std::string Line = fmt::format("{}({}) = {}", Name, Args, Result ? Result : "?");
  // Handed to the sinks directly (bypassing the logger level) so that it shows at every log level.
  for (auto &Sink : L.sinks()) {
    spdlog::details::log_msg Msg(L.name(), spdlog::level::trace, Line);
    Sink->log(Msg);
    Sink->flush();
  }
}

CUresult ApiTrace::done(const Error &E) {
  if (E.isError() && !E.message().empty() && E.code() != CUDA_ERROR_NOT_READY)
    logFailure(Name, E.message());
  return done(E.code());
}

CUresult ApiTrace::done(CUresult R) {
  if (Enabled)
    emit(Name, Arguments, driverErrorName(R));
  return R;
}

cudaError_t ApiTrace::done(cudaError_t R, const std::string &Message) {
  if (R != cudaSuccess && !Message.empty() && R != cudaErrorNotReady)
    logFailure(Name, Message);
  if (Enabled)
    emit(Name, Arguments, runtimeErrorName(R));
  return R;
}

} // namespace cushim
