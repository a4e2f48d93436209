// The host backend's objects behind the HAL's opaque handles (contexts, queues, events, modules, kernels) and the
// registry that validates handles: a stale or foreign handle yields CUDA_ERROR_INVALID_HANDLE, never a crash.
#pragma once

#include "Engine.h"
#include "HostJit.h"
#include "QueueCommand.h"

#include <cuda_shim/hal.h>

#include <cuda.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cushim::host {

class HostQueue;

// Live handles of one kind; lookups hand out shared ownership so a concurrent destroy cannot free an object that
// is still in use. Leaked singletons: queue threads may use them while static destructors run at exit.
template <typename T> class HandleRegistry {
public:
  // The object's address is its handle.
  void add(std::shared_ptr<T> Object) {
    std::lock_guard<std::mutex> Lock(Mutex);
    void *Handle = Object.get();
    Objects[Handle] = std::move(Object);
  }
  std::shared_ptr<T> find(const void *Handle) {
    if (!Handle)
      return nullptr;
    std::lock_guard<std::mutex> Lock(Mutex);
    auto It = Objects.find(const_cast<void *>(Handle));
    return It == Objects.end() ? nullptr : It->second;
  }
  std::shared_ptr<T> remove(const void *Handle) {
    std::lock_guard<std::mutex> Lock(Mutex);
    auto It = Objects.find(const_cast<void *>(Handle));
    if (It == Objects.end())
      return nullptr;
    std::shared_ptr<T> Object = std::move(It->second);
    Objects.erase(It);
    return Object;
  }

private:
  std::mutex Mutex;
  std::unordered_map<void *, std::shared_ptr<T>> Objects;
};

struct HostContext {
  int Device = 0;
  // The first kernel fault in this context: like CUDA, every later synchronising call reports it.
  std::atomic<int> StickyError{0};
  std::mutex Mutex;
  std::vector<std::weak_ptr<HostQueue>> Queues;

  CUresult sticky() const { return static_cast<CUresult>(StickyError.load(std::memory_order_acquire)); }
  void recordFault(CUresult Code) {
    int Expected = 0;
    StickyError.compare_exchange_strong(Expected, static_cast<int>(Code));
  }
  // Waits until every queue of the context is idle (not the calling queue thread's own queue).
  void drainQueues();
};

class HostQueue;

// A point in a queue. Each record bumps RecordedGen; the queue marks CompletedGen (and the time) on reaching it.
struct HostEvent {
  std::shared_ptr<HostContext> Context;
  unsigned Flags = 0;
  std::mutex Mutex;
  std::condition_variable Reached;
  uint64_t RecordedGen = 0;
  // Written under Mutex; atomic so that a synchronising thread can poll it without the mutex before sleeping.
  std::atomic<uint64_t> CompletedGen{0};
  std::chrono::steady_clock::time_point Time;
  // Where the latest record sits (its queue and the queue's command count with it), so that a synchronising thread
  // can run the commands before it itself, as queue synchronisation does. With Mutex held.
  std::weak_ptr<HostQueue> RecordQueue;
  uint64_t RecordTicket = 0;

  void complete(uint64_t Gen);
  void waitFor(uint64_t Gen);
};

// An ordered command list run by a dedicated thread; launches borrow the worker pool. A thread waiting for the
// queue (synchronize, drain) runs device commands and event records itself when the queue thread has not taken
// them yet: a launch + synchronise round trip then needs no hand-over between threads. One command runs at a time.
class HostQueue : public std::enable_shared_from_this<HostQueue> {
public:
  explicit HostQueue(std::shared_ptr<HostContext> Context);
  ~HostQueue();
  void start();
  // Stops accepting work, waits for what is queued, joins the thread.
  void shutdown();

  // Device commands (copies, fills, launches) are dropped once the context has a sticky fault. Work's captures must
  // fit QueueCommand::Capacity (checked at compile time).
  // Returns the command's ticket: the queue's command count with it (drainTo(ticket) waits for it).
  template <typename Fn> uint64_t enqueue(CommandKind Kind, Fn &&Work) {
    return push(QueueCommand(Kind, std::forward<Fn>(Work)));
  }
  CUresult query();
  CUresult synchronize();
  // Waits for the queue to drain without reporting errors (used before frees and unloads).
  void drain() { drainTo(Submitted.load(std::memory_order_acquire)); }
  // Waits until the commands up to Ticket (from enqueue) have run, running them on this thread where it may.
  void drainTo(uint64_t Ticket);
  bool isCurrentThread() const { return std::this_thread::get_id() == Thread.get_id(); }

  const std::shared_ptr<HostContext> &context() const { return Context; }

  // A launch state owned by this queue, returned to it when the launch's command is destroyed (run or skipped).
  class PooledLaunch {
  public:
    PooledLaunch(HostQueue &Q, LaunchState *L) : Queue(&Q), State(L) {}
    PooledLaunch(PooledLaunch &&O) noexcept : Queue(O.Queue), State(std::exchange(O.State, nullptr)) {}
    PooledLaunch &operator=(PooledLaunch &&) = delete;
    ~PooledLaunch() {
      if (State)
        Queue->recycleLaunch(State);
    }
    LaunchState &operator*() const { return *State; }
    LaunchState *operator->() const { return State; }

  private:
    HostQueue *Queue;
    LaunchState *State;
  };
  // A recycled (or, when none is free, new) launch state for the next launch on this queue.
  PooledLaunch acquireLaunch();

private:
  uint64_t push(QueueCommand &&Cmd);
  void threadMain();
  // Runs Cmd (unless a sticky fault skips it), records its error and destroys it; the caller marked Running.
  void execute(QueueCommand &Cmd);
  // Whether a waiting thread may take the next command. With Mutex held.
  bool frontIsHelpable() const;
  void noteFront(); // refreshes FrontHelpable; with Mutex held
  void recycleLaunch(LaunchState *L);
  CUresult stickyResult() const;

  std::shared_ptr<HostContext> Context;
  std::thread Thread;
  // Free launch states (declared before Pending: commands destroyed with the queue return theirs here first).
  std::mutex LaunchPoolMutex;
  std::vector<std::unique_ptr<LaunchState>> FreeLaunches;
  std::mutex Mutex;
  std::condition_variable HasWork, Progress;
  CommandRing Pending;
  // Counters and flags change with Mutex held; waiters poll them without it before sleeping.
  std::atomic<uint64_t> Submitted{0}, Started{0}, Completed{0};
  std::atomic<bool> Running{false};       // a command is being run (by the queue thread or a waiting thread)
  std::atomic<bool> FrontHelpable{false}; // the next command may be run by a waiting thread
  std::atomic<bool> Stopping{false};
  std::atomic<int> FirstError{0};
};

struct HostModule;

struct HostKernel {
  HostModule *Module = nullptr;
  std::string Name;
  KernelFn Fn = nullptr;
  KernelFn FlatFn = nullptr;    // tier T0 entry (one call per block), when the kernel has one
  KernelFn RegionFn = nullptr;  // tier T1 region entry (one call per block, barriers included), when it has one
  CoroutineFn CoroFn = nullptr; // tier T1 entry (a thread as a coroutine), when the kernel has one
  uint32_t Flags = 0;
  uint32_t ParamSize = 0;
  uint32_t StaticSharedSize = 0;
  uint32_t LocalSize = 0;
  uint32_t MaxThreads = 0;
};

struct HostModule {
  std::shared_ptr<HostContext> Context;
  std::unique_ptr<JitModule> Jit;
  std::mutex Mutex;
  std::unordered_map<std::string, std::shared_ptr<HostKernel>> Kernels;
};

HandleRegistry<HostContext> &contexts();
HandleRegistry<HostQueue> &queues();
HandleRegistry<HostEvent> &events();
HandleRegistry<HostModule> &modules();
HandleRegistry<HostKernel> &kernels();

// Queue and event entry points of the ops table (HostQueue.cpp).
cushim_hal_result halQueueCreate(cushim_hal_context Context, unsigned Flags, int Priority, cushim_hal_queue *Queue);
cushim_hal_result halQueueDestroy(cushim_hal_queue Queue);
cushim_hal_result halQueueQuery(cushim_hal_queue Queue);
cushim_hal_result halQueueSynchronize(cushim_hal_queue Queue);
cushim_hal_result halEnqueueCopy(cushim_hal_queue Queue, void *Dst, const void *Src, size_t Bytes);
cushim_hal_result halEnqueueCopy2D(cushim_hal_queue Queue, void *Dst, size_t DstPitch, const void *Src, size_t SrcPitch,
                                   size_t WidthBytes, size_t Height);
cushim_hal_result halEnqueueFill(cushim_hal_queue Queue, void *Dst, uint32_t Value, unsigned ElementSize, size_t Count);
cushim_hal_result halEnqueueLaunch(cushim_hal_queue Queue, cushim_hal_kernel Kernel, const cushim_hal_launch *Launch);
cushim_hal_result halEnqueueHostFunc(cushim_hal_queue Queue, cushim_hal_host_fn Fn, void *UserData);
cushim_hal_result halEventCreate(cushim_hal_context Context, unsigned Flags, cushim_hal_event *Event);
cushim_hal_result halEventDestroy(cushim_hal_event Event);
cushim_hal_result halEventRecord(cushim_hal_event Event, cushim_hal_queue Queue);
cushim_hal_result halQueueWaitEvent(cushim_hal_queue Queue, cushim_hal_event Event);
cushim_hal_result halEventQuery(cushim_hal_event Event);
cushim_hal_result halEventSynchronize(cushim_hal_event Event);
cushim_hal_result halEventElapsedMs(float *Ms, cushim_hal_event Start, cushim_hal_event End);

} // namespace cushim::host
