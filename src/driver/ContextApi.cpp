// Context management (cuCtx*).
#include "driver/DriverApi.h"

#include "core/Stream.h"

using namespace cushim;
using namespace cushim::driver;

static Error ctxCreate(CUcontext *Pctx, unsigned Flags, CUdevice Dev) {
  if (!Pctx)
    return makeError(CUDA_ERROR_INVALID_VALUE, "pctx is NULL");
  auto D = requireDevice(Dev);
  if (!D)
    return D.takeError();
  auto Ctx = core::Context::create(**D, Flags, /*IsPrimary=*/false);
  if (!Ctx)
    return Ctx.takeError();
  core::pushCurrentContext(*Ctx);
  *Pctx = (*Ctx)->handle();
  return Error::success();
}

CUSHIM_EXPORT CUresult cuCtxCreate_v4(CUcontext *Pctx, CUctxCreateParams *Params, unsigned int Flags, CUdevice Dev) {
  ApiTrace T("cuCtxCreate_v4");
  T.args("pctx={} params={} flags={:#x} dev={}", static_cast<void *>(Pctx), static_cast<void *>(Params), Flags, Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (Params && (Params->numExecAffinityParams > 0 || Params->cigParams))
      return makeError(CUDA_ERROR_NOT_SUPPORTED,
                       "cuCtxCreate: execution affinity and CIG parameters are not supported by cuda_shim");
    return ctxCreate(Pctx, Flags, Dev);
  });
}

CUSHIM_EXPORT CUresult cuCtxCreate_v2(CUcontext *Pctx, unsigned int Flags, CUdevice Dev) {
  ApiTrace T("cuCtxCreate_v2");
  T.args("pctx={} flags={:#x} dev={}", static_cast<void *>(Pctx), Flags, Dev);
  return T.done(ctxCreate(Pctx, Flags, Dev));
}

static Error ctxDestroy(CUcontext Handle) {
  CUSHIM_TRY(requireInit());
  core::Context *Ctx = core::lookupContext(Handle);
  if (!Ctx)
    return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxDestroy: not a live context");
  if (Ctx->isPrimary())
    return makeError(CUDA_ERROR_INVALID_CONTEXT,
                     "cuCtxDestroy: a primary context is released with cuDevicePrimaryCtxRelease, not destroyed");
  if (core::currentContext() == Ctx)
    core::popCurrentContext();
  return core::Context::destroy(Ctx);
}

CUSHIM_EXPORT CUresult cuCtxDestroy_v2(CUcontext Ctx) {
  ApiTrace T("cuCtxDestroy_v2");
  T.args("ctx={}", static_cast<void *>(Ctx));
  return T.done(ctxDestroy(Ctx));
}

CUSHIM_EXPORT CUresult cuCtxDestroy(CUcontext Ctx) {
  ApiTrace T("cuCtxDestroy");
  T.args("ctx={}", static_cast<void *>(Ctx));
  return T.done(ctxDestroy(Ctx));
}

CUSHIM_EXPORT CUresult cuCtxSetCurrent(CUcontext Handle) {
  ApiTrace T("cuCtxSetCurrent");
  T.args("ctx={}", static_cast<void *>(Handle));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Handle) {
      core::setCurrentContext(nullptr);
      return Error::success();
    }
    // A reset primary context is accepted: it stays current and is reactivated in place (CUDA keeps its handle).
    core::Context *Ctx = core::lookupContextHandle(Handle);
    if (!Ctx)
      return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxSetCurrent: not a live context");
    core::setCurrentContext(Ctx);
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxGetCurrent(CUcontext *Pctx) {
  ApiTrace T("cuCtxGetCurrent");
  T.args("pctx={}", static_cast<void *>(Pctx));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Pctx)
      return makeError(CUDA_ERROR_INVALID_VALUE, "pctx is NULL");
    core::Context *Ctx = core::currentContextHandle(); // a reset primary context stays current, as on CUDA
    *Pctx = Ctx ? Ctx->handle() : nullptr;
    return Error::success();
  });
}

static Error ctxPush(CUcontext Handle) {
  CUSHIM_TRY(requireInit());
  core::Context *Ctx = core::lookupContextHandle(Handle);
  if (!Ctx)
    return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxPushCurrent: not a live context");
  core::pushCurrentContext(Ctx);
  return Error::success();
}

CUSHIM_EXPORT CUresult cuCtxPushCurrent_v2(CUcontext Ctx) {
  ApiTrace T("cuCtxPushCurrent_v2");
  T.args("ctx={}", static_cast<void *>(Ctx));
  return T.done(ctxPush(Ctx));
}

CUSHIM_EXPORT CUresult cuCtxPushCurrent(CUcontext Ctx) {
  ApiTrace T("cuCtxPushCurrent");
  T.args("ctx={}", static_cast<void *>(Ctx));
  return T.done(ctxPush(Ctx));
}

static Error ctxPop(CUcontext *Pctx) {
  CUSHIM_TRY(requireInit());
  core::Context *Ctx = core::popCurrentContext();
  if (!Ctx)
    return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxPopCurrent: the context stack is empty");
  if (Pctx)
    *Pctx = Ctx->handle();
  return Error::success();
}

CUSHIM_EXPORT CUresult cuCtxPopCurrent_v2(CUcontext *Pctx) {
  ApiTrace T("cuCtxPopCurrent_v2");
  T.args("pctx={}", static_cast<void *>(Pctx));
  return T.done(ctxPop(Pctx));
}

CUSHIM_EXPORT CUresult cuCtxPopCurrent(CUcontext *Pctx) {
  ApiTrace T("cuCtxPopCurrent");
  T.args("pctx={}", static_cast<void *>(Pctx));
  return T.done(ctxPop(Pctx));
}

CUSHIM_EXPORT CUresult cuCtxGetDevice(CUdevice *Device) {
  ApiTrace T("cuCtxGetDevice");
  T.args("device={}", static_cast<void *>(Device));
  CUSHIM_DRIVER_BODY(T, {
    if (!Device)
      return makeError(CUDA_ERROR_INVALID_VALUE, "device is NULL");
    auto Ctx = requireContext("cuCtxGetDevice");
    if (!Ctx)
      return Ctx.takeError();
    *Device = (*Ctx)->device().ordinal();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxSynchronize(void) {
  ApiTrace T("cuCtxSynchronize");
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuCtxSynchronize");
    if (!Ctx)
      return Ctx.takeError();
    CUSHIM_TRY((*Ctx)->captureCheckSynchronize("cuCtxSynchronize"));
    return (*Ctx)->synchronize();
  });
}

CUSHIM_EXPORT CUresult cuCtxGetApiVersion(CUcontext Handle, unsigned int *Version) {
  ApiTrace T("cuCtxGetApiVersion");
  T.args("ctx={} version={}", static_cast<void *>(Handle), static_cast<void *>(Version));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Version)
      return makeError(CUDA_ERROR_INVALID_VALUE, "version is NULL");
    core::Context *Ctx = Handle ? core::lookupContext(Handle) : core::currentContext();
    if (!Ctx)
      return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxGetApiVersion: no such context");
    *Version = 3020; // the context API version NVIDIA's driver reports for contexts created by CUDA >= 3.2
    return Error::success();
  });
}
