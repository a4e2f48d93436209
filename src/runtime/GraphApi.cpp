// Graphs of the runtime API, part 1: stream capture, graph structure (create, clone, nodes, edges, DOT) and executable
// graphs (instantiate, launch, update), over core/Graph.h (docs/GRAPHS.md). Node kinds are in GraphNodeApi.cpp.
#include "runtime/RuntimeStream.h"

#include "core/Graph.h"

using namespace cushim;
using namespace cushim::runtime;

namespace {

CUgraphEdgeData *edgeData(cudaGraphEdgeData *D) { return reinterpret_cast<CUgraphEdgeData *>(D); }
const CUgraphEdgeData *edgeData(const cudaGraphEdgeData *D) { return reinterpret_cast<const CUgraphEdgeData *>(D); }

Error beginCapture(const char *Api, cudaStream_t Stream, cudaStreamCaptureMode Mode, cudaGraph_t Into,
                   const cudaGraphNode_t *Deps, const cudaGraphEdgeData *Data, size_t NumDeps, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  core::Graph *G = nullptr;
  if (Into) {
    auto R = core::requireGraph(Api, Into);
    if (!R)
      return R.takeError();
    G = *R;
    CUSHIM_TRY(core::checkDefaultEdges(edgeData(Data), NumDeps));
  }
  return core::beginCapture(**S, static_cast<CUstreamCaptureMode>(Mode), G, Deps, NumDeps);
}

Error endCapture(const char *Api, cudaStream_t Stream, cudaGraph_t *Graph, bool PerThread) {
  if (!Graph)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": pGraph is NULL");
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Graph = nullptr;
  auto G = core::endCapture(**S);
  if (!G)
    return G.takeError();
  *Graph = (*G)->handle();
  return Error::success();
}

Error isCapturing(const char *Api, cudaStream_t Stream, cudaStreamCaptureStatus *Status, bool PerThread) {
  if (!Status)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": pCaptureStatus is NULL");
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Status = static_cast<cudaStreamCaptureStatus>(core::captureInfo(**S).Status);
  return Error::success();
}

Error getCaptureInfo(const char *Api, cudaStream_t Stream, cudaStreamCaptureStatus *Status, unsigned long long *Id,
                     cudaGraph_t *Graph, const cudaGraphNode_t **Deps, const cudaGraphEdgeData **Data, size_t *NumDeps,
                     bool PerThread) {
  if (!Status)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": captureStatus_out is NULL");
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  core::CaptureInfo I = core::captureInfo(**S);
  *Status = static_cast<cudaStreamCaptureStatus>(I.Status);
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
    // Every captured edge is a default one.
    static thread_local std::vector<cudaGraphEdgeData> Zeros;
    Zeros.assign(I.NumDeps, cudaGraphEdgeData{});
    *Data = Zeros.data();
  }
  return Error::success();
}

Error updateCaptureDeps(const char *Api, cudaStream_t Stream, cudaGraphNode_t *Deps, const cudaGraphEdgeData *Data,
                        size_t NumDeps, unsigned Flags, bool PerThread) {
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  CUSHIM_TRY(core::checkDefaultEdges(edgeData(Data), NumDeps));
  return core::updateCaptureDependencies(**S, Deps, NumDeps, Flags);
}

Error instantiate(const char *Api, cudaGraphExec_t *Exec, cudaGraph_t Graph, unsigned long long Flags) {
  if (!Exec)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": pGraphExec is NULL");
  auto G = core::requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  auto E = core::GraphExec::instantiate(**G, Flags);
  if (!E)
    return E.takeError();
  *Exec = (*E)->handle();
  return Error::success();
}

Error graphLaunch(const char *Api, cudaGraphExec_t Exec, cudaStream_t Stream, bool PerThread, bool Launch) {
  auto E = core::requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  auto S = runtimeStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  if (!Launch)
    return Error::success(); // cudaGraphUpload: nothing to upload to a host backend
  return (*E)->launch(**S);
}

Error instantiateWithParams(const char *Api, cudaGraphExec_t *Exec, cudaGraph_t Graph,
                            cudaGraphInstantiateParams *Params, bool PerThread) {
  if (!Params)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": instantiateParams is NULL");
  Params->errNode_out = nullptr;
  Error E = instantiate(Api, Exec, Graph, Params->flags);
  if (E.isError()) {
    Params->result_out = E.code() == CUDA_ERROR_NOT_SUPPORTED ? cudaGraphInstantiateNodeOperationNotSupported
                                                              : cudaGraphInstantiateInvalidStructure;
    return E;
  }
  Params->result_out = cudaGraphInstantiateSuccess;
  if (Params->flags & cudaGraphInstantiateFlagUpload)
    return graphLaunch(Api, *Exec, Params->uploadStream, PerThread, false);
  return Error::success();
}

} // namespace

// ---- Stream capture ------------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaStreamBeginCapture(cudaStream_t Stream, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCapture");
  T.args("stream={} mode={}", static_cast<void *>(Stream), static_cast<int>(Mode));
  return finish(T, beginCapture("cudaStreamBeginCapture", Stream, Mode, nullptr, nullptr, nullptr, 0, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamBeginCapture_ptsz(cudaStream_t Stream, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCapture_ptsz");
  T.args("stream={} mode={}", static_cast<void *>(Stream), static_cast<int>(Mode));
  return finish(T, beginCapture("cudaStreamBeginCapture_ptsz", Stream, Mode, nullptr, nullptr, nullptr, 0, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamBeginCaptureToGraph(cudaStream_t Stream, cudaGraph_t Graph,
                                                        const cudaGraphNode_t *Deps, const cudaGraphEdgeData *Data,
                                                        size_t NumDeps, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCaptureToGraph");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(Stream), static_cast<void *>(Graph),
         NumDeps, static_cast<int>(Mode));
  return finish(T, beginCapture("cudaStreamBeginCaptureToGraph", Stream, Mode, Graph, Deps, Data, NumDeps, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamBeginCaptureToGraph_ptsz(cudaStream_t Stream, cudaGraph_t Graph,
                                                             const cudaGraphNode_t *Deps,
                                                             const cudaGraphEdgeData *Data, size_t NumDeps,
                                                             enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCaptureToGraph_ptsz");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(Stream), static_cast<void *>(Graph),
         NumDeps, static_cast<int>(Mode));
  return finish(T,
                beginCapture("cudaStreamBeginCaptureToGraph_ptsz", Stream, Mode, Graph, Deps, Data, NumDeps, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamEndCapture(cudaStream_t Stream, cudaGraph_t *Graph) {
  ApiTrace T("cudaStreamEndCapture");
  T.args("stream={} pGraph={}", static_cast<void *>(Stream), static_cast<void *>(Graph));
  return finish(T, endCapture("cudaStreamEndCapture", Stream, Graph, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamEndCapture_ptsz(cudaStream_t Stream, cudaGraph_t *Graph) {
  ApiTrace T("cudaStreamEndCapture_ptsz");
  T.args("stream={} pGraph={}", static_cast<void *>(Stream), static_cast<void *>(Graph));
  return finish(T, endCapture("cudaStreamEndCapture_ptsz", Stream, Graph, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamIsCapturing(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status) {
  ApiTrace T("cudaStreamIsCapturing");
  T.args("stream={} pCaptureStatus={}", static_cast<void *>(Stream), static_cast<void *>(Status));
  return finish(T, isCapturing("cudaStreamIsCapturing", Stream, Status, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamIsCapturing_ptsz(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status) {
  ApiTrace T("cudaStreamIsCapturing_ptsz");
  T.args("stream={} pCaptureStatus={}", static_cast<void *>(Stream), static_cast<void *>(Status));
  return finish(T, isCapturing("cudaStreamIsCapturing_ptsz", Stream, Status, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetCaptureInfo(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status,
                                                   unsigned long long *Id, cudaGraph_t *Graph,
                                                   const cudaGraphNode_t **Deps, const cudaGraphEdgeData **Data,
                                                   size_t *NumDeps) {
  ApiTrace T("cudaStreamGetCaptureInfo");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T, getCaptureInfo("cudaStreamGetCaptureInfo", Stream, Status, Id, Graph, Deps, Data, NumDeps, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetCaptureInfo_ptsz(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status,
                                                        unsigned long long *Id, cudaGraph_t *Graph,
                                                        const cudaGraphNode_t **Deps, const cudaGraphEdgeData **Data,
                                                        size_t *NumDeps) {
  ApiTrace T("cudaStreamGetCaptureInfo_ptsz");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T,
                getCaptureInfo("cudaStreamGetCaptureInfo_ptsz", Stream, Status, Id, Graph, Deps, Data, NumDeps, true));
}

CUSHIM_EXPORT cudaError_t cudaStreamUpdateCaptureDependencies(cudaStream_t Stream, cudaGraphNode_t *Deps,
                                                              const cudaGraphEdgeData *Data, size_t NumDeps,
                                                              unsigned int Flags) {
  ApiTrace T("cudaStreamUpdateCaptureDependencies");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(Stream), NumDeps, Flags);
  return finish(T, updateCaptureDeps("cudaStreamUpdateCaptureDependencies", Stream, Deps, Data, NumDeps, Flags, false));
}

CUSHIM_EXPORT cudaError_t cudaStreamUpdateCaptureDependencies_ptsz(cudaStream_t Stream, cudaGraphNode_t *Deps,
                                                                   const cudaGraphEdgeData *Data, size_t NumDeps,
                                                                   unsigned int Flags) {
  ApiTrace T("cudaStreamUpdateCaptureDependencies_ptsz");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(Stream), NumDeps, Flags);
  return finish(T,
                updateCaptureDeps("cudaStreamUpdateCaptureDependencies_ptsz", Stream, Deps, Data, NumDeps, Flags, true));
}

CUSHIM_EXPORT cudaError_t cudaThreadExchangeStreamCaptureMode(enum cudaStreamCaptureMode *Mode) {
  ApiTrace T("cudaThreadExchangeStreamCaptureMode");
  T.args("mode={}", static_cast<void *>(Mode));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Mode)
      return runtimeError(cudaErrorInvalidValue, "cudaThreadExchangeStreamCaptureMode: mode is NULL");
    auto M = static_cast<CUstreamCaptureMode>(*Mode);
    CUSHIM_TRY(core::exchangeThreadCaptureMode(M));
    *Mode = static_cast<cudaStreamCaptureMode>(M);
    return Error::success();
  });
}

// ---- Graph structure -----------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphCreate(cudaGraph_t *Graph, unsigned int Flags) {
  ApiTrace T("cudaGraphCreate");
  T.args("pGraph={} flags={:#x}", static_cast<void *>(Graph), Flags);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Graph)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphCreate: pGraph is NULL");
    auto G = core::Graph::create(Flags);
    if (!G)
      return G.takeError();
    *Graph = (*G)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphDestroy(cudaGraph_t Graph) {
  ApiTrace T("cudaGraphDestroy");
  T.args("graph={}", static_cast<void *>(Graph));
  CUSHIM_RUNTIME_BODY(T, {
    auto G = core::requireGraph("cudaGraphDestroy", Graph);
    if (!G)
      return G.takeError();
    return core::Graph::destroy(*G);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphClone(cudaGraph_t *Clone, cudaGraph_t Original) {
  ApiTrace T("cudaGraphClone");
  T.args("pGraphClone={} originalGraph={}", static_cast<void *>(Clone), static_cast<void *>(Original));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Clone)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphClone: pGraphClone is NULL");
    auto G = core::requireGraph("cudaGraphClone", Original);
    if (!G)
      return G.takeError();
    *Clone = (*G)->clone(true).release()->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeFindInClone(cudaGraphNode_t *Node, cudaGraphNode_t Original,
                                                   cudaGraph_t Cloned) {
  ApiTrace T("cudaGraphNodeFindInClone");
  T.args("pNode={} originalNode={} clonedGraph={}", static_cast<void *>(Node), static_cast<void *>(Original),
         static_cast<void *>(Cloned));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Node)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphNodeFindInClone: pNode is NULL");
    auto N = core::requireGraphNode("cudaGraphNodeFindInClone", Original);
    if (!N)
      return N.takeError();
    auto G = core::requireGraph("cudaGraphNodeFindInClone", Cloned);
    if (!G)
      return G.takeError();
    for (auto &C : (*G)->nodes())
      if (C->ClonedFrom == *N) {
        *Node = C->handle();
        return Error::success();
      }
    return runtimeError(cudaErrorInvalidValue, "cudaGraphNodeFindInClone: the graph is not a clone holding that node");
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetType(cudaGraphNode_t Node, enum cudaGraphNodeType *Type) {
  ApiTrace T("cudaGraphNodeGetType");
  T.args("node={} pType={}", static_cast<void *>(Node), static_cast<void *>(Type));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Type)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphNodeGetType: pType is NULL");
    auto N = core::requireGraphNode("cudaGraphNodeGetType", Node);
    if (!N)
      return N.takeError();
    *Type = static_cast<cudaGraphNodeType>((*N)->Type);
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphGetNodes(cudaGraph_t Graph, cudaGraphNode_t *Nodes, size_t *NumNodes) {
  ApiTrace T("cudaGraphGetNodes");
  T.args("graph={} nodes={} numNodes={}", static_cast<void *>(Graph), static_cast<void *>(Nodes),
         static_cast<void *>(NumNodes));
  CUSHIM_RUNTIME_BODY(T, {
    auto G = core::requireGraph("cudaGraphGetNodes", Graph);
    if (!G)
      return G.takeError();
    std::vector<core::GraphNode *> All;
    for (auto &N : (*G)->nodes())
      All.push_back(N.get());
    return core::fillNodes(All, Nodes, NumNodes);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphGetRootNodes(cudaGraph_t Graph, cudaGraphNode_t *Roots, size_t *NumRoots) {
  ApiTrace T("cudaGraphGetRootNodes");
  T.args("graph={} pRootNodes={} pNumRootNodes={}", static_cast<void *>(Graph), static_cast<void *>(Roots),
         static_cast<void *>(NumRoots));
  CUSHIM_RUNTIME_BODY(T, {
    auto G = core::requireGraph("cudaGraphGetRootNodes", Graph);
    if (!G)
      return G.takeError();
    return core::fillNodes((*G)->roots(), Roots, NumRoots);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphGetEdges(cudaGraph_t Graph, cudaGraphNode_t *From, cudaGraphNode_t *To,
                                            cudaGraphEdgeData *Data, size_t *NumEdges) {
  ApiTrace T("cudaGraphGetEdges");
  T.args("graph={} from={} to={} numEdges={}", static_cast<void *>(Graph), static_cast<void *>(From),
         static_cast<void *>(To), static_cast<void *>(NumEdges));
  CUSHIM_RUNTIME_BODY(T, {
    auto G = core::requireGraph("cudaGraphGetEdges", Graph);
    if (!G)
      return G.takeError();
    return core::fillEdges((*G)->edges(), From, To, edgeData(Data), NumEdges);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetDependencies(cudaGraphNode_t Node, cudaGraphNode_t *Deps,
                                                       cudaGraphEdgeData *Data, size_t *NumDeps) {
  ApiTrace T("cudaGraphNodeGetDependencies");
  T.args("node={} pDependencies={} pNumDependencies={}", static_cast<void *>(Node), static_cast<void *>(Deps),
         static_cast<void *>(NumDeps));
  CUSHIM_RUNTIME_BODY(T, {
    auto N = core::requireGraphNode("cudaGraphNodeGetDependencies", Node);
    if (!N)
      return N.takeError();
    CUSHIM_TRY(core::fillNodes((*N)->Deps, Deps, NumDeps));
    if (Data && Deps)
      for (size_t I = 0; I < *NumDeps; ++I)
        Data[I] = cudaGraphEdgeData{};
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetDependentNodes(cudaGraphNode_t Node, cudaGraphNode_t *Dependents,
                                                         cudaGraphEdgeData *Data, size_t *NumDependents) {
  ApiTrace T("cudaGraphNodeGetDependentNodes");
  T.args("node={} pDependentNodes={} pNumDependentNodes={}", static_cast<void *>(Node),
         static_cast<void *>(Dependents), static_cast<void *>(NumDependents));
  CUSHIM_RUNTIME_BODY(T, {
    auto N = core::requireGraphNode("cudaGraphNodeGetDependentNodes", Node);
    if (!N)
      return N.takeError();
    CUSHIM_TRY(core::fillNodes((*N)->Dependents, Dependents, NumDependents));
    if (Data && Dependents)
      for (size_t I = 0; I < *NumDependents; ++I)
        Data[I] = cudaGraphEdgeData{};
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphAddDependencies(cudaGraph_t Graph, const cudaGraphNode_t *From,
                                                   const cudaGraphNode_t *To, const cudaGraphEdgeData *Data,
                                                   size_t Count) {
  ApiTrace T("cudaGraphAddDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(Graph), Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto G = core::requireGraph("cudaGraphAddDependencies", Graph);
    if (!G)
      return G.takeError();
    CUSHIM_TRY(core::checkDefaultEdges(edgeData(Data), Count));
    return (*G)->addDependencies(From, To, Count);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphRemoveDependencies(cudaGraph_t Graph, const cudaGraphNode_t *From,
                                                      const cudaGraphNode_t *To, const cudaGraphEdgeData *Data,
                                                      size_t Count) {
  ApiTrace T("cudaGraphRemoveDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(Graph), Count);
  CUSHIM_RUNTIME_BODY(T, {
    auto G = core::requireGraph("cudaGraphRemoveDependencies", Graph);
    if (!G)
      return G.takeError();
    CUSHIM_TRY(core::checkDefaultEdges(edgeData(Data), Count));
    return (*G)->removeDependencies(From, To, Count);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphDestroyNode(cudaGraphNode_t Node) {
  ApiTrace T("cudaGraphDestroyNode");
  T.args("node={}", static_cast<void *>(Node));
  CUSHIM_RUNTIME_BODY(T, {
    auto N = core::requireGraphNode("cudaGraphDestroyNode", Node);
    if (!N)
      return N.takeError();
    return core::Graph::destroyNode(*N);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphDebugDotPrint(cudaGraph_t Graph, const char *Path, unsigned int Flags) {
  ApiTrace T("cudaGraphDebugDotPrint");
  T.args("graph={} path={} flags={:#x}", static_cast<void *>(Graph), Path ? Path : "(null)", Flags);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Path)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphDebugDotPrint: path is NULL");
    auto G = core::requireGraph("cudaGraphDebugDotPrint", Graph);
    if (!G)
      return G.takeError();
    return (*G)->debugDotPrint(Path, Flags);
  });
}

// ---- Executable graphs ---------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphInstantiate(cudaGraphExec_t *Exec, cudaGraph_t Graph, unsigned long long Flags) {
  ApiTrace T("cudaGraphInstantiate");
  T.args("pGraphExec={} graph={} flags={:#x}", static_cast<void *>(Exec), static_cast<void *>(Graph), Flags);
  return finish(T, instantiate("cudaGraphInstantiate", Exec, Graph, Flags));
}

CUSHIM_EXPORT cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t *Exec, cudaGraph_t Graph,
                                                        unsigned long long Flags) {
  ApiTrace T("cudaGraphInstantiateWithFlags");
  T.args("pGraphExec={} graph={} flags={:#x}", static_cast<void *>(Exec), static_cast<void *>(Graph), Flags);
  return finish(T, instantiate("cudaGraphInstantiateWithFlags", Exec, Graph, Flags));
}

CUSHIM_EXPORT cudaError_t cudaGraphInstantiateWithParams(cudaGraphExec_t *Exec, cudaGraph_t Graph,
                                                         cudaGraphInstantiateParams *Params) {
  ApiTrace T("cudaGraphInstantiateWithParams");
  T.args("pGraphExec={} graph={} params={}", static_cast<void *>(Exec), static_cast<void *>(Graph),
         static_cast<void *>(Params));
  return finish(T, instantiateWithParams("cudaGraphInstantiateWithParams", Exec, Graph, Params, false));
}

CUSHIM_EXPORT cudaError_t cudaGraphInstantiateWithParams_ptsz(cudaGraphExec_t *Exec, cudaGraph_t Graph,
                                                              cudaGraphInstantiateParams *Params) {
  ApiTrace T("cudaGraphInstantiateWithParams_ptsz");
  T.args("pGraphExec={} graph={} params={}", static_cast<void *>(Exec), static_cast<void *>(Graph),
         static_cast<void *>(Params));
  return finish(T, instantiateWithParams("cudaGraphInstantiateWithParams_ptsz", Exec, Graph, Params, true));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecGetFlags(cudaGraphExec_t Exec, unsigned long long *Flags) {
  ApiTrace T("cudaGraphExecGetFlags");
  T.args("graphExec={} flags={}", static_cast<void *>(Exec), static_cast<void *>(Flags));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Flags)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphExecGetFlags: flags is NULL");
    auto E = core::requireGraphExec("cudaGraphExecGetFlags", Exec);
    if (!E)
      return E.takeError();
    *Flags = (*E)->flags();
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphLaunch(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphLaunch");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T, graphLaunch("cudaGraphLaunch", Exec, Stream, false, true));
}

CUSHIM_EXPORT cudaError_t cudaGraphLaunch_ptsz(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphLaunch_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T, graphLaunch("cudaGraphLaunch_ptsz", Exec, Stream, true, true));
}

CUSHIM_EXPORT cudaError_t cudaGraphUpload(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphUpload");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T, graphLaunch("cudaGraphUpload", Exec, Stream, false, false));
}

CUSHIM_EXPORT cudaError_t cudaGraphUpload_ptsz(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphUpload_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T, graphLaunch("cudaGraphUpload_ptsz", Exec, Stream, true, false));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecDestroy(cudaGraphExec_t Exec) {
  ApiTrace T("cudaGraphExecDestroy");
  T.args("graphExec={}", static_cast<void *>(Exec));
  CUSHIM_RUNTIME_BODY(T, {
    auto E = core::requireGraphExec("cudaGraphExecDestroy", Exec);
    if (!E)
      return E.takeError();
    return core::GraphExec::destroy(*E);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphExecUpdate(cudaGraphExec_t Exec, cudaGraph_t Graph,
                                              cudaGraphExecUpdateResultInfo *Info) {
  ApiTrace T("cudaGraphExecUpdate");
  T.args("graphExec={} graph={} resultInfo={}", static_cast<void *>(Exec), static_cast<void *>(Graph),
         static_cast<void *>(Info));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Info)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphExecUpdate: resultInfo is NULL");
    *Info = cudaGraphExecUpdateResultInfo{};
    Info->result = cudaGraphExecUpdateError;
    auto E = core::requireGraphExec("cudaGraphExecUpdate", Exec);
    if (!E)
      return E.takeError();
    auto G = core::requireGraph("cudaGraphExecUpdate", Graph);
    if (!G)
      return G.takeError();
    core::GraphUpdateResult R;
    Error Err = (*E)->update(**G, R);
    Info->result = static_cast<cudaGraphExecUpdateResult>(R.Result);
    Info->errorNode = R.ErrorNode ? R.ErrorNode->handle() : nullptr;
    Info->errorFromNode = R.ErrorFromNode ? R.ErrorFromNode->handle() : nullptr;
    return Err;
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeSetEnabled(cudaGraphExec_t Exec, cudaGraphNode_t Node, unsigned int Enabled) {
  ApiTrace T("cudaGraphNodeSetEnabled");
  T.args("graphExec={} node={} isEnabled={}", static_cast<void *>(Exec), static_cast<void *>(Node), Enabled);
  CUSHIM_RUNTIME_BODY(T, {
    auto E = core::requireGraphExec("cudaGraphNodeSetEnabled", Exec);
    if (!E)
      return E.takeError();
    return (*E)->setEnabled(reinterpret_cast<const core::GraphNode *>(Node), Enabled != 0);
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetEnabled(cudaGraphExec_t Exec, cudaGraphNode_t Node, unsigned int *Enabled) {
  ApiTrace T("cudaGraphNodeGetEnabled");
  T.args("graphExec={} node={} isEnabled={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<void *>(Enabled));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Enabled)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphNodeGetEnabled: isEnabled is NULL");
    auto E = core::requireGraphExec("cudaGraphNodeGetEnabled", Exec);
    if (!E)
      return E.takeError();
    auto R = (*E)->enabled(reinterpret_cast<const core::GraphNode *>(Node));
    if (!R)
      return R.takeError();
    *Enabled = *R ? 1 : 0;
    return Error::success();
  });
}
