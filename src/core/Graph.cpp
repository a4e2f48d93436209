// Graphs and nodes: creation, edges, node removal, cloning, topological order and DOT output (docs/GRAPHS.md).
#include "core/Graph.h"

#include "core/Event.h"
#include "core/GraphLock.h"
#include "core/Handles.h"
#include "core/Module.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

namespace cushim::core {

HandleRegistry<Graph> &graphRegistry() {
  static auto *R = new HandleRegistry<Graph>();
  return *R;
}

HandleRegistry<GraphNode> &graphNodeRegistry() {
  static auto *R = new HandleRegistry<GraphNode>();
  return *R;
}

std::recursive_mutex &graphLock() {
  static auto *M = new std::recursive_mutex();
  return *M;
}

Graph *lookupGraph(CUgraph Handle) { return Handle ? graphRegistry().lookup(Handle) : nullptr; }
GraphNode *lookupGraphNode(CUgraphNode Handle) { return Handle ? graphNodeRegistry().lookup(Handle) : nullptr; }

GraphNode GraphNode::copyParams(bool Register) const {
  GraphNode N;
  N.Type = Type;
  N.Kernel = Kernel;
  N.Copy = Copy;
  N.Memset = Memset;
  N.Host = Host;
  N.Ev = Ev;
  N.MemAlloc = MemAlloc;
  N.FreePtr = FreePtr;
  N.Enabled = Enabled;
  if (Child)
    N.Child = Child->clone(Register);
  return N;
}

Expected<Graph *> Graph::create(unsigned Flags) {
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("graph flags {:#x}: must be 0", Flags));
  auto *G = new Graph();
  G->Registered = true;
  graphRegistry().add(G);
  return G;
}

Graph::~Graph() {
  if (Registered)
    graphRegistry().remove(this);
  for (auto &N : Nodes)
    if (Registered)
      graphNodeRegistry().remove(N.get());
}

Error Graph::destroy(Graph *G) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (!graphRegistry().lookup(G))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} is not a live graph", static_cast<void *>(G)));
  if (G->Parent)
    return makeError(CUDA_ERROR_INVALID_VALUE, "the graph belongs to a child-graph node; destroy the node's graph "
                                               "instead");
  delete G;
  return Error::success();
}

// A dependency list: live nodes of G, no duplicates.
static Expected<std::vector<GraphNode *>> resolveDeps(const Graph &G, const CUgraphNode *Deps, size_t NumDeps) {
  if (NumDeps && !Deps)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} dependencies but the array is NULL", NumDeps));
  std::vector<GraphNode *> Out;
  for (size_t I = 0; I < NumDeps; ++I) {
    GraphNode *N = lookupGraphNode(Deps[I]);
    if (!N || N->Owner != &G)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("dependency {} ({}) is not a node of this graph", I, static_cast<void *>(Deps[I])));
    if (std::find(Out.begin(), Out.end(), N) != Out.end())
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("dependency {} is listed twice", I));
    Out.push_back(N);
  }
  return Out;
}

Expected<GraphNode *> Graph::addNode(GraphNode &&Proto, const CUgraphNode *Deps, size_t NumDeps) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  auto D = resolveDeps(*this, Deps, NumDeps);
  if (!D)
    return D.takeError();
  auto N = std::make_unique<GraphNode>(std::move(Proto));
  N->Owner = this;
  N->Index = NextIndex++;
  N->Deps = std::move(*D);
  N->Dependents.clear();
  for (GraphNode *P : N->Deps)
    P->Dependents.push_back(N.get());
  if (N->Child)
    N->Child->Parent = N.get();
  GraphNode *Raw = N.get();
  Nodes.push_back(std::move(N));
  if (Registered)
    graphNodeRegistry().add(Raw);
  return Raw;
}

static Expected<std::pair<GraphNode *, GraphNode *>> edgeEnds(const Graph &G, CUgraphNode From, CUgraphNode To,
                                                              size_t I) {
  GraphNode *F = lookupGraphNode(From), *T = lookupGraphNode(To);
  if (!F || !T || F->Owner != &G || T->Owner != &G)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("edge {}: both ends must be nodes of this graph", I));
  if (F == T)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("edge {}: a node cannot depend on itself", I));
  return std::make_pair(F, T);
}

Error Graph::addDependencies(const CUgraphNode *From, const CUgraphNode *To, size_t Count) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (Count && (!From || !To))
    return makeError(CUDA_ERROR_INVALID_VALUE, "from/to arrays are NULL");
  // Validate everything first: a failed call adds no edge.
  std::vector<std::pair<GraphNode *, GraphNode *>> Edges;
  for (size_t I = 0; I < Count; ++I) {
    auto E = edgeEnds(*this, From[I], To[I], I);
    if (!E)
      return E.takeError();
    auto &Deps = E->second->Deps;
    if (std::find(Deps.begin(), Deps.end(), E->first) != Deps.end() ||
        std::find(Edges.begin(), Edges.end(), *E) != Edges.end())
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("edge {}: the dependency exists already", I));
    Edges.push_back(*E);
  }
  for (auto &[F, T] : Edges) {
    T->Deps.push_back(F);
    F->Dependents.push_back(T);
  }
  return Error::success();
}

// CUDA forbids removing nodes and edges of a graph with memory allocation or free nodes.
static Error checkRemovable(const Graph &G, const char *What) {
  if (hasMemoryNodes(G))
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{} cannot be removed from a graph with memory allocation or free nodes", What));
  return Error::success();
}

Error Graph::removeDependencies(const CUgraphNode *From, const CUgraphNode *To, size_t Count) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CUSHIM_TRY(checkRemovable(*this, "edges"));
  if (Count && (!From || !To))
    return makeError(CUDA_ERROR_INVALID_VALUE, "from/to arrays are NULL");
  std::vector<std::pair<GraphNode *, GraphNode *>> Edges;
  for (size_t I = 0; I < Count; ++I) {
    auto E = edgeEnds(*this, From[I], To[I], I);
    if (!E)
      return E.takeError();
    auto &Deps = E->second->Deps;
    if (std::find(Deps.begin(), Deps.end(), E->first) == Deps.end())
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("edge {}: no such dependency", I));
    Edges.push_back(*E);
  }
  for (auto &[F, T] : Edges) {
    T->Deps.erase(std::find(T->Deps.begin(), T->Deps.end(), F));
    auto It = std::find(F->Dependents.begin(), F->Dependents.end(), T);
    if (It != F->Dependents.end())
      F->Dependents.erase(It);
  }
  return Error::success();
}

Error Graph::destroyNode(GraphNode *N) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (!graphNodeRegistry().lookup(N))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} is not a live graph node", static_cast<void *>(N)));
  Graph &G = *N->Owner;
  CUSHIM_TRY(checkRemovable(G, "nodes"));
  for (GraphNode *P : N->Deps)
    P->Dependents.erase(std::find(P->Dependents.begin(), P->Dependents.end(), N));
  for (GraphNode *C : N->Dependents)
    C->Deps.erase(std::find(C->Deps.begin(), C->Deps.end(), N));
  graphNodeRegistry().remove(N);
  auto It = std::find_if(G.Nodes.begin(), G.Nodes.end(), [&](auto &P) { return P.get() == N; });
  G.Nodes.erase(It);
  return Error::success();
}

std::unique_ptr<Graph> Graph::clone(bool Register) const {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  auto C = std::make_unique<Graph>();
  C->Registered = Register;
  if (Register)
    graphRegistry().add(C.get());
  C->NextIndex = NextIndex;
  std::unordered_map<const GraphNode *, GraphNode *> Map;
  for (auto &N : Nodes) {
    auto Copy = std::make_unique<GraphNode>(N->copyParams(Register));
    Copy->Owner = C.get();
    Copy->Index = N->Index;
    Copy->ClonedFrom = N.get();
    if (Copy->Child)
      Copy->Child->Parent = Copy.get();
    Map[N.get()] = Copy.get();
    if (Register)
      graphNodeRegistry().add(Copy.get());
    C->Nodes.push_back(std::move(Copy));
  }
  for (auto &N : Nodes) {
    GraphNode *Copy = Map[N.get()];
    for (GraphNode *D : N->Deps)
      Copy->Deps.push_back(Map[D]);
    for (GraphNode *D : N->Dependents)
      Copy->Dependents.push_back(Map[D]);
  }
  return C;
}

std::vector<GraphNode *> Graph::roots() const {
  std::vector<GraphNode *> Out;
  for (auto &N : Nodes)
    if (N->Deps.empty())
      Out.push_back(N.get());
  return Out;
}

std::vector<std::pair<GraphNode *, GraphNode *>> Graph::edges() const {
  std::vector<std::pair<GraphNode *, GraphNode *>> Out;
  for (auto &N : Nodes)
    for (GraphNode *D : N->Deps)
      Out.emplace_back(D, N.get());
  return Out;
}

Expected<std::vector<GraphNode *>> Graph::topologicalOrder() const {
  // Kahn's algorithm in creation order, so that independent nodes run in the order the application added them.
  std::unordered_map<const GraphNode *, size_t> Pending;
  std::vector<GraphNode *> Ready, Out;
  for (auto &N : Nodes) {
    Pending[N.get()] = N->Deps.size();
    if (N->Deps.empty())
      Ready.push_back(N.get());
  }
  std::reverse(Ready.begin(), Ready.end());
  while (!Ready.empty()) {
    GraphNode *N = Ready.back();
    Ready.pop_back();
    Out.push_back(N);
    std::vector<GraphNode *> Next;
    for (GraphNode *C : N->Dependents)
      if (--Pending[C] == 0)
        Next.push_back(C);
    std::sort(Next.begin(), Next.end(), [](auto *A, auto *B) { return A->Index > B->Index; });
    Ready.insert(Ready.end(), Next.begin(), Next.end());
  }
  if (Out.size() != Nodes.size())
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("the graph has a dependency cycle ({} of its {} nodes are "
                                                           "on or after it)",
                                                           Nodes.size() - Out.size(), Nodes.size()));
  return Out;
}

// ---- DOT output ------------------------------------------------------------------------------------------------

static const char *typeName(CUgraphNodeType T) {
  switch (T) {
  case CU_GRAPH_NODE_TYPE_KERNEL: return "KERNEL";
  case CU_GRAPH_NODE_TYPE_MEMCPY: return "MEMCPY";
  case CU_GRAPH_NODE_TYPE_MEMSET: return "MEMSET";
  case CU_GRAPH_NODE_TYPE_HOST: return "HOST";
  case CU_GRAPH_NODE_TYPE_GRAPH: return "CHILD_GRAPH";
  case CU_GRAPH_NODE_TYPE_EMPTY: return "EMPTY";
  case CU_GRAPH_NODE_TYPE_WAIT_EVENT: return "WAIT_EVENT";
  case CU_GRAPH_NODE_TYPE_EVENT_RECORD: return "EVENT_RECORD";
  case CU_GRAPH_NODE_TYPE_MEM_ALLOC: return "MEM_ALLOC";
  case CU_GRAPH_NODE_TYPE_MEM_FREE: return "MEM_FREE";
  default: return "UNKNOWN";
  }
}

static std::string nodeLabel(const GraphNode &N, unsigned Flags) {
  std::string L = fmt::format("{}\\nnode {}", typeName(N.Type), N.Index);
  bool Verbose = Flags & CU_GRAPH_DEBUG_DOT_FLAGS_VERBOSE;
  switch (N.Type) {
  case CU_GRAPH_NODE_TYPE_KERNEL: {
    const LaunchConfig &C = N.Kernel.Config;
    L += fmt::format("\\n{}\\n<<<({},{},{}),({},{},{}),{}>>>", N.Kernel.F ? N.Kernel.F->name() : std::string("?"),
                     C.Grid[0], C.Grid[1], C.Grid[2], C.Block[0], C.Block[1], C.Block[2], C.DynamicShared);
    break;
  }
  case CU_GRAPH_NODE_TYPE_MEMCPY:
    L += fmt::format("\\n{} bytes x {} x {}", N.Copy.Width, N.Copy.Height, N.Copy.Depth);
    if (Verbose)
      L += fmt::format("\\nsrc {} dst {}", N.Copy.Src, N.Copy.Dst);
    break;
  case CU_GRAPH_NODE_TYPE_MEMSET:
    L += fmt::format("\\nvalue {:#x} size {} x {} x {}", N.Memset.Value, N.Memset.ElementSize, N.Memset.Width,
                     N.Memset.Height);
    if (Verbose)
      L += fmt::format("\\ndst {}", N.Memset.Dst);
    break;
  case CU_GRAPH_NODE_TYPE_HOST: L += fmt::format("\\nfn {}", reinterpret_cast<void *>(N.Host.Fn)); break;
  case CU_GRAPH_NODE_TYPE_WAIT_EVENT:
  case CU_GRAPH_NODE_TYPE_EVENT_RECORD: L += fmt::format("\\nevent {}", static_cast<void *>(N.Ev)); break;
  case CU_GRAPH_NODE_TYPE_MEM_ALLOC: L += fmt::format("\\n{} bytes at {}", N.MemAlloc.Bytes, N.MemAlloc.Ptr); break;
  case CU_GRAPH_NODE_TYPE_MEM_FREE: L += fmt::format("\\nfree {}", N.FreePtr); break;
  default: break;
  }
  return L;
}

static void printGraph(std::string &Out, const Graph &G, const std::string &Prefix, unsigned Flags) {
  for (auto &N : G.nodes()) {
    std::string Id = fmt::format("{}n{}", Prefix, N->Index);
    if (N->Type == CU_GRAPH_NODE_TYPE_GRAPH && N->Child) {
      Out += fmt::format("subgraph cluster_{} {{\nlabel=\"{}\";\n", Id, nodeLabel(*N, Flags));
      printGraph(Out, *N->Child, Id + "_", Flags);
      Out += "}\n";
      // An invisible anchor for the edges to and from the child graph.
      Out += fmt::format("\"{}\" [shape=point];\n", Id);
    } else {
      Out += fmt::format("\"{}\" [shape={} label=\"{}\"];\n", Id,
                         N->Type == CU_GRAPH_NODE_TYPE_KERNEL ? "box" : "ellipse", nodeLabel(*N, Flags));
    }
  }
  for (auto &[From, To] : G.edges())
    Out += fmt::format("\"{}n{}\" -> \"{}n{}\";\n", Prefix, From->Index, Prefix, To->Index);
}

Error Graph::debugDotPrint(const std::string &Path, unsigned Flags) const {
  std::string Out = "digraph cuda_graph {\nlabel=\"cuda_shim graph\";\n";
  {
    std::lock_guard<std::recursive_mutex> L(graphLock());
    printGraph(Out, *this, "", Flags);
  }
  Out += "}\n";
  std::FILE *F = std::fopen(Path.c_str(), "w");
  if (!F)
    return makeError(CUDA_ERROR_OPERATING_SYSTEM, fmt::format("cannot open '{}' for writing", Path));
  bool Ok = std::fwrite(Out.data(), 1, Out.size(), F) == Out.size();
  Ok = std::fclose(F) == 0 && Ok;
  if (!Ok)
    return makeError(CUDA_ERROR_OPERATING_SYSTEM, fmt::format("cannot write '{}'", Path));
  return Error::success();
}

} // namespace cushim::core
