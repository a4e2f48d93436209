// Compiling and loading kernel variants for launch shapes (Specialiser.h). One background thread per process
// compiles them in the order asked; its queue is dropped and the thread joined at exit.
#include "core/Specialiser.h"

#include "core/Module.h"
#include "hal/Hal.h"
#include "support/Config.h"
#include "support/Log.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <thread>

#include <pthread.h>
#include <sched.h>

namespace cushim::core {

namespace {

struct Job {
  std::shared_ptr<VariantSource> Source;
  Function *F;        // valid while Source is open
  std::string Kernel; // F's name, for use after F may have gone
  LaunchShape Shape;
};

void compileAndInstall(const Job &J) {
  auto Start = std::chrono::steady_clock::now();
  KernelVariant Variant{J.Kernel, {J.Shape.Block[0], J.Shape.Block[1], J.Shape.Block[2]}, J.Shape.DynamicShared};
  // Compiling touches only the source's immutable fields and the job: the module may go meanwhile.
  Expected<CompiledModule> Compiled = compilePtx(J.Source->Ptx, J.Source->ModuleName, J.Source->Target, Variant);
  std::string Shape = fmt::format("{}x{}x{} threads, {} bytes of dynamic shared memory", J.Shape.Block[0],
                                  J.Shape.Block[1], J.Shape.Block[2], J.Shape.DynamicShared);
  std::lock_guard<std::mutex> G(J.Source->Mutex);
  if (J.Source->Closed)
    return;
  if (!Compiled || Compiled->Kernels.size() != 1) {
    CUSHIM_LOG_WARN("kernel '{}': cannot compile its variant for {} ({}); launches of that shape run its generic code",
                    J.Kernel, Shape, Compiled ? "no kernel in the result" : Compiled.error().message());
    return;
  }
  const ptx::KernelInfo &K = Compiled->Kernels.front();
  cushim_hal_kernel_desc Desc{K.Name.c_str(), K.Flags, K.ParamSize, K.StaticSharedSize, K.LocalSize, K.MaxThreads};
  cushim_hal_kernel Loaded = nullptr;
  if (Error E = hal::check(hal::ops().module_add_variant(J.Source->Hal, Compiled->Object.data(),
                                                         Compiled->Object.size(), &Desc, &Loaded),
                           "module_add_variant");
      E.isError()) {
    CUSHIM_LOG_WARN("kernel '{}': cannot load its variant for {} ({}); launches of that shape run its generic code",
                    J.Kernel, Shape, E.message());
    return;
  }
  J.F->installVariant(J.Shape, Loaded);
  CUSHIM_LOG_DEBUG("kernel '{}': variant for {} loaded after {} ms", J.Kernel, Shape,
                   std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - Start)
                       .count());
}

// Set in the child of a fork: the worker thread does not exist there (its handle is leaked, never joined).
std::atomic<bool> ForkedChild{false};

class Worker {
public:
  Worker() {
    pthread_atfork(nullptr, nullptr, [] { ForkedChild.store(true); });
  }
  ~Worker() {
    stop();
    // glibc's pthread_cond_destroy waits for the threads that wait on the condition variable: in the child of a
    // fork made while the compile thread waited for work, that is a thread that does not exist (the child's exit
    // hung in 19 of 60 runs of e2e/fork_after_launch). The child leaves it alone.
    if (ForkedChild.load())
      (void)Wake.release();
  }

  // Drops the queue and waits for a compile in progress (LLVM must not be torn down under it), at normal priority:
  // on a busy host an idle-priority thread might not run at all. Later requests are ignored.
  void stop() {
    if (ForkedChild.load()) {
      (void)Thread.release(); // the child copied the handle, not the thread; its locks may be held by no one alive
      return;
    }
    {
      std::lock_guard<std::mutex> G(Mutex);
      Stop = true;
      Queue.clear();
    }
    Wake->notify_all();
    std::lock_guard<std::mutex> G(JoinMutex);
    if (Thread && Thread->get_id() != std::this_thread::get_id()) {
      sched_param Param{};
      pthread_setschedparam(Thread->native_handle(), SCHED_OTHER, &Param);
      Thread->join();
      Thread.reset();
    }
  }

  void push(Job J) {
    if (ForkedChild.load())
      return;
    std::lock_guard<std::mutex> G(Mutex);
    if (Stop)
      return;
    if (!Thread)
      Thread = std::make_unique<std::thread>([this] { run(); });
    Queue.push_back(std::move(J));
    Wake->notify_one();
  }

private:
  void run() {
    // Compiles only run on otherwise idle cores: on a small host they would take one from the engine's workers
    // while a kernel runs (the SGEMM benchmark ran at a third of its speed while its variant compiled).
    sched_param Param{};
    if (pthread_setschedparam(pthread_self(), SCHED_IDLE, &Param) != 0)
      CUSHIM_LOG_DEBUG("specialisation thread: cannot lower its scheduling priority; compiles compete with kernels");
    for (;;) {
      Job J;
      {
        std::unique_lock<std::mutex> G(Mutex);
        Wake->wait(G, [&] { return Stop || !Queue.empty(); });
        if (Stop)
          return;
        J = std::move(Queue.front());
        Queue.pop_front();
      }
      compileAndInstall(J);
    }
  }

  std::mutex Mutex, JoinMutex;
  std::unique_ptr<std::condition_variable> Wake = std::make_unique<std::condition_variable>();
  std::deque<Job> Queue;
  bool Stop = false;
  std::unique_ptr<std::thread> Thread;
};

Worker &worker() {
  static Worker W;
  return W;
}

// At exit, glibc runs the exiting thread's thread_local destructors before any static destructor. The worker's
// compiles may have created statics inside LLVM after the worker itself, which are destroyed before it: so the
// threads that ask for variants stop it from here, while everything still exists. (A thread that ends earlier
// stops specialisation for the rest of the process too; launches then keep the code they have.)
struct StopAtThreadExit {
  ~StopAtThreadExit() { worker().stop(); }
};
thread_local StopAtThreadExit ExitGuard;

} // namespace

void requestVariant(std::shared_ptr<VariantSource> Source, Function &F, const LaunchShape &Shape, bool Sync) {
  Job J{std::move(Source), &F, F.name(), Shape};
  if (Sync) {
    compileAndInstall(J);
  } else {
    (void)&ExitGuard; // constructs this thread's guard
    worker().push(std::move(J));
  }
}

// --- Function's side ----------------------------------------------------------------------------------------------

cushim_hal_kernel Function::requestVariant(const LaunchShape &Shape) {
  const Config &C = config();
  // Only block entries (tiers T0 and T1's regions) use the shape; .reqntid kernels have theirs already.
  bool BlockEntry = Info.Flags & (CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY | CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY);
  if (C.Specialise == "off" || C.Engine == "t2" || !BlockEntry || Info.ReqNTid)
    return Hal;
  // Except with "sync", only kernels launched a few times get variants: one pays off over repeated launches, and a
  // short program should not spend time on a compile it will never use.
  if (C.Specialise != "sync" && Launches.fetch_add(1, std::memory_order_relaxed) < MinLaunchesBeforeVariant)
    return Hal;
  bool Sync = C.Specialise != "async";
  std::shared_ptr<VariantSource> Source = M.variantSource(); // before VariantMutex: see installVariant's callers
  if (!Source)
    return Hal;
  {
    std::lock_guard<std::mutex> G(VariantMutex);
    if (Requested.size() >= MaxVariants || std::find(Requested.begin(), Requested.end(), Shape) != Requested.end())
      return Hal; // being compiled, failed, or too many shapes
    Requested.push_back(Shape);
  }
  core::requestVariant(std::move(Source), *this, Shape, Sync);
  cushim_hal_kernel Variant = Sync ? loadedVariant(Shape) : nullptr;
  return Variant ? Variant : Hal;
}

void Function::installVariant(const LaunchShape &Shape, cushim_hal_kernel Variant) {
  std::lock_guard<std::mutex> G(VariantMutex);
  unsigned Count = VariantCount.load(std::memory_order_relaxed);
  if (Count >= MaxVariants)
    return;
  Variants[Count] = {Shape, Variant};
  VariantCount.store(Count + 1, std::memory_order_release);
}

void Function::dropVariants() {
  std::lock_guard<std::mutex> G(VariantMutex);
  VariantCount.store(0, std::memory_order_release);
  Requested.clear();
}

} // namespace cushim::core
