// What the passes that rework thread loops one at a time share (ThreadLoopInterchange.cpp, ThreadLoopSplit.cpp,
// ThreadLoopStride.cpp): recognising the loops over tid.x and their index, and the driver that re-runs the analyses
// after each change.
#pragma once

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/PassManager.h>

#include <optional>

namespace cushim::ptx {

// The loops over tid.x that emitThreadLoops creates (BlockEntry.cpp) and the copies other passes make of them
// (GuardVersioning's `.guarded`, `.unguarded`); not the per-block loops ThreadLoopInterchange makes (`.threads`).
inline bool isThreadLoop(const llvm::Loop &L) {
  llvm::StringRef Name = L.getHeader()->getName();
  return Name.starts_with("tid.x.loop") && !Name.ends_with(".threads");
}

// A loop with a preheader, left only from its latch (a conditional branch) to one exit block, whose header's only
// phi is the thread index: from 0 in steps of 1, for a count of iterations fixed before the loop.
struct ThreadLoopShape {
  llvm::BasicBlock *Preheader = nullptr, *Header = nullptr, *Latch = nullptr, *Exit = nullptr;
  llvm::PHINode *Index = nullptr;
  const llvm::SCEV *BackedgeTaken = nullptr;

  // The number of threads (iterations), in the index's type.
  const llvm::SCEV *threads(llvm::ScalarEvolution &SE) const {
    llvm::Type *Ty = Index->getType();
    return SE.getAddExpr(SE.getTruncateOrZeroExtend(BackedgeTaken, Ty), SE.getOne(Ty));
  }
};
std::optional<ThreadLoopShape> threadLoopShape(const llvm::Loop &L, llvm::ScalarEvolution &SE);

// Whether every value L computes is used only inside L.
bool keepsValuesInside(const llvm::Loop &L);

// Offers F's loops, outermost first, to Try(Loop, LoopInfo, ScalarEvolution, DominatorTree), which returns
// whether it changed the function; after a change the analyses are computed afresh and the offers start again.
// Whether anything changed.
template <typename TryFn>
bool reworkLoopsOneAtATime(llvm::Function &F, llvm::FunctionAnalysisManager &FAM, TryFn Try) {
  bool Changed = false;
  for (bool Again = true; Again;) {
    Again = false;
    auto &LI = FAM.getResult<llvm::LoopAnalysis>(F);
    auto &SE = FAM.getResult<llvm::ScalarEvolutionAnalysis>(F);
    auto &DT = FAM.getResult<llvm::DominatorTreeAnalysis>(F);
    for (llvm::Loop *L : LI.getLoopsInPreorder())
      if (Try(*L, LI, SE, DT)) {
        FAM.invalidate(F, llvm::PreservedAnalyses::none());
        Changed = Again = true;
        break;
      }
  }
  return Changed;
}

} // namespace cushim::ptx
