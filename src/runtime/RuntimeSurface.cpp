// What the generated stubs of unimplemented runtime entry points do (RuntimeSurface.h).
#include "runtime/RuntimeSurface.h"

#include "runtime/RuntimeState.h"
#include "support/Log.h"

namespace cushim::runtime {

StubResult notImplemented(const char *Name) {
  if (logOnce(Name))
    CUSHIM_LOG_WARN("{} is not implemented by cuda_shim: it returns cudaErrorNotSupported", Name);
  // A failed call becomes the thread's last error, as every runtime call's does.
  lastError() = cudaErrorNotSupported;
  return cudaErrorNotSupported;
}

} // namespace cushim::runtime
