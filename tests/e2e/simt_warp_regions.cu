// End-to-end: warp collectives between block barriers in kernels that tier T1 runs as block-wide regions with only
// the regions after warp cuts run warp by warp (docs/HOST_BACKEND.md, "Warp regions"): shuffles of every mode,
// ballots and reductions under branches that differ between warps, warp-synchronous volatile steps mixed with
// shuffles and __syncwarp, and shuffles inside a loop with barriers (each warp's exchange buffers must alternate
// past every warp cut and start over at every barrier). Also shared-memory reads at masked indices that wrap within
// the block (`S[(t * 7) & 31]`), which LLVM 19's vectoriser read as every 7th element (src/ptx_translate/
// WrappingMasks.cpp). References are CPU code with the lanes of a warp stepping together; the runs repeat on every
// tier, in blocks of 32 to 1024 threads.
#include "simt_common.h"

#include <vector>

namespace {

using simt::checkInts;
using simt::toDevice;
using simt::toHost;

constexpr unsigned Full = 0xffffffffu;

// Different warps take different branches around their shuffles; after a barrier every warp reads another thread's
// value, votes on it, reads a lane chosen by its own value, and odd warps sum over the warp.
__global__ void branchesAroundShuffles(const int *In, int *Out) {
  __shared__ int S[1024];
  int T = threadIdx.x, Lane = T & 31, Warp = threadIdx.x / 32, B = blockDim.x;
  int V = In[blockIdx.x * B + T];
  if (Warp % 3 == 0) {
    V += __shfl_down_sync(Full, V, 1);
    V += __shfl_xor_sync(Full, V, 4);
  } else if (Warp % 3 == 1) {
    V ^= __shfl_up_sync(Full, V, 3);
  }
  S[T] = V;
  __syncthreads();
  int U = S[(T + 37) % B];
  unsigned Ballot = __ballot_sync(Full, U & 1);
  U += __popc(Ballot) + __shfl_sync(Full, U, (Lane * 7) & 31);
  if (Warp & 1)
    U = __reduce_add_sync(Full, U);
  Out[blockIdx.x * B + T] = U;
}

// Volatile warp steps in the first four warps (a __syncwarp between two of them), then a shuffle in every warp.
__global__ void stepsAndShuffles(const int *In, int *Out) {
  __shared__ int Buffer[1024];
  volatile int *S = Buffer;
  int T = threadIdx.x, Warp = threadIdx.x / 32, B = blockDim.x;
  S[T] = In[blockIdx.x * B + T];
  __syncthreads();
  if (Warp < 4) {
    S[T] += S[T ^ 1];
    __syncwarp();
    S[T] += S[T ^ 2];
  }
  __syncthreads();
  int X = S[T];
  X += __shfl_down_sync(Full, X, 16);
  __syncwarp();
  S[T] = X;
  __syncthreads();
  Out[blockIdx.x * B + T] = S[(T + 5) % B] * 3;
}

// A loop with the same trip count everywhere: a shuffle, then two barriers around a read of another thread's value.
__global__ void shufflesInLoop(const int *In, int *Out, int Iterations) {
  __shared__ int S[1024];
  int T = threadIdx.x, Lane = T & 31, B = blockDim.x;
  int V = In[blockIdx.x * B + T];
  for (int It = 0; It < Iterations; ++It) {
    V += __shfl_xor_sync(Full, V, It % 5 + 1);
    S[T] = V;
    __syncthreads();
    V = S[(T + It * 33) % B] ^ Lane;
    __syncthreads();
  }
  Out[blockIdx.x * B + T] = V;
}

// Each thread reads two other threads' values at masked indices (which wrap within blocks of 32 or 64 threads) and,
// after a shuffle, one more.
__global__ void maskedIndices(const int *In, int *Out) {
  __shared__ int S[1024];
  int T = threadIdx.x, B = blockDim.x;
  S[T] = In[blockIdx.x * B + T];
  __syncthreads();
  int V = S[(T * 7) & 31] + S[((T * 5) & 127) % B];
  V += __shfl_sync(Full, V, ((T & 31) * 7) & 31);
  Out[blockIdx.x * B + T] = V;
}

// One block's values, warp by warp: what each collective returns when a warp's lanes step together.
using Lanes = std::vector<int>; // 32 values
int shuffleDown(const Lanes &V, int Lane, int D) { return Lane + D < 32 ? V[Lane + D] : V[Lane]; }
int shuffleUp(const Lanes &V, int Lane, int D) { return Lane >= D ? V[Lane - D] : V[Lane]; }

std::vector<int> referenceBranches(const std::vector<int> &In, int Blocks, int B) {
  std::vector<int> Out(In.size());
  for (int Blk = 0; Blk < Blocks; ++Blk) {
    std::vector<int> S(B);
    for (int W = 0; W < B / 32; ++W) {
      Lanes V(In.begin() + Blk * B + W * 32, In.begin() + Blk * B + W * 32 + 32);
      if (W % 3 == 0) {
        Lanes A = V;
        for (int L = 0; L < 32; ++L)
          A[L] = V[L] + shuffleDown(V, L, 1);
        for (int L = 0; L < 32; ++L)
          V[L] = A[L] + A[L ^ 4];
      } else if (W % 3 == 1) {
        Lanes A = V;
        for (int L = 0; L < 32; ++L)
          V[L] = A[L] ^ shuffleUp(A, L, 3);
      }
      for (int L = 0; L < 32; ++L)
        S[W * 32 + L] = V[L];
    }
    for (int W = 0; W < B / 32; ++W) {
      Lanes U(32);
      unsigned Ballot = 0;
      for (int L = 0; L < 32; ++L) {
        U[L] = S[(W * 32 + L + 37) % B];
        Ballot |= static_cast<unsigned>(U[L] & 1) << L;
      }
      Lanes R(32);
      int Sum = 0;
      for (int L = 0; L < 32; ++L) {
        R[L] = U[L] + __builtin_popcount(Ballot) + U[(L * 7) & 31];
        Sum += R[L];
      }
      for (int L = 0; L < 32; ++L)
        Out[Blk * B + W * 32 + L] = (W & 1) ? Sum : R[L];
    }
  }
  return Out;
}

std::vector<int> referenceSteps(const std::vector<int> &In, int Blocks, int B) {
  std::vector<int> Out(In.size());
  for (int Blk = 0; Blk < Blocks; ++Blk) {
    std::vector<int> S(In.begin() + Blk * B, In.begin() + (Blk + 1) * B);
    for (int W = 0; W < B / 32 && W < 4; ++W) {
      for (int Mask : {1, 2}) {
        Lanes Old(S.begin() + W * 32, S.begin() + W * 32 + 32);
        for (int L = 0; L < 32; ++L)
          S[W * 32 + L] = Old[L] + Old[L ^ Mask];
      }
    }
    std::vector<int> X = S;
    for (int W = 0; W < B / 32; ++W) {
      Lanes V(S.begin() + W * 32, S.begin() + W * 32 + 32);
      for (int L = 0; L < 32; ++L)
        X[W * 32 + L] = V[L] + shuffleDown(V, L, 16);
    }
    for (int T = 0; T < B; ++T)
      Out[Blk * B + T] = X[(T + 5) % B] * 3;
  }
  return Out;
}

std::vector<int> referenceMasked(const std::vector<int> &In, int Blocks, int B) {
  std::vector<int> Out(In.size());
  for (int Blk = 0; Blk < Blocks; ++Blk) {
    const int *S = &In[Blk * B];
    std::vector<int> V(B);
    for (int T = 0; T < B; ++T)
      V[T] = S[(T * 7) & 31] + S[((T * 5) & 127) % B];
    for (int T = 0; T < B; ++T)
      Out[Blk * B + T] = V[T] + V[(T & ~31) | (((T & 31) * 7) & 31)];
  }
  return Out;
}

std::vector<int> referenceLoop(const std::vector<int> &In, int Blocks, int B, int Iterations) {
  std::vector<int> Out(In.size());
  for (int Blk = 0; Blk < Blocks; ++Blk) {
    std::vector<int> V(In.begin() + Blk * B, In.begin() + (Blk + 1) * B);
    for (int It = 0; It < Iterations; ++It) {
      std::vector<int> S(B);
      for (int T = 0; T < B; ++T)
        S[T] = V[T] + V[(T & ~31) | ((T & 31) ^ (It % 5 + 1))];
      for (int T = 0; T < B; ++T)
        V[T] = S[(T + It * 33) % B] ^ (T & 31);
    }
    for (int T = 0; T < B; ++T)
      Out[Blk * B + T] = V[T];
  }
  return Out;
}

void check(int Blocks, int B) {
  int N = Blocks * B;
  std::vector<int> In(N);
  e2e::Rng R(static_cast<uint32_t>(N + B));
  for (int &V : In)
    V = R.range(-1000, 1000);
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(N, -1));
  char Name[96];
  branchesAroundShuffles<<<Blocks, B>>>(DIn, DOut);
  E2E_CHECK_LAUNCH();
  std::snprintf(Name, sizeof(Name), "shuffles under warp branches, %d threads", B);
  checkInts(Name, toHost(DOut, N), referenceBranches(In, Blocks, B));
  stepsAndShuffles<<<Blocks, B>>>(DIn, DOut);
  E2E_CHECK_LAUNCH();
  std::snprintf(Name, sizeof(Name), "warp steps and shuffles, %d threads", B);
  checkInts(Name, toHost(DOut, N), referenceSteps(In, Blocks, B));
  maskedIndices<<<Blocks, B>>>(DIn, DOut);
  E2E_CHECK_LAUNCH();
  std::snprintf(Name, sizeof(Name), "reads at masked indices, %d threads", B);
  checkInts(Name, toHost(DOut, N), referenceMasked(In, Blocks, B));
  shufflesInLoop<<<Blocks, B>>>(DIn, DOut, 7);
  E2E_CHECK_LAUNCH();
  std::snprintf(Name, sizeof(Name), "shuffles in a loop with barriers, %d threads", B);
  checkInts(Name, toHost(DOut, N), referenceLoop(In, Blocks, B, 7));
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

} // namespace

int main() {
  // Small blocks first: a kernel's launches after the third run a variant compiled for their shape.
  for (int B : {32, 64, 96, 256, 1024, 32, 64})
    check(5, B);
  return e2e::finish("simt_warp_regions", e2e::Failures);
}
