// The host backend's worker pool: one OS thread per hardware thread, created once and shared by every queue.
// Jobs (grids) are published to the pool; idle workers pick the oldest job that still has unclaimed work.
#pragma once

#include <atomic>
#include <chrono>
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

// A pause in a spin-wait loop (lets the sibling hyper-thread run, saves power).
inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// One step of a bounded spin-wait: a few pauses, then a yield. On an idle machine the yield returns at once; on an
// overloaded one it hands the core to a runnable thread (possibly the one being waited for) instead of burning it.
inline void spinPause() {
  for (int I = 0; I < 16; ++I)
    cpuRelax();
  std::this_thread::yield();
}

// How long an idle worker, an idle queue thread or a synchronising thread polls before sleeping: launches come in
// bursts and synchronisations right after them, so a poll saves a futex wake-up (several microseconds) per round
// trip and costs at most this much CPU per idle gap.
constexpr auto SpinBeforeSleep = std::chrono::microseconds(50);

// Polls Done() (called with the mutex held) until it holds or SpinBeforeSleep has passed; returns with Lock (an
// unlocked unique_lock) locked either way, ready for a condition-variable wait on the same predicate.
template <typename Pred> void spinThenLock(std::unique_lock<std::mutex> &Lock, Pred Done) {
  auto Deadline = std::chrono::steady_clock::now() + SpinBeforeSleep;
  do {
    if (Lock.try_lock()) {
      if (Done())
        return;
      Lock.unlock();
    }
    spinPause();
  } while (std::chrono::steady_clock::now() < Deadline);
  Lock.lock();
}

class WorkerPool {
public:
  // The process-wide pool (started on first use, never destroyed: worker threads may outlive static destructors).
  static WorkerPool &get();

  // Lets the calling thread (one waiting in a synchronising call) run blocks of published grids until Done() or
  // until no grid has unclaimed blocks. Does nothing before the pool exists.
  template <typename Pred> static void helpUntil(Pred Done) {
    while (!Done())
      if (!helpOnce())
        return;
  }

  unsigned size() const { return static_cast<unsigned>(Threads.size()); }

  // Publishes Job and wakes up to WakeCount idle workers.
  void submit(std::shared_ptr<PoolJob> Job, unsigned WakeCount);
  // Removes Job from the published list (workers already inside work() keep their reference).
  void retire(PoolJob *Job);

private:
  explicit WorkerPool(unsigned Count);
  void workerMain(unsigned Index);
  // Runs the unclaimed work of one published job on the calling thread; false when there is none.
  static bool helpOnce();
  std::shared_ptr<PoolJob> findJob(); // with Mutex held

  static std::atomic<WorkerPool *> Instance; // set once get() created the pool

  std::mutex Mutex;
  std::condition_variable Wake;
  std::vector<std::shared_ptr<PoolJob>> Jobs;
  std::vector<std::thread> Threads;
};

// The per-thread resources (shared memory arena, fiber stacks, thread records) of the calling thread: a pool worker
// or a queue thread helping with its own launch. Created on first use, reused across blocks and launches.
WorkerResources &currentWorkerResources();

} // namespace cushim::host
