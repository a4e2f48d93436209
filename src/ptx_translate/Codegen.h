// Object code generation: optimises a lowered (per-thread) LLVM module and emits a relocatable ELF object
// for a HAL target (include/cuda_shim/hal.h), the form in which modules reach a backend's module_load.
#pragma once

#include "support/Error.h"

#include <cuda_shim/hal.h>

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace cushim::ptx {

// Symbol under which compileToObject gathers the module's static constructors (llvm.global_ctors), in priority
// order; a backend that finds it in a loaded object calls it once (void(void)) before any kernel runs.
inline constexpr const char *ModuleCtorsSymbol = "__cushim_module_ctors";
// Same for llvm.global_dtors; called when the module is unloaded.
inline constexpr const char *ModuleDtorsSymbol = "__cushim_module_dtors";

// Runs the new pass manager pipeline for OptLevel (0..3; 2 is the default O2) on M, then emits an ELF object for
// Target. The module's triple and data layout are replaced by the target machine's. M is modified in place.
// Errors: CUDA_ERROR_INVALID_PTX when the module does not verify, CUDA_ERROR_UNKNOWN when the target cannot be
// created or cannot emit objects; the message says why.
Expected<std::string> compileToObject(llvm::Module &M, const cushim_hal_target &Target, unsigned OptLevel = 2);

// The host's LLVM target triple, CPU name and feature string ("+avx2,-avx512f,..."), computed once.
const char *hostTargetTriple();
const char *hostTargetCpu();
const char *hostTargetFeatures();

// A cushim_hal_target describing the host (pointers stay valid for the life of the process).
cushim_hal_target hostTarget();

} // namespace cushim::ptx
