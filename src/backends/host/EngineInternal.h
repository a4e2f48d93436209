// Engine internals shared by the block runners (Engine.cpp, EngineFiber.cpp) and the worker pool: per-worker
// resources, fiber stacks and the state of the block being run.
#pragma once

#include "Engine.h"

#include <boost/context/stack_context.hpp>

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <vector>

namespace cushim::host {

// Reusable fiber stacks of one size, mmap'ed lazily committed (MAP_NORESERVE) with a guard page below each, so a
// 1024-thread block costs address space, not memory, and an overflow faults instead of corrupting a neighbour.
class StackPool {
public:
  StackPool() = default;
  StackPool(const StackPool &) = delete;
  StackPool &operator=(const StackPool &) = delete;
  ~StackPool();

  // Makes every stack handed out from now on at least Bytes large (drops cached smaller stacks).
  void ensureSize(size_t Bytes);
  boost::context::stack_context allocate();
  void deallocate(boost::context::stack_context &Stack) noexcept;
  size_t stackSize() const { return StackSize; }

private:
  size_t StackSize = 0;
  std::vector<void *> Free; // base addresses (guard page included) of StackSize + guard mappings
};

// The stack allocator concept boost::context expects, drawing from a StackPool.
struct PooledStackAllocator {
  StackPool *Pool;
  boost::context::stack_context allocate() { return Pool->allocate(); }
  void deallocate(boost::context::stack_context &Stack) noexcept { Pool->deallocate(Stack); }
};

constexpr unsigned MaxBarriers = 16;
constexpr unsigned MaxThreadsPerBlock = 1024;

struct BarrierState {
  uint32_t Expected = 0;   // threads to wait for (explicit count) ...
  bool AllThreads = false; // ... or every thread of the block, exited ones counting as arrived
  uint32_t Arrived = 0;
  uint32_t ExitedArrived = 0; // threads that arrived (bar.arrive) and exited since: not to be counted twice
  uint32_t RedOp = 0;         // bar.red operation of this phase (0 popc, 1 and, 2 or)
  uint32_t Popc = 0;
  bool AndValue = true, OrValue = false;
  std::vector<uint32_t> Arrivers; // linear ids, waiting or not (their ArrivedBarriers bit is cleared on release)

  void reset() {
    Expected = Arrived = ExitedArrived = RedOp = Popc = 0;
    AllThreads = false;
    AndValue = true;
    OrValue = false;
    Arrivers.clear();
  }
};

// A warp collective being assembled: the lanes of one warp that called the same kind of collective with the same
// mask, each waiting until every non-exited lane of the mask is there.
struct Rendezvous {
  CollectiveKind Kind;
  uint32_t Mask;
  uint32_t Arrived = 0;
};

struct WarpState {
  uint32_t Existing = 0; // lanes that exist in this (possibly partial) warp
  uint32_t Exited = 0;
  std::vector<Rendezvous> Pending;
};

// A block being run by a worker, and the resources it owns while resident (its thread records and shared memory).
// A worker keeps several when blocks spin-wait on each other: a parked block keeps its fibers and shared memory
// until the worker resumes it. Blocks never migrate between workers.
struct BlockRun {
  BlockRun() = default;
  BlockRun(const BlockRun &) = delete;
  BlockRun &operator=(const BlockRun &) = delete;
  ~BlockRun();

  LaunchState *Launch = nullptr;
  WorkerResources *Worker = nullptr;
  bool UsesFibers = false;
  bool Coroutines = false; // waiting threads are tier-T1 coroutines, not fibers
  bool Aborting = false; // a thread trapped: the remaining threads are unwound
  bool Started = false;  // fiber mode: the scheduler state below is initialised
  uint32_t NumThreads = 0;
  uint32_t NumWarps = 0;
  uint32_t ExitedThreads = 0;
  ThreadRec *Threads = nullptr;
  // Fiber mode only.
  std::array<BarrierState, MaxBarriers> Barriers;
  std::vector<WarpState> Warps;
  std::deque<uint32_t> ReadyQueue;
  uint32_t SpinRun = 0;         // consecutive scheduler turns that ended in a spin yield
  uint32_t FruitlessRounds = 0; // rounds in which every ready thread only spun, without a chance to park
  // Watchdog: when the block's current spell of fruitless rounds began, and how many blocks of the launch had
  // finished then (a block finishing elsewhere restarts the spell: the grid still makes progress).
  std::chrono::steady_clock::time_point SpinSince{};
  uint64_t SpinSinceFinished = 0;
  // Whether the worker has something else to run (another resident block or one it may still claim).
  bool (*CanPark)(void *) = nullptr;
  void *CanParkCtx = nullptr;

  std::vector<ThreadRec> ThreadStore; // fiber mode: one per GPU thread of the block
  char *SharedArena = nullptr;        // 128-byte aligned, grown on demand, never shrunk
  size_t SharedArenaSize = 0;
  char *sharedArena(size_t Bytes);
  // Tier T1: one coroutine frame per thread, all of one size (the kernel's), in an arena reused across blocks.
  char *FrameArena = nullptr;
  size_t FrameArenaSize = 0, FrameStride = 0;
  void *coroutineFrame(uint32_t Linear, uint64_t Bytes);
  // Tier T1 region entries: the block's scratch memory (__cushim_block_scratch), in the same arena.
  void *blockScratch(uint64_t Bytes);
};

enum class BlockOutcome : uint8_t { Finished, Parked };

struct WorkerResources {
  WorkerResources() = default;
  WorkerResources(const WorkerResources &) = delete;
  WorkerResources &operator=(const WorkerResources &) = delete;

  unsigned Index = 0;
  StackPool Stacks;
  ThreadRec FastThread;                         // fast path: reused for every thread
  BlockRun FastBlock;                           // fast path: the block (owns the shared arena of fast blocks)
  std::vector<std::unique_ptr<BlockRun>> Slots; // fiber blocks; Slots[i] may be resident (parked) across calls
  std::vector<bool> SlotBusy;

  BlockRun &acquireSlot();
  void releaseSlot(BlockRun &B);
};

// At most this many fiber blocks of one launch are resident on a worker (the occupancy the API reports never
// exceeds it): 32 blocks and 2048 threads, like an SM of cc 8.0.
uint32_t residentBlocksPerWorker(uint32_t ThreadsPerBlock);

// Runs one GPU thread to completion on the current stack; exit and trap longjmp back into it.
void runThreadInline(ThreadRec *T, KernelFn Fn, const void *Params);

// Runs (or resumes) one block in fiber mode (EngineFiber.cpp) until it finished, or until it only spins and
// B.CanPark says the worker has other work. Threads' contexts are already filled.
BlockOutcome runFiberBlock(BlockRun &B);
// Unwinds every live fiber of a parked block (the launch failed elsewhere) so its stacks return to the pool.
void abortFiberBlock(BlockRun &B);

} // namespace cushim::host
