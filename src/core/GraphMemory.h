// Graph allocations (memory allocation and free nodes, docs/GRAPHS.md): an allocation node's memory is reserved when the
// node is created, so its address is fixed for the node's lifetime; it is live from a launch reaching the node until a
// free node, cuMemFreeAsync or cuMemFree frees it. The memory goes back to the backend once no node refers to it and it
// is not live.
#pragma once

#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

namespace cushim::core {

class Context;
class Graph;
class Stream;
struct GraphNode;

struct GraphAllocation;

// What an allocation node holds; shared by the node, its executable graphs' snapshots and capture protos. The last
// holder going away ends the node's claim on the memory.
struct MemAllocNodeParams {
  std::shared_ptr<GraphAllocation> Alloc;
  CUmemPoolProps Props{};
  std::vector<CUmemAccessDesc> Access;
  void *Ptr = nullptr;
  size_t Bytes = 0;
};

// cuGraphAddMemAllocNode / a cuMemAllocAsync during capture: validates P and reserves the memory now, in Ctx.
CUSHIM_API Expected<GraphNode> memAllocGraphNode(Context &Ctx, const CUmemPoolProps &Props,
                                                 const CUmemAccessDesc *Access, size_t AccessCount, size_t Bytes);
// cuGraphAddMemFreeNode into G: Ptr must be the address of an allocation node not yet freed in G.
CUSHIM_API Expected<GraphNode> memFreeGraphNode(const Graph &G, void *Ptr);
// True when G (or a child graph) holds allocation or free nodes: no clone, child graph, node or edge removal, and
// one executable graph at a time.
bool hasMemoryNodes(const Graph &G);

// A launch of an executable graph with these allocation and free nodes: refuses while one of its allocations is still
// live from an earlier launch (unless AutoFree: those are freed first), then marks the allocations live and the freed
// ones free, in the order of the launch.
Error graphMemoryLaunch(const std::vector<GraphNode *> &Nodes, bool AutoFree);

// cuMemAllocAsync / cuMemFreeAsync on a capturing stream: an allocation node (with the pool's properties) or a free
// node of the capture's graph.
Expected<void *> captureAllocation(Stream &S, const CUmemPoolProps &Props, size_t Bytes);
Error captureFree(Stream &S, void *Ptr);

// cuMemFreeAsync (S) or cuMemFree (S null) of Ptr when it is a graph allocation; nullopt when it is not one.
std::optional<Error> freeGraphAllocation(void *Ptr, Stream *S);

// cuDeviceGetGraphMemAttribute / cuDeviceSetGraphMemAttribute (only the high watermarks, reset to 0).
CUSHIM_API Error graphMemAttribute(int Device, CUgraphMem_attribute Attr, void *Value, bool Set);
// cuDeviceGraphMemTrim: memory goes back to the backend as soon as nothing holds it, so nothing is cached to trim.
CUSHIM_API Error graphMemTrim(int Device);

} // namespace cushim::core
