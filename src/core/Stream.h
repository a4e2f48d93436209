// Streams: an ordered queue of work on the backend. Every operation is asynchronous unless a caller synchronises.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

namespace cushim::core {

class Context;

class CUSHIM_API Stream {
public:
  static Expected<Stream *> create(Context &Ctx, unsigned Flags, int Priority);
  static Error destroy(Stream *S);

  Context &context() const { return Ctx; }
  cushim_hal_queue hal() const { return Queue; }
  unsigned flags() const { return Flags; }
  int priority() const { return Priority; }
  CUstream handle() { return reinterpret_cast<CUstream>(this); }

  Error copy(void *Dst, const void *Src, size_t Bytes);
  Error fill(void *Dst, uint32_t Value, unsigned ElementSize, size_t Count);
  Error launch(cushim_hal_kernel Kernel, const cushim_hal_launch &Launch);
  Error synchronize();
  Error query();

  // Streams are created by Context (the NULL stream) and create().
  Stream(Context &Ctx, cushim_hal_queue Queue, unsigned Flags, int Priority)
      : Ctx(Ctx), Queue(Queue), Flags(Flags), Priority(Priority) {}

private:
  Context &Ctx;
  cushim_hal_queue Queue;
  unsigned Flags;
  int Priority;
};

// Resolves an application stream handle in a context: 0, CU_STREAM_LEGACY and CU_STREAM_PER_THREAD name the
// context's NULL stream (per-thread streams come with the stream issue); others must be live streams of Ctx.
CUSHIM_API Expected<Stream *> resolveStream(Context &Ctx, CUstream Handle);

} // namespace cushim::core
