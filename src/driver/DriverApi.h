// Shared helpers of the libcuda.so.1 entry points: tracing, initialisation checks, handle validation.
#pragma once

#include "core/Context.h"
#include "core/Device.h"
#include "support/ApiTrace.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

namespace cushim::driver {

// Every driver call but a few fails with CUDA_ERROR_NOT_INITIALIZED before cuInit.
inline Error requireInit() {
  if (!core::isInitialized())
    return makeError(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called (or failed)");
  return Error::success();
}

inline Expected<core::Device *> requireDevice(CUdevice Ordinal) {
  CUSHIM_TRY(requireInit());
  if (core::Device *D = core::device(Ordinal))
    return D;
  return makeError(CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal " + std::to_string(Ordinal));
}

inline Expected<core::Context *> requireContext(const char *Api) {
  CUSHIM_TRY(requireInit());
  return core::requireCurrentContext(Api);
}

} // namespace cushim::driver

// Runs Body (a block returning cushim::Error) as the implementation of a traced entry point.
#define CUSHIM_DRIVER_BODY(Trace, ...) return Trace.done([&]() -> ::cushim::Error __VA_ARGS__())
