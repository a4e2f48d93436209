// The reference host backend's HAL ops table (include/cuda_shim/hal.h): devices, contexts, memory and modules.
// Queues and events live in HostQueue.cpp, kernel execution in Engine*.cpp, code loading in HostJit.cpp.
#include "HostObjects.h"

#include "support/Config.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

namespace cushim::host {

HandleRegistry<HostContext> &contexts() {
  static auto *R = new HandleRegistry<HostContext>;
  return *R;
}
HandleRegistry<HostQueue> &queues() {
  static auto *R = new HandleRegistry<HostQueue>;
  return *R;
}
HandleRegistry<HostEvent> &events() {
  static auto *R = new HandleRegistry<HostEvent>;
  return *R;
}
HandleRegistry<HostModule> &modules() {
  static auto *R = new HandleRegistry<HostModule>;
  return *R;
}
HandleRegistry<HostKernel> &kernels() {
  static auto *R = new HandleRegistry<HostKernel>;
  return *R;
}

namespace {

// The size of a transparent huge page on x86-64 and AArch64 (4 KiB base pages).
constexpr size_t HugePage = size_t(2) << 20;

// ---- Machine facts --------------------------------------------------------------------------------------------

std::string readFirstLine(const char *Path) {
  std::ifstream In(Path);
  std::string Line;
  std::getline(In, Line);
  return Line;
}

// Value of the first "Key : value" line of /proc/cpuinfo, empty if absent.
std::string cpuinfoField(const char *Key) {
  std::ifstream In("/proc/cpuinfo");
  std::string Line;
  size_t KeyLen = std::strlen(Key);
  while (std::getline(In, Line)) {
    if (Line.compare(0, KeyLen, Key) != 0)
      continue;
    size_t Colon = Line.find(':');
    if (Colon == std::string::npos)
      continue;
    size_t Start = Line.find_first_not_of(" \t", Colon + 1);
    return Start == std::string::npos ? std::string() : Line.substr(Start);
  }
  return {};
}

// A /proc/meminfo field in bytes (0 if absent).
uint64_t meminfoBytes(const char *Key) {
  std::ifstream In("/proc/meminfo");
  std::string Name;
  uint64_t Value = 0;
  std::string Unit;
  while (In >> Name >> Value) {
    std::getline(In, Unit);
    if (Name.size() && Name.back() == ':' && Name.compare(0, Name.size() - 1, Key) == 0)
      return Value * 1024;
  }
  return 0;
}

struct MachineFacts {
  std::string CpuModel;
  std::string MachineId;
  uint64_t TotalMemory = 0;
  int ClockKHz = 2000000;
  int L2Bytes = 0;
};

const MachineFacts &machine() {
  static const MachineFacts Facts = [] {
    MachineFacts F;
    F.CpuModel = cpuinfoField("model name");
    if (F.CpuModel.empty())
      F.CpuModel = cpuinfoField("Model"); // arm64
    if (F.CpuModel.empty())
      F.CpuModel = "unknown CPU";
    F.MachineId = readFirstLine("/etc/machine-id");
    long Pages = sysconf(_SC_PHYS_PAGES), PageSize = sysconf(_SC_PAGESIZE);
    F.TotalMemory = Pages > 0 && PageSize > 0 ? uint64_t(Pages) * uint64_t(PageSize) : meminfoBytes("MemTotal");
    if (std::string Max = readFirstLine("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq"); !Max.empty())
      F.ClockKHz = std::atoi(Max.c_str());
    else if (std::string Mhz = cpuinfoField("cpu MHz"); !Mhz.empty())
      F.ClockKHz = static_cast<int>(std::atof(Mhz.c_str()) * 1000.0);
    if (F.ClockKHz <= 0)
      F.ClockKHz = 2000000;
    F.L2Bytes = static_cast<int>(lastLevelCacheBytes());
    return F;
  }();
  return Facts;
}

uint64_t fnv1a(const std::string &Text, uint64_t Seed) {
  uint64_t H = 1469598103934665603ull ^ Seed;
  for (unsigned char C : Text) {
    H ^= C;
    H *= 1099511628211ull;
  }
  return H;
}

bool validDevice(int Device) { return Device >= 0 && Device < std::max(1, config().Devices); }

// ---- Devices --------------------------------------------------------------------------------------------------

cushim_hal_result halDeviceCount(int *Count) {
  if (!Count)
    return CUDA_ERROR_INVALID_VALUE;
  *Count = std::max(1, config().Devices);
  return CUDA_SUCCESS;
}

cushim_hal_result halDeviceInfo(int Device, cushim_hal_device_info *Info) {
  if (!Info)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(Device))
    return CUDA_ERROR_INVALID_DEVICE;
  const MachineFacts &M = machine();
  std::memset(Info, 0, sizeof(*Info));
  std::snprintf(Info->name, sizeof(Info->name), "cuda_shim host CPU (%s)", M.CpuModel.c_str());
  // Stable across runs on one machine, distinct per virtual device.
  std::string Key = "cuda_shim host backend|" + M.MachineId + "|" + M.CpuModel + "|" + std::to_string(Device);
  uint64_t Hi = fnv1a(Key, 0), Lo = fnv1a(Key, 0x9e3779b97f4a7c15ull);
  std::memcpy(Info->uuid, &Hi, 8);
  std::memcpy(Info->uuid + 8, &Lo, 8);
  Info->uuid[6] = static_cast<uint8_t>((Info->uuid[6] & 0x0f) | 0x80); // RFC 9562 version 8 (custom)
  Info->uuid[8] = static_cast<uint8_t>((Info->uuid[8] & 0x3f) | 0x80);
  Info->total_memory = M.TotalMemory;
  Info->multiprocessor_count = static_cast<int>(engineWorkerCount());
  Info->clock_rate_khz = M.ClockKHz;
  Info->memory_clock_rate_khz = 1600000; // no portable source: a DDR4-3200-like figure
  Info->memory_bus_width = 128;
  Info->l2_cache_size = M.L2Bytes;
  Info->integrated = 1;
  Info->can_map_host_memory = 1;
  Info->unified_addressing = 1;
  Info->concurrent_managed_access = 1;
  Info->pci_domain = 0;
  Info->pci_bus = Device + 1;
  Info->pci_device = 0;
  return CUDA_SUCCESS;
}

cushim_hal_result halMemInfo(int Device, uint64_t *FreeBytes, uint64_t *TotalBytes) {
  if (!validDevice(Device))
    return CUDA_ERROR_INVALID_DEVICE;
  uint64_t Total = machine().TotalMemory;
  uint64_t Available = meminfoBytes("MemAvailable");
  if (Available == 0) {
    struct sysinfo SI;
    if (sysinfo(&SI) == 0)
      Available = uint64_t(SI.freeram) * SI.mem_unit;
  }
  if (FreeBytes)
    *FreeBytes = std::min(Available, Total);
  if (TotalBytes)
    *TotalBytes = Total;
  return CUDA_SUCCESS;
}

cushim_hal_result halTargetDescribe(int Device, cushim_hal_target *Target) {
  if (!Target)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(Device))
    return CUDA_ERROR_INVALID_DEVICE;
  *Target = hostCodegenTarget();
  return CUDA_SUCCESS;
}

// ---- Contexts and memory --------------------------------------------------------------------------------------

struct Allocation {
  size_t Bytes;
  int Kind;
  HostContext *Owner;
};

// Every live allocation and registration, so frees can be checked and a destroyed context's memory reclaimed.
struct MemoryMap {
  std::mutex Mutex;
  std::map<void *, Allocation> Allocations;
  std::map<void *, std::pair<size_t, HostContext *>> Registered;
};

MemoryMap &memoryMap() {
  static auto *M = new MemoryMap;
  return *M;
}

cushim_hal_result halContextCreate(int Device, cushim_hal_context *Context) {
  if (!Context)
    return CUDA_ERROR_INVALID_VALUE;
  if (!validDevice(Device))
    return CUDA_ERROR_INVALID_DEVICE;
  auto Ctx = std::make_shared<HostContext>();
  Ctx->Device = Device;
  *Context = reinterpret_cast<cushim_hal_context>(Ctx.get());
  contexts().add(std::move(Ctx));
  return CUDA_SUCCESS;
}

cushim_hal_result halContextDestroy(cushim_hal_context Context) {
  auto Ctx = contexts().remove(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_HANDLE;
  Ctx->drainQueues();
  // Like cuCtxDestroy, memory allocated in the context goes with it.
  MemoryMap &M = memoryMap();
  std::lock_guard<std::mutex> Lock(M.Mutex);
  for (auto It = M.Allocations.begin(); It != M.Allocations.end();) {
    if (It->second.Owner == Ctx.get()) {
      std::free(It->first);
      It = M.Allocations.erase(It);
    } else {
      ++It;
    }
  }
  std::erase_if(M.Registered, [&](const auto &Entry) { return Entry.second.second == Ctx.get(); });
  return CUDA_SUCCESS;
}

cushim_hal_result halMemAlloc(cushim_hal_context Context, size_t Bytes, int Kind, void **Ptr) {
  auto Ctx = contexts().find(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!Ptr)
    return CUDA_ERROR_INVALID_VALUE;
  if (Kind != CUSHIM_HAL_MEMORY_DEVICE && Kind != CUSHIM_HAL_MEMORY_PINNED_HOST && Kind != CUSHIM_HAL_MEMORY_MANAGED)
    return CUDA_ERROR_INVALID_VALUE;
  if (Bytes == 0) {
    *Ptr = nullptr; // as cudaMalloc(&p, 0)
    return CUDA_SUCCESS;
  }
  void *P = nullptr;
  // 256-byte alignment like cudaMalloc; every kind is plain host memory here. Large allocations start on a
  // 2 MiB boundary and ask for transparent huge pages, as a GPU maps device memory in large pages: kernels that
  // stride through a buffer (grid-stride loops touch a new 4 KiB page every iteration) then miss the TLB far
  // less often.
  size_t Align = Bytes >= HugePage ? HugePage : 256;
  size_t Rounded = (Bytes + Align - 1) / Align * Align;
  if (Rounded < Bytes || posix_memalign(&P, Align, Rounded) != 0 || !P)
    return CUDA_ERROR_OUT_OF_MEMORY;
  if (Align == HugePage && madvise(P, Rounded, MADV_HUGEPAGE) != 0)
    CUSHIM_LOG_DEBUG("host backend: no huge pages for {} bytes at {} (madvise: {})", Rounded, P,
                     std::strerror(errno));
  MemoryMap &M = memoryMap();
  {
    std::lock_guard<std::mutex> Lock(M.Mutex);
    M.Allocations[P] = Allocation{Bytes, Kind, Ctx.get()};
  }
  *Ptr = P;
  return CUDA_SUCCESS;
}

cushim_hal_result halMemFree(cushim_hal_context Context, void *Ptr, int Kind) {
  auto Ctx = contexts().find(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!Ptr)
    return CUDA_SUCCESS;
  MemoryMap &M = memoryMap();
  HostContext *Owner = nullptr;
  {
    std::lock_guard<std::mutex> Lock(M.Mutex);
    auto It = M.Allocations.find(Ptr);
    if (It == M.Allocations.end())
      return CUDA_ERROR_INVALID_VALUE;
    Owner = It->second.Owner;
  }
  // cudaFree synchronises: queued work may still use the memory.
  if (auto OwnerCtx = contexts().find(Owner))
    OwnerCtx->drainQueues();
  if (Owner != Ctx.get())
    Ctx->drainQueues();
  std::lock_guard<std::mutex> Lock(M.Mutex);
  auto It = M.Allocations.find(Ptr);
  if (It == M.Allocations.end())
    return CUDA_ERROR_INVALID_VALUE; // freed concurrently
  if (It->second.Kind != Kind)
    CUSHIM_LOG_DEBUG("host backend: memory of kind {} freed as kind {}", It->second.Kind, Kind);
  M.Allocations.erase(It);
  std::free(Ptr);
  return CUDA_SUCCESS;
}

cushim_hal_result halHostRegister(cushim_hal_context Context, void *Ptr, size_t Bytes, unsigned Flags,
                                  void **DevicePtr) {
  auto Ctx = contexts().find(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!Ptr || Bytes == 0)
    return CUDA_ERROR_INVALID_VALUE;
  MemoryMap &M = memoryMap();
  {
    std::lock_guard<std::mutex> Lock(M.Mutex);
    // Overlap with an existing registration is an error in CUDA as well.
    auto Next = M.Registered.lower_bound(Ptr);
    if (Next != M.Registered.end() && static_cast<char *>(Next->first) < static_cast<char *>(Ptr) + Bytes)
      return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
    if (Next != M.Registered.begin()) {
      auto Prev = std::prev(Next);
      if (static_cast<char *>(Prev->first) + Prev->second.first > static_cast<char *>(Ptr))
        return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
    }
    M.Registered[Ptr] = {Bytes, Ctx.get()};
  }
  if (DevicePtr)
    *DevicePtr = Ptr; // device pointers are host pointers
  return CUDA_SUCCESS;
}

cushim_hal_result halHostUnregister(cushim_hal_context Context, void *Ptr) {
  if (!contexts().find(Context))
    return CUDA_ERROR_INVALID_CONTEXT;
  MemoryMap &M = memoryMap();
  std::lock_guard<std::mutex> Lock(M.Mutex);
  return M.Registered.erase(Ptr) ? CUDA_SUCCESS : CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
}

// ---- Modules --------------------------------------------------------------------------------------------------

std::shared_ptr<HostKernel> makeKernel(HostModule *Module, const std::string &Name, void *Address) {
  auto K = std::make_shared<HostKernel>();
  K->Module = Module;
  K->Name = Name;
  K->Fn = reinterpret_cast<KernelFn>(Address);
  return K;
}

// The entry of a faster engine tier the descriptor announces (kernel_abi.h: __cushim_<Tier>_<name>), or null.
void *tierEntry(HostJit &Jit, JitModule &Module, HostKernel &K, uint32_t Flag, const char *Tier) {
  if (!(K.Flags & Flag))
    return nullptr;
  auto Address = Jit.lookup(Module, fmt::format("__cushim_{}_{}", Tier, K.Name));
  if (!Address) {
    // The descriptor promised it: a translator bug, but the per-thread entry still runs the kernel correctly.
    CUSHIM_LOG_WARN("host backend: kernel '{}': {} entry missing ({}); running it on tier t2", K.Name, Tier,
                    Address.error().message());
    K.Flags &= ~Flag;
    return nullptr;
  }
  return *Address;
}

// A described kernel of a loaded module, with the entries of its tiers (the flags of those missing are cleared).
cushim_hal_result resolveKernel(HostJit &Jit, HostModule &M, const cushim_hal_kernel_desc &D,
                                std::shared_ptr<HostKernel> &Out) {
  if (!D.name)
    return CUDA_ERROR_INVALID_VALUE;
  auto Address = Jit.lookup(*M.Jit, D.name);
  if (!Address) {
    CUSHIM_LOG_ERROR("host backend: {}", Address.error().message());
    return Jit.hasSymbol(*M.Jit, D.name) ? CUDA_ERROR_INVALID_IMAGE : CUDA_ERROR_NOT_FOUND;
  }
  auto K = makeKernel(&M, D.name, *Address);
  K->Flags = D.flags;
  K->FlatFn = reinterpret_cast<KernelFn>(tierEntry(Jit, *M.Jit, *K, CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY, "flat"));
  K->RegionFn = reinterpret_cast<KernelFn>(tierEntry(Jit, *M.Jit, *K, CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY, "region"));
  K->CoroFn = reinterpret_cast<CoroutineFn>(tierEntry(Jit, *M.Jit, *K, CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY, "coro"));
  K->ParamSize = D.param_size;
  K->StaticSharedSize = D.static_shared_size;
  K->LocalSize = D.local_size;
  K->MaxThreads = D.max_threads;
  Out = std::move(K);
  return CUDA_SUCCESS;
}

cushim_hal_result halModuleLoad(cushim_hal_context Context, const void *Object, size_t ObjectSize,
                                const cushim_hal_kernel_desc *Kernels, size_t KernelCount, cushim_hal_module *Module) {
  auto Ctx = contexts().find(Context);
  if (!Ctx)
    return CUDA_ERROR_INVALID_CONTEXT;
  if (!Object || !ObjectSize || !Module || (KernelCount && !Kernels))
    return CUDA_ERROR_INVALID_VALUE;
  auto Jit = HostJit::get();
  if (!Jit) {
    CUSHIM_LOG_ERROR("host backend: {}", Jit.error().message());
    return Jit.error().code();
  }
  auto Loaded = (*Jit)->load(Object, ObjectSize);
  if (!Loaded) {
    CUSHIM_LOG_ERROR("host backend: {}", Loaded.error().message());
    return Loaded.error().code();
  }
  auto M = std::make_shared<HostModule>();
  M->Context = Ctx;
  M->Jit = std::move(*Loaded);
  // Resolve every kernel now: linking errors (an unresolved external) surface at load, as with cuModuleLoad.
  for (size_t I = 0; I < KernelCount; ++I) {
    std::shared_ptr<HostKernel> K;
    if (cushim_hal_result R = resolveKernel(**Jit, *M, Kernels[I], K); R != CUDA_SUCCESS) {
      if (Error E = (*Jit)->unload(std::move(M->Jit)))
        CUSHIM_LOG_WARN("host backend: {}", E.message());
      return R;
    }
    M->Kernels[Kernels[I].name] = std::move(K);
  }
  for (auto &[Name, K] : M->Kernels)
    kernels().add(K);
  *Module = reinterpret_cast<cushim_hal_module>(M.get());
  modules().add(std::move(M));
  return CUDA_SUCCESS;
}

cushim_hal_result halModuleUnload(cushim_hal_module Module) {
  auto M = modules().remove(Module);
  if (!M)
    return CUDA_ERROR_INVALID_HANDLE;
  M->Context->drainQueues(); // launches of its kernels may still be queued
  {
    std::lock_guard<std::mutex> Lock(M->Mutex);
    for (auto &[Name, K] : M->Kernels)
      kernels().remove(K.get());
  }
  auto Jit = HostJit::get();
  if (!Jit)
    return Jit.error().code();
  if (Error E = (*Jit)->unload(std::move(M->Jit))) {
    CUSHIM_LOG_ERROR("host backend: {}", E.message());
    return E.code();
  }
  return CUDA_SUCCESS;
}

cushim_hal_result halKernelGet(cushim_hal_module Module, const char *Name, cushim_hal_kernel *Kernel) {
  auto M = modules().find(Module);
  if (!M)
    return CUDA_ERROR_INVALID_HANDLE;
  if (!Name || !Kernel)
    return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> Lock(M->Mutex);
  auto It = M->Kernels.find(Name);
  if (It != M->Kernels.end()) {
    *Kernel = reinterpret_cast<cushim_hal_kernel>(It->second.get());
    return CUDA_SUCCESS;
  }
  // Not described at load: usable, but run conservatively (fiber mode, parameters as passed).
  auto Jit = HostJit::get();
  if (!Jit || !(*Jit)->hasSymbol(*M->Jit, Name))
    return CUDA_ERROR_NOT_FOUND;
  auto Address = (*Jit)->lookup(*M->Jit, Name);
  if (!Address) {
    CUSHIM_LOG_ERROR("host backend: {}", Address.error().message());
    return CUDA_ERROR_NOT_FOUND;
  }
  auto K = makeKernel(M.get(), Name, *Address);
  K->Flags = CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS;
  *Kernel = reinterpret_cast<cushim_hal_kernel>(K.get());
  kernels().add(K);
  M->Kernels[Name] = std::move(K);
  return CUDA_SUCCESS;
}

cushim_hal_result halModuleAddVariant(cushim_hal_module Module, const void *Object, size_t ObjectSize,
                                      const cushim_hal_kernel_desc *Kernel, cushim_hal_kernel *Out) {
  auto M = modules().find(Module);
  if (!M)
    return CUDA_ERROR_INVALID_HANDLE;
  if (!Object || !ObjectSize || !Kernel || !Kernel->name || !Out)
    return CUDA_ERROR_INVALID_VALUE;
  auto Jit = HostJit::get();
  if (!Jit)
    return Jit.error().code();
  std::lock_guard<std::mutex> Lock(M->Mutex);
  if (M->Kernels.count(Kernel->name))
    return CUDA_ERROR_INVALID_VALUE; // the module has a kernel of that name already
  if (Error E = (*Jit)->add(*M->Jit, Object, ObjectSize); E.isError()) {
    CUSHIM_LOG_ERROR("host backend: {}", E.message());
    return E.code();
  }
  std::shared_ptr<HostKernel> K;
  if (cushim_hal_result R = resolveKernel(**Jit, *M, *Kernel, K); R != CUDA_SUCCESS)
    return R; // its code stays in the module, unused, until the module goes
  *Out = reinterpret_cast<cushim_hal_kernel>(K.get());
  kernels().add(K);
  M->Kernels[Kernel->name] = std::move(K);
  return CUDA_SUCCESS;
}

cushim_hal_result halGlobalGet(cushim_hal_module Module, const char *Name, void **Address, size_t *Size) {
  auto M = modules().find(Module);
  if (!M)
    return CUDA_ERROR_INVALID_HANDLE;
  if (!Name)
    return CUDA_ERROR_INVALID_VALUE;
  auto Jit = HostJit::get();
  if (!Jit || !(*Jit)->hasSymbol(*M->Jit, Name))
    return CUDA_ERROR_NOT_FOUND;
  auto Found = (*Jit)->lookup(*M->Jit, Name);
  if (!Found) {
    CUSHIM_LOG_ERROR("host backend: {}", Found.error().message());
    return CUDA_ERROR_NOT_FOUND;
  }
  if (Address)
    *Address = *Found;
  if (Size)
    *Size = static_cast<size_t>((*Jit)->symbolSize(*M->Jit, Name));
  return CUDA_SUCCESS;
}

const cushim_hal_ops HostOps = {
    CUSHIM_HAL_ABI_VERSION,
    sizeof(cushim_hal_ops),
    "host",
    halDeviceCount,
    halDeviceInfo,
    halMemInfo,
    halTargetDescribe,
    halContextCreate,
    halContextDestroy,
    halMemAlloc,
    halMemFree,
    halHostRegister,
    halHostUnregister,
    halQueueCreate,
    halQueueDestroy,
    halQueueQuery,
    halQueueSynchronize,
    halEnqueueCopy,
    halEnqueueCopy2D,
    halEnqueueFill,
    halEnqueueLaunch,
    halEnqueueHostFunc,
    halEventCreate,
    halEventDestroy,
    halEventRecord,
    halQueueWaitEvent,
    halEventQuery,
    halEventSynchronize,
    halEventElapsedMs,
    halModuleLoad,
    halModuleUnload,
    halKernelGet,
    halGlobalGet,
    halModuleAddVariant,
};

} // namespace
} // namespace cushim::host

extern "C" const cushim_hal_ops *cushim_hal_host_backend(void) { return &cushim::host::HostOps; }
