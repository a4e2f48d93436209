// Kernel launches and function attributes (cuLaunchKernel, cuFuncGetAttribute, cuFuncSetAttribute).
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"
#include "core/Stream.h"

using namespace cushim;
using namespace cushim::driver;

CUSHIM_EXPORT CUresult cuLaunchKernel(CUfunction Handle, unsigned int GridDimX, unsigned int GridDimY,
                                      unsigned int GridDimZ, unsigned int BlockDimX, unsigned int BlockDimY,
                                      unsigned int BlockDimZ, unsigned int SharedMemBytes, CUstream HStream,
                                      void **KernelParams, void **Extra) {
  ApiTrace T("cuLaunchKernel");
  T.args("f={} grid=({},{},{}) block=({},{},{}) shared={} stream={} kernelParams={} extra={}",
         static_cast<void *>(Handle), GridDimX, GridDimY, GridDimZ, BlockDimX, BlockDimY, BlockDimZ, SharedMemBytes,
         static_cast<void *>(HStream), static_cast<void *>(KernelParams), static_cast<void *>(Extra));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuLaunchKernel: not a live function");
    core::Context &Ctx = F->module().context();
    auto S = core::resolveStream(Ctx, HStream);
    if (!S)
      return S.takeError();
    core::LaunchConfig C;
    C.Grid[0] = GridDimX, C.Grid[1] = GridDimY, C.Grid[2] = GridDimZ;
    C.Block[0] = BlockDimX, C.Block[1] = BlockDimY, C.Block[2] = BlockDimZ;
    C.DynamicShared = SharedMemBytes;
    return core::launchKernel(*F, C, **S, KernelParams, Extra);
  });
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
