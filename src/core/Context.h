// CUDA contexts (primary and created), the per-thread current-context stack, and the context's streams and modules.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace cushim::core {

class Device;
class Event;
class Module;
class Stream;

class CUSHIM_API Context {
public:
  // Creates the backend context and the context's NULL stream.
  static Expected<Context *> create(Device &Dev, unsigned Flags, bool IsPrimary);
  // Synchronises, unloads modules, frees the context's memory and destroys it (the handle becomes invalid).
  static Error destroy(Context *Ctx);

  // A device's primary context keeps its handle for the life of the process, as on CUDA: core::Device creates the
  // object once, inactive, and activates it on retain. Deactivating (the last release, cuDevicePrimaryCtxReset)
  // runs the destroy hooks and frees everything create gave and the context gathered since (memory, streams, events,
  // modules: library modules are detached instead, Module::detach); the next activation starts afresh.
  static Context *createInactivePrimary(Device &Dev);
  Error activate(unsigned NewFlags);
  Error deactivate();
  bool active() const { return Active.load(std::memory_order_acquire); }

  Device &device() const { return Dev; }
  cushim_hal_context hal() const { return Hal; }
  bool isPrimary() const { return IsPrimary; }
  unsigned flags() const { return Flags; }
  CUcontext handle() { return reinterpret_cast<CUcontext>(this); }

  // The legacy default stream (stream handle 0).
  Stream &nullStream() { return *Null; }

  // Memory owned by this context.
  Expected<void *> allocate(size_t Bytes, int Kind);
  Error free(void *Ptr);

  // cuMemGetInfo / cudaMemGetInfo: what the backend reports for the context's device (either pointer may be NULL).
  Error memoryInfo(size_t *Free, size_t *Total) const;

  // Waits for all work of all streams (created, per-thread and legacy); returns (and keeps) a sticky kernel error.
  // Other threads may keep submitting meanwhile: only the work queued when the call began is waited for.
  Error synchronize();

  // cudaDeviceSynchronize / cuCtxSynchronize during stream capture: CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED (the
  // capture invalidated) when a stream of this context captures, or when the thread's capture mode prohibits it.
  Error captureCheckSynchronize(const char *What);

  // The status a stream callback reports: the sticky error of the context, including a kernel fault the backend
  // has seen but no synchronising call has returned yet.
  CUresult asyncStatus();

  // A kernel fault makes the context unusable, as on CUDA: every later call returns it.
  Error stickyError() const;
  void setStickyError(const Error &E);

  // cuCtxGetLimit / cudaDeviceGetLimit: the context's limits (NVIDIA's defaults until set). An unknown limit is
  // CUDA_ERROR_UNSUPPORTED_LIMIT; a value CUDA refuses is CUDA_ERROR_INVALID_VALUE.
  Expected<size_t> limit(int Limit) const;
  Error setLimit(int Limit, size_t Value);

  void addModule(Module *M);
  void removeModule(Module *M);
  void addStream(Stream *S);
  void removeStream(Stream *S);
  void addEvent(Event *E);
  void removeEvent(Event *E);

  // Guards the stream set and the streams' ordering state (Stream::submit); held only briefly, never across a wait.
  std::mutex &streamMutex() { return StreamMutex; }
  // The created and per-thread streams (not the legacy one); streamMutex() must be held.
  const std::set<Stream *> &streamsLocked() const { return Streams; }

private:
  Context(Device &Dev, unsigned Flags, bool IsPrimary) : Dev(Dev), Flags(Flags), IsPrimary(IsPrimary) {}
  ~Context() = default;
  Error teardown();
  void runDestroyHooks();
  // Every stream of the context (the legacy one first), pinned: the caller unpins each when done with it.
  std::vector<Stream *> pinAllStreams();

  Device &Dev;
  unsigned Flags;
  bool IsPrimary;
  std::atomic<bool> Active{false};
  cushim_hal_context Hal = nullptr;
  Stream *Null = nullptr;

  cushim_hal_event StatusProbe = nullptr; // never recorded: synchronising it returns the backend's sticky error

  mutable std::mutex Mutex;
  std::set<Module *> Modules;
  std::set<Event *> Events;
  std::mutex StreamMutex;
  std::set<Stream *> Streams;
  CUresult Sticky = CUDA_SUCCESS;
  std::string StickyMessage;
  std::map<int, size_t> Limits; // set limits only (guarded by Mutex); others read as the defaults
};

// Called for every context just before it is torn down, while its handle is still valid (the static cudart's
// context-local storage destructors run from here).
using ContextDestroyHook = void (*)(Context &Ctx);
CUSHIM_API void addContextDestroyHook(ContextDestroyHook Hook);

// Validates an application handle: the live (active) context, or nullptr.
CUSHIM_API Context *lookupContext(CUcontext Handle);
// Also accepts an inactive primary context (reset or released, its handle still valid): what cuCtxSetCurrent and
// cuCtxPushCurrent take.
CUSHIM_API Context *lookupContextHandle(CUcontext Handle);

// The calling thread's current context (top of its stack) if it is active, or nullptr.
CUSHIM_API Context *currentContext();
// The top of the calling thread's stack, an inactive primary context included (cuCtxGetCurrent), or nullptr.
CUSHIM_API Context *currentContextHandle();
// cuCtxSetCurrent: replaces the top of the stack (nullptr pops it).
CUSHIM_API void setCurrentContext(Context *Ctx);
CUSHIM_API void pushCurrentContext(Context *Ctx);
// Pops and returns the top, or nullptr if the stack is empty.
CUSHIM_API Context *popCurrentContext();
// The current context, or CUDA_ERROR_INVALID_CONTEXT with a message naming the API that needed it
// (CUDA_ERROR_CONTEXT_IS_DESTROYED when the current one is a primary context that was reset or released).
CUSHIM_API Expected<Context *> requireCurrentContext(const char *Api);

} // namespace cushim::core
