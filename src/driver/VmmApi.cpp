// The virtual memory management entry points (cuMemCreate, cuMemAddressReserve, cuMemMap, cuMemSetAccess ...); the
// runtime API has none (docs/MEMORY.md). The work is in core/Vmm.cpp.
#include "driver/DriverApi.h"

#include "core/Vmm.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::driver;

CUSHIM_EXPORT CUresult cuMemGetAllocationGranularity(size_t *Granularity, const CUmemAllocationProp *Prop,
                                                     CUmemAllocationGranularity_flags Option) {
  ApiTrace T("cuMemGetAllocationGranularity");
  T.args("granularity={} prop={} option={}", static_cast<void *>(Granularity), static_cast<const void *>(Prop),
         int(Option));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Granularity || !Prop)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemGetAllocationGranularity: NULL argument");
    auto G = core::vmm::granularity(*Prop, Option);
    if (!G)
      return G.takeError();
    *Granularity = *G;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle *Handle, size_t Size, const CUmemAllocationProp *Prop,
                                   unsigned long long Flags) {
  ApiTrace T("cuMemCreate");
  T.args("handle={} size={} prop={} flags={:#x}", static_cast<void *>(Handle), Size, static_cast<const void *>(Prop),
         Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Handle || !Prop)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemCreate: NULL argument");
    auto H = core::vmm::create(Size, *Prop, Flags);
    if (!H)
      return H.takeError();
    *Handle = *H;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle Handle) {
  ApiTrace T("cuMemRelease");
  T.args("handle={:#x}", Handle);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::vmm::release(Handle);
  });
}

CUSHIM_EXPORT CUresult cuMemAddressReserve(CUdeviceptr *Ptr, size_t Size, size_t Alignment, CUdeviceptr Addr,
                                           unsigned long long Flags) {
  ApiTrace T("cuMemAddressReserve");
  T.args("ptr={} size={} alignment={} addr={:#x} flags={:#x}", static_cast<void *>(Ptr), Size, Alignment, Addr, Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Ptr)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAddressReserve: ptr is NULL");
    auto P = core::vmm::reserve(Size, Alignment, Addr, Flags);
    if (!P)
      return P.takeError();
    *Ptr = *P;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemAddressFree(CUdeviceptr Ptr, size_t Size) {
  ApiTrace T("cuMemAddressFree");
  T.args("ptr={:#x} size={}", Ptr, Size);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::vmm::free(Ptr, Size);
  });
}

CUSHIM_EXPORT CUresult cuMemMap(CUdeviceptr Ptr, size_t Size, size_t Offset, CUmemGenericAllocationHandle Handle,
                                unsigned long long Flags) {
  ApiTrace T("cuMemMap");
  T.args("ptr={:#x} size={} offset={} handle={:#x} flags={:#x}", Ptr, Size, Offset, Handle, Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::vmm::map(Ptr, Size, Offset, Handle, Flags);
  });
}

CUSHIM_EXPORT CUresult cuMemUnmap(CUdeviceptr Ptr, size_t Size) {
  ApiTrace T("cuMemUnmap");
  T.args("ptr={:#x} size={}", Ptr, Size);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::vmm::unmap(Ptr, Size);
  });
}

CUSHIM_EXPORT CUresult cuMemSetAccess(CUdeviceptr Ptr, size_t Size, const CUmemAccessDesc *Desc, size_t Count) {
  ApiTrace T("cuMemSetAccess");
  T.args("ptr={:#x} size={} desc={} count={}", Ptr, Size, static_cast<const void *>(Desc), Count);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::vmm::setAccess(Ptr, Size, Desc, Count);
  });
}

CUSHIM_EXPORT CUresult cuMemGetAccess(unsigned long long *Flags, const CUmemLocation *Location, CUdeviceptr Ptr) {
  ApiTrace T("cuMemGetAccess");
  T.args("flags={} location={} ptr={:#x}", static_cast<void *>(Flags), static_cast<const void *>(Location), Ptr);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Flags || !Location)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemGetAccess: NULL argument");
    auto F = core::vmm::access(*Location, Ptr);
    if (!F)
      return F.takeError();
    *Flags = *F;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemGetAllocationPropertiesFromHandle(CUmemAllocationProp *Prop,
                                                              CUmemGenericAllocationHandle Handle) {
  ApiTrace T("cuMemGetAllocationPropertiesFromHandle");
  T.args("prop={} handle={:#x}", static_cast<void *>(Prop), Handle);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Prop)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemGetAllocationPropertiesFromHandle: prop is NULL");
    auto P = core::vmm::properties(Handle);
    if (!P)
      return P.takeError();
    *Prop = *P;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemRetainAllocationHandle(CUmemGenericAllocationHandle *Handle, void *Addr) {
  ApiTrace T("cuMemRetainAllocationHandle");
  T.args("handle={} addr={}", static_cast<void *>(Handle), Addr);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Handle)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemRetainAllocationHandle: handle is NULL");
    auto H = core::vmm::retain(Addr);
    if (!H)
      return H.takeError();
    *Handle = *H;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemExportToShareableHandle(void *ShareableHandle, CUmemGenericAllocationHandle Handle,
                                                    CUmemAllocationHandleType HandleType, unsigned long long Flags) {
  ApiTrace T("cuMemExportToShareableHandle");
  T.args("shareableHandle={} handle={:#x} handleType={} flags={:#x}", ShareableHandle, Handle, int(HandleType), Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::vmm::exportHandle(ShareableHandle, Handle, HandleType, Flags);
  });
}

CUSHIM_EXPORT CUresult cuMemImportFromShareableHandle(CUmemGenericAllocationHandle *Handle, void *OsHandle,
                                                      CUmemAllocationHandleType ShHandleType) {
  ApiTrace T("cuMemImportFromShareableHandle");
  T.args("handle={} osHandle={} shHandleType={}", static_cast<void *>(Handle), OsHandle, int(ShHandleType));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Handle)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemImportFromShareableHandle: handle is NULL");
    auto H = core::vmm::importHandle(OsHandle, ShHandleType);
    if (!H)
      return H.takeError();
    *Handle = *H;
    return Error::success();
  });
}
