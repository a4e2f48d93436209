// A binary built with SASS only (no PTX): cuda_shim cannot run NVIDIA machine code, so its launches must fail with
// cudaErrorNoKernelImageForDevice (as on a GPU the SASS was not built for), and the log must say how to fix it.
#include <cstdio>

#include <cuda_runtime.h>

__global__ void fill(int *Out, int Value) { Out[threadIdx.x] = Value; }

int main() {
  int *Buffer = nullptr;
  if (cudaMalloc(&Buffer, 32 * sizeof(int)) != cudaSuccess) {
    std::printf("sass_only: cudaMalloc failed\n");
    return 1;
  }
  fill<<<1, 32>>>(Buffer, 7);
  cudaError_t Launch = cudaGetLastError();
  std::printf("sass_only: launch returned %s\n", cudaGetErrorName(Launch));
  if (Launch != cudaErrorNoKernelImageForDevice) {
    std::printf("sass_only: FAILED, expected cudaErrorNoKernelImageForDevice\n");
    return 1;
  }
  // The error is not sticky: the context stays usable.
  if (cudaFree(Buffer) != cudaSuccess || cudaDeviceSynchronize() != cudaSuccess) {
    std::printf("sass_only: FAILED, the context is unusable after the launch error\n");
    return 1;
  }
  std::printf("sass_only: PASSED\n");
  return 0;
}
