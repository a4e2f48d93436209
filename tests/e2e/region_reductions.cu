// End-to-end: the shared-memory tree reductions of CUDA courses on tier T1 region entries, whose tree steps the JIT
// reworks (docs/HOST_BACKEND.md): interleaved addressing guarded by `tid % (2 * s) == 0` (unsigned and signed: the
// thread loop visits only the multiples, ThreadLoopStride), interleaved addressing by `index = 2 * s * tid`, and
// sequential addressing guarded by `tid < s` (ThreadLoopSplit), and the interleaved tree unrolled for a block size
// known when compiling (constant masks `tid & (2s - 1)`). Power-of-two blocks from 32 to 1024 threads, a
// partial last block; sums are checked against CPU code, and the same runs repeat on the oracle tier. Also NVIDIA's
// reduce3, whose sum is carried in a register through the tree, and a tree that still reads each step's old value
// after the barrier that follows its new one (the two values' slots must not be merged).
#include "simt_common.h"

#include <cstdint>
#include <vector>

namespace {

using simt::toDevice;
using simt::toHost;

enum class Tree { Modulo, SignedModulo, StridedIndex, Sequential };

template <Tree T> __global__ void reduceBlocks(const int *In, int *Out, unsigned N) {
  extern __shared__ int S[];
  unsigned Tid = threadIdx.x, I = blockIdx.x * blockDim.x + Tid;
  S[Tid] = I < N ? In[I] : 0;
  __syncthreads();
  if (T == Tree::Modulo) {
    for (unsigned Stride = 1; Stride < blockDim.x; Stride *= 2) {
      if (Tid % (2 * Stride) == 0)
        S[Tid] += S[Tid + Stride];
      __syncthreads();
    }
  } else if (T == Tree::SignedModulo) {
    int STid = static_cast<int>(Tid);
    for (int Stride = 1; Stride < static_cast<int>(blockDim.x); Stride *= 2) {
      if (STid % (2 * Stride) == 0)
        S[STid] += S[STid + Stride];
      __syncthreads();
    }
  } else if (T == Tree::StridedIndex) {
    for (unsigned Stride = 1; Stride < blockDim.x; Stride *= 2) {
      unsigned Index = 2 * Stride * Tid;
      if (Index < blockDim.x)
        S[Index] += S[Index + Stride];
      __syncthreads();
    }
  } else {
    for (unsigned Stride = blockDim.x / 2; Stride > 0; Stride >>= 1) {
      if (Tid < Stride)
        S[Tid] += S[Tid + Stride];
      __syncthreads();
    }
  }
  if (Tid == 0)
    Out[blockIdx.x] = S[0];
}

// The interleaved tree for a block size known when compiling, unrolled: each step's `tid % (2 * s)` is then
// `tid & (2s - 1)` with a constant mask.
template <unsigned BlockSize> __global__ void reduceUnrolled(const int *In, int *Out, unsigned N) {
  __shared__ int S[BlockSize];
  unsigned Tid = threadIdx.x, I = blockIdx.x * BlockSize + Tid;
  S[Tid] = I < N ? In[I] : 0;
  __syncthreads();
#pragma unroll
  for (unsigned Stride = 1; Stride < BlockSize; Stride *= 2) {
    if (Tid % (2 * Stride) == 0)
      S[Tid] += S[Tid + Stride];
    __syncthreads();
  }
  if (Tid == 0)
    Out[blockIdx.x] = S[0];
}

// N values in [-1000, 1000] from the given seed.
std::vector<int> randomInts(unsigned N, uint64_t Seed) {
  e2e::Rng R(Seed);
  std::vector<int> In(N);
  for (int &V : In)
    V = R.range(-1000, 1000);
  return In;
}

// NVIDIA's reduce3: the running sum is carried in a register through the tree loop, whose `if`'s value and loop
// value share one slot in a region entry (coalesceCopiedSlots, RegionEntry.cpp).
__global__ void reduceCarried(const int *In, int *Out, unsigned N) {
  extern __shared__ int S[];
  unsigned Tid = threadIdx.x, I = blockIdx.x * (blockDim.x * 2) + Tid;
  int Sum = I < N ? In[I] : 0;
  if (I + blockDim.x < N)
    Sum += In[I + blockDim.x];
  S[Tid] = Sum;
  __syncthreads();
  for (unsigned Stride = blockDim.x / 2; Stride > 0; Stride >>= 1) {
    if (Tid < Stride)
      S[Tid] = Sum = Sum + S[Tid + Stride];
    __syncthreads();
  }
  if (Tid == 0)
    Out[blockIdx.x] = Sum;
}

// The same tree, but the old value is still read after the barrier that follows the new one: the two values must keep
// their own slots. Each thread writes a trace of its old values (Trace * 3 + Old per step) and its last value.
__global__ void traceCarried(const int *In, int *Out, unsigned N) {
  extern __shared__ int S[];
  unsigned Tid = threadIdx.x, I = blockIdx.x * blockDim.x + Tid;
  int Old = I < N ? In[I] : 0, Trace = 0;
  S[Tid] = Old;
  __syncthreads();
  for (unsigned Stride = blockDim.x / 2; Stride > 0; Stride >>= 1) {
    int New = Old;
    if (Tid < Stride)
      New = Old + S[Tid + Stride];
    __syncthreads();
    Trace = Trace * 3 + Old;
    S[Tid] = New;
    __syncthreads();
    Old = New;
  }
  if (I < N)
    Out[I] = Trace * 7 + Old;
}

void checkCarried(unsigned Threads, unsigned N) {
  std::vector<int> In = randomInts(N, N * 5 + Threads);
  unsigned Blocks = (N + 2 * Threads - 1) / (2 * Threads);
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(Blocks, -1));
  reduceCarried<<<Blocks, Threads, Threads * sizeof(int)>>>(DIn, DOut, N);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Blocks, 0);
  for (unsigned I = 0; I < N; ++I)
    Want[I / (2 * Threads)] += In[I];
  char Name[128];
  std::snprintf(Name, sizeof(Name), "block sums carried in a register (reduce3), %u threads, %u elements", Threads, N);
  simt::checkInts(Name, toHost(DOut, Blocks), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

void checkTrace(unsigned Threads, unsigned N) {
  std::vector<int> In = randomInts(N, N * 7 + Threads);
  unsigned Blocks = (N + Threads - 1) / Threads;
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(N, -1));
  traceCarried<<<Blocks, Threads, Threads * sizeof(int)>>>(DIn, DOut, N);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(N);
  for (unsigned B = 0; B < Blocks; ++B) {
    std::vector<int> Old(Threads), S(Threads), Trace(Threads, 0);
    for (unsigned T = 0; T < Threads; ++T)
      S[T] = Old[T] = B * Threads + T < N ? In[B * Threads + T] : 0;
    for (unsigned Stride = Threads / 2; Stride > 0; Stride >>= 1) {
      std::vector<int> New = Old;
      for (unsigned T = 0; T < Stride; ++T)
        New[T] = Old[T] + S[T + Stride];
      for (unsigned T = 0; T < Threads; ++T)
        Trace[T] = static_cast<int>(static_cast<unsigned>(Trace[T]) * 3u + static_cast<unsigned>(Old[T]));
      S = Old = New;
    }
    for (unsigned T = 0; T < Threads && B * Threads + T < N; ++T)
      Want[B * Threads + T] = static_cast<int>(static_cast<unsigned>(Trace[T]) * 7u + static_cast<unsigned>(Old[T]));
  }
  char Name[128];
  std::snprintf(Name, sizeof(Name), "old values read after the new ones' barrier, %u threads, %u elements", Threads, N);
  simt::checkInts(Name, toHost(DOut, N), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

const char *treeName(Tree T) {
  switch (T) {
  case Tree::Modulo:
    return "tid % (2s) == 0";
  case Tree::SignedModulo:
    return "signed tid % (2s) == 0";
  case Tree::StridedIndex:
    return "index = 2s * tid";
  default:
    return "tid < s";
  }
}

template <Tree T> void checkReduce(unsigned Threads, unsigned N) {
  std::vector<int> In = randomInts(N, N + Threads);
  unsigned Blocks = (N + Threads - 1) / Threads;
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(Blocks, -1));
  reduceBlocks<T><<<Blocks, Threads, Threads * sizeof(int)>>>(DIn, DOut, N);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Blocks, 0);
  for (unsigned I = 0; I < N; ++I)
    Want[I / Threads] += In[I];
  char Name[128];
  std::snprintf(Name, sizeof(Name), "block sums by %s, %u threads per block, %u elements", treeName(T), Threads, N);
  simt::checkInts(Name, toHost(DOut, Blocks), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

template <unsigned BlockSize> void checkUnrolled(unsigned N) {
  std::vector<int> In = randomInts(N, N * 3 + BlockSize);
  unsigned Blocks = (N + BlockSize - 1) / BlockSize;
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(Blocks, -1));
  reduceUnrolled<BlockSize><<<Blocks, BlockSize>>>(DIn, DOut, N);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(Blocks, 0);
  for (unsigned I = 0; I < N; ++I)
    Want[I / BlockSize] += In[I];
  char Name[128];
  std::snprintf(Name, sizeof(Name), "block sums by an unrolled tid %% (2s) == 0 tree, %u threads, %u elements",
                BlockSize, N);
  simt::checkInts(Name, toHost(DOut, Blocks), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

template <Tree T> void checkShapes() {
  checkReduce<T>(256, 1 << 16);
  checkReduce<T>(256, 50000); // a partial last block
  checkReduce<T>(1024, 10000);
  checkReduce<T>(64, 3000);
  checkReduce<T>(32, 1000);
}

} // namespace

int main() {
  checkShapes<Tree::Modulo>();
  checkShapes<Tree::SignedModulo>();
  checkShapes<Tree::StridedIndex>();
  checkShapes<Tree::Sequential>();
  checkUnrolled<256>(50000);
  checkUnrolled<64>(3000);
  for (unsigned Threads : {256u, 64u, 32u}) {
    checkCarried(Threads, 100000);
    checkTrace(Threads, 20000);
  }
  checkCarried(1024, 5000); // partial blocks
  return e2e::finish("region_reductions", e2e::Failures);
}
