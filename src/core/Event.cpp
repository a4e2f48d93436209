// Events over backend events: creation-flag checks, handle validation and CUDA's timing rules.
#include "core/Event.h"

#include "core/Context.h"
#include "core/Graph.h"
#include "core/Handles.h"
#include "hal/Hal.h"

#include <fmt/format.h>

namespace cushim::core {

static HandleRegistry<Event> &events() {
  static auto *R = new HandleRegistry<Event>();
  return *R;
}

// Serialises destruction so that an application's cuEventDestroy and its context's teardown never both free one.
static std::mutex &destroyMutex() {
  static auto *M = new std::mutex();
  return *M;
}

Event *lookupEvent(CUevent Handle) { return Handle ? events().lookup(Handle) : nullptr; }

Expected<Event *> Event::create(Context &Ctx, unsigned Flags) {
  constexpr unsigned Known = CU_EVENT_BLOCKING_SYNC | CU_EVENT_DISABLE_TIMING | CU_EVENT_INTERPROCESS;
  if (Flags & ~Known)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("event flags {:#x} include undefined bits", Flags));
  if (Flags & CU_EVENT_INTERPROCESS) {
    if (!(Flags & CU_EVENT_DISABLE_TIMING))
      return makeError(CUDA_ERROR_INVALID_VALUE, "an interprocess event must also disable timing");
    return makeError(CUDA_ERROR_NOT_SUPPORTED, "interprocess events are not supported by cuda_shim");
  }
  CUSHIM_TRY(Ctx.stickyError());
  cushim_hal_event Hal = nullptr;
  CUSHIM_TRY(hal::check(hal::ops().event_create(Ctx.hal(), Flags, &Hal), "event_create"));
  auto *E = new Event(Ctx, Hal, Flags);
  Ctx.addEvent(E);
  events().add(E);
  return E;
}

Error Event::destroy(Event *E) {
  {
    std::lock_guard<std::mutex> G(destroyMutex());
    if (!events().lookup(E))
      return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("{} is not a live event", static_cast<void *>(E)));
    events().remove(E);
    E->Ctx.removeEvent(E);
  }
  captureForgetEvent(*E);
  // A record still queued keeps the backend event alive until the queue reaches it.
  Error R = hal::check(hal::ops().event_destroy(E->Hal), "event_destroy");
  delete E;
  return R;
}

Error Event::query() {
  CUSHIM_TRY(captureCheckEvent(*this)); // last recorded in a capture: nothing will ever run
  cushim_hal_result R = hal::ops().event_query(Hal);
  if (R == CUDA_ERROR_NOT_READY)
    return makeError(CUDA_ERROR_NOT_READY, "");
  CUSHIM_TRY(hal::check(R, "event_query"));
  return Ctx.stickyError();
}

Error Event::synchronize() {
  CUSHIM_TRY(captureCheckEvent(*this));
  Error E = hal::check(hal::ops().event_synchronize(Hal), "event_synchronize");
  if (E.isError())
    Ctx.setStickyError(E);
  return E;
}

Expected<float> Event::elapsed(Event &Start, Event &End) {
  for (Event *E : {&Start, &End})
    if (E->Flags & CU_EVENT_DISABLE_TIMING)
      return makeError(CUDA_ERROR_INVALID_HANDLE,
                       fmt::format("event {} was created with the disable-timing flag", static_cast<void *>(E)));
  for (Event *E : {&Start, &End})
    CUSHIM_TRY(captureCheckEvent(*E));
  float Ms = 0;
  cushim_hal_result R = hal::ops().event_elapsed_ms(&Ms, Start.Hal, End.Hal);
  if (R == CUDA_ERROR_NOT_READY)
    return makeError(CUDA_ERROR_NOT_READY, "");
  if (R == CUDA_ERROR_INVALID_HANDLE)
    return makeError(CUDA_ERROR_INVALID_HANDLE, "both events must have been recorded to measure the time between "
                                                "them");
  CUSHIM_TRY(hal::check(R, "event_elapsed_ms"));
  return Ms;
}

} // namespace cushim::core
