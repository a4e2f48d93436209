// API call tracing (CUSHIM_TRACE=1: one line per call with arguments and result) and error logging at the API edge.
#pragma once

#include "support/Error.h"
#include "support/Export.h"

#include <driver_types.h>
#include <fmt/format.h>

#include <string>

namespace cushim {

CUSHIM_API bool traceEnabled();

class CUSHIM_API ApiTrace {
public:
  explicit ApiTrace(const char *Name) : Name(Name), Enabled(traceEnabled()) {}

  template <typename... T> void args(fmt::format_string<T...> Format, T &&...Args) {
    if (Enabled)
      Arguments = fmt::format(Format, std::forward<T>(Args)...);
  }

  // Logs the call (when tracing) and the error message (always, when there is one); returns the code.
  CUresult done(const Error &E);
  CUresult done(CUresult R);
  cudaError_t done(cudaError_t R, const std::string &Message = {});

private:
  const char *Name;
  bool Enabled;
  std::string Arguments;
};

} // namespace cushim
