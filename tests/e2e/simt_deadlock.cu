// End-to-end: kernels that can never finish fail their launch with cudaErrorLaunchFailure instead of hanging the
// process, and the context then behaves as CUDA's sticky error does (every call fails until cudaDeviceReset). Pure
// deadlocks (every live thread blocked: a __syncthreads some threads wait elsewhere for, a bar.sync whose thread
// count is never met) are detected at once; livelocks (threads spinning on a flag nobody sets, a grid.sync a block
// never reaches, a lock never released) by the watchdog after CUSHIM_WATCHDOG_MS, which the test sets low.
#include "e2e_common.h"

#include <cooperative_groups.h>

#include <chrono>
#include <cstring>

namespace cg = cooperative_groups;

__device__ __forceinline__ void namedSync(unsigned Id) { asm volatile("bar.sync %0;" ::"r"(Id) : "memory"); }
__device__ __forceinline__ void namedSyncCount(unsigned Id, unsigned Count) {
  asm volatile("bar.sync %0, %1;" ::"r"(Id), "r"(Count) : "memory");
}

// Warp 0 waits at barrier 1 (all threads), the other warps at barrier 0 (__syncthreads): neither completes.
__global__ void unreachedSyncthreads(int *Out) {
  if (threadIdx.x < 32)
    namedSync(1);
  else
    __syncthreads();
  Out[threadIdx.x] = 1;
}

// Warp 0 waits for 64 threads at barrier 1; the other warps exit, and exits only release barriers for all threads.
__global__ void countNeverMet(int *Out) {
  if (threadIdx.x >= 32)
    return;
  namedSyncCount(1, 64);
  Out[threadIdx.x] = 1;
}

// Threads 64.. spin on a flag that thread 0 only sets after the second __syncthreads, which they never reach.
__global__ void spinBeforeSyncthreads(int *Out) {
  __shared__ volatile int Flag;
  if (threadIdx.x == 0)
    Flag = 0;
  __syncthreads();
  if (threadIdx.x >= 64)
    while (Flag == 0) {
    }
  __syncthreads();
  if (threadIdx.x == 0)
    Flag = 1;
  Out[threadIdx.x] = 1;
}

// The last block returns before grid.sync(): the others wait for it forever.
__global__ void gridSyncMissingBlock(int *Out) {
  if (blockIdx.x == gridDim.x - 1)
    return;
  cg::this_grid().sync();
  Out[blockIdx.x * blockDim.x + threadIdx.x] = 1;
}

// Lane 0 takes a spin lock and exits without releasing it; the other lanes spin forever.
__global__ void lockNeverReleased(int *Lock, int *Out) {
  if (threadIdx.x == 0) {
    while (atomicCAS(Lock, 0, 1) != 0) {
    }
    return;
  }
  while (atomicCAS(Lock, 0, 1) != 0) {
  }
  Out[threadIdx.x] = 1;
  atomicExch(Lock, 0);
}

__global__ void healthy(int *Out) { Out[threadIdx.x] = threadIdx.x * 3; }

int main() {
  const char *Limit = std::getenv("CUSHIM_WATCHDOG_MS");
  double LimitMs = Limit ? std::atof(Limit) : 60000; // the default
  std::printf("  (CUSHIM_WATCHDOG_MS=%s)\n", Limit ? Limit : "unset");

  // Runs one hanging kernel through Launch, checks the launch failure and the sticky state, then resets the device
  // and checks that a fresh context runs kernels again.
  auto check = [&](const char *Name, bool Livelock, auto Launch) {
    int *DOut = nullptr;
    E2E_CHECK(cudaMalloc(&DOut, 4096 * sizeof(int)));
    E2E_CHECK(cudaMemset(DOut, 0, 4096 * sizeof(int)));
    auto Start = std::chrono::steady_clock::now();
    cudaError_t Launched = Launch(DOut);
    cudaError_t Synced = cudaDeviceSynchronize();
    double Ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - Start).count();
    char What[160];
    std::snprintf(What, sizeof(What), "%s: launch accepted", Name);
    e2e::expectCode(Launched, cudaSuccess, What);
    std::snprintf(What, sizeof(What), "%s: cudaDeviceSynchronize", Name);
    e2e::expectCode(Synced, cudaErrorLaunchFailure, What);
    if (Livelock) {
      std::snprintf(What, sizeof(What), "%s: detected by the watchdog after %.0f ms (limit %.0f ms)", Name, Ms, LimitMs);
      e2e::expect(Ms >= LimitMs * 0.9, What);
    } else {
      std::snprintf(What, sizeof(What), "%s: detected at once (%.0f ms), without waiting for the watchdog", Name, Ms);
      e2e::expect(Ms < LimitMs * 0.9, What);
    }
    // Sticky: every later call of the context fails the same way.
    int Host[32] = {};
    std::snprintf(What, sizeof(What), "%s: cudaMemcpy afterwards (sticky)", Name);
    e2e::expectCode(cudaMemcpy(DOut, Host, sizeof(Host), cudaMemcpyHostToDevice), cudaErrorLaunchFailure, What);
    healthy<<<1, 32>>>(DOut);
    std::snprintf(What, sizeof(What), "%s: next launch (sticky)", Name);
    e2e::expectCode(cudaGetLastError(), cudaErrorLaunchFailure, What);
    std::snprintf(What, sizeof(What), "%s: cudaDeviceSynchronize again (sticky)", Name);
    e2e::expectCode(cudaDeviceSynchronize(), cudaErrorLaunchFailure, What);
    std::snprintf(What, sizeof(What), "%s: cudaDeviceReset", Name);
    e2e::expectCode(cudaDeviceReset(), cudaSuccess, What);
    // The runtime's per-thread last error is not device state: NVIDIA's runtime returns the failed synchronisation's
    // error once more after the reset (observed with its static cudart), then cudaSuccess.
    std::snprintf(What, sizeof(What), "%s: cudaGetLastError after the reset (the last error survives it)", Name);
    e2e::expectCode(cudaGetLastError(), cudaErrorLaunchFailure, What);
    std::snprintf(What, sizeof(What), "%s: cudaGetLastError again", Name);
    e2e::expectCode(cudaGetLastError(), cudaSuccess, What);
    // A fresh context works again.
    E2E_CHECK(cudaMalloc(&DOut, 32 * sizeof(int)));
    healthy<<<1, 32>>>(DOut);
    E2E_CHECK_LAUNCH();
    E2E_CHECK(cudaMemcpy(Host, DOut, sizeof(Host), cudaMemcpyDeviceToHost));
    bool Ok = true;
    for (int I = 0; I < 32; ++I)
      Ok &= Host[I] == I * 3;
    std::snprintf(What, sizeof(What), "%s: kernels run again after the reset", Name);
    e2e::expect(Ok, What);
    E2E_CHECK(cudaFree(DOut));
  };

  check("__syncthreads that warp 0 never reaches (it waits at bar.sync 1)", false, [](int *Out) {
    unreachedSyncthreads<<<2, 128>>>(Out);
    return cudaGetLastError();
  });
  check("bar.sync 1, 64 reached by one warp, the others exited", false, [](int *Out) {
    countNeverMet<<<1, 128>>>(Out);
    return cudaGetLastError();
  });
  check("threads spinning before a __syncthreads", true, [](int *Out) {
    spinBeforeSyncthreads<<<3, 128>>>(Out);
    return cudaGetLastError();
  });
  check("grid.sync() that one block never reaches", true, [](int *Out) {
    void *Args[] = {&Out};
    return cudaLaunchCooperativeKernel(reinterpret_cast<const void *>(gridSyncMissingBlock), dim3(4), dim3(64), Args,
                                       0, nullptr);
  });
  check("spin lock never released (intra-warp)", true, [](int *Out) {
    int *Lock = Out + 2048;
    lockNeverReleased<<<1, 32>>>(Lock, Out);
    return cudaGetLastError();
  });
  return e2e::finish("simt_deadlock", e2e::Failures);
}
