// Cooperative launches and occupancy of the runtime API: cudaLaunchCooperativeKernel and
// cudaOccupancyMaxActiveBlocksPerMultiprocessor(WithFlags). The limits come from the core (core/Occupancy.cpp)
// so both APIs agree with what the engine keeps resident.
#include "runtime/RuntimeLaunch.h"
#include "runtime/RuntimeState.h"

#include "core/Launch.h"
#include "core/Module.h"

#include <climits>

using namespace cushim;
using namespace cushim::runtime;


namespace {

Error occupancy(int *NumBlocks, const void *Func, int BlockSize, size_t DynamicShared, unsigned Flags) {
  if (!NumBlocks)
    return runtimeError(cudaErrorInvalidValue, "numBlocks is NULL");
  if (Flags & ~static_cast<unsigned>(cudaOccupancyDisableCachingOverride))
    return runtimeError(cudaErrorInvalidValue, "unknown occupancy flags");
  auto F = functionFor(Func);
  if (!F)
    return F.takeError();
  if (BlockSize <= 0)
    return runtimeError(cudaErrorInvalidValue, "block size must be positive");
  auto N = core::maxActiveBlocksPerMultiprocessor(**F, BlockSize, DynamicShared);
  if (!N)
    return N.takeError();
  *NumBlocks = *N;
  return Error::success();
}

Error launchCooperative(const void *Func, dim3 Grid, dim3 Block, void **Args, size_t Shared, cudaStream_t Stream) {
  auto F = functionFor(Func);
  if (!F)
    return F.takeError();
  core::LaunchConfig C;
  C.Grid[0] = Grid.x, C.Grid[1] = Grid.y, C.Grid[2] = Grid.z;
  C.Block[0] = Block.x, C.Block[1] = Block.y, C.Block[2] = Block.z;
  if (Shared > UINT32_MAX)
    return runtimeError(cudaErrorInvalidValue, "dynamic shared memory size out of range");
  C.DynamicShared = static_cast<unsigned>(Shared);
  if (Error E = core::checkLaunchDims(**F, C); E.isError())
    return runtimeError(cudaErrorInvalidConfiguration, E.message());
  if (Error E = core::checkCooperativeGrid(**F, C); E.isError()) {
    if (E.code() == CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE)
      return runtimeError(cudaErrorCooperativeLaunchTooLarge, E.message());
    return E;
  }
  return launchHostFunction(Func, Grid, Block, Args, Shared, Stream);
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *NumBlocks, const void *Func,
                                                                                 int BlockSize, size_t DynamicSMemSize,
                                                                                 unsigned int Flags) {
  ApiTrace T("cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags");
  T.args("numBlocks={} func={} blockSize={} dynamicSMemSize={} flags={}", static_cast<void *>(NumBlocks), Func,
         BlockSize, DynamicSMemSize, Flags);
  return finish(T, occupancy(NumBlocks, Func, BlockSize, DynamicSMemSize, Flags));
}

CUSHIM_EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *NumBlocks, const void *Func, int BlockSize,
                                                                        size_t DynamicSMemSize) {
  ApiTrace T("cudaOccupancyMaxActiveBlocksPerMultiprocessor");
  T.args("numBlocks={} func={} blockSize={} dynamicSMemSize={}", static_cast<void *>(NumBlocks), Func, BlockSize,
         DynamicSMemSize);
  return finish(T, occupancy(NumBlocks, Func, BlockSize, DynamicSMemSize, cudaOccupancyDefault));
}

CUSHIM_EXPORT cudaError_t cudaLaunchCooperativeKernel(const void *Func, dim3 Grid, dim3 Block, void **Args,
                                                      size_t Shared, cudaStream_t Stream) {
  ApiTrace T("cudaLaunchCooperativeKernel");
  T.args("func={} grid=({},{},{}) block=({},{},{}) shared={} stream={}", Func, Grid.x, Grid.y, Grid.z, Block.x, Block.y,
         Block.z, Shared, static_cast<void *>(Stream));
  return finish(T, launchCooperative(Func, Grid, Block, Args, Shared, Stream));
}

CUSHIM_EXPORT cudaError_t cudaLaunchCooperativeKernel_ptsz(const void *Func, dim3 Grid, dim3 Block, void **Args,
                                                           size_t Shared, cudaStream_t Stream) {
  ApiTrace T("cudaLaunchCooperativeKernel_ptsz");
  T.args("func={} grid=({},{},{}) block=({},{},{}) shared={} stream={}", Func, Grid.x, Grid.y, Grid.z, Block.x, Block.y,
         Block.z, Shared, static_cast<void *>(Stream));
  return finish(T, launchCooperative(Func, Grid, Block, Args, Shared, Stream));
}
