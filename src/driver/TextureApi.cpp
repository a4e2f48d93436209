// Texture and surface objects of the driver API (cuTexObject*, cuSurfObject*) over core/Texture. The legacy texture
// and surface references are in TextureReferenceApi.cpp (docs/TEXTURES.md).
#include "driver/DriverApi.h"

#include "core/Texture.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::driver;

CUSHIM_EXPORT CUresult cuTexObjectCreate(CUtexObject *PTexObject, const CUDA_RESOURCE_DESC *PResDesc, const CUDA_TEXTURE_DESC *PTexDesc, const CUDA_RESOURCE_VIEW_DESC *PResViewDesc) {
  ApiTrace T("cuTexObjectCreate");
  T.args("pTexObject={} resDesc={} texDesc={} viewDesc={}", static_cast<void *>(PTexObject),
         static_cast<const void *>(PResDesc), static_cast<const void *>(PTexDesc),
         static_cast<const void *>(PResViewDesc));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuTexObjectCreate");
    if (!Ctx)
      return Ctx.takeError();
    if (!PTexObject || !PResDesc || !PTexDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuTexObjectCreate: a pointer argument is NULL");
    auto O = core::TextureObject::create(**Ctx, *PResDesc, *PTexDesc, PResViewDesc, "cuTexObjectCreate");
    if (!O)
      return O.takeError();
    *PTexObject = (*O)->handle();
    return Error::success();
  });
}

static Expected<core::TextureObject *> liveTexture(const char *Api, CUtexObject H) {
  CUSHIM_TRY(requireInit());
  if (core::TextureObject *O = core::lookupTexture(H))
    return O;
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {:#x} is not a live texture object", Api, H));
}

CUSHIM_EXPORT CUresult cuTexObjectDestroy(CUtexObject TexObject) {
  ApiTrace T("cuTexObjectDestroy");
  T.args("texObject={:#x}", TexObject);
  CUSHIM_DRIVER_BODY(T, {
    auto O = liveTexture("cuTexObjectDestroy", TexObject);
    if (!O)
      return O.takeError();
    return core::TextureObject::destroy(*O);
  });
}

CUSHIM_EXPORT CUresult cuTexObjectGetResourceDesc(CUDA_RESOURCE_DESC *PResDesc, CUtexObject TexObject) {
  ApiTrace T("cuTexObjectGetResourceDesc");
  T.args("resDesc={} texObject={:#x}", static_cast<void *>(PResDesc), TexObject);
  CUSHIM_DRIVER_BODY(T, {
    auto O = liveTexture("cuTexObjectGetResourceDesc", TexObject);
    if (!O)
      return O.takeError();
    if (!PResDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuTexObjectGetResourceDesc: pResDesc is NULL");
    *PResDesc = (*O)->resource();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuTexObjectGetTextureDesc(CUDA_TEXTURE_DESC *PTexDesc, CUtexObject TexObject) {
  ApiTrace T("cuTexObjectGetTextureDesc");
  T.args("texDesc={} texObject={:#x}", static_cast<void *>(PTexDesc), TexObject);
  CUSHIM_DRIVER_BODY(T, {
    auto O = liveTexture("cuTexObjectGetTextureDesc", TexObject);
    if (!O)
      return O.takeError();
    if (!PTexDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuTexObjectGetTextureDesc: pTexDesc is NULL");
    *PTexDesc = (*O)->texture();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuTexObjectGetResourceViewDesc(CUDA_RESOURCE_VIEW_DESC *PResViewDesc, CUtexObject TexObject) {
  ApiTrace T("cuTexObjectGetResourceViewDesc");
  T.args("viewDesc={} texObject={:#x}", static_cast<void *>(PResViewDesc), TexObject);
  CUSHIM_DRIVER_BODY(T, {
    auto O = liveTexture("cuTexObjectGetResourceViewDesc", TexObject);
    if (!O)
      return O.takeError();
    if (!PResViewDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuTexObjectGetResourceViewDesc: pResViewDesc is NULL");
    if (!(*O)->view())
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuTexObjectGetResourceViewDesc: the object has no resource view");
    *PResViewDesc = *(*O)->view();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuSurfObjectCreate(CUsurfObject *PSurfObject, const CUDA_RESOURCE_DESC *PResDesc) {
  ApiTrace T("cuSurfObjectCreate");
  T.args("pSurfObject={} resDesc={}", static_cast<void *>(PSurfObject), static_cast<const void *>(PResDesc));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuSurfObjectCreate");
    if (!Ctx)
      return Ctx.takeError();
    if (!PSurfObject || !PResDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuSurfObjectCreate: a pointer argument is NULL");
    auto O = core::SurfaceObject::create(**Ctx, *PResDesc, "cuSurfObjectCreate");
    if (!O)
      return O.takeError();
    *PSurfObject = (*O)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuSurfObjectDestroy(CUsurfObject SurfObject) {
  ApiTrace T("cuSurfObjectDestroy");
  T.args("surfObject={:#x}", SurfObject);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::SurfaceObject *O = core::lookupSurface(SurfObject);
    if (!O)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuSurfObjectDestroy: {:#x} is not a live surface object", SurfObject));
    return core::SurfaceObject::destroy(O);
  });
}

CUSHIM_EXPORT CUresult cuSurfObjectGetResourceDesc(CUDA_RESOURCE_DESC *PResDesc, CUsurfObject SurfObject) {
  ApiTrace T("cuSurfObjectGetResourceDesc");
  T.args("resDesc={} surfObject={:#x}", static_cast<void *>(PResDesc), SurfObject);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::SurfaceObject *O = core::lookupSurface(SurfObject);
    if (!O)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuSurfObjectGetResourceDesc: {:#x} is not a live surface object", SurfObject));
    if (!PResDesc)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuSurfObjectGetResourceDesc: pResDesc is NULL");
    *PResDesc = O->resource();
    return Error::success();
  });
}
