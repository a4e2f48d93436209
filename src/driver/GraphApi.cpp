// Graphs of the driver API: stream capture, graph structure, node kinds and executable graphs (cuGraph*), every
// versioned and per-thread name cuda.h declares, over core/Graph.h (docs/GRAPHS.md).
#include "driver/DriverStream.h"

#include "core/Graph.h"
#include "core/Module.h"

using namespace cushim;
using namespace cushim::driver;

namespace {

// ---- Nodes ----

// Both kernel-node structs: v1 has only func; v2 may name the kernel by a CUkernel (a function handle here).
template <typename P> Expected<core::GraphNode> kernelProto(const P *Params, CUkernel Kern) {
  if (!Params)
    return makeError(CUDA_ERROR_INVALID_VALUE, "kernel node params are NULL");
  CUfunction Handle = Params->func ? Params->func : reinterpret_cast<CUfunction>(Kern);
  core::Function *F = core::lookupFunction(Handle);
  if (!F)
    return makeError(CUDA_ERROR_INVALID_HANDLE, "kernel node params name no live function or kernel");
  core::LaunchConfig C;
  C.Grid[0] = Params->gridDimX, C.Grid[1] = Params->gridDimY, C.Grid[2] = Params->gridDimZ;
  C.Block[0] = Params->blockDimX, C.Block[1] = Params->blockDimY, C.Block[2] = Params->blockDimZ;
  C.DynamicShared = Params->sharedMemBytes;
  return core::kernelNode(*F, C, Params->kernelParams, Params->extra, nullptr);
}

Expected<core::GraphNode> kernelProtoV1(const CUDA_KERNEL_NODE_PARAMS_v1 *P) { return kernelProto(P, nullptr); }
Expected<core::GraphNode> kernelProtoV2(const CUDA_KERNEL_NODE_PARAMS *P) {
  return kernelProto(P, P ? P->kern : nullptr);
}

template <typename P> Error kernelGet(const char *Api, CUgraphNode Node, P *Params) {
  if (!Params)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": nodeParams is NULL");
  auto N = core::requireGraphNode(Api, Node, CU_GRAPH_NODE_TYPE_KERNEL);
  if (!N)
    return N.takeError();
  const core::KernelNodeParams &K = (*N)->Kernel;
  *Params = P{};
  Params->func = K.F->handle();
  Params->gridDimX = K.Config.Grid[0], Params->gridDimY = K.Config.Grid[1], Params->gridDimZ = K.Config.Grid[2];
  Params->blockDimX = K.Config.Block[0], Params->blockDimY = K.Config.Block[1], Params->blockDimZ = K.Config.Block[2];
  Params->sharedMemBytes = K.Config.DynamicShared;
  Params->kernelParams = core::kernelNodeArgPointers(**N);
  return Error::success();
}

// One side of a CUDA_MEMCPY3D: its base address (arrays: copyProto describes them with core::copyArraySide).
Expected<const void *> copySide(CUmemorytype Type, const void *Host, CUdeviceptr Device, CUarray Array,
                                const char *Side) {
  switch (Type) {
  case CU_MEMORYTYPE_HOST: return Host;
  case CU_MEMORYTYPE_DEVICE:
  case CU_MEMORYTYPE_UNIFIED: return reinterpret_cast<const void *>(Device);
  case CU_MEMORYTYPE_ARRAY:
    if (!Array)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("memcpy node {}: the array is NULL", Side));
    return static_cast<const void *>(Array);
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("memcpy node {}: memory type {} is not defined", Side, static_cast<int>(Type)));
  }
}

Expected<core::GraphNode> copyProto(const CUDA_MEMCPY3D *P) {
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, "memcpy node params are NULL");
  if (P->srcLOD || P->dstLOD)
    return makeError(CUDA_ERROR_INVALID_VALUE, "srcLOD and dstLOD must be 0");
  auto Src = copySide(P->srcMemoryType, P->srcHost, P->srcDevice, P->srcArray, "source");
  if (!Src)
    return Src.takeError();
  auto Dst = copySide(P->dstMemoryType, P->dstHost, P->dstDevice, P->dstArray, "destination");
  if (!Dst)
    return Dst.takeError();
  core::CopyNodeParams C;
  C.Src = *Src;
  C.Dst = const_cast<void *>(*Dst);
  C.SrcPitch = P->srcPitch ? P->srcPitch : P->WidthInBytes, C.SrcHeight = P->srcHeight ? P->srcHeight : P->Height;
  C.DstPitch = P->dstPitch ? P->dstPitch : P->WidthInBytes, C.DstHeight = P->dstHeight ? P->dstHeight : P->Height;
  C.SrcX = P->srcXInBytes, C.SrcY = P->srcY, C.SrcZ = P->srcZ;
  C.DstX = P->dstXInBytes, C.DstY = P->dstY, C.DstZ = P->dstZ;
  C.Width = P->WidthInBytes, C.Height = P->Height, C.Depth = P->Depth;
  if (P->srcMemoryType == CU_MEMORYTYPE_ARRAY)
    CUSHIM_TRY(core::copyArraySide(C, true, P->srcArray, P->srcXInBytes, P->srcY, P->srcZ));
  if (P->dstMemoryType == CU_MEMORYTYPE_ARRAY)
    CUSHIM_TRY(core::copyArraySide(C, false, P->dstArray, P->dstXInBytes, P->dstY, P->dstZ));
  return core::copyNode(C);
}

Expected<core::GraphNode> memsetProto(const CUDA_MEMSET_NODE_PARAMS *P) {
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, "memset node params are NULL");
  return core::memsetNode(core::MemsetNodeParams{reinterpret_cast<void *>(P->dst), P->pitch, P->value, P->elementSize,
                                                 P->width, P->height});
}

// ---- Structure and executable graphs ----

Error instantiateWithLog(const char *Api, CUgraphExec *Exec, CUgraph Graph, CUgraphNode *ErrorNode, char *Log,
                         size_t LogSize) {
  if (ErrorNode)
    *ErrorNode = nullptr;
  Error E = core::graphInstantiateApi(Api, Exec, Graph, 0);
  if (E.isError() && Log && LogSize) {
    std::string Msg = E.message().substr(0, LogSize - 1);
    std::copy(Msg.begin(), Msg.end(), Log);
    Log[Msg.size()] = '\0';
  }
  return E;
}

Error instantiateWithParams(const char *Api, CUgraphExec *Exec, CUgraph Graph, CUDA_GRAPH_INSTANTIATE_PARAMS *P,
                            bool PerThread) {
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": instantiateParams is NULL");
  P->hErrNode_out = nullptr;
  Error E = core::graphInstantiateApi(Api, Exec, Graph, P->flags);
  if (E.isError()) {
    P->result_out = E.code() == CUDA_ERROR_NOT_SUPPORTED ? CUDA_GRAPH_INSTANTIATE_NODE_OPERATION_NOT_SUPPORTED
                                                         : CUDA_GRAPH_INSTANTIATE_INVALID_STRUCTURE;
    return E;
  }
  P->result_out = CUDA_GRAPH_INSTANTIATE_SUCCESS;
  if (P->flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD)
    return core::graphLaunchApi(Api, *Exec, driverStream(Api, P->hUploadStream, PerThread), false);
  return Error::success();
}

Expected<core::GraphNode> hostNodeFrom(const CUDA_HOST_NODE_PARAMS *P) {
  return P ? core::hostGraphNode(P->fn, P->userData) : core::hostGraphNode(nullptr, nullptr);
}

} // namespace

// ---- Stream capture ----------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuStreamBeginCapture(CUstream HStream) {
  ApiTrace T("cuStreamBeginCapture");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureBeginApi("cuStreamBeginCapture", driverStream("cuStreamBeginCapture", HStream, false),
                                      CU_STREAM_CAPTURE_MODE_GLOBAL, nullptr, nullptr, nullptr, 0));
}

CUSHIM_EXPORT CUresult cuStreamBeginCapture_ptsz(CUstream HStream) {
  ApiTrace T("cuStreamBeginCapture_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureBeginApi("cuStreamBeginCapture_ptsz",
                                      driverStream("cuStreamBeginCapture_ptsz", HStream, true),
                                      CU_STREAM_CAPTURE_MODE_GLOBAL, nullptr, nullptr, nullptr, 0));
}

CUSHIM_EXPORT CUresult cuStreamBeginCapture_v2(CUstream HStream, CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCapture_v2");
  T.args("stream={} mode={}", static_cast<void *>(HStream), static_cast<int>(Mode));
  return T.done(core::captureBeginApi("cuStreamBeginCapture_v2",
                                      driverStream("cuStreamBeginCapture_v2", HStream, false), Mode, nullptr, nullptr,
                                      nullptr, 0));
}

CUSHIM_EXPORT CUresult cuStreamBeginCapture_v2_ptsz(CUstream HStream, CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCapture_v2_ptsz");
  T.args("stream={} mode={}", static_cast<void *>(HStream), static_cast<int>(Mode));
  return T.done(core::captureBeginApi("cuStreamBeginCapture_v2_ptsz",
                                      driverStream("cuStreamBeginCapture_v2_ptsz", HStream, true), Mode, nullptr,
                                      nullptr, nullptr, 0));
}

CUSHIM_EXPORT CUresult cuStreamBeginCaptureToGraph(CUstream HStream, CUgraph HGraph, const CUgraphNode *Deps,
                                                   const CUgraphEdgeData *Data, size_t NumDeps,
                                                   CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCaptureToGraph");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(HStream), static_cast<void *>(HGraph),
         NumDeps, static_cast<int>(Mode));
  return T.done(core::captureBeginApi("cuStreamBeginCaptureToGraph",
                                      driverStream("cuStreamBeginCaptureToGraph", HStream, false), Mode, HGraph, Deps,
                                      Data, NumDeps));
}

CUSHIM_EXPORT CUresult cuStreamBeginCaptureToGraph_ptsz(CUstream HStream, CUgraph HGraph, const CUgraphNode *Deps,
                                                        const CUgraphEdgeData *Data, size_t NumDeps,
                                                        CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCaptureToGraph_ptsz");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(HStream), static_cast<void *>(HGraph),
         NumDeps, static_cast<int>(Mode));
  return T.done(core::captureBeginApi("cuStreamBeginCaptureToGraph_ptsz",
                                      driverStream("cuStreamBeginCaptureToGraph_ptsz", HStream, true), Mode, HGraph,
                                      Deps, Data, NumDeps));
}

CUSHIM_EXPORT CUresult cuStreamEndCapture(CUstream HStream, CUgraph *PhGraph) {
  ApiTrace T("cuStreamEndCapture");
  T.args("stream={} phGraph={}", static_cast<void *>(HStream), static_cast<void *>(PhGraph));
  return T.done(core::captureEndApi("cuStreamEndCapture", driverStream("cuStreamEndCapture", HStream, false), PhGraph));
}

CUSHIM_EXPORT CUresult cuStreamEndCapture_ptsz(CUstream HStream, CUgraph *PhGraph) {
  ApiTrace T("cuStreamEndCapture_ptsz");
  T.args("stream={} phGraph={}", static_cast<void *>(HStream), static_cast<void *>(PhGraph));
  return T.done(
      core::captureEndApi("cuStreamEndCapture_ptsz", driverStream("cuStreamEndCapture_ptsz", HStream, true), PhGraph));
}

CUSHIM_EXPORT CUresult cuStreamIsCapturing(CUstream HStream, CUstreamCaptureStatus *Status) {
  ApiTrace T("cuStreamIsCapturing");
  T.args("stream={} captureStatus={}", static_cast<void *>(HStream), static_cast<void *>(Status));
  return T.done(
      core::captureStatusApi("cuStreamIsCapturing", driverStream("cuStreamIsCapturing", HStream, false), Status));
}

CUSHIM_EXPORT CUresult cuStreamIsCapturing_ptsz(CUstream HStream, CUstreamCaptureStatus *Status) {
  ApiTrace T("cuStreamIsCapturing_ptsz");
  T.args("stream={} captureStatus={}", static_cast<void *>(HStream), static_cast<void *>(Status));
  return T.done(core::captureStatusApi("cuStreamIsCapturing_ptsz",
                                       driverStream("cuStreamIsCapturing_ptsz", HStream, true), Status));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id) {
  ApiTrace T("cuStreamGetCaptureInfo");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureInfoApi("cuStreamGetCaptureInfo", driverStream("cuStreamGetCaptureInfo", HStream, false),
                                     Status, Id, nullptr, nullptr, nullptr, nullptr));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_ptsz(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id) {
  ApiTrace T("cuStreamGetCaptureInfo_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureInfoApi("cuStreamGetCaptureInfo_ptsz",
                                     driverStream("cuStreamGetCaptureInfo_ptsz", HStream, true), Status, Id, nullptr,
                                     nullptr, nullptr, nullptr));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v2(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                 CUgraph *Graph, const CUgraphNode **Deps, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v2");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureInfoApi("cuStreamGetCaptureInfo_v2",
                                     driverStream("cuStreamGetCaptureInfo_v2", HStream, false), Status, Id, Graph, Deps,
                                     nullptr, NumDeps));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v2_ptsz(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                      CUgraph *Graph, const CUgraphNode **Deps, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v2_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureInfoApi("cuStreamGetCaptureInfo_v2_ptsz",
                                     driverStream("cuStreamGetCaptureInfo_v2_ptsz", HStream, true), Status, Id, Graph,
                                     Deps, nullptr, NumDeps));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v3(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                 CUgraph *Graph, const CUgraphNode **Deps, const CUgraphEdgeData **Data,
                                                 size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v3");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureInfoApi("cuStreamGetCaptureInfo_v3",
                                     driverStream("cuStreamGetCaptureInfo_v3", HStream, false), Status, Id, Graph, Deps,
                                     Data, NumDeps));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v3_ptsz(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                      CUgraph *Graph, const CUgraphNode **Deps,
                                                      const CUgraphEdgeData **Data, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v3_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(core::captureInfoApi("cuStreamGetCaptureInfo_v3_ptsz",
                                     driverStream("cuStreamGetCaptureInfo_v3_ptsz", HStream, true), Status, Id, Graph,
                                     Deps, Data, NumDeps));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies(CUstream HStream, CUgraphNode *Deps, size_t NumDeps,
                                                         unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(core::captureUpdateApi("cuStreamUpdateCaptureDependencies",
                                       driverStream("cuStreamUpdateCaptureDependencies", HStream, false), Deps, nullptr,
                                       NumDeps, Flags));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies_ptsz(CUstream HStream, CUgraphNode *Deps, size_t NumDeps,
                                                              unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies_ptsz");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(core::captureUpdateApi("cuStreamUpdateCaptureDependencies_ptsz",
                                       driverStream("cuStreamUpdateCaptureDependencies_ptsz", HStream, true), Deps,
                                       nullptr, NumDeps, Flags));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies_v2(CUstream HStream, CUgraphNode *Deps,
                                                            const CUgraphEdgeData *Data, size_t NumDeps,
                                                            unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies_v2");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(core::captureUpdateApi("cuStreamUpdateCaptureDependencies_v2",
                                       driverStream("cuStreamUpdateCaptureDependencies_v2", HStream, false), Deps, Data,
                                       NumDeps, Flags));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies_v2_ptsz(CUstream HStream, CUgraphNode *Deps,
                                                                 const CUgraphEdgeData *Data, size_t NumDeps,
                                                                 unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies_v2_ptsz");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(core::captureUpdateApi("cuStreamUpdateCaptureDependencies_v2_ptsz",
                                       driverStream("cuStreamUpdateCaptureDependencies_v2_ptsz", HStream, true), Deps,
                                       Data, NumDeps, Flags));
}

CUSHIM_EXPORT CUresult cuThreadExchangeStreamCaptureMode(CUstreamCaptureMode *Mode) {
  ApiTrace T("cuThreadExchangeStreamCaptureMode");
  T.args("mode={}", static_cast<void *>(Mode));
  CUSHIM_DRIVER_BODY(T, {
    if (!Mode)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuThreadExchangeStreamCaptureMode: mode is NULL");
    return core::exchangeThreadCaptureMode(*Mode);
  });
}

// ---- Graph structure ---------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuGraphCreate(CUgraph *PhGraph, unsigned int Flags) {
  ApiTrace T("cuGraphCreate");
  T.args("phGraph={} flags={:#x}", static_cast<void *>(PhGraph), Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    return core::graphCreateApi("cuGraphCreate", PhGraph, Flags);
  });
}

CUSHIM_EXPORT CUresult cuGraphDestroy(CUgraph HGraph) {
  ApiTrace T("cuGraphDestroy");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(core::graphDestroyApi("cuGraphDestroy", HGraph));
}

CUSHIM_EXPORT CUresult cuGraphClone(CUgraph *PhGraphClone, CUgraph OriginalGraph) {
  ApiTrace T("cuGraphClone");
  T.args("phGraphClone={} originalGraph={}", static_cast<void *>(PhGraphClone), static_cast<void *>(OriginalGraph));
  return T.done(core::graphCloneApi("cuGraphClone", PhGraphClone, OriginalGraph));
}

CUSHIM_EXPORT CUresult cuGraphNodeFindInClone(CUgraphNode *PhNode, CUgraphNode HOriginalNode, CUgraph HClonedGraph) {
  ApiTrace T("cuGraphNodeFindInClone");
  T.args("phNode={} originalNode={} clonedGraph={}", static_cast<void *>(PhNode), static_cast<void *>(HOriginalNode),
         static_cast<void *>(HClonedGraph));
  return T.done(core::graphFindInCloneApi("cuGraphNodeFindInClone", PhNode, HOriginalNode, HClonedGraph));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetType(CUgraphNode HNode, CUgraphNodeType *Type) {
  ApiTrace T("cuGraphNodeGetType");
  T.args("node={} type={}", static_cast<void *>(HNode), static_cast<void *>(Type));
  return T.done(core::graphNodeTypeApi("cuGraphNodeGetType", HNode, Type));
}

CUSHIM_EXPORT CUresult cuGraphGetNodes(CUgraph HGraph, CUgraphNode *Nodes, size_t *NumNodes) {
  ApiTrace T("cuGraphGetNodes");
  T.args("graph={} nodes={} numNodes={}", static_cast<void *>(HGraph), static_cast<void *>(Nodes),
         static_cast<void *>(NumNodes));
  return T.done(core::graphNodesApi("cuGraphGetNodes", HGraph, false, Nodes, NumNodes));
}

CUSHIM_EXPORT CUresult cuGraphGetRootNodes(CUgraph HGraph, CUgraphNode *RootNodes, size_t *NumRootNodes) {
  ApiTrace T("cuGraphGetRootNodes");
  T.args("graph={} rootNodes={} numRootNodes={}", static_cast<void *>(HGraph), static_cast<void *>(RootNodes),
         static_cast<void *>(NumRootNodes));
  return T.done(core::graphNodesApi("cuGraphGetRootNodes", HGraph, true, RootNodes, NumRootNodes));
}

CUSHIM_EXPORT CUresult cuGraphGetEdges(CUgraph HGraph, CUgraphNode *From, CUgraphNode *To, size_t *NumEdges) {
  ApiTrace T("cuGraphGetEdges");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(core::graphEdgesApi("cuGraphGetEdges", HGraph, From, To, nullptr, NumEdges));
}

CUSHIM_EXPORT CUresult cuGraphGetEdges_v2(CUgraph HGraph, CUgraphNode *From, CUgraphNode *To, CUgraphEdgeData *Data,
                                          size_t *NumEdges) {
  ApiTrace T("cuGraphGetEdges_v2");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(core::graphEdgesApi("cuGraphGetEdges_v2", HGraph, From, To, Data, NumEdges));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependencies(CUgraphNode HNode, CUgraphNode *Deps, size_t *NumDeps) {
  ApiTrace T("cuGraphNodeGetDependencies");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphNeighboursApi("cuGraphNodeGetDependencies", HNode, false, Deps, nullptr, NumDeps));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependencies_v2(CUgraphNode HNode, CUgraphNode *Deps, CUgraphEdgeData *Data,
                                                     size_t *NumDeps) {
  ApiTrace T("cuGraphNodeGetDependencies_v2");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphNeighboursApi("cuGraphNodeGetDependencies_v2", HNode, false, Deps, Data, NumDeps));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependentNodes(CUgraphNode HNode, CUgraphNode *Nodes, size_t *NumNodes) {
  ApiTrace T("cuGraphNodeGetDependentNodes");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphNeighboursApi("cuGraphNodeGetDependentNodes", HNode, true, Nodes, nullptr, NumNodes));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependentNodes_v2(CUgraphNode HNode, CUgraphNode *Nodes, CUgraphEdgeData *Data,
                                                       size_t *NumNodes) {
  ApiTrace T("cuGraphNodeGetDependentNodes_v2");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphNeighboursApi("cuGraphNodeGetDependentNodes_v2", HNode, true, Nodes, Data, NumNodes));
}

CUSHIM_EXPORT CUresult cuGraphAddDependencies(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                              size_t NumDeps) {
  ApiTrace T("cuGraphAddDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(core::graphChangeDependenciesApi("cuGraphAddDependencies", HGraph, From, To, nullptr, NumDeps, true));
}

CUSHIM_EXPORT CUresult cuGraphAddDependencies_v2(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                                 const CUgraphEdgeData *Data, size_t NumDeps) {
  ApiTrace T("cuGraphAddDependencies_v2");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(core::graphChangeDependenciesApi("cuGraphAddDependencies_v2", HGraph, From, To, Data, NumDeps, true));
}

CUSHIM_EXPORT CUresult cuGraphRemoveDependencies(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                                 size_t NumDeps) {
  ApiTrace T("cuGraphRemoveDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(
      core::graphChangeDependenciesApi("cuGraphRemoveDependencies", HGraph, From, To, nullptr, NumDeps, false));
}

CUSHIM_EXPORT CUresult cuGraphRemoveDependencies_v2(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                                    const CUgraphEdgeData *Data, size_t NumDeps) {
  ApiTrace T("cuGraphRemoveDependencies_v2");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(
      core::graphChangeDependenciesApi("cuGraphRemoveDependencies_v2", HGraph, From, To, Data, NumDeps, false));
}

CUSHIM_EXPORT CUresult cuGraphDestroyNode(CUgraphNode HNode) {
  ApiTrace T("cuGraphDestroyNode");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphDestroyNodeApi("cuGraphDestroyNode", HNode));
}

CUSHIM_EXPORT CUresult cuGraphDebugDotPrint(CUgraph HGraph, const char *Path, unsigned int Flags) {
  ApiTrace T("cuGraphDebugDotPrint");
  T.args("graph={} path={} flags={:#x}", static_cast<void *>(HGraph), Path ? Path : "(null)", Flags);
  return T.done(core::graphDotPrintApi("cuGraphDebugDotPrint", HGraph, Path, Flags));
}

// ---- Node kinds --------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuGraphAddKernelNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                            size_t NumDeps, const CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphAddKernelNode");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(
      core::graphAddNodeApi("cuGraphAddKernelNode", PhGraphNode, HGraph, Deps, NumDeps, kernelProtoV1(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddKernelNode_v2(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                               size_t NumDeps, const CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphAddKernelNode_v2");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(
      core::graphAddNodeApi("cuGraphAddKernelNode_v2", PhGraphNode, HGraph, Deps, NumDeps, kernelProtoV2(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphKernelNodeGetParams(CUgraphNode HNode, CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphKernelNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(kernelGet("cuGraphKernelNodeGetParams", HNode, NodeParams));
}

CUSHIM_EXPORT CUresult cuGraphKernelNodeGetParams_v2(CUgraphNode HNode, CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphKernelNodeGetParams_v2");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(kernelGet("cuGraphKernelNodeGetParams_v2", HNode, NodeParams));
    NodeParams->ctx = core::lookupGraphNode(HNode)->Kernel.F->module().context().handle();
    // A CUkernel is a function handle here (cuLibraryGetKernel): NVIDIA's static cudart maps kern back to its kernel.
    NodeParams->kern = reinterpret_cast<CUkernel>(NodeParams->func);
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphKernelNodeSetParams(CUgraphNode HNode, const CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphKernelNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphSetNodeApi("cuGraphKernelNodeSetParams", HNode, kernelProtoV1(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphKernelNodeSetParams_v2(CUgraphNode HNode, const CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphKernelNodeSetParams_v2");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphSetNodeApi("cuGraphKernelNodeSetParams_v2", HNode, kernelProtoV2(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecKernelNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                      const CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphExecKernelNodeSetParams");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(
      core::graphExecSetNodeApi("cuGraphExecKernelNodeSetParams", HGraphExec, HNode, kernelProtoV1(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                         const CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphExecKernelNodeSetParams_v2");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(
      core::graphExecSetNodeApi("cuGraphExecKernelNodeSetParams_v2", HGraphExec, HNode, kernelProtoV2(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddMemcpyNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                            size_t NumDeps, const CUDA_MEMCPY3D *CopyParams, CUcontext Ctx) {
  ApiTrace T("cuGraphAddMemcpyNode");
  T.args("graph={} numDependencies={} ctx={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Ctx));
  return T.done(
      core::graphAddNodeApi("cuGraphAddMemcpyNode", PhGraphNode, HGraph, Deps, NumDeps, copyProto(CopyParams)));
}

CUSHIM_EXPORT CUresult cuGraphMemcpyNodeGetParams(CUgraphNode HNode, CUDA_MEMCPY3D *NodeParams) {
  ApiTrace T("cuGraphMemcpyNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    if (!NodeParams)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphMemcpyNodeGetParams: nodeParams is NULL");
    auto N = core::requireGraphNode("cuGraphMemcpyNodeGetParams", HNode, CU_GRAPH_NODE_TYPE_MEMCPY);
    if (!N)
      return N.takeError();
    const core::CopyNodeParams &C = (*N)->Copy;
    *NodeParams = CUDA_MEMCPY3D{};
    // Unified addressing: every address is reported as unified memory.
    NodeParams->srcMemoryType = NodeParams->dstMemoryType = CU_MEMORYTYPE_UNIFIED;
    NodeParams->srcDevice = reinterpret_cast<CUdeviceptr>(C.Src);
    NodeParams->dstDevice = reinterpret_cast<CUdeviceptr>(C.Dst);
    NodeParams->srcXInBytes = C.SrcX, NodeParams->srcY = C.SrcY, NodeParams->srcZ = C.SrcZ;
    NodeParams->dstXInBytes = C.DstX, NodeParams->dstY = C.DstY, NodeParams->dstZ = C.DstZ;
    NodeParams->srcPitch = C.SrcPitch, NodeParams->srcHeight = C.SrcHeight;
    NodeParams->dstPitch = C.DstPitch, NodeParams->dstHeight = C.DstHeight;
    NodeParams->WidthInBytes = C.Width, NodeParams->Height = C.Height, NodeParams->Depth = C.Depth;
    if (C.SrcArray) {
      NodeParams->srcMemoryType = CU_MEMORYTYPE_ARRAY, NodeParams->srcArray = C.SrcArray;
      NodeParams->srcDevice = 0, NodeParams->srcPitch = NodeParams->srcHeight = 0;
    }
    if (C.DstArray) {
      NodeParams->dstMemoryType = CU_MEMORYTYPE_ARRAY, NodeParams->dstArray = C.DstArray;
      NodeParams->dstDevice = 0, NodeParams->dstPitch = NodeParams->dstHeight = 0;
    }
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphMemcpyNodeSetParams(CUgraphNode HNode, const CUDA_MEMCPY3D *NodeParams) {
  ApiTrace T("cuGraphMemcpyNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphSetNodeApi("cuGraphMemcpyNodeSetParams", HNode, copyProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                      const CUDA_MEMCPY3D *CopyParams, CUcontext Ctx) {
  ApiTrace T("cuGraphExecMemcpyNodeSetParams");
  T.args("graphExec={} node={} ctx={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Ctx));
  return T.done(core::graphExecSetNodeApi("cuGraphExecMemcpyNodeSetParams", HGraphExec, HNode, copyProto(CopyParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddMemsetNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                            size_t NumDeps, const CUDA_MEMSET_NODE_PARAMS *MemsetParams,
                                            CUcontext Ctx) {
  ApiTrace T("cuGraphAddMemsetNode");
  T.args("graph={} numDependencies={} ctx={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Ctx));
  return T.done(
      core::graphAddNodeApi("cuGraphAddMemsetNode", PhGraphNode, HGraph, Deps, NumDeps, memsetProto(MemsetParams)));
}

CUSHIM_EXPORT CUresult cuGraphMemsetNodeGetParams(CUgraphNode HNode, CUDA_MEMSET_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphMemsetNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    core::MemsetNodeParams M;
    CUSHIM_TRY(core::graphMemsetGetApi("cuGraphMemsetNodeGetParams", HNode, NodeParams ? &M : nullptr));
    *NodeParams = CUDA_MEMSET_NODE_PARAMS{
        reinterpret_cast<CUdeviceptr>(M.Dst), M.Pitch, M.Value, M.ElementSize, M.Width, M.Height};
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphMemsetNodeSetParams(CUgraphNode HNode, const CUDA_MEMSET_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphMemsetNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphSetNodeApi("cuGraphMemsetNodeSetParams", HNode, memsetProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecMemsetNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                      const CUDA_MEMSET_NODE_PARAMS *MemsetParams, CUcontext Ctx) {
  ApiTrace T("cuGraphExecMemsetNodeSetParams");
  T.args("graphExec={} node={} ctx={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Ctx));
  return T.done(
      core::graphExecSetNodeApi("cuGraphExecMemsetNodeSetParams", HGraphExec, HNode, memsetProto(MemsetParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddHostNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                          size_t NumDeps, const CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphAddHostNode");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(
      core::graphAddNodeApi("cuGraphAddHostNode", PhGraphNode, HGraph, Deps, NumDeps, hostNodeFrom(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphHostNodeGetParams(CUgraphNode HNode, CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphHostNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    core::HostNodeParams H;
    CUSHIM_TRY(core::graphHostGetApi("cuGraphHostNodeGetParams", HNode, NodeParams ? &H : nullptr));
    *NodeParams = CUDA_HOST_NODE_PARAMS{H.Fn, H.UserData};
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphHostNodeSetParams(CUgraphNode HNode, const CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphHostNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphSetNodeApi("cuGraphHostNodeSetParams", HNode, hostNodeFrom(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecHostNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                    const CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphExecHostNodeSetParams");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(core::graphExecSetNodeApi("cuGraphExecHostNodeSetParams", HGraphExec, HNode, hostNodeFrom(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddChildGraphNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                                size_t NumDeps, CUgraph ChildGraph) {
  ApiTrace T("cuGraphAddChildGraphNode");
  T.args("graph={} numDependencies={} childGraph={}", static_cast<void *>(HGraph), NumDeps,
         static_cast<void *>(ChildGraph));
  return T.done(core::graphAddNodeApi("cuGraphAddChildGraphNode", PhGraphNode, HGraph, Deps, NumDeps,
                                      core::childGraphNode("cuGraphAddChildGraphNode", ChildGraph)));
}

CUSHIM_EXPORT CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode HNode, CUgraph *PhGraph) {
  ApiTrace T("cuGraphChildGraphNodeGetGraph");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphChildGetApi("cuGraphChildGraphNodeGetGraph", HNode, PhGraph));
}

CUSHIM_EXPORT CUresult cuGraphExecChildGraphNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                          CUgraph ChildGraph) {
  ApiTrace T("cuGraphExecChildGraphNodeSetParams");
  T.args("graphExec={} node={} childGraph={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(ChildGraph));
  return T.done(core::graphExecSetNodeApi("cuGraphExecChildGraphNodeSetParams", HGraphExec, HNode,
                                          core::childGraphNode("cuGraphExecChildGraphNodeSetParams", ChildGraph)));
}

CUSHIM_EXPORT CUresult cuGraphAddEmptyNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                           size_t NumDeps) {
  ApiTrace T("cuGraphAddEmptyNode");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(
      core::graphAddNodeApi("cuGraphAddEmptyNode", PhGraphNode, HGraph, Deps, NumDeps, core::emptyGraphNode()));
}

CUSHIM_EXPORT CUresult cuGraphAddEventRecordNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                                 size_t NumDeps, CUevent Event) {
  ApiTrace T("cuGraphAddEventRecordNode");
  T.args("graph={} numDependencies={} event={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Event));
  return T.done(core::graphAddNodeApi("cuGraphAddEventRecordNode", PhGraphNode, HGraph, Deps, NumDeps,
                                      core::eventGraphNode(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT CUresult cuGraphEventRecordNodeGetEvent(CUgraphNode HNode, CUevent *EventOut) {
  ApiTrace T("cuGraphEventRecordNodeGetEvent");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(
      core::graphEventGetApi("cuGraphEventRecordNodeGetEvent", HNode, CU_GRAPH_NODE_TYPE_EVENT_RECORD, EventOut));
}

CUSHIM_EXPORT CUresult cuGraphEventRecordNodeSetEvent(CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphEventRecordNodeSetEvent");
  T.args("node={} event={}", static_cast<void *>(HNode), static_cast<void *>(Event));
  return T.done(core::graphSetNodeApi("cuGraphEventRecordNodeSetEvent", HNode,
                                      core::eventGraphNode(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT CUresult cuGraphExecEventRecordNodeSetEvent(CUgraphExec HGraphExec, CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphExecEventRecordNodeSetEvent");
  T.args("graphExec={} node={} event={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Event));
  return T.done(core::graphExecSetNodeApi("cuGraphExecEventRecordNodeSetEvent", HGraphExec, HNode,
                                          core::eventGraphNode(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT CUresult cuGraphAddEventWaitNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                               size_t NumDeps, CUevent Event) {
  ApiTrace T("cuGraphAddEventWaitNode");
  T.args("graph={} numDependencies={} event={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Event));
  return T.done(core::graphAddNodeApi("cuGraphAddEventWaitNode", PhGraphNode, HGraph, Deps, NumDeps,
                                      core::eventGraphNode(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

CUSHIM_EXPORT CUresult cuGraphEventWaitNodeGetEvent(CUgraphNode HNode, CUevent *EventOut) {
  ApiTrace T("cuGraphEventWaitNodeGetEvent");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphEventGetApi("cuGraphEventWaitNodeGetEvent", HNode, CU_GRAPH_NODE_TYPE_WAIT_EVENT, EventOut));
}

CUSHIM_EXPORT CUresult cuGraphEventWaitNodeSetEvent(CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphEventWaitNodeSetEvent");
  T.args("node={} event={}", static_cast<void *>(HNode), static_cast<void *>(Event));
  return T.done(core::graphSetNodeApi("cuGraphEventWaitNodeSetEvent", HNode,
                                      core::eventGraphNode(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

CUSHIM_EXPORT CUresult cuGraphExecEventWaitNodeSetEvent(CUgraphExec HGraphExec, CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphExecEventWaitNodeSetEvent");
  T.args("graphExec={} node={} event={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Event));
  return T.done(core::graphExecSetNodeApi("cuGraphExecEventWaitNodeSetEvent", HGraphExec, HNode,
                                          core::eventGraphNode(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

// ---- Executable graphs -------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuGraphInstantiate(CUgraphExec *PhGraphExec, CUgraph HGraph, CUgraphNode *PhErrorNode,
                                          char *LogBuffer, size_t BufferSize) {
  ApiTrace T("cuGraphInstantiate");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(instantiateWithLog("cuGraphInstantiate", PhGraphExec, HGraph, PhErrorNode, LogBuffer, BufferSize));
}

CUSHIM_EXPORT CUresult cuGraphInstantiate_v2(CUgraphExec *PhGraphExec, CUgraph HGraph, CUgraphNode *PhErrorNode,
                                             char *LogBuffer, size_t BufferSize) {
  ApiTrace T("cuGraphInstantiate_v2");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(instantiateWithLog("cuGraphInstantiate_v2", PhGraphExec, HGraph, PhErrorNode, LogBuffer, BufferSize));
}

CUSHIM_EXPORT CUresult cuGraphInstantiateWithFlags(CUgraphExec *PhGraphExec, CUgraph HGraph, unsigned long long Flags) {
  ApiTrace T("cuGraphInstantiateWithFlags");
  T.args("graph={} flags={:#x}", static_cast<void *>(HGraph), Flags);
  return T.done(core::graphInstantiateApi("cuGraphInstantiateWithFlags", PhGraphExec, HGraph, Flags));
}

CUSHIM_EXPORT CUresult cuGraphInstantiateWithParams(CUgraphExec *PhGraphExec, CUgraph HGraph,
                                                    CUDA_GRAPH_INSTANTIATE_PARAMS *InstantiateParams) {
  ApiTrace T("cuGraphInstantiateWithParams");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(instantiateWithParams("cuGraphInstantiateWithParams", PhGraphExec, HGraph, InstantiateParams, false));
}

CUSHIM_EXPORT CUresult cuGraphInstantiateWithParams_ptsz(CUgraphExec *PhGraphExec, CUgraph HGraph,
                                                         CUDA_GRAPH_INSTANTIATE_PARAMS *InstantiateParams) {
  ApiTrace T("cuGraphInstantiateWithParams_ptsz");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(
      instantiateWithParams("cuGraphInstantiateWithParams_ptsz", PhGraphExec, HGraph, InstantiateParams, true));
}

CUSHIM_EXPORT CUresult cuGraphExecGetFlags(CUgraphExec HGraphExec, cuuint64_t *Flags) {
  ApiTrace T("cuGraphExecGetFlags");
  T.args("graphExec={}", static_cast<void *>(HGraphExec));
  return T.done(
      core::graphExecFlagsApi("cuGraphExecGetFlags", HGraphExec, reinterpret_cast<unsigned long long *>(Flags)));
}

CUSHIM_EXPORT CUresult cuGraphLaunch(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphLaunch");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(core::graphLaunchApi("cuGraphLaunch", HGraphExec, driverStream("cuGraphLaunch", HStream, false), true));
}

CUSHIM_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphLaunch_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(
      core::graphLaunchApi("cuGraphLaunch_ptsz", HGraphExec, driverStream("cuGraphLaunch_ptsz", HStream, true), true));
}

CUSHIM_EXPORT CUresult cuGraphUpload(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphUpload");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(
      core::graphLaunchApi("cuGraphUpload", HGraphExec, driverStream("cuGraphUpload", HStream, false), false));
}

CUSHIM_EXPORT CUresult cuGraphUpload_ptsz(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphUpload_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(
      core::graphLaunchApi("cuGraphUpload_ptsz", HGraphExec, driverStream("cuGraphUpload_ptsz", HStream, true), false));
}

CUSHIM_EXPORT CUresult cuGraphExecDestroy(CUgraphExec HGraphExec) {
  ApiTrace T("cuGraphExecDestroy");
  T.args("graphExec={}", static_cast<void *>(HGraphExec));
  return T.done(core::graphExecDestroyApi("cuGraphExecDestroy", HGraphExec));
}

CUSHIM_EXPORT CUresult cuGraphExecUpdate(CUgraphExec HGraphExec, CUgraph HGraph, CUgraphNode *HErrorNodeOut,
                                         CUgraphExecUpdateResult *UpdateResultOut) {
  ApiTrace T("cuGraphExecUpdate");
  T.args("graphExec={} graph={}", static_cast<void *>(HGraphExec), static_cast<void *>(HGraph));
  CUSHIM_DRIVER_BODY(T, {
    if (!HErrorNodeOut || !UpdateResultOut)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphExecUpdate: hErrorNode_out or updateResult_out is NULL");
    core::GraphUpdateResult R;
    Error E = core::graphExecUpdateApi("cuGraphExecUpdate", HGraphExec, HGraph, R);
    *UpdateResultOut = R.Result;
    *HErrorNodeOut = R.ErrorNode ? R.ErrorNode->handle() : nullptr;
    return E;
  });
}

CUSHIM_EXPORT CUresult cuGraphExecUpdate_v2(CUgraphExec HGraphExec, CUgraph HGraph,
                                            CUgraphExecUpdateResultInfo *ResultInfo) {
  ApiTrace T("cuGraphExecUpdate_v2");
  T.args("graphExec={} graph={}", static_cast<void *>(HGraphExec), static_cast<void *>(HGraph));
  CUSHIM_DRIVER_BODY(T, {
    if (!ResultInfo)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphExecUpdate_v2: resultInfo is NULL");
    core::GraphUpdateResult R;
    Error E = core::graphExecUpdateApi("cuGraphExecUpdate_v2", HGraphExec, HGraph, R);
    ResultInfo->result = R.Result;
    ResultInfo->errorNode = R.ErrorNode ? R.ErrorNode->handle() : nullptr;
    ResultInfo->errorFromNode = R.ErrorFromNode ? R.ErrorFromNode->handle() : nullptr;
    return E;
  });
}

CUSHIM_EXPORT CUresult cuGraphNodeSetEnabled(CUgraphExec HGraphExec, CUgraphNode HNode, unsigned int IsEnabled) {
  ApiTrace T("cuGraphNodeSetEnabled");
  T.args("graphExec={} node={} isEnabled={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode), IsEnabled);
  return T.done(core::graphEnabledApi("cuGraphNodeSetEnabled", HGraphExec, HNode, IsEnabled, nullptr));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetEnabled(CUgraphExec HGraphExec, CUgraphNode HNode, unsigned int *IsEnabled) {
  ApiTrace T("cuGraphNodeGetEnabled");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(IsEnabled ? core::graphEnabledApi("cuGraphNodeGetEnabled", HGraphExec, HNode, 0, IsEnabled)
                          : makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphNodeGetEnabled: isEnabled is NULL"));
}

// ---- Memory allocation and free nodes, graph memory of a device ----------------------------------------------------

CUSHIM_EXPORT CUresult cuGraphAddMemAllocNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                              size_t NumDeps, CUDA_MEM_ALLOC_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphAddMemAllocNode");
  T.args("graph={} numDependencies={} bytesize={}", static_cast<void *>(HGraph), NumDeps,
         NodeParams ? NodeParams->bytesize : 0);
  return T.done(core::graphAddMemAllocApi("cuGraphAddMemAllocNode", PhGraphNode, HGraph, Deps, NumDeps,
                                          requireContext("cuGraphAddMemAllocNode"), NodeParams));
}

CUSHIM_EXPORT CUresult cuGraphMemAllocNodeGetParams(CUgraphNode HNode, CUDA_MEM_ALLOC_NODE_PARAMS *ParamsOut) {
  ApiTrace T("cuGraphMemAllocNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(core::graphMemAllocGetApi("cuGraphMemAllocNodeGetParams", HNode, ParamsOut));
}

CUSHIM_EXPORT CUresult cuGraphAddMemFreeNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                             size_t NumDeps, CUdeviceptr Dptr) {
  ApiTrace T("cuGraphAddMemFreeNode");
  T.args("graph={} numDependencies={} dptr={:#x}", static_cast<void *>(HGraph), NumDeps, Dptr);
  return T.done(core::graphAddMemFreeApi("cuGraphAddMemFreeNode", PhGraphNode, HGraph, Deps, NumDeps,
                                         reinterpret_cast<void *>(static_cast<uintptr_t>(Dptr))));
}

CUSHIM_EXPORT CUresult cuGraphMemFreeNodeGetParams(CUgraphNode HNode, CUdeviceptr *DptrOut) {
  ApiTrace T("cuGraphMemFreeNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    void *Ptr = nullptr;
    CUSHIM_TRY(core::graphMemFreeGetApi("cuGraphMemFreeNodeGetParams", HNode, DptrOut ? &Ptr : nullptr));
    *DptrOut = reinterpret_cast<CUdeviceptr>(Ptr);
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuDeviceGraphMemTrim(CUdevice Device) {
  ApiTrace T("cuDeviceGraphMemTrim");
  T.args("device={}", Device);
  auto D = requireDevice(Device);
  return T.done(D ? core::graphMemTrim(Device) : D.takeError());
}

CUSHIM_EXPORT CUresult cuDeviceGetGraphMemAttribute(CUdevice Device, CUgraphMem_attribute Attr, void *Value) {
  ApiTrace T("cuDeviceGetGraphMemAttribute");
  T.args("device={} attr={}", Device, static_cast<int>(Attr));
  auto D = requireDevice(Device);
  return T.done(D ? core::graphMemAttribute(Device, Attr, Value, false) : D.takeError());
}

CUSHIM_EXPORT CUresult cuDeviceSetGraphMemAttribute(CUdevice Device, CUgraphMem_attribute Attr, void *Value) {
  ApiTrace T("cuDeviceSetGraphMemAttribute");
  T.args("device={} attr={}", Device, static_cast<int>(Attr));
  auto D = requireDevice(Device);
  return T.done(D ? core::graphMemAttribute(Device, Attr, Value, true) : D.takeError());
}
