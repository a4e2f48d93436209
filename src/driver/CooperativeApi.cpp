// Cooperative launches and occupancy: cuLaunchCooperativeKernel (every block of the grid resident at once, so
// cooperative_groups' grid.sync() can wait for all of them) and cuOccupancyMaxActiveBlocksPerMultiprocessor.
// The occupancy reported here is the co-residency limit the launch enforces; the host engine keeps at least that many
// blocks of a launch live per worker (see docs/SIMT.md).
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"
#include "core/Stream.h"

#include <algorithm>
#include <climits>

using namespace cushim;
using namespace cushim::driver;

namespace cushim::core {

// Blocks of BlockSize threads (and DynamicShared bytes of dynamic shared memory) one multiprocessor holds at once:
// the minimum of the block-count, thread-count and shared-memory limits of the reported architecture. Registers are
// not a limit (a CPU thread has no register file). Also used by libcudart (declared in runtime/CooperativeApi.cpp).
CUSHIM_API Expected<int> maxActiveBlocksPerMultiprocessor(const Function &F, int BlockSize, size_t DynamicShared) {
  if (BlockSize <= 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "block size must be positive");
  auto MaxThreads = F.attribute(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  if (!MaxThreads)
    return MaxThreads.takeError();
  if (BlockSize > *MaxThreads)
    return 0; // as CUDA: a block this large cannot run at all
  const Device &Dev = F.module().context().device();
  auto Get = [&](CUdevice_attribute A) -> int {
    auto V = Dev.attribute(A);
    return V ? *V : 0;
  };
  int ThreadsPerSm = Get(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
  int BlocksPerSm = Get(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR);
  int SharedPerSm = Get(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
  int Reserved = Get(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK);
  auto Static = F.attribute(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
  if (!Static)
    return Static.takeError();
  int WarpThreads = (BlockSize + 31) / 32 * 32;
  int Blocks = std::min(BlocksPerSm, ThreadsPerSm / WarpThreads);
  size_t Shared = static_cast<size_t>(*Static) + DynamicShared;
  if (Shared > 0) {
    size_t PerBlock = Shared + static_cast<size_t>(std::max(Reserved, 0));
    Blocks = std::min<size_t>(Blocks, static_cast<size_t>(SharedPerSm) / PerBlock);
  }
  return std::max(Blocks, 0);
}

// The largest cooperative grid: the occupancy times the multiprocessor count.
CUSHIM_API Error checkCooperativeGrid(const Function &F, const LaunchConfig &C) {
  unsigned Threads = C.Block[0] * C.Block[1] * C.Block[2];
  auto PerSm =
      maxActiveBlocksPerMultiprocessor(F, static_cast<int>(std::min<unsigned>(Threads, INT_MAX)), C.DynamicShared);
  if (!PerSm)
    return PerSm.takeError();
  auto Sms = F.module().context().device().attribute(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  if (!Sms)
    return Sms.takeError();
  uint64_t Blocks = static_cast<uint64_t>(C.Grid[0]) * C.Grid[1] * C.Grid[2];
  uint64_t Max = static_cast<uint64_t>(*PerSm) * static_cast<uint64_t>(*Sms);
  if (Blocks > Max)
    return makeError(CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE,
                     "cooperative grid of " + std::to_string(Blocks) + " blocks exceeds the " + std::to_string(Max) +
                         " that can be resident at once (" + std::to_string(*PerSm) + " per multiprocessor x " +
                         std::to_string(*Sms) + " multiprocessors)");
  return Error::success();
}

} // namespace cushim::core

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
