// Device limits and configuration through the runtime: cudaDeviceSet/GetLimit, cudaLaunchKernelEx with launch
// attributes, cache/shared-memory configuration, device flags, PCI bus ids, peer access and peer copies.
#include "e2e_common.h"

#include <cstring>
#include <vector>

__global__ void addOne(int *Data, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Data[I] += 1 + I;
}

__global__ void useShared(int *Out) {
  extern __shared__ int Dyn[];
  Dyn[threadIdx.x] = threadIdx.x;
  __syncthreads();
  Out[threadIdx.x] = Dyn[blockDim.x - 1 - threadIdx.x];
}

static void limits() {
  std::printf("limits\n");
  struct Default {
    cudaLimit L;
    size_t Want;
    const char *Name;
  } Defaults[] = {{cudaLimitStackSize, 1024, "stack size default 1024"},
                  {cudaLimitPrintfFifoSize, 1 << 20, "printf fifo default 1 MiB"},
                  {cudaLimitMallocHeapSize, 8 << 20, "malloc heap default 8 MiB"},
                  {cudaLimitDevRuntimeSyncDepth, 2, "sync depth default 2"},
                  {cudaLimitDevRuntimePendingLaunchCount, 2048, "pending launch count default 2048"}};
  for (const Default &D : Defaults) {
    size_t V = 0;
    E2E_CHECK(cudaDeviceGetLimit(&V, D.L));
    e2e::expect(V == D.Want, D.Name);
  }
  size_t V = 0;
  E2E_CHECK(cudaDeviceSetLimit(cudaLimitStackSize, 4096));
  E2E_CHECK(cudaDeviceGetLimit(&V, cudaLimitStackSize));
  e2e::expect(V == 4096, "stack size reads back 4096");
  E2E_CHECK(cudaDeviceSetLimit(cudaLimitMallocHeapSize, 16 << 20));
  E2E_CHECK(cudaDeviceGetLimit(&V, cudaLimitMallocHeapSize));
  e2e::expect(V == (16 << 20), "malloc heap reads back 16 MiB");
  E2E_CHECK(cudaDeviceSetLimit(cudaLimitMaxL2FetchGranularity, 64));
  E2E_CHECK(cudaDeviceGetLimit(&V, cudaLimitMaxL2FetchGranularity));
  e2e::expect(V == 64, "L2 fetch granularity reads back 64");
  e2e::expectCode(cudaDeviceSetLimit(static_cast<cudaLimit>(0x7f), 1), cudaErrorUnsupportedLimit, "set unknown limit");
  e2e::expectCode(cudaDeviceGetLimit(&V, static_cast<cudaLimit>(0x7f)), cudaErrorUnsupportedLimit, "get unknown limit");
  e2e::expectCode(cudaDeviceGetLimit(nullptr, cudaLimitStackSize), cudaErrorInvalidValue, "get limit into NULL");
  e2e::expectCode(cudaDeviceSetLimit(cudaLimitMaxL2FetchGranularity, 48), cudaErrorInvalidValue,
                  "L2 fetch granularity 48 (not a power of two)");
  e2e::expectCode(cudaGetLastError(), cudaErrorInvalidValue, "last error is the last failure");
}

static void launchEx() {
  std::printf("cudaLaunchKernelEx\n");
  const int N = 1000;
  int *D = nullptr;
  E2E_CHECK(cudaMalloc(&D, N * sizeof(int)));
  E2E_CHECK(cudaMemset(D, 0, N * sizeof(int)));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  cudaLaunchAttribute Attrs[2];
  Attrs[0].id = cudaLaunchAttributePriority;
  Attrs[0].val.priority = 0;
  Attrs[1].id = cudaLaunchAttributeCooperative;
  Attrs[1].val.cooperative = 1;
  cudaLaunchConfig_t C = {};
  C.gridDim = dim3((N + 127) / 128);
  C.blockDim = dim3(128);
  C.stream = S;
  C.attrs = Attrs;
  C.numAttrs = 1;
  E2E_CHECK(cudaLaunchKernelEx(&C, addOne, D, N)); // priority only
  C.numAttrs = 2;
  E2E_CHECK(cudaLaunchKernelEx(&C, addOne, D, N)); // cooperative, 8 blocks fit
  E2E_CHECK(cudaStreamSynchronize(S));
  std::vector<int> H(N);
  E2E_CHECK(cudaMemcpy(H.data(), D, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("two cudaLaunchKernelEx launches");
  for (int I = 0; I < N; ++I)
    M.intAt(I, H[I], 2 * (1 + I));
  e2e::expect(M.report(), "results");

  cudaLaunchConfig_t Big = C;
  Big.gridDim = dim3(1u << 20);
  e2e::expectCode(cudaLaunchKernelEx(&Big, addOne, D, N), cudaErrorCooperativeLaunchTooLarge,
                  "cooperative grid larger than the device holds");
  cudaGetLastError();
#ifndef E2E_NVIDIA_RUNTIME
  // NVIDIA's runtime (nvcc's default static cudart) reads *config before any check and crashes on NULL, on a GPU
  // as here (seen in gdb: the fault is inside cudaLaunchKernelExC, before any driver call); only ours can answer.
  e2e::expectCode(cudaLaunchKernelExC(nullptr, reinterpret_cast<const void *>(addOne), nullptr), cudaErrorInvalidValue,
                  "NULL config");
  cudaGetLastError();
#endif
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(D));
}

static void occupancyAndCache() {
  std::printf("occupancy and cache configuration\n");
  int Dev = 0;
  E2E_CHECK(cudaGetDevice(&Dev));
  cudaDeviceProp P;
  E2E_CHECK(cudaGetDeviceProperties(&P, Dev));
  size_t Avail = 0;
  E2E_CHECK(cudaOccupancyAvailableDynamicSMemPerBlock(&Avail, useShared, 1, 128));
  e2e::expect(Avail > 0 && Avail <= P.sharedMemPerBlockOptin, "one block: available dynamic shared memory in range");
  size_t Avail2 = 0;
  E2E_CHECK(cudaOccupancyAvailableDynamicSMemPerBlock(&Avail2, useShared, 2, 128));
  e2e::expect(Avail2 <= P.sharedMemPerMultiprocessor / 2, "two blocks: at most half the multiprocessor each");
  int Blocks = 0;
  E2E_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&Blocks, useShared, 128, Avail2));
  e2e::expect(Blocks >= 2, "two blocks with that dynamic size fit on one multiprocessor");
  E2E_CHECK(cudaOccupancyAvailableDynamicSMemPerBlock(&Avail, useShared, 100000, 128));
  e2e::expect(Avail == 0, "100000 blocks per multiprocessor: nothing available");
  e2e::expectCode(cudaOccupancyAvailableDynamicSMemPerBlock(nullptr, useShared, 1, 128), cudaErrorInvalidValue,
                  "occupancy into NULL");

  E2E_CHECK(cudaFuncSetCacheConfig(useShared, cudaFuncCachePreferShared));
  e2e::expectCode(cudaFuncSetCacheConfig(useShared, static_cast<cudaFuncCache>(7)), cudaErrorInvalidValue,
                  "invalid function cache config");
  E2E_CHECK(cudaDeviceSetCacheConfig(cudaFuncCachePreferL1));
  cudaFuncCache Cache = cudaFuncCachePreferNone;
  E2E_CHECK(cudaDeviceGetCacheConfig(&Cache));
  e2e::expect(Cache == cudaFuncCachePreferL1, "device cache config reads back PreferL1");
  E2E_CHECK(cudaDeviceSetCacheConfig(cudaFuncCachePreferNone));
  cudaGetLastError();

  // The kernel still runs with a dynamic size the query reported.
  int *Out = nullptr;
  E2E_CHECK(cudaMalloc(&Out, 128 * sizeof(int)));
  E2E_CHECK(cudaFuncSetAttribute(useShared, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(Avail2)));
  useShared<<<1, 128, Avail2>>>(Out);
  E2E_CHECK_LAUNCH();
  int H[128];
  E2E_CHECK(cudaMemcpy(H, Out, sizeof(H), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("kernel with the reported dynamic shared size");
  for (int I = 0; I < 128; ++I)
    M.intAt(I, H[I], 127 - I);
  e2e::expect(M.report(), "results");
  E2E_CHECK(cudaFree(Out));
}

static void flagsAndIds() {
  std::printf("device flags, choice and PCI ids\n");
  E2E_CHECK(cudaSetDeviceFlags(cudaDeviceScheduleBlockingSync));
  unsigned Flags = 0;
  E2E_CHECK(cudaGetDeviceFlags(&Flags));
  e2e::expect((Flags & cudaDeviceScheduleMask) == cudaDeviceScheduleBlockingSync, "blocking sync flag reads back");
  e2e::expect((Flags & cudaDeviceMapHost) != 0, "cudaDeviceMapHost is always reported");
  e2e::expectCode(cudaSetDeviceFlags(0x100), cudaErrorInvalidValue, "unknown device flag");
  e2e::expectCode(cudaSetDeviceFlags(cudaDeviceScheduleSpin | cudaDeviceScheduleYield), cudaErrorInvalidValue,
                  "two scheduling flags");
  E2E_CHECK(cudaSetDeviceFlags(cudaDeviceScheduleAuto));
  cudaGetLastError();

  cudaDeviceProp P;
  E2E_CHECK(cudaGetDeviceProperties(&P, 0));
  cudaDeviceProp Want;
  std::memset(&Want, 0, sizeof(Want));
  Want.major = P.major;
  Want.minor = P.minor;
  int Chosen = -1;
  E2E_CHECK(cudaChooseDevice(&Chosen, &Want));
  e2e::expect(Chosen == 0, "cudaChooseDevice picks device 0");

  char Id[32];
  E2E_CHECK(cudaDeviceGetPCIBusId(Id, sizeof(Id), 0));
  unsigned Domain = 99, Bus = 99, Device = 99, Fn = 99;
  e2e::expect(std::sscanf(Id, "%x:%x:%x.%x", &Domain, &Bus, &Device, &Fn) == 4, "bus id has the form dddd:bb:dd.f");
  e2e::expect(static_cast<int>(Domain) == P.pciDomainID && static_cast<int>(Bus) == P.pciBusID &&
                  static_cast<int>(Device) == P.pciDeviceID,
              "bus id matches the device's PCI properties");
  int Found = -1;
  E2E_CHECK(cudaDeviceGetByPCIBusId(&Found, Id));
  e2e::expect(Found == 0, "cudaDeviceGetByPCIBusId finds device 0");
  e2e::expectCode(cudaDeviceGetPCIBusId(nullptr, 32, 0), cudaErrorInvalidValue, "bus id into NULL");
  e2e::expectCode(cudaDeviceGetPCIBusId(Id, sizeof(Id), 99), cudaErrorInvalidDevice, "bus id of device 99");
  e2e::expectCode(cudaDeviceGetByPCIBusId(&Found, nullptr), cudaErrorInvalidValue, "NULL bus id");
  cudaGetLastError();
}

static void peers() {
  std::printf("peer access and peer copies\n");
  int Can = -1;
  E2E_CHECK(cudaDeviceCanAccessPeer(&Can, 0, 0));
  e2e::expect(Can == 0, "a device is not its own peer");
  e2e::expectCode(cudaDeviceCanAccessPeer(&Can, 0, 99), cudaErrorInvalidDevice, "peer 99");
  e2e::expectCode(cudaDeviceEnablePeerAccess(0, 0), cudaErrorInvalidDevice, "enable peer access to itself");
  e2e::expectCode(cudaDeviceDisablePeerAccess(0), cudaErrorInvalidDevice, "disable peer access to itself");
  e2e::expectCode(cudaDeviceEnablePeerAccess(0, 1), cudaErrorInvalidValue, "enable with flags 1");
  cudaGetLastError();

  const int N = 4096;
  std::vector<int> H(N), Back(N, -1);
  for (int I = 0; I < N; ++I)
    H[I] = I * 7 - 3;
  int *A = nullptr, *B = nullptr, *C = nullptr;
  E2E_CHECK(cudaMalloc(&A, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&B, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&C, N * sizeof(int)));
  E2E_CHECK(cudaMemcpy(A, H.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemcpyPeer(B, 0, A, 0, N * sizeof(int)));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  E2E_CHECK(cudaMemcpyPeerAsync(C, 0, B, 0, N * sizeof(int), S));
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaMemcpy(Back.data(), C, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("cudaMemcpyPeer then cudaMemcpyPeerAsync");
  for (int I = 0; I < N; ++I)
    M.intAt(I, Back[I], H[I]);
  e2e::expect(M.report(), "results");
  e2e::expectCode(cudaMemcpyPeer(B, 99, A, 0, 16), cudaErrorInvalidDevice, "peer copy to device 99");
  cudaGetLastError();
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(A));
  E2E_CHECK(cudaFree(B));
  E2E_CHECK(cudaFree(C));
}

int main() {
  limits();
  launchEx();
  occupancyAndCache();
  flagsAndIds();
  peers();
  return e2e::finish("device_limits", e2e::Failures);
}
