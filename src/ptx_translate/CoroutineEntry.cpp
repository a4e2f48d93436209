// Coroutine entries (engine tier T1, first stage): a kernel with barriers or warp collectives becomes a stackless
// LLVM coroutine, __cushim_coro_NAME, that suspends where a thread must wait for others. The engine keeps one
// coroutine frame per GPU thread (only the values live across a wait, as LLVM's coroutine splitting computes them)
// instead of one fiber stack, and resumes a thread with a call instead of a stack switch. The waits keep the
// oracle's semantics: they go through the same barrier and rendezvous bookkeeping as fiber mode.
//
// Shape of the entry (switch-resumed coroutine):
//   ptr __cushim_coro_NAME(params, ctx): allocates its frame with __cushim_coro_frame, runs the kernel body (with
//   every device function that may wait inlined) and returns the frame at the first suspension. Each barrier or
//   collective call R(args) becomes
//       if (__cushim_coro_bar / __cushim_coro_coll (args)) suspend;   // 1: the thread must wait
//       result = __cushim_coro_result(ctx, pred_out);                   // when R returns something
//   A thread that returns from the ramp or a resume without asking to wait has finished.
#include "ptx_translate/CoroutineEntry.h"

#include "ptx_translate/WaitCalls.h"

#include "cuda_shim/hal.h"
#include "cuda_shim/kernel_abi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <set>
#include <vector>

namespace cushim::ptx {

namespace {

// Kernels that spin (yield points) or sync the grid stay on fibers: their waits are not all at call sites the
// entry can see.
constexpr uint32_t FiberOnlyFlags = CUSHIM_HAL_KERNEL_USES_GRID_SYNC | CUSHIM_HAL_KERNEL_MAY_SPIN;
constexpr uint32_t WaitingFlags = CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS;

struct RuntimeDecls {
  llvm::FunctionCallee Frame, Bar, Coll, Result;
};

RuntimeDecls declareRuntime(llvm::Module &M) {
  llvm::LLVMContext &C = M.getContext();
  llvm::Type *Ptr = llvm::PointerType::get(C, 0), *I32 = llvm::Type::getInt32Ty(C), *I64 = llvm::Type::getInt64Ty(C);
  RuntimeDecls D;
  D.Frame = M.getOrInsertFunction("__cushim_coro_frame", llvm::FunctionType::get(Ptr, {Ptr, I64}, false));
  D.Bar = M.getOrInsertFunction("__cushim_coro_bar", llvm::FunctionType::get(I32, {Ptr, I32, I32, I32, I32, I32}, false));
  D.Coll = M.getOrInsertFunction("__cushim_coro_coll",
                                 llvm::FunctionType::get(I32, {Ptr, I32, I32, I64, I32, I32, I32}, false));
  D.Result = M.getOrInsertFunction("__cushim_coro_result", llvm::FunctionType::get(I32, {Ptr, Ptr}, false));
  return D;
}

// The post call that replaces a wait: records what the thread waits for; returns whether it must suspend.
llvm::Value *emitPost(llvm::IRBuilder<> &B, const RuntimeDecls &D, llvm::CallBase &Call, const WaitCall &W,
                      llvm::Value *Ctx, llvm::Value *&PredOut) {
  auto arg = [&](unsigned I) { return Call.getArgOperand(I); };
  llvm::Value *Zero = B.getInt32(0);
  PredOut = llvm::ConstantPointerNull::get(B.getPtrTy());
  if (W.Kind == WaitKind::Barrier) {
    bool Red = W.Op == CUSHIM_CORO_BAR_RED;
    return B.CreateCall(D.Bar, {Ctx, B.getInt32(W.Op), arg(1), arg(2), Red ? arg(3) : Zero, Red ? arg(4) : Zero});
  }
  llvm::Value *Mode = Zero, *Value = B.getInt64(0), *Bv = Zero, *Cv = Zero, *Mask = B.getInt32(~0u);
  switch (W.Op) {
  case CUSHIM_COLLECTIVE_SHFL: // (ctx, mode, value, b, c, mask, in_range)
    Mode = arg(1), Value = B.CreateZExt(arg(2), B.getInt64Ty()), Bv = arg(3), Cv = arg(4), Mask = arg(5);
    PredOut = arg(6);
    break;
  case CUSHIM_COLLECTIVE_VOTE:  // (ctx, mode, pred, mask)
  case CUSHIM_COLLECTIVE_REDUX: // (ctx, op, value, mask)
    Mode = arg(1), Value = B.CreateZExt(arg(2), B.getInt64Ty()), Mask = arg(3);
    break;
  case CUSHIM_COLLECTIVE_MATCH: // (ctx, mode, value64, mask, all_equal)
    Mode = arg(1), Value = arg(2), Mask = arg(3);
    PredOut = arg(4);
    break;
  case CUSHIM_COLLECTIVE_WARPSYNC: // (ctx, mask)
    Mask = arg(1);
    break;
  default: // activemask, warp step (ctx)
    break;
  }
  return B.CreateCall(D.Coll, {Ctx, B.getInt32(W.Op), Mode, Value, Bv, Cv, Mask});
}

bool buildCoroutineEntry(llvm::Module &M, llvm::Function &Kernel, const std::set<llvm::Function *> &Waiting,
                         const RuntimeDecls &D) {
  llvm::LLVMContext &Ctx = M.getContext();
  llvm::Type *Ptr = llvm::PointerType::get(Ctx, 0);
  auto *Ty = llvm::FunctionType::get(Ptr, {Ptr, Ptr}, false);
  auto *F = llvm::Function::Create(Ty, llvm::GlobalValue::ExternalLinkage,
                                   std::string(CoroutineEntryPrefix) + Kernel.getName().str(), M);
  llvm::AttrBuilder Attrs(Ctx, Kernel.getAttributes().getFnAttrs());
  Attrs.removeAttribute(llvm::Attribute::NoInline).removeAttribute(llvm::Attribute::AlwaysInline);
  F->addFnAttrs(Attrs);
  F->setPresplitCoroutine();
  llvm::Value *Params = F->getArg(0), *ThreadCtx = F->getArg(1);

  llvm::BasicBlock *Entry = llvm::BasicBlock::Create(Ctx, "entry", F);
  llvm::BasicBlock *Cleanup = llvm::BasicBlock::Create(Ctx, "coro.cleanup", F);
  llvm::BasicBlock *End = llvm::BasicBlock::Create(Ctx, "coro.end", F);
  llvm::IRBuilder<> B(Entry);
  llvm::Value *Id = B.CreateIntrinsic(llvm::Intrinsic::coro_id, {},
                                      {B.getInt32(16), llvm::ConstantPointerNull::get(B.getPtrTy()),
                                       llvm::ConstantPointerNull::get(B.getPtrTy()),
                                       llvm::ConstantPointerNull::get(B.getPtrTy())});
  llvm::Value *Size = B.CreateIntrinsic(llvm::Intrinsic::coro_size, {B.getInt64Ty()}, {});
  llvm::Value *Mem = B.CreateCall(D.Frame, {ThreadCtx, Size});
  llvm::Value *Handle = B.CreateIntrinsic(llvm::Intrinsic::coro_begin, {}, {Id, Mem});
  llvm::CallInst *Body = B.CreateCall(&Kernel, {Params, ThreadCtx});
  B.CreateBr(Cleanup);
  B.SetInsertPoint(Cleanup);
  B.CreateBr(End); // frames live in the engine's per-block arena: nothing to free
  B.SetInsertPoint(End);
  B.CreateIntrinsic(llvm::Intrinsic::coro_end, {}, {Handle, B.getFalse(), llvm::ConstantTokenNone::get(Ctx)});
  B.CreateRet(Handle);

  llvm::InlineFunctionInfo Info;
  if (!llvm::InlineFunction(*Body, Info).isSuccess() || !inlineWaitingCalls(*F, Waiting)) {
    F->eraseFromParent();
    return false;
  }

  std::vector<llvm::CallBase *> Waits;
  for (llvm::BasicBlock &BB : *F)
    for (llvm::Instruction &I : BB)
      if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I); Call && waitCallOf(*Call))
        Waits.push_back(Call);
  for (llvm::CallBase *Call : Waits) {
    const WaitCall &W = *waitCallOf(*Call);
    B.SetInsertPoint(Call);
    llvm::Value *PredOut = nullptr;
    llvm::Value *MustWait = B.CreateICmpNE(emitPost(B, D, *Call, W, ThreadCtx, PredOut), B.getInt32(0));
    llvm::BasicBlock *Before = Call->getParent();
    llvm::BasicBlock *After = Before->splitBasicBlock(Call, "wait.done");
    llvm::BasicBlock *Suspend = llvm::BasicBlock::Create(Ctx, "wait.suspend", F, After);
    Before->getTerminator()->eraseFromParent();
    B.SetInsertPoint(Before);
    B.CreateCondBr(MustWait, Suspend, After);
    B.SetInsertPoint(Suspend);
    llvm::Value *State = B.CreateIntrinsic(llvm::Intrinsic::coro_suspend, {},
                                           {llvm::ConstantTokenNone::get(Ctx), B.getFalse()});
    llvm::SwitchInst *Switch = B.CreateSwitch(State, End, 2);
    Switch->addCase(B.getInt8(0), After);
    Switch->addCase(B.getInt8(1), Cleanup);
    B.SetInsertPoint(Call);
    if (W.HasResult) {
      llvm::Value *Result = B.CreateCall(D.Result, {ThreadCtx, PredOut});
      Call->replaceAllUsesWith(Result);
    }
    Call->eraseFromParent();
  }
  return true;
}

} // namespace

void addCoroutineEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels) {
  bool Ok = true;
  std::set<llvm::Function *> Waiting;
  bool Computed = false;
  RuntimeDecls D;
  for (KernelInfo &K : Kernels) {
    // A region entry (RegionEntry.cpp, added first) is what T1 runs for the kernel, unless it runs warp
    // collectives: then launches whose block rows are not whole warps need the coroutine entry.
    bool RegionForAllShapes = (K.Flags & CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY) &&
                              !(K.Flags & CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS);
    if (!(K.Flags & WaitingFlags) || (K.Flags & FiberOnlyFlags) || RegionForAllShapes)
      continue;
    llvm::Function *Kernel = M.getFunction(K.Name);
    if (!Kernel || Kernel->isDeclaration())
      continue;
    if (!Computed) {
      Waiting = waitingFunctions(M, Ok);
      D = declareRuntime(M);
      Computed = true;
    }
    if (!Ok)
      return;
    if (buildCoroutineEntry(M, *Kernel, Waiting, D))
      K.Flags |= CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY;
  }
}

} // namespace cushim::ptx
