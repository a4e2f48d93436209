// Kernels, module variables and streams on every device (CUSHIM_DEVICES=N). Built with nvcc's default static cudart,
// NVIDIA's runtime loads the program's library once and launches the same CUkernel handle in each device's primary
// context: every device must run its own copy of the code and see its own __device__ variables, and a launch into
// a stream of device D must run in device D's context.
#include "e2e_common.h"

#include <string>
#include <vector>

__device__ int DeviceTag;    // set per device with cudaMemcpyToSymbol
__device__ int LaunchCount;  // counted per device by the kernel itself

__global__ void tagged(int *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = DeviceTag * 1000000 + I;
  if (I == 0)
    atomicAdd(&LaunchCount, 1);
}

int main() {
  int Count = 0;
  E2E_CHECK(cudaGetDeviceCount(&Count));
  std::printf("%d devices\n", Count);
  if (Count < 2) {
    std::printf("device_kernels: needs at least 2 devices (set CUSHIM_DEVICES=2 or more)\n");
    return 1;
  }
  const int N = 4096;
  std::vector<int *> Out(Count, nullptr);
  std::vector<cudaStream_t> Streams(Count);
  std::vector<void *> TagAddress(Count, nullptr);
  // All variables first, then all launches: a device reading another device's variable sees the wrong tag.
  for (int D = 0; D < Count; ++D) {
    E2E_CHECK(cudaSetDevice(D));
    int Tag = D + 1, Zero = 0;
    E2E_CHECK(cudaMemcpyToSymbol(DeviceTag, &Tag, sizeof(Tag)));
    E2E_CHECK(cudaMemcpyToSymbol(LaunchCount, &Zero, sizeof(Zero)));
    E2E_CHECK(cudaGetSymbolAddress(&TagAddress[D], DeviceTag));
    E2E_CHECK(cudaMalloc(&Out[D], N * sizeof(int)));
    E2E_CHECK(cudaStreamCreate(&Streams[D]));
  }
  for (int D = 1; D < Count; ++D)
    e2e::expect(TagAddress[D] != TagAddress[0], "each device has its own __device__ variable");
  for (int D = 0; D < Count; ++D) {
    E2E_CHECK(cudaSetDevice(D));
    tagged<<<N / 256, 256>>>(Out[D], N);              // the legacy stream of device D
    E2E_CHECK(cudaGetLastError());
    tagged<<<N / 256, 256, 0, Streams[D]>>>(Out[D], N); // a stream created on device D
    E2E_CHECK(cudaGetLastError());
  }
  for (int D = 0; D < Count; ++D) {
    E2E_CHECK(cudaSetDevice(D));
    E2E_CHECK(cudaDeviceSynchronize());
    std::vector<int> Host(N, -1);
    E2E_CHECK(cudaMemcpy(Host.data(), Out[D], N * sizeof(int), cudaMemcpyDeviceToHost));
    std::string What = "device " + std::to_string(D) + " ran with its own DeviceTag";
    e2e::Mismatches M(What.c_str());
    for (int I = 0; I < N; ++I)
      M.intAt(I, Host[I], (D + 1) * 1000000 + I);
    e2e::expect(M.report(), What.c_str());
    int Launches = -1;
    E2E_CHECK(cudaMemcpyFromSymbol(&Launches, LaunchCount, sizeof(Launches)));
    e2e::expect(Launches == 2, ("device " + std::to_string(D) + " counted its own 2 launches").c_str());
    E2E_CHECK(cudaStreamDestroy(Streams[D]));
    E2E_CHECK(cudaFree(Out[D]));
  }
  return e2e::finish("device_kernels", e2e::Failures);
}
