// Stream-ordered allocation and memory pools of the driver API: cuMemAllocAsync, cuMemFreeAsync, cuMemPool*, the
// device's default and current pools (docs/MEMORY.md).
#include "driver/DriverApi.h"
#include "driver/DriverStream.h"

#include "core/MemoryPool.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::driver;

namespace {
Expected<core::MemoryPool *> driverPool(const char *Api, CUmemoryPool Handle) {
  CUSHIM_TRY(requireInit());
  if (core::MemoryPool *P = core::lookupMemoryPool(Handle))
    return P;
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} is not a live memory pool", Api,
                                                         static_cast<void *>(Handle)));
}

// The device a pool location names (CUDA 13's location forms); only device-located pinned pools exist here.
Expected<core::Device *> locationDevice(const char *Api, const CUmemLocation *Location, CUmemAllocationType Type) {
  CUSHIM_TRY(requireInit());
  if (!Location)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": location is NULL");
  if (Type != CU_MEM_ALLOCATION_TYPE_PINNED)
    return makeError(Type == CU_MEM_ALLOCATION_TYPE_MANAGED ? CUDA_ERROR_NOT_SUPPORTED : CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: allocation type {} (only pinned device pools are supported)", Api, int(Type)));
  if (Location->type != CU_MEM_LOCATION_TYPE_DEVICE)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: location type {} (only device-located pools are supported)", Api,
                                 int(Location->type)));
  return requireDevice(Location->id);
}

Error allocAsync(const char *Api, CUdeviceptr *Dptr, size_t Bytesize, core::MemoryPool *Pool, CUstream Stream,
                 bool PerThread) {
  if (!Dptr)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": dptr is NULL");
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (!Pool)
    Pool = &core::MemoryPool::currentPool((*S)->context().device());
  auto P = Pool->allocate(**S, Bytesize);
  if (!P)
    return P.takeError();
  *Dptr = reinterpret_cast<CUdeviceptr>(*P);
  return Error::success();
}

Error freeAsync(const char *Api, CUdeviceptr Dptr, CUstream Stream, bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return core::MemoryPool::freeAsync(**S, reinterpret_cast<void *>(static_cast<uintptr_t>(Dptr)));
}

Error fromPool(const char *Api, CUdeviceptr *Dptr, size_t Bytesize, CUmemoryPool Handle, CUstream Stream,
               bool PerThread) {
  auto Pool = driverPool(Api, Handle);
  if (!Pool)
    return Pool.takeError();
  return allocAsync(Api, Dptr, Bytesize, *Pool, Stream, PerThread);
}
} // namespace

CUSHIM_EXPORT CUresult cuMemAllocAsync(CUdeviceptr *Dptr, size_t Bytesize, CUstream HStream) {
  ApiTrace T("cuMemAllocAsync");
  T.args("dptr={} bytesize={} stream={}", static_cast<void *>(Dptr), Bytesize, static_cast<void *>(HStream));
  return T.done(allocAsync("cuMemAllocAsync", Dptr, Bytesize, nullptr, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemAllocAsync_ptsz(CUdeviceptr *Dptr, size_t Bytesize, CUstream HStream) {
  ApiTrace T("cuMemAllocAsync_ptsz");
  T.args("dptr={} bytesize={} stream={}", static_cast<void *>(Dptr), Bytesize, static_cast<void *>(HStream));
  return T.done(allocAsync("cuMemAllocAsync_ptsz", Dptr, Bytesize, nullptr, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemAllocFromPoolAsync(CUdeviceptr *Dptr, size_t Bytesize, CUmemoryPool Pool, CUstream HStream) {
  ApiTrace T("cuMemAllocFromPoolAsync");
  T.args("dptr={} bytesize={} pool={} stream={}", static_cast<void *>(Dptr), Bytesize, static_cast<void *>(Pool),
         static_cast<void *>(HStream));
  return T.done(fromPool("cuMemAllocFromPoolAsync", Dptr, Bytesize, Pool, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemAllocFromPoolAsync_ptsz(CUdeviceptr *Dptr, size_t Bytesize, CUmemoryPool Pool,
                                                    CUstream HStream) {
  ApiTrace T("cuMemAllocFromPoolAsync_ptsz");
  T.args("dptr={} bytesize={} pool={} stream={}", static_cast<void *>(Dptr), Bytesize, static_cast<void *>(Pool),
         static_cast<void *>(HStream));
  return T.done(fromPool("cuMemAllocFromPoolAsync_ptsz", Dptr, Bytesize, Pool, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemFreeAsync(CUdeviceptr Dptr, CUstream HStream) {
  ApiTrace T("cuMemFreeAsync");
  T.args("dptr={:#x} stream={}", Dptr, static_cast<void *>(HStream));
  return T.done(freeAsync("cuMemFreeAsync", Dptr, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemFreeAsync_ptsz(CUdeviceptr Dptr, CUstream HStream) {
  ApiTrace T("cuMemFreeAsync_ptsz");
  T.args("dptr={:#x} stream={}", Dptr, static_cast<void *>(HStream));
  return T.done(freeAsync("cuMemFreeAsync_ptsz", Dptr, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemPoolCreate(CUmemoryPool *Pool, const CUmemPoolProps *PoolProps) {
  ApiTrace T("cuMemPoolCreate");
  T.args("pool={} poolProps={}", static_cast<void *>(Pool), static_cast<const void *>(PoolProps));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Pool || !PoolProps)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolCreate: NULL argument");
    auto P = core::MemoryPool::create(*PoolProps);
    if (!P)
      return P.takeError();
    *Pool = (*P)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemPoolDestroy(CUmemoryPool Pool) {
  ApiTrace T("cuMemPoolDestroy");
  T.args("pool={}", static_cast<void *>(Pool));
  CUSHIM_DRIVER_BODY(T, {
    auto P = driverPool("cuMemPoolDestroy", Pool);
    if (!P)
      return P.takeError();
    return core::MemoryPool::destroy(*P);
  });
}

CUSHIM_EXPORT CUresult cuMemPoolSetAttribute(CUmemoryPool Pool, CUmemPool_attribute Attr, void *Value) {
  ApiTrace T("cuMemPoolSetAttribute");
  T.args("pool={} attr={} value={}", static_cast<void *>(Pool), int(Attr), Value);
  CUSHIM_DRIVER_BODY(T, {
    auto P = driverPool("cuMemPoolSetAttribute", Pool);
    if (!P)
      return P.takeError();
    return (*P)->setAttribute(Attr, Value);
  });
}

CUSHIM_EXPORT CUresult cuMemPoolGetAttribute(CUmemoryPool Pool, CUmemPool_attribute Attr, void *Value) {
  ApiTrace T("cuMemPoolGetAttribute");
  T.args("pool={} attr={} value={}", static_cast<void *>(Pool), int(Attr), Value);
  CUSHIM_DRIVER_BODY(T, {
    auto P = driverPool("cuMemPoolGetAttribute", Pool);
    if (!P)
      return P.takeError();
    return (*P)->getAttribute(Attr, Value);
  });
}

CUSHIM_EXPORT CUresult cuMemPoolTrimTo(CUmemoryPool Pool, size_t MinBytesToKeep) {
  ApiTrace T("cuMemPoolTrimTo");
  T.args("pool={} minBytesToKeep={}", static_cast<void *>(Pool), MinBytesToKeep);
  CUSHIM_DRIVER_BODY(T, {
    auto P = driverPool("cuMemPoolTrimTo", Pool);
    if (!P)
      return P.takeError();
    return (*P)->trimTo(MinBytesToKeep);
  });
}

CUSHIM_EXPORT CUresult cuMemPoolSetAccess(CUmemoryPool Pool, const CUmemAccessDesc *Map, size_t Count) {
  ApiTrace T("cuMemPoolSetAccess");
  T.args("pool={} map={} count={}", static_cast<void *>(Pool), static_cast<const void *>(Map), Count);
  CUSHIM_DRIVER_BODY(T, {
    auto P = driverPool("cuMemPoolSetAccess", Pool);
    if (!P)
      return P.takeError();
    return (*P)->setAccess(Map, Count);
  });
}

CUSHIM_EXPORT CUresult cuMemPoolGetAccess(CUmemAccess_flags *Flags, CUmemoryPool MemPool, CUmemLocation *Location) {
  ApiTrace T("cuMemPoolGetAccess");
  T.args("flags={} pool={} location={}", static_cast<void *>(Flags), static_cast<void *>(MemPool),
         static_cast<void *>(Location));
  CUSHIM_DRIVER_BODY(T, {
    auto P = driverPool("cuMemPoolGetAccess", MemPool);
    if (!P)
      return P.takeError();
    if (!Flags || !Location)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolGetAccess: NULL argument");
    auto F = (*P)->access(*Location);
    if (!F)
      return F.takeError();
    *Flags = *F;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetDefaultMemPool(CUmemoryPool *PoolOut, CUdevice Dev) {
  ApiTrace T("cuDeviceGetDefaultMemPool");
  T.args("pool_out={} dev={}", static_cast<void *>(PoolOut), Dev);
  CUSHIM_DRIVER_BODY(T, {
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    if (!PoolOut)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetDefaultMemPool: pool_out is NULL");
    *PoolOut = core::MemoryPool::defaultPool(**D).handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetMemPool(CUmemoryPool *Pool, CUdevice Dev) {
  ApiTrace T("cuDeviceGetMemPool");
  T.args("pool={} dev={}", static_cast<void *>(Pool), Dev);
  CUSHIM_DRIVER_BODY(T, {
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    if (!Pool)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetMemPool: pool is NULL");
    *Pool = core::MemoryPool::currentPool(**D).handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceSetMemPool(CUdevice Dev, CUmemoryPool Pool) {
  ApiTrace T("cuDeviceSetMemPool");
  T.args("dev={} pool={}", Dev, static_cast<void *>(Pool));
  CUSHIM_DRIVER_BODY(T, {
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto P = driverPool("cuDeviceSetMemPool", Pool);
    if (!P)
      return P.takeError();
    return core::MemoryPool::setCurrentPool(**D, *P);
  });
}

CUSHIM_EXPORT CUresult cuMemGetDefaultMemPool(CUmemoryPool *PoolOut, CUmemLocation *Location, CUmemAllocationType Type) {
  ApiTrace T("cuMemGetDefaultMemPool");
  T.args("pool_out={} location={} type={}", static_cast<void *>(PoolOut), static_cast<void *>(Location), int(Type));
  CUSHIM_DRIVER_BODY(T, {
    auto D = locationDevice("cuMemGetDefaultMemPool", Location, Type);
    if (!D)
      return D.takeError();
    if (!PoolOut)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemGetDefaultMemPool: pool_out is NULL");
    *PoolOut = core::MemoryPool::defaultPool(**D).handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemGetMemPool(CUmemoryPool *Pool, CUmemLocation *Location, CUmemAllocationType Type) {
  ApiTrace T("cuMemGetMemPool");
  T.args("pool={} location={} type={}", static_cast<void *>(Pool), static_cast<void *>(Location), int(Type));
  CUSHIM_DRIVER_BODY(T, {
    auto D = locationDevice("cuMemGetMemPool", Location, Type);
    if (!D)
      return D.takeError();
    if (!Pool)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemGetMemPool: pool is NULL");
    *Pool = core::MemoryPool::currentPool(**D).handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemSetMemPool(CUmemLocation *Location, CUmemAllocationType Type, CUmemoryPool Pool) {
  ApiTrace T("cuMemSetMemPool");
  T.args("location={} type={} pool={}", static_cast<void *>(Location), int(Type), static_cast<void *>(Pool));
  CUSHIM_DRIVER_BODY(T, {
    auto D = locationDevice("cuMemSetMemPool", Location, Type);
    if (!D)
      return D.takeError();
    auto P = driverPool("cuMemSetMemPool", Pool);
    if (!P)
      return P.takeError();
    return core::MemoryPool::setCurrentPool(**D, *P);
  });
}
