// PTX registers are untyped, so lowered code computes addresses as 64-bit integers and converts them at the memory
// access: inttoptr(add(base, offset)). Scalar evolution cannot see through inttoptr, so a loop walking an array
// (a thread loop of tier T0, a grid-stride loop) has no analysable access pattern and is never vectorised. Inside
// loops this pass rewrites inttoptr(add(invariant base, offset)) as getelementptr(inttoptr(base), offset) with the
// base converted once, outside the loop. The address computed is the same; only its form changes.
#include "ptx_translate/AddressFolding.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>

#include <vector>

namespace cushim::ptx {

namespace {

// Where a value converted from V can be placed so that it dominates every use of V: right after V's definition
// (after the PHIs of its block), or at the entry for arguments and constants.
llvm::Instruction *insertionPointAfter(llvm::Value *V, llvm::Function &F) {
  if (auto *I = llvm::dyn_cast<llvm::Instruction>(V)) {
    if (llvm::isa<llvm::PHINode>(I))
      return &*I->getParent()->getFirstInsertionPt();
    return I->getNextNode();
  }
  return &*F.getEntryBlock().getFirstInsertionPt();
}

bool isLoopInvariant(llvm::Value *V, const llvm::Loop &L) {
  auto *I = llvm::dyn_cast<llvm::Instruction>(V);
  return !I || !L.contains(I);
}

} // namespace

llvm::PreservedAnalyses AddressFoldingPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  auto &LI = FAM.getResult<llvm::LoopAnalysis>(F);
  std::vector<llvm::IntToPtrInst *> Candidates;
  for (llvm::BasicBlock &BB : F)
    for (llvm::Instruction &I : BB)
      if (auto *Cast = llvm::dyn_cast<llvm::IntToPtrInst>(&I); Cast && LI.getLoopFor(&BB))
        Candidates.push_back(Cast);
  bool Changed = false;
  for (llvm::IntToPtrInst *Cast : Candidates) {
    auto *Add = llvm::dyn_cast<llvm::BinaryOperator>(Cast->getOperand(0));
    if (!Add || Add->getOpcode() != llvm::Instruction::Add)
      continue;
    const llvm::Loop &L = *LI.getLoopFor(Cast->getParent());
    llvm::Value *Base = Add->getOperand(0), *Offset = Add->getOperand(1);
    if (!isLoopInvariant(Base, L))
      std::swap(Base, Offset);
    if (!isLoopInvariant(Base, L) || isLoopInvariant(Offset, L) || llvm::isa<llvm::Constant>(Base))
      continue;
    llvm::IRBuilder<> B(insertionPointAfter(Base, F));
    llvm::Value *BasePtr = B.CreateIntToPtr(Base, Cast->getType(), Base->getName() + ".ptr");
    B.SetInsertPoint(Cast);
    llvm::Value *Address = B.CreateGEP(B.getInt8Ty(), BasePtr, Offset, Cast->getName());
    Cast->replaceAllUsesWith(Address);
    Cast->eraseFromParent();
    Changed = true;
  }
  if (!Changed)
    return llvm::PreservedAnalyses::all();
  llvm::PreservedAnalyses PA;
  PA.preserveSet<llvm::CFGAnalyses>();
  return PA;
}

} // namespace cushim::ptx
