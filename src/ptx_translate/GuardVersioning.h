// Versions the thread loops of block entries on their index guards (`if (i < n)`, `if (x == 0 || ...)`), so that the
// loop most blocks run has no guard left for the vectoriser to mask (see GuardVersioning.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

// Appended to the header name of a loop whose guarded copy was made: the loop the rare blocks run.
inline constexpr const char *UnguardedSuffix = ".unguarded";

struct GuardVersioningPass : llvm::PassInfoMixin<GuardVersioningPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
