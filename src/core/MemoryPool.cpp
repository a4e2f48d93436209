// Memory pools: blocks come from the backend as device memory, go back to an idle list in stream order when freed,
// and are given back beyond the release threshold (core/MemoryPool.h, docs/MEMORY.md).
#include "core/MemoryPool.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/Graph.h"
#include "core/Handles.h"
#include "core/Stream.h"
#include "hal/Hal.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace cushim::core {

namespace {
struct PoolRegistry {
  std::mutex Mutex;
  HandleRegistry<MemoryPool> Live;
  std::vector<MemoryPool *> All;              // live and destroyed-with-blocks-outstanding
  std::map<Device *, MemoryPool *> Defaults;  // per device
  std::map<Device *, MemoryPool *> Current;   // cuDeviceSetMemPool
};
PoolRegistry &pools() {
  static auto *R = new PoolRegistry();
  return *R;
}

// Blocks are handed out in multiples of this, so that a freed block fits later requests of similar size.
constexpr size_t BlockGranularity = 512;

CUmemPoolProps defaultProps(Device &Dev) {
  CUmemPoolProps P;
  std::memset(&P, 0, sizeof(P));
  P.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
  P.handleTypes = CU_MEM_HANDLE_TYPE_NONE;
  P.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  P.location.id = Dev.ordinal();
  return P;
}
} // namespace

MemoryPool *lookupMemoryPool(CUmemoryPool Handle) { return Handle ? pools().Live.lookup(Handle) : nullptr; }

void MemoryPool::contextGoing(Context &Ctx) {
  // A context's backend allocations die with it: forget (and free) every block that came from it.
  std::vector<MemoryPool *> All;
  {
    std::lock_guard<std::mutex> G(pools().Mutex);
    All = pools().All;
  }
  for (MemoryPool *Pool : All) {
    std::vector<Block> Dead;
    {
      std::lock_guard<std::mutex> G(Pool->Mutex);
      for (auto It = Pool->Idle.begin(); It != Pool->Idle.end();)
        if (It->second.Ctx == &Ctx) {
          Pool->Reserved -= It->second.Size;
          memory_map::addDeviceBytes(Pool->Dev.ordinal(), -int64_t(It->second.Size));
          Dead.push_back(It->second);
          It = Pool->Idle.erase(It);
        } else {
          ++It;
        }
      for (auto It = Pool->InUse.begin(); It != Pool->InUse.end();)
        if (It->second.Ctx == &Ctx) {
          Pool->Reserved -= It->second.Size;
          Pool->Used -= It->second.Size;
          memory_map::addDeviceBytes(Pool->Dev.ordinal(), -int64_t(It->second.Size));
          memory_map::erase(It->first);
          Dead.push_back(It->second);
          It = Pool->InUse.erase(It);
        } else {
          ++It;
        }
      std::erase_if(Pool->Released, [&](const Block &B) {
        if (B.Ctx == &Ctx)
          Dead.push_back(B);
        return B.Ctx == &Ctx;
      });
    }
    for (const Block &B : Dead)
      (void)hal::ops().mem_free(Ctx.hal(), B.Ptr, CUSHIM_HAL_MEMORY_DEVICE);
  }
}

static MemoryPool *registerPool(MemoryPool *Pool) {
  static bool HookAdded = [] {
    addContextDestroyHook(&MemoryPool::contextGoing);
    return true;
  }();
  (void)HookAdded;
  std::lock_guard<std::mutex> G(pools().Mutex);
  pools().Live.add(Pool);
  pools().All.push_back(Pool);
  return Pool;
}

Expected<MemoryPool *> MemoryPool::create(const CUmemPoolProps &Props) {
  if (Props.allocType != CU_MEM_ALLOCATION_TYPE_PINNED)
    return makeError(Props.allocType == CU_MEM_ALLOCATION_TYPE_MANAGED ? CUDA_ERROR_NOT_SUPPORTED
                                                                        : CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemPoolCreate: allocation type {} (only CU_MEM_ALLOCATION_TYPE_PINNED device pools "
                                 "are supported)",
                                 int(Props.allocType)));
  if (Props.location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return makeError(Props.location.type == CU_MEM_LOCATION_TYPE_INVALID ? CUDA_ERROR_INVALID_VALUE
                                                                          : CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("cuMemPoolCreate: location type {} (only device-located pools are supported)",
                                 int(Props.location.type)));
  Device *Dev = core::device(Props.location.id);
  if (!Dev)
    return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("cuMemPoolCreate: invalid device {}", Props.location.id));
  if (Props.handleTypes != CU_MEM_HANDLE_TYPE_NONE)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("cuMemPoolCreate: exportable pools (handle types {:#x}) are not supported: pool "
                                 "memory cannot be shared with other processes on this backend",
                                 unsigned(Props.handleTypes)));
  if (Props.usage & CU_MEM_POOL_CREATE_USAGE_HW_DECOMPRESS)
    return makeError(CUDA_ERROR_NOT_SUPPORTED, "cuMemPoolCreate: hardware decompression usage is not supported");
  return registerPool(new MemoryPool(*Dev, Props, false));
}

Error MemoryPool::destroy(MemoryPool *Pool) {
  if (Pool->IsDefault)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolDestroy: a device's default pool cannot be destroyed");
  {
    std::lock_guard<std::mutex> G(pools().Mutex);
    pools().Live.remove(Pool);
    for (auto It = pools().Current.begin(); It != pools().Current.end();)
      It = It->second == Pool ? pools().Current.erase(It) : std::next(It); // the device falls back to its default
  }
  {
    std::lock_guard<std::mutex> G(Pool->Mutex);
    Pool->Destroyed = true;
    Pool->releaseIdleLocked(0);
  }
  Pool->freeReleasedBlocks();
  // The object stays (a few bytes): outstanding allocations still name it and go back to the system when freed.
  return Error::success();
}

MemoryPool &MemoryPool::defaultPool(Device &Dev) {
  {
    std::lock_guard<std::mutex> G(pools().Mutex);
    if (auto It = pools().Defaults.find(&Dev); It != pools().Defaults.end())
      return *It->second;
  }
  auto *Pool = new MemoryPool(Dev, defaultProps(Dev), true);
  registerPool(Pool);
  std::lock_guard<std::mutex> G(pools().Mutex);
  auto [It, Inserted] = pools().Defaults.emplace(&Dev, Pool);
  return *It->second; // a racing thread's pool wins; ours stays unused
}

MemoryPool &MemoryPool::currentPool(Device &Dev) {
  {
    std::lock_guard<std::mutex> G(pools().Mutex);
    if (auto It = pools().Current.find(&Dev); It != pools().Current.end())
      return *It->second;
  }
  return defaultPool(Dev);
}

Error MemoryPool::setCurrentPool(Device &Dev, MemoryPool *Pool) {
  if (&Pool->Dev != &Dev)
    return makeError(CUDA_ERROR_INVALID_DEVICE,
                     fmt::format("cuDeviceSetMemPool: the pool is located on device {}, not {}", Pool->Dev.ordinal(),
                                 Dev.ordinal()));
  std::lock_guard<std::mutex> G(pools().Mutex);
  pools().Current[&Dev] = Pool;
  return Error::success();
}

Expected<void *> MemoryPool::allocate(Stream &S, size_t Bytes) {
  if (Bytes == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "stream-ordered allocation of 0 bytes");
  if (captureActive() && captureInfo(S).Status != CU_STREAM_CAPTURE_STATUS_NONE)
    return captureAllocation(S, Props, Bytes); // an allocation node (core/GraphMemory.h)
  size_t Rounded = (Bytes + BlockGranularity - 1) / BlockGranularity * BlockGranularity;
  if (Rounded < Bytes)
    return makeError(CUDA_ERROR_OUT_OF_MEMORY, fmt::format("cannot allocate {} bytes", Bytes));
  Context &Ctx = S.context();
  CUSHIM_TRY(Ctx.stickyError());
  // A freed block is reusable once its free has executed in its stream, which is all that opportunistic reuse asks;
  // blocks are not split, and one at most twice the request (or 1 MiB larger) is taken.
  auto fits = [&](size_t Size) { return Size >= Rounded && (Size <= 2 * Rounded || Size - Rounded <= (1u << 20)); };
  Block B;
  {
    std::lock_guard<std::mutex> G(Mutex);
    auto It = Idle.lower_bound(Rounded);
    if (It != Idle.end() && fits(It->first)) {
      B = It->second;
      Idle.erase(It);
    } else {
      auto R = std::find_if(Released.begin(), Released.end(), [&](const Block &X) { return fits(X.Size); });
      if (R != Released.end()) { // given up but not yet returned to the backend: reserve it again
        B = *R;
        Released.erase(R);
        Reserved += B.Size;
        memory_map::addDeviceBytes(Dev.ordinal(), int64_t(B.Size));
      }
    }
  }
  if (!B.Ptr) {
    if (Props.maxSize) {
      std::lock_guard<std::mutex> G(Mutex);
      if (Reserved + Rounded > Props.maxSize)
        releaseIdleLocked(Props.maxSize > Rounded ? Props.maxSize - Rounded : 0);
      if (Reserved + Rounded > Props.maxSize)
        return makeError(CUDA_ERROR_OUT_OF_MEMORY,
                         fmt::format("the pool's maximum size ({} bytes) does not leave room for {} more",
                                     Props.maxSize, Rounded));
    }
    void *P = nullptr;
    cushim_hal_result R = hal::ops().mem_alloc(Ctx.hal(), Rounded, CUSHIM_HAL_MEMORY_DEVICE, &P);
    if (R != CUDA_SUCCESS || !P) {
      freeReleasedBlocks(); // retry once with what the pool gave up but still holds
      R = hal::ops().mem_alloc(Ctx.hal(), Rounded, CUSHIM_HAL_MEMORY_DEVICE, &P);
    }
    if (R != CUDA_SUCCESS || !P)
      return makeError(CUDA_ERROR_OUT_OF_MEMORY, fmt::format("the backend has no memory for {} bytes", Rounded));
    B = {P, Rounded, &Ctx};
    std::lock_guard<std::mutex> G(Mutex);
    Reserved += Rounded;
    ReservedHigh = std::max(ReservedHigh, Reserved);
    memory_map::addDeviceBytes(Dev.ordinal(), int64_t(Rounded));
  }
  {
    std::lock_guard<std::mutex> G(Mutex);
    InUse[reinterpret_cast<uintptr_t>(B.Ptr)] = B;
    Used += B.Size;
    UsedHigh = std::max(UsedHigh, Used);
    ReservedHigh = std::max(ReservedHigh, Reserved);
  }
  memory_map::insert({reinterpret_cast<uintptr_t>(B.Ptr), Bytes, PoolKind, B.Ctx, 0, this});
  return B.Ptr;
}

Error MemoryPool::freeAsync(Stream &S, void *Ptr) {
  if (captureActive() && captureInfo(S).Status != CU_STREAM_CAPTURE_STATUS_NONE)
    return captureFree(S, Ptr); // a free node
  if (auto R = freeGraphAllocation(Ptr, &S))
    return std::move(*R);
  auto A = memory_map::findBase(Ptr);
  if (!A || A->Kind != PoolKind)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{} was not returned by cuMemAllocAsync / cuMemAllocFromPoolAsync (or is freed)", Ptr));
  auto *Pool = static_cast<MemoryPool *>(A->Object);
  Block B;
  {
    std::lock_guard<std::mutex> G(Pool->Mutex);
    auto It = Pool->InUse.find(A->Base);
    if (It == Pool->InUse.end())
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} is being freed already", Ptr));
    B = It->second;
    Pool->InUse.erase(It);
    Pool->Used -= B.Size;
  }
  // Forgotten now (a second free is an error at once), reusable once the stream reaches the free.
  memory_map::erase(A->Base);
  if (Error E = S.callback([Pool, B](CUresult) { Pool->returnBlock(B); }); E.isError()) {
    Pool->returnBlock(B); // the stream is unusable; nothing queued on it will touch the block
    return E;
  }
  return Error::success();
}

Error MemoryPool::freeSynchronously(const Allocation &A) {
  if (auto R = freeGraphAllocation(reinterpret_cast<void *>(A.Base), nullptr))
    return std::move(*R);
  auto *Pool = static_cast<MemoryPool *>(A.Object);
  Error Sync = A.Owner->synchronize();
  Block B;
  {
    std::lock_guard<std::mutex> G(Pool->Mutex);
    auto It = Pool->InUse.find(A.Base);
    if (It == Pool->InUse.end())
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{:#x} is being freed already", A.Base));
    B = It->second;
    Pool->InUse.erase(It);
    Pool->Used -= B.Size;
  }
  memory_map::erase(A.Base);
  Pool->returnBlock(B);
  return Sync;
}

void MemoryPool::returnBlock(Block B) {
  std::lock_guard<std::mutex> G(Mutex);
  Idle.emplace(B.Size, B);
  // CUDA gives memory back at the next synchronisation beyond the threshold; the free's own place in its stream is
  // the earliest such point, and anything that synchronises with it observes the release.
  releaseIdleLocked(Destroyed ? 0 : ReleaseThreshold);
}

void MemoryPool::releaseIdleLocked(uint64_t Keep) {
  while (Reserved > Keep && !Idle.empty()) {
    auto Largest = std::prev(Idle.end());
    Block B = Largest->second;
    Idle.erase(Largest);
    Reserved -= B.Size;
    memory_map::addDeviceBytes(Dev.ordinal(), -int64_t(B.Size));
    Released.push_back(B);
  }
}

void MemoryPool::freeReleasedBlocks() {
  std::vector<Block> Blocks;
  {
    std::lock_guard<std::mutex> G(Mutex);
    Blocks.swap(Released);
  }
  for (const Block &B : Blocks)
    if (lookupContext(B.Ctx->handle()))
      (void)hal::ops().mem_free(B.Ctx->hal(), B.Ptr, CUSHIM_HAL_MEMORY_DEVICE);
}

Error MemoryPool::trimTo(size_t MinBytesToKeep) {
  {
    std::lock_guard<std::mutex> G(Mutex);
    releaseIdleLocked(MinBytesToKeep);
  }
  freeReleasedBlocks();
  return Error::success();
}

Error MemoryPool::setAttribute(CUmemPool_attribute Attribute, const void *Value) {
  if (!Value)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolSetAttribute: value is NULL");
  std::lock_guard<std::mutex> G(Mutex);
  auto asInt = [&] {
    int V;
    std::memcpy(&V, Value, sizeof(V));
    return V != 0 ? 1 : 0;
  };
  cuuint64_t V64 = 0;
  std::memcpy(&V64, Value, sizeof(V64));
  switch (Attribute) {
  case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES: FollowEventDependencies = asInt(); return Error::success();
  case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC: AllowOpportunistic = asInt(); return Error::success();
  case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES: AllowInternalDependencies = asInt(); return Error::success();
  case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD:
    ReleaseThreshold = V64;
    releaseIdleLocked(ReleaseThreshold);
    return Error::success();
  case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH:
  case CU_MEMPOOL_ATTR_USED_MEM_HIGH:
    if (V64 != 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolSetAttribute: a high-water mark can only be reset to 0");
    if (Attribute == CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH)
      ReservedHigh = Reserved;
    else
      UsedHigh = Used;
    return Error::success();
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemPoolSetAttribute: attribute {} cannot be set", int(Attribute)));
  }
}

Error MemoryPool::getAttribute(CUmemPool_attribute Attribute, void *Value) {
  if (!Value)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolGetAttribute: value is NULL");
  std::lock_guard<std::mutex> G(Mutex);
  auto putInt = [&](int V) { std::memcpy(Value, &V, sizeof(V)); };
  auto put64 = [&](cuuint64_t V) { std::memcpy(Value, &V, sizeof(V)); };
  switch (Attribute) {
  case CU_MEMPOOL_ATTR_REUSE_FOLLOW_EVENT_DEPENDENCIES: putInt(FollowEventDependencies); break;
  case CU_MEMPOOL_ATTR_REUSE_ALLOW_OPPORTUNISTIC: putInt(AllowOpportunistic); break;
  case CU_MEMPOOL_ATTR_REUSE_ALLOW_INTERNAL_DEPENDENCIES: putInt(AllowInternalDependencies); break;
  case CU_MEMPOOL_ATTR_RELEASE_THRESHOLD: put64(ReleaseThreshold); break;
  case CU_MEMPOOL_ATTR_RESERVED_MEM_CURRENT: put64(Reserved); break;
  case CU_MEMPOOL_ATTR_RESERVED_MEM_HIGH: put64(ReservedHigh); break;
  case CU_MEMPOOL_ATTR_USED_MEM_CURRENT: put64(Used); break;
  case CU_MEMPOOL_ATTR_USED_MEM_HIGH: put64(UsedHigh); break;
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemPoolGetAttribute: unknown attribute {}", int(Attribute)));
  }
  return Error::success();
}

Error MemoryPool::setAccess(const CUmemAccessDesc *Descs, size_t Count) {
  if (!Descs && Count)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemPoolSetAccess: map is NULL");
  for (size_t I = 0; I < Count; ++I) {
    const CUmemAccessDesc &D = Descs[I];
    if (D.location.type != CU_MEM_LOCATION_TYPE_DEVICE || !core::device(D.location.id))
      return makeError(CUDA_ERROR_INVALID_DEVICE,
                       fmt::format("cuMemPoolSetAccess: entry {} does not name a device (type {}, id {})", I,
                                   int(D.location.type), D.location.id));
    if (D.flags != CU_MEM_ACCESS_FLAGS_PROT_NONE && D.flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuMemPoolSetAccess: access flags {} (pools grant none or read-write)",
                                   int(D.flags)));
    if (D.location.id == Dev.ordinal() && D.flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       "cuMemPoolSetAccess: the pool's own device always has read-write access");
  }
  std::lock_guard<std::mutex> G(Mutex);
  for (size_t I = 0; I < Count; ++I)
    if (Descs[I].location.id != Dev.ordinal())
      PeerAccess[Descs[I].location.id] = Descs[I].flags;
  return Error::success();
}

Expected<CUmemAccess_flags> MemoryPool::access(const CUmemLocation &Location) {
  if (Location.type != CU_MEM_LOCATION_TYPE_DEVICE || !core::device(Location.id))
    return makeError(CUDA_ERROR_INVALID_DEVICE,
                     fmt::format("cuMemPoolGetAccess: location (type {}, id {}) is not a device", int(Location.type),
                                 Location.id));
  if (Location.id == Dev.ordinal())
    return CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  std::lock_guard<std::mutex> G(Mutex);
  auto It = PeerAccess.find(Location.id);
  return It == PeerAccess.end() ? CU_MEM_ACCESS_FLAGS_PROT_NONE : It->second;
}

} // namespace cushim::core
