// Warp-synchronous code has a warp step before each volatile shared access (docs/SIMT.md), and a region entry cuts
// at every one of them: reduce6's last warp, `s[t] += s[t + 16]` six times over, made 18 regions of 32 lanes. But a
// region runs its lanes in order, each through the whole region, and that only differs from all lanes stepping
// together where a lane's later access meets an earlier access of a higher lane. With addresses a fixed distance
// apart that move by the same stride per lane, that cannot happen when the later access is at or below the earlier
// one (`s[t]` written after `s[t + 16]` was read), so the step between them can go; `s[t + 8]` read after `s[t]`
// was written keeps its step. reduce6's last warp becomes 6 regions.
//
// Only steps inside one basic block after another step of that block are considered, and only shared-memory loads
// and stores whose offsets are the same 32-bit register plus constants (what the lowering makes of `[%r + c]`),
// with a stride per lane that scalar evolution can compute from tid.x or laneid, and no other memory access.
#include "ptx_translate/WarpStepMerging.h"

#include "ptx_translate/BlockUniformity.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/AssumptionCache.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/TargetParser/Triple.h>

#include <cstddef>
#include <optional>
#include <vector>

namespace cushim::ptx {

namespace {

constexpr int64_t WarpLanes = 32;

// A shared-memory access at shared_base + sext(Register) + Offset.
struct Access {
  const llvm::Value *Register = nullptr;
  int64_t Offset = 0;
  uint64_t Size = 0;
  bool Store = false;
};

bool isWarpStep(const llvm::Instruction &I) {
  auto *Call = llvm::dyn_cast<llvm::CallInst>(&I);
  return Call && Call->getCalledFunction() && Call->getCalledFunction()->getName() == "__cushim_warp_step";
}

class StepMerger {
public:
  StepMerger(llvm::Function &G, llvm::Value *Params, llvm::Value *Ctx)
      : Params(Params), Ctx(Ctx), TLII(llvm::Triple(G.getParent()->getTargetTriple())), TLI(TLII), AC(G), DT(G), LI(DT),
        SE(G, TLI, AC, DT, LI) {
    // The next lane: tid.x and laneid one higher.
    for (llvm::Instruction &I : llvm::instructions(G))
      if (std::optional<int64_t> Field = contextFieldRead(&I, Ctx);
          Field && (*Field == offsetof(cushim_thread_ctx, tid) || *Field == offsetof(cushim_thread_ctx, laneid)))
        NextLane[&I] = SE.getAddExpr(SE.getSCEV(&I), SE.getOne(I.getType()));
  }

  // Removes the steps of BB that the accesses around them do not need.
  void mergeIn(llvm::BasicBlock &BB) {
    std::vector<llvm::Instruction *> Steps;
    for (llvm::Instruction &I : BB)
      if (isWarpStep(I))
        Steps.push_back(&I);
    if (Steps.size() < 2)
      return;
    // The accesses since the last step kept; nullopt once one of them cannot be analysed.
    std::optional<std::vector<Access>> Since = accessesAfter(*Steps[0]);
    for (size_t K = 1; K < Steps.size(); ++K) {
      std::optional<std::vector<Access>> Next = accessesAfter(*Steps[K]);
      if (Since && Next && compatible(*Since, *Next)) {
        Steps[K]->eraseFromParent();
        Since->insert(Since->end(), Next->begin(), Next->end());
      } else {
        Since = std::move(Next);
      }
    }
  }

private:
  // The memory accesses from Step to the next step or the end of its block, but reads of the thread's context
  // and of the parameters (neither is shared memory, and nothing writes them).
  std::optional<std::vector<Access>> accessesAfter(llvm::Instruction &Step) {
    std::vector<Access> Out;
    for (llvm::Instruction *I = Step.getNextNode(); I && !isWarpStep(*I); I = I->getNextNode()) {
      if (!I->mayReadOrWriteMemory())
        continue;
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(I)) {
        const llvm::Value *Base = llvm::getUnderlyingObject(Load->getPointerOperand());
        if (!Load->isVolatile() && (Base == Ctx || Base == Params))
          continue;
      }
      std::optional<Access> A = accessOf(*I);
      if (!A)
        return std::nullopt;
      Out.push_back(*A);
    }
    return Out;
  }

  std::optional<Access> accessOf(llvm::Instruction &I) {
    Access A;
    llvm::Value *Ptr = nullptr;
    llvm::Type *Ty = nullptr;
    if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && !Load->isAtomic()) {
      Ptr = Load->getPointerOperand();
      Ty = Load->getType();
    } else if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && !Store->isAtomic()) {
      Ptr = Store->getPointerOperand();
      Ty = Store->getValueOperand()->getType();
      A.Store = true;
    } else {
      return std::nullopt;
    }
    A.Size = I.getModule()->getDataLayout().getTypeStoreSize(Ty);
    // shared_base + (ext(R) + c), as LowerMemory addresses shared memory.
    auto *Gep = llvm::dyn_cast<llvm::GetElementPtrInst>(Ptr);
    if (!Gep || Gep->getNumIndices() != 1 || !Gep->getSourceElementType()->isIntegerTy(8) ||
        contextFieldRead(Gep->getPointerOperand(), Ctx) != int64_t(offsetof(cushim_thread_ctx, shared_base)))
      return std::nullopt;
    llvm::Value *Index = Gep->getOperand(1);
    if (auto *Add = llvm::dyn_cast<llvm::BinaryOperator>(Index); Add && Add->getOpcode() == llvm::Instruction::Add)
      if (auto *C = llvm::dyn_cast<llvm::ConstantInt>(Add->getOperand(1))) {
        A.Offset = C->getSExtValue();
        Index = Add->getOperand(0);
      }
    if (llvm::isa<llvm::SExtInst, llvm::ZExtInst>(Index))
      Index = llvm::cast<llvm::CastInst>(Index)->getOperand(0);
    A.Register = Index;
    return A;
  }

  // How far R moves from one lane to the next, if scalar evolution can tell.
  std::optional<int64_t> laneStride(const llvm::Value *R) {
    const llvm::SCEV *Here = SE.getSCEV(const_cast<llvm::Value *>(R));
    const llvm::SCEV *There = llvm::SCEVParameterRewriter::rewrite(Here, SE, NextLane);
    auto *Stride = llvm::dyn_cast<llvm::SCEVConstant>(SE.getMinusSCEV(There, Here));
    if (!Stride)
      return std::nullopt;
    return Stride->getAPInt().getSExtValue();
  }

  // Whether running the lanes one after another through Earlier then Later gives what all lanes stepping through
  // Earlier, then all through Later, give: no lane's access in Later meets a higher lane's access in Earlier.
  bool compatible(const std::vector<Access> &Earlier, const std::vector<Access> &Later) {
    for (const Access &Q : Later)
      for (const Access &P : Earlier) {
        if (!P.Store && !Q.Store)
          continue; // reads in any order read the same
        if (P.Register != Q.Register)
          return false;
        std::optional<int64_t> Stride = laneStride(P.Register);
        if (!Stride)
          return false;
        // Lane a's Q at Q.Offset + S * a against lane b's P at P.Offset + S * b, for b - a in [1, 31].
        int64_t D = Q.Offset - P.Offset, S = *Stride, PSize = int64_t(P.Size), QSize = int64_t(Q.Size);
        bool Apart = S == 0 ? D >= PSize || -D >= QSize
                            : S > 0 && PSize <= S && QSize <= S && (D <= 0 || D >= S * (WarpLanes - 1) + PSize);
        if (!Apart)
          return false;
      }
    return true;
  }

  llvm::Value *Params, *Ctx;
  llvm::TargetLibraryInfoImpl TLII;
  llvm::TargetLibraryInfo TLI;
  llvm::AssumptionCache AC;
  llvm::DominatorTree DT;
  llvm::LoopInfo LI;
  llvm::ScalarEvolution SE;
  llvm::ValueToSCEVMapTy NextLane;
};

} // namespace

void mergeWarpSteps(llvm::Function &G, llvm::Value *Params, llvm::Value *Ctx) {
  bool Any = false;
  for (llvm::Instruction &I : llvm::instructions(G))
    Any |= isWarpStep(I);
  if (!Any)
    return;
  StepMerger Merger(G, Params, Ctx);
  for (llvm::BasicBlock &BB : G)
    Merger.mergeIn(BB);
}

} // namespace cushim::ptx
