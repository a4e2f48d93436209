// The host execution engine (tier T2, the general "oracle"): runs a grid on the worker pool, one block at a time
// per worker, each GPU thread either in a plain loop (kernels without barriers and warp collectives) or as a
// fiber that barriers and warp collectives suspend. Internal to the host backend.
#pragma once

#include <cuda_shim/hal.h>
#include <cuda_shim/kernel_abi.h>

#include <boost/context/fiber.hpp>

#include <cuda.h>

#include <atomic>
#include <csetjmp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cushim::host {

using KernelFn = void (*)(const void *Params, cushim_thread_ctx *Ctx);
// A coroutine entry (tier T1): runs a thread to its first wait and returns its frame (kernel_abi.h).
using CoroutineFn = void *(*)(const void *Params, cushim_thread_ctx *Ctx);

// One enqueued launch: everything the engine needs, owned by the launch (the parameter buffer is a copy). Queues
// recycle them (HostQueue.cpp), so a launch allocates nothing once a queue has run a few: reset() clears the state
// of the previous launch, and the parameter buffer keeps its capacity.
struct LaunchState {
  KernelFn Fn = nullptr;
  KernelFn FlatFn = nullptr; // a whole block per call: tier T0 flat or T1 region entry (kernel_abi.h); null if none
  CoroutineFn CoroFn = nullptr; // tier T1: threads as stackless coroutines; null for fibers (or no waits)
  std::string_view KernelName;          // the kernel's name, kept alive by KernelOwner
  std::shared_ptr<const void> KernelOwner;
  uint32_t Flags = 0; // cushim_hal_kernel_flags
  uint32_t Grid[3] = {1, 1, 1};
  uint32_t Block[3] = {1, 1, 1};
  uint32_t StaticShared = 0;
  uint32_t DynamicShared = 0;
  uint32_t LocalSize = 0;
  uint64_t GridId = 0;
  std::vector<uint64_t> ParamStorage; // 8-byte aligned copy of the packed parameters
  uint64_t TotalBlocks = 0;
  uint32_t ThreadsPerBlock = 0;

  std::atomic<uint64_t> FinishedBlocks{0};
  std::atomic<int> Error{0}; // first fault (a CUresult); later blocks are skipped once set
  // The grid workspace %envreg1:%envreg2 point at ({size, barrier}: cooperative_groups' grid.sync() counter).
  alignas(8) uint32_t GridWorkspace[2] = {8, 0};

  const void *params() const { return ParamStorage.data(); }
  // Copies Size bytes of packed parameters, zero-padded to Padded bytes (what the kernel reads) plus a word.
  void setParams(const void *Data, size_t Size, size_t Padded);
  // Makes a used state ready for the next launch (its fields are all set again by the enqueue).
  void reset();
  // Records the first fault of the launch and logs it; later faults are only logged at debug level.
  void fail(CUresult Code, const std::string &Message);
  CUresult error() const { return static_cast<CUresult>(Error.load(std::memory_order_acquire)); }
};

// Runs the whole grid on the calling thread plus the worker pool; returns when every block finished or was
// skipped after a fault, and no pool thread touches Launch any more. Returns the launch's first fault (CUDA_SUCCESS
// when none).
CUresult runLaunch(LaunchState &Launch);

// Worker count (CUSHIM_WORKERS or one per hardware thread); the pool itself starts on first launch.
unsigned engineWorkerCount();
// The fiber stack size in bytes (CUSHIM_STACK_SIZE, default 256 KiB); larger when a kernel's local size needs it.
size_t engineDefaultStackSize();
// Whether kernels with a flat entry run on tier T0 (CUSHIM_ENGINE unset or t0; t2 forces the per-thread oracle).
bool engineUsesFlatEntries();
// Whether kernels with a coroutine entry run on tier T1 (CUSHIM_ENGINE unset or t1; t2 forces fibers).
bool engineUsesCoroutineEntries();
// Whether region entries (tier T1, whole blocks with barriers) may be used (CUSHIM_ENGINE unset or t1).
bool engineUsesRegionEntries();
// The last-level cache in bytes (the part a GPU's L2 plays; 4 MiB when the system does not say).
uint64_t lastLevelCacheBytes();
// What kernels get in cushim_thread_ctx::stream_store_kib (CUSHIM_STREAM_STORES): the last-level cache's size in
// KiB by default, 0 for "always", UINT32_MAX for "never".
uint32_t streamStoreKiB();
uint64_t nextGridId();

// ---- State shared between the engine and the device runtime functions (DeviceRuntime.cpp). -------------------

struct BlockRun;
struct WorkerResources;

enum class ThreadStatus : uint8_t { NotStarted, Ready, Blocked, Exited };

// Inputs and outputs of one lane in a warp collective rendezvous.
enum class CollectiveKind : uint8_t { Shfl, Vote, Match, Redux, ActiveMask, WarpSync };
struct CollectiveInput {
  CollectiveKind Kind = CollectiveKind::WarpSync;
  uint32_t Mode = 0; // shfl/vote/match mode or redux op
  uint32_t Mask = 0;
  uint64_t Value = 0;
  uint32_t B = 0, C = 0; // shfl operands
};
struct CollectiveOutput {
  uint32_t Value = 0;
  uint32_t Pred = 0;
};

// One GPU thread; cushim_thread_ctx::engine points here.
struct ThreadRec {
  cushim_thread_ctx Ctx;
  BlockRun *Block = nullptr;
  uint32_t Linear = 0;
  ThreadStatus Status = ThreadStatus::NotStarted;
  uint16_t ArrivedBarriers = 0; // barriers this thread arrived at in their current phase
  int16_t WaitingBarrier = -1;  // the barrier this thread is blocked on, -1 when none
  uint32_t BarrierResult = 0;   // bar.red result handed over on release
  uint32_t SpinBudget = 0;      // __cushim_yield calls left before the thread really yields
  bool SpinYielded = false;     // the last switch to the scheduler was a yield from a spin loop or nanosleep
  bool WarpStepped = false;     // the last switch was a warp step: neither progress nor a spin for the watchdog
  CollectiveInput Coll;         // this lane's part of the pending collective
  CollectiveOutput CollOut;     // its result, written by whichever lane completed the rendezvous
  void *Frame = nullptr;        // tier T1: the thread's coroutine frame once started
  bool MustSuspend = false;     // tier T1: the last wait did not complete at once (the coroutine suspends)
  bool WaitedOnBarrier = false; // tier T1: the last wait was a barrier (its result is BarrierResult)
  jmp_buf ExitJump;             // where exit/trap unwind to (the thread's entry, same stack)
  boost::context::fiber Fiber;  // the suspended GPU thread (scheduler side)
  boost::context::fiber Sched;  // the suspended scheduler (thread side)
};

enum class BarrierOp : uint8_t { Sync, Arrive, Red };

// Engine entry points for the runtime functions; all are called on the thread running the GPU thread.
void engineBarrier(ThreadRec *T, BarrierOp Op, uint32_t Id, uint32_t Count, uint32_t RedOp, uint32_t Pred);
CollectiveOutput engineCollective(ThreadRec *T, const CollectiveInput &In);
// Lets the other threads of the block run first; false when the thread runs alone (fast path). Counts as a spin:
// a block whose threads do nothing but yield is parked so that the worker runs other blocks.
bool engineYield(ThreadRec *T);
// __cushim_yield: a back-edge of a loop that may wait for another thread; yields every few calls.
void engineSpinYield(ThreadRec *T);
// __cushim_warp_step (a volatile shared access): goes to the back of the block's ready queue, so that the other
// running lanes of the warp reach their next step first and a converged warp steps in lockstep. Not a spin.
void engineWarpStep(ThreadRec *T);
[[noreturn]] void engineExit(ThreadRec *T);
// Tier T1: the coroutine frame of thread T (null when out of memory).
void *engineCoroutineFrame(ThreadRec *T, uint64_t Bytes);
// Tier T1 region entries: Bytes of scratch memory for T's block (null when out of memory).
void *engineBlockScratch(ThreadRec *T, uint64_t Bytes);
// Aborts the launch with Code (logged with Message) and terminates the calling GPU thread.
[[noreturn]] void engineAbort(ThreadRec *T, CUresult Code, const std::string &Message);
// The same, naming the thread whose context the lowered code passed (under tier T0 that is the thread loop's
// private copy, the only one holding the current coordinates).
[[noreturn]] void engineAbort(cushim_thread_ctx *Ctx, CUresult Code, const std::string &Message);

// Computes a warp collective for the lanes in Arrived (bit i: lane i took part) from their inputs.
void computeCollective(const CollectiveInput *In, uint32_t Arrived, CollectiveOutput *Out);

} // namespace cushim::host
