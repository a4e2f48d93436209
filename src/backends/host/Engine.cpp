// Grid execution for the host engine: block distribution over the worker pool, per-worker resources and the fast
// path that runs the threads of a block one after another (kernels without barriers and warp collectives).
#include "Engine.h"

#include "EngineInternal.h"
#include "ThreadPool.h"

#include "support/Config.h"
#include "support/Log.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

namespace cushim::host {

// ---- Configuration -------------------------------------------------------------------------------------------

unsigned engineWorkerCount() {
  static const unsigned Count = [] {
    int Configured = config().Workers;
    if (Configured > 0)
      return static_cast<unsigned>(Configured);
    unsigned Hardware = std::thread::hardware_concurrency();
    return Hardware ? Hardware : 1u;
  }();
  return Count;
}

size_t engineDefaultStackSize() { return config().StackSize; }

namespace {

// The size of the highest-level data cache the first CPU uses, from sysfs ("32768K"): one instance, the part a
// core's threads share. glibc's sysconf can report every instance of a chip together (320 MiB for a 32 MiB L3).
uint64_t sysfsLastLevelCache() {
  uint64_t Bytes = 0;
  int BestLevel = 0;
  for (int Index = 0; Index < 16; ++Index) {
    std::string Dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(Index) + "/";
    std::ifstream Level(Dir + "level"), Type(Dir + "type"), Size(Dir + "size");
    int L = 0;
    std::string T, S;
    if (!(Level >> L) || !(Type >> T) || !(Size >> S) || T == "Instruction" || L <= BestLevel)
      continue;
    char *End = nullptr;
    uint64_t Value = std::strtoull(S.c_str(), &End, 10);
    Value <<= (*End == 'K' ? 10 : *End == 'M' ? 20 : *End == 'G' ? 30 : 0);
    if (Value) {
      Bytes = Value;
      BestLevel = L;
    }
  }
  return Bytes;
}

} // namespace

uint64_t lastLevelCacheBytes() {
  static const uint64_t Bytes = [] {
    if (uint64_t Sysfs = sysfsLastLevelCache())
      return std::min<uint64_t>(Sysfs, uint64_t(1) << 30);
    long Cache = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (Cache <= 0)
      Cache = sysconf(_SC_LEVEL2_CACHE_SIZE);
    return Cache > 0 ? static_cast<uint64_t>(std::min<long>(Cache, 1l << 30)) : uint64_t(4) << 20;
  }();
  return Bytes;
}

uint32_t streamStoreKiB() {
  static const uint32_t KiB = [] {
    const std::string &Mode = config().StreamStores;
    if (Mode == "always")
      return 0u;
    if (Mode == "never")
      return UINT32_MAX;
    return static_cast<uint32_t>(lastLevelCacheBytes() >> 10);
  }();
  return KiB;
}

bool engineUsesFlatEntries() {
  static const bool Uses = config().Engine.empty() || config().Engine == "t0";
  return Uses;
}

bool engineUsesRegionEntries() {
  static const bool Uses = config().Engine.empty() || config().Engine == "t1";
  return Uses;
}

bool engineUsesCoroutineEntries() {
  static const bool Uses = config().Engine.empty() || config().Engine == "t1";
  return Uses;
}

uint64_t nextGridId() {
  static std::atomic<uint64_t> Counter{0};
  return ++Counter;
}

void LaunchState::fail(CUresult Code, const std::string &Message) {
  int Expected = 0;
  if (Error.compare_exchange_strong(Expected, static_cast<int>(Code), std::memory_order_acq_rel))
    CUSHIM_LOG_ERROR("kernel '{}' (grid {}: {}x{}x{} blocks of {}x{}x{}): {}", KernelName, GridId, Grid[0], Grid[1],
                     Grid[2], Block[0], Block[1], Block[2], Message);
  else
    CUSHIM_LOG_DEBUG("kernel '{}': further fault after the first: {}", KernelName, Message);
}

void LaunchState::setParams(const void *Data, size_t Size, size_t Padded) {
  ParamStorage.assign((std::max(Size, Padded) + 7) / 8 + 1, 0); // within the capacity of earlier launches
  if (Size)
    std::memcpy(ParamStorage.data(), Data, Size);
}

void LaunchState::reset() {
  KernelOwner.reset();
  KernelName = {};
  GridId = 0;
  FinishedBlocks.store(0, std::memory_order_relaxed);
  Error.store(0, std::memory_order_relaxed);
  GridWorkspace[0] = 8;
  GridWorkspace[1] = 0;
}

// ---- Fiber stacks --------------------------------------------------------------------------------------------

namespace {
size_t pageSize() {
  static const size_t Size = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return Size;
}
} // namespace

StackPool::~StackPool() {
  for (void *Base : Free)
    munmap(Base, StackSize + pageSize());
}

void StackPool::ensureSize(size_t Bytes) {
  size_t Page = pageSize();
  Bytes = (Bytes + Page - 1) / Page * Page;
  if (Bytes <= StackSize)
    return;
  for (void *Base : Free)
    munmap(Base, StackSize + Page);
  Free.clear();
  StackSize = Bytes;
}

boost::context::stack_context StackPool::allocate() {
  size_t Page = pageSize();
  void *Base = nullptr;
  if (!Free.empty()) {
    Base = Free.back();
    Free.pop_back();
  } else {
    Base = mmap(nullptr, StackSize + Page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (Base == MAP_FAILED)
      throw std::bad_alloc();        // boost::context reports allocation failure by exception; caught in runFiberBlock
    mprotect(Base, Page, PROT_NONE); // guard page: stacks grow down into it
  }
  boost::context::stack_context Stack;
  Stack.size = StackSize;
  Stack.sp = static_cast<char *>(Base) + Page + StackSize;
  return Stack;
}

void StackPool::deallocate(boost::context::stack_context &Stack) noexcept {
  // Stacks of an older (smaller) size are dropped rather than cached.
  void *Base = static_cast<char *>(Stack.sp) - Stack.size - pageSize();
  if (Stack.size != StackSize) {
    munmap(Base, Stack.size + pageSize());
    return;
  }
  Free.push_back(Base);
}

// ---- Worker resources ----------------------------------------------------------------------------------------

BlockRun::~BlockRun() {
  std::free(SharedArena);
  std::free(FrameArena);
}

void *engineCoroutineFrame(ThreadRec *T, uint64_t Bytes) { return T->Block->coroutineFrame(T->Linear, Bytes); }

// Grows an arena to at least Bytes (rounded to pages, Align-aligned; the old contents are dropped). False when out
// of memory, with the arena empty.
static bool growArena(char *&Arena, size_t &Size, size_t Bytes, size_t Align) {
  if (Bytes <= Size)
    return true;
  std::free(Arena);
  Arena = nullptr;
  Size = 0;
  size_t Rounded = (Bytes + 4095) / 4096 * 4096;
  if (posix_memalign(reinterpret_cast<void **>(&Arena), Align, Rounded) != 0) {
    Arena = nullptr;
    return false;
  }
  Size = Rounded;
  return true;
}

void *BlockRun::coroutineFrame(uint32_t Linear, uint64_t Bytes) {
  size_t Stride = (static_cast<size_t>(Bytes) + 63) / 64 * 64;
  // Every thread of a launch asks for the same size, so the arena only changes before any frame of the block is
  // handed out (a new block, or a new kernel in this slot).
  if (Stride != FrameStride || Stride * NumThreads > FrameArenaSize) {
    if (!growArena(FrameArena, FrameArenaSize, Stride * NumThreads, 64))
      return nullptr;
    FrameStride = Stride;
  }
  return FrameArena + Stride * Linear;
}

void *engineBlockScratch(ThreadRec *T, uint64_t Bytes) { return T->Block->blockScratch(Bytes); }

void *BlockRun::blockScratch(uint64_t Bytes) {
  // A block that runs a region entry has no coroutine frames: the two share one arena.
  FrameStride = 0;
  return growArena(FrameArena, FrameArenaSize, Bytes, 64) ? FrameArena : nullptr;
}

char *BlockRun::sharedArena(size_t Bytes) {
  return growArena(SharedArena, SharedArenaSize, std::max<size_t>(Bytes, 128), 128) ? SharedArena : nullptr;
}

BlockRun &WorkerResources::acquireSlot() {
  for (size_t I = 0; I < Slots.size(); ++I)
    if (!SlotBusy[I]) {
      SlotBusy[I] = true;
      return *Slots[I];
    }
  Slots.push_back(std::make_unique<BlockRun>());
  SlotBusy.push_back(true);
  return *Slots.back();
}

void WorkerResources::releaseSlot(BlockRun &B) {
  for (size_t I = 0; I < Slots.size(); ++I)
    if (Slots[I].get() == &B)
      SlotBusy[I] = false;
}

uint32_t residentBlocksPerWorker(uint32_t ThreadsPerBlock) {
  uint32_t ByThreads = 2048 / std::max<uint32_t>(ThreadsPerBlock, 1);
  return std::clamp<uint32_t>(ByThreads, 1, 32);
}

WorkerResources &currentWorkerResources() {
  // Threads outside the pool (queue threads helping with their own launch) share the pool's smid range.
  static std::atomic<unsigned> NextHelper{0};
  thread_local std::unique_ptr<WorkerResources> Resources = [] {
    auto R = std::make_unique<WorkerResources>();
    R->Index = NextHelper.fetch_add(1) % engineWorkerCount();
    return R;
  }();
  return *Resources;
}

// ---- Block execution -----------------------------------------------------------------------------------------

// Kept out of line so that the setjmp frame holds nothing but its arguments: exit and trap longjmp back here from
// inside the kernel (lowered kernels have no cleanups to skip).
__attribute__((noinline)) void runThreadInline(ThreadRec *T, KernelFn Fn, const void *Params) {
  if (_setjmp(T->ExitJump) == 0)
    Fn(Params, &T->Ctx);
}

namespace {

void initThreadCtx(cushim_thread_ctx &Ctx, const LaunchState &L, const uint32_t CtaId[3], char *SharedBase,
                   const WorkerResources &W) {
  std::memset(&Ctx, 0, sizeof(Ctx));
  for (int I = 0; I < 3; ++I) {
    Ctx.ntid[I] = L.Block[I];
    Ctx.ctaid[I] = CtaId[I];
    Ctx.nctaid[I] = L.Grid[I];
  }
  Ctx.nwarpid = (L.ThreadsPerBlock + 31) / 32;
  Ctx.smid = W.Index;
  Ctx.nsmid = engineWorkerCount();
  Ctx.dynamic_shared_size = L.DynamicShared;
  Ctx.total_shared_size = L.StaticShared + L.DynamicShared;
  Ctx.gridid = L.GridId;
  Ctx.stream_store_kib = streamStoreKiB();
  Ctx.shared_base = SharedBase;
  Ctx.launch = const_cast<LaunchState *>(&L);
}

void setThreadIndex(cushim_thread_ctx &Ctx, uint32_t X, uint32_t Y, uint32_t Z, uint32_t Linear) {
  Ctx.tid[0] = X;
  Ctx.tid[1] = Y;
  Ctx.tid[2] = Z;
  Ctx.laneid = Linear % 32;
  Ctx.warpid = Linear / 32;
}

void runFastBlock(BlockRun &B, WorkerResources &W) {
  LaunchState &L = *B.Launch;
  ThreadRec &T = W.FastThread;
  T.Block = &B;
  T.Status = ThreadStatus::Ready;
  const void *Params = L.params();
  uint32_t Linear = 0;
  for (uint32_t Z = 0; Z < L.Block[2]; ++Z)
    for (uint32_t Y = 0; Y < L.Block[1]; ++Y)
      for (uint32_t X = 0; X < L.Block[0]; ++X, ++Linear) {
        T.Linear = Linear;
        setThreadIndex(T.Ctx, X, Y, Z, Linear);
        runThreadInline(&T, L.Fn, Params);
        if (B.Aborting)
          return;
      }
}

void blockCoordinates(const LaunchState &L, uint64_t BlockIndex, uint32_t CtaId[3]) {
  uint64_t GridXY = static_cast<uint64_t>(L.Grid[0]) * L.Grid[1];
  CtaId[2] = static_cast<uint32_t>(BlockIndex / GridXY);
  uint64_t Rest = BlockIndex % GridXY;
  CtaId[1] = static_cast<uint32_t>(Rest / L.Grid[0]);
  CtaId[0] = static_cast<uint32_t>(Rest % L.Grid[0]);
}

bool launchUsesFibers(const LaunchState &L) {
  if (L.FlatFn)
    return false; // a block entry (T0 flat, T1 regions) runs the whole block in one call
  return (L.Flags & (CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS | CUSHIM_HAL_KERNEL_MAY_SPIN |
                     CUSHIM_HAL_KERNEL_USES_GRID_SYNC)) != 0;
}

void prepareBlock(BlockRun &B, LaunchState &L, WorkerResources &W) {
  B.Launch = &L;
  B.Worker = &W;
  B.Aborting = false;
  B.Started = false;
  B.NumThreads = L.ThreadsPerBlock;
  B.NumWarps = (L.ThreadsPerBlock + 31) / 32;
  B.ExitedThreads = 0;
  B.UsesFibers = launchUsesFibers(L);
  B.Coroutines = B.UsesFibers && L.CoroFn;
}

// Prepares the worker's fast block and thread for block BlockIndex; false when its shared memory is missing.
bool prepareFastBlock(LaunchState &L, WorkerResources &W, uint64_t BlockIndex) {
  uint32_t CtaId[3];
  blockCoordinates(L, BlockIndex, CtaId);
  BlockRun &B = W.FastBlock;
  char *Shared = B.sharedArena(static_cast<size_t>(L.StaticShared) + L.DynamicShared);
  if (!Shared) {
    L.fail(CUDA_ERROR_OUT_OF_MEMORY, "cannot allocate the shared memory arena of a block");
    return false;
  }
  prepareBlock(B, L, W);
  initThreadCtx(W.FastThread.Ctx, L, CtaId, Shared, W);
  W.FastThread.Ctx.engine = &W.FastThread;
  B.Threads = &W.FastThread;
  return true;
}

void runFastBlockAt(LaunchState &L, WorkerResources &W, uint64_t BlockIndex) {
  if (prepareFastBlock(L, W, BlockIndex))
    runFastBlock(W.FastBlock, W);
}

// Tiers T0 and T1 (regions): one call runs a block's threads, and the blocks First..Last-1 (consecutive, so the
// coordinates step along x, then y, then z) share the setup. Block entries never exit a thread, so the only jump
// back here is a trap or a failed allocation, which fails the launch: the chunk's other blocks need not run then.
__attribute__((noinline)) void runBlockEntries(LaunchState &L, WorkerResources &W, uint64_t First, uint64_t Last) {
  if (!prepareFastBlock(L, W, First))
    return;
  ThreadRec &T = W.FastThread;
  T.Block = &W.FastBlock;
  T.Status = ThreadStatus::Ready;
  T.Linear = 0;
  cushim_thread_ctx &Ctx = T.Ctx;
  const void *Params = L.params();
  if (_setjmp(T.ExitJump) != 0)
    return;
  for (uint64_t Block = First; Block < Last; ++Block) {
    if (Block != First && ++Ctx.ctaid[0] == L.Grid[0]) {
      Ctx.ctaid[0] = 0;
      if (++Ctx.ctaid[1] == L.Grid[1]) {
        Ctx.ctaid[1] = 0;
        ++Ctx.ctaid[2];
      }
    }
    if (L.Error.load(std::memory_order_relaxed) != 0)
      return;
    setThreadIndex(Ctx, 0, 0, 0, 0);
    L.FlatFn(Params, &Ctx);
  }
}

// Starts block BlockIndex in slot B (fiber mode); returns whether it finished or was parked.
BlockOutcome startFiberBlockAt(LaunchState &L, WorkerResources &W, BlockRun &B, uint64_t BlockIndex) {
  uint32_t CtaId[3];
  blockCoordinates(L, BlockIndex, CtaId);
  char *Shared = B.sharedArena(static_cast<size_t>(L.StaticShared) + L.DynamicShared);
  if (!Shared) {
    L.fail(CUDA_ERROR_OUT_OF_MEMORY, "cannot allocate the shared memory arena of a block");
    return BlockOutcome::Finished;
  }
  prepareBlock(B, L, W);
  if (B.ThreadStore.size() < B.NumThreads)
    B.ThreadStore.resize(B.NumThreads);
  B.Threads = B.ThreadStore.data();
  uint32_t Linear = 0;
  for (uint32_t Z = 0; Z < L.Block[2]; ++Z)
    for (uint32_t Y = 0; Y < L.Block[1]; ++Y)
      for (uint32_t X = 0; X < L.Block[0]; ++X, ++Linear) {
        ThreadRec &T = B.Threads[Linear];
        initThreadCtx(T.Ctx, L, CtaId, Shared, W);
        setThreadIndex(T.Ctx, X, Y, Z, Linear);
        T.Ctx.engine = &T;
        T.Block = &B;
        T.Linear = Linear;
        T.Status = ThreadStatus::NotStarted;
        T.ArrivedBarriers = 0;
        T.SpinBudget = 0;
        T.SpinYielded = false;
        T.WarpStepped = false;
        T.Frame = nullptr;
        T.MustSuspend = false;
      }
  return runFiberBlock(B);
}

// A grid published to the pool. It lives on the launching thread's stack (runLaunch). Blocks are claimed in
// increasing linear order from a range's atomic counter, in small chunks when the grid is large so the counter is
// not the bottleneck.
//
// Kernels that never wait for other blocks split the grid into one contiguous range per participant; each starts
// on the range of the CPU it runs on and takes chunks from the others' once its own is done. A kernel launched
// again over the same data (a solver's iterations, a benchmark's repetitions) then finds the part each CPU worked
// on in that CPU's caches, as with OpenMP's static schedule, and the ranges still balance the load as one counter
// did. Fiber kernels keep one range: blocks that spin on lower blocks' results (a decoupled look-back scan) need
// every worker on the lowest blocks not yet run, as a GPU schedules them.
class LaunchJob final : public PoolJob {
public:
  LaunchJob(LaunchState &State, unsigned Participants) : L(State) {
    uint64_t PerWorker = L.TotalBlocks / (static_cast<uint64_t>(engineWorkerCount()) * 16);
    Chunk = std::clamp<uint64_t>(PerWorker, 1, 64);
    uint64_t Split = launchUsesFibers(L) ? 1 : std::min<uint64_t>({Participants, MaxRanges, L.TotalBlocks});
    NumRanges = static_cast<unsigned>(std::max<uint64_t>(Split, 1));
    for (unsigned R = 0; R < NumRanges; ++R) {
      Ranges[R].Next.store(L.TotalBlocks * R / NumRanges, std::memory_order_relaxed);
      Ranges[R].End = L.TotalBlocks * (R + 1) / NumRanges;
    }
  }

  void work(WorkerResources &W) override {
    if (!launchUsesFibers(L)) {
      workFast(W);
      return;
    }
    workFibers(W);
  }

  bool hasUnclaimedWork() const override {
    for (unsigned R = 0; R < NumRanges; ++R)
      if (Ranges[R].Next.load(std::memory_order_relaxed) < Ranges[R].End)
        return true;
    return false;
  }

private:
  static constexpr unsigned MaxRanges = 64;
  struct alignas(64) Range {
    std::atomic<uint64_t> Next{0};
    uint64_t End = 0;
  };

  // The range a participant starts on: its CPU's.
  unsigned homeRange() const {
    int Cpu = sched_getcpu();
    return Cpu >= 0 ? static_cast<unsigned>(Cpu) % NumRanges : 0;
  }
  // Claims the next chunk [First, Last): from the home range, else from the others in turn. False when the grid
  // is exhausted.
  bool claimChunk(unsigned Home, uint64_t &First, uint64_t &Last) {
    for (unsigned I = 0; I < NumRanges; ++I) {
      Range &R = Ranges[(Home + I) % NumRanges];
      if (R.Next.load(std::memory_order_relaxed) >= R.End)
        continue;
      First = R.Next.fetch_add(Chunk, std::memory_order_relaxed);
      if (First >= R.End)
        continue;
      Last = std::min(First + Chunk, R.End);
      return true;
    }
    return false;
  }

  // Claims the next block: from the chunk this worker holds, else a new chunk. False when the grid is exhausted.
  struct Claim {
    uint64_t Next = 0, End = 0;
    unsigned Home = 0;
  };
  bool claim(Claim &C, uint64_t &Block) {
    if (C.Next == C.End && !claimChunk(C.Home, C.Next, C.End))
      return false;
    Block = C.Next++;
    return true;
  }
  void finished(uint64_t Count) {
#if defined(__x86_64__)
    // Flat and region entries may have written with non-temporal stores (StreamingStores.cpp), which x86 does not
    // order with later stores: they must be in memory before the blocks count as finished.
    _mm_sfence();
#endif
    if (L.FinishedBlocks.fetch_add(Count, std::memory_order_acq_rel) + Count == L.TotalBlocks)
      L.FinishedBlocks.notify_all();
  }

  void workFast(WorkerResources &W) {
    unsigned Home = homeRange();
    for (uint64_t First, Last; claimChunk(Home, First, Last);) {
      if (L.FlatFn)
        runBlockEntries(L, W, First, Last);
      else
        for (uint64_t Block = First; Block < Last; ++Block)
          if (L.Error.load(std::memory_order_relaxed) == 0)
            runFastBlockAt(L, W, Block);
      finished(Last - First);
    }
  }

  // Fiber blocks. A block that only spins (its threads wait for something another block will do) is parked: the
  // worker claims further blocks, up to residentBlocksPerWorker, and resumes parked ones round-robin. So blocks
  // that wait for each other make progress as long as the grid fits the resident limit (as on a GPU).
  struct FiberSched {
    LaunchJob *Job;
    Claim C;
    std::deque<BlockRun *> Parked;
    uint32_t Limit;
  };
  static bool canPark(void *Ctx) {
    auto &S = *static_cast<FiberSched *>(Ctx);
    if (!S.Parked.empty())
      return true;
    return S.Limit > 1 && (S.C.Next != S.C.End || S.Job->hasUnclaimedWork());
  }

  void workFibers(WorkerResources &W) {
    FiberSched S{this, {0, 0, homeRange()}, {}, residentBlocksPerWorker(L.ThreadsPerBlock)};
    auto settle = [&](BlockRun &B, BlockOutcome Outcome) {
      if (Outcome == BlockOutcome::Parked) {
        S.Parked.push_back(&B);
        return;
      }
      W.releaseSlot(B);
      finished(1);
    };
    size_t IdleTurns = 0;
    unsigned IdleRounds = 0;
    for (;;) {
      if (L.Error.load(std::memory_order_relaxed) != 0) {
        // A fault elsewhere: unwind the parked blocks and skip the claimed ones.
        for (BlockRun *B : S.Parked) {
          abortFiberBlock(*B);
          settle(*B, BlockOutcome::Finished);
        }
        S.Parked.clear();
        uint64_t Block;
        while (claim(S.C, Block))
          finished(1);
        return;
      }
      uint64_t Block;
      if (S.Parked.size() < S.Limit && claim(S.C, Block)) {
        BlockRun &B = W.acquireSlot();
        B.CanPark = &LaunchJob::canPark;
        B.CanParkCtx = &S;
        settle(B, startFiberBlockAt(L, W, B, Block));
        IdleTurns = IdleRounds = 0;
        continue;
      }
      if (S.Parked.empty())
        return;
      BlockRun *B = S.Parked.front();
      S.Parked.pop_front();
      B->CanPark = &LaunchJob::canPark;
      B->CanParkCtx = &S;
      BlockOutcome Outcome = runFiberBlock(*B);
      settle(*B, Outcome);
      // Every resident block parks again at once: they all wait for blocks on other workers. Give those the CPU.
      if (Outcome == BlockOutcome::Finished) {
        IdleTurns = IdleRounds = 0;
      } else if (++IdleTurns >= S.Parked.size()) {
        IdleTurns = 0;
        if (++IdleRounds < 64) {
          std::this_thread::yield();
        } else {
          std::this_thread::sleep_for(std::chrono::microseconds(50));
        }
      }
    }
  }

  LaunchState &L;
  uint64_t Chunk = 1;
  unsigned NumRanges = 1;
  Range Ranges[MaxRanges];
};

} // namespace

CUresult runLaunch(LaunchState &L) {
  if (L.TotalBlocks == 0)
    return CUDA_SUCCESS;
  WorkerResources &Self = currentWorkerResources();
  // This thread works on the grid too: with more threads than hardware threads, one descheduled while it holds a
  // chunk of blocks would delay the end of the grid by a time slice.
  bool Published = L.TotalBlocks > 1;
  unsigned Helpers =
      Published ? static_cast<unsigned>(std::min<uint64_t>(L.TotalBlocks - 1, WorkerPool::get().size() - 1)) : 0;
  LaunchJob Job(L, Helpers + 1);
  if (Published)
    WorkerPool::get().submit(Job, Helpers);
  Job.work(Self);
  // Every block is claimed; wait for those other threads still run (a poll first: the standard library's wait
  // would sched_yield, see spinUntil), then until no pool thread is inside the job.
  if (!spinUntil([&] { return L.FinishedBlocks.load(std::memory_order_acquire) == L.TotalBlocks; }))
    for (uint64_t Done = L.FinishedBlocks.load(std::memory_order_acquire); Done != L.TotalBlocks;
         Done = L.FinishedBlocks.load(std::memory_order_acquire))
      L.FinishedBlocks.wait(Done, std::memory_order_acquire);
  if (Published)
    WorkerPool::get().retire(Job);
  return L.error();
}

} // namespace cushim::host
