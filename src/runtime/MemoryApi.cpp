// Linear memory of the runtime API: cudaMalloc/Free, cudaMemcpy, cudaMemset, cudaMemGetInfo (other kinds: Host-,
// ManagedMemory- and MemoryPoolApi.cpp).
#include "runtime/RuntimeState.h"
#include "runtime/RuntimeStream.h"

#include "core/Device.h"
#include "core/Graph.h"
#include "core/Memory.h"
#include "core/MemoryMap.h"
#include "core/Stream.h"

#include <fmt/format.h>

#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

namespace {
bool isDeviceAccessible(const void *P, size_t Bytes) { return core::memory_map::containsRange(P, Bytes); }

// Validates a copy the way CUDA does: explicit directions must match what the pointers are.
Error checkCopy(const char *Api, void *Dst, const void *Src, size_t Bytes, cudaMemcpyKind Kind) {
  if (Bytes == 0)
    return Error::success();
  if (!Dst || !Src)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": NULL pointer");
  bool DstDevice = isDeviceAccessible(Dst, Bytes), SrcDevice = isDeviceAccessible(Src, Bytes);
  switch (Kind) {
  case cudaMemcpyHostToHost:
  case cudaMemcpyDefault:
    return Error::success();
  case cudaMemcpyHostToDevice:
    if (!DstDevice)
      return runtimeError(cudaErrorInvalidValue,
                          fmt::format("{}: destination {} (+{} bytes) is not device memory", Api, Dst, Bytes));
    return Error::success();
  case cudaMemcpyDeviceToHost:
    if (!SrcDevice)
      return runtimeError(cudaErrorInvalidValue,
                          fmt::format("{}: source {} (+{} bytes) is not device memory", Api, Src, Bytes));
    return Error::success();
  case cudaMemcpyDeviceToDevice:
    if (!DstDevice || !SrcDevice)
      return runtimeError(cudaErrorInvalidValue,
                          fmt::format("{}: {} -> {} (+{} bytes) is not a device-to-device copy", Api, Src, Dst, Bytes));
    return Error::success();
  }
  return runtimeError(cudaErrorInvalidMemcpyDirection, std::string(Api) + ": invalid copy direction");
}
} // namespace

// cudaMalloc: size 0 gives success and a NULL pointer, as on CUDA.
static Error allocate(const char *Api, void **Ptr, size_t Size, int Kind) {
  if (!Ptr)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": pointer argument is NULL");
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  CUSHIM_TRY(core::captureCheckUnsafeCall(Api)); // allocation is a "potentially unsafe" call during capture
  if (Size == 0) {
    *Ptr = nullptr;
    return Error::success();
  }
  auto P = (*Ctx)->allocate(Size, Kind);
  if (!P) {
    // A sticky fault of the context is reported as itself; only a failed allocation is cudaErrorMemoryAllocation.
    if (P.error().code() != CUDA_ERROR_OUT_OF_MEMORY)
      return P.takeError();
    return runtimeError(cudaErrorMemoryAllocation, P.error().message());
  }
  *Ptr = *P;
  return Error::success();
}

CUSHIM_EXPORT cudaError_t cudaMalloc(void **DevPtr, size_t Size) {
  ApiTrace T("cudaMalloc");
  T.args("devPtr={} size={}", static_cast<void *>(DevPtr), Size);
  return finish(T, allocate("cudaMalloc", DevPtr, Size, CUSHIM_HAL_MEMORY_DEVICE));
}

CUSHIM_EXPORT cudaError_t cudaFree(void *DevPtr) {
  ApiTrace T("cudaFree");
  T.args("devPtr={}", DevPtr);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!DevPtr)
      return Error::success();
    CUSHIM_TRY(core::captureCheckUnsafeCall("cudaFree"));
    // Device, managed and stream-ordered allocations (the latter after synchronising, as CUDA does).
    return core::freeDeviceMemory("cudaFree", DevPtr);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemcpy(void *Dst, const void *Src, size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpy");
  T.args("dst={} src={} count={} kind={}", Dst, Src, Count, static_cast<int>(Kind));
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    CUSHIM_TRY(checkCopy("cudaMemcpy", Dst, Src, Count, Kind));
    if (Count == 0)
      return Error::success();
    // copySync applies CUDA's rules: capture checks first, no host wait for device-to-device copies.
    return (*Ctx)->nullStream().copySync(Dst, Src, Count);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemset(void *DevPtr, int Value, size_t Count) {
  ApiTrace T("cudaMemset");
  T.args("devPtr={} value={} count={}", DevPtr, Value, Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (Count == 0)
      return Error::success();
    if (!isDeviceAccessible(DevPtr, Count))
      return runtimeError(cudaErrorInvalidValue,
                          fmt::format("cudaMemset: {} (+{} bytes) is not device memory", DevPtr, Count));
    return (*Ctx)->nullStream().fill(DevPtr, static_cast<uint8_t>(Value), 1, Count);
  });
}

CUSHIM_EXPORT cudaError_t cudaMemGetInfo(size_t *Free, size_t *Total) {
  ApiTrace T("cudaMemGetInfo");
  T.args("free={} total={}", static_cast<void *>(Free), static_cast<void *>(Total));
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    return (*Ctx)->memoryInfo(Free, Total);
  });
}

// ---- Stream-ordered copies and fills (docs/STREAMS.md) ---------------------------------------------------------
// The _ptds/_ptsz entry points are what `--default-stream per-thread` programs call: there, stream 0 is the calling
// thread's per-thread stream instead of the legacy one.

static Error memcpyOnStream(const char *Api, void *Dst, const void *Src, size_t Count, cudaMemcpyKind Kind,
                            cudaStream_t Stream, bool PerThread, bool Async) {
  CUSHIM_TRY(checkCopy(Api, Dst, Src, Count, Kind));
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return Async ? (*S)->copyAsync(Dst, Src, Count) : (*S)->copySync(Dst, Src, Count);
}

static Error memsetOnStream(const char *Api, void *DevPtr, int Value, size_t Count, cudaStream_t Stream,
                            bool PerThread) {
  // NVIDIA's runtime answers a 0-byte memset before it looks at the stream: its static cudart makes no driver call
  // for one, whatever the stream (a destroyed one included), after making the context current.
  if (Count == 0) {
    auto Ctx = context();
    return Ctx ? Error::success() : Ctx.takeError();
  }
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (!isDeviceAccessible(DevPtr, Count))
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{}: {} (+{} bytes) is not device memory", Api, DevPtr, Count));
  return (*S)->fill(DevPtr, static_cast<uint8_t>(Value), 1, Count);
}

CUSHIM_EXPORT cudaError_t cudaMemcpy_ptds(void *Dst, const void *Src, size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpy_ptds");
  T.args("dst={} src={} count={} kind={}", Dst, Src, Count, static_cast<int>(Kind));
  return finish(T, memcpyOnStream("cudaMemcpy_ptds", Dst, Src, Count, Kind, nullptr, true, false));
}

CUSHIM_EXPORT cudaError_t cudaMemcpyAsync(void *Dst, const void *Src, size_t Count, enum cudaMemcpyKind Kind,
                                          cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyAsync");
  T.args("dst={} src={} count={} kind={} stream={}", Dst, Src, Count, static_cast<int>(Kind),
         static_cast<void *>(Stream));
  return finish(T, memcpyOnStream("cudaMemcpyAsync", Dst, Src, Count, Kind, Stream, false, true));
}

CUSHIM_EXPORT cudaError_t cudaMemcpyAsync_ptsz(void *Dst, const void *Src, size_t Count, enum cudaMemcpyKind Kind,
                                               cudaStream_t Stream) {
  ApiTrace T("cudaMemcpyAsync_ptsz");
  T.args("dst={} src={} count={} kind={} stream={}", Dst, Src, Count, static_cast<int>(Kind),
         static_cast<void *>(Stream));
  return finish(T, memcpyOnStream("cudaMemcpyAsync_ptsz", Dst, Src, Count, Kind, Stream, true, true));
}

CUSHIM_EXPORT cudaError_t cudaMemset_ptds(void *DevPtr, int Value, size_t Count) {
  ApiTrace T("cudaMemset_ptds");
  T.args("devPtr={} value={} count={}", DevPtr, Value, Count);
  return finish(T, memsetOnStream("cudaMemset_ptds", DevPtr, Value, Count, nullptr, true));
}

CUSHIM_EXPORT cudaError_t cudaMemsetAsync(void *DevPtr, int Value, size_t Count, cudaStream_t Stream) {
  ApiTrace T("cudaMemsetAsync");
  T.args("devPtr={} value={} count={} stream={}", DevPtr, Value, Count, static_cast<void *>(Stream));
  return finish(T, memsetOnStream("cudaMemsetAsync", DevPtr, Value, Count, Stream, false));
}

CUSHIM_EXPORT cudaError_t cudaMemsetAsync_ptsz(void *DevPtr, int Value, size_t Count, cudaStream_t Stream) {
  ApiTrace T("cudaMemsetAsync_ptsz");
  T.args("devPtr={} value={} count={} stream={}", DevPtr, Value, Count, static_cast<void *>(Stream));
  return finish(T, memsetOnStream("cudaMemsetAsync_ptsz", DevPtr, Value, Count, Stream, true));
}
