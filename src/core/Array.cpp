// CUDA arrays and mipmapped arrays: descriptor validation, storage in device memory, live-handle registries.
#include "core/Array.h"

#include "core/Context.h"
#include "core/Handles.h"
#include "cuda_shim/hal.h"

#include <fmt/format.h>

#include <algorithm>

namespace cushim::core {

namespace {
HandleRegistry<Array> &arrays() {
  static auto *R = new HandleRegistry<Array>();
  return *R;
}
HandleRegistry<MipmappedArray> &mipmaps() {
  static auto *R = new HandleRegistry<MipmappedArray>();
  return *R;
}

constexpr unsigned KnownFlags = CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_SURFACE_LDST | CUDA_ARRAY3D_CUBEMAP |
                                CUDA_ARRAY3D_TEXTURE_GATHER;

Error checkDescriptor(const CUDA_ARRAY3D_DESCRIPTOR &D, const char *Api) {
  auto bad = [&](const std::string &Why) {
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: {} (width {}, height {}, depth {}, flags {:#x})", Api, Why, D.Width, D.Height,
                                 D.Depth, D.Flags));
  };
  if (D.Flags & ~KnownFlags)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: array flags {:#x} are not supported (only layered, surface load/store, cubemap "
                                 "and texture gather)",
                                 Api, D.Flags & ~KnownFlags));
  if (formatChannelBytes(D.Format) == 0)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: array format {:#x} is not supported (8/16/32-bit integers, half and float are)",
                                 Api, static_cast<unsigned>(D.Format)));
  if (D.NumChannels != 1 && D.NumChannels != 2 && D.NumChannels != 4)
    return bad(fmt::format("{} channels (1, 2 or 4 are allowed)", D.NumChannels));
  if (D.Width == 0)
    return bad("width is 0");
  bool Layered = D.Flags & CUDA_ARRAY3D_LAYERED, Cube = D.Flags & CUDA_ARRAY3D_CUBEMAP;
  if (Cube) {
    if (D.Width != D.Height)
      return bad("a cubemap must be square");
    if (Layered ? (D.Depth == 0 || D.Depth % 6 != 0) : D.Depth != 6)
      return bad("a cubemap has depth 6 (a layered cubemap a multiple of 6)");
  } else if (Layered) {
    if (D.Depth == 0)
      return bad("a layered array needs at least one layer (depth)");
  } else if (D.Height == 0 && D.Depth != 0) {
    return bad("a 3D array needs a height");
  }
  // The largest of the device's array limits (docs/TEXTURES.md); the finer per-shape limits are not enforced.
  if (D.Width > 131072 || D.Height > 65536 || D.Depth > 16384)
    return bad("dimensions exceed the device's array limits");
  return Error::success();
}
} // namespace

unsigned formatChannelBytes(CUarray_format Format) {
  switch (Format) {
  case CU_AD_FORMAT_UNSIGNED_INT8:
  case CU_AD_FORMAT_SIGNED_INT8:
    return 1;
  case CU_AD_FORMAT_UNSIGNED_INT16:
  case CU_AD_FORMAT_SIGNED_INT16:
  case CU_AD_FORMAT_HALF:
    return 2;
  case CU_AD_FORMAT_UNSIGNED_INT32:
  case CU_AD_FORMAT_SIGNED_INT32:
  case CU_AD_FORMAT_FLOAT:
    return 4;
  default:
    return 0;
  }
}

const char *formatName(CUarray_format Format) {
  switch (Format) {
  case CU_AD_FORMAT_UNSIGNED_INT8: return "u8";
  case CU_AD_FORMAT_SIGNED_INT8: return "s8";
  case CU_AD_FORMAT_UNSIGNED_INT16: return "u16";
  case CU_AD_FORMAT_SIGNED_INT16: return "s16";
  case CU_AD_FORMAT_HALF: return "f16";
  case CU_AD_FORMAT_UNSIGNED_INT32: return "u32";
  case CU_AD_FORMAT_SIGNED_INT32: return "s32";
  case CU_AD_FORMAT_FLOAT: return "f32";
  default: return "unsupported";
  }
}

Error formatFromChannelDesc(const cudaChannelFormatDesc &D, CUarray_format &Format, unsigned &Channels,
                            const char *Api) {
  int Bits[4] = {D.x, D.y, D.z, D.w};
  Channels = 0;
  while (Channels < 4 && Bits[Channels] != 0)
    ++Channels;
  for (unsigned C = Channels; C < 4; ++C)
    if (Bits[C] != 0)
      Channels = 5; // a gap between channels
  bool Same = true;
  for (unsigned C = 1; C < Channels && C < 4; ++C)
    Same = Same && Bits[C] == Bits[0];
  if (D.f == cudaChannelFormatKindSigned || D.f == cudaChannelFormatKindUnsigned || D.f == cudaChannelFormatKindFloat) {
    if (Channels == 0 || Channels == 3 || Channels > 4 || !Same)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("{}: channel descriptor {{{}, {}, {}, {}}} has no valid shape (1, 2 or 4 channels "
                                   "of equal size)",
                                   Api, D.x, D.y, D.z, D.w));
    bool Signed = D.f == cudaChannelFormatKindSigned;
    switch (D.f == cudaChannelFormatKindFloat ? -Bits[0] : Bits[0]) {
    case 8: Format = Signed ? CU_AD_FORMAT_SIGNED_INT8 : CU_AD_FORMAT_UNSIGNED_INT8; return Error::success();
    case 16: Format = Signed ? CU_AD_FORMAT_SIGNED_INT16 : CU_AD_FORMAT_UNSIGNED_INT16; return Error::success();
    case 32: Format = Signed ? CU_AD_FORMAT_SIGNED_INT32 : CU_AD_FORMAT_UNSIGNED_INT32; return Error::success();
    case -16: Format = CU_AD_FORMAT_HALF; return Error::success();
    case -32: Format = CU_AD_FORMAT_FLOAT; return Error::success();
    default:
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("{}: {}-bit channels are not valid for this channel kind", Api, Bits[0]));
    }
  }
  return makeError(CUDA_ERROR_NOT_SUPPORTED,
                   fmt::format("{}: channel format kind {} is not supported (signed, unsigned and float are)", Api,
                               static_cast<int>(D.f)));
}

cudaChannelFormatDesc channelDescOf(CUarray_format Format, unsigned Channels) {
  cudaChannelFormatDesc D{0, 0, 0, 0, cudaChannelFormatKindNone};
  int Bits = static_cast<int>(formatChannelBytes(Format) * 8);
  int *Out[4] = {&D.x, &D.y, &D.z, &D.w};
  for (unsigned C = 0; C < Channels && C < 4; ++C)
    *Out[C] = Bits;
  switch (Format) {
  case CU_AD_FORMAT_SIGNED_INT8:
  case CU_AD_FORMAT_SIGNED_INT16:
  case CU_AD_FORMAT_SIGNED_INT32: D.f = cudaChannelFormatKindSigned; break;
  case CU_AD_FORMAT_HALF:
  case CU_AD_FORMAT_FLOAT: D.f = cudaChannelFormatKindFloat; break;
  default: D.f = cudaChannelFormatKindUnsigned; break;
  }
  return D;
}

CopyOperand Array::operand(size_t XBytes, size_t Y, size_t Z) const {
  return CopyOperand{Storage, pitch(), rows(), XBytes, Y, Z};
}

Error Array::checkRegion(const char *Api, size_t XBytes, size_t Y, size_t Z, size_t WidthBytes, size_t Height,
                         size_t Depth) const {
  if (XBytes % ElementSize != 0 || WidthBytes % ElementSize != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: array offset {} / width {} bytes is not a multiple of the {}-byte element", Api,
                                 XBytes, WidthBytes, ElementSize));
  if (XBytes + WidthBytes > pitch() || Y + Height > rows() || Z + Depth > slices())
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: region at ({} bytes, {}, {}) of {} bytes x {} x {} exceeds the array ({} bytes x "
                                 "{} x {})",
                                 Api, XBytes, Y, Z, WidthBytes, Height, Depth, pitch(), rows(), slices()));
  return Error::success();
}

Expected<Array *> Array::create(Context &Ctx, const CUDA_ARRAY3D_DESCRIPTOR &Desc, const char *Api) {
  CUSHIM_TRY(checkDescriptor(Desc, Api));
  unsigned ElementSize = formatChannelBytes(Desc.Format) * Desc.NumChannels;
  size_t Bytes = Desc.Width * ElementSize * std::max<size_t>(Desc.Height, 1) * std::max<size_t>(Desc.Depth, 1);
  auto P = Ctx.allocate(Bytes, CUSHIM_HAL_MEMORY_DEVICE);
  if (!P)
    return P.takeError();
  auto *A = new Array(Ctx, Desc, ElementSize, *P, nullptr);
  arrays().add(A);
  return A;
}

Error Array::destroy(Array *A, const char *Api) {
  if (!arrays().lookup(A))
    return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{}: {} is not a live array", Api, static_cast<void *>(A)));
  if (A->Parent)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: {} is a level of a mipmapped array; free the mipmapped array", Api,
                                 static_cast<void *>(A)));
  arrays().remove(A);
  // The storage may already be gone with a destroyed context; freeing it then is a harmless error.
  (void)A->Ctx.free(A->Storage);
  delete A;
  return Error::success();
}

Expected<MipmappedArray *> MipmappedArray::create(Context &Ctx, const CUDA_ARRAY3D_DESCRIPTOR &Desc,
                                                  unsigned NumLevels, const char *Api) {
  CUSHIM_TRY(checkDescriptor(Desc, Api));
  bool Layered = Desc.Flags & (CUDA_ARRAY3D_LAYERED | CUDA_ARRAY3D_CUBEMAP);
  size_t Largest = std::max<size_t>({Desc.Width, Desc.Height, Layered ? 0 : Desc.Depth});
  unsigned MaxLevels = 1;
  while ((Largest >> MaxLevels) > 0)
    ++MaxLevels;
  if (NumLevels == 0 || NumLevels > MaxLevels)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} levels requested, a {}x{}x{} array has at most {}",
                                                           Api, NumLevels, Desc.Width, Desc.Height, Desc.Depth,
                                                           MaxLevels));
  auto *M = new MipmappedArray();
  M->Desc = Desc;
  for (unsigned L = 0; L < NumLevels; ++L) {
    CUDA_ARRAY3D_DESCRIPTOR LD = Desc;
    LD.Width = std::max<size_t>(Desc.Width >> L, 1);
    LD.Height = Desc.Height ? std::max<size_t>(Desc.Height >> L, 1) : 0;
    LD.Depth = Layered || !Desc.Depth ? Desc.Depth : std::max<size_t>(Desc.Depth >> L, 1);
    auto A = Array::create(Ctx, LD, Api);
    if (!A) {
      for (Array *Done : M->Levels) {
        Done->Parent = nullptr;
        (void)Array::destroy(Done, Api);
      }
      delete M;
      return A.takeError();
    }
    (*A)->Parent = M;
    M->Levels.push_back(*A);
  }
  mipmaps().add(M);
  return M;
}

Error MipmappedArray::destroy(MipmappedArray *M, const char *Api) {
  if (!mipmaps().lookup(M))
    return makeError(CUDA_ERROR_INVALID_HANDLE,
                     fmt::format("{}: {} is not a live mipmapped array", Api, static_cast<void *>(M)));
  mipmaps().remove(M);
  for (Array *A : M->Levels) {
    A->Parent = nullptr;
    (void)Array::destroy(A, Api);
  }
  delete M;
  return Error::success();
}

Array *lookupArray(const void *Handle) { return Handle ? arrays().lookup(Handle) : nullptr; }
MipmappedArray *lookupMipmappedArray(const void *Handle) { return Handle ? mipmaps().lookup(Handle) : nullptr; }

} // namespace cushim::core
