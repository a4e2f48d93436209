// CPU reference models of PTX instruction semantics, for `// @reference` lines of the PTX test cases: each model
// maps raw input bits (up to three operands) to the raw result bits, following the pseudo-code of the PTX manual.
// Narrow floats are decoded exactly into double and rounded back with an explicit round-to-nearest-even encoder,
// so the models do not depend on the host's half/bfloat support.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace ptxref {

struct Format {
  int ExpBits, ManBits;
};
constexpr Format F16{5, 10}, BF16{8, 7};

inline double decode(uint32_t Bits, Format F) {
  int Bias = (1 << (F.ExpBits - 1)) - 1;
  uint32_t M = Bits & ((1u << F.ManBits) - 1), E = (Bits >> F.ManBits) & ((1u << F.ExpBits) - 1);
  double Sign = (Bits >> (F.ExpBits + F.ManBits)) & 1 ? -1.0 : 1.0;
  if (E == (1u << F.ExpBits) - 1)
    return M ? NAN : Sign * INFINITY;
  if (E == 0)
    return Sign * std::ldexp(double(M), 1 - Bias - F.ManBits);
  return Sign * std::ldexp(double(M | (1u << F.ManBits)), int(E) - Bias - F.ManBits);
}

// Round to nearest even (or toward zero) into format F; NaN gives the canonical NaN (all ones but the sign).
inline uint32_t encode(double X, Format F, bool TowardZero = false) {
  uint32_t SignBit = 1u << (F.ExpBits + F.ManBits), Inf = ((1u << F.ExpBits) - 1) << F.ManBits;
  if (std::isnan(X))
    return SignBit - 1;
  uint32_t Sign = std::signbit(X) ? SignBit : 0;
  X = std::fabs(X);
  if (std::isinf(X))
    return Sign | Inf;
  if (X == 0)
    return Sign;
  int Bias = (1 << (F.ExpBits - 1)) - 1, MinExp = 1 - Bias, E;
  std::frexp(X, &E);
  int Q = std::max(E - 1, MinExp) - F.ManBits; // exponent of one unit in the last place
  double Scaled = std::ldexp(X, -Q);
  uint64_t M = uint64_t(TowardZero ? std::trunc(Scaled) : std::nearbyint(Scaled));
  if (M < (1ull << F.ManBits))
    return Sign | uint32_t(M); // subnormal (or zero)
  if (M >= (2ull << F.ManBits)) {
    M >>= 1;
    ++Q;
  }
  int BiasedE = Q + F.ManBits + Bias;
  if (BiasedE >= (1 << F.ExpBits) - 1)
    return TowardZero ? Sign | (Inf - 1) : Sign | Inf; // toward zero, overflow stops at the largest finite value
  return Sign | uint32_t(BiasedE) << F.ManBits | uint32_t(M - (1ull << F.ManBits));
}

inline bool isNaN(uint32_t Bits, Format F) {
  uint32_t Inf = ((1u << F.ExpBits) - 1) << F.ManBits;
  return (Bits & Inf) == Inf && (Bits & ((1u << F.ManBits) - 1));
}

// .ftz: a subnormal becomes the zero of its sign.
inline uint32_t flush(uint32_t Bits, Format F) {
  uint32_t ExpMask = ((1u << F.ExpBits) - 1) << F.ManBits;
  return (Bits & ExpMask) == 0 ? Bits & (1u << (F.ExpBits + F.ManBits)) : Bits;
}

inline float asFloat(uint64_t Bits) {
  uint32_t B = uint32_t(Bits);
  float F;
  std::memcpy(&F, &B, 4);
  return F;
}
inline uint64_t floatBits(float F) {
  uint32_t B;
  std::memcpy(&B, &F, 4);
  return B;
}

// Two-input min/max of f32 per the manual: both NaN (or .NaN with either NaN) -> canonical NaN 0x7fffffff; one NaN
// -> the other operand; -0 is smaller than +0.
inline uint64_t minMaxF32(uint64_t A, uint64_t B, bool IsMin, bool NanMode) {
  float X = asFloat(A), Y = asFloat(B);
  bool XN = std::isnan(X), YN = std::isnan(Y);
  if ((XN && YN) || (NanMode && (XN || YN)))
    return 0x7fffffff;
  if (XN)
    return B;
  if (YN)
    return A;
  if (X == Y) // equal values differ at most in the sign of zero
    return IsMin ? (A | B) : (A & B);
  return (X < Y) == IsMin ? A : B;
}

// f16/bf16 add rounded once to nearest even (the sum of two narrow values is exact in double for f16; for bf16 the
// double sum is rounded once more, which is innocuous since 53 >= 2 * 8 + 2).
inline uint32_t addNarrow(uint32_t A, uint32_t B, Format F) { return encode(decode(A, F) + decode(B, F), F); }

// cvt{.rn,.rz}{.satfinite}.{f16,bf16}.f32: .satfinite turns an infinite result into the largest finite value.
inline uint32_t cvtNarrow(uint64_t A, Format F, bool TowardZero, bool SatFinite) {
  uint32_t R = encode(asFloat(A), F, TowardZero), Inf = ((1u << F.ExpBits) - 1) << F.ManBits;
  if (SatFinite && (R & ~(1u << (F.ExpBits + F.ManBits))) == Inf)
    R -= 1;
  return R;
}
// The packed forms put a in the upper half, b in the lower.
inline uint64_t cvtPack(uint64_t A, uint64_t B, Format F, bool TowardZero, bool SatFinite) {
  return uint64_t(cvtNarrow(A, F, TowardZero, SatFinite)) << 16 | cvtNarrow(B, F, TowardZero, SatFinite);
}

// Applies Fn to both 16-bit lanes of packed operands.
template <typename Fn> uint64_t perLane(uint64_t A, uint64_t B, Fn F) {
  return F(uint32_t(A) & 0xffff, uint32_t(B) & 0xffff) | uint64_t(F(uint32_t(A) >> 16 & 0xffff, uint32_t(B) >> 16)) << 16;
}

enum class Lane { Bits, F16, BF16, F32 }; // how results compare: bit-exact, or any NaN matches any NaN per lane

struct Model {
  const char *Name;
  Lane L;
  uint64_t (*Fn)(uint64_t A, uint64_t B, uint64_t C);
};

inline const Model *findModel(const std::string &Name) {
  static const Model Models[] = {
      {"copy", Lane::Bits, [](uint64_t A, uint64_t, uint64_t) { return A; }},
      {"neg.f16", Lane::Bits, [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return A ^ 0x8000; }},
      {"abs.f16", Lane::Bits, [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return A & 0x7fff; }},
      {"neg.ftz.f16", Lane::Bits,
       [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return flush(uint32_t(A), F16) ^ 0x8000; }},
      {"abs.ftz.f16", Lane::Bits,
       [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return flush(uint32_t(A), F16) & 0x7fff; }},
      {"neg.bf16", Lane::Bits, [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return A ^ 0x8000; }},
      {"abs.bf16", Lane::Bits, [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return A & 0x7fff; }},
      {"add.rn.f16", Lane::F16, [](uint64_t A, uint64_t B, uint64_t) -> uint64_t { return addNarrow(A, B, F16); }},
      {"add.rn.bf16", Lane::BF16, [](uint64_t A, uint64_t B, uint64_t) -> uint64_t { return addNarrow(A, B, BF16); }},
      {"add.rn.f16x2", Lane::F16,
       [](uint64_t A, uint64_t B, uint64_t) {
         return perLane(A, B, [](uint32_t X, uint32_t Y) { return addNarrow(X, Y, F16); });
       }},
      {"add.rn.bf16x2", Lane::BF16,
       [](uint64_t A, uint64_t B, uint64_t) {
         return perLane(A, B, [](uint32_t X, uint32_t Y) { return addNarrow(X, Y, BF16); });
       }},
      {"cvt.rn.f16x2.f32", Lane::F16,
       [](uint64_t A, uint64_t B, uint64_t) { return cvtPack(A, B, F16, false, false); }},
      {"cvt.rz.f16x2.f32", Lane::F16,
       [](uint64_t A, uint64_t B, uint64_t) { return cvtPack(A, B, F16, true, false); }},
      {"cvt.rz.bf16x2.f32", Lane::BF16,
       [](uint64_t A, uint64_t B, uint64_t) { return cvtPack(A, B, BF16, true, false); }},
      {"cvt.rn.satfinite.f16x2.f32", Lane::F16,
       [](uint64_t A, uint64_t B, uint64_t) { return cvtPack(A, B, F16, false, true); }},
      {"cvt.rz.satfinite.bf16x2.f32", Lane::BF16,
       [](uint64_t A, uint64_t B, uint64_t) { return cvtPack(A, B, BF16, true, true); }},
      {"cvt.rn.satfinite.bf16.f32", Lane::BF16,
       [](uint64_t A, uint64_t, uint64_t) -> uint64_t { return cvtNarrow(A, BF16, false, true); }},
      {"min.f32.3", Lane::F32,
       [](uint64_t A, uint64_t B, uint64_t C) { return minMaxF32(minMaxF32(A, B, true, false), C, true, false); }},
      {"max.f32.3", Lane::F32,
       [](uint64_t A, uint64_t B, uint64_t C) { return minMaxF32(minMaxF32(A, B, false, false), C, false, false); }},
      {"min.NaN.f32.3", Lane::F32,
       [](uint64_t A, uint64_t B, uint64_t C) { return minMaxF32(minMaxF32(A, B, true, true), C, true, true); }},
      {"max.abs.f32.3", Lane::F32,
       [](uint64_t A, uint64_t B, uint64_t C) {
         uint64_t M = 0x7fffffff;
         return minMaxF32(minMaxF32(A & M, B & M, false, false), C & M, false, false);
       }},
  };
  for (const Model &M : Models)
    if (Name == M.Name)
      return &M;
  return nullptr;
}

// Whether a result matches the model's: bit-exact, except that NaN matches NaN per lane (the manual leaves the
// payload of most NaN results unspecified).
inline bool sameResult(Lane L, uint64_t Got, uint64_t Want, unsigned Bytes) {
  if (Got == Want || L == Lane::Bits)
    return Got == Want;
  if (L == Lane::F32)
    return std::isnan(asFloat(Got)) && std::isnan(asFloat(Want));
  Format F = L == Lane::F16 ? F16 : BF16;
  for (unsigned Shift = 0; Shift < 8 * Bytes; Shift += 16) {
    uint32_t G = uint32_t(Got >> Shift) & 0xffff, W = uint32_t(Want >> Shift) & 0xffff;
    if (G != W && !(isNaN(G, F) && isNaN(W, F)))
      return false;
  }
  return true;
}

} // namespace ptxref
