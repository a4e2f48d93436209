// End-to-end: shared-memory tree reductions with __syncthreads() in loops, dynamic shared memory (extern __shared__),
// threads that exit while others still use barriers, global atomics, and several block sizes (some not powers of two).
#include "e2e_common.h"

#include <algorithm>
#include <climits>
#include <vector>

// Sum and max in one pass. Dynamic shared memory holds two int arrays back to back: [0, Block) sums, [Block, 2*Block)
// maxima. Works for any block size: the first step folds the part above the largest power of two.
__global__ void reduceSumMax(const int *In, int N, int *BlockSums, int *BlockMax, unsigned long long *Total) {
  extern __shared__ int Smem[];
  int *Sums = Smem;
  int *Maxs = Smem + blockDim.x;
  unsigned Tid = threadIdx.x;

  int Sum = 0, Max = INT_MIN;
  for (int I = blockIdx.x * blockDim.x + Tid; I < N; I += blockDim.x * gridDim.x) {
    Sum += In[I];
    Max = max(Max, In[I]);
  }
  Sums[Tid] = Sum;
  Maxs[Tid] = Max;
  __syncthreads();

  unsigned Pow2 = 1;
  while (Pow2 * 2 <= blockDim.x)
    Pow2 *= 2;
  if (Tid < blockDim.x - Pow2) {
    Sums[Tid] += Sums[Tid + Pow2];
    Maxs[Tid] = max(Maxs[Tid], Maxs[Tid + Pow2]);
  }
  __syncthreads();

  for (unsigned S = Pow2 / 2; S > 0; S >>= 1) {
    if (Tid < S) {
      Sums[Tid] += Sums[Tid + S];
      Maxs[Tid] = max(Maxs[Tid], Maxs[Tid + S]);
    }
    __syncthreads();
  }
  if (Tid == 0) {
    BlockSums[blockIdx.x] = Sums[0];
    BlockMax[blockIdx.x] = Maxs[0];
    // The bias keeps the atomic operand unsigned while the data is signed.
    atomicAdd(Total, static_cast<unsigned long long>(static_cast<long long>(Sums[0]) + (1ll << 40)));
  }
}

// Threads leave as soon as they are no longer needed: at each step the upper half of the remaining threads returns
// and the rest meet at __syncthreads(). Exited threads count as arrived at bar.sync (sm_70+), which is what we test.
// Block size must be a power of two.
__global__ void reduceEarlyExit(const int *In, int N, int *BlockSums) {
  extern __shared__ int Sums[];
  unsigned Tid = threadIdx.x;
  int I = blockIdx.x * blockDim.x + Tid;
  Sums[Tid] = I < N ? In[I] : 0;
  __syncthreads();
  for (unsigned Active = blockDim.x / 2; Active > 0; Active >>= 1) {
    if (Tid >= Active)
      return;
    Sums[Tid] += Sums[Tid + Active];
    __syncthreads();
  }
  BlockSums[blockIdx.x] = Sums[0];
}

// Second pass: one block reduces the per-block partials, looping when there are more partials than threads.
__global__ void reducePartials(const int *Partials, int Count, long long *Out) {
  extern __shared__ long long Acc[];
  long long Sum = 0;
  for (int I = threadIdx.x; I < Count; I += blockDim.x)
    Sum += Partials[I];
  Acc[threadIdx.x] = Sum;
  __syncthreads();
  for (unsigned S = blockDim.x / 2; S > 0; S >>= 1) {
    if (threadIdx.x < S)
      Acc[threadIdx.x] += Acc[threadIdx.x + S];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    *Out = Acc[0];
}

static std::vector<int> makeInput(int N, uint64_t Seed) {
  e2e::Rng R(Seed);
  std::vector<int> V(N);
  for (int &X : V)
    X = R.range(-1000, 1000);
  return V;
}

static int testSumMax(int N, int Grid, int Block) {
  std::vector<int> In = makeInput(N, 7 * N + Block);
  int *DIn, *DSums, *DMax;
  unsigned long long *DTotal;
  E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DSums, Grid * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DMax, Grid * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DTotal, sizeof(unsigned long long)));
  E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemset(DTotal, 0, sizeof(unsigned long long)));
  reduceSumMax<<<Grid, Block, 2 * Block * sizeof(int)>>>(DIn, N, DSums, DMax, DTotal);
  E2E_CHECK_LAUNCH();

  std::vector<int> Sums(Grid), Maxs(Grid);
  unsigned long long Total = 0;
  E2E_CHECK(cudaMemcpy(Sums.data(), DSums, Grid * sizeof(int), cudaMemcpyDeviceToHost));
  E2E_CHECK(cudaMemcpy(Maxs.data(), DMax, Grid * sizeof(int), cudaMemcpyDeviceToHost));
  E2E_CHECK(cudaMemcpy(&Total, DTotal, sizeof(Total), cudaMemcpyDeviceToHost));

  // CPU reference: the same grid-stride partition.
  char Name[96];
  std::snprintf(Name, sizeof(Name), "reduceSumMax n=%d grid=%d block=%d", N, Grid, Block);
  e2e::Mismatches M(Name);
  long long RefTotal = 0;
  for (int B = 0; B < Grid; ++B) {
    long long S = 0;
    int Mx = INT_MIN;
    for (int T = 0; T < Block; ++T)
      for (int I = B * Block + T; I < N; I += Block * Grid) {
        S += In[I];
        Mx = std::max(Mx, In[I]);
      }
    M.intAt(B, Sums[B], S);
    M.intAt(Grid + B, Maxs[B], Mx);
    RefTotal += S;
  }
  long long GotTotal = static_cast<long long>(Total - static_cast<unsigned long long>(Grid) * (1ull << 40));
  M.intAt(-1, GotTotal, RefTotal);

  // Second pass on the device over the partials: 64 threads for `Grid` partials.
  long long *DOut;
  long long Final = 0;
  E2E_CHECK(cudaMalloc(&DOut, sizeof(long long)));
  reducePartials<<<1, 64, 64 * sizeof(long long)>>>(DSums, Grid, DOut);
  E2E_CHECK_LAUNCH();
  E2E_CHECK(cudaMemcpy(&Final, DOut, sizeof(Final), cudaMemcpyDeviceToHost));
  M.intAt(-2, Final, RefTotal);

  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DSums));
  E2E_CHECK(cudaFree(DMax));
  E2E_CHECK(cudaFree(DTotal));
  E2E_CHECK(cudaFree(DOut));
  return M.report() ? 0 : 1;
}

static int testEarlyExit(int N, int Block) {
  std::vector<int> In = makeInput(N, 31 * N + Block);
  int Grid = (N + Block - 1) / Block;
  int *DIn, *DSums;
  E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DSums, Grid * sizeof(int)));
  E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  reduceEarlyExit<<<Grid, Block, Block * sizeof(int)>>>(DIn, N, DSums);
  E2E_CHECK_LAUNCH();
  std::vector<int> Sums(Grid);
  E2E_CHECK(cudaMemcpy(Sums.data(), DSums, Grid * sizeof(int), cudaMemcpyDeviceToHost));
  char Name[96];
  std::snprintf(Name, sizeof(Name), "reduceEarlyExit n=%d block=%d", N, Block);
  e2e::Mismatches M(Name);
  for (int B = 0; B < Grid; ++B) {
    long long S = 0;
    for (int I = B * Block; I < std::min(N, (B + 1) * Block); ++I)
      S += In[I];
    M.intAt(B, Sums[B], S);
  }
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DSums));
  return M.report() ? 0 : 1;
}

int main() {
  int Failures = 0;
  // Few thousand threads per launch: barrier-heavy kernels are the slow case for an emulator.
  Failures += testSumMax(50000, 16, 256);
  Failures += testSumMax(50000, 2, 1024);
  Failures += testSumMax(12345, 20, 96);  // not a power of two, not a warp multiple of a power of two
  Failures += testSumMax(12345, 7, 1000); // 1000 = 512 + 488 folded first
  Failures += testSumMax(100, 3, 32);     // more threads than elements
  Failures += testSumMax(4096, 100, 1);   // one-thread blocks: the loops run zero times
  Failures += testEarlyExit(4000, 64);
  Failures += testEarlyExit(3000, 256);
  Failures += testEarlyExit(2500, 1024);
  Failures += testEarlyExit(70, 32);
  return e2e::finish("reduction", Failures);
}
