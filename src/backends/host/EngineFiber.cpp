// Fiber mode of the host engine: every GPU thread of a block is a fiber; barriers and warp collectives are
// rendezvous points that suspend the caller until its partners arrived, then release them all. Also the collective
// arithmetic (shfl, vote, match, redux) shared with the single-thread fast path.
#include "Engine.h"

#include "EngineInternal.h"

#include "support/Config.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <new>
#include <thread>

namespace cushim::host {

namespace {

// Switches from a GPU thread back to its block's scheduler; returns when the scheduler resumes the thread. A tier-T1
// coroutine cannot switch from inside a runtime call: it is told to suspend itself when the call returns.
void suspend(ThreadRec *T) {
  if (T->Block->Coroutines) {
    T->MustSuspend = true;
    return;
  }
  T->Sched = std::move(T->Sched).resume();
  if (T->Block->Aborting)
    _longjmp(T->ExitJump, 1);
}

void makeReady(BlockRun &B, ThreadRec &T) {
  T.Status = ThreadStatus::Ready;
  B.ReadyQueue.push_back(T.Linear);
}

bool barrierComplete(const BlockRun &B, const BarrierState &Bar) {
  if (Bar.Arrived == 0)
    return false;
  if (Bar.AllThreads)
    return Bar.Arrived + (B.ExitedThreads - Bar.ExitedArrived) >= B.NumThreads;
  return Bar.Arrived >= Bar.Expected;
}

// Completes barrier Id: hands the bar.red result to every arriver and wakes those blocked on it (Self keeps running).
void releaseBarrier(BlockRun &B, unsigned Id, ThreadRec *Self) {
  BarrierState &Bar = B.Barriers[Id];
  uint32_t Result = Bar.RedOp == 0 ? Bar.Popc : Bar.RedOp == 1 ? uint32_t(Bar.AndValue) : uint32_t(Bar.OrValue);
  for (uint32_t Linear : Bar.Arrivers) {
    ThreadRec &T = B.Threads[Linear];
    T.ArrivedBarriers &= static_cast<uint16_t>(~(1u << Id));
    T.BarrierResult = Result;
    if (&T != Self && T.Status == ThreadStatus::Blocked && T.WaitingBarrier == static_cast<int16_t>(Id)) {
      T.WaitingBarrier = -1;
      makeReady(B, T);
    }
  }
  Bar.reset();
}

uint32_t requiredLanes(const WarpState &W, const Rendezvous &R) { return R.Mask & W.Existing & ~W.Exited; }

// Computes the rendezvous' results, hands them to its lanes and wakes them (SelfLane keeps running; -1: none).
void completeRendezvous(BlockRun &B, unsigned Warp, size_t Index, int SelfLane) {
  WarpState &W = B.Warps[Warp];
  Rendezvous R = W.Pending[Index];
  W.Pending.erase(W.Pending.begin() + static_cast<std::ptrdiff_t>(Index));
  CollectiveInput In[32];
  CollectiveOutput Out[32];
  ThreadRec *Lanes = B.Threads + Warp * 32;
  for (uint32_t Bits = R.Arrived; Bits; Bits &= Bits - 1) {
    unsigned Lane = static_cast<unsigned>(std::countr_zero(Bits));
    In[Lane] = Lanes[Lane].Coll;
  }
  computeCollective(In, R.Arrived, Out);
  for (uint32_t Bits = R.Arrived; Bits; Bits &= Bits - 1) {
    unsigned Lane = static_cast<unsigned>(std::countr_zero(Bits));
    Lanes[Lane].CollOut = Out[Lane];
    if (static_cast<int>(Lane) != SelfLane && Lanes[Lane].Status == ThreadStatus::Blocked)
      makeReady(B, Lanes[Lane]);
  }
}

// Re-checks what an exited thread may have completed: barriers counting all threads and its warp's collectives.
void onThreadExit(ThreadRec *T) {
  BlockRun &B = *T->Block;
  T->Status = ThreadStatus::Exited;
  ++B.ExitedThreads;
  for (unsigned Id = 0; Id < MaxBarriers; ++Id)
    if (T->ArrivedBarriers & (1u << Id))
      ++B.Barriers[Id].ExitedArrived;
  if (B.Aborting)
    return;
  for (unsigned Id = 0; Id < MaxBarriers; ++Id)
    if (B.Barriers[Id].AllThreads && barrierComplete(B, B.Barriers[Id]))
      releaseBarrier(B, Id, nullptr);
  unsigned Warp = T->Linear / 32;
  WarpState &W = B.Warps[Warp];
  W.Exited |= 1u << (T->Linear % 32);
  for (size_t I = 0; I < W.Pending.size();) {
    uint32_t Required = requiredLanes(W, W.Pending[I]);
    if ((W.Pending[I].Arrived & Required) == Required)
      completeRendezvous(B, Warp, I, -1);
    else
      ++I;
  }
}

// A barrier with a thread count counts warps: a warp arrives for all its non-exited lanes (PTX: bar waits for the
// non-exited threads of its warp), so the exited lanes of warps that arrived count too. Warps that exited entirely
// never arrive: exits release only barriers waiting for all threads of the block.
uint32_t exitedInArrivedWarps(const BlockRun &B, const BarrierState &Bar) {
  uint32_t WarpsArrived = 0; // at most 32 warps in a block of 1024
  for (uint32_t Linear : Bar.Arrivers)
    WarpsArrived |= 1u << (Linear / 32);
  uint32_t Exited = 0;
  for (uint32_t Bits = WarpsArrived; Bits; Bits &= Bits - 1)
    Exited += static_cast<uint32_t>(std::popcount(B.Warps[std::countr_zero(Bits)].Exited));
  return Exited - Bar.ExitedArrived; // arrived-then-exited threads are in Arrived already
}

// Called when no thread can run and some have not exited. Releases, in order of preference: lanes waiting in
// activemask (the lanes that got there are the converged ones), barriers with a thread count that partially exited
// warps complete, and warp collectives whose missing lanes are blocked elsewhere (undefined behaviour in CUDA;
// completed with the lanes present). Returns false on a true deadlock.
bool resolveStall(BlockRun &B) {
  bool Progress = false;
  for (unsigned Warp = 0; Warp < B.NumWarps; ++Warp) {
    WarpState &W = B.Warps[Warp];
    for (size_t I = 0; I < W.Pending.size();) {
      if (W.Pending[I].Kind == CollectiveKind::ActiveMask) {
        completeRendezvous(B, Warp, I, -1);
        Progress = true;
      } else {
        ++I;
      }
    }
  }
  if (Progress)
    return true;
  for (unsigned Id = 0; Id < MaxBarriers; ++Id) {
    BarrierState &Bar = B.Barriers[Id];
    if (Bar.Arrived && !Bar.AllThreads && Bar.Arrived + exitedInArrivedWarps(B, Bar) >= Bar.Expected) {
      releaseBarrier(B, Id, nullptr);
      Progress = true;
    }
  }
  if (Progress)
    return true;
  for (unsigned Warp = 0; Warp < B.NumWarps; ++Warp) {
    WarpState &W = B.Warps[Warp];
    while (!W.Pending.empty()) {
      CUSHIM_LOG_WARN("kernel '{}': warp collective (mask {:#010x}) completed with lanes {:#010x} only: the other "
                      "lanes are blocked elsewhere",
                      B.Launch->KernelName, W.Pending.front().Mask, W.Pending.front().Arrived);
      completeRendezvous(B, Warp, 0, -1);
      Progress = true;
    }
  }
  return Progress;
}

const char *collectiveName(CollectiveKind K) {
  switch (K) {
  case CollectiveKind::Shfl:
    return "shfl.sync";
  case CollectiveKind::Vote:
    return "vote.sync";
  case CollectiveKind::Match:
    return "match.sync";
  case CollectiveKind::Redux:
    return "redux.sync";
  case CollectiveKind::ActiveMask:
    return "activemask";
  case CollectiveKind::WarpSync:
    return "bar.warp.sync (__syncwarp)";
  }
  return "warp collective";
}

// What every live thread of a stuck block waits for: barriers (with arrivals and the count they wait for), warp
// collectives (with mask and arrived lanes) and threads spinning in a loop.
std::string describeBlockState(const BlockRun &B, const char *What) {
  std::string Text;
  for (unsigned Id = 0; Id < MaxBarriers; ++Id) {
    const BarrierState &Bar = B.Barriers[Id];
    if (!Bar.Arrived)
      continue;
    uint32_t Waiting = 0;
    for (uint32_t Linear : Bar.Arrivers)
      Waiting += B.Threads[Linear].Status == ThreadStatus::Blocked;
    if (Bar.AllThreads)
      Text += fmt::format(" barrier {}{} (all threads): {} of {} live threads arrived ({} waiting);", Id,
                          Id == 0 ? " (__syncthreads)" : "", Bar.Arrived - Bar.ExitedArrived,
                          B.NumThreads - B.ExitedThreads, Waiting);
    else
      Text += fmt::format(" barrier {} (count {}): {} threads arrived ({} waiting);", Id, Bar.Expected, Bar.Arrived,
                          Waiting);
  }
  for (unsigned Warp = 0; Warp < B.NumWarps; ++Warp)
    for (const Rendezvous &R : B.Warps[Warp].Pending)
      Text += fmt::format(" warp {}: {} with mask {:#010x}: lanes {:#010x} arrived, lanes {:#010x} exited;", Warp,
                          collectiveName(R.Kind), R.Mask, R.Arrived, B.Warps[Warp].Exited);
  uint32_t Spinning = 0;
  for (uint32_t I = 0; I < B.NumThreads; ++I)
    Spinning += B.Threads[I].Status == ThreadStatus::Ready || B.Threads[I].Status == ThreadStatus::NotStarted;
  if (Spinning)
    Text += fmt::format(" {} threads spinning in a loop that waits for memory;", Spinning);
  return fmt::format("{} in block ({},{},{}): {} of {} threads exited;{}", What, B.Threads[0].Ctx.ctaid[0],
                     B.Threads[0].Ctx.ctaid[1], B.Threads[0].Ctx.ctaid[2], B.ExitedThreads, B.NumThreads, Text);
}

// Unwinds every thread that is still alive: each is resumed once, sees Aborting and jumps to its exit.
void unwindAll(BlockRun &B) {
  B.Aborting = true;
  for (uint32_t I = 0; I < B.NumThreads; ++I) {
    ThreadRec &T = B.Threads[I];
    if (T.Fiber)
      T.Fiber = std::move(T.Fiber).resume();
    if (T.Status != ThreadStatus::Exited) {
      T.Status = ThreadStatus::Exited;
      ++B.ExitedThreads;
    }
  }
  B.ReadyQueue.clear();
}

boost::context::fiber makeFiber(ThreadRec *T) {
  return boost::context::fiber(std::allocator_arg, PooledStackAllocator{&T->Block->Worker->Stacks},
                               [T](boost::context::fiber &&Sched) {
                                 T->Sched = std::move(Sched);
                                 LaunchState &L = *T->Block->Launch;
                                 runThreadInline(T, L.Fn, L.params());
                                 onThreadExit(T);
                                 return std::move(T->Sched);
                               });
}

// Runs a tier-T1 thread until it waits or finishes (exit and trap unwind to here, like runThreadInline).
__attribute__((noinline)) void stepCoroutine(ThreadRec *T) {
  if (_setjmp(T->ExitJump) != 0)
    return;
  if (!T->Frame) {
    LaunchState &L = *T->Block->Launch;
    T->Frame = L.CoroFn(L.params(), &T->Ctx);
    return;
  }
  // Switch-resumed coroutine frames start with their resume function.
  (*static_cast<void (**)(void *)>(T->Frame))(T->Frame);
}

// Resumes thread T of the block: a fiber switch, or a coroutine step after which a thread that did not ask to wait
// has finished.
void resumeThread(BlockRun &B, ThreadRec &T) {
  if (!B.Coroutines) {
    T.Fiber = std::move(T.Fiber).resume();
    return;
  }
  T.MustSuspend = false;
  stepCoroutine(&T);
  if (!T.MustSuspend && !B.Aborting)
    onThreadExit(&T);
}

} // namespace

namespace {

void startBlock(BlockRun &B) {
  LaunchState &L = *B.Launch;
  B.Worker->Stacks.ensureSize(std::max(engineDefaultStackSize(), static_cast<size_t>(L.LocalSize) * 2 + 64 * 1024));
  for (BarrierState &Bar : B.Barriers)
    Bar.reset();
  B.Warps.resize(B.NumWarps);
  for (unsigned Warp = 0; Warp < B.NumWarps; ++Warp) {
    uint32_t Lanes = std::min<uint32_t>(32, B.NumThreads - Warp * 32);
    B.Warps[Warp].Existing = Lanes == 32 ? ~0u : (1u << Lanes) - 1;
    B.Warps[Warp].Exited = 0;
    B.Warps[Warp].Pending.clear();
  }
  B.ReadyQueue.clear();
  for (uint32_t I = 0; I < B.NumThreads; ++I)
    B.ReadyQueue.push_back(I);
  B.SpinRun = 0;
  B.FruitlessRounds = 0;
  B.SpinSince = {};
  B.Started = true;
}

enum class SpinVerdict : uint8_t { KeepRunning, Park, Abort };

// Called after a full round in which every ready thread only yielded from a spin loop: nothing in this block can
// change until another block (or the host) writes memory. Parks the block when the worker has other work; fails
// the launch when the launch already failed elsewhere, or when the block has spun for CUSHIM_WATCHDOG_MS while no
// block of the launch finished (a livelock: a flag nobody sets, a grid.sync some block never reaches).
SpinVerdict onFruitlessRound(BlockRun &B) {
  LaunchState &L = *B.Launch;
  if (L.Error.load(std::memory_order_relaxed) != 0)
    return SpinVerdict::Abort;
  auto Now = std::chrono::steady_clock::now();
  uint64_t Finished = L.FinishedBlocks.load(std::memory_order_relaxed);
  if (B.SpinSince == std::chrono::steady_clock::time_point{} || Finished != B.SpinSinceFinished) {
    B.SpinSince = Now;
    B.SpinSinceFinished = Finished;
  } else if (unsigned Limit = config().WatchdogMs; Limit && Now - B.SpinSince >= std::chrono::milliseconds(Limit)) {
    L.fail(CUDA_ERROR_LAUNCH_FAILED,
           describeBlockState(B, fmt::format("watchdog: no progress for {} ms (CUSHIM_WATCHDOG_MS)", Limit).c_str()));
    return SpinVerdict::Abort;
  }
  if (B.CanPark && B.CanPark(B.CanParkCtx))
    return SpinVerdict::Park;
  // Nothing else to run on this worker: give the CPU to the threads that will make progress; sleep briefly once
  // the wait is long (a spinning emulator must not starve the producer on an oversubscribed machine).
  if (++B.FruitlessRounds < 64)
    std::this_thread::yield();
  else
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  return SpinVerdict::KeepRunning;
}

} // namespace

BlockOutcome runFiberBlock(BlockRun &B) {
  LaunchState &L = *B.Launch;
  if (!B.Started)
    startBlock(B);
  for (;;) {
    while (!B.ReadyQueue.empty()) {
      ThreadRec &T = B.Threads[B.ReadyQueue.front()];
      B.ReadyQueue.pop_front();
      if (T.Status == ThreadStatus::Exited)
        continue;
      if (T.Status == ThreadStatus::NotStarted && !B.Coroutines) {
        try {
          T.Fiber = makeFiber(&T);
        } catch (const std::bad_alloc &) {
          L.fail(CUDA_ERROR_OUT_OF_MEMORY, "cannot allocate a fiber stack");
          unwindAll(B);
          return BlockOutcome::Finished;
        }
      }
      T.Status = ThreadStatus::Ready;
      T.SpinYielded = false;
      T.WarpStepped = false;
      resumeThread(B, T);
      if (B.Aborting) {
        unwindAll(B);
        return BlockOutcome::Finished;
      }
      // A warp step is a thread's turn ending at a volatile access: in a spin loop that polls shared memory most
      // turns end so, and only the loop's spin yields tell the watchdog that nothing changes.
      if (T.WarpStepped)
        continue;
      if (!T.SpinYielded) {
        B.SpinRun = 0;
        B.FruitlessRounds = 0;
        B.SpinSince = {};
        continue;
      }
      // T went back to the end of the queue: a full round of spins is queue-length turns in a row.
      if (++B.SpinRun >= B.ReadyQueue.size()) {
        B.SpinRun = 0;
        SpinVerdict Verdict = onFruitlessRound(B);
        if (Verdict == SpinVerdict::Park)
          return BlockOutcome::Parked;
        if (Verdict == SpinVerdict::Abort) {
          unwindAll(B);
          return BlockOutcome::Finished;
        }
      }
    }
    if (B.ExitedThreads >= B.NumThreads)
      return BlockOutcome::Finished;
    if (!resolveStall(B)) {
      L.fail(CUDA_ERROR_LAUNCH_FAILED, describeBlockState(B, "deadlock"));
      unwindAll(B);
      return BlockOutcome::Finished;
    }
  }
}

void abortFiberBlock(BlockRun &B) {
  if (B.Started)
    unwindAll(B);
}

// ---- Runtime entry points ------------------------------------------------------------------------------------

void engineBarrier(ThreadRec *T, BarrierOp Op, uint32_t Id, uint32_t Count, uint32_t RedOp, uint32_t Pred) {
  BlockRun &B = *T->Block;
  if (Id >= MaxBarriers)
    engineAbort(T, CUDA_ERROR_LAUNCH_FAILED, fmt::format("barrier id {} out of range (0..15)", Id));
  if (RedOp > 2)
    engineAbort(T, CUDA_ERROR_LAUNCH_FAILED, fmt::format("bar.red operation {} unknown", RedOp));
  if (!B.UsesFibers) {
    // Trivially correct for a lone thread; otherwise the kernel's flags were wrong and running on would be wrong.
    if (B.NumThreads == 1) {
      T->BarrierResult = RedOp == 0 ? (Pred != 0) : uint32_t(Pred != 0);
      return;
    }
    engineAbort(T, CUDA_ERROR_LAUNCH_FAILED,
                "the kernel executed a barrier but its descriptor lacks CUSHIM_HAL_KERNEL_USES_BARRIERS");
  }
  BarrierState &Bar = B.Barriers[Id];
  if (Bar.Arrived == 0) {
    Bar.AllThreads = Count == 0 || Count >= B.NumThreads;
    Bar.Expected = Bar.AllThreads ? B.NumThreads : Count;
    Bar.RedOp = RedOp;
  }
  ++Bar.Arrived;
  Bar.Arrivers.push_back(T->Linear);
  T->ArrivedBarriers |= static_cast<uint16_t>(1u << Id);
  if (Op == BarrierOp::Red) {
    bool P = Pred != 0;
    Bar.Popc += P;
    Bar.AndValue = Bar.AndValue && P;
    Bar.OrValue = Bar.OrValue || P;
  }
  if (barrierComplete(B, Bar)) {
    releaseBarrier(B, Id, T);
    return;
  }
  if (Op == BarrierOp::Arrive)
    return;
  T->Status = ThreadStatus::Blocked;
  T->WaitingBarrier = static_cast<int16_t>(Id);
  suspend(T);
}

CollectiveOutput engineCollective(ThreadRec *T, const CollectiveInput &In) {
  BlockRun &B = *T->Block;
  unsigned Lane = T->Linear % 32;
  if (!B.UsesFibers) {
    if (B.NumThreads == 1) {
      CollectiveInput Inputs[32];
      CollectiveOutput Outputs[32];
      Inputs[0] = In;
      computeCollective(Inputs, 1u, Outputs);
      return Outputs[0];
    }
    engineAbort(T, CUDA_ERROR_LAUNCH_FAILED,
                "the kernel executed a warp collective but its descriptor lacks CUSHIM_HAL_KERNEL_USES_WARP_OPS");
  }
  unsigned Warp = T->Linear / 32;
  WarpState &W = B.Warps[Warp];
  T->Coll = In;
  uint32_t Mask = In.Kind == CollectiveKind::ActiveMask ? ~0u : In.Mask | (1u << Lane);
  size_t Index = 0;
  for (; Index < W.Pending.size(); ++Index)
    if (W.Pending[Index].Kind == In.Kind && W.Pending[Index].Mask == Mask && !(W.Pending[Index].Arrived & (1u << Lane)))
      break;
  if (Index == W.Pending.size())
    W.Pending.push_back(Rendezvous{In.Kind, Mask, 0});
  Rendezvous &R = W.Pending[Index];
  R.Arrived |= 1u << Lane;
  uint32_t Required = requiredLanes(W, R);
  if ((R.Arrived & Required) == Required) {
    completeRendezvous(B, Warp, Index, static_cast<int>(Lane));
    return T->CollOut;
  }
  T->Status = ThreadStatus::Blocked;
  T->WaitingBarrier = -1;
  suspend(T);
  return T->CollOut;
}

bool engineYield(ThreadRec *T) {
  BlockRun &B = *T->Block;
  if (!B.UsesFibers || B.Coroutines)
    return false; // nothing else of the block can run while this thread holds the stack
  T->SpinYielded = true;
  makeReady(B, *T);
  suspend(T);
  return true;
}

void engineSpinYield(ThreadRec *T) {
  // Really yields on the first call and then every 64th: a loop the lowering marked that does not actually wait
  // (a bound re-read from memory) pays a call per iteration, not a context switch; a waiting thread still gives
  // way after a few polls (each costs nanoseconds).
  if (T->SpinBudget > 0) {
    --T->SpinBudget;
    return;
  }
  T->SpinBudget = 63;
  if (!engineYield(T))
    std::this_thread::yield(); // fast path (flags say no spin loop): nothing else of the block can run here
}

void engineWarpStep(ThreadRec *T) {
  BlockRun &B = *T->Block;
  if (!B.UsesFibers) {
    if (B.NumThreads == 1)
      return;
    engineAbort(T, CUDA_ERROR_LAUNCH_FAILED,
                "the kernel executed a volatile shared-memory access (a warp step) but its descriptor lacks "
                "CUSHIM_HAL_KERNEL_USES_WARP_OPS");
  }
  // Round robin through the ready queue: lanes that run the same accesses perform the k-th one each before any
  // performs its (k+1)-th, as a converged warp does.
  T->WarpStepped = true;
  makeReady(B, *T);
  suspend(T);
}

void engineExit(ThreadRec *T) { _longjmp(T->ExitJump, 1); }

void engineAbort(ThreadRec *T, CUresult Code, const std::string &Message) { engineAbort(&T->Ctx, Code, Message); }

void engineAbort(cushim_thread_ctx *Ctx, CUresult Code, const std::string &Message) {
  auto *T = static_cast<ThreadRec *>(Ctx->engine);
  BlockRun &B = *T->Block;
  const cushim_thread_ctx &C = *Ctx;
  B.Launch->fail(Code, fmt::format("{} (block [{},{},{}], thread [{},{},{}])", Message, C.ctaid[0], C.ctaid[1],
                                   C.ctaid[2], C.tid[0], C.tid[1], C.tid[2]));
  B.Aborting = true;
  _longjmp(T->ExitJump, 1);
}

// ---- Collective arithmetic -----------------------------------------------------------------------------------

namespace {

uint32_t shuffle(const CollectiveInput *In, uint32_t Arrived, unsigned Lane, uint32_t &InRange) {
  const CollectiveInput &Self = In[Lane];
  // PTX shfl.sync: c packs the clamp value (bits 4:0) and the segment mask (bits 12:8).
  int BVal = static_cast<int>(Self.B & 31);
  int CVal = static_cast<int>(Self.C & 31);
  int SegMask = static_cast<int>((Self.C >> 8) & 31);
  int L = static_cast<int>(Lane);
  int MaxLane = (L & SegMask) | (CVal & ~SegMask);
  int MinLane = L & SegMask;
  int J = L;
  bool P = false;
  switch (Self.Mode) {
  case CUSHIM_SHFL_UP:
    J = L - BVal;
    P = J >= MaxLane;
    break;
  case CUSHIM_SHFL_DOWN:
    J = L + BVal;
    P = J <= MaxLane;
    break;
  case CUSHIM_SHFL_BFLY:
    J = L ^ BVal;
    P = J <= MaxLane;
    break;
  default: // CUSHIM_SHFL_IDX
    J = MinLane | (BVal & ~SegMask);
    P = J <= MaxLane;
    break;
  }
  if (!P)
    J = L;
  InRange = P;
  // Reading a lane that did not take part is undefined in CUDA; the caller's own value is as good as any.
  if (J < 0 || J > 31 || !(Arrived & (1u << J)))
    return static_cast<uint32_t>(Self.Value);
  return static_cast<uint32_t>(In[J].Value);
}

uint32_t reduce(const CollectiveInput *In, uint32_t Arrived, uint32_t Op) {
  bool First = true;
  uint32_t Acc = 0;
  for (uint32_t Bits = Arrived; Bits; Bits &= Bits - 1) {
    uint32_t V = static_cast<uint32_t>(In[std::countr_zero(Bits)].Value);
    if (First) {
      Acc = V;
      First = false;
      continue;
    }
    switch (Op) {
    case 0:
      Acc += V;
      break;
    case 1:
      Acc = static_cast<uint32_t>(std::min(static_cast<int32_t>(Acc), static_cast<int32_t>(V)));
      break;
    case 2:
      Acc = static_cast<uint32_t>(std::max(static_cast<int32_t>(Acc), static_cast<int32_t>(V)));
      break;
    case 3:
      Acc = std::min(Acc, V);
      break;
    case 4:
      Acc = std::max(Acc, V);
      break;
    case 5:
      Acc &= V;
      break;
    case 6:
      Acc |= V;
      break;
    default:
      Acc ^= V;
      break;
    }
  }
  return Acc;
}

} // namespace

void computeCollective(const CollectiveInput *In, uint32_t Arrived, CollectiveOutput *Out) {
  uint32_t Ballot = 0;
  bool AllEqual = true;
  for (uint32_t Bits = Arrived; Bits; Bits &= Bits - 1) {
    unsigned Lane = static_cast<unsigned>(std::countr_zero(Bits));
    if (In[Lane].Value != 0)
      Ballot |= 1u << Lane;
    if (In[Lane].Value != In[std::countr_zero(Arrived)].Value)
      AllEqual = false;
  }
  for (uint32_t Bits = Arrived; Bits; Bits &= Bits - 1) {
    unsigned Lane = static_cast<unsigned>(std::countr_zero(Bits));
    const CollectiveInput &Self = In[Lane];
    CollectiveOutput &O = Out[Lane];
    O = CollectiveOutput{};
    switch (Self.Kind) {
    case CollectiveKind::Shfl:
      O.Value = shuffle(In, Arrived, Lane, O.Pred);
      break;
    case CollectiveKind::Vote:
      switch (Self.Mode) {
      case CUSHIM_VOTE_ALL:
        O.Value = Ballot == Arrived;
        break;
      case CUSHIM_VOTE_ANY:
        O.Value = Ballot != 0;
        break;
      case CUSHIM_VOTE_UNI:
        O.Value = Ballot == 0 || Ballot == Arrived;
        break;
      default:
        O.Value = Ballot;
        break;
      }
      break;
    case CollectiveKind::Match:
      if (Self.Mode == 0) {
        for (uint32_t Other = Arrived; Other; Other &= Other - 1)
          if (In[std::countr_zero(Other)].Value == Self.Value)
            O.Value |= 1u << std::countr_zero(Other);
        O.Pred = 1;
      } else {
        O.Value = AllEqual ? Arrived : 0;
        O.Pred = AllEqual;
      }
      break;
    case CollectiveKind::Redux:
      O.Value = reduce(In, Arrived, Self.Mode);
      break;
    case CollectiveKind::ActiveMask:
      O.Value = Arrived;
      break;
    case CollectiveKind::WarpSync:
      break;
    }
  }
}

} // namespace cushim::host
