// Streams over backend queues.
#include "core/Stream.h"

#include "core/Context.h"
#include "core/Handles.h"
#include "hal/Hal.h"

#include <fmt/format.h>

namespace cushim::core {

static HandleRegistry<Stream> &streams() {
  static auto *R = new HandleRegistry<Stream>();
  return *R;
}

Expected<Stream *> Stream::create(Context &Ctx, unsigned Flags, int Priority) {
  CUSHIM_TRY(Ctx.stickyError());
  cushim_hal_queue Queue = nullptr;
  CUSHIM_TRY(hal::check(hal::ops().queue_create(Ctx.hal(), Flags, Priority, &Queue), "queue_create"));
  auto *S = new Stream(Ctx, Queue, Flags, Priority);
  Ctx.addStream(S);
  streams().add(S);
  return S;
}

Error Stream::destroy(Stream *S) {
  streams().remove(S);
  S->Ctx.removeStream(S);
  // cuStreamDestroy returns at once; work already queued still completes (the backend drains the queue).
  Error E = hal::check(hal::ops().queue_destroy(S->Queue), "queue_destroy");
  delete S;
  return E;
}

// Errors of asynchronous work are sticky for the whole context, as a kernel fault is on CUDA.
static Error noteAsyncError(Context &Ctx, Error E) {
  if (E.isError() && E.code() != CUDA_ERROR_NOT_READY)
    Ctx.setStickyError(E);
  return E;
}

Error Stream::copy(void *Dst, const void *Src, size_t Bytes) {
  CUSHIM_TRY(Ctx.stickyError());
  return hal::check(hal::ops().enqueue_copy(Queue, Dst, Src, Bytes), "enqueue_copy");
}

Error Stream::fill(void *Dst, uint32_t Value, unsigned ElementSize, size_t Count) {
  CUSHIM_TRY(Ctx.stickyError());
  return hal::check(hal::ops().enqueue_fill(Queue, Dst, Value, ElementSize, Count), "enqueue_fill");
}

Error Stream::launch(cushim_hal_kernel Kernel, const cushim_hal_launch &Launch) {
  CUSHIM_TRY(Ctx.stickyError());
  return hal::check(hal::ops().enqueue_launch(Queue, Kernel, &Launch), "enqueue_launch");
}

Error Stream::synchronize() {
  return noteAsyncError(Ctx, hal::check(hal::ops().queue_synchronize(Queue), "queue_synchronize"));
}

Error Stream::query() {
  cushim_hal_result R = hal::ops().queue_query(Queue);
  if (R == CUDA_ERROR_NOT_READY)
    return makeError(CUDA_ERROR_NOT_READY, "");
  return noteAsyncError(Ctx, hal::check(R, "queue_query"));
}

Expected<Stream *> resolveStream(Context &Ctx, CUstream Handle) {
  if (Handle == nullptr || Handle == CU_STREAM_LEGACY || Handle == CU_STREAM_PER_THREAD)
    return &Ctx.nullStream();
  Stream *S = streams().lookup(Handle);
  if (!S)
    return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{} is not a live stream", static_cast<void *>(Handle)));
  if (&S->context() != &Ctx)
    return makeError(CUDA_ERROR_INVALID_HANDLE, "stream belongs to another context");
  return S;
}

} // namespace cushim::core
