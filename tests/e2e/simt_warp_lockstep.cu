// End-to-end: warp-synchronous code, written for the lanes of a warp executing each instruction together and
// synchronised only by `volatile` shared memory (no __syncwarp): the last-warp unrolled reduction of NVIDIA's
// "Optimizing Parallel Reduction" (reduce6), a warp scan that reads its neighbour's slot in the statement that
// writes its own, and a half-warp reduction in a non-inlined function (generic volatile accesses) under a branch
// that splits the warp. On a GPU the converged lanes step together and these give exact sums and scans; cuda_shim
// makes each volatile access that may reach shared memory a point where the warp's lanes step together
// (docs/SIMT.md). References are CPU code; the runs repeat on every tier.
#include "simt_common.h"

#include <cstdint>
#include <vector>

namespace {

using simt::toDevice;
using simt::checkInts;
using simt::toHost;

template <unsigned BlockSize> __device__ void warpReduce(volatile int *S, unsigned Tid) {
  if (BlockSize >= 64)
    S[Tid] += S[Tid + 32];
  S[Tid] += S[Tid + 16];
  S[Tid] += S[Tid + 8];
  S[Tid] += S[Tid + 4];
  S[Tid] += S[Tid + 2];
  S[Tid] += S[Tid + 1];
}

// reduce6: two loads per thread, a shared-memory tree down to 64 values, then the last warp without barriers
// (BlockSize >= 64).
template <unsigned BlockSize> __global__ void reduceLastWarp(const int *In, int *Out, unsigned N) {
  __shared__ int S[BlockSize];
  unsigned Tid = threadIdx.x, I = blockIdx.x * (BlockSize * 2) + Tid;
  int V = I < N ? In[I] : 0;
  if (I + BlockSize < N)
    V += In[I + BlockSize];
  S[Tid] = V;
  __syncthreads();
  for (unsigned Stride = BlockSize / 2; Stride > 32; Stride >>= 1) {
    if (Tid < Stride)
      S[Tid] += S[Tid + Stride];
    __syncthreads();
  }
  if (Tid < 32)
    warpReduce<BlockSize>(S, Tid);
  if (Tid == 0)
    Out[blockIdx.x] = S[0];
}

// Inclusive scan of each warp's 32 values (Hillis-Steele): each lane reads the slot its left neighbour writes in the
// same statement, so only lanes that read before any writes give a scan.
__global__ void warpScan(const int *In, int *Out) {
  __shared__ int Buffer[256];
  volatile int *S = Buffer;
  unsigned Tid = threadIdx.x, Lane = Tid & 31;
  S[Tid] = In[blockIdx.x * blockDim.x + Tid];
  if (Lane >= 1)
    S[Tid] += S[Tid - 1];
  if (Lane >= 2)
    S[Tid] += S[Tid - 2];
  if (Lane >= 4)
    S[Tid] += S[Tid - 4];
  if (Lane >= 8)
    S[Tid] += S[Tid - 8];
  if (Lane >= 16)
    S[Tid] += S[Tid - 16];
  Out[blockIdx.x * blockDim.x + Tid] = S[Tid];
}

// The same scan in blocks of one warp, every lane in every statement (a zeroed slot below each value): each lane
// reads its neighbour's slot before any lane writes its own. Tier T1 runs it as regions, which must keep the cut
// between a read of slot t - k and the write of slot t (and may drop the others: the addresses follow tid.x).
__global__ void warpScanPadded(const int *In, int *Out) {
  __shared__ int Buffer[64];
  unsigned Tid = threadIdx.x;
  volatile int *S = Buffer + 32;
  S[int(Tid) - 32] = 0;
  S[Tid] = In[blockIdx.x * blockDim.x + Tid];
  for (int Offset = 1; Offset < 32; Offset *= 2)
    S[Tid] += S[int(Tid) - Offset];
  Out[blockIdx.x * blockDim.x + Tid] = S[Tid];
}

// A generic volatile pointer (the function is not inlined): lanes 0-15 fold their 16 values to lane 0.
__device__ __noinline__ void halfWarpSum(volatile int *S, unsigned Lane) {
  S[Lane] += S[Lane + 8];
  S[Lane] += S[Lane + 4];
  S[Lane] += S[Lane + 2];
  S[Lane] += S[Lane + 1];
}

__global__ void halfWarpReduce(const int *In, int *Out) {
  __shared__ int Buffer[128 + 8];
  unsigned Tid = threadIdx.x, Lane = Tid & 31, Warp = Tid >> 5;
  Buffer[Tid] = In[blockIdx.x * blockDim.x + Tid];
  __syncthreads();
  if (Lane < 16)
    halfWarpSum(Buffer + Warp * 32, Lane);
  __syncthreads();
  if (Lane == 0)
    Out[blockIdx.x * (blockDim.x / 32) + Warp] = Buffer[Warp * 32];
}

// Every warp folds its 32 values with a loop of warp steps (a zeroed slot above each value), then the block adds
// its warps' sums after a barrier. Tier T1 runs the steps' regions warp by warp: each warp must see its own loop
// counter, not the one the warp before it stepped.
__global__ void warpSumsInLoop(const int *In, int *Out, int *Lanes) {
  __shared__ int Buffer[8 * 64];
  __shared__ int Sums[8];
  volatile int *S = Buffer;
  unsigned Tid = threadIdx.x, Lane = Tid & 31, Warp = Tid >> 5, Base = Warp * 64;
  S[Base + Lane] = In[blockIdx.x * blockDim.x + Tid];
  S[Base + 32 + Lane] = 0;
#pragma unroll 1
  for (unsigned K = 16; K > 0; K >>= 1)
    S[Base + Lane] += S[Base + Lane + K];
  Lanes[blockIdx.x * blockDim.x + Tid] = S[Base + Lane];
  if (Lane == 0)
    Sums[Warp] = Buffer[Base]; // not a warp step: one lane
  __syncthreads();
  if (Tid == 0) {
    int Total = 0;
#pragma unroll
    for (unsigned W = 0; W < 8; ++W) // blocks of 256 threads
      Total += Sums[W];
    Out[blockIdx.x] = Total;
  }
}

// A value computed only by the second warp after a barrier and used across its warp steps: the steps' regions run
// that warp alone, the block's other regions all threads, and the value must reach the steps from the lanes that
// computed it.
__global__ void stepsUnderWarpBranch(int *Out, int Scale) {
  __shared__ int Buffer[128];
  volatile int *S = Buffer;
  unsigned Tid = threadIdx.x;
  S[Tid] = Tid;
  __syncthreads();
  if (Tid / 32 == 1) {
    int U = 7; // from a loop, so that it is kept and not computed again where used
#pragma unroll 1
    for (int I = 0; I < Scale; ++I)
      U += static_cast<int>(blockIdx.x) * I + 1;
    S[Tid] += U;
    S[Tid] += S[(Tid + 1) & 127] * U; // reads a higher lane's slot after writing its own: a step stays between
    S[Tid] -= U;
  }
  __syncthreads();
  Out[blockIdx.x * blockDim.x + Tid] = S[Tid];
}

std::vector<int> inputs(int N, uint32_t Seed) {
  e2e::Rng R(Seed);
  std::vector<int> In(N);
  for (int &V : In)
    V = R.range(-1000, 1000);
  return In;
}

template <unsigned BlockSize> void checkReduce(unsigned N) {
  std::vector<int> In = inputs(static_cast<int>(N), N + BlockSize);
  unsigned Blocks = (N + 2 * BlockSize - 1) / (2 * BlockSize);
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(Blocks, -1));
  reduceLastWarp<BlockSize><<<Blocks, BlockSize>>>(DIn, DOut, N);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Blocks, 0);
  for (unsigned I = 0; I < N; ++I)
    Want[I / (2 * BlockSize)] += In[I];
  char Name[96];
  std::snprintf(Name, sizeof(Name), "reduce6 last-warp sums, %u threads per block, %u elements", BlockSize, N);
  checkInts(Name, toHost(DOut, Blocks), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

void checkScan(int Blocks, int Threads, bool Padded) {
  int N = Blocks * Threads;
  std::vector<int> In = inputs(N, static_cast<uint32_t>(N * 3));
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(N, -1));
  if (Padded)
    warpScanPadded<<<Blocks, Threads>>>(DIn, DOut);
  else
    warpScan<<<Blocks, Threads>>>(DIn, DOut);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(N);
  for (int I = 0; I < N; ++I)
    Want[I] = In[I] + (I % 32 ? Want[I - 1] : 0);
  char Name[96];
  std::snprintf(Name, sizeof(Name), "volatile warp scans%s <<<%d, %d>>>", Padded ? " (all lanes)" : "", Blocks,
                Threads);
  checkInts(Name, toHost(DOut, N), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

void checkHalfWarp(int Blocks) {
  constexpr int Threads = 128;
  int N = Blocks * Threads, Warps = N / 32;
  std::vector<int> In = inputs(N, 77);
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(Warps, -1));
  halfWarpReduce<<<Blocks, Threads>>>(DIn, DOut);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Warps, 0);
  for (int W = 0; W < Warps; ++W)
    for (int L = 0; L < 16; ++L)
      Want[W] += In[W * 32 + L];
  checkInts("half-warp sums through a generic volatile pointer", toHost(DOut, Warps), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

// The lanes step together: each step reads every lane's slot before any lane writes.
void checkWarpSumsInLoop(int Blocks) {
  constexpr int Threads = 256;
  int N = Blocks * Threads;
  std::vector<int> In = inputs(N, 91);
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(Blocks, -1)), *DLanes = toDevice(std::vector<int>(N, -1));
  warpSumsInLoop<<<Blocks, Threads>>>(DIn, DOut, DLanes);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Blocks, 0), WantLanes(N);
  for (int W = 0; W < N / 32; ++W) {
    std::vector<int> Slots(64, 0);
    for (int L = 0; L < 32; ++L)
      Slots[L] = In[W * 32 + L];
    for (int K = 16; K > 0; K >>= 1) {
      std::vector<int> Before = Slots;
      for (int L = 0; L < 32; ++L)
        Slots[L] = Before[L] + Before[L + K];
    }
    for (int L = 0; L < 32; ++L)
      WantLanes[W * 32 + L] = Slots[L];
    Want[W * 32 / Threads] += Slots[0];
  }
  checkInts("warp sums in a loop of warp steps, every lane", toHost(DLanes, N), WantLanes);
  checkInts("warp sums in a loop of warp steps, per block", toHost(DOut, Blocks), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
  E2E_CHECK(cudaFree(DLanes));
}

void checkStepsUnderWarpBranch(int Blocks, int Scale) {
  constexpr int Threads = 128;
  int *DOut = toDevice(std::vector<int>(Blocks * Threads, -1));
  stepsUnderWarpBranch<<<Blocks, Threads>>>(DOut, Scale);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Blocks * Threads);
  for (int B = 0; B < Blocks; ++B) {
    int U = 7;
    for (int I = 0; I < Scale; ++I)
      U += B * I + 1;
    std::vector<int> S(Threads);
    for (int T = 0; T < Threads; ++T)
      S[T] = T + (T / 32 == 1 ? U : 0);
    std::vector<int> Before = S;
    for (int T = 32; T < 64; ++T)
      S[T] = Before[T] + Before[(T + 1) & 127] * U - U;
    for (int T = 0; T < Threads; ++T)
      Want[B * Threads + T] = S[T];
  }
  checkInts("warp steps using a value computed under a warp's branch", toHost(DOut, Blocks * Threads), Want);
  E2E_CHECK(cudaFree(DOut));
}

} // namespace

int main() {
  checkReduce<256>(1 << 16);
  checkReduce<256>(100000); // a partial last block
  checkReduce<128>(5000);
  checkReduce<64>(3000);
  checkScan(6, 256, false);
  checkScan(3, 96, false);
  checkScan(7, 32, true);
  checkHalfWarp(5);
  checkWarpSumsInLoop(5);
  checkStepsUnderWarpBranch(4, 3);
  return e2e::finish("simt_warp_lockstep", e2e::Failures);
}
