// Memory: state-space addressing (shared offsets vs host addresses), ld/ldu/st with vectors and memory orders,
// cvta/isspacep, fences, cache-control no-ops, and atom/red (read-modify-write and compare-and-swap).
#include "ptx_translate/LowerInternal.h"
#include "ptx_translate/ReadOnlyLoads.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/IR/Constants.h>

#include <cstddef>

namespace cushim::ptx::lower {

StateSpace FunctionLowering::spaceOf(const Instruction &I) const { return stateSpaceOf(I); }

StateSpace stateSpaceOf(const Instruction &I) {
  for (const auto &M : I.Mods) {
    if (M == "global")
      return StateSpace::Global;
    if (M == "shared" || M == "shared::cta" || M == "shared::cluster")
      return StateSpace::Shared;
    if (M == "local")
      return StateSpace::Local;
    if (M == "const")
      return StateSpace::Const;
    if (M == "param" || M == "param::entry" || M == "param::func")
      return StateSpace::Param;
  }
  return StateSpace::None;
}

bool isWarpStepAccess(const Instruction &I) {
  if ((I.Opcode != "ld" && I.Opcode != "st") || !I.hasMod("volatile"))
    return false;
  StateSpace Sp = stateSpaceOf(I);
  return Sp == StateSpace::Shared || Sp == StateSpace::None;
}

Expected<llvm::Value *> FunctionLowering::symbolAddress(const Instruction &I, const std::string &Name, int64_t Offset,
                                                        unsigned Bits) {
  const Symbol *S = lookup(Name);
  if (!S)
    return invalid(I, "unknown symbol '" + Name + "'");
  auto fromPtr = [&](llvm::Value *P, int64_t Off) {
    if (Off)
      P = B.CreateGEP(B.getInt8Ty(), P, B.getInt64(Off));
    return resizeInt(B.CreatePtrToInt(P, B.getInt64Ty()), Bits, false);
  };
  switch (S->K) {
  case Symbol::Shared: {
    llvm::Value *Off;
    if (S->DynamicShared) {
      if (KI)
        Off = B.getInt32(StaticSharedSize);
      else // In a .func the static size depends on the kernel: the engine places dynamic memory after it.
        Off = B.CreateSub(ctxField(offsetof(cushim_thread_ctx, total_shared_size), B.getInt32Ty()),
                          ctxField(offsetof(cushim_thread_ctx, dynamic_shared_size), B.getInt32Ty()));
    } else {
      Off = B.getInt32(static_cast<uint32_t>(S->Offset));
    }
    Off = B.CreateAdd(Off, B.getInt32(static_cast<uint32_t>(Offset)));
    return resizeInt(Off, Bits, false);
  }
  case Symbol::GlobalVar:
  case Symbol::LocalVar:
  case Symbol::ParamMem:
    return fromPtr(S->Ptr, Offset);
  case Symbol::KernelParam:
    return fromPtr(Params, static_cast<int64_t>(S->Offset) + Offset);
  case Symbol::Func:
    return fromPtr(S->Fn, Offset);
  case Symbol::Reg: {
    RegOperand R;
    R.Name = Name;
    auto V = readReg(I, R, Bits == 32 ? ScalarType::B32 : ScalarType::B64);
    if (!V)
      return V;
    return resizeInt(B.CreateAdd(*V, llvm::ConstantInt::get((*V)->getType(), Offset)), Bits, false);
  }
  default:
    return invalid(I, "'" + Name + "' has no address");
  }
}

Expected<llvm::Value *> FunctionLowering::address(const Instruction &I, const Operand &Op, StateSpace Space) {
  std::optional<RegOperand> BaseReg;
  std::optional<std::string> BaseSym;
  int64_t Offset = 0;
  if (Op.is<AddressOperand>()) {
    const auto &A = Op.as<AddressOperand>();
    BaseReg = A.BaseReg;
    BaseSym = A.BaseSymbol;
    Offset = A.Offset;
  } else if (Op.is<RegOperand>()) {
    BaseReg = Op.as<RegOperand>();
  } else if (Op.is<SymbolOperand>()) {
    BaseSym = Op.as<SymbolOperand>().Name;
    Offset = Op.as<SymbolOperand>().Offset;
  } else {
    return invalid(I, "expected an address operand");
  }
  // A "register" that names a variable is a symbol.
  if (BaseReg) {
    const Symbol *S = lookup(BaseReg->Name);
    if (S && S->K != Symbol::Reg) {
      BaseSym = BaseReg->Name;
      BaseReg.reset();
    }
  }
  if (BaseSym) {
    const Symbol *S = lookup(*BaseSym);
    if (!S)
      return invalid(I, "unknown symbol '" + *BaseSym + "'");
    switch (S->K) {
    case Symbol::Shared: {
      auto Off = symbolAddress(I, *BaseSym, Offset, 64);
      if (!Off)
        return Off;
      return B.CreateGEP(B.getInt8Ty(), sharedBase(), *Off);
    }
    case Symbol::GlobalVar:
    case Symbol::LocalVar:
    case Symbol::ParamMem:
      return Offset ? B.CreateGEP(B.getInt8Ty(), S->Ptr, B.getInt64(Offset)) : S->Ptr;
    case Symbol::KernelParam:
      return B.CreateGEP(B.getInt8Ty(), Params, B.getInt64(static_cast<int64_t>(S->Offset) + Offset));
    case Symbol::Func:
      return B.CreateGEP(B.getInt8Ty(), S->Fn, B.getInt64(Offset));
    default:
      return invalid(I, "'" + *BaseSym + "' is not addressable");
    }
  }
  llvm::Value *Int = B.getInt64(Offset);
  if (BaseReg) {
    const Symbol *S = lookup(BaseReg->Name);
    ScalarType RT =
        S && S->K == Symbol::Reg && S->Storage->getIntegerBitWidth() == 32 ? ScalarType::U32 : ScalarType::U64;
    auto V = readReg(I, *BaseReg, RT);
    if (!V)
      return V;
    // A 32-bit shared address is sign-extended: every valid one is below 2^31 (the window is at most 228 KiB),
    // where both extensions agree; a register that wrapped below zero and comes back through the immediate
    // ([r + 8], r = -4) is right only this way. The vectoriser's run-time checks then only need the offset not to
    // overflow as a signed value: zero-extended, `Tmp[In * n + tid - s]` under `if (tid >= s)` had to not wrap for
    // every thread of the loop, which failed whenever In was 0, and the loop ran scalar (docs/PERFORMANCE.md).
    bool Signed = Space == StateSpace::Shared;
    Int = B.CreateAdd(Signed ? B.CreateSExt(*V, B.getInt64Ty()) : B.CreateZExt(*V, B.getInt64Ty()), Int);
  }
  if (Space == StateSpace::Shared)
    return B.CreateGEP(B.getInt8Ty(), sharedBase(), Int);
  return B.CreateIntToPtr(Int, B.getPtrTy());
}

static std::optional<llvm::AtomicOrdering> memoryOrder(const Instruction &I) {
  if (I.hasMod("acquire"))
    return llvm::AtomicOrdering::Acquire;
  if (I.hasMod("release"))
    return llvm::AtomicOrdering::Release;
  if (I.hasMod("acq_rel"))
    return llvm::AtomicOrdering::AcquireRelease;
  if (I.hasMod("relaxed"))
    return llvm::AtomicOrdering::Monotonic;
  if (I.hasMod("sc"))
    return llvm::AtomicOrdering::SequentiallyConsistent;
  return std::nullopt;
}

static unsigned vectorWidth(const Instruction &I) {
  if (I.hasMod("v2"))
    return 2;
  if (I.hasMod("v4"))
    return 4;
  if (I.hasMod("v8"))
    return 8;
  return 1;
}

Error FunctionLowering::lowerMemory(const Instruction &I) {
  const std::string &Op = I.Opcode;
  if (Op == "prefetch" || Op == "prefetchu" || Op == "discard" || Op == "applypriority")
    return Error::success();
  if (Op == "createpolicy") // cache policies are hints; any value is a valid policy here
    return write(I, 0, B.getInt64(0), ScalarType::B64);
  if (Op == "membar" || Op == "fence") {
    if (I.hasMod("proxy"))
      return Error::success();
    bool AcqRel = I.hasMod("acq_rel") || I.hasMod("acquire") || I.hasMod("release");
    B.CreateFence(AcqRel ? llvm::AtomicOrdering::AcquireRelease : llvm::AtomicOrdering::SequentiallyConsistent);
    return Error::success();
  }

  ScalarType T = lastType(I);
  if (Op == "cvta") {
    unsigned Bits = typeBits(T) ? typeBits(T) : 64;
    ScalarType IT = Bits == 32 ? ScalarType::U32 : ScalarType::U64;
    auto A = read(I, 1, IT);
    if (!A)
      return A.takeError();
    StateSpace Sp = spaceOf(I);
    if (Sp != StateSpace::Shared) // global, const, local and param addresses are already generic host addresses
      return write(I, 0, *A, IT);
    llvm::Value *Base = B.CreatePtrToInt(sharedBase(), B.getInt64Ty());
    llvm::Value *R = I.hasMod("to") ? B.CreateSub(B.CreateZExt(*A, B.getInt64Ty()), Base)
                                    : B.CreateAdd(B.CreateZExt(*A, B.getInt64Ty()), Base);
    return write(I, 0, resizeInt(R, Bits, false), IT);
  }
  if (Op == "isspacep") {
    auto A = read(I, 1, ScalarType::U64);
    if (!A)
      return A.takeError();
    llvm::Value *Base = B.CreatePtrToInt(sharedBase(), B.getInt64Ty());
    llvm::Value *Total =
        B.CreateZExt(ctxField(offsetof(cushim_thread_ctx, total_shared_size), B.getInt32Ty()), B.getInt64Ty());
    llvm::Value *InShared = B.CreateICmpULT(B.CreateSub(*A, Base), Total);
    StateSpace Sp = spaceOf(I);
    llvm::Value *R;
    if (Sp == StateSpace::Shared)
      R = InShared;
    else if (Sp == StateSpace::Global)
      R = B.CreateNot(InShared); // documented approximation: every non-shared address counts as global
    else
      R = B.getFalse();
    return write(I, 0, R, ScalarType::Pred);
  }

  if (Op == "ld" || Op == "ldu" || Op == "st") {
    if (T == ScalarType::None)
      return invalid(I, "missing type");
    bool IsStore = Op == "st";
    StateSpace Sp = spaceOf(I);
    unsigned VW = vectorWidth(I);
    unsigned EB = typeBits(T);
    if (EB < 8)
      return invalid(I, "bad memory type");
    llvm::Type *ETy = intType(EB);
    const Operand &AddrOp = IsStore ? I.Operands.at(0) : I.Operands.at(1);
    auto P = address(I, AddrOp, Sp);
    if (!P)
      return P.takeError();
    bool Volatile = I.hasMod("volatile");
    // Warp-synchronous code (a volatile shared-memory reduction in the last warp, without __syncwarp) relies on the
    // lanes of a converged warp executing each access together, as they do on a GPU: every lane of the warp gets
    // there before any goes on (docs/SIMT.md).
    if (isWarpStepAccess(I))
      callRuntime("__cushim_warp_step", {Ctx_});
    auto Order = memoryOrder(I);
    if (Order && !IsStore && *Order == llvm::AtomicOrdering::Release)
      Order = llvm::AtomicOrdering::Monotonic;
    if (Order && IsStore && *Order == llvm::AtomicOrdering::Acquire)
      Order = llvm::AtomicOrdering::Monotonic;
    const Operand &DataOp = IsStore ? I.Operands.at(1) : I.Operands.at(0);
    for (unsigned N = 0; N < VW; ++N) {
      llvm::Value *EP = N ? B.CreateGEP(B.getInt8Ty(), *P, B.getInt64(N * EB / 8)) : *P;
      const Operand *Elem = &DataOp;
      if (VW > 1) {
        if (!DataOp.is<VectorOperand>() || DataOp.as<VectorOperand>().Elements.size() != VW)
          return invalid(I, "vector access needs a vector operand of matching width");
        Elem = &DataOp.as<VectorOperand>().Elements[N];
      }
      if (IsStore) {
        auto V = readOperand(I, *Elem, T);
        if (!V)
          return V.takeError();
        auto *St = B.CreateAlignedStore(toBits(*V), EP, llvm::Align(EB / 8), Volatile);
        if (Order)
          St->setAtomic(*Order);
      } else {
        auto *Ld = B.CreateAlignedLoad(ETy, EP, llvm::Align(EB / 8), Volatile);
        if (Order)
          Ld->setAtomic(*Order);
        else if (Sp == StateSpace::Global && I.hasMod("nc") && !Volatile) // read-only data (ReadOnlyLoads.h)
          Ld->setMetadata(ReadOnlyLoadMark, llvm::MDNode::get(Ld->getContext(), {}));
        CUSHIM_TRY(writeOperand(I, *Elem, Ld, T));
      }
    }
    return Error::success();
  }
  return unsupported(I);
}

// Atomic read-modify-write as a compare-exchange loop; returns the value replaced. For f16/bf16 (scalar and packed)
// arithmetic, which atomicrmw would compute through float libcalls (double rounding for f16, __truncsfbf2 for bf16).
static llvm::Value *atomicUpdateLoop(FunctionLowering &L, llvm::Value *P, llvm::Type *Ty, llvm::AtomicOrdering Order,
                                     llvm::function_ref<llvm::Value *(llvm::Value *)> Update) {
  auto &B = L.B;
  llvm::Type *IT = B.getIntNTy(Ty->getPrimitiveSizeInBits().getFixedValue());
  llvm::Align Al(IT->getIntegerBitWidth() / 8);
  llvm::LoadInst *First = B.CreateAlignedLoad(IT, P, Al);
  First->setAtomic(llvm::AtomicOrdering::Monotonic);
  llvm::BasicBlock *Pre = B.GetInsertBlock();
  auto *Loop = llvm::BasicBlock::Create(L.Ctx, "atom.retry", L.Fn);
  auto *Done = llvm::BasicBlock::Create(L.Ctx, "atom.done", L.Fn);
  B.CreateBr(Loop);
  B.SetInsertPoint(Loop);
  llvm::PHINode *Old = B.CreatePHI(IT, 2);
  Old->addIncoming(First, Pre);
  llvm::Value *New = B.CreateBitCast(Update(B.CreateBitCast(Old, Ty)), IT);
  llvm::AtomicOrdering Fail = Order == llvm::AtomicOrdering::Release          ? llvm::AtomicOrdering::Monotonic
                              : Order == llvm::AtomicOrdering::AcquireRelease ? llvm::AtomicOrdering::Acquire
                                                                              : Order;
  auto *X = B.CreateAtomicCmpXchg(P, Old, New, Al, Order, Fail);
  Old->addIncoming(B.CreateExtractValue(X, 0), B.GetInsertBlock());
  B.CreateCondBr(B.CreateExtractValue(X, 1), Done, Loop);
  B.SetInsertPoint(Done);
  return B.CreateBitCast(Old, Ty);
}

// f16/bf16 atom/red (.add.noftz, .min, .max; scalar or packed): per element, add rounds once to nearest even (the
// sum is computed in double, which rounds to the narrow type correctly), min/max follow PTX's NaN rules.
static Expected<llvm::Value *> halfAtomic(FunctionLowering &L, const Instruction &I, ScalarType T, llvm::Value *P,
                                          llvm::Value *V, llvm::AtomicOrdering Order) {
  auto &B = L.B;
  llvm::Type *Ty = V->getType();
  bool Add = I.hasMod("add"), Min = I.hasMod("min"), Max = I.hasMod("max");
  if (!(Add || Min || Max) || (Add && !I.hasMod("noftz")))
    return L.unsupported(I);
  return atomicUpdateLoop(L, P, Ty, Order, [&](llvm::Value *Old) -> llvm::Value * {
    if (!Add)
      return ptxMinMax(L, Old, V, Min, false, false, 0x7fff);
    llvm::Type *Wide = Ty->getWithNewType(B.getDoubleTy());
    return truncFloat(B, B.CreateFAdd(B.CreateFPExt(Old, Wide), B.CreateFPExt(V, Wide)), Ty);
  });
}

Error FunctionLowering::lowerAtomic(const Instruction &I) {
  bool IsRed = I.Opcode == "red";
  ScalarType T = lastType(I);
  if (T == ScalarType::None)
    return unsupported(I);
  StateSpace Sp = spaceOf(I);
  if (vectorWidth(I) > 1) {
    // PTX 8.1 vector forms atom/red.global.{add,min,max}.v2/.v4.f32 d, [a], b: each element is one atomic
    // operation on consecutive f32 locations (PTX guarantees atomicity per element only). d and b are {..} lists.
    unsigned VW = vectorWidth(I);
    bool Add = I.hasMod("add"), Min = I.hasMod("min"), Max = I.hasMod("max");
    size_t AIdx = IsRed ? 0 : 1;
    if (T != ScalarType::F32 || VW > 4 || Sp != StateSpace::Global || !(Add || Min || Max) ||
        I.Operands.size() != AIdx + 2 || !I.Operands[AIdx + 1].is<VectorOperand>() ||
        I.Operands[AIdx + 1].as<VectorOperand>().Elements.size() != VW ||
        (!IsRed && (!I.Operands[0].is<VectorOperand>() || I.Operands[0].as<VectorOperand>().Elements.size() != VW)))
      return unsupported(I);
    auto P = address(I, I.Operands[AIdx], Sp);
    if (!P)
      return P.takeError();
    llvm::AtomicOrdering Order = memoryOrder(I).value_or(llvm::AtomicOrdering::Monotonic);
    llvm::AtomicRMWInst::BinOp Op = Add   ? llvm::AtomicRMWInst::FAdd
                                    : Min ? llvm::AtomicRMWInst::FMin
                                          : llvm::AtomicRMWInst::FMax;
    const auto &Vals = I.Operands[AIdx + 1].as<VectorOperand>().Elements;
    for (unsigned K = 0; K < VW; ++K) {
      auto V = readOperand(I, Vals[K], T);
      if (!V)
        return V.takeError();
      llvm::Value *EP = B.CreateConstGEP1_64(B.getInt8Ty(), *P, 4 * K);
      auto *R = B.CreateAtomicRMW(Op, EP, *V, llvm::Align(4), Order);
      if (!IsRed)
        CUSHIM_TRY(writeOperand(I, I.Operands[0].as<VectorOperand>().Elements[K], R, T));
    }
    return Error::success();
  }
  size_t AddrIdx = IsRed ? 0 : 1;
  if (I.Operands.size() < AddrIdx + 2)
    return invalid(I, "missing operands");
  auto P = address(I, I.Operands[AddrIdx], Sp);
  if (!P)
    return P.takeError();
  llvm::AtomicOrdering Order = memoryOrder(I).value_or(llvm::AtomicOrdering::Monotonic);
  unsigned Bits = typeBits(T);
  llvm::Align Al(Bits / 8);
  bool Float = isFloatType(T), Signed = isSignedType(T);

  if (I.hasMod("cas")) {
    auto Cmp = read(I, AddrIdx + 1, T);
    if (!Cmp)
      return Cmp.takeError();
    auto New = read(I, AddrIdx + 2, T);
    if (!New)
      return New.takeError();
    llvm::AtomicOrdering Fail = Order == llvm::AtomicOrdering::Release          ? llvm::AtomicOrdering::Monotonic
                                : Order == llvm::AtomicOrdering::AcquireRelease ? llvm::AtomicOrdering::Acquire
                                                                                : Order;
    auto *X = B.CreateAtomicCmpXchg(*P, toBits(*Cmp), toBits(*New), Al, Order, Fail);
    if (IsRed)
      return Error::success();
    return write(I, 0, B.CreateExtractValue(X, 0), T);
  }

  llvm::AtomicRMWInst::BinOp BinOp;
  if (I.hasMod("add"))
    BinOp = Float ? llvm::AtomicRMWInst::FAdd : llvm::AtomicRMWInst::Add;
  else if (I.hasMod("min"))
    BinOp = Float ? llvm::AtomicRMWInst::FMin : Signed ? llvm::AtomicRMWInst::Min : llvm::AtomicRMWInst::UMin;
  else if (I.hasMod("max"))
    BinOp = Float ? llvm::AtomicRMWInst::FMax : Signed ? llvm::AtomicRMWInst::Max : llvm::AtomicRMWInst::UMax;
  else if (I.hasMod("inc"))
    BinOp = llvm::AtomicRMWInst::UIncWrap; // (old >= b) ? 0 : old + 1, exactly PTX's atom.inc
  else if (I.hasMod("dec"))
    BinOp = llvm::AtomicRMWInst::UDecWrap; // (old == 0 || old > b) ? b : old - 1
  else if (I.hasMod("and"))
    BinOp = llvm::AtomicRMWInst::And;
  else if (I.hasMod("or"))
    BinOp = llvm::AtomicRMWInst::Or;
  else if (I.hasMod("xor"))
    BinOp = llvm::AtomicRMWInst::Xor;
  else if (I.hasMod("exch"))
    BinOp = llvm::AtomicRMWInst::Xchg;
  else
    return unsupported(I);
  auto V = read(I, AddrIdx + 1, T);
  if (!V)
    return V.takeError();
  if (Float && Bits <= 32 && T != ScalarType::F32 && BinOp != llvm::AtomicRMWInst::Xchg) {
    auto Old = halfAtomic(*this, I, T, *P, *V, Order);
    if (!Old)
      return Old.takeError();
    return IsRed ? Error::success() : write(I, 0, *Old, T);
  }
  llvm::Value *Val = Float && BinOp != llvm::AtomicRMWInst::Xchg ? *V : toBits(*V);
  auto *R = B.CreateAtomicRMW(BinOp, *P, Val, Al, Order);
  if (IsRed)
    return Error::success();
  return write(I, 0, R, T);
}

} // namespace cushim::ptx::lower
