// The first shared-memory reduction most CUDA courses teach guards its tree step with `if (tid % (2 * s) == 0)`:
// in a region entry's thread loop (RegionBuilder.cpp) every thread pays a division and an unpredictable branch at
// every step, while fewer and fewer of them do anything. The threads the guard lets through are exactly the
// multiples of the divisor, so this pass makes the loop visit only those: the index steps by |divisor| and the
// guard goes. Each thread that ran still runs, alone, in the same order; the others did nothing.
//
// Taken for a thread loop (ThreadLoopPasses.h) that is innermost and sends no value out, whose header ends in
// `br (t % D == 0)` (or `!=`; urem or srem of the thread index, possibly truncated or extended losslessly, by a
// value D fixed before the loop, or `t & (2^k - 1)`) with the skipping way going straight to the latch, where the
// header and the latch compute nothing with side effects. The step is max(|D|, 1) and at most the thread count (so
// index + step cannot wrap); the loop leaves once the index reaches the thread count.
#include "ptx_translate/ThreadLoopStride.h"

#include "ptx_translate/RegionEntry.h"
#include "ptx_translate/ThreadLoopPasses.h"

#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/PatternMatch.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>

namespace cushim::ptx {

namespace {

class ThreadLoopStride {
public:
  ThreadLoopStride(llvm::Loop &L, llvm::ScalarEvolution &SE, const llvm::DataLayout &DL) : L(L), SE(SE), DL(DL) {}

  bool analyse() {
    std::optional<ThreadLoopShape> Shape = threadLoopShape(L, SE);
    if (!isThreadLoop(L) || !L.isInnermost() || !Shape || !keepsValuesInside(L))
      return false;
    S = *Shape;
    Guard = llvm::dyn_cast<llvm::BranchInst>(S.Header->getTerminator());
    if (!Guard || !Guard->isConditional() || S.Header == S.Latch || !S.Latch->phis().empty())
      return false;
    using namespace llvm::PatternMatch;
    llvm::ICmpInst::Predicate P;
    llvm::Value *Rem;
    if (!match(Guard->getCondition(), m_ICmp(P, m_Value(Rem), m_Zero())) || !llvm::ICmpInst::isEquality(P))
      return false;
    llvm::Value *X;
    const llvm::APInt *Mask;
    if (match(Rem, m_URem(m_Value(X), m_Value(Divisor))))
      Signed = false;
    else if (match(Rem, m_SRem(m_Value(X), m_Value(Divisor))))
      Signed = true;
    else if (match(Rem, m_And(m_Value(X), m_APInt(Mask))) && (*Mask + 1).isPowerOf2())
      // `t % 4` by a constant power of two is `t & 3` by the time the pass runs.
      Divisor = llvm::ConstantInt::get(X->getType(), *Mask + 1), Signed = false;
    else
      return false;
    // The way the guard lets a thread through, and the way that skips it (straight to the latch).
    unsigned Through = P == llvm::ICmpInst::ICMP_EQ ? 0 : 1;
    Body = Guard->getSuccessor(Through);
    if (Guard->getSuccessor(1 - Through) != S.Latch || Body == S.Latch || !L.isLoopInvariant(Divisor))
      return false;
    // X is the thread index, in a type that holds every thread's (as a signed value for srem).
    auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(X));
    unsigned Bits = X->getType()->getIntegerBitWidth();
    llvm::APInt MaxIndex = SE.getUnsignedRangeMax(S.BackedgeTaken);
    unsigned IndexBits = S.Index->getType()->getIntegerBitWidth();
    if (!Rec || Rec->getLoop() != &L || !Rec->getStart()->isZero() || !Rec->getStepRecurrence(SE)->isOne() ||
        MaxIndex.getActiveBits() + (Signed ? 1 : 0) >= Bits || MaxIndex.getActiveBits() + 2 >= IndexBits ||
        Bits > IndexBits)
      return false;
    // Nothing the skipped threads would have run may matter.
    for (llvm::BasicBlock *BB : {S.Header, S.Latch})
      for (llvm::Instruction &I : *BB)
        if (I.mayHaveSideEffects())
          return false;
    return true;
  }

  void apply() {
    llvm::Type *IndexTy = S.Index->getType();
    llvm::Instruction *Before = S.Preheader->getTerminator();
    llvm::SCEVExpander Expander(SE, DL, "stride");
    llvm::Value *Threads = Expander.expandCodeFor(S.threads(SE), IndexTy, Before);
    llvm::IRBuilder<> B(Before);
    llvm::Value *Step = Signed ? B.CreateBinaryIntrinsic(llvm::Intrinsic::abs, B.CreateSExt(Divisor, IndexTy),
                                                         B.getFalse())
                               : B.CreateZExt(Divisor, IndexTy);
    Step = B.CreateBinaryIntrinsic(llvm::Intrinsic::umax, Step, llvm::ConstantInt::get(IndexTy, 1));
    Step = B.CreateBinaryIntrinsic(llvm::Intrinsic::umin, Step, Threads, nullptr, "stride.step");

    // The latch: index + step, and leave once it reaches the thread count.
    auto *LatchBranch = llvm::cast<llvm::BranchInst>(S.Latch->getTerminator());
    bool ExitFirst = LatchBranch->getSuccessor(0) == S.Exit;
    B.SetInsertPoint(LatchBranch);
    llvm::Value *Next = B.CreateNUWAdd(S.Index, Step, "stride.next");
    llvm::Value *Done = B.CreateICmpUGE(Next, Threads);
    B.CreateCondBr(Done, ExitFirst ? S.Exit : S.Header, ExitFirst ? S.Header : S.Exit);
    LatchBranch->eraseFromParent();
    S.Index->setIncomingValueForBlock(S.Latch, Next);

    // Every visited thread passes the guard.
    S.Latch->removePredecessor(S.Header);
    llvm::BranchInst::Create(Body, Guard->getIterator());
    Guard->eraseFromParent();
    S.Header->setName(S.Header->getName() + ".strided");
  }

private:
  llvm::Loop &L;
  llvm::ScalarEvolution &SE;
  const llvm::DataLayout &DL;
  ThreadLoopShape S;
  llvm::BranchInst *Guard = nullptr;
  llvm::BasicBlock *Body = nullptr;
  llvm::Value *Divisor = nullptr;
  bool Signed = false;
};

} // namespace

llvm::PreservedAnalyses ThreadLoopStridePass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  if (!F.getName().starts_with(RegionEntryPrefix))
    return llvm::PreservedAnalyses::all();
  bool Changed = reworkLoopsOneAtATime(
      F, FAM, [&](llvm::Loop &L, llvm::LoopInfo &, llvm::ScalarEvolution &SE, llvm::DominatorTree &) {
        ThreadLoopStride Stride(L, SE, F.getDataLayout());
        if (!Stride.analyse())
          return false;
        Stride.apply();
        return true;
      });
  return Changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

} // namespace cushim::ptx
