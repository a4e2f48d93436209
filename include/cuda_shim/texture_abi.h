/* cuda_shim texture and surface objects as kernels see them. A cudaTextureObject_t / cudaSurfaceObject_t (and
 * CUtexObject / CUsurfObject) is the address of one of these descriptors in device-visible memory; the core builds
 * it (core/Texture, core/Surface) and a backend's sampling functions read it (docs/TEXTURES.md). */
#ifndef CUDA_SHIM_TEXTURE_ABI_H
#define CUDA_SHIM_TEXTURE_ABI_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

#define CUSHIM_TEX_MAGIC 0x58455443u  /* "CTEX" */
#define CUSHIM_SURF_MAGIC 0x46525343u /* "CSRF" */
#define CUSHIM_TEX_MAX_LEVELS 16

/* Element formats: one channel's storage type. */
enum cushim_tex_format {
  CUSHIM_TEX_U8 = 0, CUSHIM_TEX_U16, CUSHIM_TEX_U32,
  CUSHIM_TEX_S8, CUSHIM_TEX_S16, CUSHIM_TEX_S32,
  CUSHIM_TEX_F16, CUSHIM_TEX_F32,
};

/* The geometry of the resource. */
enum cushim_tex_shape {
  CUSHIM_TEX_SHAPE_1D = 0, CUSHIM_TEX_SHAPE_2D, CUSHIM_TEX_SHAPE_3D,
  CUSHIM_TEX_SHAPE_1D_LAYERED, CUSHIM_TEX_SHAPE_2D_LAYERED,
  CUSHIM_TEX_SHAPE_CUBE, CUSHIM_TEX_SHAPE_CUBE_LAYERED,
  CUSHIM_TEX_SHAPE_LINEAR, /* cudaResourceTypeLinear: 1D, integer fetches (tex1Dfetch) */
};

/* One mipmap level (level 0 for everything but mipmapped arrays): texel (x, y, z) of layer/face l lies at
 * data + (l * depth + z) * slice_pitch + y * pitch + x * element_size; slice_pitch = pitch * height. */
typedef struct cushim_tex_level {
  const uint8_t *data;
  uint64_t pitch;
  uint64_t slice_pitch;
  uint32_t width, height, depth; /* 1 for unused dimensions */
  uint32_t reserved;
} cushim_tex_level;

/* Module-scope .texref / .surfref (the legacy reference API): the lowering gives each one a 64-bit slot, a module
 * global named prefix + reference name, holding the address of the descriptor the reference is bound to (0 while
 * unbound). cuTexRefSet* / cuSurfRefSetArray rewrite it; every fetch reads it. */
#define CUSHIM_TEXREF_SLOT_PREFIX "__cushim_texref."
#define CUSHIM_SURFREF_SLOT_PREFIX "__cushim_surfref."

typedef struct cushim_tex_desc {
  uint32_t magic;            /* CUSHIM_TEX_MAGIC or CUSHIM_SURF_MAGIC */
  uint32_t shape;            /* cushim_tex_shape */
  uint32_t format;           /* cushim_tex_format */
  uint32_t channels;         /* 1, 2 or 4 */
  uint32_t element_size;     /* bytes of one texel (all channels) */
  uint32_t layers;           /* layers (layered), 6 * layers (cubemaps), else 1 */
  uint32_t level_count;      /* >= 1 */
  /* Sampler state (textures only), values of CUaddress_mode / CUfilter_mode. */
  uint32_t address_mode[3];
  uint32_t filter_mode;
  uint32_t mipmap_filter_mode;
  uint32_t read_normalized;  /* cudaReadModeNormalizedFloat: 8/16-bit integers read as [0,1] / [-1,1] floats */
  uint32_t normalized_coords;
  uint32_t srgb;
  uint32_t seamless_cubemap;
  float border_color[4];
  float mipmap_level_bias, min_mipmap_level_clamp, max_mipmap_level_clamp;
  uint32_t reserved;
  cushim_tex_level levels[CUSHIM_TEX_MAX_LEVELS];
} cushim_tex_desc;

#ifdef __cplusplus
}
#endif
#endif /* CUDA_SHIM_TEXTURE_ABI_H */
