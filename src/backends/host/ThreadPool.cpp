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

std::shared_ptr<PoolJob> WorkerPool::findJob() {
  auto It = std::find_if(Jobs.begin(), Jobs.end(), [](const auto &J) { return J->hasUnclaimedWork(); });
  return It == Jobs.end() ? nullptr : *It;
}

bool WorkerPool::helpOnce() {
  WorkerPool *Pool = Instance.load(std::memory_order_acquire);
  if (!Pool)
    return false;
  std::shared_ptr<PoolJob> Job;
  {
    std::lock_guard<std::mutex> Lock(Pool->Mutex);
    Job = Pool->findJob();
  }
  if (!Job)
    return false;
  Job->work(currentWorkerResources());
  return true;
}

WorkerPool::WorkerPool(unsigned Count) {
  Threads.reserve(Count);
  for (unsigned I = 0; I < Count; ++I) {
    Threads.emplace_back([this, I] { workerMain(I); });
    Threads.back().detach();
  }
  CUSHIM_LOG_DEBUG("host backend: worker pool started with {} workers", Count);
}

void WorkerPool::submit(std::shared_ptr<PoolJob> Job, unsigned WakeCount) {
  {
    std::lock_guard<std::mutex> Lock(Mutex);
    Jobs.push_back(std::move(Job));
  }
  if (WakeCount >= Threads.size()) {
    Wake.notify_all();
    return;
  }
  for (unsigned I = 0; I < WakeCount; ++I)
    Wake.notify_one();
}

void WorkerPool::retire(PoolJob *Job) {
  std::lock_guard<std::mutex> Lock(Mutex);
  auto It = std::find_if(Jobs.begin(), Jobs.end(), [Job](const auto &J) { return J.get() == Job; });
  if (It != Jobs.end())
    Jobs.erase(It);
}

void WorkerPool::workerMain(unsigned Index) {
  WorkerResources &Resources = currentWorkerResources();
  Resources.Index = Index;
  for (;;) {
    std::shared_ptr<PoolJob> Job;
    {
      std::unique_lock<std::mutex> Lock(Mutex, std::defer_lock);
      auto HasJob = [&] { return (Job = findJob()) != nullptr; };
      spinThenLock(Lock, HasJob);
      Wake.wait(Lock, HasJob);
    }
    Job->work(Resources);
  }
}

} // namespace cushim::host
