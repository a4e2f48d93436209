// Small helpers of the PTX AST: type names and sizes, modifier lookup, variable sizes and alignment.
#include "ptx_translate/Ast.h"

#include <algorithm>
#include <string_view>

namespace cushim::ptx {

namespace {

struct TypeEntry {
  ScalarType Type;
  std::string_view Name; // without the dot
  unsigned Bits;
};

constexpr TypeEntry TypeTable[] = {
    {ScalarType::Pred, "pred", 1},       {ScalarType::B8, "b8", 8},         {ScalarType::B16, "b16", 16},
    {ScalarType::B32, "b32", 32},        {ScalarType::B64, "b64", 64},      {ScalarType::B128, "b128", 128},
    {ScalarType::U8, "u8", 8},           {ScalarType::U16, "u16", 16},      {ScalarType::U32, "u32", 32},
    {ScalarType::U64, "u64", 64},        {ScalarType::S8, "s8", 8},         {ScalarType::S16, "s16", 16},
    {ScalarType::S32, "s32", 32},        {ScalarType::S64, "s64", 64},      {ScalarType::F16, "f16", 16},
    {ScalarType::F16x2, "f16x2", 32},    {ScalarType::BF16, "bf16", 16},    {ScalarType::BF16x2, "bf16x2", 32},
    {ScalarType::F32, "f32", 32},        {ScalarType::F64, "f64", 64},      {ScalarType::TF32, "tf32", 32},
    {ScalarType::E4M3, "e4m3", 8},       {ScalarType::E5M2, "e5m2", 8},     {ScalarType::E4M3x2, "e4m3x2", 16},
    {ScalarType::E5M2x2, "e5m2x2", 16},  {ScalarType::TexRef, "texref", 0}, {ScalarType::SamplerRef, "samplerref", 0},
    {ScalarType::SurfRef, "surfref", 0},
};

const TypeEntry *findType(ScalarType T) {
  for (const TypeEntry &E : TypeTable)
    if (E.Type == T)
      return &E;
  return nullptr;
}

bool isOpaque(ScalarType T) {
  return T == ScalarType::TexRef || T == ScalarType::SamplerRef || T == ScalarType::SurfRef;
}

} // namespace

const char *scalarTypeName(ScalarType T) {
  switch (T) {
  case ScalarType::None:
    return "";
  case ScalarType::Pred:
    return ".pred";
  case ScalarType::B8:
    return ".b8";
  case ScalarType::B16:
    return ".b16";
  case ScalarType::B32:
    return ".b32";
  case ScalarType::B64:
    return ".b64";
  case ScalarType::B128:
    return ".b128";
  case ScalarType::U8:
    return ".u8";
  case ScalarType::U16:
    return ".u16";
  case ScalarType::U32:
    return ".u32";
  case ScalarType::U64:
    return ".u64";
  case ScalarType::S8:
    return ".s8";
  case ScalarType::S16:
    return ".s16";
  case ScalarType::S32:
    return ".s32";
  case ScalarType::S64:
    return ".s64";
  case ScalarType::F16:
    return ".f16";
  case ScalarType::F16x2:
    return ".f16x2";
  case ScalarType::BF16:
    return ".bf16";
  case ScalarType::BF16x2:
    return ".bf16x2";
  case ScalarType::F32:
    return ".f32";
  case ScalarType::F64:
    return ".f64";
  case ScalarType::TF32:
    return ".tf32";
  case ScalarType::E4M3:
    return ".e4m3";
  case ScalarType::E5M2:
    return ".e5m2";
  case ScalarType::E4M3x2:
    return ".e4m3x2";
  case ScalarType::E5M2x2:
    return ".e5m2x2";
  case ScalarType::TexRef:
    return ".texref";
  case ScalarType::SamplerRef:
    return ".samplerref";
  case ScalarType::SurfRef:
    return ".surfref";
  }
  return "";
}

unsigned scalarTypeBits(ScalarType T) {
  const TypeEntry *E = findType(T);
  return E ? E->Bits : 0;
}

std::optional<ScalarType> parseScalarType(std::string_view Suffix) {
  if (!Suffix.empty() && Suffix.front() == '.')
    Suffix.remove_prefix(1);
  for (const TypeEntry &E : TypeTable)
    if (E.Name == Suffix)
      return E.Type;
  return std::nullopt;
}

bool Instruction::hasMod(std::string_view M) const {
  if (!M.empty() && M.front() == '.')
    M.remove_prefix(1);
  return std::find(Mods.begin(), Mods.end(), M) != Mods.end();
}

// Bytes of one element (a scalar or a .vN vector). Predicates take one byte in memory; the opaque
// .texref/.samplerref/.surfref handles are 64-bit values as in CUDA's parameter layout.
static uint64_t elementBytes(const VariableDecl &D) {
  uint64_t Bytes = isOpaque(D.Type) ? 8 : (scalarTypeBits(D.Type) + 7) / 8;
  return Bytes * std::max(1u, D.VectorWidth);
}

uint64_t VariableDecl::sizeInBytes() const {
  uint64_t Size = elementBytes(*this);
  for (const std::optional<uint64_t> &Dim : Dims) {
    if (!Dim)
      return 0;
    Size *= *Dim;
  }
  return Size;
}

uint32_t VariableDecl::alignment() const {
  if (Align)
    return Align;
  // A vector's natural alignment is its full size (.v4 .f32 -> 16), per the PTX manual.
  uint64_t Bytes = elementBytes(*this);
  return Bytes ? static_cast<uint32_t>(Bytes) : 1;
}

} // namespace cushim::ptx
