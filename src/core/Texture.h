// Texture and surface objects shared by both APIs: a handle is the device address of a cushim_tex_desc
// (include/cuda_shim/texture_abi.h) the kernel's sampling calls read; the host validates handles here.
#pragma once

#include "cuda_shim/texture_abi.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>
#include <driver_types.h>
#include <texture_types.h>

#include <optional>

namespace cushim::core {

class Context;

class CUSHIM_API TextureObject {
public:
  // cuTexObjectCreate: validates the resource, sampler state and view, builds the descriptor in device memory.
  static Expected<TextureObject *> create(Context &Ctx, const CUDA_RESOURCE_DESC &Res, const CUDA_TEXTURE_DESC &Tex,
                                          const CUDA_RESOURCE_VIEW_DESC *View, const char *Api);
  static Error destroy(TextureObject *T);

  unsigned long long handle() const { return Handle; }
  const CUDA_RESOURCE_DESC &resource() const { return Res; }
  const CUDA_TEXTURE_DESC &texture() const { return Tex; }
  const std::optional<CUDA_RESOURCE_VIEW_DESC> &view() const { return View; }

  // The runtime's own descriptors, kept so that its getters return exactly what the application passed.
  cudaResourceDesc RuntimeRes{};
  cudaTextureDesc RuntimeTex{};
  std::optional<cudaResourceViewDesc> RuntimeView;

private:
  Context *Ctx = nullptr;
  void *Device = nullptr; // the descriptor in device memory
  unsigned long long Handle = 0;
  CUDA_RESOURCE_DESC Res{};
  CUDA_TEXTURE_DESC Tex{};
  std::optional<CUDA_RESOURCE_VIEW_DESC> View;
};

class CUSHIM_API SurfaceObject {
public:
  // cuSurfObjectCreate: the resource must be an array created with CUDA_ARRAY3D_SURFACE_LDST.
  static Expected<SurfaceObject *> create(Context &Ctx, const CUDA_RESOURCE_DESC &Res, const char *Api);
  static Error destroy(SurfaceObject *S);

  unsigned long long handle() const { return Handle; }
  const CUDA_RESOURCE_DESC &resource() const { return Res; }
  cudaResourceDesc RuntimeRes{};

private:
  Context *Ctx = nullptr;
  void *Device = nullptr;
  unsigned long long Handle = 0;
  CUDA_RESOURCE_DESC Res{};
};

CUSHIM_API TextureObject *lookupTexture(unsigned long long Handle);
CUSHIM_API SurfaceObject *lookupSurface(unsigned long long Handle);

} // namespace cushim::core
