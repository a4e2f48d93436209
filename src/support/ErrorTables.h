// Names and descriptions of CUresult and cudaError_t codes, and the driver-to-runtime code mapping.
#pragma once

#include "support/Export.h"

#include <cuda.h>
#include <driver_types.h>

namespace cushim {

// "CUDA_ERROR_INVALID_VALUE"; nullptr for an unknown code (cuGetErrorName returns CUDA_ERROR_INVALID_VALUE then).
CUSHIM_API const char *driverErrorName(CUresult Code);
// "invalid argument"; nullptr for an unknown code.
CUSHIM_API const char *driverErrorString(CUresult Code);
// "cudaErrorInvalidValue"; nullptr for an unknown code.
CUSHIM_API const char *runtimeErrorName(cudaError_t Code);
// "invalid argument"; nullptr for an unknown code.
CUSHIM_API const char *runtimeErrorString(cudaError_t Code);
// The runtime error a driver error surfaces as (what NVIDIA's cudart returns for it).
CUSHIM_API cudaError_t runtimeErrorFromDriver(CUresult Code);

} // namespace cushim
