// CUDA contexts (primary and created), the per-thread current-context stack, and the context's streams and modules.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <memory>
#include <mutex>
#include <set>
#include <vector>

namespace cushim::core {

class Device;
class Module;
class Stream;

class CUSHIM_API Context {
public:
  // Creates the backend context and the context's NULL stream.
  static Expected<Context *> create(Device &Dev, unsigned Flags, bool IsPrimary);
  // Synchronises, unloads modules, frees the context's memory and destroys it (the handle becomes invalid).
  static Error destroy(Context *Ctx);

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

  // Waits for all work of all streams; returns (and keeps) a sticky kernel error.
  Error synchronize();

  // A kernel fault makes the context unusable, as on CUDA: every later call returns it.
  Error stickyError() const;
  void setStickyError(const Error &E);

  void addModule(Module *M);
  void removeModule(Module *M);
  void addStream(Stream *S);
  void removeStream(Stream *S);

private:
  Context(Device &Dev, unsigned Flags, bool IsPrimary) : Dev(Dev), Flags(Flags), IsPrimary(IsPrimary) {}
  ~Context() = default;
  Error teardown();

  Device &Dev;
  unsigned Flags;
  bool IsPrimary;
  cushim_hal_context Hal = nullptr;
  Stream *Null = nullptr;

  mutable std::mutex Mutex;
  std::set<Module *> Modules;
  std::set<Stream *> Streams;
  CUresult Sticky = CUDA_SUCCESS;
  std::string StickyMessage;
};

// Validates an application handle: the live context, or nullptr.
CUSHIM_API Context *lookupContext(CUcontext Handle);

// The calling thread's current context (top of its stack), or nullptr.
CUSHIM_API Context *currentContext();
// cuCtxSetCurrent: replaces the top of the stack (nullptr pops it).
CUSHIM_API void setCurrentContext(Context *Ctx);
CUSHIM_API void pushCurrentContext(Context *Ctx);
// Pops and returns the top, or nullptr if the stack is empty.
CUSHIM_API Context *popCurrentContext();
// The current context, or CUDA_ERROR_INVALID_CONTEXT with a message naming the API that needed it.
CUSHIM_API Expected<Context *> requireCurrentContext(const char *Api);

} // namespace cushim::core
