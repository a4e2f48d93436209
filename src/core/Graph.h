// CUDA graphs shared by both APIs: graphs and their nodes (Graph.cpp), executable graphs (GraphExec.cpp) and stream
// capture (GraphCapture.cpp), which turns work submitted to a capturing core::Stream into nodes. See docs/GRAPHS.md.
#pragma once

#include "core/GraphMemory.h"
#include "core/Launch.h"
#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace cushim::core {

class Context;
class Event;
class Function;
class Graph;
class Stream;
struct GraphSchedule;

struct KernelNodeParams {
  Function *F = nullptr;
  const void *ApiFunc = nullptr; // what the application named the kernel by (runtime: the host stub), for getters
  LaunchConfig Config;
  std::vector<char> Args; // the packed parameter buffer, copied when the node is set (as CUDA copies the values)
  std::vector<void *> ArgPointers; // scratch for getters: one pointer per parameter into Args
};

// A copy between pitched linear memory regions (1D when Height == Depth == 1). X offsets and Width are in bytes.
struct CopyNodeParams {
  void *Dst = nullptr;
  const void *Src = nullptr;
  size_t DstPitch = 0, DstHeight = 0, SrcPitch = 0, SrcHeight = 0;
  size_t DstX = 0, DstY = 0, DstZ = 0, SrcX = 0, SrcY = 0, SrcZ = 0;
  size_t Width = 0, Height = 1, Depth = 1;
  int Kind = 4; // cudaMemcpyKind the application gave (runtime getters); cudaMemcpyDefault otherwise
  // CUDA arrays the application named (getters): the copy itself runs on their storage, described above in bytes.
  CUarray SrcArray = nullptr, DstArray = nullptr;
  unsigned ArrayElementSize = 1;
};

struct MemsetNodeParams {
  void *Dst = nullptr;
  size_t Pitch = 0;
  uint32_t Value = 0;
  unsigned ElementSize = 1; // 1, 2 or 4
  size_t Width = 0;         // elements per row
  size_t Height = 1;
};

struct HostNodeParams {
  cushim_hal_host_fn Fn = nullptr;
  void *UserData = nullptr;
};

// One node. Params of the node's type only are meaningful; Child is the embedded copy of a child graph.
struct CUSHIM_API GraphNode {
  CUgraphNodeType Type = CU_GRAPH_NODE_TYPE_EMPTY;
  KernelNodeParams Kernel;
  CopyNodeParams Copy;
  MemsetNodeParams Memset;
  HostNodeParams Host;
  Event *Ev = nullptr;
  std::unique_ptr<Graph> Child;
  MemAllocNodeParams MemAlloc;
  void *FreePtr = nullptr; // memory free nodes

  Graph *Owner = nullptr;
  size_t Index = 0;              // creation order in the owner (pairs nodes in exec update)
  std::vector<GraphNode *> Deps; // in the order they were added
  std::vector<GraphNode *> Dependents;
  const GraphNode *ClonedFrom = nullptr; // cuGraphNodeFindInClone
  bool Enabled = true;                   // executable graphs: cuGraphNodeSetEnabled

  CUgraphNode handle() { return reinterpret_cast<CUgraphNode>(this); }
  // A node of the same type and params (Child deep-copied), without edges or owner.
  GraphNode copyParams(bool Register) const;
};

class CUSHIM_API Graph {
public:
  // cuGraphCreate (flags must be 0).
  static Expected<Graph *> create(unsigned Flags);
  // cuGraphDestroy: CUDA_ERROR_INVALID_VALUE for a child graph owned by a node.
  static Error destroy(Graph *G);

  CUgraph handle() { return reinterpret_cast<CUgraph>(this); }
  const std::vector<std::unique_ptr<GraphNode>> &nodes() const { return Nodes; }
  GraphNode *parentNode() const { return Parent; }

  // Adds Proto with edges from Deps (live nodes of this graph, no duplicates).
  Expected<GraphNode *> addNode(GraphNode &&Proto, const CUgraphNode *Deps, size_t NumDeps);
  Error addDependencies(const CUgraphNode *From, const CUgraphNode *To, size_t Count);
  Error removeDependencies(const CUgraphNode *From, const CUgraphNode *To, size_t Count);
  static Error destroyNode(GraphNode *N);
  // A deep copy (registered: an application handle; unregistered: an executable graph's private snapshot).
  std::unique_ptr<Graph> clone(bool Register) const;
  // Root nodes (no dependencies) and all edges, in node order.
  std::vector<GraphNode *> roots() const;
  std::vector<std::pair<GraphNode *, GraphNode *>> edges() const;
  // Nodes in an order where every node follows its dependencies; CUDA_ERROR_INVALID_VALUE on a cycle.
  Expected<std::vector<GraphNode *>> topologicalOrder() const;
  // cuGraphDebugDotPrint.
  Error debugDotPrint(const std::string &Path, unsigned Flags) const;

  Graph() = default;
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

private:
  friend struct GraphNode;
  friend class GraphExec;
  std::vector<std::unique_ptr<GraphNode>> Nodes;
  // Executable graphs of this graph alive now (a graph with memory nodes may have one at a time).
  std::shared_ptr<std::atomic<int>> Instances = std::make_shared<std::atomic<int>>(0);
  GraphNode *Parent = nullptr; // the child-graph node embedding this graph
  bool Registered = false;
  size_t NextIndex = 0;
};

// Result of cuGraphExecUpdate.
struct GraphUpdateResult {
  CUgraphExecUpdateResult Result = CU_GRAPH_EXEC_UPDATE_SUCCESS;
  GraphNode *ErrorNode = nullptr;
  GraphNode *ErrorFromNode = nullptr;
};

class CUSHIM_API GraphExec {
public:
  // cuGraphInstantiate: snapshots G; CUDA_ERROR_INVALID_VALUE for a cycle or an unsupported node.
  static Expected<GraphExec *> instantiate(Graph &G, unsigned long long Flags);
  static Error destroy(GraphExec *E);

  CUgraphExec handle() { return reinterpret_cast<CUgraphExec>(this); }
  unsigned long long flags() const { return Flags; }

  // Enqueues every node on S in dependency order; a capturing S records the whole graph as a child-graph node.
  Error launch(Stream &S);
  // cuGraphExecUpdate: same topology and node types as the snapshot, then takes G's params.
  Error update(Graph &G, GraphUpdateResult &Result);
  // The snapshot's node for a node of the graph it was instantiated (or updated) from.
  Expected<GraphNode *> nodeFor(const GraphNode *Original);
  // cuGraphExec*NodeSetParams: Proto must have the node's type; a child graph must keep its topology.
  Error setNodeParams(const GraphNode *Original, GraphNode &&Proto);
  Error setEnabled(const GraphNode *Original, bool Enabled);
  Expected<bool> enabled(const GraphNode *Original);

  ~GraphExec();

private:
  GraphExec() = default;
  // The lanes and event slots of the schedule, in S's context (the Done event's); false: run on S alone.
  Expected<bool> prepareLanes(Stream &S);
  Error launchOnLanes(Stream &S);
  void releaseLanes();

  std::mutex Mutex;
  unsigned long long Flags = 0;
  std::unique_ptr<Graph> Snapshot;
  std::unique_ptr<GraphSchedule> Schedule; // executable nodes, child graphs expanded in place, placed on lanes
  std::map<const GraphNode *, GraphNode *> FromOriginal;
  // Launches of one executable graph run one after another, even on different streams.
  Stream *LastStream = nullptr;
  Context *DoneContext = nullptr;
  cushim_hal_event Done = nullptr;
  // Lanes 1.. of the schedule (non-blocking streams of DoneContext) and its events; Start marks the launch's start
  // on the launch stream.
  std::vector<Stream *> Lanes;
  std::vector<cushim_hal_event> Slots;
  cushim_hal_event Start = nullptr;
  // Graphs with memory nodes: the instance count of the graph instantiated, held while this executable graph lives.
  std::shared_ptr<std::atomic<int>> MemoryInstance;
  bool HasMemoryNodes = false;
};

// Live application handles, or nullptr.
CUSHIM_API Graph *lookupGraph(CUgraph Handle);
CUSHIM_API GraphNode *lookupGraphNode(CUgraphNode Handle);
CUSHIM_API GraphExec *lookupGraphExec(CUgraphExec Handle);

// Enqueues the work one node describes on S (not for child graphs or empty nodes).
Error runGraphNode(const GraphNode &N, Stream &S);

// ---- Helpers of the runtime and driver entry points (GraphApiSupport.cpp) -------------------------------------

// Live handles or CUDA_ERROR_INVALID_VALUE naming the API; Want: the node type the call needs (or any).
CUSHIM_API Expected<Graph *> requireGraph(const char *Api, CUgraph Handle);
CUSHIM_API Expected<GraphNode *> requireGraphNode(const char *Api, CUgraphNode Handle, int Want = -1);
CUSHIM_API Expected<GraphExec *> requireGraphExec(const char *Api, CUgraphExec Handle);
// cuGraphGetNodes-style outputs: Out NULL returns the count; else fills min(*Count, n) entries (NULL past the end) and
// stores the real count.
CUSHIM_API Error fillNodes(const std::vector<GraphNode *> &Nodes, CUgraphNode *Out, size_t *Count);
CUSHIM_API Error fillEdges(const std::vector<std::pair<GraphNode *, GraphNode *>> &Edges, CUgraphNode *From,
                           CUgraphNode *To, CUgraphEdgeData *Data, size_t *Count);
// Only default edges exist here: edge data, when given, must be all zero.
CUSHIM_API Error checkDefaultEdges(const CUgraphEdgeData *Data, size_t Count);
// A kernel node for F: dims and shared memory checked, parameters packed.
CUSHIM_API Expected<GraphNode> kernelNode(Function &F, const LaunchConfig &C, void **KernelParams, void **Extra,
                                          const void *ApiFunc);
// Pointers to each parameter inside the node's packed buffer (cuGraphKernelNodeGetParams' kernelParams).
CUSHIM_API void **kernelNodeArgPointers(GraphNode &N);
// Validated memset/copy nodes.
CUSHIM_API Expected<GraphNode> memsetNode(const MemsetNodeParams &P);
CUSHIM_API Expected<GraphNode> copyNode(const CopyNodeParams &P);
// Makes one side of a copy the CUDA array Handle (its storage, rows packed; XBytes in bytes): copyNode then checks the
// region against the array.
CUSHIM_API Error copyArraySide(CopyNodeParams &C, bool Source, CUarray Handle, size_t XBytes, size_t Y, size_t Z);
// Replaces a node's params (cuGraph*NodeSetParams) with Proto's, which must be of the node's type.
CUSHIM_API Error setGraphNodeParams(GraphNode &N, GraphNode &&Proto);

// The bodies of the entry points cudaGraph*/cuGraph* share (the runtime's handle types are the driver's; errors are
// CUDA_ERROR_* codes, which the runtime maps to its own). Api names the entry point in messages.
CUSHIM_API Error graphCreateApi(const char *Api, CUgraph *Out, unsigned Flags);
CUSHIM_API Error graphDestroyApi(const char *Api, CUgraph Graph);
CUSHIM_API Error graphCloneApi(const char *Api, CUgraph *Out, CUgraph Original);
CUSHIM_API Error graphFindInCloneApi(const char *Api, CUgraphNode *Out, CUgraphNode Original, CUgraph Clone);
CUSHIM_API Error graphNodeTypeApi(const char *Api, CUgraphNode Node, CUgraphNodeType *Out);
CUSHIM_API Error graphNodesApi(const char *Api, CUgraph Graph, bool RootsOnly, CUgraphNode *Out, size_t *Count);
CUSHIM_API Error graphEdgesApi(const char *Api, CUgraph Graph, CUgraphNode *From, CUgraphNode *To,
                               CUgraphEdgeData *Data, size_t *Count);
CUSHIM_API Error graphNeighboursApi(const char *Api, CUgraphNode Node, bool Dependents, CUgraphNode *Out,
                                    CUgraphEdgeData *Data, size_t *Count);
CUSHIM_API Error graphChangeDependenciesApi(const char *Api, CUgraph Graph, const CUgraphNode *From,
                                            const CUgraphNode *To, const CUgraphEdgeData *Data, size_t Count, bool Add);
CUSHIM_API Error graphDestroyNodeApi(const char *Api, CUgraphNode Node);
CUSHIM_API Error graphDotPrintApi(const char *Api, CUgraph Graph, const char *Path, unsigned Flags);
CUSHIM_API Error graphAddNodeApi(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps,
                                 size_t NumDeps, Expected<GraphNode> Proto);
// cuGraphAddMemAllocNode (the allocation in Ctx; P->dptr receives its address) / cuGraphAddMemFreeNode and getters.
CUSHIM_API Error graphAddMemAllocApi(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps,
                                     size_t NumDeps, Expected<Context *> Ctx, CUDA_MEM_ALLOC_NODE_PARAMS *P);
CUSHIM_API Error graphAddMemFreeApi(const char *Api, CUgraphNode *Out, CUgraph Graph, const CUgraphNode *Deps,
                                    size_t NumDeps, void *Ptr);
CUSHIM_API Error graphMemAllocGetApi(const char *Api, CUgraphNode Node, CUDA_MEM_ALLOC_NODE_PARAMS *Out);
CUSHIM_API Error graphMemFreeGetApi(const char *Api, CUgraphNode Node, void **Out);
CUSHIM_API Error graphSetNodeApi(const char *Api, CUgraphNode Node, Expected<GraphNode> Proto);
CUSHIM_API Error graphExecSetNodeApi(const char *Api, CUgraphExec Exec, CUgraphNode Node, Expected<GraphNode> Proto);
CUSHIM_API Expected<GraphNode> hostGraphNode(cushim_hal_host_fn Fn, void *UserData);
CUSHIM_API Expected<GraphNode> eventGraphNode(CUgraphNodeType Type, CUevent Event);
CUSHIM_API Expected<GraphNode> childGraphNode(const char *Api, CUgraph Child);
CUSHIM_API GraphNode emptyGraphNode();
CUSHIM_API Error graphEventGetApi(const char *Api, CUgraphNode Node, CUgraphNodeType Type, CUevent *Out);
CUSHIM_API Error graphHostGetApi(const char *Api, CUgraphNode Node, HostNodeParams *Out);
CUSHIM_API Error graphMemsetGetApi(const char *Api, CUgraphNode Node, MemsetNodeParams *Out);
CUSHIM_API Error graphChildGetApi(const char *Api, CUgraphNode Node, CUgraph *Out);
CUSHIM_API Error graphInstantiateApi(const char *Api, CUgraphExec *Out, CUgraph Graph, unsigned long long Flags);
// cuGraphLaunch / cuGraphUpload (Launch false: a host backend has nothing to upload).
CUSHIM_API Error graphLaunchApi(const char *Api, CUgraphExec Exec, Expected<Stream *> S, bool Launch);
CUSHIM_API Error graphExecDestroyApi(const char *Api, CUgraphExec Exec);
CUSHIM_API Error graphExecFlagsApi(const char *Api, CUgraphExec Exec, unsigned long long *Out);
CUSHIM_API Error graphExecUpdateApi(const char *Api, CUgraphExec Exec, CUgraph Graph, GraphUpdateResult &R);
// cuGraphNodeSetEnabled (Get NULL) / cuGraphNodeGetEnabled.
CUSHIM_API Error graphEnabledApi(const char *Api, CUgraphExec Exec, CUgraphNode Node, unsigned Set, unsigned *Get);
CUSHIM_API Error captureBeginApi(const char *Api, Expected<Stream *> S, CUstreamCaptureMode Mode, CUgraph Into,
                                 const CUgraphNode *Deps, const CUgraphEdgeData *Data, size_t NumDeps);
CUSHIM_API Error captureEndApi(const char *Api, Expected<Stream *> S, CUgraph *Out);
CUSHIM_API Error captureStatusApi(const char *Api, Expected<Stream *> S, CUstreamCaptureStatus *Out);
CUSHIM_API Error captureInfoApi(const char *Api, Expected<Stream *> S, CUstreamCaptureStatus *Status, cuuint64_t *Id,
                                CUgraph *Graph, const CUgraphNode **Deps, const CUgraphEdgeData **Data,
                                size_t *NumDeps);
CUSHIM_API Error captureUpdateApi(const char *Api, Expected<Stream *> S, CUgraphNode *Deps, const CUgraphEdgeData *Data,
                                  size_t NumDeps, unsigned Flags);

// ---- Stream capture (GraphCapture.cpp) ------------------------------------------------------------------------

struct CaptureInfo {
  CUstreamCaptureStatus Status = CU_STREAM_CAPTURE_STATUS_NONE;
  unsigned long long Id = 0;
  Graph *G = nullptr;
  const CUgraphNode *Deps = nullptr; // valid until the stream's next capture operation
  size_t NumDeps = 0;
};

// cuStreamBeginCapture / cuStreamBeginCaptureToGraph (Into: an existing graph, Deps its nodes to start from).
CUSHIM_API Error beginCapture(Stream &S, CUstreamCaptureMode Mode, Graph *Into = nullptr,
                              const CUgraphNode *Deps = nullptr, size_t NumDeps = 0);
// cuStreamEndCapture: the captured graph (null and an error when the capture was invalidated or is unjoined).
CUSHIM_API Expected<Graph *> endCapture(Stream &S);
CUSHIM_API CaptureInfo captureInfo(Stream &S);
// cuStreamUpdateCaptureDependencies: Flags CU_STREAM_ADD_CAPTURE_DEPENDENCIES or CU_STREAM_SET_CAPTURE_DEPENDENCIES.
CUSHIM_API Error updateCaptureDependencies(Stream &S, const CUgraphNode *Deps, size_t NumDeps, unsigned Flags);
// cuThreadExchangeStreamCaptureMode.
CUSHIM_API Error exchangeThreadCaptureMode(CUstreamCaptureMode &Mode);

// True while a capture sequence exists anywhere in the process: the cheap test every enqueue makes first.
CUSHIM_API bool captureActive();
// The capture hooks of core::Stream and core::Event. nullopt: not capturing, run the operation; otherwise the node
// was recorded (success) or the operation was refused (the error, the capture invalidated as CUDA does).
std::optional<Error> captureNode(Stream &S, GraphNode &&Proto);
std::optional<Error> captureRecord(Stream &S, Event &E);
std::optional<Error> captureWait(Stream &S, Event &E, unsigned Flags);
// Raw submissions (Stream::submit) and synchronising/querying calls on a capturing stream, or on the legacy stream
// while a blocking stream of its context captures, are refused (and invalidate the capture). Unsafe: the call also
// counts as a potentially unsafe one (below).
CUSHIM_API Error captureCheckSubmit(Stream &S);
CUSHIM_API Error captureCheckSync(Stream &S, const char *What, bool Unsafe = true);
// "Potentially unsafe" calls (synchronous copies, stream synchronisation, allocation) while this thread's capture
// interaction mode prohibits them: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, the prohibiting captures invalidated.
CUSHIM_API Error captureCheckUnsafeCall(const char *What);
// cuStreamIsCapturing/GetCaptureInfo on the legacy stream while a blocking stream of its context captures:
// CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, without invalidating anything.
CUSHIM_API Error captureCheckLegacyStatus(Stream &S);
// Event query/synchronize/elapsed on an event last recorded in a capture: CUDA_ERROR_CAPTURED_EVENT.
CUSHIM_API Error captureCheckEvent(const Event &E);
// A record outside capture, or the event's destruction, ends its captured state.
void captureForgetEvent(const Event &E);
// A stream going away leaves its capture (which is invalidated).
void captureForgetStream(Stream &S);

} // namespace cushim::core
