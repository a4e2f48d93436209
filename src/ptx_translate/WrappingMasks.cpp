// LLVM 19's loop vectoriser miscompiles an interleaved access whose index is a mask of the loop's counter that can
// wrap within the loop: `S[(tid * 7) & 31]` over 32 threads (or `S[(tid * 5) & 127]` over 64) became a load of
// every 7th element, `tid * 7` without the mask. Scalar evolution writes `(x * 28) & 124` as
// `4 * zext i5 {0,+,7}`; to treat that as a stride of 28 bytes the vectoriser needs the predicate that the 5-bit
// recurrence does not wrap, and for interleave groups it dropped that predicate where it is false (an open upstream
// change, llvm/llvm-project#225086, removes the code that does). Consecutive accesses keep their run-time check.
//
// Before the vectoriser, this pass gives each such mask inside a loop (an `and` with a constant whose scalar
// evolution is a zero extension of a narrow recurrence not known to stay in range) an identity the
// analyses cannot see through, a funnel shift by 0: the access is then a gather, computed lane by lane from the
// masked values, and InstCombine folds the shift away after the vectoriser. Masks that scalar evolution proved do
// not wrap (`tid & 31` in a loop over a warp's 32 lanes) fold to plain recurrences and stay as they are.
#include "ptx_translate/WrappingMasks.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/PatternMatch.h>

#include <vector>

namespace cushim::ptx {

namespace {

// Whether S holds a zero extension of a recurrence that may wrap in its narrow type (scalar evolution's form of a
// mask it could not prove in range: `(x * 28) & 124` is `4 * zext i5 {0,+,7}`).
bool holdsWrappingMask(const llvm::SCEV *S) {
  return llvm::SCEVExprContains(S, [](const llvm::SCEV *X) {
    auto *Ext = llvm::dyn_cast<llvm::SCEVZeroExtendExpr>(X);
    return Ext && llvm::SCEVExprContains(Ext->getOperand(), [](const llvm::SCEV *Y) {
             auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(Y);
             return Rec && !Rec->hasNoUnsignedWrap();
           });
  });
}

} // namespace

llvm::PreservedAnalyses WrappingMasksPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  auto &LI = FAM.getResult<llvm::LoopAnalysis>(F);
  if (LI.empty())
    return llvm::PreservedAnalyses::all();
  auto &SE = FAM.getResult<llvm::ScalarEvolutionAnalysis>(F);
  std::vector<llvm::BinaryOperator *> Masks;
  for (llvm::BasicBlock &BB : F) {
    if (!LI.getLoopFor(&BB))
      continue;
    for (llvm::Instruction &I : BB) {
      auto *And = llvm::dyn_cast<llvm::BinaryOperator>(&I);
      if (And && And->getOpcode() == llvm::Instruction::And && And->getType()->isIntegerTy() &&
          llvm::isa<llvm::ConstantInt>(And->getOperand(1)) && SE.isSCEVable(And->getType()) &&
          holdsWrappingMask(SE.getSCEV(And)))
        Masks.push_back(And);
    }
  }
  if (Masks.empty())
    return llvm::PreservedAnalyses::all();
  for (llvm::BinaryOperator *And : Masks) {
    llvm::IRBuilder<> B(And->getNextNode());
    llvm::Value *Same =
        B.CreateIntrinsic(llvm::Intrinsic::fshl, {And->getType()},
                          {And, And, llvm::ConstantInt::get(And->getType(), 0)}, nullptr, And->getName() + ".opaque");
    And->replaceUsesWithIf(Same, [&](llvm::Use &U) { return U.getUser() != Same; });
  }
  return llvm::PreservedAnalyses::none();
}

} // namespace cushim::ptx
