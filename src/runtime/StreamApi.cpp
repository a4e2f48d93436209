// Streams of the runtime API: creation, destruction, queries, synchronisation, waits on events, host callbacks,
// and the _ptsz entry points that `--default-stream per-thread` programs call (0 then names the per-thread stream).
#include "runtime/RuntimeStream.h"

#include "core/Device.h"
#include "support/ErrorTables.h"

using namespace cushim;
using namespace cushim::runtime;

namespace {

Error createStream(const char *Api, cudaStream_t *Stream, unsigned Flags, int Priority) {
  if (!Stream)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": pStream is NULL");
  if (Flags & ~unsigned(cudaStreamNonBlocking))
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{}: flags {:#x} (only cudaStreamNonBlocking is defined)", Api, Flags));
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  auto S = core::Stream::create(**Ctx, Flags, Priority);
  if (!S)
    return S.takeError();
  *Stream = reinterpret_cast<cudaStream_t>((*S)->handle());
  return Error::success();
}

Error streamQuery(const char *Api, cudaStream_t Stream, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->query();
}

Error streamSynchronize(const char *Api, cudaStream_t Stream, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->synchronize();
}

Error streamWaitEvent(const char *Api, cudaStream_t Stream, cudaEvent_t Event, unsigned Flags, bool PerThread) {
  if (Flags & ~unsigned(cudaEventWaitExternal))
    return runtimeError(cudaErrorInvalidValue, fmt::format("{}: flags {:#x} are not defined", Api, Flags));
  auto E = runtimeEvent(Api, Event);
  if (!E)
    return E.takeError();
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->wait(**E, Flags); // cudaEventWaitExternal: an event-wait node when capturing
}

Error streamAddCallback(const char *Api, cudaStream_t Stream, cudaStreamCallback_t Callback, void *UserData,
                        unsigned Flags, bool PerThread) {
  if (!Callback)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": callback is NULL");
  if (Flags != 0)
    return runtimeError(cudaErrorInvalidValue, fmt::format("{}: flags must be 0, got {:#x}", Api, Flags));
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  // The callback receives the handle the application passed and the status of the stream's earlier work.
  return (*S)->callback([Stream, Callback, UserData](CUresult Status) {
    Callback(Stream, Status == CUDA_SUCCESS ? cudaSuccess : runtimeErrorFromDriver(Status), UserData);
  });
}

Error launchHostFunc(const char *Api, cudaStream_t Stream, cudaHostFn_t Fn, void *UserData, bool PerThread) {
  if (!Fn)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": fn is NULL");
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return (*S)->hostFunction(Fn, UserData);
}

template <typename T> Error outParam(const char *Api, T *Out, const char *Name) {
  if (!Out)
    return runtimeError(cudaErrorInvalidValue, fmt::format("{}: {} is NULL", Api, Name));
  return Error::success();
}

Error streamGetPriority(const char *Api, cudaStream_t Stream, int *Priority, bool PerThread) {
  CUSHIM_TRY(outParam(Api, Priority, "priority"));
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Priority = (*S)->priority();
  return Error::success();
}

Error streamGetFlags(const char *Api, cudaStream_t Stream, unsigned *Flags, bool PerThread) {
  CUSHIM_TRY(outParam(Api, Flags, "flags"));
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Flags = (*S)->flags();
  return Error::success();
}

Error streamGetId(const char *Api, cudaStream_t Stream, unsigned long long *Id, bool PerThread) {
  CUSHIM_TRY(outParam(Api, Id, "streamId"));
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Id = (*S)->id();
  return Error::success();
}

Error streamGetDevice(const char *Api, cudaStream_t Stream, int *Device, bool PerThread) {
  CUSHIM_TRY(outParam(Api, Device, "device"));
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Device = (*S)->context().device().ordinal();
  return Error::success();
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaStreamCreate(cudaStream_t *Stream) {
  ApiTrace T("cudaStreamCreate");
  T.args("pStream={}", static_cast<void *>(Stream));
  return finish(T, createStream("cudaStreamCreate", Stream, cudaStreamDefault, 0));
}

CUSHIM_EXPORT cudaError_t cudaStreamCreateWithFlags(cudaStream_t *Stream, unsigned int Flags) {
  ApiTrace T("cudaStreamCreateWithFlags");
  T.args("pStream={} flags={:#x}", static_cast<void *>(Stream), Flags);
  return finish(T, createStream("cudaStreamCreateWithFlags", Stream, Flags, 0));
}

CUSHIM_EXPORT cudaError_t cudaStreamCreateWithPriority(cudaStream_t *Stream, unsigned int Flags, int Priority) {
  ApiTrace T("cudaStreamCreateWithPriority");
  T.args("pStream={} flags={:#x} priority={}", static_cast<void *>(Stream), Flags, Priority);
  return finish(T, createStream("cudaStreamCreateWithPriority", Stream, Flags, Priority));
}

CUSHIM_EXPORT cudaError_t cudaStreamDestroy(cudaStream_t Stream) {
  ApiTrace T("cudaStreamDestroy");
  T.args("stream={}", static_cast<void *>(Stream));
  CUSHIM_RUNTIME_BODY(T, {
    core::Stream *S = core::lookupStream(reinterpret_cast<CUstream>(Stream));
    if (!S || S->kind() == core::Stream::Kind::PerThread)
      return runtimeError(cudaErrorInvalidResourceHandle,
                          fmt::format("cudaStreamDestroy: {} is not a stream created by cudaStreamCreate",
                                      static_cast<void *>(Stream)));
    return core::Stream::destroy(S);
  });
}

CUSHIM_EXPORT cudaError_t cudaStreamQuery(cudaStream_t Stream) {
  ApiTrace T("cudaStreamQuery");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T, streamQuery("cudaStreamQuery", Stream, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamQuery_ptsz(cudaStream_t Stream) {
  ApiTrace T("cudaStreamQuery_ptsz");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T, streamQuery("cudaStreamQuery_ptsz", Stream, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamSynchronize(cudaStream_t Stream) {
  ApiTrace T("cudaStreamSynchronize");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T, streamSynchronize("cudaStreamSynchronize", Stream, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamSynchronize_ptsz(cudaStream_t Stream) {
  ApiTrace T("cudaStreamSynchronize_ptsz");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T, streamSynchronize("cudaStreamSynchronize_ptsz", Stream, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamWaitEvent(cudaStream_t Stream, cudaEvent_t Event, unsigned int Flags) {
  ApiTrace T("cudaStreamWaitEvent");
  T.args("stream={} event={} flags={:#x}", static_cast<void *>(Stream), static_cast<void *>(Event), Flags);
  return finish(T, streamWaitEvent("cudaStreamWaitEvent", Stream, Event, Flags, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamWaitEvent_ptsz(cudaStream_t Stream, cudaEvent_t Event, unsigned int Flags) {
  ApiTrace T("cudaStreamWaitEvent_ptsz");
  T.args("stream={} event={} flags={:#x}", static_cast<void *>(Stream), static_cast<void *>(Event), Flags);
  return finish(T, streamWaitEvent("cudaStreamWaitEvent_ptsz", Stream, Event, Flags, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamAddCallback(cudaStream_t Stream, cudaStreamCallback_t Callback, void *UserData,
                                                unsigned int Flags) {
  ApiTrace T("cudaStreamAddCallback");
  T.args("stream={} callback={} userData={} flags={:#x}", static_cast<void *>(Stream),
         reinterpret_cast<void *>(Callback), UserData, Flags);
  return finish(T, streamAddCallback("cudaStreamAddCallback", Stream, Callback, UserData, Flags, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamAddCallback_ptsz(cudaStream_t Stream, cudaStreamCallback_t Callback, void *UserData,
                                                     unsigned int Flags) {
  ApiTrace T("cudaStreamAddCallback_ptsz");
  T.args("stream={} callback={} userData={} flags={:#x}", static_cast<void *>(Stream),
         reinterpret_cast<void *>(Callback), UserData, Flags);
  return finish(T, streamAddCallback("cudaStreamAddCallback_ptsz", Stream, Callback, UserData, Flags, true));
}

CUSHIM_EXPORT cudaError_t cudaLaunchHostFunc(cudaStream_t Stream, cudaHostFn_t Fn, void *UserData) {
  ApiTrace T("cudaLaunchHostFunc");
  T.args("stream={} fn={} userData={}", static_cast<void *>(Stream), reinterpret_cast<void *>(Fn), UserData);
  return finish(T, launchHostFunc("cudaLaunchHostFunc", Stream, Fn, UserData, false));
}

CUSHIM_EXPORT cudaError_t cudaLaunchHostFunc_ptsz(cudaStream_t Stream, cudaHostFn_t Fn, void *UserData) {
  ApiTrace T("cudaLaunchHostFunc_ptsz");
  T.args("stream={} fn={} userData={}", static_cast<void *>(Stream), reinterpret_cast<void *>(Fn), UserData);
  return finish(T, launchHostFunc("cudaLaunchHostFunc_ptsz", Stream, Fn, UserData, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetPriority(cudaStream_t Stream, int *Priority) {
  ApiTrace T("cudaStreamGetPriority");
  T.args("stream={} priority={}", static_cast<void *>(Stream), static_cast<void *>(Priority));
  return finish(T, streamGetPriority("cudaStreamGetPriority", Stream, Priority, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetPriority_ptsz(cudaStream_t Stream, int *Priority) {
  ApiTrace T("cudaStreamGetPriority_ptsz");
  T.args("stream={} priority={}", static_cast<void *>(Stream), static_cast<void *>(Priority));
  return finish(T, streamGetPriority("cudaStreamGetPriority_ptsz", Stream, Priority, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetFlags(cudaStream_t Stream, unsigned int *Flags) {
  ApiTrace T("cudaStreamGetFlags");
  T.args("stream={} flags={}", static_cast<void *>(Stream), static_cast<void *>(Flags));
  return finish(T, streamGetFlags("cudaStreamGetFlags", Stream, Flags, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetFlags_ptsz(cudaStream_t Stream, unsigned int *Flags) {
  ApiTrace T("cudaStreamGetFlags_ptsz");
  T.args("stream={} flags={}", static_cast<void *>(Stream), static_cast<void *>(Flags));
  return finish(T, streamGetFlags("cudaStreamGetFlags_ptsz", Stream, Flags, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetId(cudaStream_t Stream, unsigned long long *StreamId) {
  ApiTrace T("cudaStreamGetId");
  T.args("stream={} streamId={}", static_cast<void *>(Stream), static_cast<void *>(StreamId));
  return finish(T, streamGetId("cudaStreamGetId", Stream, StreamId, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetId_ptsz(cudaStream_t Stream, unsigned long long *StreamId) {
  ApiTrace T("cudaStreamGetId_ptsz");
  T.args("stream={} streamId={}", static_cast<void *>(Stream), static_cast<void *>(StreamId));
  return finish(T, streamGetId("cudaStreamGetId_ptsz", Stream, StreamId, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetDevice(cudaStream_t Stream, int *Device) {
  ApiTrace T("cudaStreamGetDevice");
  T.args("stream={} device={}", static_cast<void *>(Stream), static_cast<void *>(Device));
  return finish(T, streamGetDevice("cudaStreamGetDevice", Stream, Device, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetDevice_ptsz(cudaStream_t Stream, int *Device) {
  ApiTrace T("cudaStreamGetDevice_ptsz");
  T.args("stream={} device={}", static_cast<void *>(Stream), static_cast<void *>(Device));
  return finish(T, streamGetDevice("cudaStreamGetDevice_ptsz", Stream, Device, true));
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetStreamPriorityRange(int *LeastPriority, int *GreatestPriority) {
  ApiTrace T("cudaDeviceGetStreamPriorityRange");
  T.args("leastPriority={} greatestPriority={}", static_cast<void *>(LeastPriority),
         static_cast<void *>(GreatestPriority));
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context(); // initialises the runtime, as CUDA's does
    if (!Ctx)
      return Ctx.takeError();
    if (LeastPriority)
      *LeastPriority = core::LeastStreamPriority;
    if (GreatestPriority)
      *GreatestPriority = core::GreatestStreamPriority;
    return Error::success();
  });
}
