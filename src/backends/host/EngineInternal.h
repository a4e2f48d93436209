// Engine internals shared by the block runners (Engine.cpp, EngineFiber.cpp) and the worker pool: per-worker
// resources, fiber stacks and the state of the block being run.
#pragma once

#include "Engine.h"

#include <boost/context/stack_context.hpp>

#include <array>
#include <deque>
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

// The block a worker is running.
struct BlockRun {
  LaunchState *Launch = nullptr;
  WorkerResources *Worker = nullptr;
  bool UsesFibers = false;
  bool Aborting = false; // a thread trapped: the remaining threads are unwound
  uint32_t NumThreads = 0;
  uint32_t NumWarps = 0;
  uint32_t ExitedThreads = 0;
  ThreadRec *Threads = nullptr;
  // Fiber mode only.
  std::array<BarrierState, MaxBarriers> Barriers;
  std::vector<WarpState> Warps;
  std::deque<uint32_t> ReadyQueue;
};

struct WorkerResources {
  WorkerResources() = default;
  WorkerResources(const WorkerResources &) = delete;
  WorkerResources &operator=(const WorkerResources &) = delete;
  ~WorkerResources();

  unsigned Index = 0;
  char *SharedArena = nullptr; // 128-byte aligned, grown on demand, never shrunk
  size_t SharedArenaSize = 0;
  StackPool Stacks;
  std::vector<ThreadRec> Threads; // fiber mode: one per GPU thread of the block
  ThreadRec FastThread;           // fast path: reused for every thread
  BlockRun Block;

  char *sharedArena(size_t Bytes);
};

// Runs one GPU thread to completion on the current stack; exit and trap longjmp back into it.
void runThreadInline(ThreadRec *T, KernelFn Fn, const void *Params);

// Runs one block in fiber mode (EngineFiber.cpp). Threads' contexts are already filled.
void runFiberBlock(BlockRun &B);

} // namespace cushim::host
