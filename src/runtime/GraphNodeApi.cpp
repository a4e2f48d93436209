// Graphs of the runtime API, part 2: the node kinds (kernel, memcpy, memset, host, child graph, empty, event record and
// wait): adding them, their getters and setters, and the executable-graph setters (docs/GRAPHS.md).
#include "runtime/RuntimeStream.h"

#include "core/Array.h"
#include "core/Graph.h"
#include "core/Module.h"

using namespace cushim;
using namespace cushim::runtime;

namespace {

// ---- Kernel nodes ----

Expected<core::GraphNode> kernelProto(const cudaKernelNodeParams *P) {
  if (!P)
    return runtimeError(cudaErrorInvalidValue, "kernel node params are NULL");
  auto F = functionFor(P->func);
  if (!F)
    return F.takeError();
  core::LaunchConfig C;
  C.Grid[0] = P->gridDim.x, C.Grid[1] = P->gridDim.y, C.Grid[2] = P->gridDim.z;
  C.Block[0] = P->blockDim.x, C.Block[1] = P->blockDim.y, C.Block[2] = P->blockDim.z;
  C.DynamicShared = P->sharedMemBytes;
  return core::kernelNode(**F, C, P->kernelParams, P->extra, P->func);
}

// The host stub that registered F's kernel (captured launches only know the function).
const void *hostStubOf(const core::Function &F) {
  Registry &R = registry();
  std::shared_lock<std::shared_mutex> G(R.Mutex);
  for (auto &[HostFun, K] : R.Kernels) {
    if (K->DeviceName != F.name())
      continue;
    auto It = K->Fatbin->Modules.find(&F.module().context());
    if (It != K->Fatbin->Modules.end() && It->second == &F.module())
      return HostFun;
  }
  return const_cast<core::Function &>(F).handle(); // loaded through the driver API: the CUfunction is all there is
}

Error kernelGet(cudaGraphNode_t Node, cudaKernelNodeParams *P) {
  if (!P)
    return runtimeError(cudaErrorInvalidValue, "cudaGraphKernelNodeGetParams: pNodeParams is NULL");
  auto N = core::requireGraphNode("cudaGraphKernelNodeGetParams", Node, CU_GRAPH_NODE_TYPE_KERNEL);
  if (!N)
    return N.takeError();
  const core::KernelNodeParams &K = (*N)->Kernel;
  P->func = const_cast<void *>(K.ApiFunc ? K.ApiFunc : hostStubOf(*K.F));
  P->gridDim = dim3(K.Config.Grid[0], K.Config.Grid[1], K.Config.Grid[2]);
  P->blockDim = dim3(K.Config.Block[0], K.Config.Block[1], K.Config.Block[2]);
  P->sharedMemBytes = K.Config.DynamicShared;
  P->kernelParams = core::kernelNodeArgPointers(**N);
  P->extra = nullptr;
  return Error::success();
}

// ---- Copy nodes ----

Error checkKind(cudaMemcpyKind Kind) {
  if (Kind < cudaMemcpyHostToHost || Kind > cudaMemcpyDefault)
    return runtimeError(cudaErrorInvalidMemcpyDirection, fmt::format("memcpy kind {} is not defined", int(Kind)));
  return Error::success();
}

Expected<core::GraphNode> copyProto(const cudaMemcpy3DParms *P) {
  if (!P)
    return runtimeError(cudaErrorInvalidValue, "memcpy node params are NULL");
  CUSHIM_TRY(checkKind(P->kind));
  // Arrays are looked up first, as cudaMemcpy3D does (a dead handle: cudaErrorInvalidResourceHandle).
  core::Array *SA = P->srcArray ? core::lookupArray(P->srcArray) : nullptr;
  core::Array *DA = P->dstArray ? core::lookupArray(P->dstArray) : nullptr;
  if ((P->srcArray && !SA) || (P->dstArray && !DA))
    return runtimeError(cudaErrorInvalidResourceHandle, "memcpy node: not a live CUDA array");
  if ((P->srcArray != nullptr) == (P->srcPtr.ptr != nullptr) || (P->dstArray != nullptr) == (P->dstPtr.ptr != nullptr))
    return runtimeError(cudaErrorInvalidValue, "memcpy node: give exactly one of srcArray/srcPtr and one of "
                                               "dstArray/dstPtr");
  core::CopyNodeParams C;
  C.Dst = P->dstPtr.ptr;
  C.Src = P->srcPtr.ptr;
  C.DstPitch = P->dstPtr.pitch, C.DstHeight = P->dstPtr.ysize;
  C.SrcPitch = P->srcPtr.pitch, C.SrcHeight = P->srcPtr.ysize;
  C.DstX = P->dstPos.x, C.DstY = P->dstPos.y, C.DstZ = P->dstPos.z;
  C.SrcX = P->srcPos.x, C.SrcY = P->srcPos.y, C.SrcZ = P->srcPos.z;
  C.Width = P->extent.width, C.Height = P->extent.height, C.Depth = P->extent.depth;
  C.Kind = P->kind;
  // Where an array takes part, the extent and the array's position count its elements (cudaMemcpy3D's rule).
  if (SA && DA && SA->elementSize() != DA->elementSize())
    return runtimeError(cudaErrorInvalidValue, "memcpy node: the arrays' element sizes differ");
  size_t Elem = SA ? SA->elementSize() : DA ? DA->elementSize() : 1;
  C.Width *= Elem;
  if (SA)
    CUSHIM_TRY(core::copyArraySide(C, true, SA->handle(), P->srcPos.x * Elem, P->srcPos.y, P->srcPos.z));
  if (DA)
    CUSHIM_TRY(core::copyArraySide(C, false, DA->handle(), P->dstPos.x * Elem, P->dstPos.y, P->dstPos.z));
  return core::copyNode(C);
}

Expected<core::GraphNode> copyProto1D(void *Dst, const void *Src, size_t Count, cudaMemcpyKind Kind) {
  CUSHIM_TRY(checkKind(Kind));
  core::CopyNodeParams C;
  C.Dst = Dst, C.Src = Src;
  C.Width = C.DstPitch = C.SrcPitch = Count;
  C.DstHeight = C.SrcHeight = 1;
  C.Kind = Kind;
  return core::copyNode(C);
}

// A symbol copy as a 1D copy: ToSymbol writes the variable, FromSymbol reads it.
Expected<core::GraphNode> symbolProto(const void *Symbol, void *Host, size_t Count, size_t Offset, cudaMemcpyKind Kind,
                                      bool ToSymbol) {
  auto V = variableFor(Symbol);
  if (!V)
    return V.takeError();
  if (Offset > V->second || Count > V->second - Offset)
    return runtimeError(cudaErrorInvalidValue,
                        fmt::format("{} bytes at offset {} exceed the symbol's {} bytes", Count, Offset, V->second));
  char *Address = static_cast<char *>(V->first) + Offset;
  return ToSymbol ? copyProto1D(Address, Host, Count, Kind) : copyProto1D(Host, Address, Count, Kind);
}

Error copyGet(cudaGraphNode_t Node, cudaMemcpy3DParms *P) {
  if (!P)
    return runtimeError(cudaErrorInvalidValue, "cudaGraphMemcpyNodeGetParams: pNodeParams is NULL");
  auto N = core::requireGraphNode("cudaGraphMemcpyNodeGetParams", Node, CU_GRAPH_NODE_TYPE_MEMCPY);
  if (!N)
    return N.takeError();
  const core::CopyNodeParams &C = (*N)->Copy;
  *P = cudaMemcpy3DParms{};
  P->srcPtr = cudaPitchedPtr{const_cast<void *>(C.Src), C.SrcPitch, C.Width, C.SrcHeight};
  P->dstPtr = cudaPitchedPtr{C.Dst, C.DstPitch, C.Width, C.DstHeight};
  P->srcPos = cudaPos{C.SrcX, C.SrcY, C.SrcZ};
  P->dstPos = cudaPos{C.DstX, C.DstY, C.DstZ};
  P->extent = cudaExtent{C.Width, C.Height, C.Depth};
  // Arrays are reported as the application gave them, positions and extent in their elements.
  size_t Elem = C.ArrayElementSize;
  if (C.SrcArray) {
    P->srcArray = reinterpret_cast<cudaArray_t>(C.SrcArray);
    P->srcPtr = cudaPitchedPtr{};
    P->srcPos.x = C.SrcX / Elem;
  }
  if (C.DstArray) {
    P->dstArray = reinterpret_cast<cudaArray_t>(C.DstArray);
    P->dstPtr = cudaPitchedPtr{};
    P->dstPos.x = C.DstX / Elem;
  }
  if (C.SrcArray || C.DstArray)
    P->extent.width = C.Width / Elem;
  P->kind = static_cast<cudaMemcpyKind>(C.Kind);
  return Error::success();
}

// ---- Memset, host, event nodes ----

Expected<core::GraphNode> memsetProto(const cudaMemsetParams *P) {
  if (!P)
    return runtimeError(cudaErrorInvalidValue, "memset node params are NULL");
  return core::memsetNode(core::MemsetNodeParams{P->dst, P->pitch, P->value, P->elementSize, P->width, P->height});
}

Expected<core::GraphNode> hostNodeFrom(const cudaHostNodeParams *P) {
  return P ? core::hostGraphNode(P->fn, P->userData) : core::hostGraphNode(nullptr, nullptr);
}

} // namespace

// ---- Kernel nodes ------------------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphAddKernelNode(cudaGraphNode_t *Node, cudaGraph_t Graph, const cudaGraphNode_t *Deps,
                                                 size_t NumDeps, const struct cudaKernelNodeParams *P) {
  ApiTrace T("cudaGraphAddKernelNode");
  T.args("pGraphNode={} graph={} numDependencies={} params={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, static_cast<const void *>(P));
  return finish(T, core::graphAddNodeApi("cudaGraphAddKernelNode", Node, Graph, Deps, NumDeps, kernelProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphKernelNodeGetParams(cudaGraphNode_t Node, struct cudaKernelNodeParams *P) {
  ApiTrace T("cudaGraphKernelNodeGetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<void *>(P));
  return finish(T, kernelGet(Node, P));
}

CUSHIM_EXPORT cudaError_t cudaGraphKernelNodeSetParams(cudaGraphNode_t Node, const struct cudaKernelNodeParams *P) {
  ApiTrace T("cudaGraphKernelNodeSetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<const void *>(P));
  return finish(T, core::graphSetNodeApi("cudaGraphKernelNodeSetParams", Node, kernelProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecKernelNodeSetParams(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                           const struct cudaKernelNodeParams *P) {
  ApiTrace T("cudaGraphExecKernelNodeSetParams");
  T.args("graphExec={} node={} params={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<const void *>(P));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecKernelNodeSetParams", Exec, Node, kernelProto(P)));
}

// ---- Memcpy nodes ------------------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphAddMemcpyNode(cudaGraphNode_t *Node, cudaGraph_t Graph, const cudaGraphNode_t *Deps,
                                                 size_t NumDeps, const struct cudaMemcpy3DParms *P) {
  ApiTrace T("cudaGraphAddMemcpyNode");
  T.args("pGraphNode={} graph={} numDependencies={} params={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, static_cast<const void *>(P));
  return finish(T, core::graphAddNodeApi("cudaGraphAddMemcpyNode", Node, Graph, Deps, NumDeps, copyProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddMemcpyNode1D(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                   const cudaGraphNode_t *Deps, size_t NumDeps, void *Dst,
                                                   const void *Src, size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphAddMemcpyNode1D");
  T.args("pGraphNode={} graph={} numDependencies={} dst={} src={} count={} kind={}", static_cast<void *>(Node),
         static_cast<void *>(Graph), NumDeps, Dst, Src, Count, static_cast<int>(Kind));
  return finish(T, core::graphAddNodeApi("cudaGraphAddMemcpyNode1D", Node, Graph, Deps, NumDeps,
                                         copyProto1D(Dst, Src, Count, Kind)));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddMemcpyNodeToSymbol(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                         const cudaGraphNode_t *Deps, size_t NumDeps,
                                                         const void *Symbol, const void *Src, size_t Count,
                                                         size_t Offset, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphAddMemcpyNodeToSymbol");
  T.args("graph={} symbol={} src={} count={} offset={}", static_cast<void *>(Graph), Symbol, Src, Count, Offset);
  return finish(T, core::graphAddNodeApi("cudaGraphAddMemcpyNodeToSymbol", Node, Graph, Deps, NumDeps,
                                         symbolProto(Symbol, const_cast<void *>(Src), Count, Offset, Kind, true)));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddMemcpyNodeFromSymbol(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                           const cudaGraphNode_t *Deps, size_t NumDeps, void *Dst,
                                                           const void *Symbol, size_t Count, size_t Offset,
                                                           enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphAddMemcpyNodeFromSymbol");
  T.args("graph={} dst={} symbol={} count={} offset={}", static_cast<void *>(Graph), Dst, Symbol, Count, Offset);
  return finish(T, core::graphAddNodeApi("cudaGraphAddMemcpyNodeFromSymbol", Node, Graph, Deps, NumDeps,
                                         symbolProto(Symbol, Dst, Count, Offset, Kind, false)));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemcpyNodeGetParams(cudaGraphNode_t Node, struct cudaMemcpy3DParms *P) {
  ApiTrace T("cudaGraphMemcpyNodeGetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<void *>(P));
  return finish(T, copyGet(Node, P));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemcpyNodeSetParams(cudaGraphNode_t Node, const struct cudaMemcpy3DParms *P) {
  ApiTrace T("cudaGraphMemcpyNodeSetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<const void *>(P));
  return finish(T, core::graphSetNodeApi("cudaGraphMemcpyNodeSetParams", Node, copyProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemcpyNodeSetParams1D(cudaGraphNode_t Node, void *Dst, const void *Src, size_t Count,
                                                         enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphMemcpyNodeSetParams1D");
  T.args("node={} dst={} src={} count={} kind={}", static_cast<void *>(Node), Dst, Src, Count, static_cast<int>(Kind));
  return finish(T, core::graphSetNodeApi("cudaGraphMemcpyNodeSetParams1D", Node, copyProto1D(Dst, Src, Count, Kind)));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemcpyNodeSetParamsToSymbol(cudaGraphNode_t Node, const void *Symbol,
                                                               const void *Src, size_t Count, size_t Offset,
                                                               enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphMemcpyNodeSetParamsToSymbol");
  T.args("node={} symbol={} src={} count={} offset={}", static_cast<void *>(Node), Symbol, Src, Count, Offset);
  return finish(T, core::graphSetNodeApi("cudaGraphMemcpyNodeSetParamsToSymbol", Node,
                                         symbolProto(Symbol, const_cast<void *>(Src), Count, Offset, Kind, true)));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemcpyNodeSetParamsFromSymbol(cudaGraphNode_t Node, void *Dst, const void *Symbol,
                                                                 size_t Count, size_t Offset,
                                                                 enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphMemcpyNodeSetParamsFromSymbol");
  T.args("node={} dst={} symbol={} count={} offset={}", static_cast<void *>(Node), Dst, Symbol, Count, Offset);
  return finish(T, core::graphSetNodeApi("cudaGraphMemcpyNodeSetParamsFromSymbol", Node,
                                         symbolProto(Symbol, Dst, Count, Offset, Kind, false)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParams(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                           const struct cudaMemcpy3DParms *P) {
  ApiTrace T("cudaGraphExecMemcpyNodeSetParams");
  T.args("graphExec={} node={} params={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<const void *>(P));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecMemcpyNodeSetParams", Exec, Node, copyProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParams1D(cudaGraphExec_t Exec, cudaGraphNode_t Node, void *Dst,
                                                             const void *Src, size_t Count, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphExecMemcpyNodeSetParams1D");
  T.args("graphExec={} node={} dst={} src={} count={}", static_cast<void *>(Exec), static_cast<void *>(Node), Dst, Src,
         Count);
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecMemcpyNodeSetParams1D", Exec, Node,
                                             copyProto1D(Dst, Src, Count, Kind)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParamsToSymbol(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                                   const void *Symbol, const void *Src, size_t Count,
                                                                   size_t Offset, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphExecMemcpyNodeSetParamsToSymbol");
  T.args("graphExec={} node={} symbol={} count={}", static_cast<void *>(Exec), static_cast<void *>(Node), Symbol,
         Count);
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecMemcpyNodeSetParamsToSymbol", Exec, Node,
                                             symbolProto(Symbol, const_cast<void *>(Src), Count, Offset, Kind, true)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecMemcpyNodeSetParamsFromSymbol(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                                     void *Dst, const void *Symbol, size_t Count,
                                                                     size_t Offset, enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaGraphExecMemcpyNodeSetParamsFromSymbol");
  T.args("graphExec={} node={} symbol={} count={}", static_cast<void *>(Exec), static_cast<void *>(Node), Symbol,
         Count);
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecMemcpyNodeSetParamsFromSymbol", Exec, Node,
                                             symbolProto(Symbol, Dst, Count, Offset, Kind, false)));
}

// ---- Memset nodes ------------------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphAddMemsetNode(cudaGraphNode_t *Node, cudaGraph_t Graph, const cudaGraphNode_t *Deps,
                                                 size_t NumDeps, const struct cudaMemsetParams *P) {
  ApiTrace T("cudaGraphAddMemsetNode");
  T.args("pGraphNode={} graph={} numDependencies={} params={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, static_cast<const void *>(P));
  return finish(T, core::graphAddNodeApi("cudaGraphAddMemsetNode", Node, Graph, Deps, NumDeps, memsetProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemsetNodeGetParams(cudaGraphNode_t Node, struct cudaMemsetParams *P) {
  ApiTrace T("cudaGraphMemsetNodeGetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<void *>(P));
  CUSHIM_RUNTIME_BODY(T, {
    core::MemsetNodeParams M;
    CUSHIM_TRY(core::graphMemsetGetApi("cudaGraphMemsetNodeGetParams", Node, P ? &M : nullptr));
    *P = cudaMemsetParams{M.Dst, M.Pitch, M.Value, M.ElementSize, M.Width, M.Height};
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphMemsetNodeSetParams(cudaGraphNode_t Node, const struct cudaMemsetParams *P) {
  ApiTrace T("cudaGraphMemsetNodeSetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<const void *>(P));
  return finish(T, core::graphSetNodeApi("cudaGraphMemsetNodeSetParams", Node, memsetProto(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecMemsetNodeSetParams(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                           const struct cudaMemsetParams *P) {
  ApiTrace T("cudaGraphExecMemsetNodeSetParams");
  T.args("graphExec={} node={} params={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<const void *>(P));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecMemsetNodeSetParams", Exec, Node, memsetProto(P)));
}

// ---- Host nodes --------------------------------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphAddHostNode(cudaGraphNode_t *Node, cudaGraph_t Graph, const cudaGraphNode_t *Deps,
                                               size_t NumDeps, const struct cudaHostNodeParams *P) {
  ApiTrace T("cudaGraphAddHostNode");
  T.args("pGraphNode={} graph={} numDependencies={} params={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, static_cast<const void *>(P));
  return finish(T, core::graphAddNodeApi("cudaGraphAddHostNode", Node, Graph, Deps, NumDeps, hostNodeFrom(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphHostNodeGetParams(cudaGraphNode_t Node, struct cudaHostNodeParams *P) {
  ApiTrace T("cudaGraphHostNodeGetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<void *>(P));
  CUSHIM_RUNTIME_BODY(T, {
    core::HostNodeParams H;
    CUSHIM_TRY(core::graphHostGetApi("cudaGraphHostNodeGetParams", Node, P ? &H : nullptr));
    *P = cudaHostNodeParams{H.Fn, H.UserData};
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGraphHostNodeSetParams(cudaGraphNode_t Node, const struct cudaHostNodeParams *P) {
  ApiTrace T("cudaGraphHostNodeSetParams");
  T.args("node={} params={}", static_cast<void *>(Node), static_cast<const void *>(P));
  return finish(T, core::graphSetNodeApi("cudaGraphHostNodeSetParams", Node, hostNodeFrom(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecHostNodeSetParams(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                         const struct cudaHostNodeParams *P) {
  ApiTrace T("cudaGraphExecHostNodeSetParams");
  T.args("graphExec={} node={} params={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<const void *>(P));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecHostNodeSetParams", Exec, Node, hostNodeFrom(P)));
}

// ---- Child graph and empty nodes -----------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphAddChildGraphNode(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                     const cudaGraphNode_t *Deps, size_t NumDeps, cudaGraph_t Child) {
  ApiTrace T("cudaGraphAddChildGraphNode");
  T.args("pGraphNode={} graph={} numDependencies={} childGraph={}", static_cast<void *>(Node),
         static_cast<void *>(Graph), NumDeps, static_cast<void *>(Child));
  return finish(T, core::graphAddNodeApi("cudaGraphAddChildGraphNode", Node, Graph, Deps, NumDeps,
                                         core::childGraphNode("cudaGraphAddChildGraphNode", Child)));
}

CUSHIM_EXPORT cudaError_t cudaGraphChildGraphNodeGetGraph(cudaGraphNode_t Node, cudaGraph_t *Graph) {
  ApiTrace T("cudaGraphChildGraphNodeGetGraph");
  T.args("node={} pGraph={}", static_cast<void *>(Node), static_cast<void *>(Graph));
  return finish(T, core::graphChildGetApi("cudaGraphChildGraphNodeGetGraph", Node, Graph));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecChildGraphNodeSetParams(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                               cudaGraph_t Child) {
  ApiTrace T("cudaGraphExecChildGraphNodeSetParams");
  T.args("graphExec={} node={} childGraph={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<void *>(Child));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecChildGraphNodeSetParams", Exec, Node,
                                             core::childGraphNode("cudaGraphExecChildGraphNodeSetParams", Child)));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddEmptyNode(cudaGraphNode_t *Node, cudaGraph_t Graph, const cudaGraphNode_t *Deps,
                                                size_t NumDeps) {
  ApiTrace T("cudaGraphAddEmptyNode");
  T.args("pGraphNode={} graph={} numDependencies={}", static_cast<void *>(Node), static_cast<void *>(Graph), NumDeps);
  core::GraphNode Empty;
  Empty.Type = CU_GRAPH_NODE_TYPE_EMPTY;
  return finish(T, core::graphAddNodeApi("cudaGraphAddEmptyNode", Node, Graph, Deps, NumDeps, std::move(Empty)));
}

// ---- Event record and wait nodes -----------------------------------------------------------------------------

CUSHIM_EXPORT cudaError_t cudaGraphAddEventRecordNode(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                      const cudaGraphNode_t *Deps, size_t NumDeps, cudaEvent_t Event) {
  ApiTrace T("cudaGraphAddEventRecordNode");
  T.args("pGraphNode={} graph={} numDependencies={} event={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, static_cast<void *>(Event));
  return finish(T, core::graphAddNodeApi("cudaGraphAddEventRecordNode", Node, Graph, Deps, NumDeps,
                                         core::eventGraphNode(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT cudaError_t cudaGraphEventRecordNodeGetEvent(cudaGraphNode_t Node, cudaEvent_t *Event) {
  ApiTrace T("cudaGraphEventRecordNodeGetEvent");
  T.args("node={} event_out={}", static_cast<void *>(Node), static_cast<void *>(Event));
  return finish(
      T, core::graphEventGetApi("cudaGraphEventRecordNodeGetEvent", Node, CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event));
}

CUSHIM_EXPORT cudaError_t cudaGraphEventRecordNodeSetEvent(cudaGraphNode_t Node, cudaEvent_t Event) {
  ApiTrace T("cudaGraphEventRecordNodeSetEvent");
  T.args("node={} event={}", static_cast<void *>(Node), static_cast<void *>(Event));
  return finish(T, core::graphSetNodeApi("cudaGraphEventRecordNodeSetEvent", Node,
                                         core::eventGraphNode(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecEventRecordNodeSetEvent(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                               cudaEvent_t Event) {
  ApiTrace T("cudaGraphExecEventRecordNodeSetEvent");
  T.args("graphExec={} node={} event={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<void *>(Event));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecEventRecordNodeSetEvent", Exec, Node,
                                             core::eventGraphNode(CU_GRAPH_NODE_TYPE_EVENT_RECORD, Event)));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddEventWaitNode(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                    const cudaGraphNode_t *Deps, size_t NumDeps, cudaEvent_t Event) {
  ApiTrace T("cudaGraphAddEventWaitNode");
  T.args("pGraphNode={} graph={} numDependencies={} event={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, static_cast<void *>(Event));
  return finish(T, core::graphAddNodeApi("cudaGraphAddEventWaitNode", Node, Graph, Deps, NumDeps,
                                         core::eventGraphNode(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

CUSHIM_EXPORT cudaError_t cudaGraphEventWaitNodeGetEvent(cudaGraphNode_t Node, cudaEvent_t *Event) {
  ApiTrace T("cudaGraphEventWaitNodeGetEvent");
  T.args("node={} event_out={}", static_cast<void *>(Node), static_cast<void *>(Event));
  return finish(T,
                core::graphEventGetApi("cudaGraphEventWaitNodeGetEvent", Node, CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event));
}

CUSHIM_EXPORT cudaError_t cudaGraphEventWaitNodeSetEvent(cudaGraphNode_t Node, cudaEvent_t Event) {
  ApiTrace T("cudaGraphEventWaitNodeSetEvent");
  T.args("node={} event={}", static_cast<void *>(Node), static_cast<void *>(Event));
  return finish(T, core::graphSetNodeApi("cudaGraphEventWaitNodeSetEvent", Node,
                                         core::eventGraphNode(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

CUSHIM_EXPORT cudaError_t cudaGraphExecEventWaitNodeSetEvent(cudaGraphExec_t Exec, cudaGraphNode_t Node,
                                                             cudaEvent_t Event) {
  ApiTrace T("cudaGraphExecEventWaitNodeSetEvent");
  T.args("graphExec={} node={} event={}", static_cast<void *>(Exec), static_cast<void *>(Node),
         static_cast<void *>(Event));
  return finish(T, core::graphExecSetNodeApi("cudaGraphExecEventWaitNodeSetEvent", Exec, Node,
                                             core::eventGraphNode(CU_GRAPH_NODE_TYPE_WAIT_EVENT, Event)));
}

// ---- Memory allocation and free nodes ----------------------------------------------------------------------------

// cudaMemAllocNodeParams has CUDA_MEM_ALLOC_NODE_PARAMS' layout (cudaMemPoolProps and cudaMemAccessDesc are the
// driver's structs under other names).
static_assert(sizeof(cudaMemAllocNodeParams) == sizeof(CUDA_MEM_ALLOC_NODE_PARAMS) &&
              offsetof(cudaMemAllocNodeParams, dptr) == offsetof(CUDA_MEM_ALLOC_NODE_PARAMS, dptr) &&
              sizeof(cudaMemPoolProps) == sizeof(CUmemPoolProps) && sizeof(cudaMemAccessDesc) == sizeof(CUmemAccessDesc));

CUSHIM_EXPORT cudaError_t cudaGraphAddMemAllocNode(cudaGraphNode_t *Node, cudaGraph_t Graph,
                                                   const cudaGraphNode_t *Deps, size_t NumDeps,
                                                   struct cudaMemAllocNodeParams *P) {
  ApiTrace T("cudaGraphAddMemAllocNode");
  T.args("pGraphNode={} graph={} numDependencies={} bytesize={}", static_cast<void *>(Node),
         static_cast<void *>(Graph), NumDeps, P ? P->bytesize : 0);
  return finish(T, core::graphAddMemAllocApi("cudaGraphAddMemAllocNode", Node, Graph, Deps, NumDeps, context(),
                                             reinterpret_cast<CUDA_MEM_ALLOC_NODE_PARAMS *>(P)));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemAllocNodeGetParams(cudaGraphNode_t Node, struct cudaMemAllocNodeParams *Out) {
  ApiTrace T("cudaGraphMemAllocNodeGetParams");
  T.args("node={}", static_cast<void *>(Node));
  return finish(T, core::graphMemAllocGetApi("cudaGraphMemAllocNodeGetParams", Node,
                                             reinterpret_cast<CUDA_MEM_ALLOC_NODE_PARAMS *>(Out)));
}

CUSHIM_EXPORT cudaError_t cudaGraphAddMemFreeNode(cudaGraphNode_t *Node, cudaGraph_t Graph, const cudaGraphNode_t *Deps,
                                                  size_t NumDeps, void *Ptr) {
  ApiTrace T("cudaGraphAddMemFreeNode");
  T.args("pGraphNode={} graph={} numDependencies={} dptr={}", static_cast<void *>(Node), static_cast<void *>(Graph),
         NumDeps, Ptr);
  return finish(T, core::graphAddMemFreeApi("cudaGraphAddMemFreeNode", Node, Graph, Deps, NumDeps, Ptr));
}

CUSHIM_EXPORT cudaError_t cudaGraphMemFreeNodeGetParams(cudaGraphNode_t Node, void *Out) {
  ApiTrace T("cudaGraphMemFreeNodeGetParams");
  T.args("node={}", static_cast<void *>(Node));
  return finish(T, core::graphMemFreeGetApi("cudaGraphMemFreeNodeGetParams", Node, static_cast<void **>(Out)));
}
