// Every allocation handed out, by address, so that API calls can validate pointers and find their owners; also the
// per-device count of device memory in use (what cuMemGetInfo subtracts from the total).
#pragma once

#include "support/Export.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace cushim::core {

class Context;

// Allocation kinds beyond cushim_hal_memory_kind: memory the core tracks but the HAL did not allocate (or that the
// core hands out in its own way). Only kinds below ModuleVariableKind are freed through the HAL's mem_free.
constexpr int ModuleVariableKind = 0x100;  // a module's .global/.const variable (freed with its module)
constexpr int RegisteredHostKind = 0x101;  // host memory registered with cuMemHostRegister / cudaHostRegister
constexpr int ManagedVariableKind = 0x102; // a module's __managed__ variable (.attribute(.managed))
constexpr int PoolKind = 0x103;            // a stream-ordered allocation from a memory pool (core/MemoryPool.h)
constexpr int VmmKind = 0x104;             // a mapping of a cuMemCreate handle into a reserved range (core/Vmm.h)

struct Allocation {
  uintptr_t Base = 0;
  size_t Size = 0;
  int Kind = 0; // cushim_hal_memory_kind or one of the kinds above
  Context *Owner = nullptr;
  unsigned Flags = 0; // cudaHostAlloc / cudaHostRegister / cudaMallocManaged flags, as the application gave them
  void *Object = nullptr; // PoolKind: the MemoryPool; VmmKind: the physical handle
  uint64_t Id = 0;        // unique for the process's lifetime (CU_POINTER_ATTRIBUTE_BUFFER_ID); given by insert()
  bool SyncMemops = false; // CU_POINTER_ATTRIBUTE_SYNC_MEMOPS as set by cuPointerSetAttribute
};

namespace memory_map {
CUSHIM_API void insert(const Allocation &A);
CUSHIM_API void erase(uintptr_t Base);
// The allocation containing Ptr (one-past-the-end does not count, except for zero-sized ones).
CUSHIM_API std::optional<Allocation> find(const void *Ptr);
// The allocation that starts exactly at Ptr.
CUSHIM_API std::optional<Allocation> findBase(const void *Ptr);
// True when [Ptr, Ptr+Bytes) lies inside one allocation.
CUSHIM_API bool containsRange(const void *Ptr, size_t Bytes);
// Every allocation that overlaps [Ptr, Ptr+Bytes).
CUSHIM_API std::vector<Allocation> overlapping(const void *Ptr, size_t Bytes);
// Replaces the flags of the allocation starting at Base (cudaStreamAttachMemAsync); false when there is none.
CUSHIM_API bool setFlags(uintptr_t Base, unsigned Flags);
CUSHIM_API bool setSyncMemops(uintptr_t Base, bool Value);
// Some allocation owned by a context (used to free everything when the context goes away).
CUSHIM_API std::optional<Allocation> findOwnedBy(const Context *Owner);
// Every allocation of one kind owned by a context.
CUSHIM_API std::vector<Allocation> allOwnedBy(const Context *Owner, int Kind);

// Device memory in use on a device (by ordinal): device and managed allocations are counted as they are inserted
// and erased; pools and virtual-memory handles add what they reserve through addDeviceBytes.
CUSHIM_API void addDeviceBytes(int Ordinal, int64_t Delta);
CUSHIM_API uint64_t deviceBytes(int Ordinal);
} // namespace memory_map

} // namespace cushim::core
