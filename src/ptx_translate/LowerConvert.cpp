// mov and cvt: register moves, vector pack/unpack, and conversions between every integer and float type with
// PTX rounding (.rni/.rzi/.rmi/.rpi, .rn/.rz/.rm/.rp), saturation (.sat, float->int clamping, NaN -> 0) and .ftz.
#include "ptx_translate/LowerInternal.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Intrinsics.h>

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

Error FunctionLowering::lowerCvt(const Instruction &I) {
  auto Ts = typeMods(I);
  if (Ts.size() != 2)
    return invalid(I, "cvt needs a destination and a source type");
  ScalarType DT = Ts[0], AT = Ts[1];
  std::string Mode = roundingMode(I);
  bool Sat = I.hasMod("sat");
  bool Ftz = I.hasMod("ftz");

  // Packing conversions: cvt.rn.f16x2.f32 d, a, b puts a in the upper half.
  if (DT == ScalarType::F16x2 || DT == ScalarType::BF16x2) {
    if (AT != ScalarType::F32 || (Mode != "rn" && !Mode.empty()))
      return unsupported(I);
    llvm::Type *HT = DT == ScalarType::F16x2 ? B.getHalfTy() : B.getBFloatTy();
    auto A = read(I, 1, AT);
    if (!A)
      return A.takeError();
    auto Bv = read(I, 2, AT);
    if (!Bv)
      return Bv.takeError();
    auto conv = [&](llvm::Value *V) {
      llvm::Value *H = B.CreateFPTrunc(V, HT);
      if (I.hasMod("relu"))
        H = B.CreateSelect(B.CreateFCmpOLT(H, llvm::ConstantFP::get(HT, 0.0)), llvm::ConstantFP::get(HT, 0.0), H);
      if (Sat)
        H = saturate01(H);
      return B.CreateZExt(toBits(H), B.getInt32Ty());
    };
    llvm::Value *R = B.CreateOr(B.CreateShl(conv(*A), 16), conv(*Bv));
    return write(I, 0, R, ScalarType::B32);
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
    R = isSignedType(AT) ? B.CreateSIToFP(A, DTy) : B.CreateUIToFP(A, DTy);
    if (Directed) {
      llvm::Value *X = resizeInt(A, 128, isSignedType(AT));
      llvm::Value *Back = B.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {B.getIntNTy(128), DTy}, {R});
      R = directedAdjust(R, B.CreateICmpSGT(X, Back), B.CreateICmpSLT(X, Back), Mode);
    }
  } else {
    unsigned SW = typeBits(AT), DW = typeBits(DT);
    if (DT == AT) {
      // Same type: round to integer (.rni etc.) or just .ftz/.sat.
      R = (Mode.size() == 3 && Mode.back() == 'i') ? floatRoundToInt(A, Mode) : A;
    } else if (DW > SW || (DT == ScalarType::F32 && AT == ScalarType::BF16)) {
      R = B.CreateFPExt(A, DTy);
    } else if ((DT == ScalarType::BF16 && AT == ScalarType::F16) || (DT == ScalarType::F16 && AT == ScalarType::BF16)) {
      R = B.CreateFPTrunc(B.CreateFPExt(A, B.getFloatTy()), DTy);
    } else {
      R = B.CreateFPTrunc(A, DTy);
      if (Directed) {
        llvm::Value *Back = B.CreateFPExt(R, A->getType());
        R = directedAdjust(R, B.CreateFCmpOGT(A, Back), B.CreateFCmpOLT(A, Back), Mode);
        // Overflow from a finite source clamps to the largest finite value on the mode's side.
        llvm::Value *Fin =
            B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {A->getType()}, {A, B.getInt32(llvm::fcFinite)});
        llvm::Value *IsInf = B.CreateIntrinsic(llvm::Intrinsic::is_fpclass, {DTy}, {R, B.getInt32(llvm::fcInf)});
        llvm::Value *Max = llvm::ConstantFP::get(DTy, llvm::APFloat::getLargest(DTy->getFltSemantics()));
        llvm::Value *Neg = B.CreateFCmpOLT(R, llvm::ConstantFP::get(DTy, 0.0));
        llvm::Value *Clamp = Mode == "rz"   ? B.CreateSelect(Neg, B.CreateFNeg(Max), Max)
                             : Mode == "rm" ? B.CreateSelect(Neg, R, Max)
                                            : B.CreateSelect(Neg, B.CreateFNeg(Max), R);
        R = B.CreateSelect(B.CreateAnd(Fin, IsInf), Clamp, R);
      }
    }
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
