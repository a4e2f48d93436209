// Executable graphs: instantiation (a private snapshot in dependency order), launch on a stream, exec update and the
// per-node setters (docs/GRAPHS.md).
#include "core/Context.h"
#include "core/Event.h"
#include "core/GraphLock.h"
#include "core/GraphSchedule.h"
#include "core/Module.h"
#include "core/Stream.h"
#include "hal/Hal.h"

#include <fmt/format.h>

#include <algorithm>

namespace cushim::core {

static HandleRegistry<GraphExec> &execRegistry() {
  static auto *R = new HandleRegistry<GraphExec>();
  return *R;
}

GraphExec *lookupGraphExec(CUgraphExec Handle) { return Handle ? execRegistry().lookup(Handle) : nullptr; }

// Maps the nodes of Original (and of its child graphs) to the snapshot's nodes, which are paired by creation index.
static void mapNodes(const Graph &Original, Graph &Snapshot, std::map<const GraphNode *, GraphNode *> &Map) {
  for (auto &N : Snapshot.nodes()) {
    auto It =
        std::find_if(Original.nodes().begin(), Original.nodes().end(), [&](auto &O) { return O->Index == N->Index; });
    if (It == Original.nodes().end())
      continue;
    Map[It->get()] = N.get();
    if (N->Child && (*It)->Child)
      mapNodes(*(*It)->Child, *N->Child, Map);
  }
}

Expected<GraphExec *> GraphExec::instantiate(Graph &G, unsigned long long Flags) {
  constexpr unsigned long long Known = CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH |
                                       CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD | CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH |
                                       CUDA_GRAPH_INSTANTIATE_FLAG_USE_NODE_PRIORITY;
  if (Flags & ~Known)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("instantiate flags {:#x} include undefined bits", Flags));
  if (Flags & CUDA_GRAPH_INSTANTIATE_FLAG_DEVICE_LAUNCH)
    return makeError(CUDA_ERROR_NOT_SUPPORTED, "graphs launched from the device (cudaGraphInstantiateFlagDeviceLaunch)"
                                               " are not supported by cuda_shim");
  std::unique_ptr<GraphExec> E(new GraphExec());
  E->Flags = Flags;
  {
    std::lock_guard<std::recursive_mutex> L(graphLock());
    E->HasMemoryNodes = hasMemoryNodes(G);
    if (E->HasMemoryNodes) {
      if (G.Instances->load() > 0)
        return makeError(CUDA_ERROR_INVALID_VALUE, "a graph with memory allocation or free nodes may have one "
                                                   "executable graph at a time; destroy the other one first");
      E->MemoryInstance = G.Instances;
    }
    E->Snapshot = G.clone(false);
    mapNodes(G, *E->Snapshot, E->FromOriginal);
  }
  // Also checks the graph and its child graphs for cycles.
  auto Sched = scheduleGraph(*E->Snapshot);
  if (!Sched)
    return Sched.takeError();
  E->Schedule = std::make_unique<GraphSchedule>(std::move(*Sched));
  if (E->MemoryInstance)
    ++*E->MemoryInstance;
  execRegistry().add(E.get());
  return E.release();
}

GraphExec::~GraphExec() {
  releaseLanes();
  if (MemoryInstance)
    --*MemoryInstance;
}

void GraphExec::releaseLanes() {
  // Pending records still complete and queued work still runs. The events and streams died with their context if that
  // was destroyed first (cudaDeviceReset).
  if (Done && lookupContext(DoneContext->handle()) == DoneContext) {
    const cushim_hal_ops &Ops = hal::ops();
    for (cushim_hal_event Ev : Slots)
      (void)Ops.event_destroy(Ev);
    if (Start)
      (void)Ops.event_destroy(Start);
    (void)Ops.event_destroy(Done);
    for (Stream *L : Lanes)
      (void)Stream::destroy(L); // an error when the context already took it
  }
  Slots.clear();
  Lanes.clear();
  Start = Done = nullptr;
  LastStream = nullptr;
}

Error GraphExec::destroy(GraphExec *E) {
  if (!execRegistry().lookup(E))
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{} is not a live executable graph", static_cast<void *>(E)));
  execRegistry().remove(E);
  {
    std::lock_guard<std::mutex> L(E->Mutex); // a launch in progress on another thread finishes enqueueing first
  }
  delete E;
  return Error::success();
}

// ---- Running nodes -------------------------------------------------------------------------------------------

static Error runCopy(const CopyNodeParams &C, Stream &S) {
  auto *Dst = static_cast<char *>(C.Dst);
  auto *Src = static_cast<const char *>(C.Src);
  size_t DstSlice = C.DstPitch * C.DstHeight, SrcSlice = C.SrcPitch * C.SrcHeight;
  Dst += C.DstX + C.DstY * C.DstPitch + C.DstZ * DstSlice;
  Src += C.SrcX + C.SrcY * C.SrcPitch + C.SrcZ * SrcSlice;
  if (C.Width == 0 || C.Height == 0 || C.Depth == 0)
    return Error::success();
  if (C.Height == 1 && C.Depth == 1)
    return S.copy(Dst, Src, C.Width);
  // Rows one by one: the source and destination pitches differ in general.
  for (size_t Z = 0; Z < C.Depth; ++Z)
    for (size_t Y = 0; Y < C.Height; ++Y)
      CUSHIM_TRY(S.copy(Dst + Z * DstSlice + Y * C.DstPitch, Src + Z * SrcSlice + Y * C.SrcPitch, C.Width));
  return Error::success();
}

static Error liveEvent(const GraphNode &N) {
  if (!N.Ev || !lookupEvent(N.Ev->handle()))
    return makeError(CUDA_ERROR_INVALID_HANDLE,
                     fmt::format("graph node {}: its event {} was destroyed", N.Index, static_cast<void *>(N.Ev)));
  return Error::success();
}

Error runGraphNode(const GraphNode &N, Stream &S) {
  switch (N.Type) {
  case CU_GRAPH_NODE_TYPE_KERNEL: {
    const KernelNodeParams &K = N.Kernel;
    if (!K.F || !lookupFunction(K.F->handle()))
      return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("graph node {}: its kernel was unloaded", N.Index));
    if (!K.F->hal()) // a library kernel whose primary context was reset since (Module::detach)
      return makeError(CUDA_ERROR_CONTEXT_IS_DESTROYED,
                       fmt::format("graph node {}: kernel '{}' was unloaded by a reset of its context", N.Index,
                                   K.F->name()));
    if (&K.F->module().context() != &S.context())
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("graph node {}: kernel '{}' belongs to another context "
                                                             "than the launch stream",
                                                             N.Index, K.F->name()));
    cushim_hal_launch L{};
    for (int I = 0; I < 3; ++I) {
      L.grid[I] = K.Config.Grid[I];
      L.block[I] = K.Config.Block[I];
    }
    L.dynamic_shared_size = K.Config.DynamicShared;
    L.params = K.Args.data();
    L.params_size = K.Args.size();
    LaunchShape Shape{{K.Config.Block[0], K.Config.Block[1], K.Config.Block[2]}, K.Config.DynamicShared};
    return S.launch(K.F->halFor(Shape), L); // a graph replayed often runs the kernel's variant for its shape
  }
  case CU_GRAPH_NODE_TYPE_MEMCPY: return runCopy(N.Copy, S);
  case CU_GRAPH_NODE_TYPE_MEMSET: {
    const MemsetNodeParams &M = N.Memset;
    for (size_t Row = 0; Row < M.Height; ++Row)
      CUSHIM_TRY(S.fill(static_cast<char *>(M.Dst) + Row * M.Pitch, M.Value, M.ElementSize, M.Width));
    return Error::success();
  }
  case CU_GRAPH_NODE_TYPE_HOST: return S.hostFunction(N.Host.Fn, N.Host.UserData);
  case CU_GRAPH_NODE_TYPE_EVENT_RECORD: CUSHIM_TRY(liveEvent(N)); return S.record(*N.Ev);
  case CU_GRAPH_NODE_TYPE_WAIT_EVENT: CUSHIM_TRY(liveEvent(N)); return S.wait(*N.Ev);
  case CU_GRAPH_NODE_TYPE_EMPTY:
  case CU_GRAPH_NODE_TYPE_GRAPH:
  // The memory of an allocation node exists from the node's creation; its liveness is tracked at launch.
  case CU_GRAPH_NODE_TYPE_MEM_ALLOC:
  case CU_GRAPH_NODE_TYPE_MEM_FREE: return Error::success();
  default:
    return makeError(CUDA_ERROR_NOT_SUPPORTED, fmt::format("graph node {}: node type {} is not supported by cuda_shim",
                                                           N.Index, static_cast<int>(N.Type)));
  }
}

Expected<bool> GraphExec::prepareLanes(Stream &S) {
  const cushim_hal_ops &Ops = hal::ops();
  // Its context was destroyed, and the events and lanes with it (a lane that is gone while the context pointer is
  // live again means a new context took the old one's address).
  bool LanesGone = std::any_of(Lanes.begin(), Lanes.end(),
                               [](Stream *L) { return lookupStream(reinterpret_cast<CUstream>(L)) != L; });
  if (Done && (LanesGone || lookupContext(DoneContext->handle()) != DoneContext)) {
    Done = nullptr;
    releaseLanes();
  }
  if (!Done) {
    CUSHIM_TRY(hal::check(Ops.event_create(S.context().hal(), CU_EVENT_DISABLE_TIMING, &Done), "event_create"));
    DoneContext = &S.context();
  }
  // Launches into another context than the first one's run on the launch stream alone (and do not order themselves
  // after other launches).
  if (DoneContext != &S.context())
    return false;
  if (Schedule->Lanes == 1)
    return true;
  auto event = [&]() -> Expected<cushim_hal_event> {
    cushim_hal_event Ev = nullptr;
    CUSHIM_TRY(hal::check(Ops.event_create(S.context().hal(), CU_EVENT_DISABLE_TIMING, &Ev), "event_create"));
    return Ev;
  };
  if (!Start) {
    auto Ev = event();
    if (!Ev)
      return Ev.takeError();
    Start = *Ev;
  }
  while (Slots.size() < Schedule->EventSlots) {
    auto Ev = event();
    if (!Ev)
      return Ev.takeError();
    Slots.push_back(*Ev);
  }
  while (Lanes.size() + 1 < Schedule->Lanes) {
    auto L = Stream::create(S.context(), CU_STREAM_NON_BLOCKING, S.priority());
    if (!L)
      return L.takeError();
    Lanes.push_back(*L);
  }
  return true;
}

static Error recordOn(Stream &S, cushim_hal_event Ev) {
  return S.submit([&] { return hal::check(hal::ops().event_record(Ev, S.hal()), "event_record"); });
}

static Error waitOn(Stream &S, cushim_hal_event Ev) {
  return S.submit([&] { return hal::check(hal::ops().queue_wait_event(S.hal(), Ev), "queue_wait_event"); });
}

// Every lane starts after the launch stream's earlier work; the launch stream's later work follows every lane. The
// steps are enqueued in dependency order, so each wait is enqueued after the record it waits for.
Error GraphExec::launchOnLanes(Stream &S) {
  const GraphSchedule &Sched = *Schedule;
  auto lane = [&](unsigned I) -> Stream & { return I == 0 ? S : *Lanes[I - 1]; };
  if (!Sched.StartWaiters.empty()) {
    CUSHIM_TRY(recordOn(S, Start));
    for (unsigned L : Sched.StartWaiters)
      CUSHIM_TRY(waitOn(lane(L), Start));
  }
  Error Failed = Error::success();
  for (const GraphStep &Step : Sched.Steps) {
    Stream &L = lane(Step.Lane);
    for (unsigned W : Step.Waits)
      if ((Failed = waitOn(L, Slots[W])).isError())
        break;
    if (!Failed.isError() && Step.Node && Step.Node->Enabled)
      Failed = runGraphNode(*Step.Node, L);
    if (!Failed.isError() && Step.Signal >= 0)
      Failed = recordOn(L, Slots[Step.Signal]);
    if (Failed.isError())
      break;
  }
  if (Failed.isError()) {
    // Part of the graph is enqueued and its joins may be missing: let it finish before the stream's later work.
    for (Stream *L : Lanes)
      (void)L->synchronize();
    return Failed;
  }
  for (unsigned Slot : Sched.LaneEnds)
    CUSHIM_TRY(waitOn(S, Slots[Slot]));
  return Error::success();
}

Error GraphExec::launch(Stream &S) {
  std::lock_guard<std::mutex> L(Mutex);
  if (captureActive()) {
    // Launching into a capturing stream records the executable graph's current contents as a child-graph node.
    GraphNode Proto;
    Proto.Type = CU_GRAPH_NODE_TYPE_GRAPH;
    Proto.Child = Snapshot->clone(true);
    if (auto R = captureNode(S, std::move(Proto)))
      return std::move(*R);
  }
  CUSHIM_TRY(S.context().stickyError());
  if (HasMemoryNodes)
    CUSHIM_TRY(graphMemoryLaunch(Schedule->workNodes(), Flags & CUDA_GRAPH_INSTANTIATE_FLAG_AUTO_FREE_ON_LAUNCH));
  auto OnLanes = prepareLanes(S);
  if (!OnLanes)
    return OnLanes.takeError();
  if (!*OnLanes) {
    for (GraphNode *N : Schedule->workNodes())
      if (N->Enabled)
        CUSHIM_TRY(runGraphNode(*N, S));
    return Error::success();
  }
  // A graph does not run concurrently with itself: wait for the previous launch when it went to another stream.
  if (LastStream && LastStream != &S)
    CUSHIM_TRY(waitOn(S, Done));
  CUSHIM_TRY(launchOnLanes(S));
  CUSHIM_TRY(recordOn(S, Done));
  LastStream = &S;
  return Error::success();
}

// ---- Update ----------------------------------------------------------------------------------------------------

static std::vector<GraphNode *> byIndex(const Graph &G) {
  std::vector<GraphNode *> Out;
  for (auto &N : G.nodes())
    Out.push_back(N.get());
  std::sort(Out.begin(), Out.end(), [](auto *A, auto *B) { return A->Index < B->Index; });
  return Out;
}

static bool fail(GraphUpdateResult &R, CUgraphExecUpdateResult Why, GraphNode *Node, GraphNode *From = nullptr) {
  R.Result = Why;
  R.ErrorNode = Node;
  R.ErrorFromNode = From;
  return false;
}

// Whether New's params may replace Old's in an executable graph (CUDA's cuGraphExecUpdate rules that apply here).
static bool paramsUpdatable(const GraphNode &Old, GraphNode &New, GraphUpdateResult &R);

// Pairs the nodes of an executable graph's snapshot with those of New (by creation order) and checks the topology.
static bool matchGraphs(const Graph &Exec, const Graph &New, GraphUpdateResult &R) {
  std::vector<GraphNode *> A = byIndex(Exec), B = byIndex(New);
  if (A.size() != B.size())
    return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, nullptr);
  std::map<const GraphNode *, const GraphNode *> Pair; // New's node -> Exec's node
  for (size_t I = 0; I < A.size(); ++I)
    Pair[B[I]] = A[I];
  for (size_t I = 0; I < A.size(); ++I) {
    GraphNode &Old = *A[I], &Cur = *B[I];
    if (Old.Type != Cur.Type)
      return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_NODE_TYPE_CHANGED, &Cur);
    if (Old.Deps.size() != Cur.Deps.size())
      return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, &Cur);
    for (GraphNode *D : Cur.Deps)
      if (std::find(Old.Deps.begin(), Old.Deps.end(), Pair[D]) == Old.Deps.end())
        return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_TOPOLOGY_CHANGED, &Cur, D);
    if (!paramsUpdatable(Old, Cur, R))
      return false;
  }
  return true;
}

static bool paramsUpdatable(const GraphNode &Old, GraphNode &New, GraphUpdateResult &R) {
  switch (Old.Type) {
  case CU_GRAPH_NODE_TYPE_KERNEL:
    if (!New.Kernel.F || &New.Kernel.F->module().context() != &Old.Kernel.F->module().context())
      return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_UNSUPPORTED_FUNCTION_CHANGE, &New);
    return true;
  case CU_GRAPH_NODE_TYPE_MEMSET: {
    const MemsetNodeParams &A = Old.Memset, &B = New.Memset;
    bool TwoD = A.Height > 1 || B.Height > 1;
    // 2D memsets may change only their address and value.
    if (TwoD && (A.Height != B.Height || A.Width != B.Width || A.Pitch != B.Pitch || A.ElementSize != B.ElementSize))
      return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_PARAMETERS_CHANGED, &New);
    return true;
  }
  case CU_GRAPH_NODE_TYPE_GRAPH: return matchGraphs(*Old.Child, *New.Child, R);
  case CU_GRAPH_NODE_TYPE_MEM_ALLOC:
    if (Old.MemAlloc.Ptr != New.MemAlloc.Ptr)
      return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_PARAMETERS_CHANGED, &New);
    return true;
  case CU_GRAPH_NODE_TYPE_MEM_FREE:
    if (Old.FreePtr != New.FreePtr)
      return fail(R, CU_GRAPH_EXEC_UPDATE_ERROR_PARAMETERS_CHANGED, &New);
    return true;
  default: return true;
  }
}

// Copies New's params (and those of its child graphs, node by node) into the snapshot node Old.
static void applyParams(GraphNode &Old, const GraphNode &New) {
  switch (Old.Type) {
  case CU_GRAPH_NODE_TYPE_KERNEL: Old.Kernel = New.Kernel; break;
  case CU_GRAPH_NODE_TYPE_MEMCPY: Old.Copy = New.Copy; break;
  case CU_GRAPH_NODE_TYPE_MEMSET: Old.Memset = New.Memset; break;
  case CU_GRAPH_NODE_TYPE_HOST: Old.Host = New.Host; break;
  case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
  case CU_GRAPH_NODE_TYPE_WAIT_EVENT: Old.Ev = New.Ev; break;
  case CU_GRAPH_NODE_TYPE_GRAPH: {
    std::vector<GraphNode *> A = byIndex(*Old.Child), B = byIndex(*New.Child);
    for (size_t I = 0; I < A.size(); ++I)
      applyParams(*A[I], *B[I]);
    break;
  }
  default: break;
  }
}

Error GraphExec::update(Graph &G, GraphUpdateResult &R) {
  std::lock_guard<std::mutex> L(Mutex);
  std::lock_guard<std::recursive_mutex> GL(graphLock());
  R = GraphUpdateResult();
  if (!matchGraphs(*Snapshot, G, R))
    return makeError(CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE,
                     fmt::format("the graph differs from the executable graph (update result {}{})",
                                 static_cast<int>(R.Result),
                                 R.ErrorNode ? fmt::format(", at node {}", R.ErrorNode->Index) : std::string()));
  std::vector<GraphNode *> A = byIndex(*Snapshot), B = byIndex(G);
  for (size_t I = 0; I < A.size(); ++I)
    applyParams(*A[I], *B[I]);
  // Later per-node setters may name the new graph's nodes as well.
  mapNodes(G, *Snapshot, FromOriginal);
  return Error::success();
}

Expected<GraphNode *> GraphExec::nodeFor(const GraphNode *Original) {
  auto It = FromOriginal.find(Original);
  if (It == FromOriginal.end() || !lookupGraphNode(const_cast<GraphNode *>(Original)->handle()))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} is not a node of the graph this executable graph was "
                                                           "instantiated from",
                                                           static_cast<const void *>(Original)));
  return It->second;
}

Error GraphExec::setNodeParams(const GraphNode *Original, GraphNode &&Proto) {
  std::lock_guard<std::mutex> L(Mutex);
  std::lock_guard<std::recursive_mutex> GL(graphLock());
  auto N = nodeFor(Original);
  if (!N)
    return N.takeError();
  if ((*N)->Type != Proto.Type)
    return makeError(CUDA_ERROR_INVALID_VALUE, "the node is of another type than the parameters given");
  GraphUpdateResult R;
  if (!paramsUpdatable(**N, Proto, R))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("these parameters cannot be set in an executable graph "
                                                           "(update result {})",
                                                           static_cast<int>(R.Result)));
  applyParams(**N, Proto);
  return Error::success();
}

Error GraphExec::setEnabled(const GraphNode *Original, bool Enabled) {
  std::lock_guard<std::mutex> L(Mutex);
  auto N = nodeFor(Original);
  if (!N)
    return N.takeError();
  CUgraphNodeType T = (*N)->Type;
  if (T != CU_GRAPH_NODE_TYPE_KERNEL && T != CU_GRAPH_NODE_TYPE_MEMCPY && T != CU_GRAPH_NODE_TYPE_MEMSET)
    return makeError(CUDA_ERROR_INVALID_VALUE, "only kernel, memcpy and memset nodes can be disabled");
  (*N)->Enabled = Enabled;
  return Error::success();
}

Expected<bool> GraphExec::enabled(const GraphNode *Original) {
  std::lock_guard<std::mutex> L(Mutex);
  auto N = nodeFor(Original);
  if (!N)
    return N.takeError();
  CUgraphNodeType T = (*N)->Type;
  if (T != CU_GRAPH_NODE_TYPE_KERNEL && T != CU_GRAPH_NODE_TYPE_MEMCPY && T != CU_GRAPH_NODE_TYPE_MEMSET)
    return makeError(CUDA_ERROR_INVALID_VALUE, "only kernel, memcpy and memset nodes can be disabled");
  return (*N)->Enabled;
}

} // namespace cushim::core
