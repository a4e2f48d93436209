// PTX registers are untyped, so lowered code computes addresses as 64-bit integers and converts them at the memory
// access: inttoptr(add(base, offset)). Scalar evolution cannot see through inttoptr, so a loop walking an array
// (a thread loop of tier T0, a grid-stride loop) has no analysable access pattern and is never vectorised. Inside
// loops this pass rewrites inttoptr(add(invariant base, offset)) as getelementptr(inttoptr(base), offset) with the
// base converted once, outside the loop; the base may be any term of a tree of adds (In[i + 1] is
// add(add(base, i * 4), 4)). The address computed is the same; only its form changes.
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

// The terms of an address: the leaves of its tree of adds (at most MaxTerms; false when there are more).
bool collectTerms(llvm::Value *V, llvm::SmallVectorImpl<llvm::Value *> &Terms) {
  constexpr size_t MaxTerms = 8;
  auto *Add = llvm::dyn_cast<llvm::BinaryOperator>(V);
  if (Add && Add->getOpcode() == llvm::Instruction::Add)
    return collectTerms(Add->getOperand(0), Terms) && collectTerms(Add->getOperand(1), Terms);
  Terms.push_back(V);
  return Terms.size() <= MaxTerms;
}

// The term to use as the base pointer: a loop-invariant one, preferably a value loaded or passed in (a pointer
// parameter) rather than computed (a scaled index such as N * 4).
llvm::Value *chooseBase(llvm::ArrayRef<llvm::Value *> Terms, const llvm::Loop &L) {
  llvm::Value *Computed = nullptr;
  for (llvm::Value *T : Terms) {
    if (!isLoopInvariant(T, L) || llvm::isa<llvm::Constant>(T))
      continue;
    if (!llvm::isa<llvm::BinaryOperator>(T) && !llvm::isa<llvm::CastInst>(T))
      return T;
    if (!Computed)
      Computed = T;
  }
  return Computed;
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
    // Addresses such as In[i + 1] are add(add(base, i * 4), 4): the base can sit anywhere in a tree of adds.
    llvm::SmallVector<llvm::Value *, 8> Terms;
    auto *Add = llvm::dyn_cast<llvm::BinaryOperator>(Cast->getOperand(0));
    if (!Add || Add->getOpcode() != llvm::Instruction::Add || !collectTerms(Add, Terms))
      continue;
    const llvm::Loop &L = *LI.getLoopFor(Cast->getParent());
    llvm::Value *Base = chooseBase(Terms, L);
    if (!Base || llvm::all_of(Terms, [&](llvm::Value *T) { return isLoopInvariant(T, L); }))
      continue;
    llvm::IRBuilder<> B(insertionPointAfter(Base, F));
    llvm::Value *BasePtr = B.CreateIntToPtr(Base, Cast->getType(), Base->getName() + ".ptr");
    B.SetInsertPoint(Cast);
    llvm::Value *Offset = nullptr;
    bool BaseTaken = false;
    for (llvm::Value *T : Terms) {
      if (T == Base && !BaseTaken) {
        BaseTaken = true;
        continue;
      }
      Offset = Offset ? B.CreateAdd(Offset, T) : T;
    }
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
