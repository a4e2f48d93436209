// End-to-end: the driver API's memory kinds. Virtual memory management (reserve an address range, create physical
// handles, map them side by side, grant access, a kernel writes across both, unmap, release), a handle shared
// through a POSIX file descriptor, address ranges of interior pointers, pointer attributes of every kind, stream-
// ordered allocation from a pool, and cuMemGetInfo following physical allocations (docs/MEMORY.md).
// Usage: vmm <path to driver_kernels.ptx>
#include <cuda.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#define CU_CHECK(Call)                                                                                                 \
  do {                                                                                                                 \
    CUresult CuErr = (Call);                                                                                           \
    if (CuErr != CUDA_SUCCESS) {                                                                                       \
      const char *ErrName = nullptr;                                                                                   \
      cuGetErrorName(CuErr, &ErrName);                                                                                 \
      std::fprintf(stderr, "%s:%d: %s failed: %d (%s)\n", __FILE__, __LINE__, #Call, int(CuErr),                     \
                   ErrName ? ErrName : "?");                                                                           \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

static int Failures = 0;

static void expect(bool Ok, const char *What) {
  std::printf("  %s %s\n", Ok ? "ok  " : "FAIL", What);
  if (!Ok)
    ++Failures;
}

static void expectCode(CUresult Got, CUresult Want, const char *What) {
  const char *G = nullptr, *W = nullptr;
  cuGetErrorName(Got, &G);
  cuGetErrorName(Want, &W);
  std::printf("  %s %s: got %s, want %s\n", Got == Want ? "ok  " : "FAIL", What, G ? G : "?", W ? W : "?");
  if (Got != Want)
    ++Failures;
}

static CUfunction Iota; // iotaPlusBase(int *Out, int N, int Step): Out[i] = 1000 + i * Step

static void launchIota(CUdeviceptr Out, int N, int Step, CUstream Stream) {
  void *Args[] = {&Out, &N, &Step};
  CU_CHECK(cuLaunchKernel(Iota, (N + 255) / 256, 1, 1, 256, 1, 1, 0, Stream, Args, nullptr));
}

static bool iotaMatches(const std::vector<int> &Got, int Step, int First = 0) {
  for (size_t I = 0; I < Got.size(); ++I)
    if (Got[I] != 1000 + (First + int(I)) * Step) {
      std::printf("  MISMATCH [%zu]: got %d, want %d\n", I, Got[I], 1000 + (First + int(I)) * Step);
      return false;
    }
  return true;
}

static void virtualMemory() {
  std::printf("virtual memory management\n");
  CUmemAllocationProp Prop;
  std::memset(&Prop, 0, sizeof(Prop));
  Prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  Prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  Prop.location.id = 0;
  size_t Gran = 0, Recommended = 0;
  CU_CHECK(cuMemGetAllocationGranularity(&Gran, &Prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
  CU_CHECK(cuMemGetAllocationGranularity(&Recommended, &Prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED));
  expect(Gran > 0 && Recommended % Gran == 0, "granularity: minimum divides recommended");

  size_t Free0 = 0, Free1 = 0, Free2 = 0, Total = 0;
  CU_CHECK(cuMemGetInfo(&Free0, &Total));
  const size_t Size = 2 * Gran;
  CUmemGenericAllocationHandle H1 = 0, H2 = 0;
  CU_CHECK(cuMemCreate(&H1, Size, &Prop, 0));
  CU_CHECK(cuMemCreate(&H2, Size, &Prop, 0));
  CU_CHECK(cuMemGetInfo(&Free1, nullptr));
  expect(Free0 - Free1 >= 2 * Size, "cuMemGetInfo counts physical allocations");
  expectCode(cuMemCreate(&H1, Gran + 1, &Prop, 0), CUDA_ERROR_INVALID_VALUE, "cuMemCreate of an unaligned size");
  CUmemAllocationProp Got;
  CU_CHECK(cuMemGetAllocationPropertiesFromHandle(&Got, H2));
  expect(Got.type == CU_MEM_ALLOCATION_TYPE_PINNED && Got.location.type == CU_MEM_LOCATION_TYPE_DEVICE &&
             Got.location.id == 0,
         "cuMemGetAllocationPropertiesFromHandle");

  CUdeviceptr Va = 0;
  CU_CHECK(cuMemAddressReserve(&Va, 2 * Size, 0, 0, 0));
  expect(Va != 0 && Va % Gran == 0, "reserved range is aligned to the granularity");
  CU_CHECK(cuMemMap(Va, Size, 0, H1, 0));
  CU_CHECK(cuMemMap(Va + Size, Size, 0, H2, 0));
  expectCode(cuMemMap(Va, Size, 0, H2, 0), CUDA_ERROR_INVALID_VALUE, "mapping over an existing mapping");
  CUmemAccessDesc Access;
  Access.location = Prop.location;
  Access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  CU_CHECK(cuMemSetAccess(Va, 2 * Size, &Access, 1));
  unsigned long long Flags = 0;
  CU_CHECK(cuMemGetAccess(&Flags, &Prop.location, Va + Size + 64));
  expect(Flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE, "cuMemGetAccess after cuMemSetAccess");

  // One kernel writes across the boundary of the two mappings; the copy back spans it too.
  const int N = 8192;
  const CUdeviceptr Window = Va + Size - N / 2 * sizeof(int);
  CU_CHECK(cuMemsetD32(Va, 0xabcdef12u, 2 * Size / sizeof(int)));
  launchIota(Window, N, 3, nullptr);
  CU_CHECK(cuCtxSynchronize());
  std::vector<int> Out(N);
  CU_CHECK(cuMemcpyDtoH(Out.data(), Window, N * sizeof(int)));
  expect(iotaMatches(Out, 3), "kernel output across two mapped handles");
  int First = -1, Last = -1;
  CU_CHECK(cuMemcpyDtoH(&First, Va, sizeof(int)));
  CU_CHECK(cuMemcpyDtoH(&Last, Va + 2 * Size - sizeof(int), sizeof(int)));
  expect(First == int(0xabcdef12u) && Last == int(0xabcdef12u), "a memset across both mappings, outside the window");

  CUmemGenericAllocationHandle Retained = 0;
  CU_CHECK(cuMemRetainAllocationHandle(&Retained, reinterpret_cast<void *>(Va + Size + 100)));
  expect(Retained == H2, "cuMemRetainAllocationHandle finds the handle mapped at an address");
  CU_CHECK(cuMemRelease(Retained));
  CUdeviceptr Base = 0;
  size_t RangeSize = 0;
  CU_CHECK(cuMemGetAddressRange(&Base, &RangeSize, Va + Size + 100));
  expect(Base == Va + Size && RangeSize == Size, "cuMemGetAddressRange of a mapped address: its mapping");
  unsigned MemType = 0;
  CU_CHECK(cuPointerGetAttribute(&MemType, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, Va));
  expect(MemType == CU_MEMORYTYPE_DEVICE, "mapped memory is device memory");

  expectCode(cuMemUnmap(Va, Size / 2), CUDA_ERROR_INVALID_VALUE, "unmapping part of a mapping");
  CU_CHECK(cuMemUnmap(Va, 2 * Size));
  CU_CHECK(cuMemRelease(H1));
  CU_CHECK(cuMemRelease(H2));
  expectCode(cuMemRelease(H1), CUDA_ERROR_INVALID_VALUE, "releasing a handle twice");
  CU_CHECK(cuMemAddressFree(Va, 2 * Size));
  CU_CHECK(cuMemGetInfo(&Free2, nullptr));
  expect(Free2 - Free1 >= 2 * Size, "released physical memory is free again");

  // A handle exported as a file descriptor and imported again: two mappings of one allocation.
  Prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
  CUmemGenericAllocationHandle Exported = 0, Imported = 0;
  CU_CHECK(cuMemCreate(&Exported, Gran, &Prop, 0));
  int Fd = -1;
  CU_CHECK(cuMemExportToShareableHandle(&Fd, Exported, CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR, 0));
  CU_CHECK(cuMemImportFromShareableHandle(&Imported, reinterpret_cast<void *>(static_cast<intptr_t>(Fd)),
                                          CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR));
  CUdeviceptr VaA = 0, VaB = 0;
  CU_CHECK(cuMemAddressReserve(&VaA, Gran, 0, 0, 0));
  CU_CHECK(cuMemAddressReserve(&VaB, Gran, 0, 0, 0));
  CU_CHECK(cuMemMap(VaA, Gran, 0, Exported, 0));
  CU_CHECK(cuMemMap(VaB, Gran, 0, Imported, 0));
  CU_CHECK(cuMemSetAccess(VaA, Gran, &Access, 1));
  CU_CHECK(cuMemSetAccess(VaB, Gran, &Access, 1));
  launchIota(VaA, 4096, 7, nullptr);
  CU_CHECK(cuCtxSynchronize());
  std::vector<int> Shared(4096);
  CU_CHECK(cuMemcpyDtoH(Shared.data(), VaB, Shared.size() * sizeof(int)));
  expect(iotaMatches(Shared, 7), "writes through one mapping are read through the imported handle's mapping");
  CU_CHECK(cuMemUnmap(VaA, Gran));
  CU_CHECK(cuMemUnmap(VaB, Gran));
  CU_CHECK(cuMemRelease(Exported));
  CU_CHECK(cuMemRelease(Imported));
  CU_CHECK(cuMemAddressFree(VaA, Gran));
  CU_CHECK(cuMemAddressFree(VaB, Gran));
}

static void pointerKinds() {
  std::printf("address ranges and pointer attributes\n");
  CUdeviceptr Dev = 0, Managed = 0;
  void *Pinned = nullptr;
  CU_CHECK(cuMemAlloc(&Dev, 10000));
  CU_CHECK(cuMemAllocManaged(&Managed, 8192, CU_MEM_ATTACH_GLOBAL));
  CU_CHECK(cuMemHostAlloc(&Pinned, 4096, CU_MEMHOSTALLOC_DEVICEMAP));
  CUdeviceptr Base = 0;
  size_t Size = 0;
  CU_CHECK(cuMemGetAddressRange(&Base, &Size, Dev + 1234));
  expect(Base == Dev && Size == 10000, "cuMemGetAddressRange of an interior device pointer");
  CU_CHECK(cuMemGetAddressRange(&Base, &Size, Managed + 8191));
  expect(Base == Managed && Size == 8192, "cuMemGetAddressRange of the last byte of managed memory");
  std::vector<char> Heap(256);
  expectCode(cuMemGetAddressRange(&Base, &Size, reinterpret_cast<CUdeviceptr>(Heap.data())), CUDA_ERROR_NOT_FOUND,
             "cuMemGetAddressRange of heap memory");

  unsigned Type = 0;
  int IsManaged = -1, Ordinal = -1;
  CUcontext Ctx = nullptr, Current = nullptr;
  CU_CHECK(cuCtxGetCurrent(&Current));
  CU_CHECK(cuPointerGetAttribute(&Type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, Dev + 8));
  CU_CHECK(cuPointerGetAttribute(&Ctx, CU_POINTER_ATTRIBUTE_CONTEXT, Dev + 8));
  CU_CHECK(cuPointerGetAttribute(&Ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, Dev + 8));
  expect(Type == CU_MEMORYTYPE_DEVICE && Ctx == Current && Ordinal == 0, "device memory: type, context, ordinal");
  void *HostPtr = nullptr;
  expectCode(cuPointerGetAttribute(&HostPtr, CU_POINTER_ATTRIBUTE_HOST_POINTER, Dev), CUDA_ERROR_INVALID_VALUE,
             "device memory has no host pointer");
  CU_CHECK(cuPointerGetAttribute(&IsManaged, CU_POINTER_ATTRIBUTE_IS_MANAGED, Managed));
  expect(IsManaged == 1, "managed memory: IS_MANAGED");
  CU_CHECK(cuPointerGetAttribute(&Type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, reinterpret_cast<CUdeviceptr>(Pinned)));
  CU_CHECK(cuPointerGetAttribute(&HostPtr, CU_POINTER_ATTRIBUTE_HOST_POINTER, reinterpret_cast<CUdeviceptr>(Pinned)));
  expect(Type == CU_MEMORYTYPE_HOST && HostPtr == Pinned, "pinned host memory: type and host pointer");
  unsigned long long Id1 = 0, Id2 = 0;
  CU_CHECK(cuPointerGetAttribute(&Id1, CU_POINTER_ATTRIBUTE_BUFFER_ID, Dev));
  CU_CHECK(cuPointerGetAttribute(&Id2, CU_POINTER_ATTRIBUTE_BUFFER_ID, Managed));
  expect(Id1 != 0 && Id1 != Id2, "buffer ids are unique");
  expectCode(cuPointerGetAttribute(&Type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, reinterpret_cast<CUdeviceptr>(Heap.data())),
             CUDA_ERROR_INVALID_VALUE, "cuPointerGetAttribute of heap memory");
  CUpointer_attribute Attrs[3] = {CU_POINTER_ATTRIBUTE_MEMORY_TYPE, CU_POINTER_ATTRIBUTE_IS_MANAGED,
                                  CU_POINTER_ATTRIBUTE_DEVICE_POINTER};
  Type = 99;
  IsManaged = 99;
  CUdeviceptr DevPtr = 1;
  void *Data[3] = {&Type, &IsManaged, &DevPtr};
  CU_CHECK(cuPointerGetAttributes(3, Attrs, Data, reinterpret_cast<CUdeviceptr>(Heap.data())));
  expect(Type == 0 && IsManaged == 0 && DevPtr == 0, "cuPointerGetAttributes of heap memory: defaults, no error");
  CU_CHECK(cuPointerGetAttributes(3, Attrs, Data, Managed + 16));
  expect(Type == CU_MEMORYTYPE_DEVICE && IsManaged == 1 && DevPtr == Managed + 16,
         "cuPointerGetAttributes of managed memory");

  // Stream-ordered allocation through the driver.
  CUstream S;
  CU_CHECK(cuStreamCreate(&S, CU_STREAM_NON_BLOCKING));
  CUdeviceptr Async = 0;
  CU_CHECK(cuMemAllocAsync(&Async, 4096 * sizeof(int), S));
  launchIota(Async, 4096, 5, S);
  std::vector<int> Out(4096);
  CU_CHECK(cuMemcpyDtoHAsync(Out.data(), Async, Out.size() * sizeof(int), S));
  CUmemoryPool Pool = nullptr;
  CU_CHECK(cuPointerGetAttribute(&Pool, CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE, Async));
  CUmemoryPool Default = nullptr;
  CU_CHECK(cuDeviceGetDefaultMemPool(&Default, 0));
  expect(Pool == Default, "a cuMemAllocAsync pointer names the default pool");
  CU_CHECK(cuMemFreeAsync(Async, S));
  CU_CHECK(cuStreamSynchronize(S));
  expect(iotaMatches(Out, 5), "kernel output in cuMemAllocAsync memory");
  expectCode(cuMemFreeAsync(Async, S), CUDA_ERROR_INVALID_VALUE, "cuMemFreeAsync twice");
  CU_CHECK(cuStreamDestroy(S));

  expectCode(cuMemFreeHost(reinterpret_cast<void *>(Dev)), CUDA_ERROR_INVALID_VALUE, "cuMemFreeHost of device memory");
  CU_CHECK(cuMemFree(Dev));
  expectCode(cuMemFree(Dev), CUDA_ERROR_INVALID_VALUE, "cuMemFree twice");
  CU_CHECK(cuMemFree(Managed));
  CU_CHECK(cuMemFreeHost(Pinned));
}

int main(int Argc, char **Argv) {
  if (Argc != 2) {
    std::fprintf(stderr, "usage: vmm <driver_kernels.ptx>\n");
    return 2;
  }
  CU_CHECK(cuInit(0));
  CUdevice Dev;
  CU_CHECK(cuDeviceGet(&Dev, 0));
  int Vmm = 0;
  CU_CHECK(cuDeviceGetAttribute(&Vmm, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, Dev));
  expect(Vmm == 1, "the device reports virtual memory management support");
  CUcontext Ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx, Dev));
  CU_CHECK(cuCtxSetCurrent(Ctx));
  CUmodule Mod;
  CU_CHECK(cuModuleLoad(&Mod, Argv[1]));
  CU_CHECK(cuModuleGetFunction(&Iota, Mod, "iotaPlusBase"));
  virtualMemory();
  pointerKinds();
  CU_CHECK(cuModuleUnload(Mod));
  CU_CHECK(cuDevicePrimaryCtxRelease(Dev));
  std::printf("vmm: %s\n", Failures == 0 ? "PASSED" : "FAILED");
  return Failures == 0 ? 0 : 1;
}
