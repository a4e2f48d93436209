// CUDA arrays and mipmapped arrays, shared by both APIs (a cudaArray_t is a CUarray). Storage is ours: linear
// device memory, rows packed (pitch = width * element size), row-major per layer/face/slice (docs/TEXTURES.md).
#pragma once

#include "core/Copy3D.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>
#include <driver_types.h>

#include <vector>

namespace cushim::core {

class Context;
class MipmappedArray;

// Bytes of one channel of a format, 0 for formats we do not support.
CUSHIM_API unsigned formatChannelBytes(CUarray_format Format);
CUSHIM_API const char *formatName(CUarray_format Format);
// The runtime's channel descriptor as a driver format and channel count: CUDA_ERROR_INVALID_VALUE for shapes CUDA
// rejects (3 channels, unequal channel sizes), CUDA_ERROR_NOT_SUPPORTED for the newer packed/compressed kinds.
CUSHIM_API Error formatFromChannelDesc(const cudaChannelFormatDesc &Desc, CUarray_format &Format, unsigned &Channels,
                                       const char *Api);
CUSHIM_API cudaChannelFormatDesc channelDescOf(CUarray_format Format, unsigned Channels);

class CUSHIM_API Array {
public:
  // cuArray3DCreate: validates the descriptor (formats, channels 1/2/4, flags, layered/cubemap shapes).
  static Expected<Array *> create(Context &Ctx, const CUDA_ARRAY3D_DESCRIPTOR &Desc, const char *Api);
  static Error destroy(Array *A, const char *Api);

  const CUDA_ARRAY3D_DESCRIPTOR &descriptor() const { return Desc; }
  Context &context() const { return Ctx; }
  void *storage() const { return Storage; }
  unsigned elementSize() const { return ElementSize; }
  size_t width() const { return Desc.Width; }
  size_t rows() const { return Desc.Height ? Desc.Height : 1; }
  // Layers, faces or 3D slices stored one after the other.
  size_t slices() const { return Desc.Depth ? Desc.Depth : 1; }
  size_t pitch() const { return Desc.Width * ElementSize; }
  size_t bytes() const { return pitch() * rows() * slices(); }
  MipmappedArray *parent() const { return Parent; }
  CUarray handle() { return reinterpret_cast<CUarray>(this); }

  // The array as a copy operand starting at element (X, Y, Z) (X in bytes).
  CopyOperand operand(size_t XBytes, size_t Y, size_t Z) const;
  // Checks that a region of WidthBytes x Height x Depth at (XBytes, Y, Z) lies inside the array.
  Error checkRegion(const char *Api, size_t XBytes, size_t Y, size_t Z, size_t WidthBytes, size_t Height,
                    size_t Depth) const;

  Array(Context &Ctx, const CUDA_ARRAY3D_DESCRIPTOR &Desc, unsigned ElementSize, void *Storage,
        MipmappedArray *Parent)
      : Ctx(Ctx), Desc(Desc), ElementSize(ElementSize), Storage(Storage), Parent(Parent) {}

private:
  friend class MipmappedArray;
  Context &Ctx;
  CUDA_ARRAY3D_DESCRIPTOR Desc;
  unsigned ElementSize;
  void *Storage;
  MipmappedArray *Parent;
};

class CUSHIM_API MipmappedArray {
public:
  static Expected<MipmappedArray *> create(Context &Ctx, const CUDA_ARRAY3D_DESCRIPTOR &Desc, unsigned NumLevels,
                                           const char *Api);
  static Error destroy(MipmappedArray *M, const char *Api);

  const CUDA_ARRAY3D_DESCRIPTOR &descriptor() const { return Desc; }
  unsigned levelCount() const { return static_cast<unsigned>(Levels.size()); }
  Array *level(unsigned L) const { return L < Levels.size() ? Levels[L] : nullptr; }
  CUmipmappedArray handle() { return reinterpret_cast<CUmipmappedArray>(this); }

private:
  CUDA_ARRAY3D_DESCRIPTOR Desc{};
  std::vector<Array *> Levels;
};

// Live handles (any context), or nullptr.
CUSHIM_API Array *lookupArray(const void *Handle);
CUSHIM_API MipmappedArray *lookupMipmappedArray(const void *Handle);

} // namespace cushim::core
