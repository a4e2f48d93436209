// Occupancy: how many blocks of a kernel one multiprocessor keeps resident, and the cooperative-grid limit derived
// from it. The host engine keeps at least that many blocks of a launch live per worker (see docs/SIMT.md).
#include "core/Launch.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/Module.h"

#include <algorithm>
#include <climits>
#include <string>

namespace cushim::core {

// Blocks of BlockSize threads (and DynamicShared bytes of dynamic shared memory) one multiprocessor holds at once:
// the minimum of the block-count, thread-count and shared-memory limits of the reported architecture. Registers are
// not a limit (a CPU thread has no register file).
Expected<int> maxActiveBlocksPerMultiprocessor(const Function &F, int BlockSize, size_t DynamicShared) {
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

Expected<size_t> availableDynamicSharedPerBlock(const Function &F, int NumBlocks, int BlockSize) {
  if (NumBlocks <= 0 || BlockSize <= 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "numBlocks and blockSize must be positive");
  auto Fit = maxActiveBlocksPerMultiprocessor(F, BlockSize, 0);
  if (!Fit)
    return Fit.takeError();
  if (*Fit < NumBlocks)
    return size_t(0);
  const Device &Dev = F.module().context().device();
  auto SharedPerSm = Dev.attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
  auto Reserved = Dev.attribute(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK);
  auto Static = F.attribute(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES);
  auto MaxDynamic = F.attribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
  for (auto *V : {&SharedPerSm, &Reserved, &Static, &MaxDynamic})
    if (!*V)
      return V->takeError();
  long long PerBlock = *SharedPerSm / NumBlocks - *Reserved - *Static;
  return static_cast<size_t>(std::max(0LL, std::min<long long>(PerBlock, *MaxDynamic)));
}

// The largest cooperative grid: the occupancy times the multiprocessor count.
Error checkCooperativeGrid(const Function &F, const LaunchConfig &C) {
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
