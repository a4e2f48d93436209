// cuGetExportTable: NVIDIA's private driver tables, requested by UUID by the static cudart (nvcc's default), NVRTC and
// tools. The layouts and what is known of each slot are documented in docs/EXPORT_TABLES.md; slots whose meaning is
// unknown log their first call and answer CUDA_ERROR_NOT_SUPPORTED, and unknown tables are refused (logged with their
// UUID) as NVIDIA's driver refuses tables it does not have.
#include "driver/DriverApi.h"
#include "driver/ExportTables.h"

#include "core/Module.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <pthread.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

using namespace cushim;
using namespace cushim::driver;

static std::string uuidText(const CUuuid *Id) {
  std::string S;
  for (int I = 0; I < 16; ++I)
    S += fmt::format("{:02x}", static_cast<unsigned char>(Id->bytes[I]));
  return S;
}

// A slot whose meaning is unknown: reports the call (once per slot) so that the next thing to implement is visible
// in the log, and fails cleanly. Arguments are ignored, which is ABI-safe for a callee.
#define CUSHIM_UNKNOWN_SLOT(Table, Slot)                                                                               \
  static CUresult unknown_##Table##_##Slot() {                                                                         \
    if (logOnce("export-slot-" #Table "-" #Slot))                                                                      \
      CUSHIM_LOG_WARN("cuGetExportTable: {} slot {} was called; it is not implemented", #Table, Slot);                 \
    return CUDA_ERROR_NOT_SUPPORTED;                                                                                   \
  }

static const void *slotSize(unsigned Slots) {
  return reinterpret_cast<const void *>(uintptr_t(Slots * sizeof(void *)));
}
template <typename F> static const void *fn(F *Function) { return reinterpret_cast<const void *>(Function); }

// --- CUDART_INTERFACE {6bd5fb6c-5bf4-e74a-8987-d93912fd9df9}: module registration and the primary context
// -------------

// Loads a fatbinary (registration wrapper or fatbin container) in the current context, as the runtime's module
// registration expects. The current context is the primary context the runtime made current.
static Error loadModule(CUmodule *Module, const void *Image, const char *Api) {
  if (!Module || !Image)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: NULL module or image", Api));
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  auto M = core::Module::loadImage(**Ctx, Image, 0, "static cudart module");
  if (!M)
    return M.takeError();
  noteRuntimeModule(**M);
  *Module = (*M)->handle();
  return Error::success();
}

static CUresult cudartGetModuleFromCubin(CUmodule *Module, const void *FatbincWrapper) {
  ApiTrace T("CUDART_INTERFACE.getModuleFromCubin");
  T.args("module={} wrapper={}", static_cast<void *>(Module), FatbincWrapper);
  return T.done(loadModule(Module, FatbincWrapper, "CUDART_INTERFACE.getModuleFromCubin"));
}

// The primary context of a device, without a reference (the runtime retains it separately through
// cuDevicePrimaryCtxRetain, which activates it).
static CUresult cudartGetPrimaryContext(CUcontext *Pctx, CUdevice Dev) {
  ApiTrace T("CUDART_INTERFACE.getPrimaryContext");
  T.args("pctx={} dev={}", static_cast<void *>(Pctx), Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Pctx)
      return makeError(CUDA_ERROR_INVALID_VALUE, "pctx is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    *Pctx = (*D)->primaryHandle()->handle(); // inactive until retained, as NVIDIA's driver hands it out
    return Error::success();
  });
}

static CUresult cudartGetModuleFromCubinExt1(CUmodule *Module, const void *FatbincWrapper, void *Arg3, void *Arg4,
                                             unsigned Arg5) {
  ApiTrace T("CUDART_INTERFACE.getModuleFromCubinExt1");
  T.args("module={} wrapper={} arg3={} arg4={} arg5={}", static_cast<void *>(Module), FatbincWrapper, Arg3, Arg4, Arg5);
  return T.done(loadModule(Module, FatbincWrapper, "CUDART_INTERFACE.getModuleFromCubinExt1"));
}

// Called with a size at start-up; NVIDIA's driver returns success.
static CUresult cudartInterfaceSlot7(size_t) { return CUDA_SUCCESS; }

static CUresult cudartGetModuleFromCubinExt2(const void *FatbinHeader, CUmodule *Module, void *Arg3, void *Arg4,
                                             unsigned Arg5) {
  ApiTrace T("CUDART_INTERFACE.getModuleFromCubinExt2");
  T.args("fatbin={} module={} arg3={} arg4={} arg5={}", FatbinHeader, static_cast<void *>(Module), Arg3, Arg4, Arg5);
  return T.done(loadModule(Module, FatbinHeader, "CUDART_INTERFACE.getModuleFromCubinExt2"));
}

// Asks the driver to load its JIT compilers ahead of use; ours are linked in.
static CUresult cudartLoadCompilers() { return CUDA_SUCCESS; }

CUSHIM_UNKNOWN_SLOT(CUDART_INTERFACE, 3)
CUSHIM_UNKNOWN_SLOT(CUDART_INTERFACE, 4)
CUSHIM_UNKNOWN_SLOT(CUDART_INTERFACE, 5)
CUSHIM_UNKNOWN_SLOT(CUDART_INTERFACE, 9)
CUSHIM_UNKNOWN_SLOT(CUDART_INTERFACE, 11)

static const void *const CudartInterface[13] = {
    slotSize(13),
    fn(cudartGetModuleFromCubin),
    fn(cudartGetPrimaryContext),
    fn(unknown_CUDART_INTERFACE_3),
    fn(unknown_CUDART_INTERFACE_4),
    fn(unknown_CUDART_INTERFACE_5),
    fn(cudartGetModuleFromCubinExt1),
    fn(cudartInterfaceSlot7),
    fn(cudartGetModuleFromCubinExt2),
    fn(unknown_CUDART_INTERFACE_9),
    nullptr,
    fn(unknown_CUDART_INTERFACE_11),
    fn(cudartLoadCompilers),
};

// --- TOOLS_RUNTIME_CALLBACK_HOOKS {a094798c-2e74-2e74-93f2-0800200c0a66}: where tools hook the runtime --------------
// Two buffers the runtime reads tool callbacks from. All zero: no tool is attached.

static void *ToolsCallbackBuffer[1024];
static unsigned char ToolsFlagsBuffer[14];

static void toolsGetCallbackBuffer(void **Ptr, size_t *Size) {
  if (Ptr)
    *Ptr = ToolsCallbackBuffer;
  if (Size)
    *Size = sizeof(ToolsCallbackBuffer) / sizeof(ToolsCallbackBuffer[0]);
}

static void toolsGetFlagsBuffer(void **Ptr, size_t *Size) {
  if (Ptr)
    *Ptr = ToolsFlagsBuffer;
  if (Size)
    *Size = sizeof(ToolsFlagsBuffer);
}

// Queried with an output word; zero means no tool subscription.
static CUresult toolsSlot4(const void *, uint64_t *Out) {
  if (!Out)
    return CUDA_ERROR_INVALID_VALUE;
  *Out = 0;
  return CUDA_SUCCESS;
}

static const void *const ToolsRuntimeCallbackHooks[7] = {
    slotSize(7), nullptr, fn(toolsGetCallbackBuffer), nullptr, fn(toolsSlot4), nullptr, fn(toolsGetFlagsBuffer),
};

// --- TOOLS_TLS {42d85a81-23f6-cb47-8298-f6e78a3aecdc}: per-thread tool state -----------------------------------------

static CUresult toolsTlsGet(void **Out) {
  if (!Out)
    return CUDA_ERROR_INVALID_VALUE;
  *Out = nullptr;
  return CUDA_SUCCESS;
}

static const void *const ToolsTls[4] = {slotSize(4), nullptr, fn(toolsTlsGet), nullptr};

// --- CONTEXT_LOCAL_STORAGE_INTERFACE_V0301 {c693336e-1121-df11-a8c3-68f355d89593} ----------------------------------
// The runtime keeps its per-context state here, keyed by (context, key); NULL context means the current one. The
// table has no size slot.

namespace {
struct ClsEntry {
  void *Value;
  ClsDestructor Dtor;
};
std::mutex ClsMutex;
std::map<std::pair<void *, void *>, ClsEntry> &clsEntries() {
  static auto *M = new std::map<std::pair<void *, void *>, ClsEntry>(); // outlives static destructors
  return *M;
}
} // namespace

static Expected<CUcontext> clsContext(CUcontext Ctx) {
  if (Ctx) {
    if (!core::lookupContext(Ctx))
      return makeError(CUDA_ERROR_INVALID_CONTEXT, "context-local storage: not a live context");
    return Ctx;
  }
  core::Context *Current = core::currentContext();
  if (!Current)
    return makeError(CUDA_ERROR_INVALID_CONTEXT, "");
  return Current->handle();
}

static CUresult clsPut(CUcontext Ctx, void *Key, void *Value, ClsDestructor Dtor) {
  ApiTrace T("CONTEXT_LOCAL_STORAGE.put");
  T.args("ctx={} key={} value={} dtor={}", static_cast<void *>(Ctx), Key, Value, reinterpret_cast<void *>(Dtor));
  CUSHIM_DRIVER_BODY(T, {
    auto C = clsContext(Ctx);
    if (!C)
      return C.takeError();
    std::lock_guard<std::mutex> G(ClsMutex);
    clsEntries()[{*C, Key}] = ClsEntry{Value, Dtor};
    return Error::success();
  });
}

static CUresult clsDelete(CUcontext Ctx, void *Key) {
  ApiTrace T("CONTEXT_LOCAL_STORAGE.remove");
  T.args("ctx={} key={}", static_cast<void *>(Ctx), Key);
  CUSHIM_DRIVER_BODY(T, {
    auto C = clsContext(Ctx);
    if (!C)
      return C.takeError();
    std::lock_guard<std::mutex> G(ClsMutex);
    clsEntries().erase({*C, Key});
    return Error::success();
  });
}

static CUresult clsGet(void **Value, CUcontext Ctx, void *Key) {
  ApiTrace T("CONTEXT_LOCAL_STORAGE.get");
  T.args("value={} ctx={} key={}", static_cast<void *>(Value), static_cast<void *>(Ctx), Key);
  CUSHIM_DRIVER_BODY(T, {
    if (!Value)
      return makeError(CUDA_ERROR_INVALID_VALUE, "value is NULL");
    auto C = clsContext(Ctx);
    if (!C)
      return C.takeError();
    std::lock_guard<std::mutex> G(ClsMutex);
    auto It = clsEntries().find({*C, Key});
    // Nothing stored yet: the runtime then creates its state and puts it. Not worth a warning.
    if (It == clsEntries().end())
      return makeError(CUDA_ERROR_INVALID_HANDLE, "");
    *Value = It->second.Value;
    return Error::success();
  });
}

void cushim::driver::destroyContextLocalStorage(CUcontext Ctx) {
  std::vector<std::pair<void *, ClsEntry>> Dead;
  {
    std::lock_guard<std::mutex> G(ClsMutex);
    auto &M = clsEntries();
    for (auto It = M.begin(); It != M.end();) {
      if (It->first.first == Ctx) {
        Dead.push_back({It->first.second, It->second});
        It = M.erase(It);
      } else {
        ++It;
      }
    }
  }
  for (auto &[Key, E] : Dead)
    if (E.Dtor)
      E.Dtor(Ctx, Key, E.Value);
}

static const void *const ContextLocalStorage[4] = {fn(clsPut), fn(clsDelete), fn(clsGet), nullptr};

// --- CONTEXT_WRAPPER {263e8860-7cd2-6143-92f6-bbd5006dfa7e}: context checks -----------------------------------------

// Whether a context wraps another (interop contexts); ours never do.
static CUresult contextIsWrapped(CUcontext, unsigned *Wrapped, CUcontext *Unwrapped) {
  if (Wrapped)
    *Wrapped = 0;
  (void)Unwrapped;
  return CUDA_SUCCESS;
}

static unsigned contextCheckSlot3() { return 0; }

CUSHIM_UNKNOWN_SLOT(CONTEXT_WRAPPER, 1)
CUSHIM_UNKNOWN_SLOT(CONTEXT_WRAPPER, 4)

static const void *const ContextWrapper[5] = {slotSize(5), fn(unknown_CONTEXT_WRAPPER_1), fn(contextIsWrapped),
                                              fn(contextCheckSlot3), fn(unknown_CONTEXT_WRAPPER_4)};

// --- INTEGRITY_CHECK {d4082055-bde6-704b-8d34-ba123c66e1f2} ---------------------------------------------------------

static CUresult integrityCheck(unsigned RuntimeVersion, uint64_t UnixSeconds, uint64_t Result[2]);
static CUresult integritySetEnabled(int) { return CUDA_SUCCESS; }

static const void *const IntegrityCheck[3] = {slotSize(3), fn(integrityCheck), fn(integritySetEnabled)};

// MD2 (RFC 1319): the digest the integrity check is built on. S is derived from the digits of pi.
static const unsigned char Md2S[256] = {
    41,  46,  67,  201, 162, 216, 124, 1,   61,  54,  84,  161, 236, 240, 6,   19,  98,  167, 5,   243, 192, 199,
    115, 140, 152, 147, 43,  217, 188, 76,  130, 202, 30,  155, 87,  60,  253, 212, 224, 22,  103, 66,  111, 24,
    138, 23,  229, 18,  190, 78,  196, 214, 218, 158, 222, 73,  160, 251, 245, 142, 187, 47,  238, 122, 169, 104,
    121, 145, 21,  178, 7,   63,  148, 194, 16,  137, 11,  34,  95,  33,  128, 127, 93,  154, 90,  144, 50,  39,
    53,  62,  204, 231, 191, 247, 151, 3,   255, 25,  48,  179, 72,  165, 181, 209, 215, 94,  146, 42,  172, 86,
    170, 198, 79,  184, 56,  210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4,   241, 69,  157, 112, 89,
    100, 113, 135, 32,  134, 91,  207, 101, 230, 45,  168, 2,   27,  96,  37,  173, 174, 176, 185, 246, 28,  70,
    97,  105, 52,  64,  126, 15,  85,  71,  163, 35,  221, 81,  175, 58,  195, 92,  249, 206, 186, 197, 234, 38,
    44,  83,  13,  110, 133, 40,  132, 9,   211, 223, 205, 244, 65,  129, 77,  82,  106, 220, 55,  200, 108, 193,
    171, 250, 36,  225, 123, 8,   12,  189, 177, 74,  120, 136, 149, 139, 227, 99,  232, 109, 233, 203, 213, 254,
    59,  0,   29,  57,  242, 239, 183, 14,  102, 88,  208, 228, 166, 119, 114, 248, 235, 117, 75,  10,  49,  68,
    80,  180, 143, 237, 31,  26,  219, 153, 141, 51,  159, 17,  131, 20};

namespace {
class Md2 {
public:
  void update(const void *Data, size_t Size) {
    for (size_t I = 0; I < Size; ++I) {
      Block[Used++] = static_cast<const unsigned char *>(Data)[I];
      if (Used == 16)
        compress();
    }
  }
  void final(unsigned char Out[16]) {
    unsigned char Pad = static_cast<unsigned char>(16 - Used);
    for (unsigned I = 0; I < Pad; ++I)
      update(&Pad, 1);
    unsigned char Sum[16];
    std::memcpy(Sum, Checksum, 16);
    update(Sum, 16);
    std::memcpy(Out, X, 16);
  }

private:
  void compress() {
    for (int J = 0; J < 16; ++J) {
      X[16 + J] = Block[J];
      X[32 + J] = X[16 + J] ^ X[J];
      L = Checksum[J] ^= Md2S[Block[J] ^ L];
    }
    unsigned char T = 0;
    for (int J = 0; J < 18; ++J) {
      for (int K = 0; K < 48; ++K)
        T = X[K] ^= Md2S[T];
      T = static_cast<unsigned char>(T + J);
    }
    Used = 0;
  }
  unsigned char X[48] = {};
  unsigned char Checksum[16] = {};
  unsigned char Block[16] = {};
  unsigned char L = 0;
  unsigned Used = 0;
};
} // namespace

// HMAC-MD2 keyed with the driver's integrity key (RFC 2104 with MD2's 16-byte block).
static void hmacMd2(const unsigned char Key[16], const void *Message, size_t Size, unsigned char Out[16]) {
  unsigned char Pad[16], Inner[16];
  Md2 H;
  for (int I = 0; I < 16; ++I)
    Pad[I] = Key[I] ^ 0x36;
  H.update(Pad, 16);
  H.update(Message, Size);
  H.final(Inner);
  Md2 O;
  for (int I = 0; I < 16; ++I)
    Pad[I] = Key[I] ^ 0x5c;
  O.update(Pad, 16);
  O.update(Inner, 16);
  O.final(Out);
}

void cushim::driver::integrityHash(const IntegrityInput &In, const IntegrityDevice *Devices, unsigned Count,
                                   uint64_t Result[2]) {
  // The key the runtime checks against (public: ZLUDA's dark_api documents it and the whole scheme).
  static const unsigned char Key[16] = {0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
                                        0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f};
  // Runtime versions ending in 0 or 1 get fixed answers instead of a digest.
  if (In.RuntimeVersion % 10 < 2) {
    Result[0] = In.RuntimeVersion % 10 == 0 ? 0x3341181c03cb675cULL : 0x1841181c03cb675cULL;
    Result[1] = 0x8ed383aa1f4cd1e8ULL;
    return;
  }
  // The message: the 48-byte fixed part, then 28 bytes per device (little-endian, packed).
  std::vector<unsigned char> Msg(48 + 28 * Count);
  auto Put = [&](size_t Off, const void *P, size_t N) { std::memcpy(Msg.data() + Off, P, N); };
  uint32_t Words[4] = {In.DriverVersion, In.RuntimeVersion, In.ProcessId, In.ThreadId};
  uint64_t Quads[4] = {In.CudartTable, In.IntegrityTable, In.CheckFunction, In.UnixSeconds};
  Put(0, Words, 16);
  Put(16, Quads, 32);
  for (unsigned D = 0; D < Count; ++D) {
    uint32_t Pci[3] = {Devices[D].PciDomain, Devices[D].PciBus, Devices[D].PciDevice};
    Put(48 + 28 * D, Devices[D].Uuid, 16);
    Put(48 + 28 * D + 16, Pci, 12);
  }
  unsigned char Digest[16];
  hmacMd2(Key, Msg.data(), Msg.size(), Digest);
  std::memcpy(Result, Digest, 16);
}

// The runtime computes the same digest and refuses to run (cudaErrorSoftwareValidityNotEstablished) if ours differs.
static CUresult integrityCheck(unsigned RuntimeVersion, uint64_t UnixSeconds, uint64_t Result[2]) {
  ApiTrace T("INTEGRITY_CHECK.check");
  T.args("version={} time={} result={}", RuntimeVersion, UnixSeconds, static_cast<void *>(Result));
  CUSHIM_DRIVER_BODY(T, {
    if (!Result)
      return makeError(CUDA_ERROR_INVALID_VALUE, "result is NULL");
    CUSHIM_TRY(requireInit());
    IntegrityInput In;
    In.DriverVersion = core::ReportedCudaVersion;
    In.RuntimeVersion = RuntimeVersion;
    In.ProcessId = static_cast<uint32_t>(getpid());
    In.ThreadId = static_cast<uint32_t>(pthread_self());
    In.CudartTable = reinterpret_cast<uintptr_t>(CudartInterface);
    In.IntegrityTable = reinterpret_cast<uintptr_t>(IntegrityCheck);
    In.CheckFunction = reinterpret_cast<uintptr_t>(&integrityCheck);
    In.UnixSeconds = UnixSeconds;
    std::vector<IntegrityDevice> Devices;
    for (int D = 0; D < core::deviceCount(); ++D) {
      IntegrityDevice Dev{};
      core::Device *Device = core::device(D);
      CUuuid Uuid{};
      if (cuDeviceGetUuid_v2(&Uuid, D) != CUDA_SUCCESS)
        return makeError(CUDA_ERROR_UNKNOWN, "cannot read the device UUID");
      std::memcpy(Dev.Uuid, Uuid.bytes, 16);
      auto Attr = [&](CUdevice_attribute A) -> uint32_t {
        auto V = Device->attribute(A);
        return V ? static_cast<uint32_t>(*V) : 0;
      };
      Dev.PciDomain = Attr(CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID);
      Dev.PciBus = Attr(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID);
      Dev.PciDevice = Attr(CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID);
      Devices.push_back(Dev);
    }
    integrityHash(In, Devices.data(), static_cast<unsigned>(Devices.size()), Result);
    return Error::success();
  });
}

// --- The registry ----------------------------------------------------------------------------------------------------

namespace {
struct KnownTable {
  unsigned char Id[16];
  const char *Name;
  const void *const *Table;
};
const KnownTable Tables[] = {
    {{0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9},
     "CUDART_INTERFACE",
     CudartInterface},
    {{0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66},
     "TOOLS_RUNTIME_CALLBACK_HOOKS",
     ToolsRuntimeCallbackHooks},
    {{0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc},
     "TOOLS_TLS",
     ToolsTls},
    {{0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93},
     "CONTEXT_LOCAL_STORAGE_INTERFACE_V0301",
     ContextLocalStorage},
    {{0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e},
     "CONTEXT_WRAPPER",
     ContextWrapper},
    {{0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2},
     "INTEGRITY_CHECK",
     IntegrityCheck},
};
} // namespace

CUSHIM_EXPORT CUresult cuGetExportTable(const void **PpExportTable, const CUuuid *PExportTableId) {
  ApiTrace T("cuGetExportTable");
  T.args("ppExportTable={} pExportTableId={}", static_cast<void *>(PpExportTable),
         PExportTableId ? uuidText(PExportTableId) : std::string("(null)"));
  CUSHIM_DRIVER_BODY(T, {
    if (!PpExportTable || !PExportTableId)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGetExportTable: NULL argument");
    *PpExportTable = nullptr;
    std::string Id = uuidText(PExportTableId);
    for (const KnownTable &K : Tables) {
      if (std::memcmp(K.Id, PExportTableId->bytes, 16) == 0) {
        CUSHIM_LOG_DEBUG("cuGetExportTable: {} ({})", K.Name, Id);
        *PpExportTable = K.Table;
        return Error::success();
      }
    }
    if (logOnce(("export-table-" + Id).c_str()))
      CUSHIM_LOG_INFO("cuGetExportTable: table {} is not provided by cuda_shim", Id);
    return makeError(CUDA_ERROR_INVALID_VALUE, "");
  });
}
