// Events: points recorded in streams that the host can query, wait for and time, and other streams can wait for.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

namespace cushim::core {

class Context;

class CUSHIM_API Event {
public:
  // cuEventCreate: Flags from CU_EVENT_{DEFAULT,BLOCKING_SYNC,DISABLE_TIMING,INTERPROCESS}.
  static Expected<Event *> create(Context &Ctx, unsigned Flags);
  // cuEventDestroy: returns at once; a pending record still completes (streams waiting for it are not stranded).
  static Error destroy(Event *E);

  Context &context() const { return Ctx; }
  cushim_hal_event hal() const { return Hal; }
  unsigned flags() const { return Flags; }
  CUevent handle() { return reinterpret_cast<CUevent>(this); }

  // CUDA_ERROR_NOT_READY until the last record is reached; success for an event never recorded.
  Error query();
  Error synchronize();
  // Milliseconds from Start to End; CUDA_ERROR_INVALID_HANDLE if either cannot be timed or was never recorded,
  // CUDA_ERROR_NOT_READY if either is not complete.
  static Expected<float> elapsed(Event &Start, Event &End);

private:
  Event(Context &Ctx, cushim_hal_event Hal, unsigned Flags) : Ctx(Ctx), Hal(Hal), Flags(Flags) {}
  friend class Context;

  Context &Ctx;
  cushim_hal_event Hal;
  unsigned Flags;
};

// A live event, or nullptr.
CUSHIM_API Event *lookupEvent(CUevent Handle);

} // namespace cushim::core
