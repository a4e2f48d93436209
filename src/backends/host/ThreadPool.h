// The host backend's worker pool: one OS thread per hardware thread, created once and shared by every queue.
// Jobs (grids) are published to the pool; idle workers pick the oldest job that still has unclaimed work.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace cushim::host {

struct WorkerResources;

// Work the pool can help with. work() claims and runs pieces until none are left; it may be called by several
// workers at once and by the thread that submitted the job.
class PoolJob {
public:
  virtual ~PoolJob() = default;
  virtual void work(WorkerResources &Worker) = 0;
  virtual bool hasUnclaimedWork() const = 0;
};

class WorkerPool {
public:
  // The process-wide pool (started on first use, never destroyed: worker threads may outlive static destructors).
  static WorkerPool &get();

  unsigned size() const { return static_cast<unsigned>(Threads.size()); }

  // Publishes Job and wakes up to WakeCount idle workers.
  void submit(std::shared_ptr<PoolJob> Job, unsigned WakeCount);
  // Removes Job from the published list (workers already inside work() keep their reference).
  void retire(PoolJob *Job);

private:
  explicit WorkerPool(unsigned Count);
  void workerMain(unsigned Index);

  std::mutex Mutex;
  std::condition_variable Wake;
  std::vector<std::shared_ptr<PoolJob>> Jobs;
  std::vector<std::thread> Threads;
};

// The per-thread resources (shared memory arena, fiber stacks, thread records) of the calling thread: a pool worker
// or a queue thread helping with its own launch. Created on first use, reused across blocks and launches.
WorkerResources &currentWorkerResources();

} // namespace cushim::host
