// A region entry runs each stretch of a kernel between barriers as a loop over the block's threads
// (RegionBuilder.cpp). Tree reductions and scans guard their step with the thread index: `if (tid < s)
// sum[tid] += sum[tid + s]`, `if (tid >= offset) x += tmp[tid - offset]`. In the thread loop the guard becomes a
// mask on every access, and the vectoriser cannot prove that the masked-off threads' addresses do not overlap the
// others' (the loop keeps a scalar copy for short strides). The guard goes one way for the threads below a split
// point and the other way above it (an affine index is monotone), so this pass computes that point before the loop
// and runs the loop twice: the threads below it with the guard folded one way, those from it on with it folded the
// other way. Each thread runs exactly what it ran before, in the same order of threads.
//
// Taken for a thread loop (tid.x, counting from 0 by 1) that is innermost, leaves only at its latch and sends no
// value out, for the first guard of the form `A(t) < X` (any of <, <=, >, >=, signed or unsigned) with A affine in
// the thread index and X fixed before the loop. The split point is clamp(X - A(0), 0, threads) (X + 1 for <= and
// >), computed in twice the comparison's width; when A(t) could wrap within the loop, the original loop runs
// instead. A step other than 1, fixed before the loop (the tree of `index = 2 * s * tid; if (index < n)`), puts
// the point at ceil((X - A(0)) / step), and a step below 0 runs the original loop. `A(t) == X` and `!=` (step 1)
// split after 16 threads when thread 0 is the one (`if (tid == 0)`, a block's result written once): the first part
// keeps the guard, the second starts on a cache line; where only thread 0 writes memory, thread 0 runs alone with
// the guard folded and threads 1-15 get a part of their own. Otherwise the original loop runs.
#include "ptx_translate/ThreadLoopSplit.h"

#include "ptx_translate/GuardVersioning.h"
#include "ptx_translate/RegionEntry.h"
#include "ptx_translate/ThreadLoopPasses.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

namespace cushim::ptx {

namespace {

// Larger loops are not split (the pass makes two copies and keeps the original).
constexpr unsigned MaxLoopInstructions = 600;
// The threads of the first part for an equality guard (`if (tid == 0)`): 16 threads of 4-byte elements are a
// cache line. scanTiles (16M ints): 8.2-8.3 ms with the second part from thread 1, 6.2-7.0 ms from a line.
constexpr uint64_t EqualityPartThreads = 16;

// Thread loops, but not the copies this pass made, nor the loop GuardVersioning left for the blocks where a guard
// goes the rare way.
bool isSplittable(const llvm::Loop &L) {
  llvm::StringRef Name = L.getHeader()->getName();
  return isThreadLoop(L) && !Name.contains(".split") && !Name.contains(UnguardedSuffix);
}

class ThreadLoopSplit {
public:
  ThreadLoopSplit(llvm::Loop &L, llvm::ScalarEvolution &SE, llvm::LoopInfo &LI, llvm::DominatorTree &DT,
                  const llvm::DataLayout &DL)
      : L(L), SE(SE), LI(LI), DT(DT), DL(DL) {}

  bool analyse() {
    std::optional<ThreadLoopShape> Shape = threadLoopShape(L, SE);
    if (!L.isInnermost() || !Shape || !Shape->Exit->phis().empty())
      return false;
    S = *Shape;
    Next = llvm::dyn_cast<llvm::Instruction>(S.Index->getIncomingValueForBlock(S.Latch));
    unsigned Count = 0;
    for (llvm::BasicBlock *BB : L.blocks())
      Count += BB->size();
    if (!Next || Count > MaxLoopInstructions || !keepsValuesInside(L))
      return false;
    for (llvm::BasicBlock *BB : L.blocks()) {
      auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB->getTerminator());
      if (BB == S.Latch || !Br || !Br->isConditional() || Br->getSuccessor(0) == Br->getSuccessor(1))
        continue;
      if (auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition()); Cmp && guardOf(*Cmp)) {
        Guard = Br;
        return true;
      }
    }
    return false;
  }

  void apply(llvm::Function &F) {
    llvm::BasicBlock *Preheader = S.Preheader, *Header = S.Header, *Latch = S.Latch, *Exit = S.Exit;
    llvm::PHINode *Index = S.Index;
    llvm::IRBuilder<> B(Preheader->getTerminator());
    llvm::Type *IndexTy = Index->getType();
    llvm::SCEVExpander Expander(SE, DL, "split");
    llvm::Value *Threads = Expander.expandCodeFor(S.threads(SE), IndexTy, Preheader->getTerminator());
    llvm::Value *Start = Expander.expandCodeFor(AStart, nullptr, Preheader->getTerminator());
    llvm::Value *Bound = Expander.expandCodeFor(XBound, nullptr, Preheader->getTerminator());
    // In twice the width, extended as the comparison reads its operands: the first thread's value, the bound,
    // the last thread's value.
    unsigned Bits = Start->getType()->getIntegerBitWidth();
    llvm::Type *Wide = B.getIntNTy(Bits * 2);
    auto widen = [&](llvm::Value *V) { return Signed ? B.CreateSExt(V, Wide) : B.CreateZExt(V, Wide); };
    llvm::Value *First = widen(Start), *Limit = widen(Bound);
    if (PlusOne)
      Limit = B.CreateAdd(Limit, llvm::ConstantInt::get(Wide, 1));
    llvm::Value *Count = B.CreateZExtOrTrunc(Threads, Wide);
    llvm::Value *Zero = llvm::ConstantInt::get(Wide, 0), *One = llvm::ConstantInt::get(Wide, 1);
    llvm::Value *Step = StepOne ? One : widen(Expander.expandCodeFor(AStep, nullptr, Preheader->getTerminator()));
    llvm::Value *Last = B.CreateAdd(First, B.CreateMul(Step, B.CreateSub(Count, One)));
    llvm::APInt Max = Signed ? llvm::APInt::getSignedMaxValue(Bits) : llvm::APInt::getMaxValue(Bits);
    llvm::Value *Fits = B.CreateICmpSLE(Last, llvm::ConstantInt::get(Wide, Max.zext(Bits * 2)), "split.fits");
    if (!StepOne) // a signed step below 0 would make A decrease
      Fits = B.CreateAnd(Fits, B.CreateICmpSGE(Step, Zero));
    llvm::Value *Point = nullptr;
    if (Equality) {
      // Only when thread 0 is the one (`if (tid == 0)`): the last part starts after the first
      // EqualityPartThreads threads, on a cache line for every array of elements of at least four bytes a thread
      // (its wide stores can then take the non-temporal form; StreamingStores.h).
      Fits = B.CreateAnd(Fits, B.CreateICmpEQ(First, Limit));
      Point = B.CreateBinaryIntrinsic(llvm::Intrinsic::umin, llvm::ConstantInt::get(IndexTy, EqualityPartThreads),
                                      Threads, nullptr, "split.point");
    } else {
      // Threads below the point: A(t) = First + Step * t < Limit, the first ceil((Limit - First) / Step) of them
      // (all of them when Step is 0 and First is below Limit).
      llvm::Value *Gap = B.CreateBinaryIntrinsic(llvm::Intrinsic::smax, B.CreateSub(Limit, First), Zero);
      llvm::Value *Below = Gap;
      if (!StepOne) {
        llvm::Value *Divisor = B.CreateBinaryIntrinsic(llvm::Intrinsic::umax, Step, One);
        Below = B.CreateUDiv(B.CreateSub(B.CreateAdd(Gap, Divisor), One), Divisor);
        Below = B.CreateSelect(B.CreateICmpEQ(Step, Zero), B.CreateSelect(B.CreateICmpSGT(Gap, Zero), Count, Zero),
                               Below);
      }
      Below = B.CreateBinaryIntrinsic(llvm::Intrinsic::smin, Below, Count);
      Point = B.CreateTrunc(Below, IndexTy, "split.point");
    }

    // Check (the old preheader) -> [fits] first part, middle, second part -> exit; else the original loop. When
    // scalar evolution knows that A does not wrap, the original loop is the second part.
    llvm::BasicBlock *Check = Preheader;
    llvm::BasicBlock *OrigPreheader =
        llvm::SplitBlock(Check, Check->getTerminator(), &DT, &LI, nullptr, Header->getName() + ".ph");
    llvm::ValueToValueMapTy Map1, Map2;
    llvm::SmallVector<llvm::BasicBlock *, 16> Blocks1, Blocks2;
    llvm::Loop *Below = llvm::cloneLoopWithPreheader(OrigPreheader, Check, &L, Map1, ".split1", &LI, &DT, Blocks1);
    llvm::remapInstructionsInBlocks(Blocks1, Map1);
    llvm::BasicBlock *AbovePreheader = OrigPreheader;
    // With an equality guard and writes by thread 0 only, threads 1 to the point: a part of their own, so that
    // thread 0's part is one thread and its guarded work scalar code (a 16-thread part with the guard kept became a
    // gather and a scatter of one lane, 6% of a reduce3-style kernel).
    llvm::ValueToValueMapTy Map3;
    llvm::Loop *Between = nullptr;
    if (Equality && onlyThreadZeroWrites()) {
      llvm::SmallVector<llvm::BasicBlock *, 16> Blocks3;
      Between = llvm::cloneLoopWithPreheader(OrigPreheader, Check, &L, Map3, ".split3", &LI, &DT, Blocks3);
      llvm::remapInstructionsInBlocks(Blocks3, Map3);
    }
    if (!NoWrap) {
      llvm::Loop *Above = llvm::cloneLoopWithPreheader(OrigPreheader, Check, &L, Map2, ".split2", &LI, &DT, Blocks2);
      llvm::remapInstructionsInBlocks(Blocks2, Map2);
      AbovePreheader = Above->getLoopPreheader();
    } else {
      Map2[Index] = Index;
      Map2[Guard] = Guard;
    }
    llvm::LLVMContext &Ctx = F.getContext();
    auto *Start1 = llvm::BasicBlock::Create(Ctx, "split.start", &F, Below->getLoopPreheader());
    auto *Middle = llvm::BasicBlock::Create(Ctx, "split.middle", &F, AbovePreheader);
    Check->getTerminator()->eraseFromParent();
    if (NoWrap)
      llvm::BranchInst::Create(Start1, Check);
    else
      llvm::BranchInst::Create(Start1, OrigPreheader, Fits, Check);
    B.SetInsertPoint(Start1);
    B.CreateCondBr(B.CreateICmpNE(Point, llvm::ConstantInt::get(IndexTy, 0)), Below->getLoopPreheader(), Middle);
    B.SetInsertPoint(Middle);
    B.CreateCondBr(B.CreateICmpNE(Point, Threads), AbovePreheader, Exit);
    // Below: from 0 to the point (thread 0 alone, then the rest of the way in Between, for an equality guard);
    // above: from the point on, ending as the original does.
    auto endAt = [&](llvm::ValueToValueMapTy &Map, llvm::Value *End, llvm::BasicBlock *Then) {
      auto *CopyLatch = llvm::cast<llvm::BasicBlock>(Map[Latch]);
      CopyLatch->getTerminator()->eraseFromParent();
      B.SetInsertPoint(CopyLatch);
      B.CreateCondBr(B.CreateICmpEQ(Map[Next], End), Then, llvm::cast<llvm::BasicBlock>(Map[Header]));
    };
    if (Between) {
      llvm::Value *One = llvm::ConstantInt::get(IndexTy, 1);
      auto *Middle1 = llvm::BasicBlock::Create(Ctx, "split.middle1", &F, Between->getLoopPreheader());
      endAt(Map1, One, Middle1);
      B.SetInsertPoint(Middle1);
      B.CreateCondBr(B.CreateICmpNE(Point, One), Between->getLoopPreheader(), Middle);
      llvm::cast<llvm::PHINode>(Map3[Index])->setIncomingValueForBlock(Between->getLoopPreheader(), One);
      // At most 15 threads: one masked vector iteration, not a vector of 8 and a scalar remainder.
      llvm::addStringMetadataToLoop(Between, "llvm.loop.vectorize.predicate.enable", 1);
      endAt(Map3, Point, Middle);
      fold(llvm::cast<llvm::BranchInst>(Map3[Guard]), !TrueFirst);
    } else {
      endAt(Map1, Point, Middle);
    }
    auto *Index2 = llvm::cast<llvm::PHINode>(Map2[Index]);
    Index2->setIncomingValueForBlock(AbovePreheader, Point);
    if (!Equality || Between)
      fold(llvm::cast<llvm::BranchInst>(Map1[Guard]), TrueFirst);
    fold(llvm::cast<llvm::BranchInst>(Map2[Guard]), !TrueFirst);
    llvm::removeUnreachableBlocks(F);
  }

private:
  // Whether Cmp compares an affine function of the thread index (step 1) with a value fixed before the loop, in
  // an order (<, <=, >, >=); records how.
  bool guardOf(llvm::ICmpInst &Cmp) {
    llvm::CmpInst::Predicate P = Cmp.getPredicate();
    const llvm::SCEV *A = SE.getSCEV(Cmp.getOperand(0)), *X = SE.getSCEV(Cmp.getOperand(1));
    if (!llvm::isa<llvm::SCEVAddRecExpr>(A)) {
      std::swap(A, X);
      P = llvm::CmpInst::getSwappedPredicate(P);
    }
    auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(A);
    auto *Type = llvm::dyn_cast<llvm::IntegerType>(Cmp.getOperand(0)->getType());
    if (!Rec || Rec->getLoop() != &L || !Rec->isAffine() || !Type || Type->getBitWidth() > 64 ||
        !SE.isLoopInvariant(X, &L))
      return false;
    AStep = Rec->getStepRecurrence(SE);
    StepOne = AStep->isOne();
    Equality = llvm::ICmpInst::isEquality(P);
    llvm::Instruction *At = S.Preheader->getTerminator();
    llvm::SCEVExpander Check(SE, DL, "split");
    if (!Check.isSafeToExpandAt(Rec->getStart(), At) || !Check.isSafeToExpandAt(X, At) ||
        !SE.isLoopInvariant(AStep, &L) || !Check.isSafeToExpandAt(AStep, At) || (Equality && !StepOne))
      return false;
    AStart = Rec->getStart();
    XBound = X;
    Signed = llvm::ICmpInst::isSigned(P);
    // An equality needs its check at run time (is thread 0 the one?), so the original loop stays for the others;
    // so it does for steps other than 1 (is the step below 0?).
    NoWrap = !Equality && StepOne && (Signed ? Rec->hasNoSignedWrap() : Rec->hasNoUnsignedWrap());
    P = llvm::ICmpInst::getUnsignedPredicate(P);
    TrueFirst = P == llvm::CmpInst::ICMP_ULT || P == llvm::CmpInst::ICMP_ULE || P == llvm::CmpInst::ICMP_EQ;
    PlusOne = P == llvm::CmpInst::ICMP_ULE || P == llvm::CmpInst::ICMP_UGT;
    return true;
  }

  // Whether every write of the loop is on thread 0's side of an equality guard (`if (tid == 0) out[b] = s[0]`):
  // the other threads then only compute. Where they also write (scanTiles' outputs), their wide stores in the
  // 16-thread first part beat a part of their own for threads 1-15 (masked, not aligned): 6.0-6.7 against
  // 7.6-8.3 ms for the suite's scan.
  bool onlyThreadZeroWrites() const {
    llvm::BasicBlockEdge Zero(Guard->getParent(), Guard->getSuccessor(TrueFirst ? 0 : 1));
    for (llvm::BasicBlock *BB : L.blocks())
      for (llvm::Instruction &I : *BB)
        if (I.mayWriteToMemory() && !DT.dominates(Zero, BB))
          return false;
    return true;
  }

  // The copy's guard always goes one way.
  static void fold(llvm::BranchInst *Br, bool Taken) {
    llvm::BasicBlock *Keep = Br->getSuccessor(Taken ? 0 : 1), *Drop = Br->getSuccessor(Taken ? 1 : 0);
    Drop->removePredecessor(Br->getParent());
    llvm::BranchInst::Create(Keep, Br->getIterator());
    Br->eraseFromParent();
  }

  llvm::Loop &L;
  llvm::ScalarEvolution &SE;
  llvm::LoopInfo &LI;
  llvm::DominatorTree &DT;
  const llvm::DataLayout &DL;
  ThreadLoopShape S;
  llvm::Instruction *Next = nullptr;
  const llvm::SCEV *AStart = nullptr, *AStep = nullptr, *XBound = nullptr;
  llvm::BranchInst *Guard = nullptr;
  bool Signed = false, Equality = false, TrueFirst = false, PlusOne = false, NoWrap = false, StepOne = true;
};

} // namespace

llvm::PreservedAnalyses ThreadLoopSplitPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  if (!F.getName().starts_with(RegionEntryPrefix))
    return llvm::PreservedAnalyses::all();
  bool Changed = reworkLoopsOneAtATime(
      F, FAM, [&](llvm::Loop &L, llvm::LoopInfo &LI, llvm::ScalarEvolution &SE, llvm::DominatorTree &DT) {
        if (!isSplittable(L))
          return false;
        ThreadLoopSplit Split(L, SE, LI, DT, F.getDataLayout());
        if (!Split.analyse())
          return false;
        // The original stays for blocks whose index could wrap; neither it nor the copies are split again.
        L.getHeader()->setName(L.getHeader()->getName() + ".split0");
        Split.apply(F);
        return true;
      });
  return Changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

} // namespace cushim::ptx
