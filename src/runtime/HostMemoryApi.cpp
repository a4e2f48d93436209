// Page-locked host memory (cudaHostAlloc, cudaHostRegister ...) and pointer attributes of the runtime API
// (docs/MEMORY.md).
#include "runtime/RuntimeState.h"

#include "core/Memory.h"

#include <fmt/format.h>

#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

// cudaMallocHost and cudaHostAlloc: size 0 gives success and a NULL pointer, as on CUDA.
static Error hostAlloc(const char *Api, void **Ptr, size_t Size, unsigned Flags) {
  if (!Ptr)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": pointer argument is NULL");
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  if (Size == 0) {
    if (Flags & ~unsigned(cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined))
      return runtimeError(cudaErrorInvalidValue, fmt::format("{}: unknown flags {:#x}", Api, Flags));
    *Ptr = nullptr;
    return Error::success();
  }
  auto P = core::allocateHost(**Ctx, Size, Flags);
  if (!P) {
    if (P.error().code() == CUDA_ERROR_OUT_OF_MEMORY)
      return runtimeError(cudaErrorMemoryAllocation, P.error().message());
    return makeError(P.error().code(), std::string(Api) + ": " + P.error().message());
  }
  *Ptr = *P;
  return Error::success();
}

CUSHIM_EXPORT cudaError_t cudaMallocHost(void **Ptr, size_t Size) {
  ApiTrace T("cudaMallocHost");
  T.args("ptr={} size={}", static_cast<void *>(Ptr), Size);
  return finish(T, hostAlloc("cudaMallocHost", Ptr, Size, cudaHostAllocDefault));
}

CUSHIM_EXPORT cudaError_t cudaHostAlloc(void **PHost, size_t Size, unsigned int Flags) {
  ApiTrace T("cudaHostAlloc");
  T.args("pHost={} size={} flags={:#x}", static_cast<void *>(PHost), Size, Flags);
  return finish(T, hostAlloc("cudaHostAlloc", PHost, Size, Flags));
}

CUSHIM_EXPORT cudaError_t cudaFreeHost(void *Ptr) {
  ApiTrace T("cudaFreeHost");
  T.args("ptr={}", Ptr);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!Ptr)
      return Error::success();
    return core::freeHost(Ptr);
  });
}

CUSHIM_EXPORT cudaError_t cudaHostRegister(void *Ptr, size_t Size, unsigned int Flags) {
  ApiTrace T("cudaHostRegister");
  T.args("ptr={} size={} flags={:#x}", Ptr, Size, Flags);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    return core::registerHost(**Ctx, Ptr, Size, Flags);
  });
}

CUSHIM_EXPORT cudaError_t cudaHostUnregister(void *Ptr) {
  ApiTrace T("cudaHostUnregister");
  T.args("ptr={}", Ptr);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!Ptr)
      return runtimeError(cudaErrorInvalidValue, "cudaHostUnregister: ptr is NULL");
    return core::unregisterHost(Ptr);
  });
}

CUSHIM_EXPORT cudaError_t cudaHostGetDevicePointer(void **PDevice, void *PHost, unsigned int Flags) {
  ApiTrace T("cudaHostGetDevicePointer");
  T.args("pDevice={} pHost={} flags={:#x}", static_cast<void *>(PDevice), PHost, Flags);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!PDevice)
      return runtimeError(cudaErrorInvalidValue, "cudaHostGetDevicePointer: pDevice is NULL");
    auto P = core::hostDevicePointer(PHost, Flags);
    if (!P)
      return P.takeError();
    *PDevice = *P;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaHostGetFlags(unsigned int *PFlags, void *PHost) {
  ApiTrace T("cudaHostGetFlags");
  T.args("pFlags={} pHost={}", static_cast<void *>(PFlags), PHost);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!PFlags)
      return runtimeError(cudaErrorInvalidValue, "cudaHostGetFlags: pFlags is NULL");
    auto F = core::hostAllocFlags(PHost);
    if (!F)
      return F.takeError();
    *PFlags = *F;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaPointerGetAttributes(struct cudaPointerAttributes *Attributes, const void *Ptr) {
  ApiTrace T("cudaPointerGetAttributes");
  T.args("attributes={} ptr={}", static_cast<void *>(Attributes), Ptr);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (!Attributes)
      return runtimeError(cudaErrorInvalidValue, "cudaPointerGetAttributes: attributes is NULL");
    core::PointerInfo I = core::describePointer(Ptr);
    std::memset(Attributes, 0, sizeof(*Attributes));
    if (!I.Known) {
      // Since CUDA 11, memory CUDA does not know is reported as unregistered, with success.
      Attributes->type = cudaMemoryTypeUnregistered;
      Attributes->device = cudaInvalidDeviceId;
      return Error::success();
    }
    Attributes->type = I.Managed ? cudaMemoryTypeManaged
                       : I.Type == CU_MEMORYTYPE_HOST ? cudaMemoryTypeHost
                                                      : cudaMemoryTypeDevice;
    Attributes->device = I.Device;
    Attributes->devicePointer = I.DevicePointer;
    Attributes->hostPointer = I.HostPointer;
    return Error::success();
  });
}
