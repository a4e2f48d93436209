// Floating-point instructions (f32/f64 and f16/bf16): arithmetic with PTX rounding modes, .ftz, .sat, NaN rules of
// min/max, approximate transcendental functions (computed accurately, within the manual's error bounds) and testp.
// Directed rounding (.rz/.rm/.rp) is emulated exactly: round to nearest, compute the sign of the exact residual
// with an error-free transformation, and step one ulp when the nearest result lies on the wrong side.
#include "ptx_translate/LowerInternal.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>

namespace cushim::ptx::lower {

llvm::Value *truncFloat(llvm::IRBuilder<> &B, llvm::Value *V, llvm::Type *To) {
  if (!To->getScalarType()->isBFloatTy())
    return B.CreateFPTrunc(V, To);
  unsigned N = 0;
  if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(V->getType()))
    N = VT->getNumElements();
  auto vec = [&](llvm::Type *T) -> llvm::Type * { return N ? llvm::FixedVectorType::get(T, N) : T; };
  llvm::Type *I32 = vec(B.getInt32Ty()), *F32 = vec(B.getFloatTy());
  llvm::Value *F = V;
  if (V->getType()->getScalarType()->isDoubleTy()) {
    // Round to odd in f32 (24 >= 2*8 + 2 bits): an inexact result with an even significand steps one ulp toward V.
    F = B.CreateFPTrunc(V, F32);
    llvm::Value *Back = B.CreateFPExt(F, V->getType());
    llvm::Value *Bits = B.CreateBitCast(F, I32);
    llvm::Value *Even = B.CreateICmpEQ(B.CreateAnd(Bits, llvm::ConstantInt::get(I32, 1)), llvm::Constant::getNullValue(I32));
    llvm::Value *Inexact = B.CreateFCmpONE(Back, V);
    llvm::Value *Fabs = B.CreateIntrinsic(llvm::Intrinsic::fabs, {V->getType()}, {V});
    llvm::Value *BackAbs = B.CreateIntrinsic(llvm::Intrinsic::fabs, {V->getType()}, {Back});
    llvm::Value *Up = B.CreateFCmpOGT(Fabs, BackAbs); // magnitude grows with the bit pattern
    llvm::Value *Step = B.CreateSelect(Up, llvm::ConstantInt::get(I32, 1), llvm::Constant::getAllOnesValue(I32));
    Bits = B.CreateSelect(B.CreateAnd(Inexact, Even), B.CreateAdd(Bits, Step), Bits);
    F = B.CreateBitCast(Bits, F32);
  }
  llvm::Value *Bits = B.CreateBitCast(F, I32);
  llvm::Value *Lsb = B.CreateAnd(B.CreateLShr(Bits, 16), llvm::ConstantInt::get(I32, 1));
  llvm::Value *R = B.CreateLShr(B.CreateAdd(B.CreateAdd(Bits, llvm::ConstantInt::get(I32, 0x7fff)), Lsb), 16);
  R = B.CreateSelect(B.CreateFCmpUNO(F, F), llvm::ConstantInt::get(I32, 0x7fff), R);
  return B.CreateBitCast(B.CreateTrunc(R, vec(B.getInt16Ty())), To);
}

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
llvm::Value *ptxMinMax(FunctionLowering &L, llvm::Value *A, llvm::Value *Bv, bool IsMin, bool NanMode, bool XorSignAbs,
                       uint64_t CanonNan) {
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

llvm::Value *FunctionLowering::nextDown(llvm::Value *V) { return negate(nextUp(negate(V))); }

// V's bits as integers of the same shape (<2 x half> -> <2 x i16>).
static llvm::Value *elementBits(llvm::IRBuilder<> &B, llvm::Value *V) {
  return B.CreateBitCast(V, V->getType()->getWithNewType(B.getIntNTy(V->getType()->getScalarSizeInBits())));
}

llvm::Value *FunctionLowering::negate(llvm::Value *V) {
  if (V->getType()->getScalarSizeInBits() > 16)
    return B.CreateFNeg(V);
  llvm::Value *Bits = elementBits(B, V);
  return B.CreateBitCast(B.CreateXor(Bits, llvm::ConstantInt::get(Bits->getType(), 0x8000)), V->getType());
}

llvm::Value *FunctionLowering::absolute(llvm::Value *V) {
  if (V->getType()->getScalarSizeInBits() > 16)
    return intrinsic(llvm::Intrinsic::fabs, {V});
  llvm::Value *Bits = elementBits(B, V);
  return B.CreateBitCast(B.CreateAnd(Bits, llvm::ConstantInt::get(Bits->getType(), 0x7fff)), V->getType());
}

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

// tanh of a double (scalar or vector) well within the error of every tanh.approx type: (e^2|x| - 1) / (e^2|x| + 1),
// 1 beyond |x| > 20, and x itself below 2^-16 (within x^2/3, which avoids the cancellation of e^2x - 1); odd.
static llvm::Value *tanhInDouble(FunctionLowering &L, llvm::Value *X) {
  auto &B = L.B;
  llvm::Type *D = X->getType();
  llvm::Value *Ax = L.intrinsic(llvm::Intrinsic::fabs, {X});
  llvm::Value *E = L.intrinsic(llvm::Intrinsic::exp, {B.CreateFMul(Ax, llvm::ConstantFP::get(D, 2.0))});
  llvm::Value *Tv =
      B.CreateFDiv(B.CreateFSub(E, llvm::ConstantFP::get(D, 1.0)), B.CreateFAdd(E, llvm::ConstantFP::get(D, 1.0)));
  Tv = B.CreateSelect(B.CreateFCmpOGT(Ax, llvm::ConstantFP::get(D, 20.0)), llvm::ConstantFP::get(D, 1.0), Tv);
  Tv = B.CreateSelect(B.CreateFCmpOLT(Ax, llvm::ConstantFP::get(D, 1.0 / 65536)), Ax, Tv);
  Tv = L.intrinsic(llvm::Intrinsic::copysign, {Tv, X});
  return B.CreateSelect(B.CreateFCmpUNO(X, X), X, Tv);
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

// A power of two as a constant of type T.
static llvm::Value *pow2(llvm::Type *T, int E) { return llvm::ConstantFP::get(T, std::ldexp(1.0, E)); }

// The exact residual sign of a product, quotient or square root needs a residual that does not underflow. f32
// values are widened to double (where a*b - r, a - r*b and a - r*r are exact). f64 values with tiny results are
// scaled by powers of two so that the scaled residual is a normal number (the scalings cannot overflow there):
//   mul  (|r| < 2^-900): a and b by 2^600 each, r by 2^1200;
//   div  (|a| or |r| < 2^-900): a by 2^600, and the smaller of r and b by 2^600;
//   sqrt (|a| < 2^-900): a by 2^600, r by 2^300.
// Returns (a', b', r') for the residual formula of the operation.
struct ResidualArgs {
  llvm::Value *A, *B, *R;
};
enum class ResidualOp { Mul, Div, Sqrt };
static ResidualArgs residualArgs(FunctionLowering &L, llvm::Value *A, llvm::Value *Bv, llvm::Value *R,
                                 ResidualOp Op) {
  auto &B = L.B;
  llvm::Type *T = R->getType();
  if (T->isFloatTy()) {
    llvm::Type *D = B.getDoubleTy();
    return {B.CreateFPExt(A, D), Bv ? B.CreateFPExt(Bv, D) : nullptr, B.CreateFPExt(R, D)};
  }
  auto abs = [&](llvm::Value *V) { return L.intrinsic(llvm::Intrinsic::fabs, {V}); };
  auto tiny = [&](llvm::Value *V) { return B.CreateFCmpOLT(abs(V), pow2(T, -900)); };
  auto scale = [&](llvm::Value *Cond, llvm::Value *V, int E) { return B.CreateSelect(Cond, B.CreateFMul(V, pow2(T, E)), V); };
  if (Op == ResidualOp::Sqrt) {
    llvm::Value *Tiny = tiny(A);
    return {scale(Tiny, A, 600), nullptr, scale(Tiny, R, 300)};
  }
  if (Op == ResidualOp::Mul) {
    llvm::Value *Tiny = tiny(R);
    return {scale(Tiny, A, 600), scale(Tiny, Bv, 600), scale(Tiny, scale(Tiny, R, 600), 600)};
  }
  llvm::Value *Tiny = B.CreateOr(tiny(A), tiny(R));
  llvm::Value *RSmall = B.CreateFCmpOLE(abs(R), abs(Bv));
  return {scale(Tiny, A, 600), scale(B.CreateAnd(Tiny, B.CreateNot(RSmall)), Bv, 600),
          scale(B.CreateAnd(Tiny, RSmall), R, 600)};
}

// IEEE 754: an exact zero sum (x + -x, or cancellation) is +0 in every mode but roundTowardNegative, where it is -0;
// only (+0) + (+0) stays +0 there. BothPosZero: both addends (for fma the product and c) are +0.
// ExactZero: the exact result is zero (for a sum, a round-to-nearest zero; for fma also a zero residual).
static llvm::Value *zeroSumSign(FunctionLowering &L, llvm::Value *R, llvm::Value *ExactZero, llvm::Value *BothPosZero,
                                const std::string &Mode) {
  if (Mode != "rm")
    return R;
  auto &B = L.B;
  llvm::Type *T = R->getType();
  return B.CreateSelect(B.CreateAnd(ExactZero, B.CreateNot(BothPosZero)), llvm::ConstantFP::get(T, -0.0), R);
}

static llvm::Value *isPosZero(FunctionLowering &L, llvm::Value *V) {
  llvm::Value *Bits = L.toBits(V);
  return L.B.CreateICmpEQ(Bits, llvm::Constant::getNullValue(Bits->getType()));
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
        ResidualArgs RA = residualArgs(*this, A, Bv, R, ResidualOp::Mul);
        Err = intrinsic(llvm::Intrinsic::fma, {RA.A, RA.B, B.CreateFNeg(RA.R)});
      } else { // TwoSum (exact, subnormals included)
        llvm::Value *BB = B.CreateFSub(R, A);
        Err = B.CreateFAdd(B.CreateFSub(A, B.CreateFSub(R, BB)), B.CreateFSub(Bv, BB));
      }
      auto [Pos, Neg] = residualSign(B, Err);
      llvm::Value *ExactZero = B.CreateFCmpOEQ(R, llvm::ConstantFP::get(Ty, 0.0)); // sums: exact when RN gives 0
      R = directedAdjust(R, Pos, Neg, Mode);
      R = fixOverflow(*this, R, B.CreateAnd(isFinite(*this, A), isFinite(*this, Bv)), Mode);
      if (Op != "mul")
        R = zeroSumSign(*this, R, ExactZero, B.CreateAnd(isPosZero(*this, A), isPosZero(*this, Bv)), Mode);
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
        // A tiny product's error Ep underflows: when the rest of the residual vanishes, its sign is the sign of
        // the product's error, computed on operands scaled by 2^600 each.
        ResidualArgs RA = residualArgs(*this, A, Bv, P, ResidualOp::Mul);
        llvm::Value *EpScaled = intrinsic(llvm::Intrinsic::fma, {RA.A, RA.B, B.CreateFNeg(RA.R)});
        llvm::Value *Zero = llvm::ConstantFP::get(Ty, 0.0);
        llvm::Value *TinyP = B.CreateFCmpOLT(intrinsic(llvm::Intrinsic::fabs, {P}), pow2(Ty, -900));
        Res = B.CreateSelect(B.CreateAnd(TinyP, B.CreateFCmpOEQ(Res, Zero)), EpScaled, Res);
      }
      auto [Pos, Neg] = residualSign(B, Res);
      llvm::Value *Zero = llvm::ConstantFP::get(Ty, 0.0);
      llvm::Value *ExactZero =
          B.CreateAnd(B.CreateFCmpOEQ(R, Zero), B.CreateFCmpOEQ(Res, llvm::ConstantFP::get(Res->getType(), 0.0)));
      R = directedAdjust(R, Pos, Neg, Mode);
      R = fixOverflow(*this, R, B.CreateAnd(B.CreateAnd(isFinite(*this, A), isFinite(*this, Bv)), isFinite(*this, C)),
                      Mode);
      // The product is +0 when a or b is zero and their signs agree.
      llvm::Value *ProdZero = B.CreateOr(B.CreateFCmpOEQ(A, Zero), B.CreateFCmpOEQ(Bv, Zero));
      llvm::Value *SameSign = B.CreateICmpSGE(B.CreateXor(toBits(A), toBits(Bv)),
                                              llvm::Constant::getNullValue(toBits(A)->getType()));
      R = zeroSumSign(*this, R, ExactZero, B.CreateAnd(B.CreateAnd(ProdZero, SameSign), isPosZero(*this, C)), Mode);
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
      // a - q*b is exact (widened or scaled against underflow); the quotient's residual has its sign times sign(b).
      ResidualArgs RA = residualArgs(*this, A, Bv, R, ResidualOp::Div);
      llvm::Value *Rem = intrinsic(llvm::Intrinsic::fma, {B.CreateFNeg(RA.R), RA.B, RA.A});
      llvm::Value *BNeg = B.CreateFCmpOLT(Bv, llvm::ConstantFP::get(Ty, 0.0));
      auto [Pos, Neg] = residualSign(B, Rem);
      llvm::Value *QPos = B.CreateSelect(BNeg, Neg, Pos), *QNeg = B.CreateSelect(BNeg, Pos, Neg);
      R = directedAdjust(R, QPos, QNeg, Mode);
      // Division by zero is an exact infinity, not an overflow.
      llvm::Value *NonZeroDivisor = B.CreateFCmpONE(Bv, llvm::ConstantFP::get(Ty, 0.0));
      R = fixOverflow(*this, R, B.CreateAnd(B.CreateAnd(isFinite(*this, A), isFinite(*this, Bv)), NonZeroDivisor),
                      Mode);
    }
    return out(R);
  }

  if (Op == "sqrt") {
    IN(A, 1);
    llvm::Value *R = intrinsic(llvm::Intrinsic::sqrt, {A});
    if (Directed) {
      ResidualArgs RA = residualArgs(*this, A, nullptr, R, ResidualOp::Sqrt);
      llvm::Value *Rem = intrinsic(llvm::Intrinsic::fma, {B.CreateFNeg(RA.R), RA.R, RA.A});
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
    // In the operand's own precision: a correctly rounded square root and division are within 1.5 ulp (2^-23.4
    // relative for f32), inside rsqrt.approx.f32's stated 2^-22.9, and vectorise 8-wide (n-body's inner loop).
    IN(A, 1);
    return out(B.CreateFDiv(llvm::ConstantFP::get(A->getType(), 1.0), intrinsic(llvm::Intrinsic::sqrt, {A})));
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
    return out(viaDouble(A, [&](llvm::Value *X) { return tanhInDouble(*this, X); }));
  }

  if (Op == "abs" || Op == "neg") {
    IN(A, 1);
    return out(Op == "abs" ? intrinsic(llvm::Intrinsic::fabs, {A}) : B.CreateFNeg(A));
  }

  if (Op == "min" || Op == "max") {
    // Two inputs: min{.ftz}{.NaN}{.xorsign.abs}.f32, min.f64. Three inputs (PTX 8.8): min{.ftz}{.NaN}{.abs}.f32
    // d, a, b, c = min(min(a, b), c), with .abs taking |a|, |b|, |c| first.
    bool Three = I.Operands.size() == 4, XorSign = I.hasMod("xorsign"), Abs = I.hasMod("abs");
    if ((!Three && I.Operands.size() != 3) || (Three && (XorSign || T != ScalarType::F32)) ||
        (!Three && XorSign != Abs) || (XorSign && T != ScalarType::F32))
      return unsupported(I);
    IN(A, 1);
    IN(Bv, 2);
    // Canonical NaN: 0x7fffffff for f32; f64 gives the default quiet NaN.
    uint64_t Canon = T == ScalarType::F32 ? 0x7fffffffull : 0x7ff8000000000000ull;
    if (!Three)
      return out(ptxMinMax(*this, A, Bv, Op == "min", I.hasMod("NaN"), XorSign, Canon));
    IN(C, 3);
    if (Abs) {
      A = absolute(A);
      Bv = absolute(Bv);
      C = absolute(C);
    }
    llvm::Value *AB = ptxMinMax(*this, A, Bv, Op == "min", I.hasMod("NaN"), false, Canon);
    return out(ptxMinMax(*this, AB, C, Op == "min", I.hasMod("NaN"), false, Canon));
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
  // .ftz (f16 only: bf16 has no .ftz) flushes subnormal inputs and results.
  bool Ftz = I.hasMod("ftz") && (T == ScalarType::F16 || T == ScalarType::F16x2);
  auto in = [&](size_t N) -> Expected<llvm::Value *> {
    auto V = read(I, N, T);
    if (V && Ftz)
      return flushHalfDenormal(*this, *V);
    return V;
  };
  auto out = [&](llvm::Value *R) -> Error {
    if (I.hasMod("sat"))
      R = saturate01(R);
    if (Ftz)
      R = flushHalfDenormal(*this, R);
    return write(I, 0, R, T);
  };
  auto widen = [&](llvm::Value *V) { return B.CreateFPExt(V, Wide); };
  auto narrow = [&](llvm::Value *V) { return truncFloat(B, V, Ty); };

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
      // a*b is exact in double; the sum rounded to odd (TwoSum residual sets the sticky bit) then rounds once
      // more to f16/bf16 correctly, since 53 >= 2*11 + 2.
      llvm::Value *Z = widen(*C);
      llvm::Value *P = B.CreateFMul(X, Y);
      llvm::Value *S = B.CreateFAdd(P, Z);
      llvm::Value *BB = B.CreateFSub(S, P);
      llvm::Value *E = B.CreateFAdd(B.CreateFSub(P, B.CreateFSub(S, BB)), B.CreateFSub(Z, BB));
      llvm::Value *Zero = llvm::ConstantFP::get(Wide, 0.0);
      llvm::Type *IT = B.getInt64Ty(); // per element: <2 x i64> for packed halves
      if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Wide))
        IT = llvm::FixedVectorType::get(IT, VT->getNumElements());
      llvm::Value *SBits = B.CreateBitCast(S, IT);
      llvm::Value *Even = B.CreateICmpEQ(B.CreateAnd(SBits, llvm::ConstantInt::get(IT, 1)), llvm::Constant::getNullValue(IT));
      llvm::Value *Inexact = B.CreateFCmpONE(E, Zero);
      llvm::Value *Away = B.CreateICmpEQ(B.CreateFCmpOGT(E, Zero), B.CreateFCmpOGT(S, Zero));
      llvm::Value *Step = B.CreateSelect(Away, llvm::ConstantInt::get(IT, 1), llvm::Constant::getAllOnesValue(IT));
      llvm::Value *Odd = B.CreateAdd(SBits, Step);
      R = B.CreateSelect(B.CreateAnd(Inexact, Even), B.CreateBitCast(Odd, Wide), S);
    }
    llvm::Value *N = narrow(R);
    if (I.hasMod("relu")) {
      // max(+0, r) (-0 gives +0); NaN results become the canonical NaN 0x7fff.
      llvm::Type *HT = B.getInt16Ty();
      if (auto *VT = llvm::dyn_cast<llvm::FixedVectorType>(Ty))
        HT = llvm::FixedVectorType::get(HT, VT->getNumElements());
      llvm::Value *Canon = B.CreateBitCast(llvm::ConstantInt::get(HT, 0x7fff), Ty);
      llvm::Value *IsNan = B.CreateFCmpUNO(N, N);
      N = B.CreateSelect(B.CreateFCmpOLE(N, llvm::ConstantFP::get(Ty, 0.0)), llvm::ConstantFP::get(Ty, 0.0), N);
      N = B.CreateSelect(IsNan, Canon, N);
    }
    return out(N);
  }
  if (Op == "neg" || Op == "abs") {
    auto A = in(1);
    if (!A)
      return A.takeError();
    return write(I, 0, Op == "neg" ? negate(*A) : absolute(*A), T);
  }
  if (Op == "min" || Op == "max") {
    bool XorSign = I.hasMod("xorsign") || I.hasMod("abs");
    if ((XorSign && (!I.hasMod("xorsign") || !I.hasMod("abs"))) || I.Operands.size() != 3)
      return unsupported(I); // no three-input form for f16/bf16
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
    else
      R = tanhInDouble(*this, X);
    return write(I, 0, narrow(R), T);
  }
  return unsupported(I);
}

} // namespace cushim::ptx::lower
