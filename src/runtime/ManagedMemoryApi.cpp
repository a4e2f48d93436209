// Managed memory of the runtime API: cudaMallocManaged, prefetch, advice, stream attachment and range attributes
// (docs/MEMORY.md). __managed__ variables are registered in RegistrationApi.cpp.
#include "runtime/RuntimeState.h"
#include "runtime/RuntimeStream.h"

#include "core/Memory.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::runtime;

static CUmemLocation toDriver(const cudaMemLocation &L) {
  CUmemLocation R;
  R.type = static_cast<CUmemLocationType>(L.type);
  R.id = L.id;
  return R;
}

CUSHIM_EXPORT cudaError_t cudaMallocManaged(void **DevPtr, size_t Size, unsigned int Flags) {
  ApiTrace T("cudaMallocManaged");
  T.args("devPtr={} size={} flags={:#x}", static_cast<void *>(DevPtr), Size, Flags);
  CUSHIM_RUNTIME_BODY(T, {
    if (!DevPtr)
      return runtimeError(cudaErrorInvalidValue, "cudaMallocManaged: devPtr is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    auto P = core::allocateManaged(**Ctx, Size, Flags);
    if (!P) {
      if (P.error().code() == CUDA_ERROR_OUT_OF_MEMORY)
        return runtimeError(cudaErrorMemoryAllocation, P.error().message());
      return P.takeError();
    }
    *DevPtr = *P;
    return Error::success();
  });
}

static Error prefetch(const char *Api, const void *DevPtr, size_t Count, cudaMemLocation Location, unsigned Flags,
                      cudaStream_t Stream, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return core::prefetchManaged(**S, DevPtr, Count, toDriver(Location), Flags);
}

CUSHIM_EXPORT cudaError_t cudaMemPrefetchAsync(const void *DevPtr, size_t Count, struct cudaMemLocation Location,
                                               unsigned int Flags, cudaStream_t Stream) {
  ApiTrace T("cudaMemPrefetchAsync");
  T.args("devPtr={} count={} location=({},{}) flags={:#x} stream={}", DevPtr, Count, int(Location.type), Location.id,
         Flags, static_cast<void *>(Stream));
  return finish(T, prefetch("cudaMemPrefetchAsync", DevPtr, Count, Location, Flags, Stream, false));
}

CUSHIM_EXPORT cudaError_t cudaMemPrefetchAsync_ptsz(const void *DevPtr, size_t Count, struct cudaMemLocation Location,
                                                    unsigned int Flags, cudaStream_t Stream) {
  ApiTrace T("cudaMemPrefetchAsync_ptsz");
  T.args("devPtr={} count={} location=({},{}) flags={:#x} stream={}", DevPtr, Count, int(Location.type), Location.id,
         Flags, static_cast<void *>(Stream));
  return finish(T, prefetch("cudaMemPrefetchAsync_ptsz", DevPtr, Count, Location, Flags, Stream, true));
}

CUSHIM_EXPORT cudaError_t cudaMemAdvise(const void *DevPtr, size_t Count, enum cudaMemoryAdvise Advice,
                                        struct cudaMemLocation Location) {
  ApiTrace T("cudaMemAdvise");
  T.args("devPtr={} count={} advice={} location=({},{})", DevPtr, Count, int(Advice), int(Location.type), Location.id);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    return core::adviseManaged(DevPtr, Count, static_cast<CUmem_advise>(Advice), toDriver(Location));
  });
}

static Error attach(const char *Api, cudaStream_t Stream, void *DevPtr, size_t Length, unsigned Flags,
                    bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return core::attachManaged(**S, DevPtr, Length, Flags);
}

CUSHIM_EXPORT cudaError_t cudaStreamAttachMemAsync(cudaStream_t Stream, void *DevPtr, size_t Length,
                                                   unsigned int Flags) {
  ApiTrace T("cudaStreamAttachMemAsync");
  T.args("stream={} devPtr={} length={} flags={:#x}", static_cast<void *>(Stream), DevPtr, Length, Flags);
  return finish(T, attach("cudaStreamAttachMemAsync", Stream, DevPtr, Length, Flags, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamAttachMemAsync_ptsz(cudaStream_t Stream, void *DevPtr, size_t Length,
                                                        unsigned int Flags) {
  ApiTrace T("cudaStreamAttachMemAsync_ptsz");
  T.args("stream={} devPtr={} length={} flags={:#x}", static_cast<void *>(Stream), DevPtr, Length, Flags);
  return finish(T, attach("cudaStreamAttachMemAsync_ptsz", Stream, DevPtr, Length, Flags, true));
}

CUSHIM_EXPORT cudaError_t cudaMemRangeGetAttribute(void *Data, size_t DataSize, enum cudaMemRangeAttribute Attribute,
                                                   const void *DevPtr, size_t Count) {
  ApiTrace T("cudaMemRangeGetAttribute");
  T.args("data={} dataSize={} attribute={} devPtr={} count={}", Data, DataSize, int(Attribute), DevPtr, Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    return core::managedRangeAttribute(Data, DataSize, static_cast<CUmem_range_attribute>(Attribute), DevPtr, Count);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemRangeGetAttributes(void **Data, size_t *DataSizes,
                                                    enum cudaMemRangeAttribute *Attributes, size_t NumAttributes,
                                                    const void *DevPtr, size_t Count) {
  ApiTrace T("cudaMemRangeGetAttributes");
  T.args("data={} dataSizes={} attributes={} num={} devPtr={} count={}", static_cast<void *>(Data),
         static_cast<void *>(DataSizes), static_cast<void *>(Attributes), NumAttributes, DevPtr, Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!Data || !DataSizes || !Attributes || NumAttributes == 0)
      return runtimeError(cudaErrorInvalidValue, "cudaMemRangeGetAttributes: NULL array or no attributes");
    for (size_t I = 0; I < NumAttributes; ++I)
      CUSHIM_TRY(core::managedRangeAttribute(Data[I], DataSizes[I], static_cast<CUmem_range_attribute>(Attributes[I]),
                                             DevPtr, Count));
    return Error::success();
  });
}
