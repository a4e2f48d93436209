// Shared helpers of the libcuda.so.1 entry points: tracing, initialisation checks, handle validation.
#pragma once

#include "core/Context.h"
#include "core/Device.h"
#include "support/ApiTrace.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

namespace cushim::core {
class Function;
class Module;
} // namespace cushim::core

namespace cushim::driver {

// Every driver call but a few fails with CUDA_ERROR_NOT_INITIALIZED before cuInit.
inline Error requireInit() {
  if (!core::isInitialized())
    return makeError(CUDA_ERROR_NOT_INITIALIZED, "cuInit has not been called (or failed)");
  return Error::success();
}

inline Expected<core::Device *> requireDevice(CUdevice Ordinal) {
  CUSHIM_TRY(requireInit());
  if (core::Device *D = core::device(Ordinal))
    return D;
  return makeError(CUDA_ERROR_INVALID_DEVICE, "invalid device ordinal " + std::to_string(Ordinal));
}

inline Expected<core::Context *> requireContext(const char *Api) {
  CUSHIM_TRY(requireInit());
  return core::requireCurrentContext(Api);
}

// Modules NVIDIA's runtime (the static cudart) loaded for its registered fatbinaries: noted when loaded, forgotten
// before they are unloaded; isRuntimeLaunch tells whether F belongs to one.
void noteRuntimeModule(const core::Module &M);
void forgetRuntimeModule(const core::Module &M);
bool isRuntimeLaunch(const core::Function &F);

// Libraries (cuLibraryLoadData) in several contexts (LibraryContexts.cpp): Home is the module loaded first, whose
// handles are the CUlibrary and CUkernels; other contexts load their own copy of Data on first use.
// Runtime: the static cudart's registration load (its copies are runtime modules too).
void noteLibrary(core::Module &Home, const void *Data, size_t MaxSize, bool Runtime);
// cuLibraryUnload: the home module and every copy.
Error unloadLibrary(core::Module &Home);
// The module of M's library in Ctx (loaded now if needed); M itself when M is not a library's.
Expected<core::Module *> libraryModuleIn(core::Module &M, core::Context &Ctx);
// The kernel F (a CUkernel, or a function of a library's module) as Ctx's function.
Expected<core::Function *> libraryKernelIn(core::Function &F, core::Context &Ctx);

// The bytes of a module file (cuModuleLoad, cuLibraryLoadFromFile), NUL-terminated for PTX text;
// CUDA_ERROR_FILE_NOT_FOUND when it cannot be opened.
Expected<std::string> readImageFile(const char *Path, const char *Api);

// Drops what cuFuncSetBlockShape / cuParamSet* recorded for the functions of M (called before M is unloaded).
void forgetLegacyLaunchState(const core::Module &M);

// NVIDIA's static cudart hands cuLaunchKernel's result to the program unchanged (measured for every code 0..999), yet
// on NVIDIA's stack a <<<>>> launch with bad dimensions fails with cudaErrorInvalidConfiguration: the driver answers 9
// (a runtime code with no CUresult name) for the runtime's launches. Driver-API launches keep CUDA_ERROR_INVALID_VALUE.
inline constexpr CUresult RuntimeInvalidConfiguration = static_cast<CUresult>(9);

} // namespace cushim::driver

// Runs Body (a block returning cushim::Error) as the implementation of a traced entry point.
#define CUSHIM_DRIVER_BODY(Trace, ...) return Trace.done([&]() -> ::cushim::Error __VA_ARGS__())
