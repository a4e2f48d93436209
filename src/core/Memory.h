// Memory kinds beyond plain device memory, shared by both APIs: pinned and registered host memory, managed memory
// (with its advice and prefetch state) and what a pointer is (cuPointerGetAttribute, cudaPointerGetAttributes).
// See docs/MEMORY.md.
#pragma once

#include "core/MemoryMap.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <string_view>

namespace cushim::core {

class Context;
class Module;
class Stream;

// ---- Pinned and registered host memory ------------------------------------------------------------------------

// cuMemHostAlloc: Flags are CU_MEMHOSTALLOC_* (validated); Bytes must be > 0.
CUSHIM_API Expected<void *> allocateHost(Context &Ctx, size_t Bytes, unsigned Flags);
// cuMemFreeHost: Ptr must be the start of a pinned host allocation.
CUSHIM_API Error freeHost(void *Ptr);
// cuMemHostRegister: Flags are CU_MEMHOSTREGISTER_* (validated).
CUSHIM_API Error registerHost(Context &Ctx, void *Ptr, size_t Bytes, unsigned Flags);
// cuMemHostUnregister: Ptr must be the start of a registration (CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED otherwise).
CUSHIM_API Error unregisterHost(void *Ptr);
// cuMemHostGetDevicePointer: the device address of pinned or registered host memory (Flags must be 0).
CUSHIM_API Expected<void *> hostDevicePointer(void *HostPtr, unsigned Flags);
// cuMemHostGetFlags: the flags given to cuMemHostAlloc / cudaHostAlloc (registered memory is refused, as on CUDA).
CUSHIM_API Expected<unsigned> hostAllocFlags(void *HostPtr);

// ---- Managed memory -------------------------------------------------------------------------------------------

// cuMemAllocManaged: Flags is CU_MEM_ATTACH_GLOBAL or CU_MEM_ATTACH_HOST; Bytes must be > 0.
CUSHIM_API Expected<void *> allocateManaged(Context &Ctx, size_t Bytes, unsigned Flags);
// True for cuMemAllocManaged memory and __managed__ variables.
CUSHIM_API bool isManagedKind(int Kind);
// The managed allocation [Ptr, Ptr+Count) lies in; CUDA_ERROR_INVALID_VALUE naming Api otherwise.
CUSHIM_API Expected<Allocation> managedRange(const char *Api, const void *Ptr, size_t Count);
// cuMemAdvise (the location form of CUDA 12.2+; the device-ordinal form maps onto it).
CUSHIM_API Error adviseManaged(const void *Ptr, size_t Count, CUmem_advise Advice, CUmemLocation Location);
// cuMemPrefetchAsync: data already lives where every processor reaches it on a backend whose device memory is host
// memory, so the prefetch validates, takes its place in the stream's order and records the location it names.
CUSHIM_API Error prefetchManaged(Stream &S, const void *Ptr, size_t Count, CUmemLocation Location, unsigned Flags);
// cuStreamAttachMemAsync.
CUSHIM_API Error attachManaged(Stream &S, void *Ptr, size_t Length, unsigned Flags);
// cuMemRangeGetAttribute.
CUSHIM_API Error managedRangeAttribute(void *Data, size_t DataSize, CUmem_range_attribute Attribute, const void *Ptr,
                                       size_t Count);
// Drops the advice kept for an allocation that is being freed.
CUSHIM_API void forgetManaged(const Allocation &A);
// A module's __managed__ variable: address and size (what cuLibraryGetManaged / cuModuleGetGlobal return for it);
// CUDA_ERROR_NOT_FOUND when the module has no managed variable of that name.
CUSHIM_API Expected<std::pair<void *, size_t>> managedVariable(Module &M, std::string_view Name);

// ---- Frees by kind --------------------------------------------------------------------------------------------

// cuMemFree / cudaFree: device, managed and stream-ordered (pool) allocations; Api names the caller in errors.
CUSHIM_API Error freeDeviceMemory(const char *Api, void *Ptr);

// ---- What a pointer is ----------------------------------------------------------------------------------------

struct PointerInfo {
  bool Known = false;     // false: not memory CUDA allocated, registered or mapped (cudaMemoryTypeUnregistered)
  Allocation A;           // the allocation it lies in (when Known)
  CUmemorytype Type = static_cast<CUmemorytype>(0); // DEVICE for device, managed and pool memory; HOST for host
  bool Managed = false;
  int Device = -2;        // ordinal of the owning context's device
  void *DevicePointer = nullptr, *HostPointer = nullptr; // the pointer itself where that side may dereference it
};
CUSHIM_API PointerInfo describePointer(const void *Ptr);
// cuPointerGetAttribute: Data receives the attribute; CUDA_ERROR_INVALID_VALUE for an unknown pointer.
CUSHIM_API Error pointerAttribute(void *Data, CUpointer_attribute Attribute, CUdeviceptr Ptr);
// cuPointerGetAttributes' defaults for a pointer CUDA does not know (type 0, NULL pointers ...).
CUSHIM_API Error unknownPointerAttribute(void *Data, CUpointer_attribute Attribute);
// cuPointerSetAttribute (CU_POINTER_ATTRIBUTE_SYNC_MEMOPS only, as on CUDA).
CUSHIM_API Error setPointerAttribute(const void *Value, CUpointer_attribute Attribute, CUdeviceptr Ptr);

} // namespace cushim::core
