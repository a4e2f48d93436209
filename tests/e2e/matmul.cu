// End-to-end: tiled matrix multiply with 2D blocks, a 2D grid and static shared-memory tiles, on sizes that are not
// multiples of the tile; float results compared with a tolerance against a double-precision CPU reference.
#include "e2e_common.h"

#include <vector>

constexpr int Tile = 16;

// C[M x N] = A[M x K] * B[K x N], row-major. Out-of-range tile elements are loaded as zero so every thread reaches
// both barriers of every iteration.
__global__ void matmulTiled(const float *A, const float *B, float *C, int M, int N, int K) {
  __shared__ float As[Tile][Tile];
  __shared__ float Bs[Tile][Tile + 1]; // padded: a different shape from As on purpose
  int Row = blockIdx.y * Tile + threadIdx.y;
  int Col = blockIdx.x * Tile + threadIdx.x;
  float Acc = 0.0f;
  for (int T = 0; T < (K + Tile - 1) / Tile; ++T) {
    int ACol = T * Tile + threadIdx.x;
    int BRow = T * Tile + threadIdx.y;
    As[threadIdx.y][threadIdx.x] = (Row < M && ACol < K) ? A[Row * K + ACol] : 0.0f;
    Bs[threadIdx.y][threadIdx.x] = (BRow < K && Col < N) ? B[BRow * N + Col] : 0.0f;
    __syncthreads();
    for (int I = 0; I < Tile; ++I)
      Acc += As[threadIdx.y][I] * Bs[I][threadIdx.x];
    __syncthreads();
  }
  if (Row < M && Col < N)
    C[Row * N + Col] = Acc;
}

// Naive version with a rectangular 2D block (32 x 4) and a 2D grid, no shared memory.
__global__ void matmulNaive(const float *A, const float *B, float *C, int M, int N, int K) {
  int Row = blockIdx.y * blockDim.y + threadIdx.y;
  int Col = blockIdx.x * blockDim.x + threadIdx.x;
  if (Row >= M || Col >= N)
    return;
  float Acc = 0.0f;
  for (int I = 0; I < K; ++I)
    Acc += A[Row * K + I] * B[I * N + Col];
  C[Row * N + Col] = Acc;
}

static int testMatmul(int M, int N, int K, bool Tiled) {
  e2e::Rng R(1000003ull * M + 1009ull * N + K);
  std::vector<float> A(size_t(M) * K), B(size_t(K) * N), C(size_t(M) * N);
  for (float &X : A)
    X = R.unit();
  for (float &X : B)
    X = R.unit();

  float *DA, *DB, *DC;
  E2E_CHECK(cudaMalloc(&DA, A.size() * sizeof(float)));
  E2E_CHECK(cudaMalloc(&DB, B.size() * sizeof(float)));
  E2E_CHECK(cudaMalloc(&DC, C.size() * sizeof(float)));
  E2E_CHECK(cudaMemcpy(DA, A.data(), A.size() * sizeof(float), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemcpy(DB, B.data(), B.size() * sizeof(float), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemset(DC, 0, C.size() * sizeof(float)));
  if (Tiled) {
    dim3 Block(Tile, Tile);
    dim3 Grid((N + Tile - 1) / Tile, (M + Tile - 1) / Tile);
    matmulTiled<<<Grid, Block>>>(DA, DB, DC, M, N, K);
  } else {
    dim3 Block(32, 4);
    dim3 Grid((N + 31) / 32, (M + 3) / 4);
    matmulNaive<<<Grid, Block>>>(DA, DB, DC, M, N, K);
  }
  E2E_CHECK_LAUNCH();
  E2E_CHECK(cudaMemcpy(C.data(), DC, C.size() * sizeof(float), cudaMemcpyDeviceToHost));

  char Name[96];
  std::snprintf(Name, sizeof(Name), "%s M=%d N=%d K=%d", Tiled ? "matmulTiled" : "matmulNaive", M, N, K);
  e2e::Mismatches Mm(Name);
  for (int I = 0; I < M; ++I)
    for (int J = 0; J < N; ++J) {
      double Ref = 0.0;
      for (int P = 0; P < K; ++P)
        Ref += double(A[size_t(I) * K + P]) * double(B[size_t(P) * N + J]);
      // Inputs are in [-1, 1]: float accumulation error stays well under 1e-4 * K in absolute terms.
      Mm.realAt(long(I) * N + J, C[size_t(I) * N + J], Ref, 1e-4, 1e-5 * K);
    }
  E2E_CHECK(cudaFree(DA));
  E2E_CHECK(cudaFree(DB));
  E2E_CHECK(cudaFree(DC));
  return Mm.report() ? 0 : 1;
}

int main() {
  int Failures = 0;
  Failures += testMatmul(100, 130, 75, true); // 9 x 7 blocks of 16 x 16, ragged on every side
  Failures += testMatmul(64, 64, 64, true);   // exact multiples
  Failures += testMatmul(17, 33, 1, true);    // K smaller than a tile
  Failures += testMatmul(1, 1, 40, true);
  Failures += testMatmul(45, 70, 29, false);
  return e2e::finish("matmul", Failures);
}
