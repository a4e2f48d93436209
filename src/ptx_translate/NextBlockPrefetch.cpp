// A grid-stride loop (`for (i = blockIdx.x * blockDim.x + tid; i < n; i += gridDim.x * blockDim.x)`) run as a region
// entry's lockstep passes reads, per pass, one block-sized piece of its array, the next piece a grid's width away
// (1 KiB of floats 1 MiB apart for 1024 blocks of 256): each piece is too short for the hardware prefetcher to get
// ahead of, so every pass waits for memory. The worker runs the blocks of its range in order (Engine.cpp), and
// block b + 1 reads the piece just after block b's: so each vector load (plain or masked) of a kernel-parameter array
// in a region entry also prefetches, into the L2 cache (`prefetcht1`; into L1 it was slower), the lines block b + 1
// reads there. Where the address follows blockIdx.x, that is the address computed again with blockIdx.x + 1: NVIDIA's
// reduce4 sample reads 2 * blockDim.x elements per block as two loads 1 KiB apart, whose streams restart at every
// block (reduce3-style, 16M floats: 4.5-5.7 -> 2.7-3.3 ms). Otherwise (a grid-stride loop's index comes from the
// arena) it is blockDim.x elements further on: the next block's element for indices of the form
// blockIdx.x * blockDim.x + ..., a nearby line for others. A prefetch cannot change results. A C model of
// reduce_shared's pattern: 1.74 -> 1.41-1.48 ms.
#include "ptx_translate/NextBlockPrefetch.h"

#include "ptx_translate/BlockEntry.h"
#include "ptx_translate/BlockUniformity.h"
#include "ptx_translate/RegionEntry.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/ADT/DenseMap.h>
#include <llvm/ADT/SmallPtrSet.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <vector>

namespace cushim::ptx {

namespace {

constexpr uint64_t LineBytes = 64, MaxLoadBytes = 4 * LineBytes;
constexpr unsigned L2Locality = 2; // llvm.prefetch's locality 2: prefetcht1 on x86

// The values of F that read %ctaid.x: loads of the context's ctaid[0] (each thread's private copy of the context
// becomes registers, one load per copy).
std::vector<llvm::Value *> ctaidXReads(llvm::Function &F) {
  std::vector<llvm::Value *> Reads;
  for (llvm::BasicBlock &BB : F)
    for (llvm::Instruction &I : BB)
      if (I.getType()->isIntegerTy(32) &&
          contextFieldRead(&I, F.getArg(1)) == int64_t(offsetof(cushim_thread_ctx, ctaid)))
        Reads.push_back(&I);
  return Reads;
}

// The address a load reads in the next block: its address computation, cloned before the load with %ctaid.x + 1
// in place of %ctaid.x (kernels of the reduce4 sample read 2 * blockDim.x elements per block, so the next
// block's piece is twice as far as blockDim.x elements). Null when the address does not depend on %ctaid.x or
// depends on it through something other than arithmetic (a phi, a load). The clones lose their no-wrap flags: the
// last block's next address may overflow, and a prefetch of any address is harmless.
class NextBlockAddress {
public:
  explicit NextBlockAddress(std::vector<llvm::Value *> Ctaid) : Ctaid(std::move(Ctaid)) {}

  llvm::Value *of(llvm::Instruction &Load, llvm::Value *Address) {
    bool Failed = false;
    Clones.clear();
    Rewritten.clear();
    llvm::Value *Next = rewrite(Address, Load, Failed);
    if (!Failed)
      return Next == Address ? nullptr : Next;
    for (llvm::Instruction *Clone : llvm::reverse(Clones)) // users before their operands
      Clone->eraseFromParent();
    return nullptr;
  }

private:
  std::vector<llvm::Value *> Ctaid;
  llvm::DenseMap<llvm::Value *, llvm::Value *> Plus1; // a read of %ctaid.x -> that read + 1
  llvm::DenseMap<llvm::Value *, llvm::Value *> Rewritten; // for the load at hand
  std::vector<llvm::Instruction *> Clones;              // made for the load at hand, in order

  // Whether V's value depends on a read of %ctaid.x (through phis and arithmetic; a load's value does not).
  bool depends(llvm::Value *V, llvm::SmallPtrSetImpl<llvm::Value *> &Visiting) const {
    if (llvm::is_contained(Ctaid, V))
      return true;
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    if (!I || llvm::isa<llvm::LoadInst>(I) || !Visiting.insert(I).second)
      return false;
    return llvm::any_of(I->operands(), [&](llvm::Value *Op) { return depends(Op, Visiting); });
  }

  llvm::Value *rewrite(llvm::Value *V, llvm::Instruction &Before, bool &Failed) {
    if (llvm::is_contained(Ctaid, V)) {
      llvm::Value *&Next = Plus1[V];
      if (!Next) {
        auto *Read = llvm::cast<llvm::Instruction>(V);
        llvm::IRBuilder<> B(Read->getNextNode());
        Next = B.CreateAdd(Read, llvm::ConstantInt::get(Read->getType(), 1), "ctaid.next");
      }
      return Next;
    }
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    if (!I || Failed)
      return V;
    if (auto It = Rewritten.find(I); It != Rewritten.end())
      return It->second;
    if (llvm::isa<llvm::PHINode>(I) || I->mayReadOrWriteMemory()) {
      // Not cloned (a loop's phi, a load): fine when it does not depend on %ctaid.x.
      llvm::SmallPtrSet<llvm::Value *, 16> Visiting;
      Failed |= depends(I, Visiting);
      return V;
    }
    llvm::SmallVector<llvm::Value *, 4> Operands;
    bool Changed = false;
    for (llvm::Value *Op : I->operands()) {
      Operands.push_back(rewrite(Op, Before, Failed));
      Changed |= Operands.back() != Op;
    }
    if (!Changed || Failed)
      return Rewritten[I] = V;
    if (I->mayHaveSideEffects() || I->isTerminator()) {
      Failed = true;
      return V;
    }
    llvm::Instruction *Clone = I->clone();
    for (unsigned Op = 0; Op < Operands.size(); ++Op)
      Clone->setOperand(Op, Operands[Op]);
    Clone->dropPoisonGeneratingFlags();
    Clone->insertBefore(&Before);
    Clones.push_back(Clone);
    return Rewritten[I] = Clone;
  }
};

} // namespace

llvm::PreservedAnalyses NextBlockPrefetchPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &) {
  if (!F.getName().starts_with(RegionEntryPrefix) || F.arg_size() != 2)
    return llvm::PreservedAnalyses::all();
  const llvm::DataLayout &DL = F.getDataLayout();
  // (load, its address): plain vector loads and masked ones (a guarded `if (i + blockDim.x < n) v += in[...]`).
  std::vector<std::pair<llvm::Instruction *, llvm::Value *>> Loads;
  for (llvm::BasicBlock &BB : F)
    for (llvm::Instruction &I : BB) {
      llvm::Value *Address = nullptr;
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && Load->isSimple())
        Address = Load->getPointerOperand();
      else if (auto *Masked = llvm::dyn_cast<llvm::IntrinsicInst>(&I);
               Masked && Masked->getIntrinsicID() == llvm::Intrinsic::masked_load)
        Address = Masked->getArgOperand(0);
      auto *VecTy = Address ? llvm::dyn_cast<llvm::FixedVectorType>(I.getType()) : nullptr;
      uint64_t Bytes = VecTy ? DL.getTypeStoreSize(VecTy).getFixedValue() : 0;
      if (Bytes >= LineBytes && Bytes <= MaxLoadBytes && Bytes % LineBytes == 0 &&
          parameterSlot(llvm::getUnderlyingObject(Address), F))
        Loads.emplace_back(&I, Address);
    }
  if (Loads.empty())
    return llvm::PreservedAnalyses::all();
  NextBlockAddress NextOf(ctaidXReads(F));
  llvm::Value *BlockDimX = nullptr;
  auto blockDimX = [&] {
    if (!BlockDimX) {
      llvm::IRBuilder<> Entry(&*F.getEntryBlock().getFirstInsertionPt());
      BlockDimX = Entry.CreateZExt(emitBlockDim(Entry, F.getArg(1), 0), Entry.getInt64Ty(), "block.dim.x");
    }
    return BlockDimX;
  };
  llvm::Function *Prefetch = llvm::Intrinsic::getDeclaration(F.getParent(), llvm::Intrinsic::prefetch,
                                                             {llvm::PointerType::getUnqual(F.getContext())});
  bool Changed = false;
  for (auto [Load, Address] : Loads) {
    auto *VecTy = llvm::cast<llvm::FixedVectorType>(Load->getType());
    llvm::Value *Next = NextOf.of(*Load, Address);
    llvm::IRBuilder<> B(Load);
    // Without it, the element blockDim.x elements on: the next block's for `blockIdx.x * blockDim.x + ...`, a
    // nearby line for other indices (a grid-stride loop's index comes from the arena, not from %ctaid.x).
    if (!Next)
      Next = B.CreateGEP(B.getInt8Ty(), Address,
                         B.CreateMul(blockDimX(), B.getInt64(VecTy->getScalarSizeInBits() / 8)), "next.block");
    uint64_t Bytes = DL.getTypeStoreSize(VecTy).getFixedValue();
    for (uint64_t Line = 0; Line < Bytes; Line += LineBytes)
      B.CreateCall(Prefetch, {B.CreateConstGEP1_64(B.getInt8Ty(), Next, Line), B.getInt32(0), B.getInt32(L2Locality),
                              B.getInt32(1)});
    Changed = true;
  }
  return Changed ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

} // namespace cushim::ptx
