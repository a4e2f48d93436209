// Floating-point instructions (f32/f64 and f16/bf16): arithmetic with PTX rounding modes, .ftz, .sat, NaN rules of
// min/max, approximate transcendental functions (computed accurately, within the manual's error bounds) and testp.
// Directed rounding (.rz/.rm/.rp) is emulated exactly: round to nearest, compute the sign of the exact residual
// with an error-free transformation, and step one ulp when the nearest result lies on the wrong side.
#include "ptx_translate/LowerInternal.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

namespace cushim::ptx::lower {

llvm::Value *FunctionLowering::intrinsic(llvm::Intrinsic::ID Id, llvm::ArrayRef<llvm::Value *> Args) {
  llvm::Type *Ty = Args[0]->getType();
  if (Id == llvm::Intrinsic::is_fpclass)
    return B.CreateIntrinsic(Id, {Ty}, Args);
  return B.CreateIntrinsic(Id, {Ty}, Args);
}

// PTX min/max on any float type, scalar or packed (per element), from the manual's pseudo-code:
//   .xorsign.abs: s = sign(a) ^ sign(b), a = |a|, b = |b|;
//   both NaN, or .NaN with either NaN: canonical NaN; one NaN: the other operand; else the smaller/larger with
//   -0 < +0; .xorsign.abs then sets the sign of a non-NaN result to s.
// CanonNan is the bit pattern of the type's canonical NaN (per element).
static llvm::Value *ptxMinMax(FunctionLowering &L, llvm::Value *A, llvm::Value *Bv, bool IsMin, bool NanMode,
                              bool XorSignAbs, uint64_t CanonNan) {
  auto &B = L.B;
  llvm::Type *Ty = A->getType();
  llvm::Type *ETy = Ty->getScalarType();
  unsigned EW = ETy->getPrimitiveSizeInBits().getFixedValue();
  llvm::Type *IETy = B.getIntNTy(EW);
  llvm::Type *ITy = IETy;
  if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Ty))
    ITy = llvm::FixedVectorType::get(IETy, VT->getNumElements());
  auto bits = [&](llvm::Value *V) { return B.CreateBitCast(V, ITy); };
  auto flt = [&](llvm::Value *V) { return B.CreateBitCast(V, Ty); };
  llvm::Value *SignMask = llvm::ConstantInt::get(ITy, llvm::APInt::getSignMask(EW));
  llvm::Value *XorSign = nullptr;
  if (XorSignAbs) {
    XorSign = B.CreateAnd(B.CreateXor(bits(A), bits(Bv)), SignMask);
    llvm::Value *NotSign = B.CreateNot(SignMask);
    A = flt(B.CreateAnd(bits(A), NotSign));
    Bv = flt(B.CreateAnd(bits(Bv), NotSign));
  }
  // Compare in a type the host handles natively (exact for half/bfloat).
  llvm::Value *CA = A, *CB = Bv;
  if (EW < 32) {
    llvm::Type *FTy = B.getFloatTy();
    if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Ty))
      FTy = llvm::FixedVectorType::get(B.getFloatTy(), VT->getNumElements());
    CA = B.CreateFPExt(A, FTy);
    CB = B.CreateFPExt(Bv, FTy);
  }
  llvm::Value *ANan = B.CreateFCmpUNO(CA, CA), *BNan = B.CreateFCmpUNO(CB, CB);
  llvm::Value *Lt = IsMin ? B.CreateFCmpOLT(CA, CB) : B.CreateFCmpOGT(CA, CB);
  llvm::Value *Gt = IsMin ? B.CreateFCmpOGT(CA, CB) : B.CreateFCmpOLT(CA, CB);
  // Equal values differ at most in the sign of zero: OR of the bits gives -0 (min), AND gives +0 (max).
  llvm::Value *Eq = flt(IsMin ? B.CreateOr(bits(A), bits(Bv)) : B.CreateAnd(bits(A), bits(Bv)));
  llvm::Value *R = B.CreateSelect(Lt, A, B.CreateSelect(Gt, Bv, Eq));
  llvm::Value *Canon = flt(llvm::ConstantInt::get(ITy, CanonNan));
  llvm::Value *RNan;
  if (NanMode) {
    RNan = B.CreateOr(ANan, BNan);
    R = B.CreateSelect(RNan, Canon, R);
  } else {
    RNan = B.CreateAnd(ANan, BNan);
    R = B.CreateSelect(ANan, Bv, B.CreateSelect(BNan, A, R));
    R = B.CreateSelect(RNan, Canon, R);
  }
  if (XorSignAbs)
    R = B.CreateSelect(RNan, R, flt(B.CreateOr(bits(R), XorSign)));
  return R;
}

// Flushes f16 subnormals (exponent field 0) to a zero of the same sign, per element.
static llvm::Value *flushHalfDenormal(FunctionLowering &L, llvm::Value *V) {
  auto &B = L.B;
  llvm::Type *Ty = V->getType();
  llvm::Type *ITy = B.getInt16Ty();
  if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Ty))
    ITy = llvm::FixedVectorType::get(ITy, VT->getNumElements());
  llvm::Value *X = B.CreateBitCast(V, ITy);
  llvm::Value *Sub =
      B.CreateICmpEQ(B.CreateAnd(X, llvm::ConstantInt::get(ITy, 0x7c00)), llvm::ConstantInt::get(ITy, 0));
  return B.CreateBitCast(B.CreateSelect(Sub, B.CreateAnd(X, llvm::ConstantInt::get(ITy, 0x8000)), X), Ty);
}

std::string FunctionLowering::roundingMode(const Instruction &I) const {
  static const char *Modes[] = {"rn", "rz", "rm", "rp", "rni", "rzi", "rmi", "rpi", "rna", "rs"};
  for (const auto &M : I.Mods)
    for (const char *R : Modes)
      if (M == R)
        return M;
  return {};
}

llvm::Value *FunctionLowering::flushDenormal(llvm::Value *V) {
  llvm::Value *Sub = B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {V->getType()}, {V, B.getInt32(llvm::fcSubnormal)});
  llvm::Value *Z = intrinsic(llvm::Intrinsic::copysign, {llvm::ConstantFP::get(V->getType(), 0.0), V});
  return B.CreateSelect(Sub, Z, V);
}

llvm::Value *FunctionLowering::saturate01(llvm::Value *V) {
  llvm::Type *T = V->getType();
  llvm::Value *One = llvm::ConstantFP::get(T, 1.0), *Zero = llvm::ConstantFP::get(T, 0.0);
  // NaN and negative values (incl. -0) give +0.
  return B.CreateSelect(B.CreateFCmpOGT(V, Zero), B.CreateSelect(B.CreateFCmpOLT(V, One), V, One), Zero);
}

llvm::Value *FunctionLowering::nextUp(llvm::Value *V) {
  llvm::Type *T = V->getType();
  llvm::Value *Bits = toBits(V);
  llvm::Type *IT = Bits->getType();
  llvm::Value *Keep =
      B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {T}, {V, B.getInt32(llvm::fcNan | llvm::fcPosInf)});
  llvm::Value *IsZero = B.CreateFCmpOEQ(V, llvm::ConstantFP::get(T, 0.0));
  llvm::Value *Pos = B.CreateFCmpOGT(V, llvm::ConstantFP::get(T, 0.0));
  llvm::Value *Up = B.CreateSelect(Pos, B.CreateAdd(Bits, llvm::ConstantInt::get(IT, 1)),
                                   B.CreateSub(Bits, llvm::ConstantInt::get(IT, 1)));
  Up = B.CreateSelect(IsZero, llvm::ConstantInt::get(IT, 1), Up);
  return B.CreateSelect(Keep, V, fromBits(Up, T));
}

llvm::Value *FunctionLowering::nextDown(llvm::Value *V) { return B.CreateFNeg(nextUp(B.CreateFNeg(V))); }

llvm::Value *FunctionLowering::directedAdjust(llvm::Value *R, llvm::Value *ResidualPos, llvm::Value *ResidualNeg,
                                              const std::string &Mode) {
  if (Mode == "rm")
    return B.CreateSelect(ResidualNeg, nextDown(R), R);
  if (Mode == "rp")
    return B.CreateSelect(ResidualPos, nextUp(R), R);
  if (Mode == "rz") {
    llvm::Value *Neg = B.CreateICmpSLT(toBits(R), llvm::ConstantInt::get(toBits(R)->getType(), 0));
    llvm::Value *Down = B.CreateAnd(B.CreateNot(Neg), ResidualNeg);
    llvm::Value *Upw = B.CreateAnd(Neg, ResidualPos);
    return B.CreateSelect(Down, nextDown(R), B.CreateSelect(Upw, nextUp(R), R));
  }
  return R;
}

// Overflow to infinity from finite inputs: directed modes clamp to the largest finite value on their side.
static llvm::Value *fixOverflow(FunctionLowering &L, llvm::Value *R, llvm::Value *InputsFinite,
                                const std::string &Mode) {
  auto &B = L.B;
  llvm::Type *T = R->getType();
  llvm::Value *IsInf = B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {T}, {R, B.getInt32(llvm::fcInf)});
  llvm::Value *Ovf = B.CreateAnd(IsInf, InputsFinite);
  llvm::Value *Max = llvm::ConstantFP::get(T, llvm::APFloat::getLargest(T->getFltSemantics()));
  llvm::Value *Neg = B.CreateFCmpOLT(R, llvm::ConstantFP::get(T, 0.0));
  llvm::Value *Clamped = R;
  if (Mode == "rz")
    Clamped = B.CreateSelect(Neg, B.CreateFNeg(Max), Max);
  else if (Mode == "rm")
    Clamped = B.CreateSelect(Neg, R, Max);
  else if (Mode == "rp")
    Clamped = B.CreateSelect(Neg, B.CreateFNeg(Max), R);
  return B.CreateSelect(Ovf, Clamped, R);
}

static llvm::Value *isFinite(FunctionLowering &L, llvm::Value *V) {
  return L.B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {V->getType()}, {V, L.B.getInt32(llvm::fcFinite)});
}

llvm::Value *FunctionLowering::floatRoundToInt(llvm::Value *V, const std::string &Mode) {
  if (Mode == "rzi")
    return intrinsic(llvm::Intrinsic::trunc, {V});
  if (Mode == "rmi")
    return intrinsic(llvm::Intrinsic::floor, {V});
  if (Mode == "rpi")
    return intrinsic(llvm::Intrinsic::ceil, {V});
  if (Mode == "rna")
    return intrinsic(llvm::Intrinsic::round, {V});
  return intrinsic(llvm::Intrinsic::roundeven, {V});
}

// The sign of an exact residual as two predicates (positive, negative).
static std::pair<llvm::Value *, llvm::Value *> residualSign(llvm::IRBuilder<> &B, llvm::Value *Res) {
  llvm::Value *Z = llvm::ConstantFP::get(Res->getType(), 0.0);
  return {B.CreateFCmpOGT(Res, Z), B.CreateFCmpOLT(Res, Z)};
}

Error FunctionLowering::lowerFloat(const Instruction &I) {
  ScalarType T = lastType(I);
  const std::string &Op = I.Opcode;
  if (T == ScalarType::F16 || T == ScalarType::BF16 || T == ScalarType::F16x2 || T == ScalarType::BF16x2)
    return lowerHalf(I);
  if (T != ScalarType::F32 && T != ScalarType::F64)
    return unsupported(I);
  llvm::Type *Ty = valueType(T);
  bool Ftz = I.hasMod("ftz") && T == ScalarType::F32;
  std::string Mode = roundingMode(I);
  bool Directed = Mode == "rz" || Mode == "rm" || Mode == "rp";

  auto in = [&](size_t N) -> Expected<llvm::Value *> {
    auto V = read(I, N, T);
    if (!V)
      return V;
    return Ftz ? flushDenormal(*V) : *V;
  };
  auto out = [&](llvm::Value *R) -> Error {
    if (I.hasMod("sat"))
      R = saturate01(R);
    if (Ftz)
      R = flushDenormal(R);
    return write(I, 0, R, T);
  };
#define IN(Var, N)                                                                                                     \
  auto Var##E = in(N);                                                                                                 \
  if (!Var##E)                                                                                                         \
    return Var##E.takeError();                                                                                         \
  llvm::Value *Var = *Var##E;

  if (Op == "add" || Op == "sub" || Op == "mul") {
    IN(A, 1);
    IN(Bv, 2);
    if (Op == "sub")
      Bv = B.CreateFNeg(Bv);
    llvm::Value *R = Op == "mul" ? B.CreateFMul(A, Bv) : B.CreateFAdd(A, Bv);
    if (Directed) {
      llvm::Value *Err;
      if (Op == "mul") {
        Err = intrinsic(llvm::Intrinsic::fma, {A, Bv, B.CreateFNeg(R)});
      } else { // TwoSum
        llvm::Value *BB = B.CreateFSub(R, A);
        Err = B.CreateFAdd(B.CreateFSub(A, B.CreateFSub(R, BB)), B.CreateFSub(Bv, BB));
      }
      auto [Pos, Neg] = residualSign(B, Err);
      R = directedAdjust(R, Pos, Neg, Mode);
      R = fixOverflow(*this, R, B.CreateAnd(isFinite(*this, A), isFinite(*this, Bv)), Mode);
    }
    return out(R);
  }

  if (Op == "fma" || Op == "mad") {
    IN(A, 1);
    IN(Bv, 2);
    IN(C, 3);
    llvm::Value *R = intrinsic(llvm::Intrinsic::fma, {A, Bv, C});
    if (Directed) {
      llvm::Value *Res;
      if (T == ScalarType::F32) {
        // The product is exact in double; TwoSum in double then gives the exact sum as S + Es.
        llvm::Type *D = B.getDoubleTy();
        llvm::Value *P = B.CreateFMul(B.CreateFPExt(A, D), B.CreateFPExt(Bv, D));
        llvm::Value *Cd = B.CreateFPExt(C, D);
        llvm::Value *S = B.CreateFAdd(P, Cd);
        llvm::Value *BB = B.CreateFSub(S, P);
        llvm::Value *Es = B.CreateFAdd(B.CreateFSub(P, B.CreateFSub(S, BB)), B.CreateFSub(Cd, BB));
        Res = B.CreateFAdd(B.CreateFSub(S, B.CreateFPExt(R, D)), Es);
      } else {
        llvm::Value *P = B.CreateFMul(A, Bv);
        llvm::Value *Ep = intrinsic(llvm::Intrinsic::fma, {A, Bv, B.CreateFNeg(P)});
        llvm::Value *S = B.CreateFAdd(P, C);
        llvm::Value *BB = B.CreateFSub(S, P);
        llvm::Value *Es = B.CreateFAdd(B.CreateFSub(P, B.CreateFSub(S, BB)), B.CreateFSub(C, BB));
        Res = B.CreateFAdd(B.CreateFSub(S, R), B.CreateFAdd(Es, Ep));
      }
      auto [Pos, Neg] = residualSign(B, Res);
      R = directedAdjust(R, Pos, Neg, Mode);
      R = fixOverflow(*this, R, B.CreateAnd(B.CreateAnd(isFinite(*this, A), isFinite(*this, Bv)), isFinite(*this, C)),
                      Mode);
    }
    return out(R);
  }

  if (Op == "div" || Op == "rcp") {
    llvm::Value *A, *Bv;
    if (Op == "div") {
      IN(X, 1);
      IN(Y, 2);
      A = X;
      Bv = Y;
    } else {
      IN(Y, 1);
      A = llvm::ConstantFP::get(Ty, 1.0);
      Bv = Y;
    }
    llvm::Value *R = B.CreateFDiv(A, Bv);
    if (Directed) {
      // a - q*b is exact; the residual of the quotient has its sign times the sign of b.
      llvm::Value *Rem = intrinsic(llvm::Intrinsic::fma, {B.CreateFNeg(R), Bv, A});
      llvm::Value *BNeg = B.CreateFCmpOLT(Bv, llvm::ConstantFP::get(Ty, 0.0));
      auto [Pos, Neg] = residualSign(B, Rem);
      llvm::Value *QPos = B.CreateSelect(BNeg, Neg, Pos), *QNeg = B.CreateSelect(BNeg, Pos, Neg);
      R = directedAdjust(R, QPos, QNeg, Mode);
      R = fixOverflow(*this, R, B.CreateAnd(isFinite(*this, A), isFinite(*this, Bv)), Mode);
    }
    return out(R);
  }

  if (Op == "sqrt") {
    IN(A, 1);
    llvm::Value *R = intrinsic(llvm::Intrinsic::sqrt, {A});
    if (Directed) {
      llvm::Value *Rem = intrinsic(llvm::Intrinsic::fma, {B.CreateFNeg(R), R, A});
      auto [Pos, Neg] = residualSign(B, Rem);
      R = directedAdjust(R, Pos, Neg, Mode);
    }
    return out(R);
  }

  // Approximate functions: computed in double and rounded once, well inside PTX's stated error bounds.
  auto viaDouble = [&](llvm::Value *A, auto Fn) -> llvm::Value * {
    if (T == ScalarType::F64)
      return Fn(A);
    return B.CreateFPTrunc(Fn(B.CreateFPExt(A, B.getDoubleTy())), Ty);
  };
  if (Op == "rsqrt") {
    IN(A, 1);
    return out(viaDouble(A, [&](llvm::Value *X) {
      return B.CreateFDiv(llvm::ConstantFP::get(X->getType(), 1.0), intrinsic(llvm::Intrinsic::sqrt, {X}));
    }));
  }
  if (Op == "sin" || Op == "cos" || Op == "lg2" || Op == "ex2") {
    IN(A, 1);
    llvm::Intrinsic::ID Id = Op == "sin"   ? llvm::Intrinsic::sin
                             : Op == "cos" ? llvm::Intrinsic::cos
                             : Op == "lg2" ? llvm::Intrinsic::log2
                                           : llvm::Intrinsic::exp2;
    return out(viaDouble(A, [&](llvm::Value *X) { return intrinsic(Id, {X}); }));
  }
  if (Op == "tanh") {
    IN(A, 1);
    return out(viaDouble(A, [&](llvm::Value *X) {
      llvm::Type *D = X->getType();
      llvm::Value *Ax = intrinsic(llvm::Intrinsic::fabs, {X});
      llvm::Value *E = intrinsic(llvm::Intrinsic::exp, {B.CreateFMul(Ax, llvm::ConstantFP::get(D, 2.0))});
      llvm::Value *Tv =
          B.CreateFDiv(B.CreateFSub(E, llvm::ConstantFP::get(D, 1.0)), B.CreateFAdd(E, llvm::ConstantFP::get(D, 1.0)));
      Tv = B.CreateSelect(B.CreateFCmpOGT(Ax, llvm::ConstantFP::get(D, 20.0)), llvm::ConstantFP::get(D, 1.0), Tv);
      // Near zero tanh(x) = x to within x^2/3, which avoids the cancellation of e^2x - 1.
      Tv = B.CreateSelect(B.CreateFCmpOLT(Ax, llvm::ConstantFP::get(D, 1.0 / 65536)), Ax, Tv);
      Tv = intrinsic(llvm::Intrinsic::copysign, {Tv, X});
      return B.CreateSelect(B.CreateFCmpUNO(X, X), X, Tv);
    }));
  }

  if (Op == "abs" || Op == "neg") {
    IN(A, 1);
    return out(Op == "abs" ? intrinsic(llvm::Intrinsic::fabs, {A}) : B.CreateFNeg(A));
  }

  if (Op == "min" || Op == "max") {
    bool XorSign = I.hasMod("xorsign") || I.hasMod("abs");
    if (XorSign && (!I.hasMod("xorsign") || !I.hasMod("abs") || T != ScalarType::F32))
      return unsupported(I);
    if (I.Operands.size() != 3)
      return unsupported(I); // the three-input form min.f32 d, a, b, c
    IN(A, 1);
    IN(Bv, 2);
    // Canonical NaN: 0x7fffffff for f32; f64 gives the default quiet NaN.
    uint64_t Canon = T == ScalarType::F32 ? 0x7fffffffull : 0x7ff8000000000000ull;
    return out(ptxMinMax(*this, A, Bv, Op == "min", I.hasMod("NaN"), XorSign, Canon));
  }

  if (Op == "testp") {
    auto A = read(I, 1, T);
    if (!A)
      return A.takeError();
    unsigned Mask = 0;
    if (I.hasMod("finite"))
      Mask = llvm::fcFinite;
    else if (I.hasMod("infinite"))
      Mask = llvm::fcInf;
    else if (I.hasMod("number"))
      Mask = ~llvm::fcNan & llvm::fcAllFlags;
    else if (I.hasMod("notanumber"))
      Mask = llvm::fcNan;
    else if (I.hasMod("normal"))
      Mask = llvm::fcNormal;
    else if (I.hasMod("subnormal"))
      Mask = llvm::fcSubnormal;
    else
      return unsupported(I);
    return write(I, 0, B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {Ty}, {*A, B.getInt32(Mask)}), ScalarType::Pred);
  }

  if (Op == "copysign") {
    auto A = read(I, 1, T);
    if (!A)
      return A.takeError();
    auto Bv = read(I, 2, T);
    if (!Bv)
      return Bv.takeError();
    return write(I, 0, intrinsic(llvm::Intrinsic::copysign, {*Bv, *A}), T);
  }
#undef IN
  return unsupported(I);
}

// f16 / bf16 scalar and packed arithmetic: computed in float or double and rounded once to the narrow type.
Error FunctionLowering::lowerHalf(const Instruction &I) {
  ScalarType T = lastType(I);
  const std::string &Op = I.Opcode;
  llvm::Type *Ty = valueType(T);
  std::string Mode = roundingMode(I);
  if (Mode == "rz" || Mode == "rm" || Mode == "rp")
    return unsupported(I);
  llvm::Type *Wide = B.getDoubleTy();
  if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Ty))
    Wide = llvm::FixedVectorType::get(B.getDoubleTy(), VT->getNumElements());
  auto in = [&](size_t N) -> Expected<llvm::Value *> { return read(I, N, T); };
  auto out = [&](llvm::Value *R) -> Error {
    if (I.hasMod("sat"))
      R = saturate01(R);
    return write(I, 0, R, T);
  };
  auto widen = [&](llvm::Value *V) { return B.CreateFPExt(V, Wide); };
  auto narrow = [&](llvm::Value *V) { return B.CreateFPTrunc(V, Ty); };

  if (Op == "add" || Op == "sub" || Op == "mul" || Op == "fma" || Op == "mad") {
    auto A = in(1);
    if (!A)
      return A.takeError();
    auto Bv = in(2);
    if (!Bv)
      return Bv.takeError();
    llvm::Value *X = widen(*A), *Y = widen(*Bv), *R;
    if (Op == "add")
      R = B.CreateFAdd(X, Y);
    else if (Op == "sub")
      R = B.CreateFSub(X, Y);
    else if (Op == "mul")
      R = B.CreateFMul(X, Y);
    else {
      auto C = in(3);
      if (!C)
        return C.takeError();
      R = intrinsic(llvm::Intrinsic::fma, {X, Y, widen(*C)});
    }
    llvm::Value *N = narrow(R);
    if (I.hasMod("relu"))
      N = B.CreateSelect(B.CreateFCmpOLT(N, llvm::ConstantFP::get(Ty, 0.0)), llvm::ConstantFP::get(Ty, 0.0), N);
    return out(N);
  }
  if (Op == "neg" || Op == "abs") {
    auto A = in(1);
    if (!A)
      return A.takeError();
    return write(I, 0, Op == "neg" ? B.CreateFNeg(*A) : intrinsic(llvm::Intrinsic::fabs, {*A}), T);
  }
  if (Op == "min" || Op == "max") {
    bool XorSign = I.hasMod("xorsign") || I.hasMod("abs");
    if (XorSign && (!I.hasMod("xorsign") || !I.hasMod("abs")))
      return unsupported(I);
    auto A = in(1);
    if (!A)
      return A.takeError();
    auto Bv = in(2);
    if (!Bv)
      return Bv.takeError();
    llvm::Value *X = *A, *Y = *Bv;
    bool IsF16 = T == ScalarType::F16 || T == ScalarType::F16x2;
    if (I.hasMod("ftz") && IsF16) {
      X = flushHalfDenormal(*this, X);
      Y = flushHalfDenormal(*this, Y);
    }
    // The canonical NaN of f16 and bf16 is 0x7fff.
    return write(I, 0, ptxMinMax(*this, X, Y, Op == "min", I.hasMod("NaN"), XorSign, 0x7fff), T);
  }
  if (Op == "ex2" || Op == "tanh" || Op == "rcp" || Op == "sqrt" || Op == "rsqrt" || Op == "lg2" || Op == "sin" ||
      Op == "cos") {
    auto A = in(1);
    if (!A)
      return A.takeError();
    llvm::Value *X = widen(*A), *R;
    if (Op == "ex2")
      R = intrinsic(llvm::Intrinsic::exp2, {X});
    else if (Op == "lg2")
      R = intrinsic(llvm::Intrinsic::log2, {X});
    else if (Op == "sin")
      R = intrinsic(llvm::Intrinsic::sin, {X});
    else if (Op == "cos")
      R = intrinsic(llvm::Intrinsic::cos, {X});
    else if (Op == "rcp")
      R = B.CreateFDiv(llvm::ConstantFP::get(Wide, 1.0), X);
    else if (Op == "sqrt")
      R = intrinsic(llvm::Intrinsic::sqrt, {X});
    else if (Op == "rsqrt")
      R = B.CreateFDiv(llvm::ConstantFP::get(Wide, 1.0), intrinsic(llvm::Intrinsic::sqrt, {X}));
    else {
      llvm::Value *E = intrinsic(llvm::Intrinsic::exp, {B.CreateFMul(X, llvm::ConstantFP::get(Wide, 2.0))});
      R = B.CreateFDiv(B.CreateFSub(E, llvm::ConstantFP::get(Wide, 1.0)),
                       B.CreateFAdd(E, llvm::ConstantFP::get(Wide, 1.0)));
      llvm::Value *Big = B.CreateFCmpOGT(intrinsic(llvm::Intrinsic::fabs, {X}), llvm::ConstantFP::get(Wide, 20.0));
      R = B.CreateSelect(Big, intrinsic(llvm::Intrinsic::copysign, {llvm::ConstantFP::get(Wide, 1.0), X}), R);
    }
    return write(I, 0, narrow(R), T);
  }
  return unsupported(I);
}

} // namespace cushim::ptx::lower
