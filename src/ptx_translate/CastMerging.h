// Merges the inttoptr casts of one integer into a single cast (see CastMerging.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

struct CastMergingPass : llvm::PassInfoMixin<CastMergingPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
