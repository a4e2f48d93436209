// The virtual memory management API (cuMemCreate, cuMemAddressReserve, cuMemMap, cuMemSetAccess ...): physical
// handles are memfd objects, reservations are PROT_NONE address ranges, mappings are shared mmaps of a handle into a
// reservation. Available where device memory is host memory (the host backend). See docs/MEMORY.md.
#pragma once

#include "core/MemoryMap.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

namespace cushim::core::vmm {

CUSHIM_API Expected<CUmemGenericAllocationHandle> create(size_t Size, const CUmemAllocationProp &Prop,
                                                         unsigned long long Flags);
CUSHIM_API Error release(CUmemGenericAllocationHandle Handle);
CUSHIM_API Expected<CUdeviceptr> reserve(size_t Size, size_t Alignment, CUdeviceptr Addr, unsigned long long Flags);
CUSHIM_API Error free(CUdeviceptr Ptr, size_t Size);
CUSHIM_API Error map(CUdeviceptr Ptr, size_t Size, size_t Offset, CUmemGenericAllocationHandle Handle,
                     unsigned long long Flags);
CUSHIM_API Error unmap(CUdeviceptr Ptr, size_t Size);
CUSHIM_API Error setAccess(CUdeviceptr Ptr, size_t Size, const CUmemAccessDesc *Descs, size_t Count);
CUSHIM_API Expected<unsigned long long> access(const CUmemLocation &Location, CUdeviceptr Ptr);
CUSHIM_API Expected<size_t> granularity(const CUmemAllocationProp &Prop, CUmemAllocationGranularity_flags Option);
CUSHIM_API Expected<CUmemAllocationProp> properties(CUmemGenericAllocationHandle Handle);
CUSHIM_API Expected<CUmemGenericAllocationHandle> retain(void *Addr);
CUSHIM_API Error exportHandle(void *Shareable, CUmemGenericAllocationHandle Handle, CUmemAllocationHandleType Type,
                              unsigned long long Flags);
CUSHIM_API Expected<CUmemGenericAllocationHandle> importHandle(void *OsHandle, CUmemAllocationHandleType Type);

// For pointer attributes of a VmmKind allocation (a mapping).
CUSHIM_API unsigned long long handleTypesAt(const Allocation &A);
CUSHIM_API unsigned long long accessFlagsAt(const Allocation &A, int Device);
CUSHIM_API int deviceAt(const Allocation &A); // the handle's device ordinal, -1 for host-located handles

} // namespace cushim::core::vmm
