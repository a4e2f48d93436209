// End-to-end: device enumeration and properties (cudaGetDeviceProperties, cudaDeviceGetAttribute), versions and
// cudaFuncGetAttributes report sane values that agree with each other.
// Usage: device_query [--expect-cc MAJOR.MINOR]   (default 8.0; the CTest variant sets CUSHIM_CC=8.6 and passes 8.6)
#include "e2e_common.h"

#include <cstring>

__global__ void __launch_bounds__(128) boundedKernel(int *Out) {
  __shared__ int Scratch[128]; // 512 bytes of static shared memory
  Scratch[threadIdx.x] = threadIdx.x * 3;
  __syncthreads();
  Out[threadIdx.x] = Scratch[127 - threadIdx.x];
}

__global__ void plainKernel(int *Out) { Out[threadIdx.x] = blockDim.x; }

static int Failures = 0;

static void expect(bool Ok, const char *What, long long Got) {
  std::printf("  %s %s (value %lld)\n", Ok ? "ok  " : "FAIL", What, Got);
  if (!Ok)
    ++Failures;
}

int main(int Argc, char **Argv) {
  int WantMajor = 8, WantMinor = 0;
  for (int I = 1; I + 1 < Argc; ++I)
    if (std::strcmp(Argv[I], "--expect-cc") == 0 && std::sscanf(Argv[I + 1], "%d.%d", &WantMajor, &WantMinor) != 2) {
      std::fprintf(stderr, "bad --expect-cc value %s\n", Argv[I + 1]);
      return 2;
    }

  std::printf("versions\n");
  int Driver = 0, Runtime = 0;
  E2E_CHECK(cudaDriverGetVersion(&Driver));
  E2E_CHECK(cudaRuntimeGetVersion(&Runtime));
  expect(Driver == 13000, "cudaDriverGetVersion == 13000", Driver);
  expect(Runtime == 13000, "cudaRuntimeGetVersion == 13000", Runtime);

  std::printf("devices\n");
  int Count = 0;
  E2E_CHECK(cudaGetDeviceCount(&Count));
  expect(Count >= 1, "cudaGetDeviceCount >= 1", Count);

  for (int D = 0; D < Count; ++D) {
    cudaDeviceProp P;
    E2E_CHECK(cudaGetDeviceProperties(&P, D));
    std::printf("device %d: \"%s\" cc %d.%d, %d SMs, %zu MiB, %zu bytes shared/block\n", D, P.name, P.major, P.minor,
                P.multiProcessorCount, P.totalGlobalMem >> 20, P.sharedMemPerBlock);
    expect(std::strlen(P.name) > 0, "name non-empty", std::strlen(P.name));
    expect(P.major == WantMajor, "major", P.major);
    expect(P.minor == WantMinor, "minor", P.minor);
    expect(P.warpSize == 32, "warpSize 32", P.warpSize);
    expect(P.maxThreadsPerBlock == 1024, "maxThreadsPerBlock 1024", P.maxThreadsPerBlock);
    expect(P.maxThreadsDim[0] == 1024 && P.maxThreadsDim[1] == 1024 && P.maxThreadsDim[2] == 64,
           "maxThreadsDim 1024 x 1024 x 64", P.maxThreadsDim[2]);
    expect(P.maxGridSize[0] == 2147483647 && P.maxGridSize[1] == 65535 && P.maxGridSize[2] == 65535,
           "maxGridSize 2^31-1 x 65535 x 65535", P.maxGridSize[0]);
    expect(P.sharedMemPerBlock == 48 * 1024, "sharedMemPerBlock 48 KiB", P.sharedMemPerBlock);
    expect(P.sharedMemPerBlockOptin >= P.sharedMemPerBlock, "sharedMemPerBlockOptin >= sharedMemPerBlock",
           P.sharedMemPerBlockOptin);
    expect(P.totalGlobalMem >= (size_t(256) << 20), "totalGlobalMem >= 256 MiB", P.totalGlobalMem >> 20);
    expect(P.multiProcessorCount >= 1, "multiProcessorCount >= 1", P.multiProcessorCount);
    expect(P.regsPerBlock > 0, "regsPerBlock > 0", P.regsPerBlock);
    expect(P.totalConstMem == 64 * 1024, "totalConstMem 64 KiB", P.totalConstMem);
    expect(P.maxThreadsPerMultiProcessor >= 1024, "maxThreadsPerMultiProcessor >= 1024",
           P.maxThreadsPerMultiProcessor);

    // Attributes agree with the properties.
    int V = 0;
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrComputeCapabilityMajor, D));
    expect(V == P.major, "attr ComputeCapabilityMajor == props.major", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrComputeCapabilityMinor, D));
    expect(V == P.minor, "attr ComputeCapabilityMinor == props.minor", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrWarpSize, D));
    expect(V == 32, "attr WarpSize", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrMaxThreadsPerBlock, D));
    expect(V == P.maxThreadsPerBlock, "attr MaxThreadsPerBlock", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrMaxBlockDimZ, D));
    expect(V == 64, "attr MaxBlockDimZ", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrMaxGridDimY, D));
    expect(V == 65535, "attr MaxGridDimY", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrMultiProcessorCount, D));
    expect(V == P.multiProcessorCount, "attr MultiProcessorCount", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrMaxSharedMemoryPerBlock, D));
    expect(V == static_cast<int>(P.sharedMemPerBlock), "attr MaxSharedMemoryPerBlock", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrMaxSharedMemoryPerBlockOptin, D));
    expect(V == static_cast<int>(P.sharedMemPerBlockOptin), "attr MaxSharedMemoryPerBlockOptin", V);
    E2E_CHECK(cudaDeviceGetAttribute(&V, cudaDevAttrUnifiedAddressing, D));
    expect(V == P.unifiedAddressing, "attr UnifiedAddressing", V);
  }

  std::printf("function attributes\n");
  cudaFuncAttributes A;
  E2E_CHECK(cudaFuncGetAttributes(&A, boundedKernel));
  expect(A.maxThreadsPerBlock == 128, "boundedKernel maxThreadsPerBlock == 128 (__launch_bounds__)",
         A.maxThreadsPerBlock);
  expect(A.sharedSizeBytes == 512, "boundedKernel sharedSizeBytes == 512", A.sharedSizeBytes);
  expect(A.ptxVersion > 0, "boundedKernel ptxVersion > 0", A.ptxVersion);
  E2E_CHECK(cudaFuncGetAttributes(&A, plainKernel));
  expect(A.maxThreadsPerBlock >= 128 && A.maxThreadsPerBlock <= 1024, "plainKernel maxThreadsPerBlock in [128, 1024]",
         A.maxThreadsPerBlock);
  expect(A.sharedSizeBytes == 0, "plainKernel sharedSizeBytes == 0", A.sharedSizeBytes);

  // The device actually runs work with what it reported.
  int *Out;
  E2E_CHECK(cudaMalloc(&Out, 128 * sizeof(int)));
  boundedKernel<<<1, 128>>>(Out);
  E2E_CHECK_LAUNCH();
  int Host[128];
  E2E_CHECK(cudaMemcpy(Host, Out, sizeof(Host), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("boundedKernel results");
  for (int I = 0; I < 128; ++I)
    M.intAt(I, Host[I], (127 - I) * 3);
  Failures += M.report() ? 0 : 1;
  E2E_CHECK(cudaFree(Out));

  return e2e::finish("device_query", Failures);
}
