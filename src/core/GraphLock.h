// Internal to the graph files: the one lock that guards graph structure and capture state, and the handle registries.
#pragma once

#include "core/Graph.h"
#include "core/Handles.h"

#include <mutex>

namespace cushim::core {

// Guards every graph's nodes and edges and all capture sequences. Lock order: an executable graph's mutex, then this,
// then a context's stream mutex; never taken while a stream mutex is held.
std::recursive_mutex &graphLock();
HandleRegistry<Graph> &graphRegistry();
HandleRegistry<GraphNode> &graphNodeRegistry();

} // namespace cushim::core
