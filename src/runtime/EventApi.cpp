// Events of the runtime API: creation with flags, records (and the _ptsz variants), queries, waits and timing.
#include "runtime/RuntimeStream.h"

using namespace cushim;
using namespace cushim::runtime;

namespace {

Error createEvent(const char *Api, cudaEvent_t *Event, unsigned Flags) {
  if (!Event)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": event is NULL");
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  auto E = core::Event::create(**Ctx, Flags);
  if (!E)
    return E.takeError();
  *Event = reinterpret_cast<cudaEvent_t>((*E)->handle());
  return Error::success();
}

Error recordEvent(const char *Api, cudaEvent_t Event, cudaStream_t Stream, unsigned Flags, bool PerThread) {
  if (Flags & ~unsigned(cudaEventRecordExternal))
    return runtimeError(cudaErrorInvalidValue, fmt::format("{}: flags {:#x} are not defined", Api, Flags));
  auto E = runtimeEvent(Api, Event);
  if (!E)
    return E.takeError();
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (&(*S)->context() != &(*E)->context())
    return runtimeError(cudaErrorInvalidResourceHandle,
                        std::string(Api) + ": the event and the stream belong to different devices");
  return (*S)->record(**E);
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaEventCreate(cudaEvent_t *Event) {
  ApiTrace T("cudaEventCreate");
  T.args("event={}", static_cast<void *>(Event));
  return finish(T, createEvent("cudaEventCreate", Event, cudaEventDefault));
}

CUSHIM_EXPORT cudaError_t cudaEventCreateWithFlags(cudaEvent_t *Event, unsigned int Flags) {
  ApiTrace T("cudaEventCreateWithFlags");
  T.args("event={} flags={:#x}", static_cast<void *>(Event), Flags);
  return finish(T, createEvent("cudaEventCreateWithFlags", Event, Flags));
}

CUSHIM_EXPORT cudaError_t cudaEventRecord(cudaEvent_t Event, cudaStream_t Stream) {
  ApiTrace T("cudaEventRecord");
  T.args("event={} stream={}", static_cast<void *>(Event), static_cast<void *>(Stream));
  return finish(T, recordEvent("cudaEventRecord", Event, Stream, 0, false));
}

CUSHIM_EXPORT cudaError_t cudaEventRecord_ptsz(cudaEvent_t Event, cudaStream_t Stream) {
  ApiTrace T("cudaEventRecord_ptsz");
  T.args("event={} stream={}", static_cast<void *>(Event), static_cast<void *>(Stream));
  return finish(T, recordEvent("cudaEventRecord_ptsz", Event, Stream, 0, true));
}

CUSHIM_EXPORT cudaError_t cudaEventRecordWithFlags(cudaEvent_t Event, cudaStream_t Stream, unsigned int Flags) {
  ApiTrace T("cudaEventRecordWithFlags");
  T.args("event={} stream={} flags={:#x}", static_cast<void *>(Event), static_cast<void *>(Stream), Flags);
  return finish(T, recordEvent("cudaEventRecordWithFlags", Event, Stream, Flags, false));
}

CUSHIM_EXPORT cudaError_t cudaEventRecordWithFlags_ptsz(cudaEvent_t Event, cudaStream_t Stream, unsigned int Flags) {
  ApiTrace T("cudaEventRecordWithFlags_ptsz");
  T.args("event={} stream={} flags={:#x}", static_cast<void *>(Event), static_cast<void *>(Stream), Flags);
  return finish(T, recordEvent("cudaEventRecordWithFlags_ptsz", Event, Stream, Flags, true));
}

CUSHIM_EXPORT cudaError_t cudaEventQuery(cudaEvent_t Event) {
  ApiTrace T("cudaEventQuery");
  T.args("event={}", static_cast<void *>(Event));
  CUSHIM_RUNTIME_BODY(T, {
    auto E = runtimeEvent("cudaEventQuery", Event);
    if (!E)
      return E.takeError();
    return (*E)->query();
  });
}

CUSHIM_EXPORT cudaError_t cudaEventSynchronize(cudaEvent_t Event) {
  ApiTrace T("cudaEventSynchronize");
  T.args("event={}", static_cast<void *>(Event));
  CUSHIM_RUNTIME_BODY(T, {
    auto E = runtimeEvent("cudaEventSynchronize", Event);
    if (!E)
      return E.takeError();
    return (*E)->synchronize();
  });
}

CUSHIM_EXPORT cudaError_t cudaEventElapsedTime(float *Ms, cudaEvent_t Start, cudaEvent_t End) {
  ApiTrace T("cudaEventElapsedTime");
  T.args("ms={} start={} end={}", static_cast<void *>(Ms), static_cast<void *>(Start), static_cast<void *>(End));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Ms)
      return runtimeError(cudaErrorInvalidValue, "cudaEventElapsedTime: ms is NULL");
    auto S = runtimeEvent("cudaEventElapsedTime", Start);
    if (!S)
      return S.takeError();
    auto E = runtimeEvent("cudaEventElapsedTime", End);
    if (!E)
      return E.takeError();
    auto R = core::Event::elapsed(**S, **E);
    if (!R)
      return R.takeError();
    *Ms = *R;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaEventDestroy(cudaEvent_t Event) {
  ApiTrace T("cudaEventDestroy");
  T.args("event={}", static_cast<void *>(Event));
  CUSHIM_RUNTIME_BODY(T, {
    auto E = runtimeEvent("cudaEventDestroy", Event);
    if (!E)
      return E.takeError();
    return core::Event::destroy(*E);
  });
}
