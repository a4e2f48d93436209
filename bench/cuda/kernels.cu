// The benchmark kernels as ordinary CUDA, built by nvcc (PTX only) and run unmodified under cuda_shim. Each kernel
// is timed with bench::timeKernel (launches + synchronisation, inputs already on the device) and its output written
// for bench/run.py to compare with the OpenMP and OpenCL versions.
#include "../common/bench_common.h"
#include "cuda_check.h"
#include "sgemm.cuh"

// ---- Kernels ------------------------------------------------------------------------------------------------------

__global__ void saxpy(int N, float A, const float *__restrict__ X, const float *__restrict__ Y, float *__restrict__ Z) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Z[I] = A * X[I] + Y[I];
}

// Grid-stride sums, then a shared-memory tree per block; one partial per block.
__global__ void reduceShared(const int *__restrict__ In, int N, int *__restrict__ Partial) {
  __shared__ int S[256];
  int Tid = threadIdx.x;
  int Sum = 0;
  for (int I = blockIdx.x * blockDim.x + Tid; I < N; I += gridDim.x * blockDim.x)
    Sum += In[I];
  S[Tid] = Sum;
  __syncthreads();
  for (int Stride = blockDim.x / 2; Stride > 0; Stride >>= 1) {
    if (Tid < Stride)
      S[Tid] += S[Tid + Stride];
    __syncthreads();
  }
  if (Tid == 0)
    Partial[blockIdx.x] = S[0];
}

__device__ float warpSum(float V) {
  for (int Offset = 16; Offset > 0; Offset >>= 1)
    V += __shfl_down_sync(0xffffffffu, V, Offset);
  return V;
}

// Grid-stride sums, warp sums by shuffles, then the first warp sums the warp totals; one partial per block.
__global__ void reduceShuffle(const float *__restrict__ In, int N, float *__restrict__ Partial) {
  __shared__ float WarpSums[32];
  int Tid = threadIdx.x, Lane = Tid & 31, Warp = Tid >> 5;
  float Sum = 0.0f;
  for (int I = blockIdx.x * blockDim.x + Tid; I < N; I += gridDim.x * blockDim.x)
    Sum += In[I];
  Sum = warpSum(Sum);
  if (Lane == 0)
    WarpSums[Warp] = Sum;
  __syncthreads();
  if (Warp == 0) {
    Sum = Lane < (int)(blockDim.x >> 5) ? WarpSums[Lane] : 0.0f;
    Sum = warpSum(Sum);
    if (Lane == 0)
      Partial[blockIdx.x] = Sum;
  }
}

__global__ void stencil2d(int N, const float *__restrict__ In, float *__restrict__ Out) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y * blockDim.y + threadIdx.y;
  if (X >= N || Y >= N)
    return;
  int I = Y * N + X;
  if (X == 0 || Y == 0 || X == N - 1 || Y == N - 1) {
    Out[I] = In[I];
    return;
  }
  Out[I] = bench::StencilCenter * In[I] + bench::StencilNeighbour * (In[I - 1] + In[I + 1] + In[I - N] + In[I + N]);
}

// All-pairs gravity (GPU Gems 3 style): bodies are staged through shared memory one block-sized tile at a time.
__global__ void nbody(int N, const float4 *__restrict__ Pos, float4 *__restrict__ Acc) {
  __shared__ float4 Tile[256];
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  float4 P = Pos[I];
  float Ax = 0.0f, Ay = 0.0f, Az = 0.0f;
  for (int Base = 0; Base < N; Base += blockDim.x) {
    Tile[threadIdx.x] = Pos[Base + threadIdx.x];
    __syncthreads();
    for (int J = 0; J < (int)blockDim.x; ++J) {
      float4 Q = Tile[J];
      float Dx = Q.x - P.x, Dy = Q.y - P.y, Dz = Q.z - P.z;
      float D2 = Dx * Dx + Dy * Dy + Dz * Dz + bench::NbodySoftening2;
      float Inv = rsqrtf(D2);
      float S = Q.w * Inv * Inv * Inv;
      Ax += Dx * S;
      Ay += Dy * S;
      Az += Dz * S;
    }
    __syncthreads();
  }
  Acc[I] = make_float4(Ax, Ay, Az, 0.0f);
}

// Per-block histogram in shared memory with shared atomics, merged into the global one with global atomics.
__global__ void histogram(const unsigned char *__restrict__ In, int N, unsigned int *__restrict__ Bins) {
  __shared__ unsigned int H[256];
  for (int I = threadIdx.x; I < 256; I += blockDim.x)
    H[I] = 0;
  __syncthreads();
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += gridDim.x * blockDim.x)
    atomicAdd(&H[In[I]], 1u);
  __syncthreads();
  for (int I = threadIdx.x; I < 256; I += blockDim.x)
    if (H[I])
      atomicAdd(&Bins[I], H[I]);
}

__device__ float cnd(float D) {
  const float A1 = 0.31938153f, A2 = -0.356563782f, A3 = 1.781477937f, A4 = -1.821255978f, A5 = 1.330274429f;
  const float Rsqrt2Pi = 0.39894228040143267793994605993438f;
  float K = 1.0f / (1.0f + 0.2316419f * fabsf(D));
  float C = Rsqrt2Pi * expf(-0.5f * D * D) * (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5)))));
  return D > 0 ? 1.0f - C : C;
}

__global__ void blackScholes(int N, const float *__restrict__ S, const float *__restrict__ X,
                             const float *__restrict__ T, float *__restrict__ Call, float *__restrict__ Put) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I >= N)
    return;
  const float R = bench::BsRiskFree, V = bench::BsVolatility;
  float SqrtT = sqrtf(T[I]);
  float D1 = (logf(S[I] / X[I]) + (R + 0.5f * V * V) * T[I]) / (V * SqrtT);
  float D2 = D1 - V * SqrtT;
  float Cnd1 = cnd(D1), Cnd2 = cnd(D2);
  float ExpRT = expf(-R * T[I]);
  Call[I] = S[I] * Cnd1 - X[I] * ExpRT * Cnd2;
  Put[I] = X[I] * ExpRT * (1.0f - Cnd2) - S[I] * (1.0f - Cnd1);
}

// Scalar CSR: one thread per row.
__global__ void spmvCsr(int Rows, const int *__restrict__ RowPtr, const int *__restrict__ Col,
                        const float *__restrict__ Val, const float *__restrict__ X, float *__restrict__ Y) {
  int R = blockIdx.x * blockDim.x + threadIdx.x;
  if (R >= Rows)
    return;
  float Sum = 0.0f;
  for (int K = RowPtr[R]; K < RowPtr[R + 1]; ++K)
    Sum += Val[K] * X[Col[K]];
  Y[R] = Sum;
}

// Exclusive scan of one value per thread across the block (Hillis-Steele, double-buffered in Tmp[2 * blockDim]);
// Total receives the block's sum.
__device__ int blockExclusiveScan(int V, int *Tmp, int &Total) {
  int Tid = threadIdx.x, B = blockDim.x, Out = 0;
  Tmp[Tid] = V;
  __syncthreads();
  for (int Offset = 1; Offset < B; Offset <<= 1) {
    int In = Out;
    Out = 1 - Out;
    int X = Tmp[In * B + Tid];
    if (Tid >= Offset)
      X += Tmp[In * B + Tid - Offset];
    Tmp[Out * B + Tid] = X;
    __syncthreads();
  }
  Total = Tmp[Out * B + B - 1];
  int Result = Tmp[Out * B + Tid] - V;
  __syncthreads(); // Tmp may be reused by the caller
  return Result;
}

constexpr int ScanPerThread = 4, ScanBlock = 256, ScanTile = ScanPerThread * ScanBlock;

// Pass 1: each block scans ScanTile elements (four per thread) and records its total.
__global__ void scanTiles(const int *__restrict__ In, int *__restrict__ Out, int *__restrict__ Sums) {
  __shared__ int Tmp[2 * ScanBlock];
  int Base = blockIdx.x * ScanTile + threadIdx.x * ScanPerThread;
  int V[ScanPerThread], Sum = 0;
  for (int K = 0; K < ScanPerThread; ++K) {
    V[K] = Sum;
    Sum += In[Base + K];
  }
  int Total;
  int Offset = blockExclusiveScan(Sum, Tmp, Total);
  for (int K = 0; K < ScanPerThread; ++K)
    Out[Base + K] = V[K] + Offset;
  if (threadIdx.x == 0)
    Sums[blockIdx.x] = Total;
}

// Pass 2: one block of 1024 threads scans the tile totals in place (each thread a contiguous chunk).
__global__ void scanSums(int *Sums, int Count) {
  __shared__ int Tmp[2 * 1024];
  int Chunk = (Count + blockDim.x - 1) / blockDim.x;
  int Begin = min(Count, (int)threadIdx.x * Chunk), End = min(Count, Begin + Chunk);
  int Sum = 0;
  for (int I = Begin; I < End; ++I)
    Sum += Sums[I];
  int Total;
  int Offset = blockExclusiveScan(Sum, Tmp, Total);
  for (int I = Begin; I < End; ++I) {
    int V = Sums[I];
    Sums[I] = Offset;
    Offset += V;
  }
}

// Pass 3: add each tile's offset.
__global__ void scanAdd(int *__restrict__ Out, const int *__restrict__ Sums) {
  int Base = blockIdx.x * ScanTile + threadIdx.x * ScanPerThread;
  int Add = Sums[blockIdx.x];
  for (int K = 0; K < ScanPerThread; ++K)
    Out[Base + K] += Add;
}

// ---- Host side ------------------------------------------------------------------------------------------------------

template <typename T> T *toDevice(const std::vector<T> &H) {
  T *D = nullptr;
  CHECK(cudaMalloc(&D, H.size() * sizeof(T)));
  CHECK(cudaMemcpy(D, H.data(), H.size() * sizeof(T), cudaMemcpyHostToDevice));
  return D;
}
template <typename T> T *deviceArray(size_t N) {
  T *D = nullptr;
  CHECK(cudaMalloc(&D, N * sizeof(T)));
  return D;
}
void freeAll(std::initializer_list<void *> Ptrs) {
  for (void *P : Ptrs)
    CHECK(cudaFree(P));
}
template <typename T> void writeDevice(const bench::Options &O, const char *Kernel, const T *D, size_t N) {
  std::vector<T> H(N);
  CHECK(cudaMemcpy(H.data(), D, N * sizeof(T), cudaMemcpyDeviceToHost));
  bench::writeOutput(O, Kernel, H.data(), N * sizeof(T));
}

int main(int Argc, char **Argv) {
  bench::Options O = bench::parseOptions(Argc, Argv);
  const bench::Sizes &S = O.S;
  CHECK(cudaFree(nullptr)); // creates the context before anything is timed

  if (O.wants("saxpy")) {
    int N = (int)S.SaxpyN;
    float *X = toDevice(bench::randomFloats(N, 1, -1, 1)), *Y = toDevice(bench::randomFloats(N, 2, -1, 1));
    float *Z = deviceArray<float>(N);
    bench::timeKernel(O, "saxpy", [&] {
      saxpy<<<(N + 255) / 256, 256>>>(N, 2.5f, X, Y, Z);
      CHECK_LAUNCH();
    });
    writeDevice(O, "saxpy", Z, N);
    freeAll({(void *)X, (void *)Y, (void *)Z});
  }
  const int ReduceBlocks = 1024;
  if (O.wants("reduce_shared")) {
    int N = (int)S.ReduceN;
    int *In = toDevice(bench::randomInts(N, 3, 16));
    int *Partial = deviceArray<int>(ReduceBlocks), *Out = deviceArray<int>(1);
    bench::timeKernel(O, "reduce_shared", [&] {
      reduceShared<<<ReduceBlocks, 256>>>(In, N, Partial);
      reduceShared<<<1, 256>>>(Partial, ReduceBlocks, Out);
      CHECK_LAUNCH();
    });
    writeDevice(O, "reduce_shared", Out, 1);
    freeAll({(void *)In, (void *)Partial, (void *)Out});
  }
  if (O.wants("reduce_shuffle")) {
    int N = (int)S.ReduceN;
    float *In = toDevice(bench::randomFloats(N, 4, 0, 1));
    float *Partial = deviceArray<float>(ReduceBlocks), *Out = deviceArray<float>(1);
    bench::timeKernel(O, "reduce_shuffle", [&] {
      reduceShuffle<<<ReduceBlocks, 256>>>(In, N, Partial);
      reduceShuffle<<<1, 1024>>>(Partial, ReduceBlocks, Out);
      CHECK_LAUNCH();
    });
    writeDevice(O, "reduce_shuffle", Out, 1);
    freeAll({(void *)In, (void *)Partial, (void *)Out});
  }
  if (O.wants("sgemm")) {
    int N = (int)S.SgemmN;
    float *A = toDevice(bench::randomFloats((size_t)N * N, 5, -1, 1));
    float *B = toDevice(bench::randomFloats((size_t)N * N, 6, -1, 1));
    float *C = deviceArray<float>((size_t)N * N);
    bench::timeKernel(O, "sgemm", [&] {
      sgemmTiled<<<dim3(N / BENCH_TILE, N / BENCH_TILE), dim3(BENCH_TILE, BENCH_TILE)>>>(N, A, B, C);
      CHECK_LAUNCH();
    });
    writeDevice(O, "sgemm", C, (size_t)N * N);
    freeAll({(void *)A, (void *)B, (void *)C});
  }
  if (O.wants("stencil2d")) {
    int N = (int)S.StencilN;
    float *In = toDevice(bench::randomFloats((size_t)N * N, 7, 0, 1));
    float *Out = deviceArray<float>((size_t)N * N);
    bench::timeKernel(O, "stencil2d", [&] {
      stencil2d<<<dim3((N + 31) / 32, (N + 7) / 8), dim3(32, 8)>>>(N, In, Out);
      CHECK_LAUNCH();
    });
    writeDevice(O, "stencil2d", Out, (size_t)N * N);
    freeAll({(void *)In, (void *)Out});
  }
  if (O.wants("nbody")) {
    int N = (int)S.NbodyN;
    std::vector<float> P = bench::randomFloats((size_t)N * 4, 8, -1, 1);
    for (int I = 0; I < N; ++I)
      P[I * 4 + 3] = 0.5f * (P[I * 4 + 3] + 1.5f); // masses in [0.25, 1.25)
    float4 *Pos = reinterpret_cast<float4 *>(toDevice(P));
    float4 *Acc = deviceArray<float4>(N);
    bench::timeKernel(O, "nbody", [&] {
      nbody<<<N / 256, 256>>>(N, Pos, Acc);
      CHECK_LAUNCH();
    });
    writeDevice(O, "nbody", reinterpret_cast<float *>(Acc), (size_t)N * 4);
    freeAll({(void *)Pos, (void *)Acc});
  }
  if (O.wants("histogram")) {
    int N = (int)S.HistN;
    unsigned char *In = toDevice(bench::histogramInput(N, 9));
    unsigned int *Bins = deviceArray<unsigned int>(256);
    bench::timeKernel(O, "histogram", [&] {
      CHECK(cudaMemset(Bins, 0, 256 * sizeof(unsigned int)));
      histogram<<<256, 256>>>(In, N, Bins);
      CHECK_LAUNCH();
    });
    writeDevice(O, "histogram", Bins, 256);
    freeAll({(void *)In, (void *)Bins});
  }
  if (O.wants("black_scholes")) {
    int N = (int)S.BsN;
    float *Sp = toDevice(bench::randomFloats(N, 10, 5, 30)), *X = toDevice(bench::randomFloats(N, 11, 1, 100));
    float *T = toDevice(bench::randomFloats(N, 12, 0.25f, 10));
    float *Out = deviceArray<float>((size_t)N * 2);
    bench::timeKernel(O, "black_scholes", [&] {
      blackScholes<<<(N + 255) / 256, 256>>>(N, Sp, X, T, Out, Out + N);
      CHECK_LAUNCH();
    });
    writeDevice(O, "black_scholes", Out, (size_t)N * 2);
    freeAll({(void *)Sp, (void *)X, (void *)T, (void *)Out});
  }
  if (O.wants("spmv_csr")) {
    bench::Csr M = bench::randomCsr(S.SpmvRows, S.SpmvPerRow, 13);
    int Rows = (int)M.Rows;
    int *RowPtr = toDevice(M.RowPtr), *Col = toDevice(M.Col);
    float *Val = toDevice(M.Val), *X = toDevice(bench::randomFloats(Rows, 14, -1, 1));
    float *Y = deviceArray<float>(Rows);
    bench::timeKernel(O, "spmv_csr", [&] {
      spmvCsr<<<(Rows + 255) / 256, 256>>>(Rows, RowPtr, Col, Val, X, Y);
      CHECK_LAUNCH();
    });
    writeDevice(O, "spmv_csr", Y, Rows);
    freeAll({(void *)RowPtr, (void *)Col, (void *)Val, (void *)X, (void *)Y});
  }
  if (O.wants("scan")) {
    int N = (int)S.ScanN, Tiles = N / ScanTile;
    int *In = toDevice(bench::randomInts(N, 15, 4));
    int *Out = deviceArray<int>(N), *Sums = deviceArray<int>(Tiles);
    bench::timeKernel(O, "scan", [&] {
      scanTiles<<<Tiles, ScanBlock>>>(In, Out, Sums);
      scanSums<<<1, 1024>>>(Sums, Tiles);
      scanAdd<<<Tiles, ScanBlock>>>(Out, Sums);
      CHECK_LAUNCH();
    });
    writeDevice(O, "scan", Out, N);
    freeAll({(void *)In, (void *)Out, (void *)Sums});
  }
  return 0;
}
