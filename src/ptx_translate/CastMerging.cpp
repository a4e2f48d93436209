// AddressFolding rebases each access of lowered PTX on its own inttoptr of the base address. Loop-access analysis
// takes every such cast for an object of its own: accesses to one array through two casts need a run-time check
// that they do not overlap, which interleaved accesses (scan's Out[4 * tid + k], k = 0..3) always fail, so the loop
// ran its scalar copy. One cast per integer, placed right after the integer is defined, fixes that. (EarlyCSE does
// it too, but it also changes other code: SAXPY's loop got an interleave count of 4 and ran slower.)
#include "ptx_translate/CastMerging.h"

#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>

#include <map>
#include <vector>

namespace cushim::ptx {

llvm::PreservedAnalyses CastMergingPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &) {
  std::map<std::pair<llvm::Value *, llvm::Type *>, std::vector<llvm::IntToPtrInst *>> Casts;
  for (llvm::Instruction &I : llvm::instructions(F))
    if (auto *Cast = llvm::dyn_cast<llvm::IntToPtrInst>(&I))
      Casts[{Cast->getOperand(0), Cast->getType()}].push_back(Cast);
  bool Changed = false;
  for (auto &[Key, Group] : Casts) {
    if (Group.size() < 2)
      continue;
    // Right after the integer's definition (after the phis of its block), or at the function's entry: a place
    // that dominates every use of the integer, the casts included.
    llvm::Instruction *At = &*F.getEntryBlock().getFirstInsertionPt();
    if (auto *Def = llvm::dyn_cast<llvm::Instruction>(Key.first)) {
      if (llvm::isa<llvm::PHINode>(Def))
        At = &*Def->getParent()->getFirstInsertionPt();
      else if (!Def->isTerminator())
        At = Def->getNextNode();
      else
        continue; // an invoke's result: no place after it in its block
    }
    auto *One = new llvm::IntToPtrInst(Key.first, Key.second, Group.front()->getName(), At);
    for (llvm::IntToPtrInst *Cast : Group) {
      Cast->replaceAllUsesWith(One);
      Cast->eraseFromParent();
    }
    Changed = true;
  }
  if (!Changed)
    return llvm::PreservedAnalyses::all();
  llvm::PreservedAnalyses PA;
  PA.preserveSet<llvm::CFGAnalyses>();
  return PA;
}

} // namespace cushim::ptx
