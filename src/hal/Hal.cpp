// Backend selection and HAL result checking.
#include "hal/Hal.h"

#include "support/ErrorTables.h"
#include "support/Log.h"

#include <cstdlib>

namespace cushim::hal {

static const cushim_hal_ops *selectBackend() {
  const cushim_hal_ops *Ops = cushim_hal_host_backend();
  if (!Ops || Ops->abi_version != CUSHIM_HAL_ABI_VERSION || Ops->struct_size < sizeof(cushim_hal_ops)) {
    // A mismatched table cannot be called safely; nothing can work without a backend.
    CUSHIM_LOG_ERROR("HAL backend ABI mismatch (abi {} size {}, expected abi {} size {})", Ops ? Ops->abi_version : 0,
                     Ops ? Ops->struct_size : 0, CUSHIM_HAL_ABI_VERSION, sizeof(cushim_hal_ops));
    std::abort();
  }
  CUSHIM_LOG_DEBUG("using HAL backend '{}'", Ops->name);
  return Ops;
}

const cushim_hal_ops &ops() {
  static const cushim_hal_ops *Ops = selectBackend();
  return *Ops;
}

Error check(cushim_hal_result Result, const char *Operation) {
  if (Result == CUDA_SUCCESS)
    return Error::success();
  const char *Name = driverErrorName(static_cast<CUresult>(Result));
  return makeError(static_cast<CUresult>(Result),
                   std::string("backend ") + ops().name + ": " + Operation + " failed (" + (Name ? Name : "?") + ")");
}

} // namespace cushim::hal
