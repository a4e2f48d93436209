// Yield points for independent thread scheduling: loops that may wait for another GPU thread ("spin loops") call
// __cushim_yield on their back-edges so a fiber engine lets the awaited thread run (see docs/SIMT.md).
#pragma once

#include "support/Error.h"

#include <llvm/IR/Function.h>

#include <string>

namespace cushim::ptx::lower {

struct ModuleState;

// The function attribute marking a lowered function that contains at least one yield point.
inline constexpr const char *MaySpinAttr = "cushim-may-spin";

// Finds the loops of Fn (lowered, alloca form) whose exit may depend on memory written by other threads and inserts
// a call __cushim_yield(Ctx) on each of their back-edges; irreducible cycles always get one. Marks Fn with
// MaySpinAttr and returns true when it inserted any.
bool insertSpinYields(llvm::Function &Fn, llvm::Value *Ctx);

// Whether kernel Kernel (already lowered) can reach a function with a yield point: the call-graph closure, every
// function when it makes indirect calls. Lowers the device functions it reaches that are not lowered yet.
// lowerModule sets CUSHIM_HAL_KERNEL_MAY_SPIN from it.
Expected<bool> kernelMaySpin(ModuleState &MS, const std::string &Kernel);

} // namespace cushim::ptx::lower
