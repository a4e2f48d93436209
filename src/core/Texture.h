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

// A legacy texture or surface reference (cuTexRef*, cuSurfRef*): sampler state and a binding, mirrored into a
// descriptor whose address the module's slot (texture_abi.h: CUSHIM_TEXREF_SLOT_PREFIX) holds, so that a launch sees
// the binding of its launch time. References of cuTexRefCreate have no slot (no kernel can read them).
class CUSHIM_API TextureReference {
public:
  enum class Kind { Texture, Surface };
  TextureReference(Context &Ctx, Kind K, void *Slot);
  ~TextureReference();
  TextureReference(const TextureReference &) = delete;
  TextureReference &operator=(const TextureReference &) = delete;

  Kind kind() const { return K; }
  bool ownedByModule() const { return Slot != nullptr; }
  CUtexref texHandle() { return reinterpret_cast<CUtexref>(this); }
  CUsurfref surfHandle() { return reinterpret_cast<CUsurfref>(this); }

  // The state cuTexRefSet* change and cuTexRefGet* report. Res.resType is meaningful only while Bound.
  CUDA_RESOURCE_DESC Res{};
  bool Bound = false;
  CUDA_TEXTURE_DESC Tex{};
  CUarray_format Format = CU_AD_FORMAT_FLOAT;
  int Channels = 1;

  // Rewrites the descriptor and the slot after a change (waiting for the context's queued work first); Rebind after
  // a change of Res or of the format of a linear binding (the resource is described once, at binding time, so a
  // later destroyed array only faults the fetches). A binding the sampler state does not allow (linear filtering of
  // integers ...) leaves the slot empty: fetches then fault.
  Error apply(const char *Api, bool Rebind);

private:
  Context &Ctx;
  Kind K;
  void *Slot = nullptr;   // the module's 64-bit slot, or null
  void *Device = nullptr; // the descriptor in device memory, allocated on first use
  cushim_tex_desc Resource{}; // the resource part of the descriptor, from the last binding
};

CUSHIM_API TextureReference *lookupTextureReference(const void *Handle, TextureReference::Kind K);

CUSHIM_API TextureObject *lookupTexture(unsigned long long Handle);
CUSHIM_API SurfaceObject *lookupSurface(unsigned long long Handle);

} // namespace cushim::core
