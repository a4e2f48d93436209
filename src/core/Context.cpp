// Contexts and the per-thread context stack.
#include "core/Context.h"

#include "core/Device.h"
#include "core/Event.h"
#include "core/Graph.h"
#include "core/Handles.h"
#include "core/MemoryMap.h"
#include "core/Module.h"
#include "core/Stream.h"
#include "hal/Hal.h"
#include "support/Log.h"

#include <algorithm>
#include <vector>

namespace cushim::core {

static HandleRegistry<Context> &contexts() {
  static auto *R = new HandleRegistry<Context>();
  return *R;
}

Context *lookupContext(CUcontext Handle) { return Handle ? contexts().lookup(Handle) : nullptr; }

Context *lookupContextHandle(CUcontext Handle) {
  if (Context *Ctx = lookupContext(Handle))
    return Ctx;
  // An inactive primary context: its device still owns the object.
  for (int O = 0; Handle && O < deviceCount(); ++O)
    if (Context *P = device(O)->primaryHandleIfCreated(); P && P->handle() == Handle)
      return P;
  return nullptr;
}

Expected<Context *> Context::create(Device &Dev, unsigned Flags, bool IsPrimary) {
  auto *Ctx = new Context(Dev, Flags, IsPrimary);
  if (Error E = Ctx->activate(Flags); E.isError()) {
    delete Ctx;
    return E;
  }
  return Ctx;
}

Context *Context::createInactivePrimary(Device &Dev) { return new Context(Dev, 0, /*IsPrimary=*/true); }

Error Context::activate(unsigned NewFlags) {
  Flags = NewFlags;
  const cushim_hal_ops &Ops = hal::ops();
  CUSHIM_TRY(hal::check(Ops.context_create(Dev.halIndex(), &Hal), "context_create"));
  cushim_hal_queue Queue = nullptr;
  if (Error E = hal::check(Ops.queue_create(Hal, 0, 0, &Queue), "queue_create"); E.isError()) {
    Ops.context_destroy(Hal);
    Hal = nullptr;
    return E;
  }
  Null = new Stream(*this, Queue, 0, 0, Stream::Kind::Legacy);
  if (Error E = hal::check(Ops.event_create(Hal, CU_EVENT_DISABLE_TIMING, &StatusProbe), "event_create");
      E.isError()) {
    delete Null;
    Null = nullptr;
    Ops.context_destroy(Hal);
    Hal = nullptr;
    return E;
  }
  {
    std::lock_guard<std::mutex> G(Mutex);
    Sticky = CUDA_SUCCESS;
    StickyMessage.clear();
    Limits.clear();
  }
  Active.store(true, std::memory_order_release);
  contexts().add(this);
  CUSHIM_LOG_DEBUG("{} {} context {} on device {}", IsPrimary ? "activated" : "created", IsPrimary ? "primary" : "",
                   static_cast<void *>(this), Dev.ordinal());
  return Error::success();
}

Error Context::teardown() {
  Error First = synchronize();
  std::set<Module *> OldModules;
  std::set<Event *> OldEvents;
  {
    std::lock_guard<std::mutex> G(Mutex);
    OldModules.swap(Modules);
    OldEvents.swap(Events);
  }
  for (Module *M : OldModules) {
    if (IsPrimary && M->keepsHandles())
      M->detach(); // a library's module: its CUlibrary and CUkernel handles outlive the reset (Module.h)
    else
      (void)Module::unload(M);
  }
  Stream::destroyAllOf(*this); // created and per-thread streams
  delete Null;                 // destroys its queue
  Null = nullptr;
  // Events die with their context, as on CUDA; their handles become invalid.
  for (Event *E : OldEvents)
    (void)Event::destroy(E);
  if (StatusProbe)
    (void)hal::ops().event_destroy(StatusProbe);
  StatusProbe = nullptr;
  // Memory of a destroyed context is freed, as on CUDA.
  for (;;) {
    std::optional<Allocation> A = memory_map::findOwnedBy(this);
    if (!A)
      break;
    memory_map::erase(A->Base);
    if (A->Kind < ModuleVariableKind) // the HAL's own kinds; the others are released by their owners' hooks
      (void)hal::ops().mem_free(Hal, reinterpret_cast<void *>(A->Base), A->Kind);
  }
  (void)hal::check(hal::ops().context_destroy(Hal), "context_destroy");
  Hal = nullptr;
  return Error::success(); // a sticky kernel error dies with its context
}

static std::mutex HooksMutex;
static std::vector<ContextDestroyHook> &destroyHooks() {
  static auto *Hooks = new std::vector<ContextDestroyHook>();
  return *Hooks;
}

void addContextDestroyHook(ContextDestroyHook Hook) {
  std::lock_guard<std::mutex> G(HooksMutex);
  if (std::find(destroyHooks().begin(), destroyHooks().end(), Hook) == destroyHooks().end())
    destroyHooks().push_back(Hook);
}

void Context::runDestroyHooks() {
  std::vector<ContextDestroyHook> Hooks;
  {
    std::lock_guard<std::mutex> G(HooksMutex);
    Hooks = destroyHooks();
  }
  for (ContextDestroyHook Hook : Hooks)
    Hook(*this);
}

Error Context::destroy(Context *Ctx) {
  Error E = Ctx->deactivate();
  delete Ctx;
  return E;
}

Error Context::deactivate() {
  if (!active())
    return Error::success();
  runDestroyHooks();
  contexts().remove(this);
  Active.store(false, std::memory_order_release);
  CUSHIM_LOG_DEBUG("{} context {} on device {}", IsPrimary ? "deactivated primary" : "destroyed",
                   static_cast<void *>(this), Dev.ordinal());
  return teardown();
}

Expected<void *> Context::allocate(size_t Bytes, int Kind) {
  CUSHIM_TRY(stickyError());
  void *Ptr = nullptr;
  CUSHIM_TRY(hal::check(hal::ops().mem_alloc(Hal, Bytes, Kind, &Ptr), "mem_alloc"));
  if (!Ptr)
    return makeError(CUDA_ERROR_OUT_OF_MEMORY, "backend returned no memory for " + std::to_string(Bytes) + " bytes");
  memory_map::insert({reinterpret_cast<uintptr_t>(Ptr), Bytes, Kind, this});
  return Ptr;
}

Error Context::free(void *Ptr) {
  std::optional<Allocation> A = memory_map::findBase(Ptr);
  if (!A || A->Owner != this)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{} is not the start of an allocation of this context", Ptr));
  // cudaFree synchronises the device before releasing memory that running work may use.
  Error Sync = synchronize();
  memory_map::erase(A->Base);
  CUSHIM_TRY(hal::check(hal::ops().mem_free(Hal, Ptr, A->Kind), "mem_free"));
  return Sync;
}

Error Context::memoryInfo(size_t *Free, size_t *Total) const {
  uint64_t F = 0, T = 0;
  CUSHIM_TRY(hal::check(hal::ops().mem_info(Dev.halIndex(), &F, &T), "mem_info"));
  // On a device whose memory is host memory the backend's free figure moves with every process on the machine;
  // report what CUDA would: the total less what this process holds on the device (core/MemoryMap.h).
  if (Dev.info().integrated) {
    uint64_t Used = memory_map::deviceBytes(Dev.ordinal());
    F = Used < T ? T - Used : 0;
  }
  if (Free)
    *Free = static_cast<size_t>(F);
  if (Total)
    *Total = static_cast<size_t>(T);
  return Error::success();
}

std::vector<Stream *> Context::pinAllStreams() {
  std::vector<Stream *> All;
  std::lock_guard<std::mutex> G(StreamMutex);
  if (Null)
    All.push_back(Null);
  All.insert(All.end(), Streams.begin(), Streams.end());
  for (Stream *S : All)
    S->pin();
  return All;
}

Error Context::synchronize() {
  // Waits on every queue without the stream lock: holding it across the wait would stall other threads'
  // submissions (which their own progress, and so ours, may depend on). Pins keep the streams alive meanwhile.
  std::vector<Stream *> All = pinAllStreams();
  Error First;
  for (Stream *S : All) {
    Error R = hal::check(hal::ops().queue_synchronize(S->hal()), "queue_synchronize");
    S->unpin();
    if (R.isError() && !First.isError())
      First = std::move(R);
  }
  if (First.isError()) {
    setStickyError(First);
    return First;
  }
  return stickyError();
}

Error Context::captureCheckSynchronize(const char *What) {
  if (!captureActive())
    return Error::success();
  std::vector<Stream *> All = pinAllStreams();
  // Waiting for the whole context waits for its capturing streams too, which no capture mode permits. The legacy
  // stream never captures, and a legacy-stream operation's own conflict (CUDA_ERROR_STREAM_CAPTURE_IMPLICIT) is not
  // this call's: it is skipped.
  Error First;
  for (Stream *S : All) {
    if (!First.isError() && S != Null)
      First = captureCheckSync(*S, What, /*Unsafe=*/false);
    S->unpin();
  }
  CUSHIM_TRY(std::move(First));
  return captureCheckUnsafeCall(What);
}

CUresult Context::asyncStatus() {
  if (Error E = stickyError(); E.isError())
    return E.code();
  // The probe was never recorded, so this returns at once with the backend's sticky error for the context.
  return static_cast<CUresult>(hal::ops().event_synchronize(StatusProbe));
}

Error Context::stickyError() const {
  std::lock_guard<std::mutex> G(Mutex);
  if (Sticky == CUDA_SUCCESS)
    return Error::success();
  return makeError(Sticky, StickyMessage);
}

void Context::setStickyError(const Error &E) {
  std::lock_guard<std::mutex> G(Mutex);
  if (Sticky == CUDA_SUCCESS && E.isError()) {
    Sticky = E.code();
    StickyMessage = E.message() + " (sticky: the context must be reset)";
  }
}

void Context::addModule(Module *M) {
  std::lock_guard<std::mutex> G(Mutex);
  Modules.insert(M);
}
void Context::removeModule(Module *M) {
  std::lock_guard<std::mutex> G(Mutex);
  Modules.erase(M);
}
void Context::addStream(Stream *S) {
  std::lock_guard<std::mutex> G(StreamMutex);
  Streams.insert(S);
}
void Context::removeStream(Stream *S) {
  std::lock_guard<std::mutex> G(StreamMutex);
  Streams.erase(S);
}
void Context::addEvent(Event *E) {
  std::lock_guard<std::mutex> G(Mutex);
  Events.insert(E);
}
void Context::removeEvent(Event *E) {
  std::lock_guard<std::mutex> G(Mutex);
  Events.erase(E);
}

// --- The per-thread context stack -------------------------------------------------------------------------------

static thread_local std::vector<Context *> ContextStack;

Context *currentContextHandle() {
  while (!ContextStack.empty()) {
    Context *Top = ContextStack.back();
    if (lookupContextHandle(Top->handle()))
      return Top; // an inactive primary context stays current, as on CUDA (it is reactivated in place)
    ContextStack.pop_back(); // destroyed meanwhile (possibly by another thread)
  }
  return nullptr;
}

Context *currentContext() {
  Context *Top = currentContextHandle();
  return Top && Top->active() ? Top : nullptr;
}

void setCurrentContext(Context *Ctx) {
  if (!ContextStack.empty())
    ContextStack.pop_back();
  if (Ctx)
    ContextStack.push_back(Ctx);
}

void pushCurrentContext(Context *Ctx) { ContextStack.push_back(Ctx); }

Context *popCurrentContext() {
  Context *Top = currentContextHandle();
  if (Top)
    ContextStack.pop_back();
  return Top;
}

Expected<Context *> requireCurrentContext(const char *Api) {
  if (Context *Ctx = currentContext())
    return Ctx;
  if (currentContextHandle())
    return makeError(CUDA_ERROR_CONTEXT_IS_DESTROYED,
                     std::string(Api) + ": the current context is a primary context that was reset or released "
                                        "(cuDevicePrimaryCtxRetain or a runtime call reactivates it)");
  return makeError(CUDA_ERROR_INVALID_CONTEXT, std::string(Api) + ": no current context (call cuCtxSetCurrent or "
                                                                  "cuDevicePrimaryCtxRetain first)");
}

// NVIDIA's defaults (sm_80+): the host backend has no per-context resources most of them would size.
static bool defaultLimit(int Limit, size_t &Value) {
  switch (Limit) {
  case CU_LIMIT_STACK_SIZE: Value = 1024; return true;
  case CU_LIMIT_PRINTF_FIFO_SIZE: Value = 1 << 20; return true;
  case CU_LIMIT_MALLOC_HEAP_SIZE: Value = 8 << 20; return true;
  case CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH: Value = 2; return true;
  case CU_LIMIT_DEV_RUNTIME_PENDING_LAUNCH_COUNT: Value = 2048; return true;
  case CU_LIMIT_MAX_L2_FETCH_GRANULARITY: Value = 32; return true;
  case CU_LIMIT_PERSISTING_L2_CACHE_SIZE: Value = 0; return true;
  default: return false;
  }
}

Expected<size_t> Context::limit(int Limit) const {
  size_t Value = 0;
  if (!defaultLimit(Limit, Value))
    return makeError(CUDA_ERROR_UNSUPPORTED_LIMIT, fmt::format("unsupported limit {}", Limit));
  std::lock_guard<std::mutex> G(Mutex);
  auto It = Limits.find(Limit);
  return It == Limits.end() ? Value : It->second;
}

Error Context::setLimit(int Limit, size_t Value) {
  size_t Default = 0;
  if (!defaultLimit(Limit, Default))
    return makeError(CUDA_ERROR_UNSUPPORTED_LIMIT, fmt::format("unsupported limit {}", Limit));
  // The values CUDA accepts (cuCtxSetLimit's documentation); the host backend records them.
  switch (Limit) {
  case CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH:
    // Device-side synchronisation is gone since CUDA 12; the maximum nesting depth is 24.
    if (Value > 24)
      return makeError(CUDA_ERROR_INVALID_VALUE, "CU_LIMIT_DEV_RUNTIME_SYNC_DEPTH above 24");
    break;
  case CU_LIMIT_MAX_L2_FETCH_GRANULARITY:
    if (Value > 128 || (Value & (Value - 1)))
      return makeError(CUDA_ERROR_INVALID_VALUE, "CU_LIMIT_MAX_L2_FETCH_GRANULARITY must be a power of two up to 128");
    break;
  case CU_LIMIT_PERSISTING_L2_CACHE_SIZE: {
    auto Max = Dev.attribute(CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE);
    if (!Max)
      return Max.takeError();
    if (Value > static_cast<size_t>(*Max))
      return makeError(CUDA_ERROR_INVALID_VALUE, "CU_LIMIT_PERSISTING_L2_CACHE_SIZE above the device's maximum");
    break;
  }
  default: break;
  }
  std::lock_guard<std::mutex> G(Mutex);
  Limits[Limit] = Value;
  return Error::success();
}

} // namespace cushim::core
