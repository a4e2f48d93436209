// End-to-end: independent thread scheduling (sm_70+). Lanes of one warp progress independently, so code that
// deadlocks under lock-step SIMT terminates: an intra-warp spin lock taken by all 32 lanes with atomicCAS, a lane
// waiting for another lane of its warp in divergent code, one warp polling a flag another warp sets, and blocks
// waiting for flags written by other (co-resident) blocks.
#include "e2e_common.h"

#include <vector>

// Every thread of every block takes the same global lock with a naive CAS loop (all lanes of a warp contend),
// increments a plain counter and releases the lock.
__global__ void spinLock(int *Lock, volatile int *Counter, int *Order) {
  while (atomicCAS(Lock, 0, 1) != 0)
    ;
  int Seen = *Counter;
  *Counter = Seen + 1;
  Order[blockIdx.x * blockDim.x + threadIdx.x] = Seen;
  __threadfence();
  atomicExch(Lock, 0);
}

// Lane 0 waits (in its own branch) for a value lane 1 publishes; they meet again at __syncwarp.
__global__ void laneHandoff(const int *In, int *Out) {
  __shared__ volatile int Flag[4];
  __shared__ volatile int Data[4];
  unsigned Lane = threadIdx.x % 32, Warp = threadIdx.x / 32;
  if (Lane == 0) {
    Flag[Warp] = 0;
  }
  __syncwarp();
  int Got = -1;
  if (Lane == 0) {
    while (Flag[Warp] == 0)
      ;
    Got = Data[Warp];
  } else if (Lane == 1) {
    Data[Warp] = In[blockIdx.x * 4 + Warp] * 3;
    __threadfence_block();
    Flag[Warp] = 1;
  }
  __syncwarp();
  if (Lane == 0)
    Out[blockIdx.x * 4 + Warp] = Got;
}

// Warp 0 consumes what warp 3 produces, through a shared flag (no barrier between them).
__global__ void warpFlags(const int *In, int *Out) {
  __shared__ volatile int Ready;
  __shared__ int Value[32];
  unsigned Lane = threadIdx.x % 32, Warp = threadIdx.x / 32;
  if (threadIdx.x == 0)
    Ready = 0;
  __syncthreads();
  if (Warp == 0) {
    while (Ready == 0)
      ;
    __threadfence_block();
    Out[blockIdx.x * 32 + Lane] = Value[Lane] + 1;
  } else if (Warp == 3) {
    Value[Lane] = In[blockIdx.x * 32 + Lane] * 5;
    __threadfence_block();
    __syncwarp();
    if (Lane == 0)
      Ready = 1;
  }
}

// Block i waits until block i+1 published its value (the last block starts the chain), so blocks finish in reverse
// order of their index: every block must be resident at once.
__global__ void blockChain(volatile int *Flags, volatile int *Values, int *Out) {
  int B = blockIdx.x;
  int Next = 0;
  if (threadIdx.x == 0 && B + 1 < gridDim.x) {
    while (Flags[B + 1] == 0)
      ;
    Next = Values[B + 1];
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    Values[B] = Next + B + 1;
    __threadfence();
    Flags[B] = 1;
    Out[B] = Next;
  }
}

template <typename T> T *deviceZeros(size_t Count) {
  T *D;
  E2E_CHECK(cudaMalloc(&D, Count * sizeof(T)));
  E2E_CHECK(cudaMemset(D, 0, Count * sizeof(T)));
  return D;
}
template <typename T> std::vector<T> toHost(const T *D, size_t Count) {
  std::vector<T> H(Count);
  E2E_CHECK(cudaMemcpy(H.data(), D, Count * sizeof(T), cudaMemcpyDeviceToHost));
  return H;
}

int main() {
  int Failures = 0;
  { // intra-warp spin lock
    const int Blocks = 8, Threads = 64;
    int *Lock = deviceZeros<int>(1), *Counter = deviceZeros<int>(1), *Order = deviceZeros<int>(Blocks * Threads);
    spinLock<<<Blocks, Threads>>>(Lock, Counter, Order);
    E2E_CHECK_LAUNCH();
    auto C = toHost(Counter, 1);
    auto O = toHost(Order, Blocks * Threads);
    e2e::Mismatches M("spin lock taken by every lane of every warp");
    M.intAt(0, C[0], Blocks * Threads);
    std::vector<int> Seen(Blocks * Threads, 0);
    for (int V : O)
      if (V >= 0 && V < Blocks * Threads)
        ++Seen[V];
    for (int I = 0; I < Blocks * Threads; ++I)
      M.intAt(I, Seen[I], 1); // each counter value observed exactly once: mutual exclusion held
    Failures += !M.report();
  }
  { // lane handoff in divergent code
    const int Blocks = 3;
    std::vector<int> In(Blocks * 4);
    for (int I = 0; I < Blocks * 4; ++I)
      In[I] = I * 11 + 2;
    int *DIn;
    E2E_CHECK(cudaMalloc(&DIn, In.size() * sizeof(int)));
    E2E_CHECK(cudaMemcpy(DIn, In.data(), In.size() * sizeof(int), cudaMemcpyHostToDevice));
    int *DOut = deviceZeros<int>(Blocks * 4);
    laneHandoff<<<Blocks, 128>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * 4);
    e2e::Mismatches M("lane waits for a lane of its warp, then __syncwarp");
    for (int I = 0; I < Blocks * 4; ++I)
      M.intAt(I, Out[I], In[I] * 3);
    Failures += !M.report();
  }
  { // warp-to-warp flag
    const int Blocks = 4;
    std::vector<int> In(Blocks * 32);
    for (int I = 0; I < Blocks * 32; ++I)
      In[I] = I - 40;
    int *DIn;
    E2E_CHECK(cudaMalloc(&DIn, In.size() * sizeof(int)));
    E2E_CHECK(cudaMemcpy(DIn, In.data(), In.size() * sizeof(int), cudaMemcpyHostToDevice));
    int *DOut = deviceZeros<int>(Blocks * 32);
    warpFlags<<<Blocks, 128>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * 32);
    e2e::Mismatches M("warp polls a flag another warp sets");
    for (int I = 0; I < Blocks * 32; ++I)
      M.intAt(I, Out[I], In[I] * 5 + 1);
    Failures += !M.report();
  }
  { // block-to-block chain, within the co-resident limit
    int Sms = 0;
    E2E_CHECK(cudaDeviceGetAttribute(&Sms, cudaDevAttrMultiProcessorCount, 0));
    int PerSm = 0;
    E2E_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&PerSm, blockChain, 64, 0));
    int Blocks = std::min(Sms * PerSm, 24);
    int *Flags = deviceZeros<int>(Blocks), *Values = deviceZeros<int>(Blocks), *Out = deviceZeros<int>(Blocks);
    blockChain<<<Blocks, 64>>>(Flags, Values, Out);
    E2E_CHECK_LAUNCH();
    auto O = toHost(Out, Blocks);
    char Name[96];
    std::snprintf(Name, sizeof(Name), "%d blocks wait for the next block's flag", Blocks);
    e2e::Mismatches M(Name);
    int Want = 0;
    for (int B = Blocks - 1; B >= 0; --B) {
      M.intAt(B, O[B], Want);
      Want = Want + B + 1;
    }
    Failures += !M.report();
  }
  return e2e::finish("its", Failures);
}
