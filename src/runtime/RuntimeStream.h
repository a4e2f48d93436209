// How runtime calls find the stream and event a handle names (shared by the stream, event and memory entry points).
#pragma once

#include "runtime/RuntimeState.h"

#include "core/Event.h"
#include "core/Stream.h"

#include <fmt/format.h>

namespace cushim::runtime {

// A created stream is used as is (whatever the current device); 0, cudaStreamLegacy and cudaStreamPerThread name a
// default stream of the runtime's context. PerThread: the _ptsz/_ptds entry points, where 0 is the per-thread stream.
inline Expected<core::Stream *> runtimeStream(const char *Api, cudaStream_t Handle, bool PerThread) {
  CUstream H = reinterpret_cast<CUstream>(Handle);
  if (!core::isDefaultStreamHandle(H)) {
    if (core::Stream *S = core::lookupStream(H))
      return S;
    return runtimeError(cudaErrorInvalidResourceHandle,
                        fmt::format("{}: {} is not a live stream", Api, static_cast<void *>(Handle)));
  }
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  return core::resolveStream(**Ctx, H, PerThread);
}

inline Expected<core::Event *> runtimeEvent(const char *Api, cudaEvent_t Handle) {
  if (core::Event *E = core::lookupEvent(reinterpret_cast<CUevent>(Handle)))
    return E;
  return runtimeError(cudaErrorInvalidResourceHandle,
                      fmt::format("{}: {} is not a live event", Api, static_cast<void *>(Handle)));
}

} // namespace cushim::runtime
