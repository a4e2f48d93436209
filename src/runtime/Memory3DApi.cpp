// Pitched and 3D memory of the runtime API: cudaMallocPitch/Malloc3D, cudaMemcpy2D/3D and the array copies
// (cudaMemcpy2DToArray & co., all through core/Copy3D), cudaMemset2D/3D; their async and per-thread forms.
#include "runtime/RuntimeState.h"
#include "runtime/RuntimeStream.h"

#include "core/Array.h"
#include "core/Copy3D.h"
#include "core/MemoryMap.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::runtime;

namespace {

// One copy request before it runs: the region plus what CUDA validates about it.
struct Request {
  core::Copy3DParams P;
  bool DstArray = false, SrcArray = false;
};

// Explicit directions must match what the (non-array) pointers are; arrays are device memory.
Error checkKind(const char *Api, const Request &R, cudaMemcpyKind Kind) {
  bool DstDevice = R.DstArray || core::isDeviceMemory(R.P.Dst.start());
  bool SrcDevice = R.SrcArray || core::isDeviceMemory(R.P.Src.start());
  switch (Kind) {
  case cudaMemcpyHostToHost:
  case cudaMemcpyDefault:
    return Error::success();
  case cudaMemcpyHostToDevice:
    if (!DstDevice)
      return runtimeError(cudaErrorInvalidValue, fmt::format("{}: destination is not device memory", Api));
    return Error::success();
  case cudaMemcpyDeviceToHost:
    if (!SrcDevice)
      return runtimeError(cudaErrorInvalidValue, fmt::format("{}: source is not device memory", Api));
    return Error::success();
  case cudaMemcpyDeviceToDevice:
    if (!DstDevice || !SrcDevice)
      return runtimeError(cudaErrorInvalidValue, fmt::format("{}: not a device-to-device copy", Api));
    return Error::success();
  }
  return runtimeError(cudaErrorInvalidMemcpyDirection,
                      fmt::format("{}: invalid copy direction {}", Api, static_cast<int>(Kind)));
}

Error run(const char *Api, const Request &R, cudaMemcpyKind Kind, cudaStream_t Stream, bool PerThread, bool Async) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (R.P.WidthBytes == 0 || R.P.Height == 0 || R.P.Depth == 0)
    return Error::success();
  if ((!R.DstArray && !R.P.Dst.Base) || (!R.SrcArray && !R.P.Src.Base))
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": NULL pointer");
  CUSHIM_TRY(checkKind(Api, R, Kind));
  CUSHIM_TRY(core::checkCopyRange(Api, R.P));
  return core::copy3D(**S, R.P, Async);
}

Error checkPitch(const char *Api, size_t Pitch, size_t Width, const char *Which) {
  if (Pitch < Width || Pitch > core::MaxPitch)
    return runtimeError(cudaErrorInvalidPitchValue,
                        fmt::format("{}: {} pitch {} is smaller than the width {} or above the maximum pitch", Api,
                                    Which, Pitch, Width));
  return Error::success();
}

Expected<core::Array *> array(const char *Api, const void *Handle) {
  if (core::Array *A = core::lookupArray(Handle))
    return A;
  return runtimeError(cudaErrorInvalidResourceHandle,
                      fmt::format("{}: {} is not a live CUDA array", Api, Handle));
}

// --- The entry point bodies, shared by the plain, async and per-thread forms ------------------------------------

Error memcpy2D(const char *Api, void *Dst, size_t DPitch, const void *Src, size_t SPitch, size_t Width, size_t Height,
               cudaMemcpyKind Kind, cudaStream_t Stream, bool PerThread, bool Async) {
  if (Width && Height) {
    CUSHIM_TRY(checkPitch(Api, DPitch, Width, "destination"));
    CUSHIM_TRY(checkPitch(Api, SPitch, Width, "source"));
  }
  Request R;
  R.P.Dst = core::CopyOperand{Dst, DPitch, Height};
  R.P.Src = core::CopyOperand{const_cast<void *>(Src), SPitch, Height};
  R.P.WidthBytes = Width;
  R.P.Height = Height;
  return run(Api, R, Kind, Stream, PerThread, Async);
}

Error memcpy2DToArray(const char *Api, cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                      size_t SPitch, size_t Width, size_t Height, cudaMemcpyKind Kind, cudaStream_t Stream,
                      bool PerThread, bool Async) {
  auto A = array(Api, Dst);
  if (!A)
    return A.takeError();
  if (Width && Height)
    CUSHIM_TRY(checkPitch(Api, SPitch, Width, "source"));
  CUSHIM_TRY((*A)->checkRegion(Api, WOffset, HOffset, 0, Width, Height, 1));
  Request R;
  R.DstArray = true;
  R.P.Dst = (*A)->operand(WOffset, HOffset, 0);
  R.P.Src = core::CopyOperand{const_cast<void *>(Src), SPitch, Height};
  R.P.WidthBytes = Width;
  R.P.Height = Height;
  return run(Api, R, Kind, Stream, PerThread, Async);
}

Error memcpy2DFromArray(const char *Api, void *Dst, size_t DPitch, cudaArray_const_t Src, size_t WOffset,
                        size_t HOffset, size_t Width, size_t Height, cudaMemcpyKind Kind, cudaStream_t Stream,
                        bool PerThread, bool Async) {
  auto A = array(Api, Src);
  if (!A)
    return A.takeError();
  if (Width && Height)
    CUSHIM_TRY(checkPitch(Api, DPitch, Width, "destination"));
  CUSHIM_TRY((*A)->checkRegion(Api, WOffset, HOffset, 0, Width, Height, 1));
  Request R;
  R.SrcArray = true;
  R.P.Src = (*A)->operand(WOffset, HOffset, 0);
  R.P.Dst = core::CopyOperand{Dst, DPitch, Height};
  R.P.WidthBytes = Width;
  R.P.Height = Height;
  return run(Api, R, Kind, Stream, PerThread, Async);
}

Error memcpy2DArrayToArray(const char *Api, cudaArray_t Dst, size_t WDst, size_t HDst, cudaArray_const_t Src,
                           size_t WSrc, size_t HSrc, size_t Width, size_t Height, cudaMemcpyKind Kind) {
  auto D = array(Api, Dst);
  if (!D)
    return D.takeError();
  auto S = array(Api, Src);
  if (!S)
    return S.takeError();
  CUSHIM_TRY((*D)->checkRegion(Api, WDst, HDst, 0, Width, Height, 1));
  CUSHIM_TRY((*S)->checkRegion(Api, WSrc, HSrc, 0, Width, Height, 1));
  Request R;
  R.DstArray = R.SrcArray = true;
  R.P.Dst = (*D)->operand(WDst, HDst, 0);
  R.P.Src = (*S)->operand(WSrc, HSrc, 0);
  R.P.WidthBytes = Width;
  R.P.Height = Height;
  return run(Api, R, Kind, nullptr, false, false);
}

// The deprecated 1D array copies: Count bytes from (WOffset, HOffset) on, running over rows (our storage is packed).
Error arrayLinear(const char *Api, core::Array &A, size_t WOffset, size_t HOffset, size_t Count,
                  core::CopyOperand &Out) {
  size_t Start = HOffset * A.pitch() + WOffset;
  if (WOffset >= A.pitch() || HOffset >= A.rows() || Start + Count > A.pitch() * A.rows())
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{}: {} bytes at ({}, {}) exceed the array", Api, Count, WOffset, HOffset));
  Out = core::CopyOperand{static_cast<uint8_t *>(A.storage()) + Start, Count, 1};
  return Error::success();
}

// cudaMemcpy3DParms as a request: positions and the extent are in array elements where an array takes part, in
// bytes (x) and rows otherwise.
Expected<Request> request3D(const char *Api, const cudaMemcpy3DParms *P) {
  if (!P)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": parameters are NULL");
  // The arrays are looked up first: NVIDIA's runtime reads their descriptors before any other check, so a dead
  // array handle is cudaErrorInvalidResourceHandle even when srcPtr is given too (traced with its static cudart).
  Request R;
  core::Array *SA = nullptr, *DA = nullptr;
  if (P->srcArray) {
    auto A = array(Api, P->srcArray);
    if (!A)
      return A.takeError();
    SA = *A;
  }
  if (P->dstArray) {
    auto A = array(Api, P->dstArray);
    if (!A)
      return A.takeError();
    DA = *A;
  }
  if ((P->srcArray != nullptr) == (P->srcPtr.ptr != nullptr) || (P->dstArray != nullptr) == (P->dstPtr.ptr != nullptr))
    return runtimeError(cudaErrorInvalidValue,
                        std::string(Api) + ": give exactly one of srcArray/srcPtr and one of dstArray/dstPtr");
  if (SA && DA && SA->elementSize() != DA->elementSize())
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": the arrays' element sizes differ");
  size_t Elem = SA ? SA->elementSize() : DA ? DA->elementSize() : 1;
  R.P.WidthBytes = P->extent.width * Elem;
  R.P.Height = P->extent.height;
  R.P.Depth = P->extent.depth;
  if (SA) {
    CUSHIM_TRY(SA->checkRegion(Api, P->srcPos.x * Elem, P->srcPos.y, P->srcPos.z, R.P.WidthBytes, R.P.Height,
                               R.P.Depth));
    R.SrcArray = true;
    R.P.Src = SA->operand(P->srcPos.x * Elem, P->srcPos.y, P->srcPos.z);
  } else {
    if (R.P.WidthBytes && R.P.Height && R.P.Depth)
      CUSHIM_TRY(checkPitch(Api, P->srcPtr.pitch, P->srcPos.x + R.P.WidthBytes, "source"));
    R.P.Src = core::CopyOperand{P->srcPtr.ptr, P->srcPtr.pitch, P->srcPtr.ysize, P->srcPos.x, P->srcPos.y,
                                P->srcPos.z};
  }
  if (DA) {
    CUSHIM_TRY(DA->checkRegion(Api, P->dstPos.x * Elem, P->dstPos.y, P->dstPos.z, R.P.WidthBytes, R.P.Height,
                               R.P.Depth));
    R.DstArray = true;
    R.P.Dst = DA->operand(P->dstPos.x * Elem, P->dstPos.y, P->dstPos.z);
  } else {
    if (R.P.WidthBytes && R.P.Height && R.P.Depth)
      CUSHIM_TRY(checkPitch(Api, P->dstPtr.pitch, P->dstPos.x + R.P.WidthBytes, "destination"));
    R.P.Dst = core::CopyOperand{P->dstPtr.ptr, P->dstPtr.pitch, P->dstPtr.ysize, P->dstPos.x, P->dstPos.y,
                                P->dstPos.z};
  }
  // Slices of pitched memory are ysize rows apart: a copy taller than that would overlap the next slice.
  if (R.P.Depth > 1 && ((!SA && P->srcPos.y + R.P.Height > P->srcPtr.ysize) ||
                        (!DA && P->dstPos.y + R.P.Height > P->dstPtr.ysize)))
    return runtimeError(cudaErrorInvalidValue,
                        std::string(Api) + ": extent height exceeds a pitched pointer's ysize in a 3D copy");
  return R;
}

Error memcpy3D(const char *Api, const cudaMemcpy3DParms *P, cudaStream_t Stream, bool PerThread, bool Async) {
  auto R = request3D(Api, P);
  if (!R)
    return R.takeError();
  return run(Api, *R, P->kind, Stream, PerThread, Async);
}

Error memset2D3D(const char *Api, void *Ptr, size_t Pitch, size_t Rows, int Value, size_t Width, size_t Height,
                 size_t Depth, cudaStream_t Stream, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (Width == 0 || Height == 0 || Depth == 0)
    return Error::success();
  if (Pitch < Width || (Depth > 1 && Height > Rows))
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{}: width {} / height {} exceed the pitch {} / rows {}", Api, Width, Height, Pitch,
                                    Rows));
  core::CopyOperand O{Ptr, Pitch, Rows};
  if (!core::memory_map::containsRange(Ptr, O.span(Width, Height, Depth)))
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{}: {} ({} x {} x {}, pitch {}) is not inside device memory", Api, Ptr, Width,
                                    Height, Depth, Pitch));
  core::Fill3DParams F;
  F.Base = Ptr;
  F.Pitch = Pitch;
  F.Rows = Rows;
  F.WidthElements = Width;
  F.Height = Height;
  F.Depth = Depth;
  F.Value = static_cast<uint8_t>(Value);
  return core::fill3D(**S, F);
}

Error mallocPitched(const char *Api, void **Ptr, size_t *Pitch, size_t Width, size_t Height, size_t Depth) {
  if (!Ptr || !Pitch)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": an output pointer is NULL");
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  size_t P = core::pitchFor(Width);
  *Pitch = P;
  if (P == 0 || Height == 0 || Depth == 0) {
    *Ptr = nullptr;
    return Error::success();
  }
  if (Width > core::MaxPitch || Height > SIZE_MAX / P / Depth)
    return runtimeError(cudaErrorInvalidValue, fmt::format("{}: {} x {} x {} is too large", Api, Width, Height, Depth));
  auto Mem = (*Ctx)->allocate(P * Height * Depth, CUSHIM_HAL_MEMORY_DEVICE);
  if (!Mem)
    return runtimeError(cudaErrorMemoryAllocation, Mem.error().message());
  *Ptr = *Mem;
  return Error::success();
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaMallocPitch(void **DevPtr, size_t *Pitch, size_t Width, size_t Height) {
  ApiTrace T("cudaMallocPitch");
  T.args("devPtr={} pitch={} width={} height={}", static_cast<void *>(DevPtr), static_cast<void *>(Pitch), Width,
         Height);
  return finish(T, mallocPitched("cudaMallocPitch", DevPtr, Pitch, Width, Height, 1));
}

CUSHIM_EXPORT cudaError_t cudaMalloc3D(struct cudaPitchedPtr *PitchedDevPtr, struct cudaExtent Extent) {
  ApiTrace T("cudaMalloc3D");
  T.args("pitchedDevPtr={} extent={}x{}x{}", static_cast<void *>(PitchedDevPtr), Extent.width, Extent.height,
         Extent.depth);
  CUSHIM_RUNTIME_BODY(T, {
    if (!PitchedDevPtr)
      return runtimeError(cudaErrorInvalidValue, "cudaMalloc3D: pitchedDevPtr is NULL");
    void *P = nullptr;
    size_t Pitch = 0;
    CUSHIM_TRY(mallocPitched("cudaMalloc3D", &P, &Pitch, Extent.width, Extent.height, Extent.depth));
    *PitchedDevPtr = cudaPitchedPtr{P, Pitch, Extent.width, Extent.height};
    return Error::success();
  });
}

#define CUSHIM_MEMCPY2D(Name, PerThread, Async, StreamArg)                                                             \
  ApiTrace T(Name);                                                                                                    \
  T.args("dst={} dpitch={} src={} spitch={} width={} height={} kind={}", Dst, DPitch, Src, SPitch, Width, Height,      \
         static_cast<int>(Kind));                                                                                      \
  return finish(T, memcpy2D(Name, Dst, DPitch, Src, SPitch, Width, Height, Kind, StreamArg, PerThread, Async))

CUSHIM_EXPORT cudaError_t cudaMemcpy2D(void *Dst, size_t DPitch, const void *Src, size_t SPitch, size_t Width,
                                       size_t Height, enum cudaMemcpyKind Kind) {
  CUSHIM_MEMCPY2D("cudaMemcpy2D", false, false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2D_ptds(void *Dst, size_t DPitch, const void *Src, size_t SPitch, size_t Width,
                                            size_t Height, enum cudaMemcpyKind Kind) {
  CUSHIM_MEMCPY2D("cudaMemcpy2D_ptds", true, false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DAsync(void *Dst, size_t DPitch, const void *Src, size_t SPitch, size_t Width,
                                            size_t Height, enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  CUSHIM_MEMCPY2D("cudaMemcpy2DAsync", false, true, Stream);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DAsync_ptsz(void *Dst, size_t DPitch, const void *Src, size_t SPitch,
                                                 size_t Width, size_t Height, enum cudaMemcpyKind Kind,
                                                 cudaStream_t Stream) {
  CUSHIM_MEMCPY2D("cudaMemcpy2DAsync_ptsz", true, true, Stream);
}

#define CUSHIM_TOARRAY(Name, PerThread, Async, StreamArg)                                                              \
  ApiTrace T(Name);                                                                                                    \
  T.args("dst={} wOffset={} hOffset={} src={} spitch={} width={} height={} kind={}", static_cast<void *>(Dst),         \
         WOffset, HOffset, Src, SPitch, Width, Height, static_cast<int>(Kind));                                        \
  return finish(T, memcpy2DToArray(Name, Dst, WOffset, HOffset, Src, SPitch, Width, Height, Kind, StreamArg,          \
                                   PerThread, Async))

CUSHIM_EXPORT cudaError_t cudaMemcpy2DToArray(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                              size_t SPitch, size_t Width, size_t Height, enum cudaMemcpyKind Kind) {
  CUSHIM_TOARRAY("cudaMemcpy2DToArray", false, false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DToArray_ptds(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                                   size_t SPitch, size_t Width, size_t Height,
                                                   enum cudaMemcpyKind Kind) {
  CUSHIM_TOARRAY("cudaMemcpy2DToArray_ptds", true, false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DToArrayAsync(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                                   size_t SPitch, size_t Width, size_t Height,
                                                   enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  CUSHIM_TOARRAY("cudaMemcpy2DToArrayAsync", false, true, Stream);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DToArrayAsync_ptsz(cudaArray_t Dst, size_t WOffset, size_t HOffset,
                                                        const void *Src, size_t SPitch, size_t Width, size_t Height,
                                                        enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  CUSHIM_TOARRAY("cudaMemcpy2DToArrayAsync_ptsz", true, true, Stream);
}

#define CUSHIM_FROMARRAY(Name, PerThread, Async, StreamArg)                                                            \
  ApiTrace T(Name);                                                                                                    \
  T.args("dst={} dpitch={} src={} wOffset={} hOffset={} width={} height={} kind={}", Dst, DPitch,                      \
         static_cast<const void *>(Src), WOffset, HOffset, Width, Height, static_cast<int>(Kind));                     \
  return finish(T, memcpy2DFromArray(Name, Dst, DPitch, Src, WOffset, HOffset, Width, Height, Kind, StreamArg,        \
                                     PerThread, Async))

CUSHIM_EXPORT cudaError_t cudaMemcpy2DFromArray(void *Dst, size_t DPitch, cudaArray_const_t Src, size_t WOffset,
                                                size_t HOffset, size_t Width, size_t Height,
                                                enum cudaMemcpyKind Kind) {
  CUSHIM_FROMARRAY("cudaMemcpy2DFromArray", false, false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DFromArray_ptds(void *Dst, size_t DPitch, cudaArray_const_t Src, size_t WOffset,
                                                     size_t HOffset, size_t Width, size_t Height,
                                                     enum cudaMemcpyKind Kind) {
  CUSHIM_FROMARRAY("cudaMemcpy2DFromArray_ptds", true, false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DFromArrayAsync(void *Dst, size_t DPitch, cudaArray_const_t Src, size_t WOffset,
                                                     size_t HOffset, size_t Width, size_t Height,
                                                     enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  CUSHIM_FROMARRAY("cudaMemcpy2DFromArrayAsync", false, true, Stream);
}
CUSHIM_EXPORT cudaError_t cudaMemcpy2DFromArrayAsync_ptsz(void *Dst, size_t DPitch, cudaArray_const_t Src,
                                                          size_t WOffset, size_t HOffset, size_t Width, size_t Height,
                                                          enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  CUSHIM_FROMARRAY("cudaMemcpy2DFromArrayAsync_ptsz", true, true, Stream);
}

CUSHIM_EXPORT cudaError_t cudaMemcpy2DArrayToArray(cudaArray_t Dst, size_t WDst, size_t HDst, cudaArray_const_t Src,
                                                   size_t WSrc, size_t HSrc, size_t Width, size_t Height,
                                                   enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpy2DArrayToArray");
  T.args("dst={} src={} width={} height={}", static_cast<void *>(Dst), static_cast<const void *>(Src), Width, Height);
  return finish(T, memcpy2DArrayToArray("cudaMemcpy2DArrayToArray", Dst, WDst, HDst, Src, WSrc, HSrc, Width, Height,
                                        Kind));
}

CUSHIM_EXPORT cudaError_t cudaMemcpy2DArrayToArray_ptds(cudaArray_t Dst, size_t WDst, size_t HDst,
                                                        cudaArray_const_t Src, size_t WSrc, size_t HSrc, size_t Width,
                                                        size_t Height, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpy2DArrayToArray_ptds");
  T.args("dst={} src={} width={} height={}", static_cast<void *>(Dst), static_cast<const void *>(Src), Width, Height);
  return finish(T, memcpy2DArrayToArray("cudaMemcpy2DArrayToArray_ptds", Dst, WDst, HDst, Src, WSrc, HSrc, Width,
                                        Height, Kind));
}

// The deprecated 1D forms.
static Error memcpyArrayLinear(const char *Api, cudaArray_t ToArray, cudaArray_const_t FromArray, void *Dst,
                               const void *Src, size_t WOffset, size_t HOffset, size_t Count, cudaMemcpyKind Kind,
                               cudaStream_t Stream, bool PerThread, bool Async) {
  Request R;
  R.P.WidthBytes = Count;
  if (ToArray) {
    auto A = array(Api, ToArray);
    if (!A)
      return A.takeError();
    CUSHIM_TRY(arrayLinear(Api, **A, WOffset, HOffset, Count, R.P.Dst));
    R.DstArray = true;
    R.P.Src = core::CopyOperand{const_cast<void *>(Src), Count, 1};
  } else {
    auto A = array(Api, FromArray);
    if (!A)
      return A.takeError();
    CUSHIM_TRY(arrayLinear(Api, **A, WOffset, HOffset, Count, R.P.Src));
    R.SrcArray = true;
    R.P.Dst = core::CopyOperand{Dst, Count, 1};
  }
  return run(Api, R, Kind, Stream, PerThread, Async);
}

CUSHIM_EXPORT cudaError_t cudaMemcpyToArray(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                            size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpyToArray");
  T.args("dst={} wOffset={} hOffset={} src={} count={}", static_cast<void *>(Dst), WOffset, HOffset, Src, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyToArray", Dst, nullptr, nullptr, Src, WOffset, HOffset, Count, Kind,
                                     nullptr, false, false));
}
CUSHIM_EXPORT cudaError_t cudaMemcpyToArrayAsync(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                                 size_t Count, enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyToArrayAsync");
  T.args("dst={} wOffset={} hOffset={} src={} count={}", static_cast<void *>(Dst), WOffset, HOffset, Src, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyToArrayAsync", Dst, nullptr, nullptr, Src, WOffset, HOffset, Count,
                                     Kind, Stream, false, true));
}
CUSHIM_EXPORT cudaError_t cudaMemcpyFromArray(void *Dst, cudaArray_const_t Src, size_t WOffset, size_t HOffset,
                                              size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpyFromArray");
  T.args("dst={} src={} wOffset={} hOffset={} count={}", Dst, static_cast<const void *>(Src), WOffset, HOffset, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyFromArray", nullptr, Src, Dst, nullptr, WOffset, HOffset, Count, Kind,
                                     nullptr, false, false));
}
CUSHIM_EXPORT cudaError_t cudaMemcpyFromArrayAsync(void *Dst, cudaArray_const_t Src, size_t WOffset, size_t HOffset,
                                                   size_t Count, enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyFromArrayAsync");
  T.args("dst={} src={} wOffset={} hOffset={} count={}", Dst, static_cast<const void *>(Src), WOffset, HOffset, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyFromArrayAsync", nullptr, Src, Dst, nullptr, WOffset, HOffset, Count,
                                     Kind, Stream, false, true));
}

CUSHIM_EXPORT cudaError_t cudaMemcpyToArray_ptds(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                                 size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpyToArray_ptds");
  T.args("dst={} wOffset={} hOffset={} src={} count={}", static_cast<void *>(Dst), WOffset, HOffset, Src, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyToArray_ptds", Dst, nullptr, nullptr, Src, WOffset, HOffset, Count,
                                     Kind, nullptr, true, false));
}
CUSHIM_EXPORT cudaError_t cudaMemcpyToArrayAsync_ptsz(cudaArray_t Dst, size_t WOffset, size_t HOffset, const void *Src,
                                                      size_t Count, enum cudaMemcpyKind Kind, cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyToArrayAsync_ptsz");
  T.args("dst={} wOffset={} hOffset={} src={} count={}", static_cast<void *>(Dst), WOffset, HOffset, Src, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyToArrayAsync_ptsz", Dst, nullptr, nullptr, Src, WOffset, HOffset,
                                     Count, Kind, Stream, true, true));
}
CUSHIM_EXPORT cudaError_t cudaMemcpyFromArray_ptds(void *Dst, cudaArray_const_t Src, size_t WOffset, size_t HOffset,
                                                   size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpyFromArray_ptds");
  T.args("dst={} src={} wOffset={} hOffset={} count={}", Dst, static_cast<const void *>(Src), WOffset, HOffset, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyFromArray_ptds", nullptr, Src, Dst, nullptr, WOffset, HOffset, Count,
                                     Kind, nullptr, true, false));
}
CUSHIM_EXPORT cudaError_t cudaMemcpyFromArrayAsync_ptsz(void *Dst, cudaArray_const_t Src, size_t WOffset,
                                                        size_t HOffset, size_t Count, enum cudaMemcpyKind Kind,
                                                        cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyFromArrayAsync_ptsz");
  T.args("dst={} src={} wOffset={} hOffset={} count={}", Dst, static_cast<const void *>(Src), WOffset, HOffset, Count);
  return finish(T, memcpyArrayLinear("cudaMemcpyFromArrayAsync_ptsz", nullptr, Src, Dst, nullptr, WOffset, HOffset,
                                     Count, Kind, Stream, true, true));
}

CUSHIM_EXPORT cudaError_t cudaMemcpy3D(const struct cudaMemcpy3DParms *P) {
  ApiTrace T("cudaMemcpy3D");
  T.args("p={}", static_cast<const void *>(P));
  return finish(T, memcpy3D("cudaMemcpy3D", P, nullptr, false, false));
}
CUSHIM_EXPORT cudaError_t cudaMemcpy3D_ptds(const struct cudaMemcpy3DParms *P) {
  ApiTrace T("cudaMemcpy3D_ptds");
  T.args("p={}", static_cast<const void *>(P));
  return finish(T, memcpy3D("cudaMemcpy3D_ptds", P, nullptr, true, false));
}
CUSHIM_EXPORT cudaError_t cudaMemcpy3DAsync(const struct cudaMemcpy3DParms *P, cudaStream_t Stream) {
  ApiTrace T("cudaMemcpy3DAsync");
  T.args("p={} stream={}", static_cast<const void *>(P), static_cast<void *>(Stream));
  return finish(T, memcpy3D("cudaMemcpy3DAsync", P, Stream, false, true));
}
CUSHIM_EXPORT cudaError_t cudaMemcpy3DAsync_ptsz(const struct cudaMemcpy3DParms *P, cudaStream_t Stream) {
  ApiTrace T("cudaMemcpy3DAsync_ptsz");
  T.args("p={} stream={}", static_cast<const void *>(P), static_cast<void *>(Stream));
  return finish(T, memcpy3D("cudaMemcpy3DAsync_ptsz", P, Stream, true, true));
}

#define CUSHIM_MEMSET2D(Name, PerThread, StreamArg)                                                                    \
  ApiTrace T(Name);                                                                                                    \
  T.args("devPtr={} pitch={} value={} width={} height={}", DevPtr, Pitch, Value, Width, Height);                       \
  return finish(T, memset2D3D(Name, DevPtr, Pitch, Height, Value, Width, Height, 1, StreamArg, PerThread))

CUSHIM_EXPORT cudaError_t cudaMemset2D(void *DevPtr, size_t Pitch, int Value, size_t Width, size_t Height) {
  CUSHIM_MEMSET2D("cudaMemset2D", false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemset2D_ptds(void *DevPtr, size_t Pitch, int Value, size_t Width, size_t Height) {
  CUSHIM_MEMSET2D("cudaMemset2D_ptds", true, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemset2DAsync(void *DevPtr, size_t Pitch, int Value, size_t Width, size_t Height,
                                            cudaStream_t Stream) {
  CUSHIM_MEMSET2D("cudaMemset2DAsync", false, Stream);
}
CUSHIM_EXPORT cudaError_t cudaMemset2DAsync_ptsz(void *DevPtr, size_t Pitch, int Value, size_t Width, size_t Height,
                                                 cudaStream_t Stream) {
  CUSHIM_MEMSET2D("cudaMemset2DAsync_ptsz", true, Stream);
}

#define CUSHIM_MEMSET3D(Name, PerThread, StreamArg)                                                                    \
  ApiTrace T(Name);                                                                                                    \
  T.args("ptr={} pitch={} value={} extent={}x{}x{}", P.ptr, P.pitch, Value, Extent.width, Extent.height,               \
         Extent.depth);                                                                                                \
  return finish(T, memset2D3D(Name, P.ptr, P.pitch, P.ysize, Value, Extent.width, Extent.height, Extent.depth,        \
                              StreamArg, PerThread))

CUSHIM_EXPORT cudaError_t cudaMemset3D(struct cudaPitchedPtr P, int Value, struct cudaExtent Extent) {
  CUSHIM_MEMSET3D("cudaMemset3D", false, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemset3D_ptds(struct cudaPitchedPtr P, int Value, struct cudaExtent Extent) {
  CUSHIM_MEMSET3D("cudaMemset3D_ptds", true, nullptr);
}
CUSHIM_EXPORT cudaError_t cudaMemset3DAsync(struct cudaPitchedPtr P, int Value, struct cudaExtent Extent,
                                            cudaStream_t Stream) {
  CUSHIM_MEMSET3D("cudaMemset3DAsync", false, Stream);
}
CUSHIM_EXPORT cudaError_t cudaMemset3DAsync_ptsz(struct cudaPitchedPtr P, int Value, struct cudaExtent Extent,
                                                 cudaStream_t Stream) {
  CUSHIM_MEMSET3D("cudaMemset3DAsync_ptsz", true, Stream);
}
