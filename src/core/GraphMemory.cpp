// Graph allocations: the memory of allocation nodes, its liveness across launches and frees, and the per-device graph
// memory statistics (docs/GRAPHS.md, "Memory nodes").
#include "core/GraphMemory.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/Graph.h"
#include "core/GraphLock.h"
#include "core/MemoryMap.h"
#include "core/MemoryPool.h"
#include "core/Stream.h"
#include "hal/Hal.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace cushim::core {

// The allocation nodes' claim on their memory: one object per allocation node, shared by its copies (executable graph
// snapshots); its destruction ends the claim.
struct GraphAllocation {
  uintptr_t Base = 0;
  uint64_t Id = 0;
  ~GraphAllocation();
};

namespace {

struct Record {
  uint64_t Id = 0;
  void *Ptr = nullptr;
  size_t Bytes = 0;
  Context *Ctx = nullptr;
  bool Live = false;     // allocated by a launch, not freed since
  bool Claimed = true;   // an allocation node still refers to it
  bool Launched = false; // some launch used it: running work may still touch it, so it is released by a trim
};

struct DeviceStats {
  uint64_t Used = 0, UsedHigh = 0, Reserved = 0, ReservedHigh = 0;
};

struct State {
  std::mutex Mutex;
  std::map<uintptr_t, Record> Records; // every graph allocation whose memory exists, by address
  std::map<int, DeviceStats> Stats;    // by device ordinal
  uint64_t NextId = 1;
};

State &state() {
  static auto *S = new State(); // leaked: nodes may be destroyed while static destructors run
  return *S;
}

DeviceStats &statsOf(const Record &R) { return state().Stats[R.Ctx->device().ordinal()]; }

void setLive(Record &R, bool Live) {
  if (R.Live == Live)
    return;
  R.Live = Live;
  DeviceStats &S = statsOf(R);
  S.Used = Live ? S.Used + R.Bytes : S.Used - R.Bytes;
  S.UsedHigh = std::max(S.UsedHigh, S.Used);
  R.Launched = R.Launched || Live;
}

// Gives the memory back to the backend; state().Mutex is held. Nothing may be using it any more.
void releaseLocked(std::map<uintptr_t, Record>::iterator It) {
  Record &R = It->second;
  statsOf(R).Reserved -= R.Bytes;
  memory_map::addDeviceBytes(R.Ctx->device().ordinal(), -int64_t(R.Bytes));
  memory_map::erase(It->first);
  (void)hal::check(hal::ops().mem_free(R.Ctx->hal(), R.Ptr, CUSHIM_HAL_MEMORY_DEVICE), "mem_free");
  state().Records.erase(It);
}

// An allocation nothing claims and that is not live: released now when no launch ever used it, else kept reserved
// until a trim (work enqueued earlier may still use it; CUDA too keeps freed graph memory until cuDeviceGraphMemTrim).
void maybeReleaseLocked(std::map<uintptr_t, Record>::iterator It) {
  if (!It->second.Claimed && !It->second.Live && !It->second.Launched)
    releaseLocked(It);
}

// A context going away takes its memory with it.
void contextGoing(Context &Ctx) {
  std::lock_guard<std::mutex> G(state().Mutex);
  for (auto It = state().Records.begin(); It != state().Records.end();) {
    auto Next = std::next(It);
    if (It->second.Ctx == &Ctx) {
      setLive(It->second, false);
      releaseLocked(It);
    }
    It = Next;
  }
}

std::map<uintptr_t, Record>::iterator findRecord(const void *Ptr) {
  return state().Records.find(reinterpret_cast<uintptr_t>(Ptr));
}

} // namespace

GraphAllocation::~GraphAllocation() {
  std::lock_guard<std::mutex> G(state().Mutex);
  auto It = state().Records.find(Base);
  if (It == state().Records.end() || It->second.Id != Id)
    return; // released with its context
  It->second.Claimed = false;
  maybeReleaseLocked(It);
}

Expected<GraphNode> memAllocGraphNode(Context &Ctx, const CUmemPoolProps &Props, const CUmemAccessDesc *Access,
                                      size_t AccessCount, size_t Bytes) {
  if (Bytes == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "allocation node of 0 bytes");
  if (Props.allocType != CU_MEM_ALLOCATION_TYPE_PINNED)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("allocation node: allocation type {} (CU_MEM_ALLOCATION_TYPE_PINNED is required)",
                                 int(Props.allocType)));
  if (Props.location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return makeError(Props.location.type == CU_MEM_LOCATION_TYPE_INVALID ? CUDA_ERROR_INVALID_VALUE
                                                                          : CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("allocation node: location type {} (only device memory is supported)",
                                 int(Props.location.type)));
  if (!device(Props.location.id))
    return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("allocation node: invalid device {}", Props.location.id));
  if (Props.location.id != Ctx.device().ordinal())
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("allocation node on device {} from a context of device {}: cuda_shim allocates graph "
                                 "memory in the current context only",
                                 Props.location.id, Ctx.device().ordinal()));
  if (Props.handleTypes != CU_MEM_HANDLE_TYPE_NONE)
    return makeError(CUDA_ERROR_INVALID_VALUE, "allocation node: handle types must be CU_MEM_HANDLE_TYPE_NONE");
  if (AccessCount && !Access)
    return makeError(CUDA_ERROR_INVALID_VALUE, "allocation node: accessDescs is NULL");
  if (AccessCount > static_cast<size_t>(deviceCount()))
    return makeError(CUDA_ERROR_INVALID_VALUE, "allocation node: more access descriptors than devices");
  for (size_t I = 0; I < AccessCount; ++I)
    if (Access[I].location.type != CU_MEM_LOCATION_TYPE_DEVICE || !device(Access[I].location.id))
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("allocation node: access descriptor {} names no device", I));
  CUSHIM_TRY(Ctx.stickyError());

  void *Ptr = nullptr;
  CUSHIM_TRY(hal::check(hal::ops().mem_alloc(Ctx.hal(), Bytes, CUSHIM_HAL_MEMORY_DEVICE, &Ptr), "mem_alloc"));
  if (!Ptr)
    return makeError(CUDA_ERROR_OUT_OF_MEMORY, fmt::format("the backend has no memory for {} bytes", Bytes));
  static bool HookAdded = [] {
    addContextDestroyHook(&contextGoing);
    return true;
  }();
  (void)HookAdded;
  auto A = std::make_shared<GraphAllocation>();
  A->Base = reinterpret_cast<uintptr_t>(Ptr);
  {
    std::lock_guard<std::mutex> G(state().Mutex);
    A->Id = state().NextId++;
    Record &R = state().Records[A->Base];
    R = Record{A->Id, Ptr, Bytes, &Ctx};
    DeviceStats &S = statsOf(R);
    S.Reserved += Bytes;
    S.ReservedHigh = std::max(S.ReservedHigh, S.Reserved);
  }
  memory_map::addDeviceBytes(Ctx.device().ordinal(), int64_t(Bytes)); // cuMemGetInfo counts it, as a pool block

  // Addressable like a stream-ordered allocation (cuPointerGetAttribute, cuMemFree/cuMemFreeAsync find it).
  memory_map::insert({A->Base, Bytes, PoolKind, &Ctx, 0, &MemoryPool::defaultPool(Ctx.device())});

  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_MEM_ALLOC;
  N.MemAlloc.Alloc = std::move(A);
  N.MemAlloc.Props = Props;
  N.MemAlloc.Access.assign(Access, Access + AccessCount);
  N.MemAlloc.Ptr = Ptr;
  N.MemAlloc.Bytes = Bytes;
  return N;
}

// Free nodes of G and of its child graphs for Ptr.
static bool freedIn(const Graph &G, const void *Ptr) {
  for (auto &N : G.nodes())
    if ((N->Type == CU_GRAPH_NODE_TYPE_MEM_FREE && N->FreePtr == Ptr) || (N->Child && freedIn(*N->Child, Ptr)))
      return true;
  return false;
}

Expected<GraphNode> memFreeGraphNode(const Graph &G, void *Ptr) {
  {
    std::lock_guard<std::mutex> L(state().Mutex);
    if (findRecord(Ptr) == state().Records.end())
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("free node: {} is not the address of a graph allocation node", Ptr));
  }
  if (freedIn(G, Ptr))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("free node: the graph frees {} already", Ptr));
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_MEM_FREE;
  N.FreePtr = Ptr;
  return N;
}

bool hasMemoryNodes(const Graph &G) {
  for (auto &N : G.nodes())
    if (N->Type == CU_GRAPH_NODE_TYPE_MEM_ALLOC || N->Type == CU_GRAPH_NODE_TYPE_MEM_FREE ||
        (N->Child && hasMemoryNodes(*N->Child)))
      return true;
  return false;
}

Error graphMemoryLaunch(const std::vector<GraphNode *> &Nodes, bool AutoFree) {
  std::lock_guard<std::mutex> G(state().Mutex);
  auto &Records = state().Records;
  // Check everything first: a refused launch changes nothing.
  for (GraphNode *N : Nodes) {
    if (N->Type == CU_GRAPH_NODE_TYPE_MEM_ALLOC) {
      auto It = findRecord(N->MemAlloc.Ptr);
      if (It == Records.end())
        return makeError(CUDA_ERROR_INVALID_VALUE, "the graph's allocation died with its context");
      if (It->second.Live && !AutoFree)
        return makeError(CUDA_ERROR_INVALID_VALUE,
                         fmt::format("the allocation at {} made by an earlier launch of this graph is not freed yet "
                                     "(free it, or instantiate with cudaGraphInstantiateFlagAutoFreeOnLaunch)",
                                     N->MemAlloc.Ptr));
    }
  }
  std::vector<void *> AllocatedHere;
  for (GraphNode *N : Nodes) {
    if (N->Type == CU_GRAPH_NODE_TYPE_MEM_ALLOC) {
      setLive(findRecord(N->MemAlloc.Ptr)->second, true);
      AllocatedHere.push_back(N->MemAlloc.Ptr);
    } else if (N->Type == CU_GRAPH_NODE_TYPE_MEM_FREE) {
      auto It = findRecord(N->FreePtr);
      bool Ours = std::find(AllocatedHere.begin(), AllocatedHere.end(), N->FreePtr) != AllocatedHere.end();
      if (It == Records.end() || (!It->second.Live && !Ours)) {
        // Freeing another graph's allocation that no launch made live: CUDA leaves this undefined; say so.
        CUSHIM_LOG_WARN("graph launch: free node of {} frees an allocation that is not live", N->FreePtr);
        continue;
      }
      setLive(It->second, false);
      maybeReleaseLocked(It);
    }
  }
  return Error::success();
}

Expected<void *> captureAllocation(Stream &S, const CUmemPoolProps &Props, size_t Bytes) {
  auto N = memAllocGraphNode(S.context(), Props, nullptr, 0, Bytes);
  if (!N)
    return N.takeError();
  void *Ptr = N->MemAlloc.Ptr;
  auto R = captureNode(S, std::move(*N));
  if (!R)
    return makeError(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "the stream left its capture");
  if (R->isError())
    return std::move(*R); // the node (and with it the memory) is gone
  return Ptr;
}

Error captureFree(Stream &S, void *Ptr) {
  CaptureInfo Info = captureInfo(S);
  Expected<GraphNode> N = makeError(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "the capture was invalidated");
  if (Info.G) {
    std::lock_guard<std::recursive_mutex> L(graphLock());
    N = memFreeGraphNode(*Info.G, Ptr);
  }
  if (!N)
    return N.takeError();
  if (auto R = captureNode(S, std::move(*N)))
    return std::move(*R);
  return makeError(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED, "the stream left its capture");
}

std::optional<Error> freeGraphAllocation(void *Ptr, Stream *S) {
  {
    std::lock_guard<std::mutex> G(state().Mutex);
    auto It = findRecord(Ptr);
    if (It == state().Records.end())
      return std::nullopt;
    if (!It->second.Live)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("{} is a graph allocation that is not allocated now (no launch made it, or it is "
                                   "freed already)",
                                   Ptr));
    setLive(It->second, false);
    if (S) {
      maybeReleaseLocked(It); // kept until a trim when launched: work before the free may still use it
      return Error::success();
    }
  }
  // cuMemFree: the device is synchronised first, so nothing uses the memory afterwards.
  Context *Ctx = nullptr;
  {
    std::lock_guard<std::mutex> G(state().Mutex);
    if (auto It = findRecord(Ptr); It != state().Records.end())
      Ctx = It->second.Ctx;
  }
  Error Sync = Ctx ? Ctx->synchronize() : Error::success();
  std::lock_guard<std::mutex> G(state().Mutex);
  if (auto It = findRecord(Ptr); It != state().Records.end() && !It->second.Claimed && !It->second.Live)
    releaseLocked(It);
  return Sync;
}

Error graphMemAttribute(int Dev, CUgraphMem_attribute Attr, void *Value, bool Set) {
  if (!device(Dev))
    return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("invalid device {}", Dev));
  if (!Value)
    return makeError(CUDA_ERROR_INVALID_VALUE, "value is NULL");
  std::lock_guard<std::mutex> G(state().Mutex);
  DeviceStats &S = state().Stats[Dev];
  uint64_t *Field = nullptr;
  switch (Attr) {
  case CU_GRAPH_MEM_ATTR_USED_MEM_CURRENT: Field = &S.Used; break;
  case CU_GRAPH_MEM_ATTR_USED_MEM_HIGH: Field = &S.UsedHigh; break;
  case CU_GRAPH_MEM_ATTR_RESERVED_MEM_CURRENT: Field = &S.Reserved; break;
  case CU_GRAPH_MEM_ATTR_RESERVED_MEM_HIGH: Field = &S.ReservedHigh; break;
  default: return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("graph memory attribute {} is not defined", int(Attr)));
  }
  if (!Set) {
    *static_cast<cuuint64_t *>(Value) = *Field;
    return Error::success();
  }
  bool High = Attr == CU_GRAPH_MEM_ATTR_USED_MEM_HIGH || Attr == CU_GRAPH_MEM_ATTR_RESERVED_MEM_HIGH;
  if (!High || *static_cast<const cuuint64_t *>(Value) != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "only the high watermarks can be set, and only to 0");
  *Field = Attr == CU_GRAPH_MEM_ATTR_USED_MEM_HIGH ? S.Used : S.Reserved; // reset to the current value, as CUDA does
  return Error::success();
}

Error graphMemTrim(int Dev) {
  if (!device(Dev))
    return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("invalid device {}", Dev));
  // Freed allocations whose nodes are gone are kept until here; wait for the work that may still use them.
  std::vector<Context *> Contexts;
  {
    std::lock_guard<std::mutex> G(state().Mutex);
    for (auto &[Base, R] : state().Records)
      if (!R.Claimed && !R.Live && R.Ctx->device().ordinal() == Dev &&
          std::find(Contexts.begin(), Contexts.end(), R.Ctx) == Contexts.end())
        Contexts.push_back(R.Ctx);
  }
  for (Context *Ctx : Contexts)
    CUSHIM_TRY(Ctx->synchronize());
  std::lock_guard<std::mutex> G(state().Mutex);
  for (auto It = state().Records.begin(); It != state().Records.end();) {
    auto Next = std::next(It);
    if (!It->second.Claimed && !It->second.Live && It->second.Ctx->device().ordinal() == Dev &&
        std::find(Contexts.begin(), Contexts.end(), It->second.Ctx) != Contexts.end())
      releaseLocked(It);
    It = Next;
  }
  return Error::success();
}

} // namespace cushim::core
