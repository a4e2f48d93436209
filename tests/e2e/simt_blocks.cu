// End-to-end: block-level SIMT hard cases against CPU references: shared-memory reversal in 1D/2D/3D blocks of 1..1024
// threads, tree reductions, barrier loops with break/continue, __syncthreads_count/and/or after early exits, named
// barriers with per-group thread counts (bar.sync/bar.red), 1024 threads holding 64 live floats across barriers,
// 100k blocks of 32 threads, and a decoupled look-back scan over 1M elements.
#include "simt_common.h"

#include <vector>

using simt::toDevice;
using simt::toHost;

// Each block reverses its slice through dynamic shared memory, indexed by the linear thread id of a 3D block.
__global__ void reverseBlock(const int *In, int *Out) {
  extern __shared__ int Buf[];
  unsigned N = blockDim.x * blockDim.y * blockDim.z;
  unsigned L = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  unsigned Base = blockIdx.x * N;
  Buf[L] = In[Base + L];
  __syncthreads();
  int V = Buf[N - 1 - L];
  __syncthreads(); // second phase: reverse again, shifted by one (the buffer is reused)
  Buf[(L + 1) % N] = V;
  __syncthreads();
  Out[Base + L] = Buf[L] * 2 + V;
}

// Grid-stride accumulation, then a shared-memory tree (folding a non-power-of-two block first) and a shuffle finish.
__global__ void treeReduce(const int *In, int *Out, int N) {
  extern __shared__ int S[];
  unsigned T = threadIdx.x;
  int Acc = 0;
  for (unsigned I = blockIdx.x * blockDim.x + T; I < static_cast<unsigned>(N); I += blockDim.x * gridDim.x)
    Acc += In[I];
  S[T] = Acc;
  __syncthreads();
  unsigned P = 1;
  while (P * 2 <= blockDim.x)
    P *= 2;
  if (T < blockDim.x - P)
    S[T] += S[T + P];
  __syncthreads();
  for (unsigned Step = P / 2; Step >= 32; Step >>= 1) {
    if (T < Step)
      S[T] += S[T + Step];
    __syncthreads();
  }
  if (T < 32) {
    int V = S[T];
    for (int Off = 16; Off > 0; Off >>= 1)
      V += __shfl_down_sync(0xffffffff, V, Off);
    if (T == 0)
      Out[blockIdx.x] = V;
  }
}

// A barrier loop steered by a per-block control word per iteration: 0 normal, 1 continue before any barrier,
// 2 break after the iteration's barriers, 3 continue between two barriers.
constexpr int LoopThreads = 128, LoopIters = 40;
__global__ void breakContinue(const int *Ctl, int *Out) {
  __shared__ int Buf[LoopThreads];
  int T = threadIdx.x;
  int Acc = T;
  for (int I = 0; I < LoopIters; ++I) {
    int C = Ctl[blockIdx.x * LoopIters + I];
    if (C == 1)
      continue;
    Buf[T] = Acc;
    __syncthreads();
    if (C == 3) {
      Acc ^= 1;
      __syncthreads();
      continue;
    }
    Acc += Buf[(T + I) % LoopThreads];
    __syncthreads();
    if (C == 2)
      break;
  }
  Out[blockIdx.x * LoopThreads + T] = Acc;
}

// Threads leave at two points (scattered, whole warps included); the survivors vote with __syncthreads_count/and/or,
// which count live threads only.
constexpr int ExitThreads = 160;
__global__ void exitVotes(const int *In, int *Out) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int V = In[I];
  int *O = Out + I * 8;
  if (V % 7 == 0 || (blockIdx.x == 1 && threadIdx.x / 32 == 2))
    return;
  int P = V & 1;
  O[0] = __syncthreads_count(P);
  O[1] = __syncthreads_and(P);
  O[2] = __syncthreads_or(P);
  __syncthreads();
  O[3] = __syncthreads_and(V > 0);
  if (V % 11 == 0)
    return;
  int Q = (V >> 1) & 1;
  O[4] = __syncthreads_count(Q);
  O[5] = __syncthreads_and(Q);
  O[6] = __syncthreads_or(Q);
  O[7] = __syncthreads_count(1);
}

// Three groups of warps (96, 64 and 96 threads) sum their values through shared memory, each on its own named
// barrier with its own thread count, three rounds; then bar.red.popc with a count per group and a block barrier.
__device__ __forceinline__ void groupSync(unsigned Id, unsigned Count) {
  asm volatile("bar.sync %0, %1;" ::"r"(Id), "r"(Count) : "memory");
}
__device__ __forceinline__ unsigned groupPopc(unsigned Id, unsigned Count, unsigned P) {
  unsigned R;
  asm volatile("{\n\t.reg .pred p;\n\tsetp.ne.u32 p, %3, 0;\n\tbar.red.popc.u32 %0, %1, %2, p;\n\t}"
               : "=r"(R)
               : "r"(Id), "r"(Count), "r"(P)
               : "memory");
  return R;
}
__global__ void namedGroups(const int *In, int *Out) {
  __shared__ int S[256];
  int T = threadIdx.x;
  int Warp = T / 32;
  unsigned First = Warp < 3 ? 0 : Warp < 5 ? 96 : 160;
  unsigned Count = Warp < 3 ? 96 : Warp < 5 ? 64 : 96;
  unsigned Id = Warp < 3 ? 1 : Warp < 5 ? 2 : 3;
  int V = In[blockIdx.x * 256 + T];
  for (int Round = 0; Round < 3; ++Round) {
    S[T] = V;
    groupSync(Id, Count);
    int Sum = 0;
    for (unsigned J = First; J < First + Count; ++J)
      Sum += S[J];
    groupSync(Id, Count);
    V = Sum % 1000 + T;
  }
  unsigned Popc = groupPopc(Id + 4, Count, V & 1);
  __syncthreads();
  Out[(blockIdx.x * 256 + T) * 2] = V;
  Out[(blockIdx.x * 256 + T) * 2 + 1] = static_cast<int>(Popc);
}

// 1024 threads each keep 64 floats live across 512 barriers (integer-valued, so the sums are exact).
constexpr int LiveThreads = 1024, LiveRegs = 64, LiveRounds = 4;
__global__ void __launch_bounds__(1024) liveFloats(const float *In, float *Out) {
  __shared__ float S[LiveThreads];
  unsigned T = threadIdx.x;
  const float *Src = In + (static_cast<size_t>(blockIdx.x) * LiveThreads + T) * LiveRegs;
  float R[LiveRegs];
#pragma unroll
  for (int K = 0; K < LiveRegs; ++K)
    R[K] = Src[K];
  for (int Round = 0; Round < LiveRounds; ++Round) {
#pragma unroll
    for (int K = 0; K < LiveRegs; ++K) {
      S[T] = R[K];
      __syncthreads();
      R[K] += S[(T + K + Round) & (LiveThreads - 1)];
      __syncthreads();
    }
  }
  float *Dst = Out + (static_cast<size_t>(blockIdx.x) * LiveThreads + T) * LiveRegs;
#pragma unroll
  for (int K = 0; K < LiveRegs; ++K)
    Dst[K] = R[K];
}

// Many tiny blocks, each with a barrier and a shuffle (fiber mode for every one of them).
__global__ void tinyBlocks(const int *In, int *Out) {
  __shared__ int S[32];
  int I = blockIdx.x * 32 + threadIdx.x;
  int V = In[I];
  S[threadIdx.x] = V;
  __syncthreads();
  Out[I] = S[31 - threadIdx.x] + __shfl_xor_sync(0xffffffff, V, 1) + static_cast<int>(blockIdx.x);
}

// Decoupled look-back inclusive scan, 8 items per thread: tiles are numbered by an atomic ticket so a tile only
// waits for tiles that started before it; the status word holds a flag (1 aggregate, 2 inclusive prefix) and value.
constexpr int ScanThreads = 256, ScanItems = 8, ScanTile = ScanThreads * ScanItems;
__device__ unsigned ScanTicket = 0;
__global__ void lookback(const int *In, int *Out, int N, volatile unsigned long long *Status) {
  __shared__ int Part[ScanThreads];
  __shared__ unsigned Tile;
  __shared__ int Exclusive;
  if (threadIdx.x == 0)
    Tile = atomicAdd(&ScanTicket, 1);
  __syncthreads();
  int Base = Tile * ScanTile + threadIdx.x * ScanItems;
  int V[ScanItems];
  int Own = 0;
#pragma unroll
  for (int K = 0; K < ScanItems; ++K) {
    V[K] = Base + K < N ? In[Base + K] : 0;
    Own += V[K];
    V[K] = Own;
  }
  // Block-wide exclusive scan of the per-thread totals: warp shuffles, then the warp totals.
  int Lane = threadIdx.x % 32, Warp = threadIdx.x / 32;
  int Inc = Own;
  for (int Off = 1; Off < 32; Off <<= 1) {
    int X = __shfl_up_sync(0xffffffff, Inc, Off);
    if (Lane >= Off)
      Inc += X;
  }
  if (Lane == 31)
    Part[Warp] = Inc;
  __syncthreads();
  if (Warp == 0) {
    int W = Lane < ScanThreads / 32 ? Part[Lane] : 0;
    for (int Off = 1; Off < 32; Off <<= 1) {
      int X = __shfl_up_sync(0xffffffff, W, Off);
      if (Lane >= Off)
        W += X;
    }
    if (Lane < ScanThreads / 32)
      Part[Lane] = W; // inclusive warp prefix
  }
  __syncthreads();
  int Before = Inc - Own + (Warp > 0 ? Part[Warp - 1] : 0);
  if (threadIdx.x == 0)
    Exclusive = simt::lookbackPrefix(Status, Tile, Part[ScanThreads / 32 - 1]);
  __syncthreads();
#pragma unroll
  for (int K = 0; K < ScanItems; ++K)
    if (Base + K < N)
      Out[Base + K] = V[K] + Before + Exclusive;
}

int main() {
  int Failures = 0;
  e2e::Rng R(2024);

  { // reversal in 1D/2D/3D blocks
    const dim3 Shapes[] = {{1, 1, 1},   {48, 1, 1},  {8, 6, 1},    {4, 3, 4},   {100, 1, 1},
                           {10, 10, 1}, {5, 5, 4},   {1000, 1, 1}, {40, 25, 1}, {10, 10, 10},
                           {1024, 1, 1}, {32, 32, 1}, {16, 8, 8}};
    const int Blocks = 3;
    std::vector<int> In(Blocks * 1024);
    for (int &V : In)
      V = R.range(-100000, 100000);
    int *DIn = toDevice(In);
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, In.size() * sizeof(int)));
    for (const dim3 &S : Shapes) {
      int N = S.x * S.y * S.z;
      reverseBlock<<<Blocks, S, N * sizeof(int)>>>(DIn, DOut);
      E2E_CHECK_LAUNCH();
      auto Out = toHost(DOut, Blocks * N);
      char Name[96];
      std::snprintf(Name, sizeof(Name), "shared-memory reversal, block %ux%ux%u", S.x, S.y, S.z);
      e2e::Mismatches M(Name);
      for (int B = 0; B < Blocks; ++B)
        for (int L = 0; L < N; ++L) {
          auto V = [&](int J) { return In[B * N + N - 1 - J]; };
          M.intAt(B * N + L, Out[B * N + L], V((L + N - 1) % N) * 2 + V(L));
        }
      Failures += !M.report();
    }
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // tree reductions
    const int N = 300007;
    std::vector<int> In(N);
    long long Want = 0;
    for (int &V : In) {
      V = R.range(-1000, 1000);
      Want += V;
    }
    int *DIn = toDevice(In);
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, 64 * sizeof(int)));
    for (int Block : {1024, 320, 96, 64}) {
      const int Blocks = 24;
      treeReduce<<<Blocks, Block, Block * sizeof(int)>>>(DIn, DOut, N);
      E2E_CHECK_LAUNCH();
      auto Out = toHost(DOut, Blocks);
      std::vector<long long> Part(Blocks, 0);
      for (int I = 0; I < N; ++I)
        Part[(I / Block) % Blocks] += In[I];
      char Name[64];
      std::snprintf(Name, sizeof(Name), "tree reduction, %d blocks of %d", Blocks, Block);
      e2e::Mismatches M(Name);
      long long Total = 0;
      for (int B = 0; B < Blocks; ++B) {
        M.intAt(B, Out[B], Part[B]);
        Total += Out[B];
      }
      M.intAt(Blocks, Total, Want);
      Failures += !M.report();
    }
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // barrier loops with break and continue
    const int Blocks = 6;
    std::vector<int> Ctl(Blocks * LoopIters);
    for (int B = 0; B < Blocks; ++B)
      for (int I = 0; I < LoopIters; ++I) {
        int X = R.range(0, 9);
        Ctl[B * LoopIters + I] = X < 5 ? 0 : X < 7 ? 1 : X < 9 ? 3 : (B % 2 ? 2 : 0);
      }
    int *DCtl = toDevice(Ctl);
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, Blocks * LoopThreads * sizeof(int)));
    breakContinue<<<Blocks, LoopThreads>>>(DCtl, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * LoopThreads);
    e2e::Mismatches M("barrier loop with break and continue");
    for (int B = 0; B < Blocks; ++B) {
      std::vector<int> Acc(LoopThreads);
      for (int T = 0; T < LoopThreads; ++T)
        Acc[T] = T;
      for (int I = 0; I < LoopIters; ++I) {
        int C = Ctl[B * LoopIters + I];
        if (C == 1)
          continue;
        std::vector<int> Buf(Acc);
        if (C == 3) {
          for (int &A : Acc)
            A ^= 1;
          continue;
        }
        for (int T = 0; T < LoopThreads; ++T)
          Acc[T] += Buf[(T + I) % LoopThreads];
        if (C == 2)
          break;
      }
      for (int T = 0; T < LoopThreads; ++T)
        M.intAt(B * LoopThreads + T, Out[B * LoopThreads + T], Acc[T]);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DCtl));
    E2E_CHECK(cudaFree(DOut));
  }

  { // __syncthreads_count/and/or with early-exiting threads
    const int Blocks = 4, N = Blocks * ExitThreads;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(-50, 1000);
    for (int T = 0; T < ExitThreads; ++T) // block 3: nobody exits at the first point, all values odd and positive
      In[3 * ExitThreads + T] = 14 * R.range(1, 400) + 1 + 2 * (T % 2);
    int *DIn = toDevice(In);
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * 8 * sizeof(int)));
    E2E_CHECK(cudaMemset(DOut, 0xff, N * 8 * sizeof(int)));
    exitVotes<<<Blocks, ExitThreads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N * 8);
    e2e::Mismatches M("__syncthreads_count/and/or after early exits");
    for (int B = 0; B < Blocks; ++B) {
      auto exits1 = [&](int T) { return In[B * ExitThreads + T] % 7 == 0 || (B == 1 && T / 32 == 2); };
      int Live = 0, Count = 0, NonPos = 0, Live2 = 0, Count2 = 0;
      for (int T = 0; T < ExitThreads; ++T) {
        int V = In[B * ExitThreads + T];
        if (exits1(T))
          continue;
        ++Live;
        Count += V & 1;
        NonPos += V <= 0;
        if (V % 11 == 0)
          continue;
        ++Live2;
        Count2 += (V >> 1) & 1;
      }
      for (int T = 0; T < ExitThreads; ++T) {
        int I = B * ExitThreads + T;
        int V = In[I];
        const int *O = &Out[I * 8];
        int Want[8] = {-1, -1, -1, -1, -1, -1, -1, -1};
        if (!exits1(T)) {
          Want[0] = Count;
          Want[1] = Count == Live;
          Want[2] = Count > 0;
          Want[3] = NonPos == 0;
          if (V % 11 != 0) {
            Want[4] = Count2;
            Want[5] = Count2 == Live2;
            Want[6] = Count2 > 0;
            Want[7] = Live2;
          }
        }
        for (int K = 0; K < 8; ++K)
          M.intAt(I * 8 + K, O[K], Want[K]);
      }
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // named barriers with per-group counts
    const int Blocks = 3;
    std::vector<int> In(Blocks * 256);
    for (int &V : In)
      V = R.range(0, 5000);
    int *DIn = toDevice(In);
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, Blocks * 256 * 2 * sizeof(int)));
    namedGroups<<<Blocks, 256>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, Blocks * 256 * 2);
    e2e::Mismatches M("named barriers with per-group thread counts, bar.red.popc with a count");
    const int Firsts[3] = {0, 96, 160}, Counts[3] = {96, 64, 96};
    for (int B = 0; B < Blocks; ++B) {
      std::vector<int> V(In.begin() + B * 256, In.begin() + (B + 1) * 256);
      for (int Round = 0; Round < 3; ++Round) {
        std::vector<int> Next(256);
        for (int G = 0; G < 3; ++G) {
          int Sum = 0;
          for (int J = Firsts[G]; J < Firsts[G] + Counts[G]; ++J)
            Sum += V[J];
          for (int J = Firsts[G]; J < Firsts[G] + Counts[G]; ++J)
            Next[J] = Sum % 1000 + J;
        }
        V = Next;
      }
      for (int G = 0; G < 3; ++G) {
        int Popc = 0;
        for (int J = Firsts[G]; J < Firsts[G] + Counts[G]; ++J)
          Popc += V[J] & 1;
        for (int J = Firsts[G]; J < Firsts[G] + Counts[G]; ++J) {
          M.intAt((B * 256 + J) * 2, Out[(B * 256 + J) * 2], V[J]);
          M.intAt((B * 256 + J) * 2 + 1, Out[(B * 256 + J) * 2 + 1], Popc);
        }
      }
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // 1024 threads x 64 live floats across barriers
    const int Blocks = 2;
    const size_t N = static_cast<size_t>(Blocks) * LiveThreads * LiveRegs;
    std::vector<float> In(N);
    for (float &V : In)
      V = static_cast<float>(R.range(-8, 8));
    float *DIn = toDevice(In);
    float *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * sizeof(float)));
    liveFloats<<<Blocks, LiveThreads>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N);
    e2e::Mismatches M("1024 threads x 64 live floats across 512 barriers");
    for (int B = 0; B < Blocks; ++B) {
      std::vector<float> Reg(In.begin() + static_cast<size_t>(B) * LiveThreads * LiveRegs,
                             In.begin() + static_cast<size_t>(B + 1) * LiveThreads * LiveRegs);
      std::vector<float> S(LiveThreads);
      for (int Round = 0; Round < LiveRounds; ++Round)
        for (int K = 0; K < LiveRegs; ++K) {
          for (int T = 0; T < LiveThreads; ++T)
            S[T] = Reg[T * LiveRegs + K];
          for (int T = 0; T < LiveThreads; ++T)
            Reg[T * LiveRegs + K] += S[(T + K + Round) & (LiveThreads - 1)];
        }
      for (size_t J = 0; J < Reg.size(); ++J) {
        size_t I = static_cast<size_t>(B) * LiveThreads * LiveRegs + J;
        M.realAt(static_cast<long>(I), Out[I], Reg[J], 0, 0);
      }
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // 100k blocks of 32 threads
    const int Blocks = 100000, N = Blocks * 32;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(-1000000, 1000000);
    int *DIn = toDevice(In);
    int *DOut;
    E2E_CHECK(cudaMalloc(&DOut, N * sizeof(int)));
    tinyBlocks<<<Blocks, 32>>>(DIn, DOut);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N);
    e2e::Mismatches M("100000 blocks of 32 threads (barrier + shuffle)");
    for (int I = 0; I < N; ++I) {
      int B = I / 32, T = I % 32;
      M.intAt(I, Out[I], In[B * 32 + 31 - T] + In[B * 32 + (T ^ 1)] + B);
    }
    Failures += !M.report();
    E2E_CHECK(cudaFree(DIn));
    E2E_CHECK(cudaFree(DOut));
  }

  { // decoupled look-back scan over 1M elements
    const int N = 1 << 20, Tiles = (N + ScanTile - 1) / ScanTile;
    std::vector<int> In(N);
    for (int &V : In)
      V = R.range(-100, 100);
    int *DIn = toDevice(In);
    int *DOut;
    unsigned long long *DStatus;
    E2E_CHECK(cudaMalloc(&DOut, N * sizeof(int)));
    E2E_CHECK(cudaMalloc(&DStatus, Tiles * sizeof(unsigned long long)));
    E2E_CHECK(cudaMemset(DStatus, 0, Tiles * sizeof(unsigned long long)));
    unsigned Zero = 0;
    E2E_CHECK(cudaMemcpyToSymbol(ScanTicket, &Zero, sizeof(Zero)));
    lookback<<<Tiles, ScanThreads>>>(DIn, DOut, N, DStatus);
    E2E_CHECK_LAUNCH();
    auto Out = toHost(DOut, N);
    e2e::Mismatches M("decoupled look-back scan, 1M elements");
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
  return e2e::finish("simt_blocks", Failures);
}
