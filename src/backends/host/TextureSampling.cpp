// Texture sampling and surface access for JIT-compiled kernels, following the CUDA programming guide's texture
// fetching rules: addressing (wrap, clamp, mirror, border), point and linear filtering with 1.8 fixed-point weights,
// normalized-float reads of 8/16-bit integers, sRGB, cubemap face selection, mipmap level selection (docs/TEXTURES.md).
#include "TextureSampling.h"

#include "Engine.h"

#include "cuda_shim/texture_abi.h"

#include <fmt/format.h>
#include <llvm/ADT/APFloat.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace cushim::host;

namespace {

ThreadRec *threadOf(cushim_thread_ctx *Ctx) { return static_cast<ThreadRec *>(Ctx->engine); }

// A handle is the address of a descriptor; a wrong kind or a stale/garbage value faults the launch.
const cushim_tex_desc *descriptor(cushim_thread_ctx *Ctx, uint64_t Handle, uint32_t Magic, const char *What) {
  auto *D = reinterpret_cast<const cushim_tex_desc *>(Handle);
  if (Handle == 0 || Handle % alignof(cushim_tex_desc) != 0 || D->magic != Magic)
    engineAbort(threadOf(Ctx), CUDA_ERROR_ILLEGAL_ADDRESS,
                fmt::format("{} through {:#x}, which is not a live {} object", What, Handle,
                            Magic == CUSHIM_TEX_MAGIC ? "texture" : "surface"));
  return D;
}

float halfToFloat(uint16_t H) {
  uint32_t Sign = (H & 0x8000u) << 16, Exp = (H >> 10) & 0x1f, Man = H & 0x3ffu, Bits;
  if (Exp == 0x1f)
    Bits = Sign | 0x7f800000u | (Man << 13);
  else if (Exp != 0)
    Bits = Sign | ((Exp + 112) << 23) | (Man << 13);
  else if (Man == 0)
    Bits = Sign;
  else {
    int E = 113;
    while (!(Man & 0x400u)) {
      Man <<= 1;
      --E;
    }
    Bits = Sign | (static_cast<uint32_t>(E) << 23) | ((Man & 0x3ffu) << 13);
  }
  float F;
  std::memcpy(&F, &Bits, 4);
  return F;
}

float srgbToLinear(float C) { return C <= 0.04045f ? C / 12.92f : std::pow((C + 0.055f) / 1.055f, 2.4f); }

// A texel's four channels, as floats (after normalization/sRGB) or as raw integers; missing channels read (0, 0, 0, 1).
struct Texel {
  float F[4] = {0, 0, 0, 1};
  uint32_t I[4] = {0, 0, 0, 1};
};

Texel loadTexel(const cushim_tex_desc &T, const cushim_tex_level &L, int X, int Y, int Z, int Layer) {
  const uint8_t *P = L.data + (static_cast<uint64_t>(Layer) * L.depth + Z) * L.slice_pitch +
                     static_cast<uint64_t>(Y) * L.pitch + static_cast<uint64_t>(X) * T.element_size;
  Texel R;
  for (uint32_t C = 0; C < T.channels; ++C) {
    switch (T.format) {
    case CUSHIM_TEX_U8: {
      uint8_t V = P[C];
      R.I[C] = V;
      R.F[C] = T.read_normalized ? V / 255.0f : static_cast<float>(V);
      if (T.srgb && T.read_normalized && C < 3)
        R.F[C] = srgbToLinear(R.F[C]);
      break;
    }
    case CUSHIM_TEX_S8: {
      int8_t V = static_cast<int8_t>(P[C]);
      R.I[C] = static_cast<uint32_t>(static_cast<int32_t>(V));
      R.F[C] = T.read_normalized ? std::max(V / 127.0f, -1.0f) : static_cast<float>(V);
      break;
    }
    case CUSHIM_TEX_U16: {
      uint16_t V;
      std::memcpy(&V, P + 2 * C, 2);
      R.I[C] = V;
      R.F[C] = T.read_normalized ? V / 65535.0f : static_cast<float>(V);
      break;
    }
    case CUSHIM_TEX_S16: {
      int16_t V;
      std::memcpy(&V, P + 2 * C, 2);
      R.I[C] = static_cast<uint32_t>(static_cast<int32_t>(V));
      R.F[C] = T.read_normalized ? std::max(V / 32767.0f, -1.0f) : static_cast<float>(V);
      break;
    }
    case CUSHIM_TEX_F16: {
      uint16_t V;
      std::memcpy(&V, P + 2 * C, 2);
      R.F[C] = halfToFloat(V);
      std::memcpy(&R.I[C], &R.F[C], 4);
      break;
    }
    case CUSHIM_TEX_U32:
    case CUSHIM_TEX_S32:
    case CUSHIM_TEX_F32: {
      uint32_t V;
      std::memcpy(&V, P + 4 * C, 4);
      R.I[C] = V;
      if (T.format == CUSHIM_TEX_F32)
        std::memcpy(&R.F[C], &V, 4);
      else
        R.F[C] = T.format == CUSHIM_TEX_S32 ? static_cast<float>(static_cast<int32_t>(V)) : static_cast<float>(V);
      break;
    }
    default:
      break;
    }
  }
  return R;
}

Texel borderTexel(const cushim_tex_desc &T) {
  Texel R;
  for (int C = 0; C < 4; ++C) {
    R.F[C] = T.border_color[C];
    R.I[C] = static_cast<uint32_t>(static_cast<int32_t>(T.border_color[C]));
  }
  return R;
}

// The texel index an integer index addresses in a dimension of N texels; -1 for a border access.
int addressIndex(int64_t I, int64_t N, uint32_t Mode) {
  switch (Mode) {
  case 0: { // wrap
    int64_t M = I % N;
    return static_cast<int>(M < 0 ? M + N : M);
  }
  case 2: { // mirror
    int64_t P = 2 * N, M = I % P;
    if (M < 0)
      M += P;
    return static_cast<int>(M >= N ? P - 1 - M : M);
  }
  case 3: // border
    return I < 0 || I >= N ? -1 : static_cast<int>(I);
  default: // clamp
    return static_cast<int>(std::clamp<int64_t>(I, 0, N - 1));
  }
}

// The coordinate in texel units: normalized coordinates are first wrapped/mirrored into [0, 1) as the guide says,
// then scaled by N. Huge values and NaN are kept in a range the integer arithmetic handles.
float texelCoord(float X, uint32_t N, uint32_t Mode, bool Normalized) {
  if (std::isnan(X))
    X = 0;
  if (Normalized) {
    if (Mode == 0)
      X = X - std::floor(X);
    else if (Mode == 2) {
      float F = std::floor(X), R = X - F;
      X = std::fmod(std::fabs(F), 2.0f) == 0.0f ? R : 1.0f - R;
    }
    X *= static_cast<float>(N);
  }
  return std::clamp(X, -1.0e9f, 1.0e9f);
}

// The 1.8 fixed-point weight of linear filtering: the fraction rounded to a multiple of 1/256.
float weight(float Frac) { return std::nearbyint(Frac * 256.0f) / 256.0f; }

struct Sampler {
  const cushim_tex_desc &T;
  const cushim_tex_level &L;
  int Layer = 0;
  int Dims = 1;
  bool Normalized;
  const int32_t *Offset = nullptr; // texel offsets of "tex ..., e", added after scaling (null: none)

  Texel fetch(int64_t X, int64_t Y, int64_t Z) const {
    int64_t Size[3] = {L.width, L.height, L.depth}, Pos[3] = {X, Y, Z};
    int Idx[3] = {0, 0, 0};
    for (int D = 0; D < Dims; ++D) {
      Idx[D] = addressIndex(Pos[D], Size[D], T.address_mode[D]);
      if (Idx[D] < 0)
        return borderTexel(T);
    }
    return loadTexel(T, L, Idx[0], Idx[1], Idx[2], Layer);
  }

  Texel sample(const float *Coord) const {
    float C[3] = {0, 0, 0};
    uint32_t Size[3] = {L.width, L.height, L.depth};
    for (int D = 0; D < Dims; ++D)
      C[D] = texelCoord(Coord[D], Size[D], T.address_mode[D], Normalized) + (Offset ? Offset[D] : 0);
    if (T.filter_mode == 0) {
      int64_t I[3];
      for (int D = 0; D < 3; ++D)
        I[D] = static_cast<int64_t>(std::floor(C[D]));
      return fetch(I[0], I[1], I[2]);
    }
    int64_t I[3] = {0, 0, 0};
    float W[3] = {0, 0, 0};
    for (int D = 0; D < Dims; ++D) {
      float B = C[D] - 0.5f, F = std::floor(B);
      I[D] = static_cast<int64_t>(F);
      W[D] = weight(B - F);
    }
    Texel R;
    for (int Ch = 0; Ch < 4; ++Ch)
      R.F[Ch] = 0;
    // tex(x,y,z) = sum over the 2^Dims corners of the products of (1 - w) / w, in the guide's order.
    int Corners = 1 << Dims;
    for (int K = 0; K < Corners; ++K) {
      float Wt = 1.0f;
      for (int D = 0; D < Dims; ++D)
        Wt *= (K >> D) & 1 ? W[D] : 1.0f - W[D];
      Texel V = fetch(I[0] + (K & 1), I[1] + ((K >> 1) & 1), I[2] + ((K >> 2) & 1));
      for (int Ch = 0; Ch < 4; ++Ch)
        R.F[Ch] += Wt * V.F[Ch];
    }
    return R;
  }
};

// Cubemap face selection (programming guide, "Cubemap Textures"): the face of the major axis and normalized face
// coordinates ((s/m + 1) / 2, (t/m + 1) / 2).
int cubeFace(float X, float Y, float Z, float &U, float &V) {
  float AX = std::fabs(X), AY = std::fabs(Y), AZ = std::fabs(Z), M, S, T;
  int Face;
  if (AX >= AY && AX >= AZ) {
    Face = X >= 0 ? 0 : 1;
    M = AX;
    S = X >= 0 ? -Z : Z;
    T = -Y;
  } else if (AY >= AZ) {
    Face = Y >= 0 ? 2 : 3;
    M = AY;
    S = X;
    T = Y >= 0 ? Z : -Z;
  } else {
    Face = Z >= 0 ? 4 : 5;
    M = AZ;
    S = Z >= 0 ? X : -X;
    T = -Y;
  }
  if (M == 0)
    M = 1;
  U = (S / M + 1.0f) * 0.5f;
  V = (T / M + 1.0f) * 0.5f;
  return Face;
}

float wordAsFloat(uint32_t W) {
  float F;
  std::memcpy(&F, &W, 4);
  return F;
}

} // namespace

extern "C" void __cushim_tex(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const uint32_t *args,
                             uint32_t *result) {
  const cushim_tex_desc &T = *descriptor(ctx, handle, CUSHIM_TEX_MAGIC, "texture fetch");
  uint32_t Geo = op & 15, Kind = (op >> 5) & 3, LodMode = (op >> 8) & 3;
  bool IntCoords = (op >> 4) & 1, Gather = (op >> 12) & 1;
  uint32_t GatherComp = (op >> 13) & 3;
  auto coord = [&](int I) {
    return IntCoords ? static_cast<float>(static_cast<int32_t>(args[I])) : wordAsFloat(args[I]);
  };
  float C[3] = {0, 0, 0};
  int Layer = 0, Dims = 1;
  switch (Geo) {
  case Geo1D: C[0] = coord(0); break;
  case Geo2D: C[0] = coord(0), C[1] = coord(1), Dims = 2; break;
  case Geo3D: C[0] = coord(0), C[1] = coord(1), C[2] = coord(2), Dims = 3; break;
  case GeoA1D: Layer = static_cast<int32_t>(args[0]), C[0] = coord(1); break;
  case GeoA2D: Layer = static_cast<int32_t>(args[0]), C[0] = coord(1), C[1] = coord(2), Dims = 2; break;
  case GeoCube:
  case GeoACube: {
    int Base = Geo == GeoACube ? 1 : 0;
    if (Geo == GeoACube)
      Layer = static_cast<int32_t>(args[0]) * 6;
    float U, V;
    Layer += cubeFace(wordAsFloat(args[Base]), wordAsFloat(args[Base + 1]), wordAsFloat(args[Base + 2]), U, V);
    C[0] = U, C[1] = V, Dims = 2;
    break;
  }
  default: break;
  }
  bool Cube = Geo == GeoCube || Geo == GeoACube;
  Layer = std::clamp<int>(Layer, 0, static_cast<int>(std::max<uint32_t>(T.layers, 1)) - 1);
  Texel R;
  if (T.shape == CUSHIM_TEX_SHAPE_LINEAR) {
    // tex1Dfetch: integer texel index, no filtering; out-of-range fetches read zero.
    int64_t I = IntCoords ? static_cast<int32_t>(args[0]) : static_cast<int64_t>(std::floor(C[0]));
    if (I < 0 || I >= T.levels[0].width) {
      for (int Ch = 0; Ch < 4; ++Ch)
        R.F[Ch] = 0, R.I[Ch] = 0;
    } else {
      R = loadTexel(T, T.levels[0], static_cast<int>(I), 0, 0, 0);
    }
  } else {
    // Level of detail: 0 without derivatives (compute has no implicit ones), the operand with .level, and
    // log2 of the largest scaled gradient with .grad; then bias and clamps.
    unsigned Level = 0, Level2 = 0;
    float LevelWeight = 0;
    if (T.level_count > 1 || LodMode != 0) {
      float Lod = 0;
      if (LodMode == 1)
        Lod = wordAsFloat(args[4]);
      else if (LodMode == 2) {
        float Size[3] = {static_cast<float>(T.levels[0].width), static_cast<float>(T.levels[0].height),
                         static_cast<float>(T.levels[0].depth)};
        float X2 = 0, Y2 = 0;
        for (int D = 0; D < Dims; ++D) {
          float Sx = wordAsFloat(args[5 + D]) * (T.normalized_coords || Cube ? Size[D] : 1.0f);
          float Sy = wordAsFloat(args[9 + D]) * (T.normalized_coords || Cube ? Size[D] : 1.0f);
          X2 += Sx * Sx;
          Y2 += Sy * Sy;
        }
        Lod = std::log2(std::sqrt(std::max(X2, Y2)));
      }
      Lod += T.mipmap_level_bias;
      if (T.max_mipmap_level_clamp >= T.min_mipmap_level_clamp)
        Lod = std::clamp(Lod, T.min_mipmap_level_clamp, T.max_mipmap_level_clamp);
      if (std::isnan(Lod))
        Lod = 0;
      Lod = std::clamp(Lod, 0.0f, static_cast<float>(T.level_count - 1));
      if (T.mipmap_filter_mode == 0) {
        Level = Level2 = static_cast<unsigned>(std::floor(Lod + 0.5f));
      } else {
        Level = static_cast<unsigned>(std::floor(Lod));
        Level2 = std::min(Level + 1, T.level_count - 1);
        LevelWeight = weight(Lod - std::floor(Lod));
      }
    }
    const int32_t *Offsets = (op >> 15) & 1 ? reinterpret_cast<const int32_t *>(args + 13) : nullptr;
    Sampler S{T, T.levels[Level], Layer, Dims, T.normalized_coords != 0 || Cube, Offsets};
    if (Gather) {
      // tld4: component GatherComp of the four bilinear texels, counter-clockwise from the lower left:
      // (i, j+1), (i+1, j+1), (i+1, j), (i, j).
      float X = texelCoord(C[0], S.L.width, T.address_mode[0], S.Normalized) - 0.5f + (Offsets ? Offsets[0] : 0);
      float Y = texelCoord(C[1], S.L.height, T.address_mode[1], S.Normalized) - 0.5f + (Offsets ? Offsets[1] : 0);
      int64_t I = static_cast<int64_t>(std::floor(X)), J = static_cast<int64_t>(std::floor(Y));
      const int64_t Off[4][2] = {{0, 1}, {1, 1}, {1, 0}, {0, 0}};
      for (int K = 0; K < 4; ++K) {
        Texel V = S.fetch(I + Off[K][0], J + Off[K][1], 0);
        R.F[K] = V.F[GatherComp];
        R.I[K] = V.I[GatherComp];
      }
    } else {
      R = S.sample(C);
      if (Level2 != Level && LevelWeight != 0) {
        Sampler S2{T, T.levels[Level2], Layer, Dims, S.Normalized, Offsets};
        Texel R2 = S2.sample(C);
        for (int Ch = 0; Ch < 4; ++Ch)
          R.F[Ch] = (1.0f - LevelWeight) * R.F[Ch] + LevelWeight * R2.F[Ch];
      }
    }
  }
  for (int Ch = 0; Ch < 4; ++Ch) {
    if (Kind == 0)
      std::memcpy(&result[Ch], &R.F[Ch], 4);
    else
      result[Ch] = R.I[Ch];
  }
}

namespace {

struct SurfaceAccess {
  const cushim_tex_desc *T;
  uint8_t *Address = nullptr; // null: a .zero access out of bounds
};

SurfaceAccess surfaceAddress(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const int32_t *C,
                             const char *What) {
  const cushim_tex_desc *T = descriptor(ctx, handle, CUSHIM_SURF_MAGIC, What);
  const cushim_tex_level &L = T->levels[0];
  uint32_t Geo = op & 15, Mode = (op >> 4) & 3, Bytes = (op >> 8) & 0xff;
  int64_t X = 0, Y = 0, Z = 0, Layer = 0;
  switch (Geo) {
  case Geo1D: X = C[0]; break;
  case Geo2D: X = C[0], Y = C[1]; break;
  case Geo3D: X = C[0], Y = C[1], Z = C[2]; break;
  case GeoA1D: Layer = C[0], X = C[1]; break;
  case GeoA2D: Layer = C[0], X = C[1], Y = C[2]; break;
  default: break;
  }
  int64_t RowBytes = static_cast<int64_t>(L.width) * T->element_size;
  int64_t Layers = std::max<uint32_t>(T->layers, 1);
  bool Out = X < 0 || X + Bytes > RowBytes || Y < 0 || Y >= L.height || Z < 0 || Z >= L.depth || Layer < 0 ||
             Layer >= Layers;
  if (Out) {
    if (Mode == 0)
      engineAbort(threadOf(ctx), CUDA_ERROR_LAUNCH_FAILED,
                  fmt::format("{} out of bounds at byte {} row {} slice {} layer {} (.trap)", What, X, Y, Z, Layer));
    if (Mode == 2)
      return SurfaceAccess{T, nullptr};
    X = std::clamp<int64_t>(X, 0, RowBytes - Bytes);
    Y = std::clamp<int64_t>(Y, 0, L.height - 1);
    Z = std::clamp<int64_t>(Z, 0, L.depth - 1);
    Layer = std::clamp<int64_t>(Layer, 0, Layers - 1);
  }
  uint8_t *P = const_cast<uint8_t *>(L.data) + (Layer * L.depth + Z) * L.slice_pitch + Y * L.pitch + X;
  return SurfaceAccess{T, P};
}

} // namespace

extern "C" void __cushim_suld(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const int32_t *coords,
                              void *result) {
  SurfaceAccess A = surfaceAddress(ctx, handle, op, coords, "surface load");
  uint32_t Bytes = (op >> 8) & 0xff;
  if (A.Address)
    std::memcpy(result, A.Address, Bytes);
  else
    std::memset(result, 0, Bytes);
}

namespace {

// sust.p: one channel of a formatted store. The source word is .f32 for half/float surfaces and .s32/.u32 for
// integer ones (CUDA arrays do not say UNORM or UINT: we take their integers as integers), saturated to the channel.
void storeChannel(uint32_t Format, uint8_t *P, uint32_t Word) {
  auto saturate = [](int64_t V, int64_t Lo, int64_t Hi) { return std::clamp(V, Lo, Hi); };
  int32_t S = static_cast<int32_t>(Word);
  switch (Format) {
  case CUSHIM_TEX_U8: *P = static_cast<uint8_t>(std::min<uint32_t>(Word, 0xff)); break;
  case CUSHIM_TEX_S8: *reinterpret_cast<int8_t *>(P) = static_cast<int8_t>(saturate(S, -128, 127)); break;
  case CUSHIM_TEX_U16: {
    uint16_t V = static_cast<uint16_t>(std::min<uint32_t>(Word, 0xffff));
    std::memcpy(P, &V, 2);
    break;
  }
  case CUSHIM_TEX_S16: {
    int16_t V = static_cast<int16_t>(saturate(S, -32768, 32767));
    std::memcpy(P, &V, 2);
    break;
  }
  case CUSHIM_TEX_F16: {
    llvm::APFloat F(wordAsFloat(Word));
    bool Lost;
    F.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven, &Lost);
    uint16_t V = static_cast<uint16_t>(F.bitcastToAPInt().getZExtValue());
    std::memcpy(P, &V, 2);
    break;
  }
  default: std::memcpy(P, &Word, 4); break; // 32-bit integers and floats
  }
}

// sured: an atomic read-modify-write of a Bytes-wide integer. Red: 1 add, 2 min, 3 max, 4 and, 5 or.
template <typename T> void reduce(uint8_t *Address, uint32_t Red, T Value) {
  T *P = reinterpret_cast<T *>(Address);
  switch (Red) {
  case 1: __atomic_fetch_add(P, Value, __ATOMIC_RELAXED); return;
  case 4: __atomic_fetch_and(P, Value, __ATOMIC_RELAXED); return;
  case 5: __atomic_fetch_or(P, Value, __ATOMIC_RELAXED); return;
  default: {
    T Old = __atomic_load_n(P, __ATOMIC_RELAXED);
    for (;;) {
      T New = Red == 2 ? std::min(Old, Value) : std::max(Old, Value);
      if (New == Old || __atomic_compare_exchange_n(P, &Old, New, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        return;
    }
  }
  }
}

} // namespace

extern "C" void __cushim_sust(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const int32_t *coords,
                              const void *value) {
  uint32_t Bytes = (op >> 8) & 0xff, Red = (op >> 24) & 7;
  bool Formatted = (op >> 16) & 1, Signed = (op >> 28) & 1;
  if (!Formatted && !Red) {
    SurfaceAccess A = surfaceAddress(ctx, handle, op, coords, "surface store");
    if (A.Address)
      std::memcpy(A.Address, value, Bytes);
    return;
  }
  // The .p forms address samples, not bytes: x is scaled by the element size; sust.p covers a whole element.
  int32_t C[4] = {coords[0], coords[1], coords[2], coords[3]};
  uint32_t AccessOp = op & ~(0xffu << 8);
  if (Formatted) {
    const cushim_tex_desc *T = descriptor(ctx, handle, CUSHIM_SURF_MAGIC, Red ? "surface reduction" : "surface store");
    uint32_t Geo = op & 15;
    int X = Geo == GeoA1D || Geo == GeoA2D ? 1 : 0;
    C[X] = static_cast<int32_t>(static_cast<int64_t>(C[X]) * T->element_size);
    AccessOp |= (Red ? Bytes : T->element_size) << 8;
  } else {
    AccessOp |= Bytes << 8;
  }
  SurfaceAccess A = surfaceAddress(ctx, handle, AccessOp, C, Red ? "surface reduction" : "surface store");
  if (!A.Address)
    return;
  if (!Red) {
    const uint32_t *Words = static_cast<const uint32_t *>(value);
    uint32_t Given = Bytes / 4, ChannelBytes = A.T->element_size / A.T->channels;
    for (uint32_t Ch = 0; Ch < A.T->channels && Ch < Given; ++Ch)
      storeChannel(A.T->format, A.Address + Ch * ChannelBytes, Words[Ch]);
    return;
  }
  if (Bytes == 8) {
    uint64_t V;
    std::memcpy(&V, value, 8);
    Signed ? reduce<int64_t>(A.Address, Red, static_cast<int64_t>(V)) : reduce<uint64_t>(A.Address, Red, V);
  } else {
    uint32_t V;
    std::memcpy(&V, value, 4);
    Signed ? reduce<int32_t>(A.Address, Red, static_cast<int32_t>(V)) : reduce<uint32_t>(A.Address, Red, V);
  }
}

extern "C" uint32_t __cushim_txq(cushim_thread_ctx *ctx, uint64_t handle, uint32_t query, int32_t lod) {
  auto *Probe = reinterpret_cast<const cushim_tex_desc *>(handle);
  uint32_t Magic = handle && handle % alignof(cushim_tex_desc) == 0 && Probe->magic == CUSHIM_SURF_MAGIC
                       ? CUSHIM_SURF_MAGIC
                       : CUSHIM_TEX_MAGIC;
  const cushim_tex_desc &T = *descriptor(ctx, handle, Magic, "texture/surface query");
  unsigned Level = lod < 0 ? 0 : std::min<unsigned>(static_cast<unsigned>(lod), T.level_count - 1);
  const cushim_tex_level &L = T.levels[Level];
  bool Layered = T.shape == CUSHIM_TEX_SHAPE_1D_LAYERED || T.shape == CUSHIM_TEX_SHAPE_2D_LAYERED ||
                 T.shape == CUSHIM_TEX_SHAPE_CUBE_LAYERED;
  switch (query) {
  case QueryWidth: return L.width;
  case QueryHeight: return L.height;
  case QueryDepth: return L.depth;
  case QueryArraySize:
    return Layered ? (T.shape == CUSHIM_TEX_SHAPE_CUBE_LAYERED ? T.layers / 6 : T.layers) : 1;
  case QueryMipLevels: return T.level_count;
  case QueryNormalized: return T.normalized_coords;
  default: return 0;
  }
}

extern "C" uint32_t __cushim_istypep(cushim_thread_ctx *ctx, uint64_t handle, uint32_t kind) {
  (void)ctx;
  if (handle == 0 || handle % alignof(cushim_tex_desc) != 0)
    return 0;
  uint32_t Magic = reinterpret_cast<const cushim_tex_desc *>(handle)->magic;
  return kind == 2 ? Magic == CUSHIM_SURF_MAGIC : Magic == CUSHIM_TEX_MAGIC;
}
