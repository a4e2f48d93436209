// The 16x16 shared-memory tiled SGEMM kernel, shared by the benchmark program (kernels.cu) and the module whose
// cold-JIT and cache-hit load times the micro-benchmark measures (sgemm_module.cu).
#pragma once

#define BENCH_TILE 16

// C = A * B for N x N row-major matrices, N a multiple of 16; blocks of 16x16 threads, one element each.
extern "C" __global__ void sgemmTiled(int N, const float *__restrict__ A, const float *__restrict__ B,
                                      float *__restrict__ C) {
  __shared__ float As[BENCH_TILE][BENCH_TILE];
  __shared__ float Bs[BENCH_TILE][BENCH_TILE];
  int Tx = threadIdx.x, Ty = threadIdx.y;
  int Row = blockIdx.y * BENCH_TILE + Ty, Col = blockIdx.x * BENCH_TILE + Tx;
  float Acc = 0.0f;
  for (int T = 0; T < N / BENCH_TILE; ++T) {
    As[Ty][Tx] = A[Row * N + T * BENCH_TILE + Tx];
    Bs[Ty][Tx] = B[(T * BENCH_TILE + Ty) * N + Col];
    __syncthreads();
#pragma unroll
    for (int K = 0; K < BENCH_TILE; ++K)
      Acc += As[Ty][K] * Bs[K][Tx];
    __syncthreads();
  }
  C[Row * N + Col] = Acc;
}
