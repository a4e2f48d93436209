// Runs the thread loop of a block entry block by block when every thread takes the same path through it and the
// path contains a loop (ThreadLoopInterchange.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

struct ThreadLoopInterchangePass : llvm::PassInfoMixin<ThreadLoopInterchangePass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
