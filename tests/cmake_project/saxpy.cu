// The program of tests/cmake_project: saxpy checked bit for bit against the host, built by CMake's CUDA language
// support for the architecture CMake chose (CMAKE_CHOSEN_ARCH): the kernel reports the __CUDA_ARCH__ it was compiled
// for, which must be that architecture's PTX (cuda_shim runs PTX, never SASS).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

__global__ void saxpy(int N, float A, const float *X, float *Y, int *Arch) {
#ifdef __CUDA_ARCH__
  if (blockIdx.x == 0 && threadIdx.x == 0)
    *Arch = __CUDA_ARCH__;
#endif
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += blockDim.x * gridDim.x)
    Y[I] = A * X[I] + Y[I];
}

int main() {
  int Failures = 0;
  cudaDeviceProp Prop;
  if (cudaGetDeviceProperties(&Prop, 0) != cudaSuccess) {
    std::printf("cmake_saxpy: cudaGetDeviceProperties failed\n");
    return 2;
  }
  std::printf("device %s, compute capability %d.%d\n", Prop.name, Prop.major, Prop.minor);

  const int N = 100003;
  std::vector<float> X(N), Y(N), Want(N);
  for (int I = 0; I < N; ++I) {
    X[I] = 0.5f * static_cast<float>(I % 1000);
    Y[I] = static_cast<float>(I % 7) - 3.0f;
    Want[I] = std::fma(2.5f, X[I], Y[I]);
  }
  float *DX = nullptr, *DY = nullptr;
  int *DArch = nullptr;
  if (cudaMalloc(&DX, N * sizeof(float)) != cudaSuccess || cudaMalloc(&DY, N * sizeof(float)) != cudaSuccess ||
      cudaMalloc(&DArch, sizeof(int)) != cudaSuccess) {
    std::printf("cmake_saxpy: cudaMalloc failed\n");
    return 2;
  }
  cudaMemcpy(DX, X.data(), N * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemcpy(DY, Y.data(), N * sizeof(float), cudaMemcpyHostToDevice);
  cudaMemset(DArch, 0, sizeof(int));
  saxpy<<<64, 256>>>(N, 2.5f, DX, DY, DArch);
  cudaError_t Err = cudaDeviceSynchronize();
  if (Err != cudaSuccess) {
    std::printf("  FAIL saxpy launch: %s\n", cudaGetErrorName(Err));
    ++Failures;
  }
  cudaMemcpy(Y.data(), DY, N * sizeof(float), cudaMemcpyDeviceToHost);
  long Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += std::memcmp(&Y[I], &Want[I], sizeof(float)) != 0;
  std::printf("  %s saxpy of %d elements (%ld mismatches)\n", Bad ? "FAIL" : "ok  ", N, Bad);
  Failures += Bad != 0;
  int Arch = 0;
  cudaMemcpy(&Arch, DArch, sizeof(int), cudaMemcpyDeviceToHost);
  const int WantArch = CMAKE_CHOSEN_ARCH * 10;
  std::printf("  %s kernel compiled for __CUDA_ARCH__ %d, CMake chose %d\n", Arch == WantArch ? "ok  " : "FAIL", Arch,
              WantArch);
  Failures += Arch != WantArch;
  cudaFree(DArch);
  cudaFree(DX);
  cudaFree(DY);
  std::printf("cmake_saxpy: %s\n", Failures ? "FAILED" : "PASSED");
  return Failures ? 1 : 0;
}
