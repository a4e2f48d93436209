// Streams over backend queues, with the legacy default stream's implicit synchronisation and per-thread default
// streams built from events and queue_wait_event (docs/STREAMS.md explains the scheme).
#include "core/Stream.h"

#include "core/Context.h"
#include "core/Event.h"
#include "core/Graph.h"
#include "core/Handles.h"
#include "core/Memory.h"
#include "core/MemoryMap.h"
#include "hal/Hal.h"
#include "support/Config.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cushim::core {

namespace {

HandleRegistry<Stream> &streams() {
  static auto *R = new HandleRegistry<Stream>();
  return *R;
}

std::atomic<unsigned long long> NextStreamId{1};

// Stream lifetimes. Every destruction happens under Mutex after checking the handle is still live, so that a thread
// exiting (destroying its per-thread streams) and a context teardown never both destroy one stream. Owners maps each
// live per-thread stream to its thread. Lock order: Lifetime.Mutex before a context's stream mutex.
struct Lifetime {
  std::mutex Mutex;
  std::unordered_map<Stream *, std::thread::id> Owners;
};
Lifetime &lifetime() {
  static auto *L = new Lifetime(); // leaked: threads may exit while static destructors run
  return *L;
}

// Unregisters a live stream; Lifetime.Mutex is held. The caller deletes it afterwards, outside the lock.
void unregisterLocked(Stream *S) {
  streams().remove(S);
  lifetime().Owners.erase(S);
  S->context().removeStream(S);
}

// The calling thread's per-thread default streams, destroyed when the thread exits (as CUDA releases them).
struct ThreadStreams {
  std::vector<std::pair<Context *, Stream *>> Entries;
  ~ThreadStreams() {
    std::thread::id Me = std::this_thread::get_id();
    for (auto &[Ctx, S] : Entries) {
      {
        std::lock_guard<std::mutex> G(lifetime().Mutex);
        auto It = lifetime().Owners.find(S);
        if (It == lifetime().Owners.end() || It->second != Me || !streams().lookup(S))
          continue; // already destroyed with its context
        unregisterLocked(S);
      }
      delete S; // drains the queue
    }
  }
};
thread_local ThreadStreams MyStreams;

// Errors of asynchronous work are sticky for the whole context, as a kernel fault is on CUDA.
Error noteAsyncError(Context &Ctx, Error E) {
  if (E.isError() && E.code() != CUDA_ERROR_NOT_READY)
    Ctx.setStickyError(E);
  return E;
}

enum class Memory { Device, PinnedHost, PageableHost };

// What the copy rules need to know about a pointer: memory the core did not hand out is pageable host memory.
Memory classify(const void *P) {
  std::optional<Allocation> A = memory_map::find(P);
  if (!A)
    return Memory::PageableHost;
  // Registered host memory (cudaHostRegister) is page-locked host memory like a pinned allocation.
  return A->Kind == CUSHIM_HAL_MEMORY_PINNED_HOST || A->Kind == RegisteredHostKind ? Memory::PinnedHost
                                                                                   : Memory::Device;
}

struct CallbackBox {
  Context *Ctx;
  std::function<void(CUresult)> Fn;
};

void runCallback(void *P) {
  std::unique_ptr<CallbackBox> Box(static_cast<CallbackBox *>(P));
  Box->Fn(Box->Ctx->asyncStatus());
}

void freeStaging(void *P) { std::free(P); }

} // namespace

Stream::Stream(Context &Ctx, cushim_hal_queue Queue, unsigned Flags, int Priority, Kind K)
    : Ctx(Ctx), Queue(Queue), Flags(Flags), Priority(Priority), StreamKind(K), Id(NextStreamId++) {}

Stream::~Stream() {
  if (captureActive())
    captureForgetStream(*this); // a capture this stream takes part in is invalidated
  {
    std::unique_lock<std::mutex> L(PinMutex);
    Unpinned.wait(L, [this] { return Pins == 0; });
  }
  // cuStreamDestroy returns at once in CUDA; work already queued still completes (the backend drains the queue).
  if (Queue)
    (void)hal::check(hal::ops().queue_destroy(Queue), "queue_destroy");
  if (Marker)
    (void)hal::ops().event_destroy(Marker);
}

static Expected<Stream *> createLocked(Context &Ctx, unsigned Flags, int Priority, Stream::Kind K) {
  CUSHIM_TRY(Ctx.stickyError());
  cushim_hal_queue Queue = nullptr;
  CUSHIM_TRY(hal::check(hal::ops().queue_create(Ctx.hal(), Flags, Priority, &Queue), "queue_create"));
  auto *S = new Stream(Ctx, Queue, Flags, Priority, K);
  Ctx.addStream(S);
  streams().add(S);
  return S;
}

Expected<Stream *> Stream::create(Context &Ctx, unsigned Flags, int Priority) {
  if (Flags & ~unsigned(CU_STREAM_NON_BLOCKING))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("stream flags {:#x}: only CU_STREAM_NON_BLOCKING (1) is "
                                                           "defined",
                                                           Flags));
  // CUDA clamps priorities outside the range rather than failing.
  Priority = std::clamp(Priority, GreatestStreamPriority, LeastStreamPriority);
  std::lock_guard<std::mutex> G(lifetime().Mutex);
  return createLocked(Ctx, Flags, Priority, (Flags & CU_STREAM_NON_BLOCKING) ? Kind::NonBlocking : Kind::Blocking);
}

Error Stream::destroy(Stream *S) {
  {
    std::lock_guard<std::mutex> G(lifetime().Mutex);
    if (!streams().lookup(S))
      return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{} is not a live stream", static_cast<void *>(S)));
    unregisterLocked(S);
  }
  delete S;
  return Error::success();
}

void Stream::destroyAllOf(Context &Ctx) {
  std::vector<Stream *> Doomed;
  {
    std::lock_guard<std::mutex> G(lifetime().Mutex);
    {
      std::lock_guard<std::mutex> SG(Ctx.streamMutex());
      Doomed.assign(Ctx.streamsLocked().begin(), Ctx.streamsLocked().end());
    }
    for (Stream *S : Doomed)
      unregisterLocked(S);
  }
  for (Stream *S : Doomed)
    delete S;
}

void Stream::pin() {
  std::lock_guard<std::mutex> L(PinMutex);
  ++Pins;
}

void Stream::unpin() {
  // Notified under the lock: once the destructor sees Pins == 0 it may free the condition variable.
  std::lock_guard<std::mutex> L(PinMutex);
  if (--Pins == 0)
    Unpinned.notify_all();
}

// ---- Ordering ------------------------------------------------------------------------------------------------------

Expected<cushim_hal_event> Stream::markEndLocked() {
  const cushim_hal_ops &Ops = hal::ops();
  if (!Marker)
    CUSHIM_TRY(hal::check(Ops.event_create(Ctx.hal(), CU_EVENT_DISABLE_TIMING, &Marker), "event_create"));
  if (MarkerAt != Work) {
    CUSHIM_TRY(hal::check(Ops.event_record(Marker, Queue), "event_record"));
    MarkerAt = Work;
  }
  return Marker;
}

Error Stream::orderBeforeSubmitLocked() {
  const cushim_hal_ops &Ops = hal::ops();
  // Waits on `Waiter` for everything submitted to `Target` so far, unless Target is idle already.
  auto waitFor = [&](Stream &Target) -> Error {
    if (Ops.queue_query(Target.Queue) != CUDA_ERROR_NOT_READY)
      return Error::success();
    auto M = Target.markEndLocked();
    if (!M)
      return M.takeError();
    return hal::check(Ops.queue_wait_event(Queue, *M), "queue_wait_event");
  };
  if (StreamKind == Kind::Legacy) {
    // Work on the legacy stream waits for all work already submitted to the context's blocking streams.
    for (Stream *B : Ctx.streamsLocked()) {
      if (!B->synchronizesWithLegacy() || B->Work == B->LegacySawWork)
        continue;
      B->LegacySawWork = B->Work;
      CUSHIM_TRY(waitFor(*B));
    }
    return Error::success();
  }
  if (!synchronizesWithLegacy())
    return Error::success();
  // Work on a blocking stream waits for the legacy stream's work submitted before it.
  Stream &Legacy = Ctx.nullStream();
  if (Legacy.Work == SeenLegacyWork)
    return Error::success();
  SeenLegacyWork = Legacy.Work;
  return waitFor(Legacy);
}

Error Stream::submit(llvm::function_ref<Error()> Enqueue) {
  CUSHIM_TRY(Ctx.stickyError());
  // The methods below record nodes on a capturing stream before getting here; anything else cannot be captured.
  if (captureActive())
    CUSHIM_TRY(captureCheckSubmit(*this));
  std::lock_guard<std::mutex> G(Ctx.streamMutex());
  CUSHIM_TRY(orderBeforeSubmitLocked());
  CUSHIM_TRY(Enqueue());
  ++Work;
  return Error::success();
}

// ---- Work ----------------------------------------------------------------------------------------------------------

// A 1D copy node for a capturing stream (docs/GRAPHS.md).
static GraphNode capturedCopy(void *Dst, const void *Src, size_t Bytes) {
  GraphNode N;
  N.Type = CU_GRAPH_NODE_TYPE_MEMCPY;
  N.Copy.Dst = Dst;
  N.Copy.Src = Src;
  N.Copy.Width = N.Copy.DstPitch = N.Copy.SrcPitch = Bytes;
  N.Copy.DstHeight = N.Copy.SrcHeight = 1;
  return N;
}

Error Stream::copy(void *Dst, const void *Src, size_t Bytes) {
  if (captureActive())
    if (auto R = captureNode(*this, capturedCopy(Dst, Src, Bytes)))
      return std::move(*R);
  return submit([&] { return hal::check(hal::ops().enqueue_copy(Queue, Dst, Src, Bytes), "enqueue_copy"); });
}

Error Stream::fill(void *Dst, uint32_t Value, unsigned ElementSize, size_t Count) {
  if (captureActive()) {
    GraphNode N;
    N.Type = CU_GRAPH_NODE_TYPE_MEMSET;
    N.Memset = MemsetNodeParams{Dst, Count * ElementSize, Value, ElementSize, Count, 1};
    if (auto R = captureNode(*this, std::move(N)))
      return std::move(*R);
  }
  return submit(
      [&] { return hal::check(hal::ops().enqueue_fill(Queue, Dst, Value, ElementSize, Count), "enqueue_fill"); });
}

Error Stream::launch(cushim_hal_kernel Kernel, const cushim_hal_launch &Launch) {
  CUSHIM_TRY(submit([&] { return hal::check(hal::ops().enqueue_launch(Queue, Kernel, &Launch), "enqueue_launch"); }));
  // CUDA_LAUNCH_BLOCKING=1 makes every launch synchronous, for both APIs.
  if (config().LaunchBlocking)
    return synchronize();
  return Error::success();
}

Error Stream::hostFunction(cushim_hal_host_fn Fn, void *UserData) {
  if (captureActive()) {
    GraphNode N;
    N.Type = CU_GRAPH_NODE_TYPE_HOST;
    N.Host = HostNodeParams{Fn, UserData};
    if (auto R = captureNode(*this, std::move(N)))
      return std::move(*R);
  }
  return submit([&] { return hal::check(hal::ops().enqueue_host_func(Queue, Fn, UserData), "enqueue_host_func"); });
}

Error Stream::callback(std::function<void(CUresult Status)> Fn) {
  // The callback's box is freed after one run, so it cannot become a graph node that runs many times.
  if (captureActive())
    CUSHIM_TRY(captureCheckSubmit(*this));
  auto *Box = new CallbackBox{&Ctx, std::move(Fn)};
  Error E = hostFunction(runCallback, Box);
  if (E.isError())
    delete Box;
  return E;
}

Error Stream::record(Event &E) {
  if (captureActive())
    if (auto R = captureRecord(*this, E))
      return std::move(*R);
  return submit([&] { return hal::check(hal::ops().event_record(E.hal(), Queue), "event_record"); });
}

Error Stream::wait(Event &E, unsigned Flags) {
  if (captureActive())
    if (auto R = captureWait(*this, E, Flags))
      return std::move(*R);
  return submit([&] { return hal::check(hal::ops().queue_wait_event(Queue, E.hal()), "queue_wait_event"); });
}

Error Stream::copyAsync(void *Dst, const void *Src, size_t Bytes) {
  if (Bytes == 0)
    return Error::success();
  // Captured: a node that copies straight from the application's memory whenever the graph runs (no staging).
  if (captureActive())
    if (auto R = captureNode(*this, capturedCopy(Dst, Src, Bytes)))
      return std::move(*R);
  Memory To = classify(Dst), From = classify(Src);
  bool HostToHost = To != Memory::Device && From != Memory::Device;
  if (HostToHost || To == Memory::PageableHost) {
    // CUDA: host-to-host copies are fully synchronous; copies to pageable memory return once complete.
    CUSHIM_TRY(copy(Dst, Src, Bytes));
    return synchronize();
  }
  if (From == Memory::PageableHost) {
    // The application may reuse a pageable source as soon as we return: stage it now, free it in stream order.
    void *Staging = std::malloc(Bytes);
    if (!Staging)
      return makeError(CUDA_ERROR_OUT_OF_MEMORY, fmt::format("no host memory to stage a {}-byte copy", Bytes));
    std::memcpy(Staging, Src, Bytes);
    if (Error E = copy(Dst, Staging, Bytes); E.isError()) {
      std::free(Staging);
      return E;
    }
    if (Error E = hostFunction(freeStaging, Staging); E.isError()) {
      (void)hal::ops().queue_synchronize(Queue);
      std::free(Staging);
    }
    return Error::success();
  }
  return copy(Dst, Src, Bytes);
}

Error Stream::copySync(void *Dst, const void *Src, size_t Bytes) {
  if (Bytes == 0)
    return Error::success();
  if (captureActive())
    CUSHIM_TRY(captureCheckSync(*this, "a synchronous copy"));
  CUSHIM_TRY(copy(Dst, Src, Bytes));
  // CUDA: "for transfers from device memory to device memory, no host-side synchronization is performed". A managed
  // destination is host-readable as soon as the call returns, so that copy still waits.
  std::optional<Allocation> To = memory_map::find(Dst);
  bool ManagedDst = To && isManagedKind(To->Kind);
  if (!ManagedDst && classify(Dst) == Memory::Device && classify(Src) == Memory::Device)
    return Error::success();
  return synchronize();
}

// ---- Waiting -------------------------------------------------------------------------------------------------------

Error Stream::synchronize() {
  if (captureActive())
    CUSHIM_TRY(captureCheckSync(*this, "stream synchronization"));
  if (StreamKind == Kind::Legacy) {
    // Behaves as an empty legacy-stream operation: it also waits for the blocking streams' earlier work.
    std::lock_guard<std::mutex> G(Ctx.streamMutex());
    CUSHIM_TRY(orderBeforeSubmitLocked());
  }
  return noteAsyncError(Ctx, hal::check(hal::ops().queue_synchronize(Queue), "queue_synchronize"));
}

Error Stream::query() {
  if (captureActive())
    CUSHIM_TRY(captureCheckSync(*this, "stream query", /*Unsafe=*/false));
  const cushim_hal_ops &Ops = hal::ops();
  auto queryOne = [&](cushim_hal_queue Q) -> Error {
    cushim_hal_result R = Ops.queue_query(Q);
    if (R == CUDA_ERROR_NOT_READY)
      return makeError(CUDA_ERROR_NOT_READY, "");
    return noteAsyncError(Ctx, hal::check(R, "queue_query"));
  };
  CUSHIM_TRY(queryOne(Queue));
  if (StreamKind != Kind::Legacy)
    return Error::success();
  std::lock_guard<std::mutex> G(Ctx.streamMutex());
  for (Stream *B : Ctx.streamsLocked())
    if (B->synchronizesWithLegacy())
      CUSHIM_TRY(queryOne(B->Queue));
  return Error::success();
}

// ---- Handles -------------------------------------------------------------------------------------------------------

Stream *lookupStream(CUstream Handle) { return isDefaultStreamHandle(Handle) ? nullptr : streams().lookup(Handle); }

Expected<Stream *> perThreadStream(Context &Ctx) {
  std::thread::id Me = std::this_thread::get_id();
  std::lock_guard<std::mutex> G(lifetime().Mutex);
  auto &Entries = MyStreams.Entries;
  for (auto It = Entries.begin(); It != Entries.end(); ++It) {
    if (It->first != &Ctx)
      continue;
    auto Owner = lifetime().Owners.find(It->second);
    if (Owner != lifetime().Owners.end() && Owner->second == Me && &It->second->context() == &Ctx)
      return It->second;
    Entries.erase(It); // its context was destroyed (and this address reused)
    break;
  }
  auto S = createLocked(Ctx, 0, 0, Stream::Kind::PerThread);
  if (!S)
    return S.takeError();
  lifetime().Owners[*S] = Me;
  Entries.emplace_back(&Ctx, *S);
  return *S;
}

Expected<Stream *> resolveStream(Context &Ctx, CUstream Handle, bool PerThreadDefault) {
  if (Handle == CU_STREAM_PER_THREAD || (Handle == nullptr && PerThreadDefault))
    return perThreadStream(Ctx);
  if (Handle == nullptr || Handle == CU_STREAM_LEGACY)
    return &Ctx.nullStream();
  Stream *S = streams().lookup(Handle);
  if (!S)
    return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{} is not a live stream", static_cast<void *>(Handle)));
  if (&S->context() != &Ctx)
    return makeError(CUDA_ERROR_INVALID_HANDLE, "stream belongs to another context");
  return S;
}

} // namespace cushim::core
