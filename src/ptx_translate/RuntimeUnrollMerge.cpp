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
// Anything scalar evolution does not show leaves the region as it is; nothing is checked at run time, so the merged
// loop costs no more instructions per row than the source's own loop.
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
#include <llvm/Support/raw_ostream.h>
#include <optional>
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
  // G's branch condition is `Skip == 0` on the edge to Mid.
  llvm::Value *Skip = nullptr;
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

std::optional<Region> findRegion(llvm::Loop *L2, llvm::LoopInfo &LI) {
  Region R;
  R.L2 = L2;
  R.H2 = singleBlock(L2);
  if (!R.H2)
    return std::nullopt;
  R.P2 = L2->getLoopPreheader();
  R.E2 = L2->getExitBlock();
  if (!R.P2 || !R.E2 || R.E2->getSinglePredecessor() != R.H2)
    return std::nullopt;
  R.Mid = R.P2->getSinglePredecessor();
  auto *E2Br = llvm::dyn_cast<llvm::BranchInst>(R.E2->getTerminator());
  if (!R.Mid || !E2Br || E2Br->isConditional())
    return std::nullopt;
  R.X = E2Br->getSuccessor(0);
  auto *MidBr = llvm::dyn_cast<llvm::BranchInst>(R.Mid->getTerminator());
  if (!MidBr || !MidBr->isConditional() || R.X == R.P2 ||
      !((MidBr->getSuccessor(0) == R.P2 && MidBr->getSuccessor(1) == R.X) ||
        (MidBr->getSuccessor(1) == R.P2 && MidBr->getSuccessor(0) == R.X)))
    return std::nullopt;
  // L2's exit block: its values for X, as they are or reinterpreted (a float sum carried as i32 bits).
  if (!llvm::all_of(R.E2->instructionsWithoutDebug(), [](llvm::Instruction &I) {
        return llvm::isa<llvm::PHINode>(I) || llvm::isa<llvm::BitCastInst>(I) || I.isTerminator();
      }))
    return std::nullopt;

  // Mid's predecessors: G, and the exit block of the remainder loop.
  if (!llvm::hasNItems(llvm::predecessors(R.Mid), 2))
    return std::nullopt;
  for (llvm::BasicBlock *Pred : llvm::predecessors(R.Mid)) {
    llvm::BasicBlock *Latch = Pred->getSinglePredecessor();
    llvm::Loop *L = Latch ? LI.getLoopFor(Latch) : nullptr;
    if (L && L != L2 && singleBlock(L) == Latch && L->getExitBlock() == Pred && Pred->getSingleSuccessor() == R.Mid) {
      R.L1 = L;
      R.E1 = Pred;
      R.H1 = Latch;
    } else {
      R.G = Pred;
    }
  }
  if (!R.L1 || !R.G || R.G == R.E1)
    return std::nullopt;
  R.P1 = R.L1->getLoopPreheader();
  if (!R.P1 || R.P1->getSinglePredecessor() != R.G || R.P1->getSingleSuccessor() != R.H1 ||
      llvm::isa<llvm::PHINode>(R.P1->front()))
    return std::nullopt;
  if (!llvm::all_of(R.P1->instructionsWithoutDebug(),
                    [](llvm::Instruction &I) { return I.isTerminator() || harmlessExtra(I); }))
    return std::nullopt;

  // G: `br (Skip == 0), Mid, P1` (or its inverse).
  auto *GBr = llvm::dyn_cast<llvm::BranchInst>(R.G->getTerminator());
  auto *Cmp = GBr && GBr->isConditional() ? llvm::dyn_cast<llvm::ICmpInst>(GBr->getCondition()) : nullptr;
  auto *Zero = Cmp ? llvm::dyn_cast<llvm::ConstantInt>(Cmp->getOperand(1)) : nullptr;
  if (!Zero || !Zero->isZero() || !Cmp->isEquality())
    return std::nullopt;
  unsigned SkipEdge = Cmp->getPredicate() == llvm::ICmpInst::ICMP_EQ ? 0 : 1;
  if (GBr->getSuccessor(SkipEdge) != R.Mid || GBr->getSuccessor(1 - SkipEdge) != R.P1)
    return std::nullopt;
  R.Skip = Cmp->getOperand(0);
  if (!readOnlyBody(*R.H1) || !readOnlyBody(*R.H2))
    return std::nullopt;
  return R;
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
  BodyMatcher(const Region &R, llvm::ScalarEvolution &SE, unsigned U, const llvm::SCEV *T0)
      : R(R), SE(SE), DL(R.H1->getModule()->getDataLayout()), U(U), T0(T0) {}

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

  const State *stateOfPhi2(llvm::Value *V) const {
    for (const State &S : States)
      if (S.Phi2 == V)
        return &S;
    return nullptr;
  }

private:
  const Region &R;
  llvm::ScalarEvolution &SE;
  const llvm::DataLayout &DL;
  unsigned U;
  const llvm::SCEV *T0;
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
    for (llvm::PHINode &Phi2 : R.H2->phis()) {
      if (affineIn(&Phi2, R.L2))
        continue;
      auto *MidPhi = llvm::dyn_cast<llvm::PHINode>(stripBitcasts(Phi2.getIncomingValueForBlock(R.P2)));
      if (!MidPhi || MidPhi->getParent() != R.Mid)
        return false;
      llvm::Value *Last = stripBitcasts(MidPhi->getIncomingValueForBlock(R.E1));
      if (auto *Lcssa = llvm::dyn_cast<llvm::PHINode>(Last); Lcssa && Lcssa->getParent() == R.E1)
        Last = stripBitcasts(Lcssa->getIncomingValueForBlock(R.H1));
      llvm::PHINode *Phi1 = nullptr;
      for (llvm::PHINode &Candidate : R.H1->phis())
        if (stripBitcasts(Candidate.getIncomingValueForBlock(R.H1)) == Last && !affineIn(&Candidate, R.L1))
          Phi1 = &Candidate;
      if (!Phi1 || !bitsEqualOutside(Phi1->getIncomingValueForBlock(R.P1), MidPhi->getIncomingValueForBlock(R.G)))
        return false;
      States.push_back({Phi1, &Phi2, MidPhi});
    }
    // Every carried value of L1 has its counterpart.
    for (llvm::PHINode &Phi1 : R.H1->phis())
      if (!affineIn(&Phi1, R.L1) && llvm::none_of(States, [&](const State &S) { return S.Phi1 == &Phi1; }))
        return false;
    return !States.empty();
  }

  // Values defined before the loops, the same bits.
  bool bitsEqualOutside(llvm::Value *A, llvm::Value *B) const {
    A = stripBitcasts(A);
    B = stripBitcasts(B);
    if (A == B)
      return true;
    auto *CA = llvm::dyn_cast<llvm::Constant>(A), *CB = llvm::dyn_cast<llvm::Constant>(B);
    if (CA && CB)
      return constantBitsEqual(CA, CB, DL);
    return A->getType() == B->getType() && SE.isSCEVable(A->getType()) && SE.getSCEV(A) == SE.getSCEV(B);
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
      return V1->getType() == V2->getType() && !(I2 && I2->getParent() == R.H2) && bitsEqualOutside(V1, V2);
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
    Image[{V1, J}] = V2;
    Images.insert(I2);
    for (unsigned Op = 0; Op < I1->getNumOperands(); ++Op)
      if (!same(I1->getOperand(Op), I2->getOperand(Op), J))
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
    const llvm::SCEV *Expected = SE.getAddExpr(AR1->getStart(), SE.getMulExpr(Iterations, Step));
    const llvm::SCEV *Difference = SE.getMinusSCEV(AR2->getStart(), Expected);
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

// Values of the region's blocks may only be used inside them, or by X's phis on the edges from Mid and E2.
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
        if (From != R.Mid && From != R.E2)
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
    llvm::Value *FromMid = Phi.getIncomingValueForBlock(R.Mid), *FromE2 = Phi.getIncomingValueForBlock(R.E2);
    auto *MidInst = llvm::dyn_cast<llvm::Instruction>(FromMid);
    if (FromMid == FromE2 && !(MidInst && (MidInst->getParent() == R.Mid || MidInst->getParent() == R.E1))) {
      Result.push_back({&Phi, FromMid, nullptr});
      continue;
    }
    llvm::Value *Last = stripBitcasts(FromE2);
    if (auto *Lcssa = llvm::dyn_cast<llvm::PHINode>(Last); Lcssa && Lcssa->getParent() == R.E2)
      Last = stripBitcasts(Lcssa->getIncomingValueForBlock(R.H2));
    const BodyMatcher::State *Found = nullptr;
    for (const BodyMatcher::State &S : M.States)
      if (stripBitcasts(S.Phi2->getIncomingValueForBlock(R.H2)) == Last && stripBitcasts(FromMid) == S.MidPhi)
        Found = &S;
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
    Exit2 = exitTest(R.H2, R.L2, SE);
    if (!Exit2)
      return false;
    unsigned U = unrollFactor();
    if (U < 2 || !llvm::isPowerOf2_32(U))
      return false;
    BodyMatcher M(R, SE, U, SE.getSCEV(R.Skip));
    if (!M.run())
      return false;
    auto Outs = outputs(R, M);
    if (!Outs)
      return false;
    const llvm::SCEV *First = rowStart(U);
    if (!First || !entersUnrolledLoop(First, U) || !startsMatch(M, First, U))
      return false;
    llvm::Instruction *At = R.G->getTerminator();
    llvm::SCEVExpander Expander(SE, DL, "unroll.merge");
    const llvm::SCEV *Count = SE.getMinusSCEV(Exit2->Bound, First);
    if (!Expander.isSafeToExpandAt(Count, At))
      return false;
    llvm::IRBuilder<> B(At);
    build(*Outs, B.CreateZExt(Expander.expandCodeFor(Count, Count->getType(), At), B.getInt64Ty(), "merge.count"));
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

  // Whether Mid enters L2 exactly for the rows of at least U elements. Its condition compares D = Bound - s (or -D),
  // plus a constant, with a constant; of the D that s < Bound allows (1 to 2^n - 1), those that enter must be the
  // ones from U up.
  bool entersUnrolledLoop(const llvm::SCEV *First, unsigned U) const {
    auto *Br = llvm::cast<llvm::BranchInst>(R.Mid->getTerminator());
    auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition());
    if (!Cmp || !SE.isSCEVable(Cmp->getOperand(0)->getType()))
      return false;
    const llvm::SCEV *D = SE.getMinusSCEV(Exit2->Bound, First);
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
           Enters.inverse().contains(llvm::ConstantRange(llvm::APInt(Bits, 1), UBits));
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
  void build(const std::vector<Output> &Outs, llvm::Value *N) {
    llvm::LLVMContext &Ctx = R.G->getContext();
    llvm::Function *F = R.G->getParent();
    auto *PM = llvm::BasicBlock::Create(Ctx, R.H1->getName() + ".merge.ph", F, R.P1);
    auto *LM = llvm::BasicBlock::Create(Ctx, R.H1->getName() + MergedLoopSuffix, F, R.P1);
    auto *EM = llvm::BasicBlock::Create(Ctx, R.H1->getName() + ".merge.exit", F, R.P1);
    R.G->getTerminator()->eraseFromParent();
    llvm::BranchInst::Create(PM, R.G);
    llvm::IRBuilder<> B(PM);

    llvm::ValueToValueMapTy VM;
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
