// Placing an executable graph's nodes on lanes: a greedy chain cover of the flattened graph, so that a node continues
// the lane of one of its dependencies when it is that lane's last node, and otherwise starts a branch of its own.
#include "core/GraphSchedule.h"

#include "core/Graph.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>

namespace cushim::core {

namespace {

struct FlatNode {
  GraphNode *Node; // nullptr: a join point
  std::vector<size_t> Deps;
};

// Appends G's nodes in dependency order; G's roots depend on Entry. Exits: the nodes nothing in G depends on.
Error flatten(const Graph &G, const std::vector<size_t> &Entry, std::vector<FlatNode> &Out,
              std::vector<size_t> &Exits) {
  auto Order = G.topologicalOrder();
  if (!Order)
    return Order.takeError();
  std::unordered_map<const GraphNode *, size_t> At;
  for (GraphNode *N : *Order) {
    std::vector<size_t> Deps = Entry;
    if (!N->Deps.empty()) {
      Deps.clear();
      for (GraphNode *D : N->Deps)
        Deps.push_back(At.at(D));
    }
    if (N->Type == CU_GRAPH_NODE_TYPE_GRAPH) {
      // A child graph runs between an entry point (after the node's dependencies) and an exit point (before its
      // dependents), with its own branches in between.
      Out.push_back({nullptr, std::move(Deps)});
      size_t In = Out.size() - 1;
      std::vector<size_t> ChildExits;
      CUSHIM_TRY(flatten(*N->Child, {In}, Out, ChildExits));
      if (ChildExits.empty())
        ChildExits.push_back(In);
      Out.push_back({nullptr, std::move(ChildExits)});
    } else {
      Out.push_back({N->Type == CU_GRAPH_NODE_TYPE_EMPTY ? nullptr : N, std::move(Deps)});
    }
    At[N] = Out.size() - 1;
    if (N->Dependents.empty())
      Exits.push_back(Out.size() - 1);
  }
  return Error::success();
}

} // namespace

std::vector<GraphNode *> GraphSchedule::workNodes() const {
  std::vector<GraphNode *> Out;
  for (const GraphStep &S : Steps)
    if (S.Node)
      Out.push_back(S.Node);
  return Out;
}

Expected<GraphSchedule> scheduleGraph(const Graph &G) {
  std::vector<FlatNode> Flat;
  std::vector<size_t> Exits;
  CUSHIM_TRY(flatten(G, {}, Flat, Exits));

  GraphSchedule Sched;
  Sched.Steps.resize(Flat.size());
  std::vector<size_t> Tail; // per lane: the last step placed on it
  auto signalOf = [&](size_t Step) {
    GraphStep &S = Sched.Steps[Step];
    if (S.Signal < 0)
      S.Signal = static_cast<int>(Sched.EventSlots++);
    return static_cast<unsigned>(S.Signal);
  };
  for (size_t I = 0; I < Flat.size(); ++I) {
    GraphStep &S = Sched.Steps[I];
    S.Node = Flat[I].Node;
    // Continue a dependency's lane when the dependency is still its last step (the lane's order then carries the
    // edge); else a fresh lane; past the limit, the lane whose last step came earliest (most likely finished).
    size_t Lane = SIZE_MAX;
    for (size_t D : Flat[I].Deps)
      if (Tail[Sched.Steps[D].Lane] == D) {
        Lane = Sched.Steps[D].Lane;
        break;
      }
    if (Lane == SIZE_MAX && Tail.size() < MaxGraphLanes) {
      Lane = Tail.size();
      Tail.push_back(I);
    }
    if (Lane == SIZE_MAX) {
      Lane = 0;
      for (size_t L = 1; L < Tail.size(); ++L)
        if (Tail[L] < Tail[Lane])
          Lane = L;
    }
    S.Lane = static_cast<unsigned>(Lane);
    Tail[Lane] = I;
    for (size_t D : Flat[I].Deps)
      if (Sched.Steps[D].Lane != S.Lane)
        Sched.Steps[I].Waits.push_back(signalOf(D)); // signalOf may not grow Steps, so S stays valid
  }
  Sched.Lanes = static_cast<unsigned>(std::max<size_t>(Tail.size(), 1));
  std::vector<bool> HasDependents(Flat.size());
  for (const FlatNode &F : Flat)
    for (size_t D : F.Deps)
      HasDependents[D] = true;
  std::vector<bool> Started(Sched.Lanes);
  for (const GraphStep &S : Sched.Steps) {
    if (S.Lane && !Started[S.Lane] && S.Waits.empty())
      Sched.StartWaiters.push_back(S.Lane);
    Started[S.Lane] = true;
  }
  // The launch stream joins the other lanes at the end, so that later work in it follows the whole graph.
  for (size_t L = 1; L < Tail.size(); ++L)
    if (!HasDependents[Tail[L]])
      Sched.LaneEnds.push_back(signalOf(Tail[L]));
  return Sched;
}

} // namespace cushim::core
