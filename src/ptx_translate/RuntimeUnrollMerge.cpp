// nvcc (LLVM's runtime unroller) compiles `for (k = s; k < e; ++k) body(k)` with a trip count known only at run
// time into
//   G:   if (rem == 0) goto Mid;                 rem = (e - s) mod U, G reached only where s < e
//   L1:  body(k); ++k; if (--rem != 0) goto L1;  the remainder loop
//   Mid: if (e - s < U) goto X;
//   L2:  body(k); body(k + 1); ...; body(k + U - 1); k += U; if (k < e) goto L2;
//   X:
// On a CPU a short row (CSR SpMV: 8 to 24 entries) then pays two hard-to-predict exits (the remainder's, as LLVM
// turns it into guarded copies, and the unrolled loop's) instead of one loop's. This pass replaces the region by one
// loop that runs L1's body e - s times, as the source's loop and PoCL's compiled one do, where it proves that the
// region computes exactly that:
//  * L2's body is U copies of L1's body: copy j of L2's iteration m computes what L1's body computes in its iteration
//    rem + U * m + j. Values that are affine in the loop's iteration (addresses, counters) are compared through scalar
//    evolution; everything else (loads, arithmetic on loaded values) must be the same operation on matching operands.
//    A value carried from iteration to iteration (a running sum) is matched from copy to copy, and from L1 to L2
//    through Mid's phis. L2 may hold no loads or trapping instructions besides the copies; neither loop may write
//    memory, so the loads keep their order.
//  * The iterations are those of k from s to e - 1 (rowStart, entersUnrolledLoop): rem is (e - s) mod U, L2's counter
//    starts at s + rem and steps by U while below e, s < e holds where G runs (signed or not, as the exit test
//    compares), and Mid enters L2 exactly when e - s >= U. Then no counter value passes e, L1 runs rem times and L2
//    (e - s - rem) / U times.
//  * Where the copies' start values differ from L1's only by how a sum is extended (an address from sext(s + rem)
//    against sext(s) + rem), the sum lies between s and e, so it does not wrap (startsMatch).
// nvcc also puts the remainder after the unrolled loop (Region::Epilogue): L2 counts down from n rounded down to a
// multiple of U, L1 runs n mod U times from the values L2 leaves. There the copies are matched against L1's body
// run from the values G gives the region (index U * m + j), n is found from L2's count-down (epilogueCount), and G
// must enter L2 exactly for n >= U. Copies may list a commutative operation's operands in either order.
// Anything scalar evolution does not show leaves the region as it is; nothing is checked at run time (but n == 0
// where it is not known not to be), so the merged loop costs no more instructions per row than the source's own
// loop. Its stepped values are rewritten by the loop's one counter (indexByCount).
#include "ptx_translate/RuntimeUnrollMerge.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/Analysis/ConstantFolding.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/ConstantRange.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <functional>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace cushim::ptx {

namespace {

// Remainder loops longer than this are not merged (the proof compares them operation by operation).
constexpr unsigned MaxLoopInstructions = 400;

// The blocks of one runtime-unrolled loop (see the file comment).
struct Region {
  llvm::BasicBlock *G = nullptr, *P1 = nullptr, *H1 = nullptr, *E1 = nullptr, *Mid = nullptr, *P2 = nullptr,
                   *H2 = nullptr, *E2 = nullptr, *X = nullptr;
  llvm::Loop *L1 = nullptr, *L2 = nullptr;
  // The remainder's count: the branch that skips L1 tests `Skip == 0`.
  llvm::Value *Skip = nullptr;
  // nvcc's other layout, the remainder after the unrolled loop:
  //   G:   if (n < U) goto Mid;
  //   L2:  U copies of the body;
  //   Mid: if (rem == 0) goto X;
  //   L1:  the remainder loop;
  //   X:
  bool Epilogue = false;

  // The block from which X receives what the region computed when both loops ran.
  llvm::BasicBlock *lastExit() const { return Epilogue ? E1 : E2; }
};

llvm::Value *stripBitcasts(llvm::Value *V) {
  while (auto *Cast = llvm::dyn_cast<llvm::BitCastInst>(V))
    V = Cast->getOperand(0);
  return V;
}

bool constantBitsEqual(llvm::Constant *A, llvm::Constant *B, const llvm::DataLayout &DL) {
  if (A->getType() == B->getType())
    return A == B;
  if (DL.getTypeSizeInBits(A->getType()) != DL.getTypeSizeInBits(B->getType()))
    return false;
  return llvm::ConstantFoldCastOperand(llvm::Instruction::BitCast, B, A->getType(), DL) == A;
}

// A single-block innermost loop: its block, or null.
llvm::BasicBlock *singleBlock(llvm::Loop *L) {
  if (!L || !L->isInnermost() || L->getNumBlocks() != 1)
    return nullptr;
  return L->getHeader();
}

// Whether I may stay in a loop run for more iterations than it had: no memory access, no trap, no side effect.
bool harmlessExtra(const llvm::Instruction &I) {
  return !I.mayReadOrWriteMemory() && !I.mayHaveSideEffects() && llvm::isSafeToSpeculativelyExecute(&I);
}

// Loops that may merge: no writes, no atomic or volatile loads, no calls with effects.
bool readOnlyBody(llvm::BasicBlock &BB) {
  if (BB.size() > MaxLoopInstructions)
    return false;
  for (llvm::Instruction &I : BB) {
    if (I.mayWriteToMemory() || I.mayHaveSideEffects())
      return false;
    if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && !Load->isSimple())
      return false;
    if (I.mayReadFromMemory() && !llvm::isa<llvm::LoadInst>(I))
      return false;
  }
  return true;
}

// V where BB ends in `br (V == 0), IfZero, Else` (or its inverse); null otherwise.
llvm::Value *zeroTest(llvm::BasicBlock *BB, llvm::BasicBlock *IfZero, llvm::BasicBlock *Else) {
  auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB->getTerminator());
  auto *Cmp = Br && Br->isConditional() ? llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition()) : nullptr;
  auto *Zero = Cmp ? llvm::dyn_cast<llvm::ConstantInt>(Cmp->getOperand(1)) : nullptr;
  if (!Zero || !Zero->isZero() || !Cmp->isEquality())
    return nullptr;
  unsigned ZeroEdge = Cmp->getPredicate() == llvm::ICmpInst::ICMP_EQ ? 0 : 1;
  if (Br->getSuccessor(ZeroEdge) != IfZero || Br->getSuccessor(1 - ZeroEdge) != Else)
    return nullptr;
  return Cmp->getOperand(0);
}

// The value V leaves a loop with, through its exit block's LCSSA phi if it has one.
llvm::Value *lastValue(llvm::Value *V, llvm::BasicBlock *Exit, llvm::BasicBlock *Latch) {
  V = stripBitcasts(V);
  if (auto *Lcssa = llvm::dyn_cast<llvm::PHINode>(V); Lcssa && Lcssa->getParent() == Exit)
    V = stripBitcasts(Lcssa->getIncomingValueForBlock(Latch));
  return V;
}

// Whether a loop's exit block only passes its values on, as they are or reinterpreted (a float sum carried as i32
// bits).
bool passesValuesOn(llvm::BasicBlock *Exit) {
  return llvm::all_of(Exit->instructionsWithoutDebug(), [](llvm::Instruction &I) {
    return llvm::isa<llvm::PHINode>(I) || llvm::isa<llvm::BitCastInst>(I) || I.isTerminator();
  });
}

// The remainder loop's preheader: reached from From only, its instructions safe to run in any case.
bool plainPreheader(llvm::BasicBlock *P, llvm::BasicBlock *From, llvm::BasicBlock *H) {
  return P && P->getSinglePredecessor() == From && P->getSingleSuccessor() == H &&
         !llvm::isa<llvm::PHINode>(P->front()) && llvm::all_of(P->instructionsWithoutDebug(), [](llvm::Instruction &I) {
           return I.isTerminator() || harmlessExtra(I);
         });
}

// L2, its preheader and its exit block, which must pass its values on to the block it branches to.
bool findUnrolledLoop(Region &R, llvm::Loop *L2) {
  R.L2 = L2;
  R.H2 = singleBlock(L2);
  if (!R.H2)
    return false;
  R.P2 = L2->getLoopPreheader();
  R.E2 = L2->getExitBlock();
  auto *E2Br = R.E2 ? llvm::dyn_cast<llvm::BranchInst>(R.E2->getTerminator()) : nullptr;
  return R.P2 && E2Br && !E2Br->isConditional() && R.E2->getSinglePredecessor() == R.H2 && passesValuesOn(R.E2);
}

// Whether one of Next's predecessors is the exit block of a remainder loop (then L1, H1, E1 and P1).
bool findRemainderLoopBefore(Region &R, llvm::BasicBlock *Next, llvm::LoopInfo &LI) {
  for (llvm::BasicBlock *Pred : llvm::predecessors(Next)) {
    llvm::BasicBlock *Latch = Pred->getSinglePredecessor();
    llvm::Loop *L = Latch ? LI.getLoopFor(Latch) : nullptr;
    if (L && L != R.L2 && singleBlock(L) == Latch && L->getExitBlock() == Pred && Pred->getSingleSuccessor() == Next) {
      R.L1 = L;
      R.E1 = Pred;
      R.H1 = Latch;
      R.P1 = L->getLoopPreheader();
      return true;
    }
  }
  return false;
}

// The remainder before the unrolled loop: G branches to P1 or Mid, L1 exits to Mid, Mid tests the count, and L2 exits
// to X.
std::optional<Region> findPrologueRegion(llvm::Loop *L2, llvm::LoopInfo &LI) {
  Region R;
  if (!findUnrolledLoop(R, L2))
    return std::nullopt;
  R.Mid = R.P2->getSinglePredecessor();
  if (!R.Mid)
    return std::nullopt;
  R.X = R.E2->getSingleSuccessor();
  auto *MidBr = llvm::dyn_cast<llvm::BranchInst>(R.Mid->getTerminator());
  if (!MidBr || !MidBr->isConditional() || R.X == R.P2 ||
      !((MidBr->getSuccessor(0) == R.P2 && MidBr->getSuccessor(1) == R.X) ||
        (MidBr->getSuccessor(1) == R.P2 && MidBr->getSuccessor(0) == R.X)))
    return std::nullopt;

  // Mid's predecessors: G, and the exit block of the remainder loop.
  if (!llvm::hasNItems(llvm::predecessors(R.Mid), 2) || !findRemainderLoopBefore(R, R.Mid, LI))
    return std::nullopt;
  for (llvm::BasicBlock *Pred : llvm::predecessors(R.Mid))
    if (Pred != R.E1)
      R.G = Pred;
  if (!R.G || !plainPreheader(R.P1, R.G, R.H1))
    return std::nullopt;
  // G: `br (Skip == 0), Mid, P1`.
  R.Skip = zeroTest(R.G, R.Mid, R.P1);
  if (!R.Skip || !readOnlyBody(*R.H1) || !readOnlyBody(*R.H2))
    return std::nullopt;
  return R;
}

// The remainder after the unrolled loop (Region::Epilogue): G branches to P2 or Mid, L2 exits to Mid, Mid tests the
// remainder's count, and L1 exits to X.
std::optional<Region> findEpilogueRegion(llvm::Loop *L2, llvm::LoopInfo &LI) {
  Region R;
  R.Epilogue = true;
  if (!findUnrolledLoop(R, L2))
    return std::nullopt;
  R.G = R.P2->getSinglePredecessor();
  R.Mid = R.E2->getSingleSuccessor();
  if (!R.G || !R.Mid || !llvm::hasNItems(llvm::predecessors(R.Mid), 2) ||
      !llvm::is_contained(llvm::predecessors(R.Mid), R.G))
    return std::nullopt;
  auto *GBr = llvm::dyn_cast<llvm::BranchInst>(R.G->getTerminator());
  if (!GBr || !GBr->isConditional() || !llvm::is_contained(GBr->successors(), R.Mid))
    return std::nullopt;
  auto *MidBr = llvm::dyn_cast<llvm::BranchInst>(R.Mid->getTerminator());
  if (!MidBr || !MidBr->isConditional())
    return std::nullopt;
  // Mid: `br (Skip == 0), X, P1`, where L1 exits to X.
  for (llvm::BasicBlock *Succ : MidBr->successors()) {
    auto *Next = Succ->getSingleSuccessor();
    llvm::Loop *L = Next ? LI.getLoopFor(Next) : nullptr;
    if (L && L != L2 && L->getLoopPreheader() == Succ && singleBlock(L) == Next) {
      R.P1 = Succ;
      R.L1 = L;
      R.H1 = Next;
    }
  }
  if (!R.L1)
    return std::nullopt;
  R.E1 = R.L1->getExitBlock();
  R.X = R.E1 ? R.E1->getSingleSuccessor() : nullptr;
  if (!R.X || R.E1->getSinglePredecessor() != R.H1 || !passesValuesOn(R.E1) || !plainPreheader(R.P1, R.Mid, R.H1))
    return std::nullopt;
  R.Skip = zeroTest(R.Mid, R.X, R.P1);
  if (!R.Skip || !readOnlyBody(*R.H1) || !readOnlyBody(*R.H2))
    return std::nullopt;
  return R;
}

std::optional<Region> findRegion(llvm::Loop *L2, llvm::LoopInfo &LI) {
  if (auto R = findPrologueRegion(L2, LI))
    return R;
  return findEpilogueRegion(L2, LI);
}

// The exit test of a single-block loop: continue while `Counter < Bound` (signed or unsigned), Counter affine with a
// positive power-of-two step.
struct ExitTest {
  const llvm::SCEVAddRecExpr *Counter = nullptr;
  const llvm::SCEV *Bound = nullptr;
  bool Signed = false;
};

std::optional<ExitTest> exitTest(llvm::BasicBlock *H, llvm::Loop *L, llvm::ScalarEvolution &SE) {
  auto *Br = llvm::dyn_cast<llvm::BranchInst>(H->getTerminator());
  auto *Cmp = Br && Br->isConditional() ? llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition()) : nullptr;
  if (!Cmp || !SE.isSCEVable(Cmp->getOperand(0)->getType()))
    return std::nullopt;
  llvm::CmpInst::Predicate Pred = Cmp->getPredicate();
  if (Br->getSuccessor(0) != H)
    Pred = llvm::CmpInst::getInversePredicate(Pred);
  const llvm::SCEV *A = SE.getSCEV(Cmp->getOperand(0)), *B = SE.getSCEV(Cmp->getOperand(1));
  if (!llvm::isa<llvm::SCEVAddRecExpr>(A)) {
    std::swap(A, B);
    Pred = llvm::CmpInst::getSwappedPredicate(Pred);
  }
  auto *Counter = llvm::dyn_cast<llvm::SCEVAddRecExpr>(A);
  if (!Counter || Counter->getLoop() != L || !Counter->isAffine() || !SE.isLoopInvariant(B, L) ||
      (Pred != llvm::CmpInst::ICMP_SLT && Pred != llvm::CmpInst::ICMP_ULT))
    return std::nullopt;
  auto *Step = llvm::dyn_cast<llvm::SCEVConstant>(Counter->getStepRecurrence(SE));
  if (!Step || !Step->getAPInt().isStrictlyPositive() || !Step->getAPInt().isPowerOf2() ||
      Counter->getType()->getIntegerBitWidth() > 32)
    return std::nullopt;
  return ExitTest{Counter, B, Pred == llvm::CmpInst::ICMP_SLT};
}

// Rewrites ext(s + T0 + c), 0 <= c <= U, as ext(s) + T0 + c: what a sum that does not wrap extends to (see
// Merger::startsMatch for why it does not).
class ExtensionDistributor : public llvm::SCEVRewriteVisitor<ExtensionDistributor> {
public:
  ExtensionDistributor(llvm::ScalarEvolution &SE, const llvm::SCEV *First, const llvm::SCEV *Rem, unsigned U,
                       bool Signed)
      : SCEVRewriteVisitor(SE), First(First), Rem(Rem), U(U), Signed(Signed) {}

  const llvm::SCEV *visitSignExtendExpr(const llvm::SCEVSignExtendExpr *E) {
    if (const llvm::SCEV *Sum = Signed ? distributed(E->getOperand(), E->getType()) : nullptr)
      return Sum;
    return SCEVRewriteVisitor::visitSignExtendExpr(E);
  }

  const llvm::SCEV *visitZeroExtendExpr(const llvm::SCEVZeroExtendExpr *E) {
    if (const llvm::SCEV *Sum = Signed ? nullptr : distributed(E->getOperand(), E->getType()))
      return Sum;
    return SCEVRewriteVisitor::visitZeroExtendExpr(E);
  }

private:
  const llvm::SCEV *First, *Rem;
  unsigned U;
  bool Signed;

  const llvm::SCEV *distributed(const llvm::SCEV *Op, llvm::Type *Wide) {
    if (Op->getType() != First->getType())
      return nullptr;
    auto *C = llvm::dyn_cast<llvm::SCEVConstant>(SE.getMinusSCEV(Op, SE.getAddExpr(First, Rem)));
    if (!C || C->getAPInt().isNegative() || C->getAPInt().ugt(U))
      return nullptr;
    const llvm::SCEV *Ext = Signed ? SE.getSignExtendExpr(First, Wide) : SE.getZeroExtendExpr(First, Wide);
    const llvm::SCEV *Offset = SE.getConstant(C->getAPInt().zext(Wide->getIntegerBitWidth()));
    return SE.getAddExpr(SE.getAddExpr(Ext, SE.getZeroExtendExpr(Rem, Wide)), Offset);
  }
};

// Proves L2's body to be U copies of L1's body (see the file comment); collects the start-value differences that scalar
// evolution does not fold to zero (Merger::startsMatch decides them).
class BodyMatcher {
public:
  // T0: the index of L2's first iteration (L1's trip count; 0 in the epilogue layout, where L1's iteration i has the
  // index U * T2 + i and L1's start values are those Mid receives from G).
  BodyMatcher(const Region &R, llvm::ScalarEvolution &SE, unsigned U, const llvm::SCEV *T0)
      : R(R), SE(SE), DL(R.H1->getModule()->getDataLayout()), U(U), T0(T0) {
    if (R.Epilogue)
      for (llvm::PHINode &MidPhi : R.Mid->phis())
        if (SE.isSCEVable(MidPhi.getType()))
          AtStart[&MidPhi] = SE.getSCEV(MidPhi.getIncomingValueForBlock(R.G));
  }

  // The epilogue layout's count n and what L2 runs of it, Whole = U * (n / U) (Merger::epilogueFacts). L1 goes on
  // from Mid's phis as L2 leaves them, which must be where the merged loop is after Whole iterations; sums of a Mid
  // phi's start A and Whole are known not to wrap where A < A + n holds at G (signed or not, as the extension).
  void setEpilogue(const llvm::SCEV *TheWhole, const llvm::SCEV *Count) {
    Whole = TheWhole;
    for (llvm::PHINode &MidPhi : R.Mid->phis()) {
      if (!SE.isSCEVable(MidPhi.getType()))
        continue;
      // L2's value in its last iteration, Whole / U - 1 (what scalar evolution cannot simplify from its own count).
      const llvm::SCEV *End = SE.getSCEV(lastValue(MidPhi.getIncomingValueForBlock(R.E2), R.E2, R.H2));
      if (auto *AR = llvm::dyn_cast<llvm::SCEVAddRecExpr>(End); AR && AR->getLoop() == R.L2 && AR->isAffine()) {
        const llvm::SCEV *Iterations = SE.getUDivExpr(Whole, SE.getConstant(Whole->getType(), U));
        End = AR->evaluateAtIteration(
            SE.getTruncateOrZeroExtend(SE.getMinusSCEV(Iterations, SE.getOne(Iterations->getType())), AR->getType()),
            SE);
      }
      if (SE.isLoopInvariant(End, R.L2))
        AtEnd[&MidPhi] = End;
      const llvm::SCEV *A = AtStart[&MidPhi];
      if (!A->getType()->isIntegerTy() || A->getType() != Count->getType())
        continue;
      const llvm::SCEV *Last = SE.getAddExpr(A, Count);
      for (bool Signed : {true, false})
        if (SE.isKnownPredicateAt(Signed ? llvm::ICmpInst::ICMP_SLT : llvm::ICmpInst::ICMP_ULT, A, Last,
                                  R.G->getTerminator()))
          NoWrapFrom.push_back({A, Signed});
    }
  }

  // L1's carried values (header phis that are not affine), with L2's and the Mid phi between them.
  struct State {
    llvm::PHINode *Phi1, *Phi2, *MidPhi;
  };
  std::vector<State> States;
  // Differences that must be zero.
  std::vector<const llvm::SCEV *> Checks;

  bool run() {
    if (!pairStates())
      return false;
    for (const State &S : States)
      if (!same(S.Phi1->getIncomingValueForBlock(R.H1), S.Phi2->getIncomingValueForBlock(R.H2), U - 1))
        return false;
    return covered();
  }

private:
  const Region &R;
  llvm::ScalarEvolution &SE;
  const llvm::DataLayout &DL;
  unsigned U;
  const llvm::SCEV *T0;
  // Epilogue layout: Mid's phis as G leaves them, for what L1 computes from them, and as L2 leaves them.
  llvm::ValueToSCEVMapTy AtStart, AtEnd;
  const llvm::SCEV *Whole = nullptr;
  std::vector<std::pair<const llvm::SCEV *, bool>> NoWrapFrom;
  // Operations compared so far, bounded: retried commutative operations could otherwise take exponential time.
  unsigned Steps = 0;
  static constexpr unsigned MaxSteps = 20000;
  llvm::DenseMap<std::pair<llvm::Value *, unsigned>, llvm::Value *> Image;
  llvm::SmallPtrSet<llvm::Value *, 32> Images;

  const llvm::SCEVAddRecExpr *affineIn(llvm::Value *V, llvm::Loop *L) const {
    if (!SE.isSCEVable(V->getType()))
      return nullptr;
    auto *AR = llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(V));
    return AR && AR->getLoop() == L && AR->isAffine() ? AR : nullptr;
  }

  // Pairs each carried value of L1 with L2's, through Mid: L2's phi starts from a Mid phi that takes L1's start when
  // G skips L1 and L1's last value after it.
  bool pairStates() {
    if (R.Epilogue)
      return pairEpilogueStates();
    for (llvm::PHINode &Phi2 : R.H2->phis()) {
      if (affineIn(&Phi2, R.L2))
        continue;
      auto *MidPhi = llvm::dyn_cast<llvm::PHINode>(stripBitcasts(Phi2.getIncomingValueForBlock(R.P2)));
      if (!MidPhi || MidPhi->getParent() != R.Mid)
        return false;
      llvm::Value *Last = lastValue(MidPhi->getIncomingValueForBlock(R.E1), R.E1, R.H1);
      llvm::PHINode *Phi1 = nullptr;
      for (llvm::PHINode &Candidate : R.H1->phis())
        if (stripBitcasts(Candidate.getIncomingValueForBlock(R.H1)) == Last && !affineIn(&Candidate, R.L1))
          Phi1 = &Candidate;
      if (!Phi1 || !bitsEqualOutside(Phi1->getIncomingValueForBlock(R.P1), MidPhi->getIncomingValueForBlock(R.G)))
        return false;
      States.push_back({Phi1, &Phi2, MidPhi});
    }
    return everyStatePaired();
  }

  // The epilogue layout: L1's phi starts from a Mid phi that takes L2's start when G skips L2 and L2's last value
  // after it.
  bool pairEpilogueStates() {
    for (llvm::PHINode &Phi2 : R.H2->phis()) {
      if (affineIn(&Phi2, R.L2))
        continue;
      llvm::Value *Last2 = stripBitcasts(Phi2.getIncomingValueForBlock(R.H2));
      llvm::PHINode *MidPhi = nullptr;
      for (llvm::PHINode &Candidate : R.Mid->phis())
        if (lastValue(Candidate.getIncomingValueForBlock(R.E2), R.E2, R.H2) == Last2)
          MidPhi = &Candidate;
      if (!MidPhi || !bitsEqualOutside(Phi2.getIncomingValueForBlock(R.P2), MidPhi->getIncomingValueForBlock(R.G)))
        return false;
      llvm::PHINode *Phi1 = nullptr;
      for (llvm::PHINode &Candidate : R.H1->phis())
        if (stripBitcasts(Candidate.getIncomingValueForBlock(R.P1)) == MidPhi && !affineIn(&Candidate, R.L1))
          Phi1 = &Candidate;
      if (!Phi1)
        return false;
      States.push_back({Phi1, &Phi2, MidPhi});
    }
    return everyStatePaired();
  }

  // Every carried value of L1 has its counterpart.
  bool everyStatePaired() const {
    for (llvm::PHINode &Phi1 : R.H1->phis())
      if (!affineIn(&Phi1, R.L1) && llvm::none_of(States, [&](const State &S) { return S.Phi1 == &Phi1; }))
        return false;
    return !States.empty();
  }

  // L1's side of a comparison: in the epilogue layout, with Mid's phis as G leaves them.
  const llvm::SCEV *fromStart(const llvm::SCEV *S) {
    return AtStart.empty() ? S : llvm::SCEVParameterRewriter::rewrite(S, SE, AtStart);
  }

  // Epilogue layout: whether S (an L1 start or invariant, in terms of Mid's phis) is, with Mid's phis as L2 leaves
  // them, what it is as G leaves them plus Advance (Whole iterations' steps).
  bool endsWhereMergedIs(const llvm::SCEV *S, const llvm::SCEV *Advance) {
    const llvm::SCEV *End = llvm::SCEVParameterRewriter::rewrite(S, SE, AtEnd);
    const llvm::SCEV *Merged = SE.getAddExpr(fromStart(S), Advance);
    for (auto [A, Signed] : NoWrapFrom) {
      const llvm::SCEV *Rem = SE.getTruncateOrZeroExtend(Whole, A->getType());
      End = ExtensionDistributor(SE, A, Rem, 0, Signed).visit(End);
      Merged = ExtensionDistributor(SE, A, Rem, 0, Signed).visit(Merged);
    }
    return End == Merged;
  }

  // Values defined before the loops, the same bits. FromL1: A is on L1's side; in the epilogue layout it may be
  // computed from Mid's phis, and must hold B's bits as G leaves them and the same after L2 (it is invariant in the
  // merged loop).
  bool bitsEqualOutside(llvm::Value *A, llvm::Value *B, bool FromL1 = false) {
    A = stripBitcasts(A);
    B = stripBitcasts(B);
    bool AfterL2 = FromL1 && R.Epilogue;
    if (AfterL2 && SE.isSCEVable(A->getType())) {
      if (A->getType() != B->getType())
        return false;
      const llvm::SCEV *SA = SE.getSCEV(A);
      return fromStart(SA) == SE.getSCEV(B) && endsWhereMergedIs(SA, SE.getZero(SA->getType()));
    }
    if (auto *I = llvm::dyn_cast<llvm::Instruction>(A);
        AfterL2 && I && (I->getParent() == R.Mid || I->getParent() == R.P1))
      return false;
    if (A == B)
      return true;
    auto *CA = llvm::dyn_cast<llvm::Constant>(A), *CB = llvm::dyn_cast<llvm::Constant>(B);
    if (CA && CB)
      return constantBitsEqual(CA, CB, DL);
    if (A->getType() != B->getType() || !SE.isSCEVable(A->getType()))
      return false;
    return SE.getSCEV(A) == SE.getSCEV(B);
  }

  bool inH1(llvm::Value *V) const {
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    return I && I->getParent() == R.H1;
  }

  // Whether V2 (in L2's copy J) holds the bits V1 (in L1's body) holds in the matching iteration.
  bool same(llvm::Value *V1, llvm::Value *V2, unsigned J) {
    V1 = stripBitcasts(V1);
    V2 = stripBitcasts(V2);
    if (DL.getTypeSizeInBits(V1->getType()) != DL.getTypeSizeInBits(V2->getType()))
      return false;
    if (auto It = Image.find({V1, J}); It != Image.end())
      return It->second == V2;
    if (!inH1(V1)) {
      auto *I2 = llvm::dyn_cast<llvm::Instruction>(V2);
      return V1->getType() == V2->getType() && !(I2 && I2->getParent() == R.H2) &&
             bitsEqualOutside(V1, V2, /*FromL1=*/true);
    }
    if (auto *AR1 = affineIn(V1, R.L1))
      return sameAffine(AR1, V1, V2, J);
    if (auto *Phi1 = llvm::dyn_cast<llvm::PHINode>(V1)) {
      const State *S = nullptr;
      for (const State &Candidate : States)
        if (Candidate.Phi1 == Phi1)
          S = &Candidate;
      if (!S)
        return false;
      if (J == 0)
        return V2 == S->Phi2;
      return same(Phi1->getIncomingValueForBlock(R.H1), V2, J - 1);
    }
    auto *I1 = llvm::cast<llvm::Instruction>(V1);
    auto *I2 = llvm::dyn_cast<llvm::Instruction>(V2);
    if (!I2 || I2->getParent() != R.H2 || llvm::isa<llvm::PHINode>(I2) || Images.contains(I2) ||
        !I1->isSameOperationAs(I2))
      return false;
    if (++Steps > MaxSteps)
      return false;
    // A commutative operation may list its operands in the other order in a copy (InstCombine orders each copy's on
    // its own): then the matching is retried from what it had proven before.
    bool Commutes = I1->isCommutative() && I1->getNumOperands() >= 2;
    std::optional<std::tuple<decltype(Image), decltype(Images), decltype(Checks)>> Before;
    if (Commutes)
      Before.emplace(Image, Images, Checks);
    Image[{V1, J}] = V2;
    Images.insert(I2);
    if (sameOperands(I1, I2, J, /*Swapped=*/false))
      return true;
    if (!Commutes)
      return false;
    std::tie(Image, Images, Checks) = std::move(*Before);
    Image[{V1, J}] = V2;
    Images.insert(I2);
    return sameOperands(I1, I2, J, /*Swapped=*/true);
  }

  // Operand by operand; Swapped exchanges I2's first two.
  bool sameOperands(llvm::Instruction *I1, llvm::Instruction *I2, unsigned J, bool Swapped) {
    for (unsigned Op = 0; Op < I1->getNumOperands(); ++Op)
      if (!same(I1->getOperand(Op), I2->getOperand(Swapped && Op < 2 ? 1 - Op : Op), J))
        return false;
    return true;
  }

  // V2 = {S2,+,U*D}<L2> with S2 = S1 + (T0 + J) * D, for V1 = {S1,+,D}<L1>.
  bool sameAffine(const llvm::SCEVAddRecExpr *AR1, llvm::Value *V1, llvm::Value *V2, unsigned J) {
    llvm::SmallPtrSet<llvm::Value *, 8> Visiting;
    if (!exactAffine(V1, Visiting))
      return false;
    auto *AR2 = affineIn(V2, R.L2);
    if (!AR2 || AR2->getType() != AR1->getType())
      return false;
    const llvm::SCEV *Step = AR1->getStepRecurrence(SE);
    if (AR2->getStepRecurrence(SE) != SE.getMulExpr(Step, SE.getConstant(Step->getType(), U)))
      return false;
    const llvm::SCEV *Iterations =
        SE.getAddExpr(SE.getTruncateOrZeroExtend(T0, Step->getType()), SE.getConstant(Step->getType(), J));
    const llvm::SCEV *Expected = SE.getAddExpr(fromStart(AR1->getStart()), SE.getMulExpr(Iterations, Step));
    const llvm::SCEV *Difference = SE.getMinusSCEV(AR2->getStart(), Expected);
    if (R.Epilogue)
      return Difference->isZero() &&
             endsWhereMergedIs(AR1->getStart(),
                               SE.getMulExpr(SE.getTruncateOrZeroExtend(Whole, Step->getType()), Step));
    if (Difference->isZero())
      return true;
    if (llvm::isa<llvm::SCEVConstant>(Difference))
      return false;
    // Two differences that differ by a constant cannot both be zero (a copy that reads its neighbour's element).
    for (const llvm::SCEV *Other : Checks)
      if (Other != Difference && llvm::isa<llvm::SCEVConstant>(SE.getMinusSCEV(Other, Difference)))
        return false;
    if (!llvm::is_contained(Checks, Difference))
      Checks.push_back(Difference);
    return true;
  }

  // Whether V, affine in L1, is computed without extensions or truncations: then it is the start plus the iteration
  // times the step in modular arithmetic in every iteration, also those the merged loop adds. (Scalar evolution may
  // have used `nsw` flags that only L1's own iterations promise; the merged loop drops them.)
  bool exactAffine(llvm::Value *V, llvm::SmallPtrSetImpl<llvm::Value *> &Visiting) const {
    if (!inH1(V) || !Visiting.insert(V).second)
      return true;
    if (auto *Phi = llvm::dyn_cast<llvm::PHINode>(V))
      return exactAffine(Phi->getIncomingValueForBlock(R.H1), Visiting);
    auto *I = llvm::cast<llvm::Instruction>(V);
    switch (I->getOpcode()) {
    case llvm::Instruction::Add:
    case llvm::Instruction::Sub:
    case llvm::Instruction::Mul:
    case llvm::Instruction::Shl:
      break;
    case llvm::Instruction::GetElementPtr:
      if (llvm::any_of(llvm::drop_begin(I->operands()), [&](llvm::Value *Index) {
            return Index->getType()->getScalarSizeInBits() != DL.getIndexTypeSizeInBits(I->getType());
          }))
        return false;
      break;
    default:
      return false;
    }
    return llvm::all_of(I->operands(), [&](llvm::Value *Op) { return exactAffine(Op, Visiting); });
  }

  // Every load or trapping instruction of L1 has its copies in L2, and L2 has nothing else of the kind.
  bool covered() const {
    for (llvm::Instruction &I : *R.H1)
      if (!I.isTerminator() && !llvm::isa<llvm::PHINode>(I) && !harmlessExtra(I))
        for (unsigned J = 0; J < U; ++J)
          if (!Image.count({&I, J}))
            return false;
    for (llvm::Instruction &I : *R.H2)
      if (!I.isTerminator() && !llvm::isa<llvm::PHINode>(I) && !harmlessExtra(I) && !Images.contains(&I))
        return false;
    return true;
  }
};

// Values of the region's blocks may only be used inside them, or by X's phis on the edges from Mid and lastExit().
bool usesStayInside(const Region &R) {
  llvm::SmallPtrSet<llvm::BasicBlock *, 8> Inside{R.P1, R.H1, R.E1, R.Mid, R.P2, R.H2, R.E2};
  for (llvm::BasicBlock *BB : Inside)
    for (llvm::Instruction &I : *BB)
      for (llvm::Use &Use : I.uses()) {
        auto *User = llvm::cast<llvm::Instruction>(Use.getUser());
        if (Inside.contains(User->getParent()))
          continue;
        auto *Phi = llvm::dyn_cast<llvm::PHINode>(User);
        if (!Phi || Phi->getParent() != R.X)
          return false;
        llvm::BasicBlock *From = Phi->getIncomingBlock(Use);
        if (From != R.Mid && From != R.lastExit())
          return false;
      }
  return true;
}

// What one of X's phis receives from the merged loop: a value from before the region, or a carried value.
struct Output {
  llvm::PHINode *Phi;
  llvm::Value *Outside = nullptr;            // the same value on both edges
  const BodyMatcher::State *State = nullptr; // or the carried value's last bits
};

std::optional<std::vector<Output>> outputs(const Region &R, const BodyMatcher &M) {
  std::vector<Output> Result;
  for (llvm::PHINode &Phi : R.X->phis()) {
    llvm::Value *FromMid = Phi.getIncomingValueForBlock(R.Mid), *FromLast = Phi.getIncomingValueForBlock(R.lastExit());
    auto *MidInst = llvm::dyn_cast<llvm::Instruction>(FromMid);
    if (FromMid == FromLast &&
        !(MidInst && (MidInst->getParent() == R.Mid || MidInst->getParent() == R.E1 || MidInst->getParent() == R.E2))) {
      Result.push_back({&Phi, FromMid, nullptr});
      continue;
    }
    // The loop that runs last: L2, or L1 in the epilogue layout.
    llvm::BasicBlock *Latch = R.Epilogue ? R.H1 : R.H2;
    llvm::Value *Last = lastValue(FromLast, R.lastExit(), Latch);
    const BodyMatcher::State *Found = nullptr;
    for (const BodyMatcher::State &S : M.States) {
      llvm::PHINode *LastPhi = R.Epilogue ? S.Phi1 : S.Phi2;
      if (stripBitcasts(LastPhi->getIncomingValueForBlock(Latch)) == Last && stripBitcasts(FromMid) == S.MidPhi)
        Found = &S;
    }
    if (!Found)
      return std::nullopt;
    Result.push_back({&Phi, nullptr, Found});
  }
  return Result;
}

llvm::Value *castBits(llvm::IRBuilder<> &B, llvm::Value *V, llvm::Type *Ty) {
  return V->getType() == Ty ? V : B.CreateBitCast(V, Ty);
}

class Merger {
public:
  Merger(const Region &R, llvm::ScalarEvolution &SE) : R(R), SE(SE), DL(R.G->getModule()->getDataLayout()) {}

  bool run() {
    if (!usesStayInside(R))
      return false;
    const llvm::SCEV *Btc1 = SE.getBackedgeTakenCount(R.L1);
    if (llvm::isa<llvm::SCEVCouldNotCompute>(Btc1) || !SE.isSCEVable(R.Skip->getType()) ||
        SE.getAddExpr(Btc1, SE.getOne(Btc1->getType())) !=
            SE.getTruncateOrZeroExtend(SE.getSCEV(R.Skip), Btc1->getType()))
      return false;
    unsigned U = unrollFactor();
    if (U < 2 || !llvm::isPowerOf2_32(U))
      return false;
    const llvm::SCEV *T0 = SE.getSCEV(R.Skip);
    BodyMatcher M(R, SE, U, R.Epilogue ? SE.getZero(T0->getType()) : T0);
    const llvm::SCEV *Whole = nullptr, *Count = nullptr;
    if (R.Epilogue) {
      std::tie(Whole, Count) = epilogueFacts(U);
      if (!Count)
        return false;
      M.setEpilogue(Whole, Count);
    }
    if (!M.run())
      return false;
    auto Outs = outputs(R, M);
    if (!Outs)
      return false;
    if (!R.Epilogue)
      Count = prologueCount(M, U);
    llvm::Instruction *At = R.G->getTerminator();
    llvm::SCEVExpander Expander(SE, DL, "unroll.merge");
    if (!Count || !Expander.isSafeToExpandAt(Count, At))
      return false;
    bool MayBeEmpty = !SE.isKnownPredicateAt(llvm::ICmpInst::ICMP_NE, Count, SE.getZero(Count->getType()), At);
    llvm::IRBuilder<> B(At);
    build(*Outs, B.CreateZExt(Expander.expandCodeFor(Count, Count->getType(), At), B.getInt64Ty(), "merge.count"),
          MayBeEmpty);
    return true;
  }

private:
  const Region &R;
  llvm::ScalarEvolution &SE;
  const llvm::DataLayout &DL;
  std::optional<ExitTest> Exit2;

  // U: how many times L2's body holds L1's work (what is neither affine, nor a bitcast, nor the exit test). The
  // matching then proves it; L1 need not even have L2's counter (nvcc keeps a count-down there).
  unsigned unrollFactor() const {
    auto Work = [&](llvm::BasicBlock *BB, llvm::Loop *L) {
      llvm::Value *ExitCondition = llvm::cast<llvm::BranchInst>(BB->getTerminator())->getCondition();
      unsigned Count = 0;
      for (llvm::Instruction &I : *BB) {
        if (I.isTerminator() || &I == ExitCondition || llvm::isa<llvm::PHINode>(I) || llvm::isa<llvm::BitCastInst>(I))
          continue;
        auto *AR = SE.isSCEVable(I.getType()) ? llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(&I)) : nullptr;
        Count += !(AR && AR->getLoop() == L);
      }
      return Count;
    };
    unsigned C1 = Work(R.H1, R.L1), C2 = Work(R.H2, R.L2);
    if (C1 == 0 || C2 % C1 != 0)
      return 0;
    return C2 / C1;
  }

  // The prologue layout's count, e - s (see rowStart), or null.
  const llvm::SCEV *prologueCount(const BodyMatcher &M, unsigned U) {
    Exit2 = exitTest(R.H2, R.L2, SE);
    if (!Exit2)
      return nullptr;
    const llvm::SCEV *First = rowStart(U);
    if (!First)
      return nullptr;
    const llvm::SCEV *Count = SE.getMinusSCEV(Exit2->Bound, First);
    return entersUnrolledLoop(R.Mid, Count, U, /*MayBeZero=*/false) && startsMatch(M, First, U) ? Count : nullptr;
  }

  // The epilogue layout's count n and Whole = U * (n / U), or nulls. L2 counts down from Whole (`c -= U` until 0, so it
  // runs Whole / U times where G enters it, which it must do exactly for n >= U), and L1 runs n mod U times.
  std::pair<const llvm::SCEV *, const llvm::SCEV *> epilogueFacts(unsigned U) {
    const llvm::SCEV *Whole = countDownStart(U);
    const llvm::SCEV *Count = Whole ? roundedDownFrom(Whole, U) : nullptr;
    if (!Count)
      return {nullptr, nullptr};
    const llvm::SCEV *T0 = SE.getSCEV(R.Skip);
    llvm::Type *RemTy = llvm::IntegerType::get(Count->getType()->getContext(), llvm::Log2_32(U));
    if (T0->getType()->getIntegerBitWidth() < RemTy->getIntegerBitWidth() ||
        SE.getZeroExtendExpr(SE.getTruncateExpr(Count, RemTy), T0->getType()) != T0)
      return {nullptr, nullptr};
    bool MayBeZero =
        !SE.isKnownPredicateAt(llvm::ICmpInst::ICMP_NE, Count, SE.getZero(Count->getType()), R.G->getTerminator());
    if (!entersUnrolledLoop(R.G, Count, U, MayBeZero))
      return {nullptr, nullptr};
    return {Whole, Count};
  }

  // Where L2 ends on `c - U == 0` for c = {S,+,-U}: S.
  const llvm::SCEV *countDownStart(unsigned U) const {
    llvm::Value *Counter = zeroTest(R.H2, R.E2, R.H2);
    auto *Next = Counter && SE.isSCEVable(Counter->getType())
                     ? llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(Counter))
                     : nullptr;
    if (!Next || Next->getLoop() != R.L2 || !Next->isAffine())
      return nullptr;
    auto *Step = llvm::dyn_cast<llvm::SCEVConstant>(Next->getStepRecurrence(SE));
    if (!Step || Step->getAPInt() != -llvm::APInt(Step->getAPInt().getBitWidth(), U))
      return nullptr;
    return SE.getAddExpr(Next->getStart(), SE.getConstant(Next->getType(), U));
  }

  // n, where Whole is n rounded down to a multiple of U: U * (n /u U), or U * zext(trunc(n /u U)) with a truncation
  // that keeps every bit because n >= 0 where G runs (nvcc's `n & 0x7ffffffc` for a count it knows positive).
  const llvm::SCEV *roundedDownFrom(const llvm::SCEV *Whole, unsigned U) const {
    auto *Mul = llvm::dyn_cast<llvm::SCEVMulExpr>(Whole);
    if (!Mul || Mul->getNumOperands() != 2 || Mul->getOperand(0) != SE.getConstant(Whole->getType(), U))
      return nullptr;
    const llvm::SCEV *Quotient = Mul->getOperand(1);
    bool Truncated = false;
    if (auto *Ext = llvm::dyn_cast<llvm::SCEVZeroExtendExpr>(Quotient))
      if (auto *Trunc = llvm::dyn_cast<llvm::SCEVTruncateExpr>(Ext->getOperand())) {
        // n /u U < 2^(bits - 1 - log2 U) for n >= 0: a truncation to at least that many bits loses nothing.
        unsigned Bits = Whole->getType()->getIntegerBitWidth();
        if (Trunc->getType()->getIntegerBitWidth() + 1 + llvm::Log2_32(U) < Bits)
          return nullptr;
        Quotient = Trunc->getOperand();
        Truncated = true;
      }
    auto *Div = llvm::dyn_cast<llvm::SCEVUDivExpr>(Quotient);
    if (!Div || Div->getRHS() != SE.getConstant(Div->getType(), U) || Div->getType() != Whole->getType())
      return nullptr;
    const llvm::SCEV *N = Div->getLHS();
    if (Truncated &&
        !SE.isKnownPredicateAt(llvm::ICmpInst::ICMP_SGE, N, SE.getZero(N->getType()), R.G->getTerminator()))
      return nullptr;
    return N;
  }

  // s, the row's first index: L2's counter starts at s + T0 + U (it is compared after its step), T0 is
  // (Bound - s) mod U, and s < Bound holds where G runs. Null where scalar evolution does not show that shape.
  const llvm::SCEV *rowStart(unsigned U) const {
    const llvm::SCEVAddRecExpr *Counter = Exit2->Counter;
    llvm::Type *Ty = Counter->getType();
    if (llvm::cast<llvm::SCEVConstant>(Counter->getStepRecurrence(SE))->getAPInt() != U ||
        Exit2->Bound->getType() != Ty)
      return nullptr;
    const llvm::SCEV *T0 = SE.getSCEV(R.Skip);
    const llvm::SCEV *First =
        SE.getMinusSCEV(Counter->getStart(), SE.getAddExpr(SE.getTruncateOrZeroExtend(T0, Ty), SE.getConstant(Ty, U)));
    llvm::Type *RemTy = llvm::IntegerType::get(Ty->getContext(), llvm::Log2_32(U));
    if (SE.getZeroExtendExpr(SE.getTruncateExpr(SE.getMinusSCEV(Exit2->Bound, First), RemTy), T0->getType()) != T0)
      return nullptr;
    llvm::ICmpInst::Predicate Below = Exit2->Signed ? llvm::ICmpInst::ICMP_SLT : llvm::ICmpInst::ICMP_ULT;
    return SE.isKnownPredicateAt(Below, First, Exit2->Bound, R.G->getTerminator()) ? First : nullptr;
  }

  // Whether From's branch enters L2 exactly where the count D is at least U. Its condition compares D (or -D), plus a
  // constant, with a constant; of the counts possible (1 to 2^n - 1, or from 0 where MayBeZero), those that enter
  // must be the ones from U up.
  bool entersUnrolledLoop(llvm::BasicBlock *From, const llvm::SCEV *D, unsigned U, bool MayBeZero) const {
    auto *Br = llvm::cast<llvm::BranchInst>(From->getTerminator());
    auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition());
    if (!Cmp || !SE.isSCEVable(Cmp->getOperand(0)->getType()))
      return false;
    llvm::ICmpInst::Predicate Pred = Cmp->getPredicate();
    const llvm::SCEV *X = SE.getSCEV(Cmp->getOperand(0));
    auto *C = llvm::dyn_cast<llvm::SCEVConstant>(SE.getSCEV(Cmp->getOperand(1)));
    if (!C) {
      C = llvm::dyn_cast<llvm::SCEVConstant>(X);
      X = SE.getSCEV(Cmp->getOperand(1));
      Pred = llvm::ICmpInst::getSwappedPredicate(Pred);
    }
    if (!C || X->getType() != D->getType())
      return false;
    // The X for which the condition holds, then the D.
    llvm::ConstantRange Holds = llvm::ConstantRange::makeExactICmpRegion(Pred, C->getAPInt());
    unsigned Bits = D->getType()->getIntegerBitWidth();
    llvm::ConstantRange HoldsForD(Bits, /*isFullSet=*/true);
    if (auto *Plus = llvm::dyn_cast<llvm::SCEVConstant>(SE.getMinusSCEV(X, D))) {
      HoldsForD = Holds.subtract(Plus->getAPInt()); // X = D + c
    } else if (auto *Plus = llvm::dyn_cast<llvm::SCEVConstant>(SE.getAddExpr(X, D))) {
      // X = c - D: D = c - X runs over (c - upper, c - lower].
      const llvm::APInt &Cst = Plus->getAPInt();
      HoldsForD = Holds.isFullSet() || Holds.isEmptySet()
                      ? Holds
                      : llvm::ConstantRange(Cst - Holds.getUpper() + 1, Cst - Holds.getLower() + 1);
    } else {
      return false;
    }
    llvm::ConstantRange Enters = Br->getSuccessor(0) == R.P2 ? HoldsForD : HoldsForD.inverse();
    llvm::APInt UBits(Bits, U);
    return Enters.contains(llvm::ConstantRange(UBits, llvm::APInt::getZero(Bits))) &&
           Enters.inverse().contains(llvm::ConstantRange(llvm::APInt(Bits, MayBeZero ? 0 : 1), UBits));
  }

  // Whether the start differences the matcher left (an address from sext(s + T0) in L2 against sext(s) + T0 in L1)
  // are zero. Where L2 runs, T0 + U <= D, so s + T0 + c for 0 <= c <= U lies between s and Bound and its extension
  // (sign extension for a signed exit test, zero extension for an unsigned one) distributes over the sum.
  bool startsMatch(const BodyMatcher &M, const llvm::SCEV *First, unsigned U) const {
    const llvm::SCEV *Rem = SE.getTruncateOrZeroExtend(SE.getSCEV(R.Skip), First->getType());
    for (const llvm::SCEV *Check : M.Checks)
      if (!ExtensionDistributor(SE, First, Rem, U, Exit2->Signed).visit(Check)->isZero())
        return false;
    return true;
  }

  // Rewrites the uses of LM's stepped values (`p = phi [init, PM], [p + c, LM]`: nvcc's pointers and counters) as
  // init + Count * c, and deletes the steps left unused. The loop then keeps one induction variable and addresses its
  // arrays as base + index * size, the form of the source's `a[k]` that PoCL's loop has: strength reduction otherwise
  // keeps a pointer per array and a count-down besides, two more instructions per element (SpMV 10% slower in a C
  // model).
  static void indexByCount(llvm::BasicBlock *LM, llvm::BasicBlock *PM, llvm::PHINode *Count) {
    llvm::IRBuilder<> B(&*LM->getFirstInsertionPt());
    std::vector<llvm::PHINode *> Phis;
    for (llvm::PHINode &Phi : LM->phis())
      if (&Phi != Count && Phi.getType()->isIntegerTy())
        Phis.push_back(&Phi);
    for (llvm::PHINode *Phi : Phis) {
      auto *Step = llvm::dyn_cast<llvm::BinaryOperator>(Phi->getIncomingValueForBlock(LM));
      auto *C = Step && Step->getOpcode() == llvm::Instruction::Add && Step->getOperand(0) == Phi
                    ? llvm::dyn_cast<llvm::ConstantInt>(Step->getOperand(1))
                    : nullptr;
      if (!C)
        continue;
      llvm::Value *Index = B.CreateZExtOrTrunc(Count, Phi->getType());
      llvm::Value *Stepped = B.CreateAdd(Phi->getIncomingValueForBlock(PM), B.CreateMul(Index, C), Phi->getName());
      Phi->replaceUsesWithIf(Stepped, [&](llvm::Use &U) { return U.getUser() != Step; });
    }
    // The remainder loop's exit test (not cloned as a branch) and what only it used, then the unused steps.
    llvm::SmallVector<llvm::WeakTrackingVH, 8> Dead;
    for (llvm::Instruction &I : *LM)
      if (llvm::isInstructionTriviallyDead(&I))
        Dead.push_back(&I);
    llvm::RecursivelyDeleteTriviallyDeadInstructions(Dead);
    for (llvm::PHINode *Phi : Phis)
      if (Phi->hasOneUse() && llvm::isa<llvm::BinaryOperator>(*Phi->user_begin()) && Phi->user_begin()->hasOneUse() &&
          *Phi->user_begin()->user_begin() == Phi) {
        auto *Step = llvm::cast<llvm::Instruction>(*Phi->user_begin());
        Phi->replaceAllUsesWith(llvm::PoisonValue::get(Phi->getType()));
        Step->eraseFromParent();
        Phi->eraseFromParent();
      }
  }

  // G: `br PM`; PM: P1's instructions; LM: L1's body, counted to N; EM: the carried values for X. The region's
  // blocks are left unreachable and removed.
  void build(const std::vector<Output> &Outs, llvm::Value *N, bool MayBeEmpty) {
    llvm::LLVMContext &Ctx = R.G->getContext();
    llvm::Function *F = R.G->getParent();
    auto *PM = llvm::BasicBlock::Create(Ctx, R.H1->getName() + ".merge.ph", F, R.P1);
    auto *LM = llvm::BasicBlock::Create(Ctx, R.H1->getName() + MergedLoopSuffix, F, R.P1);
    auto *EM = llvm::BasicBlock::Create(Ctx, R.H1->getName() + ".merge.exit", F, R.P1);
    // In the epilogue layout L1 starts from Mid's phis; the merged loop starts from what G gives them.
    llvm::ValueToValueMapTy VM;
    if (R.Epilogue)
      for (llvm::PHINode &MidPhi : R.Mid->phis())
        VM[&MidPhi] = MidPhi.getIncomingValueForBlock(R.G);
    // Where the count may be 0, X receives the values the region starts from.
    llvm::IRBuilder<> B(R.G->getTerminator());
    if (MayBeEmpty) {
      for (const Output &Out : Outs)
        Out.Phi->addIncoming(Out.Outside
                                 ? Out.Outside
                                 : castBits(B, Out.State->MidPhi->getIncomingValueForBlock(R.G), Out.Phi->getType()),
                             R.G);
      B.CreateCondBr(B.CreateICmpEQ(N, B.getInt64(0)), R.X, PM);
    } else {
      B.CreateBr(PM);
    }
    R.G->getTerminator()->eraseFromParent();

    B.SetInsertPoint(PM);
    for (llvm::Instruction &I : R.P1->instructionsWithoutDebug())
      if (!I.isTerminator()) {
        llvm::Instruction *Clone = B.Insert(I.clone());
        llvm::RemapInstruction(Clone, VM, llvm::RF_IgnoreMissingLocals | llvm::RF_NoModuleLevelChanges);
        VM[&I] = Clone;
      }
    B.CreateBr(LM);
    B.SetInsertPoint(LM);
    std::vector<llvm::Instruction *> Cloned;
    for (llvm::Instruction &I : R.H1->instructionsWithoutDebug()) {
      if (I.isTerminator())
        continue;
      llvm::Instruction *Clone = I.clone();
      // Iterations past the remainder loop's own must not assume its flags (an `add nsw` of its count-down).
      Clone->dropPoisonGeneratingFlags();
      Clone->dropPoisonGeneratingMetadata();
      Clone->setName(I.getName());
      B.Insert(Clone);
      VM[&I] = Clone;
      Cloned.push_back(Clone);
    }
    for (llvm::Instruction *Clone : Cloned) {
      llvm::RemapInstruction(Clone, VM, llvm::RF_IgnoreMissingLocals | llvm::RF_NoModuleLevelChanges);
      if (auto *Phi = llvm::dyn_cast<llvm::PHINode>(Clone)) {
        Phi->replaceIncomingBlockWith(R.P1, PM);
        Phi->replaceIncomingBlockWith(R.H1, LM);
      }
    }
    llvm::PHINode *Count = B.CreatePHI(B.getInt64Ty(), 2, "merge.count");
    Count->moveBefore(&*LM->getFirstNonPHIIt());
    llvm::Value *Next = B.CreateAdd(Count, B.getInt64(1), "merge.count.next");
    Count->addIncoming(B.getInt64(0), PM);
    Count->addIncoming(Next, LM);
    llvm::BranchInst *Latch = B.CreateCondBr(B.CreateICmpNE(Next, N), LM, EM);
    indexByCount(LM, PM, Count);
    // LLVM's own runtime unrolling would bring back the two exits this loop replaces.
    llvm::MDNode *NoRuntimeUnroll =
        llvm::MDNode::get(Ctx, llvm::MDString::get(Ctx, "llvm.loop.unroll.runtime.disable"));
    llvm::MDNode *LoopId = llvm::MDNode::getDistinct(Ctx, {nullptr, NoRuntimeUnroll});
    LoopId->replaceOperandWith(0, LoopId);
    Latch->setMetadata(llvm::LLVMContext::MD_loop, LoopId);

    B.SetInsertPoint(EM);
    for (const Output &Out : Outs) {
      if (Out.Outside) {
        Out.Phi->addIncoming(Out.Outside, EM);
        continue;
      }
      llvm::Value *Last = VM[Out.State->Phi1->getIncomingValueForBlock(R.H1)];
      llvm::PHINode *Lcssa = B.CreatePHI(Last->getType(), 1, "merge.last");
      Lcssa->addIncoming(Last, LM);
      Out.Phi->addIncoming(castBits(B, Lcssa, Out.Phi->getType()), EM);
    }
    B.CreateBr(R.X);
    llvm::EliminateUnreachableBlocks(*F);
  }
};

} // namespace

llvm::PreservedAnalyses RuntimeUnrollMergePass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  bool Changed = false;
  llvm::SmallPtrSet<llvm::BasicBlock *, 4> Done;
  // One region per round: the analyses are recomputed after each change. A region left alone is remembered.
  for (bool Again = true; Again;) {
    Again = false;
    auto &LI = FAM.getResult<llvm::LoopAnalysis>(F);
    auto &SE = FAM.getResult<llvm::ScalarEvolutionAnalysis>(F);
    for (llvm::Loop *L : LI.getLoopsInPreorder()) {
      if (Done.contains(L->getHeader()))
        continue;
      auto R = findRegion(L, LI);
      if (!R)
        continue;
      Done.insert(L->getHeader());
      if (Merger(*R, SE).run()) {
        Changed = Again = true;
        FAM.invalidate(F, llvm::PreservedAnalyses::none());
        break;
      }
    }
  }
  return Changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

} // namespace cushim::ptx
