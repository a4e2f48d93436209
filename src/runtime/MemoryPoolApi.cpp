// Stream-ordered allocation and memory pools of the runtime API: cudaMallocAsync, cudaFreeAsync, cudaMemPool*,
// the device's default and current pools (docs/MEMORY.md).
#include "runtime/RuntimeState.h"
#include "runtime/RuntimeStream.h"

#include "core/Device.h"
#include "core/MemoryPool.h"

#include <fmt/format.h>

#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

namespace {
Expected<core::MemoryPool *> runtimePool(const char *Api, cudaMemPool_t Handle) {
  if (core::MemoryPool *P = core::lookupMemoryPool(reinterpret_cast<CUmemoryPool>(Handle)))
    return P;
  return runtimeError(cudaErrorInvalidValue, fmt::format("{}: {} is not a live memory pool", Api,
                                                          static_cast<void *>(Handle)));
}

Expected<core::Device *> runtimeDevice(const char *Api, int Ordinal) {
  auto Ctx = context(); // initialises the runtime
  if (!Ctx)
    return Ctx.takeError();
  if (core::Device *D = core::device(Ordinal))
    return D;
  return runtimeError(cudaErrorInvalidDevice, fmt::format("{}: invalid device ordinal {}", Api, Ordinal));
}

// The device a pool location names (CUDA 13's location forms); only device-located pinned pools exist here.
Expected<core::Device *> locationDevice(const char *Api, const cudaMemLocation *Location, cudaMemAllocationType Type) {
  if (!Location)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": location is NULL");
  if (Type != cudaMemAllocationTypePinned)
    return runtimeError(Type == cudaMemAllocationTypeManaged ? cudaErrorNotSupported : cudaErrorInvalidValue,
                        fmt::format("{}: allocation type {} (only pinned device pools are supported)", Api, int(Type)));
  if (Location->type != cudaMemLocationTypeDevice)
    return runtimeError(cudaErrorNotSupported,
                        fmt::format("{}: location type {} (only device-located pools are supported)", Api,
                                    int(Location->type)));
  return runtimeDevice(Api, Location->id);
}

Error mallocAsync(const char *Api, void **DevPtr, size_t Size, core::MemoryPool *Pool, cudaStream_t Stream,
                  bool PerThread) {
  if (!DevPtr)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": devPtr is NULL");
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (Size == 0) {
    *DevPtr = nullptr; // as cudaMalloc
    return Error::success();
  }
  if (!Pool)
    Pool = &core::MemoryPool::currentPool((*S)->context().device());
  auto P = Pool->allocate(**S, Size);
  if (!P) {
    if (P.error().code() == CUDA_ERROR_OUT_OF_MEMORY)
      return runtimeError(cudaErrorMemoryAllocation, P.error().message());
    return P.takeError();
  }
  *DevPtr = *P;
  return Error::success();
}

Error freeAsync(const char *Api, void *DevPtr, cudaStream_t Stream, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (!DevPtr)
    return Error::success();
  return core::MemoryPool::freeAsync(**S, DevPtr);
}
} // namespace

CUSHIM_EXPORT cudaError_t cudaMallocAsync(void **DevPtr, size_t Size, cudaStream_t Stream) {
  ApiTrace T("cudaMallocAsync");
  T.args("devPtr={} size={} stream={}", static_cast<void *>(DevPtr), Size, static_cast<void *>(Stream));
  return finish(T, mallocAsync("cudaMallocAsync", DevPtr, Size, nullptr, Stream, false));
}

CUSHIM_EXPORT cudaError_t cudaMallocAsync_ptsz(void **DevPtr, size_t Size, cudaStream_t Stream) {
  ApiTrace T("cudaMallocAsync_ptsz");
  T.args("devPtr={} size={} stream={}", static_cast<void *>(DevPtr), Size, static_cast<void *>(Stream));
  return finish(T, mallocAsync("cudaMallocAsync_ptsz", DevPtr, Size, nullptr, Stream, true));
}

static cudaError_t fromPool(const char *Api, void **Ptr, size_t Size, cudaMemPool_t MemPool, cudaStream_t Stream,
                            bool PerThread) {
  ApiTrace T(Api);
  T.args("ptr={} size={} memPool={} stream={}", static_cast<void *>(Ptr), Size, static_cast<void *>(MemPool),
         static_cast<void *>(Stream));
  CUSHIM_RUNTIME_BODY(T, {
    auto Pool = runtimePool(Api, MemPool);
    if (!Pool)
      return Pool.takeError();
    return mallocAsync(Api, Ptr, Size, *Pool, Stream, PerThread);
  });
}

CUSHIM_EXPORT cudaError_t cudaMallocFromPoolAsync(void **Ptr, size_t Size, cudaMemPool_t MemPool,
                                                  cudaStream_t Stream) {
  return fromPool("cudaMallocFromPoolAsync", Ptr, Size, MemPool, Stream, false);
}

CUSHIM_EXPORT cudaError_t cudaMallocFromPoolAsync_ptsz(void **Ptr, size_t Size, cudaMemPool_t MemPool,
                                                       cudaStream_t Stream) {
  return fromPool("cudaMallocFromPoolAsync_ptsz", Ptr, Size, MemPool, Stream, true);
}

CUSHIM_EXPORT cudaError_t cudaFreeAsync(void *DevPtr, cudaStream_t Stream) {
  ApiTrace T("cudaFreeAsync");
  T.args("devPtr={} stream={}", DevPtr, static_cast<void *>(Stream));
  return finish(T, freeAsync("cudaFreeAsync", DevPtr, Stream, false));
}

CUSHIM_EXPORT cudaError_t cudaFreeAsync_ptsz(void *DevPtr, cudaStream_t Stream) {
  ApiTrace T("cudaFreeAsync_ptsz");
  T.args("devPtr={} stream={}", DevPtr, static_cast<void *>(Stream));
  return finish(T, freeAsync("cudaFreeAsync_ptsz", DevPtr, Stream, true));
}

CUSHIM_EXPORT cudaError_t cudaMemPoolCreate(cudaMemPool_t *MemPool, const struct cudaMemPoolProps *PoolProps) {
  ApiTrace T("cudaMemPoolCreate");
  T.args("memPool={} poolProps={}", static_cast<void *>(MemPool), static_cast<const void *>(PoolProps));
  CUSHIM_RUNTIME_BODY(T, {
    if (!MemPool || !PoolProps)
      return runtimeError(cudaErrorInvalidValue, "cudaMemPoolCreate: NULL argument");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    CUmemPoolProps P;
    std::memset(&P, 0, sizeof(P));
    P.allocType = static_cast<CUmemAllocationType>(PoolProps->allocType);
    P.handleTypes = static_cast<CUmemAllocationHandleType>(PoolProps->handleTypes);
    P.location.type = static_cast<CUmemLocationType>(PoolProps->location.type);
    P.location.id = PoolProps->location.id;
    P.maxSize = PoolProps->maxSize;
    P.usage = PoolProps->usage;
    auto Pool = core::MemoryPool::create(P);
    if (!Pool)
      return Pool.takeError();
    *MemPool = reinterpret_cast<cudaMemPool_t>((*Pool)->handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaMemPoolDestroy(cudaMemPool_t MemPool) {
  ApiTrace T("cudaMemPoolDestroy");
  T.args("memPool={}", static_cast<void *>(MemPool));
  CUSHIM_RUNTIME_BODY(T, {
    auto Pool = runtimePool("cudaMemPoolDestroy", MemPool);
    if (!Pool)
      return Pool.takeError();
    return core::MemoryPool::destroy(*Pool);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t MemPool, enum cudaMemPoolAttr Attr, void *Value) {
  ApiTrace T("cudaMemPoolSetAttribute");
  T.args("memPool={} attr={} value={}", static_cast<void *>(MemPool), int(Attr), Value);
  CUSHIM_RUNTIME_BODY(T, {
    auto Pool = runtimePool("cudaMemPoolSetAttribute", MemPool);
    if (!Pool)
      return Pool.takeError();
    return (*Pool)->setAttribute(static_cast<CUmemPool_attribute>(Attr), Value);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemPoolGetAttribute(cudaMemPool_t MemPool, enum cudaMemPoolAttr Attr, void *Value) {
  ApiTrace T("cudaMemPoolGetAttribute");
  T.args("memPool={} attr={} value={}", static_cast<void *>(MemPool), int(Attr), Value);
  CUSHIM_RUNTIME_BODY(T, {
    auto Pool = runtimePool("cudaMemPoolGetAttribute", MemPool);
    if (!Pool)
      return Pool.takeError();
    return (*Pool)->getAttribute(static_cast<CUmemPool_attribute>(Attr), Value);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemPoolTrimTo(cudaMemPool_t MemPool, size_t MinBytesToKeep) {
  ApiTrace T("cudaMemPoolTrimTo");
  T.args("memPool={} minBytesToKeep={}", static_cast<void *>(MemPool), MinBytesToKeep);
  CUSHIM_RUNTIME_BODY(T, {
    auto Pool = runtimePool("cudaMemPoolTrimTo", MemPool);
    if (!Pool)
      return Pool.takeError();
    return (*Pool)->trimTo(MinBytesToKeep);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemPoolSetAccess(cudaMemPool_t MemPool, const struct cudaMemAccessDesc *DescList,
                                               size_t Count) {
  ApiTrace T("cudaMemPoolSetAccess");
  T.args("memPool={} descList={} count={}", static_cast<void *>(MemPool), static_cast<const void *>(DescList), Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto Pool = runtimePool("cudaMemPoolSetAccess", MemPool);
    if (!Pool)
      return Pool.takeError();
    static_assert(sizeof(cudaMemAccessDesc) == sizeof(CUmemAccessDesc));
    return (*Pool)->setAccess(reinterpret_cast<const CUmemAccessDesc *>(DescList), Count);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemPoolGetAccess(enum cudaMemAccessFlags *Flags, cudaMemPool_t MemPool,
                                               struct cudaMemLocation *Location) {
  ApiTrace T("cudaMemPoolGetAccess");
  T.args("flags={} memPool={} location={}", static_cast<void *>(Flags), static_cast<void *>(MemPool),
         static_cast<void *>(Location));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Flags || !Location)
      return runtimeError(cudaErrorInvalidValue, "cudaMemPoolGetAccess: NULL argument");
    auto Pool = runtimePool("cudaMemPoolGetAccess", MemPool);
    if (!Pool)
      return Pool.takeError();
    CUmemLocation L{static_cast<CUmemLocationType>(Location->type), Location->id};
    auto F = (*Pool)->access(L);
    if (!F)
      return F.takeError();
    *Flags = static_cast<cudaMemAccessFlags>(*F);
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t *MemPool, int Device) {
  ApiTrace T("cudaDeviceGetDefaultMemPool");
  T.args("memPool={} device={}", static_cast<void *>(MemPool), Device);
  CUSHIM_RUNTIME_BODY(T, {
    if (!MemPool)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetDefaultMemPool: memPool is NULL");
    auto D = runtimeDevice("cudaDeviceGetDefaultMemPool", Device);
    if (!D)
      return D.takeError();
    *MemPool = reinterpret_cast<cudaMemPool_t>(core::MemoryPool::defaultPool(**D).handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetMemPool(cudaMemPool_t *MemPool, int Device) {
  ApiTrace T("cudaDeviceGetMemPool");
  T.args("memPool={} device={}", static_cast<void *>(MemPool), Device);
  CUSHIM_RUNTIME_BODY(T, {
    if (!MemPool)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetMemPool: memPool is NULL");
    auto D = runtimeDevice("cudaDeviceGetMemPool", Device);
    if (!D)
      return D.takeError();
    *MemPool = reinterpret_cast<cudaMemPool_t>(core::MemoryPool::currentPool(**D).handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceSetMemPool(int Device, cudaMemPool_t MemPool) {
  ApiTrace T("cudaDeviceSetMemPool");
  T.args("device={} memPool={}", Device, static_cast<void *>(MemPool));
  CUSHIM_RUNTIME_BODY(T, {
    auto D = runtimeDevice("cudaDeviceSetMemPool", Device);
    if (!D)
      return D.takeError();
    auto Pool = runtimePool("cudaDeviceSetMemPool", MemPool);
    if (!Pool)
      return Pool.takeError();
    return core::MemoryPool::setCurrentPool(**D, *Pool);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemGetDefaultMemPool(cudaMemPool_t *MemPool, struct cudaMemLocation *Location,
                                                   enum cudaMemAllocationType Type) {
  ApiTrace T("cudaMemGetDefaultMemPool");
  T.args("memPool={} location={} type={}", static_cast<void *>(MemPool), static_cast<void *>(Location), int(Type));
  CUSHIM_RUNTIME_BODY(T, {
    if (!MemPool)
      return runtimeError(cudaErrorInvalidValue, "cudaMemGetDefaultMemPool: memPool is NULL");
    auto D = locationDevice("cudaMemGetDefaultMemPool", Location, Type);
    if (!D)
      return D.takeError();
    *MemPool = reinterpret_cast<cudaMemPool_t>(core::MemoryPool::defaultPool(**D).handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaMemGetMemPool(cudaMemPool_t *MemPool, struct cudaMemLocation *Location,
                                            enum cudaMemAllocationType Type) {
  ApiTrace T("cudaMemGetMemPool");
  T.args("memPool={} location={} type={}", static_cast<void *>(MemPool), static_cast<void *>(Location), int(Type));
  CUSHIM_RUNTIME_BODY(T, {
    if (!MemPool)
      return runtimeError(cudaErrorInvalidValue, "cudaMemGetMemPool: memPool is NULL");
    auto D = locationDevice("cudaMemGetMemPool", Location, Type);
    if (!D)
      return D.takeError();
    *MemPool = reinterpret_cast<cudaMemPool_t>(core::MemoryPool::currentPool(**D).handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaMemSetMemPool(struct cudaMemLocation *Location, enum cudaMemAllocationType Type,
                                            cudaMemPool_t MemPool) {
  ApiTrace T("cudaMemSetMemPool");
  T.args("location={} type={} memPool={}", static_cast<void *>(Location), int(Type), static_cast<void *>(MemPool));
  CUSHIM_RUNTIME_BODY(T, {
    auto D = locationDevice("cudaMemSetMemPool", Location, Type);
    if (!D)
      return D.takeError();
    auto Pool = runtimePool("cudaMemSetMemPool", MemPool);
    if (!Pool)
      return Pool.takeError();
    return core::MemoryPool::setCurrentPool(**D, *Pool);
  });
}
