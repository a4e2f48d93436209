// Linear device memory (cuMemAlloc, cuMemFree, cuMemcpy*, cuMemset*, cuMemGetInfo).
#include "driver/DriverApi.h"
#include "driver/DriverStream.h"

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
    auto A = core::memory_map::findBase(ptr(Dptr));
    if (!A || A->Kind != CUSHIM_HAL_MEMORY_DEVICE)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemFree: {:#x} was not returned by cuMemAlloc", Dptr));
    return A->Owner->free(ptr(Dptr));
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
