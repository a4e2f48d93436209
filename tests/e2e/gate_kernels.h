// A gate for ordering tests of streams, events and graphs: waitGate spins on the device until the host opens a
// pinned flag, so work queued behind it is provably still pending while the test looks. Include after e2e_common.h.
#pragma once

#include <atomic>
#include <chrono>
#include <thread>

__device__ inline unsigned long long globalTimerNs() {
  unsigned long long T;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(T));
  return T;
}

// Spins until *Flag != 0, then writes Value to *Out (if given); after 30 s it gives up and writes -1, so that a
// broken build fails instead of hanging.
__global__ void waitGate(const volatile int *Flag, int *Out, int Value) {
  unsigned long long Start = globalTimerNs();
  while (*Flag == 0) {
    if (globalTimerNs() - Start > 30ull * 1000 * 1000 * 1000) {
      if (Out)
        *Out = -1;
      return;
    }
    __nanosleep(1000);
  }
  if (Out)
    *Out = Value;
}

// The host side: a pinned flag, closed until open().
struct Gate {
  volatile int *Flag = nullptr;
  Gate() {
    // void **: the typed cudaMallocHost overload of cuda_runtime.h is cudaHostAlloc, keep to the plain entry point
    E2E_CHECK(cudaMallocHost((void **)&Flag, sizeof(int)));
    *Flag = 0;
  }
  ~Gate() { cudaFreeHost(const_cast<int *>(Flag)); }
  void open() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    *Flag = 1;
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
  // Opens the gate from another thread after a delay, for checks where the host itself blocks.
  std::thread openLater(int Ms) {
    return std::thread([this, Ms] {
      std::this_thread::sleep_for(std::chrono::milliseconds(Ms));
      open();
    });
  }
};
