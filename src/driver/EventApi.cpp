// Events of the driver API: creation with flags, records (and their _ptsz twins), queries, waits, timing and
// destruction, over core::Event.
#include "driver/DriverStream.h"

using namespace cushim;
using namespace cushim::driver;

namespace {

Error recordEvent(const char *Api, CUevent Event, CUstream Stream, unsigned Flags, bool PerThread) {
  if (Flags & ~unsigned(CU_EVENT_RECORD_EXTERNAL))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: flags {:#x} are not defined", Api, Flags));
  auto E = driverEvent(Api, Event);
  if (!E)
    return E.takeError();
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (&(*S)->context() != &(*E)->context())
    return makeError(CUDA_ERROR_INVALID_HANDLE, std::string(Api) + ": the event and the stream belong to different "
                                                                   "contexts");
  return (*S)->record(**E);
}

Error elapsedTime(const char *Api, float *Ms, CUevent Start, CUevent End) {
  CUSHIM_TRY(requireInit());
  if (!Ms)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": pMilliseconds is NULL");
  auto S = driverEvent(Api, Start);
  if (!S)
    return S.takeError();
  auto E = driverEvent(Api, End);
  if (!E)
    return E.takeError();
  auto R = core::Event::elapsed(**S, **E);
  if (!R)
    return R.takeError();
  *Ms = *R;
  return Error::success();
}

Error destroyEvent(const char *Api, CUevent Event) {
  auto E = driverEvent(Api, Event);
  if (!E)
    return E.takeError();
  return core::Event::destroy(*E);
}

} // namespace

CUSHIM_EXPORT CUresult cuEventCreate(CUevent *PhEvent, unsigned int Flags) {
  ApiTrace T("cuEventCreate");
  T.args("phEvent={} flags={:#x}", static_cast<void *>(PhEvent), Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!PhEvent)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuEventCreate: phEvent is NULL");
    auto Ctx = requireContext("cuEventCreate");
    if (!Ctx)
      return Ctx.takeError();
    auto E = core::Event::create(**Ctx, Flags);
    if (!E)
      return E.takeError();
    *PhEvent = (*E)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuEventRecord(CUevent HEvent, CUstream HStream) {
  ApiTrace T("cuEventRecord");
  T.args("event={} stream={}", static_cast<void *>(HEvent), static_cast<void *>(HStream));
  return T.done(recordEvent("cuEventRecord", HEvent, HStream, 0, false));
}

CUSHIM_EXPORT CUresult cuEventRecord_ptsz(CUevent HEvent, CUstream HStream) {
  ApiTrace T("cuEventRecord_ptsz");
  T.args("event={} stream={}", static_cast<void *>(HEvent), static_cast<void *>(HStream));
  return T.done(recordEvent("cuEventRecord_ptsz", HEvent, HStream, 0, true));
}

CUSHIM_EXPORT CUresult cuEventRecordWithFlags(CUevent HEvent, CUstream HStream, unsigned int Flags) {
  ApiTrace T("cuEventRecordWithFlags");
  T.args("event={} stream={} flags={:#x}", static_cast<void *>(HEvent), static_cast<void *>(HStream), Flags);
  return T.done(recordEvent("cuEventRecordWithFlags", HEvent, HStream, Flags, false));
}

CUSHIM_EXPORT CUresult cuEventRecordWithFlags_ptsz(CUevent HEvent, CUstream HStream, unsigned int Flags) {
  ApiTrace T("cuEventRecordWithFlags_ptsz");
  T.args("event={} stream={} flags={:#x}", static_cast<void *>(HEvent), static_cast<void *>(HStream), Flags);
  return T.done(recordEvent("cuEventRecordWithFlags_ptsz", HEvent, HStream, Flags, true));
}

CUSHIM_EXPORT CUresult cuEventQuery(CUevent HEvent) {
  ApiTrace T("cuEventQuery");
  T.args("event={}", static_cast<void *>(HEvent));
  CUSHIM_DRIVER_BODY(T, {
    auto E = driverEvent("cuEventQuery", HEvent);
    if (!E)
      return E.takeError();
    return (*E)->query();
  });
}

CUSHIM_EXPORT CUresult cuEventSynchronize(CUevent HEvent) {
  ApiTrace T("cuEventSynchronize");
  T.args("event={}", static_cast<void *>(HEvent));
  CUSHIM_DRIVER_BODY(T, {
    auto E = driverEvent("cuEventSynchronize", HEvent);
    if (!E)
      return E.takeError();
    return (*E)->synchronize();
  });
}

CUSHIM_EXPORT CUresult cuEventElapsedTime(float *PMilliseconds, CUevent HStart, CUevent HEnd) {
  ApiTrace T("cuEventElapsedTime");
  T.args("pMilliseconds={} start={} end={}", static_cast<void *>(PMilliseconds), static_cast<void *>(HStart),
         static_cast<void *>(HEnd));
  return T.done(elapsedTime("cuEventElapsedTime", PMilliseconds, HStart, HEnd));
}

CUSHIM_EXPORT CUresult cuEventElapsedTime_v2(float *PMilliseconds, CUevent HStart, CUevent HEnd) {
  ApiTrace T("cuEventElapsedTime_v2");
  T.args("pMilliseconds={} start={} end={}", static_cast<void *>(PMilliseconds), static_cast<void *>(HStart),
         static_cast<void *>(HEnd));
  return T.done(elapsedTime("cuEventElapsedTime_v2", PMilliseconds, HStart, HEnd));
}

CUSHIM_EXPORT CUresult cuEventDestroy(CUevent HEvent) {
  ApiTrace T("cuEventDestroy");
  T.args("event={}", static_cast<void *>(HEvent));
  return T.done(destroyEvent("cuEventDestroy", HEvent));
}

CUSHIM_EXPORT CUresult cuEventDestroy_v2(CUevent HEvent) {
  ApiTrace T("cuEventDestroy_v2");
  T.args("event={}", static_cast<void *>(HEvent));
  return T.done(destroyEvent("cuEventDestroy_v2", HEvent));
}
