// Pinned and registered host memory, frees by kind, and pointer attributes (core/Memory.h, docs/MEMORY.md).
#include "core/Memory.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/MemoryPool.h"
#include "core/Vmm.h"
#include "hal/Hal.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <cstring>

namespace cushim::core {

// ---- Pinned and registered host memory ------------------------------------------------------------------------

Expected<void *> allocateHost(Context &Ctx, size_t Bytes, unsigned Flags) {
  constexpr unsigned Valid = CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP | CU_MEMHOSTALLOC_WRITECOMBINED;
  if (Flags & ~Valid)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("host allocation flags {:#x} include unknown bits", Flags));
  if (Bytes == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "host allocation of 0 bytes");
  auto P = Ctx.allocate(Bytes, CUSHIM_HAL_MEMORY_PINNED_HOST);
  if (!P)
    return P;
  // Write-combined memory is ordinary cached memory here: reads from it are merely faster than on a GPU host.
  memory_map::setFlags(reinterpret_cast<uintptr_t>(*P), Flags);
  return P;
}

Error freeHost(void *Ptr) {
  auto A = memory_map::findBase(Ptr);
  if (!A || A->Kind != CUSHIM_HAL_MEMORY_PINNED_HOST)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{} was not returned by cuMemAllocHost / cuMemHostAlloc (or is freed)", Ptr));
  return A->Owner->free(Ptr);
}

Error registerHost(Context &Ctx, void *Ptr, size_t Bytes, unsigned Flags) {
  constexpr unsigned Valid = CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP |
                             CU_MEMHOSTREGISTER_IOMEMORY | CU_MEMHOSTREGISTER_READ_ONLY;
  if (Flags & ~Valid)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("host registration flags {:#x} include unknown bits", Flags));
  if (!Ptr || Bytes == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cannot register {} (+{} bytes)", Ptr, Bytes));
  std::vector<Allocation> Overlaps = memory_map::overlapping(Ptr, Bytes);
  if (!Overlaps.empty()) {
    // Overlapping a registration or a pinned allocation is CUDA's "already registered"; other CUDA memory is not
    // host memory an application may register.
    bool Pinned = false;
    for (const Allocation &A : Overlaps)
      Pinned |= A.Kind == RegisteredHostKind || A.Kind == CUSHIM_HAL_MEMORY_PINNED_HOST;
    return makeError(Pinned ? CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED : CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{} (+{} bytes) overlaps {} at {:#x}", Ptr, Bytes,
                                 Pinned ? "page-locked host memory" : "memory CUDA manages", Overlaps[0].Base));
  }
  const cushim_hal_ops &Ops = hal::ops();
  if (!Ops.host_register || !Ops.host_unregister)
    return makeError(CUDA_ERROR_NOT_SUPPORTED, fmt::format("the '{}' backend cannot register host memory", Ops.name));
  void *DevicePtr = nullptr;
  CUSHIM_TRY(hal::check(Ops.host_register(Ctx.hal(), Ptr, Bytes, Flags, &DevicePtr), "host_register"));
  if (DevicePtr != Ptr) {
    // Unified addressing requires the device to see registered memory at its host address.
    (void)Ops.host_unregister(Ctx.hal(), Ptr);
    return makeError(CUDA_ERROR_NOT_SUPPORTED, "the backend maps registered memory at another address");
  }
  memory_map::insert({reinterpret_cast<uintptr_t>(Ptr), Bytes, RegisteredHostKind, &Ctx, Flags});
  return Error::success();
}

Error unregisterHost(void *Ptr) {
  auto A = memory_map::findBase(Ptr);
  if (!A || A->Kind != RegisteredHostKind)
    return makeError(CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED,
                     fmt::format("{} is not the start of a range registered with cuMemHostRegister", Ptr));
  memory_map::erase(A->Base);
  return hal::check(hal::ops().host_unregister(A->Owner->hal(), Ptr), "host_unregister");
}

Expected<void *> hostDevicePointer(void *HostPtr, unsigned Flags) {
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("flags must be 0 (got {:#x})", Flags));
  auto A = memory_map::find(HostPtr);
  if (!A || (A->Kind != CUSHIM_HAL_MEMORY_PINNED_HOST && A->Kind != RegisteredHostKind))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} is not page-locked host memory", HostPtr));
  // Unified addressing: the device reaches mapped host memory at its host address (an interior pointer keeps its
  // offset).
  return HostPtr;
}

Expected<unsigned> hostAllocFlags(void *HostPtr) {
  auto A = memory_map::find(HostPtr);
  if (!A || A->Kind != CUSHIM_HAL_MEMORY_PINNED_HOST)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{} is not memory allocated by cuMemHostAlloc / cudaHostAlloc", HostPtr));
  return A->Flags;
}

// ---- Frees ----------------------------------------------------------------------------------------------------

Error freeDeviceMemory(const char *Api, void *Ptr) {
  auto A = memory_map::findBase(Ptr);
  if (!A || (A->Kind != CUSHIM_HAL_MEMORY_DEVICE && A->Kind != CUSHIM_HAL_MEMORY_MANAGED && A->Kind != PoolKind)) {
    std::string What = "was not returned by an allocation call (or is already freed)";
    if (auto In = memory_map::find(Ptr); In && In->Kind != PoolKind && In->Kind < ModuleVariableKind &&
                                          In->Kind != CUSHIM_HAL_MEMORY_PINNED_HOST)
      What = fmt::format("is inside the allocation at {:#x}, not its start", In->Base);
    else if (In && In->Kind == CUSHIM_HAL_MEMORY_PINNED_HOST)
      What = "is pinned host memory (free it with the host free call)";
    else if (In && In->Kind == RegisteredHostKind)
      What = "is registered host memory (unregister it instead)";
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} {}", Api, Ptr, What));
  }
  if (A->Kind == PoolKind) // cudaFree of a stream-ordered allocation: synchronises, then returns it to its pool
    return MemoryPool::freeSynchronously(*A);
  if (A->Kind == CUSHIM_HAL_MEMORY_MANAGED)
    forgetManaged(*A);
  return A->Owner->free(Ptr);
}

// ---- Pointer attributes ---------------------------------------------------------------------------------------

PointerInfo describePointer(const void *Ptr) {
  PointerInfo I;
  std::optional<Allocation> A = memory_map::find(Ptr);
  if (!A)
    return I;
  I.Known = true;
  I.A = *A;
  I.Device = A->Kind == VmmKind ? vmm::deviceAt(*A) : A->Owner ? A->Owner->device().ordinal() : -2;
  void *P = const_cast<void *>(Ptr);
  switch (A->Kind) {
  case CUSHIM_HAL_MEMORY_PINNED_HOST:
  case RegisteredHostKind:
    I.Type = CU_MEMORYTYPE_HOST;
    I.DevicePointer = P;
    I.HostPointer = P;
    break;
  case CUSHIM_HAL_MEMORY_MANAGED:
  case ManagedVariableKind:
    I.Type = CU_MEMORYTYPE_DEVICE;
    I.Managed = true;
    I.DevicePointer = P;
    I.HostPointer = P;
    break;
  default: // device, pool, VMM and module memory: the host has no address for it on a GPU
    I.Type = CU_MEMORYTYPE_DEVICE;
    I.DevicePointer = P;
    break;
  }
  return I;
}

template <typename T> static void put(void *Data, T Value) { std::memcpy(Data, &Value, sizeof(T)); }

Error unknownPointerAttribute(void *Data, CUpointer_attribute Attribute) {
  switch (Attribute) {
  case CU_POINTER_ATTRIBUTE_CONTEXT: put<CUcontext>(Data, nullptr); break;
  case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: put<unsigned>(Data, 0); break;
  case CU_POINTER_ATTRIBUTE_DEVICE_POINTER:
  case CU_POINTER_ATTRIBUTE_HOST_POINTER: put<void *>(Data, nullptr); break;
  case CU_POINTER_ATTRIBUTE_P2P_TOKENS: std::memset(Data, 0, sizeof(CUDA_POINTER_ATTRIBUTE_P2P_TOKENS)); break;
  case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS:
  case CU_POINTER_ATTRIBUTE_IS_MANAGED:
  case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
  case CU_POINTER_ATTRIBUTE_MAPPED:
  case CU_POINTER_ATTRIBUTE_IS_GPU_DIRECT_RDMA_CAPABLE:
  case CU_POINTER_ATTRIBUTE_IS_HW_DECOMPRESS_CAPABLE: put<int>(Data, 0); break; // CUDA writes bool-sized ints
  case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: put<int>(Data, -2); break;
  case CU_POINTER_ATTRIBUTE_ACCESS_FLAGS:
  case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES: put<unsigned long long>(Data, 0); break;
  case CU_POINTER_ATTRIBUTE_BUFFER_ID:
  case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID:
  case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
  case CU_POINTER_ATTRIBUTE_MAPPING_SIZE: put<unsigned long long>(Data, 0); break;
  case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
  case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR: put<CUdeviceptr>(Data, 0); break;
  case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE: put<CUmemoryPool>(Data, nullptr); break;
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("unknown pointer attribute {}", int(Attribute)));
  }
  return Error::success();
}

Error pointerAttribute(void *Data, CUpointer_attribute Attribute, CUdeviceptr Ptr) {
  if (!Data)
    return makeError(CUDA_ERROR_INVALID_VALUE, "data is NULL");
  PointerInfo I = describePointer(reinterpret_cast<const void *>(Ptr));
  if (!I.Known) {
    if (Attribute < CU_POINTER_ATTRIBUTE_CONTEXT || Attribute > CU_POINTER_ATTRIBUTE_IS_HW_DECOMPRESS_CAPABLE)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("unknown pointer attribute {}", int(Attribute)));
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{:#x} was not allocated, mapped or registered by CUDA", Ptr));
  }
  const Allocation &A = I.A;
  bool Vmm = A.Kind == VmmKind;
  switch (Attribute) {
  case CU_POINTER_ATTRIBUTE_CONTEXT:
    // Stream-ordered and VMM memory belongs to no context (CUDA returns NULL for them).
    put<CUcontext>(Data, A.Kind == PoolKind || Vmm ? nullptr : A.Owner->handle());
    break;
  case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: put<unsigned>(Data, I.Type); break;
  case CU_POINTER_ATTRIBUTE_DEVICE_POINTER: put<void *>(Data, I.DevicePointer); break;
  case CU_POINTER_ATTRIBUTE_HOST_POINTER:
    if (!I.HostPointer)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{:#x} is device memory: it has no host address", Ptr));
    put<void *>(Data, I.HostPointer);
    break;
  case CU_POINTER_ATTRIBUTE_P2P_TOKENS:
    return makeError(CUDA_ERROR_NOT_SUPPORTED, "CU_POINTER_ATTRIBUTE_P2P_TOKENS: GPUDirect RDMA tokens do not exist "
                                               "on this backend");
  case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS: put<int>(Data, A.SyncMemops ? 1 : 0); break;
  case CU_POINTER_ATTRIBUTE_BUFFER_ID:
  case CU_POINTER_ATTRIBUTE_MEMORY_BLOCK_ID: put<unsigned long long>(Data, A.Id); break;
  case CU_POINTER_ATTRIBUTE_IS_MANAGED: put<int>(Data, I.Managed ? 1 : 0); break;
  case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: put<int>(Data, I.Device); break;
  case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE:
  case CU_POINTER_ATTRIBUTE_IS_GPU_DIRECT_RDMA_CAPABLE:
  case CU_POINTER_ATTRIBUTE_IS_HW_DECOMPRESS_CAPABLE: put<int>(Data, 0); break;
  case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR:
  case CU_POINTER_ATTRIBUTE_MAPPING_BASE_ADDR: put<CUdeviceptr>(Data, static_cast<CUdeviceptr>(A.Base)); break;
  case CU_POINTER_ATTRIBUTE_RANGE_SIZE:
  case CU_POINTER_ATTRIBUTE_MAPPING_SIZE: put<unsigned long long>(Data, A.Size); break;
  case CU_POINTER_ATTRIBUTE_MAPPED: put<int>(Data, 1); break;
  case CU_POINTER_ATTRIBUTE_ALLOWED_HANDLE_TYPES:
    put<unsigned long long>(Data, Vmm ? vmm::handleTypesAt(A) : 0);
    break;
  case CU_POINTER_ATTRIBUTE_ACCESS_FLAGS: {
    unsigned long long Flags = CU_POINTER_ATTRIBUTE_ACCESS_FLAG_READWRITE;
    if (A.Kind == RegisteredHostKind && (A.Flags & CU_MEMHOSTREGISTER_READ_ONLY))
      Flags = CU_POINTER_ATTRIBUTE_ACCESS_FLAG_READ;
    else if (Vmm)
      Flags = vmm::accessFlagsAt(A, I.Device);
    put<unsigned long long>(Data, Flags);
    break;
  }
  case CU_POINTER_ATTRIBUTE_MEMPOOL_HANDLE:
    put<CUmemoryPool>(Data, A.Kind == PoolKind ? static_cast<MemoryPool *>(A.Object)->handle() : nullptr);
    break;
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("unknown pointer attribute {}", int(Attribute)));
  }
  return Error::success();
}

Error setPointerAttribute(const void *Value, CUpointer_attribute Attribute, CUdeviceptr Ptr) {
  if (Attribute != CU_POINTER_ATTRIBUTE_SYNC_MEMOPS)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("pointer attribute {} cannot be set (only CU_POINTER_ATTRIBUTE_SYNC_MEMOPS)",
                                 int(Attribute)));
  if (!Value)
    return makeError(CUDA_ERROR_INVALID_VALUE, "value is NULL");
  auto A = memory_map::find(reinterpret_cast<const void *>(Ptr));
  if (!A)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{:#x} was not allocated by CUDA", Ptr));
  int V = 0;
  std::memcpy(&V, Value, sizeof(V));
  // Synchronous memory operations here always complete before they return, so the flag changes no behaviour.
  memory_map::setSyncMemops(A->Base, V != 0);
  return Error::success();
}

} // namespace cushim::core
