// Driver entry points NVIDIA's static cudart (nvcc's default) uses beyond the walking skeleton's: the library API
// (context-independent modules, CUDA 12's way of loading a program's fatbinaries), kernel and function queries, and
// context queries. Streams, events and asynchronous copies live in StreamApi.cpp / EventApi.cpp.
#include "driver/DriverApi.h"

#include "core/MemoryMap.h"
#include "core/Module.h"
#include "fatbin/Fatbin.h"
#include "support/Config.h"


#include <map>
#include <mutex>
#include <set>

using namespace cushim;
using namespace cushim::driver;

// --- Libraries and kernels -------------------------------------------------------------------------------------------
// A CUlibrary is a core::Module and a CUkernel is a core::Function of it: libraries are loaded eagerly in one context
// (the current one, else device 0's primary context), and in each other context on its first use of them
// (LibraryContexts.cpp: launches, cuKernelGetFunction, cuLibraryGetGlobal ... resolve to the current context's copy).
// CUDA 12 lets a CUkernel be passed wherever a CUfunction is expected, which this identity gives for free.

static Expected<core::Context *> libraryContext(const char *Api) {
  CUSHIM_TRY(requireInit());
  if (core::Context *Ctx = core::currentContext())
    return Ctx;
  core::Device *D = core::device(0);
  if (!D)
    return makeError(CUDA_ERROR_NO_DEVICE, std::string(Api) + ": no device");
  if (core::Context *Ctx = D->primaryIfActive())
    return Ctx;
  // TODO: libraries are context-independent on CUDA; until core loads them lazily per context, the first library
  // loaded before any context keeps device 0's primary context alive.
  return D->retainPrimary();
}

static Expected<core::Module *> requireLibrary(CUlibrary Library, const char *Api) {
  CUSHIM_TRY(requireInit());
  core::Module *M = core::lookupModule(reinterpret_cast<CUmodule>(Library));
  if (!M)
    return makeError(CUDA_ERROR_INVALID_HANDLE, std::string(Api) + ": not a live library");
  return M;
}

// The library's module in the current context (loaded there on first use); its home module when none is current.
static Expected<core::Module *> requireLibraryHere(CUlibrary Library, const char *Api) {
  auto M = requireLibrary(Library, Api);
  if (!M)
    return M.takeError();
  core::Context *Ctx = core::currentContext();
  return Ctx ? libraryModuleIn(**M, *Ctx) : M;
}

static Expected<core::Function *> requireKernel(CUkernel Kernel, const char *Api) {
  CUSHIM_TRY(requireInit());
  core::Function *F = core::lookupFunction(reinterpret_cast<CUfunction>(Kernel));
  if (!F)
    return makeError(CUDA_ERROR_INVALID_HANDLE, std::string(Api) + ": not a live kernel");
  return F;
}

// Modules NVIDIA's runtime loaded for its registered fatbinaries: cuLibraryLoadData of a registration wrapper
// (__fatBinC_Wrapper_t, which only the runtime's registration path passes) or CUDART_INTERFACE's module loads. Their
// launches report configuration errors the runtime's way (isRuntimeLaunch). Entries are dropped before their module
// is unloaded (cuLibraryUnload, cuModuleUnload, or with their context).
static std::mutex RuntimeModuleMutex;
static std::set<const core::Module *> &runtimeModules() {
  static auto *S = new std::set<const core::Module *>;
  return *S;
}

static void forgetContextRuntimeModules(core::Context &Ctx) {
  std::lock_guard<std::mutex> G(RuntimeModuleMutex);
  auto &S = runtimeModules();
  for (auto It = S.begin(); It != S.end();)
    It = &(*It)->context() == &Ctx ? S.erase(It) : std::next(It);
}

void cushim::driver::noteRuntimeModule(const core::Module &M) {
  static std::once_flag Once;
  std::call_once(Once, [] { core::addContextDestroyHook(forgetContextRuntimeModules); });
  std::lock_guard<std::mutex> G(RuntimeModuleMutex);
  runtimeModules().insert(&M);
}

void cushim::driver::forgetRuntimeModule(const core::Module &M) {
  std::lock_guard<std::mutex> G(RuntimeModuleMutex);
  runtimeModules().erase(&M);
}

bool cushim::driver::isRuntimeLaunch(const core::Function &F) {
  std::lock_guard<std::mutex> G(RuntimeModuleMutex);
  return runtimeModules().count(&F.module()) != 0;
}

static Error libraryLoad(CUlibrary *Library, const void *Code, unsigned NumLibraryOptions, CUlibraryOption *Options,
                         const char *Api, size_t MaxSize = 0, std::string Name = "library") {
  if (!Library || !Code)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": library or code is NULL");
  for (unsigned I = 0; I < NumLibraryOptions; ++I)
    if (Options && Options[I] != CU_LIBRARY_BINARY_IS_PRESERVED &&
        Options[I] != CU_LIBRARY_HOST_UNIVERSAL_FUNCTION_AND_DATA_TABLE)
      return makeError(CUDA_ERROR_NOT_SUPPORTED,
                       fmt::format("{}: library option {} is not supported", Api, static_cast<int>(Options[I])));
  auto Ctx = libraryContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  auto M = core::Module::loadImage(**Ctx, Code, MaxSize, std::move(Name));
  if (!M)
    return M.takeError();
  bool Runtime = fatbin::detectImageKind(Code) == fatbin::ImageKind::Wrapper;
  if (Runtime)
    noteRuntimeModule(**M);
  noteLibrary(**M, Code, MaxSize, Runtime);
  *Library = reinterpret_cast<CUlibrary>((*M)->handle());
  return Error::success();
}

CUSHIM_EXPORT CUresult cuLibraryLoadData(CUlibrary *Library, const void *Code, CUjit_option *JitOptions,
                                         void **JitOptionsValues, unsigned int NumJitOptions,
                                         CUlibraryOption *LibraryOptions, void **LibraryOptionValues,
                                         unsigned int NumLibraryOptions) {
  ApiTrace T("cuLibraryLoadData");
  T.args("library={} code={} numJitOptions={} numLibraryOptions={}", static_cast<void *>(Library), Code, NumJitOptions,
         NumLibraryOptions);
  return T.done(libraryLoad(Library, Code, NumLibraryOptions, LibraryOptions, "cuLibraryLoadData"));
}

CUSHIM_EXPORT CUresult cuLibraryLoadFromFile(CUlibrary *Library, const char *FileName, CUjit_option *JitOptions,
                                             void **JitOptionsValues, unsigned int NumJitOptions,
                                             CUlibraryOption *LibraryOptions, void **LibraryOptionValues,
                                             unsigned int NumLibraryOptions) {
  ApiTrace T("cuLibraryLoadFromFile");
  T.args("library={} fileName={} numJitOptions={} numLibraryOptions={}", static_cast<void *>(Library),
         FileName ? FileName : "(null)", NumJitOptions, NumLibraryOptions);
  CUSHIM_DRIVER_BODY(T, {
    if (!Library || !FileName)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuLibraryLoadFromFile: library or fileName is NULL");
    auto Data = readImageFile(FileName, "cuLibraryLoadFromFile");
    if (!Data)
      return Data.takeError();
    return libraryLoad(Library, Data->data(), NumLibraryOptions, LibraryOptions, "cuLibraryLoadFromFile",
                       Data->size(), FileName);
  });
}

CUSHIM_EXPORT CUresult cuLibraryUnload(CUlibrary Library) {
  ApiTrace T("cuLibraryUnload");
  T.args("library={}", static_cast<void *>(Library));
  CUSHIM_DRIVER_BODY(T, {
    auto M = requireLibrary(Library, "cuLibraryUnload");
    if (!M)
      return M.takeError();
    return unloadLibrary(**M);
  });
}

CUSHIM_EXPORT CUresult cuLibraryGetModule(CUmodule *Module, CUlibrary Library) {
  ApiTrace T("cuLibraryGetModule");
  T.args("pMod={} library={}", static_cast<void *>(Module), static_cast<void *>(Library));
  CUSHIM_DRIVER_BODY(T, {
    if (!Module)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuLibraryGetModule: pMod is NULL");
    auto M = requireLibraryHere(Library, "cuLibraryGetModule");
    if (!M)
      return M.takeError();
    *Module = (*M)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuLibraryGetKernel(CUkernel *Kernel, CUlibrary Library, const char *Name) {
  ApiTrace T("cuLibraryGetKernel");
  T.args("pKernel={} library={} name={}", static_cast<void *>(Kernel), static_cast<void *>(Library),
         Name ? Name : "(null)");
  CUSHIM_DRIVER_BODY(T, {
    if (!Kernel || !Name)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuLibraryGetKernel: pKernel or name is NULL");
    auto M = requireLibrary(Library, "cuLibraryGetKernel");
    if (!M)
      return M.takeError();
    auto F = (*M)->function(Name);
    if (!F)
      return F.takeError();
    *Kernel = reinterpret_cast<CUkernel>((*F)->handle());
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuLibraryGetKernelCount(unsigned int *Count, CUlibrary Library) {
  ApiTrace T("cuLibraryGetKernelCount");
  T.args("count={} library={}", static_cast<void *>(Count), static_cast<void *>(Library));
  CUSHIM_DRIVER_BODY(T, {
    if (!Count)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuLibraryGetKernelCount: count is NULL");
    auto M = requireLibrary(Library, "cuLibraryGetKernelCount");
    if (!M)
      return M.takeError();
    *Count = static_cast<unsigned>((*M)->kernels().size());
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuLibraryEnumerateKernels(CUkernel *Kernels, unsigned int NumKernels, CUlibrary Library) {
  ApiTrace T("cuLibraryEnumerateKernels");
  T.args("kernels={} numKernels={} library={}", static_cast<void *>(Kernels), NumKernels, static_cast<void *>(Library));
  CUSHIM_DRIVER_BODY(T, {
    if (!Kernels)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuLibraryEnumerateKernels: kernels is NULL");
    auto M = requireLibrary(Library, "cuLibraryEnumerateKernels");
    if (!M)
      return M.takeError();
    const auto &Infos = (*M)->kernels();
    for (unsigned I = 0; I < NumKernels && I < Infos.size(); ++I) {
      auto F = (*M)->function(Infos[I].Name);
      if (!F)
        return F.takeError();
      Kernels[I] = reinterpret_cast<CUkernel>((*F)->handle());
    }
    return Error::success();
  });
}

static Error libraryGlobal(CUdeviceptr *Dptr, size_t *Bytes, CUlibrary Library, const char *Name, const char *Api) {
  if (!Name)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": name is NULL");
  auto M = requireLibraryHere(Library, Api);
  if (!M)
    return M.takeError();
  auto G = (*M)->global(Name);
  if (!G)
    return G.takeError();
  if (Dptr)
    *Dptr = reinterpret_cast<CUdeviceptr>(G->first);
  if (Bytes)
    *Bytes = G->second;
  return Error::success();
}

CUSHIM_EXPORT CUresult cuLibraryGetGlobal(CUdeviceptr *Dptr, size_t *Bytes, CUlibrary Library, const char *Name) {
  ApiTrace T("cuLibraryGetGlobal");
  T.args("dptr={} bytes={} library={} name={}", static_cast<void *>(Dptr), static_cast<void *>(Bytes),
         static_cast<void *>(Library), Name ? Name : "(null)");
  return T.done(libraryGlobal(Dptr, Bytes, Library, Name, "cuLibraryGetGlobal"));
}

// A module's __managed__ variable (.attribute(.managed)): NVIDIA's static cudart asks for each one it registered
// right after loading the library and needs its address. Plain module variables are not managed: not found.
CUSHIM_EXPORT CUresult cuLibraryGetManaged(CUdeviceptr *Dptr, size_t *Bytes, CUlibrary Library, const char *Name) {
  ApiTrace T("cuLibraryGetManaged");
  T.args("dptr={} bytes={} library={} name={}", static_cast<void *>(Dptr), static_cast<void *>(Bytes),
         static_cast<void *>(Library), Name ? Name : "(null)");
  CUSHIM_DRIVER_BODY(T, {
    if (!Name)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuLibraryGetManaged: name is NULL");
    auto M = requireLibrary(Library, "cuLibraryGetManaged");
    if (!M)
      return M.takeError();
    auto G = (*M)->global(Name);
    if (!G)
      return G.takeError();
    auto A = core::memory_map::findBase(G->first);
    if (!A || A->Kind != core::ManagedVariableKind)
      return makeError(CUDA_ERROR_NOT_FOUND, fmt::format("cuLibraryGetManaged: '{}' is not a __managed__ variable",
                                                         Name));
    if (Dptr)
      *Dptr = reinterpret_cast<CUdeviceptr>(G->first);
    if (Bytes)
      *Bytes = G->second;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuKernelGetFunction(CUfunction *Func, CUkernel Kernel) {
  ApiTrace T("cuKernelGetFunction");
  T.args("pFunc={} kernel={}", static_cast<void *>(Func), static_cast<void *>(Kernel));
  CUSHIM_DRIVER_BODY(T, {
    if (!Func)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuKernelGetFunction: pFunc is NULL");
    auto F = requireKernel(Kernel, "cuKernelGetFunction");
    if (!F)
      return F.takeError();
    if (core::Context *Ctx = core::currentContext()) {
      F = libraryKernelIn(**F, *Ctx); // the kernel's function in the current context
      if (!F)
        return F.takeError();
    }
    *Func = (*F)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuKernelGetLibrary(CUlibrary *Library, CUkernel Kernel) {
  ApiTrace T("cuKernelGetLibrary");
  T.args("pLib={} kernel={}", static_cast<void *>(Library), static_cast<void *>(Kernel));
  CUSHIM_DRIVER_BODY(T, {
    if (!Library)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuKernelGetLibrary: pLib is NULL");
    auto F = requireKernel(Kernel, "cuKernelGetLibrary");
    if (!F)
      return F.takeError();
    *Library = reinterpret_cast<CUlibrary>((*F)->module().handle());
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuKernelGetAttribute(int *Pi, CUfunction_attribute Attrib, CUkernel Kernel, CUdevice Dev) {
  ApiTrace T("cuKernelGetAttribute");
  T.args("pi={} attrib={} kernel={} dev={}", static_cast<void *>(Pi), static_cast<int>(Attrib),
         static_cast<void *>(Kernel), Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Pi)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuKernelGetAttribute: pi is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto F = requireKernel(Kernel, "cuKernelGetAttribute");
    if (!F)
      return F.takeError();
    auto V = (*F)->attribute(Attrib);
    if (!V)
      return V.takeError();
    *Pi = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuKernelSetAttribute(CUfunction_attribute Attrib, int Value, CUkernel Kernel, CUdevice Dev) {
  ApiTrace T("cuKernelSetAttribute");
  T.args("attrib={} val={} kernel={} dev={}", static_cast<int>(Attrib), Value, static_cast<void *>(Kernel), Dev);
  CUSHIM_DRIVER_BODY(T, {
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto F = requireKernel(Kernel, "cuKernelSetAttribute");
    if (!F)
      return F.takeError();
    return (*F)->setAttribute(Attrib, Value);
  });
}

// Cache configuration is a hint without effect on the host backend; only its value is checked (and, for contexts,
// kept for cuCtxGetCacheConfig).
static Error checkCacheConfig(CUfunc_cache Config, const char *Api) {
  if (static_cast<unsigned>(Config) > CU_FUNC_CACHE_PREFER_EQUAL)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: cache configuration {} is not a CUfunc_cache", Api, static_cast<int>(Config)));
  return Error::success();
}

CUSHIM_EXPORT CUresult cuKernelSetCacheConfig(CUkernel Kernel, CUfunc_cache Config, CUdevice Dev) {
  ApiTrace T("cuKernelSetCacheConfig");
  T.args("kernel={} config={} dev={}", static_cast<void *>(Kernel), static_cast<int>(Config), Dev);
  CUSHIM_DRIVER_BODY(T, {
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto F = requireKernel(Kernel, "cuKernelSetCacheConfig");
    return F ? checkCacheConfig(Config, "cuKernelSetCacheConfig") : F.takeError();
  });
}

static Error functionName(const char **Name, core::Function *F) {
  if (!Name)
    return makeError(CUDA_ERROR_INVALID_VALUE, "name is NULL");
  *Name = F->name().c_str();
  return Error::success();
}

CUSHIM_EXPORT CUresult cuKernelGetName(const char **Name, CUkernel Kernel) {
  ApiTrace T("cuKernelGetName");
  T.args("name={} kernel={}", static_cast<void *>(Name), static_cast<void *>(Kernel));
  CUSHIM_DRIVER_BODY(T, {
    auto F = requireKernel(Kernel, "cuKernelGetName");
    return F ? functionName(Name, *F) : F.takeError();
  });
}

CUSHIM_EXPORT CUresult cuFuncGetName(const char **Name, CUfunction Func) {
  ApiTrace T("cuFuncGetName");
  T.args("name={} hfunc={}", static_cast<void *>(Name), static_cast<void *>(Func));
  CUSHIM_DRIVER_BODY(T, {
    auto F = requireKernel(reinterpret_cast<CUkernel>(Func), "cuFuncGetName");
    return F ? functionName(Name, *F) : F.takeError();
  });
}

static Error paramInfo(core::Function *F, size_t Index, size_t *Offset, size_t *Size) {
  const auto &Params = F->info().Params;
  if (Index >= Params.size())
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{} has {} parameters, not {}", F->name(), Params.size(), Index + 1));
  if (Offset)
    *Offset = Params[Index].Offset;
  if (Size)
    *Size = Params[Index].Size;
  return Error::success();
}

CUSHIM_EXPORT CUresult cuKernelGetParamInfo(CUkernel Kernel, size_t ParamIndex, size_t *ParamOffset,
                                            size_t *ParamSize) {
  ApiTrace T("cuKernelGetParamInfo");
  T.args("kernel={} paramIndex={}", static_cast<void *>(Kernel), ParamIndex);
  CUSHIM_DRIVER_BODY(T, {
    auto F = requireKernel(Kernel, "cuKernelGetParamInfo");
    return F ? paramInfo(*F, ParamIndex, ParamOffset, ParamSize) : F.takeError();
  });
}

CUSHIM_EXPORT CUresult cuFuncGetParamInfo(CUfunction Func, size_t ParamIndex, size_t *ParamOffset, size_t *ParamSize) {
  ApiTrace T("cuFuncGetParamInfo");
  T.args("func={} paramIndex={}", static_cast<void *>(Func), ParamIndex);
  CUSHIM_DRIVER_BODY(T, {
    auto F = requireKernel(reinterpret_cast<CUkernel>(Func), "cuFuncGetParamInfo");
    return F ? paramInfo(*F, ParamIndex, ParamOffset, ParamSize) : F.takeError();
  });
}

CUSHIM_EXPORT CUresult cuFuncGetModule(CUmodule *Module, CUfunction Func) {
  ApiTrace T("cuFuncGetModule");
  T.args("hmod={} hfunc={}", static_cast<void *>(Module), static_cast<void *>(Func));
  CUSHIM_DRIVER_BODY(T, {
    if (!Module)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuFuncGetModule: hmod is NULL");
    auto F = requireKernel(reinterpret_cast<CUkernel>(Func), "cuFuncGetModule");
    if (!F)
      return F.takeError();
    *Module = (*F)->module().handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuFuncSetCacheConfig(CUfunction Func, CUfunc_cache Config) {
  ApiTrace T("cuFuncSetCacheConfig");
  T.args("hfunc={} config={}", static_cast<void *>(Func), static_cast<int>(Config));
  CUSHIM_DRIVER_BODY(T, {
    auto F = requireKernel(reinterpret_cast<CUkernel>(Func), "cuFuncSetCacheConfig");
    return F ? checkCacheConfig(Config, "cuFuncSetCacheConfig") : F.takeError();
  });
}

// CUDA_MODULE_LOADING as NVIDIA's driver reads it: EAGER, else LAZY (the default since CUDA 12.2). cuda_shim
// translates a whole module when it is loaded in both modes (the PTX module is the unit of translation: kernels share
// its globals and device functions, and the JIT cache makes a repeated load cheap); the mode is reported so that the
// runtime and programs see the setting they asked for (docs/EXPORT_TABLES.md, "Module loading").
CUSHIM_EXPORT CUresult cuModuleGetLoadingMode(CUmoduleLoadingMode *Mode) {
  ApiTrace T("cuModuleGetLoadingMode");
  T.args("mode={}", static_cast<void *>(Mode));
  CUSHIM_DRIVER_BODY(T, {
    if (!Mode)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuModuleGetLoadingMode: mode is NULL");
    *Mode = config().ModuleLoading == "EAGER" ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING;
    return Error::success();
  });
}

// --- Context queries -------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuCtxGetFlags(unsigned int *Flags) {
  ApiTrace T("cuCtxGetFlags");
  T.args("flags={}", static_cast<void *>(Flags));
  CUSHIM_DRIVER_BODY(T, {
    if (!Flags)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxGetFlags: flags is NULL");
    auto Ctx = requireContext("cuCtxGetFlags");
    if (!Ctx)
      return Ctx.takeError();
    // A primary context follows cuDevicePrimaryCtxSetFlags even while active (CUDA 11+); mapped host memory is
    // always available, as NVIDIA's driver reports.
    *Flags = ((*Ctx)->isPrimary() ? (*Ctx)->device().primaryFlags() : (*Ctx)->flags()) | CU_CTX_MAP_HOST;
    return Error::success();
  });
}

static Expected<core::Context *> explicitOrCurrent(CUcontext Handle, const char *Api) {
  CUSHIM_TRY(requireInit());
  if (!Handle)
    return core::requireCurrentContext(Api);
  if (core::Context *Ctx = core::lookupContext(Handle))
    return Ctx;
  return makeError(CUDA_ERROR_INVALID_CONTEXT, std::string(Api) + ": not a live context");
}

CUSHIM_EXPORT CUresult cuCtxGetDevice_v2(CUdevice *Device, CUcontext Handle) {
  ApiTrace T("cuCtxGetDevice_v2");
  T.args("device={} ctx={}", static_cast<void *>(Device), static_cast<void *>(Handle));
  CUSHIM_DRIVER_BODY(T, {
    if (!Device)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxGetDevice: device is NULL");
    auto Ctx = explicitOrCurrent(Handle, "cuCtxGetDevice");
    if (!Ctx)
      return Ctx.takeError();
    *Device = (*Ctx)->device().ordinal();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxSynchronize_v2(CUcontext Handle) {
  ApiTrace T("cuCtxSynchronize_v2");
  T.args("ctx={}", static_cast<void *>(Handle));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = explicitOrCurrent(Handle, "cuCtxSynchronize");
    if (!Ctx)
      return Ctx.takeError();
    CUSHIM_TRY((*Ctx)->captureCheckSynchronize("cuCtxSynchronize"));
    return (*Ctx)->synchronize();
  });
}

// The context's limits (core::Context::limit), shared with cudaDeviceGetLimit / cudaDeviceSetLimit.
CUSHIM_EXPORT CUresult cuCtxGetLimit(size_t *Value, CUlimit Limit) {
  ApiTrace T("cuCtxGetLimit");
  T.args("pvalue={} limit={}", static_cast<void *>(Value), static_cast<int>(Limit));
  CUSHIM_DRIVER_BODY(T, {
    if (!Value)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxGetLimit: pvalue is NULL");
    auto Ctx = requireContext("cuCtxGetLimit");
    if (!Ctx)
      return Ctx.takeError();
    auto V = (*Ctx)->limit(Limit);
    if (!V)
      return V.takeError();
    *Value = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxSetLimit(CUlimit Limit, size_t Value) {
  ApiTrace T("cuCtxSetLimit");
  T.args("limit={} value={}", static_cast<int>(Limit), Value);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuCtxSetLimit");
    if (!Ctx)
      return Ctx.takeError();
    return (*Ctx)->setLimit(Limit, Value);
  });
}

// Each context's cache preference (cuCtxSetCacheConfig), forgotten with the context.
static std::mutex CacheConfigMutex;
static std::map<const core::Context *, CUfunc_cache> &contextCacheConfigs() {
  static auto *M = new std::map<const core::Context *, CUfunc_cache>;
  return *M;
}
static void forgetContextCacheConfig(core::Context &Ctx) {
  std::lock_guard<std::mutex> G(CacheConfigMutex);
  contextCacheConfigs().erase(&Ctx);
}

CUSHIM_EXPORT CUresult cuCtxGetCacheConfig(CUfunc_cache *Config) {
  ApiTrace T("cuCtxGetCacheConfig");
  T.args("pconfig={}", static_cast<void *>(Config));
  CUSHIM_DRIVER_BODY(T, {
    if (!Config)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxGetCacheConfig: pconfig is NULL");
    auto Ctx = requireContext("cuCtxGetCacheConfig");
    if (!Ctx)
      return Ctx.takeError();
    std::lock_guard<std::mutex> G(CacheConfigMutex);
    auto It = contextCacheConfigs().find(*Ctx);
    *Config = It == contextCacheConfigs().end() ? CU_FUNC_CACHE_PREFER_NONE : It->second;
    return Error::success();
  });
}

// A hint without effect on the host backend.
CUSHIM_EXPORT CUresult cuCtxSetCacheConfig(CUfunc_cache Config) {
  ApiTrace T("cuCtxSetCacheConfig");
  T.args("config={}", static_cast<int>(Config));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuCtxSetCacheConfig");
    if (!Ctx)
      return Ctx.takeError();
    CUSHIM_TRY(checkCacheConfig(Config, "cuCtxSetCacheConfig"));
    static std::once_flag Once;
    std::call_once(Once, [] { core::addContextDestroyHook(forgetContextCacheConfig); });
    std::lock_guard<std::mutex> G(CacheConfigMutex);
    contextCacheConfigs()[*Ctx] = Config;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxGetSharedMemConfig(CUsharedconfig *Config) {
  ApiTrace T("cuCtxGetSharedMemConfig");
  T.args("pConfig={}", static_cast<void *>(Config));
  CUSHIM_DRIVER_BODY(T, {
    if (!Config)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxGetSharedMemConfig: pConfig is NULL");
    auto Ctx = requireContext("cuCtxGetSharedMemConfig");
    if (!Ctx)
      return Ctx.takeError();
    *Config = CU_SHARED_MEM_CONFIG_FOUR_BYTE_BANK_SIZE;
    return Error::success();
  });
}
