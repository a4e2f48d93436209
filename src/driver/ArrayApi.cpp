// CUDA arrays in the driver API: cuArrayCreate/cuArray3DCreate, descriptors, cuArrayDestroy, mipmapped arrays.
#include "driver/DriverApi.h"

#include "core/Array.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::driver;

static Error createArray(const char *Api, CUarray *Out, const CUDA_ARRAY3D_DESCRIPTOR &D) {
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  if (!Out)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": pHandle is NULL");
  auto A = core::Array::create(**Ctx, D, Api);
  if (!A)
    return A.takeError();
  *Out = (*A)->handle();
  return Error::success();
}

static Expected<core::Array *> liveArray(const char *Api, CUarray H) {
  CUSHIM_TRY(requireInit());
  if (core::Array *A = core::lookupArray(H))
    return A;
  return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{}: {} is not a live CUDA array", Api,
                                                          static_cast<void *>(H)));
}

CUSHIM_EXPORT CUresult cuArrayCreate_v2(CUarray *PHandle, const CUDA_ARRAY_DESCRIPTOR *PAllocateArray) {
  ApiTrace T("cuArrayCreate_v2");
  T.args("pHandle={} desc={}", static_cast<void *>(PHandle), static_cast<const void *>(PAllocateArray));
  CUSHIM_DRIVER_BODY(T, {
    if (!PAllocateArray)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuArrayCreate: descriptor is NULL");
    CUDA_ARRAY3D_DESCRIPTOR D{};
    D.Width = PAllocateArray->Width;
    D.Height = PAllocateArray->Height;
    D.Format = PAllocateArray->Format;
    D.NumChannels = PAllocateArray->NumChannels;
    return createArray("cuArrayCreate", PHandle, D);
  });
}

CUSHIM_EXPORT CUresult cuArray3DCreate_v2(CUarray *PHandle, const CUDA_ARRAY3D_DESCRIPTOR *PAllocateArray) {
  ApiTrace T("cuArray3DCreate_v2");
  T.args("pHandle={} desc={}", static_cast<void *>(PHandle), static_cast<const void *>(PAllocateArray));
  CUSHIM_DRIVER_BODY(T, {
    if (!PAllocateArray)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuArray3DCreate: descriptor is NULL");
    return createArray("cuArray3DCreate", PHandle, *PAllocateArray);
  });
}

CUSHIM_EXPORT CUresult cuArrayGetDescriptor_v2(CUDA_ARRAY_DESCRIPTOR *PArrayDescriptor, CUarray HArray) {
  ApiTrace T("cuArrayGetDescriptor_v2");
  T.args("desc={} array={}", static_cast<void *>(PArrayDescriptor), static_cast<void *>(HArray));
  CUSHIM_DRIVER_BODY(T, {
    auto A = liveArray("cuArrayGetDescriptor", HArray);
    if (!A)
      return A.takeError();
    if (!PArrayDescriptor)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuArrayGetDescriptor: descriptor is NULL");
    const CUDA_ARRAY3D_DESCRIPTOR &D = (*A)->descriptor();
    *PArrayDescriptor = CUDA_ARRAY_DESCRIPTOR{D.Width, D.Height, D.Format, D.NumChannels};
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuArray3DGetDescriptor_v2(CUDA_ARRAY3D_DESCRIPTOR *PArrayDescriptor, CUarray HArray) {
  ApiTrace T("cuArray3DGetDescriptor_v2");
  T.args("desc={} array={}", static_cast<void *>(PArrayDescriptor), static_cast<void *>(HArray));
  CUSHIM_DRIVER_BODY(T, {
    auto A = liveArray("cuArray3DGetDescriptor", HArray);
    if (!A)
      return A.takeError();
    if (!PArrayDescriptor)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuArray3DGetDescriptor: descriptor is NULL");
    *PArrayDescriptor = (*A)->descriptor();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuArrayDestroy(CUarray HArray) {
  ApiTrace T("cuArrayDestroy");
  T.args("array={}", static_cast<void *>(HArray));
  CUSHIM_DRIVER_BODY(T, {
    auto A = liveArray("cuArrayDestroy", HArray);
    if (!A)
      return A.takeError();
    CUSHIM_TRY((*A)->context().synchronize());
    return core::Array::destroy(*A, "cuArrayDestroy");
  });
}

CUSHIM_EXPORT CUresult cuMipmappedArrayCreate(CUmipmappedArray *PHandle, const CUDA_ARRAY3D_DESCRIPTOR *PMipmappedArrayDesc, unsigned int NumMipmapLevels) {
  ApiTrace T("cuMipmappedArrayCreate");
  T.args("pHandle={} desc={} levels={}", static_cast<void *>(PHandle), static_cast<const void *>(PMipmappedArrayDesc),
         NumMipmapLevels);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMipmappedArrayCreate");
    if (!Ctx)
      return Ctx.takeError();
    if (!PHandle || !PMipmappedArrayDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMipmappedArrayCreate: a pointer argument is NULL");
    auto M = core::MipmappedArray::create(**Ctx, *PMipmappedArrayDesc, NumMipmapLevels, "cuMipmappedArrayCreate");
    if (!M)
      return M.takeError();
    *PHandle = (*M)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMipmappedArrayGetLevel(CUarray *PLevelArray, CUmipmappedArray HMipmappedArray, unsigned int Level) {
  ApiTrace T("cuMipmappedArrayGetLevel");
  T.args("pLevelArray={} mipmap={} level={}", static_cast<void *>(PLevelArray), static_cast<void *>(HMipmappedArray),
         Level);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::MipmappedArray *M = core::lookupMipmappedArray(HMipmappedArray);
    if (!M)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuMipmappedArrayGetLevel: not a live mipmapped array");
    if (!PLevelArray)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMipmappedArrayGetLevel: pLevelArray is NULL");
    core::Array *A = M->level(Level);
    if (!A)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuMipmappedArrayGetLevel: level {} of {} levels", Level, M->levelCount()));
    *PLevelArray = A->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMipmappedArrayDestroy(CUmipmappedArray HMipmappedArray) {
  ApiTrace T("cuMipmappedArrayDestroy");
  T.args("mipmap={}", static_cast<void *>(HMipmappedArray));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::MipmappedArray *M = core::lookupMipmappedArray(HMipmappedArray);
    if (!M)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "cuMipmappedArrayDestroy: not a live mipmapped array");
    CUSHIM_TRY(M->level(0)->context().synchronize());
    return core::MipmappedArray::destroy(M, "cuMipmappedArrayDestroy");
  });
}
