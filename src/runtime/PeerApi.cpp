// Peer access and peer copies between devices in the runtime API (core/PeerAccess.h): the current device's primary
// context gains access to the peer device's primary context.
#include "runtime/RuntimeState.h"

#include "core/Device.h"
#include "core/PeerAccess.h"

using namespace cushim;
using namespace cushim::runtime;

namespace {

// The current context and the peer device's primary context; a device is never its own peer.
Expected<std::pair<core::Context *, core::Context *>> peerPair(int PeerDevice, const char *Api) {
  auto P = runtimeDevice(PeerDevice);
  if (!P)
    return P.takeError();
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  if (&(*Ctx)->device() == *P)
    return runtimeError(cudaErrorInvalidDevice, fmt::format("{}: device {} cannot be its own peer", Api, PeerDevice));
  auto PeerCtx = primaryContext(PeerDevice);
  if (!PeerCtx)
    return PeerCtx.takeError();
  return std::make_pair(*Ctx, *PeerCtx);
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaDeviceCanAccessPeer(int *CanAccess, int Device, int PeerDevice) {
  ApiTrace T("cudaDeviceCanAccessPeer");
  T.args("canAccessPeer={} device={} peerDevice={}", static_cast<void *>(CanAccess), Device, PeerDevice);
  CUSHIM_RUNTIME_BODY(T, {
    if (!CanAccess)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceCanAccessPeer: canAccessPeer is NULL");
    auto D = runtimeDevice(Device);
    if (!D)
      return D.takeError();
    auto P = runtimeDevice(PeerDevice);
    if (!P)
      return P.takeError();
    *CanAccess = core::canAccessPeer(**D, **P) ? 1 : 0;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceEnablePeerAccess(int PeerDevice, unsigned int Flags) {
  ApiTrace T("cudaDeviceEnablePeerAccess");
  T.args("peerDevice={} flags={}", PeerDevice, Flags);
  CUSHIM_RUNTIME_BODY(T, {
    if (Flags)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceEnablePeerAccess: flags must be 0");
    auto Pair = peerPair(PeerDevice, "cudaDeviceEnablePeerAccess");
    if (!Pair)
      return Pair.takeError();
    return core::enablePeerAccess(*Pair->first, *Pair->second);
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceDisablePeerAccess(int PeerDevice) {
  ApiTrace T("cudaDeviceDisablePeerAccess");
  T.args("peerDevice={}", PeerDevice);
  CUSHIM_RUNTIME_BODY(T, {
    auto Pair = peerPair(PeerDevice, "cudaDeviceDisablePeerAccess");
    if (!Pair)
      return Pair.takeError();
    return core::disablePeerAccess(*Pair->first, *Pair->second);
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetP2PAttribute(int *Value, enum cudaDeviceP2PAttr Attr, int SrcDevice,
                                                    int DstDevice) {
  ApiTrace T("cudaDeviceGetP2PAttribute");
  T.args("value={} attr={} srcDevice={} dstDevice={}", static_cast<void *>(Value), static_cast<int>(Attr), SrcDevice,
         DstDevice);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Value)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetP2PAttribute: value is NULL");
    auto S = runtimeDevice(SrcDevice);
    if (!S)
      return S.takeError();
    auto D = runtimeDevice(DstDevice);
    if (!D)
      return D.takeError();
    // cudaDeviceP2PAttr and CUdevice_P2PAttribute share their numbering.
    auto V = core::peerAttribute(static_cast<CUdevice_P2PAttribute>(Attr), **S, **D);
    if (!V)
      return V.takeError();
    *Value = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaMemcpyPeer(void *Dst, int DstDevice, const void *Src, int SrcDevice, size_t Count) {
  ApiTrace T("cudaMemcpyPeer");
  T.args("dst={} dstDevice={} src={} srcDevice={} count={}", Dst, DstDevice, Src, SrcDevice, Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    auto DstCtx = primaryContext(DstDevice);
    if (!DstCtx)
      return DstCtx.takeError();
    auto SrcCtx = primaryContext(SrcDevice);
    if (!SrcCtx)
      return SrcCtx.takeError();
    if (Count && (!Dst || !Src))
      return runtimeError(cudaErrorInvalidValue, "cudaMemcpyPeer: dst or src is NULL");
    return core::copyPeer(**Ctx, Dst, **DstCtx, Src, **SrcCtx, Count);
  });
}

// Ordered in the given stream only, as CUDA's: a device-to-device copy between any two devices' memory.
CUSHIM_EXPORT cudaError_t cudaMemcpyPeerAsync(void *Dst, int DstDevice, const void *Src, int SrcDevice, size_t Count,
                                              cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyPeerAsync");
  T.args("dst={} dstDevice={} src={} srcDevice={} count={} stream={}", Dst, DstDevice, Src, SrcDevice, Count,
         static_cast<void *>(Stream));
  Error E = [&]() -> Error {
    auto D = runtimeDevice(DstDevice);
    if (!D)
      return D.takeError();
    auto S = runtimeDevice(SrcDevice);
    return S ? Error::success() : S.takeError();
  }();
  if (E.isError())
    return finish(T, E);
  return finish(T, cudaMemcpyAsync(Dst, Src, Count, cudaMemcpyDeviceToDevice, Stream));
}
