// Makes a region entry's thread loop guarded by `tid % d == 0` visit only the multiples of d (ThreadLoopStride.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

struct ThreadLoopStridePass : llvm::PassInfoMixin<ThreadLoopStridePass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
