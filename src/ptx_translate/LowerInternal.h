// Shared state and helpers of the PTX -> LLVM IR lowering (private to src/ptx_translate/Lower*.cpp).
// The lowering is split by instruction family; every family is a set of FunctionLowering member functions.
#pragma once

#include "ptx_translate/Ast.h"
#include "ptx_translate/Lowering.h"
#include "support/Error.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace cushim::ptx::lower {

// Private copies of the AST helpers (Ast.cpp belongs to the parser); named differently to avoid ODR clashes.
unsigned typeBits(ScalarType T);
bool isFloatType(ScalarType T);
bool isSignedType(ScalarType T);
bool isUnsignedType(ScalarType T);
std::optional<ScalarType> typeFromSuffix(std::string_view S);
uint64_t declSize(const VariableDecl &D);
uint32_t declAlign(const VariableDecl &D);
std::string instrName(const Instruction &I); // "add.s32" for messages
StateSpace stateSpaceOf(const Instruction &I); // the instruction's state-space modifier (None: generic)
// A volatile ld/st that may reach shared memory (.shared or generic): a point where a warp's lanes step together
// (__cushim_warp_step), as warp-synchronous code written for lanes in lockstep expects.
bool isWarpStepAccess(const Instruction &I);
// fptrunc that rounds to bfloat in IR (LLVM would call __truncsfbf2/__truncdfbf2, which the JIT process lacks):
// ties to even, a double rounded to odd in f32 first, NaN -> 0x7fff. Other types use CreateFPTrunc.
llvm::Value *truncFloat(llvm::IRBuilder<> &B, llvm::Value *V, llvm::Type *To);

class FunctionLowering;
// PTX min/max of two float values of any type, scalar or packed (LowerFloat.cpp): NaN rules, -0 < +0, .xorsign.abs.
llvm::Value *ptxMinMax(FunctionLowering &L, llvm::Value *A, llvm::Value *Bv, bool IsMin, bool NanMode, bool XorSignAbs,
                       uint64_t CanonNan);

// What a function body references, gathered before lowering (shared layout, kernel flags, call graph).
struct FunctionSummary {
  std::set<std::string> SymbolRefs;
  std::set<std::string> Callees;
  std::map<std::string, const VariableDecl *> LocalShared; // function-scope .shared declarations
  bool UsesBarriers = false;
  bool UsesWarpOps = false;
  bool IndirectCalls = false;
};

// Module-wide lowering state.
struct ModuleState {
  const Module &Ast;
  llvm::LLVMContext &Ctx;
  llvm::Module *M = nullptr;
  std::string Source;

  std::map<std::string, llvm::GlobalVariable *> Globals;    // .global / .const variables
  std::map<std::string, const VariableDecl *> ModuleShared; // module-scope .shared declarations
  std::map<std::string, llvm::Function *> Functions;        // PTX function name -> LLVM function
  std::map<std::string, const Function *> FunctionAsts;     // PTX name -> definition (or declaration)
  std::map<std::string, FunctionSummary> Summaries;
  std::map<std::string, uint32_t> CommonSharedOffsets; // shared variables reachable from .func bodies
  uint32_t CommonSharedSize = 0;
  uint32_t DynSharedAlign = 16;

  ModuleState(const Module &Ast, llvm::LLVMContext &Ctx) : Ast(Ast), Ctx(Ctx) {}

  // Runtime functions of kernel_abi.h, declared on first use.
  llvm::Function *runtime(const std::string &Name);
  llvm::Type *ctxPtrType() const { return llvm::PointerType::get(Ctx, 0); }
};

// A name visible in a function body.
struct Symbol {
  enum Kind {
    Reg,         // a .reg (Ptr: alloca of Storage type)
    LocalVar,    // a .local variable (Ptr: alloca)
    ParamMem,    // a .param variable in memory (Ptr: alloca in the caller / pointer argument in a .func)
    KernelParam, // a kernel parameter (Offset into the params buffer)
    Shared,      // a .shared variable (Offset, or DynOffset for dynamic shared in a .func)
    GlobalVar,   // a .global/.const variable (Ptr: GlobalVariable)
    Func,        // a function (Fn)
    Proto,       // a .callprototype
    Targets,     // a .branchtargets list
  } K = Reg;
  llvm::Value *Ptr = nullptr;
  llvm::Type *Storage = nullptr;
  ScalarType Type = ScalarType::None;
  uint64_t Offset = 0;
  bool DynamicShared = false;
  llvm::Function *Fn = nullptr;
  const CallPrototype *ProtoDecl = nullptr;
  const BranchTargets *TargetsDecl = nullptr;
};

class FunctionLowering {
public:
  FunctionLowering(ModuleState &MS, const Function &F, llvm::Function *Fn, const KernelInfo *KI,
                   const std::map<std::string, uint32_t> &SharedOffsets, uint32_t StaticSharedSize);
  Error run();
  uint32_t localBytes() const { return LocalBytes; }

  // ---- shared helpers (LowerControl.cpp) ----
  Error unsupported(const Instruction &I);
  Error invalid(const Instruction &I, const std::string &Why);
  const Symbol *lookup(const std::string &Name) const;
  llvm::Type *valueType(ScalarType T);
  llvm::Type *intType(unsigned Bits) { return llvm::Type::getIntNTy(Ctx, Bits); }
  // The instruction's type suffixes in order (".s32" ... ), e.g. cvt.f32.s32 -> {F32, S32}.
  std::vector<ScalarType> typeMods(const Instruction &I) const;
  ScalarType lastType(const Instruction &I) const;
  // Reads an operand as a value of valueType(T).
  Expected<llvm::Value *> read(const Instruction &I, size_t Index, ScalarType T);
  Expected<llvm::Value *> readOperand(const Instruction &I, const Operand &Op, ScalarType T);
  Expected<llvm::Value *> readReg(const Instruction &I, const RegOperand &R, ScalarType T);
  // Writes a value of valueType(T) to a destination operand (register, sink or vector handled by callers).
  Error write(const Instruction &I, size_t Index, llvm::Value *V, ScalarType T);
  Error writeOperand(const Instruction &I, const Operand &Op, llvm::Value *V, ScalarType T);
  Error writeReg(const Instruction &I, const RegOperand &R, llvm::Value *V, ScalarType T);
  llvm::Value *toBits(llvm::Value *V);                   // float/vector -> same-width integer
  llvm::Value *fromBits(llvm::Value *V, llvm::Type *To); // integer -> To (same width)
  llvm::Value *resizeInt(llvm::Value *V, unsigned Bits, bool Signed);
  llvm::Value *ctxField(size_t Offset, llvm::Type *Ty); // load a cushim_thread_ctx field
  llvm::Value *ctxArg() { return Ctx_; }
  llvm::CallInst *callRuntime(const std::string &Name, llvm::ArrayRef<llvm::Value *> Args);
  llvm::Value *sharedBase();
  // Address of a symbol as an integer (mov r, sym): shared offset or host address.
  Expected<llvm::Value *> symbolAddress(const Instruction &I, const std::string &Name, int64_t Offset, unsigned Bits);
  // Pointer for a memory operand in the given state space.
  Expected<llvm::Value *> address(const Instruction &I, const Operand &Op, StateSpace Space);
  StateSpace spaceOf(const Instruction &I) const;

  // ---- instruction families ----
  Error lowerInstruction(const Instruction &I);
  Error lowerControl(const Instruction &I);
  Error lowerCall(const Instruction &I);
  Error lowerInteger(const Instruction &I);
  Error lowerCompare(const Instruction &I);
  Error lowerFloat(const Instruction &I);
  Error lowerHalf(const Instruction &I);
  Error lowerMov(const Instruction &I);
  Error lowerCvt(const Instruction &I);
  Error lowerMemory(const Instruction &I);
  Error lowerAtomic(const Instruction &I);
  Error lowerSpecial(const Instruction &I);
  Error lowerTexture(const Instruction &I); // LowerTexture.cpp: tex tld4 txq suld sust suq istypep
  Expected<llvm::Value *> readSpecial(const Instruction &I, const RegOperand &R);
  bool isSpecialRegister(const std::string &Name) const;

  // ---- float helpers (LowerFloat.cpp) ----
  llvm::Value *flushDenormal(llvm::Value *V);
  llvm::Value *saturate01(llvm::Value *V);
  llvm::Value *nextUp(llvm::Value *V);
  llvm::Value *nextDown(llvm::Value *V);
  // -V and |V| on the sign bit (per element). Half and bfloat stay integer: x86 promotes fneg/fabs of those types
  // through float, which quiets NaNs and calls __truncsfbf2 (absent in the JIT process).
  llvm::Value *negate(llvm::Value *V);
  llvm::Value *absolute(llvm::Value *V);
  // Adjusts a round-to-nearest result R to mode ("rz","rm","rp") given the sign of the exact residual (exact - R).
  llvm::Value *directedAdjust(llvm::Value *R, llvm::Value *ResidualPos, llvm::Value *ResidualNeg,
                              const std::string &Mode);
  llvm::Value *intrinsic(llvm::Intrinsic::ID Id, llvm::ArrayRef<llvm::Value *> Args);
  std::string roundingMode(const Instruction &I) const; // "rn","rz","rm","rp","rni",... or ""
  llvm::Value *floatRoundToInt(llvm::Value *V, const std::string &Mode);

  ModuleState &MS;
  llvm::LLVMContext &Ctx;
  const Function &F;
  llvm::Function *Fn;
  const KernelInfo *KI; // null for .func
  llvm::IRBuilder<> B;
  llvm::IRBuilder<> AllocaB;

private:
  Error declareFunctionSymbols();
  Error declareVariable(const VariableDecl &D);
  Error collectLabels(const Block &Blk);
  Error lowerBlock(const Block &Blk);
  Error lowerStatement(const Statement &S);
  void startBlock(llvm::BasicBlock *BB);
  void ensureOpenBlock();

  const std::map<std::string, uint32_t> &SharedOffsets;
  uint32_t StaticSharedSize;
  llvm::Value *Ctx_ = nullptr;
  llvm::Value *Params = nullptr; // kernel: the packed parameter buffer
  std::vector<std::unordered_map<std::string, Symbol>> Scopes;
  std::unordered_map<std::string, llvm::BasicBlock *> Labels;
  llvm::BasicBlock *EntryBB = nullptr;
  llvm::AllocaInst *CarryFlag = nullptr; // .cc condition code of add.cc/addc
  uint32_t LocalBytes = 0;

public:
  llvm::AllocaInst *entryAlloca(llvm::Type *Ty, uint64_t Align, const std::string &Name, llvm::Value *Count = nullptr);
  llvm::AllocaInst *carry();
  llvm::BasicBlock *labelBlock(const std::string &Name) const {
    auto It = Labels.find(Name);
    return It == Labels.end() ? nullptr : It->second;
  }
  // After a terminator, the rest of the statements go to a fresh (unreachable) block.
  void afterTerminator();
  void emitReturn();
  std::vector<std::pair<llvm::AllocaInst *, llvm::Value *>> RegReturnArgs; // .reg returns copied back on ret
};

} // namespace cushim::ptx::lower
