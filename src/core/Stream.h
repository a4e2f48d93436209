// Streams: ordered queues of work on the backend, with CUDA's default-stream semantics (the legacy NULL stream's
// implicit synchronisation with blocking streams, per-thread default streams). See docs/STREAMS.md.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <llvm/ADT/STLFunctionalExtras.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace cushim::core {

class Context;
class Event;

// Priorities as CUDA reports them on current GPUs: 0 is the default and least, -5 the greatest.
constexpr int LeastStreamPriority = 0;
constexpr int GreatestStreamPriority = -5;

class CUSHIM_API Stream {
public:
  enum class Kind {
    Legacy,      // the context's NULL stream (handle 0 / CU_STREAM_LEGACY)
    Blocking,    // created without CU_STREAM_NON_BLOCKING: synchronises with the legacy stream
    NonBlocking, // CU_STREAM_NON_BLOCKING: never synchronises implicitly
    PerThread,   // a thread's per-thread default stream: like a blocking stream, one per thread and context
  };

  // cuStreamCreate: Flags is CU_STREAM_DEFAULT or CU_STREAM_NON_BLOCKING; the priority is clamped to the range.
  static Expected<Stream *> create(Context &Ctx, unsigned Flags, int Priority);
  // cuStreamDestroy: returns at once for the application; work already queued still completes.
  static Error destroy(Stream *S);
  // Destroys every created and per-thread stream of a context that is going away.
  static void destroyAllOf(Context &Ctx);

  Context &context() const { return Ctx; }
  cushim_hal_queue hal() const { return Queue; }
  unsigned flags() const { return Flags; }
  int priority() const { return Priority; }
  Kind kind() const { return StreamKind; }
  unsigned long long id() const { return Id; }
  CUstream handle() { return reinterpret_cast<CUstream>(this); }
  // True for the streams the legacy stream waits for and that wait for it.
  bool synchronizesWithLegacy() const { return StreamKind == Kind::Blocking || StreamKind == Kind::PerThread; }

  // Asynchronous work. Everything enqueued on a stream goes through submit(), which first inserts the waits the
  // legacy default stream semantics require.
  Error copy(void *Dst, const void *Src, size_t Bytes);
  Error fill(void *Dst, uint32_t Value, unsigned ElementSize, size_t Count);
  Error launch(cushim_hal_kernel Kernel, const cushim_hal_launch &Launch); // synchronous with CUDA_LAUNCH_BLOCKING=1
  Error hostFunction(cushim_hal_host_fn Fn, void *UserData);
  // A host callback that receives the status of the stream's earlier work (cuStreamAddCallback).
  Error callback(std::function<void(CUresult Status)> Fn);
  Error record(Event &E);
  // Flags: CU_EVENT_WAIT_EXTERNAL (a capturing stream then records an event-wait node).
  Error wait(Event &E, unsigned Flags = 0);
  // Runs Enqueue (which must enqueue exactly one command on hal()) in the stream's order. For callers that need a
  // HAL entry the methods above do not cover (2D copies, ...).
  Error submit(llvm::function_ref<Error()> Enqueue); // a reference, not a copy: no allocation per command

  // Copies with CUDA's host-synchronisation rules. copyAsync (cudaMemcpyAsync): pageable host sources are staged
  // before returning, copies to pageable host memory and host-to-host copies return when done, the rest is fully
  // asynchronous. copySync (cudaMemcpy): returns when done, except device-to-device copies.
  Error copyAsync(void *Dst, const void *Src, size_t Bytes);
  Error copySync(void *Dst, const void *Src, size_t Bytes);

  // Waits for the stream (the legacy stream: and for the blocking streams, as any legacy-stream operation would).
  Error synchronize();
  // CUDA_ERROR_NOT_READY while work is pending; the legacy stream also while a blocking stream is busy.
  Error query();

  // Context::synchronize waits on the queue without the context's stream lock; a pinned stream is not destroyed
  // until it is unpinned. Pin only while the stream lock is held and the stream is in the context's set.
  void pin();
  void unpin();

  // Streams are created by Context (the NULL stream) and create().
  Stream(Context &Ctx, cushim_hal_queue Queue, unsigned Flags, int Priority, Kind K);
  ~Stream(); // waits until unpinned, then destroys the queue (which drains it)

private:
  friend class Context;
  // Inserts the implicit waits between this stream and the legacy stream; the context's stream lock is held.
  Error orderBeforeSubmitLocked();
  // Records the marker event at the stream's current end (once per batch of work); the stream lock is held.
  Expected<cushim_hal_event> markEndLocked();

  Context &Ctx;
  cushim_hal_queue Queue;
  unsigned Flags;
  int Priority;
  Kind StreamKind;
  unsigned long long Id;

  // Ordering state, guarded by the context's stream lock.
  uint64_t Work = 0;                 // commands submitted
  uint64_t SeenLegacyWork = 0;       // blocking streams: legacy commands this stream already waits for
  uint64_t LegacySawWork = 0;        // blocking streams: own commands the legacy stream already waits for
  cushim_hal_event Marker = nullptr; // recorded at the end of the stream when another stream must wait for it
  uint64_t MarkerAt = UINT64_MAX;    // Work when Marker was last recorded

  std::mutex PinMutex;
  std::condition_variable Unpinned;
  int Pins = 0;
};

// True for the handles that name a context's default stream rather than a created stream.
inline bool isDefaultStreamHandle(CUstream Handle) {
  return Handle == nullptr || Handle == CU_STREAM_LEGACY || Handle == CU_STREAM_PER_THREAD;
}

// A live created stream (any context), or nullptr. Default-stream handles are not looked up here.
CUSHIM_API Stream *lookupStream(CUstream Handle);

// Resolves an application stream handle in a context: CU_STREAM_LEGACY is the legacy stream, CU_STREAM_PER_THREAD
// the calling thread's per-thread stream, 0 either of them (PerThreadDefault: the _ptsz/_ptds entry points and
// --default-stream per-thread); others must be live streams of Ctx.
CUSHIM_API Expected<Stream *> resolveStream(Context &Ctx, CUstream Handle, bool PerThreadDefault = false);

// The calling thread's per-thread default stream in Ctx, created on first use and destroyed when the thread exits.
CUSHIM_API Expected<Stream *> perThreadStream(Context &Ctx);

} // namespace cushim::core
