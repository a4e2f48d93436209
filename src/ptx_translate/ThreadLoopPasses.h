// What the passes that rework thread loops one at a time share (ThreadLoopInterchange.cpp, ThreadLoopSplit.cpp):
// recognising the loops over tid.x, and the driver that re-runs the analyses after each change.
#pragma once

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/PassManager.h>

namespace cushim::ptx {

// The loops over tid.x that emitThreadLoops creates (BlockEntry.cpp) and the copies other passes make of them
// (GuardVersioning's `.guarded`, `.unguarded`); not the per-block loops ThreadLoopInterchange makes (`.threads`).
inline bool isThreadLoop(const llvm::Loop &L) {
  llvm::StringRef Name = L.getHeader()->getName();
  return Name.starts_with("tid.x.loop") && !Name.ends_with(".threads");
}

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
