// The legacy texture and surface references of the driver API (cuModuleGetTexRef, cuTexRef*, cuModuleGetSurfRef,
// cuSurfRef*) over core::TextureReference: each setter changes the reference's state and rewrites the descriptor its
// module's .texref/.surfref slot points to (docs/TEXTURES.md). The 32-bit-pointer v1 forms (cuTexRefSetAddress,
// cuTexRefSetAddress2D, cuTexRefGetAddress without suffix) stay generated stubs: no 64-bit address fits them.
#include "driver/DriverApi.h"

#include "core/Array.h"
#include "core/Module.h"
#include "core/Texture.h"

#include <fmt/format.h>

#include <cstring>

using namespace cushim;
using namespace cushim::driver;
using core::TextureReference;

namespace {

Expected<TextureReference *> liveReference(const char *Api, const void *Handle, TextureReference::Kind K) {
  CUSHIM_TRY(requireInit());
  if (TextureReference *R = core::lookupTextureReference(Handle, K))
    return R;
  return makeError(CUDA_ERROR_INVALID_VALUE,
                   fmt::format("{}: {} is not a live {} reference", Api, Handle,
                               K == TextureReference::Kind::Surface ? "surface" : "texture"));
}

// Runs Change on a live texture reference, then rewrites its descriptor; Binds: Change may have moved the binding
// (or the format of a linear one), so the resource is described again.
template <typename F> Error changeTexture(const char *Api, CUtexref H, F Change, bool Binds = false) {
  auto R = liveReference(Api, H, TextureReference::Kind::Texture);
  if (!R)
    return R.takeError();
  CUSHIM_TRY(Change(**R));
  return (*R)->apply(Api, Binds);
}

// Reads state of a live texture reference into an out-pointer.
template <typename F> Error readTexture(const char *Api, CUtexref H, const void *Out, F Read) {
  auto R = liveReference(Api, H, TextureReference::Kind::Texture);
  if (!R)
    return R.takeError();
  if (!Out)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: the output pointer is NULL", Api));
  return Read(**R);
}

Error invalid(const char *Api, const std::string &Why) {
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {}", Api, Why));
}

Expected<core::Array *> liveArray(const char *Api, CUarray H) {
  if (core::Array *A = core::lookupArray(H))
    return A;
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} is not a live CUDA array", Api,
                                                         static_cast<void *>(H)));
}

Error getReference(const char *Api, void **Out, CUmodule Hmod, const char *Name, bool Surface) {
  CUSHIM_TRY(requireInit());
  if (!Out || !Name)
    return invalid(Api, "a pointer argument is NULL");
  core::Module *M = core::lookupModule(Hmod);
  if (!M)
    return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{}: not a live module", Api));
  auto R = M->textureReference(Name, Surface);
  if (!R)
    return R.takeError();
  *Out = *R;
  return Error::success();
}

} // namespace

CUSHIM_EXPORT CUresult cuModuleGetTexRef(CUtexref *PTexRef, CUmodule Hmod, const char *Name) {
  ApiTrace T("cuModuleGetTexRef");
  T.args("pTexRef={} hmod={} name={}", static_cast<void *>(PTexRef), static_cast<void *>(Hmod),
         Name ? Name : "(null)");
  return T.done(getReference("cuModuleGetTexRef", reinterpret_cast<void **>(PTexRef), Hmod, Name, false));
}

CUSHIM_EXPORT CUresult cuModuleGetSurfRef(CUsurfref *PSurfRef, CUmodule Hmod, const char *Name) {
  ApiTrace T("cuModuleGetSurfRef");
  T.args("pSurfRef={} hmod={} name={}", static_cast<void *>(PSurfRef), static_cast<void *>(Hmod),
         Name ? Name : "(null)");
  return T.done(getReference("cuModuleGetSurfRef", reinterpret_cast<void **>(PSurfRef), Hmod, Name, true));
}

CUSHIM_EXPORT CUresult cuTexRefCreate(CUtexref *PTexRef) {
  ApiTrace T("cuTexRefCreate");
  T.args("pTexRef={}", static_cast<void *>(PTexRef));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuTexRefCreate");
    if (!Ctx)
      return Ctx.takeError();
    if (!PTexRef)
      return invalid("cuTexRefCreate", "pTexRef is NULL");
    *PTexRef = (new TextureReference(**Ctx, TextureReference::Kind::Texture, nullptr))->texHandle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuTexRefDestroy(CUtexref HTexRef) {
  ApiTrace T("cuTexRefDestroy");
  T.args("hTexRef={}", static_cast<void *>(HTexRef));
  CUSHIM_DRIVER_BODY(T, {
    auto R = liveReference("cuTexRefDestroy", HTexRef, TextureReference::Kind::Texture);
    if (!R)
      return R.takeError();
    if ((*R)->ownedByModule())
      return invalid("cuTexRefDestroy", "the reference belongs to a module (only cuTexRefCreate's can be destroyed)");
    delete *R;
    return Error::success();
  });
}

// --- Bindings ---------------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuTexRefSetArray(CUtexref HTexRef, CUarray HArray, unsigned int Flags) {
  ApiTrace T("cuTexRefSetArray");
  T.args("hTexRef={} hArray={} flags={:#x}", static_cast<void *>(HTexRef), static_cast<void *>(HArray), Flags);
  return T.done(changeTexture("cuTexRefSetArray", HTexRef, [&](TextureReference &R) -> Error {
    if (Flags & ~CU_TRSA_OVERRIDE_FORMAT)
      return invalid("cuTexRefSetArray", fmt::format("flags {:#x} (only CU_TRSA_OVERRIDE_FORMAT)", Flags));
    auto A = liveArray("cuTexRefSetArray", HArray);
    if (!A)
      return A.takeError();
    // The reference takes the array's format (CU_TRSA_OVERRIDE_FORMAT: texels are read as the array stores them).
    R.Format = (*A)->descriptor().Format;
    R.Channels = static_cast<int>((*A)->descriptor().NumChannels);
    R.Res = CUDA_RESOURCE_DESC{};
    R.Res.resType = CU_RESOURCE_TYPE_ARRAY;
    R.Res.res.array.hArray = HArray;
    R.Bound = true;
    return Error::success();
  }, true));
}

CUSHIM_EXPORT CUresult cuTexRefSetMipmappedArray(CUtexref HTexRef, CUmipmappedArray HMipmappedArray,
                                                 unsigned int Flags) {
  ApiTrace T("cuTexRefSetMipmappedArray");
  T.args("hTexRef={} hMipmappedArray={} flags={:#x}", static_cast<void *>(HTexRef),
         static_cast<void *>(HMipmappedArray), Flags);
  return T.done(changeTexture("cuTexRefSetMipmappedArray", HTexRef, [&](TextureReference &R) -> Error {
    if (Flags & ~CU_TRSA_OVERRIDE_FORMAT)
      return invalid("cuTexRefSetMipmappedArray", fmt::format("flags {:#x} (only CU_TRSA_OVERRIDE_FORMAT)", Flags));
    core::MipmappedArray *M = core::lookupMipmappedArray(HMipmappedArray);
    if (!M)
      return invalid("cuTexRefSetMipmappedArray", "not a live mipmapped array");
    R.Format = M->level(0)->descriptor().Format;
    R.Channels = static_cast<int>(M->level(0)->descriptor().NumChannels);
    R.Res = CUDA_RESOURCE_DESC{};
    R.Res.resType = CU_RESOURCE_TYPE_MIPMAPPED_ARRAY;
    R.Res.res.mipmap.hMipmappedArray = HMipmappedArray;
    R.Bound = true;
    return Error::success();
  }, true));
}

// Our linear textures start at any address, so the offset CUDA asks fetches to add is always 0.
CUSHIM_EXPORT CUresult cuTexRefSetAddress_v2(size_t *ByteOffset, CUtexref HTexRef, CUdeviceptr Dptr, size_t Bytes) {
  ApiTrace T("cuTexRefSetAddress_v2");
  T.args("byteOffset={} hTexRef={} dptr={:#x} bytes={}", static_cast<void *>(ByteOffset),
         static_cast<void *>(HTexRef), Dptr, Bytes);
  return T.done(changeTexture("cuTexRefSetAddress", HTexRef, [&](TextureReference &R) -> Error {
    if (ByteOffset)
      *ByteOffset = 0;
    R.Res = CUDA_RESOURCE_DESC{};
    if (Dptr == 0) { // binding NULL unbinds
      R.Bound = false;
      return Error::success();
    }
    R.Res.resType = CU_RESOURCE_TYPE_LINEAR;
    R.Res.res.linear.devPtr = Dptr;
    R.Res.res.linear.format = R.Format;
    R.Res.res.linear.numChannels = static_cast<unsigned>(R.Channels);
    R.Res.res.linear.sizeInBytes = Bytes;
    R.Bound = true;
    return Error::success();
  }, true));
}

static Error setAddress2D(const char *Api, CUtexref HTexRef, const CUDA_ARRAY_DESCRIPTOR *Desc, CUdeviceptr Dptr,
                          size_t Pitch) {
  return changeTexture(Api, HTexRef, [&](TextureReference &R) -> Error {
    if (!Desc)
      return invalid(Api, "desc is NULL");
    R.Format = Desc->Format;
    R.Channels = static_cast<int>(Desc->NumChannels);
    R.Res = CUDA_RESOURCE_DESC{};
    R.Res.resType = CU_RESOURCE_TYPE_PITCH2D;
    R.Res.res.pitch2D.devPtr = Dptr;
    R.Res.res.pitch2D.format = Desc->Format;
    R.Res.res.pitch2D.numChannels = Desc->NumChannels;
    R.Res.res.pitch2D.width = Desc->Width;
    R.Res.res.pitch2D.height = Desc->Height;
    R.Res.res.pitch2D.pitchInBytes = Pitch;
    R.Bound = true;
    return Error::success();
  }, true);
}

CUSHIM_EXPORT CUresult cuTexRefSetAddress2D_v3(CUtexref HTexRef, const CUDA_ARRAY_DESCRIPTOR *Desc, CUdeviceptr Dptr,
                                               size_t Pitch) {
  ApiTrace T("cuTexRefSetAddress2D_v3");
  T.args("hTexRef={} desc={} dptr={:#x} pitch={}", static_cast<void *>(HTexRef), static_cast<const void *>(Desc),
         Dptr, Pitch);
  return T.done(setAddress2D("cuTexRefSetAddress2D", HTexRef, Desc, Dptr, Pitch));
}

CUSHIM_EXPORT CUresult cuTexRefSetAddress2D_v2(CUtexref HTexRef, const CUDA_ARRAY_DESCRIPTOR *Desc, CUdeviceptr Dptr,
                                               size_t Pitch) {
  ApiTrace T("cuTexRefSetAddress2D_v2");
  T.args("hTexRef={} desc={} dptr={:#x} pitch={}", static_cast<void *>(HTexRef), static_cast<const void *>(Desc),
         Dptr, Pitch);
  return T.done(setAddress2D("cuTexRefSetAddress2D", HTexRef, Desc, Dptr, Pitch));
}

// --- Sampler state ----------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuTexRefSetFormat(CUtexref HTexRef, CUarray_format Fmt, int NumPackedComponents) {
  ApiTrace T("cuTexRefSetFormat");
  T.args("hTexRef={} fmt={:#x} components={}", static_cast<void *>(HTexRef), static_cast<unsigned>(Fmt),
         NumPackedComponents);
  return T.done(changeTexture("cuTexRefSetFormat", HTexRef, [&](TextureReference &R) -> Error {
    if (core::formatChannelBytes(Fmt) == 0)
      return invalid("cuTexRefSetFormat", fmt::format("format {:#x} is not supported", static_cast<unsigned>(Fmt)));
    if (NumPackedComponents != 1 && NumPackedComponents != 2 && NumPackedComponents != 4)
      return invalid("cuTexRefSetFormat", fmt::format("{} components (1, 2 or 4)", NumPackedComponents));
    R.Format = Fmt;
    R.Channels = NumPackedComponents;
    // A linear binding reads with the reference's format; arrays keep their own.
    if (R.Bound && R.Res.resType == CU_RESOURCE_TYPE_LINEAR) {
      R.Res.res.linear.format = Fmt;
      R.Res.res.linear.numChannels = static_cast<unsigned>(NumPackedComponents);
    }
    return Error::success();
  }, true));
}

CUSHIM_EXPORT CUresult cuTexRefSetAddressMode(CUtexref HTexRef, int Dim, CUaddress_mode Am) {
  ApiTrace T("cuTexRefSetAddressMode");
  T.args("hTexRef={} dim={} am={}", static_cast<void *>(HTexRef), Dim, static_cast<int>(Am));
  return T.done(changeTexture("cuTexRefSetAddressMode", HTexRef, [&](TextureReference &R) -> Error {
    if (Dim < 0 || Dim > 2)
      return invalid("cuTexRefSetAddressMode", fmt::format("dimension {} (0, 1 or 2)", Dim));
    if (Am < CU_TR_ADDRESS_MODE_WRAP || Am > CU_TR_ADDRESS_MODE_BORDER)
      return invalid("cuTexRefSetAddressMode", fmt::format("address mode {}", static_cast<int>(Am)));
    R.Tex.addressMode[Dim] = Am;
    return Error::success();
  }));
}

static Error checkFilter(const char *Api, CUfilter_mode Fm) {
  if (Fm != CU_TR_FILTER_MODE_POINT && Fm != CU_TR_FILTER_MODE_LINEAR)
    return invalid(Api, fmt::format("filter mode {}", static_cast<int>(Fm)));
  return Error::success();
}

CUSHIM_EXPORT CUresult cuTexRefSetFilterMode(CUtexref HTexRef, CUfilter_mode Fm) {
  ApiTrace T("cuTexRefSetFilterMode");
  T.args("hTexRef={} fm={}", static_cast<void *>(HTexRef), static_cast<int>(Fm));
  return T.done(changeTexture("cuTexRefSetFilterMode", HTexRef, [&](TextureReference &R) -> Error {
    CUSHIM_TRY(checkFilter("cuTexRefSetFilterMode", Fm));
    R.Tex.filterMode = Fm;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefSetMipmapFilterMode(CUtexref HTexRef, CUfilter_mode Fm) {
  ApiTrace T("cuTexRefSetMipmapFilterMode");
  T.args("hTexRef={} fm={}", static_cast<void *>(HTexRef), static_cast<int>(Fm));
  return T.done(changeTexture("cuTexRefSetMipmapFilterMode", HTexRef, [&](TextureReference &R) -> Error {
    CUSHIM_TRY(checkFilter("cuTexRefSetMipmapFilterMode", Fm));
    R.Tex.mipmapFilterMode = Fm;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefSetMipmapLevelBias(CUtexref HTexRef, float Bias) {
  ApiTrace T("cuTexRefSetMipmapLevelBias");
  T.args("hTexRef={} bias={}", static_cast<void *>(HTexRef), Bias);
  return T.done(changeTexture("cuTexRefSetMipmapLevelBias", HTexRef, [&](TextureReference &R) -> Error {
    R.Tex.mipmapLevelBias = Bias;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefSetMipmapLevelClamp(CUtexref HTexRef, float MinClamp, float MaxClamp) {
  ApiTrace T("cuTexRefSetMipmapLevelClamp");
  T.args("hTexRef={} min={} max={}", static_cast<void *>(HTexRef), MinClamp, MaxClamp);
  return T.done(changeTexture("cuTexRefSetMipmapLevelClamp", HTexRef, [&](TextureReference &R) -> Error {
    R.Tex.minMipmapLevelClamp = MinClamp;
    R.Tex.maxMipmapLevelClamp = MaxClamp;
    return Error::success();
  }));
}

// Stored and reported; anisotropic filtering itself is not implemented (as for texture objects).
CUSHIM_EXPORT CUresult cuTexRefSetMaxAnisotropy(CUtexref HTexRef, unsigned int MaxAniso) {
  ApiTrace T("cuTexRefSetMaxAnisotropy");
  T.args("hTexRef={} maxAniso={}", static_cast<void *>(HTexRef), MaxAniso);
  return T.done(changeTexture("cuTexRefSetMaxAnisotropy", HTexRef, [&](TextureReference &R) -> Error {
    R.Tex.maxAnisotropy = MaxAniso;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefSetBorderColor(CUtexref HTexRef, float *PBorderColor) {
  ApiTrace T("cuTexRefSetBorderColor");
  T.args("hTexRef={} borderColor={}", static_cast<void *>(HTexRef), static_cast<void *>(PBorderColor));
  return T.done(changeTexture("cuTexRefSetBorderColor", HTexRef, [&](TextureReference &R) -> Error {
    if (!PBorderColor)
      return invalid("cuTexRefSetBorderColor", "pBorderColor is NULL");
    std::memcpy(R.Tex.borderColor, PBorderColor, sizeof(R.Tex.borderColor));
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefSetFlags(CUtexref HTexRef, unsigned int Flags) {
  ApiTrace T("cuTexRefSetFlags");
  T.args("hTexRef={} flags={:#x}", static_cast<void *>(HTexRef), Flags);
  return T.done(changeTexture("cuTexRefSetFlags", HTexRef, [&](TextureReference &R) -> Error {
    constexpr unsigned Known = CU_TRSF_READ_AS_INTEGER | CU_TRSF_NORMALIZED_COORDINATES | CU_TRSF_SRGB |
                               CU_TRSF_DISABLE_TRILINEAR_OPTIMIZATION | CU_TRSF_SEAMLESS_CUBEMAP;
    if (Flags & ~Known)
      return invalid("cuTexRefSetFlags", fmt::format("flags {:#x} are not valid", Flags & ~Known));
    R.Tex.flags = Flags;
    return Error::success();
  }));
}

// --- Getters ----------------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuTexRefGetAddress_v2(CUdeviceptr *Pdptr, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetAddress_v2");
  T.args("pdptr={} hTexRef={}", static_cast<void *>(Pdptr), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetAddress", HTexRef, Pdptr, [&](TextureReference &R) -> Error {
    if (R.Bound && R.Res.resType == CU_RESOURCE_TYPE_LINEAR)
      *Pdptr = R.Res.res.linear.devPtr;
    else if (R.Bound && R.Res.resType == CU_RESOURCE_TYPE_PITCH2D)
      *Pdptr = R.Res.res.pitch2D.devPtr;
    else
      return invalid("cuTexRefGetAddress", "the reference is not bound to linear memory");
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetArray(CUarray *PhArray, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetArray");
  T.args("phArray={} hTexRef={}", static_cast<void *>(PhArray), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetArray", HTexRef, PhArray, [&](TextureReference &R) -> Error {
    if (!R.Bound || R.Res.resType != CU_RESOURCE_TYPE_ARRAY)
      return invalid("cuTexRefGetArray", "the reference is not bound to a CUDA array");
    *PhArray = R.Res.res.array.hArray;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetMipmappedArray(CUmipmappedArray *PhMipmappedArray, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetMipmappedArray");
  T.args("phMipmappedArray={} hTexRef={}", static_cast<void *>(PhMipmappedArray), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetMipmappedArray", HTexRef, PhMipmappedArray, [&](TextureReference &R) -> Error {
    if (!R.Bound || R.Res.resType != CU_RESOURCE_TYPE_MIPMAPPED_ARRAY)
      return invalid("cuTexRefGetMipmappedArray", "the reference is not bound to a mipmapped array");
    *PhMipmappedArray = R.Res.res.mipmap.hMipmappedArray;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetAddressMode(CUaddress_mode *Pam, CUtexref HTexRef, int Dim) {
  ApiTrace T("cuTexRefGetAddressMode");
  T.args("pam={} hTexRef={} dim={}", static_cast<void *>(Pam), static_cast<void *>(HTexRef), Dim);
  return T.done(readTexture("cuTexRefGetAddressMode", HTexRef, Pam, [&](TextureReference &R) -> Error {
    if (Dim < 0 || Dim > 2)
      return invalid("cuTexRefGetAddressMode", fmt::format("dimension {} (0, 1 or 2)", Dim));
    *Pam = R.Tex.addressMode[Dim];
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetFilterMode(CUfilter_mode *Pfm, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetFilterMode");
  T.args("pfm={} hTexRef={}", static_cast<void *>(Pfm), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetFilterMode", HTexRef, Pfm, [&](TextureReference &R) -> Error {
    *Pfm = R.Tex.filterMode;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetFormat(CUarray_format *PFormat, int *PNumChannels, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetFormat");
  T.args("pFormat={} pNumChannels={} hTexRef={}", static_cast<void *>(PFormat), static_cast<void *>(PNumChannels),
         static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetFormat", HTexRef, PFormat, [&](TextureReference &R) -> Error {
    *PFormat = R.Format;
    if (PNumChannels)
      *PNumChannels = R.Channels;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetMipmapFilterMode(CUfilter_mode *Pfm, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetMipmapFilterMode");
  T.args("pfm={} hTexRef={}", static_cast<void *>(Pfm), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetMipmapFilterMode", HTexRef, Pfm, [&](TextureReference &R) -> Error {
    *Pfm = R.Tex.mipmapFilterMode;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetMipmapLevelBias(float *Pbias, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetMipmapLevelBias");
  T.args("pbias={} hTexRef={}", static_cast<void *>(Pbias), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetMipmapLevelBias", HTexRef, Pbias, [&](TextureReference &R) -> Error {
    *Pbias = R.Tex.mipmapLevelBias;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetMipmapLevelClamp(float *PminClamp, float *PmaxClamp, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetMipmapLevelClamp");
  T.args("pmin={} pmax={} hTexRef={}", static_cast<void *>(PminClamp), static_cast<void *>(PmaxClamp),
         static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetMipmapLevelClamp", HTexRef, PminClamp, [&](TextureReference &R) -> Error {
    if (!PmaxClamp)
      return invalid("cuTexRefGetMipmapLevelClamp", "pmaxMipmapLevelClamp is NULL");
    *PminClamp = R.Tex.minMipmapLevelClamp;
    *PmaxClamp = R.Tex.maxMipmapLevelClamp;
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetMaxAnisotropy(int *PmaxAniso, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetMaxAnisotropy");
  T.args("pmaxAniso={} hTexRef={}", static_cast<void *>(PmaxAniso), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetMaxAnisotropy", HTexRef, PmaxAniso, [&](TextureReference &R) -> Error {
    *PmaxAniso = static_cast<int>(R.Tex.maxAnisotropy);
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetBorderColor(float *PBorderColor, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetBorderColor");
  T.args("pBorderColor={} hTexRef={}", static_cast<void *>(PBorderColor), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetBorderColor", HTexRef, PBorderColor, [&](TextureReference &R) -> Error {
    std::memcpy(PBorderColor, R.Tex.borderColor, sizeof(R.Tex.borderColor));
    return Error::success();
  }));
}

CUSHIM_EXPORT CUresult cuTexRefGetFlags(unsigned int *PFlags, CUtexref HTexRef) {
  ApiTrace T("cuTexRefGetFlags");
  T.args("pFlags={} hTexRef={}", static_cast<void *>(PFlags), static_cast<void *>(HTexRef));
  return T.done(readTexture("cuTexRefGetFlags", HTexRef, PFlags, [&](TextureReference &R) -> Error {
    *PFlags = R.Tex.flags;
    return Error::success();
  }));
}

// --- Surface references -----------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuSurfRefSetArray(CUsurfref HSurfRef, CUarray HArray, unsigned int Flags) {
  ApiTrace T("cuSurfRefSetArray");
  T.args("hSurfRef={} hArray={} flags={:#x}", static_cast<void *>(HSurfRef), static_cast<void *>(HArray), Flags);
  CUSHIM_DRIVER_BODY(T, {
    auto R = liveReference("cuSurfRefSetArray", HSurfRef, TextureReference::Kind::Surface);
    if (!R)
      return R.takeError();
    if (Flags != 0)
      return invalid("cuSurfRefSetArray", fmt::format("flags {:#x} (must be 0)", Flags));
    auto A = liveArray("cuSurfRefSetArray", HArray);
    if (!A)
      return A.takeError();
    if (!((*A)->descriptor().Flags & CUDA_ARRAY3D_SURFACE_LDST))
      return invalid("cuSurfRefSetArray", "the array was not created with CUDA_ARRAY3D_SURFACE_LDST");
    (*R)->Res = CUDA_RESOURCE_DESC{};
    (*R)->Res.resType = CU_RESOURCE_TYPE_ARRAY;
    (*R)->Res.res.array.hArray = HArray;
    (*R)->Bound = true;
    return (*R)->apply("cuSurfRefSetArray", true);
  });
}

CUSHIM_EXPORT CUresult cuSurfRefGetArray(CUarray *PhArray, CUsurfref HSurfRef) {
  ApiTrace T("cuSurfRefGetArray");
  T.args("phArray={} hSurfRef={}", static_cast<void *>(PhArray), static_cast<void *>(HSurfRef));
  CUSHIM_DRIVER_BODY(T, {
    auto R = liveReference("cuSurfRefGetArray", HSurfRef, TextureReference::Kind::Surface);
    if (!R)
      return R.takeError();
    if (!PhArray)
      return invalid("cuSurfRefGetArray", "phArray is NULL");
    if (!(*R)->Bound)
      return invalid("cuSurfRefGetArray", "the reference is not bound to an array");
    *PhArray = (*R)->Res.res.array.hArray;
    return Error::success();
  });
}
