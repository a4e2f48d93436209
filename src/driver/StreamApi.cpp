// Streams of the driver API: creation, destruction, queries, synchronisation, waits on events, host callbacks and
// the _ptsz entry points (CU_STREAM_PER_THREAD semantics for handle 0), over core::Stream (docs/STREAMS.md).
#include "driver/DriverStream.h"

using namespace cushim;
using namespace cushim::driver;

namespace {

Error createStream(const char *Api, CUstream *Stream, unsigned Flags, int Priority) {
  CUSHIM_TRY(requireInit());
  if (!Stream)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": phStream is NULL");
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  auto S = core::Stream::create(**Ctx, Flags, Priority);
  if (!S)
    return S.takeError();
  *Stream = (*S)->handle();
  return Error::success();
}

Error destroyStream(const char *Api, CUstream Stream) {
  CUSHIM_TRY(requireInit());
  core::Stream *S = core::lookupStream(Stream);
  if (!S || S->kind() == core::Stream::Kind::PerThread)
    return makeError(CUDA_ERROR_INVALID_HANDLE,
                     fmt::format("{}: {} is not a stream created by cuStreamCreate", Api, static_cast<void *>(Stream)));
  return core::Stream::destroy(S);
}

Error streamQuery(const char *Api, CUstream Stream, bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->query();
}

Error streamSynchronize(const char *Api, CUstream Stream, bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->synchronize();
}

Error streamWaitEvent(const char *Api, CUstream Stream, CUevent Event, unsigned Flags, bool PerThread) {
  if (Flags & ~unsigned(CU_EVENT_WAIT_EXTERNAL))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: flags {:#x} are not defined", Api, Flags));
  auto E = driverEvent(Api, Event);
  if (!E)
    return E.takeError();
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->wait(**E, Flags); // cudaEventWaitExternal: an event-wait node when capturing
}

Error streamAddCallback(const char *Api, CUstream Stream, CUstreamCallback Callback, void *UserData, unsigned Flags,
                        bool PerThread) {
  if (!Callback)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": callback is NULL");
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: flags must be 0, got {:#x}", Api, Flags));
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  // The callback receives the handle the application passed and the status of the stream's earlier work.
  return (*S)->callback([Stream, Callback, UserData](CUresult Status) { Callback(Stream, Status, UserData); });
}

Error launchHostFunc(const char *Api, CUstream Stream, CUhostFn Fn, void *UserData, bool PerThread) {
  if (!Fn)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": fn is NULL");
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->hostFunction(Fn, UserData);
}

// The stream a getter reads, after checking its output pointer.
Expected<core::Stream *> getterStream(const char *Api, CUstream Stream, const void *Out, bool PerThread) {
  if (!Out)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": output pointer is NULL");
  return driverStream(Api, Stream, PerThread);
}

Error streamGetPriority(const char *Api, CUstream Stream, int *Priority, bool PerThread) {
  auto S = getterStream(Api, Stream, Priority, PerThread);
  if (!S)
    return S.takeError();
  *Priority = (*S)->priority();
  return Error::success();
}

Error streamGetFlags(const char *Api, CUstream Stream, unsigned *Flags, bool PerThread) {
  auto S = getterStream(Api, Stream, Flags, PerThread);
  if (!S)
    return S.takeError();
  *Flags = (*S)->flags();
  return Error::success();
}

Error streamGetId(const char *Api, CUstream Stream, unsigned long long *Id, bool PerThread) {
  auto S = getterStream(Api, Stream, Id, PerThread);
  if (!S)
    return S.takeError();
  *Id = (*S)->id();
  return Error::success();
}

Error streamGetDevice(const char *Api, CUstream Stream, CUdevice *Device, bool PerThread) {
  auto S = getterStream(Api, Stream, Device, PerThread);
  if (!S)
    return S.takeError();
  *Device = (*S)->context().device().ordinal();
  return Error::success();
}

Error streamGetCtx(const char *Api, CUstream Stream, CUcontext *Ctx, CUgreenCtx *GreenCtx, bool PerThread) {
  auto S = getterStream(Api, Stream, Ctx, PerThread);
  if (!S)
    return S.takeError();
  *Ctx = (*S)->context().handle();
  if (GreenCtx)
    *GreenCtx = nullptr; // green contexts do not exist here
  return Error::success();
}

} // namespace

CUSHIM_EXPORT CUresult cuStreamCreate(CUstream *PhStream, unsigned int Flags) {
  ApiTrace T("cuStreamCreate");
  T.args("phStream={} flags={:#x}", static_cast<void *>(PhStream), Flags);
  return T.done(createStream("cuStreamCreate", PhStream, Flags, 0));
}

CUSHIM_EXPORT CUresult cuStreamCreateWithPriority(CUstream *PhStream, unsigned int Flags, int Priority) {
  ApiTrace T("cuStreamCreateWithPriority");
  T.args("phStream={} flags={:#x} priority={}", static_cast<void *>(PhStream), Flags, Priority);
  return T.done(createStream("cuStreamCreateWithPriority", PhStream, Flags, Priority));
}

CUSHIM_EXPORT CUresult cuStreamDestroy(CUstream HStream) {
  ApiTrace T("cuStreamDestroy");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(destroyStream("cuStreamDestroy", HStream));
}

CUSHIM_EXPORT CUresult cuStreamDestroy_v2(CUstream HStream) {
  ApiTrace T("cuStreamDestroy_v2");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(destroyStream("cuStreamDestroy_v2", HStream));
}

CUSHIM_EXPORT CUresult cuCtxGetStreamPriorityRange(int *LeastPriority, int *GreatestPriority) {
  ApiTrace T("cuCtxGetStreamPriorityRange");
  T.args("leastPriority={} greatestPriority={}", static_cast<void *>(LeastPriority),
         static_cast<void *>(GreatestPriority));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuCtxGetStreamPriorityRange");
    if (!Ctx)
      return Ctx.takeError();
    if (LeastPriority)
      *LeastPriority = core::LeastStreamPriority;
    if (GreatestPriority)
      *GreatestPriority = core::GreatestStreamPriority;
    return Error::success();
  });
}

// ---- Entry points taking a stream, each with its _ptsz twin ------------------------------------------------------

CUSHIM_EXPORT CUresult cuStreamQuery(CUstream HStream) {
  ApiTrace T("cuStreamQuery");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(streamQuery("cuStreamQuery", HStream, false));
}

CUSHIM_EXPORT CUresult cuStreamQuery_ptsz(CUstream HStream) {
  ApiTrace T("cuStreamQuery_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(streamQuery("cuStreamQuery_ptsz", HStream, true));
}

CUSHIM_EXPORT CUresult cuStreamSynchronize(CUstream HStream) {
  ApiTrace T("cuStreamSynchronize");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(streamSynchronize("cuStreamSynchronize", HStream, false));
}

CUSHIM_EXPORT CUresult cuStreamSynchronize_ptsz(CUstream HStream) {
  ApiTrace T("cuStreamSynchronize_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(streamSynchronize("cuStreamSynchronize_ptsz", HStream, true));
}

CUSHIM_EXPORT CUresult cuStreamWaitEvent(CUstream HStream, CUevent HEvent, unsigned int Flags) {
  ApiTrace T("cuStreamWaitEvent");
  T.args("stream={} event={} flags={:#x}", static_cast<void *>(HStream), static_cast<void *>(HEvent), Flags);
  return T.done(streamWaitEvent("cuStreamWaitEvent", HStream, HEvent, Flags, false));
}

CUSHIM_EXPORT CUresult cuStreamWaitEvent_ptsz(CUstream HStream, CUevent HEvent, unsigned int Flags) {
  ApiTrace T("cuStreamWaitEvent_ptsz");
  T.args("stream={} event={} flags={:#x}", static_cast<void *>(HStream), static_cast<void *>(HEvent), Flags);
  return T.done(streamWaitEvent("cuStreamWaitEvent_ptsz", HStream, HEvent, Flags, true));
}

CUSHIM_EXPORT CUresult cuStreamAddCallback(CUstream HStream, CUstreamCallback Callback, void *UserData,
                                           unsigned int Flags) {
  ApiTrace T("cuStreamAddCallback");
  T.args("stream={} callback={} userData={} flags={:#x}", static_cast<void *>(HStream),
         reinterpret_cast<void *>(Callback), UserData, Flags);
  return T.done(streamAddCallback("cuStreamAddCallback", HStream, Callback, UserData, Flags, false));
}

CUSHIM_EXPORT CUresult cuStreamAddCallback_ptsz(CUstream HStream, CUstreamCallback Callback, void *UserData,
                                                unsigned int Flags) {
  ApiTrace T("cuStreamAddCallback_ptsz");
  T.args("stream={} callback={} userData={} flags={:#x}", static_cast<void *>(HStream),
         reinterpret_cast<void *>(Callback), UserData, Flags);
  return T.done(streamAddCallback("cuStreamAddCallback_ptsz", HStream, Callback, UserData, Flags, true));
}

CUSHIM_EXPORT CUresult cuLaunchHostFunc(CUstream HStream, CUhostFn Fn, void *UserData) {
  ApiTrace T("cuLaunchHostFunc");
  T.args("stream={} fn={} userData={}", static_cast<void *>(HStream), reinterpret_cast<void *>(Fn), UserData);
  return T.done(launchHostFunc("cuLaunchHostFunc", HStream, Fn, UserData, false));
}

CUSHIM_EXPORT CUresult cuLaunchHostFunc_ptsz(CUstream HStream, CUhostFn Fn, void *UserData) {
  ApiTrace T("cuLaunchHostFunc_ptsz");
  T.args("stream={} fn={} userData={}", static_cast<void *>(HStream), reinterpret_cast<void *>(Fn), UserData);
  return T.done(launchHostFunc("cuLaunchHostFunc_ptsz", HStream, Fn, UserData, true));
}

CUSHIM_EXPORT CUresult cuStreamGetPriority(CUstream HStream, int *Priority) {
  ApiTrace T("cuStreamGetPriority");
  T.args("stream={} priority={}", static_cast<void *>(HStream), static_cast<void *>(Priority));
  return T.done(streamGetPriority("cuStreamGetPriority", HStream, Priority, false));
}

CUSHIM_EXPORT CUresult cuStreamGetPriority_ptsz(CUstream HStream, int *Priority) {
  ApiTrace T("cuStreamGetPriority_ptsz");
  T.args("stream={} priority={}", static_cast<void *>(HStream), static_cast<void *>(Priority));
  return T.done(streamGetPriority("cuStreamGetPriority_ptsz", HStream, Priority, true));
}

CUSHIM_EXPORT CUresult cuStreamGetFlags(CUstream HStream, unsigned int *Flags) {
  ApiTrace T("cuStreamGetFlags");
  T.args("stream={} flags={}", static_cast<void *>(HStream), static_cast<void *>(Flags));
  return T.done(streamGetFlags("cuStreamGetFlags", HStream, Flags, false));
}

CUSHIM_EXPORT CUresult cuStreamGetFlags_ptsz(CUstream HStream, unsigned int *Flags) {
  ApiTrace T("cuStreamGetFlags_ptsz");
  T.args("stream={} flags={}", static_cast<void *>(HStream), static_cast<void *>(Flags));
  return T.done(streamGetFlags("cuStreamGetFlags_ptsz", HStream, Flags, true));
}

CUSHIM_EXPORT CUresult cuStreamGetId(CUstream HStream, unsigned long long *StreamId) {
  ApiTrace T("cuStreamGetId");
  T.args("stream={} streamId={}", static_cast<void *>(HStream), static_cast<void *>(StreamId));
  return T.done(streamGetId("cuStreamGetId", HStream, StreamId, false));
}

CUSHIM_EXPORT CUresult cuStreamGetId_ptsz(CUstream HStream, unsigned long long *StreamId) {
  ApiTrace T("cuStreamGetId_ptsz");
  T.args("stream={} streamId={}", static_cast<void *>(HStream), static_cast<void *>(StreamId));
  return T.done(streamGetId("cuStreamGetId_ptsz", HStream, StreamId, true));
}

CUSHIM_EXPORT CUresult cuStreamGetDevice(CUstream HStream, CUdevice *Device) {
  ApiTrace T("cuStreamGetDevice");
  T.args("stream={} device={}", static_cast<void *>(HStream), static_cast<void *>(Device));
  return T.done(streamGetDevice("cuStreamGetDevice", HStream, Device, false));
}

CUSHIM_EXPORT CUresult cuStreamGetDevice_ptsz(CUstream HStream, CUdevice *Device) {
  ApiTrace T("cuStreamGetDevice_ptsz");
  T.args("stream={} device={}", static_cast<void *>(HStream), static_cast<void *>(Device));
  return T.done(streamGetDevice("cuStreamGetDevice_ptsz", HStream, Device, true));
}

CUSHIM_EXPORT CUresult cuStreamGetCtx(CUstream HStream, CUcontext *Pctx) {
  ApiTrace T("cuStreamGetCtx");
  T.args("stream={} pctx={}", static_cast<void *>(HStream), static_cast<void *>(Pctx));
  return T.done(streamGetCtx("cuStreamGetCtx", HStream, Pctx, nullptr, false));
}

CUSHIM_EXPORT CUresult cuStreamGetCtx_ptsz(CUstream HStream, CUcontext *Pctx) {
  ApiTrace T("cuStreamGetCtx_ptsz");
  T.args("stream={} pctx={}", static_cast<void *>(HStream), static_cast<void *>(Pctx));
  return T.done(streamGetCtx("cuStreamGetCtx_ptsz", HStream, Pctx, nullptr, true));
}

CUSHIM_EXPORT CUresult cuStreamGetCtx_v2(CUstream HStream, CUcontext *Pctx, CUgreenCtx *PGreenCtx) {
  ApiTrace T("cuStreamGetCtx_v2");
  T.args("stream={} pctx={} pGreenCtx={}", static_cast<void *>(HStream), static_cast<void *>(Pctx),
         static_cast<void *>(PGreenCtx));
  return T.done(streamGetCtx("cuStreamGetCtx_v2", HStream, Pctx, PGreenCtx, false));
}

CUSHIM_EXPORT CUresult cuStreamGetCtx_v2_ptsz(CUstream HStream, CUcontext *Pctx, CUgreenCtx *PGreenCtx) {
  ApiTrace T("cuStreamGetCtx_v2_ptsz");
  T.args("stream={} pctx={} pGreenCtx={}", static_cast<void *>(HStream), static_cast<void *>(Pctx),
         static_cast<void *>(PGreenCtx));
  return T.done(streamGetCtx("cuStreamGetCtx_v2_ptsz", HStream, Pctx, PGreenCtx, true));
}
