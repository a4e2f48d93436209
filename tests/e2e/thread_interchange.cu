// End-to-end: kernels whose threads all run the same inner loop (a loop over a shared-memory tile, over the rows of
// a column-major matrix), which the host JIT's ThreadLoopInterchangePass runs block by block so that the inner
// loop's work is vectorised across threads; and kernels it must leave alone (a branch on per-thread data inside the
// loop, strided addresses). Floating-point results are compared bit for bit with CPU code doing the same
// operations in the same order (explicitly rounded device intrinsics, std::fma on the host): every thread must run
// exactly its own instructions. Blocks of 1, 33, 100, 256 and 1024 threads, 2D blocks, partial last blocks and
// inner loops of 0 to 37 iterations (nvcc unrolls them by 4 with a remainder).
#include "simt_common.h"

#include <cstring>
#include <vector>

namespace {

using simt::toDevice;
using simt::toHost;

// n-body style: the bodies pass through shared memory one block-sized tile at a time.
__global__ void tileForces(int N, const float4 *Pos, float4 *Acc) {
  extern __shared__ float4 Tile[];
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  float4 P = Pos[I];
  float Ax = 0.0f, Ay = 0.0f, Az = 0.0f;
  for (int Base = 0; Base < N; Base += blockDim.x) {
    Tile[threadIdx.x] = Pos[Base + threadIdx.x];
    __syncthreads();
    for (int J = 0; J < (int)blockDim.x; ++J) {
      float4 Q = Tile[J];
      float Dx = __fsub_rn(Q.x, P.x), Dy = __fsub_rn(Q.y, P.y), Dz = __fsub_rn(Q.z, P.z);
      float D2 = __fadd_rn(__fmaf_rn(Dz, Dz, __fmaf_rn(Dy, Dy, __fmul_rn(Dx, Dx))), 0.01f);
      float Inv = __fdiv_rn(1.0f, __fsqrt_rn(D2));
      float S = __fmul_rn(__fmul_rn(__fmul_rn(Q.w, Inv), Inv), Inv);
      Ax = __fmaf_rn(Dx, S, Ax);
      Ay = __fmaf_rn(Dy, S, Ay);
      Az = __fmaf_rn(Dz, S, Az);
    }
    __syncthreads();
  }
  Acc[I] = make_float4(Ax, Ay, Az, P.w);
}

// The linear thread index of a 2D block in a 1D grid of such blocks.
__device__ int linearIndex() { return (blockIdx.x * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x; }

// Column I of a column-major K x N matrix dotted with W, on top of Bias[I]; threads past N return early.
__global__ void columnDot(int N, int K, const float *A, const float *W, const float *Bias, float *Out) {
  int I = linearIndex();
  if (I >= N)
    return;
  float Acc = Bias[I];
  for (int Row = 0; Row < K; ++Row)
    Acc = __fmaf_rn(A[Row * N + I], W[Row], Acc);
  Out[I] = Acc;
}

// An integer recurrence per thread that stores every step (Steps[Row * N + I]), a value computed before the loop
// that is used after it, and a second loop nested in the first.
__global__ void recurrence(int N, int K, const unsigned *Seed, unsigned *Steps, unsigned *Final) {
  int I = linearIndex();
  if (I >= N)
    return;
  unsigned Start = Seed[I] * 3u + I;
  unsigned S = Start;
  for (int Row = 0; Row < K; ++Row) {
    S = S * 1664525u + 1013904223u + Row;
    for (int Inner = 0; Inner < 3; ++Inner)
      S ^= S >> (Inner + 5);
    Steps[Row * N + I] = S;
  }
  Final[I] = S ^ Start;
}

// A naive matrix product (2D blocks over a row-major N x N matrix): nvcc walks B's column with a pointer advanced
// by N elements per step (four steps per unrolled iteration), which the interchange computes from the thread
// index and a shared counter instead of keeping it per thread.
__global__ void naiveMatmul(int N, const float *A, const float *B, float *C) {
  int Row = blockIdx.y * blockDim.y + threadIdx.y, Col = blockIdx.x * blockDim.x + threadIdx.x;
  if (Row < N && Col < N) {
    float Acc = 0.0f;
    for (int K = 0; K < N; ++K)
      Acc = __fmaf_rn(A[Row * N + K], B[K * N + Col], Acc);
    C[Row * N + Col] = Acc;
  }
}

// Left alone: the branch inside the loop depends on each thread's data (and guards a store, so it stays a branch).
__global__ void divergentInLoop(int N, int K, const float *A, float *Out, int *Hits) {
  int I = linearIndex();
  if (I >= N)
    return;
  float Acc = 0.0f;
  for (int Row = 0; Row < K; ++Row) {
    float V = A[Row * N + I];
    Acc = __fadd_rn(Acc, V);
    if (V > 0.0f)
      Hits[Row * N + I] = Row;
  }
  Out[I] = Acc;
}

// Left alone: thread I reads row I of a row-major matrix (consecutive threads K elements apart).
__global__ void rowSum(int N, int K, const float *A, float *Out) {
  int I = linearIndex();
  if (I >= N)
    return;
  float Acc = 0.0f;
  for (int Col = 0; Col < K; ++Col)
    Acc = __fadd_rn(Acc, A[I * K + Col]);
  Out[I] = Acc;
}

std::vector<float> randomFloats(size_t N, uint64_t Seed) {
  e2e::Rng R(Seed);
  std::vector<float> V(N);
  for (float &X : V)
    X = R.unit();
  return V;
}

void compareBits(const char *What, const std::vector<float> &Got, const std::vector<float> &Want) {
  e2e::Mismatches M(What);
  for (size_t I = 0; I < Want.size(); ++I) {
    uint32_t G, W;
    std::memcpy(&G, &Got[I], 4);
    std::memcpy(&W, &Want[I], 4);
    M.intAt(static_cast<long>(I), static_cast<long>(G), static_cast<long>(W));
  }
  if (!M.report())
    ++e2e::Failures;
}

void checkTileForces(int Block, int Tiles) {
  int N = Block * Tiles;
  e2e::Rng R(3 + N);
  std::vector<float4> Pos(N);
  for (float4 &P : Pos)
    P = make_float4(R.unit() * 4, R.unit() * 4, R.unit() * 4, 0.5f + R.unit() * 0.25f);
  float4 *DPos = toDevice(Pos), *DAcc;
  E2E_CHECK(cudaMalloc(&DAcc, N * sizeof(float4)));
  tileForces<<<Tiles, Block, Block * sizeof(float4)>>>(N, DPos, DAcc);
  E2E_CHECK_LAUNCH();
  std::vector<float4> Got = toHost(DAcc, N);
  std::vector<float> GotFlat, WantFlat;
  for (int I = 0; I < N; ++I) {
    float4 P = Pos[I];
    float Ax = 0.0f, Ay = 0.0f, Az = 0.0f;
    for (int J = 0; J < N; ++J) {
      float4 Q = Pos[J];
      float Dx = Q.x - P.x, Dy = Q.y - P.y, Dz = Q.z - P.z;
      float Sq = Dx * Dx;
      float D2 = std::fma(Dz, Dz, std::fma(Dy, Dy, Sq)) + 0.01f;
      float Inv = 1.0f / std::sqrt(D2);
      float S = Q.w * Inv;
      S = S * Inv;
      S = S * Inv;
      Ax = std::fma(Dx, S, Ax);
      Ay = std::fma(Dy, S, Ay);
      Az = std::fma(Dz, S, Az);
    }
    WantFlat.insert(WantFlat.end(), {Ax, Ay, Az, P.w});
    GotFlat.insert(GotFlat.end(), {Got[I].x, Got[I].y, Got[I].z, Got[I].w});
  }
  char Name[96];
  std::snprintf(Name, sizeof(Name), "tile forces, %d tiles of %d", Tiles, Block);
  compareBits(Name, GotFlat, WantFlat);
  E2E_CHECK(cudaFree(DPos));
  E2E_CHECK(cudaFree(DAcc));
}

// Launches Kernel over N threads in blocks of Block (a 2D block when Block.y > 1).
template <typename Kernel, typename... Args> void launch(Kernel K, int N, dim3 Block, Args... A) {
  int PerBlock = static_cast<int>(Block.x * Block.y);
  K<<<(N + PerBlock - 1) / PerBlock, Block>>>(A...);
  E2E_CHECK_LAUNCH();
}

void checkColumnDot(int N, int K, dim3 Block) {
  std::vector<float> A = randomFloats(static_cast<size_t>(N) * K + 1, 5 + N + K), W = randomFloats(K + 1, 6),
                     Bias = randomFloats(N, 7), Out(N, -1.0f);
  float *DA = toDevice(A), *DW = toDevice(W), *DBias = toDevice(Bias), *DOut = toDevice(Out);
  launch(columnDot, N, Block, N, K, DA, DW, DBias, DOut);
  std::vector<float> Want(N);
  for (int I = 0; I < N; ++I) {
    float Acc = Bias[I];
    for (int Row = 0; Row < K; ++Row)
      Acc = std::fma(A[static_cast<size_t>(Row) * N + I], W[Row], Acc);
    Want[I] = Acc;
  }
  char Name[96];
  std::snprintf(Name, sizeof(Name), "column dot n=%d k=%d, blocks %ux%u", N, K, Block.x, Block.y);
  compareBits(Name, toHost(DOut, N), Want);
  for (float *P : {DA, DW, DBias, DOut})
    E2E_CHECK(cudaFree(P));
}

void checkNaiveMatmul(int N, dim3 Block) {
  std::vector<float> A = randomFloats(static_cast<size_t>(N) * N, 11 + N),
                     B = randomFloats(static_cast<size_t>(N) * N, 12), C(static_cast<size_t>(N) * N, -1.0f);
  float *DA = toDevice(A), *DB = toDevice(B), *DC = toDevice(C);
  dim3 Grid((N + Block.x - 1) / Block.x, (N + Block.y - 1) / Block.y);
  naiveMatmul<<<Grid, Block>>>(N, DA, DB, DC);
  E2E_CHECK_LAUNCH();
  std::vector<float> Want(C.size());
  for (int Row = 0; Row < N; ++Row)
    for (int Col = 0; Col < N; ++Col) {
      float Acc = 0.0f;
      for (int K = 0; K < N; ++K)
        Acc = std::fma(A[static_cast<size_t>(Row) * N + K], B[static_cast<size_t>(K) * N + Col], Acc);
      Want[static_cast<size_t>(Row) * N + Col] = Acc;
    }
  char Name[96];
  std::snprintf(Name, sizeof(Name), "naive matmul n=%d, blocks %ux%u", N, Block.x, Block.y);
  compareBits(Name, toHost(DC, C.size()), Want);
  for (float *P : {DA, DB, DC})
    E2E_CHECK(cudaFree(P));
}

void checkRecurrence(int N, int K, dim3 Block) {
  std::vector<unsigned> Seed(N);
  e2e::Rng R(9 + N);
  for (unsigned &S : Seed)
    S = R.next();
  std::vector<unsigned> Steps(static_cast<size_t>(N) * K + 1, 0), Final(N, 0);
  unsigned *DSeed = toDevice(Seed), *DSteps = toDevice(Steps), *DFinal = toDevice(Final);
  launch(recurrence, N, Block, N, K, DSeed, DSteps, DFinal);
  std::vector<unsigned> GotSteps = toHost(DSteps, Steps.size()), GotFinal = toHost(DFinal, N);
  char Name[96];
  std::snprintf(Name, sizeof(Name), "recurrence n=%d k=%d, blocks %ux%u", N, K, Block.x, Block.y);
  e2e::Mismatches M(Name);
  for (int I = 0; I < N; ++I) {
    unsigned Start = Seed[I] * 3u + static_cast<unsigned>(I), S = Start;
    for (int Row = 0; Row < K; ++Row) {
      S = S * 1664525u + 1013904223u + static_cast<unsigned>(Row);
      for (int Inner = 0; Inner < 3; ++Inner)
        S ^= S >> (Inner + 5);
      M.intAt(static_cast<long>(Row) * N + I, GotSteps[static_cast<size_t>(Row) * N + I], S);
    }
    M.intAt(-1 - I, GotFinal[I], S ^ Start);
  }
  M.intAt(-1 - N, GotSteps.back(), 0); // past the last row: untouched
  if (!M.report())
    ++e2e::Failures;
  for (unsigned *P : {DSeed, DSteps, DFinal})
    E2E_CHECK(cudaFree(P));
}

void checkLeftAlone(int N, int K, dim3 Block) {
  std::vector<float> A = randomFloats(static_cast<size_t>(N) * K, 13 + N), Out(N, -1.0f);
  std::vector<int> Hits(A.size(), -1);
  float *DA = toDevice(A), *DOut = toDevice(Out);
  int *DHits = toDevice(Hits);
  launch(divergentInLoop, N, Block, N, K, DA, DOut, DHits);
  std::vector<float> Want(N);
  std::vector<int> GotHits = toHost(DHits, Hits.size());
  char Name[96];
  std::snprintf(Name, sizeof(Name), "divergent branch in loop n=%d k=%d, stores", N, K);
  e2e::Mismatches M(Name);
  for (int I = 0; I < N; ++I) {
    float Acc = 0.0f;
    for (int Row = 0; Row < K; ++Row) {
      size_t At = static_cast<size_t>(Row) * N + I;
      Acc = Acc + A[At];
      M.intAt(static_cast<long>(At), GotHits[At], A[At] > 0.0f ? Row : -1);
    }
    Want[I] = Acc;
  }
  if (!M.report())
    ++e2e::Failures;
  std::snprintf(Name, sizeof(Name), "divergent branch in loop n=%d k=%d, sums", N, K);
  compareBits(Name, toHost(DOut, N), Want);
  launch(rowSum, N, Block, N, K, DA, DOut);
  for (int I = 0; I < N; ++I) {
    float Acc = 0.0f;
    for (int Col = 0; Col < K; ++Col)
      Acc = Acc + A[static_cast<size_t>(I) * K + Col];
    Want[I] = Acc;
  }
  std::snprintf(Name, sizeof(Name), "row sums n=%d k=%d", N, K);
  compareBits(Name, toHost(DOut, N), Want);
  E2E_CHECK(cudaFree(DA));
  E2E_CHECK(cudaFree(DOut));
  E2E_CHECK(cudaFree(DHits));
}

} // namespace

int main() {
  checkTileForces(256, 4);
  checkTileForces(100, 3);
  checkTileForces(33, 2);
  checkTileForces(1, 5);
  checkTileForces(1024, 2);
  for (int K : {0, 1, 3, 4, 7, 37}) {
    checkColumnDot(4096, K, dim3(256));
    checkColumnDot(1000, K, dim3(100));
    checkRecurrence(1000, K, dim3(256));
  }
  checkColumnDot(2053, 5, dim3(1024));
  checkColumnDot(777, 9, dim3(32, 4));
  checkColumnDot(3, 2, dim3(1));
  checkRecurrence(777, 6, dim3(16, 8));
  checkRecurrence(1025, 2, dim3(1024));
  checkLeftAlone(1000, 13, dim3(128));
  for (int N : {64, 37, 6})
    checkNaiveMatmul(N, dim3(16, 16));
  checkNaiveMatmul(96, dim3(32, 8));
  return e2e::finish("thread_interchange", e2e::Failures);
}
