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
// workers at once and by the thread that submitted the job. The submitter owns the job (no allocation per grid);
// retire() waits until no other thread is inside work() before the job may go away.
class PoolJob {
public:
  virtual void work(WorkerResources &Worker) = 0;
  virtual bool hasUnclaimedWork() const = 0;

protected:
  ~PoolJob() = default;

private:
  friend class WorkerPool;
  std::atomic<unsigned> Inside{0}; // pool threads inside work(); entered with the pool's mutex held
  unsigned MaxInside = 0;          // how many pool threads may enter besides the submitter (set by submit)
};

// A pause in a spin-wait loop (lets the sibling hyper-thread run, saves power).
inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// How long an idle worker, an idle queue thread or a synchronising thread polls before sleeping: launches come in
// bursts and synchronisations right after them, so a poll saves a futex wake-up (several microseconds) per round
// trip and costs at most this much CPU per idle gap. Short, because on an oversubscribed machine the poller may
// hold the core the awaited thread needs.
constexpr auto SpinBeforeSleep = std::chrono::microseconds(20);

// Polls Done() with pauses until it holds (true) or SpinBeforeSleep has passed (false). Never sched_yield: under
// Linux's EEVDF scheduler a yield hands the rest of the time slice to any other runnable task, which on a loaded
// machine costs milliseconds per call (measured: 1,000 launch+sync rounds took 8 s with two CPU hogs); a poller that
// gives up sleeps on a futex instead, which frees the core for the thread it waits for.
template <typename Pred> bool spinUntil(Pred Done) {
  auto Deadline = std::chrono::steady_clock::now() + SpinBeforeSleep;
  for (;;) {
    for (int I = 0; I < 16; ++I) {
      if (Done())
        return true;
      cpuRelax();
    }
    if (std::chrono::steady_clock::now() >= Deadline)
      return false;
  }
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

  // Publishes Job: at most MaxHelpers pool threads (workers, synchronising threads that help) work on it besides
  // the submitter, so a grid never has more threads than the machine has hardware threads. Wakes that many workers.
  void submit(PoolJob &Job, unsigned MaxHelpers);
  // Removes Job from the published list and waits until no pool thread is inside its work() any more.
  void retire(PoolJob &Job);

private:
  explicit WorkerPool(unsigned Count);
  void workerMain(unsigned Index);
  // Runs the unclaimed work of one published job on the calling thread; false when there is none.
  static bool helpOnce();
  // With Mutex held: the oldest job with unclaimed work, entered (the caller leaves it after work()).
  PoolJob *enterJob();
  static void leaveJob(PoolJob &Job) { Job.Inside.fetch_sub(1, std::memory_order_release); }

  static std::atomic<WorkerPool *> Instance; // set once get() created the pool

  std::mutex Mutex;
  std::condition_variable Wake;
  std::vector<PoolJob *> Jobs; // capacity kept: publishing a grid does not allocate
  std::atomic<size_t> Published{0}; // Jobs.size(), for idle workers to poll without the mutex
  std::vector<std::thread> Threads;
};

// The per-thread resources (shared memory arena, fiber stacks, thread records) of the calling thread: a pool worker
// or a queue thread helping with its own launch. Created on first use, reused across blocks and launches.
WorkerResources &currentWorkerResources();

} // namespace cushim::host
