// CUDA arrays in the runtime API: cudaMallocArray/Malloc3DArray/MallocMipmappedArray, levels, cudaArrayGetInfo,
// channel descriptors. A cudaArray_t is the driver's CUarray (core/Array), so both APIs share arrays.
#include "runtime/RuntimeState.h"

#include "core/Array.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::runtime;

namespace {

Expected<CUDA_ARRAY3D_DESCRIPTOR> descriptorOf(const char *Api, const cudaChannelFormatDesc *Desc, size_t Width,
                                               size_t Height, size_t Depth, unsigned Flags) {
  if (!Desc)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": channel descriptor is NULL");
  CUDA_ARRAY3D_DESCRIPTOR D{};
  unsigned Channels = 0;
  // NVIDIA's runtime refuses a descriptor no array format matches (3 channels, unequal or odd sizes) itself, with
  // cudaErrorInvalidChannelDescriptor, before asking the driver (traced with its static cudart).
  if (Error E = core::formatFromChannelDesc(*Desc, D.Format, Channels, Api); E.isError())
    return E.code() == CUDA_ERROR_INVALID_VALUE ? runtimeError(cudaErrorInvalidChannelDescriptor, E.message())
                                                : std::move(E);
  D.NumChannels = Channels;
  D.Width = Width;
  D.Height = Height;
  D.Depth = Depth;
  D.Flags = Flags;
  return D;
}

Error createArray(const char *Api, cudaArray_t *Out, const cudaChannelFormatDesc *Desc, size_t Width, size_t Height,
                  size_t Depth, unsigned Flags) {
  if (!Out)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": array pointer is NULL");
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  auto D = descriptorOf(Api, Desc, Width, Height, Depth, Flags);
  if (!D)
    return D.takeError();
  auto A = core::Array::create(**Ctx, *D, Api);
  if (!A)
    return A.error().code() == CUDA_ERROR_OUT_OF_MEMORY
               ? runtimeError(cudaErrorMemoryAllocation, A.error().message())
               : A.takeError();
  *Out = reinterpret_cast<cudaArray_t>((*A)->handle());
  return Error::success();
}

} // namespace

CUSHIM_EXPORT struct cudaChannelFormatDesc cudaCreateChannelDesc(int X, int Y, int Z, int W,
                                                                 enum cudaChannelFormatKind F) {
  return cudaChannelFormatDesc{X, Y, Z, W, F};
}

CUSHIM_EXPORT cudaError_t cudaMallocArray(cudaArray_t *Array, const struct cudaChannelFormatDesc *Desc, size_t Width,
                                          size_t Height, unsigned int Flags) {
  ApiTrace T("cudaMallocArray");
  T.args("array={} desc={} width={} height={} flags={:#x}", static_cast<void *>(Array),
         static_cast<const void *>(Desc), Width, Height, Flags);
  // cudaMallocArray makes 1D and 2D arrays only: layered and cubemap shapes need cudaMalloc3DArray.
  if (Flags & (cudaArrayLayered | cudaArrayCubemap))
    return finish(T, cudaErrorInvalidValue, "cudaMallocArray: layered/cubemap arrays need cudaMalloc3DArray");
  return finish(T, createArray("cudaMallocArray", Array, Desc, Width, Height, 0, Flags));
}

CUSHIM_EXPORT cudaError_t cudaMalloc3DArray(cudaArray_t *Array, const struct cudaChannelFormatDesc *Desc,
                                            struct cudaExtent Extent, unsigned int Flags) {
  ApiTrace T("cudaMalloc3DArray");
  T.args("array={} desc={} extent={}x{}x{} flags={:#x}", static_cast<void *>(Array), static_cast<const void *>(Desc),
         Extent.width, Extent.height, Extent.depth, Flags);
  return finish(T, createArray("cudaMalloc3DArray", Array, Desc, Extent.width, Extent.height, Extent.depth, Flags));
}

CUSHIM_EXPORT cudaError_t cudaFreeArray(cudaArray_t Array) {
  ApiTrace T("cudaFreeArray");
  T.args("array={}", static_cast<void *>(Array));
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!Array)
      return Error::success();
    core::Array *A = core::lookupArray(Array);
    if (!A)
      return runtimeError(cudaErrorInvalidResourceHandle, "cudaFreeArray: not a live CUDA array");
    // cudaFreeArray synchronises with outstanding work, as NVIDIA's does.
    CUSHIM_TRY(A->context().synchronize());
    return core::Array::destroy(A, "cudaFreeArray");
  });
}

CUSHIM_EXPORT cudaError_t cudaMallocMipmappedArray(cudaMipmappedArray_t *Out, const struct cudaChannelFormatDesc *Desc,
                                                   struct cudaExtent Extent, unsigned int NumLevels,
                                                   unsigned int Flags) {
  ApiTrace T("cudaMallocMipmappedArray");
  T.args("mipmappedArray={} desc={} extent={}x{}x{} numLevels={} flags={:#x}", static_cast<void *>(Out),
         static_cast<const void *>(Desc), Extent.width, Extent.height, Extent.depth, NumLevels, Flags);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Out)
      return runtimeError(cudaErrorInvalidValue, "cudaMallocMipmappedArray: output pointer is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    auto D = descriptorOf("cudaMallocMipmappedArray", Desc, Extent.width, Extent.height, Extent.depth, Flags);
    if (!D)
      return D.takeError();
    auto M = core::MipmappedArray::create(**Ctx, *D, NumLevels, "cudaMallocMipmappedArray");
    if (!M)
      return M.takeError();
    *Out = reinterpret_cast<cudaMipmappedArray_t>((*M)->handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetMipmappedArrayLevel(cudaArray_t *LevelArray, cudaMipmappedArray_const_t Mipmap,
                                                     unsigned int Level) {
  ApiTrace T("cudaGetMipmappedArrayLevel");
  T.args("levelArray={} mipmappedArray={} level={}", static_cast<void *>(LevelArray),
         static_cast<const void *>(Mipmap), Level);
  CUSHIM_RUNTIME_BODY(T, {
    if (!LevelArray)
      return runtimeError(cudaErrorInvalidValue, "cudaGetMipmappedArrayLevel: output pointer is NULL");
    core::MipmappedArray *M = core::lookupMipmappedArray(Mipmap);
    if (!M)
      return runtimeError(cudaErrorInvalidResourceHandle, "cudaGetMipmappedArrayLevel: not a live mipmapped array");
    core::Array *A = M->level(Level);
    if (!A)
      return runtimeError(cudaErrorInvalidValue, fmt::format("cudaGetMipmappedArrayLevel: level {} of {} levels",
                                                             Level, M->levelCount()));
    *LevelArray = reinterpret_cast<cudaArray_t>(A->handle());
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaFreeMipmappedArray(cudaMipmappedArray_t Mipmap) {
  ApiTrace T("cudaFreeMipmappedArray");
  T.args("mipmappedArray={}", static_cast<void *>(Mipmap));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Mipmap)
      return Error::success();
    core::MipmappedArray *M = core::lookupMipmappedArray(Mipmap);
    if (!M)
      return runtimeError(cudaErrorInvalidResourceHandle, "cudaFreeMipmappedArray: not a live mipmapped array");
    CUSHIM_TRY(M->level(0)->context().synchronize());
    return core::MipmappedArray::destroy(M, "cudaFreeMipmappedArray");
  });
}

CUSHIM_EXPORT cudaError_t cudaArrayGetInfo(struct cudaChannelFormatDesc *Desc, struct cudaExtent *Extent,
                                           unsigned int *Flags, cudaArray_t Array) {
  ApiTrace T("cudaArrayGetInfo");
  T.args("desc={} extent={} flags={} array={}", static_cast<void *>(Desc), static_cast<void *>(Extent),
         static_cast<void *>(Flags), static_cast<void *>(Array));
  CUSHIM_RUNTIME_BODY(T, {
    core::Array *A = core::lookupArray(Array);
    if (!A)
      return runtimeError(cudaErrorInvalidResourceHandle, "cudaArrayGetInfo: not a live CUDA array");
    const CUDA_ARRAY3D_DESCRIPTOR &D = A->descriptor();
    if (Desc)
      *Desc = core::channelDescOf(D.Format, D.NumChannels);
    if (Extent)
      *Extent = cudaExtent{D.Width, D.Height, D.Depth};
    if (Flags)
      *Flags = D.Flags;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetChannelDesc(struct cudaChannelFormatDesc *Desc, cudaArray_const_t Array) {
  ApiTrace T("cudaGetChannelDesc");
  T.args("desc={} array={}", static_cast<void *>(Desc), static_cast<const void *>(Array));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Desc)
      return runtimeError(cudaErrorInvalidValue, "cudaGetChannelDesc: desc is NULL");
    core::Array *A = core::lookupArray(Array);
    if (!A)
      return runtimeError(cudaErrorInvalidResourceHandle, "cudaGetChannelDesc: not a live CUDA array");
    *Desc = core::channelDescOf(A->descriptor().Format, A->descriptor().NumChannels);
    return Error::success();
  });
}
