// Yield points for independent thread scheduling: loops that may wait for another GPU thread ("spin loops") call
// __cushim_yield on their back-edges so a fiber engine lets the awaited thread run (see docs/SIMT.md).
#pragma once

#include <llvm/IR/Function.h>

namespace cushim::ptx::lower {

// The function attribute marking a lowered function that contains at least one yield point.
inline constexpr const char *MaySpinAttr = "cushim-may-spin";

// Finds the loops of Fn (lowered, alloca form) whose exit may depend on memory written by other threads and inserts
// a call __cushim_yield(Ctx) on each of their back-edges; irreducible cycles always get one. Marks Fn with
// MaySpinAttr and returns true when it inserted any.
bool insertSpinYields(llvm::Function &Fn, llvm::Value *Ctx);

} // namespace cushim::ptx::lower
