// End-to-end: block barriers as CUDA (sm_70+) defines them: __syncthreads in loops with several (uniform) exits, in
// uniform branches that differ between blocks, inside non-inlined device functions, with threads that already
// exited; __syncthreads_count/_and/_or; and named barriers with thread counts (bar.sync/bar.arrive) for a
// producer/consumer warp-specialised pipeline.
#include "simt_common.h"

#include <vector>

using simt::toDevice;
using simt::toHost;

constexpr int Threads = 192;

// A loop whose trip count is data-dependent but uniform across the block, left by two different breaks, each
// preceded by a barrier.
__global__ void loopExits(const int *Limits, int *Out) {
  __shared__ int Buf[Threads];
  __shared__ int Steps;
  int Tid = threadIdx.x;
  int Limit = Limits[blockIdx.x]; // uniform per block
  int Acc = Tid;
  if (Tid == 0)
    Steps = 0;
  int Step = 0;
  while (true) {
    Buf[Tid] = Acc;
    __syncthreads();
    Acc += Buf[(Tid + 1) % Threads];
    ++Step;
    if (Step >= Limit) // first exit
      break;
    __syncthreads();
    if (Tid == 0)
      Steps += 1;
    __syncthreads();
    if (Steps * 3 > Limit) // second exit, read from shared memory after a barrier
      break;
  }
  __syncthreads();
  Out[blockIdx.x * Threads + Tid] = Acc + Step * 1000;
}

// Odd and even blocks take different branches, each with its own barriers.
__global__ void uniformBranches(int *Out) {
  __shared__ int Buf[Threads];
  int Tid = threadIdx.x;
  if (blockIdx.x % 2) {
    Buf[Tid] = Tid * 3;
    __syncthreads();
    Out[blockIdx.x * Threads + Tid] = Buf[Threads - 1 - Tid];
  } else {
    Buf[Threads - 1 - Tid] = Tid + 7;
    __syncthreads();
    int V = Buf[Tid];
    __syncthreads();
    Buf[Tid] = V * 2;
    __syncthreads();
    Out[blockIdx.x * Threads + Tid] = Buf[(Tid + 5) % Threads];
  }
}

// A block-wide sum in a device function the compiler must not inline: barriers inside a real call.
__device__ __noinline__ int blockSum(int *Buf, int V) {
  Buf[threadIdx.x] = V;
  __syncthreads();
  for (int S = 128; S > 0; S >>= 1) {
    if (threadIdx.x < S && threadIdx.x + S < blockDim.x)
      Buf[threadIdx.x] += Buf[threadIdx.x + S];
    __syncthreads();
  }
  int R = Buf[0];
  __syncthreads();
  return R;
}

__global__ void callBarriers(const int *In, int *Out) {
  __shared__ int Buf[256];
  int V = In[blockIdx.x * blockDim.x + threadIdx.x];
  int Total = 0;
  for (int Round = 0; Round < 3; ++Round)
    Total += blockSum(Buf, V + Round);
  Out[blockIdx.x * blockDim.x + threadIdx.x] = Total;
}

// Threads above Keep exit at once; the others keep using __syncthreads (exited threads count as arrived).
__global__ void exitedThreads(const int *Keep, int *Out) {
  __shared__ int Buf[Threads];
  int Tid = threadIdx.x;
  if (Tid >= Keep[blockIdx.x])
    return;
  int Acc = Tid;
  for (int Round = 0; Round < 4; ++Round) {
    Buf[Tid] = Acc;
    __syncthreads();
    Acc += Buf[(Tid + 1) % Keep[blockIdx.x]];
    __syncthreads();
  }
  Out[blockIdx.x * Threads + Tid] = Acc;
}

__global__ void syncCounts(const int *In, int *Out) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int P = In[I] % 3 == 0;
  int Count = __syncthreads_count(P);
  int All = __syncthreads_and(P);
  int Any = __syncthreads_or(P);
  int AllTrue = __syncthreads_and(1);
  int AnyFalse = __syncthreads_or(0);
  int OneThread = __syncthreads_count(threadIdx.x == 5);
  Out[I * 6 + 0] = Count;
  Out[I * 6 + 1] = All;
  Out[I * 6 + 2] = Any;
  Out[I * 6 + 3] = AllTrue;
  Out[I * 6 + 4] = AnyFalse;
  Out[I * 6 + 5] = OneThread;
}

// Warp specialisation: warps 0-1 produce into a double buffer, warps 2-3 consume it. Barrier 1 ("full") and
// barrier 2 ("empty") count all 128 threads; each side arrives at one and waits at the other.
__device__ void namedSync(int Id, int Count) { asm volatile("bar.sync %0, %1;" ::"r"(Id), "r"(Count) : "memory"); }
__device__ void namedArrive(int Id, int Count) { asm volatile("bar.arrive %0, %1;" ::"r"(Id), "r"(Count) : "memory"); }

constexpr int Stages = 6;
__global__ void producerConsumer(const int *In, int *Out) {
  __shared__ int Buf[64];
  int Tid = threadIdx.x;
  const int *Src = In + blockIdx.x * Stages * 64;
  if (Tid < 64) { // producers
    for (int S = 0; S < Stages; ++S) {
      if (S > 0)
        namedSync(2, 128); // wait until the consumers emptied the buffer
      Buf[Tid] = Src[S * 64 + Tid] * (S + 1);
      namedArrive(1, 128); // buffer full
    }
  } else { // consumers
    int Acc = 0;
    for (int S = 0; S < Stages; ++S) {
      namedSync(1, 128);
      Acc += Buf[127 - Tid] + Buf[(Tid * 7) % 64];
      if (S + 1 < Stages)
        namedArrive(2, 128);
    }
    Out[blockIdx.x * 64 + Tid - 64] = Acc;
  }
}

int main() {
  int Failures = 0;
  constexpr int Blocks = 4;
  e2e::Rng R(7);
  int *DOut;
  E2E_CHECK(cudaMalloc(&DOut, Blocks * Threads * 6 * sizeof(int)));

  { // loops with several exits
    std::vector<int> Limits = {1, 4, 9, 20};
    int *DLimits = toDevice(Limits);
    loopExits<<<Blocks, Threads>>>(DLimits, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * Threads);
    e2e::Mismatches M("barriers in a loop with two exits");
    for (int B = 0; B < Blocks; ++B) {
      std::vector<int> Acc(Threads);
      for (int T = 0; T < Threads; ++T)
        Acc[T] = T;
      int Step = 0, Steps = 0;
      while (true) {
        std::vector<int> Buf(Acc);
        for (int T = 0; T < Threads; ++T)
          Acc[T] += Buf[(T + 1) % Threads];
        ++Step;
        if (Step >= Limits[B])
          break;
        ++Steps;
        if (Steps * 3 > Limits[B])
          break;
      }
      for (int T = 0; T < Threads; ++T)
        M.intAt(B * Threads + T, Out[B * Threads + T], Acc[T] + Step * 1000);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DLimits));
  }

  { // uniform branches
    uniformBranches<<<Blocks, Threads>>>(DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * Threads);
    e2e::Mismatches M("barriers in uniform branches");
    for (int B = 0; B < Blocks; ++B)
      for (int T = 0; T < Threads; ++T) {
        int Want;
        if (B % 2) {
          Want = (Threads - 1 - T) * 3;
        } else {
          int J = (T + 5) % Threads;
          Want = ((Threads - 1 - J) + 7) * 2;
        }
        M.intAt(B * Threads + T, Out[B * Threads + T], Want);
      }
    Failures += !M.report();
  }

  { // barriers in a non-inlined function, block sizes below and at 256
    for (int Block : {256, 200, 64}) {
      std::vector<int> In(Blocks * Block);
      for (int &V : In)
        V = R.range(-100, 100);
      int *DIn = toDevice(In);
      callBarriers<<<Blocks, Block>>>(DIn, DOut);
      E2E_CHECK_LAUNCH();
      auto Out = toHost(DOut, Blocks * Block);
      char Name[64];
      std::snprintf(Name, sizeof(Name), "barriers in a __noinline__ function (block %d)", Block);
      e2e::Mismatches M(Name);
      for (int B = 0; B < Blocks; ++B) {
        int Sum = 0;
        for (int T = 0; T < Block; ++T)
          Sum += In[B * Block + T];
        for (int T = 0; T < Block; ++T)
          M.intAt(B * Block + T, Out[B * Block + T], 3 * Sum + 3 * Block);
      }
      Failures += !M.report();
      E2E_CHECK(cudaFree(DIn));
    }
  }

  { // exited threads
    std::vector<int> Keep = {Threads, 1, 33, 100};
    int *DKeep = toDevice(Keep);
    E2E_CHECK(cudaMemset(DOut, 0, Blocks * Threads * sizeof(int)));
    exitedThreads<<<Blocks, Threads>>>(DKeep, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * Threads);
    e2e::Mismatches M("barriers after threads exited");
    for (int B = 0; B < Blocks; ++B) {
      std::vector<int> Acc(Keep[B]);
      for (int T = 0; T < Keep[B]; ++T)
        Acc[T] = T;
      for (int Round = 0; Round < 4; ++Round) {
        std::vector<int> Buf(Acc);
        for (int T = 0; T < Keep[B]; ++T)
          Acc[T] += Buf[(T + 1) % Keep[B]];
      }
      for (int T = 0; T < Threads; ++T)
        M.intAt(B * Threads + T, Out[B * Threads + T], T < Keep[B] ? Acc[T] : 0);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DKeep));
  }

  { // __syncthreads_count/and/or
    std::vector<int> In(Blocks * Threads);
    for (int &V : In)
      V = R.range(0, 1000);
    In[Threads] = 3; // block 1: make all predicates true
    for (int T = 0; T < Threads; ++T)
      In[Threads + T] = 3 * T;
    for (int T = 0; T < Threads; ++T) // block 2: all false
      In[2 * Threads + T] = 3 * T + 1;
    int *DIn = toDevice(In);
    syncCounts<<<Blocks, Threads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * Threads * 6);
    e2e::Mismatches M("__syncthreads_count/and/or");
    for (int B = 0; B < Blocks; ++B) {
      int Count = 0;
      for (int T = 0; T < Threads; ++T)
        Count += In[B * Threads + T] % 3 == 0;
      for (int T = 0; T < Threads; ++T) {
        const int *O = &Out[(B * Threads + T) * 6];
        int K = (B * Threads + T) * 6;
        M.intAt(K, O[0], Count);
        M.intAt(K + 1, O[1], Count == Threads);
        M.intAt(K + 2, O[2], Count > 0);
        M.intAt(K + 3, O[3], 1);
        M.intAt(K + 4, O[4], 0);
        M.intAt(K + 5, O[5], 1);
      }
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
  }

  { // named barriers
    std::vector<int> In(Blocks * Stages * 64);
    for (int &V : In)
      V = R.range(0, 50);
    int *DIn = toDevice(In);
    producerConsumer<<<Blocks, 128>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * 64);
    e2e::Mismatches M("named barriers: producer/consumer warps");
    for (int B = 0; B < Blocks; ++B)
      for (int C = 64; C < 128; ++C) {
        int Acc = 0;
        for (int S = 0; S < Stages; ++S) {
          auto Buf = [&](int J) { return In[B * Stages * 64 + S * 64 + J] * (S + 1); };
          Acc += Buf(127 - C) + Buf((C * 7) % 64);
        }
        M.intAt(B * 64 + C - 64, Out[B * 64 + C - 64], Acc);
      }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
  }
  E2E_CHECK(cudaFree(DOut));
  return e2e::finish("barriers", Failures);
}
