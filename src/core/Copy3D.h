// The pitched copy engine shared by both APIs: 2D/3D copies and fills between linear memory (pitched or packed) and
// CUDA arrays (whose storage is linear, docs/TEXTURES.md), decomposed into the HAL's 1D/2D copies and fills.
#pragma once

#include "support/Error.h"
#include "support/Export.h"

#include <cstddef>
#include <cstdint>

namespace cushim::core {

class Stream;

// One side of a copy: element (0, 0, 0) of the region lies at Base; rows are Pitch bytes apart and slices
// Pitch * Rows bytes apart. X is a byte offset, Y a row and Z a slice.
struct CopyOperand {
  void *Base = nullptr;
  size_t Pitch = 0;
  size_t Rows = 0; // rows per slice; only used when Depth > 1
  size_t X = 0, Y = 0, Z = 0;

  uint8_t *start() const { return static_cast<uint8_t *>(Base) + (Z * Rows + Y) * Pitch + X; }
  // Bytes from start() to one past the last byte the copy touches.
  size_t span(size_t WidthBytes, size_t Height, size_t Depth) const {
    if (WidthBytes == 0 || Height == 0 || Depth == 0)
      return 0;
    return (Depth - 1) * Rows * Pitch + (Height - 1) * Pitch + WidthBytes;
  }
};

struct Copy3DParams {
  CopyOperand Src, Dst;
  size_t WidthBytes = 0, Height = 1, Depth = 1;
};

// Device-side operands (addresses inside an allocation the core handed out) must cover the whole region: returns
// CUDA_ERROR_INVALID_VALUE with a message naming Api otherwise. Host operands cannot be checked.
CUSHIM_API Error checkCopyRange(const char *Api, const Copy3DParams &P);
// True when P lies in device (or managed) memory the core tracks; pinned host memory does not count.
CUSHIM_API bool isDeviceMemory(const void *P);

// Enqueues the copy on S with CUDA's host-synchronisation rules: Async (cudaMemcpy2DAsync & co.) stages pageable
// sources and waits for copies into pageable memory; synchronous copies return when done, except device-to-device.
CUSHIM_API Error copy3D(Stream &S, const Copy3DParams &P, bool Async);

// A 2D/3D fill of ElementSize-byte values (1, 2 or 4): WidthElements per row, Height rows, Depth slices.
struct Fill3DParams {
  void *Base = nullptr;
  size_t Pitch = 0, Rows = 0;
  size_t WidthElements = 0, Height = 1, Depth = 1;
  uint32_t Value = 0;
  unsigned ElementSize = 1;
};
CUSHIM_API Error fill3D(Stream &S, const Fill3DParams &P);

// Row pitch cudaMallocPitch/cuMemAllocPitch hand out: the texture alignment (512 bytes), as current GPUs do.
constexpr size_t PitchAlignment = 512;
inline size_t pitchFor(size_t WidthBytes) { return (WidthBytes + PitchAlignment - 1) / PitchAlignment * PitchAlignment; }
// The largest pitch a 2D copy accepts (CU_DEVICE_ATTRIBUTE_MAX_PITCH).
constexpr size_t MaxPitch = 2147483647;

} // namespace cushim::core
