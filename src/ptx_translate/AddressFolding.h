// Turns integer address arithmetic back into pointer arithmetic inside loops, so that LLVM's loop analyses (and the
// vectoriser) can follow the addresses of lowered PTX (see AddressFolding.cpp).
#pragma once

#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

struct AddressFoldingPass : llvm::PassInfoMixin<AddressFoldingPass> {
  llvm::PreservedAnalyses run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM);
};

} // namespace cushim::ptx
