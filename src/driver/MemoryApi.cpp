// Linear device memory (cuMemAlloc, cuMemFree, cuMemcpy*, cuMemset*, cuMemGetInfo), page-locked host memory, managed
// memory and pointer attributes (docs/MEMORY.md). Pools: MemoryPoolApi.cpp; virtual memory: VmmApi.cpp.
#include "driver/DriverApi.h"
#include "driver/DriverStream.h"

#include "core/Graph.h"
#include "core/Memory.h"
#include "core/MemoryMap.h"
#include "core/Stream.h"
#include "hal/Hal.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::driver;

static void *ptr(CUdeviceptr P) { return reinterpret_cast<void *>(static_cast<uintptr_t>(P)); }

// A device range an operation touches must lie in one allocation (or a module variable).
static Error checkDeviceRange(const char *Api, const char *Which, CUdeviceptr P, size_t Bytes) {
  if (Bytes == 0)
    return Error::success();
  if (!core::memory_map::containsRange(ptr(P), Bytes))
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: {} range [{:#x}, +{}) is not inside a device allocation", Api, Which, P, Bytes));
  return Error::success();
}

CUSHIM_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *Dptr, size_t Bytesize) {
  ApiTrace T("cuMemAlloc_v2");
  T.args("dptr={} bytesize={}", static_cast<void *>(Dptr), Bytesize);
  CUSHIM_DRIVER_BODY(T, {
    if (!Dptr)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc: dptr is NULL");
    if (Bytesize == 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAlloc: bytesize is 0");
    auto Ctx = requireContext("cuMemAlloc");
    if (!Ctx)
      return Ctx.takeError();
    CUSHIM_TRY(core::captureCheckUnsafeCall("cuMemAlloc")); // a "potentially unsafe" call during capture
    auto P = (*Ctx)->allocate(Bytesize, CUSHIM_HAL_MEMORY_DEVICE);
    if (!P)
      return P.takeError();
    *Dptr = reinterpret_cast<CUdeviceptr>(*P);
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemFree_v2(CUdeviceptr Dptr) {
  ApiTrace T("cuMemFree_v2");
  T.args("dptr={:#x}", Dptr);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemFree");
    if (!Ctx)
      return Ctx.takeError();
    if (Dptr == 0)
      return Error::success();
    CUSHIM_TRY(core::captureCheckUnsafeCall("cuMemFree"));
    // Device, managed and stream-ordered allocations (the latter after synchronising, as CUDA does).
    return core::freeDeviceMemory("cuMemFree", ptr(Dptr));
  });
}

CUSHIM_EXPORT CUresult cuMemGetInfo_v2(size_t *Free, size_t *Total) {
  ApiTrace T("cuMemGetInfo_v2");
  T.args("free={} total={}", static_cast<void *>(Free), static_cast<void *>(Total));
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemGetInfo");
    if (!Ctx)
      return Ctx.takeError();
    return (*Ctx)->memoryInfo(Free, Total);
  });
}

// Synchronous copies run on the NULL stream and wait for it, as CUDA's do for pageable host memory.
static Error copySync(const char *Api, void *Dst, const void *Src, size_t Bytes) {
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  if (Bytes == 0)
    return Error::success();
  if (!Dst || !Src)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": NULL pointer");
  core::Stream &S = (*Ctx)->nullStream();
  CUSHIM_TRY(S.copy(Dst, Src, Bytes));
  return S.synchronize();
}

CUSHIM_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr Dst, const void *Src, size_t Bytes) {
  ApiTrace T("cuMemcpyHtoD_v2");
  T.args("dst={:#x} src={} bytes={}", Dst, Src, Bytes);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    CUSHIM_TRY(checkDeviceRange("cuMemcpyHtoD", "destination", Dst, Bytes));
    return copySync("cuMemcpyHtoD", ptr(Dst), Src, Bytes);
  });
}

CUSHIM_EXPORT CUresult cuMemcpyDtoH_v2(void *Dst, CUdeviceptr Src, size_t Bytes) {
  ApiTrace T("cuMemcpyDtoH_v2");
  T.args("dst={} src={:#x} bytes={}", Dst, Src, Bytes);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    CUSHIM_TRY(checkDeviceRange("cuMemcpyDtoH", "source", Src, Bytes));
    return copySync("cuMemcpyDtoH", Dst, ptr(Src), Bytes);
  });
}

CUSHIM_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes) {
  ApiTrace T("cuMemcpyDtoD_v2");
  T.args("dst={:#x} src={:#x} bytes={}", Dst, Src, Bytes);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    CUSHIM_TRY(checkDeviceRange("cuMemcpyDtoD", "destination", Dst, Bytes));
    CUSHIM_TRY(checkDeviceRange("cuMemcpyDtoD", "source", Src, Bytes));
    return copySync("cuMemcpyDtoD", ptr(Dst), ptr(Src), Bytes);
  });
}

// cuMemset* is asynchronous with respect to the host for device memory, on the NULL stream.
static Error memset(const char *Api, CUdeviceptr Dst, uint32_t Value, unsigned ElementSize, size_t Count) {
  CUSHIM_TRY(requireInit());
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  if (Count == 0)
    return Error::success();
  if (Dst % ElementSize != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: destination {:#x} is not {}-byte aligned", Api, Dst, ElementSize));
  CUSHIM_TRY(checkDeviceRange(Api, "destination", Dst, Count * ElementSize));
  return (*Ctx)->nullStream().fill(ptr(Dst), Value, ElementSize, Count);
}

CUSHIM_EXPORT CUresult cuMemsetD8_v2(CUdeviceptr Dst, unsigned char Value, size_t N) {
  ApiTrace T("cuMemsetD8_v2");
  T.args("dst={:#x} uc={} N={}", Dst, Value, N);
  return T.done(memset("cuMemsetD8", Dst, Value, 1, N));
}

CUSHIM_EXPORT CUresult cuMemsetD16_v2(CUdeviceptr Dst, unsigned short Value, size_t N) {
  ApiTrace T("cuMemsetD16_v2");
  T.args("dst={:#x} us={} N={}", Dst, Value, N);
  return T.done(memset("cuMemsetD16", Dst, Value, 2, N));
}

CUSHIM_EXPORT CUresult cuMemsetD32_v2(CUdeviceptr Dst, unsigned int Value, size_t N) {
  ApiTrace T("cuMemsetD32_v2");
  T.args("dst={:#x} ui={} N={}", Dst, Value, N);
  return T.done(memset("cuMemsetD32", Dst, Value, 4, N));
}

CUSHIM_EXPORT CUresult cuMemGetAddressRange_v2(CUdeviceptr *Pbase, size_t *Psize, CUdeviceptr Dptr) {
  ApiTrace T("cuMemGetAddressRange_v2");
  T.args("pbase={} psize={} dptr={:#x}", static_cast<void *>(Pbase), static_cast<void *>(Psize), Dptr);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemGetAddressRange");
    if (!Ctx)
      return Ctx.takeError();
    auto A = core::memory_map::find(ptr(Dptr));
    if (!A)
      return makeError(CUDA_ERROR_NOT_FOUND, fmt::format("cuMemGetAddressRange: {:#x} is not in an allocation", Dptr));
    if (Pbase)
      *Pbase = static_cast<CUdeviceptr>(A->Base);
    if (Psize)
      *Psize = A->Size;
    return Error::success();
  });
}

// ---- Stream-ordered copies and fills (docs/STREAMS.md) ---------------------------------------------------------
// The _ptds/_ptsz entry points are what CUDA_API_PER_THREAD_DEFAULT_STREAM programs call: there, stream 0 is the
// calling thread's per-thread stream instead of the legacy one.

namespace {
enum class CopyCheck { DeviceDst, DeviceSrc, DeviceBoth, Unified };
} // namespace

static Error copyOn(const char *Api, void *Dst, const void *Src, size_t Bytes, CopyCheck Check, CUstream Stream,
                    bool PerThread, bool Async) {
  CUSHIM_TRY(requireInit());
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (Bytes == 0)
    return Error::success();
  if (!Dst || !Src)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": NULL pointer");
  if (Check == CopyCheck::DeviceDst || Check == CopyCheck::DeviceBoth)
    CUSHIM_TRY(checkDeviceRange(Api, "destination", reinterpret_cast<CUdeviceptr>(Dst), Bytes));
  if (Check == CopyCheck::DeviceSrc || Check == CopyCheck::DeviceBoth)
    CUSHIM_TRY(checkDeviceRange(Api, "source", reinterpret_cast<CUdeviceptr>(Src), Bytes));
  // Unified copies (cuMemcpy, cuMemcpyAsync) infer the direction from the addresses, host memory included.
  return Async ? (*S)->copyAsync(Dst, Src, Bytes) : (*S)->copySync(Dst, Src, Bytes);
}

static Error fillOn(const char *Api, CUdeviceptr Dst, uint32_t Value, unsigned ElementSize, size_t Count,
                    CUstream Stream, bool PerThread) {
  CUSHIM_TRY(requireInit());
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (Count == 0)
    return Error::success();
  if (Dst % ElementSize != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: destination {:#x} is not {}-byte aligned", Api, Dst, ElementSize));
  CUSHIM_TRY(checkDeviceRange(Api, "destination", Dst, Count * ElementSize));
  return (*S)->fill(ptr(Dst), Value, ElementSize, Count);
}

CUSHIM_EXPORT CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr Dst, const void *Src, size_t Bytes) {
  ApiTrace T("cuMemcpyHtoD_v2_ptds");
  T.args("dst={:#x} src={} bytes={}", Dst, Src, Bytes);
  return T.done(copyOn("cuMemcpyHtoD_v2_ptds", ptr(Dst), Src, Bytes, CopyCheck::DeviceDst, nullptr, true, false));
}

CUSHIM_EXPORT CUresult cuMemcpyDtoH_v2_ptds(void *Dst, CUdeviceptr Src, size_t Bytes) {
  ApiTrace T("cuMemcpyDtoH_v2_ptds");
  T.args("dst={} src={:#x} bytes={}", Dst, Src, Bytes);
  return T.done(copyOn("cuMemcpyDtoH_v2_ptds", Dst, ptr(Src), Bytes, CopyCheck::DeviceSrc, nullptr, true, false));
}

CUSHIM_EXPORT CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes) {
  ApiTrace T("cuMemcpyDtoD_v2_ptds");
  T.args("dst={:#x} src={:#x} bytes={}", Dst, Src, Bytes);
  return T.done(copyOn("cuMemcpyDtoD_v2_ptds", ptr(Dst), ptr(Src), Bytes, CopyCheck::DeviceBoth, nullptr, true, false));
}

CUSHIM_EXPORT CUresult cuMemcpy(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes) {
  ApiTrace T("cuMemcpy");
  T.args("dst={:#x} src={:#x} bytes={}", Dst, Src, Bytes);
  return T.done(copyOn("cuMemcpy", ptr(Dst), ptr(Src), Bytes, CopyCheck::Unified, nullptr, false, false));
}

CUSHIM_EXPORT CUresult cuMemcpy_ptds(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes) {
  ApiTrace T("cuMemcpy_ptds");
  T.args("dst={:#x} src={:#x} bytes={}", Dst, Src, Bytes);
  return T.done(copyOn("cuMemcpy_ptds", ptr(Dst), ptr(Src), Bytes, CopyCheck::Unified, nullptr, true, false));
}

CUSHIM_EXPORT CUresult cuMemcpyAsync(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyAsync");
  T.args("dst={:#x} src={:#x} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyAsync", ptr(Dst), ptr(Src), Bytes, CopyCheck::Unified, HStream, false, true));
}

CUSHIM_EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr Dst, const void *Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyHtoDAsync_v2");
  T.args("dst={:#x} src={} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyHtoDAsync_v2", ptr(Dst), Src, Bytes, CopyCheck::DeviceDst, HStream, false, true));
}

CUSHIM_EXPORT CUresult cuMemcpyDtoHAsync_v2(void *Dst, CUdeviceptr Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyDtoHAsync_v2");
  T.args("dst={} src={:#x} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyDtoHAsync_v2", Dst, ptr(Src), Bytes, CopyCheck::DeviceSrc, HStream, false, true));
}

CUSHIM_EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyDtoDAsync_v2");
  T.args("dst={:#x} src={:#x} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyDtoDAsync_v2", ptr(Dst), ptr(Src), Bytes, CopyCheck::DeviceBoth, HStream, false, true));
}

CUSHIM_EXPORT CUresult cuMemcpyAsync_ptsz(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyAsync_ptsz");
  T.args("dst={:#x} src={:#x} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyAsync_ptsz", ptr(Dst), ptr(Src), Bytes, CopyCheck::Unified, HStream, true, true));
}

CUSHIM_EXPORT CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr Dst, const void *Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyHtoDAsync_v2_ptsz");
  T.args("dst={:#x} src={} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyHtoDAsync_v2_ptsz", ptr(Dst), Src, Bytes, CopyCheck::DeviceDst, HStream, true, true));
}

CUSHIM_EXPORT CUresult cuMemcpyDtoHAsync_v2_ptsz(void *Dst, CUdeviceptr Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyDtoHAsync_v2_ptsz");
  T.args("dst={} src={:#x} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(copyOn("cuMemcpyDtoHAsync_v2_ptsz", Dst, ptr(Src), Bytes, CopyCheck::DeviceSrc, HStream, true, true));
}

CUSHIM_EXPORT CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr Dst, CUdeviceptr Src, size_t Bytes, CUstream HStream) {
  ApiTrace T("cuMemcpyDtoDAsync_v2_ptsz");
  T.args("dst={:#x} src={:#x} bytes={} stream={}", Dst, Src, Bytes, static_cast<void *>(HStream));
  return T.done(
      copyOn("cuMemcpyDtoDAsync_v2_ptsz", ptr(Dst), ptr(Src), Bytes, CopyCheck::DeviceBoth, HStream, true, true));
}

CUSHIM_EXPORT CUresult cuMemsetD8_v2_ptds(CUdeviceptr Dst, unsigned char Value, size_t N) {
  ApiTrace T("cuMemsetD8_v2_ptds");
  T.args("dst={:#x} uc={} N={}", Dst, Value, N);
  return T.done(fillOn("cuMemsetD8_v2_ptds", Dst, Value, 1, N, nullptr, true));
}

CUSHIM_EXPORT CUresult cuMemsetD8Async(CUdeviceptr Dst, unsigned char Value, size_t N, CUstream HStream) {
  ApiTrace T("cuMemsetD8Async");
  T.args("dst={:#x} uc={} N={} stream={}", Dst, Value, N, static_cast<void *>(HStream));
  return T.done(fillOn("cuMemsetD8Async", Dst, Value, 1, N, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemsetD8Async_ptsz(CUdeviceptr Dst, unsigned char Value, size_t N, CUstream HStream) {
  ApiTrace T("cuMemsetD8Async_ptsz");
  T.args("dst={:#x} uc={} N={} stream={}", Dst, Value, N, static_cast<void *>(HStream));
  return T.done(fillOn("cuMemsetD8Async_ptsz", Dst, Value, 1, N, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemsetD16_v2_ptds(CUdeviceptr Dst, unsigned short Value, size_t N) {
  ApiTrace T("cuMemsetD16_v2_ptds");
  T.args("dst={:#x} us={} N={}", Dst, Value, N);
  return T.done(fillOn("cuMemsetD16_v2_ptds", Dst, Value, 2, N, nullptr, true));
}

CUSHIM_EXPORT CUresult cuMemsetD16Async(CUdeviceptr Dst, unsigned short Value, size_t N, CUstream HStream) {
  ApiTrace T("cuMemsetD16Async");
  T.args("dst={:#x} us={} N={} stream={}", Dst, Value, N, static_cast<void *>(HStream));
  return T.done(fillOn("cuMemsetD16Async", Dst, Value, 2, N, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemsetD16Async_ptsz(CUdeviceptr Dst, unsigned short Value, size_t N, CUstream HStream) {
  ApiTrace T("cuMemsetD16Async_ptsz");
  T.args("dst={:#x} us={} N={} stream={}", Dst, Value, N, static_cast<void *>(HStream));
  return T.done(fillOn("cuMemsetD16Async_ptsz", Dst, Value, 2, N, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemsetD32_v2_ptds(CUdeviceptr Dst, unsigned int Value, size_t N) {
  ApiTrace T("cuMemsetD32_v2_ptds");
  T.args("dst={:#x} ui={} N={}", Dst, Value, N);
  return T.done(fillOn("cuMemsetD32_v2_ptds", Dst, Value, 4, N, nullptr, true));
}

CUSHIM_EXPORT CUresult cuMemsetD32Async(CUdeviceptr Dst, unsigned int Value, size_t N, CUstream HStream) {
  ApiTrace T("cuMemsetD32Async");
  T.args("dst={:#x} ui={} N={} stream={}", Dst, Value, N, static_cast<void *>(HStream));
  return T.done(fillOn("cuMemsetD32Async", Dst, Value, 4, N, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemsetD32Async_ptsz(CUdeviceptr Dst, unsigned int Value, size_t N, CUstream HStream) {
  ApiTrace T("cuMemsetD32Async_ptsz");
  T.args("dst={:#x} ui={} N={} stream={}", Dst, Value, N, static_cast<void *>(HStream));
  return T.done(fillOn("cuMemsetD32Async_ptsz", Dst, Value, 4, N, HStream, true));
}

// ---- Page-locked host memory -------------------------------------------------------------------------------------

static Error hostAlloc(const char *Api, void **Pp, size_t Bytes, unsigned Flags) {
  if (!Pp)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": pp is NULL");
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  auto P = core::allocateHost(**Ctx, Bytes, Flags);
  if (!P)
    return makeError(P.error().code(), std::string(Api) + ": " + P.error().message());
  *Pp = *P;
  return Error::success();
}

CUSHIM_EXPORT CUresult cuMemAllocHost_v2(void **Pp, size_t Bytesize) {
  ApiTrace T("cuMemAllocHost_v2");
  T.args("pp={} bytesize={}", static_cast<void *>(Pp), Bytesize);
  return T.done(hostAlloc("cuMemAllocHost", Pp, Bytesize, 0));
}

CUSHIM_EXPORT CUresult cuMemAllocHost(void **Pp, unsigned int Bytesize) {
  ApiTrace T("cuMemAllocHost");
  T.args("pp={} bytesize={}", static_cast<void *>(Pp), Bytesize);
  return T.done(hostAlloc("cuMemAllocHost", Pp, Bytesize, 0));
}

CUSHIM_EXPORT CUresult cuMemHostAlloc(void **Pp, size_t Bytesize, unsigned int Flags) {
  ApiTrace T("cuMemHostAlloc");
  T.args("pp={} bytesize={} flags={:#x}", static_cast<void *>(Pp), Bytesize, Flags);
  return T.done(hostAlloc("cuMemHostAlloc", Pp, Bytesize, Flags));
}

CUSHIM_EXPORT CUresult cuMemFreeHost(void *P) {
  ApiTrace T("cuMemFreeHost");
  T.args("p={}", P);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::freeHost(P);
  });
}

static Error hostRegister(const char *Api, void *P, size_t Bytesize, unsigned Flags) {
  auto Ctx = requireContext(Api);
  if (!Ctx)
    return Ctx.takeError();
  return core::registerHost(**Ctx, P, Bytesize, Flags);
}

CUSHIM_EXPORT CUresult cuMemHostRegister_v2(void *P, size_t Bytesize, unsigned int Flags) {
  ApiTrace T("cuMemHostRegister_v2");
  T.args("p={} bytesize={} flags={:#x}", P, Bytesize, Flags);
  return T.done(hostRegister("cuMemHostRegister", P, Bytesize, Flags));
}

CUSHIM_EXPORT CUresult cuMemHostRegister(void *P, size_t Bytesize, unsigned int Flags) {
  ApiTrace T("cuMemHostRegister");
  T.args("p={} bytesize={} flags={:#x}", P, Bytesize, Flags);
  return T.done(hostRegister("cuMemHostRegister", P, Bytesize, Flags));
}

CUSHIM_EXPORT CUresult cuMemHostUnregister(void *P) {
  ApiTrace T("cuMemHostUnregister");
  T.args("p={}", P);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemHostUnregister");
    if (!Ctx)
      return Ctx.takeError();
    if (!P)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemHostUnregister: p is NULL");
    return core::unregisterHost(P);
  });
}

CUSHIM_EXPORT CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *Pdptr, void *P, unsigned int Flags) {
  ApiTrace T("cuMemHostGetDevicePointer_v2");
  T.args("pdptr={} p={} flags={:#x}", static_cast<void *>(Pdptr), P, Flags);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemHostGetDevicePointer");
    if (!Ctx)
      return Ctx.takeError();
    if (!Pdptr)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemHostGetDevicePointer: pdptr is NULL");
    auto D = core::hostDevicePointer(P, Flags);
    if (!D)
      return D.takeError();
    *Pdptr = reinterpret_cast<CUdeviceptr>(*D);
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuMemHostGetFlags(unsigned int *PFlags, void *P) {
  ApiTrace T("cuMemHostGetFlags");
  T.args("pFlags={} p={}", static_cast<void *>(PFlags), P);
  CUSHIM_DRIVER_BODY(T, {
    auto Ctx = requireContext("cuMemHostGetFlags");
    if (!Ctx)
      return Ctx.takeError();
    if (!PFlags)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemHostGetFlags: pFlags is NULL");
    auto F = core::hostAllocFlags(P);
    if (!F)
      return F.takeError();
    *PFlags = *F;
    return Error::success();
  });
}

// ---- Managed memory ------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuMemAllocManaged(CUdeviceptr *Dptr, size_t Bytesize, unsigned int Flags) {
  ApiTrace T("cuMemAllocManaged");
  T.args("dptr={} bytesize={} flags={:#x}", static_cast<void *>(Dptr), Bytesize, Flags);
  CUSHIM_DRIVER_BODY(T, {
    if (!Dptr)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemAllocManaged: dptr is NULL");
    auto Ctx = requireContext("cuMemAllocManaged");
    if (!Ctx)
      return Ctx.takeError();
    auto P = core::allocateManaged(**Ctx, Bytesize, Flags);
    if (!P)
      return P.takeError();
    *Dptr = reinterpret_cast<CUdeviceptr>(*P);
    return Error::success();
  });
}

// The pre-12.2 forms name a device ordinal, or CU_DEVICE_CPU for the host.
static CUmemLocation legacyLocation(CUdevice Device) {
  CUmemLocation L;
  L.type = Device == CU_DEVICE_CPU ? CU_MEM_LOCATION_TYPE_HOST : CU_MEM_LOCATION_TYPE_DEVICE;
  L.id = Device == CU_DEVICE_CPU ? 0 : Device;
  return L;
}

static Error prefetch(const char *Api, CUdeviceptr DevPtr, size_t Count, CUmemLocation Location, unsigned Flags,
                      CUstream Stream, bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return core::prefetchManaged(**S, ptr(DevPtr), Count, Location, Flags);
}

CUSHIM_EXPORT CUresult cuMemPrefetchAsync_v2(CUdeviceptr DevPtr, size_t Count, CUmemLocation Location,
                                             unsigned int Flags, CUstream HStream) {
  ApiTrace T("cuMemPrefetchAsync_v2");
  T.args("devPtr={:#x} count={} location=({},{}) flags={:#x} stream={}", DevPtr, Count, int(Location.type),
         Location.id, Flags, static_cast<void *>(HStream));
  return T.done(prefetch("cuMemPrefetchAsync", DevPtr, Count, Location, Flags, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemPrefetchAsync_v2_ptsz(CUdeviceptr DevPtr, size_t Count, CUmemLocation Location,
                                                  unsigned int Flags, CUstream HStream) {
  ApiTrace T("cuMemPrefetchAsync_v2_ptsz");
  T.args("devPtr={:#x} count={} location=({},{}) flags={:#x} stream={}", DevPtr, Count, int(Location.type),
         Location.id, Flags, static_cast<void *>(HStream));
  return T.done(prefetch("cuMemPrefetchAsync", DevPtr, Count, Location, Flags, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemPrefetchAsync(CUdeviceptr DevPtr, size_t Count, CUdevice DstDevice, CUstream HStream) {
  ApiTrace T("cuMemPrefetchAsync");
  T.args("devPtr={:#x} count={} dstDevice={} stream={}", DevPtr, Count, DstDevice, static_cast<void *>(HStream));
  return T.done(prefetch("cuMemPrefetchAsync", DevPtr, Count, legacyLocation(DstDevice), 0, HStream, false));
}

CUSHIM_EXPORT CUresult cuMemPrefetchAsync_ptsz(CUdeviceptr DevPtr, size_t Count, CUdevice DstDevice,
                                               CUstream HStream) {
  ApiTrace T("cuMemPrefetchAsync_ptsz");
  T.args("devPtr={:#x} count={} dstDevice={} stream={}", DevPtr, Count, DstDevice, static_cast<void *>(HStream));
  return T.done(prefetch("cuMemPrefetchAsync", DevPtr, Count, legacyLocation(DstDevice), 0, HStream, true));
}

CUSHIM_EXPORT CUresult cuMemAdvise_v2(CUdeviceptr DevPtr, size_t Count, CUmem_advise Advice, CUmemLocation Location) {
  ApiTrace T("cuMemAdvise_v2");
  T.args("devPtr={:#x} count={} advice={} location=({},{})", DevPtr, Count, int(Advice), int(Location.type),
         Location.id);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::adviseManaged(ptr(DevPtr), Count, Advice, Location);
  });
}

CUSHIM_EXPORT CUresult cuMemAdvise(CUdeviceptr DevPtr, size_t Count, CUmem_advise Advice, CUdevice Device) {
  ApiTrace T("cuMemAdvise");
  T.args("devPtr={:#x} count={} advice={} device={}", DevPtr, Count, int(Advice), Device);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::adviseManaged(ptr(DevPtr), Count, Advice, legacyLocation(Device));
  });
}

CUSHIM_EXPORT CUresult cuMemRangeGetAttribute(void *Data, size_t DataSize, CUmem_range_attribute Attribute,
                                              CUdeviceptr DevPtr, size_t Count) {
  ApiTrace T("cuMemRangeGetAttribute");
  T.args("data={} dataSize={} attribute={} devPtr={:#x} count={}", Data, DataSize, int(Attribute), DevPtr, Count);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::managedRangeAttribute(Data, DataSize, Attribute, ptr(DevPtr), Count);
  });
}

CUSHIM_EXPORT CUresult cuMemRangeGetAttributes(void **Data, size_t *DataSizes, CUmem_range_attribute *Attributes,
                                               size_t NumAttributes, CUdeviceptr DevPtr, size_t Count) {
  ApiTrace T("cuMemRangeGetAttributes");
  T.args("data={} dataSizes={} attributes={} num={} devPtr={:#x} count={}", static_cast<void *>(Data),
         static_cast<void *>(DataSizes), static_cast<void *>(Attributes), NumAttributes, DevPtr, Count);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Data || !DataSizes || !Attributes || NumAttributes == 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemRangeGetAttributes: NULL array or no attributes");
    for (size_t I = 0; I < NumAttributes; ++I)
      CUSHIM_TRY(core::managedRangeAttribute(Data[I], DataSizes[I], Attributes[I], ptr(DevPtr), Count));
    return Error::success();
  });
}

static Error attach(const char *Api, CUstream Stream, CUdeviceptr Dptr, size_t Length, unsigned Flags,
                    bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return core::attachManaged(**S, ptr(Dptr), Length, Flags);
}

CUSHIM_EXPORT CUresult cuStreamAttachMemAsync(CUstream HStream, CUdeviceptr Dptr, size_t Length, unsigned int Flags) {
  ApiTrace T("cuStreamAttachMemAsync");
  T.args("stream={} dptr={:#x} length={} flags={:#x}", static_cast<void *>(HStream), Dptr, Length, Flags);
  return T.done(attach("cuStreamAttachMemAsync", HStream, Dptr, Length, Flags, false));
}

CUSHIM_EXPORT CUresult cuStreamAttachMemAsync_ptsz(CUstream HStream, CUdeviceptr Dptr, size_t Length,
                                                   unsigned int Flags) {
  ApiTrace T("cuStreamAttachMemAsync_ptsz");
  T.args("stream={} dptr={:#x} length={} flags={:#x}", static_cast<void *>(HStream), Dptr, Length, Flags);
  return T.done(attach("cuStreamAttachMemAsync_ptsz", HStream, Dptr, Length, Flags, true));
}

// ---- Pointer attributes --------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuPointerGetAttribute(void *Data, CUpointer_attribute Attribute, CUdeviceptr Ptr) {
  ApiTrace T("cuPointerGetAttribute");
  T.args("data={} attribute={} ptr={:#x}", Data, int(Attribute), Ptr);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::pointerAttribute(Data, Attribute, Ptr);
  });
}

CUSHIM_EXPORT CUresult cuPointerGetAttributes(unsigned int NumAttributes, CUpointer_attribute *Attributes, void **Data,
                                              CUdeviceptr Ptr) {
  ApiTrace T("cuPointerGetAttributes");
  T.args("num={} attributes={} data={} ptr={:#x}", NumAttributes, static_cast<void *>(Attributes),
         static_cast<void *>(Data), Ptr);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!Attributes || !Data || NumAttributes == 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuPointerGetAttributes: NULL array or no attributes");
    // Unlike cuPointerGetAttribute, memory CUDA does not know is no error here: each attribute gets its default.
    bool Known = core::describePointer(ptr(Ptr)).Known;
    for (unsigned I = 0; I < NumAttributes; ++I) {
      if (!Data[I])
        return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuPointerGetAttributes: data[{}] is NULL", I));
      if (!Known) {
        CUSHIM_TRY(core::unknownPointerAttribute(Data[I], Attributes[I]));
        continue;
      }
      Error E = core::pointerAttribute(Data[I], Attributes[I], Ptr);
      // An attribute that does not apply to this kind (the host address of device memory) reads as its default.
      if (E.isError() && Attributes[I] == CU_POINTER_ATTRIBUTE_HOST_POINTER) {
        CUSHIM_TRY(core::unknownPointerAttribute(Data[I], Attributes[I]));
        continue;
      }
      CUSHIM_TRY(std::move(E));
    }
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuPointerSetAttribute(const void *Value, CUpointer_attribute Attribute, CUdeviceptr Ptr) {
  ApiTrace T("cuPointerSetAttribute");
  T.args("value={} attribute={} ptr={:#x}", Value, int(Attribute), Ptr);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::setPointerAttribute(Value, Attribute, Ptr);
  });
}
