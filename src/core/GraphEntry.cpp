// The bodies of the graph and capture entry points both APIs share: cudaGraph* and cuGraph* take the same handle
// types, so the runtime and the driver only trace, resolve streams and convert their own parameter structs.
#include "core/Event.h"
#include "core/GraphLock.h"
#include "core/Stream.h"

#include <fmt/format.h>

namespace cushim::core {

static Error nullArg(const char *Api, const char *Name) {
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} is NULL", Api, Name));
}

Error graphCreateApi(const char *Api, CUgraph *Out, unsigned Flags) {
  if (!Out)
    return nullArg(Api, "phGraph");
  auto G = Graph::create(Flags);
  if (!G)
    return G.takeError();
  *Out = (*G)->handle();
  return Error::success();
}

Error graphDestroyApi(const char *Api, CUgraph Graph) {
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  return Graph::destroy(*G);
}

Error graphCloneApi(const char *Api, CUgraph *Out, CUgraph Original) {
  if (!Out)
    return nullArg(Api, "phGraphClone");
  auto G = requireGraph(Api, Original);
  if (!G)
    return G.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (hasMemoryNodes(**G))
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: graphs with memory allocation or free nodes cannot be cloned", Api));
  *Out = (*G)->clone(true).release()->handle();
  return Error::success();
}

Error graphFindInCloneApi(const char *Api, CUgraphNode *Out, CUgraphNode Original, CUgraph Clone) {
  if (!Out)
    return nullArg(Api, "phNode");
  auto N = requireGraphNode(Api, Original);
  if (!N)
    return N.takeError();
  auto G = requireGraph(Api, Clone);
  if (!G)
    return G.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  for (auto &C : (*G)->nodes())
    if (C->ClonedFrom == *N) {
      *Out = C->handle();
      return Error::success();
    }
  return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: the graph is not a clone holding that node", Api));
}

Error graphNodeTypeApi(const char *Api, CUgraphNode Node, CUgraphNodeType *Out) {
  if (!Out)
    return nullArg(Api, "type");
  auto N = requireGraphNode(Api, Node);
  if (!N)
    return N.takeError();
  *Out = (*N)->Type;
  return Error::success();
}

Error graphNodesApi(const char *Api, CUgraph Graph, bool RootsOnly, CUgraphNode *Out, size_t *Count) {
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (RootsOnly)
    return fillNodes((*G)->roots(), Out, Count);
  std::vector<GraphNode *> All;
  for (auto &N : (*G)->nodes())
    All.push_back(N.get());
  return fillNodes(All, Out, Count);
}

Error graphEdgesApi(const char *Api, CUgraph Graph, CUgraphNode *From, CUgraphNode *To, CUgraphEdgeData *Data,
                    size_t *Count) {
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  return fillEdges((*G)->edges(), From, To, Data, Count);
}

Error graphNeighboursApi(const char *Api, CUgraphNode Node, bool Dependents, CUgraphNode *Out, CUgraphEdgeData *Data,
                         size_t *Count) {
  auto N = requireGraphNode(Api, Node);
  if (!N)
    return N.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CUSHIM_TRY(fillNodes(Dependents ? (*N)->Dependents : (*N)->Deps, Out, Count));
  if (Data && Out)
    for (size_t I = 0; I < *Count; ++I)
      Data[I] = CUgraphEdgeData{};
  return Error::success();
}

Error graphChangeDependenciesApi(const char *Api, CUgraph Graph, const CUgraphNode *From, const CUgraphNode *To,
                                 const CUgraphEdgeData *Data, size_t Count, bool Add) {
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  CUSHIM_TRY(checkDefaultEdges(Data, Count));
  return Add ? (*G)->addDependencies(From, To, Count) : (*G)->removeDependencies(From, To, Count);
}

Error graphDestroyNodeApi(const char *Api, CUgraphNode Node) {
  auto N = requireGraphNode(Api, Node);
  if (!N)
    return N.takeError();
  return Graph::destroyNode(*N);
}

Error graphDotPrintApi(const char *Api, CUgraph Graph, const char *Path, unsigned Flags) {
  if (!Path)
    return nullArg(Api, "path");
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  return (*G)->debugDotPrint(Path, Flags);
}

// ---- Nodes ---------------------------------------------------------------------------------------------------

Error graphAddNodeApi(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps, size_t NumDeps,
                      Expected<GraphNode> Proto) {
  if (!Out)
    return nullArg(Api, "phGraphNode");
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  if (!Proto)
    return Proto.takeError();
  auto N = (*G)->addNode(std::move(*Proto), Deps, NumDeps);
  if (!N)
    return N.takeError();
  *Out = (*N)->handle();
  return Error::success();
}

Error graphAddMemAllocApi(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps, size_t NumDeps,
                         Expected<Context *> Ctx, CUDA_MEM_ALLOC_NODE_PARAMS *P) {
  if (!P)
    return nullArg(Api, "nodeParams");
  if (!Out)
    return nullArg(Api, "phGraphNode");
  if (!Ctx)
    return Ctx.takeError();
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  auto Proto = memAllocGraphNode(**Ctx, P->poolProps, P->accessDescs, P->accessDescCount, P->bytesize);
  if (!Proto)
    return Proto.takeError();
  void *Ptr = Proto->MemAlloc.Ptr;
  CUSHIM_TRY(graphAddNodeApi(Api, Out, Graph, Deps, NumDeps, std::move(*Proto)));
  P->dptr = reinterpret_cast<CUdeviceptr>(Ptr);
  return Error::success();
}

Error graphAddMemFreeApi(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps, size_t NumDeps,
                         void *Ptr) {
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  return graphAddNodeApi(Api, Out, Graph, Deps, NumDeps, memFreeGraphNode(**G, Ptr));
}

Error graphMemAllocGetApi(const char *Api, CUgraphNode Node, CUDA_MEM_ALLOC_NODE_PARAMS *Out) {
  if (!Out)
    return nullArg(Api, "params_out");
  auto N = requireGraphNode(Api, Node, CU_GRAPH_NODE_TYPE_MEM_ALLOC);
  if (!N)
    return N.takeError();
  const MemAllocNodeParams &M = (*N)->MemAlloc;
  Out->poolProps = M.Props;
  Out->accessDescs = M.Access.empty() ? nullptr : M.Access.data(); // owned by the node, as CUDA's
  Out->accessDescCount = M.Access.size();
  Out->bytesize = M.Bytes;
  Out->dptr = reinterpret_cast<CUdeviceptr>(M.Ptr);
  return Error::success();
}

Error graphMemFreeGetApi(const char *Api, CUgraphNode Node, void **Out) {
  if (!Out)
    return nullArg(Api, "dptr_out");
  auto N = requireGraphNode(Api, Node, CU_GRAPH_NODE_TYPE_MEM_FREE);
  if (!N)
    return N.takeError();
  *Out = (*N)->FreePtr;
  return Error::success();
}

Error graphSetNodeApi(const char *Api, CUgraphNode Node, Expected<GraphNode> Proto) {
  auto N = requireGraphNode(Api, Node);
  if (!N)
    return N.takeError();
  if (!Proto)
    return Proto.takeError();
  return setGraphNodeParams(**N, std::move(*Proto));
}

Error graphExecSetNodeApi(const char *Api, CUgraphExec Exec, CUgraphNode Node, Expected<GraphNode> Proto) {
  auto E = requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  if (!Proto)
    return Proto.takeError();
  return (*E)->setNodeParams(reinterpret_cast<const GraphNode *>(Node), std::move(*Proto));
}

Expected<GraphNode> hostGraphNode(cushim_hal_host_fn Fn, void *UserData) {
  if (!Fn)
    return makeError(CUDA_ERROR_INVALID_VALUE, "host node params are NULL or name no function");
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_HOST;
  N.Host = HostNodeParams{Fn, UserData};
  return N;
}

Expected<GraphNode> eventGraphNode(CUgraphNodeType Type, CUevent Handle) {
  Event *E = lookupEvent(Handle);
  if (!E)
    return makeError(CUDA_ERROR_INVALID_HANDLE,
                     fmt::format("event node: {} is not a live event", static_cast<void *>(Handle)));
  GraphNode N;
  N.Type = Type;
  N.Ev = E;
  return N;
}

Expected<GraphNode> childGraphNode(const char *Api, CUgraph Child) {
  auto G = requireGraph(Api, Child);
  if (!G)
    return G.takeError();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (hasMemoryNodes(**G)) // CUDA accepts them only when ownership moves to the parent (cudaGraphAddNode)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: a graph with memory allocation or free nodes cannot be a child graph", Api));
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_GRAPH;
  N.Child = (*G)->clone(true); // the node embeds a copy, as CUDA's does
  return N;
}

GraphNode emptyGraphNode() {
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_EMPTY;
  return N;
}

Error graphEventGetApi(const char *Api, CUgraphNode Node, CUgraphNodeType Type, CUevent *Out) {
  if (!Out)
    return nullArg(Api, "event_out");
  auto N = requireGraphNode(Api, Node, Type);
  if (!N)
    return N.takeError();
  *Out = (*N)->Ev->handle();
  return Error::success();
}

Error graphHostGetApi(const char *Api, CUgraphNode Node, HostNodeParams *Out) {
  if (!Out)
    return nullArg(Api, "nodeParams");
  auto N = requireGraphNode(Api, Node, CU_GRAPH_NODE_TYPE_HOST);
  if (!N)
    return N.takeError();
  *Out = (*N)->Host;
  return Error::success();
}

Error graphMemsetGetApi(const char *Api, CUgraphNode Node, MemsetNodeParams *Out) {
  if (!Out)
    return nullArg(Api, "nodeParams");
  auto N = requireGraphNode(Api, Node, CU_GRAPH_NODE_TYPE_MEMSET);
  if (!N)
    return N.takeError();
  *Out = (*N)->Memset;
  return Error::success();
}

Error graphChildGetApi(const char *Api, CUgraphNode Node, CUgraph *Out) {
  if (!Out)
    return nullArg(Api, "phGraph");
  auto N = requireGraphNode(Api, Node, CU_GRAPH_NODE_TYPE_GRAPH);
  if (!N)
    return N.takeError();
  *Out = (*N)->Child->handle();
  return Error::success();
}

// ---- Executable graphs ---------------------------------------------------------------------------------------

Error graphInstantiateApi(const char *Api, CUgraphExec *Out, CUgraph Graph, unsigned long long Flags) {
  if (!Out)
    return nullArg(Api, "phGraphExec");
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  auto E = GraphExec::instantiate(**G, Flags);
  if (!E)
    return E.takeError();
  *Out = (*E)->handle();
  return Error::success();
}

Error graphLaunchApi(const char *Api, CUgraphExec Exec, Expected<Stream *> S, bool Launch) {
  auto E = requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  if (!S)
    return S.takeError();
  return Launch ? (*E)->launch(**S) : Error::success();
}

Error graphExecDestroyApi(const char *Api, CUgraphExec Exec) {
  auto E = requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  return GraphExec::destroy(*E);
}

Error graphExecFlagsApi(const char *Api, CUgraphExec Exec, unsigned long long *Out) {
  if (!Out)
    return nullArg(Api, "flags");
  auto E = requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  *Out = (*E)->flags();
  return Error::success();
}

Error graphExecUpdateApi(const char *Api, CUgraphExec Exec, CUgraph Graph, GraphUpdateResult &R) {
  R = GraphUpdateResult();
  R.Result = CU_GRAPH_EXEC_UPDATE_ERROR;
  auto E = requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  auto G = requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  return (*E)->update(**G, R);
}

Error graphEnabledApi(const char *Api, CUgraphExec Exec, CUgraphNode Node, unsigned Set, unsigned *Get) {
  auto E = requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  auto *Original = reinterpret_cast<const GraphNode *>(Node);
  if (!Get)
    return (*E)->setEnabled(Original, Set != 0);
  auto R = (*E)->enabled(Original);
  if (!R)
    return R.takeError();
  *Get = *R ? 1 : 0;
  return Error::success();
}

// ---- Capture -------------------------------------------------------------------------------------------------

Error captureBeginApi(const char *Api, Expected<Stream *> S, CUstreamCaptureMode Mode, CUgraph Into,
                      const CUgraphNode *Deps, const CUgraphEdgeData *Data, size_t NumDeps) {
  if (!S)
    return S.takeError();
  Graph *G = nullptr;
  if (Into) {
    auto R = requireGraph(Api, Into);
    if (!R)
      return R.takeError();
    G = *R;
    CUSHIM_TRY(checkDefaultEdges(Data, NumDeps));
  }
  return beginCapture(**S, Mode, G, Deps, NumDeps);
}

Error captureEndApi(const char *Api, Expected<Stream *> S, CUgraph *Out) {
  if (!Out)
    return nullArg(Api, "phGraph");
  if (!S)
    return S.takeError();
  *Out = nullptr;
  auto G = endCapture(**S);
  if (!G)
    return G.takeError();
  *Out = (*G)->handle();
  return Error::success();
}

Error captureStatusApi(const char *Api, Expected<Stream *> S, CUstreamCaptureStatus *Out) {
  if (!Out)
    return nullArg(Api, "captureStatus");
  if (!S)
    return S.takeError();
  CUSHIM_TRY(captureCheckLegacyStatus(**S));
  *Out = captureInfo(**S).Status;
  return Error::success();
}

Error captureInfoApi(const char *Api, Expected<Stream *> S, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                     CUgraph *Graph, const CUgraphNode **Deps, const CUgraphEdgeData **Data, size_t *NumDeps) {
  if (!Status)
    return nullArg(Api, "captureStatus_out");
  if (!S)
    return S.takeError();
  CUSHIM_TRY(captureCheckLegacyStatus(**S));
  CaptureInfo I = captureInfo(**S);
  *Status = I.Status;
  if (I.Status == CU_STREAM_CAPTURE_STATUS_NONE)
    return Error::success();
  if (Id)
    *Id = I.Id;
  if (Graph)
    *Graph = I.G->handle();
  if (Deps)
    *Deps = I.Deps;
  if (NumDeps)
    *NumDeps = I.NumDeps;
  if (Data) {
    static thread_local std::vector<CUgraphEdgeData> Zeros; // every captured edge is a default one
    Zeros.assign(I.NumDeps, CUgraphEdgeData{});
    *Data = Zeros.data();
  }
  return Error::success();
}

Error captureUpdateApi(const char *Api, Expected<Stream *> S, CUgraphNode *Deps, const CUgraphEdgeData *Data,
                       size_t NumDeps, unsigned Flags) {
  (void)Api;
  if (!S)
    return S.takeError();
  CUSHIM_TRY(checkDefaultEdges(Data, NumDeps));
  return updateCaptureDependencies(**S, Deps, NumDeps, Flags);
}

} // namespace cushim::core
