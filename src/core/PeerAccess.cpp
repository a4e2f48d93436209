// Peer access pairs and peer copies between virtual devices.
#include "core/PeerAccess.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/Graph.h"
#include "core/Stream.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <set>

namespace cushim::core {

namespace {
struct PeerTable {
  std::mutex Mutex;
  std::map<Context *, std::set<Context *>> Enabled; // context -> the peers its work may address
};

PeerTable &peers() {
  static auto *T = new PeerTable();
  return *T;
}

// A destroyed context leaves every pair it is part of, as CUDA disables access to (and from) a destroyed context.
void forgetContext(Context &Ctx) {
  PeerTable &T = peers();
  std::lock_guard<std::mutex> G(T.Mutex);
  T.Enabled.erase(&Ctx);
  for (auto &[From, To] : T.Enabled)
    To.erase(&Ctx);
}
} // namespace

bool canAccessPeer(const Device &Dev, const Device &Peer) { return &Dev != &Peer; }

Expected<int> peerAttribute(CUdevice_P2PAttribute Attribute, const Device &Src, const Device &Dst) {
  if (!canAccessPeer(Src, Dst))
    return makeError(CUDA_ERROR_INVALID_DEVICE, "P2P attribute: source and destination are the same device");
  switch (Attribute) {
  case CU_DEVICE_P2P_ATTRIBUTE_PERFORMANCE_RANK: return 0; // the best: every link is the same memory
  case CU_DEVICE_P2P_ATTRIBUTE_ACCESS_SUPPORTED:
  case CU_DEVICE_P2P_ATTRIBUTE_NATIVE_ATOMIC_SUPPORTED:
  case CU_DEVICE_P2P_ATTRIBUTE_CUDA_ARRAY_ACCESS_SUPPORTED: return 1;
  case CU_DEVICE_P2P_ATTRIBUTE_ONLY_PARTIAL_NATIVE_ATOMIC_SUPPORTED: return 0;
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("unknown P2P attribute {}", static_cast<int>(Attribute)));
  }
}

Error enablePeerAccess(Context &Ctx, Context &Peer) {
  if (&Ctx.device() == &Peer.device())
    return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("peer access: both contexts are on device {}",
                                                            Ctx.device().ordinal()));
  addContextDestroyHook(forgetContext);
  PeerTable &T = peers();
  std::lock_guard<std::mutex> G(T.Mutex);
  if (!T.Enabled[&Ctx].insert(&Peer).second)
    return makeError(CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED,
                     fmt::format("peer access from device {} to device {} is already enabled", Ctx.device().ordinal(),
                                 Peer.device().ordinal()));
  return Error::success();
}

Error disablePeerAccess(Context &Ctx, Context &Peer) {
  PeerTable &T = peers();
  std::lock_guard<std::mutex> G(T.Mutex);
  auto It = T.Enabled.find(&Ctx);
  if (It == T.Enabled.end() || !It->second.erase(&Peer))
    return makeError(CUDA_ERROR_PEER_ACCESS_NOT_ENABLED,
                     fmt::format("peer access from device {} to device {} is not enabled", Ctx.device().ordinal(),
                                 Peer.device().ordinal()));
  return Error::success();
}

bool peerAccessEnabled(Context &Ctx, Context &Peer) {
  PeerTable &T = peers();
  std::lock_guard<std::mutex> G(T.Mutex);
  auto It = T.Enabled.find(&Ctx);
  return It != T.Enabled.end() && It->second.count(&Peer);
}

Error copyPeer(Context &Current, void *Dst, Context &DstCtx, const void *Src, Context &SrcCtx, size_t Bytes) {
  CUSHIM_TRY(captureCheckUnsafeCall("a peer copy"));
  if (Bytes == 0)
    return Error::success();
  // Waiting for the other legacy streams orders the copy after their work; waiting for the copy itself keeps later
  // work of either device from touching the buffers while it runs. Host memory underneath: one memcpy does it.
  for (Context *Other : {&SrcCtx, &Current})
    if (Other != &DstCtx)
      CUSHIM_TRY(Other->nullStream().synchronize());
  Stream &S = DstCtx.nullStream();
  CUSHIM_TRY(S.copy(Dst, Src, Bytes));
  return S.synchronize();
}

} // namespace cushim::core
