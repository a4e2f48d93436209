// Kernel launches: configuration checks against the device limits and packing of the parameter buffer.
#pragma once

#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <vector>

namespace cushim::core {

class Function;
class Stream;

struct LaunchConfig {
  unsigned Grid[3] = {1, 1, 1};
  unsigned Block[3] = {1, 1, 1};
  unsigned DynamicShared = 0;
};

// Grid and block dimensions within the device's limits (CUDA_ERROR_INVALID_VALUE otherwise, with the reason).
CUSHIM_API Error checkLaunchDims(const Function &F, const LaunchConfig &Config);
// Shared memory (static + dynamic) within the function's limit (CUDA_ERROR_INVALID_VALUE otherwise).
CUSHIM_API Error checkLaunchShared(const Function &F, const LaunchConfig &Config);

// Blocks of BlockSize threads (plus DynamicShared bytes) one multiprocessor keeps resident: the occupancy API's answer
// and the co-residency limit cooperative launches rely on.
CUSHIM_API Expected<int> maxActiveBlocksPerMultiprocessor(const Function &F, int BlockSize, size_t DynamicShared);
// The most dynamic shared memory per block that still lets NumBlocks blocks of BlockSize threads share one
// multiprocessor (cuOccupancyAvailableDynamicSMemPerBlock / cudaOccupancyAvailableDynamicSMemPerBlock); 0 when even
// without it fewer fit.
CUSHIM_API Expected<size_t> availableDynamicSharedPerBlock(const Function &F, int NumBlocks, int BlockSize);
// A cooperative grid must fit in occupancy x multiprocessors (CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE otherwise).
CUSHIM_API Error checkCooperativeGrid(const Function &F, const LaunchConfig &C);

// What the attribute list of cuLaunchKernelEx / cudaLaunchKernelExC asks for (cudaLaunchAttribute has
// CUlaunchAttribute's layout and ids, so both APIs read theirs here).
struct LaunchAttributes {
  bool Cooperative = false;
};
// Scheduling and cache hints are accepted (correct to ignore on a CPU); clusters of more than one block and
// launch-triggered events are refused with CUDA_ERROR_NOT_SUPPORTED, saying which (Api names the entry point).
CUSHIM_API Expected<LaunchAttributes> readLaunchAttributes(const CUlaunchAttribute *Attrs, unsigned NumAttrs,
                                                           const char *Api);

// Fills the packed parameter buffer from kernelParams (one pointer per parameter) or extra (a ready-made buffer);
// graph kernel nodes keep such a buffer.
CUSHIM_API Error packKernelParams(const Function &F, void **KernelParams, void **Extra, std::vector<char> &Buffer);
// The same into Out, which holds the function's parameter size (zero-filled here first).
CUSHIM_API Error packKernelParams(const Function &F, void **KernelParams, void **Extra, char *Out);

// Packs the parameters (cuLaunchKernel's kernelParams or extra) and enqueues the launch on the stream.
CUSHIM_API Error launchKernel(Function &F, const LaunchConfig &Config, Stream &S, void **KernelParams, void **Extra);

} // namespace cushim::core
