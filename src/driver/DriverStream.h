// How driver calls find the stream and event a handle names (shared by the stream, event and memory entry points).
#pragma once

#include "driver/DriverApi.h"

#include "core/Event.h"
#include "core/Stream.h"

#include <fmt/format.h>

namespace cushim::driver {

// A created stream is used as is (whatever the current context); 0, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD name a
// default stream of the current context. PerThread: the _ptsz/_ptds entry points, where 0 is the per-thread stream.
inline Expected<core::Stream *> driverStream(const char *Api, CUstream Handle, bool PerThread) {
  CUSHIM_TRY(requireInit());
  if (!core::isDefaultStreamHandle(Handle)) {
    if (core::Stream *S = core::lookupStream(Handle))
      return S;
    return makeError(CUDA_ERROR_INVALID_HANDLE,
                     fmt::format("{}: {} is not a live stream", Api, static_cast<void *>(Handle)));
  }
  auto Ctx = core::requireCurrentContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  return core::resolveStream(**Ctx, Handle, PerThread);
}

inline Expected<core::Event *> driverEvent(const char *Api, CUevent Handle) {
  CUSHIM_TRY(requireInit());
  if (core::Event *E = core::lookupEvent(Handle))
    return E;
  return makeError(CUDA_ERROR_INVALID_HANDLE,
                   fmt::format("{}: {} is not a live event", Api, static_cast<void *>(Handle)));
}

} // namespace cushim::driver
