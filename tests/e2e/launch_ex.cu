// Launches with attributes: cudaLaunchKernelEx (priority, cooperative with grid.sync(), clusters and launch events
// refused) and cudaLaunchCooperativeKernel's configuration errors, as the runtime reports them; then the driver's
// cuLaunchKernelEx on a module loaded from PTX (argv[1], driver_kernels.ptx). Built with -cudart shared (our runtime)
// and with nvcc's defaults (NVIDIA's static runtime, which calls cuLaunchKernelEx / cuLaunchCooperativeKernel).
#include "e2e_common.h"

#include <cooperative_groups.h>
#include <cuda.h>

#include <vector>

namespace cg = cooperative_groups;

__global__ void addOne(int *Data, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Data[I] += 1 + I;
}

// Each thread writes its slot, the grid synchronises, then each reads the slot another block wrote.
__global__ void mirror(int *Data, int *Out, int N) {
  cg::grid_group Grid = cg::this_grid();
  int I = static_cast<int>(Grid.thread_rank());
  if (I < N)
    Data[I] = 3 * I + 1;
  Grid.sync();
  if (I < N)
    Out[I] = Data[N - 1 - I];
}

static void expectDriver(CUresult Got, CUresult Want, const char *What) {
  const char *GotName = "?", *WantName = "?";
  cuGetErrorName(Got, &GotName);
  cuGetErrorName(Want, &WantName);
  bool Ok = Got == Want;
  std::printf("  %s %s: got %s, want %s\n", Ok ? "ok  " : "FAIL", What, GotName, WantName);
  if (!Ok)
    ++e2e::Failures;
}

static void runtimeLaunches() {
  std::printf("cudaLaunchKernelEx\n");
  const int N = 1000;
  int *D = nullptr, *Out = nullptr;
  E2E_CHECK(cudaMalloc(&D, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&Out, N * sizeof(int)));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  // On S: under --default-stream per-thread a blocking stream does not wait for the thread's default stream.
  E2E_CHECK(cudaMemsetAsync(D, 0, N * sizeof(int), S));

  cudaLaunchAttribute Attrs[3] = {};
  Attrs[0].id = cudaLaunchAttributePriority;
  Attrs[0].val.priority = 0;
  Attrs[1].id = cudaLaunchAttributeAccessPolicyWindow; // a hint: no window (num_bytes 0)
  Attrs[2].id = cudaLaunchAttributeCooperative;
  Attrs[2].val.cooperative = 1;
  cudaLaunchConfig_t C = {};
  C.gridDim = dim3((N + 127) / 128);
  C.blockDim = dim3(128);
  C.stream = S;
  C.attrs = Attrs;
  C.numAttrs = 2;
  E2E_CHECK(cudaLaunchKernelEx(&C, addOne, D, N)); // hints only
  C.numAttrs = 3;
  E2E_CHECK(cudaLaunchKernelEx(&C, mirror, D, Out, N)); // cooperative: 8 blocks synchronise
  E2E_CHECK(cudaStreamSynchronize(S));
  std::vector<int> H(N);
  E2E_CHECK(cudaMemcpy(H.data(), Out, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("cooperative cudaLaunchKernelEx with grid.sync()");
  for (int I = 0; I < N; ++I)
    M.intAt(I, H[I], 3 * (N - 1 - I) + 1);
  e2e::expect(M.report(), "results");

  cudaLaunchConfig_t Big = C;
  Big.gridDim = dim3(1u << 20);
  e2e::expectCode(cudaLaunchKernelEx(&Big, mirror, D, Out, N), cudaErrorCooperativeLaunchTooLarge,
                  "cooperative grid larger than the device holds");
  cudaGetLastError();
  cudaLaunchConfig_t Wide = C;
  Wide.blockDim = dim3(2048);
  e2e::expectCode(cudaLaunchKernelEx(&Wide, mirror, D, Out, N), cudaErrorInvalidConfiguration,
                  "cooperative cudaLaunchKernelEx with 2048 threads per block");
  cudaGetLastError();
  Wide.numAttrs = 0;
  e2e::expectCode(cudaLaunchKernelEx(&Wide, addOne, D, N), cudaErrorInvalidConfiguration,
                  "cudaLaunchKernelEx with 2048 threads per block");
  cudaGetLastError();

  // What the host backend cannot do is refused, and nothing runs.
  cudaLaunchAttribute Cluster = {};
  Cluster.id = cudaLaunchAttributeClusterDimension;
  Cluster.val.clusterDim.x = 2;
  Cluster.val.clusterDim.y = Cluster.val.clusterDim.z = 1;
  cudaLaunchConfig_t Refused = C;
  Refused.attrs = &Cluster;
  Refused.numAttrs = 1;
  e2e::expectCode(cudaLaunchKernelEx(&Refused, addOne, D, N), cudaErrorNotSupported, "cluster of 2 blocks");
  cudaGetLastError();
  Cluster.val.clusterDim.x = 1; // a cluster of one block is a plain launch
  E2E_CHECK(cudaLaunchKernelEx(&Refused, addOne, D, N));
  cudaEvent_t Ev;
  E2E_CHECK(cudaEventCreate(&Ev));
  cudaLaunchAttribute Completion = {};
  Completion.id = cudaLaunchAttributeLaunchCompletionEvent;
  Completion.val.launchCompletionEvent.event = Ev;
  Refused.attrs = &Completion;
  e2e::expectCode(cudaLaunchKernelEx(&Refused, addOne, D, N), cudaErrorNotSupported, "launch completion event");
  cudaGetLastError();
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaMemcpy(H.data(), D, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M2("only the accepted launches ran");
  for (int I = 0; I < N; ++I)
    M2.intAt(I, H[I], 3 * I + 1 + 1 + I);
  e2e::expect(M2.report(), "results after refused launches");

  std::printf("cudaLaunchCooperativeKernel\n");
  int NArg = N;
  void *Args[] = {&D, &Out, &NArg};
  e2e::expectCode(cudaLaunchCooperativeKernel(reinterpret_cast<void *>(mirror), dim3(8), dim3(2048), Args, 0, S),
                  cudaErrorInvalidConfiguration, "2048 threads per block");
  cudaGetLastError();
  e2e::expectCode(cudaLaunchCooperativeKernel(reinterpret_cast<void *>(mirror), dim3(0), dim3(128), Args, 0, S),
                  cudaErrorInvalidConfiguration, "empty grid");
  cudaGetLastError();
  e2e::expectCode(cudaLaunchCooperativeKernel(reinterpret_cast<void *>(mirror), dim3(1u << 20), dim3(128), Args, 0, S),
                  cudaErrorCooperativeLaunchTooLarge, "grid larger than the device holds");
  cudaGetLastError();
  E2E_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<void *>(mirror), dim3(8), dim3(128), Args, 0, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaMemcpy(H.data(), Out, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M3("cudaLaunchCooperativeKernel with grid.sync()");
  for (int I = 0; I < N; ++I)
    M3.intAt(I, H[I], 3 * (N - 1 - I) + 1);
  e2e::expect(M3.report(), "results");

  E2E_CHECK(cudaEventDestroy(Ev));
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(D));
  E2E_CHECK(cudaFree(Out));
}

// cuLaunchKernelEx on iotaPlusBase(int *Out, int N, int Step) of driver_kernels.ptx (Base = 1000).
static void driverLaunches(const char *PtxPath) {
  std::printf("cuLaunchKernelEx\n");
  E2E_CHECK(cudaFree(nullptr)); // the runtime's primary context is current from here on
  CUmodule Mod;
  CUfunction F;
  if (cuModuleLoad(&Mod, PtxPath) != CUDA_SUCCESS || cuModuleGetFunction(&F, Mod, "iotaPlusBase") != CUDA_SUCCESS) {
    e2e::expect(false, "load driver_kernels.ptx");
    return;
  }
  const int N = 777;
  int Step = 3, NArg = N;
  CUdeviceptr Out;
  E2E_CHECK(static_cast<cudaError_t>(cuMemAlloc(&Out, N * sizeof(int))));
  void *Params[] = {&Out, &NArg, &Step};
  CUstream S;
  E2E_CHECK(static_cast<cudaError_t>(cuStreamCreate(&S, CU_STREAM_NON_BLOCKING)));
  CUlaunchAttribute Attrs[2] = {};
  Attrs[0].id = CU_LAUNCH_ATTRIBUTE_PRIORITY;
  Attrs[0].value.priority = 0;
  Attrs[1].id = CU_LAUNCH_ATTRIBUTE_COOPERATIVE;
  Attrs[1].value.cooperative = 1;
  CUlaunchConfig C = {};
  C.gridDimX = (N + 63) / 64;
  C.gridDimY = C.gridDimZ = 1;
  C.blockDimX = 64;
  C.blockDimY = C.blockDimZ = 1;
  C.hStream = S;
  C.attrs = Attrs;
  C.numAttrs = 2;
  expectDriver(cuLaunchKernelEx(&C, F, Params, nullptr), CUDA_SUCCESS, "priority + cooperative launch");
  expectDriver(cuStreamSynchronize(S), CUDA_SUCCESS, "stream synchronize");
  std::vector<int> H(N);
  E2E_CHECK(static_cast<cudaError_t>(cuMemcpyDtoH(H.data(), Out, N * sizeof(int))));
  e2e::Mismatches M("cuLaunchKernelEx results");
  for (int I = 0; I < N; ++I)
    M.intAt(I, H[I], 1000 + I * Step);
  e2e::expect(M.report(), "results");

  CUlaunchConfig Bad = C;
  Bad.blockDimX = 2048;
  expectDriver(cuLaunchKernelEx(&Bad, F, Params, nullptr), CUDA_ERROR_INVALID_VALUE, "2048 threads per block");
  Bad = C;
  Bad.gridDimX = 1u << 20;
  expectDriver(cuLaunchKernelEx(&Bad, F, Params, nullptr), CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE,
               "cooperative grid larger than the device holds");
  CUlaunchAttribute Cluster = {};
  Cluster.id = CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION;
  Cluster.value.clusterDim.x = 4;
  Cluster.value.clusterDim.y = Cluster.value.clusterDim.z = 1;
  Bad = C;
  Bad.attrs = &Cluster;
  Bad.numAttrs = 1;
  expectDriver(cuLaunchKernelEx(&Bad, F, Params, nullptr), CUDA_ERROR_NOT_SUPPORTED, "cluster of 4 blocks");
  Bad.attrs = nullptr;
  expectDriver(cuLaunchKernelEx(&Bad, F, Params, nullptr), CUDA_ERROR_INVALID_VALUE, "attrs NULL, numAttrs 1");
  expectDriver(cuLaunchKernelEx(nullptr, F, Params, nullptr), CUDA_ERROR_INVALID_VALUE, "NULL config");
  expectDriver(cuStreamDestroy(S), CUDA_SUCCESS, "stream destroy");
  expectDriver(cuMemFree(Out), CUDA_SUCCESS, "free");
  expectDriver(cuModuleUnload(Mod), CUDA_SUCCESS, "module unload");
}

int main(int Argc, char **Argv) {
  if (Argc < 2) {
    std::fprintf(stderr, "usage: %s driver_kernels.ptx\n", Argv[0]);
    return 2;
  }
  runtimeLaunches();
  driverLaunches(Argv[1]);
  return e2e::finish("launch_ex", e2e::Failures);
}
