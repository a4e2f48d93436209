// saxpy: the example program of the README. An ordinary CUDA program, nothing cuda_shim-specific in it:
//
//   nvcc -cudart shared -gencode arch=compute_80,code=compute_80 -O3 examples/saxpy.cu -o saxpy
//   build/bin/cushim run -- ./saxpy            (or: LD_LIBRARY_PATH=build/lib ./saxpy)
//
// It computes y = a*x + y on 2^20 elements and prints "saxpy: 1048576 elements, max error 0 -> PASSED".
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

#define CHECK(Call)                                                                                                    \
  do {                                                                                                                 \
    cudaError_t Err = (Call);                                                                                          \
    if (Err != cudaSuccess) {                                                                                          \
      std::fprintf(stderr, "%s failed: %s\n", #Call, cudaGetErrorString(Err));                                        \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)

__global__ void saxpy(int N, float A, const float *X, float *Y) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Y[I] = A * X[I] + Y[I];
}

int main() {
  const int N = 1 << 20;
  float *X = static_cast<float *>(std::malloc(N * sizeof(float)));
  float *Y = static_cast<float *>(std::malloc(N * sizeof(float)));
  for (int I = 0; I < N; ++I) {
    X[I] = 1.0f;
    Y[I] = 2.0f;
  }

  float *DX, *DY;
  CHECK(cudaMalloc(&DX, N * sizeof(float)));
  CHECK(cudaMalloc(&DY, N * sizeof(float)));
  CHECK(cudaMemcpy(DX, X, N * sizeof(float), cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(DY, Y, N * sizeof(float), cudaMemcpyHostToDevice));

  saxpy<<<(N + 255) / 256, 256>>>(N, 2.0f, DX, DY);
  CHECK(cudaGetLastError());
  CHECK(cudaMemcpy(Y, DY, N * sizeof(float), cudaMemcpyDeviceToHost));

  float MaxError = 0.0f;
  for (int I = 0; I < N; ++I)
    MaxError = std::fmax(MaxError, std::fabs(Y[I] - 4.0f));
  bool Passed = MaxError == 0.0f;
  std::printf("saxpy: %d elements, max error %g -> %s\n", N, MaxError, Passed ? "PASSED" : "FAILED");

  CHECK(cudaFree(DX));
  CHECK(cudaFree(DY));
  std::free(X);
  std::free(Y);
  return Passed ? 0 : 1;
}
