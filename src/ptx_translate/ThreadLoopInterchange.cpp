// A block entry (FlatEntry.cpp, RegionEntry.cpp) runs a block's threads as a loop over tid.x around the kernel's
// code. When that code holds a loop of its own (n-body's loop over a tile of bodies), the thread loop is not
// innermost, so the vectoriser leaves it alone and every thread runs its inner loop as scalar code. When every
// thread takes the same path through the thread loop's body (each branch's condition is the same for all threads),
// this pass runs the body block by block instead: each basic block becomes its own loop over the threads, and the
// body's control flow, inner loops included, runs once. The inner loop then has a thread loop inside, which the
// vectoriser turns into SIMD code across threads (consecutive threads' values sit in consecutive array slots).
//
// Values that pass from one block to another per thread (inner loops' accumulators, loaded operands) move to
// per-thread arrays on the stack; cheap ones (addresses computed from the thread index) are recomputed in each
// block instead, so that the vectoriser still sees consecutive addresses. Each thread runs the same instructions in
// the same order, so results are bit for bit the same; only the interleaving of different threads changes, which
// nothing may observe without synchronisation (a GPU runs whole warps instruction by instruction, too). Thread
// loops are taken only when it should pay off: an inner loop does per-thread work, and every memory access of the
// body is the same for all threads or at consecutive addresses for consecutive threads (else each block's loop
// would gather).
#include "ptx_translate/ThreadLoopInterchange.h"

#include "ptx_translate/FlatEntry.h"
#include "ptx_translate/RegionEntry.h"
#include "ptx_translate/ThreadLoopPasses.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/ScalarEvolutionExpander.h>

#include <map>
#include <optional>
#include <set>
#include <vector>

namespace cushim::ptx {

namespace {

// A thread loop runs blockDim.x <= 1024 threads: the per-thread arrays have that many slots.
constexpr uint64_t MaxThreads = 1024;
// The arrays live in the entry's stack frame.
constexpr uint64_t MaxArrayBytes = 256 * 1024;
constexpr unsigned MaxBodyInstructions = 2000;
constexpr unsigned MaxRecomputeDepth = 8;

class ThreadLoopInterchange {
public:
  ThreadLoopInterchange(llvm::Loop &T, llvm::ScalarEvolution &SE, const llvm::DataLayout &DL)
      : T(T), SE(SE), DL(DL) {}

  // Whether the thread loop has the shape this pass needs and is worth running block by block.
  bool analyse() {
    std::optional<ThreadLoopShape> Shape = threadLoopShape(T, SE);
    if (T.isInnermost() || !Shape)
      return false;
    Preheader = Shape->Preheader;
    Latch = Shape->Latch;
    Exit = Shape->Exit;
    Index = Shape->Index;
    Threads = Shape->threads(SE);
    if (touchesStackMemory(*Shape->Header->getParent()))
      return false;
    unsigned Count = 0;
    for (llvm::BasicBlock *BB : T.blocks())
      for (llvm::Instruction &I : *BB)
        if (++Count > MaxBodyInstructions || !allowed(I))
          return false;
    if (!keepsValuesInside(T))
      return false; // a value leaving the thread loop (the last thread's)
    findUniform();
    for (llvm::BasicBlock *BB : T.blocks()) {
      auto *Branch = llvm::cast<llvm::BranchInst>(BB->getTerminator());
      if (BB != Latch && Branch->isConditional() && !isUniform(Branch->getCondition()))
        return false; // threads may part ways
    }
    return worthIt() && arrayBytes() <= MaxArrayBytes;
  }

  void apply(llvm::Function &F) {
    llvm::Type *IndexTy = Index->getType();
    llvm::SCEVExpander Expander(SE, DL, "threads");
    ThreadCount = Expander.expandCodeFor(Threads, IndexTy, Preheader->getTerminator());
    if (SE.getUnsignedRangeMax(Threads).ugt(MaxThreads))
      checkThreadCount();
    std::vector<llvm::BasicBlock *> Blocks(T.block_begin(), T.block_end());

    // The body now runs once: the latch leaves, and the index becomes each block's own loop counter.
    llvm::Instruction *OldLatchBranch = Latch->getTerminator();
    llvm::BranchInst::Create(Exit, OldLatchBranch->getIterator());
    OldLatchBranch->eraseFromParent();
    Index->removeIncomingValue(Latch, /*DeletePHIIfEmpty=*/false);

    for (llvm::Loop *Inner : T.getLoopsInPreorder())
      if (Inner != &T)
        rewriteSteppedInductions(*Inner);
    Blocks.assign(T.block_begin(), T.block_end());
    std::vector<llvm::PHINode *> PerThreadPhis;
    std::vector<llvm::Instruction *> PerThread;
    for (llvm::BasicBlock *BB : Blocks)
      for (llvm::Instruction &I : *BB) {
        if (&I == Index || I.isTerminator() || Uniform.count(&I))
          continue;
        if (auto *Phi = llvm::dyn_cast<llvm::PHINode>(&I))
          PerThreadPhis.push_back(Phi);
        else
          PerThread.push_back(&I);
      }
    for (llvm::Instruction *I : PerThread)
      if (recomputable(I, 0))
        recomputeInUsers(I);
    llvm::BasicBlock::iterator AllocaPoint = F.getEntryBlock().getFirstInsertionPt();
    std::vector<llvm::AllocaInst *> Slots;
    for (llvm::PHINode *Phi : PerThreadPhis)
      Slots.push_back(llvm::DemotePHIToStack(Phi, AllocaPoint));
    // Every per-thread value is now an instruction; those used in another block (the phis' reloads included: a
    // reload before each use could see a later iteration's store) get their own slot.
    PerThread.clear();
    for (llvm::BasicBlock *BB : Blocks)
      for (llvm::Instruction &I : *BB)
        if (&I != Index && !I.isTerminator() && !Uniform.count(&I) && usedInOtherBlock(I))
          PerThread.push_back(&I);
    for (llvm::Instruction *I : PerThread)
      Slots.push_back(llvm::DemoteRegToStack(*I, false, AllocaPoint));
    // Each slot becomes an array with one element per thread. The frame grows by up to MaxArrayBytes: probe it, so
    // that a thread short of stack hits its guard page instead of skipping over it.
    if (!Slots.empty())
      F.addFnAttr("probe-stack", "inline-asm");
    std::map<llvm::Value *, llvm::AllocaInst *> Arrays;
    for (llvm::AllocaInst *Slot : Slots) {
      if (!Slot)
        continue;
      auto *Array = new llvm::AllocaInst(llvm::ArrayType::get(Slot->getAllocatedType(), MaxThreads),
                                         DL.getAllocaAddrSpace(), nullptr, Slot->getAlign(),
                                         Slot->getName() + ".threads", AllocaPoint);
      Arrays[Slot] = Array;
    }

    for (llvm::BasicBlock *BB : Blocks)
      loopOverThreads(*BB, Arrays);
    Index->eraseFromParent();
    for (auto &[Slot, Array] : Arrays)
      llvm::cast<llvm::AllocaInst>(Slot)->eraseFromParent();
  }

private:
  // An inner loop's per-thread variable stepped by a uniform amount, P = phi [P0, before], [P + S, latch] (nvcc's
  // pointer to the next element of a matrix column, `B + 4 * (k * n + col)` advanced by 4 * n), becomes P0 + K * S
  // over a counter K the same in every thread: a slot per thread for P would make its loads gathers (a naive SGEMM
  // ran 3.7x OpenMP's time), where P0 is computed again from the thread index in each block. Same bits: the steps
  // wrap as K * S does.
  void rewriteSteppedInductions(llvm::Loop &Inner) {
    llvm::BasicBlock *Before = Inner.getLoopPreheader(), *Back = Inner.getLoopLatch(), *Header = Inner.getHeader();
    if (!Before || !Back)
      return;
    for (llvm::PHINode &P : llvm::make_early_inc_range(Header->phis())) {
      if (P.getNumIncomingValues() != 2 || Uniform.count(&P) || !P.getType()->isIntegerTy())
        continue;
      // The latch's value: P plus uniform steps, one add at a time (nvcc's 4-way unrolled loops step 4 times).
      std::vector<llvm::Value *> Steps;
      llvm::Value *At = P.getIncomingValueForBlock(Back);
      while (At != &P && Steps.size() <= 16) {
        auto *Add = llvm::dyn_cast<llvm::BinaryOperator>(At);
        if (!Add || Add->getOpcode() != llvm::Instruction::Add || !Inner.contains(Add))
          break;
        auto steps = [&](llvm::Value *V) { return isUniform(V) && Inner.isLoopInvariant(V); };
        unsigned Chain = steps(Add->getOperand(1)) ? 0 : steps(Add->getOperand(0)) ? 1 : 2;
        if (Chain == 2)
          break;
        Steps.push_back(Add->getOperand(1 - Chain));
        At = Add->getOperand(Chain);
      }
      if (At != &P || Steps.empty())
        continue;
      llvm::IRBuilder<> Pre(Before->getTerminator());
      llvm::Value *Stride = Steps.front();
      for (size_t I = 1; I < Steps.size(); ++I)
        if (auto *Sum = llvm::dyn_cast<llvm::Instruction>(Stride = Pre.CreateAdd(Stride, Steps[I])))
          Uniform.insert(Sum);
      llvm::IRBuilder<> B(Header, Header->begin());
      llvm::PHINode *K = B.CreatePHI(P.getType(), 2, P.getName() + ".k");
      llvm::IRBuilder<> AtLatch(Back->getTerminator());
      auto *KNext = llvm::cast<llvm::Instruction>(AtLatch.CreateAdd(K, llvm::ConstantInt::get(P.getType(), 1)));
      K->addIncoming(llvm::ConstantInt::get(P.getType(), 0), Before);
      K->addIncoming(KNext, Back);
      B.SetInsertPoint(Header->getFirstNonPHI());
      auto *Offset = llvm::cast<llvm::Instruction>(B.CreateMul(K, Stride));
      llvm::Value *Value = B.CreateAdd(P.getIncomingValueForBlock(Before), Offset, P.getName());
      Uniform.insert(K);
      Uniform.insert(KNext);
      Uniform.insert(Offset);
      llvm::Value *Latched = P.getIncomingValueForBlock(Back);
      P.replaceAllUsesWith(Value);
      P.eraseFromParent();
      llvm::RecursivelyDeleteTriviallyDeadInstructions(Latched);
    }
  }

  // The launch checks blockDim.x <= 1024, so the arrays are large enough; should a thread loop ever run more
  // threads, it traps rather than write past them.
  void checkThreadCount() {
    llvm::Instruction *At = Preheader->getTerminator();
    llvm::IRBuilder<> B(At);
    llvm::Value *TooMany = B.CreateICmpUGT(ThreadCount, llvm::ConstantInt::get(ThreadCount->getType(), MaxThreads));
    llvm::Instruction *Then = llvm::SplitBlockAndInsertIfThen(TooMany, At, /*Unreachable=*/true);
    B.SetInsertPoint(Then);
    B.CreateIntrinsic(llvm::Intrinsic::trap, {}, {});
  }

  // Whether an address of the entry's stack (a thread's local memory, its private context) may be used in the
  // thread loop: each thread has it to itself, block by block all threads would share it. Follows every use of
  // each alloca (through integer casts and arithmetic); an address stored to memory counts as used anywhere.
  bool touchesStackMemory(llvm::Function &F) const {
    std::vector<const llvm::Value *> Work;
    std::set<const llvm::Value *> Seen;
    for (llvm::Instruction &I : F.getEntryBlock())
      if (llvm::isa<llvm::AllocaInst>(I))
        Work.push_back(&I);
    for (llvm::BasicBlock &BB : F)
      for (llvm::Instruction &I : BB)
        if (llvm::isa<llvm::AllocaInst>(I) && &BB != &F.getEntryBlock())
          return true; // a dynamic alloca: not followed
    while (!Work.empty()) {
      const llvm::Value *V = Work.back();
      Work.pop_back();
      for (const llvm::User *U : V->users()) {
        auto *I = llvm::dyn_cast<llvm::Instruction>(U);
        if (!I || T.contains(I))
          return true;
        if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(I); Store && Store->getValueOperand() == V)
          return true;
        if (!I->getType()->isVoidTy() && Seen.insert(I).second)
          Work.push_back(I);
      }
    }
    return false;
  }

  // Instructions the body may hold: plain loads and stores, arithmetic, calls of intrinsics that touch no memory,
  // branches.
  bool allowed(llvm::Instruction &I) const {
    if (llvm::isa<llvm::AllocaInst>(I))
      return false;
    if (I.isTerminator())
      return llvm::isa<llvm::BranchInst>(I);
    if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I))
      return Load->isSimple();
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I))
      return Store->isSimple();
    if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I)) {
      auto *Intrinsic = llvm::dyn_cast<llvm::IntrinsicInst>(Call);
      return Intrinsic && ((Call->doesNotAccessMemory() && !Call->mayHaveSideEffects()) ||
                           Intrinsic->getIntrinsicID() == llvm::Intrinsic::experimental_noalias_scope_decl);
    }
    return !I.mayReadOrWriteMemory() && !I.mayHaveSideEffects();
  }

  // The largest set of the body's values that are the same for every thread: computed without memory, from values
  // defined before the thread loop and from each other (phis too: every branch is checked to be uniform).
  void findUniform() {
    for (llvm::BasicBlock *BB : T.blocks())
      for (llvm::Instruction &I : *BB)
        if (&I != Index && !I.isTerminator() && !I.getType()->isVoidTy() && !I.mayReadOrWriteMemory() &&
            (llvm::isa<llvm::PHINode>(I) || llvm::isSafeToSpeculativelyExecute(&I)))
          Uniform.insert(&I);
    for (bool Changed = true; Changed;) {
      Changed = false;
      for (auto It = Uniform.begin(); It != Uniform.end();) {
        if (llvm::all_of((*It)->operands(), [&](llvm::Value *V) { return isUniform(V); })) {
          ++It;
          continue;
        }
        It = Uniform.erase(It);
        Changed = true;
      }
    }
  }

  bool isUniform(llvm::Value *V) const {
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    return !I || !T.contains(I) || Uniform.count(I);
  }

  // An inner loop does per-thread work, and no access needs a gather.
  bool worthIt() const {
    bool InnerWork = false;
    for (llvm::BasicBlock *BB : T.blocks()) {
      bool InInner = BB != T.getHeader() && T.contains(BB) && llvm::any_of(T.getSubLoops(), [&](llvm::Loop *Sub) {
                       return Sub->contains(BB);
                     });
      for (llvm::Instruction &I : *BB) {
        InnerWork |= InInner && !I.isTerminator() && !Uniform.count(&I);
        llvm::Value *Pointer = llvm::getLoadStorePointerOperand(&I);
        if (Pointer && !isUniform(Pointer) && !consecutive(Pointer, llvm::getLoadStoreType(&I)))
          return false;
      }
    }
    return InnerWork;
  }

  // Whether consecutive threads access consecutive elements (whatever the inner loops' iterations add), or all
  // the same one. Only a cost estimate: 32-bit indices are taken not to wrap, as the vectoriser's run-time checks do.
  bool consecutive(llvm::Value *Pointer, llvm::Type *Ty) const {
    if (auto *Cast = llvm::dyn_cast<llvm::IntToPtrInst>(Pointer)) // the lowering's global addresses
      Pointer = Cast->getOperand(0);
    std::optional<llvm::APInt> Step = threadStep(SE.getSCEV(Pointer));
    return Step && (Step->isZero() || *Step == DL.getTypeStoreSize(Ty).getFixedValue());
  }

  // How much S grows from one thread to the next, when that is a constant.
  std::optional<llvm::APInt> threadStep(const llvm::SCEV *S) const {
    unsigned Bits = 64;
    if (SE.isLoopInvariant(S, &T))
      return llvm::APInt(Bits, 0);
    if (auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(S)) {
      if (Rec->getLoop() == &T) {
        auto *Step = llvm::dyn_cast<llvm::SCEVConstant>(Rec->getStepRecurrence(SE));
        std::optional<llvm::APInt> Start = threadStep(Rec->getStart());
        if (!Step || !Start)
          return std::nullopt;
        return *Start + Step->getAPInt().sextOrTrunc(Bits);
      }
      // An inner loop's recurrence: only its start may depend on the thread.
      if (!T.contains(Rec->getLoop()) || !SE.isLoopInvariant(Rec->getStepRecurrence(SE), &T))
        return std::nullopt;
      return threadStep(Rec->getStart());
    }
    if (auto *Add = llvm::dyn_cast<llvm::SCEVAddExpr>(S)) {
      llvm::APInt Sum(Bits, 0);
      for (const llvm::SCEV *Op : Add->operands()) {
        std::optional<llvm::APInt> Step = threadStep(Op);
        if (!Step)
          return std::nullopt;
        Sum += *Step;
      }
      return Sum;
    }
    if (auto *Mul = llvm::dyn_cast<llvm::SCEVMulExpr>(S)) {
      // Grows by a constant when one factor does and the others are constants.
      llvm::APInt Constant(Bits, 1);
      std::optional<llvm::APInt> Growing;
      bool RunTimeFactor = false;
      for (const llvm::SCEV *Op : Mul->operands()) {
        if (auto *C = llvm::dyn_cast<llvm::SCEVConstant>(Op)) {
          Constant *= C->getAPInt().sextOrTrunc(Bits);
          continue;
        }
        std::optional<llvm::APInt> Step = threadStep(Op);
        if (!Step || (Growing && !Step->isZero()))
          return std::nullopt;
        if (Step->isZero())
          RunTimeFactor = true;
        else
          Growing = Step;
      }
      if (!Growing)
        return llvm::APInt(Bits, 0);
      if (RunTimeFactor)
        return std::nullopt;
      return *Growing * Constant;
    }
    if (auto *Cast = llvm::dyn_cast<llvm::SCEVCastExpr>(S))
      return threadStep(Cast->getOperand(0));
    if (auto *Unknown = llvm::dyn_cast<llvm::SCEVUnknown>(S); Unknown && isUniform(Unknown->getValue()))
      return llvm::APInt(Bits, 0);
    return std::nullopt;
  }

  // Cheap per-thread values (no memory, no phis) built from the thread index and uniform values: recomputed where
  // they are used rather than stored per thread.
  bool recomputable(llvm::Value *V, unsigned Depth) const {
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    if (!I || I == Index || isUniform(I))
      return true;
    if (Depth > MaxRecomputeDepth || llvm::isa<llvm::PHINode>(I) || I->mayReadOrWriteMemory() ||
        !llvm::isSafeToSpeculativelyExecute(I))
      return false;
    return llvm::all_of(I->operands(), [&](llvm::Value *Op) { return recomputable(Op, Depth + 1); });
  }

  llvm::Value *recomputeBefore(llvm::Value *V, llvm::Instruction *Before) {
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    if (!I || I == Index || isUniform(I))
      return V;
    llvm::Instruction *Copy = I->clone();
    for (llvm::Use &Op : Copy->operands())
      Op.set(recomputeBefore(Op.get(), Before));
    Copy->insertBefore(Before);
    Copy->setName(I->getName());
    return Copy;
  }

  void recomputeInUsers(llvm::Instruction *I) {
    std::vector<llvm::Use *> Uses;
    for (llvm::Use &U : I->uses())
      Uses.push_back(&U);
    for (llvm::Use *U : Uses) {
      auto *User = llvm::cast<llvm::Instruction>(U->getUser());
      auto *Phi = llvm::dyn_cast<llvm::PHINode>(User);
      llvm::BasicBlock *At = Phi ? Phi->getIncomingBlock(*U) : User->getParent();
      if (At != I->getParent())
        U->set(recomputeBefore(I, Phi ? At->getTerminator() : User));
    }
  }

  static bool usedInOtherBlock(const llvm::Instruction &I) {
    return llvm::any_of(I.users(), [&](const llvm::User *U) {
      return llvm::isa<llvm::PHINode>(U) || llvm::cast<llvm::Instruction>(U)->getParent() != I.getParent();
    });
  }

  // An upper bound of the per-thread arrays apply() creates.
  uint64_t arrayBytes() const {
    uint64_t Bytes = 0;
    for (llvm::BasicBlock *BB : T.blocks())
      for (llvm::Instruction &I : *BB)
        if (&I != Index && !I.isTerminator() && !Uniform.count(&I)) {
          bool Phi = llvm::isa<llvm::PHINode>(I), Crosses = usedInOtherBlock(I) && (Phi || !recomputable(&I, 0));
          if (Phi || Crosses)
            Bytes += DL.getTypeAllocSize(I.getType()).getFixedValue() * MaxThreads * (Phi && Crosses ? 2 : 1);
        }
    return Bytes;
  }

  // Block BB of the body becomes: its phis and uniform values (once), a loop over the threads running its
  // per-thread instructions, and its terminator.
  void loopOverThreads(llvm::BasicBlock &BB, const std::map<llvm::Value *, llvm::AllocaInst *> &Arrays) {
    std::vector<llvm::Instruction *> Once, Each;
    for (llvm::Instruction &I : BB)
      if (!llvm::isa<llvm::PHINode>(I) && !I.isTerminator())
        (Uniform.count(&I) ? Once : Each).push_back(&I);
    if (Each.empty())
      return;
    for (llvm::Instruction *I : Once)
      I->moveBefore(Each.front());
    llvm::BasicBlock *Body = llvm::SplitBlock(&BB, Each.front(), static_cast<llvm::DominatorTree *>(nullptr),
                                              nullptr, nullptr, BB.getName() + ".threads");
    llvm::BasicBlock *Next = llvm::SplitBlock(Body, Body->getTerminator(), static_cast<llvm::DominatorTree *>(nullptr),
                                              nullptr, nullptr, BB.getName() + ".next");
    llvm::IRBuilder<> B(Body, Body->begin());
    llvm::PHINode *Thread = B.CreatePHI(Index->getType(), 2, "thread");
    Thread->addIncoming(llvm::ConstantInt::get(Index->getType(), 0), &BB);
    llvm::Instruction *OldBranch = Body->getTerminator();
    B.SetInsertPoint(OldBranch);
    llvm::Value *Following = B.CreateAdd(Thread, llvm::ConstantInt::get(Index->getType(), 1), "thread.next",
                                         /*HasNUW=*/true, /*HasNSW=*/true);
    B.CreateCondBr(B.CreateICmpULT(Following, ThreadCount), Body, Next);
    OldBranch->eraseFromParent();
    Thread->addIncoming(Following, Body);

    for (llvm::Instruction *I : Each) {
      I->replaceUsesOfWith(Index, Thread);
      llvm::Value *Pointer = llvm::getLoadStorePointerOperand(I);
      auto It = Pointer ? Arrays.find(Pointer) : Arrays.end();
      if (It == Arrays.end())
        continue;
      B.SetInsertPoint(I);
      llvm::Value *Slot = B.CreateInBoundsGEP(It->second->getAllocatedType(), It->second,
                                              {llvm::ConstantInt::get(Index->getType(), 0), Thread});
      I->replaceUsesOfWith(Pointer, Slot);
    }
  }

  llvm::Loop &T;
  llvm::ScalarEvolution &SE;
  const llvm::DataLayout &DL;
  llvm::BasicBlock *Preheader = nullptr, *Latch = nullptr, *Exit = nullptr;
  llvm::PHINode *Index = nullptr;
  const llvm::SCEV *Threads = nullptr; // the thread count
  llvm::Value *ThreadCount = nullptr;  // ... expanded before the loop
  std::set<llvm::Instruction *> Uniform;
};

} // namespace

llvm::PreservedAnalyses ThreadLoopInterchangePass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  if (!F.getName().starts_with(FlatEntryPrefix) && !F.getName().starts_with(RegionEntryPrefix))
    return llvm::PreservedAnalyses::all();
  bool Changed = reworkLoopsOneAtATime(
      F, FAM, [&](llvm::Loop &L, llvm::LoopInfo &, llvm::ScalarEvolution &SE, llvm::DominatorTree &) {
        if (!isThreadLoop(L))
          return false;
        ThreadLoopInterchange Interchange(L, SE, F.getDataLayout());
        if (!Interchange.analyse())
          return false;
        Interchange.apply(F);
        return true;
      });
  return Changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

} // namespace cushim::ptx
