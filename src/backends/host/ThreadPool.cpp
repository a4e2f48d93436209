// The worker pool shared by all queues of the host backend (see ThreadPool.h).
#include "ThreadPool.h"

#include "Engine.h"
#include "EngineInternal.h"

#include "support/Log.h"

#include <algorithm>

namespace cushim::host {

WorkerPool &WorkerPool::get() {
  // Leaked on purpose: workers sleep on its condition variable until the process ends.
  static WorkerPool *Pool = new WorkerPool(engineWorkerCount());
  return *Pool;
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
      std::unique_lock<std::mutex> Lock(Mutex);
      auto FindJob = [this] {
        return std::find_if(Jobs.begin(), Jobs.end(), [](const auto &J) { return J->hasUnclaimedWork(); });
      };
      Wake.wait(Lock, [&] { return FindJob() != Jobs.end(); });
      Job = *FindJob();
    }
    Job->work(Resources);
  }
}

} // namespace cushim::host
