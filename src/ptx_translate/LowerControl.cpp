// Function bodies: scopes and declarations, operand access, predication, labels and branches, calls and returns.
#include "ptx_translate/LowerInternal.h"
#include "ptx_translate/LowerYield.h"

#include "cuda_shim/hal.h"

#include <llvm/IR/Constants.h>

#include <fmt/format.h>

namespace cushim::ptx::lower {

FunctionLowering::FunctionLowering(ModuleState &MS, const Function &F, llvm::Function *Fn, const KernelInfo *KI,
                                   const std::map<std::string, uint32_t> &SharedOffsets, uint32_t StaticSharedSize)
    : MS(MS), Ctx(MS.Ctx), F(F), Fn(Fn), KI(KI), B(MS.Ctx), AllocaB(MS.Ctx), SharedOffsets(SharedOffsets),
      StaticSharedSize(StaticSharedSize) {}

Error FunctionLowering::unsupported(const Instruction &I) {
  return makeError(CUDA_ERROR_INVALID_PTX,
                   fmt::format("{}:{}: unsupported PTX instruction '{}'", MS.Source, I.Loc.Line, instrName(I)));
}

Error FunctionLowering::invalid(const Instruction &I, const std::string &Why) {
  return makeError(CUDA_ERROR_INVALID_PTX,
                   fmt::format("{}:{}: invalid PTX instruction '{}': {}", MS.Source, I.Loc.Line, instrName(I), Why));
}

// ---------------------------------------------------------------------------------------------------------------
// Types and scopes

llvm::Type *FunctionLowering::valueType(ScalarType T) {
  switch (T) {
  case ScalarType::Pred:
    return llvm::Type::getInt1Ty(Ctx);
  case ScalarType::F16:
    return llvm::Type::getHalfTy(Ctx);
  case ScalarType::BF16:
    return llvm::Type::getBFloatTy(Ctx);
  case ScalarType::F32:
    return llvm::Type::getFloatTy(Ctx);
  case ScalarType::F64:
    return llvm::Type::getDoubleTy(Ctx);
  case ScalarType::F16x2:
    return llvm::FixedVectorType::get(llvm::Type::getHalfTy(Ctx), 2);
  case ScalarType::BF16x2:
    return llvm::FixedVectorType::get(llvm::Type::getBFloatTy(Ctx), 2);
  default:
    return intType(std::max(1u, typeBits(T)));
  }
}

std::vector<ScalarType> FunctionLowering::typeMods(const Instruction &I) const {
  std::vector<ScalarType> Out;
  for (const auto &M : I.Mods)
    if (auto T = typeFromSuffix(M))
      Out.push_back(*T);
  return Out;
}

ScalarType FunctionLowering::lastType(const Instruction &I) const {
  auto Ts = typeMods(I);
  return Ts.empty() ? ScalarType::None : Ts.back();
}

const Symbol *FunctionLowering::lookup(const std::string &Name) const {
  for (auto It = Scopes.rbegin(); It != Scopes.rend(); ++It) {
    auto S = It->find(Name);
    if (S != It->end())
      return &S->second;
  }
  // Module scope, materialized on first use into the outermost scope.
  auto *Self = const_cast<FunctionLowering *>(this);
  Symbol S;
  if (auto G = MS.Globals.find(Name); G != MS.Globals.end()) {
    S.K = Symbol::GlobalVar;
    S.Ptr = G->second;
  } else if (auto Sh = MS.ModuleShared.find(Name); Sh != MS.ModuleShared.end()) {
    S.K = Symbol::Shared;
    const VariableDecl &D = *Sh->second;
    if (!D.Dims.empty() && !D.Dims.back())
      S.DynamicShared = true;
    else if (auto O = SharedOffsets.find(Name); O != SharedOffsets.end())
      S.Offset = O->second;
    else
      return nullptr;
  } else if (auto Fn = MS.Functions.find(Name); Fn != MS.Functions.end()) {
    S.K = Symbol::Func;
    S.Fn = Fn->second;
  } else {
    return nullptr;
  }
  auto &Outer = Self->Scopes.front();
  return &(Outer[Name] = S);
}

llvm::AllocaInst *FunctionLowering::entryAlloca(llvm::Type *Ty, uint64_t Align, const std::string &Name,
                                                llvm::Value *Count) {
  auto *A = AllocaB.CreateAlloca(Ty, Count, Name);
  A->setAlignment(llvm::Align(std::max<uint64_t>(1, Align)));
  return A;
}

llvm::AllocaInst *FunctionLowering::carry() {
  if (!CarryFlag) {
    CarryFlag = entryAlloca(llvm::Type::getInt1Ty(Ctx), 1, "cc");
    AllocaB.CreateStore(llvm::ConstantInt::getFalse(Ctx), CarryFlag);
  }
  return CarryFlag;
}

Error FunctionLowering::declareVariable(const VariableDecl &D) {
  auto &Scope = Scopes.back();
  switch (D.Space) {
  case StateSpace::Reg: {
    unsigned Bits = D.Type == ScalarType::Pred ? 1 : typeBits(D.Type);
    if (Bits == 0)
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: register '{}' has no scalar type", MS.Source, D.Loc.Line, D.Name));
    llvm::Type *Storage = intType(Bits);
    auto makeReg = [&](const std::string &Name) {
      Symbol S;
      S.K = Symbol::Reg;
      S.Storage = Storage;
      S.Type = D.Type;
      auto *A = entryAlloca(Storage, (Bits + 7) / 8, Name);
      AllocaB.CreateStore(llvm::ConstantInt::get(Storage, 0), A);
      S.Ptr = A;
      Scope[Name] = S;
    };
    auto makeNamed = [&](const std::string &Name) {
      if (D.VectorWidth > 1)
        for (unsigned C = 0; C < D.VectorWidth; ++C)
          makeReg(Name + "#" + std::to_string(C));
      else
        makeReg(Name);
    };
    if (D.RangeCount)
      for (uint32_t N = 0; N < *D.RangeCount; ++N)
        makeNamed(D.Name + std::to_string(N));
    else
      makeNamed(D.Name);
    return Error::success();
  }
  case StateSpace::Local:
  case StateSpace::Param: {
    uint64_t Size = std::max<uint64_t>(1, declSize(D));
    Symbol S;
    S.K = D.Space == StateSpace::Local ? Symbol::LocalVar : Symbol::ParamMem;
    S.Type = D.Type;
    S.Ptr = entryAlloca(llvm::ArrayType::get(intType(8), Size), declAlign(D), D.Name);
    if (D.Space == StateSpace::Local)
      LocalBytes += static_cast<uint32_t>(Size);
    Scope[D.Name] = S;
    return Error::success();
  }
  case StateSpace::Shared: {
    Symbol S;
    S.K = Symbol::Shared;
    if (!D.Dims.empty() && !D.Dims.back())
      S.DynamicShared = true;
    else if (auto O = SharedOffsets.find(D.Name); O != SharedOffsets.end())
      S.Offset = O->second;
    else
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: shared variable '{}' has no layout slot", MS.Source, D.Loc.Line, D.Name));
    Scope[D.Name] = S;
    return Error::success();
  }
  default:
    return makeError(CUDA_ERROR_INVALID_PTX, fmt::format("{}:{}: unsupported declaration of '{}' in a function body",
                                                           MS.Source, D.Loc.Line, D.Name));
  }
}

Error FunctionLowering::declareFunctionSymbols() {
  Scopes.emplace_back();
  auto &Scope = Scopes.back();
  auto ArgIt = Fn->arg_begin();
  if (KI) {
    Params = &*ArgIt++;
    Params->setName("params");
    Ctx_ = &*ArgIt++;
    Ctx_->setName("ctx");
    for (size_t N = 0; N < F.Params.size(); ++N) {
      Symbol S;
      S.K = Symbol::KernelParam;
      S.Type = F.Params[N].Type;
      S.Offset = KI->Params[N].Offset;
      Scope[F.Params[N].Name] = S;
    }
    return Error::success();
  }
  Ctx_ = &*ArgIt++;
  Ctx_->setName("ctx");
  auto declare = [&](const VariableDecl &D) -> Error {
    llvm::Argument *A = &*ArgIt++;
    A->setName(D.Name);
    Symbol S;
    S.Type = D.Type;
    if (D.Space == StateSpace::Reg) {
      // Old-style register parameters still travel through memory; keep a register copy.
      unsigned Bits = std::max(1u, typeBits(D.Type));
      S.K = Symbol::Reg;
      S.Storage = intType(Bits);
      auto *Al = entryAlloca(S.Storage, (Bits + 7) / 8, D.Name);
      llvm::Value *V = AllocaB.CreateLoad(intType(Bits < 8 ? 8 : Bits), A);
      AllocaB.CreateStore(Bits < 8 ? AllocaB.CreateTrunc(V, S.Storage) : V, Al);
      S.Ptr = Al;
      S.Offset = 1; // marks "copy back on return" for return registers
      RegReturnArgs.push_back({Al, A});
    } else {
      S.K = Symbol::ParamMem;
      S.Ptr = A;
    }
    Scope[D.Name] = S;
    return Error::success();
  };
  for (const auto &R : F.Returns)
    CUSHIM_TRY(declare(R));
  size_t NumRetRegs = RegReturnArgs.size();
  for (const auto &P : F.Params)
    CUSHIM_TRY(declare(P));
  RegReturnArgs.resize(NumRetRegs); // only returns are copied back
  return Error::success();
}

Error FunctionLowering::collectLabels(const Block &Blk) {
  for (const auto &St : Blk.Body) {
    if (St.is<Label>()) {
      const std::string &N = St.as<Label>().Name;
      if (!Labels.count(N))
        Labels[N] = llvm::BasicBlock::Create(Ctx, N, Fn);
    } else if (St.is<Block>()) {
      CUSHIM_TRY(collectLabels(St.as<Block>()));
    }
  }
  return Error::success();
}

void FunctionLowering::startBlock(llvm::BasicBlock *BB) {
  if (!B.GetInsertBlock()->getTerminator())
    B.CreateBr(BB);
  B.SetInsertPoint(BB);
}

void FunctionLowering::afterTerminator() { B.SetInsertPoint(llvm::BasicBlock::Create(Ctx, "dead", Fn)); }

void FunctionLowering::emitReturn() {
  for (auto &[Al, Arg] : RegReturnArgs) {
    llvm::Value *V = B.CreateLoad(Al->getAllocatedType(), Al);
    if (V->getType()->getIntegerBitWidth() < 8)
      V = B.CreateZExt(V, intType(8));
    B.CreateStore(V, Arg);
  }
  B.CreateRetVoid();
}

// Whether a kernel can reach a loop with a yield point (the call-graph closure; every function when it makes
// indirect calls). Device functions defined after the kernel (nvcc puts the math library's slow paths last) are
// lowered now, so their loops are judged by the same analysis; run() skips them when lowerModule gets there.
Expected<bool> kernelMaySpin(ModuleState &MS, const std::string &Kernel) {
  std::set<std::string> Reach;
  std::vector<std::string> Work{Kernel};
  bool Indirect = false;
  while (!Work.empty()) {
    std::string N = Work.back();
    Work.pop_back();
    if (!Reach.insert(N).second)
      continue;
    auto S = MS.Summaries.find(N);
    if (S == MS.Summaries.end())
      continue;
    Indirect |= S->second.IndirectCalls;
    for (const auto &C : S->second.Callees)
      Work.push_back(C);
  }
  if (Indirect)
    for (const auto &[N, Ast] : MS.FunctionAsts)
      Reach.insert(N);
  bool MaySpin = false;
  for (const auto &N : Reach) {
    auto Fi = MS.Functions.find(N);
    auto Ai = MS.FunctionAsts.find(N);
    if (Fi == MS.Functions.end() || Ai == MS.FunctionAsts.end())
      continue;
    llvm::Function *Fn = Fi->second;
    const Function &Ast = *Ai->second;
    if (Fn->isDeclaration() && Ast.Body && !Ast.IsEntry) {
      FunctionLowering FL(MS, Ast, Fn, nullptr, MS.CommonSharedOffsets, 0);
      CUSHIM_TRY(FL.run());
    }
    MaySpin |= Fn->hasFnAttribute(MaySpinAttr);
  }
  return MaySpin;
}

Error FunctionLowering::run() {
  if (!Fn->empty())
    return Error::success(); // a device function already lowered for kernelMaySpin()
  EntryBB = llvm::BasicBlock::Create(Ctx, "entry", Fn);
  AllocaB.SetInsertPoint(EntryBB);
  auto *Body = llvm::BasicBlock::Create(Ctx, "body", Fn);
  B.SetInsertPoint(Body);
  CUSHIM_TRY(declareFunctionSymbols());
  CUSHIM_TRY(collectLabels(*F.Body));
  CUSHIM_TRY(lowerBlock(*F.Body));
  if (!B.GetInsertBlock()->getTerminator())
    emitReturn();
  AllocaB.CreateBr(Body);
  // Blocks left without terminators are unreachable leftovers (e.g. after a final branch).
  for (auto &BB : *Fn)
    if (!BB.getTerminator()) {
      llvm::IRBuilder<> T(&BB);
      T.CreateUnreachable();
    }
  insertSpinYields(*Fn, Ctx_);
  return Error::success();
}

Error FunctionLowering::lowerBlock(const Block &Blk) {
  Scopes.emplace_back();
  for (const auto &St : Blk.Body)
    CUSHIM_TRY(lowerStatement(St));
  Scopes.pop_back();
  return Error::success();
}

Error FunctionLowering::lowerStatement(const Statement &S) {
  if (S.is<Label>()) {
    startBlock(Labels.at(S.as<Label>().Name));
    return Error::success();
  }
  if (S.is<Block>())
    return lowerBlock(S.as<Block>());
  if (S.is<VariableDecl>())
    return declareVariable(S.as<VariableDecl>());
  if (S.is<CallPrototype>()) {
    Symbol Sym;
    Sym.K = Symbol::Proto;
    Sym.ProtoDecl = &S.as<CallPrototype>();
    Scopes.back()[Sym.ProtoDecl->Label] = Sym;
    return Error::success();
  }
  if (S.is<BranchTargets>()) {
    Symbol Sym;
    Sym.K = Symbol::Targets;
    Sym.TargetsDecl = &S.as<BranchTargets>();
    Scopes.back()[Sym.TargetsDecl->Label] = Sym;
    return Error::success();
  }
  if (S.is<OtherDirective>())
    return Error::success();

  const Instruction &I = S.as<Instruction>();
  if (!I.Guard || I.Opcode == "bra")
    return lowerInstruction(I);
  // Predicated instruction: run it in its own block.
  auto G = readReg(I, *I.Guard, ScalarType::Pred);
  if (!G)
    return G.takeError();
  auto *Then = llvm::BasicBlock::Create(Ctx, "pred", Fn);
  auto *Cont = llvm::BasicBlock::Create(Ctx, "cont", Fn);
  B.CreateCondBr(*G, Then, Cont);
  B.SetInsertPoint(Then);
  CUSHIM_TRY(lowerInstruction(I));
  if (!B.GetInsertBlock()->getTerminator())
    B.CreateBr(Cont);
  B.SetInsertPoint(Cont);
  return Error::success();
}

// ---------------------------------------------------------------------------------------------------------------
// Operand access

llvm::Value *FunctionLowering::toBits(llvm::Value *V) {
  llvm::Type *T = V->getType();
  if (T->isIntegerTy())
    return V;
  return B.CreateBitCast(V, intType(T->getPrimitiveSizeInBits().getFixedValue()));
}

llvm::Value *FunctionLowering::fromBits(llvm::Value *V, llvm::Type *To) {
  if (V->getType() == To)
    return V;
  return B.CreateBitCast(V, To);
}

llvm::Value *FunctionLowering::resizeInt(llvm::Value *V, unsigned Bits, bool Signed) {
  unsigned Have = V->getType()->getIntegerBitWidth();
  if (Have == Bits)
    return V;
  if (Have > Bits)
    return B.CreateTrunc(V, intType(Bits));
  return Signed ? B.CreateSExt(V, intType(Bits)) : B.CreateZExt(V, intType(Bits));
}

Expected<llvm::Value *> FunctionLowering::read(const Instruction &I, size_t Index, ScalarType T) {
  if (Index >= I.Operands.size())
    return invalid(I, "missing operand");
  return readOperand(I, I.Operands[Index], T);
}

Expected<llvm::Value *> FunctionLowering::readReg(const Instruction &I, const RegOperand &R, ScalarType T) {
  const Symbol *S = nullptr;
  if (R.Component >= 0)
    S = lookup(R.Name + "#" + std::to_string(R.Component));
  if (!S)
    S = lookup(R.Name);
  if (!S || (S->K != Symbol::Reg && R.Component >= 0 && isSpecialRegister(R.Name))) {
    if (isSpecialRegister(R.Name)) {
      auto V = readSpecial(I, R);
      if (!V)
        return V;
      llvm::Value *X = *V;
      if (T == ScalarType::Pred)
        return B.CreateICmpNE(X, llvm::ConstantInt::get(X->getType(), 0));
      return fromBits(resizeInt(X, std::max(1u, typeBits(T)), false), valueType(T));
    }
    return invalid(I, "unknown register '" + R.Name + "'");
  }
  // A component of a scalar register (e.g. %tid.x where %tid is declared as a .reg, shadowing the special
  // register): ptxas rejects it, so must we rather than read the scalar.
  if (S->K == Symbol::Reg && R.Component >= 0 && S == lookup(R.Name))
    return invalid(I, "'" + R.Name + "' is a scalar register: it has no component ." + std::string(1, "xyzw"[R.Component & 3]));
  if (S->K != Symbol::Reg) {
    // A variable name used as a value (mov r, var written as a register-like name).
    unsigned Bits = std::max(1u, typeBits(T));
    auto A = symbolAddress(I, R.Name, 0, Bits == 1 ? 64 : Bits);
    if (!A)
      return A;
    return fromBits(*A, valueType(T));
  }
  llvm::Value *V = B.CreateLoad(S->Storage, S->Ptr);
  unsigned Have = S->Storage->getIntegerBitWidth();
  if (T == ScalarType::Pred) {
    if (Have != 1)
      V = B.CreateICmpNE(V, llvm::ConstantInt::get(V->getType(), 0));
  } else {
    unsigned Want = typeBits(T) ? typeBits(T) : Have;
    V = resizeInt(V, Want, isSignedType(T) || (Have == 1 ? false : false));
    V = fromBits(V, typeBits(T) ? valueType(T) : V->getType());
  }
  if (R.Negated)
    V = T == ScalarType::Pred ? B.CreateNot(V) : V;
  return V;
}

static llvm::Constant *floatConstant(llvm::Type *Ty, const FloatOperand &FO) {
  llvm::APFloat V(0.0);
  if (FO.Fmt == FloatOperand::HexF32)
    V = llvm::APFloat(llvm::APFloat::IEEEsingle(), llvm::APInt(32, FO.Bits & 0xffffffffu));
  else if (FO.Fmt == FloatOperand::HexF64)
    V = llvm::APFloat(llvm::APFloat::IEEEdouble(), llvm::APInt(64, FO.Bits));
  else
    V = llvm::APFloat(FO.Value);
  bool Lost = false;
  V.convert(Ty->getFltSemantics(), llvm::APFloat::rmNearestTiesToEven, &Lost);
  return llvm::ConstantFP::get(Ty, V);
}

Expected<llvm::Value *> FunctionLowering::readOperand(const Instruction &I, const Operand &Op, ScalarType T) {
  llvm::Type *VT = valueType(T);
  if (Op.is<RegOperand>())
    return readReg(I, Op.as<RegOperand>(), T);
  if (Op.is<IntOperand>()) {
    uint64_t V = Op.as<IntOperand>().Value;
    if (T == ScalarType::Pred)
      return llvm::ConstantInt::get(VT, V != 0);
    if (VT->isFloatingPointTy())
      return llvm::ConstantFP::get(VT, static_cast<double>(static_cast<int64_t>(V)));
    if (VT->isVectorTy())
      return fromBits(llvm::ConstantInt::get(intType(typeBits(T)), V), VT);
    return llvm::ConstantInt::get(VT, V);
  }
  if (Op.is<FloatOperand>()) {
    const FloatOperand &FO = Op.as<FloatOperand>();
    if (VT->isFloatingPointTy())
      return floatConstant(VT, FO);
    unsigned Bits = std::max(1u, typeBits(T));
    if (FO.Fmt == FloatOperand::HexF32)
      return fromBits(llvm::ConstantInt::get(intType(Bits), FO.Bits & 0xffffffffu), VT);
    if (FO.Fmt == FloatOperand::HexF64)
      return fromBits(llvm::ConstantInt::get(intType(Bits), Bits < 64 ? FO.Bits & ((1ull << Bits) - 1) : FO.Bits), VT);
    return fromBits(llvm::ConstantInt::get(intType(Bits), static_cast<uint64_t>(static_cast<int64_t>(FO.Value))), VT);
  }
  if (Op.is<SymbolOperand>()) {
    const auto &S = Op.as<SymbolOperand>();
    unsigned Bits = typeBits(T) ? typeBits(T) : 64;
    auto A = symbolAddress(I, S.Name, S.Offset, Bits);
    if (!A)
      return A;
    return fromBits(*A, VT);
  }
  if (Op.is<VectorOperand>()) {
    const auto &Elems = Op.as<VectorOperand>().Elements;
    unsigned Bits = typeBits(T);
    if (Elems.empty() || Bits % Elems.size())
      return invalid(I, "bad vector operand");
    unsigned EB = Bits / static_cast<unsigned>(Elems.size());
    ScalarType ET = EB == 8    ? ScalarType::B8
                    : EB == 16 ? ScalarType::B16
                    : EB == 32 ? ScalarType::B32
                               : ScalarType::B64;
    llvm::Value *Acc = llvm::ConstantInt::get(intType(Bits), 0);
    for (size_t N = 0; N < Elems.size(); ++N) {
      auto E = readOperand(I, Elems[N], ET);
      if (!E)
        return E;
      llvm::Value *W = B.CreateZExt(*E, intType(Bits));
      if (N)
        W = B.CreateShl(W, EB * N);
      Acc = B.CreateOr(Acc, W);
    }
    return fromBits(Acc, VT);
  }
  return invalid(I, "unexpected operand kind");
}

Error FunctionLowering::write(const Instruction &I, size_t Index, llvm::Value *V, ScalarType T) {
  if (Index >= I.Operands.size())
    return invalid(I, "missing destination");
  return writeOperand(I, I.Operands[Index], V, T);
}

Error FunctionLowering::writeReg(const Instruction &I, const RegOperand &R, llvm::Value *V, ScalarType T) {
  const Symbol *S = nullptr;
  if (R.Component >= 0)
    S = lookup(R.Name + "#" + std::to_string(R.Component));
  if (!S)
    S = lookup(R.Name);
  if (!S || S->K != Symbol::Reg)
    return invalid(I, "destination '" + R.Name + "' is not a register");
  llvm::Value *X = toBits(V);
  unsigned Have = S->Storage->getIntegerBitWidth();
  if (Have == 1 && X->getType()->getIntegerBitWidth() != 1)
    X = B.CreateICmpNE(X, llvm::ConstantInt::get(X->getType(), 0));
  else
    X = resizeInt(X, Have, isSignedType(T));
  B.CreateStore(X, S->Ptr);
  return Error::success();
}

Error FunctionLowering::writeOperand(const Instruction &I, const Operand &Op, llvm::Value *V, ScalarType T) {
  if (Op.is<SinkOperand>())
    return Error::success();
  if (Op.is<RegOperand>())
    return writeReg(I, Op.as<RegOperand>(), V, T);
  if (Op.is<VectorOperand>()) {
    const auto &Elems = Op.as<VectorOperand>().Elements;
    llvm::Value *X = toBits(V);
    unsigned Bits = X->getType()->getIntegerBitWidth();
    if (Elems.empty() || Bits % Elems.size())
      return invalid(I, "bad vector destination");
    unsigned EB = Bits / static_cast<unsigned>(Elems.size());
    ScalarType ET = EB == 8    ? ScalarType::B8
                    : EB == 16 ? ScalarType::B16
                    : EB == 32 ? ScalarType::B32
                               : ScalarType::B64;
    for (size_t N = 0; N < Elems.size(); ++N) {
      llvm::Value *E = B.CreateTrunc(N ? B.CreateLShr(X, EB * N) : X, intType(EB));
      CUSHIM_TRY(writeOperand(I, Elems[N], E, ET));
    }
    return Error::success();
  }
  return invalid(I, "destination must be a register");
}

// ---------------------------------------------------------------------------------------------------------------
// Control flow

static std::string targetName(const Operand &Op) {
  if (Op.is<SymbolOperand>())
    return Op.as<SymbolOperand>().Name;
  if (Op.is<RegOperand>())
    return Op.as<RegOperand>().Name;
  if (Op.is<AddressOperand>() && Op.as<AddressOperand>().BaseSymbol)
    return *Op.as<AddressOperand>().BaseSymbol;
  return {};
}

Error FunctionLowering::lowerControl(const Instruction &I) {
  const std::string &Op = I.Opcode;
  if (Op == "bra") {
    if (I.Operands.empty())
      return invalid(I, "missing target");
    llvm::BasicBlock *Target = labelBlock(targetName(I.Operands[0]));
    if (!Target)
      return invalid(I, "unknown label '" + targetName(I.Operands[0]) + "'");
    if (I.Guard) {
      auto G = readReg(I, *I.Guard, ScalarType::Pred);
      if (!G)
        return G.takeError();
      auto *Next = llvm::BasicBlock::Create(Ctx, "fall", Fn);
      B.CreateCondBr(*G, Target, Next);
      B.SetInsertPoint(Next);
      return Error::success();
    }
    B.CreateBr(Target);
    afterTerminator();
    return Error::success();
  }
  if (Op == "brx") {
    if (I.Operands.size() < 2)
      return invalid(I, "brx.idx needs an index and a target list");
    auto Idx = read(I, 0, ScalarType::U32);
    if (!Idx)
      return Idx.takeError();
    const Symbol *S = lookup(targetName(I.Operands[1]));
    if (!S || S->K != Symbol::Targets)
      return invalid(I, "unknown .branchtargets list");
    const auto &Ts = S->TargetsDecl->Targets;
    // Out-of-range indices are undefined behaviour in PTX; send them to the last target.
    std::vector<llvm::BasicBlock *> BBs;
    for (const auto &T : Ts) {
      llvm::BasicBlock *BB = labelBlock(T);
      if (!BB)
        return invalid(I, "unknown label '" + T + "'");
      BBs.push_back(BB);
    }
    if (BBs.empty())
      return invalid(I, "empty target list");
    auto *Sw = B.CreateSwitch(*Idx, BBs.back(), static_cast<unsigned>(BBs.size()));
    for (size_t N = 0; N + 1 < BBs.size(); ++N)
      Sw->addCase(B.getInt32(static_cast<uint32_t>(N)), BBs[N]);
    afterTerminator();
    return Error::success();
  }
  if (Op == "ret") {
    emitReturn();
    afterTerminator();
    return Error::success();
  }
  if (Op == "exit") {
    if (KI) {
      emitReturn();
    } else {
      callRuntime("__cushim_exit", {Ctx_});
      B.CreateUnreachable();
    }
    afterTerminator();
    return Error::success();
  }
  if (Op == "trap" || Op == "brkpt") {
    callRuntime("__cushim_trap", {Ctx_});
    B.CreateUnreachable();
    afterTerminator();
    return Error::success();
  }
  if (Op == "call")
    return lowerCall(I);
  return unsupported(I);
}

Error FunctionLowering::lowerCall(const Instruction &I) {
  size_t CalleeIdx = 0;
  while (CalleeIdx < I.Operands.size() && I.Operands[CalleeIdx].is<ListOperand>())
    ++CalleeIdx;
  if (CalleeIdx >= I.Operands.size())
    return invalid(I, "call without a callee");
  const ListOperand *Rets = CalleeIdx > 0 ? &I.Operands[CalleeIdx - 1].as<ListOperand>() : nullptr;
  const ListOperand *Args = nullptr;
  const Operand *ProtoOp = nullptr;
  if (CalleeIdx + 1 < I.Operands.size() && I.Operands[CalleeIdx + 1].is<ListOperand>()) {
    Args = &I.Operands[CalleeIdx + 1].as<ListOperand>();
    if (CalleeIdx + 2 < I.Operands.size())
      ProtoOp = &I.Operands[CalleeIdx + 2];
  } else if (CalleeIdx + 1 < I.Operands.size()) {
    ProtoOp = &I.Operands[CalleeIdx + 1];
  }

  const Operand &CalleeOp = I.Operands[CalleeIdx];
  std::string CalleeName = targetName(CalleeOp);
  const Symbol *CS = CalleeName.empty() ? nullptr : lookup(CalleeName);
  llvm::Value *Callee = nullptr;
  const std::vector<VariableDecl> *RetDecls = nullptr, *ParamDecls = nullptr;
  if (CS && CS->K == Symbol::Func) {
    Callee = CS->Fn;
    const Function *Ast = MS.FunctionAsts.at(CalleeName);
    RetDecls = &Ast->Returns;
    ParamDecls = &Ast->Params;
  } else {
    auto P = readOperand(I, CalleeOp, ScalarType::U64);
    if (!P)
      return P.takeError();
    Callee = B.CreateIntToPtr(*P, B.getPtrTy());
    if (ProtoOp) {
      const Symbol *PS = lookup(targetName(*ProtoOp));
      if (PS && PS->K == Symbol::Proto) {
        RetDecls = &PS->ProtoDecl->Returns;
        ParamDecls = &PS->ProtoDecl->Params;
      }
    }
  }

  // Every argument travels as a pointer to caller-owned memory. Names of .param variables pass their storage;
  // registers and immediates (the non-ABI call form) get a temporary.
  std::vector<llvm::Value *> CallArgs{Ctx_};
  std::vector<std::pair<llvm::AllocaInst *, const Operand *>> RetTemps;
  auto slotFor = [&](const Operand &E, const VariableDecl *D, bool IsRet) -> Expected<llvm::Value *> {
    std::string Name = targetName(E);
    if (!Name.empty() && !E.is<RegOperand>()) {
      const Symbol *S = lookup(Name);
      if (S && (S->K == Symbol::ParamMem || S->K == Symbol::LocalVar))
        return S->Ptr;
    } else if (E.is<RegOperand>()) {
      const Symbol *S = lookup(Name);
      if (S && S->K == Symbol::ParamMem)
        return S->Ptr;
    }
    ScalarType T = D ? D->Type : ScalarType::B64;
    if (E.is<RegOperand>()) {
      const Symbol *S = lookup(E.as<RegOperand>().Name);
      if (!D && S && S->K == Symbol::Reg)
        T = S->Storage->getIntegerBitWidth() == 1    ? ScalarType::Pred
            : S->Storage->getIntegerBitWidth() == 32 ? ScalarType::B32
                                                     : ScalarType::B64;
    }
    unsigned Bits = std::max(8u, typeBits(T));
    auto *Tmp = entryAlloca(intType(Bits), Bits / 8, "argtmp");
    if (IsRet) {
      RetTemps.push_back({Tmp, &E});
      return Tmp;
    }
    ScalarType RT = T == ScalarType::Pred ? ScalarType::Pred : T;
    auto V = readOperand(I, E, RT);
    if (!V)
      return V;
    B.CreateStore(resizeInt(toBits(*V), Bits, false), Tmp);
    return Tmp;
  };
  if (Rets)
    for (size_t N = 0; N < Rets->Elements.size(); ++N) {
      auto P = slotFor(Rets->Elements[N], RetDecls && N < RetDecls->size() ? &(*RetDecls)[N] : nullptr, true);
      if (!P)
        return P.takeError();
      CallArgs.push_back(*P);
    }
  if (Args)
    for (size_t N = 0; N < Args->Elements.size(); ++N) {
      auto P = slotFor(Args->Elements[N], ParamDecls && N < ParamDecls->size() ? &(*ParamDecls)[N] : nullptr, false);
      if (!P)
        return P.takeError();
      CallArgs.push_back(*P);
    }

  std::vector<llvm::Type *> ArgTys(CallArgs.size(), B.getPtrTy());
  auto *FTy = llvm::FunctionType::get(B.getVoidTy(), ArgTys, false);
  if (auto *Direct = llvm::dyn_cast<llvm::Function>(Callee); Direct && Direct->getFunctionType() != FTy)
    return invalid(I, "argument count does not match the callee '" + CalleeName + "'");
  auto *Call = B.CreateCall(FTy, Callee, CallArgs);
  // The callee may contain barriers or warp collectives.
  Call->addFnAttr(llvm::Attribute::Convergent);
  for (auto &[Tmp, E] : RetTemps) {
    llvm::Value *V = B.CreateLoad(Tmp->getAllocatedType(), Tmp);
    const Symbol *S = E->is<RegOperand>() ? lookup(E->as<RegOperand>().Name) : nullptr;
    ScalarType T = S && S->K == Symbol::Reg ? ScalarType::B64 : ScalarType::B64;
    CUSHIM_TRY(writeOperand(I, *E, V, T));
  }
  return Error::success();
}

// ---------------------------------------------------------------------------------------------------------------
// Dispatch

Error FunctionLowering::lowerInstruction(const Instruction &I) {
  enum Family { Control, Integer, Compare, Float, Mov, Cvt, Memory, Atomic, Special, Texture };
  static const std::unordered_map<std::string_view, Family> Families = {
      {"bra", Control},
      {"brx", Control},
      {"ret", Control},
      {"exit", Control},
      {"trap", Control},
      {"brkpt", Control},
      {"call", Control},
      {"add", Integer},
      {"sub", Integer},
      {"mul", Integer},
      {"mad", Integer},
      {"mul24", Integer},
      {"mad24", Integer},
      {"sad", Integer},
      {"div", Integer},
      {"rem", Integer},
      {"abs", Integer},
      {"neg", Integer},
      {"min", Integer},
      {"max", Integer},
      {"popc", Integer},
      {"clz", Integer},
      {"brev", Integer},
      {"bfe", Integer},
      {"bfi", Integer},
      {"bfind", Integer},
      {"fns", Integer},
      {"prmt", Integer},
      {"shl", Integer},
      {"shr", Integer},
      {"shf", Integer},
      {"and", Integer},
      {"or", Integer},
      {"xor", Integer},
      {"not", Integer},
      {"cnot", Integer},
      {"lop3", Integer},
      {"addc", Integer},
      {"subc", Integer},
      {"madc", Integer},
      {"szext", Integer},
      {"bmsk", Integer},
      {"dp4a", Integer},
      {"dp2a", Integer},
      {"setp", Compare},
      {"set", Compare},
      {"selp", Compare},
      {"slct", Compare},
      {"fma", Float},
      {"rcp", Float},
      {"sqrt", Float},
      {"rsqrt", Float},
      {"sin", Float},
      {"cos", Float},
      {"lg2", Float},
      {"ex2", Float},
      {"tanh", Float},
      {"testp", Float},
      {"copysign", Float},
      {"mov", Mov},
      {"cvt", Cvt},
      {"ld", Memory},
      {"ldu", Memory},
      {"st", Memory},
      {"prefetch", Memory},
      {"prefetchu", Memory},
      {"membar", Memory},
      {"fence", Memory},
      {"cvta", Memory},
      {"isspacep", Memory},
      {"createpolicy", Memory},
      {"discard", Memory},
      {"applypriority", Memory},
      {"atom", Atomic},
      {"red", Atomic},
      {"bar", Special},
      {"barrier", Special},
      {"shfl", Special},
      {"vote", Special},
      {"match", Special},
      {"redux", Special},
      {"activemask", Special},
      {"nanosleep", Special},
      {"griddepcontrol", Special},
      {"pmevent", Special},
      {"elect", Special},
      {"vadd2", Integer},
      {"vadd4", Integer},
      {"vsub2", Integer},
      {"vsub4", Integer},
      {"vavrg2", Integer},
      {"vavrg4", Integer},
      {"vabsdiff2", Integer},
      {"vabsdiff4", Integer},
      {"vmin2", Integer},
      {"vmin4", Integer},
      {"vmax2", Integer},
      {"vmax4", Integer},
      {"tex", Texture},
      {"tld4", Texture},
      {"txq", Texture},
      {"suld", Texture},
      {"sust", Texture},
      {"sured", Texture},
      {"suq", Texture},
      {"istypep", Texture},
  };
  auto It = Families.find(I.Opcode);
  if (It == Families.end())
    return unsupported(I);
  switch (It->second) {
  case Control:
    return lowerControl(I);
  case Integer:
    return lowerInteger(I);
  case Compare:
    return lowerCompare(I);
  case Float:
    return lowerFloat(I);
  case Mov:
    return lowerMov(I);
  case Cvt:
    return lowerCvt(I);
  case Memory:
    return lowerMemory(I);
  case Atomic:
    return lowerAtomic(I);
  case Special:
    return lowerSpecial(I);
  case Texture:
    return lowerTexture(I);
  }
  return unsupported(I);
}

} // namespace cushim::ptx::lower
