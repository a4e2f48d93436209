// Memory of the runtime API: cudaMalloc/Free, cudaMemcpy, cudaMemset, cudaMemGetInfo, pinned host memory.
#include "runtime/RuntimeState.h"

#include "core/Device.h"
#include "core/MemoryMap.h"
#include "core/Stream.h"
#include "hal/Hal.h"

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

CUSHIM_EXPORT cudaError_t cudaMalloc(void **DevPtr, size_t Size) {
  ApiTrace T("cudaMalloc");
  T.args("devPtr={} size={}", static_cast<void *>(DevPtr), Size);
  CUSHIM_RUNTIME_BODY(T, {
    if (!DevPtr)
      return runtimeError(cudaErrorInvalidValue, "cudaMalloc: devPtr is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (Size == 0) { // CUDA returns success and a NULL pointer
      *DevPtr = nullptr;
      return Error::success();
    }
    auto P = (*Ctx)->allocate(Size, CUSHIM_HAL_MEMORY_DEVICE);
    if (!P)
      return runtimeError(cudaErrorMemoryAllocation, P.error().message());
    *DevPtr = *P;
    return Error::success();
  });
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
    auto A = core::memory_map::findBase(DevPtr);
    if (!A || A->Kind != CUSHIM_HAL_MEMORY_DEVICE)
      return runtimeError(cudaErrorInvalidValue, fmt::format("cudaFree: {} was not returned by cudaMalloc", DevPtr));
    return A->Owner->free(DevPtr);
  });
}

CUSHIM_EXPORT cudaError_t cudaMallocHost(void **Ptr, size_t Size) {
  ApiTrace T("cudaMallocHost");
  T.args("ptr={} size={}", static_cast<void *>(Ptr), Size);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Ptr)
      return runtimeError(cudaErrorInvalidValue, "cudaMallocHost: ptr is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (Size == 0) {
      *Ptr = nullptr;
      return Error::success();
    }
    auto P = (*Ctx)->allocate(Size, CUSHIM_HAL_MEMORY_PINNED_HOST);
    if (!P)
      return runtimeError(cudaErrorMemoryAllocation, P.error().message());
    *Ptr = *P;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaFreeHost(void *Ptr) {
  ApiTrace T("cudaFreeHost");
  T.args("ptr={}", Ptr);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Ptr)
      return Error::success();
    auto A = core::memory_map::findBase(Ptr);
    if (!A || A->Kind != CUSHIM_HAL_MEMORY_PINNED_HOST)
      return runtimeError(cudaErrorInvalidValue, fmt::format("cudaFreeHost: {} was not returned by cudaMallocHost", Ptr));
    return A->Owner->free(Ptr);
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
    core::Stream &S = (*Ctx)->nullStream();
    CUSHIM_TRY(S.copy(Dst, Src, Count));
    return S.synchronize();
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
    uint64_t F = 0, Tot = 0;
    CUSHIM_TRY(hal::check(hal::ops().mem_info((*Ctx)->device().halIndex(), &F, &Tot), "mem_info"));
    if (Free)
      *Free = F;
    if (Total)
      *Total = Tot;
    return Error::success();
  });
}
