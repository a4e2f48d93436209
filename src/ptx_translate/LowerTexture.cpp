// Texture and surface instructions: tex (1d 2d 3d a1d a2d cube acube, .level, .grad, texel offsets), tld4, txq,
// suld.b, sust.b, sust.p, sured, suq and istypep through texture/surface object handles or module-scope
// .texref/.surfref, lowered to calls of the backend's sampling functions (__cushim_tex & co.,
// backends/host/TextureSampling.h has their contract; docs/TEXTURES.md the semantics).
#include "ptx_translate/LowerInternal.h"

#include "cuda_shim/texture_abi.h"

#include <fmt/format.h>

namespace cushim::ptx::lower {

namespace {

// Geometry codes shared with the backend (TextureSampling.h: TexGeometry).
int geometryOf(const Instruction &I) {
  static const char *const Names[] = {"1d", "2d", "3d", "a1d", "a2d", "cube", "acube"};
  for (int G = 0; G < 7; ++G)
    if (I.hasMod(Names[G]))
      return G;
  return -1;
}

// Coordinates a geometry takes from its vector (layer index first for the array forms).
unsigned coordCount(int Geo) {
  static const unsigned Counts[] = {1, 2, 4, 2, 4, 4, 4};
  return Counts[Geo];
}

} // namespace

static llvm::FunctionCallee textureRuntime(ModuleState &MS, const std::string &Name) {
  llvm::LLVMContext &C = MS.Ctx;
  llvm::Type *Void = llvm::Type::getVoidTy(C), *I32 = llvm::Type::getInt32Ty(C), *I64 = llvm::Type::getInt64Ty(C);
  llvm::Type *Ptr = llvm::PointerType::get(C, 0);
  llvm::FunctionType *Ty = nullptr;
  if (Name == "__cushim_txq" || Name == "__cushim_istypep")
    Ty = llvm::FunctionType::get(I32, {Ptr, I64, I32, I32}, false);
  else
    Ty = llvm::FunctionType::get(Void, {Ptr, I64, I32, Ptr, Ptr}, false);
  llvm::FunctionCallee F = MS.M->getOrInsertFunction(Name, Ty);
  if (auto *Fn = llvm::dyn_cast<llvm::Function>(F.getCallee()))
    Fn->addFnAttr(llvm::Attribute::NoUnwind);
  return F;
}

// The slot of module-scope reference D (texture_abi.h): a 64-bit global the driver fills with the descriptor address.
// Every reference of the module gets its slot with the first use of any, so that cuModuleGetTexRef finds them all.
static llvm::GlobalVariable *referenceSlot(ModuleState &MS, const VariableDecl &D) {
  llvm::Type *I64 = llvm::Type::getInt64Ty(MS.Ctx);
  llvm::GlobalVariable *Wanted = nullptr;
  for (const VariableDecl &R : MS.Ast.Globals) {
    if (R.Space != StateSpace::Tex && R.Space != StateSpace::Surf)
      continue;
    std::string Name = (R.Space == StateSpace::Surf ? CUSHIM_SURFREF_SLOT_PREFIX : CUSHIM_TEXREF_SLOT_PREFIX) + R.Name;
    auto *GV = MS.M->getNamedGlobal(Name);
    if (!GV) {
      GV = new llvm::GlobalVariable(*MS.M, I64, false, llvm::GlobalValue::ExternalLinkage,
                                    llvm::ConstantInt::get(I64, 0), Name);
      GV->setAlignment(llvm::Align(8));
    }
    if (&R == &D)
      Wanted = GV;
  }
  return Wanted;
}

// The object handle of "[a, ...]": a 64-bit register holding a texture/surface object, or the name of a module-scope
// .texref/.surfref, whose slot is read here, at the fetch (a launch sees the binding of its launch time).
static Expected<llvm::Value *> handleOf(FunctionLowering &L, const Instruction &I, const Operand &Op) {
  if (Op.is<AddressOperand>()) {
    const auto &A = Op.as<AddressOperand>();
    if (A.BaseReg && A.Offset == 0)
      return L.readReg(I, *A.BaseReg, ScalarType::B64);
    if (A.BaseSymbol && A.Offset == 0) {
      for (const VariableDecl &D : L.MS.Ast.Globals)
        if (D.Name == *A.BaseSymbol && (D.Space == StateSpace::Tex || D.Space == StateSpace::Surf))
          return L.B.CreateLoad(L.intType(64), referenceSlot(L.MS, D), *A.BaseSymbol + ".handle");
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: '{}' in '{}' is not a module-scope .texref/.surfref (module-scope "
                                   ".samplerref, the independent texturing mode, is not supported)",
                                   L.MS.Source, I.Loc.Line, *A.BaseSymbol, instrName(I)));
    }
  }
  if (Op.is<RegOperand>())
    return L.readReg(I, Op.as<RegOperand>(), ScalarType::B64);
  return L.invalid(I, "expected a texture/surface handle");
}

// Stores the elements of a coordinate operand (a vector, or one register) as 32-bit words into Buf[Base...].
static Error storeWords(FunctionLowering &L, const Instruction &I, const Operand &Op, llvm::Value *Buf, unsigned Base,
                        unsigned Max, ScalarType T) {
  std::vector<const Operand *> Elems;
  if (Op.is<VectorOperand>())
    for (const Operand &E : Op.as<VectorOperand>().Elements)
      Elems.push_back(&E);
  else
    Elems.push_back(&Op);
  if (Elems.size() > Max)
    return L.invalid(I, "too many coordinate elements");
  llvm::Type *Words = llvm::ArrayType::get(L.intType(32), 16);
  for (unsigned N = 0; N < Elems.size(); ++N) {
    if (Elems[N]->is<SinkOperand>())
      continue;
    auto V = L.readOperand(I, *Elems[N], T);
    if (!V)
      return V.takeError();
    llvm::Value *Bits = L.toBits(*V);
    Bits = L.resizeInt(Bits, 32, true);
    L.B.CreateStore(Bits, L.B.CreateConstInBoundsGEP2_32(Words, Buf, 0, Base + N));
  }
  return Error::success();
}

Error FunctionLowering::lowerTexture(const Instruction &I) {
  const std::string &Op = I.Opcode;
  llvm::Type *I32 = intType(32);
  llvm::Type *Words = llvm::ArrayType::get(I32, 16);

  if (Op == "tex" || Op == "tld4") {
    int Geo = geometryOf(I);
    if (Geo < 0 || !I.hasMod("v4"))
      return unsupported(I);
    bool Gather = Op == "tld4";
    std::vector<ScalarType> Types = typeMods(I);
    if (Types.size() != 2)
      return invalid(I, "expected a destination and a coordinate type");
    ScalarType DType = Types[0], CType = Types[1];
    unsigned Kind = DType == ScalarType::F32 ? 0 : DType == ScalarType::S32 ? 1 : DType == ScalarType::U32 ? 2 : 3;
    if (Kind == 3 || (CType != ScalarType::F32 && CType != ScalarType::S32))
      return unsupported(I);
    unsigned LodMode = I.hasMod("level") ? 1 : I.hasMod("grad") ? 2 : 0;
    unsigned Comp = 0;
    if (Gather) {
      static const char *const Comps[] = {"r", "g", "b", "a"};
      Comp = 4;
      for (unsigned C = 0; C < 4; ++C)
        if (I.hasMod(Comps[C]))
          Comp = C;
      if (Comp == 4 || (Geo != 1 && Geo != 4))
        return unsupported(I);
    }
    // Operands: d[|p], [a, c] {, lod | dPdx, dPdy} {, e} {, f}: e the texel offsets (a vector), f the depth-compare
    // value (a scalar). A separate sampler ("[a, b, c]", the independent texturing mode) is not implemented: its b is
    // a symbol, or a register followed by the coordinate vector.
    if (I.Operands.size() < 3 || !I.Operands[1].is<AddressOperand>())
      return unsupported(I);
    if (I.Operands[2].is<SymbolOperand>() ||
        (I.Operands[2].is<RegOperand>() && I.Operands.size() > 3 && I.Operands[3].is<VectorOperand>() &&
         geometryOf(I) != 0))
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: unsupported PTX instruction '{}': a separate sampler operand (the independent "
                                   "texturing mode) is not supported",
                                   MS.Source, I.Loc.Line, instrName(I)));
    size_t Fixed = 3 + (LodMode == 1 ? 1 : LodMode == 2 ? 2 : 0);
    if (I.Operands.size() < Fixed)
      return invalid(I, "missing operands");
    size_t Next = Fixed;
    const Operand *Offsets = nullptr;
    if (Next < I.Operands.size() && I.Operands[Next].is<VectorOperand>())
      Offsets = &I.Operands[Next++];
    if (Next < I.Operands.size())
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: unsupported PTX instruction '{}': depth compare (shadow textures) is not "
                                   "supported",
                                   MS.Source, I.Loc.Line, instrName(I)));
    auto H = handleOf(*this, I, I.Operands[1]);
    if (!H)
      return H.takeError();
    llvm::AllocaInst *Args = entryAlloca(Words, 4, "tex.args");
    llvm::AllocaInst *Res = entryAlloca(llvm::ArrayType::get(I32, 4), 4, "tex.res");
    bool Layered = Geo == 3 || Geo == 4 || Geo == 6;
    const Operand &Coords = I.Operands[2];
    if (Layered && Coords.is<VectorOperand>() && !Coords.as<VectorOperand>().Elements.empty()) {
      // The layer index is an integer whatever the coordinate type.
      const auto &E = Coords.as<VectorOperand>().Elements;
      VectorOperand Rest;
      Rest.Elements.assign(E.begin() + 1, E.end());
      Operand RestOp{Rest, std::nullopt, Coords.Loc};
      CUSHIM_TRY(storeWords(*this, I, E[0], Args, 0, 1, ScalarType::B32));
      CUSHIM_TRY(storeWords(*this, I, RestOp, Args, 1, 3, CType));
    } else {
      CUSHIM_TRY(storeWords(*this, I, Coords, Args, 0, coordCount(Geo), CType));
    }
    if (LodMode == 1)
      CUSHIM_TRY(storeWords(*this, I, I.Operands[3], Args, 4, 1, ScalarType::F32));
    if (LodMode == 2) {
      CUSHIM_TRY(storeWords(*this, I, I.Operands[3], Args, 5, 4, ScalarType::F32));
      CUSHIM_TRY(storeWords(*this, I, I.Operands[4], Args, 9, 4, ScalarType::F32));
    }
    if (Offsets)
      CUSHIM_TRY(storeWords(*this, I, *Offsets, Args, 13, 3, ScalarType::S32));
    uint32_t Code = static_cast<uint32_t>(Geo) | (CType == ScalarType::S32 ? 1u << 4 : 0) | (Kind << 5) |
                    (LodMode << 8) | (Gather ? 1u << 12 : 0) | (Comp << 13) | (Offsets ? 1u << 15 : 0);
    B.CreateCall(textureRuntime(MS, "__cushim_tex"), {ctxArg(), *H, llvm::ConstantInt::get(I32, Code), Args, Res});
    const Operand &D = I.Operands[0];
    if (!D.is<VectorOperand>() || D.as<VectorOperand>().Elements.size() != 4)
      return invalid(I, "the destination must be a vector of four registers");
    const auto &DE = D.as<VectorOperand>().Elements;
    for (unsigned N = 0; N < 4; ++N) {
      llvm::Value *W = B.CreateLoad(I32, B.CreateConstInBoundsGEP2_32(Res->getAllocatedType(), Res, 0, N));
      CUSHIM_TRY(writeOperand(I, DE[N], DType == ScalarType::F32 ? fromBits(W, valueType(ScalarType::F32)) : W,
                              DType));
    }
    // d|p: the texel is always resident (no sparse textures).
    if (D.PairSecond)
      CUSHIM_TRY(writeReg(I, *D.PairSecond, llvm::ConstantInt::getTrue(Ctx), ScalarType::Pred));
    return Error::success();
  }

  if (Op == "suld" || Op == "sust") {
    bool Load = Op == "suld";
    int Geo = geometryOf(I);
    // sust.p is a formatted store of .b32 words; suld.p left the ISA (PTX 9 has suld.b only); cube geometries are
    // not implemented.
    bool Formatted = !Load && I.hasMod("p");
    if ((!I.hasMod("b") && !Formatted) || Geo < 0 || Geo == 5 || Geo == 6)
      return unsupported(I);
    unsigned Clamp = I.hasMod("trap") ? 0 : I.hasMod("clamp") ? 1 : I.hasMod("zero") ? 2 : 3;
    if (Clamp == 3)
      return invalid(I, "missing .trap/.clamp/.zero");
    unsigned Vec = I.hasMod("v4") ? 4 : I.hasMod("v2") ? 2 : 1;
    ScalarType T = lastType(I);
    unsigned Bits = typeBits(T);
    if ((Bits != 8 && Bits != 16 && Bits != 32 && Bits != 64) || (Formatted && Bits != 32))
      return unsupported(I);
    unsigned Bytes = Vec * Bits / 8;
    size_t AddrIdx = Load ? 1 : 0;
    if (I.Operands.size() != 3 || !I.Operands[AddrIdx].is<AddressOperand>())
      return unsupported(I);
    auto H = handleOf(*this, I, I.Operands[AddrIdx]);
    if (!H)
      return H.takeError();
    llvm::AllocaInst *Coords = entryAlloca(Words, 4, "surf.coords");
    CUSHIM_TRY(storeWords(*this, I, I.Operands[AddrIdx + 1], Coords, 0, 4, ScalarType::B32));
    llvm::Type *ET = intType(Bits);
    llvm::Type *Buf = llvm::ArrayType::get(ET, Vec);
    llvm::AllocaInst *Data = entryAlloca(Buf, 8, "surf.data");
    uint32_t Code = static_cast<uint32_t>(Geo) | (Clamp << 4) | (Bytes << 8) | (Formatted ? 1u << 16 : 0);
    const Operand &V = I.Operands[Load ? 0 : 2];
    std::vector<const Operand *> Elems;
    if (V.is<VectorOperand>())
      for (const Operand &E : V.as<VectorOperand>().Elements)
        Elems.push_back(&E);
    else
      Elems.push_back(&V);
    if (Elems.size() != Vec)
      return invalid(I, "the data operand does not match the vector width");
    if (Load) {
      B.CreateCall(textureRuntime(MS, "__cushim_suld"), {ctxArg(), *H, llvm::ConstantInt::get(I32, Code), Coords, Data});
      for (unsigned N = 0; N < Vec; ++N) {
        llvm::Value *W = B.CreateLoad(ET, B.CreateConstInBoundsGEP2_32(Buf, Data, 0, N));
        CUSHIM_TRY(writeOperand(I, *Elems[N], W, T));
      }
      return Error::success();
    }
    ScalarType RT = Bits == 8 ? ScalarType::B8 : Bits == 16 ? ScalarType::B16 : Bits == 32 ? ScalarType::B32
                                                                                          : ScalarType::B64;
    for (unsigned N = 0; N < Vec; ++N) {
      auto X = readOperand(I, *Elems[N], RT);
      if (!X)
        return X.takeError();
      B.CreateStore(resizeInt(toBits(*X), Bits, false), B.CreateConstInBoundsGEP2_32(Buf, Data, 0, N));
    }
    B.CreateCall(textureRuntime(MS, "__cushim_sust"), {ctxArg(), *H, llvm::ConstantInt::get(I32, Code), Coords, Data});
    return Error::success();
  }

  if (Op == "sured") {
    // sured.{b,p}.op.geom.ctype.mode [a, b], c: an atomic reduction into a surface element (x in bytes for .b, in
    // samples for .p), run by __cushim_sust.
    static const char *const Ops[] = {"add", "min", "max", "and", "or"};
    unsigned Red = 0;
    for (unsigned K = 0; K < 5; ++K)
      if (I.hasMod(Ops[K]))
        Red = K + 1;
    int Geo = geometryOf(I);
    bool Sample = I.hasMod("p");
    unsigned Clamp = I.hasMod("trap") ? 0 : I.hasMod("clamp") ? 1 : I.hasMod("zero") ? 2 : 3;
    ScalarType T = lastType(I);
    unsigned Bits = typeBits(T);
    if (Red == 0 || (Geo != 0 && Geo != 1 && Geo != 2) || (!Sample && !I.hasMod("b")) || (Bits != 32 && Bits != 64))
      return unsupported(I);
    if (Clamp == 3)
      return invalid(I, "missing .trap/.clamp/.zero");
    if (I.Operands.size() != 3 || !I.Operands[0].is<AddressOperand>())
      return invalid(I, "expected [surface, coordinates], value");
    auto H = handleOf(*this, I, I.Operands[0]);
    if (!H)
      return H.takeError();
    llvm::AllocaInst *Coords = entryAlloca(Words, 4, "sured.coords");
    CUSHIM_TRY(storeWords(*this, I, I.Operands[1], Coords, 0, 4, ScalarType::B32));
    ScalarType RT = Bits == 32 ? ScalarType::B32 : ScalarType::B64;
    auto X = read(I, 2, RT);
    if (!X)
      return X.takeError();
    llvm::AllocaInst *Data = entryAlloca(intType(Bits), 8, "sured.data");
    B.CreateStore(toBits(*X), Data);
    uint32_t Code = static_cast<uint32_t>(Geo) | (Clamp << 4) | ((Bits / 8) << 8) | (Sample ? 1u << 16 : 0) |
                    (Red << 24) | (isSignedType(T) ? 1u << 28 : 0);
    B.CreateCall(textureRuntime(MS, "__cushim_sust"), {ctxArg(), *H, llvm::ConstantInt::get(I32, Code), Coords, Data});
    return Error::success();
  }

  if (Op == "txq" || Op == "suq") {
    // Queries the backend answers (TextureSampling.h: TexQuery); channel/sampler-state queries are not implemented.
    static const std::pair<const char *, unsigned> Queries[] = {
        {"width", 0}, {"height", 1}, {"depth", 2}, {"array_size", 3}, {"num_mipmap_levels", 4},
        {"normalized_coords", 5}};
    int Query = -1;
    for (const auto &[Name, Code] : Queries)
      if (I.hasMod(Name))
        Query = static_cast<int>(Code);
    bool Level = I.hasMod("level");
    if (Query < 0 || I.Operands.size() != (Level ? 3u : 2u) || !I.Operands[1].is<AddressOperand>())
      return unsupported(I);
    auto H = handleOf(*this, I, I.Operands[1]);
    if (!H)
      return H.takeError();
    llvm::Value *Lod = llvm::ConstantInt::get(I32, 0);
    if (Level) {
      auto L = read(I, 2, ScalarType::S32);
      if (!L)
        return L.takeError();
      Lod = *L;
    }
    llvm::Value *R = B.CreateCall(textureRuntime(MS, "__cushim_txq"),
                                  {ctxArg(), *H, llvm::ConstantInt::get(I32, static_cast<uint32_t>(Query)), Lod});
    return write(I, 0, R, ScalarType::B32);
  }

  if (Op == "istypep") {
    unsigned Kind = I.hasMod("texref") ? 0 : I.hasMod("samplerref") ? 1 : I.hasMod("surfref") ? 2 : 3;
    if (Kind == 3 || I.Operands.size() != 2)
      return invalid(I, "expected istypep.{texref,samplerref,surfref} p, a");
    auto H = read(I, 1, ScalarType::B64);
    if (!H)
      return H.takeError();
    llvm::Value *R = B.CreateCall(textureRuntime(MS, "__cushim_istypep"),
                                  {ctxArg(), *H, llvm::ConstantInt::get(I32, Kind), llvm::ConstantInt::get(I32, 0)});
    return write(I, 0, B.CreateICmpNE(R, llvm::ConstantInt::get(I32, 0)), ScalarType::Pred);
  }
  return unsupported(I);
}

} // namespace cushim::ptx::lower
