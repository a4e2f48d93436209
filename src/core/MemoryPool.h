// Memory pools and stream-ordered allocation (cuMemAllocAsync, cuMemFreeAsync, cuMemPool*): a pool keeps freed
// blocks for reuse and releases what it holds beyond its release threshold. See docs/MEMORY.md.
#pragma once

#include "core/MemoryMap.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace cushim::core {

class Context;
class Device;
class Stream;

class CUSHIM_API MemoryPool {
public:
  // cuMemPoolCreate: validates the properties (device-located, pinned, no export handle types).
  static Expected<MemoryPool *> create(const CUmemPoolProps &Props);
  // cuMemPoolDestroy: the handle dies at once; blocks still allocated go back to the system when freed.
  static Error destroy(MemoryPool *Pool);
  // The device's default pool (created on first use) and the pool cuMemAllocAsync uses on it.
  static MemoryPool &defaultPool(Device &Dev);
  static MemoryPool &currentPool(Device &Dev);
  // cuDeviceSetMemPool: Pool must be located on Dev.
  static Error setCurrentPool(Device &Dev, MemoryPool *Pool);

  // cuMemAllocAsync / cuMemAllocFromPoolAsync: memory usable by work enqueued on S after this call.
  Expected<void *> allocate(Stream &S, size_t Bytes);
  // cuMemFreeAsync: the block returns to its pool once S reaches this point.
  static Error freeAsync(Stream &S, void *Ptr);
  // cudaFree / cuMemFree of a stream-ordered allocation: synchronises the device, then frees.
  static Error freeSynchronously(const Allocation &A);

  Error setAttribute(CUmemPool_attribute Attribute, const void *Value);
  Error getAttribute(CUmemPool_attribute Attribute, void *Value);
  // cuMemPoolTrimTo: releases idle blocks until at most MinBytesToKeep stay reserved.
  Error trimTo(size_t MinBytesToKeep);
  Error setAccess(const CUmemAccessDesc *Descs, size_t Count);
  Expected<CUmemAccess_flags> access(const CUmemLocation &Location);

  Device &device() const { return Dev; }
  CUmemoryPool handle() { return reinterpret_cast<CUmemoryPool>(this); }

  // Context-destroy hook: forgets (and frees) every block that came from the context.
  static void contextGoing(Context &Ctx);

private:
  MemoryPool(Device &Dev, const CUmemPoolProps &Props, bool IsDefault) : Dev(Dev), Props(Props), IsDefault(IsDefault) {}

  struct Block {
    void *Ptr = nullptr;
    size_t Size = 0;
    Context *Ctx = nullptr; // the context whose backend allocation it is
  };
  // Called in stream order when a freed block may be reused; applies the release threshold.
  void returnBlock(Block B);
  // Releases idle blocks (largest first) while more than Keep bytes stay reserved; Mutex held.
  void releaseIdleLocked(uint64_t Keep);
  // Gives idle blocks back to the backend; must not run on a backend queue thread (the backend may drain queues).
  void freeReleasedBlocks();

  Device &Dev;
  CUmemPoolProps Props;
  bool IsDefault;
  bool Destroyed = false;

  std::mutex Mutex;
  std::multimap<size_t, Block> Idle;  // freed and reachable blocks, by size
  std::vector<Block> Released;        // beyond the threshold: no longer counted, freed to the backend later
  std::map<uintptr_t, Block> InUse;   // by address
  uint64_t Reserved = 0, ReservedHigh = 0, Used = 0, UsedHigh = 0;
  uint64_t ReleaseThreshold = 0;
  int FollowEventDependencies = 1, AllowOpportunistic = 1, AllowInternalDependencies = 1;
  std::map<int, CUmemAccess_flags> PeerAccess; // by device ordinal, for devices other than the pool's
};

CUSHIM_API MemoryPool *lookupMemoryPool(CUmemoryPool Handle);

} // namespace cushim::core
