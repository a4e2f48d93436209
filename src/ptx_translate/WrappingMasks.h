// Keeps the loop vectoriser away from masked indices that wrap inside a loop (see WrappingMasks.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

struct WrappingMasksPass : llvm::PassInfoMixin<WrappingMasksPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
