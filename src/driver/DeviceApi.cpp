// Devices and primary contexts (cuDevice*, cuDevicePrimaryCtx*).
#include "driver/DriverApi.h"

#include <cstdio>
#include <cstring>

using namespace cushim;
using namespace cushim::driver;

CUSHIM_EXPORT CUresult cuDeviceGet(CUdevice *Device, int Ordinal) {
  ApiTrace T("cuDeviceGet");
  T.args("device={} ordinal={}", static_cast<void *>(Device), Ordinal);
  CUSHIM_DRIVER_BODY(T, {
    if (!Device)
      return makeError(CUDA_ERROR_INVALID_VALUE, "device is NULL");
    auto D = requireDevice(Ordinal);
    if (!D)
      return D.takeError();
    *Device = Ordinal;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetCount(int *Count) {
  ApiTrace T("cuDeviceGetCount");
  T.args("count={}", static_cast<void *>(Count));
  CUSHIM_DRIVER_BODY(T, {
    if (!Count)
      return makeError(CUDA_ERROR_INVALID_VALUE, "count is NULL");
    CUSHIM_TRY(requireInit());
    *Count = core::deviceCount();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetName(char *Name, int Len, CUdevice Dev) {
  ApiTrace T("cuDeviceGetName");
  T.args("name={} len={} dev={}", static_cast<void *>(Name), Len, Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Name || Len <= 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "name is NULL or len <= 0");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    std::strncpy(Name, (*D)->name(), static_cast<size_t>(Len) - 1);
    Name[Len - 1] = '\0';
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetAttribute(int *Pi, CUdevice_attribute Attrib, CUdevice Dev) {
  ApiTrace T("cuDeviceGetAttribute");
  T.args("pi={} attrib={} dev={}", static_cast<void *>(Pi), static_cast<int>(Attrib), Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Pi)
      return makeError(CUDA_ERROR_INVALID_VALUE, "pi is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto V = (*D)->attribute(Attrib);
    if (!V)
      return V.takeError();
    *Pi = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceTotalMem_v2(size_t *Bytes, CUdevice Dev) {
  ApiTrace T("cuDeviceTotalMem_v2");
  T.args("bytes={} dev={}", static_cast<void *>(Bytes), Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Bytes)
      return makeError(CUDA_ERROR_INVALID_VALUE, "bytes is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    *Bytes = static_cast<size_t>((*D)->info().total_memory);
    return Error::success();
  });
}

static Error deviceUuid(CUuuid *Uuid, CUdevice Dev) {
  if (!Uuid)
    return makeError(CUDA_ERROR_INVALID_VALUE, "uuid is NULL");
  auto D = requireDevice(Dev);
  if (!D)
    return D.takeError();
  std::memcpy(Uuid->bytes, (*D)->info().uuid, sizeof(Uuid->bytes));
  return Error::success();
}

CUSHIM_EXPORT CUresult cuDeviceGetUuid(CUuuid *Uuid, CUdevice Dev) {
  ApiTrace T("cuDeviceGetUuid");
  T.args("uuid={} dev={}", static_cast<void *>(Uuid), Dev);
  return T.done(deviceUuid(Uuid, Dev));
}

CUSHIM_EXPORT CUresult cuDeviceGetUuid_v2(CUuuid *Uuid, CUdevice Dev) {
  ApiTrace T("cuDeviceGetUuid_v2");
  T.args("uuid={} dev={}", static_cast<void *>(Uuid), Dev);
  return T.done(deviceUuid(Uuid, Dev));
}

CUSHIM_EXPORT CUresult cuDeviceComputeCapability(int *Major, int *Minor, CUdevice Dev) {
  ApiTrace T("cuDeviceComputeCapability");
  T.args("major={} minor={} dev={}", static_cast<void *>(Major), static_cast<void *>(Minor), Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Major || !Minor)
      return makeError(CUDA_ERROR_INVALID_VALUE, "major or minor is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    *Major = (*D)->ccMajor();
    *Minor = (*D)->ccMinor();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext *Pctx, CUdevice Dev) {
  ApiTrace T("cuDevicePrimaryCtxRetain");
  T.args("pctx={} dev={}", static_cast<void *>(Pctx), Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!Pctx)
      return makeError(CUDA_ERROR_INVALID_VALUE, "pctx is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    auto Ctx = (*D)->retainPrimary();
    if (!Ctx)
      return Ctx.takeError();
    *Pctx = (*Ctx)->handle();
    return Error::success();
  });
}

static Error primaryRelease(CUdevice Dev) {
  auto D = requireDevice(Dev);
  if (!D)
    return D.takeError();
  return (*D)->releasePrimary();
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice Dev) {
  ApiTrace T("cuDevicePrimaryCtxRelease_v2");
  T.args("dev={}", Dev);
  return T.done(primaryRelease(Dev));
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice Dev) {
  ApiTrace T("cuDevicePrimaryCtxRelease");
  T.args("dev={}", Dev);
  return T.done(primaryRelease(Dev));
}

static Error primaryReset(CUdevice Dev) {
  auto D = requireDevice(Dev);
  if (!D)
    return D.takeError();
  return (*D)->resetPrimary();
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice Dev) {
  ApiTrace T("cuDevicePrimaryCtxReset_v2");
  T.args("dev={}", Dev);
  return T.done(primaryReset(Dev));
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxReset(CUdevice Dev) {
  ApiTrace T("cuDevicePrimaryCtxReset");
  T.args("dev={}", Dev);
  return T.done(primaryReset(Dev));
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxGetState(CUdevice Dev, unsigned int *Flags, int *Active) {
  ApiTrace T("cuDevicePrimaryCtxGetState");
  T.args("dev={} flags={} active={}", Dev, static_cast<void *>(Flags), static_cast<void *>(Active));
  CUSHIM_DRIVER_BODY(T, {
    if (!Flags || !Active)
      return makeError(CUDA_ERROR_INVALID_VALUE, "flags or active is NULL");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    *Flags = (*D)->primaryFlags();
    *Active = (*D)->primaryActive() ? 1 : 0;
    return Error::success();
  });
}

static Error primarySetFlags(CUdevice Dev, unsigned Flags) {
  auto D = requireDevice(Dev);
  if (!D)
    return D.takeError();
  return (*D)->setPrimaryFlags(Flags);
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice Dev, unsigned int Flags) {
  ApiTrace T("cuDevicePrimaryCtxSetFlags_v2");
  T.args("dev={} flags={:#x}", Dev, Flags);
  return T.done(primarySetFlags(Dev, Flags));
}

CUSHIM_EXPORT CUresult cuDevicePrimaryCtxSetFlags(CUdevice Dev, unsigned int Flags) {
  ApiTrace T("cuDevicePrimaryCtxSetFlags");
  T.args("dev={} flags={:#x}", Dev, Flags);
  return T.done(primarySetFlags(Dev, Flags));
}

CUSHIM_EXPORT CUresult cuDeviceGetPCIBusId(char *PciBusId, int Len, CUdevice Dev) {
  ApiTrace T("cuDeviceGetPCIBusId");
  T.args("pciBusId={} len={} dev={}", static_cast<void *>(PciBusId), Len, Dev);
  CUSHIM_DRIVER_BODY(T, {
    if (!PciBusId || Len <= 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetPCIBusId: pciBusId is NULL or len <= 0");
    auto D = requireDevice(Dev);
    if (!D)
      return D.takeError();
    std::snprintf(PciBusId, static_cast<size_t>(Len), "%s", (*D)->pciBusId().c_str());
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGetByPCIBusId(CUdevice *Dev, const char *PciBusId) {
  ApiTrace T("cuDeviceGetByPCIBusId");
  T.args("dev={} pciBusId={}", static_cast<void *>(Dev), PciBusId ? PciBusId : "(null)");
  CUSHIM_DRIVER_BODY(T, {
    if (!Dev || !PciBusId)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuDeviceGetByPCIBusId: dev or pciBusId is NULL");
    CUSHIM_TRY(requireInit());
    auto D = core::deviceByPciBusId(PciBusId);
    if (!D)
      return D.takeError();
    *Dev = (*D)->ordinal();
    return Error::success();
  });
}
