// Peer access between contexts of different devices and peer copies (cuCtxEnablePeerAccess, cuMemcpyPeer ...): see
// core/PeerAccess.h. The _ptds/_ptsz variants differ in what stream 0 names, as elsewhere (DriverStream.h).
#include "driver/DriverApi.h"
#include "driver/DriverStream.h"

#include "core/PeerAccess.h"

using namespace cushim;
using namespace cushim::driver;

namespace {

Expected<core::Context *> liveContext(CUcontext Handle, const char *Api, const char *What) {
  CUSHIM_TRY(requireInit());
  if (core::Context *Ctx = core::lookupContext(Handle))
    return Ctx;
  return makeError(CUDA_ERROR_INVALID_CONTEXT,
                   fmt::format("{}: {} {} is not a live context", Api, What, static_cast<void *>(Handle)));
}

void *ptr(CUdeviceptr P) { return reinterpret_cast<void *>(static_cast<uintptr_t>(P)); }

Error copyPeer(const char *Api, CUdeviceptr Dst, CUcontext DstHandle, CUdeviceptr Src, CUcontext SrcHandle,
               size_t Bytes) {
  auto DstCtx = liveContext(DstHandle, Api, "dstContext");
  if (!DstCtx)
    return DstCtx.takeError();
  auto SrcCtx = liveContext(SrcHandle, Api, "srcContext");
  if (!SrcCtx)
    return SrcCtx.takeError();
  if (Bytes && (!Dst || !Src))
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": NULL pointer");
  core::Context *Current = core::currentContext();
  return core::copyPeer(Current ? *Current : **DstCtx, ptr(Dst), **DstCtx, ptr(Src), **SrcCtx, Bytes);
}

Error copyPeerAsync(const char *Api, CUdeviceptr Dst, CUcontext DstHandle, CUdeviceptr Src, CUcontext SrcHandle,
                    size_t Bytes, CUstream Stream, bool PerThread) {
  auto DstCtx = liveContext(DstHandle, Api, "dstContext");
  if (!DstCtx)
    return DstCtx.takeError();
  auto SrcCtx = liveContext(SrcHandle, Api, "srcContext");
  if (!SrcCtx)
    return SrcCtx.takeError();
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (Bytes == 0)
    return Error::success();
  if (!Dst || !Src)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": NULL pointer");
  return (*S)->copyAsync(ptr(Dst), ptr(Src), Bytes);
}

} // namespace

CUSHIM_EXPORT CUresult cuDeviceCanAccessPeer(int *CanAccess, CUdevice Dev, CUdevice PeerDev) {
  ApiTrace T("cuDeviceCanAccessPeer");
  T.args("canAccessPeer={} dev={} peerDev={}", static_cast<void *>(CanAccess), Dev, PeerDev);
  CUSHIM_DRIVER_BODY(T, {
    if (!CanAccess)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuDeviceCanAccessPeer: canAccessPeer is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto P = requireDevice(PeerDev);
    if (!P)
      return P.takeError();
    *CanAccess = core::canAccessPeer(**D, **P) ? 1 : 0;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetP2PAttribute(int *Value, CUdevice_P2PAttribute Attrib, CUdevice Src, CUdevice Dst) {
  ApiTrace T("cuDeviceGetP2PAttribute");
  T.args("value={} attrib={} src={} dst={}", static_cast<void *>(Value), static_cast<int>(Attrib), Src, Dst);
  CUSHIM_DRIVER_BODY(T, {
    if (!Value)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetP2PAttribute: value is NULL");
    auto S = requireDevice(Src);
    if (!S)
      return S.takeError();
    auto D = requireDevice(Dst);
    if (!D)
      return D.takeError();
    auto V = core::peerAttribute(Attrib, **S, **D);
    if (!V)
      return V.takeError();
    *Value = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxEnablePeerAccess(CUcontext PeerContext, unsigned int Flags) {
  ApiTrace T("cuCtxEnablePeerAccess");
  T.args("peerContext={} flags={}", static_cast<void *>(PeerContext), Flags);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuCtxEnablePeerAccess");
    if (!Ctx)
      return Ctx.takeError();
    if (Flags)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxEnablePeerAccess: Flags must be 0");
    auto Peer = liveContext(PeerContext, "cuCtxEnablePeerAccess", "peerContext");
    if (!Peer)
      return Peer.takeError();
    return core::enablePeerAccess(**Ctx, **Peer);
  });
}

CUSHIM_EXPORT CUresult cuCtxDisablePeerAccess(CUcontext PeerContext) {
  ApiTrace T("cuCtxDisablePeerAccess");
  T.args("peerContext={}", static_cast<void *>(PeerContext));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuCtxDisablePeerAccess");
    if (!Ctx)
      return Ctx.takeError();
    auto Peer = liveContext(PeerContext, "cuCtxDisablePeerAccess", "peerContext");
    if (!Peer)
      return Peer.takeError();
    // As for enabling: a device is never its own peer (NVIDIA's runtime passes this code on for
    // cudaDeviceDisablePeerAccess of the current device).
    if (&(*Ctx)->device() == &(*Peer)->device())
      return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("cuCtxDisablePeerAccess: both contexts are on device {}",
                                                              (*Ctx)->device().ordinal()));
    return core::disablePeerAccess(**Ctx, **Peer);
  });
}

CUSHIM_EXPORT CUresult cuMemcpyPeer(CUdeviceptr Dst, CUcontext DstContext, CUdeviceptr Src, CUcontext SrcContext,
                                    size_t Bytes) {
  ApiTrace T("cuMemcpyPeer");
  T.args("dst={:#x} dstContext={} src={:#x} srcContext={} bytes={}", Dst, static_cast<void *>(DstContext), Src,
         static_cast<void *>(SrcContext), Bytes);
  return T.done(copyPeer("cuMemcpyPeer", Dst, DstContext, Src, SrcContext, Bytes));
}

CUSHIM_EXPORT CUresult cuMemcpyPeer_ptds(CUdeviceptr Dst, CUcontext DstContext, CUdeviceptr Src, CUcontext SrcContext,
                                         size_t Bytes) {
  ApiTrace T("cuMemcpyPeer_ptds");
  T.args("dst={:#x} dstContext={} src={:#x} srcContext={} bytes={}", Dst, static_cast<void *>(DstContext), Src,
         static_cast<void *>(SrcContext), Bytes);
  return T.done(copyPeer("cuMemcpyPeer_ptds", Dst, DstContext, Src, SrcContext, Bytes));
}

CUSHIM_EXPORT CUresult cuMemcpyPeerAsync(CUdeviceptr Dst, CUcontext DstContext, CUdeviceptr Src, CUcontext SrcContext,
                                         size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyPeerAsync");
  T.args("dst={:#x} dstContext={} src={:#x} srcContext={} bytes={} stream={}", Dst, static_cast<void *>(DstContext),
         Src, static_cast<void *>(SrcContext), Bytes, static_cast<void *>(HStream));
  return T.done(copyPeerAsync("cuMemcpyPeerAsync", Dst, DstContext, Src, SrcContext, Bytes, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr Dst, CUcontext DstContext, CUdeviceptr Src,
                                              CUcontext SrcContext, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyPeerAsync_ptsz");
  T.args("dst={:#x} dstContext={} src={:#x} srcContext={} bytes={} stream={}", Dst, static_cast<void *>(DstContext),
         Src, static_cast<void *>(SrcContext), Bytes, static_cast<void *>(HStream));
  return T.done(copyPeerAsync("cuMemcpyPeerAsync_ptsz", Dst, DstContext, Src, SrcContext, Bytes, HStream, true));
}
