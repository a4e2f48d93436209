// PTX module lowering: function signatures, module variables, the shared-memory layout, kernel descriptions
// and the final verification. Instruction lowering lives in the Lower*.cpp family files.
#include "ptx_translate/Lowering.h"

#include "ptx_translate/CoroutineEntry.h"
#include "ptx_translate/FlatEntry.h"
#include "ptx_translate/LowerInternal.h"
#include "ptx_translate/LowerYield.h"
#include "ptx_translate/ReadOnlyLoads.h"
#include "ptx_translate/Specialise.h"
#include "ptx_translate/RegionEntry.h"

#include "cuda_shim/hal.h"

#include <llvm/IR/Constants.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include <fmt/format.h>

namespace cushim::ptx {
namespace lower {

// ---------------------------------------------------------------------------------------------------------------
// Type helpers

unsigned typeBits(ScalarType T) {
  switch (T) {
  case ScalarType::Pred:
    return 1;
  case ScalarType::B8:
  case ScalarType::U8:
  case ScalarType::S8:
  case ScalarType::E4M3:
  case ScalarType::E5M2:
    return 8;
  case ScalarType::B16:
  case ScalarType::U16:
  case ScalarType::S16:
  case ScalarType::F16:
  case ScalarType::BF16:
  case ScalarType::E4M3x2:
  case ScalarType::E5M2x2:
    return 16;
  case ScalarType::B32:
  case ScalarType::U32:
  case ScalarType::S32:
  case ScalarType::F32:
  case ScalarType::F16x2:
  case ScalarType::BF16x2:
  case ScalarType::TF32:
    return 32;
  case ScalarType::B64:
  case ScalarType::U64:
  case ScalarType::S64:
  case ScalarType::F64:
    return 64;
  case ScalarType::B128:
    return 128;
  default:
    return 0;
  }
}

bool isFloatType(ScalarType T) {
  return T == ScalarType::F16 || T == ScalarType::BF16 || T == ScalarType::F32 || T == ScalarType::F64 ||
         T == ScalarType::F16x2 || T == ScalarType::BF16x2;
}

bool isSignedType(ScalarType T) {
  return T == ScalarType::S8 || T == ScalarType::S16 || T == ScalarType::S32 || T == ScalarType::S64;
}

bool isUnsignedType(ScalarType T) {
  return T == ScalarType::U8 || T == ScalarType::U16 || T == ScalarType::U32 || T == ScalarType::U64;
}

std::optional<ScalarType> typeFromSuffix(std::string_view S) {
  static const std::unordered_map<std::string_view, ScalarType> Map = {
      {"pred", ScalarType::Pred},    {"b8", ScalarType::B8},     {"b16", ScalarType::B16},
      {"b32", ScalarType::B32},      {"b64", ScalarType::B64},   {"b128", ScalarType::B128},
      {"u8", ScalarType::U8},        {"u16", ScalarType::U16},   {"u32", ScalarType::U32},
      {"u64", ScalarType::U64},      {"s8", ScalarType::S8},     {"s16", ScalarType::S16},
      {"s32", ScalarType::S32},      {"s64", ScalarType::S64},   {"f16", ScalarType::F16},
      {"f16x2", ScalarType::F16x2},  {"bf16", ScalarType::BF16}, {"bf16x2", ScalarType::BF16x2},
      {"f32", ScalarType::F32},      {"f64", ScalarType::F64},   {"tf32", ScalarType::TF32},
      {"e4m3", ScalarType::E4M3},    {"e5m2", ScalarType::E5M2}, {"e4m3x2", ScalarType::E4M3x2},
      {"e5m2x2", ScalarType::E5M2x2}};
  if (!S.empty() && S.front() == '.')
    S.remove_prefix(1);
  auto It = Map.find(S);
  if (It == Map.end())
    return std::nullopt;
  return It->second;
}

uint64_t declSize(const VariableDecl &D) {
  uint64_t Elem = (typeBits(D.Type) + 7) / 8 * D.VectorWidth;
  for (const auto &Dim : D.Dims) {
    if (!Dim)
      return 0;
    Elem *= *Dim;
  }
  return Elem;
}

uint32_t declAlign(const VariableDecl &D) {
  if (D.Align)
    return D.Align;
  uint32_t A = (typeBits(D.Type) + 7) / 8 * D.VectorWidth;
  return A ? A : 1;
}

std::string instrName(const Instruction &I) {
  std::string S = I.Opcode;
  for (const auto &M : I.Mods)
    S += "." + M;
  return S;
}

static uint64_t alignTo(uint64_t V, uint64_t A) { return A ? (V + A - 1) / A * A : V; }

// ---------------------------------------------------------------------------------------------------------------
// Runtime functions

llvm::Function *ModuleState::runtime(const std::string &Name) {
  if (llvm::Function *F = M->getFunction(Name))
    return F;
  llvm::Type *Void = llvm::Type::getVoidTy(Ctx), *I32 = llvm::Type::getInt32Ty(Ctx), *I64 = llvm::Type::getInt64Ty(Ctx);
  llvm::Type *Ptr = llvm::PointerType::get(Ctx, 0);
  struct Sig {
    llvm::Type *Ret;
    std::vector<llvm::Type *> Args;
    bool Convergent;
    bool NoReturn;
  };
  const std::unordered_map<std::string, Sig> Sigs = {
      {"__cushim_bar_sync", {Void, {Ptr, I32, I32}, true, false}},
      {"__cushim_bar_arrive", {Void, {Ptr, I32, I32}, true, false}},
      {"__cushim_bar_red", {I32, {Ptr, I32, I32, I32, I32}, true, false}},
      {"__cushim_shfl_sync", {I32, {Ptr, I32, I32, I32, I32, I32, Ptr}, true, false}},
      {"__cushim_vote_sync", {I32, {Ptr, I32, I32, I32}, true, false}},
      {"__cushim_match_sync", {I32, {Ptr, I32, I64, I32, Ptr}, true, false}},
      {"__cushim_redux_sync", {I32, {Ptr, I32, I32, I32}, true, false}},
      {"__cushim_activemask", {I32, {Ptr}, true, false}},
      {"__cushim_warp_sync", {Void, {Ptr, I32}, true, false}},
      {"__cushim_warp_step", {Void, {Ptr}, true, false}},
      {"__cushim_clock64", {I64, {Ptr}, false, false}},
      {"__cushim_globaltimer", {I64, {Ptr}, false, false}},
      {"__cushim_nanosleep", {Void, {Ptr, I32}, false, false}},
      {"__cushim_exit", {Void, {Ptr}, false, true}},
      {"__cushim_trap", {Void, {Ptr}, false, true}},
      {"__cushim_unsupported", {Void, {Ptr, Ptr}, false, true}},
  };
  auto It = Sigs.find(Name);
  assert(It != Sigs.end() && "unknown runtime function");
  auto *F = llvm::Function::Create(llvm::FunctionType::get(It->second.Ret, It->second.Args, false),
                                   llvm::GlobalValue::ExternalLinkage, Name, M);
  F->addFnAttr(llvm::Attribute::NoUnwind);
  if (It->second.Convergent)
    F->addFnAttr(llvm::Attribute::Convergent);
  if (It->second.NoReturn)
    F->addFnAttr(llvm::Attribute::NoReturn);
  return F;
}

// ---------------------------------------------------------------------------------------------------------------
// Pre-pass: what each function body references

static void summarizeOperand(const Operand &Op, FunctionSummary &S) {
  if (Op.is<SymbolOperand>())
    S.SymbolRefs.insert(Op.as<SymbolOperand>().Name);
  else if (Op.is<AddressOperand>()) {
    const auto &A = Op.as<AddressOperand>();
    if (A.BaseSymbol)
      S.SymbolRefs.insert(*A.BaseSymbol);
    if (A.BaseReg)
      S.SymbolRefs.insert(A.BaseReg->Name);
  } else if (Op.is<RegOperand>())
    S.SymbolRefs.insert(Op.as<RegOperand>().Name);
  else if (Op.is<VectorOperand>())
    for (const auto &E : Op.as<VectorOperand>().Elements)
      summarizeOperand(E, S);
  else if (Op.is<ListOperand>())
    for (const auto &E : Op.as<ListOperand>().Elements)
      summarizeOperand(E, S);
}

static void summarizeBlock(const Block &Blk, FunctionSummary &S) {
  for (const auto &St : Blk.Body) {
    if (St.is<Block>()) {
      summarizeBlock(St.as<Block>(), S);
    } else if (St.is<VariableDecl>()) {
      const auto &D = St.as<VariableDecl>();
      if (D.Space == StateSpace::Shared)
        S.LocalShared[D.Name] = &D;
    } else if (St.is<Instruction>()) {
      const auto &I = St.as<Instruction>();
      for (const auto &Op : I.Operands)
        summarizeOperand(Op, S);
      const std::string &Op = I.Opcode;
      if ((Op == "bar" || Op == "barrier") && !I.hasMod("warp"))
        S.UsesBarriers = true;
      if (Op == "shfl" || Op == "vote" || Op == "match" || Op == "redux" || Op == "activemask" || Op == "elect" ||
          (Op == "bar" && I.hasMod("warp")) || isWarpStepAccess(I))
        S.UsesWarpOps = true;
      if (Op == "call") {
        for (const auto &O : I.Operands) {
          if (O.is<ListOperand>())
            continue;
          if (O.is<SymbolOperand>())
            S.Callees.insert(O.as<SymbolOperand>().Name);
          else if (O.is<RegOperand>() && !O.as<RegOperand>().Name.empty() && O.as<RegOperand>().Name[0] != '%')
            S.Callees.insert(O.as<RegOperand>().Name);
          else
            S.IndirectCalls = true;
          break;
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Module variables

static void flattenInit(const Initializer &I, std::vector<const Initializer *> &Out) {
  if (I.K == Initializer::List) {
    for (const auto &E : I.Elements)
      flattenInit(E, Out);
    return;
  }
  Out.push_back(&I);
}

static Expected<llvm::Constant *> initElement(ModuleState &MS, const VariableDecl &D, const Initializer &I,
                                              llvm::IntegerType *ElemTy) {
  unsigned Bits = ElemTy->getBitWidth();
  switch (I.K) {
  case Initializer::Int:
    if (D.Type == ScalarType::F32) {
      float F = static_cast<float>(static_cast<int64_t>(I.IntValue.Value));
      return llvm::ConstantInt::get(ElemTy, llvm::bit_cast<uint32_t>(F));
    }
    if (D.Type == ScalarType::F64) {
      double F = static_cast<double>(static_cast<int64_t>(I.IntValue.Value));
      return llvm::ConstantInt::get(ElemTy, llvm::bit_cast<uint64_t>(F));
    }
    return llvm::ConstantInt::get(ElemTy, I.IntValue.Value, false);
  case Initializer::Float: {
    const FloatOperand &FO = I.FloatValue;
    double V = FO.Value;
    if (FO.Fmt == FloatOperand::HexF32)
      V = llvm::bit_cast<float>(static_cast<uint32_t>(FO.Bits));
    else if (FO.Fmt == FloatOperand::HexF64)
      V = llvm::bit_cast<double>(FO.Bits);
    if (D.Type == ScalarType::F32 || (Bits == 32 && FO.Fmt == FloatOperand::HexF32))
      return llvm::ConstantInt::get(ElemTy, FO.Fmt == FloatOperand::HexF32 ? FO.Bits & 0xffffffffu
                                                                           : llvm::bit_cast<uint32_t>(float(V)));
    if (D.Type == ScalarType::F64 || Bits == 64)
      return llvm::ConstantInt::get(ElemTy, FO.Fmt == FloatOperand::HexF64 ? FO.Bits : llvm::bit_cast<uint64_t>(V));
    if (D.Type == ScalarType::F16) {
      llvm::APFloat AF(V);
      bool Lost;
      AF.convert(llvm::APFloat::IEEEhalf(), llvm::APFloat::rmNearestTiesToEven, &Lost);
      return llvm::ConstantInt::get(ElemTy, AF.bitcastToAPInt().getZExtValue());
    }
    return llvm::ConstantInt::get(ElemTy, static_cast<uint64_t>(static_cast<int64_t>(V)));
  }
  case Initializer::Symbol: {
    const std::string &Name = I.SymbolValue.Name;
    llvm::Constant *Base = nullptr;
    if (auto It = MS.Globals.find(Name); It != MS.Globals.end())
      Base = It->second;
    else if (auto Ft = MS.Functions.find(Name); Ft != MS.Functions.end())
      Base = Ft->second;
    if (!Base)
      return makeError(CUDA_ERROR_INVALID_PTX, fmt::format("{}:{}: initializer of '{}' uses unknown symbol '{}'",
                                                           MS.Source, D.Loc.Line, D.Name, Name));
    llvm::Constant *P = Base;
    if (I.SymbolValue.Offset)
      P = llvm::ConstantExpr::getGetElementPtr(
          llvm::Type::getInt8Ty(MS.Ctx), Base,
          llvm::ConstantInt::get(llvm::Type::getInt64Ty(MS.Ctx), I.SymbolValue.Offset));
    llvm::Constant *Int = llvm::ConstantExpr::getPtrToInt(P, llvm::Type::getInt64Ty(MS.Ctx));
    if (Bits < 64)
      Int = llvm::ConstantExpr::getTrunc(Int, ElemTy);
    else if (Bits > 64)
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: address initializer in '{}'", MS.Source, D.Loc.Line, D.Name));
    return Int;
  }
  default:
    return makeError(CUDA_ERROR_INVALID_PTX, fmt::format("{}:{}: bad initializer", MS.Source, D.Loc.Line));
  }
}

static Error createGlobal(ModuleState &MS, const VariableDecl &D, std::vector<GlobalInfo> &Infos) {
  unsigned ElemBits = typeBits(D.Type);
  if (ElemBits == 0 || ElemBits == 1)
    return makeError(CUDA_ERROR_INVALID_PTX,
                     fmt::format("{}:{}: unsupported type of variable '{}'", MS.Source, D.Loc.Line, D.Name));
  auto *ElemTy = llvm::Type::getIntNTy(MS.Ctx, ElemBits);
  uint64_t Count = D.VectorWidth;
  bool Unsized = false;
  for (const auto &Dim : D.Dims) {
    if (!Dim)
      Unsized = true;
    else
      Count *= *Dim;
  }
  std::vector<const Initializer *> Leaves;
  if (D.Init)
    flattenInit(*D.Init, Leaves);
  if (Unsized)
    Count = D.Init ? Leaves.size() : 0;
  auto *ArrTy = llvm::ArrayType::get(ElemTy, Count);
  bool IsDecl = D.Link == Linkage::Extern && !D.Init;
  auto *GV = new llvm::GlobalVariable(*MS.M, ArrTy, false, llvm::GlobalValue::ExternalLinkage, nullptr, D.Name);
  GV->setAlignment(llvm::Align(declAlign(D)));
  if (!IsDecl)
    GV->setInitializer(llvm::ConstantAggregateZero::get(ArrTy)); // real initializer filled in later
  MS.Globals[D.Name] = GV;
  Infos.push_back(GlobalInfo{D.Name, D.Space, declSize(D) ? declSize(D) : Count * ((ElemBits + 7) / 8), D.Managed});
  return Error::success();
}

static Error initializeGlobal(ModuleState &MS, const VariableDecl &D) {
  if (!D.Init)
    return Error::success();
  llvm::GlobalVariable *GV = MS.Globals[D.Name];
  auto *ArrTy = llvm::cast<llvm::ArrayType>(GV->getValueType());
  auto *ElemTy = llvm::cast<llvm::IntegerType>(ArrTy->getElementType());
  std::vector<const Initializer *> Leaves;
  flattenInit(*D.Init, Leaves);
  if (Leaves.size() > ArrTy->getNumElements())
    return makeError(CUDA_ERROR_INVALID_PTX,
                     fmt::format("{}:{}: too many initializers for '{}'", MS.Source, D.Loc.Line, D.Name));
  std::vector<llvm::Constant *> Elems;
  for (const Initializer *L : Leaves) {
    auto C = initElement(MS, D, *L, ElemTy);
    if (!C)
      return C.takeError();
    Elems.push_back(*C);
  }
  while (Elems.size() < ArrTy->getNumElements())
    Elems.push_back(llvm::ConstantInt::get(ElemTy, 0));
  GV->setInitializer(llvm::ConstantArray::get(ArrTy, Elems));
  return Error::success();
}

// ---------------------------------------------------------------------------------------------------------------
// Functions

static std::string llvmFunctionName(const Function &F, bool Defined) {
  if (F.IsEntry)
    return F.Name;
  return (Defined ? "__cushim_func_" : "__cushim_extern_") + F.Name;
}

static llvm::FunctionType *functionType(llvm::LLVMContext &Ctx, const Function &F) {
  llvm::Type *Ptr = llvm::PointerType::get(Ctx, 0);
  if (F.IsEntry)
    return llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), {Ptr, Ptr}, false);
  std::vector<llvm::Type *> Args(1 + F.Returns.size() + F.Params.size(), Ptr);
  return llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), Args, false);
}

} // namespace lower

using namespace lower;

Expected<LoweredModule> lowerModule(const Module &M, llvm::LLVMContext &Ctx, const LoweringOptions &Options) {
  LoweredModule Out;
  Out.IR = std::make_unique<llvm::Module>(Options.ModuleName, Ctx);
  ModuleState MS(M, Ctx);
  MS.M = Out.IR.get();
  MS.Source = Options.ModuleName;

  // Functions first: globals may take their addresses. A definition wins over earlier prototypes.
  std::map<std::string, const Function *> Defs;
  for (const auto &F : M.Functions)
    if (F.Body)
      Defs[F.Name] = &F;
  for (const auto &F : M.Functions) {
    if (MS.Functions.count(F.Name))
      continue;
    const Function *Def = F.Body ? &F : (Defs.count(F.Name) ? Defs[F.Name] : nullptr);
    const Function &Use = Def ? *Def : F;
    bool Internal =
        !Use.IsEntry && Def && Use.Link != Linkage::Visible && Use.Link != Linkage::Weak && Use.Link != Linkage::Common;
    auto *Fn = llvm::Function::Create(
        functionType(Ctx, Use), Internal ? llvm::GlobalValue::InternalLinkage : llvm::GlobalValue::ExternalLinkage,
        llvmFunctionName(Use, Def != nullptr), MS.M);
    Fn->addFnAttr(llvm::Attribute::NoUnwind);
    MS.Functions[F.Name] = Fn;
    MS.FunctionAsts[F.Name] = &Use;
  }

  // Module variables.
  for (const auto &D : M.Globals) {
    switch (D.Space) {
    case StateSpace::Global:
    case StateSpace::Const:
      CUSHIM_TRY(createGlobal(MS, D, Out.Globals));
      break;
    case StateSpace::Shared:
      MS.ModuleShared[D.Name] = &D;
      if (D.Dims.size() && !D.Dims.back() && !D.Init)
        MS.DynSharedAlign = std::max<uint32_t>(MS.DynSharedAlign, declAlign(D));
      break;
    case StateSpace::Tex:
    case StateSpace::Surf:
    case StateSpace::Sampler:
      break; // texture references fail when an instruction uses them
    default:
      return makeError(CUDA_ERROR_INVALID_PTX,
                       fmt::format("{}:{}: unsupported module-scope variable '{}'", MS.Source, D.Loc.Line, D.Name));
    }
  }
  for (const auto &D : M.Globals)
    if (D.Space == StateSpace::Global || D.Space == StateSpace::Const)
      CUSHIM_TRY(initializeGlobal(MS, D));

  // Summaries of every body.
  for (const auto &[Name, F] : MS.FunctionAsts) {
    FunctionSummary S;
    if (F->Body)
      summarizeBlock(*F->Body, S);
    MS.Summaries[Name] = std::move(S);
  }

  auto isDynamicShared = [](const VariableDecl &D) { return !D.Dims.empty() && !D.Dims.back(); };
  auto place = [&](std::map<std::string, uint32_t> &Offsets, uint64_t &Cursor, const VariableDecl &D) {
    if (isDynamicShared(D) || Offsets.count(D.Name))
      return;
    Cursor = alignTo(Cursor, declAlign(D));
    Offsets[D.Name] = static_cast<uint32_t>(Cursor);
    Cursor += declSize(D);
  };

  // Common shared region: every shared variable a .func body can touch gets one module-wide offset, because a
  // .func can be called from several kernels. Kernels place their private shared variables after it.
  uint64_t CommonCursor = 0;
  std::set<std::string> SharedUsingFuncs;
  for (const auto &[Name, F] : MS.FunctionAsts) {
    if (F->IsEntry || !F->Body)
      continue;
    const FunctionSummary &S = MS.Summaries[Name];
    bool Uses = !S.LocalShared.empty();
    for (const auto &[VName, VD] : MS.ModuleShared)
      if (S.SymbolRefs.count(VName)) {
        place(MS.CommonSharedOffsets, CommonCursor, *VD);
        Uses = true;
      }
    for (const auto &[VName, VD] : S.LocalShared)
      place(MS.CommonSharedOffsets, CommonCursor, *VD);
    if (Uses)
      SharedUsingFuncs.insert(Name);
  }
  MS.CommonSharedSize = static_cast<uint32_t>(CommonCursor);

  // Lower every definition.
  for (const auto &F : M.Functions) {
    if (!F.Body || MS.FunctionAsts[F.Name] != &F)
      continue;
    llvm::Function *Fn = MS.Functions[F.Name];
    if (!F.IsEntry) {
      FunctionLowering FL(MS, F, Fn, nullptr, MS.CommonSharedOffsets, 0);
      CUSHIM_TRY(FL.run());
      continue;
    }

    KernelInfo KI;
    KI.Name = F.Name;
    uint64_t PCursor = 0;
    uint32_t MaxAlign = 1;
    for (const auto &P : F.Params) {
      uint32_t A = declAlign(P);
      PCursor = alignTo(PCursor, A);
      KI.Params.push_back(ParamInfo{static_cast<uint32_t>(PCursor), static_cast<uint32_t>(declSize(P)), A});
      PCursor += declSize(P);
      MaxAlign = std::max(MaxAlign, A);
    }
    KI.ParamSize = static_cast<uint32_t>(alignTo(PCursor, MaxAlign));
    if (F.Directives.ReqNTid) {
      KI.ReqNTid = F.Directives.ReqNTid;
      KI.MaxThreads = 1;
      for (uint32_t V : *F.Directives.ReqNTid)
        KI.MaxThreads *= V;
    } else if (F.Directives.MaxNTid) {
      KI.MaxThreads = 1;
      for (uint32_t V : *F.Directives.MaxNTid)
        KI.MaxThreads *= V;
    }

    // Call graph closure for flags and the shared layout.
    std::set<std::string> Reach;
    std::vector<std::string> Work{F.Name};
    bool Indirect = false;
    while (!Work.empty()) {
      std::string N = Work.back();
      Work.pop_back();
      if (!Reach.insert(N).second)
        continue;
      const FunctionSummary &S = MS.Summaries[N];
      Indirect |= S.IndirectCalls;
      for (const auto &C : S.Callees)
        if (MS.Summaries.count(C))
          Work.push_back(C);
    }
    if (Indirect)
      for (const auto &[N, S] : MS.Summaries)
        Reach.insert(N);
    bool ReachesCommon = false;
    for (const auto &N : Reach) {
      const FunctionSummary &S = MS.Summaries[N];
      if (S.UsesBarriers)
        KI.Flags |= CUSHIM_HAL_KERNEL_USES_BARRIERS;
      if (S.UsesWarpOps)
        KI.Flags |= CUSHIM_HAL_KERNEL_USES_WARP_OPS;
      if (N != F.Name && SharedUsingFuncs.count(N))
        ReachesCommon = true;
    }

    std::map<std::string, uint32_t> Offsets;
    uint64_t Cursor = 0;
    if (ReachesCommon) {
      Offsets = MS.CommonSharedOffsets;
      Cursor = MS.CommonSharedSize;
    }
    const FunctionSummary &KS = MS.Summaries[F.Name];
    for (const auto &[VName, VD] : MS.ModuleShared)
      if (KS.SymbolRefs.count(VName))
        place(Offsets, Cursor, *VD);
    for (const auto &[VName, VD] : KS.LocalShared)
      place(Offsets, Cursor, *VD);
    KI.StaticSharedSize = static_cast<uint32_t>(Cursor ? alignTo(Cursor, MS.DynSharedAlign) : 0);

    FunctionLowering FL(MS, F, Fn, &KI, Offsets, KI.StaticSharedSize);
    CUSHIM_TRY(FL.run());
    KI.LocalSize = FL.localBytes();
    // Spin loops (yield points) anywhere in the call graph send the kernel to fiber mode (docs/SIMT.md).
    Expected<bool> MaySpin = kernelMaySpin(MS, F.Name);
    if (!MaySpin)
      return MaySpin.takeError();
    if (*MaySpin)
      KI.Flags |= CUSHIM_HAL_KERNEL_MAY_SPIN;
    Out.Kernels.push_back(std::move(KI));
  }
  scopeReadOnlyLoads(*MS.M);
  if (Options.Specialise) {
    BlockShape Shape;
    std::copy(std::begin(Options.Specialise->Block), std::end(Options.Specialise->Block), Shape.Dims);
    Shape.DynamicShared = Options.Specialise->DynamicShared;
    CUSHIM_TRY(makeKernelVariant(*MS.M, Out.Kernels, Options.Specialise->Kernel, Shape));
  } else {
    specialiseRequiredShapes(*MS.M, Out.Kernels);
  }
  if (Options.TierEntries) {
    addFlatEntries(*MS.M, Out.Kernels);
    addRegionEntries(*MS.M, Out.Kernels);
    addCoroutineEntries(*MS.M, Out.Kernels);
  }

  std::string Msg;
  llvm::raw_string_ostream OS(Msg);
  if (llvm::verifyModule(*MS.M, &OS)) {
    OS.flush();
    return makeError(CUDA_ERROR_INVALID_PTX,
                     fmt::format("{}: internal error: lowered module does not verify: {}", MS.Source, Msg));
  }
  return Out;
}

} // namespace cushim::ptx
