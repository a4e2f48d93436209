// The deprecated driver entry points programs still dlsym by name: the execution-control API before cuLaunchKernel
// (cuFuncSetBlockShape, cuFuncSetSharedSize, cuParamSet*, cuLaunch, cuLaunchGrid, cuLaunchGridAsync) and context
// usage counts (cuCtxAttach, cuCtxDetach).
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"
#include "core/Stream.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

using namespace cushim;
using namespace cushim::driver;

// --- Launch state set ahead of cuLaunch* -----------------------------------------------------------------------------
// What cuFuncSetBlockShape, cuFuncSetSharedSize and cuParamSet* record for a function, kept here rather than in
// core::Function because nothing but these entry points reads it. Entries go when their module is unloaded.
namespace {
struct LegacyLaunchState {
  unsigned Block[3] = {0, 0, 0}; // 0: cuFuncSetBlockShape not called yet
  unsigned SharedBytes = 0;
  std::vector<char> Params;      // grows as cuParamSet* write into it
  bool SizeSet = false;          // cuParamSetSize was called: Params.size() is the declared size
};

// The parameter space of a kernel is 4 KB (32 KB for some Volta+ launches, never through this API).
constexpr size_t MaxLegacyParamBytes = 4096;

std::mutex LegacyMutex;
std::map<const core::Function *, LegacyLaunchState> &legacyStates() {
  static auto *M = new std::map<const core::Function *, LegacyLaunchState>;
  return *M;
}

// Modules also go away with their context: drop their entries then too.
void forgetContextStates(core::Context &Ctx) {
  std::lock_guard<std::mutex> G(LegacyMutex);
  auto &States = legacyStates();
  for (auto It = States.begin(); It != States.end();)
    It = &It->first->module().context() == &Ctx ? States.erase(It) : std::next(It);
}

Expected<core::Function *> legacyFunction(CUfunction Handle, const char *Api) {
  CUSHIM_TRY(requireInit());
  static std::once_flag Once;
  std::call_once(Once, [] { core::addContextDestroyHook(forgetContextStates); });
  core::Function *F = core::lookupFunction(Handle);
  if (!F)
    return makeError(CUDA_ERROR_INVALID_HANDLE, std::string(Api) + ": not a live function");
  return F;
}

// Copies Bytes bytes to the parameter space at Offset, growing it (within the declared size when there is one).
Error setParam(CUfunction Handle, int Offset, const void *Data, size_t Bytes, const char *Api) {
  auto F = legacyFunction(Handle, Api);
  if (!F)
    return F.takeError();
  if (Offset < 0 || (Bytes && !Data))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: offset {} or data NULL", Api, Offset));
  size_t End = static_cast<size_t>(Offset) + Bytes;
  std::lock_guard<std::mutex> G(LegacyMutex);
  LegacyLaunchState &S = legacyStates()[*F];
  size_t Limit = S.SizeSet ? S.Params.size() : MaxLegacyParamBytes;
  if (End > Limit)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: bytes [{}, {}) are outside the parameter space of {} bytes{}", Api, Offset, End,
                                 Limit, S.SizeSet ? " set by cuParamSetSize" : ""));
  if (S.Params.size() < End)
    S.Params.resize(End, 0);
  std::memcpy(S.Params.data() + Offset, Data, Bytes);
  return Error::success();
}

Error legacyLaunch(CUfunction Handle, unsigned GridWidth, unsigned GridHeight, CUstream HStream, const char *Api) {
  auto F = legacyFunction(Handle, Api);
  if (!F)
    return F.takeError();
  core::LaunchConfig C;
  std::vector<char> Params;
  {
    std::lock_guard<std::mutex> G(LegacyMutex);
    auto It = legacyStates().find(*F);
    if (It == legacyStates().end() || It->second.Block[0] == 0)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("{}: no block shape for '{}' (call cuFuncSetBlockShape first)", Api, (*F)->name()));
    std::copy(std::begin(It->second.Block), std::end(It->second.Block), C.Block);
    C.DynamicShared = It->second.SharedBytes;
    Params = It->second.Params;
  }
  C.Grid[0] = GridWidth, C.Grid[1] = GridHeight, C.Grid[2] = 1;
  auto S = core::resolveStream((*F)->module().context(), HStream);
  if (!S)
    return S.takeError();
  size_t Size = Params.size();
  void *Extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, Params.data(), CU_LAUNCH_PARAM_BUFFER_SIZE, &Size,
                   CU_LAUNCH_PARAM_END};
  return core::launchKernel(**F, C, **S, nullptr, Extra);
}
} // namespace

void cushim::driver::forgetLegacyLaunchState(const core::Module &M) {
  std::lock_guard<std::mutex> G(LegacyMutex);
  auto &States = legacyStates();
  for (auto It = States.begin(); It != States.end();)
    It = &It->first->module() == &M ? States.erase(It) : std::next(It);
}

CUSHIM_EXPORT CUresult cuFuncSetBlockShape(CUfunction Hfunc, int X, int Y, int Z) {
  ApiTrace T("cuFuncSetBlockShape");
  T.args("hfunc={} x={} y={} z={}", static_cast<void *>(Hfunc), X, Y, Z);
  CUSHIM_DRIVER_BODY(T, {
    auto F = legacyFunction(Hfunc, "cuFuncSetBlockShape");
    if (!F)
      return F.takeError();
    // The limits are checked at launch, as for cuLaunchKernel; only shapes that cannot be a block fail here.
    if (X <= 0 || Y <= 0 || Z <= 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuFuncSetBlockShape: block ({}, {}, {})", X, Y, Z));
    std::lock_guard<std::mutex> G(LegacyMutex);
    LegacyLaunchState &S = legacyStates()[*F];
    S.Block[0] = X, S.Block[1] = Y, S.Block[2] = Z;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuFuncSetSharedSize(CUfunction Hfunc, unsigned int Bytes) {
  ApiTrace T("cuFuncSetSharedSize");
  T.args("hfunc={} bytes={}", static_cast<void *>(Hfunc), Bytes);
  CUSHIM_DRIVER_BODY(T, {
    auto F = legacyFunction(Hfunc, "cuFuncSetSharedSize");
    if (!F)
      return F.takeError();
    std::lock_guard<std::mutex> G(LegacyMutex);
    legacyStates()[*F].SharedBytes = Bytes;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuParamSetSize(CUfunction Hfunc, unsigned int NumBytes) {
  ApiTrace T("cuParamSetSize");
  T.args("hfunc={} numbytes={}", static_cast<void *>(Hfunc), NumBytes);
  CUSHIM_DRIVER_BODY(T, {
    auto F = legacyFunction(Hfunc, "cuParamSetSize");
    if (!F)
      return F.takeError();
    if (NumBytes > MaxLegacyParamBytes)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuParamSetSize: {} bytes exceed the {}-byte parameter "
                                                             "space",
                                                             NumBytes, MaxLegacyParamBytes));
    std::lock_guard<std::mutex> G(LegacyMutex);
    LegacyLaunchState &S = legacyStates()[*F];
    S.Params.resize(NumBytes, 0);
    S.SizeSet = true;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuParamSeti(CUfunction Hfunc, int Offset, unsigned int Value) {
  ApiTrace T("cuParamSeti");
  T.args("hfunc={} offset={} value={}", static_cast<void *>(Hfunc), Offset, Value);
  return T.done(setParam(Hfunc, Offset, &Value, sizeof(Value), "cuParamSeti"));
}

CUSHIM_EXPORT CUresult cuParamSetf(CUfunction Hfunc, int Offset, float Value) {
  ApiTrace T("cuParamSetf");
  T.args("hfunc={} offset={} value={}", static_cast<void *>(Hfunc), Offset, Value);
  return T.done(setParam(Hfunc, Offset, &Value, sizeof(Value), "cuParamSetf"));
}

CUSHIM_EXPORT CUresult cuParamSetv(CUfunction Hfunc, int Offset, void *Ptr, unsigned int NumBytes) {
  ApiTrace T("cuParamSetv");
  T.args("hfunc={} offset={} ptr={} numbytes={}", static_cast<void *>(Hfunc), Offset, Ptr, NumBytes);
  return T.done(setParam(Hfunc, Offset, Ptr, NumBytes, "cuParamSetv"));
}

CUSHIM_EXPORT CUresult cuLaunch(CUfunction F) {
  ApiTrace T("cuLaunch");
  T.args("f={}", static_cast<void *>(F));
  return T.done(legacyLaunch(F, 1, 1, nullptr, "cuLaunch"));
}

static Error legacyGrid(CUfunction F, int Width, int Height, CUstream HStream, const char *Api) {
  // A negative size would wrap to a huge unsigned one; report it as what it is.
  if (Width <= 0 || Height <= 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: grid {} x {}", Api, Width, Height));
  return legacyLaunch(F, static_cast<unsigned>(Width), static_cast<unsigned>(Height), HStream, Api);
}

CUSHIM_EXPORT CUresult cuLaunchGrid(CUfunction F, int GridWidth, int GridHeight) {
  ApiTrace T("cuLaunchGrid");
  T.args("f={} grid_width={} grid_height={}", static_cast<void *>(F), GridWidth, GridHeight);
  return T.done(legacyGrid(F, GridWidth, GridHeight, nullptr, "cuLaunchGrid"));
}

CUSHIM_EXPORT CUresult cuLaunchGridAsync(CUfunction F, int GridWidth, int GridHeight, CUstream HStream) {
  ApiTrace T("cuLaunchGridAsync");
  T.args("f={} grid_width={} grid_height={} stream={}", static_cast<void *>(F), GridWidth, GridHeight,
         static_cast<void *>(HStream));
  return T.done(legacyGrid(F, GridWidth, GridHeight, HStream, "cuLaunchGridAsync"));
}

// --- Context usage counts ----------------------------------------------------------------------------------------------
// cuCtxAttach adds a use to the current context; cuCtxDetach takes one away and destroys the context when the use
// cuCtxCreate gave it is the one taken. Counts of destroyed contexts are dropped by a context-destroy hook.
namespace {
std::mutex AttachMutex;
std::map<const core::Context *, unsigned> &attachCounts() {
  static auto *M = new std::map<const core::Context *, unsigned>;
  return *M;
}

void forgetAttachCount(core::Context &Ctx) {
  std::lock_guard<std::mutex> G(AttachMutex);
  attachCounts().erase(&Ctx);
}

void installAttachHook() {
  static std::once_flag Once;
  std::call_once(Once, [] { core::addContextDestroyHook(forgetAttachCount); });
}
} // namespace

CUSHIM_EXPORT CUresult cuCtxAttach(CUcontext *Pctx, unsigned int Flags) {
  ApiTrace T("cuCtxAttach");
  T.args("pctx={} flags={:#x}", static_cast<void *>(Pctx), Flags);
  CUSHIM_DRIVER_BODY(T, {
    if (!Pctx)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuCtxAttach: pctx is NULL");
    if (Flags != 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuCtxAttach: flags {:#x} (must be 0)", Flags));
    auto Ctx = requireContext("cuCtxAttach");
    if (!Ctx)
      return Ctx.takeError();
    installAttachHook();
    std::lock_guard<std::mutex> G(AttachMutex);
    ++attachCounts()[*Ctx];
    *Pctx = (*Ctx)->handle();
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuCtxDetach(CUcontext Handle) {
  ApiTrace T("cuCtxDetach");
  T.args("ctx={}", static_cast<void *>(Handle));
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    core::Context *Ctx = core::lookupContext(Handle);
    if (!Ctx)
      return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxDetach: not a live context");
    if (core::currentContext() != Ctx)
      return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxDetach: the context is not current to the calling thread");
    {
      std::lock_guard<std::mutex> G(AttachMutex);
      auto It = attachCounts().find(Ctx);
      if (It != attachCounts().end() && It->second > 0) {
        if (--It->second == 0)
          attachCounts().erase(It);
        return Error::success();
      }
    }
    if (Ctx->isPrimary())
      return makeError(CUDA_ERROR_INVALID_CONTEXT, "cuCtxDetach: the primary context is not attached");
    // The last use: the one cuCtxCreate gave.
    CUresult R = cuCtxDestroy_v2(Handle);
    return R == CUDA_SUCCESS ? Error::success() : Error(R, "cuCtxDetach: destroying the context failed");
  });
}
