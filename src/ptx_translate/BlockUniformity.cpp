// A small divergence analysis for one block of threads (or one warp). Sources of divergence are the thread's
// coordinates in the context, every memory read except the parameter buffer and the block's fields of the context,
// and calls that may read memory. Divergence then flows along data (operands) and control: a branch on a divergent
// condition makes the blocks up to its immediate post-dominator divergent, the phis where its paths join
// divergent, and values that leave its region (a loop that threads leave at different iterations) divergent.
#include "ptx_translate/BlockUniformity.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/PostDominators.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <vector>

namespace cushim::ptx {

std::optional<int64_t> contextFieldRead(const llvm::Value *V, const llvm::Value *Ctx) {
  auto *Load = llvm::dyn_cast<llvm::LoadInst>(V);
  if (!Load)
    return std::nullopt;
  const llvm::DataLayout &DL = Load->getModule()->getDataLayout();
  llvm::APInt Offset(DL.getIndexTypeSizeInBits(Load->getPointerOperandType()), 0);
  if (Load->getPointerOperand()->stripAndAccumulateConstantOffsets(DL, Offset, true) != Ctx)
    return std::nullopt;
  return Offset.getSExtValue();
}

bool isThreadField(int64_t Offset, uint64_t Size, UniformityScope Scope) {
  auto overlaps = [&](size_t Begin, size_t End) { return Offset < int64_t(End) && Offset + int64_t(Size) > int64_t(Begin); };
  if (Scope == UniformityScope::Warp) // tid.y, tid.z and warpid are the same in a warp of a row of 32 threads
    return overlaps(offsetof(cushim_thread_ctx, tid), offsetof(cushim_thread_ctx, tid) + 4) ||
           overlaps(offsetof(cushim_thread_ctx, laneid), offsetof(cushim_thread_ctx, warpid));
  return overlaps(offsetof(cushim_thread_ctx, tid), offsetof(cushim_thread_ctx, ntid)) ||
         overlaps(offsetof(cushim_thread_ctx, laneid), offsetof(cushim_thread_ctx, nwarpid));
}

namespace {

// Whether V reads tid.x from the context.
bool isTidXRead(const llvm::Value *V, const llvm::Value *Ctx) {
  return contextFieldRead(V, Ctx) == int64_t(offsetof(cushim_thread_ctx, tid));
}

// tid.x / 32 (a shift by 5 or more, a division by a multiple of 32, a mask that clears the lane's bits), or a
// comparison of tid.x with a warp boundary (tid.x < 32, tid.x > 63): the same in all lanes of a warp when the block's
// rows are whole warps.
bool isSameInWarpOfTidX(const llvm::Instruction &I, const llvm::Value *Ctx) {
  auto *Amount = llvm::dyn_cast<llvm::ConstantInt>(I.getOperand(I.getNumOperands() - 1));
  if (!Amount || !isTidXRead(I.getOperand(0), Ctx))
    return false;
  const llvm::APInt &C = Amount->getValue();
  if (auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(&I)) {
    if (Cmp->isSigned() && C.isNegative())
      return false;
    switch (Cmp->getUnsignedPredicate()) {
    case llvm::CmpInst::ICMP_ULT: // tid < 32k
    case llvm::CmpInst::ICMP_UGE:
      return C.urem(32) == 0;
    case llvm::CmpInst::ICMP_ULE: // tid <= 32k - 1
    case llvm::CmpInst::ICMP_UGT:
      return C.urem(32) == 31;
    default:
      return false;
    }
  }
  if (!llvm::isa<llvm::BinaryOperator>(I))
    return false;
  switch (I.getOpcode()) {
  case llvm::Instruction::LShr:
  case llvm::Instruction::AShr:
    return C.uge(5);
  case llvm::Instruction::UDiv:
  case llvm::Instruction::SDiv:
    return C.isStrictlyPositive() && C.urem(32) == 0;
  case llvm::Instruction::And: // tid.x & -32 (nvcc's `tid.x / 32 == 1`)
    return C.countr_zero() >= 5;
  default:
    return false;
  }
}

bool isDivergenceSource(const llvm::Instruction &I, const llvm::Value *Params, const llvm::Value *Ctx,
                        UniformityScope Scope) {
  if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I)) {
    if (llvm::getUnderlyingObject(Load->getPointerOperand()) == Params)
      return false; // the parameter buffer is the same for all threads (and read-only)
    if (std::optional<int64_t> Field = contextFieldRead(Load, Ctx))
      return isThreadField(*Field, I.getModule()->getDataLayout().getTypeStoreSize(Load->getType()), Scope);
    return true; // any other memory may differ between threads (or change between their reads)
  }
  if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I))
    return !Call->doesNotAccessMemory() || Call->isConvergent();
  return llvm::isa<llvm::AtomicRMWInst, llvm::AtomicCmpXchgInst, llvm::AllocaInst, llvm::VAArgInst>(I);
}

} // namespace

BlockUniformity::BlockUniformity(llvm::Function &F, llvm::Value *Params, llvm::Value *Ctx, UniformityScope Scope) {
  llvm::PostDominatorTree PDT(F);
  std::vector<const llvm::Value *> Work;
  auto markDivergent = [&](const llvm::Value *V) {
    if (Divergent.insert(V).second)
      Work.push_back(V);
  };
  llvm::SmallPtrSet<const llvm::Instruction *, 16> DivergentBranches;
  // A branch the threads may take different ways: everything up to where its paths join again.
  auto divergentBranch = [&](const llvm::Instruction &Branch) {
    if (!DivergentBranches.insert(&Branch).second)
      return;
    const llvm::BasicBlock *From = Branch.getParent();
    const llvm::DomTreeNode *Node = PDT.getNode(From);
    const llvm::BasicBlock *Join = Node && Node->getIDom() ? Node->getIDom()->getBlock() : nullptr;
    llvm::SmallPtrSet<const llvm::BasicBlock *, 32> Region;
    std::vector<const llvm::BasicBlock *> Blocks(llvm::succ_begin(From), llvm::succ_end(From));
    while (!Blocks.empty()) {
      const llvm::BasicBlock *BB = Blocks.back();
      Blocks.pop_back();
      if (BB == Join || !Region.insert(BB).second)
        continue;
      Blocks.insert(Blocks.end(), llvm::succ_begin(BB), llvm::succ_end(BB));
    }
    for (const llvm::BasicBlock *BB : Region) {
      DivergentBlocks.insert(BB);
      for (const llvm::Instruction &I : *BB) {
        if (llvm::isa<llvm::PHINode>(I))
          markDivergent(&I);
        for (const llvm::User *U : I.users())
          if (auto *UI = llvm::dyn_cast<llvm::Instruction>(U); UI && !Region.contains(UI->getParent()))
            markDivergent(&I);
      }
    }
    if (Join)
      for (const llvm::PHINode &Phi : Join->phis())
        markDivergent(&Phi);
  };

  for (llvm::Instruction &I : llvm::instructions(F))
    if (isDivergenceSource(I, Params, Ctx, Scope))
      markDivergent(&I);
  while (!Work.empty()) {
    const llvm::Value *V = Work.back();
    Work.pop_back();
    for (const llvm::User *U : V->users()) {
      auto *I = llvm::dyn_cast<llvm::Instruction>(U);
      if (!I || llvm::isa<llvm::StoreInst>(I))
        continue;
      if (Scope == UniformityScope::Warp && isSameInWarpOfTidX(*I, Ctx))
        continue;
      if (I->isTerminator()) {
        if (I->getNumSuccessors() > 1)
          divergentBranch(*I);
        continue;
      }
      markDivergent(I);
    }
  }
}

} // namespace cushim::ptx
