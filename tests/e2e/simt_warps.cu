// End-to-end: warp-level SIMT hard cases and cooperative groups against CPU references: shfl.sync in every mode for
// widths 1..32 with in- and out-of-range lanes and the |p predicate, partial-mask collectives in divergent code,
// ballot+popc stream compaction, match.any grouping (aggregated atomics), cooperative groups (tiled_partition<N> for
// N = 1..32, dynamic tiled_partition, coalesced_threads, labeled_partition, binary_partition, reduce, scans) and
// grid.sync() across 64 blocks of a cooperative launch.
#include "simt_common.h"

#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
#include <cooperative_groups/scan.h>

#include <algorithm>
#include <vector>

namespace cg = cooperative_groups;
using simt::toDevice;
using simt::toHost;

// ---- shfl.sync: every mode, width and lane/delta operand, with the predicate ---------------------------------------

constexpr int ShflWidths[] = {1, 2, 4, 8, 16, 32};
constexpr int NumWidths = 6;
constexpr unsigned ShflB[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 100, 0xffffffffu, 0x80000005u};
constexpr int NumB = 18;
constexpr int ShflThreads = 64;

#define SHFL_P(MODE)                                                                                                   \
  __device__ __forceinline__ unsigned shfl_##MODE(unsigned V, unsigned B, unsigned C, unsigned &P) {                   \
    unsigned R;                                                                                                        \
    asm volatile("{\n\t.reg .pred p;\n\tshfl.sync." #MODE ".b32 %0|p, %2, %3, %4, 0xffffffff;\n\tselp.u32 %1, 1, 0, p;\n\t}" \
                 : "=r"(R), "=r"(P)                                                                                    \
                 : "r"(V), "r"(B), "r"(C));                                                                            \
    return R;                                                                                                          \
  }
SHFL_P(up)
SHFL_P(down)
SHFL_P(bfly)
SHFL_P(idx)

__global__ void shuffleMatrix(const unsigned *In, const unsigned *Bs, unsigned *Out) {
  unsigned I = blockIdx.x * blockDim.x + threadIdx.x;
  unsigned V = In[I];
  for (int W = 0; W < NumWidths; ++W) {
    unsigned Width = 1u << W;
    unsigned Seg = (32 - Width) << 8;
    for (int K = 0; K < NumB; ++K) {
      unsigned B = Bs[K];
      unsigned P;
      unsigned *O = Out + ((W * NumB + K) * 4) * ShflThreads + I;
      unsigned X = shfl_up(V, B, Seg, P); // the value, then the predicate in bit 31
      O[0 * ShflThreads] = X | P << 31;
      X = shfl_down(V, B, Seg | 31, P);
      O[1 * ShflThreads] = X | P << 31;
      X = shfl_bfly(V, B, Seg | 31, P);
      O[2 * ShflThreads] = X | P << 31;
      X = shfl_idx(V, B, Seg | 31, P);
      O[3 * ShflThreads] = X | P << 31;
    }
  }
}

// The PTX ISA's definition of shfl.sync (all lanes take part).
unsigned refShfl(const unsigned *Vals, int Lane, int Mode, unsigned B, unsigned C, unsigned &P) {
  int BVal = B & 31, CVal = C & 31, SegMask = (C >> 8) & 31;
  int MaxLane = (Lane & SegMask) | (CVal & ~SegMask), MinLane = Lane & SegMask;
  int J;
  bool In;
  switch (Mode) {
  case 0:
    J = Lane - BVal;
    In = J >= MaxLane;
    break;
  case 1:
    J = Lane + BVal;
    In = J <= MaxLane;
    break;
  case 2:
    J = Lane ^ BVal;
    In = J <= MaxLane;
    break;
  default:
    J = MinLane | (BVal & ~SegMask);
    In = J <= MaxLane;
    break;
  }
  P = In;
  return Vals[In ? J : Lane];
}

// ---- Partial masks in divergent code ---------------------------------------------------------------------------------

constexpr int PartialOut = 9;
__global__ void partialMasks(const int *In, int *Out) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int Lane = threadIdx.x % 32;
  int V = In[I];
  int *O = Out + I * PartialOut;
  if (Lane < 16) { // two halves run different collectives on disjoint masks at the same time
    O[0] = __shfl_sync(0x0000ffffu, V, (Lane * 3) % 16);
    O[1] = static_cast<int>(__ballot_sync(0x0000ffffu, V & 1));
  } else {
    O[0] = __shfl_down_sync(0xffff0000u, V, 3, 16);
    O[1] = static_cast<int>(__reduce_add_sync(0xffff0000u, static_cast<unsigned>(V)));
  }
  unsigned M = __ballot_sync(0xffffffffu, V % 3 == 0); // a data-dependent mask
  if (V % 3 == 0) {
    O[2] = __reduce_max_sync(M, V);
    O[3] = __shfl_sync(M, V, __ffs(M) - 1);
    O[4] = __all_sync(M, V > 0);
    unsigned Lower = M & ((1u << Lane) - 1);
    O[5] = __popc(Lower); // rank in the group, used as a shuffle source below
    __syncwarp(M);
    O[6] = __shfl_sync(M, V, 31 - __clz(M)); // highest member
  } else {
    O[2] = __reduce_min_sync(~M, V);
    O[3] = static_cast<int>(__match_any_sync(~M, V & 3));
    O[4] = __any_sync(~M, V < 0);
    O[5] = -1;
    __syncwarp(~M);
    O[6] = static_cast<int>(__ballot_sync(~M, V > 100));
  }
  // Lanes 5..9 leave; the rest synchronise on the mask of the remaining lanes and vote.
  if (Lane >= 5 && Lane < 10)
    return;
  __syncwarp(~0x3e0u);
  O[7] = static_cast<int>(__ballot_sync(~0x3e0u, V & 2));
  O[8] = __reduce_or_sync(~0x3e0u, static_cast<unsigned>(V));
}

// ---- ballot + popc stream compaction -----------------------------------------------------------------------------

constexpr int CompactThreads = 256;
__global__ void compact(const int *In, int *Out, int *Counts) {
  __shared__ int WarpCount[CompactThreads / 32];
  __shared__ int WarpBase[CompactThreads / 32];
  int T = threadIdx.x, Lane = T % 32, Warp = T / 32;
  int V = In[blockIdx.x * CompactThreads + T];
  bool Keep = V % 3 != 0;
  unsigned Bal = __ballot_sync(0xffffffffu, Keep);
  int Pos = __popc(Bal & ((1u << Lane) - 1));
  if (Lane == 0)
    WarpCount[Warp] = __popc(Bal);
  __syncthreads();
  if (T == 0) {
    int S = 0;
    for (int W = 0; W < CompactThreads / 32; ++W) {
      WarpBase[W] = S;
      S += WarpCount[W];
    }
    Counts[blockIdx.x] = S;
  }
  __syncthreads();
  if (Keep)
    Out[blockIdx.x * CompactThreads + WarpBase[Warp] + Pos] = V;
}

// ---- match.any grouping: warp-aggregated histogram --------------------------------------------------------------

constexpr int Bins = 8;
__global__ void matchGroups(const int *In, unsigned *Masks, int *Hist, int *Sums) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int Lane = threadIdx.x % 32;
  int Key = In[I] % Bins;
  unsigned M = __match_any_sync(0xffffffffu, Key);
  Masks[I * 2] = M;
  int Leader = __ffs(M) - 1;
  if (Lane == Leader)
    atomicAdd(&Hist[Key], __popc(M));
  // The group's sum, gathered by the leader from its members with shuffles over the group's own mask.
  int Sum = __reduce_add_sync(M, In[I]);
  Sums[I] = __shfl_sync(M, Sum, Leader);
  Masks[I * 2 + 1] = 0;
  if (Lane & 1) // odd lanes only: grouping restricted to a partial mask
    Masks[I * 2 + 1] = __match_any_sync(0xaaaaaaaau, Key / 2);
}

// ---- Cooperative groups ------------------------------------------------------------------------------------------

constexpr int CgThreads = 128, CgOut = 8, CgTiles = 6; // N = 1, 2, 4, 8, 16, 32
template <int N> __device__ void tileChecks(const cg::thread_block &Block, int V, int *O) {
  cg::thread_block_tile<N> Tile = cg::tiled_partition<N>(Block);
  O[0] = cg::reduce(Tile, V, cg::plus<int>());
  O[1] = cg::inclusive_scan(Tile, V);
  O[2] = cg::exclusive_scan(Tile, V, cg::bit_xor<int>());
  O[3] = Tile.shfl(V, (Tile.thread_rank() + 1) % N);
  O[4] = static_cast<int>(Tile.ballot(V & 1));
  O[5] = static_cast<int>(Tile.meta_group_rank() * 100 + Tile.thread_rank());
  O[6] = cg::reduce(Tile, V, cg::greater<int>());
  O[7] = Tile.any(V > 900) * 2 + Tile.all(V > 10);
}

__global__ void cgTiles(const int *In, int *Out, int *Dyn, int *Coal) {
  __shared__ int S[CgThreads];
  cg::thread_block Block = cg::this_thread_block();
  int T = Block.thread_rank();
  int I = blockIdx.x * CgThreads + T;
  int V = In[I];
  int *O = Out + I * CgTiles * CgOut;
  tileChecks<1>(Block, V, O + 0 * CgOut);
  tileChecks<2>(Block, V, O + 1 * CgOut);
  tileChecks<4>(Block, V, O + 2 * CgOut);
  tileChecks<8>(Block, V, O + 3 * CgOut);
  tileChecks<16>(Block, V, O + 4 * CgOut);
  tileChecks<32>(Block, V, O + 5 * CgOut);

  // Dynamic partitions: a shared-memory sum per tile, synchronised with the tile's sync().
  for (int K = 0; K < CgTiles; ++K) {
    unsigned N = 1u << K;
    cg::thread_group Tile = cg::tiled_partition(Block, N);
    S[T] = V + K;
    Tile.sync();
    int Sum = 0;
    unsigned First = T - Tile.thread_rank();
    for (unsigned J = 0; J < Tile.size(); ++J)
      Sum += S[First + J];
    Tile.sync();
    Dyn[I * CgTiles + K] = Sum * 64 + static_cast<int>(Tile.size());
  }
  Block.sync();

  // Coalesced groups in divergent code.
  int *C = Coal + I * 10;
  for (int K = 0; K < 10; ++K)
    C[K] = -1;
  if (V % 3 != 0) {
    cg::coalesced_group Active = cg::coalesced_threads();
    C[0] = static_cast<int>(Active.size());
    C[1] = static_cast<int>(Active.thread_rank());
    C[2] = Active.shfl(V, 0);
    C[3] = cg::reduce(Active, V, cg::plus<int>());
    C[4] = cg::inclusive_scan(Active, V);
    cg::coalesced_group Label = cg::labeled_partition(Active, V % 4);
    C[5] = static_cast<int>(Label.size());
    C[6] = cg::reduce(Label, V, cg::plus<int>());
    C[7] = static_cast<int>(Label.thread_rank());
  }
  cg::thread_block_tile<32> Warp = cg::tiled_partition<32>(Block);
  cg::coalesced_group Bin = cg::binary_partition(Warp, V > 500);
  C[8] = static_cast<int>(Bin.size());
  C[9] = cg::reduce(Bin, V, cg::less<int>());
}

// ---- grid.sync() across 64 blocks --------------------------------------------------------------------------------

constexpr int GridBlocks = 64, GridThreads = 64, GridN = GridBlocks * GridThreads, GridRounds = 8;
__global__ void gridRounds(int *Data, int *Info) {
  cg::grid_group Grid = cg::this_grid();
  unsigned R = static_cast<unsigned>(Grid.thread_rank());
  for (int Round = 0; Round < GridRounds; ++Round) {
    const int *Src = Data + (Round % 2) * GridN;
    int *Dst = Data + ((Round + 1) % 2) * GridN;
    Dst[R] = Src[R] + Src[(R + 1 + Round * 37) % GridN] * (Round % 3 - 1);
    Grid.sync();
  }
  if (R == 0) {
    Info[0] = Grid.is_valid();
    Info[1] = static_cast<int>(Grid.size());
    Info[2] = static_cast<int>(Grid.num_blocks());
  }
  if (threadIdx.x == 0)
    Info[3 + blockIdx.x] = static_cast<int>(Grid.block_rank());
}

int main() {
  int Failures = 0;
  e2e::Rng R(77);

  { // shuffle matrix
    std::vector<unsigned> In(ShflThreads);
    for (unsigned &V : In)
      V = R.next() & 0x3fffffffu;
    std::vector<unsigned> Bs(ShflB, ShflB + NumB);
    unsigned *DIn = toDevice(In), *DBs = toDevice(Bs), *DOut;
    size_t Count = static_cast<size_t>(NumWidths) * NumB * 4 * ShflThreads;
    E2E_CHECK(cudaMalloc(&DOut, Count * sizeof(unsigned)));
    shuffleMatrix<<<1, ShflThreads>>>(DIn, DBs, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Count);
    e2e::Mismatches M("shfl.sync up/down/bfly/idx, widths 1..32, lanes in and out of range, |p");
    for (int W = 0; W < NumWidths; ++W)
      for (int K = 0; K < NumB; ++K)
        for (int Mode = 0; Mode < 4; ++Mode)
          for (int I = 0; I < ShflThreads; ++I) {
            unsigned Seg = (32u - ShflWidths[W]) << 8;
            unsigned P;
            unsigned Want = refShfl(&In[I / 32 * 32], I % 32, Mode, Bs[K], Mode == 0 ? Seg : Seg | 31, P);
            size_t J = ((W * NumB + K) * 4 + Mode) * ShflThreads + I;
            M.intAt(static_cast<long>(J), Out[J], Want | P << 31);
          }
    Failures += !M.report();
    // The CUDA C++ view of the same rule: __shfl_sync reads lane srcLane modulo width within the segment.
    e2e::Mismatches MC("__shfl_sync source lane taken modulo width");
    for (int W = 0; W < NumWidths; ++W)
      for (int K = 0; K < NumB; ++K)
        for (int I = 0; I < ShflThreads; ++I) {
          int Width = ShflWidths[W];
          int Src = (I % 32) / Width * Width + static_cast<int>(Bs[K] % static_cast<unsigned>(Width));
          size_t J = ((W * NumB + K) * 4 + 3) * ShflThreads + I;
          MC.intAt(static_cast<long>(J), Out[J] & 0x7fffffffu, In[I / 32 * 32 + Src]);
        }
    Failures += !MC.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DBs));
    E2E_CHECK(cudaFree(DOut));
  }

  { // partial masks
    const int Blocks = 2, Threads = 96, N = Blocks * Threads;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(-200, 1000);
    int *DIn = toDevice(In), *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * PartialOut * sizeof(int)));
    E2E_CHECK(cudaMemset(DOut, 0x7f, N * PartialOut * sizeof(int)));
    partialMasks<<<Blocks, Threads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N * PartialOut);
    e2e::Mismatches M("partial-mask collectives in divergent code, after lanes exited");
    for (int W = 0; W < N / 32; ++W) {
      const int *Vs = &In[W * 32];
      unsigned Odd16 = 0, Mask3 = 0, Bit2 = 0, OrAll = 0;
      int Upper = 0;
      for (int L = 0; L < 32; ++L) {
        if (L < 16 && (Vs[L] & 1))
          Odd16 |= 1u << L;
        if (L >= 16)
          Upper += Vs[L];
        if (Vs[L] % 3 == 0)
          Mask3 |= 1u << L;
        if (!(L >= 5 && L < 10)) {
          if (Vs[L] & 2)
            Bit2 |= 1u << L;
          OrAll |= static_cast<unsigned>(Vs[L]);
        }
      }
      for (int L = 0; L < 32; ++L) {
        int I = W * 32 + L;
        const int *O = &Out[I * PartialOut];
        int Want[PartialOut];
        if (L < 16) {
          Want[0] = Vs[(L * 3) % 16];
          Want[1] = static_cast<int>(Odd16);
        } else {
          Want[0] = L + 3 < 32 ? Vs[L + 3] : Vs[L];
          Want[1] = Upper;
        }
        unsigned Grp = (Vs[L] % 3 == 0) ? Mask3 : ~Mask3;
        int Max = -1 << 30, Min = 1 << 30, Any = 0, All = 1;
        unsigned Match = 0, Big = 0;
        for (int J = 0; J < 32; ++J)
          if (Grp & (1u << J)) {
            Max = std::max(Max, Vs[J]);
            Min = std::min(Min, Vs[J]);
            Any |= Vs[J] < 0;
            All &= Vs[J] > 0;
            if ((Vs[J] & 3) == (Vs[L] & 3))
              Match |= 1u << J;
            if (Vs[J] > 100)
              Big |= 1u << J;
          }
        if (Vs[L] % 3 == 0) {
          Want[2] = Max;
          Want[3] = Vs[__builtin_ctz(Grp)];
          Want[4] = All;
          Want[5] = __builtin_popcount(Grp & ((1u << L) - 1));
          Want[6] = Vs[31 - __builtin_clz(Grp)];
        } else {
          Want[2] = Min;
          Want[3] = static_cast<int>(Match);
          Want[4] = Any;
          Want[5] = -1;
          Want[6] = static_cast<int>(Big);
        }
        bool Left = L >= 5 && L < 10;
        Want[7] = Left ? 0x7f7f7f7f : static_cast<int>(Bit2);
        Want[8] = Left ? 0x7f7f7f7f : static_cast<int>(OrAll);
        for (int K = 0; K < PartialOut; ++K)
          M.intAt(I * PartialOut + K, O[K], Want[K]);
      }
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // ballot + popc stream compaction
    const int Blocks = 16, N = Blocks * CompactThreads;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(-10000, 10000);
    int *DIn = toDevice(In), *DOut, *DCounts;
    E2E_CHECK(cudaMalloc(&DOut, N * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DCounts, Blocks * sizeof(int)));
    E2E_CHECK(cudaMemset(DOut, 0, N * sizeof(int)));
    compact<<<Blocks, CompactThreads>>>(DIn, DOut, DCounts);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N);
    auto Counts = toHost(DCounts, Blocks);
    e2e::Mismatches M("ballot + popc stream compaction");
    for (int B = 0; B < Blocks; ++B) {
      int K = 0;
      for (int T = 0; T < CompactThreads; ++T) {
        int V = In[B * CompactThreads + T];
        if (V % 3 != 0) {
          M.intAt(B * CompactThreads + K, Out[B * CompactThreads + K], V);
          ++K;
        }
      }
      M.intAt(N + B, Counts[B], K);
      for (; K < CompactThreads; ++K)
        M.intAt(B * CompactThreads + K, Out[B * CompactThreads + K], 0);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
    E2E_CHECK(cudaFree(DCounts));
  }

  { // match.any grouping
    const int Blocks = 8, Threads = 128, N = Blocks * Threads;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(0, 100000);
    int *DIn = toDevice(In), *DHist, *DSums;
    unsigned *DMasks;
    E2E_CHECK(cudaMalloc(&DMasks, N * 2 * sizeof(unsigned)));
    E2E_CHECK(cudaMalloc(&DHist, Bins * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DSums, N * sizeof(int)));
    E2E_CHECK(cudaMemset(DHist, 0, Bins * sizeof(int)));
    matchGroups<<<Blocks, Threads>>>(DIn, DMasks, DHist, DSums);
    E2E_CHECK_LAUNCH();
    auto Masks = toHost(DMasks, N * 2);
    auto Hist = toHost(DHist, Bins);
    auto Sums = toHost(DSums, N);
    e2e::Mismatches M("match.any groups, warp-aggregated histogram, group sums, partial mask");
    std::vector<int> WantHist(Bins, 0);
    for (int I = 0; I < N; ++I) {
      int W = I / 32 * 32, L = I % 32, Key = In[I] % Bins;
      ++WantHist[Key];
      unsigned Grp = 0, Odd = 0;
      int Sum = 0;
      for (int J = 0; J < 32; ++J) {
        if (In[W + J] % Bins == Key) {
          Grp |= 1u << J;
          Sum += In[W + J];
        }
        if ((J & 1) && (In[W + J] % Bins) / 2 == Key / 2)
          Odd |= 1u << J;
      }
      M.intAt(I * 2, Masks[I * 2], Grp);
      M.intAt(I * 2 + 1, Masks[I * 2 + 1], (L & 1) ? Odd : 0);
      M.intAt(2 * N + I, Sums[I], Sum);
    }
    for (int K = 0; K < Bins; ++K)
      M.intAt(3 * N + K, Hist[K], WantHist[K]);
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DMasks));
    E2E_CHECK(cudaFree(DHist));
    E2E_CHECK(cudaFree(DSums));
  }

  { // cooperative groups
    const int Blocks = 3, N = Blocks * CgThreads;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(1, 1000);
    int *DIn = toDevice(In), *DOut, *DDyn, *DCoal;
    E2E_CHECK(cudaMalloc(&DOut, N * CgTiles * CgOut * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DDyn, N * CgTiles * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DCoal, N * 10 * sizeof(int)));
    cgTiles<<<Blocks, CgThreads>>>(DIn, DOut, DDyn, DCoal);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N * CgTiles * CgOut);
    auto Dyn = toHost(DDyn, N * CgTiles);
    auto Coal = toHost(DCoal, N * 10);
    e2e::Mismatches MT("tiled_partition<1..32>: reduce, inclusive/exclusive scan, shfl, ballot, ranks, any/all");
    e2e::Mismatches MD("tiled_partition(block, 1..32) with sync()");
    for (int I = 0; I < N; ++I) {
      int T = I % CgThreads;
      for (int K = 0; K < CgTiles; ++K) {
        int Size = 1 << K, First = I - T % Size;
        int Rank = T % Size;
        int Sum = 0, Inc = 0, Ex = 0, Max = 0, Any = 0, All = 1;
        unsigned Bal = 0;
        for (int J = 0; J < Size; ++J) {
          int V = In[First + J];
          Sum += V;
          if (J <= Rank)
            Inc += V;
          if (J < Rank)
            Ex ^= V;
          Max = std::max(Max, V);
          if (V & 1)
            Bal |= 1u << J;
          Any |= V > 900;
          All &= V > 10;
        }
        const int *O = &Out[(I * CgTiles + K) * CgOut];
        int Want[CgOut] = {Sum, Inc, Ex, In[First + (Rank + 1) % Size], static_cast<int>(Bal),
                           (T / Size) * 100 + Rank, Max, Any * 2 + All};
        for (int X = 0; X < CgOut; ++X)
          MT.intAt((I * CgTiles + K) * CgOut + X, O[X], Want[X]);
        int DSum = 0;
        for (int J = 0; J < Size; ++J)
          DSum += In[First + J] + K;
        MD.intAt(I * CgTiles + K, Dyn[I * CgTiles + K], DSum * 64 + Size);
      }
    }
    Failures += !MT.report();
    Failures += !MD.report();
    e2e::Mismatches MC("coalesced_threads, labeled_partition, binary_partition");
    for (int I = 0; I < N; ++I) {
      int W = I / 32 * 32, L = I % 32, V = In[I];
      int Want[10] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
      if (V % 3 != 0) {
        int Size = 0, Rank = 0, First = -1, Sum = 0, Inc = 0, LSize = 0, LSum = 0, LRank = 0;
        for (int J = 0; J < 32; ++J) {
          int X = In[W + J];
          if (X % 3 == 0)
            continue;
          if (First < 0)
            First = X;
          ++Size;
          Sum += X;
          if (J < L)
            ++Rank;
          if (J <= L)
            Inc += X;
          if (X % 4 == V % 4) {
            ++LSize;
            LSum += X;
            if (J < L)
              ++LRank;
          }
        }
        int Got[8] = {Size, Rank, First, Sum, Inc, LSize, LSum, LRank};
        for (int K = 0; K < 8; ++K)
          Want[K] = Got[K];
      }
      int BSize = 0, BMin = 1 << 30;
      for (int J = 0; J < 32; ++J)
        if ((In[W + J] > 500) == (V > 500)) {
          ++BSize;
          BMin = std::min(BMin, In[W + J]);
        }
      Want[8] = BSize;
      Want[9] = BMin;
      for (int K = 0; K < 10; ++K)
        MC.intAt(I * 10 + K, Coal[I * 10 + K], Want[K]);
    }
    Failures += !MC.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
    E2E_CHECK(cudaFree(DDyn));
    E2E_CHECK(cudaFree(DCoal));
  }

  { // grid.sync() across 64 blocks
    int PerSm = 0, Sms = 0;
    E2E_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&PerSm, gridRounds, GridThreads, 0));
    E2E_CHECK(cudaDeviceGetAttribute(&Sms, cudaDevAttrMultiProcessorCount, 0));
    std::printf("  (cooperative limit: %d blocks per SM x %d SMs)\n", PerSm, Sms);
    std::vector<int> Data(2 * GridN, 0);
    for (int I = 0; I < GridN; ++I)
      Data[I] = R.range(-1000, 1000);
    int *DData = toDevice(Data), *DInfo;
    E2E_CHECK(cudaMalloc(&DInfo, (3 + GridBlocks) * sizeof(int)));
    void *Args[] = {&DData, &DInfo};
    cudaError_t E = cudaLaunchCooperativeKernel(reinterpret_cast<const void *>(gridRounds), dim3(GridBlocks),
                                                dim3(GridThreads), Args, 0, nullptr);
    if (PerSm * Sms >= GridBlocks) {
      e2e::expectCode(E, cudaSuccess, "cooperative launch of 64 blocks");
      E2E_CHECK(cudaDeviceSynchronize());
      auto Got = toHost(DData, 2 * GridN);
      auto Info = toHost(DInfo, 3 + GridBlocks);
      std::vector<int> Cur(Data.begin(), Data.begin() + GridN), Next(GridN);
      for (int Round = 0; Round < GridRounds; ++Round) {
        for (int J = 0; J < GridN; ++J)
          Next[J] = Cur[J] + Cur[(J + 1 + Round * 37) % GridN] * (Round % 3 - 1);
        Cur.swap(Next);
      }
      e2e::Mismatches M("grid.sync() across 64 blocks, 8 rounds; grid_group size/num_blocks/block_rank");
      for (int J = 0; J < GridN; ++J)
        M.intAt(J, Got[(GridRounds % 2) * GridN + J], Cur[J]);
      M.intAt(GridN, Info[0], 1);
      M.intAt(GridN + 1, Info[1], GridN);
      M.intAt(GridN + 2, Info[2], GridBlocks);
      for (int B = 0; B < GridBlocks; ++B)
        M.intAt(GridN + 3 + B, Info[3 + B], B);
      Failures += !M.report();
    } else {
      // Fewer resident blocks than 64 (one worker): the launch must be refused, never hang.
      e2e::expectCode(E, cudaErrorCooperativeLaunchTooLarge, "cooperative launch of 64 blocks beyond the limit");
    }
    E2E_CHECK(cudaFree(DData));
    E2E_CHECK(cudaFree(DInfo));
  }
  return e2e::finish("simt_warps", Failures);
}
