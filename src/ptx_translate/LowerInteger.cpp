// Integer and logic instructions (add..lop3) and comparisons/selection (setp, set, selp, slct), with PTX's exact
// semantics where LLVM differs: clamped shifts, defined division by zero, bfe/bfi/prmt bit rules, carries.
#include "ptx_translate/LowerInternal.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

namespace cushim::ptx::lower {

namespace {

llvm::Value *allOnes(llvm::Type *T) { return llvm::Constant::getAllOnesValue(T); }
llvm::Value *zero(llvm::Type *T) { return llvm::Constant::getNullValue(T); }

} // namespace

// Shifts by >= width are poison in LLVM; PTX clamps them.
static llvm::Value *clampedShl(llvm::IRBuilder<> &B, llvm::Value *A, llvm::Value *N) {
  unsigned W = A->getType()->getIntegerBitWidth();
  N = B.CreateZExtOrTrunc(N, A->getType());
  llvm::Value *Big = B.CreateICmpUGE(N, llvm::ConstantInt::get(A->getType(), W));
  return B.CreateSelect(Big, zero(A->getType()), B.CreateShl(A, N));
}

static llvm::Value *clampedShr(llvm::IRBuilder<> &B, llvm::Value *A, llvm::Value *N, bool Signed) {
  unsigned W = A->getType()->getIntegerBitWidth();
  llvm::Value *Cap = llvm::ConstantInt::get(A->getType(), W - 1);
  if (Signed) {
    // Saturate the amount at W-1: the result is then the sign fill.
    llvm::Value *N32 = B.CreateZExtOrTrunc(N, B.getInt32Ty());
    llvm::Value *Big = B.CreateICmpUGE(N32, B.getInt32(W - 1));
    llvm::Value *Amt = B.CreateSelect(Big, Cap, B.CreateZExtOrTrunc(N, A->getType()));
    return B.CreateAShr(A, Amt);
  }
  llvm::Value *N32 = B.CreateZExtOrTrunc(N, B.getInt32Ty());
  llvm::Value *Big = B.CreateICmpUGE(N32, B.getInt32(W));
  llvm::Value *Amt = B.CreateSelect(Big, zero(A->getType()), B.CreateZExtOrTrunc(N, A->getType()));
  return B.CreateSelect(Big, zero(A->getType()), B.CreateLShr(A, Amt));
}

Error FunctionLowering::lowerInteger(const Instruction &I) {
  ScalarType T = lastType(I);
  const std::string &Op = I.Opcode;
  if (isFloatType(T)) {
    if (T == ScalarType::F32 || T == ScalarType::F64)
      return lowerFloat(I);
    return lowerHalf(I);
  }
  if (T == ScalarType::None)
    return invalid(I, "missing type");
  unsigned W = typeBits(T);
  bool Signed = isSignedType(T);
  llvm::Type *Ty = valueType(T);
  auto rd = [&](size_t N, ScalarType RT) { return read(I, N, RT); };
#define READ(Var, N, RT)                                                                                               \
  auto Var##E = rd(N, RT);                                                                                             \
  if (!Var##E)                                                                                                         \
    return Var##E.takeError();                                                                                         \
  llvm::Value *Var = *Var##E;

  if (Op == "add" || Op == "sub" || Op == "addc" || Op == "subc") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    bool IsAdd = Op == "add" || Op == "addc";
    bool CarryIn = Op == "addc" || Op == "subc";
    bool CarryOut = I.hasMod("cc");
    llvm::Value *R;
    if (I.hasMod("sat") && !CarryIn && !CarryOut) {
      R = intrinsic(IsAdd ? llvm::Intrinsic::sadd_sat : llvm::Intrinsic::ssub_sat, {A, Bv});
    } else if (!CarryIn && !CarryOut) {
      R = IsAdd ? B.CreateAdd(A, Bv) : B.CreateSub(A, Bv);
    } else {
      // Carry chains in a wider type: CF is the carry of additions and the borrow of subtractions.
      llvm::Type *WT = intType(W + 1);
      llvm::Value *AW = B.CreateZExt(A, WT), *BW = B.CreateZExt(Bv, WT);
      llvm::Value *Cin = CarryIn ? B.CreateZExt(B.CreateLoad(B.getInt1Ty(), carry()), WT) : zero(WT);
      llvm::Value *Full = IsAdd ? B.CreateAdd(B.CreateAdd(AW, BW), Cin) : B.CreateSub(AW, B.CreateAdd(BW, Cin));
      R = B.CreateTrunc(Full, Ty);
      if (CarryOut)
        B.CreateStore(B.CreateTrunc(B.CreateLShr(Full, W), B.getInt1Ty()), carry());
    }
    return write(I, 0, R, T);
  }

  if (Op == "mul" || Op == "mad" || Op == "madc") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    bool Wide = I.hasMod("wide"), Hi = I.hasMod("hi");
    llvm::Value *R;
    ScalarType RT = T;
    if (Wide) {
      llvm::Type *DT = intType(2 * W);
      R = B.CreateMul(resizeInt(A, 2 * W, Signed), resizeInt(Bv, 2 * W, Signed));
      RT = Signed ? (W == 32 ? ScalarType::S64 : ScalarType::S32) : (W == 32 ? ScalarType::U64 : ScalarType::U32);
      if (W == 16)
        RT = Signed ? ScalarType::S32 : ScalarType::U32;
      if (W == 64)
        return unsupported(I);
      (void)DT;
    } else if (Hi) {
      llvm::Value *P = B.CreateMul(resizeInt(A, 2 * W, Signed), resizeInt(Bv, 2 * W, Signed));
      R = B.CreateTrunc(Signed ? B.CreateAShr(P, W) : B.CreateLShr(P, W), Ty);
    } else {
      R = B.CreateMul(A, Bv);
    }
    if (Op == "mul")
      return write(I, 0, R, RT);
    READ(C, 3, RT);
    bool CarryIn = Op == "madc", CarryOut = I.hasMod("cc");
    if (I.hasMod("sat") && Hi && Signed) {
      R = intrinsic(llvm::Intrinsic::sadd_sat, {R, C});
    } else if (CarryIn || CarryOut) {
      unsigned RW = R->getType()->getIntegerBitWidth();
      llvm::Type *WT = intType(RW + 1);
      llvm::Value *Cin = CarryIn ? B.CreateZExt(B.CreateLoad(B.getInt1Ty(), carry()), WT) : zero(WT);
      llvm::Value *Full = B.CreateAdd(B.CreateAdd(B.CreateZExt(R, WT), B.CreateZExt(C, WT)), Cin);
      R = B.CreateTrunc(Full, R->getType());
      if (CarryOut)
        B.CreateStore(B.CreateTrunc(B.CreateLShr(Full, RW), B.getInt1Ty()), carry());
    } else {
      R = B.CreateAdd(R, C);
    }
    return write(I, 0, R, RT);
  }

  if (Op == "mul24" || Op == "mad24") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    auto low24 = [&](llvm::Value *V) {
      llvm::Value *X = B.CreateShl(V, 8);
      X = Signed ? B.CreateAShr(X, 8) : B.CreateLShr(X, 8);
      return resizeInt(X, 64, Signed);
    };
    llvm::Value *P = B.CreateMul(low24(A), low24(Bv));
    llvm::Value *R = I.hasMod("hi") ? B.CreateTrunc(B.CreateLShr(P, 16), Ty) : B.CreateTrunc(P, Ty);
    if (Op == "mad24") {
      READ(C, 3, T);
      R = I.hasMod("sat") ? intrinsic(llvm::Intrinsic::sadd_sat, {R, C}) : B.CreateAdd(R, C);
    }
    return write(I, 0, R, T);
  }

  if (Op == "sad") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    READ(C, 3, T);
    llvm::Value *Lt = Signed ? B.CreateICmpSLT(A, Bv) : B.CreateICmpULT(A, Bv);
    llvm::Value *D = B.CreateSelect(Lt, B.CreateSub(Bv, A), B.CreateSub(A, Bv));
    return write(I, 0, B.CreateAdd(C, D), T);
  }

  if (Op == "div" || Op == "rem") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    // Division by zero and INT_MIN / -1 must not trap on the host; PTX leaves the value unspecified, we return
    // all ones for x/0 and x for x%0 (what NVIDIA hardware gives), INT_MIN for INT_MIN/-1 and 0 for its remainder.
    llvm::Value *IsZero = B.CreateICmpEQ(Bv, zero(Ty));
    llvm::Value *Safe = B.CreateSelect(IsZero, llvm::ConstantInt::get(Ty, 1), Bv);
    llvm::Value *R;
    if (Signed) {
      llvm::Value *Ovf = B.CreateAnd(B.CreateICmpEQ(A, llvm::ConstantInt::get(Ty, llvm::APInt::getSignedMinValue(W))),
                                     B.CreateICmpEQ(Bv, allOnes(Ty)));
      Safe = B.CreateSelect(Ovf, llvm::ConstantInt::get(Ty, 1), Safe);
      if (Op == "div")
        R = B.CreateSelect(IsZero, allOnes(Ty), B.CreateSDiv(A, Safe));
      else
        R = B.CreateSelect(IsZero, A, B.CreateSelect(Ovf, zero(Ty), B.CreateSRem(A, Safe)));
    } else {
      if (Op == "div")
        R = B.CreateSelect(IsZero, allOnes(Ty), B.CreateUDiv(A, Safe));
      else
        R = B.CreateSelect(IsZero, A, B.CreateURem(A, Safe));
    }
    return write(I, 0, R, T);
  }

  if (Op == "abs" || Op == "neg") {
    READ(A, 1, T);
    llvm::Value *N = B.CreateSub(zero(Ty), A);
    if (Op == "neg")
      return write(I, 0, N, T);
    return write(I, 0, B.CreateSelect(B.CreateICmpSLT(A, zero(Ty)), N, A), T);
  }

  if (Op == "min" || Op == "max") {
    if (I.Operands.size() != 3)
      return invalid(I, "integer min/max take two inputs"); // as ptxas: the three-input form is f32 only
    READ(A, 1, T);
    READ(Bv, 2, T);
    llvm::Intrinsic::ID Id = Op == "min" ? (Signed ? llvm::Intrinsic::smin : llvm::Intrinsic::umin)
                                         : (Signed ? llvm::Intrinsic::smax : llvm::Intrinsic::umax);
    llvm::Value *R = intrinsic(Id, {A, Bv});
    if (I.hasMod("relu"))
      R = intrinsic(llvm::Intrinsic::smax, {R, zero(Ty)});
    return write(I, 0, R, T);
  }

  if (Op == "popc" || Op == "clz") {
    READ(A, 1, T);
    llvm::Value *R =
        Op == "popc" ? intrinsic(llvm::Intrinsic::ctpop, {A}) : intrinsic(llvm::Intrinsic::ctlz, {A, B.getFalse()});
    return write(I, 0, resizeInt(R, 32, false), ScalarType::U32);
  }

  if (Op == "brev") {
    READ(A, 1, T);
    return write(I, 0, intrinsic(llvm::Intrinsic::bitreverse, {A}), T);
  }

  if (Op == "bfind") {
    READ(A, 1, T);
    llvm::Value *X = Signed ? B.CreateSelect(B.CreateICmpSLT(A, zero(Ty)), B.CreateNot(A), A) : A;
    llvm::Value *Lz = resizeInt(intrinsic(llvm::Intrinsic::ctlz, {X, B.getFalse()}), 32, false);
    llvm::Value *None = B.CreateICmpEQ(X, zero(Ty));
    llvm::Value *Pos = I.hasMod("shiftamt") ? Lz : B.CreateSub(B.getInt32(W - 1), Lz);
    return write(I, 0, B.CreateSelect(None, B.getInt32(0xffffffffu), Pos), ScalarType::U32);
  }

  if (Op == "bfe") {
    READ(A, 1, T);
    READ(Pos0, 2, ScalarType::U32);
    READ(Len0, 3, ScalarType::U32);
    llvm::Value *Pos = B.CreateAnd(Pos0, 0xff), *Len = B.CreateAnd(Len0, 0xff);
    llvm::Value *PosBig = B.CreateICmpUGT(Pos, B.getInt32(W - 1));
    llvm::Value *PosT = resizeInt(B.CreateSelect(PosBig, B.getInt32(0), Pos), W, false);
    llvm::Value *X = B.CreateSelect(PosBig, zero(Ty), B.CreateLShr(A, PosT));
    // Bits actually available above pos.
    llvm::Value *Avail = B.CreateSelect(PosBig, B.getInt32(0), B.CreateSub(B.getInt32(W), Pos));
    llvm::Value *L = intrinsic(llvm::Intrinsic::umin, {Len, Avail});
    llvm::Value *LT = resizeInt(L, W, false);
    llvm::Value *Mask =
        B.CreateSelect(B.CreateICmpUGE(L, B.getInt32(W)), allOnes(Ty),
                       B.CreateSub(B.CreateShl(llvm::ConstantInt::get(Ty, 1), LT), llvm::ConstantInt::get(Ty, 1)));
    llvm::Value *R = B.CreateAnd(X, Mask);
    if (Signed) {
      // The sign bit is a[min(pos+len-1, msb)], or 0 when len == 0.
      llvm::Value *SPos =
          intrinsic(llvm::Intrinsic::umin, {B.CreateSub(B.CreateAdd(Pos, Len), B.getInt32(1)), B.getInt32(W - 1)});
      llvm::Value *SBit = B.CreateTrunc(B.CreateLShr(A, resizeInt(SPos, W, false)), B.getInt1Ty());
      SBit = B.CreateAnd(SBit, B.CreateICmpNE(Len, B.getInt32(0)));
      R = B.CreateSelect(SBit, B.CreateOr(R, B.CreateNot(Mask)), R);
    }
    return write(I, 0, R, T);
  }

  if (Op == "bfi") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    READ(Pos0, 3, ScalarType::U32);
    READ(Len0, 4, ScalarType::U32);
    llvm::Value *Pos = B.CreateAnd(Pos0, 0xff), *Len = B.CreateAnd(Len0, 0xff);
    llvm::Value *PosBig = B.CreateICmpUGT(Pos, B.getInt32(W - 1));
    llvm::Value *Avail = B.CreateSelect(PosBig, B.getInt32(0), B.CreateSub(B.getInt32(W), Pos));
    llvm::Value *L = intrinsic(llvm::Intrinsic::umin, {Len, Avail});
    llvm::Value *LT = resizeInt(L, W, false);
    llvm::Value *PosT = resizeInt(B.CreateSelect(PosBig, B.getInt32(0), Pos), W, false);
    llvm::Value *Mask =
        B.CreateSelect(B.CreateICmpUGE(L, B.getInt32(W)), allOnes(Ty),
                       B.CreateSub(B.CreateShl(llvm::ConstantInt::get(Ty, 1), LT), llvm::ConstantInt::get(Ty, 1)));
    Mask = B.CreateShl(Mask, PosT);
    llvm::Value *R = B.CreateOr(B.CreateAnd(Bv, B.CreateNot(Mask)), B.CreateAnd(B.CreateShl(A, PosT), Mask));
    return write(I, 0, B.CreateSelect(PosBig, Bv, R), T);
  }

  if (Op == "prmt") {
    READ(A, 1, ScalarType::B32);
    READ(Bv, 2, ScalarType::B32);
    READ(C, 3, ScalarType::B32);
    llvm::Value *Tmp = B.CreateOr(B.CreateZExt(A, B.getInt64Ty()), B.CreateShl(B.CreateZExt(Bv, B.getInt64Ty()), 32));
    // Mode tables: for selector c[1:0], the four byte selectors (nibbles d.b3..d.b0).
    static const std::pair<const char *, uint64_t> Modes[] = {
        {"f4e", 0x6543'5432'4321'3210ull}, {"b4e", 0x0123'7012'6701'5670ull}, {"rc8", 0x3333'2222'1111'0000ull},
        {"ecl", 0x3333'3222'3211'3210ull}, {"ecr", 0x3210'2210'1110'0000ull}, {"rc16", 0x3232'1010'3232'1010ull}};
    llvm::Value *Sel = C;
    bool SignMode = true;
    for (const auto &[Name, Table] : Modes)
      if (I.hasMod(Name)) {
        llvm::Value *Idx = B.CreateZExt(B.CreateMul(B.CreateAnd(C, 3), B.getInt32(16)), B.getInt64Ty());
        Sel = B.CreateTrunc(B.CreateAnd(B.CreateLShr(B.getInt64(Table), Idx), 0xffff), B.getInt32Ty());
        SignMode = false;
      }
    llvm::Value *R = B.getInt32(0);
    for (unsigned N = 0; N < 4; ++N) {
      llvm::Value *Nib = B.CreateAnd(B.CreateLShr(Sel, 4 * N), 0xf);
      llvm::Value *ByteIdx = B.CreateZExt(B.CreateAnd(Nib, 7), B.getInt64Ty());
      llvm::Value *Byte = B.CreateAnd(B.CreateLShr(Tmp, B.CreateMul(ByteIdx, B.getInt64(8))), 0xff);
      Byte = B.CreateTrunc(Byte, B.getInt32Ty());
      if (SignMode) {
        llvm::Value *Rep = B.CreateICmpNE(B.CreateAnd(Nib, 8), B.getInt32(0));
        llvm::Value *Fill =
            B.CreateSelect(B.CreateICmpNE(B.CreateAnd(Byte, 0x80), B.getInt32(0)), B.getInt32(0xff), B.getInt32(0));
        Byte = B.CreateSelect(Rep, Fill, Byte);
      }
      R = B.CreateOr(R, B.CreateShl(Byte, 8 * N));
    }
    return write(I, 0, R, ScalarType::B32);
  }

  if (Op == "shl" || Op == "shr") {
    READ(A, 1, T);
    READ(N, 2, ScalarType::U32);
    llvm::Value *R = Op == "shl" ? clampedShl(B, A, N) : clampedShr(B, A, N, Signed);
    return write(I, 0, R, T);
  }

  if (Op == "shf") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    READ(N, 3, ScalarType::U32);
    bool Left = I.hasMod("l");
    llvm::Value *NT = resizeInt(N, W, false);
    llvm::Value *R = intrinsic(Left ? llvm::Intrinsic::fshl : llvm::Intrinsic::fshr, {Bv, A, NT});
    if (I.hasMod("clamp")) {
      llvm::Value *Big = B.CreateICmpUGE(N, B.getInt32(W));
      R = B.CreateSelect(Big, Left ? A : Bv, R);
    }
    return write(I, 0, R, T);
  }

  if (Op == "and" || Op == "or" || Op == "xor") {
    READ(A, 1, T);
    READ(Bv, 2, T);
    llvm::Value *R = Op == "and" ? B.CreateAnd(A, Bv) : Op == "or" ? B.CreateOr(A, Bv) : B.CreateXor(A, Bv);
    return write(I, 0, R, T);
  }
  if (Op == "not") {
    READ(A, 1, T);
    return write(I, 0, B.CreateNot(A), T);
  }
  if (Op == "cnot") {
    READ(A, 1, T);
    return write(I, 0, B.CreateZExt(B.CreateICmpEQ(A, zero(Ty)), Ty), T);
  }

  if (Op == "lop3") {
    if (I.Operands.size() < 5 || !I.Operands[4].is<IntOperand>())
      return unsupported(I);
    READ(A, 1, T);
    READ(Bv, 2, T);
    READ(C, 3, T);
    uint64_t Lut = I.Operands[4].as<IntOperand>().Value & 0xff;
    // Sum of minterms: bit i of the LUT is the result for (a,b,c) = (i>>2 & 1, i>>1 & 1, i & 1).
    llvm::Value *R = zero(Ty);
    for (unsigned Idx = 0; Idx < 8; ++Idx) {
      if (!((Lut >> Idx) & 1))
        continue;
      llvm::Value *Ta = (Idx & 4) ? A : B.CreateNot(A);
      llvm::Value *Tb = (Idx & 2) ? Bv : B.CreateNot(Bv);
      llvm::Value *Tc = (Idx & 1) ? C : B.CreateNot(C);
      R = B.CreateOr(R, B.CreateAnd(B.CreateAnd(Ta, Tb), Tc));
    }
    return write(I, 0, R, T);
  }

  if (Op == "bmsk") {
    // PTX pseudo-code: mask0 = ~0 << (a & 31); mask1 = ~0 << ((a & 31) + (b & 31)) unless the sum, a (.clamp) or
    // b (.clamp) overflows (mask1 = 0), or b & 31 == 0 (mask1 = ~0); d = mask0 & ~mask1.
    bool Clamp = I.hasMod("clamp");
    if (Clamp == I.hasMod("wrap") || W != 32)
      return unsupported(I);
    READ(A, 1, ScalarType::U32);
    READ(Bv, 2, ScalarType::U32);
    llvm::Value *A1 = B.CreateAnd(A, 31), *B1 = B.CreateAnd(Bv, 31);
    llvm::Value *Ones = B.getInt32(0xffffffffu);
    llvm::Value *Mask0 = B.CreateShl(Ones, A1);
    llvm::Value *Sum = B.CreateAdd(A1, B1);
    llvm::Value *Overflow = B.CreateICmpUGE(Sum, B.getInt32(32));
    if (Clamp) {
      llvm::Value *PosOvf = B.CreateICmpUGE(A, B.getInt32(32));
      Mask0 = B.CreateSelect(PosOvf, B.getInt32(0), Mask0);
      Overflow = B.CreateOr(Overflow, B.CreateOr(PosOvf, B.CreateICmpUGE(Bv, B.getInt32(32))));
    }
    llvm::Value *SumSafe = B.CreateSelect(Overflow, B.getInt32(0), Sum);
    llvm::Value *Mask1 = B.CreateSelect(
        Overflow, B.getInt32(0), B.CreateSelect(B.CreateICmpEQ(B1, B.getInt32(0)), Ones, B.CreateShl(Ones, SumSafe)));
    return write(I, 0, B.CreateAnd(Mask0, B.CreateNot(Mask1)), ScalarType::B32);
  }

  if (Op == "szext") {
    // PTX pseudo-code: the low N = b & 31 bits of a, sign- (.s32) or zero-extended; N = 0 gives 0; b >= 32 with
    // .clamp gives a unchanged.
    bool Clamp = I.hasMod("clamp");
    if (Clamp == I.hasMod("wrap") || W != 32)
      return unsupported(I);
    READ(A, 1, ScalarType::U32);
    READ(Bv, 2, ScalarType::U32);
    llvm::Value *B1 = B.CreateAnd(Bv, 31);
    llvm::Value *TooLarge = Clamp ? B.CreateICmpUGE(Bv, B.getInt32(32)) : B.getFalse();
    llvm::Value *Mask = B.CreateSelect(TooLarge, B.getInt32(0), B.CreateShl(B.getInt32(0xffffffffu), B1));
    llvm::Value *SignBit = B.getFalse();
    if (Signed) {
      llvm::Value *SignPos = B.CreateAnd(B.CreateSub(B1, B.getInt32(1)), 31);
      llvm::Value *Bit = B.CreateTrunc(B.CreateLShr(A, SignPos), B.getInt1Ty());
      SignBit = B.CreateAnd(Bit, B.CreateAnd(B.CreateNot(TooLarge), B.CreateICmpNE(B1, B.getInt32(0))));
    }
    llvm::Value *R = B.CreateOr(B.CreateAnd(A, B.CreateNot(Mask)), B.CreateSelect(SignBit, Mask, B.getInt32(0)));
    return write(I, 0, R, T);
  }

  if (Op == "fns") {
    // Position of the |offset|-th set bit of mask counting up (offset > 0) or down (offset < 0) from base, base
    // itself included; offset 0 tests mask[base]. Not found: 0xffffffff. base > 31 is undefined in PTX: we return
    // 0xffffffff. The n-th set bit is found by a branch-free popcount bisection.
    if (W != 32)
      return unsupported(I);
    READ(Mask, 1, ScalarType::B32);
    READ(Base, 2, ScalarType::U32);
    READ(Off, 3, ScalarType::S32);
    llvm::Value *NotFound = B.getInt32(0xffffffffu);
    llvm::Value *BaseOk = B.CreateICmpULT(Base, B.getInt32(32));
    llvm::Value *BaseS = B.CreateAnd(Base, 31);
    llvm::Value *Neg = B.CreateICmpSLT(Off, B.getInt32(0));
    llvm::Value *N = B.CreateSelect(Neg, B.CreateSub(B.getInt32(0), Off), Off); // |offset| as unsigned
    llvm::Value *Ones = B.getInt32(0xffffffffu);
    llvm::Value *Up = B.CreateAnd(Mask, B.CreateShl(Ones, BaseS));
    llvm::Value *Down = B.CreateAnd(Mask, B.CreateLShr(Ones, B.CreateSub(B.getInt32(31), BaseS)));
    llvm::Value *M = B.CreateSelect(Neg, Down, Up);
    llvm::Value *Count = intrinsic(llvm::Intrinsic::ctpop, {M});
    llvm::Value *Found = B.CreateICmpUGE(Count, N);
    // K: 0-based index of the wanted bit counted from bit 0 of M.
    llvm::Value *K = B.CreateSelect(Neg, B.CreateSub(Count, N), B.CreateSub(N, B.getInt32(1)));
    llvm::Value *Pos = B.getInt32(0);
    for (unsigned Width = 16; Width >= 1; Width /= 2) {
      llvm::Value *Low = B.CreateAnd(B.CreateLShr(M, Pos), B.getInt32((1u << Width) - 1));
      llvm::Value *C = intrinsic(llvm::Intrinsic::ctpop, {Low});
      llvm::Value *Skip = B.CreateICmpUGE(K, C);
      K = B.CreateSelect(Skip, B.CreateSub(K, C), K);
      Pos = B.CreateSelect(Skip, B.CreateAdd(Pos, B.getInt32(Width)), Pos);
    }
    llvm::Value *R = B.CreateSelect(Found, Pos, NotFound);
    llvm::Value *AtBase = B.CreateTrunc(B.CreateLShr(Mask, BaseS), B.getInt1Ty());
    llvm::Value *Zero = B.CreateSelect(AtBase, BaseS, NotFound);
    R = B.CreateSelect(B.CreateICmpEQ(Off, B.getInt32(0)), Zero, R);
    return write(I, 0, B.CreateSelect(BaseOk, R, NotFound), ScalarType::B32);
  }

  if (Op == "dp4a" || Op == "dp2a") {
    auto Ts = typeMods(I);
    if (Ts.size() != 2)
      return invalid(I, "dp4a needs two types");
    bool SA = isSignedType(Ts[0]), SB = isSignedType(Ts[1]);
    READ(A, 1, ScalarType::B32);
    READ(Bv, 2, ScalarType::B32);
    READ(C, 3, ScalarType::B32);
    auto field = [&](llvm::Value *V, unsigned Shift, unsigned Bits, bool S) {
      llvm::Value *X = B.CreateShl(V, 32 - Shift - Bits);
      return S ? B.CreateAShr(X, 32 - Bits) : B.CreateLShr(X, 32 - Bits);
    };
    llvm::Value *R = C;
    if (Op == "dp4a") {
      for (unsigned N = 0; N < 4; ++N)
        R = B.CreateAdd(R, B.CreateMul(field(A, 8 * N, 8, SA), field(Bv, 8 * N, 8, SB)));
    } else {
      unsigned Base = I.hasMod("hi") ? 2 : 0;
      for (unsigned N = 0; N < 2; ++N)
        R = B.CreateAdd(R, B.CreateMul(field(A, 16 * N, 16, SA), field(Bv, 8 * (N + Base), 8, SB)));
    }
    return write(I, 0, R, ScalarType::B32);
  }
  if (Op.size() == 5 || Op.size() == 6 || Op.size() == 9) {
    // SIMD video instructions (vadd4, vabsdiff2, ...) without byte masks or operand selectors.
    char Last = Op.back();
    std::string Base = Op.substr(0, Op.size() - 1);
    bool Known =
        Base == "vadd" || Base == "vsub" || Base == "vavrg" || Base == "vabsdiff" || Base == "vmin" || Base == "vmax";
    if (Known && (Last == '2' || Last == '4')) {
      auto Ts = typeMods(I);
      if (Ts.size() != 3 || I.Operands.size() != 4 || !I.Operands[0].is<RegOperand>() ||
          !I.Operands[1].is<RegOperand>() || !I.Operands[2].is<RegOperand>())
        return unsupported(I);
      bool SD = isSignedType(Ts[0]), SA = isSignedType(Ts[1]), SB = isSignedType(Ts[2]);
      unsigned Lanes = Last == '4' ? 4 : 2, LW = 32 / Lanes;
      READ(A, 1, ScalarType::B32);
      READ(Bv, 2, ScalarType::B32);
      READ(C, 3, ScalarType::B32);
      auto lane = [&](llvm::Value *V, unsigned N, bool S) {
        llvm::Value *X = B.CreateShl(V, 32 - LW * (N + 1));
        return S ? B.CreateAShr(X, 32 - LW) : B.CreateLShr(X, 32 - LW);
      };
      llvm::Value *Sum = C, *Packed = B.getInt32(0);
      for (unsigned N = 0; N < Lanes; ++N) {
        llvm::Value *X = lane(A, N, SA), *Y = lane(Bv, N, SB), *R;
        if (Base == "vadd")
          R = B.CreateAdd(X, Y);
        else if (Base == "vsub")
          R = B.CreateSub(X, Y);
        else if (Base == "vavrg")
          R = B.CreateAShr(B.CreateAdd(B.CreateAdd(X, Y), B.getInt32(1)), 1);
        else if (Base == "vabsdiff")
          R = B.CreateSelect(B.CreateICmpSLT(X, Y), B.CreateSub(Y, X), B.CreateSub(X, Y));
        else if (Base == "vmin")
          R = B.CreateSelect(B.CreateICmpSLT(X, Y), X, Y);
        else
          R = B.CreateSelect(B.CreateICmpSGT(X, Y), X, Y);
        if (I.hasMod("sat")) {
          int64_t Lo = SD ? -(int64_t(1) << (LW - 1)) : 0,
                  Hi = SD ? (int64_t(1) << (LW - 1)) - 1 : (int64_t(1) << LW) - 1;
          R = intrinsic(llvm::Intrinsic::smax, {R, B.getInt32(uint32_t(Lo))});
          R = intrinsic(llvm::Intrinsic::smin, {R, B.getInt32(uint32_t(Hi))});
        }
        Sum = B.CreateAdd(Sum, R);
        llvm::Value *Mask = B.getInt32(LW == 8 ? 0xff : 0xffff);
        Packed = B.CreateOr(Packed, B.CreateShl(B.CreateAnd(R, Mask), LW * N));
      }
      return write(I, 0, I.hasMod("add") ? Sum : Packed, ScalarType::B32);
    }
  }
#undef READ
  return unsupported(I);
}

// ---------------------------------------------------------------------------------------------------------------
// Comparisons and selection

static bool isCompareOp(const std::string &M) {
  static const char *Ops[] = {"eq", "ne",  "lt",  "le",  "gt",  "ge",  "lo",  "ls",  "hi",
                              "hs", "equ", "neu", "ltu", "leu", "gtu", "geu", "num", "nan"};
  for (const char *O : Ops)
    if (M == O)
      return true;
  return false;
}

static Expected<llvm::Value *> compare(FunctionLowering &L, const Instruction &I, const std::string &Cmp, ScalarType T,
                                       llvm::Value *A, llvm::Value *Bv) {
  auto &B = L.B;
  if (A->getType()->isFPOrFPVectorTy()) {
    llvm::CmpInst::Predicate P;
    if (Cmp == "eq")
      P = llvm::CmpInst::FCMP_OEQ;
    else if (Cmp == "ne")
      P = llvm::CmpInst::FCMP_ONE;
    else if (Cmp == "lt")
      P = llvm::CmpInst::FCMP_OLT;
    else if (Cmp == "le")
      P = llvm::CmpInst::FCMP_OLE;
    else if (Cmp == "gt")
      P = llvm::CmpInst::FCMP_OGT;
    else if (Cmp == "ge")
      P = llvm::CmpInst::FCMP_OGE;
    else if (Cmp == "equ")
      P = llvm::CmpInst::FCMP_UEQ;
    else if (Cmp == "neu")
      P = llvm::CmpInst::FCMP_UNE;
    else if (Cmp == "ltu")
      P = llvm::CmpInst::FCMP_ULT;
    else if (Cmp == "leu")
      P = llvm::CmpInst::FCMP_ULE;
    else if (Cmp == "gtu")
      P = llvm::CmpInst::FCMP_UGT;
    else if (Cmp == "geu")
      P = llvm::CmpInst::FCMP_UGE;
    else if (Cmp == "num")
      P = llvm::CmpInst::FCMP_ORD;
    else if (Cmp == "nan")
      P = llvm::CmpInst::FCMP_UNO;
    else
      return L.invalid(I, "bad float comparison");
    return B.CreateFCmp(P, A, Bv);
  }
  bool S = isSignedType(T);
  llvm::CmpInst::Predicate P;
  if (Cmp == "eq")
    P = llvm::CmpInst::ICMP_EQ;
  else if (Cmp == "ne")
    P = llvm::CmpInst::ICMP_NE;
  else if (Cmp == "lt")
    P = S ? llvm::CmpInst::ICMP_SLT : llvm::CmpInst::ICMP_ULT;
  else if (Cmp == "le")
    P = S ? llvm::CmpInst::ICMP_SLE : llvm::CmpInst::ICMP_ULE;
  else if (Cmp == "gt")
    P = S ? llvm::CmpInst::ICMP_SGT : llvm::CmpInst::ICMP_UGT;
  else if (Cmp == "ge")
    P = S ? llvm::CmpInst::ICMP_SGE : llvm::CmpInst::ICMP_UGE;
  else if (Cmp == "lo")
    P = llvm::CmpInst::ICMP_ULT;
  else if (Cmp == "ls")
    P = llvm::CmpInst::ICMP_ULE;
  else if (Cmp == "hi")
    P = llvm::CmpInst::ICMP_UGT;
  else if (Cmp == "hs")
    P = llvm::CmpInst::ICMP_UGE;
  else
    return L.invalid(I, "bad integer comparison");
  return B.CreateICmp(P, A, Bv);
}

Error FunctionLowering::lowerCompare(const Instruction &I) {
  const std::string &Op = I.Opcode;
  auto Ts = typeMods(I);
  if (Ts.empty())
    return invalid(I, "missing type");

  if (Op == "selp") {
    ScalarType T = Ts.back();
    auto A = read(I, 1, T);
    if (!A)
      return A.takeError();
    auto Bv = read(I, 2, T);
    if (!Bv)
      return Bv.takeError();
    auto C = read(I, 3, ScalarType::Pred);
    if (!C)
      return C.takeError();
    return write(I, 0, B.CreateSelect(*C, *A, *Bv), T);
  }

  if (Op == "slct") {
    if (Ts.size() != 2)
      return invalid(I, "slct needs two types");
    ScalarType DT = Ts[0], CT = Ts[1];
    auto A = read(I, 1, DT);
    if (!A)
      return A.takeError();
    auto Bv = read(I, 2, DT);
    if (!Bv)
      return Bv.takeError();
    auto C = read(I, 3, CT);
    if (!C)
      return C.takeError();
    llvm::Value *Cond;
    if (CT == ScalarType::F32) {
      llvm::Value *CV = I.hasMod("ftz") ? flushDenormal(*C) : *C;
      Cond = B.CreateFCmpOGE(CV, llvm::ConstantFP::get(CV->getType(), 0.0));
    } else {
      Cond = B.CreateICmpSGE(*C, llvm::ConstantInt::get((*C)->getType(), 0));
    }
    return write(I, 0, B.CreateSelect(Cond, *A, *Bv), DT);
  }

  // setp / set
  std::string Cmp, BoolOp;
  for (const auto &M : I.Mods) {
    if (Cmp.empty() && isCompareOp(M))
      Cmp = M;
    else if (M == "and" || M == "or" || M == "xor")
      BoolOp = M;
  }
  if (Cmp.empty())
    return invalid(I, "missing comparison");
  ScalarType ST = Ts.back();
  ScalarType DT = Op == "set" && Ts.size() >= 2 ? Ts[Ts.size() - 2] : ScalarType::Pred;
  auto A = read(I, 1, ST);
  if (!A)
    return A.takeError();
  auto Bv = read(I, 2, ST);
  if (!Bv)
    return Bv.takeError();
  llvm::Value *AV = *A, *BV = *Bv;
  if (I.hasMod("ftz") && ST == ScalarType::F32) {
    AV = flushDenormal(AV);
    BV = flushDenormal(BV);
  }
  auto Res = compare(*this, I, Cmp, ST, AV, BV);
  if (!Res)
    return Res.takeError();
  llvm::Value *R = *Res, *NotR = B.CreateNot(R);
  if (ST == ScalarType::F16x2 || ST == ScalarType::BF16x2) {
    // Per half: lower half -> p (set: the lower half of d), upper half -> q; .and/.or/.xor combine each with c.
    if (!BoolOp.empty()) {
      auto C = read(I, 3, ScalarType::Pred);
      if (!C)
        return C.takeError();
      llvm::Value *CV = B.CreateVectorSplat(2, *C);
      R = BoolOp == "and" ? B.CreateAnd(R, CV) : BoolOp == "or" ? B.CreateOr(R, CV) : B.CreateXor(R, CV);
    }
    if (Op == "setp") {
      CUSHIM_TRY(write(I, 0, B.CreateExtractElement(R, uint64_t(0)), ScalarType::Pred));
      if (I.Operands[0].PairSecond)
        CUSHIM_TRY(writeReg(I, *I.Operands[0].PairSecond, B.CreateExtractElement(R, uint64_t(1)), ScalarType::Pred));
      return Error::success();
    }
    // set.CmpOp.{f16x2,bf16x2}.STYPE gives 1.0 per true half, set.CmpOp.{u32,s32,b32}.STYPE 0xffff per true half.
    llvm::Type *V2 = llvm::FixedVectorType::get(B.getInt16Ty(), 2);
    uint16_t One = DT == ScalarType::F16x2 ? 0x3c00 : DT == ScalarType::BF16x2 ? 0x3f80 : 0xffff;
    if (DT != ScalarType::F16x2 && DT != ScalarType::BF16x2 && typeBits(DT) != 32)
      return unsupported(I);
    llvm::Value *Halves = B.CreateSelect(R, llvm::ConstantInt::get(V2, One), llvm::Constant::getNullValue(V2));
    return write(I, 0, B.CreateBitCast(Halves, B.getInt32Ty()), ScalarType::B32);
  }
  if (!BoolOp.empty()) {
    auto C = read(I, 3, ScalarType::Pred);
    if (!C)
      return C.takeError();
    auto combine = [&](llvm::Value *X) {
      return BoolOp == "and" ? B.CreateAnd(X, *C) : BoolOp == "or" ? B.CreateOr(X, *C) : B.CreateXor(X, *C);
    };
    R = combine(R);
    NotR = combine(NotR);
  }
  if (Op == "setp") {
    CUSHIM_TRY(write(I, 0, R, ScalarType::Pred));
    if (I.Operands[0].PairSecond)
      CUSHIM_TRY(writeReg(I, *I.Operands[0].PairSecond, NotR, ScalarType::Pred));
    return Error::success();
  }
  // set: 1.0f or all ones for true.
  llvm::Type *DTy = valueType(DT);
  llvm::Value *True = DTy->isFloatingPointTy() ? llvm::ConstantFP::get(DTy, 1.0) : allOnes(DTy);
  return write(I, 0, B.CreateSelect(R, True, llvm::Constant::getNullValue(DTy)), DT);
}

} // namespace cushim::ptx::lower
