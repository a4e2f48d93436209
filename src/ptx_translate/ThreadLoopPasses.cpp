// Recognising a thread loop's index (ThreadLoopPasses.h).
#include "ptx_translate/ThreadLoopPasses.h"

#include <llvm/Analysis/ScalarEvolutionExpressions.h>

namespace cushim::ptx {

std::optional<ThreadLoopShape> threadLoopShape(const llvm::Loop &L, llvm::ScalarEvolution &SE) {
  ThreadLoopShape S;
  S.Preheader = L.getLoopPreheader();
  S.Header = L.getHeader();
  S.Latch = L.getLoopLatch();
  S.Exit = L.getExitBlock();
  if (!S.Preheader || !S.Latch || !S.Exit || L.getExitingBlock() != S.Latch)
    return std::nullopt;
  auto *LatchBranch = llvm::dyn_cast<llvm::BranchInst>(S.Latch->getTerminator());
  if (!LatchBranch || !LatchBranch->isConditional() ||
      std::distance(S.Header->phis().begin(), S.Header->phis().end()) != 1)
    return std::nullopt;
  S.Index = &*S.Header->phis().begin();
  auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(S.Index));
  if (!Rec || Rec->getLoop() != &L || !Rec->getStart()->isZero() || !Rec->getStepRecurrence(SE)->isOne())
    return std::nullopt;
  S.BackedgeTaken = SE.getBackedgeTakenCount(&L);
  if (llvm::isa<llvm::SCEVCouldNotCompute>(S.BackedgeTaken) || !SE.isLoopInvariant(S.BackedgeTaken, &L))
    return std::nullopt;
  return S;
}

bool keepsValuesInside(const llvm::Loop &L) {
  for (llvm::BasicBlock *BB : L.blocks())
    for (llvm::Instruction &I : *BB)
      for (llvm::User *U : I.users())
        if (!L.contains(llvm::cast<llvm::Instruction>(U)))
          return false;
  return true;
}

} // namespace cushim::ptx
