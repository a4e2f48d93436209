// Process-wide spdlog logger configured from the environment.
#include "support/Log.h"

#include "support/Config.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <mutex>
#include <set>
#include <string>

namespace cushim {

static spdlog::logger *createLogger() {
  const Config &C = config();
  std::shared_ptr<spdlog::logger> L;
  if (!C.LogFile.empty()) {
    try {
      L = std::make_shared<spdlog::logger>("cuda_shim",
                                           std::make_shared<spdlog::sinks::basic_file_sink_mt>(C.LogFile, false));
    } catch (const spdlog::spdlog_ex &E) {
      fprintf(stderr, "cuda_shim: cannot open CUSHIM_LOG_FILE=%s (%s); logging to stderr\n", C.LogFile.c_str(),
              E.what());
    }
  }
  if (!L)
    L = std::make_shared<spdlog::logger>("cuda_shim", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  // Full level names: API trace lines read "[cuda_shim trace] cuMemAlloc_v2(...) = CUDA_SUCCESS".
  L->set_pattern("[cuda_shim %l] %v");
  spdlog::level::level_enum Level = spdlog::level::from_str(C.LogLevel);
  if (Level == spdlog::level::off && C.LogLevel != "off")
    Level = spdlog::level::warn;
  L->set_level(Level);
  L->flush_on(spdlog::level::trace);
  for (const std::string &P : C.Problems)
    L->warn("{}", P);
  L->debug("configuration: log={} trace={} devices={} cc={}.{} engine={} cache={}{}", C.LogLevel, C.Trace, C.Devices,
           C.CcMajor, C.CcMinor, C.Engine.empty() ? "auto" : C.Engine, C.CachePath,
           C.CacheDisabled ? " (disabled)" : "");
  // Leaked on purpose: logging must keep working from atexit handlers and static destructors of applications.
  return new spdlog::logger(*L);
}

spdlog::logger &logger() {
  static spdlog::logger *L = createLogger();
  return *L;
}

bool logOnce(const char *Key) {
  static std::mutex M;
  static std::set<std::string> *Seen = new std::set<std::string>();
  std::lock_guard<std::mutex> G(M);
  return Seen->insert(Key).second;
}

} // namespace cushim
