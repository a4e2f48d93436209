// The launch path shared by cudaLaunchKernel and the <<<...>>> hooks.
#pragma once

#include "support/Error.h"

#include <cuda_runtime_api.h>

namespace cushim::runtime {

// Launches the kernel registered for HostFun; configuration errors come back as the runtime's codes.
Error launchHostFunction(const void *HostFun, dim3 Grid, dim3 Block, void **Args, size_t Shared, cudaStream_t Stream);

} // namespace cushim::runtime
