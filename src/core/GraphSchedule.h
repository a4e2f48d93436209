// The launch plan of an executable graph: its nodes flattened (child graphs expanded) in dependency order, each placed
// on a lane (lane 0: the launch stream; the others: streams of the executable graph's own), with the events that carry
// the edges between lanes. Independent branches land on different lanes and so run concurrently (docs/GRAPHS.md).
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <vector>

namespace cushim::core {

class Graph;
struct GraphNode;

// At most this many lanes (the launch stream included); wider graphs share lanes, as a GPU shares its hardware queues.
constexpr unsigned MaxGraphLanes = 8;

struct GraphStep {
  GraphNode *Node = nullptr;  // nullptr: a join point (an empty node, the entry or exit of a child graph)
  unsigned Lane = 0;
  std::vector<unsigned> Waits; // event slots this step waits for first (its dependencies on other lanes)
  int Signal = -1;             // the event slot recorded after it, or -1
};

struct GraphSchedule {
  std::vector<GraphStep> Steps; // in an order where every step follows its dependencies
  unsigned Lanes = 1;
  unsigned EventSlots = 0;
  // Lanes 1..Lanes-1 that start with a root of the graph: they wait for the launch's start event (the others start
  // with a wait for another lane, which already follows it).
  std::vector<unsigned> StartWaiters;
  // The slots the launch stream waits for at the end: those after the lanes' last steps that nothing depends on (a
  // lane whose last step has dependents is joined through them).
  std::vector<unsigned> LaneEnds;

  // The nodes that do work, in step order (a launch that runs everything on one stream).
  std::vector<GraphNode *> workNodes() const;
};

// CUDA_ERROR_INVALID_VALUE when G or one of its child graphs has a cycle.
Expected<GraphSchedule> scheduleGraph(const Graph &G);

} // namespace cushim::core
