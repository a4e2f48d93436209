// Pitched, 2D/3D and array copies of the driver API: cuMemAllocPitch, cuMemcpy2D/3D (+Async, _v2 and per-thread
// forms), cuMemcpy{HtoA,AtoH,DtoA,AtoD,AtoA}, cuMemsetD2D8/16/32 (+Async), all through core/Copy3D.
#include "driver/DriverApi.h"
#include "driver/DriverStream.h"

#include "core/Array.h"
#include "core/Copy3D.h"
#include "core/MemoryMap.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::driver;

namespace {

void *ptr(CUdeviceptr P) { return reinterpret_cast<void *>(static_cast<uintptr_t>(P)); }

Expected<core::Array *> array(const char *Api, CUarray Handle) {
  if (core::Array *A = core::lookupArray(Handle))
    return A;
  return makeError(CUDA_ERROR_INVALID_HANDLE,
                   fmt::format("{}: {} is not a live CUDA array", Api, static_cast<void *>(Handle)));
}

// One side of a CUDA_MEMCPY2D/3D as a copy operand (X in bytes for every memory type, arrays included).
Error side(const char *Api, const char *Which, CUmemorytype Type, const void *Host, CUdeviceptr Device, CUarray Arr,
           size_t Pitch, size_t Rows, size_t X, size_t Y, size_t Z, size_t Width, size_t Height, size_t Depth,
           core::CopyOperand &Out) {
  switch (Type) {
  case CU_MEMORYTYPE_HOST:
    Out = core::CopyOperand{const_cast<void *>(Host), Pitch, Rows, X, Y, Z};
    break;
  case CU_MEMORYTYPE_DEVICE:
  case CU_MEMORYTYPE_UNIFIED:
    Out = core::CopyOperand{ptr(Device), Pitch, Rows, X, Y, Z};
    if (Type == CU_MEMORYTYPE_DEVICE && Width && Height && Depth && !core::memory_map::find(Out.start()))
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("{}: {} {:#x} is not device memory", Api, Which, Device));
    break;
  case CU_MEMORYTYPE_ARRAY: {
    auto A = array(Api, Arr);
    if (!A)
      return A.takeError();
    CUSHIM_TRY((*A)->checkRegion(Api, X, Y, Z, Width, Height, Depth));
    Out = (*A)->operand(X, Y, Z);
    return Error::success();
  }
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: {} memory type {} is not valid", Api, Which, static_cast<int>(Type)));
  }
  if (!Out.Base && Width && Height && Depth)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} pointer is NULL", Api, Which));
  if (Width && Height && (Pitch < X + Width || Pitch > core::MaxPitch))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} pitch {} is smaller than x {} + width {}", Api,
                                                           Which, Pitch, X, Width));
  if (Depth > 1 && Y + Height > Rows)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: {} height {} is smaller than y {} + copy height {}", Api, Which, Rows, Y, Height));
  return Error::success();
}

Error run(const char *Api, const core::Copy3DParams &P, CUstream Stream, bool PerThread, bool Async) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  CUSHIM_TRY(core::checkCopyRange(Api, P));
  return core::copy3D(**S, P, Async);
}

Error copy2D(const char *Api, const CUDA_MEMCPY2D *C, CUstream Stream, bool PerThread, bool Async) {
  CUSHIM_TRY(requireInit());
  if (!C)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": pCopy is NULL");
  core::Copy3DParams P;
  P.WidthBytes = C->WidthInBytes;
  P.Height = C->Height;
  CUSHIM_TRY(side(Api, "source", C->srcMemoryType, C->srcHost, C->srcDevice, C->srcArray, C->srcPitch, C->Height,
                  C->srcXInBytes, C->srcY, 0, P.WidthBytes, P.Height, 1, P.Src));
  CUSHIM_TRY(side(Api, "destination", C->dstMemoryType, C->dstHost, C->dstDevice, C->dstArray, C->dstPitch, C->Height,
                  C->dstXInBytes, C->dstY, 0, P.WidthBytes, P.Height, 1, P.Dst));
  return run(Api, P, Stream, PerThread, Async);
}

Error copy3D(const char *Api, const CUDA_MEMCPY3D *C, CUstream Stream, bool PerThread, bool Async) {
  CUSHIM_TRY(requireInit());
  if (!C)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": pCopy is NULL");
  if (C->reserved0 || C->reserved1)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": reserved0/reserved1 must be NULL");
  if (C->srcLOD || C->dstLOD)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": srcLOD/dstLOD must be 0");
  core::Copy3DParams P;
  P.WidthBytes = C->WidthInBytes;
  P.Height = C->Height;
  P.Depth = C->Depth;
  CUSHIM_TRY(side(Api, "source", C->srcMemoryType, C->srcHost, C->srcDevice, C->srcArray, C->srcPitch, C->srcHeight,
                  C->srcXInBytes, C->srcY, C->srcZ, P.WidthBytes, P.Height, P.Depth, P.Src));
  CUSHIM_TRY(side(Api, "destination", C->dstMemoryType, C->dstHost, C->dstDevice, C->dstArray, C->dstPitch,
                  C->dstHeight, C->dstXInBytes, C->dstY, C->dstZ, P.WidthBytes, P.Height, P.Depth, P.Dst));
  return run(Api, P, Stream, PerThread, Async);
}

// A linear range of an array (cuMemcpyHtoA & co.): Offset bytes into the array's storage, Bytes long.
Expected<core::CopyOperand> arrayRange(const char *Api, CUarray Handle, size_t Offset, size_t Bytes) {
  auto A = array(Api, Handle);
  if (!A)
    return A.takeError();
  if (Offset > (*A)->bytes() || Bytes > (*A)->bytes() - Offset)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} bytes at offset {} exceed the {}-byte array", Api,
                                                           Bytes, Offset, (*A)->bytes()));
  return core::CopyOperand{static_cast<uint8_t *>((*A)->storage()) + Offset, Bytes, 1};
}

Error linear(const char *Api, Expected<core::CopyOperand> Dst, Expected<core::CopyOperand> Src, size_t Bytes,
             CUstream Stream, bool PerThread, bool Async) {
  CUSHIM_TRY(requireInit());
  if (!Dst)
    return Dst.takeError();
  if (!Src)
    return Src.takeError();
  core::Copy3DParams P;
  P.Dst = *Dst;
  P.Src = *Src;
  P.WidthBytes = Bytes;
  if (Bytes && (!P.Dst.Base || !P.Src.Base))
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": NULL pointer");
  return run(Api, P, Stream, PerThread, Async);
}

core::CopyOperand flat(const void *P, size_t Bytes) { return core::CopyOperand{const_cast<void *>(P), Bytes, 1}; }

Error memsetD2D(const char *Api, CUdeviceptr Dst, size_t Pitch, uint32_t Value, unsigned ElementSize, size_t Width,
                size_t Height, CUstream Stream, bool PerThread) {
  CUSHIM_TRY(requireInit());
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (Width == 0 || Height == 0)
    return Error::success();
  if (Dst % ElementSize != 0 || (Height > 1 && Pitch % ElementSize != 0))
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: destination {:#x} / pitch {} is not {}-byte aligned", Api, Dst, Pitch,
                                 ElementSize));
  if (Height > 1 && Pitch < Width * ElementSize)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: pitch {} is smaller than the row ({} bytes)", Api, Pitch, Width * ElementSize));
  core::CopyOperand O{ptr(Dst), Pitch, Height};
  if (!core::memory_map::containsRange(ptr(Dst), O.span(Width * ElementSize, Height, 1)))
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: the {} x {} region at {:#x} (pitch {}) is not inside a device allocation", Api,
                                 Width, Height, Dst, Pitch));
  core::Fill3DParams F;
  F.Base = ptr(Dst);
  F.Pitch = Height > 1 ? Pitch : Width * ElementSize;
  F.Rows = Height;
  F.WidthElements = Width;
  F.Height = Height;
  F.Value = Value;
  F.ElementSize = ElementSize;
  return core::fill3D(**S, F);
}

} // namespace

CUSHIM_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr *Dptr, size_t *Pitch, size_t WidthInBytes, size_t Height, unsigned int ElementSizeBytes) {
  ApiTrace T("cuMemAllocPitch_v2");
  T.args("dptr={} pitch={} width={} height={} elementSize={}", static_cast<void *>(Dptr), static_cast<void *>(Pitch),
         WidthInBytes, Height, ElementSizeBytes);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemAllocPitch");
    if (!Ctx)
      return Ctx.takeError();
    if (!Dptr || !Pitch)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAllocPitch: an output pointer is NULL");
    if (ElementSizeBytes != 4 && ElementSizeBytes != 8 && ElementSizeBytes != 16)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuMemAllocPitch: ElementSizeBytes {} is not 4, 8 or 16", ElementSizeBytes));
    if (WidthInBytes == 0 || Height == 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAllocPitch: width or height is 0");
    if (WidthInBytes > core::MaxPitch)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAllocPitch: width exceeds the maximum pitch");
    size_t P = core::pitchFor(WidthInBytes);
    auto Mem = (*Ctx)->allocate(P * Height, CUSHIM_HAL_MEMORY_DEVICE);
    if (!Mem)
      return Mem.takeError();
    *Dptr = reinterpret_cast<CUdeviceptr>(*Mem);
    *Pitch = P;
    return Error::success();
  });
}

#define CUSHIM_COPY2D(Name, PerThread, Async, StreamArg)                                                               \
  ApiTrace T(Name);                                                                                                    \
  T.args("pCopy={}", static_cast<const void *>(PCopy));                                                                \
  return T.done(copy2D(Name, PCopy, StreamArg, PerThread, Async))
#define CUSHIM_COPY3D(Name, PerThread, Async, StreamArg)                                                               \
  ApiTrace T(Name);                                                                                                    \
  T.args("pCopy={}", static_cast<const void *>(PCopy));                                                                \
  return T.done(copy3D(Name, PCopy, StreamArg, PerThread, Async))

CUSHIM_EXPORT CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D *PCopy) { CUSHIM_COPY2D("cuMemcpy2D_v2", false, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D *PCopy) { CUSHIM_COPY2D("cuMemcpy2D_v2_ptds", true, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D *PCopy) { CUSHIM_COPY2D("cuMemcpy2DUnaligned_v2", false, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemcpy2DUnaligned_v2_ptds(const CUDA_MEMCPY2D *PCopy) { CUSHIM_COPY2D("cuMemcpy2DUnaligned_v2_ptds", true, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D *PCopy, CUstream HStream) { CUSHIM_COPY2D("cuMemcpy2DAsync_v2", false, true, HStream); }
CUSHIM_EXPORT CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D *PCopy, CUstream HStream) { CUSHIM_COPY2D("cuMemcpy2DAsync_v2_ptsz", true, true, HStream); }
CUSHIM_EXPORT CUresult cuMemcpy3D_v2(const CUDA_MEMCPY3D *PCopy) { CUSHIM_COPY3D("cuMemcpy3D_v2", false, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemcpy3D_v2_ptds(const CUDA_MEMCPY3D *PCopy) { CUSHIM_COPY3D("cuMemcpy3D_v2_ptds", true, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemcpy3DAsync_v2(const CUDA_MEMCPY3D *PCopy, CUstream HStream) { CUSHIM_COPY3D("cuMemcpy3DAsync_v2", false, true, HStream); }
CUSHIM_EXPORT CUresult cuMemcpy3DAsync_v2_ptsz(const CUDA_MEMCPY3D *PCopy, CUstream HStream) { CUSHIM_COPY3D("cuMemcpy3DAsync_v2_ptsz", true, true, HStream); }

CUSHIM_EXPORT CUresult cuMemcpyHtoA_v2(CUarray DstArray, size_t DstOffset, const void *SrcHost, size_t ByteCount) {
  ApiTrace T("cuMemcpyHtoA_v2");
  T.args("dstArray={} dstOffset={} srcHost={} bytes={}", static_cast<void *>(DstArray), DstOffset, SrcHost, ByteCount);
  return T.done(linear("cuMemcpyHtoA", arrayRange("cuMemcpyHtoA", DstArray, DstOffset, ByteCount),
                       flat(SrcHost, ByteCount), ByteCount, nullptr, false, false));
}
CUSHIM_EXPORT CUresult cuMemcpyHtoA_v2_ptds(CUarray DstArray, size_t DstOffset, const void *SrcHost, size_t ByteCount) {
  ApiTrace T("cuMemcpyHtoA_v2_ptds");
  T.args("dstArray={} dstOffset={} srcHost={} bytes={}", static_cast<void *>(DstArray), DstOffset, SrcHost, ByteCount);
  return T.done(linear("cuMemcpyHtoA", arrayRange("cuMemcpyHtoA", DstArray, DstOffset, ByteCount),
                       flat(SrcHost, ByteCount), ByteCount, nullptr, true, false));
}
CUSHIM_EXPORT CUresult cuMemcpyHtoAAsync_v2(CUarray DstArray, size_t DstOffset, const void *SrcHost, size_t ByteCount, CUstream HStream) {
  ApiTrace T("cuMemcpyHtoAAsync_v2");
  T.args("dstArray={} dstOffset={} srcHost={} bytes={}", static_cast<void *>(DstArray), DstOffset, SrcHost, ByteCount);
  return T.done(linear("cuMemcpyHtoAAsync", arrayRange("cuMemcpyHtoAAsync", DstArray, DstOffset, ByteCount),
                       flat(SrcHost, ByteCount), ByteCount, HStream, false, true));
}
CUSHIM_EXPORT CUresult cuMemcpyAtoH_v2(void *DstHost, CUarray SrcArray, size_t SrcOffset, size_t ByteCount) {
  ApiTrace T("cuMemcpyAtoH_v2");
  T.args("dstHost={} srcArray={} srcOffset={} bytes={}", DstHost, static_cast<void *>(SrcArray), SrcOffset, ByteCount);
  return T.done(linear("cuMemcpyAtoH", flat(DstHost, ByteCount),
                       arrayRange("cuMemcpyAtoH", SrcArray, SrcOffset, ByteCount), ByteCount, nullptr, false, false));
}
CUSHIM_EXPORT CUresult cuMemcpyAtoH_v2_ptds(void *DstHost, CUarray SrcArray, size_t SrcOffset, size_t ByteCount) {
  ApiTrace T("cuMemcpyAtoH_v2_ptds");
  T.args("dstHost={} srcArray={} srcOffset={} bytes={}", DstHost, static_cast<void *>(SrcArray), SrcOffset, ByteCount);
  return T.done(linear("cuMemcpyAtoH", flat(DstHost, ByteCount),
                       arrayRange("cuMemcpyAtoH", SrcArray, SrcOffset, ByteCount), ByteCount, nullptr, true, false));
}
CUSHIM_EXPORT CUresult cuMemcpyAtoHAsync_v2(void *DstHost, CUarray SrcArray, size_t SrcOffset, size_t ByteCount, CUstream HStream) {
  ApiTrace T("cuMemcpyAtoHAsync_v2");
  T.args("dstHost={} srcArray={} srcOffset={} bytes={}", DstHost, static_cast<void *>(SrcArray), SrcOffset, ByteCount);
  return T.done(linear("cuMemcpyAtoHAsync", flat(DstHost, ByteCount),
                       arrayRange("cuMemcpyAtoHAsync", SrcArray, SrcOffset, ByteCount), ByteCount, HStream, false,
                       true));
}
CUSHIM_EXPORT CUresult cuMemcpyDtoA_v2(CUarray DstArray, size_t DstOffset, CUdeviceptr SrcDevice, size_t ByteCount) {
  ApiTrace T("cuMemcpyDtoA_v2");
  T.args("dstArray={} dstOffset={} src={:#x} bytes={}", static_cast<void *>(DstArray), DstOffset, SrcDevice, ByteCount);
  return T.done(linear("cuMemcpyDtoA", arrayRange("cuMemcpyDtoA", DstArray, DstOffset, ByteCount),
                       flat(ptr(SrcDevice), ByteCount), ByteCount, nullptr, false, false));
}
CUSHIM_EXPORT CUresult cuMemcpyAtoD_v2(CUdeviceptr DstDevice, CUarray SrcArray, size_t SrcOffset, size_t ByteCount) {
  ApiTrace T("cuMemcpyAtoD_v2");
  T.args("dst={:#x} srcArray={} srcOffset={} bytes={}", DstDevice, static_cast<void *>(SrcArray), SrcOffset, ByteCount);
  return T.done(linear("cuMemcpyAtoD", flat(ptr(DstDevice), ByteCount),
                       arrayRange("cuMemcpyAtoD", SrcArray, SrcOffset, ByteCount), ByteCount, nullptr, false, false));
}
CUSHIM_EXPORT CUresult cuMemcpyAtoA_v2(CUarray DstArray, size_t DstOffset, CUarray SrcArray, size_t SrcOffset, size_t ByteCount) {
  ApiTrace T("cuMemcpyAtoA_v2");
  T.args("dstArray={} dstOffset={} srcArray={} srcOffset={} bytes={}", static_cast<void *>(DstArray), DstOffset,
         static_cast<void *>(SrcArray), SrcOffset, ByteCount);
  return T.done(linear("cuMemcpyAtoA", arrayRange("cuMemcpyAtoA", DstArray, DstOffset, ByteCount),
                       arrayRange("cuMemcpyAtoA", SrcArray, SrcOffset, ByteCount), ByteCount, nullptr, false, false));
}

#define CUSHIM_MEMSETD2D(Name, Size, PerThread, StreamArg)                                                             \
  ApiTrace T(Name);                                                                                                    \
  T.args("dst={:#x} pitch={} value={} width={} height={}", DstDevice, DstPitch, static_cast<unsigned>(Value), Width,   \
         Height);                                                                                                      \
  return T.done(memsetD2D(Name, DstDevice, DstPitch, Value, Size, Width, Height, StreamArg, PerThread))

CUSHIM_EXPORT CUresult cuMemsetD2D8_v2(CUdeviceptr DstDevice, size_t DstPitch, unsigned char Value, size_t Width, size_t Height) { CUSHIM_MEMSETD2D("cuMemsetD2D8_v2", 1, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemsetD2D8_v2_ptds(CUdeviceptr DstDevice, size_t DstPitch, unsigned char Value, size_t Width, size_t Height) { CUSHIM_MEMSETD2D("cuMemsetD2D8_v2_ptds", 1, true, nullptr); }
CUSHIM_EXPORT CUresult cuMemsetD2D16_v2(CUdeviceptr DstDevice, size_t DstPitch, unsigned short Value, size_t Width, size_t Height) { CUSHIM_MEMSETD2D("cuMemsetD2D16_v2", 2, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemsetD2D16_v2_ptds(CUdeviceptr DstDevice, size_t DstPitch, unsigned short Value, size_t Width, size_t Height) { CUSHIM_MEMSETD2D("cuMemsetD2D16_v2_ptds", 2, true, nullptr); }
CUSHIM_EXPORT CUresult cuMemsetD2D32_v2(CUdeviceptr DstDevice, size_t DstPitch, unsigned int Value, size_t Width, size_t Height) { CUSHIM_MEMSETD2D("cuMemsetD2D32_v2", 4, false, nullptr); }
CUSHIM_EXPORT CUresult cuMemsetD2D32_v2_ptds(CUdeviceptr DstDevice, size_t DstPitch, unsigned int Value, size_t Width, size_t Height) { CUSHIM_MEMSETD2D("cuMemsetD2D32_v2_ptds", 4, true, nullptr); }
CUSHIM_EXPORT CUresult cuMemsetD2D8Async(CUdeviceptr DstDevice, size_t DstPitch, unsigned char Value, size_t Width, size_t Height, CUstream HStream) { CUSHIM_MEMSETD2D("cuMemsetD2D8Async", 1, false, HStream); }
CUSHIM_EXPORT CUresult cuMemsetD2D8Async_ptsz(CUdeviceptr DstDevice, size_t DstPitch, unsigned char Value, size_t Width, size_t Height, CUstream HStream) { CUSHIM_MEMSETD2D("cuMemsetD2D8Async_ptsz", 1, true, HStream); }
CUSHIM_EXPORT CUresult cuMemsetD2D16Async(CUdeviceptr DstDevice, size_t DstPitch, unsigned short Value, size_t Width, size_t Height, CUstream HStream) { CUSHIM_MEMSETD2D("cuMemsetD2D16Async", 2, false, HStream); }
CUSHIM_EXPORT CUresult cuMemsetD2D16Async_ptsz(CUdeviceptr DstDevice, size_t DstPitch, unsigned short Value, size_t Width, size_t Height, CUstream HStream) { CUSHIM_MEMSETD2D("cuMemsetD2D16Async_ptsz", 2, true, HStream); }
CUSHIM_EXPORT CUresult cuMemsetD2D32Async(CUdeviceptr DstDevice, size_t DstPitch, unsigned int Value, size_t Width, size_t Height, CUstream HStream) { CUSHIM_MEMSETD2D("cuMemsetD2D32Async", 4, false, HStream); }
CUSHIM_EXPORT CUresult cuMemsetD2D32Async_ptsz(CUdeviceptr DstDevice, size_t DstPitch, unsigned int Value, size_t Width, size_t Height, CUstream HStream) { CUSHIM_MEMSETD2D("cuMemsetD2D32Async_ptsz", 4, true, HStream); }
