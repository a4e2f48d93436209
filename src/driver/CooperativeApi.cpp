// Cooperative launches and occupancy: cuLaunchCooperativeKernel (every block of the grid resident at once, so
// cooperative_groups' grid.sync() can wait for all of them) and cuOccupancyMaxActiveBlocksPerMultiprocessor.
// The limits live in core (core/Occupancy.cpp), shared with libcudart.
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"
#include "core/Stream.h"

#include <algorithm>
#include <climits>

using namespace cushim;
using namespace cushim::driver;


CUSHIM_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *NumBlocks, CUfunction Handle,
                                                                            int BlockSize, size_t DynamicSMemSize,
                                                                            unsigned int Flags) {
  ApiTrace T("cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags");
  T.args("numBlocks={} func={} blockSize={} dynamicSMemSize={} flags={}", static_cast<void *>(NumBlocks),
         static_cast<void *>(Handle), BlockSize, DynamicSMemSize, Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!NumBlocks)
      return makeError(CUDA_ERROR_INVALID_VALUE, "numBlocks is NULL");
    if (Flags & ~static_cast<unsigned>(CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE))
      return makeError(CUDA_ERROR_INVALID_VALUE, "unknown occupancy flags");
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "not a live function");
    auto N = core::maxActiveBlocksPerMultiprocessor(*F, BlockSize, DynamicSMemSize);
    if (!N)
      return N.takeError();
    *NumBlocks = *N;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *NumBlocks, CUfunction Handle, int BlockSize,
                                                                   size_t DynamicSMemSize) {
  return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(NumBlocks, Handle, BlockSize, DynamicSMemSize,
                                                              CU_OCCUPANCY_DEFAULT);
}

namespace {
CUresult launchCooperative(const char *Api, CUfunction Handle, unsigned GridDimX, unsigned GridDimY, unsigned GridDimZ,
                           unsigned BlockDimX, unsigned BlockDimY, unsigned BlockDimZ, unsigned SharedMemBytes,
                           CUstream HStream, void **KernelParams) {
  ApiTrace T(Api);
  T.args("f={} grid=({},{},{}) block=({},{},{}) shared={} stream={} kernelParams={}", static_cast<void *>(Handle),
         GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ, SharedMemBytes, static_cast<void *>(HStream),
         static_cast<void *>(KernelParams));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "not a live function");
    core::Context &Ctx = F->module().context();
    auto S = core::resolveStream(Ctx, HStream);
    if (!S)
      return S.takeError();
    core::LaunchConfig C;
    C.Grid[0] = GridDimX, C.Grid[1] = GridDimY, C.Grid[2] = GridDimZ;
    C.Block[0] = BlockDimX, C.Block[1] = BlockDimY, C.Block[2] = BlockDimZ;
    C.DynamicShared = SharedMemBytes;
    CUSHIM_TRY(core::checkLaunchDims(*F, C));
    CUSHIM_TRY(core::checkCooperativeGrid(*F, C));
    return core::launchKernel(*F, C, **S, KernelParams, nullptr);
  });
}
} // namespace

CUSHIM_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                                 unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                                 unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                                 void **KernelParams) {
  return launchCooperative("cuLaunchCooperativeKernel", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY,
                           BlockDimZ, SharedMemBytes, HStream, KernelParams);
}

CUSHIM_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                                      unsigned int GridDimZ, unsigned int BlockDimX,
                                                      unsigned int BlockDimY, unsigned int BlockDimZ,
                                                      unsigned int SharedMemBytes, CUstream HStream,
                                                      void **KernelParams) {
  return launchCooperative("cuLaunchCooperativeKernel_ptsz", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY,
                           BlockDimZ, SharedMemBytes, HStream, KernelParams);
}
