// The worker pool shared by all queues of the host backend (see ThreadPool.h).
#include "ThreadPool.h"

#include "Engine.h"
#include "EngineInternal.h"

#include "support/Log.h"

#include <algorithm>

namespace cushim::host {

std::atomic<WorkerPool *> WorkerPool::Instance{nullptr};


WorkerPool &WorkerPool::get() {
  // Leaked on purpose: workers sleep on its condition variable until the process ends.
  static WorkerPool *Pool = [] {
    auto *P = new WorkerPool(engineWorkerCount());
    Instance.store(P, std::memory_order_release);
    return P;
  }();
  return *Pool;
}

PoolJob *WorkerPool::enterJob() {
  auto It = std::find_if(Jobs.begin(), Jobs.end(), [](PoolJob *J) {
    return J->Inside.load(std::memory_order_relaxed) < J->MaxInside && J->hasUnclaimedWork();
  });
  if (It == Jobs.end())
    return nullptr;
  (*It)->Inside.fetch_add(1, std::memory_order_relaxed); // retire() cannot pass the mutex meanwhile
  return *It;
}

bool WorkerPool::helpOnce() {
  WorkerPool *Pool = Instance.load(std::memory_order_acquire);
  if (!Pool)
    return false;
  PoolJob *Job;
  {
    std::lock_guard<std::mutex> Lock(Pool->Mutex);
    Job = Pool->enterJob();
  }
  if (!Job)
    return false;
  Job->work(currentWorkerResources());
  leaveJob(*Job);
  return true;
}

WorkerPool::WorkerPool(unsigned Count) {
  Jobs.reserve(64);
  Threads.reserve(Count);
  for (unsigned I = 0; I < Count; ++I) {
    Threads.emplace_back([this, I] { workerMain(I); });
    Threads.back().detach();
  }
  CUSHIM_LOG_DEBUG("host backend: worker pool started with {} workers", Count);
}

void WorkerPool::submit(PoolJob &Job, unsigned MaxHelpers) {
  unsigned WakeCount = MaxHelpers;
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Job.MaxInside = MaxHelpers;
    Jobs.push_back(&Job);
    Published.store(Jobs.size(), std::memory_order_release);
  }
  if (WakeCount >= Threads.size()) {
    Wake.notify_all();
    return;
  }
  for (unsigned I = 0; I < WakeCount; ++I)
    Wake.notify_one();
}

void WorkerPool::retire(PoolJob &Job) {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    auto It = std::find(Jobs.begin(), Jobs.end(), &Job);
    if (It != Jobs.end())
      Jobs.erase(It);
    Published.store(Jobs.size(), std::memory_order_release);
  }
  // Threads still inside work() found nothing left to claim and are on their way out; one may have been preempted
  // there, so poll briefly and then sleep in short steps rather than spin.
  if (spinUntil([&] { return Job.Inside.load(std::memory_order_acquire) == 0; }))
    return;
  while (Job.Inside.load(std::memory_order_acquire) != 0)
    std::this_thread::sleep_for(std::chrono::microseconds(20));
}

void WorkerPool::workerMain(unsigned Index) {
  WorkerResources &Resources = currentWorkerResources();
  Resources.Index = Index;
  for (;;) {
    PoolJob *Job = nullptr;
    {
      std::unique_lock<std::mutex> Lock(Mutex, std::defer_lock);
      auto HasJob = [&] { return (Job = enterJob()) != nullptr; };
      // Poll (taking the mutex only when something is published), then sleep until submit() wakes us.
      bool Found = spinUntil([&] {
        if (Published.load(std::memory_order_acquire) == 0 || !Lock.try_lock())
          return false;
        if (HasJob())
          return true;
        Lock.unlock();
        return false;
      });
      if (!Found) {
        Lock.lock();
        Wake.wait(Lock, HasJob);
      }
    }
    Job->work(Resources);
    leaveJob(*Job);
  }
}

} // namespace cushim::host
