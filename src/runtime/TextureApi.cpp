// Texture and surface objects of the runtime API: the runtime descriptors converted to the driver's and handed to
// core/Texture; getters return the descriptors the application passed.
#include "runtime/RuntimeState.h"

#include "core/Array.h"
#include "core/Texture.h"

#include <fmt/format.h>

#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

namespace {

Expected<CUDA_RESOURCE_DESC> driverResource(const char *Api, const cudaResourceDesc *R) {
  if (!R)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": resource descriptor is NULL");
  CUDA_RESOURCE_DESC D{};
  D.resType = static_cast<CUresourcetype>(R->resType);
  switch (R->resType) {
  case cudaResourceTypeArray:
    D.res.array.hArray = reinterpret_cast<CUarray>(R->res.array.array);
    break;
  case cudaResourceTypeMipmappedArray:
    D.res.mipmap.hMipmappedArray = reinterpret_cast<CUmipmappedArray>(R->res.mipmap.mipmap);
    break;
  case cudaResourceTypeLinear: {
    unsigned Channels = 0;
    CUSHIM_TRY(core::formatFromChannelDesc(R->res.linear.desc, D.res.linear.format, Channels, Api));
    D.res.linear.numChannels = Channels;
    D.res.linear.devPtr = reinterpret_cast<CUdeviceptr>(R->res.linear.devPtr);
    D.res.linear.sizeInBytes = R->res.linear.sizeInBytes;
    break;
  }
  case cudaResourceTypePitch2D: {
    unsigned Channels = 0;
    CUSHIM_TRY(core::formatFromChannelDesc(R->res.pitch2D.desc, D.res.pitch2D.format, Channels, Api));
    D.res.pitch2D.numChannels = Channels;
    D.res.pitch2D.devPtr = reinterpret_cast<CUdeviceptr>(R->res.pitch2D.devPtr);
    D.res.pitch2D.width = R->res.pitch2D.width;
    D.res.pitch2D.height = R->res.pitch2D.height;
    D.res.pitch2D.pitchInBytes = R->res.pitch2D.pitchInBytes;
    break;
  }
  default:
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{}: resource type {} is not valid", Api, static_cast<int>(R->resType)));
  }
  D.flags = R->flags;
  return D;
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaCreateTextureObject(cudaTextureObject_t *PTexObject, const struct cudaResourceDesc *PResDesc, const struct cudaTextureDesc *PTexDesc, const struct cudaResourceViewDesc *PResViewDesc) {
  ApiTrace T("cudaCreateTextureObject");
  T.args("pTexObject={} resDesc={} texDesc={} viewDesc={}", static_cast<void *>(PTexObject),
         static_cast<const void *>(PResDesc), static_cast<const void *>(PTexDesc),
         static_cast<const void *>(PResViewDesc));
  CUSHIM_RUNTIME_BODY(T, {
    const char *Api = "cudaCreateTextureObject";
    if (!PTexObject || !PTexDesc)
      return runtimeError(cudaErrorInvalidValue, "cudaCreateTextureObject: a pointer argument is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    auto Res = driverResource(Api, PResDesc);
    if (!Res)
      return Res.takeError();
    CUDA_TEXTURE_DESC Tex{};
    for (int I = 0; I < 3; ++I)
      Tex.addressMode[I] = static_cast<CUaddress_mode>(PTexDesc->addressMode[I]);
    Tex.filterMode = static_cast<CUfilter_mode>(PTexDesc->filterMode);
    Tex.mipmapFilterMode = static_cast<CUfilter_mode>(PTexDesc->mipmapFilterMode);
    if (PTexDesc->readMode != cudaReadModeElementType && PTexDesc->readMode != cudaReadModeNormalizedFloat)
      return runtimeError(cudaErrorInvalidValue, "cudaCreateTextureObject: invalid read mode");
    Tex.flags = (PTexDesc->readMode == cudaReadModeElementType ? CU_TRSF_READ_AS_INTEGER : 0) |
                (PTexDesc->normalizedCoords ? CU_TRSF_NORMALIZED_COORDINATES : 0) |
                (PTexDesc->sRGB ? CU_TRSF_SRGB : 0) |
                (PTexDesc->disableTrilinearOptimization ? CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION : 0) |
                (PTexDesc->seamlessCubemap ? CU_TRSF_SEAMLESS_CUBEMAP : 0);
    Tex.maxAnisotropy = PTexDesc->maxAnisotropy;
    Tex.mipmapLevelBias = PTexDesc->mipmapLevelBias;
    Tex.minMipmapLevelClamp = PTexDesc->minMipmapLevelClamp;
    Tex.maxMipmapLevelClamp = PTexDesc->maxMipmapLevelClamp;
    std::memcpy(Tex.borderColor, PTexDesc->borderColor, sizeof(Tex.borderColor));
    CUDA_RESOURCE_VIEW_DESC View{};
    if (PResViewDesc) {
      View.format = static_cast<CUresourceViewFormat>(PResViewDesc->format);
      View.width = PResViewDesc->width;
      View.height = PResViewDesc->height;
      View.depth = PResViewDesc->depth;
      View.firstMipmapLevel = PResViewDesc->firstMipmapLevel;
      View.lastMipmapLevel = PResViewDesc->lastMipmapLevel;
      View.firstLayer = PResViewDesc->firstLayer;
      View.lastLayer = PResViewDesc->lastLayer;
    }
    auto O = core::TextureObject::create(**Ctx, *Res, Tex, PResViewDesc ? &View : nullptr, Api);
    if (!O)
      return O.takeError();
    (*O)->RuntimeRes = *PResDesc;
    (*O)->RuntimeTex = *PTexDesc;
    if (PResViewDesc)
      (*O)->RuntimeView = *PResViewDesc;
    *PTexObject = (*O)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDestroyTextureObject(cudaTextureObject_t TexObject) {
  ApiTrace T("cudaDestroyTextureObject");
  T.args("texObject={:#x}", TexObject);
  CUSHIM_RUNTIME_BODY(T, {
    if (TexObject == 0)
      return Error::success();
    core::TextureObject *O = core::lookupTexture(TexObject);
    if (!O)
      return runtimeError(cudaErrorInvalidValue,
                          fmt::format("cudaDestroyTextureObject: {:#x} is not a live texture object", TexObject));
    return core::TextureObject::destroy(O);
  });
}

static Expected<core::TextureObject *> liveTexture(const char *Api, cudaTextureObject_t H, const void *Out) {
  if (!Out)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": output pointer is NULL");
  if (core::TextureObject *O = core::lookupTexture(H))
    return O;
  return runtimeError(cudaErrorInvalidValue, fmt::format("{}: {:#x} is not a live texture object", Api, H));
}

CUSHIM_EXPORT cudaError_t cudaGetTextureObjectResourceDesc(struct cudaResourceDesc *PResDesc, cudaTextureObject_t TexObject) {
  ApiTrace T("cudaGetTextureObjectResourceDesc");
  T.args("resDesc={} texObject={:#x}", static_cast<void *>(PResDesc), TexObject);
  CUSHIM_RUNTIME_BODY(T, {
    auto O = liveTexture("cudaGetTextureObjectResourceDesc", TexObject, PResDesc);
    if (!O)
      return O.takeError();
    *PResDesc = (*O)->RuntimeRes;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetTextureObjectTextureDesc(struct cudaTextureDesc *PTexDesc, cudaTextureObject_t TexObject) {
  ApiTrace T("cudaGetTextureObjectTextureDesc");
  T.args("texDesc={} texObject={:#x}", static_cast<void *>(PTexDesc), TexObject);
  CUSHIM_RUNTIME_BODY(T, {
    auto O = liveTexture("cudaGetTextureObjectTextureDesc", TexObject, PTexDesc);
    if (!O)
      return O.takeError();
    *PTexDesc = (*O)->RuntimeTex;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetTextureObjectResourceViewDesc(struct cudaResourceViewDesc *PResViewDesc, cudaTextureObject_t TexObject) {
  ApiTrace T("cudaGetTextureObjectResourceViewDesc");
  T.args("viewDesc={} texObject={:#x}", static_cast<void *>(PResViewDesc), TexObject);
  CUSHIM_RUNTIME_BODY(T, {
    auto O = liveTexture("cudaGetTextureObjectResourceViewDesc", TexObject, PResViewDesc);
    if (!O)
      return O.takeError();
    if (!(*O)->RuntimeView)
      return runtimeError(cudaErrorInvalidValue,
                          "cudaGetTextureObjectResourceViewDesc: the texture object has no resource view");
    *PResViewDesc = *(*O)->RuntimeView;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaCreateSurfaceObject(cudaSurfaceObject_t *PSurfObject, const struct cudaResourceDesc *PResDesc) {
  ApiTrace T("cudaCreateSurfaceObject");
  T.args("pSurfObject={} resDesc={}", static_cast<void *>(PSurfObject), static_cast<const void *>(PResDesc));
  CUSHIM_RUNTIME_BODY(T, {
    const char *Api = "cudaCreateSurfaceObject";
    if (!PSurfObject)
      return runtimeError(cudaErrorInvalidValue, "cudaCreateSurfaceObject: pSurfObject is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    auto Res = driverResource(Api, PResDesc);
    if (!Res)
      return Res.takeError();
    auto O = core::SurfaceObject::create(**Ctx, *Res, Api);
    if (!O)
      return O.error().code() == CUDA_ERROR_INVALID_HANDLE
                 ? runtimeError(cudaErrorInvalidResourceHandle, O.error().message())
                 : O.takeError();
    (*O)->RuntimeRes = *PResDesc;
    *PSurfObject = (*O)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDestroySurfaceObject(cudaSurfaceObject_t SurfObject) {
  ApiTrace T("cudaDestroySurfaceObject");
  T.args("surfObject={:#x}", SurfObject);
  CUSHIM_RUNTIME_BODY(T, {
    if (SurfObject == 0)
      return Error::success();
    core::SurfaceObject *O = core::lookupSurface(SurfObject);
    if (!O)
      return runtimeError(cudaErrorInvalidValue,
                          fmt::format("cudaDestroySurfaceObject: {:#x} is not a live surface object", SurfObject));
    return core::SurfaceObject::destroy(O);
  });
}

CUSHIM_EXPORT cudaError_t cudaGetSurfaceObjectResourceDesc(struct cudaResourceDesc *PResDesc, cudaSurfaceObject_t SurfObject) {
  ApiTrace T("cudaGetSurfaceObjectResourceDesc");
  T.args("resDesc={} surfObject={:#x}", static_cast<void *>(PResDesc), SurfObject);
  CUSHIM_RUNTIME_BODY(T, {
    if (!PResDesc)
      return runtimeError(cudaErrorInvalidValue, "cudaGetSurfaceObjectResourceDesc: resDesc is NULL");
    core::SurfaceObject *O = core::lookupSurface(SurfObject);
    if (!O)
      return runtimeError(cudaErrorInvalidValue, fmt::format("cudaGetSurfaceObjectResourceDesc: {:#x} is not a live "
                                                             "surface object",
                                                             SurfObject));
    *PResDesc = O->RuntimeRes;
    return Error::success();
  });
}
