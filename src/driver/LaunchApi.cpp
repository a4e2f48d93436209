// Kernel launches and function attributes (cuLaunchKernel and its per-thread-stream variant, cuFuncGetAttribute,
// cuFuncSetAttribute).
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"
#include "core/Stream.h"

using namespace cushim;
using namespace cushim::driver;

namespace {
// The stream of a launch: created streams are used as they are, the default stream handles name one of the function's
// context (PerThread: the _ptsz entry point, where 0 is the calling thread's stream).
Expected<core::Stream *> launchStream(core::Function &F, CUstream HStream, bool PerThread) {
  return core::resolveStream(F.module().context(), HStream, PerThread);
}

CUresult launch(const char *Api, CUfunction Handle, unsigned GridDimX, unsigned GridDimY, unsigned GridDimZ,
                unsigned BlockDimX, unsigned BlockDimY, unsigned BlockDimZ, unsigned SharedMemBytes, CUstream HStream,
                void **KernelParams, void **Extra, bool PerThread) {
  ApiTrace T(Api);
  T.args("f={} grid=({},{},{}) block=({},{},{}) shared={} stream={} kernelParams={} extra={}",
         static_cast<void *>(Handle), GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ, SharedMemBytes,
         static_cast<void *>(HStream), static_cast<void *>(KernelParams), static_cast<void *>(Extra));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, std::string(Api) + ": not a live function");
    auto S = launchStream(*F, HStream, PerThread);
    if (!S)
      return S.takeError();
    core::LaunchConfig C;
    C.Grid[0] = GridDimX, C.Grid[1] = GridDimY, C.Grid[2] = GridDimZ;
    C.Block[0] = BlockDimX, C.Block[1] = BlockDimY, C.Block[2] = BlockDimZ;
    C.DynamicShared = SharedMemBytes;
    if (Error E = core::checkLaunchDims(*F, C); E.isError())
      return isRuntimeLaunch(*F) ? Error(RuntimeInvalidConfiguration, E.message()) : std::move(E);
    return core::launchKernel(*F, C, **S, KernelParams, Extra);
  });
}
} // namespace

CUSHIM_EXPORT CUresult cuLaunchKernel(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                      unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                      unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                      void **KernelParams, void **Extra) {
  return launch("cuLaunchKernel", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ,
                SharedMemBytes, HStream, KernelParams, Extra, false);
}

CUSHIM_EXPORT CUresult cuLaunchKernel_ptsz(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                           unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                           unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                           void **KernelParams, void **Extra) {
  return launch("cuLaunchKernel_ptsz", Handle, GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ,
                SharedMemBytes, HStream, KernelParams, Extra, true);
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
