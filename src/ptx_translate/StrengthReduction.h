// Loop strength reduction on the loops that run, in the optimisation pipeline, instead of on every loop in code
// generation (see StrengthReduction.cpp).
#pragma once

#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/IR/PassManager.h>
#include <llvm/Transforms/Scalar/LoopPassManager.h>

namespace cushim::ptx {

struct SelectiveStrengthReductionPass : llvm::PassInfoMixin<SelectiveStrengthReductionPass> {
  llvm::PreservedAnalyses run(llvm::Loop &L, llvm::LoopAnalysisManager &AM, llvm::LoopStandardAnalysisResults &AR,
                              llvm::LPMUpdater &U);
};

// Switches off the strength reduction that code generation runs on every loop (once per process; the LLVM linked
// into our libraries is our own). SelectiveStrengthReductionPass takes its place.
void disableCodegenStrengthReduction();

} // namespace cushim::ptx
