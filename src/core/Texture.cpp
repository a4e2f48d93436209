// Texture and surface objects: resource and sampler validation, the device-visible descriptor kernels read
// (texture_abi.h) and the live-handle registries.
#include "core/Texture.h"

#include "core/Array.h"
#include "core/Context.h"
#include "core/MemoryMap.h"
#include "core/Stream.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <mutex>

namespace cushim::core {

namespace {

template <typename T> struct Registry {
  std::mutex Mutex;
  std::map<unsigned long long, T *> Live;
  void add(T *Object) {
    std::lock_guard<std::mutex> G(Mutex);
    Live[Object->handle()] = Object;
  }
  void remove(T *Object) {
    std::lock_guard<std::mutex> G(Mutex);
    Live.erase(Object->handle());
  }
  T *lookup(unsigned long long H) {
    std::lock_guard<std::mutex> G(Mutex);
    auto It = Live.find(H);
    return It == Live.end() ? nullptr : It->second;
  }
};
Registry<TextureObject> &textures() {
  static auto *R = new Registry<TextureObject>();
  return *R;
}
Registry<SurfaceObject> &surfaces() {
  static auto *R = new Registry<SurfaceObject>();
  return *R;
}

Error invalid(const char *Api, const std::string &Why) {
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {}", Api, Why));
}

uint32_t texFormat(CUarray_format F) {
  switch (F) {
  case CU_AD_FORMAT_UNSIGNED_INT8: return CUSHIM_TEX_U8;
  case CU_AD_FORMAT_UNSIGNED_INT16: return CUSHIM_TEX_U16;
  case CU_AD_FORMAT_UNSIGNED_INT32: return CUSHIM_TEX_U32;
  case CU_AD_FORMAT_SIGNED_INT8: return CUSHIM_TEX_S8;
  case CU_AD_FORMAT_SIGNED_INT16: return CUSHIM_TEX_S16;
  case CU_AD_FORMAT_SIGNED_INT32: return CUSHIM_TEX_S32;
  case CU_AD_FORMAT_HALF: return CUSHIM_TEX_F16;
  default: return CUSHIM_TEX_F32;
  }
}

Error checkFormat(const char *Api, CUarray_format F, unsigned Channels) {
  if (formatChannelBytes(F) == 0)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: format {:#x} is not supported for textures (8/16/32-bit integers, half and float "
                                 "are)",
                                 Api, static_cast<unsigned>(F)));
  if (Channels != 1 && Channels != 2 && Channels != 4)
    return invalid(Api, fmt::format("{} channels (1, 2 or 4 are allowed)", Channels));
  return Error::success();
}

// Level L of an array as the kernel sees it; Shape and Layers describe the whole resource.
cushim_tex_level levelOf(const Array &A) {
  const CUDA_ARRAY3D_DESCRIPTOR &D = A.descriptor();
  bool Layered = D.Flags & (CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_CUBEMAP);
  cushim_tex_level L{};
  L.data = static_cast<const uint8_t *>(A.storage());
  L.pitch = A.pitch();
  L.slice_pitch = A.pitch() * A.rows();
  L.width = static_cast<uint32_t>(D.Width);
  L.height = static_cast<uint32_t>(A.rows());
  L.depth = Layered ? 1 : static_cast<uint32_t>(A.slices());
  return L;
}

void describeArray(const Array &A, cushim_tex_desc &T) {
  const CUDA_ARRAY3D_DESCRIPTOR &D = A.descriptor();
  bool Layered = D.Flags & CUDA_ARRAY3D_LAYERED, Cube = D.Flags & CUDA_ARRAY3D_CUBEMAP;
  if (Cube)
    T.shape = Layered ? CUSHIM_TEX_SHAPE_CUBE_LAYERED : CUSHIM_TEX_SHAPE_CUBE;
  else if (Layered)
    T.shape = D.Height ? CUSHIM_TEX_SHAPE_2D_LAYERED : CUSHIM_TEX_SHAPE_1D_LAYERED;
  else
    T.shape = D.Depth ? CUSHIM_TEX_SHAPE_3D : D.Height ? CUSHIM_TEX_SHAPE_2D : CUSHIM_TEX_SHAPE_1D;
  T.layers = Layered || Cube ? static_cast<uint32_t>(D.Depth) : 1;
  T.format = texFormat(D.Format);
  T.channels = D.NumChannels;
  T.element_size = A.elementSize();
}

// Fills the resource part of a descriptor (shape, format, levels) from a CUDA_RESOURCE_DESC.
Error describeResource(const char *Api, const CUDA_RESOURCE_DESC &R, cushim_tex_desc &T, bool Surface) {
  if (R.flags != 0)
    return invalid(Api, "resource descriptor flags must be 0");
  switch (R.resType) {
  case CU_RESOURCE_TYPE_ARRAY: {
    Array *A = lookupArray(R.res.array.hArray);
    if (!A)
      return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{}: the resource's array is not a live CUDA array", Api));
    if (Surface && !(A->descriptor().Flags & CUDA_ARRAY3D_SURFACE_LDST))
      return invalid(Api, "the array was not created with the surface load/store flag (cudaArraySurfaceLoadStore)");
    describeArray(*A, T);
    T.level_count = 1;
    T.levels[0] = levelOf(*A);
    return Error::success();
  }
  case CU_RESOURCE_TYPE_MIPMAPPED_ARRAY: {
    if (Surface)
      return invalid(Api, "surfaces bind arrays only, not mipmapped arrays");
    MipmappedArray *M = lookupMipmappedArray(R.res.mipmap.hMipmappedArray);
    if (!M)
      return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{}: not a live mipmapped array", Api));
    describeArray(*M->level(0), T);
    T.level_count = std::min<unsigned>(M->levelCount(), CUSHIM_TEX_MAX_LEVELS);
    for (unsigned L = 0; L < T.level_count; ++L)
      T.levels[L] = levelOf(*M->level(L));
    return Error::success();
  }
  case CU_RESOURCE_TYPE_LINEAR: {
    if (Surface)
      return invalid(Api, "surfaces bind arrays only");
    CUSHIM_TRY(checkFormat(Api, R.res.linear.format, R.res.linear.numChannels));
    unsigned Elem = formatChannelBytes(R.res.linear.format) * R.res.linear.numChannels;
    void *P = reinterpret_cast<void *>(static_cast<uintptr_t>(R.res.linear.devPtr));
    if (!P || !memory_map::containsRange(P, R.res.linear.sizeInBytes))
      return invalid(Api, "the linear resource is not inside a device allocation");
    if (R.res.linear.sizeInBytes / Elem > 268435456)
      return invalid(Api, "the linear resource exceeds the 1D linear texture limit");
    T.shape = CUSHIM_TEX_SHAPE_LINEAR;
    T.format = texFormat(R.res.linear.format);
    T.channels = R.res.linear.numChannels;
    T.element_size = Elem;
    T.layers = 1;
    T.level_count = 1;
    T.levels[0] = cushim_tex_level{static_cast<const uint8_t *>(P), R.res.linear.sizeInBytes,
                                   R.res.linear.sizeInBytes, static_cast<uint32_t>(R.res.linear.sizeInBytes / Elem),
                                   1, 1, 0};
    return Error::success();
  }
  case CU_RESOURCE_TYPE_PITCH2D: {
    if (Surface)
      return invalid(Api, "surfaces bind arrays only");
    const auto &P2 = R.res.pitch2D;
    CUSHIM_TRY(checkFormat(Api, P2.format, P2.numChannels));
    unsigned Elem = formatChannelBytes(P2.format) * P2.numChannels;
    void *P = reinterpret_cast<void *>(static_cast<uintptr_t>(P2.devPtr));
    if (P2.width == 0 || P2.height == 0 || P2.width * Elem > P2.pitchInBytes)
      return invalid(Api, fmt::format("pitch2D resource {}x{} with pitch {} is not valid", P2.width, P2.height,
                                      P2.pitchInBytes));
    if (P2.pitchInBytes % 32 != 0)
      return invalid(Api, fmt::format("pitch {} is not a multiple of the texture pitch alignment (32)",
                                      P2.pitchInBytes));
    if (!P || !memory_map::containsRange(P, (P2.height - 1) * P2.pitchInBytes + P2.width * Elem))
      return invalid(Api, "the pitch2D resource is not inside a device allocation");
    T.shape = CUSHIM_TEX_SHAPE_2D;
    T.format = texFormat(P2.format);
    T.channels = P2.numChannels;
    T.element_size = Elem;
    T.layers = 1;
    T.level_count = 1;
    T.levels[0] = cushim_tex_level{static_cast<const uint8_t *>(P), P2.pitchInBytes, P2.pitchInBytes * P2.height,
                                   static_cast<uint32_t>(P2.width), static_cast<uint32_t>(P2.height), 1, 0};
    return Error::success();
  }
  default:
    return invalid(Api, fmt::format("resource type {} is not valid", static_cast<int>(R.resType)));
  }
}

bool isSmallInteger(uint32_t F) {
  return F == CUSHIM_TEX_U8 || F == CUSHIM_TEX_U16 || F == CUSHIM_TEX_S8 || F == CUSHIM_TEX_S16;
}
bool isInteger(uint32_t F) { return F != CUSHIM_TEX_F16 && F != CUSHIM_TEX_F32; }

// Writes a descriptor into device memory of Ctx (through the HAL, so any backend sees it).
Expected<void *> upload(Context &Ctx, const cushim_tex_desc &T) {
  auto P = Ctx.allocate(sizeof(T), CUSHIM_HAL_MEMORY_DEVICE);
  if (!P)
    return P.takeError();
  Stream &S = Ctx.nullStream();
  Error E = S.copy(*P, &T, sizeof(T));
  if (!E.isError())
    E = S.synchronize();
  if (E.isError()) {
    (void)Ctx.free(*P);
    return E;
  }
  return *P;
}


// Fills the sampler part of a texture descriptor from a CUDA_TEXTURE_DESC, after describeResource.
Error describeSampler(const char *Api, const CUDA_TEXTURE_DESC &Tex, cushim_tex_desc &T) {
  for (int I = 0; I < 3; ++I) {
    if (Tex.addressMode[I] < CU_TR_ADDRESS_MODE_WRAP || Tex.addressMode[I] > CU_TR_ADDRESS_MODE_BORDER)
      return invalid(Api, fmt::format("address mode {} is not valid", static_cast<int>(Tex.addressMode[I])));
    T.address_mode[I] = Tex.addressMode[I];
  }
  if (Tex.filterMode != CU_TR_FILTER_MODE_POINT && Tex.filterMode != CU_TR_FILTER_MODE_LINEAR)
    return invalid(Api, fmt::format("filter mode {} is not valid", static_cast<int>(Tex.filterMode)));
  if (Tex.mipmapFilterMode != CU_TR_FILTER_MODE_POINT && Tex.mipmapFilterMode != CU_TR_FILTER_MODE_LINEAR)
    return invalid(Api, fmt::format("mipmap filter mode {} is not valid", static_cast<int>(Tex.mipmapFilterMode)));
  constexpr unsigned KnownFlags = CU_TRSF_READ_AS_INTEGER | CU_TRSF_NORMALIZED_COORDINATES | CU_TRSF_SRGB |
                                  CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION | CU_TRSF_SEAMLESS_CUBEMAP;
  if (Tex.flags & ~KnownFlags)
    return invalid(Api, fmt::format("texture flags {:#x} are not valid", Tex.flags & ~KnownFlags));
  T.filter_mode = Tex.filterMode;
  T.mipmap_filter_mode = Tex.mipmapFilterMode;
  // Without CU_TRSF_READ_AS_INTEGER, 8- and 16-bit integers are promoted to normalized floats.
  T.read_normalized = !(Tex.flags & CU_TRSF_READ_AS_INTEGER) && isSmallInteger(T.format);
  T.normalized_coords = (Tex.flags & CU_TRSF_NORMALIZED_COORDINATES) != 0;
  T.srgb = (Tex.flags & CU_TRSF_SRGB) != 0;
  T.seamless_cubemap = (Tex.flags & CU_TRSF_SEAMLESS_CUBEMAP) != 0;
  if (T.filter_mode == CU_TR_FILTER_MODE_LINEAR && isInteger(T.format) && !T.read_normalized)
    return invalid(Api, "linear filtering needs a texture that returns floats (float/half data or normalized reads)");
  if (T.shape == CUSHIM_TEX_SHAPE_LINEAR && (T.filter_mode == CU_TR_FILTER_MODE_LINEAR || T.normalized_coords))
    return invalid(Api, "linear-memory textures support neither linear filtering nor normalized coordinates");
  if (!T.normalized_coords)
    for (int I = 0; I < 3; ++I)
      if (T.address_mode[I] == CU_TR_ADDRESS_MODE_WRAP || T.address_mode[I] == CU_TR_ADDRESS_MODE_MIRROR)
        T.address_mode[I] = CU_TR_ADDRESS_MODE_CLAMP; // CUDA: wrap and mirror need normalized coordinates
  std::memcpy(T.border_color, Tex.borderColor, sizeof(T.border_color));
  T.mipmap_level_bias = Tex.mipmapLevelBias;
  T.min_mipmap_level_clamp = Tex.minMipmapLevelClamp;
  T.max_mipmap_level_clamp = Tex.maxMipmapLevelClamp;
  return Error::success();
}

} // namespace

Expected<TextureObject *> TextureObject::create(Context &Ctx, const CUDA_RESOURCE_DESC &Res,
                                                const CUDA_TEXTURE_DESC &Tex, const CUDA_RESOURCE_VIEW_DESC *View,
                                                const char *Api) {
  cushim_tex_desc T{};
  T.magic = CUSHIM_TEX_MAGIC;
  CUSHIM_TRY(describeResource(Api, Res, T, false));
  CUSHIM_TRY(describeSampler(Api, Tex, T));
  if (View) {
    // Views that reinterpret the data are not implemented; the identity view (and level/layer ranges covering the
    // whole resource) is.
    bool Identity = View->firstMipmapLevel == 0 && View->firstLayer == 0 &&
                    (View->lastMipmapLevel == 0 || View->lastMipmapLevel + 1 == T.level_count) &&
                    (View->lastLayer == 0 || View->lastLayer + 1 == T.layers) &&
                    (View->width == 0 || View->width == T.levels[0].width);
    if (!Identity)
      return makeError(CUDA_ERROR_NOT_SUPPORTED,
                       fmt::format("{}: resource views other than the whole resource in its own format are not "
                                   "supported (format {}, levels {}..{}, layers {}..{})",
                                   Api, static_cast<int>(View->format), View->firstMipmapLevel, View->lastMipmapLevel,
                                   View->firstLayer, View->lastLayer));
  }
  auto P = upload(Ctx, T);
  if (!P)
    return P.takeError();
  auto *O = new TextureObject();
  O->Ctx = &Ctx;
  O->Device = *P;
  O->Handle = reinterpret_cast<uintptr_t>(*P);
  O->Res = Res;
  O->Tex = Tex;
  if (View)
    O->View = *View;
  textures().add(O);
  return O;
}

Error TextureObject::destroy(TextureObject *T) {
  textures().remove(T);
  // Kernels already queued may still read the descriptor: free it after the context's work.
  (void)T->Ctx->synchronize();
  (void)T->Ctx->free(T->Device);
  delete T;
  return Error::success();
}

Expected<SurfaceObject *> SurfaceObject::create(Context &Ctx, const CUDA_RESOURCE_DESC &Res, const char *Api) {
  if (Res.resType != CU_RESOURCE_TYPE_ARRAY)
    return invalid(Api, "a surface object's resource must be a CUDA array");
  cushim_tex_desc T{};
  T.magic = CUSHIM_SURF_MAGIC;
  CUSHIM_TRY(describeResource(Api, Res, T, true));
  auto P = upload(Ctx, T);
  if (!P)
    return P.takeError();
  auto *O = new SurfaceObject();
  O->Ctx = &Ctx;
  O->Device = *P;
  O->Handle = reinterpret_cast<uintptr_t>(*P);
  O->Res = Res;
  surfaces().add(O);
  return O;
}

Error SurfaceObject::destroy(SurfaceObject *S) {
  surfaces().remove(S);
  (void)S->Ctx->synchronize();
  (void)S->Ctx->free(S->Device);
  delete S;
  return Error::success();
}

namespace {
std::mutex ReferenceMutex;
std::map<const void *, TextureReference *> &references() {
  static auto *M = new std::map<const void *, TextureReference *>();
  return *M;
}
} // namespace

TextureReference::TextureReference(Context &Ctx, Kind K, void *Slot) : Ctx(Ctx), K(K), Slot(Slot) {
  // cuTexRefCreate's defaults: clamp, point filtering, flags 0 (normalized-float reads, unnormalized coordinates).
  for (CUaddress_mode &M : Tex.addressMode)
    M = CU_TR_ADDRESS_MODE_CLAMP;
  std::lock_guard<std::mutex> G(ReferenceMutex);
  references()[this] = this;
}

TextureReference::~TextureReference() {
  {
    std::lock_guard<std::mutex> G(ReferenceMutex);
    references().erase(this);
  }
  if (Device)
    (void)Ctx.free(Device);
}

Error TextureReference::apply(const char *Api, bool Rebind) {
  if (Rebind && Bound) {
    cushim_tex_desc R{};
    CUSHIM_TRY(describeResource(Api, Res, R, K == Kind::Surface));
    Resource = R;
  }
  if (!Slot)
    return Error::success(); // cuTexRefCreate's references are state only
  cushim_tex_desc T = Resource;
  T.magic = K == Kind::Surface ? CUSHIM_SURF_MAGIC : CUSHIM_TEX_MAGIC;
  uint64_t Handle = 0;
  if (Bound) {
    if (K == Kind::Surface) {
      Handle = 1;
    } else if (Error E = describeSampler(Api, Tex, T); E.isError()) {
      // Sampler state is set one call at a time, so intermediate states may be invalid: not an error of this call.
      CUSHIM_LOG_DEBUG("{}: texture reference {} unusable until its state is valid: {}", Api,
                       static_cast<void *>(this), E.message());
    } else {
      Handle = 1;
    }
  }
  // Launches already queued keep the binding they were launched with.
  CUSHIM_TRY(Ctx.synchronize());
  if (Handle) {
    if (!Device) {
      auto P = Ctx.allocate(sizeof(T), CUSHIM_HAL_MEMORY_DEVICE);
      if (!P)
        return P.takeError();
      Device = *P;
    }
    Handle = reinterpret_cast<uintptr_t>(Device);
  }
  Stream &S = Ctx.nullStream();
  if (Handle)
    CUSHIM_TRY(S.copy(Device, &T, sizeof(T)));
  CUSHIM_TRY(S.copy(Slot, &Handle, sizeof(Handle)));
  return S.synchronize();
}

TextureReference *lookupTextureReference(const void *Handle, TextureReference::Kind K) {
  std::lock_guard<std::mutex> G(ReferenceMutex);
  auto It = references().find(Handle);
  return It == references().end() || It->second->kind() != K ? nullptr : It->second;
}

TextureObject *lookupTexture(unsigned long long Handle) { return textures().lookup(Handle); }
SurfaceObject *lookupSurface(unsigned long long Handle) { return surfaces().lookup(Handle); }

} // namespace cushim::core
