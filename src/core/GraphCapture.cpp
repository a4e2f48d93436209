// Stream capture: work submitted to a capturing core::Stream becomes graph nodes instead of running; events join
// other streams into a capture; CUDA's capture-illegal operations are refused and invalidate it (docs/GRAPHS.md).
#include "core/Context.h"
#include "core/Event.h"
#include "core/GraphLock.h"
#include "core/Stream.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace cushim::core {

namespace {

struct CaptureSequence {
  unsigned long long Id = 0;
  CUstreamCaptureMode Mode = CU_STREAM_CAPTURE_MODE_GLOBAL;
  std::thread::id Thread;
  Stream *Origin = nullptr;
  Graph *G = nullptr;
  bool OwnsGraph = true;
  bool Invalidated = false;
  std::string Why;
  std::map<Stream *, std::vector<GraphNode *>> Deps;        // the streams taking part and where each one stands
  std::map<Stream *, std::vector<CUgraphNode>> InfoScratch; // what captureInfo hands out
  std::set<GraphNode *> Created;                            // nodes this capture added (the unjoined-work check)
};

struct EventCapture {
  CaptureSequence *Seq = nullptr;
  std::vector<GraphNode *> Nodes; // what a wait on the event depends on
};

struct CaptureState {
  std::atomic<int> Active{0};
  std::vector<std::unique_ptr<CaptureSequence>> Sequences;
  std::map<Stream *, CaptureSequence *> ByStream;
  std::map<const Event *, EventCapture> Events;
};

CaptureState &state() {
  static auto *S = new CaptureState();
  return *S;
}

std::atomic<unsigned long long> NextCaptureId{1};
thread_local CUstreamCaptureMode ThreadMode = CU_STREAM_CAPTURE_MODE_GLOBAL;

CaptureSequence *sequenceOfLocked(Stream &S) {
  auto It = state().ByStream.find(&S);
  return It == state().ByStream.end() ? nullptr : It->second;
}

void invalidateLocked(CaptureSequence &Seq, const std::string &Why) {
  if (!Seq.Invalidated)
    CUSHIM_LOG_WARN("stream capture {} invalidated: {}", Seq.Id, Why);
  Seq.Invalidated = true;
  if (Seq.Why.empty())
    Seq.Why = Why;
}

Error invalidatedError(const CaptureSequence &Seq) {
  return makeError(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED,
                   fmt::format("stream capture {} was invalidated earlier ({})", Seq.Id, Seq.Why));
}

// Work on the legacy stream while a blocking stream of its context captures would make the legacy stream depend on
// the capture: CUDA refuses it with CUDA_ERROR_STREAM_CAPTURE_IMPLICIT and invalidates those captures.
Error legacyConflictLocked(Stream &S, const char *What) {
  if (S.kind() != Stream::Kind::Legacy)
    return Error::success();
  bool Conflict = false;
  for (auto &[B, Seq] : state().ByStream) {
    if (&B->context() != &S.context() || !B->synchronizesWithLegacy())
      continue;
    invalidateLocked(*Seq, fmt::format("{} on the legacy stream while a blocking stream was capturing", What));
    Conflict = true;
  }
  if (Conflict)
    return makeError(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT,
                     fmt::format("{} on the legacy stream would depend on a blocking stream that is capturing", What));
  return Error::success();
}

Error unsafeCallLocked(const char *What) {
  if (ThreadMode == CU_STREAM_CAPTURE_MODE_RELAXED)
    return Error::success();
  std::thread::id Me = std::this_thread::get_id();
  bool Prohibited = false;
  for (auto &Seq : state().Sequences) {
    bool Own = Seq->Thread == Me && Seq->Mode != CU_STREAM_CAPTURE_MODE_RELAXED;
    bool Foreign =
        ThreadMode == CU_STREAM_CAPTURE_MODE_GLOBAL && Seq->Thread != Me && Seq->Mode == CU_STREAM_CAPTURE_MODE_GLOBAL;
    if (!Own && !Foreign)
      continue;
    invalidateLocked(*Seq, fmt::format("{} is not permitted during stream capture", What));
    Prohibited = true;
  }
  if (Prohibited)
    return makeError(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                     fmt::format("{} is not permitted while a stream capture is in progress (capture mode {}; see "
                                 "cudaThreadExchangeStreamCaptureMode)",
                                 What, static_cast<int>(ThreadMode)));
  return Error::success();
}

void endSequenceLocked(CaptureSequence *Seq) {
  CaptureState &St = state();
  for (auto It = St.ByStream.begin(); It != St.ByStream.end();)
    It = It->second == Seq ? St.ByStream.erase(It) : std::next(It);
  for (auto It = St.Events.begin(); It != St.Events.end();)
    It = It->second.Seq == Seq ? St.Events.erase(It) : std::next(It);
  auto It = std::find_if(St.Sequences.begin(), St.Sequences.end(), [&](auto &P) { return P.get() == Seq; });
  St.Sequences.erase(It);
  St.Active.fetch_sub(1, std::memory_order_relaxed);
}

void mergeDeps(std::vector<GraphNode *> &Into, const std::vector<GraphNode *> &From) {
  for (GraphNode *N : From)
    if (std::find(Into.begin(), Into.end(), N) == Into.end())
      Into.push_back(N);
}

Expected<std::vector<GraphNode *>> captureDeps(const Graph &G, const CUgraphNode *Deps, size_t NumDeps) {
  if (NumDeps && !Deps)
    return makeError(CUDA_ERROR_INVALID_VALUE, "dependencies array is NULL");
  std::vector<GraphNode *> Out;
  for (size_t I = 0; I < NumDeps; ++I) {
    GraphNode *N = lookupGraphNode(Deps[I]);
    if (!N || N->Owner != &G)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("dependency {} is not a node of the capture's graph", I));
    mergeDeps(Out, {N});
  }
  return Out;
}

} // namespace

bool captureActive() { return state().Active.load(std::memory_order_relaxed) != 0; }

// ---- Beginning and ending --------------------------------------------------------------------------------------

Error beginCapture(Stream &S, CUstreamCaptureMode Mode, Graph *Into, const CUgraphNode *Deps, size_t NumDeps) {
  if (Mode != CU_STREAM_CAPTURE_MODE_GLOBAL && Mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
      Mode != CU_STREAM_CAPTURE_MODE_RELAXED)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("capture mode {} is not defined", static_cast<int>(Mode)));
  if (S.kind() == Stream::Kind::Legacy)
    return makeError(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "the legacy default stream cannot be captured");
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureState &St = state();
  if (sequenceOfLocked(S))
    return makeError(CUDA_ERROR_ILLEGAL_STATE, "the stream is already capturing");
  std::vector<GraphNode *> Start;
  if (Into) {
    auto D = captureDeps(*Into, Deps, NumDeps);
    if (!D)
      return D.takeError();
    Start = std::move(*D);
  }
  auto Seq = std::make_unique<CaptureSequence>();
  Seq->Id = NextCaptureId++;
  Seq->Mode = Mode;
  Seq->Thread = std::this_thread::get_id();
  Seq->Origin = &S;
  if (Into) {
    Seq->G = Into;
    Seq->OwnsGraph = false;
  } else {
    auto G = Graph::create(0);
    if (!G)
      return G.takeError();
    Seq->G = *G;
  }
  Seq->Deps[&S] = std::move(Start);
  St.ByStream[&S] = Seq.get();
  St.Sequences.push_back(std::move(Seq));
  St.Active.fetch_add(1, std::memory_order_relaxed);
  return Error::success();
}

Expected<Graph *> endCapture(Stream &S) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureSequence *Seq = sequenceOfLocked(S);
  if (!Seq)
    return makeError(CUDA_ERROR_ILLEGAL_STATE, "the stream is not capturing");
  if (Seq->Origin != &S) {
    invalidateLocked(*Seq, "cuStreamEndCapture on a stream that joined the capture rather than began it");
    return makeError(CUDA_ERROR_STREAM_CAPTURE_UNMATCHED, "the capture was not begun on this stream");
  }
  if (Seq->Mode != CU_STREAM_CAPTURE_MODE_RELAXED && Seq->Thread != std::this_thread::get_id())
    return makeError(CUDA_ERROR_STREAM_CAPTURE_WRONG_THREAD,
                     "a capture not begun in relaxed mode must end in the thread that began it");
  Error Result = Error::success();
  if (Seq->Invalidated) {
    Result = invalidatedError(*Seq);
  } else {
    // Every stream that joined must have been joined back: no work of the capture may be left out of the origin
    // stream's final dependencies.
    const std::vector<GraphNode *> &End = Seq->Deps[&S];
    for (GraphNode *N : Seq->Created) {
      if (!N->Dependents.empty() || std::find(End.begin(), End.end(), N) != End.end())
        continue;
      Result = makeError(CUDA_ERROR_STREAM_CAPTURE_UNJOINED,
                         fmt::format("capture {}: node {} was captured on a stream that was not joined back into the "
                                     "origin stream",
                                     Seq->Id, N->Index));
      break;
    }
  }
  Graph *G = Seq->G;
  bool Owns = Seq->OwnsGraph;
  endSequenceLocked(Seq);
  if (Result.isError()) {
    if (Owns)
      (void)Graph::destroy(G);
    return Result;
  }
  return G;
}

CaptureInfo captureInfo(Stream &S) {
  CaptureInfo Info;
  if (!captureActive())
    return Info;
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureSequence *Seq = sequenceOfLocked(S);
  if (!Seq)
    return Info;
  Info.Status = Seq->Invalidated ? CU_STREAM_CAPTURE_STATUS_INVALIDATED : CU_STREAM_CAPTURE_STATUS_ACTIVE;
  Info.Id = Seq->Id;
  Info.G = Seq->G;
  auto &Scratch = Seq->InfoScratch[&S];
  Scratch.clear();
  for (GraphNode *N : Seq->Deps[&S])
    Scratch.push_back(N->handle());
  Info.Deps = Scratch.data();
  Info.NumDeps = Scratch.size();
  return Info;
}

Error updateCaptureDependencies(Stream &S, const CUgraphNode *Deps, size_t NumDeps, unsigned Flags) {
  if (Flags != CU_STREAM_ADD_CAPTURE_DEPENDENCIES && Flags != CU_STREAM_SET_CAPTURE_DEPENDENCIES)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("flags {:#x}: must be add (0) or set (1)", Flags));
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureSequence *Seq = sequenceOfLocked(S);
  if (!Seq)
    return makeError(CUDA_ERROR_ILLEGAL_STATE, "the stream is not capturing");
  if (Seq->Invalidated)
    return invalidatedError(*Seq);
  auto D = captureDeps(*Seq->G, Deps, NumDeps);
  if (!D)
    return D.takeError();
  auto &Cur = Seq->Deps[&S];
  if (Flags == CU_STREAM_SET_CAPTURE_DEPENDENCIES)
    Cur = std::move(*D);
  else
    mergeDeps(Cur, *D);
  return Error::success();
}

Error exchangeThreadCaptureMode(CUstreamCaptureMode &Mode) {
  if (Mode != CU_STREAM_CAPTURE_MODE_GLOBAL && Mode != CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
      Mode != CU_STREAM_CAPTURE_MODE_RELAXED)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("capture mode {} is not defined", static_cast<int>(Mode)));
  std::swap(Mode, ThreadMode);
  return Error::success();
}

// ---- Hooks of core::Stream and core::Event ---------------------------------------------------------------------

std::optional<Error> captureNode(Stream &S, GraphNode &&Proto) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureSequence *Seq = sequenceOfLocked(S);
  if (!Seq) {
    if (Error E = legacyConflictLocked(S, "an operation"); E.isError())
      return E;
    return std::nullopt;
  }
  if (Seq->Invalidated)
    return invalidatedError(*Seq);
  std::vector<CUgraphNode> Deps;
  for (GraphNode *D : Seq->Deps[&S])
    Deps.push_back(D->handle());
  // Captured nodes are internal to the capture's graph, so add without the registry check of application handles.
  auto N = Seq->G->addNode(std::move(Proto), Deps.data(), Deps.size());
  if (!N) {
    invalidateLocked(*Seq, N.error().message());
    return N.takeError();
  }
  Seq->Deps[&S] = {*N};
  Seq->Created.insert(*N);
  return Error::success();
}

std::optional<Error> captureRecord(Stream &S, Event &E) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureSequence *Seq = sequenceOfLocked(S);
  if (!Seq) {
    if (Error Err = legacyConflictLocked(S, "cuEventRecord"); Err.isError())
      return Err;
    state().Events.erase(&E); // recorded for real again
    return std::nullopt;
  }
  if (Seq->Invalidated)
    return invalidatedError(*Seq);
  // A record inside a capture adds no node: it marks where the stream stands, for waits that join other streams.
  state().Events[&E] = EventCapture{Seq, Seq->Deps[&S]};
  return Error::success();
}

std::optional<Error> captureWait(Stream &S, Event &E, unsigned Flags) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureState &St = state();
  CaptureSequence *Seq = sequenceOfLocked(S);
  auto EvIt = St.Events.find(&E);
  if (Seq && Seq->Invalidated)
    return invalidatedError(*Seq);
  if (Seq && (Flags & CU_EVENT_WAIT_EXTERNAL)) {
    // An external wait becomes an event-wait node, whatever recorded the event.
    GraphNode Proto;
    Proto.Type = CU_GRAPH_NODE_TYPE_WAIT_EVENT;
    Proto.Ev = &E;
    return captureNode(S, std::move(Proto));
  }
  if (EvIt == St.Events.end()) {
    if (Seq) {
      invalidateLocked(*Seq, "a wait on an event recorded outside the capture");
      return makeError(CUDA_ERROR_STREAM_CAPTURE_ISOLATION,
                       "a capturing stream cannot wait for an event recorded outside the capture (use "
                       "cudaEventWaitExternal)");
    }
    if (Error Err = legacyConflictLocked(S, "cuStreamWaitEvent"); Err.isError())
      return Err;
    return std::nullopt;
  }
  CaptureSequence *From = EvIt->second.Seq;
  if (From->Invalidated)
    return invalidatedError(*From);
  if (!Seq) {
    if (S.kind() == Stream::Kind::Legacy) {
      invalidateLocked(*From, "the legacy stream waited for an event of the capture");
      return makeError(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "the legacy stream cannot join a stream capture");
    }
    // The stream joins the capture, starting from where the event was recorded.
    St.ByStream[&S] = From;
    From->Deps[&S] = EvIt->second.Nodes;
    return Error::success();
  }
  if (Seq != From) {
    invalidateLocked(*Seq, "a wait on an event of another capture");
    invalidateLocked(*From, "a stream of another capture waited for one of its events");
    return makeError(CUDA_ERROR_STREAM_CAPTURE_MERGE, "the wait would merge two independent stream captures");
  }
  mergeDeps(Seq->Deps[&S], EvIt->second.Nodes);
  return Error::success();
}

Error captureCheckSubmit(Stream &S) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (CaptureSequence *Seq = sequenceOfLocked(S)) {
    invalidateLocked(*Seq, "an operation cuda_shim cannot capture");
    return makeError(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                     "this operation cannot be captured into a graph by cuda_shim (kernels, 1D copies, memsets, host "
                     "functions and event records/waits can)");
  }
  return legacyConflictLocked(S, "an operation");
}

Error captureCheckSync(Stream &S, const char *What, bool Unsafe) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (CaptureSequence *Seq = sequenceOfLocked(S)) {
    invalidateLocked(*Seq, fmt::format("{} on a capturing stream", What));
    return makeError(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED,
                     fmt::format("{} is not permitted on a stream that is capturing", What));
  }
  CUSHIM_TRY(legacyConflictLocked(S, What));
  return Unsafe ? unsafeCallLocked(What) : Error::success();
}

Error captureCheckLegacyStatus(Stream &S) {
  if (!captureActive() || S.kind() != Stream::Kind::Legacy)
    return Error::success();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  for (auto &[B, Seq] : state().ByStream)
    if (&B->context() == &S.context() && B->synchronizesWithLegacy())
      return makeError(CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "the legacy stream's capture status is undefined while a "
                                                           "blocking stream captures (that capture stays valid)");
  return Error::success();
}

Error captureCheckUnsafeCall(const char *What) {
  if (!captureActive())
    return Error::success();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  return unsafeCallLocked(What);
}

Error captureCheckEvent(const Event &E) {
  if (!captureActive())
    return Error::success();
  std::lock_guard<std::recursive_mutex> L(graphLock());
  if (state().Events.count(&E))
    return makeError(CUDA_ERROR_CAPTURED_EVENT, "the event was last recorded in a stream capture that has not ended");
  return Error::success();
}

void captureForgetEvent(const Event &E) {
  if (!captureActive())
    return;
  std::lock_guard<std::recursive_mutex> L(graphLock());
  state().Events.erase(&E);
}

void captureForgetStream(Stream &S) {
  std::lock_guard<std::recursive_mutex> L(graphLock());
  CaptureSequence *Seq = sequenceOfLocked(S);
  if (!Seq)
    return;
  invalidateLocked(*Seq, "a stream taking part in the capture was destroyed");
  if (Seq->Origin == &S) {
    // Nobody can end the capture any more: drop it (and the graph it was building).
    Graph *G = Seq->G;
    bool Owns = Seq->OwnsGraph;
    endSequenceLocked(Seq);
    if (Owns)
      (void)Graph::destroy(G);
    return;
  }
  state().ByStream.erase(&S);
  Seq->Deps.erase(&S);
  Seq->InfoScratch.erase(&S);
}

} // namespace cushim::core
