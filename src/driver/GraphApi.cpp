// Graphs of the driver API: stream capture, graph structure, node kinds and executable graphs (cuGraph*), every
// versioned and per-thread name cuda.h declares, over core/Graph.h (docs/GRAPHS.md).
#include "driver/DriverStream.h"

#include "core/Graph.h"
#include "core/Module.h"

using namespace cushim;
using namespace cushim::driver;

namespace {

const core::GraphNode *original(CUgraphNode Node) { return reinterpret_cast<const core::GraphNode *>(Node); }

// ---- Capture ----

Error beginCapture(const char *Api, CUstream Stream, CUstreamCaptureMode Mode, CUgraph Into, const CUgraphNode *Deps,
                   const CUgraphEdgeData *Data, size_t NumDeps, bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  core::Graph *G = nullptr;
  if (Into) {
    auto R = core::requireGraph(Api, Into);
    if (!R)
      return R.takeError();
    G = *R;
    CUSHIM_TRY(core::checkDefaultEdges(Data, NumDeps));
  }
  return core::beginCapture(**S, Mode, G, Deps, NumDeps);
}

Error endCapture(const char *Api, CUstream Stream, CUgraph *Graph, bool PerThread) {
  if (!Graph)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": phGraph is NULL");
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Graph = nullptr;
  auto G = core::endCapture(**S);
  if (!G)
    return G.takeError();
  *Graph = (*G)->handle();
  return Error::success();
}

Error isCapturing(const char *Api, CUstream Stream, CUstreamCaptureStatus *Status, bool PerThread) {
  if (!Status)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": captureStatus is NULL");
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  *Status = core::captureInfo(**S).Status;
  return Error::success();
}

Error getCaptureInfo(const char *Api, CUstream Stream, CUstreamCaptureStatus *Status, cuuint64_t *Id, CUgraph *Graph,
                     const CUgraphNode **Deps, const CUgraphEdgeData **Data, size_t *NumDeps, bool PerThread) {
  if (!Status)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": captureStatus_out is NULL");
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  core::CaptureInfo I = core::captureInfo(**S);
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

Error updateCaptureDeps(const char *Api, CUstream Stream, CUgraphNode *Deps, const CUgraphEdgeData *Data,
                        size_t NumDeps, unsigned Flags, bool PerThread) {
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  CUSHIM_TRY(core::checkDefaultEdges(Data, NumDeps));
  return core::updateCaptureDependencies(**S, Deps, NumDeps, Flags);
}

// ---- Nodes ----

Error addNode(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps, size_t NumDeps,
              Expected<core::GraphNode> Proto) {
  CUSHIM_TRY(requireInit());
  if (!Out)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": phGraphNode is NULL");
  auto G = core::requireGraph(Api, Graph);
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

Error setNode(const char *Api, CUgraphNode Node, Expected<core::GraphNode> Proto) {
  auto N = core::requireGraphNode(Api, Node);
  if (!N)
    return N.takeError();
  if (!Proto)
    return Proto.takeError();
  return core::setGraphNodeParams(**N, std::move(*Proto));
}

Error setExecNode(const char *Api, CUgraphExec Exec, CUgraphNode Node, Expected<core::GraphNode> Proto) {
  auto E = core::requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  if (!Proto)
    return Proto.takeError();
  return (*E)->setNodeParams(original(Node), std::move(*Proto));
}

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

// One side of a CUDA_MEMCPY3D: its base address (CUDA arrays are not supported here).
Expected<const void *> copySide(CUmemorytype Type, const void *Host, CUdeviceptr Device, CUarray Array,
                                const char *Side) {
  switch (Type) {
  case CU_MEMORYTYPE_HOST: return Host;
  case CU_MEMORYTYPE_DEVICE:
  case CU_MEMORYTYPE_UNIFIED: return reinterpret_cast<const void *>(Device);
  case CU_MEMORYTYPE_ARRAY:
    (void)Array;
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("memcpy node {}: CUDA arrays are not supported by cuda_shim's graphs yet", Side));
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("memcpy node {}: memory type {} is not defined", Side,
                                                           static_cast<int>(Type)));
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
  return core::copyNode(C);
}

Expected<core::GraphNode> memsetProto(const CUDA_MEMSET_NODE_PARAMS *P) {
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, "memset node params are NULL");
  return core::memsetNode(core::MemsetNodeParams{reinterpret_cast<void *>(P->dst), P->pitch, P->value,
                                                 P->elementSize, P->width, P->height});
}

Expected<core::GraphNode> hostProto(const CUDA_HOST_NODE_PARAMS *P) {
  if (!P || !P->fn)
    return makeError(CUDA_ERROR_INVALID_VALUE, "host node params or their function are NULL");
  core::GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_HOST;
  N.Host = core::HostNodeParams{P->fn, P->userData};
  return N;
}

Expected<core::GraphNode> eventProto(CUgraphNodeType Type, CUevent Event) {
  auto E = driverEvent("event node", Event);
  if (!E)
    return E.takeError();
  core::GraphNode N;
  N.Type = Type;
  N.Ev = *E;
  return N;
}

Error eventGet(const char *Api, CUgraphNode Node, CUgraphNodeType Type, CUevent *Out) {
  if (!Out)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": event_out is NULL");
  auto N = core::requireGraphNode(Api, Node, Type);
  if (!N)
    return N.takeError();
  *Out = (*N)->Ev->handle();
  return Error::success();
}

Expected<core::GraphNode> childProto(const char *Api, CUgraph Child) {
  auto G = core::requireGraph(Api, Child);
  if (!G)
    return G.takeError();
  core::GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_GRAPH;
  N.Child = (*G)->clone(true);
  return N;
}

core::GraphNode emptyProto() {
  core::GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_EMPTY;
  return N;
}

// ---- Structure and executable graphs ----

Error getEdges(const char *Api, CUgraph Graph, CUgraphNode *From, CUgraphNode *To, CUgraphEdgeData *Data,
               size_t *Count) {
  auto G = core::requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  return core::fillEdges((*G)->edges(), From, To, Data, Count);
}

Error nodeNeighbours(const char *Api, CUgraphNode Node, bool Dependents, CUgraphNode *Out, CUgraphEdgeData *Data,
                     size_t *Count) {
  auto N = core::requireGraphNode(Api, Node);
  if (!N)
    return N.takeError();
  CUSHIM_TRY(core::fillNodes(Dependents ? (*N)->Dependents : (*N)->Deps, Out, Count));
  if (Data && Out)
    for (size_t I = 0; I < *Count; ++I)
      Data[I] = CUgraphEdgeData{};
  return Error::success();
}

Error changeDependencies(const char *Api, CUgraph Graph, const CUgraphNode *From, const CUgraphNode *To,
                         const CUgraphEdgeData *Data, size_t Count, bool Add) {
  auto G = core::requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  CUSHIM_TRY(core::checkDefaultEdges(Data, Count));
  return Add ? (*G)->addDependencies(From, To, Count) : (*G)->removeDependencies(From, To, Count);
}

Expected<core::GraphExec *> instantiate(const char *Api, CUgraphExec *Exec, CUgraph Graph, unsigned long long Flags) {
  CUSHIM_TRY(requireInit());
  if (!Exec)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": phGraphExec is NULL");
  auto G = core::requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  auto E = core::GraphExec::instantiate(**G, Flags);
  if (!E)
    return E.takeError();
  *Exec = (*E)->handle();
  return *E;
}

Error instantiateWithLog(const char *Api, CUgraphExec *Exec, CUgraph Graph, CUgraphNode *ErrorNode, char *Log,
                         size_t LogSize) {
  if (ErrorNode)
    *ErrorNode = nullptr;
  auto E = instantiate(Api, Exec, Graph, 0);
  if (!E && Log && LogSize) {
    std::string Msg = E.error().message().substr(0, LogSize - 1);
    std::copy(Msg.begin(), Msg.end(), Log);
    Log[Msg.size()] = '\0';
  }
  return E ? Error::success() : E.takeError();
}

Error graphLaunch(const char *Api, CUgraphExec Exec, CUstream Stream, bool PerThread, bool Launch) {
  auto E = core::requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  auto S = driverStream(Api, Stream, PerThread);
  if (!S)
    return S.takeError();
  return Launch ? (*E)->launch(**S) : Error::success(); // cuGraphUpload: nothing to upload to a host backend
}

Error instantiateWithParams(const char *Api, CUgraphExec *Exec, CUgraph Graph, CUDA_GRAPH_INSTANTIATE_PARAMS *P,
                            bool PerThread) {
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, std::string(Api) + ": instantiateParams is NULL");
  P->hErrNode_out = nullptr;
  auto E = instantiate(Api, Exec, Graph, P->flags);
  if (!E) {
    P->result_out = E.error().code() == CUDA_ERROR_NOT_SUPPORTED ? CUDA_GRAPH_INSTANTIATE_NODE_OPERATION_NOT_SUPPORTED
                                                                  : CUDA_GRAPH_INSTANTIATE_INVALID_STRUCTURE;
    return E.takeError();
  }
  P->result_out = CUDA_GRAPH_INSTANTIATE_SUCCESS;
  if (P->flags & CUDA_GRAPH_INSTANTIATE_FLAG_UPLOAD)
    return graphLaunch(Api, *Exec, P->hUploadStream, PerThread, false);
  return Error::success();
}

Error execUpdate(const char *Api, CUgraphExec Exec, CUgraph Graph, core::GraphUpdateResult &R) {
  auto E = core::requireGraphExec(Api, Exec);
  if (!E)
    return E.takeError();
  auto G = core::requireGraph(Api, Graph);
  if (!G)
    return G.takeError();
  R.Result = CU_GRAPH_EXEC_UPDATE_ERROR;
  return (*E)->update(**G, R);
}

} // namespace

// ---- Stream capture ----------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuStreamBeginCapture(CUstream HStream) {
  ApiTrace T("cuStreamBeginCapture");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(beginCapture("cuStreamBeginCapture", HStream, CU_STREAM_CAPTURE_MODE_GLOBAL, nullptr, nullptr,
                             nullptr, 0, false));
}

CUSHIM_EXPORT CUresult cuStreamBeginCapture_ptsz(CUstream HStream) {
  ApiTrace T("cuStreamBeginCapture_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(beginCapture("cuStreamBeginCapture_ptsz", HStream, CU_STREAM_CAPTURE_MODE_GLOBAL, nullptr, nullptr,
                             nullptr, 0, true));
}

CUSHIM_EXPORT CUresult cuStreamBeginCapture_v2(CUstream HStream, CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCapture_v2");
  T.args("stream={} mode={}", static_cast<void *>(HStream), static_cast<int>(Mode));
  return T.done(beginCapture("cuStreamBeginCapture_v2", HStream, Mode, nullptr, nullptr, nullptr, 0, false));
}

CUSHIM_EXPORT CUresult cuStreamBeginCapture_v2_ptsz(CUstream HStream, CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCapture_v2_ptsz");
  T.args("stream={} mode={}", static_cast<void *>(HStream), static_cast<int>(Mode));
  return T.done(beginCapture("cuStreamBeginCapture_v2_ptsz", HStream, Mode, nullptr, nullptr, nullptr, 0, true));
}

CUSHIM_EXPORT CUresult cuStreamBeginCaptureToGraph(CUstream HStream, CUgraph HGraph, const CUgraphNode *Deps,
                                                   const CUgraphEdgeData *Data, size_t NumDeps,
                                                   CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCaptureToGraph");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(HStream), static_cast<void *>(HGraph),
         NumDeps, static_cast<int>(Mode));
  return T.done(beginCapture("cuStreamBeginCaptureToGraph", HStream, Mode, HGraph, Deps, Data, NumDeps, false));
}

CUSHIM_EXPORT CUresult cuStreamBeginCaptureToGraph_ptsz(CUstream HStream, CUgraph HGraph, const CUgraphNode *Deps,
                                                        const CUgraphEdgeData *Data, size_t NumDeps,
                                                        CUstreamCaptureMode Mode) {
  ApiTrace T("cuStreamBeginCaptureToGraph_ptsz");
  T.args("stream={} graph={} numDependencies={} mode={}", static_cast<void *>(HStream), static_cast<void *>(HGraph),
         NumDeps, static_cast<int>(Mode));
  return T.done(beginCapture("cuStreamBeginCaptureToGraph_ptsz", HStream, Mode, HGraph, Deps, Data, NumDeps, true));
}

CUSHIM_EXPORT CUresult cuStreamEndCapture(CUstream HStream, CUgraph *PhGraph) {
  ApiTrace T("cuStreamEndCapture");
  T.args("stream={} phGraph={}", static_cast<void *>(HStream), static_cast<void *>(PhGraph));
  return T.done(endCapture("cuStreamEndCapture", HStream, PhGraph, false));
}

CUSHIM_EXPORT CUresult cuStreamEndCapture_ptsz(CUstream HStream, CUgraph *PhGraph) {
  ApiTrace T("cuStreamEndCapture_ptsz");
  T.args("stream={} phGraph={}", static_cast<void *>(HStream), static_cast<void *>(PhGraph));
  return T.done(endCapture("cuStreamEndCapture_ptsz", HStream, PhGraph, true));
}

CUSHIM_EXPORT CUresult cuStreamIsCapturing(CUstream HStream, CUstreamCaptureStatus *Status) {
  ApiTrace T("cuStreamIsCapturing");
  T.args("stream={} captureStatus={}", static_cast<void *>(HStream), static_cast<void *>(Status));
  return T.done(isCapturing("cuStreamIsCapturing", HStream, Status, false));
}

CUSHIM_EXPORT CUresult cuStreamIsCapturing_ptsz(CUstream HStream, CUstreamCaptureStatus *Status) {
  ApiTrace T("cuStreamIsCapturing_ptsz");
  T.args("stream={} captureStatus={}", static_cast<void *>(HStream), static_cast<void *>(Status));
  return T.done(isCapturing("cuStreamIsCapturing_ptsz", HStream, Status, true));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id) {
  ApiTrace T("cuStreamGetCaptureInfo");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(getCaptureInfo("cuStreamGetCaptureInfo", HStream, Status, Id, nullptr, nullptr, nullptr, nullptr,
                               false));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_ptsz(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id) {
  ApiTrace T("cuStreamGetCaptureInfo_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(getCaptureInfo("cuStreamGetCaptureInfo_ptsz", HStream, Status, Id, nullptr, nullptr, nullptr,
                               nullptr, true));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v2(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                 CUgraph *Graph, const CUgraphNode **Deps, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v2");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(getCaptureInfo("cuStreamGetCaptureInfo_v2", HStream, Status, Id, Graph, Deps, nullptr, NumDeps,
                               false));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v2_ptsz(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                      CUgraph *Graph, const CUgraphNode **Deps, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v2_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(getCaptureInfo("cuStreamGetCaptureInfo_v2_ptsz", HStream, Status, Id, Graph, Deps, nullptr, NumDeps,
                               true));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v3(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                 CUgraph *Graph, const CUgraphNode **Deps,
                                                 const CUgraphEdgeData **Data, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v3");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(getCaptureInfo("cuStreamGetCaptureInfo_v3", HStream, Status, Id, Graph, Deps, Data, NumDeps, false));
}

CUSHIM_EXPORT CUresult cuStreamGetCaptureInfo_v3_ptsz(CUstream HStream, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                                      CUgraph *Graph, const CUgraphNode **Deps,
                                                      const CUgraphEdgeData **Data, size_t *NumDeps) {
  ApiTrace T("cuStreamGetCaptureInfo_v3_ptsz");
  T.args("stream={}", static_cast<void *>(HStream));
  return T.done(getCaptureInfo("cuStreamGetCaptureInfo_v3_ptsz", HStream, Status, Id, Graph, Deps, Data, NumDeps,
                               true));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies(CUstream HStream, CUgraphNode *Deps, size_t NumDeps,
                                                         unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(
      updateCaptureDeps("cuStreamUpdateCaptureDependencies", HStream, Deps, nullptr, NumDeps, Flags, false));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies_ptsz(CUstream HStream, CUgraphNode *Deps, size_t NumDeps,
                                                              unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies_ptsz");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(
      updateCaptureDeps("cuStreamUpdateCaptureDependencies_ptsz", HStream, Deps, nullptr, NumDeps, Flags, true));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies_v2(CUstream HStream, CUgraphNode *Deps,
                                                            const CUgraphEdgeData *Data, size_t NumDeps,
                                                            unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies_v2");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(updateCaptureDeps("cuStreamUpdateCaptureDependencies_v2", HStream, Deps, Data, NumDeps, Flags, false));
}

CUSHIM_EXPORT CUresult cuStreamUpdateCaptureDependencies_v2_ptsz(CUstream HStream, CUgraphNode *Deps,
                                                                 const CUgraphEdgeData *Data, size_t NumDeps,
                                                                 unsigned int Flags) {
  ApiTrace T("cuStreamUpdateCaptureDependencies_v2_ptsz");
  T.args("stream={} numDependencies={} flags={:#x}", static_cast<void *>(HStream), NumDeps, Flags);
  return T.done(
      updateCaptureDeps("cuStreamUpdateCaptureDependencies_v2_ptsz", HStream, Deps, Data, NumDeps, Flags, true));
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
    if (!PhGraph)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphCreate: phGraph is NULL");
    auto G = core::Graph::create(Flags);
    if (!G)
      return G.takeError();
    *PhGraph = (*G)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphDestroy(CUgraph HGraph) {
  ApiTrace T("cuGraphDestroy");
  T.args("graph={}", static_cast<void *>(HGraph));
  CUSHIM_DRIVER_BODY(T, {
    auto G = core::requireGraph("cuGraphDestroy", HGraph);
    if (!G)
      return G.takeError();
    return core::Graph::destroy(*G);
  });
}

CUSHIM_EXPORT CUresult cuGraphClone(CUgraph *PhGraphClone, CUgraph OriginalGraph) {
  ApiTrace T("cuGraphClone");
  T.args("phGraphClone={} originalGraph={}", static_cast<void *>(PhGraphClone), static_cast<void *>(OriginalGraph));
  CUSHIM_DRIVER_BODY(T, {
    if (!PhGraphClone)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphClone: phGraphClone is NULL");
    auto G = core::requireGraph("cuGraphClone", OriginalGraph);
    if (!G)
      return G.takeError();
    *PhGraphClone = (*G)->clone(true).release()->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphNodeFindInClone(CUgraphNode *PhNode, CUgraphNode HOriginalNode, CUgraph HClonedGraph) {
  ApiTrace T("cuGraphNodeFindInClone");
  T.args("phNode={} originalNode={} clonedGraph={}", static_cast<void *>(PhNode), static_cast<void *>(HOriginalNode),
         static_cast<void *>(HClonedGraph));
  CUSHIM_DRIVER_BODY(T, {
    if (!PhNode)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphNodeFindInClone: phNode is NULL");
    auto N = core::requireGraphNode("cuGraphNodeFindInClone", HOriginalNode);
    if (!N)
      return N.takeError();
    auto G = core::requireGraph("cuGraphNodeFindInClone", HClonedGraph);
    if (!G)
      return G.takeError();
    for (auto &C : (*G)->nodes())
      if (C->ClonedFrom == *N) {
        *PhNode = C->handle();
        return Error::success();
      }
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphNodeFindInClone: the graph is not a clone holding that node");
  });
}

CUSHIM_EXPORT CUresult cuGraphNodeGetType(CUgraphNode HNode, CUgraphNodeType *Type) {
  ApiTrace T("cuGraphNodeGetType");
  T.args("node={} type={}", static_cast<void *>(HNode), static_cast<void *>(Type));
  CUSHIM_DRIVER_BODY(T, {
    if (!Type)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphNodeGetType: type is NULL");
    auto N = core::requireGraphNode("cuGraphNodeGetType", HNode);
    if (!N)
      return N.takeError();
    *Type = (*N)->Type;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphGetNodes(CUgraph HGraph, CUgraphNode *Nodes, size_t *NumNodes) {
  ApiTrace T("cuGraphGetNodes");
  T.args("graph={} nodes={} numNodes={}", static_cast<void *>(HGraph), static_cast<void *>(Nodes),
         static_cast<void *>(NumNodes));
  CUSHIM_DRIVER_BODY(T, {
    auto G = core::requireGraph("cuGraphGetNodes", HGraph);
    if (!G)
      return G.takeError();
    std::vector<core::GraphNode *> All;
    for (auto &N : (*G)->nodes())
      All.push_back(N.get());
    return core::fillNodes(All, Nodes, NumNodes);
  });
}

CUSHIM_EXPORT CUresult cuGraphGetRootNodes(CUgraph HGraph, CUgraphNode *RootNodes, size_t *NumRootNodes) {
  ApiTrace T("cuGraphGetRootNodes");
  T.args("graph={} rootNodes={} numRootNodes={}", static_cast<void *>(HGraph), static_cast<void *>(RootNodes),
         static_cast<void *>(NumRootNodes));
  CUSHIM_DRIVER_BODY(T, {
    auto G = core::requireGraph("cuGraphGetRootNodes", HGraph);
    if (!G)
      return G.takeError();
    return core::fillNodes((*G)->roots(), RootNodes, NumRootNodes);
  });
}

CUSHIM_EXPORT CUresult cuGraphGetEdges(CUgraph HGraph, CUgraphNode *From, CUgraphNode *To, size_t *NumEdges) {
  ApiTrace T("cuGraphGetEdges");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(getEdges("cuGraphGetEdges", HGraph, From, To, nullptr, NumEdges));
}

CUSHIM_EXPORT CUresult cuGraphGetEdges_v2(CUgraph HGraph, CUgraphNode *From, CUgraphNode *To, CUgraphEdgeData *Data,
                                          size_t *NumEdges) {
  ApiTrace T("cuGraphGetEdges_v2");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(getEdges("cuGraphGetEdges_v2", HGraph, From, To, Data, NumEdges));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependencies(CUgraphNode HNode, CUgraphNode *Deps, size_t *NumDeps) {
  ApiTrace T("cuGraphNodeGetDependencies");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(nodeNeighbours("cuGraphNodeGetDependencies", HNode, false, Deps, nullptr, NumDeps));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependencies_v2(CUgraphNode HNode, CUgraphNode *Deps, CUgraphEdgeData *Data,
                                                     size_t *NumDeps) {
  ApiTrace T("cuGraphNodeGetDependencies_v2");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(nodeNeighbours("cuGraphNodeGetDependencies_v2", HNode, false, Deps, Data, NumDeps));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependentNodes(CUgraphNode HNode, CUgraphNode *Nodes, size_t *NumNodes) {
  ApiTrace T("cuGraphNodeGetDependentNodes");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(nodeNeighbours("cuGraphNodeGetDependentNodes", HNode, true, Nodes, nullptr, NumNodes));
}

CUSHIM_EXPORT CUresult cuGraphNodeGetDependentNodes_v2(CUgraphNode HNode, CUgraphNode *Nodes, CUgraphEdgeData *Data,
                                                       size_t *NumNodes) {
  ApiTrace T("cuGraphNodeGetDependentNodes_v2");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(nodeNeighbours("cuGraphNodeGetDependentNodes_v2", HNode, true, Nodes, Data, NumNodes));
}

CUSHIM_EXPORT CUresult cuGraphAddDependencies(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                              size_t NumDeps) {
  ApiTrace T("cuGraphAddDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(changeDependencies("cuGraphAddDependencies", HGraph, From, To, nullptr, NumDeps, true));
}

CUSHIM_EXPORT CUresult cuGraphAddDependencies_v2(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                                 const CUgraphEdgeData *Data, size_t NumDeps) {
  ApiTrace T("cuGraphAddDependencies_v2");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(changeDependencies("cuGraphAddDependencies_v2", HGraph, From, To, Data, NumDeps, true));
}

CUSHIM_EXPORT CUresult cuGraphRemoveDependencies(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                                 size_t NumDeps) {
  ApiTrace T("cuGraphRemoveDependencies");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(changeDependencies("cuGraphRemoveDependencies", HGraph, From, To, nullptr, NumDeps, false));
}

CUSHIM_EXPORT CUresult cuGraphRemoveDependencies_v2(CUgraph HGraph, const CUgraphNode *From, const CUgraphNode *To,
                                                    const CUgraphEdgeData *Data, size_t NumDeps) {
  ApiTrace T("cuGraphRemoveDependencies_v2");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(changeDependencies("cuGraphRemoveDependencies_v2", HGraph, From, To, Data, NumDeps, false));
}

CUSHIM_EXPORT CUresult cuGraphDestroyNode(CUgraphNode HNode) {
  ApiTrace T("cuGraphDestroyNode");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    auto N = core::requireGraphNode("cuGraphDestroyNode", HNode);
    if (!N)
      return N.takeError();
    return core::Graph::destroyNode(*N);
  });
}

CUSHIM_EXPORT CUresult cuGraphDebugDotPrint(CUgraph HGraph, const char *Path, unsigned int Flags) {
  ApiTrace T("cuGraphDebugDotPrint");
  T.args("graph={} path={} flags={:#x}", static_cast<void *>(HGraph), Path ? Path : "(null)", Flags);
  CUSHIM_DRIVER_BODY(T, {
    if (!Path)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphDebugDotPrint: path is NULL");
    auto G = core::requireGraph("cuGraphDebugDotPrint", HGraph);
    if (!G)
      return G.takeError();
    return (*G)->debugDotPrint(Path, Flags);
  });
}

// ---- Node kinds --------------------------------------------------------------------------------------------------

CUSHIM_EXPORT CUresult cuGraphAddKernelNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                            size_t NumDeps, const CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphAddKernelNode");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(addNode("cuGraphAddKernelNode", PhGraphNode, HGraph, Deps, NumDeps, kernelProtoV1(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddKernelNode_v2(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                               size_t NumDeps, const CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphAddKernelNode_v2");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(addNode("cuGraphAddKernelNode_v2", PhGraphNode, HGraph, Deps, NumDeps, kernelProtoV2(NodeParams)));
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
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphKernelNodeSetParams(CUgraphNode HNode, const CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphKernelNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(setNode("cuGraphKernelNodeSetParams", HNode, kernelProtoV1(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphKernelNodeSetParams_v2(CUgraphNode HNode, const CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphKernelNodeSetParams_v2");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(setNode("cuGraphKernelNodeSetParams_v2", HNode, kernelProtoV2(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecKernelNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                      const CUDA_KERNEL_NODE_PARAMS_v1 *NodeParams) {
  ApiTrace T("cuGraphExecKernelNodeSetParams");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(setExecNode("cuGraphExecKernelNodeSetParams", HGraphExec, HNode, kernelProtoV1(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecKernelNodeSetParams_v2(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                         const CUDA_KERNEL_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphExecKernelNodeSetParams_v2");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(setExecNode("cuGraphExecKernelNodeSetParams_v2", HGraphExec, HNode, kernelProtoV2(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddMemcpyNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                            size_t NumDeps, const CUDA_MEMCPY3D *CopyParams, CUcontext Ctx) {
  ApiTrace T("cuGraphAddMemcpyNode");
  T.args("graph={} numDependencies={} ctx={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Ctx));
  return T.done(addNode("cuGraphAddMemcpyNode", PhGraphNode, HGraph, Deps, NumDeps, copyProto(CopyParams)));
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
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphMemcpyNodeSetParams(CUgraphNode HNode, const CUDA_MEMCPY3D *NodeParams) {
  ApiTrace T("cuGraphMemcpyNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(setNode("cuGraphMemcpyNodeSetParams", HNode, copyProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecMemcpyNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                      const CUDA_MEMCPY3D *CopyParams, CUcontext Ctx) {
  ApiTrace T("cuGraphExecMemcpyNodeSetParams");
  T.args("graphExec={} node={} ctx={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Ctx));
  return T.done(setExecNode("cuGraphExecMemcpyNodeSetParams", HGraphExec, HNode, copyProto(CopyParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddMemsetNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                            size_t NumDeps, const CUDA_MEMSET_NODE_PARAMS *MemsetParams,
                                            CUcontext Ctx) {
  ApiTrace T("cuGraphAddMemsetNode");
  T.args("graph={} numDependencies={} ctx={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Ctx));
  return T.done(addNode("cuGraphAddMemsetNode", PhGraphNode, HGraph, Deps, NumDeps, memsetProto(MemsetParams)));
}

CUSHIM_EXPORT CUresult cuGraphMemsetNodeGetParams(CUgraphNode HNode, CUDA_MEMSET_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphMemsetNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    if (!NodeParams)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphMemsetNodeGetParams: nodeParams is NULL");
    auto N = core::requireGraphNode("cuGraphMemsetNodeGetParams", HNode, CU_GRAPH_NODE_TYPE_MEMSET);
    if (!N)
      return N.takeError();
    const core::MemsetNodeParams &M = (*N)->Memset;
    *NodeParams = CUDA_MEMSET_NODE_PARAMS{};
    NodeParams->dst = reinterpret_cast<CUdeviceptr>(M.Dst);
    NodeParams->pitch = M.Pitch, NodeParams->value = M.Value, NodeParams->elementSize = M.ElementSize;
    NodeParams->width = M.Width, NodeParams->height = M.Height;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphMemsetNodeSetParams(CUgraphNode HNode, const CUDA_MEMSET_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphMemsetNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(setNode("cuGraphMemsetNodeSetParams", HNode, memsetProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecMemsetNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                      const CUDA_MEMSET_NODE_PARAMS *MemsetParams, CUcontext Ctx) {
  ApiTrace T("cuGraphExecMemsetNodeSetParams");
  T.args("graphExec={} node={} ctx={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Ctx));
  return T.done(setExecNode("cuGraphExecMemsetNodeSetParams", HGraphExec, HNode, memsetProto(MemsetParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddHostNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                          size_t NumDeps, const CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphAddHostNode");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(addNode("cuGraphAddHostNode", PhGraphNode, HGraph, Deps, NumDeps, hostProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphHostNodeGetParams(CUgraphNode HNode, CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphHostNodeGetParams");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    if (!NodeParams)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphHostNodeGetParams: nodeParams is NULL");
    auto N = core::requireGraphNode("cuGraphHostNodeGetParams", HNode, CU_GRAPH_NODE_TYPE_HOST);
    if (!N)
      return N.takeError();
    NodeParams->fn = (*N)->Host.Fn;
    NodeParams->userData = (*N)->Host.UserData;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphHostNodeSetParams(CUgraphNode HNode, const CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphHostNodeSetParams");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(setNode("cuGraphHostNodeSetParams", HNode, hostProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphExecHostNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                    const CUDA_HOST_NODE_PARAMS *NodeParams) {
  ApiTrace T("cuGraphExecHostNodeSetParams");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  return T.done(setExecNode("cuGraphExecHostNodeSetParams", HGraphExec, HNode, hostProto(NodeParams)));
}

CUSHIM_EXPORT CUresult cuGraphAddChildGraphNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                                size_t NumDeps, CUgraph ChildGraph) {
  ApiTrace T("cuGraphAddChildGraphNode");
  T.args("graph={} numDependencies={} childGraph={}", static_cast<void *>(HGraph), NumDeps,
         static_cast<void *>(ChildGraph));
  return T.done(addNode("cuGraphAddChildGraphNode", PhGraphNode, HGraph, Deps, NumDeps,
                        childProto("cuGraphAddChildGraphNode", ChildGraph)));
}

CUSHIM_EXPORT CUresult cuGraphChildGraphNodeGetGraph(CUgraphNode HNode, CUgraph *PhGraph) {
  ApiTrace T("cuGraphChildGraphNodeGetGraph");
  T.args("node={}", static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    if (!PhGraph)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphChildGraphNodeGetGraph: phGraph is NULL");
    auto N = core::requireGraphNode("cuGraphChildGraphNodeGetGraph", HNode, CU_GRAPH_NODE_TYPE_GRAPH);
    if (!N)
      return N.takeError();
    *PhGraph = (*N)->Child->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphExecChildGraphNodeSetParams(CUgraphExec HGraphExec, CUgraphNode HNode,
                                                          CUgraph ChildGraph) {
  ApiTrace T("cuGraphExecChildGraphNodeSetParams");
  T.args("graphExec={} node={} childGraph={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(ChildGraph));
  return T.done(setExecNode("cuGraphExecChildGraphNodeSetParams", HGraphExec, HNode,
                            childProto("cuGraphExecChildGraphNodeSetParams", ChildGraph)));
}

CUSHIM_EXPORT CUresult cuGraphAddEmptyNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                           size_t NumDeps) {
  ApiTrace T("cuGraphAddEmptyNode");
  T.args("graph={} numDependencies={}", static_cast<void *>(HGraph), NumDeps);
  return T.done(addNode("cuGraphAddEmptyNode", PhGraphNode, HGraph, Deps, NumDeps, emptyProto()));
}

CUSHIM_EXPORT CUresult cuGraphAddEventRecordNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                                 size_t NumDeps, CUevent Event) {
  ApiTrace T("cuGraphAddEventRecordNode");
  T.args("graph={} numDependencies={} event={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Event));
  return T.done(addNode("cuGraphAddEventRecordNode", PhGraphNode, HGraph, Deps, NumDeps,
                        eventProto(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT CUresult cuGraphEventRecordNodeGetEvent(CUgraphNode HNode, CUevent *EventOut) {
  ApiTrace T("cuGraphEventRecordNodeGetEvent");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(eventGet("cuGraphEventRecordNodeGetEvent", HNode, CU_GRAPH_NODE_TYPE_EVENT_RECORD, EventOut));
}

CUSHIM_EXPORT CUresult cuGraphEventRecordNodeSetEvent(CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphEventRecordNodeSetEvent");
  T.args("node={} event={}", static_cast<void *>(HNode), static_cast<void *>(Event));
  return T.done(
      setNode("cuGraphEventRecordNodeSetEvent", HNode, eventProto(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT CUresult cuGraphExecEventRecordNodeSetEvent(CUgraphExec HGraphExec, CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphExecEventRecordNodeSetEvent");
  T.args("graphExec={} node={} event={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Event));
  return T.done(setExecNode("cuGraphExecEventRecordNodeSetEvent", HGraphExec, HNode,
                            eventProto(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT CUresult cuGraphAddEventWaitNode(CUgraphNode *PhGraphNode, CUgraph HGraph, const CUgraphNode *Deps,
                                               size_t NumDeps, CUevent Event) {
  ApiTrace T("cuGraphAddEventWaitNode");
  T.args("graph={} numDependencies={} event={}", static_cast<void *>(HGraph), NumDeps, static_cast<void *>(Event));
  return T.done(addNode("cuGraphAddEventWaitNode", PhGraphNode, HGraph, Deps, NumDeps,
                        eventProto(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

CUSHIM_EXPORT CUresult cuGraphEventWaitNodeGetEvent(CUgraphNode HNode, CUevent *EventOut) {
  ApiTrace T("cuGraphEventWaitNodeGetEvent");
  T.args("node={}", static_cast<void *>(HNode));
  return T.done(eventGet("cuGraphEventWaitNodeGetEvent", HNode, CU_GRAPH_NODE_TYPE_WAIT_EVENT, EventOut));
}

CUSHIM_EXPORT CUresult cuGraphEventWaitNodeSetEvent(CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphEventWaitNodeSetEvent");
  T.args("node={} event={}", static_cast<void *>(HNode), static_cast<void *>(Event));
  return T.done(setNode("cuGraphEventWaitNodeSetEvent", HNode, eventProto(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

CUSHIM_EXPORT CUresult cuGraphExecEventWaitNodeSetEvent(CUgraphExec HGraphExec, CUgraphNode HNode, CUevent Event) {
  ApiTrace T("cuGraphExecEventWaitNodeSetEvent");
  T.args("graphExec={} node={} event={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode),
         static_cast<void *>(Event));
  return T.done(setExecNode("cuGraphExecEventWaitNodeSetEvent", HGraphExec, HNode,
                            eventProto(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
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
  CUSHIM_DRIVER_BODY(T, {
    auto E = instantiate("cuGraphInstantiateWithFlags", PhGraphExec, HGraph, Flags);
    return E ? Error::success() : E.takeError();
  });
}

CUSHIM_EXPORT CUresult cuGraphInstantiateWithParams(CUgraphExec *PhGraphExec, CUgraph HGraph,
                                                    CUDA_GRAPH_INSTANTIATE_PARAMS *InstantiateParams) {
  ApiTrace T("cuGraphInstantiateWithParams");
  T.args("graph={}", static_cast<void *>(HGraph));
  return T.done(
      instantiateWithParams("cuGraphInstantiateWithParams", PhGraphExec, HGraph, InstantiateParams, false));
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
  CUSHIM_DRIVER_BODY(T, {
    if (!Flags)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphExecGetFlags: flags is NULL");
    auto E = core::requireGraphExec("cuGraphExecGetFlags", HGraphExec);
    if (!E)
      return E.takeError();
    *Flags = (*E)->flags();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuGraphLaunch(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphLaunch");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(graphLaunch("cuGraphLaunch", HGraphExec, HStream, false, true));
}

CUSHIM_EXPORT CUresult cuGraphLaunch_ptsz(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphLaunch_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(graphLaunch("cuGraphLaunch_ptsz", HGraphExec, HStream, true, true));
}

CUSHIM_EXPORT CUresult cuGraphUpload(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphUpload");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(graphLaunch("cuGraphUpload", HGraphExec, HStream, false, false));
}

CUSHIM_EXPORT CUresult cuGraphUpload_ptsz(CUgraphExec HGraphExec, CUstream HStream) {
  ApiTrace T("cuGraphUpload_ptsz");
  T.args("graphExec={} stream={}", static_cast<void *>(HGraphExec), static_cast<void *>(HStream));
  return T.done(graphLaunch("cuGraphUpload_ptsz", HGraphExec, HStream, true, false));
}

CUSHIM_EXPORT CUresult cuGraphExecDestroy(CUgraphExec HGraphExec) {
  ApiTrace T("cuGraphExecDestroy");
  T.args("graphExec={}", static_cast<void *>(HGraphExec));
  CUSHIM_DRIVER_BODY(T, {
    auto E = core::requireGraphExec("cuGraphExecDestroy", HGraphExec);
    if (!E)
      return E.takeError();
    return core::GraphExec::destroy(*E);
  });
}

CUSHIM_EXPORT CUresult cuGraphExecUpdate(CUgraphExec HGraphExec, CUgraph HGraph, CUgraphNode *HErrorNodeOut,
                                         CUgraphExecUpdateResult *UpdateResultOut) {
  ApiTrace T("cuGraphExecUpdate");
  T.args("graphExec={} graph={}", static_cast<void *>(HGraphExec), static_cast<void *>(HGraph));
  CUSHIM_DRIVER_BODY(T, {
    if (!HErrorNodeOut || !UpdateResultOut)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphExecUpdate: hErrorNode_out or updateResult_out is NULL");
    core::GraphUpdateResult R;
    Error E = execUpdate("cuGraphExecUpdate", HGraphExec, HGraph, R);
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
    Error E = execUpdate("cuGraphExecUpdate_v2", HGraphExec, HGraph, R);
    ResultInfo->result = R.Result;
    ResultInfo->errorNode = R.ErrorNode ? R.ErrorNode->handle() : nullptr;
    ResultInfo->errorFromNode = R.ErrorFromNode ? R.ErrorFromNode->handle() : nullptr;
    return E;
  });
}

CUSHIM_EXPORT CUresult cuGraphNodeSetEnabled(CUgraphExec HGraphExec, CUgraphNode HNode, unsigned int IsEnabled) {
  ApiTrace T("cuGraphNodeSetEnabled");
  T.args("graphExec={} node={} isEnabled={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode), IsEnabled);
  CUSHIM_DRIVER_BODY(T, {
    auto E = core::requireGraphExec("cuGraphNodeSetEnabled", HGraphExec);
    if (!E)
      return E.takeError();
    return (*E)->setEnabled(original(HNode), IsEnabled != 0);
  });
}

CUSHIM_EXPORT CUresult cuGraphNodeGetEnabled(CUgraphExec HGraphExec, CUgraphNode HNode, unsigned int *IsEnabled) {
  ApiTrace T("cuGraphNodeGetEnabled");
  T.args("graphExec={} node={}", static_cast<void *>(HGraphExec), static_cast<void *>(HNode));
  CUSHIM_DRIVER_BODY(T, {
    if (!IsEnabled)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGraphNodeGetEnabled: isEnabled is NULL");
    auto E = core::requireGraphExec("cuGraphNodeGetEnabled", HGraphExec);
    if (!E)
      return E.takeError();
    auto R = (*E)->enabled(original(HNode));
    if (!R)
      return R.takeError();
    *IsEnabled = *R ? 1 : 0;
    return Error::success();
  });
}
