// Folds the loops nvcc unrolls by a run-time count (a remainder loop, then a loop unrolled U times) back into one
// loop, for the rows of a short loop that take two exit mispredictions instead of one (see RuntimeUnrollMerge.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

// Appended to the name of the loop that replaces a remainder loop and its unrolled loop.
inline constexpr const char *MergedLoopSuffix = ".merged";

struct RuntimeUnrollMergePass : llvm::PassInfoMixin<RuntimeUnrollMergePass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
