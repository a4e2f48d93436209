// End-to-end: atomics and the memory model with blocks that really run in parallel: atom/red on global and shared
// memory from many blocks at once (exact results), the "last block" __threadfence reduction of NVIDIA's
// threadFenceReduction sample, and a single-pass scan with decoupled look-back (blocks wait for their predecessors).
#include "simt_common.h"

#include <algorithm>
#include <vector>

struct Totals {
  unsigned long long Add64;
  int Add, Min, Max;
  unsigned And, Or, Xor, Inc, Dec, Cas;
  float FAdd;
  int Exch;
};

// Every thread does one of each atomic on global memory; the block also does them on shared memory first and
// folds its shared results into global memory with red (results unused).
__global__ void manyAtomics(const int *In, Totals *T, int *SharedMin, unsigned *SharedOr) {
  __shared__ int SMin;
  __shared__ unsigned SOr, SAdd;
  if (threadIdx.x == 0) {
    SMin = 1 << 30;
    SOr = 0;
    SAdd = 0;
  }
  __syncthreads();
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int V = In[I];
  atomicAdd(&T->Add64, static_cast<unsigned long long>(V) << 20);
  int Old = atomicAdd(&T->Add, V);
  (void)Old;
  atomicMin(&T->Min, V - 500);
  atomicMax(&T->Max, V * 3);
  atomicAnd(&T->And, ~(1u << (V % 32)));
  atomicOr(&T->Or, 1u << (V % 31));
  atomicXor(&T->Xor, static_cast<unsigned>(V) * 2654435761u);
  atomicInc(&T->Inc, 1000u); // wraps to 0 after 1000
  atomicDec(&T->Dec, 0xffffffffu);
  unsigned Seen = T->Cas, Prev;
  do { // a CAS loop adding V
    Prev = Seen;
    Seen = atomicCAS(&T->Cas, Prev, Prev + static_cast<unsigned>(V));
  } while (Seen != Prev);
  atomicAdd(&T->FAdd, static_cast<float>(V % 8)); // small integers: the float sum is exact
  atomicExch(&T->Exch, 7);
  atomicMin(&SMin, V);
  atomicOr(&SOr, 1u << (V % 17));
  atomicAdd(&SAdd, 1u);
  __syncthreads();
  if (threadIdx.x == 0) {
    SharedMin[blockIdx.x] = SMin + static_cast<int>(SAdd) * 100000;
    SharedOr[blockIdx.x] = SOr;
  }
}

// threadFenceReduction: each block writes its partial sum, fences, and takes a ticket; the block that draws the last
// ticket sums all partials.
__device__ unsigned RetirementCount = 0;
__global__ void fenceReduction(const int *In, int N, volatile int *Partials, int *Result) {
  __shared__ int Buf[256];
  __shared__ bool IsLast;
  int Sum = 0;
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += blockDim.x * gridDim.x)
    Sum += In[I];
  Buf[threadIdx.x] = Sum;
  __syncthreads();
  for (int S = blockDim.x / 2; S > 0; S >>= 1) {
    if (threadIdx.x < S)
      Buf[threadIdx.x] += Buf[threadIdx.x + S];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    Partials[blockIdx.x] = Buf[0];
    __threadfence();
    unsigned Ticket = atomicInc(&RetirementCount, gridDim.x);
    IsLast = Ticket == gridDim.x - 1;
  }
  __syncthreads();
  if (IsLast) {
    int Total = 0;
    for (int I = threadIdx.x; I < gridDim.x; I += blockDim.x)
      Total += Partials[I];
    Buf[threadIdx.x] = Total;
    __syncthreads();
    for (int S = blockDim.x / 2; S > 0; S >>= 1) {
      if (threadIdx.x < S)
        Buf[threadIdx.x] += Buf[threadIdx.x + S];
      __syncthreads();
    }
    if (threadIdx.x == 0) {
      *Result = Buf[0];
      RetirementCount = 0;
    }
  }
}

// Single-pass inclusive scan with decoupled look-back. Tiles are numbered by an atomic counter (so a tile only waits
// for tiles that started before it); each publishes its aggregate (flag 1) and then its inclusive prefix (flag 2).
constexpr int ScanBlock = 128;
__device__ unsigned TileCounter = 0;
__global__ void lookbackScan(const int *In, int *Out, int N, volatile unsigned long long *Status) {
  __shared__ int Buf[ScanBlock];
  __shared__ unsigned Tile;
  __shared__ int Exclusive;
  if (threadIdx.x == 0)
    Tile = atomicAdd(&TileCounter, 1);
  __syncthreads();
  int I = Tile * ScanBlock + threadIdx.x;
  Buf[threadIdx.x] = I < N ? In[I] : 0;
  __syncthreads();
  for (int Off = 1; Off < ScanBlock; Off <<= 1) { // Hillis-Steele within the tile
    int V = threadIdx.x >= Off ? Buf[threadIdx.x - Off] : 0;
    __syncthreads();
    Buf[threadIdx.x] += V;
    __syncthreads();
  }
  if (threadIdx.x == 0)
    Exclusive = simt::lookbackPrefix(Status, Tile, Buf[ScanBlock - 1]);
  __syncthreads();
  if (I < N)
    Out[I] = Buf[threadIdx.x] + Exclusive;
}

int main() {
  int Failures = 0;
  e2e::Rng R(2024);
  { // many atomics
    const int Blocks = 64, Threads = 256, N = Blocks * Threads;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(0, 999);
    int *DIn;
    E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
    E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));
    Totals Init{};
    Init.Min = 1 << 30;
    Init.Max = -1;
    Init.And = ~0u;
    Init.Dec = 5;
    Totals *DT;
    E2E_CHECK(cudaMalloc(&DT, sizeof(Totals)));
    E2E_CHECK(cudaMemcpy(DT, &Init, sizeof(Totals), cudaMemcpyHostToDevice));
    int *DSMin;
    unsigned *DSOr;
    E2E_CHECK(cudaMalloc(&DSMin, Blocks * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DSOr, Blocks * sizeof(unsigned)));
    manyAtomics<<<Blocks, Threads>>>(DIn, DT, DSMin, DSOr);
    E2E_CHECK_LAUNCH();
    Totals Got;
    E2E_CHECK(cudaMemcpy(&Got, DT, sizeof(Totals), cudaMemcpyDeviceToHost));
    std::vector<int> SMin(Blocks);
    std::vector<unsigned> SOr(Blocks);
    E2E_CHECK(cudaMemcpy(SMin.data(), DSMin, Blocks * sizeof(int), cudaMemcpyDeviceToHost));
    E2E_CHECK(cudaMemcpy(SOr.data(), DSOr, Blocks * sizeof(unsigned), cudaMemcpyDeviceToHost));
    Totals Want = Init;
    double FSum = 0;
    for (int V : In) {
      Want.Add64 += static_cast<unsigned long long>(V) << 20;
      Want.Add += V;
      Want.Min = std::min(Want.Min, V - 500);
      Want.Max = std::max(Want.Max, V * 3);
      Want.And &= ~(1u << (V % 32));
      Want.Or |= 1u << (V % 31);
      Want.Xor ^= static_cast<unsigned>(V) * 2654435761u;
      Want.Inc = Want.Inc >= 1000u ? 0 : Want.Inc + 1;
      Want.Dec = (Want.Dec == 0 || Want.Dec > 0xffffffffu) ? 0xffffffffu : Want.Dec - 1;
      Want.Cas += static_cast<unsigned>(V);
      FSum += V % 8;
    }
    e2e::Mismatches M("global atomics from 64 blocks");
    M.intAt(0, static_cast<long long>(Got.Add64), static_cast<long long>(Want.Add64));
    M.intAt(1, Got.Add, Want.Add);
    M.intAt(2, Got.Min, Want.Min);
    M.intAt(3, Got.Max, Want.Max);
    M.intAt(4, Got.And, Want.And);
    M.intAt(5, Got.Or, Want.Or);
    M.intAt(6, Got.Xor, Want.Xor);
    M.intAt(7, Got.Inc, Want.Inc);
    M.intAt(8, Got.Dec, Want.Dec);
    M.intAt(9, Got.Cas, Want.Cas);
    M.realAt(10, Got.FAdd, FSum, 0, 0);
    M.intAt(11, Got.Exch, 7);
    Failures += !M.report();
    e2e::Mismatches MS("shared-memory atomics");
    for (int B = 0; B < Blocks; ++B) {
      int Min = 1 << 30;
      unsigned Or = 0;
      for (int T = 0; T < Threads; ++T) {
        Min = std::min(Min, In[B * Threads + T]);
        Or |= 1u << (In[B * Threads + T] % 17);
      }
      MS.intAt(B, SMin[B], Min + Threads * 100000);
      MS.intAt(B, SOr[B], Or);
    }
    Failures += !MS.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DT));
    E2E_CHECK(cudaFree(DSMin));
    E2E_CHECK(cudaFree(DSOr));
  }
  { // threadfence reduction, twice (the kernel resets its ticket counter)
    const int N = 100000, Blocks = 48;
    std::vector<int> In(N);
    long long Sum = 0;
    for (int &V : In) {
      V = R.range(-1000, 1000);
      Sum += V;
    }
    int *DIn, *DPartials, *DResult;
    E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DPartials, Blocks * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DResult, sizeof(int)));
    E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));
    e2e::Mismatches M("last-block reduction with __threadfence");
    for (int Round = 0; Round < 2; ++Round) {
      E2E_CHECK(cudaMemset(DResult, 0, sizeof(int)));
      fenceReduction<<<Blocks, 256>>>(DIn, N, DPartials, DResult);
      E2E_CHECK_LAUNCH();
      int Got = 0;
      E2E_CHECK(cudaMemcpy(&Got, DResult, sizeof(int), cudaMemcpyDeviceToHost));
      M.intAt(Round, Got, Sum);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DPartials));
    E2E_CHECK(cudaFree(DResult));
  }
  { // decoupled look-back scan
    const int N = 40 * ScanBlock - 17, Tiles = (N + ScanBlock - 1) / ScanBlock;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(-50, 50);
    int *DIn, *DOut;
    unsigned long long *DStatus;
    E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DOut, N * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DStatus, Tiles * sizeof(unsigned long long)));
    E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));
    E2E_CHECK(cudaMemset(DStatus, 0, Tiles * sizeof(unsigned long long)));
    lookbackScan<<<Tiles, ScanBlock>>>(DIn, DOut, N, DStatus);
    E2E_CHECK_LAUNCH();
    std::vector<int> Out(N);
    E2E_CHECK(cudaMemcpy(Out.data(), DOut, N * sizeof(int), cudaMemcpyDeviceToHost));
    e2e::Mismatches M("single-pass scan with decoupled look-back");
    int Acc = 0;
    for (int I = 0; I < N; ++I) {
      Acc += In[I];
      M.intAt(I, Out[I], Acc);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
    E2E_CHECK(cudaFree(DStatus));
  }
  return e2e::finish("atomics", Failures);
}
