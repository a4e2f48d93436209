// The PTX abstract syntax tree: every directive and instruction of a module, with source locations.
// The parser keeps instruction modifiers as written (".rn", ".f32", ".L2::128B"); the lowering interprets them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cushim::ptx {

struct SourceLoc {
  uint32_t Line = 0;
  uint32_t Column = 0;
};

enum class StateSpace { None, Reg, SReg, Const, Global, Local, Param, Shared, SharedCluster, Tex, Surf, Sampler };

// Scalar types of PTX (fundamental and the packed/opaque ones that appear in declarations).
enum class ScalarType {
  None,
  Pred,
  B8, B16, B32, B64, B128,
  U8, U16, U32, U64,
  S8, S16, S32, S64,
  F16, F16x2, BF16, BF16x2, F32, F64, TF32,
  E4M3, E5M2, E4M3x2, E5M2x2,
  TexRef, SamplerRef, SurfRef, // .texref .samplerref .surfref
};

const char *scalarTypeName(ScalarType T);    // ".u32" etc.
unsigned scalarTypeBits(ScalarType T);       // 0 for None and opaque types; Pred is 1
std::optional<ScalarType> parseScalarType(std::string_view Suffix); // "u32" -> U32

enum class Linkage { None, Extern, Visible, Weak, Common };

// ---------------------------------------------------------------------------------------------------------------
// Operands

struct Operand;

// A register or special register use: "%r12", "%tid.x" (Name "%tid", Component 0), "%p" in "!%p".
struct RegOperand {
  std::string Name;
  int Component = -1;  // .x .y .z .w -> 0..3, -1 if none
  bool Negated = false; // "!%p" in predicate source positions
};

// An integer literal (decimal, hex, octal, binary; 'U' suffix sets IsUnsigned).
struct IntOperand {
  uint64_t Value = 0;
  bool IsUnsigned = false;
};

// A floating literal. "0fXXXXXXXX" keeps the exact f32 bits, "0dXXXXXXXXXXXXXXXX" the f64 bits;
// decimal literals are kept as double.
struct FloatOperand {
  double Value = 0;
  enum Format { Decimal, HexF32, HexF64 } Fmt = Decimal;
  uint64_t Bits = 0; // the raw bits for HexF32 (low 32) and HexF64
};

// A symbol used as a value: a variable's address, a function, or a label ("smem", "$L__BB0_2").
struct SymbolOperand {
  std::string Name;
  int64_t Offset = 0; // "sym+8" (used in initializers and mov of addresses)
};

// A memory address: "[%rd1]", "[%rd1+8]", "[%r2+-4]", "[sym]", "[sym+16]", "[12]".
struct AddressOperand {
  std::optional<RegOperand> BaseReg;
  std::optional<std::string> BaseSymbol;
  int64_t Offset = 0;
};

// A vector of operands: "{%f1, %f2, %f3, %f4}"; "_" elements are SinkOperand.
struct VectorOperand {
  std::vector<Operand> Elements;
};

// "_": a result that is discarded (or a placeholder in call prototypes).
struct SinkOperand {};

// A parenthesised list in call instructions: "(retval0)", "(param0, param1)".
struct ListOperand {
  std::vector<Operand> Elements;
};

struct Operand {
  std::variant<RegOperand, IntOperand, FloatOperand, SymbolOperand, AddressOperand, VectorOperand, SinkOperand,
               ListOperand>
      Value;
  // "%p|%q" destinations of setp and similar: the second predicate.
  std::optional<RegOperand> PairSecond;
  SourceLoc Loc;

  template <typename T> bool is() const { return std::holds_alternative<T>(Value); }
  template <typename T> const T &as() const { return std::get<T>(Value); }
  template <typename T> T &as() { return std::get<T>(Value); }
};

// ---------------------------------------------------------------------------------------------------------------
// Instructions

struct Instruction {
  std::string Opcode;             // "add", "ld", "bar", "cvta", "mma" ...
  std::vector<std::string> Mods;  // suffixes in order, without the dot: {"global","v4","f32"} / {"L2::128B"}
  std::optional<RegOperand> Guard; // "@%p" / "@!%p" predicate
  std::vector<Operand> Operands;  // as written, destination first. A call's operands are:
                                  // [ListOperand returns (maybe empty)], callee, [ListOperand args], [prototype]
  SourceLoc Loc;

  bool hasMod(std::string_view M) const;
};

// ---------------------------------------------------------------------------------------------------------------
// Declarations

// A variable initializer: a scalar literal, an address (symbol, generic(symbol), symbol+offset) or a brace list.
struct Initializer {
  enum Kind { Int, Float, Symbol, List } K = Int;
  IntOperand IntValue;
  FloatOperand FloatValue;
  SymbolOperand SymbolValue;
  bool GenericSymbol = false; // "generic(sym)"
  std::vector<Initializer> Elements;
};

// A variable or parameter declaration: ".global .align 4 .b8 buf[16] = {...};", ".reg .b32 %r<10>;",
// ".param .align 8 .b8 p[24]", ".shared .align 16 .b8 smem[];", ".param .u64 .ptr.global.align 16 p".
struct VariableDecl {
  Linkage Link = Linkage::None;
  StateSpace Space = StateSpace::None;
  uint32_t Align = 0;               // 0: natural alignment of the type
  ScalarType Type = ScalarType::None;
  unsigned VectorWidth = 1;         // .v2 .v4 .v8
  std::string Name;
  std::vector<std::optional<uint64_t>> Dims; // array dimensions; nullopt for "[]"
  std::optional<uint32_t> RangeCount;       // "%r<10>" declares %r0..%r9
  std::optional<Initializer> Init;
  bool Managed = false;             // .attribute(.managed)
  bool Unified = false;             // .attribute(.unified(...))
  // .ptr attributes on kernel parameters
  StateSpace PtrSpace = StateSpace::None;
  uint32_t PtrAlign = 0;
  SourceLoc Loc;

  // Size in bytes of one element times the array dimensions (0 for unsized arrays).
  uint64_t sizeInBytes() const;
  // Declared or natural alignment in bytes.
  uint32_t alignment() const;
};

// Performance-tuning and other function directives.
struct FunctionDirectives {
  std::optional<std::vector<uint32_t>> MaxNTid, ReqNTid, ReqNCtaPerCluster;
  std::optional<uint32_t> MinNCtaPerSm, MaxNCtaPerSm, MaxNReg, MaxClusterRank;
  bool ExplicitCluster = false;
  bool NoReturn = false;
  std::vector<std::string> Pragmas; // ".pragma "nounroll";" inside or before the body
};

struct Statement;

// "{ ... }": a nested scope of declarations and instructions.
struct Block {
  std::vector<Statement> Body;
  SourceLoc Loc;
};

struct Label {
  std::string Name;
  SourceLoc Loc;
};

// "proto: .callprototype (.param .b32 _) _ (.param .b64 _, ...);"
struct CallPrototype {
  std::string Label;
  std::vector<VariableDecl> Returns;
  std::vector<VariableDecl> Params;
  bool VarArgs = false;
  SourceLoc Loc;
};

// "ts: .branchtargets L1, L2, L3;"
struct BranchTargets {
  std::string Label;
  std::vector<std::string> Targets;
  SourceLoc Loc;
};

// ".pragma", ".loc", ".file" and other directives inside a body that do not change semantics.
struct OtherDirective {
  std::string Name;   // "pragma", "loc", "section", ...
  std::string Text;   // the rest of the directive as written
  SourceLoc Loc;
};

struct Statement {
  std::variant<Instruction, Label, VariableDecl, Block, CallPrototype, BranchTargets, OtherDirective> Value;

  template <typename T> bool is() const { return std::holds_alternative<T>(Value); }
  template <typename T> const T &as() const { return std::get<T>(Value); }
};

struct Function {
  bool IsEntry = false;             // .entry (kernel) vs .func
  Linkage Link = Linkage::None;
  std::string Name;
  std::vector<VariableDecl> Returns; // .func only
  std::vector<VariableDecl> Params;
  bool VarArgs = false;
  FunctionDirectives Directives;
  std::optional<Block> Body;        // nullopt for a declaration (prototype) only
  SourceLoc Loc;
};

// A ".file N "name"" directive at module scope.
struct FileDirective {
  uint32_t Index = 0;
  std::string Path;
};

struct Module {
  uint32_t VersionMajor = 0, VersionMinor = 0;
  std::vector<std::string> Target;  // {"sm_80"} or {"sm_90a", "texmode_independent", "debug"}
  uint32_t AddressSize = 64;
  std::vector<VariableDecl> Globals;   // module-scope variables in declaration order
  std::vector<Function> Functions;     // declarations and definitions in order
  std::vector<FileDirective> Files;
  std::vector<std::string> Pragmas;    // module-scope .pragma
  // Declaration order across globals and functions matters for lowering forward references;
  // Order lists (isFunction, index) pairs in source order.
  std::vector<std::pair<bool, size_t>> Order;
};

} // namespace cushim::ptx
