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

// Raises the size up to which non-trivial unswitching copies a loop (once per process; only RegionUnswitchPass runs
// that unswitching).
void raiseRegionUnswitchThreshold();

} // namespace cushim::ptx
