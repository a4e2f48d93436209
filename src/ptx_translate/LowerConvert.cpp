// mov and cvt: register moves, vector pack/unpack, and conversions between every integer and float type with
// PTX rounding (.rni/.rzi/.rmi/.rpi, .rn/.rz/.rm/.rp), saturation (.sat, float->int clamping, NaN -> 0) and .ftz.
#include "ptx_translate/LowerInternal.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

#include <cmath>

namespace cushim::ptx::lower {

Error FunctionLowering::lowerMov(const Instruction &I) {
  ScalarType T = lastType(I);
  if (T == ScalarType::None)
    return invalid(I, "missing type");
  if (I.Operands.size() != 2)
    return invalid(I, "mov takes two operands");
  auto V = read(I, 1, T);
  if (!V)
    return V.takeError();
  return write(I, 0, *V, T);
}

// Integer clamp to the range of type D, from a value of type S.
static llvm::Value *saturateInt(FunctionLowering &L, llvm::Value *V, ScalarType S, ScalarType D) {
  auto &B = L.B;
  unsigned DW = typeBits(D);
  llvm::Value *X = L.resizeInt(V, 128, isSignedType(S));
  llvm::APInt Lo = isSignedType(D) ? llvm::APInt::getSignedMinValue(DW).sext(128) : llvm::APInt(128, 0);
  llvm::APInt Hi =
      isSignedType(D) ? llvm::APInt::getSignedMaxValue(DW).sext(128) : llvm::APInt::getMaxValue(DW).zext(128);
  X = L.intrinsic(llvm::Intrinsic::smax, {X, B.getInt(Lo)});
  X = L.intrinsic(llvm::Intrinsic::smin, {X, B.getInt(Hi)});
  return B.CreateTrunc(X, L.intType(DW));
}

// f32 -> e4m3 / e5m2 with round-to-nearest-even and .satfinite (mandatory in PTX): NaN -> 0x7f, magnitudes above
// the largest finite value (incl. infinities) -> the largest finite value with the sign kept (0x7e = 448 for e4m3,
// 0x7b = 57344 for e5m2), underflow keeps the sign. Matches NVIDIA's host reference in cuda_fp8.hpp. .relu turns
// results below zero into +0. Returns the byte in the low 8 bits of an i32.
static llvm::Value *floatToFp8(FunctionLowering &L, llvm::Value *X, bool E4M3, bool Relu) {
  auto &B = L.B;
  const unsigned M = E4M3 ? 3 : 2, Bias = E4M3 ? 7 : 15;
  const uint32_t MaxEnc = E4M3 ? 0x7e : 0x7b;
  llvm::Value *Bits = B.CreateBitCast(X, B.getInt32Ty());
  llvm::Value *Sign = B.CreateAnd(B.CreateLShr(Bits, 24), 0x80);
  llvm::Value *Ax = B.CreateAnd(Bits, 0x7fffffff);
  llvm::Value *IsNan = B.CreateICmpUGT(Ax, B.getInt32(0x7f800000));
  // Normal results: round the f32 significand to M bits (ties to even) on the bit pattern, then rebias.
  unsigned Drop = 23 - M;
  llvm::Value *Odd = B.CreateAnd(B.CreateLShr(Ax, Drop), 1);
  llvm::Value *R = B.CreateAdd(B.CreateAdd(Ax, B.getInt32((1u << (Drop - 1)) - 1)), Odd);
  llvm::Value *EncN = B.CreateSub(B.CreateLShr(R, Drop), B.getInt32((127 - Bias) << M));
  // Subnormal results: the quantum is 2^(1-Bias-M); scaling by its inverse is exact, roundeven gives the encoding
  // directly (2^M, the carry into the smallest normal, encodes as exponent 1, mantissa 0).
  llvm::Value *Scaled = B.CreateFMul(B.CreateBitCast(Ax, B.getFloatTy()),
                                     llvm::ConstantFP::get(B.getFloatTy(), std::ldexp(1.0, int(Bias - 1 + M))));
  llvm::Value *EncS = B.CreateFPToUI(L.intrinsic(llvm::Intrinsic::roundeven, {Scaled}), B.getInt32Ty());
  llvm::Value *MinNormBits = B.getInt32((127 + 1 - Bias) << 23);
  llvm::Value *Enc = B.CreateSelect(B.CreateICmpULT(Ax, MinNormBits), EncS, EncN);
  Enc = B.CreateSelect(B.CreateICmpUGT(Enc, B.getInt32(MaxEnc)), B.getInt32(MaxEnc), Enc);
  llvm::Value *Res = B.CreateOr(Enc, Sign);
  if (Relu) {
    llvm::Value *Neg = B.CreateAnd(B.CreateICmpNE(Sign, B.getInt32(0)), B.CreateICmpNE(Enc, B.getInt32(0)));
    Res = B.CreateSelect(Neg, B.getInt32(0), Res);
  }
  return B.CreateSelect(IsNan, B.getInt32(0x7f), Res);
}

// e4m3 / e5m2 byte (low 8 bits of an i32) -> f16 bits (i32), exact; NaN -> canonical 0x7fff (cuda_fp8.hpp).
static llvm::Value *fp8ToHalfBits(FunctionLowering &L, llvm::Value *Byte, bool E4M3, bool Relu) {
  auto &B = L.B;
  llvm::Value *Sign = B.CreateShl(B.CreateAnd(Byte, 0x80), 8);
  llvm::Value *Abs = B.CreateAnd(Byte, 0x7f);
  llvm::Value *Res, *IsNan;
  if (E4M3) {
    IsNan = B.CreateICmpEQ(Abs, B.getInt32(0x7f));
    llvm::Value *E = B.CreateLShr(Abs, 3), *Man = B.CreateAnd(Abs, 7);
    // Normal: f16 exponent = e + (15 - 7), mantissa shifted up by 7 bits.
    llvm::Value *Normal = B.CreateOr(B.CreateShl(B.CreateAdd(E, B.getInt32(8)), 10), B.CreateShl(Man, 7));
    // Subnormal (e == 0): m * 2^-9, a normal f16 (or zero); computed exactly in float.
    llvm::Value *Sub = B.CreateFMul(B.CreateUIToFP(Man, B.getFloatTy()), llvm::ConstantFP::get(B.getFloatTy(), 0x1p-9));
    llvm::Value *SubBits =
        B.CreateZExt(B.CreateBitCast(B.CreateFPTrunc(Sub, B.getHalfTy()), B.getInt16Ty()), B.getInt32Ty());
    Res = B.CreateSelect(B.CreateICmpEQ(E, B.getInt32(0)), SubBits, Normal);
  } else {
    // e5m2 is the upper byte of an f16.
    IsNan = B.CreateICmpUGT(Abs, B.getInt32(0x7c));
    Res = B.CreateShl(Abs, 8);
  }
  llvm::Value *Out = B.CreateOr(Res, Sign);
  if (Relu) {
    llvm::Value *Neg = B.CreateAnd(B.CreateICmpNE(Sign, B.getInt32(0)), B.CreateICmpNE(Res, B.getInt32(0)));
    Out = B.CreateSelect(Neg, B.getInt32(0), Out);
  }
  return B.CreateSelect(IsNan, B.getInt32(0x7fff), Out);
}

// f32 -> tf32 (f32 bit pattern with the low 13 significand bits zero) rounded .rna (ties away), .rn (ties to even)
// or .rz. Overflow gives infinity, or with .satfinite the largest finite tf32 (0x7f7fe000) with the sign kept, as
// infinite inputs do. NaN gives the canonical NaN 0x7fffffff. .relu turns results below zero into +0.
static llvm::Value *floatToTf32(FunctionLowering &L, llvm::Value *X, const std::string &Mode, bool SatFinite,
                                bool Relu) {
  auto &B = L.B;
  llvm::Value *Bits = B.CreateBitCast(X, B.getInt32Ty());
  llvm::Value *Sign = B.CreateAnd(Bits, 0x80000000u);
  llvm::Value *Ax = B.CreateAnd(Bits, 0x7fffffff);
  llvm::Value *IsNan = B.CreateICmpUGT(Ax, B.getInt32(0x7f800000));
  llvm::Value *R = Ax;
  if (Mode == "rna")
    R = B.CreateAdd(Ax, B.getInt32(0x1000));
  else if (Mode == "rn")
    R = B.CreateAdd(B.CreateAdd(Ax, B.getInt32(0xfff)), B.CreateAnd(B.CreateLShr(Ax, 13), 1));
  R = B.CreateAnd(R, B.getInt32(~0x1fffu));
  if (SatFinite)
    R = B.CreateSelect(B.CreateICmpUGE(R, B.getInt32(0x7f800000)), B.getInt32(0x7f7fe000), R);
  llvm::Value *Res = B.CreateOr(R, Sign);
  if (Relu) {
    llvm::Value *Neg = B.CreateAnd(B.CreateICmpNE(Sign, B.getInt32(0)), B.CreateICmpNE(R, B.getInt32(0)));
    Res = B.CreateSelect(Neg, B.getInt32(0), Res);
  }
  return B.CreateSelect(IsNan, B.getInt32(0x7fffffff), Res);
}

// f32 -> bf16 under .rz/.rm/.rp on the bits (bf16 is the upper half of an f32): dropping the lower half rounds
// toward zero; rounding away from zero adds one to the magnitude when the dropped bits are not all zero (max finite
// steps to inf). NaN -> 0x7fff. Integer-only, because the optimizer turns sign-bit arithmetic on a bfloat value into
// fneg/fabs, which x86 lowers through __truncsfbf2 (absent in the JIT process).
static llvm::Value *truncToBF16Directed(llvm::IRBuilder<> &B, llvm::Value *F, const std::string &Mode) {
  llvm::Value *Bits = B.CreateBitCast(F, B.getInt32Ty());
  llvm::Value *Inexact = B.CreateICmpNE(B.CreateAnd(Bits, 0xffff), B.getInt32(0));
  llvm::Value *Neg = B.CreateICmpSLT(Bits, B.getInt32(0));
  llvm::Value *Away = Mode == "rz" ? B.getFalse() : Mode == "rm" ? Neg : B.CreateNot(Neg);
  llvm::Value *R = B.CreateAdd(B.CreateLShr(Bits, 16), B.CreateZExt(B.CreateAnd(Inexact, Away), B.getInt32Ty()));
  R = B.CreateSelect(B.CreateFCmpUNO(F, F), B.getInt32(0x7fff), R);
  return B.CreateBitCast(B.CreateTrunc(R, B.getInt16Ty()), B.getBFloatTy());
}

// Float narrowing with PTX rounding (.rn or empty: to nearest even; .rz/.rm/.rp directed, where overflow from a
// finite source clamps to the largest finite value on the mode's side). Not for directed bf16 (truncToBF16Directed).
static llvm::Value *narrowFloat(FunctionLowering &L, llvm::Value *A, llvm::Type *DTy, const std::string &Mode) {
  auto &B = L.B;
  llvm::Value *R = truncFloat(B, A, DTy);
  if (Mode != "rz" && Mode != "rm" && Mode != "rp")
    return R;
  llvm::Value *Back = B.CreateFPExt(R, A->getType());
  R = L.directedAdjust(R, B.CreateFCmpOGT(A, Back), B.CreateFCmpOLT(A, Back), Mode);
  llvm::Value *Fin = B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {A->getType()}, {A, B.getInt32(llvm::fcFinite)});
  llvm::Value *IsInf = B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {DTy}, {R, B.getInt32(llvm::fcInf)});
  llvm::Value *Max = llvm::ConstantFP::get(DTy, llvm::APFloat::getLargest(DTy->getFltSemantics()));
  llvm::Value *Neg = B.CreateFCmpOLT(R, llvm::ConstantFP::get(DTy, 0.0));
  llvm::Value *Clamp = Mode == "rz"   ? B.CreateSelect(Neg, B.CreateFNeg(Max), Max)
                       : Mode == "rm" ? B.CreateSelect(Neg, R, Max)
                                      : B.CreateSelect(Neg, B.CreateFNeg(Max), R);
  return B.CreateSelect(B.CreateAnd(Fin, IsInf), Clamp, R);
}

// .satfinite on an f16/bf16 result: an infinity (from an overflow or an infinite input) becomes the largest finite
// value of its sign; NaN stays NaN. On the bits, like truncToBF16Directed.
static llvm::Value *satFinite(llvm::IRBuilder<> &B, llvm::Value *H) {
  uint16_t Inf = H->getType()->isBFloatTy() ? 0x7f80 : 0x7c00;
  llvm::Value *Bits = B.CreateBitCast(H, B.getInt16Ty());
  llvm::Value *IsInf = B.CreateICmpEQ(B.CreateAnd(Bits, 0x7fff), B.getInt16(Inf));
  llvm::Value *Max = B.CreateOr(B.CreateAnd(Bits, 0x8000), B.getInt16(Inf - 1));
  return B.CreateBitCast(B.CreateSelect(IsInf, Max, Bits), H->getType());
}

Error FunctionLowering::lowerCvt(const Instruction &I) {
  auto Ts = typeMods(I);
  if (Ts.size() != 2)
    return invalid(I, "cvt needs a destination and a source type");
  ScalarType DT = Ts[0], AT = Ts[1];
  std::string Mode = roundingMode(I);
  bool Sat = I.hasMod("sat");
  bool Ftz = I.hasMod("ftz");

  // Packing conversions: cvt.rn.f16x2.f32 d, a, b puts a in the upper half.
  if ((DT == ScalarType::F16x2 || DT == ScalarType::BF16x2) && AT != ScalarType::E4M3x2 && AT != ScalarType::E5M2x2) {
    if (AT != ScalarType::F32 || (Mode != "rn" && Mode != "rz" && !Mode.empty()))
      return unsupported(I);
    llvm::Type *HT = DT == ScalarType::F16x2 ? B.getHalfTy() : B.getBFloatTy();
    auto A = read(I, 1, AT);
    if (!A)
      return A.takeError();
    auto Bv = read(I, 2, AT);
    if (!Bv)
      return Bv.takeError();
    auto conv = [&](llvm::Value *V) {
      llvm::Value *H =
          HT->isBFloatTy() && Mode == "rz" ? truncToBF16Directed(B, V, Mode) : narrowFloat(*this, V, HT, Mode);
      if (I.hasMod("satfinite"))
        H = satFinite(B, H);
      if (I.hasMod("relu"))
        H = B.CreateSelect(B.CreateFCmpOLT(H, llvm::ConstantFP::get(HT, 0.0)), llvm::ConstantFP::get(HT, 0.0), H);
      if (Sat)
        H = saturate01(H);
      return B.CreateZExt(toBits(H), B.getInt32Ty());
    };
    llvm::Value *R = B.CreateOr(B.CreateShl(conv(*A), 16), conv(*Bv));
    return write(I, 0, R, ScalarType::B32);
  }
  // tf32: cvt.rna{.satfinite}.tf32.f32 and cvt.{rn,rz}{.satfinite}{.relu}.tf32.f32; d is a .b32 register.
  if (DT == ScalarType::TF32 && AT == ScalarType::F32) {
    bool Relu = I.hasMod("relu");
    if (Ftz || Sat || !(Mode == "rna" || Mode == "rn" || Mode == "rz") || (Relu && Mode == "rna"))
      return unsupported(I);
    auto A = read(I, 1, AT);
    if (!A)
      return A.takeError();
    return write(I, 0, floatToTf32(*this, *A, Mode, I.hasMod("satfinite"), Relu), ScalarType::B32);
  }
  // fp8 packs: cvt.rn.satfinite{.relu}.{e4m3x2,e5m2x2}.f32 d, a, b (a in the upper byte) and .f16x2 d, a (the
  // upper half in the upper byte); d is a .b16 register.
  if ((DT == ScalarType::E4M3x2 || DT == ScalarType::E5M2x2) && (AT == ScalarType::F32 || AT == ScalarType::F16x2)) {
    if (Mode != "rn" || !I.hasMod("satfinite") || Ftz || Sat)
      return unsupported(I);
    bool E4 = DT == ScalarType::E4M3x2, Relu = I.hasMod("relu");
    llvm::Value *Hi, *Lo;
    if (AT == ScalarType::F32) {
      if (I.Operands.size() != 3)
        return invalid(I, "cvt to an fp8 pair from .f32 takes two sources");
      auto A = read(I, 1, AT);
      if (!A)
        return A.takeError();
      auto Bv = read(I, 2, AT);
      if (!Bv)
        return Bv.takeError();
      Hi = *A;
      Lo = *Bv;
    } else {
      if (I.Operands.size() != 2)
        return invalid(I, "cvt to an fp8 pair from .f16x2 takes one source");
      auto A = read(I, 1, AT);
      if (!A)
        return A.takeError();
      // Element 0 of <2 x half> is the lower 16 bits; f16 -> f32 is exact.
      Lo = B.CreateFPExt(B.CreateExtractElement(*A, uint64_t(0)), B.getFloatTy());
      Hi = B.CreateFPExt(B.CreateExtractElement(*A, uint64_t(1)), B.getFloatTy());
    }
    llvm::Value *R = B.CreateOr(B.CreateShl(floatToFp8(*this, Hi, E4, Relu), 8), floatToFp8(*this, Lo, E4, Relu));
    return write(I, 0, B.CreateTrunc(R, B.getInt16Ty()), ScalarType::B16);
  }
  // fp8 unpack: cvt.rn{.relu}.f16x2.{e4m3x2,e5m2x2} d, a (a: .b16, the upper byte goes to the upper half).
  if (DT == ScalarType::F16x2 && (AT == ScalarType::E4M3x2 || AT == ScalarType::E5M2x2)) {
    if (Mode != "rn" || Ftz || Sat || I.hasMod("satfinite"))
      return unsupported(I);
    auto A = read(I, 1, ScalarType::B16);
    if (!A)
      return A.takeError();
    bool E4 = AT == ScalarType::E4M3x2, Relu = I.hasMod("relu");
    llvm::Value *X = B.CreateZExt(*A, B.getInt32Ty());
    llvm::Value *Lo = fp8ToHalfBits(*this, B.CreateAnd(X, 0xff), E4, Relu);
    llvm::Value *Hi = fp8ToHalfBits(*this, B.CreateLShr(X, 8), E4, Relu);
    return write(I, 0, B.CreateOr(B.CreateShl(Hi, 16), Lo), ScalarType::B32);
  }
  if (typeBits(DT) == 0 || typeBits(AT) == 0 || DT == ScalarType::TF32 || AT == ScalarType::TF32 ||
      DT == ScalarType::E4M3 || DT == ScalarType::E5M2 || AT == ScalarType::E4M3 || AT == ScalarType::E5M2 ||
      DT == ScalarType::E4M3x2 || DT == ScalarType::E5M2x2 || AT == ScalarType::E4M3x2 || AT == ScalarType::E5M2x2 ||
      AT == ScalarType::F16x2 || AT == ScalarType::BF16x2)
    return unsupported(I);

  auto AE = read(I, 1, AT);
  if (!AE)
    return AE.takeError();
  llvm::Value *A = *AE;
  bool SrcFloat = isFloatType(AT), DstFloat = isFloatType(DT);
  llvm::Type *DTy = valueType(DT);

  if (!SrcFloat && !DstFloat) {
    llvm::Value *R = Sat ? saturateInt(*this, A, AT, DT) : resizeInt(A, typeBits(DT), isSignedType(AT));
    return write(I, 0, R, DT);
  }

  if (SrcFloat && Ftz && AT == ScalarType::F32)
    A = flushDenormal(A);

  if (SrcFloat && !DstFloat) {
    llvm::Value *X = A;
    if (AT == ScalarType::F16 || AT == ScalarType::BF16)
      X = B.CreateFPExt(X, B.getFloatTy());
    X = floatRoundToInt(X, Mode.empty() ? "rzi" : Mode);
    llvm::Intrinsic::ID Id = isSignedType(DT) ? llvm::Intrinsic::fptosi_sat : llvm::Intrinsic::fptoui_sat;
    llvm::Value *R = B.CreateIntrinsic(Id, {DTy, X->getType()}, {X});
    return write(I, 0, R, DT);
  }

  llvm::Value *R;
  bool Directed = Mode == "rz" || Mode == "rm" || Mode == "rp";
  if (!SrcFloat) {
    if (DT == ScalarType::BF16 && Directed) {
      // Directed roundings compose: to f32 under the mode, then to bf16 under the mode.
      llvm::Value *F = isSignedType(AT) ? B.CreateSIToFP(A, B.getFloatTy()) : B.CreateUIToFP(A, B.getFloatTy());
      llvm::Value *X = resizeInt(A, 128, isSignedType(AT));
      llvm::Value *Back = B.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {B.getIntNTy(128), B.getFloatTy()}, {F});
      F = directedAdjust(F, B.CreateICmpSGT(X, Back), B.CreateICmpSLT(X, Back), Mode);
      R = truncToBF16Directed(B, F, Mode);
    } else if (DT == ScalarType::BF16) {
      // Through double rounded to odd (truncFloat rounds once more to odd in f32, then to bf16): LLVM's direct
      // conversion would call __truncsfbf2, which the JIT process lacks.
      llvm::Type *D = B.getDoubleTy();
      llvm::Value *Dv = isSignedType(AT) ? B.CreateSIToFP(A, D) : B.CreateUIToFP(A, D);
      llvm::Value *X = resizeInt(A, 128, isSignedType(AT));
      llvm::Value *Back = B.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {B.getIntNTy(128), D}, {Dv});
      llvm::Value *Bits = B.CreateBitCast(Dv, B.getInt64Ty());
      llvm::Value *Even = B.CreateICmpEQ(B.CreateAnd(Bits, 1), B.getInt64(0));
      // Integers exceed |Dv| in the direction of X: away from zero when |X| > |Back|.
      llvm::Value *Away = B.CreateICmpEQ(B.CreateICmpSGT(X, Back), B.CreateICmpSGT(X, llvm::ConstantInt::get(X->getType(), 0)));
      llvm::Value *Stepped = B.CreateAdd(Bits, B.CreateSelect(Away, B.getInt64(1), B.getInt64(-1)));
      Dv = B.CreateBitCast(B.CreateSelect(B.CreateAnd(B.CreateICmpNE(X, Back), Even), Stepped, Bits), D);
      R = truncFloat(B, Dv, DTy);
    } else {
      R = isSignedType(AT) ? B.CreateSIToFP(A, DTy) : B.CreateUIToFP(A, DTy);
    }
    if (Directed && DT != ScalarType::BF16) {
      llvm::Value *X = resizeInt(A, 128, isSignedType(AT));
      llvm::Value *Back = B.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {B.getIntNTy(128), DTy}, {R});
      R = directedAdjust(R, B.CreateICmpSGT(X, Back), B.CreateICmpSLT(X, Back), Mode);
    }
  } else {
    unsigned SW = typeBits(AT), DW = typeBits(DT);
    if (DT == AT) {
      // Same type: round to integer (.rni etc.) or just .ftz/.sat.
      R = A;
      if (Mode.size() == 3 && Mode.back() == 'i') {
        // bf16 rounds in f32 (an integral bf16 value converts back exactly): LLVM's bfloat rounding intrinsics
        // would truncate through __truncsfbf2, which the JIT process lacks.
        R = DT == ScalarType::BF16 ? truncFloat(B, floatRoundToInt(B.CreateFPExt(A, B.getFloatTy()), Mode), DTy)
                                   : floatRoundToInt(A, Mode);
      }
    } else if (DW > SW || (DT == ScalarType::F32 && AT == ScalarType::BF16)) {
      R = B.CreateFPExt(A, DTy);
    } else if (DT == ScalarType::BF16 && Directed) {
      // Directed roundings compose: to f32 under the mode (f16 widens exactly), then to bf16 under the mode.
      llvm::Value *F = AT == ScalarType::F64 ? narrowFloat(*this, A, B.getFloatTy(), Mode) : A;
      R = truncToBF16Directed(B, AT == ScalarType::F16 ? B.CreateFPExt(F, B.getFloatTy()) : F, Mode);
    } else if (AT == ScalarType::BF16 || (DT == ScalarType::BF16 && AT == ScalarType::F16)) {
      R = narrowFloat(*this, B.CreateFPExt(A, B.getFloatTy()), DTy, Mode); // f16 <-> bf16 through f32 (exact)
    } else {
      R = narrowFloat(*this, A, DTy, Mode);
    }
  }
  if (I.hasMod("satfinite")) {
    if (DT != ScalarType::F16 && DT != ScalarType::BF16)
      return unsupported(I);
    R = satFinite(B, R);
  }
  if (I.hasMod("relu"))
    R = B.CreateSelect(B.CreateFCmpOLT(R, llvm::ConstantFP::get(DTy, 0.0)), llvm::ConstantFP::get(DTy, 0.0), R);
  if (Sat)
    R = saturate01(R);
  if (Ftz && DT == ScalarType::F32)
    R = flushDenormal(R);
  return write(I, 0, R, DT);
}

} // namespace cushim::ptx::lower
