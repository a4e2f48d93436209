// A flat entry runs a block's threads as a loop over tid (FlatEntry.cpp), and most kernels start with a guard on the
// global index: `if (i < n)`, `if (x >= n || y >= n) return`, `if (x == 0 || x == n - 1) {boundary}`. Inside the
// thread loop such a guard is a branch on an affine function of the loop's counter, so the vectoriser if-converts it
// into masked loads and stores. Those are expensive on x86 (a masked AVX2 store is microcoded on AMD Zen: SAXPY's
// loop ran at half the speed of the same loop without masks), and for every block but the last of a grid the guard
// goes the same way for all threads. This pass versions such loops: in the preheader it checks that each guard takes
// the same direction for every iteration (an affine value is monotone, so checking the first and the last iteration
// and that the value does not wrap suffices), and runs a copy of the loop in which those guards are constants when
// the check holds, the original loop otherwise. Semantics are unchanged: the copy only runs when the guards it folds
// would have gone that way anyway.
#include "ptx_translate/GuardVersioning.h"

#include "ptx_translate/FlatEntry.h"
#include "ptx_translate/RegionEntry.h"
#include "ptx_translate/RegionInternal.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/PostDominators.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/PatternMatch.h>
#include <llvm/IR/ProfDataUtils.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/LoopUtils.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <vector>

namespace cushim::ptx {

namespace {

using namespace llvm::PatternMatch;

// Loops larger than this are not copied (the copy doubles the code of the entry).
constexpr unsigned MaxLoopInstructions = 1500;

// A guard: a branch of the loop whose condition the fast copy replaces by Expected.
struct Guard {
  llvm::BranchInst *Branch;
  bool Expected;
};

class GuardChecker {
public:
  GuardChecker(llvm::Loop &L, llvm::ScalarEvolution &SE, llvm::SCEVExpander &Expander, llvm::Instruction *At)
      : L(L), SE(SE), Expander(Expander), B(At) {}

  // An i1 value computed before the loop that implies Cond == Expected in every iteration, or null. Leaves are
  // comparisons of an affine function of this loop's counter with a loop-invariant value, and loop-invariant
  // conditions; they combine with `or` (expected false) and `and` (expected true).
  llvm::Value *holds(llvm::Value *Cond, bool Expected, bool &SawCounter) {
    if (isInvariant(Cond))
      return Expected ? Cond : B.CreateNot(Cond);
    llvm::Value *X, *Y;
    if ((!Expected && match(Cond, m_LogicalOr(m_Value(X), m_Value(Y)))) ||
        (Expected && match(Cond, m_LogicalAnd(m_Value(X), m_Value(Y))))) {
      llvm::Value *HX = holds(X, Expected, SawCounter);
      llvm::Value *HY = HX ? holds(Y, Expected, SawCounter) : nullptr;
      return HY ? B.CreateAnd(HX, HY) : nullptr;
    }
    // One side suffices (a lockstep pass's `all threads here || this thread here`).
    if ((Expected && match(Cond, m_LogicalOr(m_Value(X), m_Value(Y)))) ||
        (!Expected && match(Cond, m_LogicalAnd(m_Value(X), m_Value(Y))))) {
      bool SawX = false, SawY = false;
      llvm::Value *HX = holds(X, Expected, SawX), *HY = holds(Y, Expected, SawY);
      SawCounter |= (HX && SawX) || (HY && SawY);
      return HX && HY ? B.CreateOr(HX, HY) : HX ? HX : HY;
    }
    if (match(Cond, m_Not(m_Value(X))))
      return holds(X, !Expected, SawCounter);
    auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(Cond);
    if (!Cmp)
      return nullptr;
    llvm::Value *H = compareHolds(Cmp, Expected);
    SawCounter |= H != nullptr;
    return H;
  }

private:
  bool isInvariant(llvm::Value *V) const {
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    return !I || !L.contains(I);
  }

  llvm::Value *expand(const llvm::SCEV *S, llvm::Type *Ty) {
    if (!Expander.isSafeToExpandAt(S, &*B.GetInsertPoint()))
      return nullptr;
    return Expander.expandCodeFor(S, Ty, &*B.GetInsertPoint());
  }

  // icmp P (A = {Start,+,Step} over this loop), Inv: P holds (Expected) or fails (!Expected) for every iteration.
  llvm::Value *compareHolds(llvm::ICmpInst *Cmp, bool Expected) {
    llvm::CmpInst::Predicate P = Expected ? Cmp->getPredicate() : Cmp->getInversePredicate();
    llvm::Value *A = Cmp->getOperand(0), *Inv = Cmp->getOperand(1);
    auto *Type = llvm::dyn_cast<llvm::IntegerType>(A->getType());
    if (!Type || Type->getBitWidth() > 64)
      return nullptr;
    auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(A));
    if (!Rec || Rec->getLoop() != &L) {
      std::swap(A, Inv);
      P = llvm::CmpInst::getSwappedPredicate(P);
      Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(A));
    }
    if (!Rec || Rec->getLoop() != &L || !Rec->isAffine())
      return nullptr;
    const llvm::SCEV *InvS = SE.getSCEV(Inv);
    auto *Step = llvm::dyn_cast<llvm::SCEVConstant>(Rec->getStepRecurrence(SE));
    const llvm::SCEV *Taken = SE.getBackedgeTakenCount(&L);
    if (!Step || !SE.isLoopInvariant(InvS, &L) || llvm::isa<llvm::SCEVCouldNotCompute>(Taken) ||
        SE.getTypeSizeInBits(Taken->getType()) > 64)
      return nullptr;
    // The sequence in twice the comparison's width (at least 64 bits), extended the way P reads it (equality: either
    // way, signed here). Induction variables widened to 64 bits (constant trip counts) are compared in 128.
    bool Unsigned = llvm::ICmpInst::isUnsigned(P);
    unsigned Bits = Type->getBitWidth(), WideBits = Bits > 32 ? 128 : 64;
    llvm::Type *Wide = B.getIntNTy(WideBits);
    llvm::Value *StartN = expand(Rec->getStart(), Type), *InvN = expand(InvS, Type), *TakenN = expand(Taken, nullptr);
    if (!StartN || !InvN || !TakenN)
      return nullptr;
    auto widen = [&](llvm::Value *V) { return Unsigned ? B.CreateZExt(V, Wide) : B.CreateSExt(V, Wide); };
    llvm::Value *First = widen(StartN), *Bound = widen(InvN);
    llvm::Value *Count = B.CreateZExtOrTrunc(TakenN, Wide);
    llvm::Value *Checks = B.getTrue();
    if (WideBits == 64 && SE.getTypeSizeInBits(Taken->getType()) > 32) // keeps Step * Count within 64 bits
      Checks = B.CreateICmpULE(TakenN, llvm::ConstantInt::get(TakenN->getType(), 0xffffffffull));
    llvm::Value *Last = B.CreateAdd(First, B.CreateMul(Count, llvm::ConstantInt::get(Wide, Step->getAPInt().sext(WideBits))));
    // No wrap: the last value is representable in the comparison's type, so the narrow sequence is the wide one.
    llvm::APInt Low = Unsigned ? llvm::APInt::getMinValue(Bits).zext(WideBits) : llvm::APInt::getSignedMinValue(Bits).sext(WideBits);
    llvm::APInt High = Unsigned ? llvm::APInt::getMaxValue(Bits).zext(WideBits) : llvm::APInt::getSignedMaxValue(Bits).sext(WideBits);
    Checks = B.CreateAnd(Checks, B.CreateICmpSGE(Last, llvm::ConstantInt::get(Wide, Low)));
    Checks = B.CreateAnd(Checks, B.CreateICmpSLE(Last, llvm::ConstantInt::get(Wide, High)));
    llvm::CmpInst::Predicate WidePred = Unsigned ? llvm::ICmpInst::getSignedPredicate(P) : P; // both fit, >= 0
    llvm::Value *Ends;
    if (P == llvm::CmpInst::ICMP_NE) {
      // Bound outside [min, max] of the two ends.
      llvm::Value *Below = B.CreateAnd(B.CreateICmpSLT(Bound, First), B.CreateICmpSLT(Bound, Last));
      llvm::Value *Above = B.CreateAnd(B.CreateICmpSGT(Bound, First), B.CreateICmpSGT(Bound, Last));
      Ends = B.CreateOr(Below, Above);
    } else {
      // Monotone sequence: a relation (or equality) that holds at both ends holds in between.
      Ends = B.CreateAnd(B.CreateICmp(WidePred, First, Bound), B.CreateICmp(WidePred, Last, Bound));
    }
    return B.CreateAnd(Checks, Ends);
  }

  llvm::Loop &L;
  llvm::ScalarEvolution &SE;
  llvm::SCEVExpander &Expander;
  llvm::IRBuilder<> B;
};

// A region entry's guards are the branches its builder marked likely one way (RegionBuilder.cpp, markStaying):
// that way is the direction the fast copy assumes.
std::optional<bool> markedDirection(const llvm::BranchInst &Br) {
  uint64_t True = 0, False = 0;
  if (!llvm::extractBranchWeights(Br, True, False))
    return std::nullopt;
  if (True >= region::LockstepStayWeight * False)
    return true;
  if (False >= region::LockstepStayWeight * True)
    return false;
  return std::nullopt;
}

// Whether V is built only of equality comparisons and loop-invariant values joined by `or`: `x == 0 || y == n-1`
// is false for almost every thread, so that is the direction worth a fast copy.
bool isEqualityOr(llvm::Value *V, const llvm::Loop &L) {
  auto *I = llvm::dyn_cast<llvm::Instruction>(V);
  if (!I || !L.contains(I))
    return true;
  llvm::Value *X, *Y;
  if (match(V, m_LogicalOr(m_Value(X), m_Value(Y))))
    return isEqualityOr(X, L) && isEqualityOr(Y, L);
  auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(V);
  return Cmp && Cmp->getPredicate() == llvm::CmpInst::ICMP_EQ;
}

// The direction of a guard the fast copy assumes, or none: the branch that skips work (its other successor leads to
// it, as `if (i < n) {...}` and `if (i >= n) return;` do) is assumed not taken; an `or` of equalities is assumed false.
std::optional<bool> expectedDirection(llvm::BranchInst &Br, const llvm::Loop &L, llvm::PostDominatorTree &PDT) {
  llvm::BasicBlock *True = Br.getSuccessor(0), *False = Br.getSuccessor(1);
  if (True == False || !L.contains(True) || !L.contains(False))
    return std::nullopt;
  if (PDT.dominates(False, True))
    return true; // the false edge skips what the true edge does
  if (PDT.dominates(True, False))
    return false;
  if (isEqualityOr(Br.getCondition(), L))
    return false;
  return std::nullopt;
}

// Copies L (with a fresh preheader) and enters the copy when Holds; the loops meet again in their exit block.
// Returns the value map from the original loop to the copy. L must be in simplified LCSSA form with one exit block.
llvm::Loop *versionLoop(llvm::Loop &L, llvm::Value *Holds, llvm::ValueToValueMapTy &VMap, llvm::LoopInfo &LI,
                        llvm::DominatorTree &DT) {
  llvm::BasicBlock *Check = L.getLoopPreheader();
  llvm::BasicBlock *Exit = L.getExitBlock();
  llvm::BasicBlock *Preheader = llvm::SplitBlock(Check, Check->getTerminator(), &DT, &LI, nullptr,
                                                 L.getHeader()->getName() + ".ph");
  llvm::SmallVector<llvm::BasicBlock *, 16> Blocks;
  llvm::Loop *Copy = llvm::cloneLoopWithPreheader(Preheader, Check, &L, VMap, ".guarded", &LI, &DT, Blocks);
  llvm::remapInstructionsInBlocks(Blocks, VMap);
  llvm::Instruction *Old = Check->getTerminator();
  llvm::BranchInst::Create(Copy->getLoopPreheader(), Preheader, Holds, Old->getIterator());
  Old->eraseFromParent();
  DT.changeImmediateDominator(Exit, Check);
  // LCSSA: every value leaving the loop is a phi of the exit block; give each the copy's value too.
  for (llvm::PHINode &Phi : Exit->phis()) {
    unsigned Incoming = Phi.getNumIncomingValues();
    for (unsigned I = 0; I < Incoming; ++I) {
      llvm::BasicBlock *From = Phi.getIncomingBlock(I);
      if (!L.contains(From))
        continue;
      llvm::Value *V = Phi.getIncomingValue(I);
      auto It = VMap.find(V);
      Phi.addIncoming(It != VMap.end() ? static_cast<llvm::Value *>(It->second) : V, llvm::cast<llvm::BasicBlock>(VMap[From]));
    }
  }
  llvm::formDedicatedExitBlocks(Copy, &DT, &LI, nullptr, /*PreserveLCSSA=*/true);
  llvm::formDedicatedExitBlocks(&L, &DT, &LI, nullptr, /*PreserveLCSSA=*/true);
  return Copy;
}

unsigned instructionCount(const llvm::Loop &L) {
  unsigned Count = 0;
  for (const llvm::BasicBlock *BB : L.blocks())
    Count += static_cast<unsigned>(BB->size());
  return Count;
}

} // namespace

llvm::PreservedAnalyses GuardVersioningPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  // Flat entries: guards found by their shape (expectedDirection). Region entries: only the marked branches of
  // lockstep passes, and a loop is copied only when all of them fold (a copy that keeps some would cost code
  // for masks the vectoriser still needs).
  bool Region = F.getName().starts_with(RegionEntryPrefix);
  if (!Region && !F.getName().starts_with(FlatEntryPrefix))
    return llvm::PreservedAnalyses::all();
  auto &LI = FAM.getResult<llvm::LoopAnalysis>(F);
  auto &DT = FAM.getResult<llvm::DominatorTreeAnalysis>(F);
  auto &PDT = FAM.getResult<llvm::PostDominatorTreeAnalysis>(F);
  auto &SE = FAM.getResult<llvm::ScalarEvolutionAnalysis>(F);
  const llvm::DataLayout &DL = F.getDataLayout();

  // Innermost loops first; copies made on the way are not visited again.
  llvm::SmallVector<llvm::Loop *, 8> Loops = LI.getLoopsInPreorder();
  std::vector<std::pair<llvm::BranchInst *, bool>> Folds;
  for (auto It = Loops.rbegin(); It != Loops.rend(); ++It) {
    llvm::Loop &L = **It;
    if (!L.isLoopSimplifyForm() || !L.getExitBlock() || instructionCount(L) > MaxLoopInstructions)
      continue;
    std::vector<Guard> Guards;
    for (llvm::BasicBlock *BB : L.blocks()) {
      auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB->getTerminator());
      if (LI.getLoopFor(BB) != &L || !Br || !Br->isConditional() || llvm::isa<llvm::Constant>(Br->getCondition()))
        continue;
      if (std::optional<bool> Expected = Region ? markedDirection(*Br) : expectedDirection(*Br, L, PDT))
        Guards.push_back({Br, *Expected});
    }
    if (Guards.empty())
      continue;
    llvm::SCEVExpander Expander(SE, DL, "guard");
    GuardChecker Checker(L, SE, Expander, L.getLoopPreheader()->getTerminator());
    // Every guard the way it is expected (a region's lockstep pass: every thread in the loop, none leaving before
    // the last copy); for a region also a copy where every thread leaves at the first copy's one marked way out.
    auto allHold = [&](const std::vector<Guard> &Want, std::vector<Guard> &Folded) -> llvm::Value * {
      llvm::Value *All = nullptr;
      for (const Guard &G : Want) {
        bool SawCounter = false;
        llvm::Value *H = Checker.holds(G.Branch->getCondition(), G.Expected, SawCounter);
        if (Region && !H)
          return nullptr;
        if (!H || (!Region && !SawCounter))
          continue; // the check code left behind is dead and goes with the next clean-up
        All = All ? llvm::BinaryOperator::CreateAnd(All, H, "guards.hold",
                                                    L.getLoopPreheader()->getTerminator()->getIterator())
                  : H;
        Folded.push_back(G);
      }
      return All;
    };
    std::vector<Guard> Folded, FoldedLeave;
    llvm::Value *All = allHold(Guards, Folded);
    llvm::Value *AllLeave = nullptr;
    if (Region) {
      std::vector<Guard> Leave;
      unsigned FirstExits = 0;
      for (const Guard &G : Guards)
        if (G.Branch->getMetadata(region::LockstepFirstExit)) {
          ++FirstExits;
          Leave.push_back({G.Branch, !G.Expected});
        } else if (G.Branch->getMetadata(region::LockstepStateCheck)) {
          Leave.push_back(G);
        }
      if (FirstExits == 1)
        AllLeave = allHold(Leave, FoldedLeave);
    }
    if (!All && !AllLeave)
      continue;
    if (!L.isRecursivelyLCSSAForm(DT, LI))
      llvm::formLCSSARecursively(L, DT, &LI, &SE);
    for (auto [Holds, Copy] : {std::pair{All, &Folded}, std::pair{AllLeave, &FoldedLeave}}) {
      if (!Holds)
        continue;
      llvm::ValueToValueMapTy VMap;
      versionLoop(L, Holds, VMap, LI, DT);
      for (const Guard &G : *Copy)
        Folds.emplace_back(llvm::cast<llvm::BranchInst>(VMap[G.Branch]), G.Expected);
    }
    // The original runs only where a guard goes the other way (a grid's last block): ThreadLoopSplit leaves it.
    L.getHeader()->setName(L.getHeader()->getName() + UnguardedSuffix);
    // In a region entry the original is a lockstep pass where threads enter or leave the loop. Vectorised, each copy
    // of the body would run with a mask for the threads still in it, and a masked load whose masked-off lanes point
    // past the data (a grid-stride loop's last copies) costs a microcode assist per load on x86 (about 100x a load);
    // run scalar, a thread that left skips the remaining copies.
    if (Region)
      llvm::addStringMetadataToLoop(&L, "llvm.loop.vectorize.width", 1);
    SE.forgetTopmostLoop(&L);
  }
  if (Folds.empty())
    return llvm::PreservedAnalyses::all();
  // In the copies the guards are constants: branch straight to the assumed successor.
  for (auto [Br, Expected] : Folds) {
    llvm::BasicBlock *Keep = Br->getSuccessor(Expected ? 0 : 1), *Drop = Br->getSuccessor(Expected ? 1 : 0);
    Drop->removePredecessor(Br->getParent());
    llvm::BranchInst::Create(Keep, Br->getIterator());
    Br->eraseFromParent();
  }
  llvm::removeUnreachableBlocks(F);
  return llvm::PreservedAnalyses::none();
}

} // namespace cushim::ptx
