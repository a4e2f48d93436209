// cuGetExportTable: the private tables NVIDIA's static cudart needs, tested through the exported entry point the way
// the runtime uses them (slot layouts in docs/EXPORT_TABLES.md).
#include "driver/ExportTables.h"

#include <catch2/catch.hpp>

#include <cuda.h>
#include <pthread.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

using namespace cushim::driver;

namespace {

CUuuid uuid(std::initializer_list<unsigned char> Bytes) {
  CUuuid U{};
  std::copy(Bytes.begin(), Bytes.end(), reinterpret_cast<unsigned char *>(U.bytes));
  return U;
}

const CUuuid CudartInterface =
    uuid({0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9});
const CUuuid ToolsRuntimeHooks =
    uuid({0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66});
const CUuuid ToolsTls =
    uuid({0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc});
const CUuuid ContextLocalStorage =
    uuid({0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93});
const CUuuid ContextWrapper =
    uuid({0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e});
const CUuuid IntegrityCheck =
    uuid({0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2});
// The first table the CUDA 13.0 runtime asks for; its meaning is unknown and refusing it is harmless.
const CUuuid Unknown =
    uuid({0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e, 0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9});

const void *const *table(const CUuuid &Id) {
  const void *T = nullptr;
  REQUIRE(cuGetExportTable(&T, &Id) == CUDA_SUCCESS);
  REQUIRE(T != nullptr);
  return static_cast<const void *const *>(T);
}

template <typename F> F slot(const void *const *Table, int Index) {
  REQUIRE(Table[Index] != nullptr);
  return reinterpret_cast<F>(const_cast<void *>(Table[Index]));
}

CUcontext primaryContext() {
  REQUIRE(cuInit(0) == CUDA_SUCCESS);
  CUcontext Ctx = nullptr;
  REQUIRE(cuDevicePrimaryCtxRetain(&Ctx, 0) == CUDA_SUCCESS);
  REQUIRE(cuCtxSetCurrent(Ctx) == CUDA_SUCCESS);
  return Ctx;
}

} // namespace

TEST_CASE("cuGetExportTable serves the runtime's tables and refuses unknown ones", "[driver][exporttable]") {
  // Tables that start with their own size in bytes.
  CHECK(reinterpret_cast<uintptr_t>(table(CudartInterface)[0]) == 13 * sizeof(void *));
  CHECK(reinterpret_cast<uintptr_t>(table(ToolsRuntimeHooks)[0]) == 7 * sizeof(void *));
  CHECK(reinterpret_cast<uintptr_t>(table(ToolsTls)[0]) == 4 * sizeof(void *));
  CHECK(reinterpret_cast<uintptr_t>(table(ContextWrapper)[0]) == 5 * sizeof(void *));
  CHECK(reinterpret_cast<uintptr_t>(table(IntegrityCheck)[0]) == 3 * sizeof(void *));
  // Context-local storage has no size slot: it starts with functions.
  CHECK(table(ContextLocalStorage)[0] != nullptr);

  const void *T = reinterpret_cast<const void *>(1);
  CHECK(cuGetExportTable(&T, &Unknown) == CUDA_ERROR_INVALID_VALUE);
  CHECK(T == nullptr);
  CHECK(cuGetExportTable(nullptr, &CudartInterface) == CUDA_ERROR_INVALID_VALUE);
  CHECK(cuGetExportTable(&T, nullptr) == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("the integrity digest is HMAC-MD2 as NVIDIA's runtime computes it", "[driver][exporttable]") {
  // A recorded exchange (ZLUDA's dark_api test vector: CUDA 11.8 runtime, driver 12.2, one device).
  IntegrityInput In;
  In.DriverVersion = 12020;
  In.RuntimeVersion = 0x2B4A;
  In.ProcessId = 0x4D08;
  In.ThreadId = 0x2B78;
  In.CudartTable = 0x00007FF8C80717F0ull;
  In.IntegrityTable = 0x00007FF8C825E4B0ull;
  In.CheckFunction = 0x00007FF8C7DD0AD0ull;
  In.UnixSeconds = 0x64A365EE;
  IntegrityDevice Dev{
      {0x67, 0x22, 0xCB, 0xCF, 0xC6, 0x61, 0xF2, 0x92, 0x74, 0xD6, 0xED, 0x23, 0x2A, 0x32, 0x13, 0x1C}, 0, 4, 0};
  uint64_t Result[2] = {};
  integrityHash(In, &Dev, 1, Result);
  CHECK(Result[0] == 0xA7C34628F214707Aull);
  CHECK(Result[1] == 0xEAF1313342BFCD84ull);

  // Runtime versions ending in 0 or 1 get fixed answers.
  In.RuntimeVersion = 13000;
  integrityHash(In, &Dev, 1, Result);
  CHECK(Result[0] == 0x3341181c03cb675cull);
  CHECK(Result[1] == 0x8ed383aa1f4cd1e8ull);
  In.RuntimeVersion = 13001;
  integrityHash(In, &Dev, 1, Result);
  CHECK(Result[0] == 0x1841181c03cb675cull);
}

TEST_CASE("INTEGRITY_CHECK slot 1 digests this process, its tables and its devices", "[driver][exporttable]") {
  REQUIRE(cuInit(0) == CUDA_SUCCESS);
  const void *const *Cudart = table(CudartInterface);
  const void *const *Check = table(IntegrityCheck);
  using CheckFn = CUresult (*)(unsigned, uint64_t, uint64_t *);
  uint64_t Result[2] = {};
  REQUIRE(slot<CheckFn>(Check, 1)(13002, 1700000000, Result) == CUDA_SUCCESS);

  IntegrityInput In;
  int Version = 0;
  REQUIRE(cuDriverGetVersion(&Version) == CUDA_SUCCESS);
  In.DriverVersion = static_cast<uint32_t>(Version);
  In.RuntimeVersion = 13002;
  In.ProcessId = static_cast<uint32_t>(getpid());
  In.ThreadId = static_cast<uint32_t>(pthread_self());
  In.CudartTable = reinterpret_cast<uintptr_t>(Cudart);
  In.IntegrityTable = reinterpret_cast<uintptr_t>(Check);
  In.CheckFunction = reinterpret_cast<uintptr_t>(Check[1]);
  In.UnixSeconds = 1700000000;
  int Count = 0;
  REQUIRE(cuDeviceGetCount(&Count) == CUDA_SUCCESS);
  REQUIRE(Count > 0);
  std::vector<IntegrityDevice> Devices(Count);
  for (int D = 0; D < Count; ++D) {
    CUuuid U;
    REQUIRE(cuDeviceGetUuid_v2(&U, D) == CUDA_SUCCESS);
    std::memcpy(Devices[D].Uuid, U.bytes, 16);
    int Domain = 0, Bus = 0, DeviceId = 0;
    REQUIRE(cuDeviceGetAttribute(&Domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, D) == CUDA_SUCCESS);
    REQUIRE(cuDeviceGetAttribute(&Bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, D) == CUDA_SUCCESS);
    REQUIRE(cuDeviceGetAttribute(&DeviceId, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, D) == CUDA_SUCCESS);
    Devices[D].PciDomain = Domain;
    Devices[D].PciBus = Bus;
    Devices[D].PciDevice = DeviceId;
  }
  uint64_t Expected[2] = {};
  integrityHash(In, Devices.data(), Count, Expected);
  CHECK(Result[0] == Expected[0]);
  CHECK(Result[1] == Expected[1]);
  // A different time gives a different digest.
  REQUIRE(slot<CheckFn>(Check, 1)(13002, 1700000001, Result) == CUDA_SUCCESS);
  CHECK((Result[0] != Expected[0] || Result[1] != Expected[1]));
  CHECK(slot<CheckFn>(Check, 1)(13002, 1, nullptr) == CUDA_ERROR_INVALID_VALUE);
}

namespace {
struct DtorCall {
  CUcontext Ctx = nullptr;
  void *Key = nullptr;
  void *Value = nullptr;
  int Calls = 0;
} LastDtor;
void recordDtor(CUcontext Ctx, void *Key, void *Value) {
  LastDtor.Ctx = Ctx;
  LastDtor.Key = Key;
  LastDtor.Value = Value;
  ++LastDtor.Calls;
}
} // namespace

TEST_CASE("context-local storage keeps values per context and key and runs destructors", "[driver][exporttable]") {
  CUcontext Ctx = primaryContext();
  const void *const *Cls = table(ContextLocalStorage);
  using PutFn = CUresult (*)(CUcontext, void *, void *, ClsDestructor);
  using DeleteFn = CUresult (*)(CUcontext, void *);
  using GetFn = CUresult (*)(void **, CUcontext, void *);
  int KeyA = 0, KeyB = 0, ValueA = 0, ValueB = 0;

  void *Out = nullptr;
  CHECK(slot<GetFn>(Cls, 2)(&Out, Ctx, &KeyA) == CUDA_ERROR_INVALID_HANDLE);
  REQUIRE(slot<PutFn>(Cls, 0)(Ctx, &KeyA, &ValueA, nullptr) == CUDA_SUCCESS);
  REQUIRE(slot<PutFn>(Cls, 0)(nullptr, &KeyB, &ValueB, recordDtor) == CUDA_SUCCESS); // NULL: the current context
  REQUIRE(slot<GetFn>(Cls, 2)(&Out, Ctx, &KeyA) == CUDA_SUCCESS);
  CHECK(Out == &ValueA);
  REQUIRE(slot<GetFn>(Cls, 2)(&Out, nullptr, &KeyB) == CUDA_SUCCESS);
  CHECK(Out == &ValueB);
  CHECK(slot<GetFn>(Cls, 2)(&Out, reinterpret_cast<CUcontext>(&KeyA), &KeyA) == CUDA_ERROR_INVALID_CONTEXT);

  REQUIRE(slot<DeleteFn>(Cls, 1)(Ctx, &KeyA) == CUDA_SUCCESS);
  CHECK(slot<GetFn>(Cls, 2)(&Out, Ctx, &KeyA) == CUDA_ERROR_INVALID_HANDLE);

  LastDtor = {};
  destroyContextLocalStorage(Ctx);
  CHECK(LastDtor.Calls == 1);
  CHECK(LastDtor.Ctx == Ctx);
  CHECK(LastDtor.Key == &KeyB);
  CHECK(LastDtor.Value == &ValueB);
  CHECK(slot<GetFn>(Cls, 2)(&Out, Ctx, &KeyB) == CUDA_ERROR_INVALID_HANDLE);
}

TEST_CASE("context-local storage destructors run when the context is destroyed through the API",
          "[driver][exporttable]") {
  primaryContext(); // cuInit has run, so the destroy hook is registered
  const void *const *Cls = table(ContextLocalStorage);
  using PutFn = CUresult (*)(CUcontext, void *, void *, ClsDestructor);
  CUcontext Ctx = nullptr;
  REQUIRE(cuCtxCreate(&Ctx, nullptr, 0, 0) == CUDA_SUCCESS);
  int Key = 0, Value = 0;
  REQUIRE(slot<PutFn>(Cls, 0)(Ctx, &Key, &Value, recordDtor) == CUDA_SUCCESS);
  LastDtor = {};
  REQUIRE(cuCtxDestroy(Ctx) == CUDA_SUCCESS);
  CHECK(LastDtor.Calls == 1);
  CHECK(LastDtor.Ctx == Ctx);
  CHECK(LastDtor.Key == &Key);
  CHECK(LastDtor.Value == &Value);
}

TEST_CASE("context-local storage destructors run when the primary context is reset or released",
          "[driver][exporttable]") {
  const void *const *Cls = table(ContextLocalStorage);
  using PutFn = CUresult (*)(CUcontext, void *, void *, ClsDestructor);
  int Key = 0, Value = 0;
  // cudaDeviceReset: cuDevicePrimaryCtxReset destroys the context whatever its use count.
  CUcontext Ctx = primaryContext();
  REQUIRE(slot<PutFn>(Cls, 0)(Ctx, &Key, &Value, recordDtor) == CUDA_SUCCESS);
  LastDtor = {};
  REQUIRE(cuDevicePrimaryCtxReset(0) == CUDA_SUCCESS);
  CHECK(LastDtor.Calls == 1);
  CHECK(LastDtor.Ctx == Ctx);
  CHECK(LastDtor.Value == &Value);
  // The last cuDevicePrimaryCtxRelease does the same.
  Ctx = primaryContext();
  REQUIRE(slot<PutFn>(Cls, 0)(Ctx, &Key, &Value, recordDtor) == CUDA_SUCCESS);
  LastDtor = {};
  REQUIRE(cuDevicePrimaryCtxRelease(0) == CUDA_SUCCESS);
  CHECK(LastDtor.Calls == 1);
  CHECK(LastDtor.Ctx == Ctx);
  REQUIRE(cuCtxSetCurrent(nullptr) == CUDA_SUCCESS);
}

TEST_CASE("CUDART_INTERFACE hands out the primary context and loads fatbinaries", "[driver][exporttable]") {
  CUcontext Primary = primaryContext();
  const void *const *Cudart = table(CudartInterface);
  using PrimaryFn = CUresult (*)(CUcontext *, CUdevice);
  CUcontext Ctx = nullptr;
  REQUIRE(slot<PrimaryFn>(Cudart, 2)(&Ctx, 0) == CUDA_SUCCESS);
  CHECK(Ctx == Primary);
  CHECK(slot<PrimaryFn>(Cudart, 2)(&Ctx, 99) == CUDA_ERROR_INVALID_DEVICE);

  // Registration wrapper around a fatbin container with compute_80 PTX of `add`, as nvcc's host code holds it.
  std::ifstream In(CUSHIM_FATBIN_TEST_DATA "/ptx80_none.fatbin", std::ios::binary);
  REQUIRE(In.good());
  std::string Bytes((std::istreambuf_iterator<char>(In)), std::istreambuf_iterator<char>());
  std::vector<unsigned long long> Fatbin((Bytes.size() + 7) / 8);
  std::memcpy(Fatbin.data(), Bytes.data(), Bytes.size());
  struct {
    int Magic;
    int Version;
    const unsigned long long *Data;
    void *FilenameOrFatbins;
  } Wrapper{0x466243b1, 1, Fatbin.data(), nullptr};

  using LoadFn = CUresult (*)(CUmodule *, const void *);
  CUmodule Module = nullptr;
  REQUIRE(slot<LoadFn>(Cudart, 1)(&Module, &Wrapper) == CUDA_SUCCESS);
  CUfunction Fn = nullptr;
  CHECK(cuModuleGetFunction(&Fn, Module, "_Z3addPfPKfi") == CUDA_SUCCESS);
  CHECK(cuModuleUnload(Module) == CUDA_SUCCESS);

  // The header-first variant takes the container itself.
  using LoadExt2Fn = CUresult (*)(const void *, CUmodule *, void *, void *, unsigned);
  REQUIRE(slot<LoadExt2Fn>(Cudart, 8)(Fatbin.data(), &Module, nullptr, nullptr, 0) == CUDA_SUCCESS);
  CHECK(cuModuleGetFunction(&Fn, Module, "_Z3addPfPKfi") == CUDA_SUCCESS);
  CHECK(cuModuleUnload(Module) == CUDA_SUCCESS);
  CHECK(slot<LoadFn>(Cudart, 1)(nullptr, &Wrapper) == CUDA_ERROR_INVALID_VALUE);
}
