// Yield points for independent thread scheduling (sm_70+): a loop whose exit depends on memory that another GPU
// thread may write (a spin-wait on a flag, a lock taken with atom.cas, a grid barrier) only terminates if the writer
// runs. A fiber engine runs one thread at a time, so such loops call __cushim_yield(ctx) on their back-edges.
// Loops that cannot be waiting for another thread (counted loops, loops over data loaded before the loop) get
// nothing, which keeps barrier-free kernels on the engine's plain-loop fast path.
#include "ptx_translate/LowerYield.h"

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/PromoteMemToReg.h>

#include <map>
#include <vector>

namespace cushim::ptx::lower {

namespace {

// Runtime calls whose result can change while nothing else in the thread does: waiting for time to pass is a
// spin-wait too (a yield there keeps the other threads of the block running).
bool isTimeSource(llvm::StringRef Name) { return Name == "__cushim_clock64" || Name == "__cushim_globaltimer"; }

// A user or extern device function (or an indirect call): it may read memory other threads write.
bool isOpaqueCall(const llvm::CallBase &Call) {
  const llvm::Function *Callee = Call.getCalledFunction();
  if (!Callee)
    return !Call.isInlineAsm();
  llvm::StringRef Name = Callee->getName();
  return Name.starts_with("__cushim_func_") || Name.starts_with("__cushim_extern_") ||
         (!Callee->isDeclaration() && !Callee->isIntrinsic());
}

// Whether V has the same value in every iteration of L: computed outside it, or inside it by pure arithmetic on such
// values (the lowering recomputes addresses, e.g. inttoptr of a register, where they are used).
bool isInvariant(const llvm::Value *V, const llvm::Loop &L, unsigned Depth = 0) {
  const auto *I = llvm::dyn_cast<llvm::Instruction>(V);
  if (!I || !L.contains(I))
    return true;
  if (Depth > 16 || llvm::isa<llvm::PHINode>(I) || I->mayReadOrWriteMemory() || I->isTerminator())
    return false;
  for (const llvm::Value *Op : I->operands())
    if (!isInvariant(Op, L, Depth + 1))
      return false;
  return true;
}

// Whether the exit of loop L (in the SSA clone) may depend on a value that another thread can change while L runs.
class SpinAnalysis {
public:
  explicit SpinAnalysis(const llvm::Loop &L) : L(L) {
    for (const llvm::BasicBlock *BB : L.blocks())
      for (const llvm::Instruction &I : *BB)
        if (llvm::isa<llvm::FenceInst>(I))
          HasFence = true;
  }

  bool run() {
    llvm::SmallVector<llvm::BasicBlock *, 8> Exiting;
    L.getExitingBlocks(Exiting);
    if (Exiting.empty())
      return true; // a loop left only by exit/trap (or never): it may be waiting for anything
    for (llvm::BasicBlock *BB : Exiting) {
      const llvm::Instruction *Term = BB->getTerminator();
      if (const auto *Br = llvm::dyn_cast<llvm::BranchInst>(Term)) {
        if (Br->isConditional())
          push(Br->getCondition());
      } else if (const auto *Sw = llvm::dyn_cast<llvm::SwitchInst>(Term)) {
        push(Sw->getCondition());
      } else {
        return true; // indirectbr/callbr: be conservative
      }
    }
    while (!Work.empty()) {
      const llvm::Value *V = Work.pop_back_val();
      if (visit(V))
        return true;
    }
    return false;
  }

private:
  void push(const llvm::Value *V) {
    if (Seen.insert(V).second)
      Work.push_back(V);
  }
  void pushOperands(const llvm::Instruction &I) {
    for (const llvm::Value *Op : I.operands())
      push(Op);
  }

  // Values that write the private (alloca) memory A inside the loop.
  bool visitAllocaWriters(const llvm::AllocaInst *A) {
    for (const llvm::BasicBlock *BB : L.blocks())
      for (const llvm::Instruction &I : *BB) {
        if (const auto *St = llvm::dyn_cast<llvm::StoreInst>(&I)) {
          if (llvm::getUnderlyingObject(St->getPointerOperand()) == A) {
            push(St->getValueOperand());
            push(St->getPointerOperand());
          }
        } else if (const auto *Call = llvm::dyn_cast<llvm::CallBase>(&I)) {
          for (const llvm::Value *Arg : Call->args())
            if (Arg->getType()->isPointerTy() && llvm::getUnderlyingObject(Arg) == A) {
              if (isOpaqueCall(*Call))
                return true; // a called function fills it (a return slot)
              pushOperands(*Call);
            }
        }
      }
    return false;
  }

  // Returns true when V proves a possible spin.
  bool visit(const llvm::Value *V) {
    const auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    if (!I || !L.contains(I))
      return false; // constants, arguments and values computed before the loop cannot change inside it
    if (const auto *Cas = llvm::dyn_cast<llvm::AtomicCmpXchgInst>(I)) {
      // Expecting a fixed value (a lock, a flag) waits for another thread. Expecting what the previous iteration
      // saw is a lock-free retry (atomicAdd on double): it succeeds unless another thread wrote in between, and a
      // fiber only switches at a yield, so it needs none.
      // Whether it succeeds does not depend on the value it stores.
      if (isInvariant(Cas->getCompareOperand(), L))
        return true;
      push(Cas->getCompareOperand());
      push(Cas->getPointerOperand());
      return false;
    }
    if (llvm::isa<llvm::AtomicRMWInst>(I))
      return true;
    if (const auto *Ld = llvm::dyn_cast<llvm::LoadInst>(I)) {
      const llvm::Value *Ptr = Ld->getPointerOperand();
      const llvm::Value *Base = llvm::getUnderlyingObject(Ptr, 0);
      if (const auto *A = llvm::dyn_cast<llvm::AllocaInst>(Base)) {
        push(Ptr);
        return visitAllocaWriters(A);
      }
      if (llvm::isa<llvm::Argument>(Base)) {
        // The kernel parameter buffer, the thread context or a .func parameter slot: private or read-only.
        push(Ptr);
        return false;
      }
      if (Ld->isVolatile() || Ld->isAtomic())
        return true; // ld.volatile / ld.relaxed / ld.acquire: the polling idioms
      if (isInvariant(Ptr, L) || HasFence)
        return true; // the same location read again and again (or re-read after a fence): polling
      push(Ptr);     // a walk over data (a list, a binary search): follow what the address depends on
      return false;
    }
    if (const auto *Call = llvm::dyn_cast<llvm::CallBase>(I)) {
      if (const llvm::Function *Callee = Call->getCalledFunction(); Callee && isTimeSource(Callee->getName()))
        return true;
      if (isOpaqueCall(*Call))
        return true;
      pushOperands(*I);
      return false;
    }
    pushOperands(*I);
    return false;
  }

  const llvm::Loop &L;
  bool HasFence = false;
  llvm::SmallPtrSet<const llvm::Value *, 32> Seen;
  llvm::SmallVector<const llvm::Value *, 32> Work;
};

// Blocks (of the clone) ending in a retreating edge that is not the back-edge of a natural loop.
void findIrreducibleEdges(llvm::Function &F, const llvm::LoopInfo &LI, std::vector<llvm::BasicBlock *> &Out) {
  llvm::DenseSet<llvm::BasicBlock *> OnStack, Done;
  std::vector<std::pair<llvm::BasicBlock *, unsigned>> Stack;
  Stack.push_back({&F.getEntryBlock(), 0});
  OnStack.insert(&F.getEntryBlock());
  while (!Stack.empty()) {
    auto &[BB, Next] = Stack.back();
    llvm::Instruction *Term = BB->getTerminator();
    unsigned NumSucc = Term ? Term->getNumSuccessors() : 0;
    if (Next == NumSucc) {
      OnStack.erase(BB);
      Done.insert(BB);
      Stack.pop_back();
      continue;
    }
    llvm::BasicBlock *Succ = Term->getSuccessor(Next++);
    if (OnStack.count(Succ)) {
      bool Natural = false;
      for (const llvm::Loop *L = LI.getLoopFor(BB); L && !Natural; L = L->getParentLoop())
        Natural = L->getHeader() == Succ;
      if (!Natural)
        Out.push_back(BB);
      continue;
    }
    if (Done.count(Succ))
      continue;
    OnStack.insert(Succ);
    Stack.push_back({Succ, 0});
  }
}

bool hasCycle(llvm::Function &F) {
  llvm::DenseSet<llvm::BasicBlock *> OnStack, Done;
  std::vector<std::pair<llvm::BasicBlock *, unsigned>> Stack;
  Stack.push_back({&F.getEntryBlock(), 0});
  OnStack.insert(&F.getEntryBlock());
  while (!Stack.empty()) {
    auto &[BB, Next] = Stack.back();
    llvm::Instruction *Term = BB->getTerminator();
    if (!Term || Next == Term->getNumSuccessors()) {
      OnStack.erase(BB);
      Done.insert(BB);
      Stack.pop_back();
      continue;
    }
    llvm::BasicBlock *Succ = Term->getSuccessor(Next++);
    if (OnStack.count(Succ))
      return true;
    if (Done.insert(Succ).second) {
      Done.erase(Succ);
      OnStack.insert(Succ);
      Stack.push_back({Succ, 0});
    }
  }
  return false;
}

} // namespace

bool insertSpinYields(llvm::Function &Fn, llvm::Value *Ctx) {
  if (Fn.isDeclaration())
    return false;
  // Most functions have no cycle at all: a cheap DFS on the original spares them the copy.
  if (!hasCycle(Fn))
    return false;
  // Analyse an SSA copy (the lowering keeps registers in allocas); mem2reg does not change the CFG, so the loops of
  // the copy map one to one onto the original's blocks.
  llvm::ValueToValueMapTy VMap;
  llvm::Function *Clone = llvm::CloneFunction(&Fn, VMap);
  std::map<const llvm::BasicBlock *, llvm::BasicBlock *> Original;
  for (llvm::BasicBlock &BB : Fn)
    Original[llvm::cast<llvm::BasicBlock>(VMap[&BB])] = &BB;

  llvm::DominatorTree DT(*Clone);
  std::vector<llvm::AllocaInst *> Promotable;
  for (llvm::Instruction &I : Clone->getEntryBlock())
    if (auto *A = llvm::dyn_cast<llvm::AllocaInst>(&I); A && llvm::isAllocaPromotable(A))
      Promotable.push_back(A);
  if (!Promotable.empty())
    llvm::PromoteMemToReg(Promotable, DT);
  llvm::LoopInfo LI(DT);

  std::vector<llvm::BasicBlock *> YieldAt; // blocks of the original whose terminator closes a spin cycle
  for (llvm::Loop *L : LI.getLoopsInPreorder()) {
    if (!SpinAnalysis(*L).run())
      continue;
    llvm::SmallVector<llvm::BasicBlock *, 4> Latches;
    L->getLoopLatches(Latches);
    for (llvm::BasicBlock *Latch : Latches)
      YieldAt.push_back(Original.at(Latch));
  }
  std::vector<llvm::BasicBlock *> Irreducible;
  findIrreducibleEdges(*Clone, LI, Irreducible);
  for (llvm::BasicBlock *BB : Irreducible)
    YieldAt.push_back(Original.at(BB));
  Clone->eraseFromParent();
  if (YieldAt.empty())
    return false;

  llvm::Module &M = *Fn.getParent();
  llvm::LLVMContext &C = M.getContext();
  llvm::FunctionCallee Yield = M.getOrInsertFunction(
      "__cushim_yield", llvm::FunctionType::get(llvm::Type::getVoidTy(C), {llvm::PointerType::get(C, 0)}, false));
  if (auto *YF = llvm::dyn_cast<llvm::Function>(Yield.getCallee()))
    YF->addFnAttr(llvm::Attribute::NoUnwind);
  llvm::SmallPtrSet<llvm::BasicBlock *, 8> Done;
  for (llvm::BasicBlock *BB : YieldAt) {
    if (!Done.insert(BB).second)
      continue;
    llvm::IRBuilder<> B(BB->getTerminator());
    B.CreateCall(Yield, {Ctx});
  }
  Fn.addFnAttr(MaySpinAttr);
  return true;
}

} // namespace cushim::ptx::lower
