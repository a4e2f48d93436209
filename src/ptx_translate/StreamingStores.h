// Writes a flat or region entry's full-line vector stores past the caches when the launch writes a lot
// (StreamingStores.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

// Runs after the loop vectoriser, on x86-64 only (the engine's SFENCE orders the stores before blocks count as
// finished).
struct StreamingStoresPass : llvm::PassInfoMixin<StreamingStoresPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
