// Registrations, per-thread state and the runtime's implicit (primary) context.
#include "runtime/RuntimeState.h"

#include "core/Device.h"
#include "core/MemoryMap.h"
#include "support/ErrorTables.h"
#include "support/Log.h"

namespace cushim::runtime {

Registry &registry() {
  static auto *R = new Registry(); // outlives static destructors: __cudaUnregisterFatBinary runs from atexit
  return *R;
}

int &currentDevice() {
  static thread_local int Device = 0;
  return Device;
}

cudaError_t &lastError() {
  static thread_local cudaError_t Last = cudaSuccess;
  return Last;
}

Error runtimeError(cudaError_t Code, std::string Message) {
  return makeError(static_cast<CUresult>(RuntimeOnlyTag | static_cast<unsigned>(Code)), std::move(Message));
}

static cudaError_t toRuntime(CUresult Code) {
  unsigned V = static_cast<unsigned>(Code);
  if (V & RuntimeOnlyTag)
    return static_cast<cudaError_t>(V & ~RuntimeOnlyTag);
  if (Code == CUDA_ERROR_NOT_INITIALIZED || Code == CUDA_ERROR_NO_DEVICE)
    return Code == CUDA_ERROR_NO_DEVICE ? cudaErrorNoDevice : cudaErrorInitializationError;
  return runtimeErrorFromDriver(Code);
}

cudaError_t finish(ApiTrace &Trace, cudaError_t Code, const std::string &Message) {
  // Like CUDA, a failed call becomes the thread's last error; cudaErrorNotReady is a status, not an error.
  if (Code != cudaSuccess && Code != cudaErrorNotReady)
    lastError() = Code;
  return Trace.done(Code, Message);
}

cudaError_t finish(ApiTrace &Trace, const Error &E) { return finish(Trace, toRuntime(E.code()), E.message()); }

namespace {
struct PrimaryRetains {
  std::mutex Mutex;
  std::map<int, core::Context *> ByDevice;
};
PrimaryRetains &primaryRetains() {
  static auto *P = new PrimaryRetains();
  return *P;
}
} // namespace

Expected<core::Device *> runtimeDevice(int Ordinal) {
  CUSHIM_TRY(core::initialize(0));
  if (core::Device *D = core::device(Ordinal))
    return D;
  return runtimeError(cudaErrorInvalidDevice, "invalid device ordinal " + std::to_string(Ordinal));
}

static void forgetContextModules(core::Context &Ctx);

Expected<core::Context *> primaryContext(int Ordinal) {
  CUSHIM_TRY(core::initialize(0));
  core::Device *Dev = core::device(Ordinal);
  if (!Dev)
    return runtimeError(cudaErrorInvalidDevice, "invalid device ordinal " + std::to_string(Ordinal));
  PrimaryRetains &P = primaryRetains();
  // A primary context reset through the driver API (cuDevicePrimaryCtxReset) keeps its address: its modules must be
  // forgotten then too, not only by cudaDeviceReset (an inactive context fails the lookup below, so it is retained
  // again).
  static std::once_flag HookOnce;
  std::call_once(HookOnce, [] { core::addContextDestroyHook(forgetContextModules); });
  std::lock_guard<std::mutex> G(P.Mutex);
  auto It = P.ByDevice.find(Ordinal);
  if (It != P.ByDevice.end() && core::lookupContext(It->second->handle()))
    return It->second;
  auto Retained = Dev->retainPrimary();
  if (!Retained)
    return Retained.takeError();
  P.ByDevice[Ordinal] = *Retained;
  return *Retained;
}

Expected<core::Context *> context() {
  if (core::Context *Ctx = core::currentContext())
    return Ctx;
  auto Ctx = primaryContext(currentDevice());
  if (Ctx)
    core::setCurrentContext(*Ctx);
  return Ctx;
}

// The modules loaded in a context going away. Also a context destroy hook, which runs under the device's primary
// context lock: it must not take PrimaryRetains' lock, which primaryContext holds while retaining.
static void forgetContextModules(core::Context &Ctx) {
  Registry &R = registry();
  std::lock_guard<std::shared_mutex> G(R.Mutex);
  for (FatbinRecord *F : R.Fatbins)
    F->Modules.erase(&Ctx);
}

void forgetContext(core::Context *Ctx) {
  forgetContextModules(*Ctx);
  PrimaryRetains &P = primaryRetains();
  std::lock_guard<std::mutex> G(P.Mutex);
  for (auto It = P.ByDevice.begin(); It != P.ByDevice.end();)
    It = It->second == Ctx ? P.ByDevice.erase(It) : std::next(It);
}

// The module already loaded for Fatbin in Ctx, or nullptr; the registry lock must be held (shared suffices).
static core::Module *loadedModuleLocked(FatbinRecord &Fatbin, core::Context &Ctx) {
  auto It = Fatbin.Modules.find(&Ctx);
  if (It != Fatbin.Modules.end() && core::lookupModule(It->second->handle()))
    return It->second;
  return nullptr;
}

Expected<core::Module *> moduleFor(FatbinRecord &Fatbin, core::Context &Ctx) {
  Registry &R = registry();
  {
    std::shared_lock<std::shared_mutex> G(R.Mutex);
    if (core::Module *M = loadedModuleLocked(Fatbin, Ctx))
      return M;
  }
  // The first use in this context translates the fatbinary (seconds for a large one) outside the registry lock, so
  // launches of modules already loaded go on meanwhile; a second thread wanting the same module waits here for it.
  std::lock_guard<std::mutex> Load(Fatbin.LoadMutex);
  {
    std::shared_lock<std::shared_mutex> G(R.Mutex);
    if (core::Module *M = loadedModuleLocked(Fatbin, Ctx))
      return M;
  }
  auto M = core::Module::loadImage(Ctx, Fatbin.Wrapper, 0, "fatbinary@" + fmt::format("{}", Fatbin.Wrapper));
  if (!M)
    return M.takeError();
  std::lock_guard<std::shared_mutex> G(R.Mutex);
  Fatbin.Modules[&Ctx] = *M;
  // __managed__ variables: the host code reads their address through the pointer nvcc registered.
  for (auto &[HostVar, V] : R.Vars) {
    if (V->Fatbin != &Fatbin || !V->ManagedPointer)
      continue;
    auto Global = (*M)->global(V->DeviceName);
    if (Global)
      *V->ManagedPointer = Global->first;
  }
  return *M;
}

Expected<core::Function *> functionFor(const void *HostFun) {
  KernelRecord *K = nullptr;
  {
    Registry &R = registry();
    std::shared_lock<std::shared_mutex> G(R.Mutex);
    auto It = R.Kernels.find(HostFun);
    if (It != R.Kernels.end())
      K = It->second;
  }
  if (!K)
    return runtimeError(cudaErrorInvalidDeviceFunction,
                        fmt::format("{} is not a registered __global__ function", HostFun));
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  auto M = moduleFor(*K->Fatbin, **Ctx);
  if (!M)
    return M.takeError();
  auto F = (*M)->function(K->DeviceName);
  if (!F)
    return runtimeError(cudaErrorInvalidDeviceFunction, F.error().message());
  return *F;
}

Expected<std::pair<void *, size_t>> variableFor(const void *HostVar) {
  VarRecord *V = nullptr;
  {
    Registry &R = registry();
    std::shared_lock<std::shared_mutex> G(R.Mutex);
    auto It = R.Vars.find(HostVar);
    if (It != R.Vars.end())
      V = It->second;
  }
  if (!V)
    return runtimeError(cudaErrorInvalidSymbol, fmt::format("{} is not a registered __device__ or __constant__ "
                                                            "variable",
                                                            HostVar));
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  auto M = moduleFor(*V->Fatbin, **Ctx);
  if (!M)
    return M.takeError();
  auto G = (*M)->global(V->DeviceName);
  if (!G)
    return runtimeError(cudaErrorInvalidSymbol, G.error().message());
  return *G;
}

} // namespace cushim::runtime
