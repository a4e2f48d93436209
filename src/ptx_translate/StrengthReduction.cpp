// LLVM's loop strength reduction (LSR) chooses addressing modes and induction variables for each loop; code
// generation runs it on every loop. The loop vectoriser keeps a scalar copy of each loop it vectorises, for the
// remainder and for when its run-time checks fail, and in a region entry with a dozen vectorised thread loops LSR
// on those copies cost about 15% of the module's compile time (the cold JIT of the SGEMM module, one of the host
// engine's targets). So LSR runs at the end of the optimisation pipeline instead, on every loop but those copies
// (marked llvm.loop.isvectorized, with no vector operations of their own), and code generation's run is off.
// Loops the vectoriser declined keep it: the histogram's scalar lockstep loop ran 20-40% slower without LSR.
#include "ptx_translate/StrengthReduction.h"

#include "ptx_translate/LlvmOptions.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Transforms/Scalar/LoopStrengthReduce.h>

#include <mutex>

namespace cushim::ptx {

namespace {

bool isVectorisersScalarCopy(const llvm::Loop &L) {
  if (!llvm::getBooleanLoopAttribute(&L, "llvm.loop.isvectorized"))
    return false;
  for (const llvm::BasicBlock *BB : L.blocks())
    for (const llvm::Instruction &I : *BB)
      if (I.getType()->isVectorTy())
        return false;
  return true;
}

} // namespace

llvm::PreservedAnalyses SelectiveStrengthReductionPass::run(llvm::Loop &L, llvm::LoopAnalysisManager &AM,
                                                            llvm::LoopStandardAnalysisResults &AR,
                                                            llvm::LPMUpdater &U) {
  if (isVectorisersScalarCopy(L))
    return llvm::PreservedAnalyses::all();
  return llvm::LoopStrengthReducePass().run(L, AM, AR, U);
}

void disableCodegenStrengthReduction() {
  static std::once_flag Once;
  // Another LLVM without the option keeps both runs, which costs compile time only.
  std::call_once(Once, [] { setLlvmOption("disable-lsr", true); });
}

} // namespace cushim::ptx
