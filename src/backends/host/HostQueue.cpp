// Queues and events of the host backend: each queue is an ordered command list run by its own thread, so every
// enqueue returns at once; events mark points in a queue and carry the steady-clock time the queue reached them.
#include "HostObjects.h"

#include "ThreadPool.h"

#include "support/Log.h"

#include <cstring>

namespace cushim::host {

namespace {
constexpr uint32_t MaxSharedPerBlock = 227 * 1024; // what a compute capability 8.x+ device grants with opt-in

// Kernel faults poison the context as on CUDA; resource errors of a launch only fail that launch.
bool isContextFatal(CUresult Code) { return Code != CUDA_SUCCESS && Code != CUDA_ERROR_OUT_OF_MEMORY; }

} // namespace

// ---- Events ---------------------------------------------------------------------------------------------------

void HostEvent::complete(uint64_t Gen) {
  auto Now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    if (Gen > CompletedGen) {
      CompletedGen = Gen;
      Time = Now;
    }
  }
  Reached.notify_all();
}

void HostEvent::waitFor(uint64_t Gen) {
  // Poll first, as queue synchronisation does (spinUntil: pauses only, never sched_yield): the event is often
  // reached within microseconds, and a futex sleep and wake-up costs more than that.
  if (spinUntil([&] { return CompletedGen.load(std::memory_order_acquire) >= Gen; }))
    return;
  std::unique_lock<std::mutex> Lock(Mutex);
  Reached.wait(Lock, [&] { return CompletedGen >= Gen; });
}

// ---- Queues ---------------------------------------------------------------------------------------------------

HostQueue::HostQueue(std::shared_ptr<HostContext> Ctx) : Context(std::move(Ctx)) {}

HostQueue::~HostQueue() { shutdown(); }

void HostQueue::start() {
  Thread = std::thread([this] { threadMain(); });
}

void HostQueue::shutdown() {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    if (Stopping)
      return;
    Stopping = true;
  }
  HasWork.notify_all();
  if (!Thread.joinable())
    return;
  if (isCurrentThread())
    Thread.detach(); // destroyed from one of its own host functions: it ends after the current command
  else
    Thread.join();
}

uint64_t HostQueue::push(QueueCommand &&Cmd) {
  uint64_t Ticket;
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Pending.push(std::move(Cmd));
    Ticket = Submitted.fetch_add(1, std::memory_order_release) + 1;
    noteFront();
  }
  HasWork.notify_one();
  return Ticket;
}

bool HostQueue::frontIsHelpable() const {
  return FrontHelpable.load(std::memory_order_relaxed) && !Running.load(std::memory_order_relaxed);
}

void HostQueue::noteFront() {
  bool Helpable = false;
  if (!Pending.empty()) {
    CommandKind K = Pending.front().kind();
    Helpable = K == CommandKind::Device || K == CommandKind::Record;
  }
  FrontHelpable.store(Helpable, std::memory_order_relaxed);
}

void HostQueue::execute(QueueCommand &Cmd) {
  CUresult Result = CUDA_SUCCESS;
  if (!(Cmd.kind() == CommandKind::Device && Context->sticky() != CUDA_SUCCESS))
    Result = Cmd.run();
  if (Result != CUDA_SUCCESS) {
    int Expected = 0;
    FirstError.compare_exchange_strong(Expected, static_cast<int>(Result));
    if (isContextFatal(Result))
      Context->recordFault(Result);
  }
  Cmd.reset(); // release what the command captured before reporting completion
}

void HostQueue::threadMain() {
  // Ready: nothing is running and there is a command, or the queue stops (after the last command ran).
  auto Ready = [this] {
    return !Running.load(std::memory_order_acquire) &&
           (Stopping.load(std::memory_order_relaxed) ||
            Started.load(std::memory_order_relaxed) != Submitted.load(std::memory_order_acquire));
  };
  for (;;) {
    QueueCommand Cmd;
    {
      spinUntil(Ready);
      std::unique_lock<std::mutex> Lock(Mutex);
      HasWork.wait(Lock, Ready);
      if (Pending.empty())
        return; // stopping and drained
      Cmd = Pending.pop();
      Started.fetch_add(1, std::memory_order_relaxed);
      Running.store(true, std::memory_order_relaxed);
      noteFront();
    }
    execute(Cmd);
    {
      std::lock_guard<std::mutex> Lock(Mutex);
      Running.store(false, std::memory_order_release);
      Completed.fetch_add(1, std::memory_order_release);
    }
    Progress.notify_all();
  }
}

HostQueue::PooledLaunch HostQueue::acquireLaunch() {
  {
    std::lock_guard<std::mutex> Lock(LaunchPoolMutex);
    if (!FreeLaunches.empty()) {
      LaunchState *L = FreeLaunches.back().release();
      FreeLaunches.pop_back();
      return PooledLaunch(*this, L);
    }
  }
  return PooledLaunch(*this, new LaunchState);
}

void HostQueue::recycleLaunch(LaunchState *L) {
  // Enough for a long backlog of queued launches; beyond it, states are freed rather than kept.
  constexpr size_t MaxFree = 1024;
  std::unique_ptr<LaunchState> Owned(L);
  Owned->reset();
  std::lock_guard<std::mutex> Lock(LaunchPoolMutex);
  if (FreeLaunches.size() < MaxFree)
    FreeLaunches.push_back(std::move(Owned));
}

CUresult HostQueue::stickyResult() const {
  if (int E = FirstError.load(std::memory_order_acquire))
    return static_cast<CUresult>(E);
  return Context->sticky();
}

CUresult HostQueue::query() {
  if (Completed.load(std::memory_order_acquire) < Submitted.load(std::memory_order_acquire))
    return CUDA_ERROR_NOT_READY;
  return stickyResult();
}

void HostQueue::drainTo(uint64_t Target) {
  if (isCurrentThread())
    return;
  auto Done = [&] { return Completed.load(std::memory_order_acquire) >= Target; };
  if (Done())
    return;
  std::unique_lock<std::mutex> Lock(Mutex);
  for (;;) {
    // Run the next command here when the queue thread has not taken it: no hand-over to another thread.
    while (!Done() && frontIsHelpable()) {
      QueueCommand Cmd = Pending.pop();
      Started.fetch_add(1, std::memory_order_relaxed);
      Running.store(true, std::memory_order_relaxed);
      noteFront();
      Lock.unlock();
      execute(Cmd);
      Lock.lock();
      Running.store(false, std::memory_order_release);
      Completed.fetch_add(1, std::memory_order_release);
      Progress.notify_all(); // other waiters
      HasWork.notify_one();  // the queue thread waits while a command runs
    }
    if (Done())
      return;
    // The queue thread runs a command, or the next one is a host function or event wait: run blocks of published
    // grids (its launch, most likely), poll briefly, then sleep.
    Lock.unlock();
    WorkerPool::helpUntil(Done);
    bool Changed = spinUntil([&] { return Done() || frontIsHelpable(); });
    Lock.lock();
    if (!Changed)
      Progress.wait(Lock, [&] { return Done() || frontIsHelpable(); });
  }
}

CUresult HostQueue::synchronize() {
  drain();
  return stickyResult();
}

void HostContext::drainQueues() {
  std::vector<std::shared_ptr<HostQueue>> Live;
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    for (auto &Weak : Queues)
      if (auto Q = Weak.lock())
        Live.push_back(std::move(Q));
  }
  for (auto &Q : Live)
    Q->drain();
}

// ---- HAL entry points: queues ---------------------------------------------------------------------------------

cushim_hal_result halQueueCreate(cushim_hal_context Context, unsigned Flags, int Priority, cushim_hal_queue *Queue) {
  auto Ctx = contexts().find(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!Queue)
    return CUDA_ERROR_INVALID_VALUE;
  auto Q = std::make_shared<HostQueue>(Ctx);
  Q->start();
  {
    std::lock_guard<std::mutex> Lock(Ctx->Mutex);
    std::erase_if(Ctx->Queues, [](const std::weak_ptr<HostQueue> &W) { return W.expired(); });
    Ctx->Queues.push_back(Q);
  }
  *Queue = reinterpret_cast<cushim_hal_queue>(Q.get());
  queues().add(std::move(Q));
  return CUDA_SUCCESS;
}

cushim_hal_result halQueueDestroy(cushim_hal_queue Queue) {
  auto Q = queues().remove(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  // Like cudaStreamDestroy, work already queued still runs; we wait for it here rather than in the background.
  Q->shutdown();
  return CUDA_SUCCESS;
}

cushim_hal_result halQueueQuery(cushim_hal_queue Queue) {
  auto Q = queues().find(Queue);
  return Q ? Q->query() : CUDA_ERROR_INVALID_HANDLE;
}

cushim_hal_result halQueueSynchronize(cushim_hal_queue Queue) {
  auto Q = queues().find(Queue);
  return Q ? Q->synchronize() : CUDA_ERROR_INVALID_HANDLE;
}

cushim_hal_result halEnqueueCopy(cushim_hal_queue Queue, void *Dst, const void *Src, size_t Bytes) {
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  if (CUresult Sticky = Q->context()->sticky())
    return Sticky;
  if (Bytes == 0)
    return CUDA_SUCCESS;
  if (!Dst || !Src)
    return CUDA_ERROR_INVALID_VALUE;
  Q->enqueue(CommandKind::Device, [=] {
    std::memmove(Dst, Src, Bytes);
    return CUDA_SUCCESS;
  });
  return CUDA_SUCCESS;
}

cushim_hal_result halEnqueueCopy2D(cushim_hal_queue Queue, void *Dst, size_t DstPitch, const void *Src, size_t SrcPitch,
                                   size_t WidthBytes, size_t Height) {
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  if (CUresult Sticky = Q->context()->sticky())
    return Sticky;
  if (WidthBytes == 0 || Height == 0)
    return CUDA_SUCCESS;
  if (!Dst || !Src || (Height > 1 && (DstPitch < WidthBytes || SrcPitch < WidthBytes)))
    return CUDA_ERROR_INVALID_VALUE;
  Q->enqueue(CommandKind::Device, [=] {
    auto *D = static_cast<char *>(Dst);
    auto *S = static_cast<const char *>(Src);
    for (size_t Row = 0; Row < Height; ++Row)
      std::memmove(D + Row * DstPitch, S + Row * SrcPitch, WidthBytes);
    return CUDA_SUCCESS;
  });
  return CUDA_SUCCESS;
}

cushim_hal_result halEnqueueFill(cushim_hal_queue Queue, void *Dst, uint32_t Value, unsigned ElementSize,
                                 size_t Count) {
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  if (CUresult Sticky = Q->context()->sticky())
    return Sticky;
  if (ElementSize != 1 && ElementSize != 2 && ElementSize != 4)
    return CUDA_ERROR_INVALID_VALUE;
  if (Count == 0)
    return CUDA_SUCCESS;
  if (!Dst)
    return CUDA_ERROR_INVALID_VALUE;
  Q->enqueue(CommandKind::Device, [=] {
    if (ElementSize == 1) {
      std::memset(Dst, static_cast<int>(Value & 0xff), Count);
    } else if (ElementSize == 2) {
      auto V = static_cast<uint16_t>(Value);
      auto *D = static_cast<char *>(Dst); // cuMemsetD16 requires alignment, but do not rely on it
      for (size_t I = 0; I < Count; ++I)
        std::memcpy(D + I * 2, &V, 2);
    } else {
      auto *D = static_cast<char *>(Dst);
      for (size_t I = 0; I < Count; ++I)
        std::memcpy(D + I * 4, &Value, 4);
    }
    return CUDA_SUCCESS;
  });
  return CUDA_SUCCESS;
}

cushim_hal_result halEnqueueLaunch(cushim_hal_queue Queue, cushim_hal_kernel Kernel, const cushim_hal_launch *Launch) {
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  auto K = kernels().find(Kernel);
  if (!K)
    return CUDA_ERROR_INVALID_HANDLE;
  if (CUresult Sticky = Q->context()->sticky())
    return Sticky;
  if (!Launch)
    return CUDA_ERROR_INVALID_VALUE;
  const cushim_hal_launch &In = *Launch;
  for (int I = 0; I < 3; ++I)
    if (In.grid[I] == 0 || In.block[I] == 0)
      return CUDA_ERROR_INVALID_VALUE;
  if (In.grid[0] > 0x7fffffffu || In.grid[1] > 65535 || In.grid[2] > 65535 || In.block[0] > 1024 ||
      In.block[1] > 1024 || In.block[2] > 64)
    return CUDA_ERROR_INVALID_VALUE;
  uint64_t Threads = uint64_t(In.block[0]) * In.block[1] * In.block[2];
  if (Threads > 1024 || (K->MaxThreads && Threads > K->MaxThreads))
    return CUDA_ERROR_INVALID_VALUE;
  if (uint64_t(K->StaticSharedSize) + In.dynamic_shared_size > MaxSharedPerBlock)
    return CUDA_ERROR_INVALID_VALUE;
  if (In.params_size && !In.params)
    return CUDA_ERROR_INVALID_VALUE;

  HostQueue::PooledLaunch L = Q->acquireLaunch();
  L->Fn = K->Fn;
  // A region entry with warp collectives needs each warp to be a run of 32 threads along x of one row.
  bool RegionFits = !(K->Flags & CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS) || In.block[0] % 32 == 0;
  if (engineUsesFlatEntries() && K->FlatFn)
    L->FlatFn = K->FlatFn;
  else
    L->FlatFn = engineUsesRegionEntries() && RegionFits ? K->RegionFn : nullptr;
  L->CoroFn = engineUsesCoroutineEntries() ? K->CoroFn : nullptr;
  L->KernelName = K->Name;
  L->Flags = K->Flags;
  for (int I = 0; I < 3; ++I) {
    L->Grid[I] = In.grid[I];
    L->Block[I] = In.block[I];
  }
  L->StaticShared = K->StaticSharedSize;
  L->DynamicShared = In.dynamic_shared_size;
  L->LocalSize = K->LocalSize;
  L->TotalBlocks = uint64_t(In.grid[0]) * In.grid[1] * In.grid[2];
  L->ThreadsPerBlock = static_cast<uint32_t>(Threads);
  // The caller's buffer may change as soon as we return: keep a copy, padded to what the kernel reads.
  L->setParams(In.params, In.params_size, K->ParamSize);
  L->KernelOwner = std::move(K); // keeps KernelName alive

  Q->enqueue(CommandKind::Device, [L = std::move(L)] {
    L->GridId = nextGridId();
    CUresult Result = runLaunch(*L);
    flushDevicePrintf();
    return Result;
  });
  return CUDA_SUCCESS;
}

cushim_hal_result halEnqueueHostFunc(cushim_hal_queue Queue, cushim_hal_host_fn Fn, void *UserData) {
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  if (!Fn)
    return CUDA_ERROR_INVALID_VALUE;
  Q->enqueue(CommandKind::Host, [=] {
    Fn(UserData);
    return CUDA_SUCCESS;
  });
  return CUDA_SUCCESS;
}

// ---- HAL entry points: events ---------------------------------------------------------------------------------

cushim_hal_result halEventCreate(cushim_hal_context Context, unsigned Flags, cushim_hal_event *Event) {
  auto Ctx = contexts().find(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!Event)
    return CUDA_ERROR_INVALID_VALUE;
  auto E = std::make_shared<HostEvent>();
  E->Context = std::move(Ctx);
  E->Flags = Flags;
  *Event = reinterpret_cast<cushim_hal_event>(E.get());
  events().add(std::move(E));
  return CUDA_SUCCESS;
}

cushim_hal_result halEventDestroy(cushim_hal_event Event) {
  // Queues that still have to reach a record of it keep it alive through their command.
  return events().remove(Event) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

cushim_hal_result halEventRecord(cushim_hal_event Event, cushim_hal_queue Queue) {
  auto E = events().find(Event);
  if (!E)
    return CUDA_ERROR_INVALID_HANDLE;
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  uint64_t Gen;
  {
    std::lock_guard<std::mutex> Lock(E->Mutex);
    Gen = ++E->RecordedGen;
  }
  uint64_t Ticket = Q->enqueue(CommandKind::Record, [E, Gen] {
    E->complete(Gen);
    return CUDA_SUCCESS;
  });
  std::lock_guard<std::mutex> Lock(E->Mutex);
  if (E->RecordedGen == Gen) { // not recorded again meanwhile
    E->RecordQueue = Q;
    E->RecordTicket = Ticket;
  }
  return CUDA_SUCCESS;
}

cushim_hal_result halQueueWaitEvent(cushim_hal_queue Queue, cushim_hal_event Event) {
  auto Q = queues().find(Queue);
  if (!Q)
    return CUDA_ERROR_INVALID_HANDLE;
  auto E = events().find(Event);
  if (!E)
    return CUDA_ERROR_INVALID_HANDLE;
  uint64_t Gen;
  {
    std::lock_guard<std::mutex> Lock(E->Mutex);
    Gen = E->RecordedGen;
  }
  if (Gen == 0)
    return CUDA_SUCCESS; // never recorded: nothing to wait for (as cuStreamWaitEvent)
  Q->enqueue(CommandKind::Wait, [E, Gen] {
    E->waitFor(Gen);
    return CUDA_SUCCESS;
  });
  return CUDA_SUCCESS;
}

cushim_hal_result halEventQuery(cushim_hal_event Event) {
  auto E = events().find(Event);
  if (!E)
    return CUDA_ERROR_INVALID_HANDLE;
  std::lock_guard<std::mutex> Lock(E->Mutex);
  return E->CompletedGen >= E->RecordedGen ? CUDA_SUCCESS : CUDA_ERROR_NOT_READY;
}

cushim_hal_result halEventSynchronize(cushim_hal_event Event) {
  auto E = events().find(Event);
  if (!E)
    return CUDA_ERROR_INVALID_HANDLE;
  uint64_t Gen, Ticket;
  std::shared_ptr<HostQueue> Q;
  {
    std::lock_guard<std::mutex> Lock(E->Mutex);
    Gen = E->RecordedGen;
    Q = E->RecordQueue.lock();
    Ticket = E->RecordTicket;
  }
  // Run the recording queue's commands up to the record here when its thread has not taken them (no hand-over to
  // another thread and back, as in queue_synchronize); the record may be newer than the ticket, so then wait.
  if (Q)
    Q->drainTo(Ticket);
  E->waitFor(Gen);
  return E->Context->sticky();
}

cushim_hal_result halEventElapsedMs(float *Ms, cushim_hal_event Start, cushim_hal_event End) {
  if (!Ms)
    return CUDA_ERROR_INVALID_VALUE;
  auto S = events().find(Start);
  auto E = events().find(End);
  if (!S || !E)
    return CUDA_ERROR_INVALID_HANDLE;
  if ((S->Flags | E->Flags) & CU_EVENT_DISABLE_TIMING)
    return CUDA_ERROR_INVALID_HANDLE;
  std::chrono::steady_clock::time_point T0, T1;
  {
    std::lock_guard<std::mutex> Lock(S->Mutex);
    if (S->RecordedGen == 0)
      return CUDA_ERROR_INVALID_HANDLE;
    if (S->CompletedGen < S->RecordedGen)
      return CUDA_ERROR_NOT_READY;
    T0 = S->Time;
  }
  {
    std::lock_guard<std::mutex> Lock(E->Mutex);
    if (E->RecordedGen == 0)
      return CUDA_ERROR_INVALID_HANDLE;
    if (E->CompletedGen < E->RecordedGen)
      return CUDA_ERROR_NOT_READY;
    T1 = E->Time;
  }
  *Ms = std::chrono::duration<float, std::milli>(T1 - T0).count();
  return CUDA_SUCCESS;
}

} // namespace cushim::host
