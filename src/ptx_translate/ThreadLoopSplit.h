// Splits a region entry's thread loop at the thread where a guard on the thread index changes its mind
// (`if (tid < s)`), so that each part runs without the guard (ThreadLoopSplit.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

struct ThreadLoopSplitPass : llvm::PassInfoMixin<ThreadLoopSplitPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
