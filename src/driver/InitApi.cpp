// Initialisation, versions and error strings of the driver API.
#include "driver/DriverApi.h"
#include "driver/ExportTables.h"

#include "support/ErrorTables.h"

using namespace cushim;

CUSHIM_EXPORT CUresult cuInit(unsigned int Flags) {
  ApiTrace T("cuInit");
  T.args("Flags={}", Flags);
  // The static cudart keeps per-context state in context-local storage; its destructors run when a context dies.
  core::addContextDestroyHook([](core::Context &Ctx) { driver::destroyContextLocalStorage(Ctx.handle()); });
  return T.done(core::initialize(Flags));
}

CUSHIM_EXPORT CUresult cuDriverGetVersion(int *DriverVersion) {
  ApiTrace T("cuDriverGetVersion");
  T.args("driverVersion={}", static_cast<void *>(DriverVersion));
  if (!DriverVersion)
    return T.done(makeError(CUDA_ERROR_INVALID_VALUE, "driverVersion is NULL"));
  *DriverVersion = core::ReportedCudaVersion;
  return T.done(CUDA_SUCCESS);
}

CUSHIM_EXPORT CUresult cuGetErrorString(CUresult Error, const char **PStr) {
  if (!PStr)
    return CUDA_ERROR_INVALID_VALUE;
  *PStr = driverErrorString(Error);
  return *PStr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

CUSHIM_EXPORT CUresult cuGetErrorName(CUresult Error, const char **PStr) {
  if (!PStr)
    return CUDA_ERROR_INVALID_VALUE;
  *PStr = driverErrorName(Error);
  return *PStr ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}
