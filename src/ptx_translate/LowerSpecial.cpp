// Special registers (read from cushim_thread_ctx or computed), barriers, warp collectives, timers and the other
// instructions that reach the runtime functions of include/cuda_shim/kernel_abi.h.
#include "ptx_translate/LowerInternal.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include <cstddef>
#include <cstdlib>

namespace cushim::ptx::lower {

llvm::Value *FunctionLowering::ctxField(size_t Offset, llvm::Type *Ty) {
  llvm::Value *P = B.CreateGEP(B.getInt8Ty(), Ctx_, B.getInt64(Offset));
  // The fields the lowering reads never change while a thread runs, so loads can be hoisted and merged even
  // across stores through unrelated pointers.
  llvm::LoadInst *L = B.CreateLoad(Ty, P);
  L->setMetadata(llvm::LLVMContext::MD_invariant_load, llvm::MDNode::get(Ctx, {}));
  return L;
}

llvm::Value *FunctionLowering::sharedBase() { return ctxField(offsetof(cushim_thread_ctx, shared_base), B.getPtrTy()); }

llvm::CallInst *FunctionLowering::callRuntime(const std::string &Name, llvm::ArrayRef<llvm::Value *> Args) {
  llvm::Function *F = MS.runtime(Name);
  llvm::CallInst *C = B.CreateCall(F, Args);
  if (F->hasFnAttribute(llvm::Attribute::Convergent))
    C->addFnAttr(llvm::Attribute::Convergent);
  return C;
}

bool FunctionLowering::isSpecialRegister(const std::string &Name) const {
  static const char *Names[] = {"%tid",
                                "%ntid",
                                "%ctaid",
                                "%nctaid",
                                "%laneid",
                                "%warpid",
                                "%nwarpid",
                                "%smid",
                                "%nsmid",
                                "%gridid",
                                "%lanemask_eq",
                                "%lanemask_le",
                                "%lanemask_lt",
                                "%lanemask_ge",
                                "%lanemask_gt",
                                "%clock",
                                "%clock64",
                                "%clock_hi",
                                "%globaltimer",
                                "%globaltimer_lo",
                                "%globaltimer_hi",
                                "%dynamic_smem_size",
                                "%total_smem_size",
                                "%aggr_smem_size",
                                "%is_explicit_cluster",
                                "%clusterid",
                                "%nclusterid",
                                "%cluster_ctaid",
                                "%cluster_nctaid",
                                "%cluster_ctarank",
                                "%cluster_nctarank",
                                "%warpsz",
                                "%reserved_smem_offset_begin",
                                "%reserved_smem_offset_end",
                                "%reserved_smem_offset_cap"};
  for (const char *N : Names)
    if (Name == N)
      return true;
  return Name.rfind("%envreg", 0) == 0 || Name.rfind("%pm", 0) == 0 || Name.rfind("%reserved_smem", 0) == 0;
}

Expected<llvm::Value *> FunctionLowering::readSpecial(const Instruction &I, const RegOperand &R) {
  const std::string &N = R.Name;
  unsigned C = R.Component >= 0 ? static_cast<unsigned>(R.Component) : 0;
  if (C > 3)
    return invalid(I, "bad special register component");
  auto u32 = [&](size_t Off) { return ctxField(Off, B.getInt32Ty()); };
  if (N == "%tid")
    return u32(offsetof(cushim_thread_ctx, tid) + 4 * C);
  if (N == "%ntid")
    return u32(offsetof(cushim_thread_ctx, ntid) + 4 * C);
  if (N == "%ctaid")
    return u32(offsetof(cushim_thread_ctx, ctaid) + 4 * C);
  if (N == "%nctaid")
    return u32(offsetof(cushim_thread_ctx, nctaid) + 4 * C);
  if (N == "%laneid")
    return u32(offsetof(cushim_thread_ctx, laneid));
  if (N == "%warpid")
    return u32(offsetof(cushim_thread_ctx, warpid));
  if (N == "%nwarpid")
    return u32(offsetof(cushim_thread_ctx, nwarpid));
  if (N == "%smid")
    return u32(offsetof(cushim_thread_ctx, smid));
  if (N == "%nsmid")
    return u32(offsetof(cushim_thread_ctx, nsmid));
  if (N == "%gridid")
    return ctxField(offsetof(cushim_thread_ctx, gridid), B.getInt64Ty());
  if (N == "%dynamic_smem_size")
    return u32(offsetof(cushim_thread_ctx, dynamic_shared_size));
  if (N == "%total_smem_size" || N == "%aggr_smem_size")
    return u32(offsetof(cushim_thread_ctx, total_shared_size));
  if (N == "%warpsz")
    return B.getInt32(32);
  if (N.rfind("%lanemask_", 0) == 0) {
    llvm::Value *Lane = u32(offsetof(cushim_thread_ctx, laneid));
    llvm::Value *Bit = B.CreateShl(B.getInt32(1), Lane);
    llvm::Value *Lt = B.CreateSub(Bit, B.getInt32(1));
    if (N == "%lanemask_eq")
      return Bit;
    if (N == "%lanemask_lt")
      return Lt;
    if (N == "%lanemask_le")
      return B.CreateOr(Lt, Bit);
    if (N == "%lanemask_gt")
      return B.CreateNot(B.CreateOr(Lt, Bit));
    if (N == "%lanemask_ge")
      return B.CreateNot(Lt);
  }
  if (N == "%clock64")
    return callRuntime("__cushim_clock64", {Ctx_});
  if (N == "%clock")
    return B.CreateTrunc(callRuntime("__cushim_clock64", {Ctx_}), B.getInt32Ty());
  if (N == "%clock_hi")
    return B.CreateTrunc(B.CreateLShr(callRuntime("__cushim_clock64", {Ctx_}), 32), B.getInt32Ty());
  if (N == "%globaltimer")
    return callRuntime("__cushim_globaltimer", {Ctx_});
  if (N == "%globaltimer_lo")
    return B.CreateTrunc(callRuntime("__cushim_globaltimer", {Ctx_}), B.getInt32Ty());
  if (N == "%globaltimer_hi")
    return B.CreateTrunc(B.CreateLShr(callRuntime("__cushim_globaltimer", {Ctx_}), 32), B.getInt32Ty());
  // Without clusters every block is its own cluster of one.
  if (N == "%is_explicit_cluster")
    return B.getInt32(0);
  if (N == "%clusterid")
    return u32(offsetof(cushim_thread_ctx, ctaid) + 4 * C);
  if (N == "%nclusterid")
    return u32(offsetof(cushim_thread_ctx, nctaid) + 4 * C);
  if (N == "%cluster_ctaid" || N == "%cluster_ctarank")
    return B.getInt32(0);
  if (N == "%cluster_nctaid" || N == "%cluster_nctarank")
    return B.getInt32(1);
  if (N.rfind("%envreg", 0) == 0) {
    // Not part of MS.runtime()'s table (Lowering.cpp): declared here.
    unsigned Index = static_cast<unsigned>(std::strtoul(N.c_str() + 7, nullptr, 10));
    llvm::FunctionCallee Env = MS.M->getOrInsertFunction(
        "__cushim_envreg", llvm::FunctionType::get(B.getInt32Ty(), {B.getPtrTy(), B.getInt32Ty()}, false));
    if (auto *EF = llvm::dyn_cast<llvm::Function>(Env.getCallee())) {
      EF->addFnAttr(llvm::Attribute::NoUnwind);
      EF->setOnlyReadsMemory();
    }
    return B.CreateCall(Env, {Ctx_, B.getInt32(Index)});
  }
  if (N.rfind("%pm", 0) == 0 || N.rfind("%reserved_smem", 0) == 0)
    return B.getInt32(0);
  return invalid(I, "unknown special register '" + N + "'");
}

Error FunctionLowering::lowerSpecial(const Instruction &I) {
  const std::string &Op = I.Opcode;
  auto rd = [&](size_t N, ScalarType T) { return read(I, N, T); };
#define READ(Var, N, T)                                                                                                \
  auto Var##E = rd(N, T);                                                                                              \
  if (!Var##E)                                                                                                         \
    return Var##E.takeError();                                                                                         \
  llvm::Value *Var = *Var##E;

  if (Op == "griddepcontrol" || Op == "pmevent")
    return Error::success();
  if (Op == "nanosleep") {
    READ(Ns, 0, ScalarType::U32);
    callRuntime("__cushim_nanosleep", {Ctx_, Ns});
    return Error::success();
  }

  if ((Op == "bar" || Op == "barrier") && I.hasMod("warp")) {
    READ(Mask, 0, ScalarType::B32);
    callRuntime("__cushim_warp_sync", {Ctx_, Mask});
    return Error::success();
  }
  if (Op == "bar" || Op == "barrier") {
    if (I.hasMod("cta") && false)
      return unsupported(I);
    bool Red = I.hasMod("red");
    bool Arrive = I.hasMod("arrive");
    size_t Base = Red ? 1 : 0;
    if (I.Operands.size() <= Base)
      return invalid(I, "missing barrier id");
    READ(Id, Base, ScalarType::U32);
    llvm::Value *Count = B.getInt32(0);
    bool HasCount = Red ? I.Operands.size() >= 4 : I.Operands.size() >= 2;
    if (HasCount) {
      READ(Cnt, Base + 1, ScalarType::U32);
      Count = Cnt;
    }
    if (Red) {
      unsigned RedOp = I.hasMod("popc") ? 0 : I.hasMod("and") ? 1 : I.hasMod("or") ? 2 : 3;
      if (RedOp == 3)
        return unsupported(I);
      READ(Pred, I.Operands.size() - 1, ScalarType::Pred);
      llvm::Value *R =
          callRuntime("__cushim_bar_red", {Ctx_, Id, Count, B.getInt32(RedOp), B.CreateZExt(Pred, B.getInt32Ty())});
      if (RedOp == 0)
        return write(I, 0, R, ScalarType::U32);
      return write(I, 0, B.CreateICmpNE(R, B.getInt32(0)), ScalarType::Pred);
    }
    callRuntime(Arrive ? "__cushim_bar_arrive" : "__cushim_bar_sync", {Ctx_, Id, Count});
    return Error::success();
  }

  if (Op == "activemask") {
    return write(I, 0, callRuntime("__cushim_activemask", {Ctx_}), ScalarType::B32);
  }

  if (Op == "shfl") {
    if (!I.hasMod("sync"))
      return unsupported(I); // pre-Volta shfl without a member mask
    unsigned Mode = I.hasMod("up")     ? CUSHIM_SHFL_UP
                    : I.hasMod("down") ? CUSHIM_SHFL_DOWN
                    : I.hasMod("bfly") ? CUSHIM_SHFL_BFLY
                                       : CUSHIM_SHFL_IDX;
    READ(A, 1, ScalarType::B32);
    READ(Bv, 2, ScalarType::U32);
    READ(C, 3, ScalarType::U32);
    READ(Mask, 4, ScalarType::B32);
    llvm::AllocaInst *InRange = entryAlloca(B.getInt32Ty(), 4, "inrange");
    llvm::Value *R = callRuntime("__cushim_shfl_sync", {Ctx_, B.getInt32(Mode), A, Bv, C, Mask, InRange});
    CUSHIM_TRY(write(I, 0, R, ScalarType::B32));
    if (I.Operands[0].PairSecond) {
      llvm::Value *P = B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), InRange), B.getInt32(0));
      CUSHIM_TRY(writeReg(I, *I.Operands[0].PairSecond, P, ScalarType::Pred));
    }
    return Error::success();
  }

  if (Op == "vote") {
    if (!I.hasMod("sync"))
      return unsupported(I);
    unsigned Mode = I.hasMod("all")   ? CUSHIM_VOTE_ALL
                    : I.hasMod("any") ? CUSHIM_VOTE_ANY
                    : I.hasMod("uni") ? CUSHIM_VOTE_UNI
                                      : CUSHIM_VOTE_BALLOT;
    READ(P, 1, ScalarType::Pred);
    READ(Mask, 2, ScalarType::B32);
    llvm::Value *R = callRuntime("__cushim_vote_sync", {Ctx_, B.getInt32(Mode), B.CreateZExt(P, B.getInt32Ty()), Mask});
    if (Mode == CUSHIM_VOTE_BALLOT)
      return write(I, 0, R, ScalarType::B32);
    return write(I, 0, B.CreateICmpNE(R, B.getInt32(0)), ScalarType::Pred);
  }

  if (Op == "elect") {
    // elect.sync d|p, membermask (sm_90): every lane of the mask that executes it takes part in a ballot of true
    // predicates, so the ballot is the set of participants; the leader is the lowest of them (PTX only requires
    // the same leader for the same mask every time).
    if (!I.hasMod("sync"))
      return unsupported(I);
    if (I.Operands.size() != 2 || !I.Operands[0].PairSecond)
      return invalid(I, "elect.sync expects 'd|p, membermask'");
    READ(Mask, 1, ScalarType::B32);
    llvm::Value *Members =
        callRuntime("__cushim_vote_sync", {Ctx_, B.getInt32(CUSHIM_VOTE_BALLOT), B.getInt32(1), Mask});
    llvm::Value *Leader = B.CreateIntrinsic(llvm::Intrinsic::cttz, {B.getInt32Ty()}, {Members, B.getFalse()});
    CUSHIM_TRY(write(I, 0, Leader, ScalarType::U32));
    llvm::Value *Lane = ctxField(offsetof(cushim_thread_ctx, laneid), B.getInt32Ty());
    return writeReg(I, *I.Operands[0].PairSecond, B.CreateICmpEQ(Lane, Leader), ScalarType::Pred);
  }

  if (Op == "match") {
    ScalarType T = lastType(I);
    READ(V, 1, T == ScalarType::B64 ? ScalarType::B64 : ScalarType::B32);
    READ(Mask, 2, ScalarType::B32);
    unsigned Mode = I.hasMod("all") ? 1 : 0;
    llvm::AllocaInst *AllEq = entryAlloca(B.getInt32Ty(), 4, "alleq");
    llvm::Value *R =
        callRuntime("__cushim_match_sync", {Ctx_, B.getInt32(Mode), B.CreateZExt(V, B.getInt64Ty()), Mask, AllEq});
    CUSHIM_TRY(write(I, 0, R, ScalarType::B32));
    if (I.Operands[0].PairSecond) {
      llvm::Value *P = B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), AllEq), B.getInt32(0));
      CUSHIM_TRY(writeReg(I, *I.Operands[0].PairSecond, P, ScalarType::Pred));
    }
    return Error::success();
  }

  if (Op == "redux") {
    ScalarType T = lastType(I);
    if (isFloatType(T))
      return unsupported(I);
    bool S = isSignedType(T);
    unsigned RedOp;
    if (I.hasMod("add"))
      RedOp = 0;
    else if (I.hasMod("min"))
      RedOp = S ? 1 : 3;
    else if (I.hasMod("max"))
      RedOp = S ? 2 : 4;
    else if (I.hasMod("and"))
      RedOp = 5;
    else if (I.hasMod("or"))
      RedOp = 6;
    else if (I.hasMod("xor"))
      RedOp = 7;
    else
      return unsupported(I);
    READ(V, 1, ScalarType::B32);
    READ(Mask, 2, ScalarType::B32);
    return write(I, 0, callRuntime("__cushim_redux_sync", {Ctx_, B.getInt32(RedOp), V, Mask}), ScalarType::B32);
  }
#undef READ
  return unsupported(I);
}

} // namespace cushim::ptx::lower
