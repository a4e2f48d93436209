// Region entries prefetch, with each vector load of a kernel-parameter array, what the next block will load there
// (NextBlockPrefetch.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

// Runs after the loop vectoriser (a loop with a prefetch call is not vectorised).
struct NextBlockPrefetchPass : llvm::PassInfoMixin<NextBlockPrefetchPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
