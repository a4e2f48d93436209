// End-to-end: warp collectives against CPU references: __shfl*_sync in every mode and width (32- and 64-bit values),
// vote (all/any/ballot), __activemask in divergent code, match_any/match_all, __reduce_*_sync, __syncwarp with
// partial masks in divergent code, and cooperative_groups::tiled_partition<N> reductions.
#include "simt_common.h"

#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>

#include <vector>

namespace cg = cooperative_groups;
using simt::toDevice;
using simt::toHost;

constexpr int Threads = 128; // 4 warps per block
constexpr int Blocks = 3;
constexpr int N = Threads * Blocks;
constexpr int Widths[] = {32, 16, 8, 4, 2};
constexpr int Modes = 4; // idx, up, down, xor

// Out[((W * Modes + Mode) * N) + I] for each width index W: the shuffled int; OutD the same for a 64-bit value.
__global__ void shuffles(const int *In, const int *Arg, int *Out, long long *OutD) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int V = In[I];
  long long D = (static_cast<long long>(V) << 32) | static_cast<unsigned>(V * 7 + 1);
  int A = Arg[I];
#pragma unroll
  for (int W = 0; W < 5; ++W) {
    int Width = 32 >> W;
    int Base = W * Modes * N;
    Out[Base + 0 * N + I] = __shfl_sync(0xffffffff, V, A, Width);
    Out[Base + 1 * N + I] = __shfl_up_sync(0xffffffff, V, A % Width, Width);
    Out[Base + 2 * N + I] = __shfl_down_sync(0xffffffff, V, A % Width, Width);
    Out[Base + 3 * N + I] = __shfl_xor_sync(0xffffffff, V, A % 32, Width);
    OutD[Base + 0 * N + I] = __shfl_sync(0xffffffff, D, A, Width);
    OutD[Base + 1 * N + I] = __shfl_up_sync(0xffffffff, D, A % Width, Width);
    OutD[Base + 2 * N + I] = __shfl_down_sync(0xffffffff, D, A % Width, Width);
    OutD[Base + 3 * N + I] = __shfl_xor_sync(0xffffffff, D, A % 32, Width);
  }
}

// The CUDA definition of each shuffle for lane L of a warp whose values are Vals[0..31].
template <typename T> T refShuffle(const T *Vals, int L, int Mode, int A, int Width) {
  int Seg = L & ~(Width - 1);
  switch (Mode) {
  case 0:
    return Vals[Seg + (A % Width + Width) % Width];
  case 1: {
    int D = A % Width;
    return L - D >= Seg ? Vals[L - D] : Vals[L];
  }
  case 2: {
    int D = A % Width;
    return L + D < Seg + Width ? Vals[L + D] : Vals[L];
  }
  default: {
    int J = L ^ (A % 32);
    return J < Seg + Width ? Vals[J] : Vals[L];
  }
  }
}

// Votes: every thread's predicate is In[I] & 1, a uniform-true and a uniform-false predicate.
__global__ void votes(const int *In, unsigned *Out) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  bool P = In[I] & 1;
  Out[I * 6 + 0] = __all_sync(0xffffffff, P);
  Out[I * 6 + 1] = __any_sync(0xffffffff, P);
  Out[I * 6 + 2] = __ballot_sync(0xffffffff, P);
  Out[I * 6 + 3] = __all_sync(0xffffffff, true) + 2 * __any_sync(0xffffffff, false);
  // Votes restricted to the even lanes, taken inside the branch only they enter.
  unsigned Lane = threadIdx.x % 32;
  Out[I * 6 + 4] = 0;
  if (Lane % 2 == 0)
    Out[I * 6 + 4] = __ballot_sync(0x55555555, P);
  // The lanes that are active inside a divergent branch.
  Out[I * 6 + 5] = 0;
  if (Lane < 10)
    Out[I * 6 + 5] = __activemask();
}

// match_any groups lanes with equal keys; match_all reports whether the whole mask agrees; redux reduces.
__global__ void matchRedux(const int *In, unsigned *Out) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned Key = In[I] % 5;
  unsigned long long Key64 = (static_cast<unsigned long long>(Key) << 40) | 3;
  int Pred = 0;
  Out[I * 10 + 0] = __match_any_sync(0xffffffff, Key);
  Out[I * 10 + 1] = __match_any_sync(0xffffffff, Key64);
  Out[I * 10 + 2] = __match_all_sync(0xffffffff, Key, &Pred);
  Out[I * 10 + 3] = Pred;
  Out[I * 10 + 4] = __match_all_sync(0xffffffff, threadIdx.x / 32, &Pred) + Pred;
  unsigned U = static_cast<unsigned>(In[I]);
  Out[I * 10 + 5] = __reduce_add_sync(0xffffffff, U);
  Out[I * 10 + 6] = __reduce_min_sync(0xffffffff, In[I] - 500);
  Out[I * 10 + 7] = __reduce_max_sync(0xffffffff, U);
  Out[I * 10 + 8] = __reduce_and_sync(0xffffffff, U | 0x100) ^ __reduce_or_sync(0xffffffff, U);
  Out[I * 10 + 9] = __reduce_xor_sync(0xffffffff, U);
}

// Divergent code with partial __syncwarp: the even lanes publish in shared memory, meet on the even mask and read
// their even neighbour; the odd lanes do the same among themselves on the odd mask, in the other branch.
__global__ void partialSyncwarp(const int *In, int *Out) {
  __shared__ int Buf[Threads];
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned Lane = threadIdx.x % 32;
  unsigned WarpBase = threadIdx.x - Lane;
  int Acc = In[I];
  for (int Round = 0; Round < 3; ++Round) {
    if (Lane % 2 == 0) {
      Buf[threadIdx.x] = Acc;
      __syncwarp(0x55555555);
      Acc += Buf[WarpBase + (Lane + 2) % 32];
      __syncwarp(0x55555555);
    } else {
      Buf[threadIdx.x] = Acc * 2;
      __syncwarp(0xaaaaaaaa);
      Acc -= Buf[WarpBase + (Lane + 30) % 32];
      __syncwarp(0xaaaaaaaa);
    }
  }
  Out[I] = Acc;
}

// cooperative_groups tiles: cg::reduce and a hand-written shfl_down tree on tiles of 4..32 threads.
template <int Size> __device__ void tileReduce(cg::thread_block &Block, int V, int *Out, int *OutTree) {
  cg::thread_block_tile<Size> Tile = cg::tiled_partition<Size>(Block);
  int Sum = cg::reduce(Tile, V, cg::plus<int>());
  int Max = cg::reduce(Tile, V, cg::greater<int>());
  int Tree = V;
  for (int Off = Tile.size() / 2; Off > 0; Off /= 2)
    Tree += Tile.shfl_down(Tree, Off);
  if (Tile.thread_rank() == 0) {
    int T = (blockIdx.x * blockDim.x + threadIdx.x) / Size;
    Out[2 * T] = Sum;
    Out[2 * T + 1] = Max;
    OutTree[T] = Tree;
  }
  Tile.sync();
}

__global__ void tiles(const int *In, int *Out4, int *Out8, int *Out16, int *Out32, int *Tree4, int *Tree8, int *Tree16,
                      int *Tree32) {
  cg::thread_block Block = cg::this_thread_block();
  int V = In[blockIdx.x * blockDim.x + threadIdx.x];
  tileReduce<4>(Block, V, Out4, Tree4);
  tileReduce<8>(Block, V, Out8, Tree8);
  tileReduce<16>(Block, V, Out16, Tree16);
  tileReduce<32>(Block, V, Out32, Tree32);
}

int main() {
  int Failures = 0;
  e2e::Rng R(42);
  std::vector<int> In(N), Arg(N);
  for (int I = 0; I < N; ++I) {
    In[I] = R.range(0, 1000);
    Arg[I] = R.range(0, 40);
  }
  int *DIn = toDevice(In), *DArg = toDevice(Arg);

  { // shuffles
    int *DOut;
    long long *DOutD;
    size_t Count = 5 * Modes * N;
    E2E_CHECK(cudaMalloc(&DOut, Count * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DOutD, Count * sizeof(long long)));
    shuffles<<<Blocks, Threads>>>(DIn, DArg, DOut, DOutD);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Count);
    auto OutD = toHost(DOutD, Count);
    e2e::Mismatches M("shfl (int)"), MD("shfl (64-bit)");
    for (int W = 0; W < 5; ++W)
      for (int Mode = 0; Mode < Modes; ++Mode)
        for (int I = 0; I < N; ++I) {
          int Warp = I / 32 * 32, L = I % 32;
          long long DV[32];
          for (int J = 0; J < 32; ++J)
            DV[J] = (static_cast<long long>(In[Warp + J]) << 32) | static_cast<unsigned>(In[Warp + J] * 7 + 1);
          size_t K = (W * Modes + Mode) * N + I;
          M.intAt(static_cast<long>(K), Out[K], refShuffle(&In[Warp], L, Mode, Arg[I], Widths[W]));
          MD.intAt(static_cast<long>(K), OutD[K], refShuffle(DV, L, Mode, Arg[I], Widths[W]));
        }
    Failures += !M.report() + !MD.report();
    E2E_CHECK(cudaFree(DOut));
    E2E_CHECK(cudaFree(DOutD));
  }

  { // votes
    unsigned *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * 6 * sizeof(unsigned)));
    votes<<<Blocks, Threads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N * 6);
    e2e::Mismatches M("vote/ballot/activemask");
    for (int I = 0; I < N; ++I) {
      int Warp = I / 32 * 32, L = I % 32;
      unsigned Ballot = 0, EvenBallot = 0;
      for (int J = 0; J < 32; ++J) {
        Ballot |= (In[Warp + J] & 1u) << J;
        if (J % 2 == 0)
          EvenBallot |= (In[Warp + J] & 1u) << J;
      }
      M.intAt(I * 6 + 0, Out[I * 6 + 0], Ballot == 0xffffffffu);
      M.intAt(I * 6 + 1, Out[I * 6 + 1], Ballot != 0);
      M.intAt(I * 6 + 2, Out[I * 6 + 2], Ballot);
      M.intAt(I * 6 + 3, Out[I * 6 + 3], 1);
      M.intAt(I * 6 + 4, Out[I * 6 + 4], L % 2 == 0 ? EvenBallot : 0);
      M.intAt(I * 6 + 5, Out[I * 6 + 5], L < 10 ? 0x3ffu : 0u);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DOut));
  }

  { // match and redux
    unsigned *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * 10 * sizeof(unsigned)));
    matchRedux<<<Blocks, Threads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N * 10);
    e2e::Mismatches M("match/redux");
    for (int I = 0; I < N; ++I) {
      int Warp = I / 32 * 32;
      unsigned Same = 0, Add = 0, UMax = 0, And = ~0u, Or = 0, Xor = 0;
      int Min = 1 << 30;
      bool AllSame = true;
      for (int J = 0; J < 32; ++J) {
        unsigned V = In[Warp + J];
        if (V % 5 == unsigned(In[I]) % 5)
          Same |= 1u << J;
        if (V % 5 != unsigned(In[Warp]) % 5)
          AllSame = false;
        Add += V;
        Min = std::min(Min, static_cast<int>(V) - 500);
        UMax = std::max(UMax, V);
        And &= V | 0x100;
        Or |= V;
        Xor ^= V;
      }
      const unsigned *O = &Out[I * 10];
      M.intAt(I * 10 + 0, O[0], Same);
      M.intAt(I * 10 + 1, O[1], Same);
      M.intAt(I * 10 + 2, O[2], AllSame ? 0xffffffffu : 0u);
      M.intAt(I * 10 + 3, O[3], AllSame);
      M.intAt(I * 10 + 4, O[4], 0xffffffffu + 1u);
      M.intAt(I * 10 + 5, O[5], Add);
      M.intAt(I * 10 + 6, static_cast<int>(O[6]), Min);
      M.intAt(I * 10 + 7, O[7], UMax);
      M.intAt(I * 10 + 8, O[8], And ^ Or);
      M.intAt(I * 10 + 9, O[9], Xor);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DOut));
  }

  { // partial __syncwarp
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * sizeof(int)));
    partialSyncwarp<<<Blocks, Threads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N);
    std::vector<int> Acc(In);
    for (int Round = 0; Round < 3; ++Round) {
      std::vector<int> Buf(N);
      for (int I = 0; I < N; ++I)
        Buf[I] = I % 2 == 0 ? Acc[I] : Acc[I] * 2;
      for (int I = 0; I < N; ++I) {
        int Warp = I / 32 * 32, L = I % 32;
        Acc[I] += L % 2 == 0 ? Buf[Warp + (L + 2) % 32] : -Buf[Warp + (L + 30) % 32];
      }
    }
    e2e::Mismatches M("__syncwarp with partial masks");
    for (int I = 0; I < N; ++I)
      M.intAt(I, Out[I], Acc[I]);
    Failures += !M.report();
    E2E_CHECK(cudaFree(DOut));
  }

  { // cooperative groups tiles
    int *DOut[4], *DTree[4];
    int Sizes[4] = {4, 8, 16, 32};
    for (int K = 0; K < 4; ++K) {
      E2E_CHECK(cudaMalloc(&DOut[K], 2 * N / Sizes[K] * sizeof(int)));
      E2E_CHECK(cudaMalloc(&DTree[K], N / Sizes[K] * sizeof(int)));
    }
    tiles<<<Blocks, Threads>>>(DIn, DOut[0], DOut[1], DOut[2], DOut[3], DTree[0], DTree[1], DTree[2], DTree[3]);
    E2E_CHECK_LAUNCH();
    e2e::Mismatches M("tiled_partition<4..32> reduce");
    for (int K = 0; K < 4; ++K) {
      auto Out = toHost(DOut[K], 2 * N / Sizes[K]);
      auto Tree = toHost(DTree[K], N / Sizes[K]);
      for (int T = 0; T < N / Sizes[K]; ++T) {
        int Sum = 0, Max = -1;
        for (int J = 0; J < Sizes[K]; ++J) {
          Sum += In[T * Sizes[K] + J];
          Max = std::max(Max, In[T * Sizes[K] + J]);
        }
        M.intAt(K * 100000 + T, Out[2 * T], Sum);
        M.intAt(K * 100000 + T, Out[2 * T + 1], Max);
        M.intAt(K * 100000 + T, Tree[T], Sum);
      }
      E2E_CHECK(cudaFree(DOut[K]));
      E2E_CHECK(cudaFree(DTree[K]));
    }
    Failures += !M.report();
  }
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DArg));
  return e2e::finish("warp_ops", Failures);
}
