// What the runtime and driver graph entry points share: handle checks, array outputs and validated node params.
#include "core/Array.h"
#include "core/GraphLock.h"
#include "core/Module.h"

#include <fmt/format.h>

#include <tuple>

namespace cushim::core {

Expected<Graph *> requireGraph(const char *Api, CUgraph Handle) {
  if (Graph *G = lookupGraph(Handle))
    return G;
  return makeError(CUDA_ERROR_INVALID_VALUE,
                   fmt::format("{}: {} is not a live graph", Api, static_cast<void *>(Handle)));
}

Expected<GraphNode *> requireGraphNode(const char *Api, CUgraphNode Handle, int Want) {
  GraphNode *N = lookupGraphNode(Handle);
  if (!N)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: {} is not a live graph node", Api, static_cast<void *>(Handle)));
  if (Want >= 0 && N->Type != Want)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: the node is of type {}, not {}", Api, static_cast<int>(N->Type), Want));
  return N;
}

Expected<GraphExec *> requireGraphExec(const char *Api, CUgraphExec Handle) {
  if (GraphExec *E = lookupGraphExec(Handle))
    return E;
  return makeError(CUDA_ERROR_INVALID_VALUE,
                   fmt::format("{}: {} is not a live executable graph", Api, static_cast<void *>(Handle)));
}

Error fillNodes(const std::vector<GraphNode *> &Nodes, CUgraphNode *Out, size_t *Count) {
  if (!Count)
    return makeError(CUDA_ERROR_INVALID_VALUE, "the count pointer is NULL");
  if (Out)
    for (size_t I = 0; I < *Count; ++I)
      Out[I] = I < Nodes.size() ? Nodes[I]->handle() : nullptr;
  if (!Out || *Count >= Nodes.size())
    *Count = Nodes.size();
  return Error::success();
}

Error fillEdges(const std::vector<std::pair<GraphNode *, GraphNode *>> &Edges, CUgraphNode *From, CUgraphNode *To,
                CUgraphEdgeData *Data, size_t *Count) {
  if (!Count)
    return makeError(CUDA_ERROR_INVALID_VALUE, "the count pointer is NULL");
  if (!From != !To)
    return makeError(CUDA_ERROR_INVALID_VALUE, "from and to must both be NULL or both be arrays");
  if (Data && !From)
    return makeError(CUDA_ERROR_INVALID_VALUE, "edge data requested without the node arrays");
  if (From)
    for (size_t I = 0; I < *Count; ++I) {
      From[I] = I < Edges.size() ? Edges[I].first->handle() : nullptr;
      To[I] = I < Edges.size() ? Edges[I].second->handle() : nullptr;
      if (Data)
        Data[I] = CUgraphEdgeData{};
    }
  if (!From || *Count >= Edges.size())
    *Count = Edges.size();
  return Error::success();
}

Error checkDefaultEdges(const CUgraphEdgeData *Data, size_t Count) {
  if (!Data)
    return Error::success();
  for (size_t I = 0; I < Count; ++I)
    if (Data[I].from_port || Data[I].to_port || Data[I].type)
      return makeError(
          CUDA_ERROR_NOT_SUPPORTED,
          fmt::format("edge {}: programmatic (non-default) graph edges are not supported by cuda_shim", I));
  return Error::success();
}

Expected<GraphNode> kernelNode(Function &F, const LaunchConfig &C, void **KernelParams, void **Extra,
                               const void *ApiFunc) {
  CUSHIM_TRY(checkLaunchDims(F, C));
  CUSHIM_TRY(checkLaunchShared(F, C));
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_KERNEL;
  N.Kernel.F = &F;
  N.Kernel.ApiFunc = ApiFunc;
  N.Kernel.Config = C;
  CUSHIM_TRY(packKernelParams(F, KernelParams, Extra, N.Kernel.Args));
  return N;
}

void **kernelNodeArgPointers(GraphNode &N) {
  auto &K = N.Kernel;
  K.ArgPointers.clear();
  if (K.F)
    for (auto &P : K.F->info().Params)
      K.ArgPointers.push_back(K.Args.data() + P.Offset);
  K.ArgPointers.push_back(nullptr);
  return K.ArgPointers.data();
}

Expected<GraphNode> memsetNode(const MemsetNodeParams &P) {
  if (P.ElementSize != 1 && P.ElementSize != 2 && P.ElementSize != 4)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("memset element size {}: must be 1, 2 or 4", P.ElementSize));
  if (!P.Dst)
    return makeError(CUDA_ERROR_INVALID_VALUE, "memset destination is NULL");
  if (P.Height == 0 || P.Width == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "memset width and height must be at least 1");
  if (P.Height > 1 && P.Pitch < P.Width * P.ElementSize)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("memset pitch {} is less than a row ({} bytes)", P.Pitch, P.Width * P.ElementSize));
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_MEMSET;
  N.Memset = P;
  if (P.Height == 1)
    N.Memset.Pitch = P.Width * P.ElementSize;
  return N;
}

Expected<GraphNode> copyNode(const CopyNodeParams &P) {
  if (!P.Dst || !P.Src)
    return makeError(CUDA_ERROR_INVALID_VALUE, "copy source or destination is NULL");
  bool MultiRow = P.Height > 1 || P.Depth > 1;
  if (MultiRow && (P.DstPitch < P.DstX + P.Width || P.SrcPitch < P.SrcX + P.Width))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("copy of {}-byte rows: pitches (src {}, dst {}) too small",
                                                           P.Width, P.SrcPitch, P.DstPitch));
  if (P.Depth > 1 && (P.DstHeight < P.DstY + P.Height || P.SrcHeight < P.SrcY + P.Height))
    return makeError(CUDA_ERROR_INVALID_VALUE, "3D copy: slice heights smaller than the copied rows");
  for (auto [Handle, X, Y, Z] : {std::tuple{P.SrcArray, P.SrcX, P.SrcY, P.SrcZ}, std::tuple{P.DstArray, P.DstX, P.DstY,
                                                                                            P.DstZ}}) {
    if (!Handle)
      continue;
    Array *A = lookupArray(Handle);
    if (!A)
      return makeError(CUDA_ERROR_INVALID_VALUE, "memcpy node: the CUDA array was destroyed");
    CUSHIM_TRY(A->checkRegion("memcpy node", X, Y, Z, P.Width, P.Height, P.Depth));
  }
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_MEMCPY;
  N.Copy = P;
  return N;
}

Error copyArraySide(CopyNodeParams &C, bool Source, CUarray Handle, size_t XBytes, size_t Y, size_t Z) {
  Array *A = lookupArray(Handle);
  if (!A)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("memcpy node: {} is not a live CUDA array", static_cast<void *>(Handle)));
  (Source ? C.SrcArray : C.DstArray) = Handle;
  C.ArrayElementSize = A->elementSize();
  // The storage as pitched memory: positions stay relative to the array's first element.
  if (Source) {
    C.Src = A->storage(), C.SrcPitch = A->pitch(), C.SrcHeight = A->rows();
    C.SrcX = XBytes, C.SrcY = Y, C.SrcZ = Z;
  } else {
    C.Dst = A->storage(), C.DstPitch = A->pitch(), C.DstHeight = A->rows();
    C.DstX = XBytes, C.DstY = Y, C.DstZ = Z;
  }
  return Error::success();
}

Error setGraphNodeParams(GraphNode &N, GraphNode &&Proto) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (N.Type != Proto.Type)
    return makeError(CUDA_ERROR_INVALID_VALUE, "the node is of another type than the parameters given");
  switch (N.Type) {
  case CU_GRAPH_NODE_TYPE_KERNEL: N.Kernel = std::move(Proto.Kernel); break;
  case CU_GRAPH_NODE_TYPE_MEMCPY: N.Copy = Proto.Copy; break;
  case CU_GRAPH_NODE_TYPE_MEMSET: N.Memset = Proto.Memset; break;
  case CU_GRAPH_NODE_TYPE_HOST: N.Host = Proto.Host; break;
  case CU_GRAPH_NODE_TYPE_EVENT_RECORD:
  case CU_GRAPH_NODE_TYPE_WAIT_EVENT: N.Ev = Proto.Ev; break;
  default: return makeError(CUDA_ERROR_INVALID_VALUE, "this node type has no settable parameters");
  }
  return Error::success();
}

} // namespace cushim::core
