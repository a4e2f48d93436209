// Non-trivial loop unswitching, in region entries only (see RegionUnswitch.cpp).
#pragma once

#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>

namespace cushim::ptx {

struct RegionUnswitchPass : llvm::PassInfoMixin<RegionUnswitchPass> {
  llvm::PreservedAnalyses run(llvm::Loop &L, llvm::LoopAnalysisManager &AM, llvm::LoopStandardAnalysisResults &AR,
                              llvm::LPMUpdater &U);
};

} // namespace cushim::ptx
