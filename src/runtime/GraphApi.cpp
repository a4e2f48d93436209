// Graphs of the runtime API, part 1: stream capture, graph structure (create, clone, nodes, edges, DOT) and executable
// graphs (instantiate, launch, update), over core/Graph.h (docs/GRAPHS.md). Node kinds are in GraphNodeApi.cpp.
#include "runtime/RuntimeStream.h"

#include "core/Graph.h"

using namespace cushim;
using namespace cushim::runtime;

namespace {

const CUgraphEdgeData *edgeData(const cudaGraphEdgeData *D) { return reinterpret_cast<const CUgraphEdgeData *>(D); }
CUgraphEdgeData *edgeData(cudaGraphEdgeData *D) { return reinterpret_cast<CUgraphEdgeData *>(D); }

Error instantiateWithParams(const char *Api, cudaGraphExec_t *Exec, cudaGraph_t Graph,
                            cudaGraphInstantiateParams *Params, bool PerThread) {
  if (!Params)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": instantiateParams is NULL");
  Params->errNode_out = nullptr;
  Error E = core::graphInstantiateApi(Api, Exec, Graph, Params->flags);
  if (E.isError()) {
    Params->result_out = E.code() == CUDA_ERROR_NOT_SUPPORTED ? cudaGraphInstantiateNodeOperationNotSupported
                                                              : cudaGraphInstantiateInvalidStructure;
    return E;
  }
  Params->result_out = cudaGraphInstantiateSuccess;
  if (Params->flags & cudaGraphInstantiateFlagUpload)
    return core::graphLaunchApi(Api, *Exec, runtimeStream(Api, Params->uploadStream, PerThread), false);
  return Error::success();
}

} // namespace

// ---- Stream capture ------------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaStreamBeginCapture(cudaStream_t Stream, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCapture");
  T.args("stream={} mode={}", static_cast<void *>(Stream), static_cast<int>(Mode));
  return finish(T,
                core::captureBeginApi("cudaStreamBeginCapture", runtimeStream("cudaStreamBeginCapture", Stream, false),
                                      static_cast<CUstreamCaptureMode>(Mode), nullptr, nullptr, nullptr, 0));
}

CUSHIM_EXPORT cudaError_t cudaStreamBeginCapture_ptsz(cudaStream_t Stream, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCapture_ptsz");
  T.args("stream={} mode={}", static_cast<void *>(Stream), static_cast<int>(Mode));
  return finish(T, core::captureBeginApi("cudaStreamBeginCapture_ptsz",
                                         runtimeStream("cudaStreamBeginCapture_ptsz", Stream, true),
                                         static_cast<CUstreamCaptureMode>(Mode), nullptr, nullptr, nullptr, 0));
}

CUSHIM_EXPORT cudaError_t cudaStreamBeginCaptureToGraph(cudaStream_t Stream, cudaGraph_t Graph,
                                                        const cudaGraphNode_t *Deps, const cudaGraphEdgeData *Data,
                                                        size_t NumDeps, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCaptureToGraph");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(Stream), static_cast<void *>(Graph),
         NumDeps, static_cast<int>(Mode));
  return finish(T, core::captureBeginApi("cudaStreamBeginCaptureToGraph",
                                         runtimeStream("cudaStreamBeginCaptureToGraph", Stream, false),
                                         static_cast<CUstreamCaptureMode>(Mode), Graph, Deps, edgeData(Data), NumDeps));
}

CUSHIM_EXPORT cudaError_t cudaStreamBeginCaptureToGraph_ptsz(cudaStream_t Stream, cudaGraph_t Graph,
                                                             const cudaGraphNode_t *Deps, const cudaGraphEdgeData *Data,
                                                             size_t NumDeps, enum cudaStreamCaptureMode Mode) {
  ApiTrace T("cudaStreamBeginCaptureToGraph_ptsz");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(Stream), static_cast<void *>(Graph),
         NumDeps, static_cast<int>(Mode));
  return finish(T, core::captureBeginApi("cudaStreamBeginCaptureToGraph_ptsz",
                                         runtimeStream("cudaStreamBeginCaptureToGraph_ptsz", Stream, true),
                                         static_cast<CUstreamCaptureMode>(Mode), Graph, Deps, edgeData(Data), NumDeps));
}

CUSHIM_EXPORT cudaError_t cudaStreamEndCapture(cudaStream_t Stream, cudaGraph_t *Graph) {
  ApiTrace T("cudaStreamEndCapture");
  T.args("stream={} pGraph={}", static_cast<void *>(Stream), static_cast<void *>(Graph));
  return finish(
      T, core::captureEndApi("cudaStreamEndCapture", runtimeStream("cudaStreamEndCapture", Stream, false), Graph));
}

CUSHIM_EXPORT cudaError_t cudaStreamEndCapture_ptsz(cudaStream_t Stream, cudaGraph_t *Graph) {
  ApiTrace T("cudaStreamEndCapture_ptsz");
  T.args("stream={} pGraph={}", static_cast<void *>(Stream), static_cast<void *>(Graph));
  return finish(T, core::captureEndApi("cudaStreamEndCapture_ptsz",
                                       runtimeStream("cudaStreamEndCapture_ptsz", Stream, true), Graph));
}

CUSHIM_EXPORT cudaError_t cudaStreamIsCapturing(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status) {
  ApiTrace T("cudaStreamIsCapturing");
  T.args("stream={} pCaptureStatus={}", static_cast<void *>(Stream), static_cast<void *>(Status));
  return finish(T,
                core::captureStatusApi("cudaStreamIsCapturing", runtimeStream("cudaStreamIsCapturing", Stream, false),
                                       reinterpret_cast<CUstreamCaptureStatus *>(Status)));
}

CUSHIM_EXPORT cudaError_t cudaStreamIsCapturing_ptsz(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status) {
  ApiTrace T("cudaStreamIsCapturing_ptsz");
  T.args("stream={} pCaptureStatus={}", static_cast<void *>(Stream), static_cast<void *>(Status));
  return finish(T, core::captureStatusApi("cudaStreamIsCapturing_ptsz",
                                          runtimeStream("cudaStreamIsCapturing_ptsz", Stream, true),
                                          reinterpret_cast<CUstreamCaptureStatus *>(Status)));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetCaptureInfo(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status,
                                                   unsigned long long *Id, cudaGraph_t *Graph,
                                                   const cudaGraphNode_t **Deps, const cudaGraphEdgeData **Data,
                                                   size_t *NumDeps) {
  ApiTrace T("cudaStreamGetCaptureInfo");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(
      T, core::captureInfoApi("cudaStreamGetCaptureInfo", runtimeStream("cudaStreamGetCaptureInfo", Stream, false),
                              reinterpret_cast<CUstreamCaptureStatus *>(Status), reinterpret_cast<cuuint64_t *>(Id),
                              Graph, Deps, reinterpret_cast<const CUgraphEdgeData **>(Data), NumDeps));
}

CUSHIM_EXPORT cudaError_t cudaStreamGetCaptureInfo_ptsz(cudaStream_t Stream, enum cudaStreamCaptureStatus *Status,
                                                        unsigned long long *Id, cudaGraph_t *Graph,
                                                        const cudaGraphNode_t **Deps, const cudaGraphEdgeData **Data,
                                                        size_t *NumDeps) {
  ApiTrace T("cudaStreamGetCaptureInfo_ptsz");
  T.args("stream={}", static_cast<void *>(Stream));
  return finish(T, core::captureInfoApi(
                       "cudaStreamGetCaptureInfo_ptsz", runtimeStream("cudaStreamGetCaptureInfo_ptsz", Stream, true),
                       reinterpret_cast<CUstreamCaptureStatus *>(Status), reinterpret_cast<cuuint64_t *>(Id), Graph,
                       Deps, reinterpret_cast<const CUgraphEdgeData **>(Data), NumDeps));
}

CUSHIM_EXPORT cudaError_t cudaStreamUpdateCaptureDependencies(cudaStream_t Stream, cudaGraphNode_t *Deps,
                                                              const cudaGraphEdgeData *Data, size_t NumDeps,
                                                              unsigned int Flags) {
  ApiTrace T("cudaStreamUpdateCaptureDependencies");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(Stream), NumDeps, Flags);
  return finish(T, core::captureUpdateApi("cudaStreamUpdateCaptureDependencies",
                                          runtimeStream("cudaStreamUpdateCaptureDependencies", Stream, false), Deps,
                                          edgeData(Data), NumDeps, Flags));
}

CUSHIM_EXPORT cudaError_t cudaStreamUpdateCaptureDependencies_ptsz(cudaStream_t Stream, cudaGraphNode_t *Deps,
                                                                   const cudaGraphEdgeData *Data, size_t NumDeps,
                                                                   unsigned int Flags) {
  ApiTrace T("cudaStreamUpdateCaptureDependencies_ptsz");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(Stream), NumDeps, Flags);
  return finish(T, core::captureUpdateApi("cudaStreamUpdateCaptureDependencies_ptsz",
                                          runtimeStream("cudaStreamUpdateCaptureDependencies_ptsz", Stream, true), Deps,
                                          edgeData(Data), NumDeps, Flags));
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
  return finish(T, core::graphCreateApi("cudaGraphCreate", Graph, Flags));
}

CUSHIM_EXPORT cudaError_t cudaGraphDestroy(cudaGraph_t Graph) {
  ApiTrace T("cudaGraphDestroy");
  T.args("graph={}", static_cast<void *>(Graph));
  return finish(T, core::graphDestroyApi("cudaGraphDestroy", Graph));
}

CUSHIM_EXPORT cudaError_t cudaGraphClone(cudaGraph_t *Clone, cudaGraph_t Original) {
  ApiTrace T("cudaGraphClone");
  T.args("pGraphClone={} originalGraph={}", static_cast<void *>(Clone), static_cast<void *>(Original));
  return finish(T, core::graphCloneApi("cudaGraphClone", Clone, Original));
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeFindInClone(cudaGraphNode_t *Node, cudaGraphNode_t Original,
                                                   cudaGraph_t Cloned) {
  ApiTrace T("cudaGraphNodeFindInClone");
  T.args("pNode={} originalNode={} clonedGraph={}", static_cast<void *>(Node), static_cast<void *>(Original),
         static_cast<void *>(Cloned));
  return finish(T, core::graphFindInCloneApi("cudaGraphNodeFindInClone", Node, Original, Cloned));
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetType(cudaGraphNode_t Node, enum cudaGraphNodeType *Type) {
  ApiTrace T("cudaGraphNodeGetType");
  T.args("node={} pType={}", static_cast<void *>(Node), static_cast<void *>(Type));
  return finish(T, core::graphNodeTypeApi("cudaGraphNodeGetType", Node, reinterpret_cast<CUgraphNodeType *>(Type)));
}

CUSHIM_EXPORT cudaError_t cudaGraphGetNodes(cudaGraph_t Graph, cudaGraphNode_t *Nodes, size_t *NumNodes) {
  ApiTrace T("cudaGraphGetNodes");
  T.args("graph={} nodes={} numNodes={}", static_cast<void *>(Graph), static_cast<void *>(Nodes),
         static_cast<void *>(NumNodes));
  return finish(T, core::graphNodesApi("cudaGraphGetNodes", Graph, false, Nodes, NumNodes));
}

CUSHIM_EXPORT cudaError_t cudaGraphGetRootNodes(cudaGraph_t Graph, cudaGraphNode_t *Roots, size_t *NumRoots) {
  ApiTrace T("cudaGraphGetRootNodes");
  T.args("graph={} pRootNodes={} pNumRootNodes={}", static_cast<void *>(Graph), static_cast<void *>(Roots),
         static_cast<void *>(NumRoots));
  return finish(T, core::graphNodesApi("cudaGraphGetRootNodes", Graph, true, Roots, NumRoots));
}

CUSHIM_EXPORT cudaError_t cudaGraphGetEdges(cudaGraph_t Graph, cudaGraphNode_t *From, cudaGraphNode_t *To,
                                            cudaGraphEdgeData *Data, size_t *NumEdges) {
  ApiTrace T("cudaGraphGetEdges");
  T.args("graph={} from={} to={} numEdges={}", static_cast<void *>(Graph), static_cast<void *>(From),
         static_cast<void *>(To), static_cast<void *>(NumEdges));
  return finish(T, core::graphEdgesApi("cudaGraphGetEdges", Graph, From, To, edgeData(Data), NumEdges));
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetDependencies(cudaGraphNode_t Node, cudaGraphNode_t *Deps,
                                                       cudaGraphEdgeData *Data, size_t *NumDeps) {
  ApiTrace T("cudaGraphNodeGetDependencies");
  T.args("node={} pDependencies={} pNumDependencies={}", static_cast<void *>(Node), static_cast<void *>(Deps),
         static_cast<void *>(NumDeps));
  return finish(T,
                core::graphNeighboursApi("cudaGraphNodeGetDependencies", Node, false, Deps, edgeData(Data), NumDeps));
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetDependentNodes(cudaGraphNode_t Node, cudaGraphNode_t *Dependents,
                                                         cudaGraphEdgeData *Data, size_t *NumDependents) {
  ApiTrace T("cudaGraphNodeGetDependentNodes");
  T.args("node={} pDependentNodes={} pNumDependentNodes={}", static_cast<void *>(Node), static_cast<void *>(Dependents),
         static_cast<void *>(NumDependents));
  return finish(T, core::graphNeighboursApi("cudaGraphNodeGetDependentNodes", Node, true, Dependents, edgeData(Data),
                                            NumDependents));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddDependencies(cudaGraph_t Graph, const cudaGraphNode_t *From,
                                                   const cudaGraphNode_t *To, const cudaGraphEdgeData *Data,
                                                   size_t Count) {
  ApiTrace T("cudaGraphAddDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(Graph), Count);
  return finish(
      T, core::graphChangeDependenciesApi("cudaGraphAddDependencies", Graph, From, To, edgeData(Data), Count, true));
}

CUSHIM_EXPORT cudaError_t cudaGraphRemoveDependencies(cudaGraph_t Graph, const cudaGraphNode_t *From,
                                                      const cudaGraphNode_t *To, const cudaGraphEdgeData *Data,
                                                      size_t Count) {
  ApiTrace T("cudaGraphRemoveDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(Graph), Count);
  return finish(T, core::graphChangeDependenciesApi("cudaGraphRemoveDependencies", Graph, From, To, edgeData(Data),
                                                    Count, false));
}

CUSHIM_EXPORT cudaError_t cudaGraphDestroyNode(cudaGraphNode_t Node) {
  ApiTrace T("cudaGraphDestroyNode");
  T.args("node={}", static_cast<void *>(Node));
  return finish(T, core::graphDestroyNodeApi("cudaGraphDestroyNode", Node));
}

CUSHIM_EXPORT cudaError_t cudaGraphDebugDotPrint(cudaGraph_t Graph, const char *Path, unsigned int Flags) {
  ApiTrace T("cudaGraphDebugDotPrint");
  T.args("graph={} path={} flags={:#x}", static_cast<void *>(Graph), Path ? Path : "(null)", Flags);
  return finish(T, core::graphDotPrintApi("cudaGraphDebugDotPrint", Graph, Path, Flags));
}

// ---- Executable graphs ---------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphInstantiate(cudaGraphExec_t *Exec, cudaGraph_t Graph, unsigned long long Flags) {
  ApiTrace T("cudaGraphInstantiate");
  T.args("pGraphExec={} graph={} flags={:#x}", static_cast<void *>(Exec), static_cast<void *>(Graph), Flags);
  return finish(T, core::graphInstantiateApi("cudaGraphInstantiate", Exec, Graph, Flags));
}

CUSHIM_EXPORT cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t *Exec, cudaGraph_t Graph,
                                                        unsigned long long Flags) {
  ApiTrace T("cudaGraphInstantiateWithFlags");
  T.args("pGraphExec={} graph={} flags={:#x}", static_cast<void *>(Exec), static_cast<void *>(Graph), Flags);
  return finish(T, core::graphInstantiateApi("cudaGraphInstantiateWithFlags", Exec, Graph, Flags));
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
  return finish(T, core::graphExecFlagsApi("cudaGraphExecGetFlags", Exec, Flags));
}

CUSHIM_EXPORT cudaError_t cudaGraphLaunch(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphLaunch");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T,
                core::graphLaunchApi("cudaGraphLaunch", Exec, runtimeStream("cudaGraphLaunch", Stream, false), true));
}

CUSHIM_EXPORT cudaError_t cudaGraphLaunch_ptsz(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphLaunch_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(
      T, core::graphLaunchApi("cudaGraphLaunch_ptsz", Exec, runtimeStream("cudaGraphLaunch_ptsz", Stream, true), true));
}

CUSHIM_EXPORT cudaError_t cudaGraphUpload(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphUpload");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T,
                core::graphLaunchApi("cudaGraphUpload", Exec, runtimeStream("cudaGraphUpload", Stream, false), false));
}

CUSHIM_EXPORT cudaError_t cudaGraphUpload_ptsz(cudaGraphExec_t Exec, cudaStream_t Stream) {
  ApiTrace T("cudaGraphUpload_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(Exec), static_cast<void *>(Stream));
  return finish(T, core::graphLaunchApi("cudaGraphUpload_ptsz", Exec,
                                        runtimeStream("cudaGraphUpload_ptsz", Stream, true), false));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecDestroy(cudaGraphExec_t Exec) {
  ApiTrace T("cudaGraphExecDestroy");
  T.args("graphExec={}", static_cast<void *>(Exec));
  return finish(T, core::graphExecDestroyApi("cudaGraphExecDestroy", Exec));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecUpdate(cudaGraphExec_t Exec, cudaGraph_t Graph,
                                              cudaGraphExecUpdateResultInfo *Info) {
  ApiTrace T("cudaGraphExecUpdate");
  T.args("graphExec={} graph={} resultInfo={}", static_cast<void *>(Exec), static_cast<void *>(Graph),
         static_cast<void *>(Info));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Info)
      return runtimeError(cudaErrorInvalidValue, "cudaGraphExecUpdate: resultInfo is NULL");
    core::GraphUpdateResult R;
    Error Err = core::graphExecUpdateApi("cudaGraphExecUpdate", Exec, Graph, R);
    Info->result = static_cast<cudaGraphExecUpdateResult>(R.Result);
    Info->errorNode = R.ErrorNode ? R.ErrorNode->handle() : nullptr;
    Info->errorFromNode = R.ErrorFromNode ? R.ErrorFromNode->handle() : nullptr;
    return Err;
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeSetEnabled(cudaGraphExec_t Exec, cudaGraphNode_t Node, unsigned int Enabled) {
  ApiTrace T("cudaGraphNodeSetEnabled");
  T.args("graphExec={} node={} isEnabled={}", static_cast<void *>(Exec), static_cast<void *>(Node), Enabled);
  return finish(T, core::graphEnabledApi("cudaGraphNodeSetEnabled", Exec, Node, Enabled, nullptr));
}

CUSHIM_EXPORT cudaError_t cudaGraphNodeGetEnabled(cudaGraphExec_t Exec, cudaGraphNode_t Node, unsigned int *Enabled) {
  ApiTrace T("cudaGraphNodeGetEnabled");
  T.args("graphExec={} node={} isEnabled={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<void *>(Enabled));
  return finish(T, Enabled ? core::graphEnabledApi("cudaGraphNodeGetEnabled", Exec, Node, 0, Enabled)
                           : runtimeError(cudaErrorInvalidValue, "cudaGraphNodeGetEnabled: isEnabled is NULL"));
}

// ---- Graph memory of a device --------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaDeviceGraphMemTrim(int Device) {
  ApiTrace T("cudaDeviceGraphMemTrim");
  T.args("device={}", Device);
  auto D = runtimeDevice(Device);
  return finish(T, D ? core::graphMemTrim(Device) : D.takeError());
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetGraphMemAttribute(int Device, enum cudaGraphMemAttributeType Attr, void *Value) {
  ApiTrace T("cudaDeviceGetGraphMemAttribute");
  T.args("device={} attr={}", Device, static_cast<int>(Attr));
  auto D = runtimeDevice(Device);
  return finish(T, D ? core::graphMemAttribute(Device, static_cast<CUgraphMem_attribute>(Attr), Value, false)
                     : D.takeError());
}

CUSHIM_EXPORT cudaError_t cudaDeviceSetGraphMemAttribute(int Device, enum cudaGraphMemAttributeType Attr, void *Value) {
  ApiTrace T("cudaDeviceSetGraphMemAttribute");
  T.args("device={} attr={}", Device, static_cast<int>(Attr));
  auto D = runtimeDevice(Device);
  return finish(T, D ? core::graphMemAttribute(Device, static_cast<CUgraphMem_attribute>(Attr), Value, true)
                     : D.takeError());
}
