// Peer access between the contexts of different devices (cuCtxEnablePeerAccess, cudaDeviceEnablePeerAccess) and peer
// copies. Every virtual device's memory is host memory, so any device can address any other's: the enabled pairs are
// kept to give CUDA's answers (already enabled, not enabled), not to gate access.
#pragma once

#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <cstddef>

namespace cushim::core {

class Context;
class Device;
class Stream;

// cuDeviceCanAccessPeer: true for two distinct devices.
CUSHIM_API bool canAccessPeer(const Device &Dev, const Device &Peer);

// cuDeviceGetP2PAttribute between two distinct devices (CUDA_ERROR_INVALID_DEVICE for one device twice): the link
// is the host's memory, so access, atomics and arrays all work natively.
CUSHIM_API Expected<int> peerAttribute(CUdevice_P2PAttribute Attribute, const Device &Src, const Device &Dst);

// Lets Ctx's work address Peer's memory. CUDA_ERROR_INVALID_DEVICE for two contexts of one device,
// CUDA_ERROR_PEER_ACCESS_ALREADY_ENABLED for a repeat. The pair is forgotten when either context is destroyed.
CUSHIM_API Error enablePeerAccess(Context &Ctx, Context &Peer);
// CUDA_ERROR_PEER_ACCESS_NOT_ENABLED unless enablePeerAccess(Ctx, Peer) succeeded before.
CUSHIM_API Error disablePeerAccess(Context &Ctx, Context &Peer);
CUSHIM_API bool peerAccessEnabled(Context &Ctx, Context &Peer);

// cuMemcpyPeer / cudaMemcpyPeer: ordered after the work already queued on the legacy streams of both contexts (and
// Current's, the caller's context) and before any work queued after it returns. Refused during stream capture.
CUSHIM_API Error copyPeer(Context &Current, void *Dst, Context &DstCtx, const void *Src, Context &SrcCtx,
                          size_t Bytes);

} // namespace cushim::core
