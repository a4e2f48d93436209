// End-to-end: every memory kind of the runtime API used by kernels and checked on the host: mapped pinned and
// registered host memory, __managed__ variables and cudaMallocManaged memory with advice and prefetches, stream-ordered
// allocation from the default and an explicit pool across two streams, cudaMemGetInfo moving with allocations,
// cudaPointerGetAttributes for every kind, and the documented errors of misuse (docs/MEMORY.md).
#include "e2e_common.h"

#include <cstdint>
#include <cstring>
#include <vector>

using e2e::expect;
using e2e::expectCode;

__managed__ int ManagedCounter = 5;
__managed__ float ManagedTable[256];

__global__ void iota3(int *Out, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = 3 * I + 1;
}

__global__ void addOne(int *Data, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Data[I] += 1;
}

__global__ void bumpManaged() {
  atomicAdd(&ManagedCounter, 1);
  ManagedTable[threadIdx.x] *= 2.0f;
}

__global__ void saxpy(float *Y, const float *X, float A, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Y[I] = A * X[I] + Y[I];
}

static void pinnedHostMemory() {
  std::printf("pinned and registered host memory\n");
  const int N = 4096;
  int *Host = nullptr, *Dev = nullptr;
  E2E_CHECK(cudaHostAlloc(&Host, N * sizeof(int), cudaHostAllocMapped | cudaHostAllocPortable));
  unsigned Flags = 0;
  E2E_CHECK(cudaHostGetFlags(&Flags, Host));
  expect(Flags == (cudaHostAllocMapped | cudaHostAllocPortable), "cudaHostGetFlags returns the allocation's flags");
  E2E_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void **>(&Dev), Host, 0));
  iota3<<<(N + 255) / 256, 256>>>(Dev, N);
  E2E_CHECK_LAUNCH();
  e2e::Mismatches M1("kernel writes through the mapped pointer of cudaHostAlloc memory");
  for (int I = 0; I < N; ++I)
    M1.intAt(I, Host[I], 3 * I + 1);
  if (!M1.report())
    ++e2e::Failures;
  int *Interior = nullptr;
  E2E_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void **>(&Interior), Host + 100, 0));
  expect(Interior == Dev + 100, "the device pointer of an interior host pointer keeps its offset");
  expectCode(cudaHostGetDevicePointer(reinterpret_cast<void **>(&Interior), Host, 1), cudaErrorInvalidValue,
             "cudaHostGetDevicePointer with nonzero flags");
  (void)cudaGetLastError(); // the next launch check reads the last error

  // Registered memory: plain malloc memory made visible to kernels.
  std::vector<int> Plain(N, 7);
  E2E_CHECK(cudaHostRegister(Plain.data(), N * sizeof(int), cudaHostRegisterMapped));
  int *PlainDev = nullptr;
  E2E_CHECK(cudaHostGetDevicePointer(reinterpret_cast<void **>(&PlainDev), Plain.data(), 0));
  addOne<<<(N + 255) / 256, 256>>>(PlainDev, N);
  E2E_CHECK_LAUNCH();
  e2e::Mismatches M2("kernel updates registered host memory");
  for (int I = 0; I < N; ++I)
    M2.intAt(I, Plain[I], 8);
  if (!M2.report())
    ++e2e::Failures;
  expectCode(cudaHostRegister(Plain.data() + 10, 64, 0), cudaErrorHostMemoryAlreadyRegistered,
             "registering an already registered range");
  expectCode(cudaHostRegister(Host, 64, 0), cudaErrorHostMemoryAlreadyRegistered,
             "registering cudaHostAlloc memory");
  expectCode(cudaHostGetFlags(&Flags, Plain.data()), cudaErrorInvalidValue,
             "cudaHostGetFlags of registered (not cudaHostAlloc) memory");
  expectCode(cudaHostUnregister(Plain.data() + 1), cudaErrorHostMemoryNotRegistered,
             "unregistering from inside a registration");
  E2E_CHECK(cudaHostUnregister(Plain.data()));
  expectCode(cudaHostUnregister(Plain.data()), cudaErrorHostMemoryNotRegistered, "unregistering twice");
  expectCode(cudaHostGetDevicePointer(reinterpret_cast<void **>(&PlainDev), Plain.data(), 0), cudaErrorInvalidValue,
             "device pointer of unregistered memory");
  std::vector<int> ReadOnly(1024, 1);
  E2E_CHECK(cudaHostRegister(ReadOnly.data(), ReadOnly.size() * sizeof(int), cudaHostRegisterReadOnly));
  E2E_CHECK(cudaHostUnregister(ReadOnly.data()));
  expectCode(cudaHostRegister(ReadOnly.data(), 64, 0x80), cudaErrorInvalidValue, "unknown registration flag");
  expectCode(cudaHostAlloc(reinterpret_cast<void **>(&Dev), 64, 0x80), cudaErrorInvalidValue,
             "unknown host allocation flag");

  E2E_CHECK(cudaFreeHost(Host));
  expectCode(cudaFreeHost(Host), cudaErrorInvalidValue, "cudaFreeHost twice");
  (void)cudaGetLastError();
}

static void managedVariables() {
  std::printf("__managed__ variables\n");
  expect(ManagedCounter == 5, "the host reads a __managed__ variable's initial value");
  ManagedCounter = 10;
  for (int I = 0; I < 256; ++I)
    ManagedTable[I] = static_cast<float>(I);
  bumpManaged<<<1, 256>>>();
  E2E_CHECK_LAUNCH();
  expect(ManagedCounter == 266, "kernel atomics on a __managed__ int written by the host");
  e2e::Mismatches M("__managed__ array doubled by a kernel");
  for (int I = 0; I < 256; ++I)
    M.realAt(I, ManagedTable[I], 2.0 * I, 0, 0);
  if (!M.report())
    ++e2e::Failures;
  cudaPointerAttributes A;
  E2E_CHECK(cudaPointerGetAttributes(&A, &ManagedCounter));
  expect(A.type == cudaMemoryTypeManaged && A.hostPointer == &ManagedCounter,
         "pointer attributes of a __managed__ variable: managed, host-accessible");
}

static void managedAllocations() {
  std::printf("cudaMallocManaged with advice and prefetches\n");
  const int N = 1 << 16;
  float *X = nullptr, *Y = nullptr;
  E2E_CHECK(cudaMallocManaged(&X, N * sizeof(float)));
  E2E_CHECK(cudaMallocManaged(&Y, N * sizeof(float), cudaMemAttachHost));
  for (int I = 0; I < N; ++I) {
    X[I] = static_cast<float>(I % 1000);
    Y[I] = 1.0f;
  }
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  cudaMemLocation Dev0{cudaMemLocationTypeDevice, 0}, Host{cudaMemLocationTypeHost, 0};
  E2E_CHECK(cudaMemAdvise(X, N * sizeof(float), cudaMemAdviseSetReadMostly, Dev0));
  E2E_CHECK(cudaMemAdvise(Y, N * sizeof(float), cudaMemAdviseSetPreferredLocation, Dev0));
  E2E_CHECK(cudaMemAdvise(Y, N * sizeof(float), cudaMemAdviseSetAccessedBy, Host));
  E2E_CHECK(cudaStreamAttachMemAsync(S, Y, 0, cudaMemAttachGlobal));
  E2E_CHECK(cudaMemPrefetchAsync(X, N * sizeof(float), Dev0, 0, S));
  E2E_CHECK(cudaMemPrefetchAsync(Y, N * sizeof(float), Dev0, 0, S));
  saxpy<<<N / 256, 256, 0, S>>>(Y, X, 2.0f, N);
  E2E_CHECK(cudaGetLastError());
  E2E_CHECK(cudaMemPrefetchAsync(Y, N * sizeof(float), Host, 0, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  e2e::Mismatches M("saxpy on managed memory after prefetches");
  for (int I = 0; I < N; ++I)
    M.realAt(I, Y[I], 2.0 * (I % 1000) + 1.0, 0, 0);
  if (!M.report())
    ++e2e::Failures;

  int ReadMostly = 0, Preferred = 0, LastPrefetch = 0, PrefetchX = 0;
  int AccessedBy[3] = {0, 0, 0};
  E2E_CHECK(cudaMemRangeGetAttribute(&ReadMostly, 4, cudaMemRangeAttributeReadMostly, X, N * sizeof(float)));
  E2E_CHECK(cudaMemRangeGetAttribute(&Preferred, 4, cudaMemRangeAttributePreferredLocation, Y, N * sizeof(float)));
  E2E_CHECK(cudaMemRangeGetAttribute(&LastPrefetch, 4, cudaMemRangeAttributeLastPrefetchLocation, Y, 4096));
  E2E_CHECK(cudaMemRangeGetAttribute(&PrefetchX, 4, cudaMemRangeAttributeLastPrefetchLocation, X, 4096));
  E2E_CHECK(cudaMemRangeGetAttribute(AccessedBy, sizeof(AccessedBy), cudaMemRangeAttributeAccessedBy, Y, 4096));
  expect(ReadMostly == 1, "range attribute: read-mostly advice");
  expect(Preferred == 0, "range attribute: preferred location device 0");
  expect(LastPrefetch == cudaCpuDeviceId, "range attribute: last prefetch to the host");
  expect(PrefetchX == 0, "range attribute: last prefetch to device 0");
  expect(AccessedBy[0] == cudaCpuDeviceId && AccessedBy[1] == cudaInvalidDeviceId,
         "range attribute: accessed-by list holds the host only");
  // Advice on part of a range: the whole range no longer agrees.
  E2E_CHECK(cudaMemAdvise(X, 4096, cudaMemAdviseUnsetReadMostly, Dev0));
  E2E_CHECK(cudaMemRangeGetAttribute(&ReadMostly, 4, cudaMemRangeAttributeReadMostly, X, N * sizeof(float)));
  expect(ReadMostly == 0, "range attribute: read-mostly is 0 once one page lost the advice");
  void *Values[2] = {&ReadMostly, &Preferred};
  size_t Sizes[2] = {4, 4};
  cudaMemRangeAttribute Attrs[2] = {cudaMemRangeAttributeReadMostly, cudaMemRangeAttributePreferredLocation};
  E2E_CHECK(cudaMemRangeGetAttributes(Values, Sizes, Attrs, 2, Y, 8192));
  expect(ReadMostly == 0 && Preferred == 0, "cudaMemRangeGetAttributes reads several attributes");

  int *DevOnly = nullptr;
  E2E_CHECK(cudaMalloc(&DevOnly, 4096));
  expectCode(cudaMallocManaged(&X, 64, 0), cudaErrorInvalidValue, "cudaMallocManaged with flags 0");
  expectCode(cudaMemAdvise(DevOnly, 4096, cudaMemAdviseSetReadMostly, Dev0), cudaErrorInvalidValue,
             "cudaMemAdvise on cudaMalloc memory");
  expectCode(cudaMemRangeGetAttribute(&ReadMostly, 8, cudaMemRangeAttributeReadMostly, Y, 4096),
             cudaErrorInvalidValue, "cudaMemRangeGetAttribute with a wrong data size");
  expectCode(cudaStreamAttachMemAsync(S, Y, 100, cudaMemAttachHost), cudaErrorInvalidValue,
             "attaching part of a managed allocation");
  cudaMemLocation BadDevice{cudaMemLocationTypeDevice, 99};
  expectCode(cudaMemPrefetchAsync(Y, 4096, BadDevice, 0, S), cudaErrorInvalidDevice, "prefetch to device 99");
  (void)cudaGetLastError();
  E2E_CHECK(cudaFree(DevOnly));
  E2E_CHECK(cudaFree(X));
  E2E_CHECK(cudaFree(Y));
  E2E_CHECK(cudaStreamDestroy(S));
}

static unsigned long long poolAttr(cudaMemPool_t Pool, cudaMemPoolAttr Attr) {
  unsigned long long V = 0;
  E2E_CHECK(cudaMemPoolGetAttribute(Pool, Attr, &V));
  return V;
}

static void streamOrderedAllocation() {
  std::printf("stream-ordered allocation and pools\n");
  const int N = 1 << 15;
  cudaStream_t S1, S2;
  E2E_CHECK(cudaStreamCreateWithFlags(&S1, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&S2, cudaStreamNonBlocking));
  int PoolsSupported = 0;
  E2E_CHECK(cudaDeviceGetAttribute(&PoolsSupported, cudaDevAttrMemoryPoolsSupported, 0));
  expect(PoolsSupported == 1, "the device reports memory pool support");
  cudaMemPool_t Default = nullptr, Current = nullptr;
  E2E_CHECK(cudaDeviceGetDefaultMemPool(&Default, 0));
  E2E_CHECK(cudaDeviceGetMemPool(&Current, 0));
  expect(Default != nullptr && Default == Current, "the current pool is the default pool");
  unsigned long long Max = ~0ull;
  E2E_CHECK(cudaMemPoolSetAttribute(Default, cudaMemPoolAttrReleaseThreshold, &Max));

  // Allocate and fill on S1, hand over to S2 through an event, free there; the result is checked on the host.
  std::vector<int> Out(N, 0);
  int *A = nullptr;
  cudaEvent_t Filled;
  E2E_CHECK(cudaEventCreateWithFlags(&Filled, cudaEventDisableTiming));
  E2E_CHECK(cudaMallocAsync(&A, N * sizeof(int), S1));
  iota3<<<N / 256, 256, 0, S1>>>(A, N);
  E2E_CHECK(cudaEventRecord(Filled, S1));
  E2E_CHECK(cudaStreamWaitEvent(S2, Filled, 0));
  addOne<<<N / 256, 256, 0, S2>>>(A, N);
  E2E_CHECK(cudaMemcpyAsync(Out.data(), A, N * sizeof(int), cudaMemcpyDeviceToHost, S2));
  E2E_CHECK(cudaFreeAsync(A, S2));
  expect(poolAttr(Default, cudaMemPoolAttrUsedMemHigh) >= N * sizeof(int), "used high-water mark covers the block");
  E2E_CHECK(cudaStreamSynchronize(S2));
  e2e::Mismatches M("stream-ordered allocation filled on one stream, updated on another");
  for (int I = 0; I < N; ++I)
    M.intAt(I, Out[I], 3 * I + 2);
  if (!M.report())
    ++e2e::Failures;
  expect(poolAttr(Default, cudaMemPoolAttrUsedMemCurrent) == 0, "nothing in use after the free completed");
  expect(poolAttr(Default, cudaMemPoolAttrReservedMemCurrent) >= N * sizeof(int),
         "the release threshold keeps the freed block reserved");
  // The same stream may reuse the block it freed.
  int *B = nullptr;
  E2E_CHECK(cudaMallocAsync(&B, N * sizeof(int), S2));
  expect(B == A, "a freed block is reused by the next allocation of the same size");
  E2E_CHECK(cudaFreeAsync(B, S2));
  E2E_CHECK(cudaStreamSynchronize(S2));
  E2E_CHECK(cudaMemPoolTrimTo(Default, 0));
  expect(poolAttr(Default, cudaMemPoolAttrReservedMemCurrent) == 0, "cudaMemPoolTrimTo(0) releases idle memory");
  unsigned long long Zero = 0;
  E2E_CHECK(cudaMemPoolSetAttribute(Default, cudaMemPoolAttrReleaseThreshold, &Zero));

  // An explicit pool, made the device's current pool for a while.
  cudaMemPoolProps Props;
  std::memset(&Props, 0, sizeof(Props));
  Props.allocType = cudaMemAllocationTypePinned;
  Props.location.type = cudaMemLocationTypeDevice;
  Props.location.id = 0;
  cudaMemPool_t Pool = nullptr;
  E2E_CHECK(cudaMemPoolCreate(&Pool, &Props));
  int *C = nullptr, *D = nullptr;
  E2E_CHECK(cudaMallocFromPoolAsync(&C, 1000 * sizeof(int), Pool, S1));
  E2E_CHECK(cudaDeviceSetMemPool(0, Pool));
  E2E_CHECK(cudaDeviceGetMemPool(&Current, 0));
  expect(Current == Pool, "cudaDeviceSetMemPool changes the current pool");
  E2E_CHECK(cudaMallocAsync(&D, 1000 * sizeof(int), S1));
  expect(poolAttr(Pool, cudaMemPoolAttrUsedMemCurrent) >= 2000 * sizeof(int),
         "cudaMallocAsync draws from the current pool");
  cudaPointerAttributes PA;
  E2E_CHECK(cudaPointerGetAttributes(&PA, C));
  expect(PA.type == cudaMemoryTypeDevice && PA.devicePointer == C, "pool memory is device memory");
  iota3<<<4, 256, 0, S1>>>(C, 1000);
  E2E_CHECK(cudaMemcpyAsync(Out.data(), C, 1000 * sizeof(int), cudaMemcpyDeviceToHost, S1));
  E2E_CHECK(cudaFreeAsync(C, S1));
  E2E_CHECK(cudaStreamSynchronize(S1));
  bool Ok = true;
  for (int I = 0; I < 1000; ++I)
    Ok &= Out[I] == 3 * I + 1;
  expect(Ok, "kernel output in memory from an explicit pool");
  expectCode(cudaFreeAsync(C, S1), cudaErrorInvalidValue, "cudaFreeAsync twice");
  E2E_CHECK(cudaFree(D)); // cudaFree of a stream-ordered allocation synchronises, then frees
  expect(poolAttr(Pool, cudaMemPoolAttrUsedMemCurrent) == 0, "cudaFree returned the block to its pool");
  expect(poolAttr(Pool, cudaMemPoolAttrReservedMemCurrent) == 0, "release threshold 0 gives freed memory back");
  cudaMemAccessFlags AccessFlags;
  cudaMemLocation Dev0{cudaMemLocationTypeDevice, 0};
  E2E_CHECK(cudaMemPoolGetAccess(&AccessFlags, Pool, &Dev0));
  expect(AccessFlags == cudaMemAccessFlagsProtReadWrite, "the pool's device has read-write access");
  cudaMemAccessDesc NoAccess{Dev0, cudaMemAccessFlagsProtNone};
  expectCode(cudaMemPoolSetAccess(Pool, &NoAccess, 1), cudaErrorInvalidValue,
             "revoking the owning device's access to a pool");
  expectCode(cudaMemPoolDestroy(Default), cudaErrorInvalidValue, "destroying the default pool");
  E2E_CHECK(cudaMemPoolDestroy(Pool));
  E2E_CHECK(cudaDeviceGetMemPool(&Current, 0));
  expect(Current == Default, "destroying the current pool restores the default pool");
  expectCode(cudaMallocFromPoolAsync(&C, 64, Pool, S1), cudaErrorInvalidValue, "allocating from a destroyed pool");
  (void)cudaGetLastError();
  E2E_CHECK(cudaEventDestroy(Filled));
  E2E_CHECK(cudaStreamDestroy(S1));
  E2E_CHECK(cudaStreamDestroy(S2));
}

static void memoryInfo() {
  std::printf("cudaMemGetInfo\n");
  size_t Free0 = 0, Total = 0, Free1 = 0, Free2 = 0;
  cudaDeviceProp Prop;
  E2E_CHECK(cudaGetDeviceProperties(&Prop, 0));
  E2E_CHECK(cudaMemGetInfo(&Free0, &Total));
  expect(Total == Prop.totalGlobalMem, "total memory is the device's totalGlobalMem");
  expect(Free0 <= Total, "free memory does not exceed the total");
  const size_t Big = size_t(64) << 20;
  void *P = nullptr;
  E2E_CHECK(cudaMalloc(&P, Big));
  E2E_CHECK(cudaMemGetInfo(&Free1, nullptr));
  expect(Free0 - Free1 >= Big && Free0 - Free1 <= Big + (size_t(4) << 20), "a 64 MiB cudaMalloc takes 64 MiB");
  E2E_CHECK(cudaFree(P));
  E2E_CHECK(cudaMemGetInfo(&Free2, nullptr));
  expect(Free2 - Free1 >= Big - (size_t(4) << 20), "cudaFree gives the 64 MiB back");
}

static void pointerAttributes() {
  std::printf("cudaPointerGetAttributes for every kind\n");
  int *Dev = nullptr, *Pinned = nullptr, *Managed = nullptr;
  E2E_CHECK(cudaMalloc(&Dev, 4096));
  E2E_CHECK(cudaMallocHost(&Pinned, 4096));
  E2E_CHECK(cudaMallocManaged(&Managed, 4096));
  std::vector<int> Plain(1024);
  int Local = 0;
  cudaPointerAttributes A;
  E2E_CHECK(cudaPointerGetAttributes(&A, Dev + 10));
  expect(A.type == cudaMemoryTypeDevice && A.device == 0 && A.devicePointer == Dev + 10 && A.hostPointer == nullptr,
         "device memory (interior pointer)");
  E2E_CHECK(cudaPointerGetAttributes(&A, Pinned));
  expect(A.type == cudaMemoryTypeHost && A.hostPointer == Pinned && A.devicePointer == Pinned, "pinned host memory");
  E2E_CHECK(cudaHostRegister(Plain.data(), Plain.size() * sizeof(int), 0));
  E2E_CHECK(cudaPointerGetAttributes(&A, Plain.data() + 5));
  expect(A.type == cudaMemoryTypeHost && A.hostPointer == Plain.data() + 5, "registered host memory");
  E2E_CHECK(cudaHostUnregister(Plain.data()));
  E2E_CHECK(cudaPointerGetAttributes(&A, Plain.data()));
  expect(A.type == cudaMemoryTypeUnregistered, "unregistered heap memory");
  E2E_CHECK(cudaPointerGetAttributes(&A, &Local));
  expect(A.type == cudaMemoryTypeUnregistered, "a stack variable");
  E2E_CHECK(cudaPointerGetAttributes(&A, Managed));
  expect(A.type == cudaMemoryTypeManaged && A.hostPointer == Managed && A.devicePointer == Managed,
         "cudaMallocManaged memory");
  E2E_CHECK(cudaFree(Dev));
  E2E_CHECK(cudaPointerGetAttributes(&A, Dev));
  expect(A.type == cudaMemoryTypeUnregistered, "a freed device pointer");
  expectCode(cudaPointerGetAttributes(nullptr, Managed), cudaErrorInvalidValue, "NULL attributes");

  std::printf("misuse\n");
  expectCode(cudaFree(Dev), cudaErrorInvalidValue, "cudaFree of a freed pointer");
  expectCode(cudaFree(Pinned), cudaErrorInvalidValue, "cudaFree of cudaMallocHost memory");
  expectCode(cudaFree(Plain.data()), cudaErrorInvalidValue, "cudaFree of heap memory");
  expectCode(cudaFreeHost(Managed), cudaErrorInvalidValue, "cudaFreeHost of managed memory");
  expectCode(cudaMemcpy(Dev, Plain.data(), 4096, cudaMemcpyHostToDevice), cudaErrorInvalidValue,
             "cudaMemcpy to a freed pointer");
  expectCode(cudaGetLastError(), cudaErrorInvalidValue, "the last error is the misuse's");
  expectCode(cudaGetLastError(), cudaSuccess, "misuse leaves no sticky error");
  // An entry point cuda_shim does not implement (interprocess memory) exists and fails cleanly instead of being an
  // unresolved symbol (the generated runtime surface).
  cudaIpcMemHandle_t Ipc;
  expectCode(cudaIpcGetMemHandle(&Ipc, Managed), cudaErrorNotSupported, "an unimplemented runtime entry point");
  expectCode(cudaGetLastError(), cudaErrorNotSupported, "it sets the last error");
  E2E_CHECK(cudaFreeHost(Pinned));
  E2E_CHECK(cudaFree(Managed));
}

int main() {
  managedVariables(); // first: the host touches __managed__ variables before any other runtime call
  pinnedHostMemory();
  managedAllocations();
  streamOrderedAllocation();
  memoryInfo();
  pointerAttributes();
  E2E_CHECK(cudaDeviceSynchronize());
  return e2e::finish("memory_kinds", e2e::Failures);
}
