// Texture and surface instructions of lowered kernels (tex, tld4, txq, suld, sust, suq, istypep): the functions the
// PTX lowering calls (ptx_translate/LowerTexture.cpp), implemented with NVIDIA's sampling rules (docs/TEXTURES.md).
#pragma once

#include "cuda_shim/kernel_abi.h"

#include <cstdint>

extern "C" {
// tex / tld4. Op: bits 0-3 geometry (cushim_tex_geometry below), bit 4 integer (.s32) coordinates, bits 5-6 result
// kind (0 f32, 1 s32, 2 u32), bits 8-9 LOD mode (0 implicit, 1 .level, 2 .grad), bit 12 tld4, bits 13-14 the tld4
// component (r g b a), bit 15 texel offsets given. Args: 16 32-bit words: [0-3] coordinates as written, [4] lod,
// [5-8] dPdx, [9-12] dPdy, [13-15] s32 texel offsets. Result: four 32-bit values.
void __cushim_tex(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const uint32_t *args, uint32_t *result);
// suld.b / sust.b. Op: bits 0-3 geometry, bits 4-5 clamp mode (0 trap, 1 clamp, 2 zero), bits 8-15 bytes accessed.
// Coordinates: four s32 words as written (x in bytes). __cushim_sust also runs sust.p and sured: bit 16 .p (x in
// samples; sust.p: value is bytes/4 32-bit words, converted to the surface's format), bits 24-26 the sured operation
// (0 none, 1 add, 2 min, 3 max, 4 and, 5 or) on a bytes-wide integer, bit 28 signed min/max.
void __cushim_suld(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const int32_t *coords, void *result);
void __cushim_sust(cushim_thread_ctx *ctx, uint64_t handle, uint32_t op, const int32_t *coords, const void *value);
// txq / suq: Query is cushim_tex_query; Lod selects the mipmap level for txq.level.
uint32_t __cushim_txq(cushim_thread_ctx *ctx, uint64_t handle, uint32_t query, int32_t lod);
// istypep: Kind 0 texref, 1 samplerref, 2 surfref; returns 1 when the handle is a live object of that kind.
uint32_t __cushim_istypep(cushim_thread_ctx *ctx, uint64_t handle, uint32_t kind);
}

namespace cushim::host {
enum TexGeometry : uint32_t { Geo1D = 0, Geo2D, Geo3D, GeoA1D, GeoA2D, GeoCube, GeoACube };
enum TexQuery : uint32_t { QueryWidth = 0, QueryHeight, QueryDepth, QueryArraySize, QueryMipLevels, QueryNormalized };
} // namespace cushim::host
