// Kernel launches and function attributes: cuLaunchKernel, cuLaunchKernelEx (launch attributes) and
// cuLaunchCooperativeKernel with their per-thread-stream variants, cuFuncGetAttribute, cuFuncSetAttribute.
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"
#include "core/Stream.h"

using namespace cushim;
using namespace cushim::driver;

namespace {
struct LaunchRequest {
  CUfunction Handle;
  core::LaunchConfig Config;
  CUstream HStream;
  void **KernelParams;
  void **Extra;
  bool PerThread;   // the _ptsz entry point: stream 0 is the calling thread's stream
  bool Cooperative; // every block resident at once (grid.sync()), checked against occupancy
};

// Configuration errors of launches NVIDIA's runtime makes come back as cudaErrorInvalidConfiguration (9), which its
// static cudart passes on unchanged (docs/EXPORT_TABLES.md, "Launch errors the runtime's way").
Error checkDims(const core::Function &F, const core::LaunchConfig &C) {
  Error E = core::checkLaunchDims(F, C);
  if (E.isError() && isRuntimeLaunch(F))
    return Error(RuntimeInvalidConfiguration, E.message());
  return E;
}

Error launch(const char *Api, const LaunchRequest &R) {
  CUSHIM_TRY(requireInit());
  core::Function *F = core::lookupFunction(R.Handle);
  if (!F)
    return makeError(CUDA_ERROR_INVALID_HANDLE, std::string(Api) + ": not a live function");
  // A CUkernel runs in the current context: its library's copy there (loaded on first use).
  if (core::Context *Current = core::currentContext()) {
    auto Here = libraryKernelIn(*F, *Current);
    if (!Here)
      return Here.takeError();
    F = *Here;
  }
  if (F->module().detached())
    return makeError(CUDA_ERROR_CONTEXT_IS_DESTROYED, std::string(Api) + ": the kernel's context was reset and no "
                                                                         "context is current");
  auto S = core::resolveStream(F->module().context(), R.HStream, R.PerThread);
  if (!S)
    return S.takeError();
  CUSHIM_TRY(checkDims(*F, R.Config));
  if (R.Cooperative)
    CUSHIM_TRY(core::checkCooperativeGrid(*F, R.Config));
  return core::launchKernel(*F, R.Config, **S, R.KernelParams, R.Extra);
}

core::LaunchConfig dims(unsigned GridDimX, unsigned GridDimY, unsigned GridDimZ, unsigned BlockDimX,
                        unsigned BlockDimY, unsigned BlockDimZ, unsigned SharedMemBytes) {
  core::LaunchConfig C;
  C.Grid[0] = GridDimX, C.Grid[1] = GridDimY, C.Grid[2] = GridDimZ;
  C.Block[0] = BlockDimX, C.Block[1] = BlockDimY, C.Block[2] = BlockDimZ;
  C.DynamicShared = SharedMemBytes;
  return C;
}

CUresult launchClassic(const char *Api, CUfunction Handle, unsigned GridDimX, unsigned GridDimY, unsigned GridDimZ,
                       unsigned BlockDimX, unsigned BlockDimY, unsigned BlockDimZ, unsigned SharedMemBytes,
                       CUstream HStream, void **KernelParams, void **Extra, bool PerThread, bool Cooperative) {
  ApiTrace T(Api);
  T.args("f={} grid=({},{},{}) block=({},{},{}) shared={} stream={} kernelParams={} extra={}",
         static_cast<void *>(Handle), GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ, SharedMemBytes,
         static_cast<void *>(HStream), static_cast<void *>(KernelParams), static_cast<void *>(Extra));
  LaunchRequest R{Handle,       dims(GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ, SharedMemBytes),
                  HStream,      KernelParams,
                  Extra,        PerThread,
                  Cooperative};
  return T.done(launch(Api, R));
}

CUresult launchEx(const char *Api, const CUlaunchConfig *Config, CUfunction Handle, void **KernelParams, void **Extra,
                  bool PerThread) {
  ApiTrace T(Api);
  T.args("config={} f={} kernelParams={} extra={}", static_cast<const void *>(Config), static_cast<void *>(Handle),
         static_cast<void *>(KernelParams), static_cast<void *>(Extra));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Config)
      return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": config is NULL");
    T.args("grid=({},{},{}) block=({},{},{}) shared={} stream={} numAttrs={} f={}", Config->gridDimX,
           Config->gridDimY, Config->gridDimZ, Config->blockDimX, Config->blockDimY, Config->blockDimZ,
           Config->sharedMemBytes, static_cast<void *>(Config->hStream), Config->numAttrs,
           static_cast<void *>(Handle));
    auto Attrs = core::readLaunchAttributes(Config->attrs, Config->numAttrs, Api);
    if (!Attrs)
      return Attrs.takeError();
    LaunchRequest R{Handle,
                    dims(Config->gridDimX, Config->gridDimY, Config->gridDimZ, Config->blockDimX, Config->blockDimY,
                         Config->blockDimZ, Config->sharedMemBytes),
                    Config->hStream,
                    KernelParams,
                    Extra,
                    PerThread,
                    Attrs->Cooperative};
    return launch(Api, R);
  });
}
} // namespace

CUSHIM_EXPORT CUresult cuLaunchKernel(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                      unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                      unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                      void **KernelParams, void **Extra) {
  return launchClassic("cuLaunchKernel", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ,
                       SharedMemBytes, HStream, KernelParams, Extra, false, false);
}

CUSHIM_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                           unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                           unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                           void **KernelParams, void **Extra) {
  return launchClassic("cuLaunchKernel_ptsz", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ,
                       SharedMemBytes, HStream, KernelParams, Extra, true, false);
}

CUSHIM_EXPORT CUresult cuLaunchCooperativeKernel(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                                 unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                                 unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                                 void **KernelParams) {
  return launchClassic("cuLaunchCooperativeKernel", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY,
                       BlockDimZ, SharedMemBytes, HStream, KernelParams, nullptr, false, true);
}

CUSHIM_EXPORT CUresult cuLaunchCooperativeKernel_ptsz(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                                      unsigned int GridDimZ, unsigned int BlockDimX,
                                                      unsigned int BlockDimY, unsigned int BlockDimZ,
                                                      unsigned int SharedMemBytes, CUstream HStream,
                                                      void **KernelParams) {
  return launchClassic("cuLaunchCooperativeKernel_ptsz", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY,
                       BlockDimZ, SharedMemBytes, HStream, KernelParams, nullptr, true, true);
}

CUSHIM_EXPORT CUresult cuLaunchKernelEx(const CUlaunchConfig *Config, CUfunction Handle, void **KernelParams,
                                        void **Extra) {
  return launchEx("cuLaunchKernelEx", Config, Handle, KernelParams, Extra, false);
}

CUSHIM_EXPORT CUresult cuLaunchKernelEx_ptsz(const CUlaunchConfig *Config, CUfunction Handle, void **KernelParams,
                                             void **Extra) {
  return launchEx("cuLaunchKernelEx_ptsz", Config, Handle, KernelParams, Extra, true);
}

CUSHIM_EXPORT CUresult cuFuncGetAttribute(int *Pi, CUfunction_attribute Attrib, CUfunction Handle) {
  ApiTrace T("cuFuncGetAttribute");
  T.args("pi={} attrib={} hfunc={}", static_cast<void *>(Pi), static_cast<int>(Attrib), static_cast<void *>(Handle));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Pi)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuFuncGetAttribute: pi is NULL");
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuFuncGetAttribute: not a live function");
    auto V = F->attribute(Attrib);
    if (!V)
      return V.takeError();
    *Pi = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuFuncSetAttribute(CUfunction Handle, CUfunction_attribute Attrib, int Value) {
  ApiTrace T("cuFuncSetAttribute");
  T.args("hfunc={} attrib={} value={}", static_cast<void *>(Handle), static_cast<int>(Attrib), Value);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuFuncSetAttribute: not a live function");
    return F->setAttribute(Attrib, Value);
  });
}
