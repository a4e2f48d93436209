// End-to-end: the shared-memory tree reductions of CUDA courses on tier T1 region entries, whose tree steps the JIT
// reworks (docs/HOST_BACKEND.md): interleaved addressing guarded by `tid % (2 * s) == 0` (unsigned and signed: the
// thread loop visits only the multiples, ThreadLoopStride), interleaved addressing by `index = 2 * s * tid`, and
// sequential addressing guarded by `tid < s` (ThreadLoopSplit), and the interleaved tree unrolled for a block size
// known when compiling (constant masks `tid & (2s - 1)`). Power-of-two blocks from 32 to 1024 threads, a
// partial last block; sums are checked against CPU code, and the same runs repeat on the oracle tier.
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
  e2e::Rng R(N + Threads);
  std::vector<int> In(N);
  for (int &V : In)
    V = R.range(-1000, 1000);
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
  e2e::Rng R(N * 3 + BlockSize);
  std::vector<int> In(N);
  for (int &V : In)
    V = R.range(-1000, 1000);
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
  return e2e::finish("region_reductions", e2e::Failures);
}
