// Execution tests of PTX instructions added to close ISA gaps: bmsk, szext, fns, min/max .xorsign.abs/.NaN on
// f32/f16/bf16 (scalar and packed), cvt to tf32 and the fp8 (e4m3/e5m2) packs and unpacks. Each kernel runs one
// thread per input row; results are compared bit-exactly with CPU references written from the PTX ISA pseudo-code
// (or, for the roundings, from a brute-force search over the destination format's values).
#include "LowerTestHarness.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

using namespace lowertest;

namespace {

using Row = std::array<uint64_t, 3>;

// Inputs a, b, c of each row are loaded into %a32/%b32/%c32, %af/%bf and %a16/%b16; the body sets %o32 or %o16.
std::string gapKernel(const std::string &Body, bool Out16) {
  std::string S = PtxHeader + R"(
.visible .entry op(.param .u64 pin, .param .u64 pout)
{
  .reg .b64 %ra, %rb, %rc, %addr, %t64;
  .reg .b32 %a32, %b32, %c32, %o32, %tix;
  .reg .f32 %af, %bf;
  .reg .b16 %a16, %b16, %o16;
  ld.param.u64 %addr, [pin];
  mov.u32 %tix, %tid.x;
  mul.wide.u32 %t64, %tix, 24;
  add.s64 %addr, %addr, %t64;
  ld.global.u64 %ra, [%addr];
  ld.global.u64 %rb, [%addr+8];
  ld.global.u64 %rc, [%addr+16];
  cvt.u32.u64 %a32, %ra;
  cvt.u32.u64 %b32, %rb;
  cvt.u32.u64 %c32, %rc;
  mov.b32 %af, %a32;
  mov.b32 %bf, %b32;
  cvt.u16.u64 %a16, %ra;
  cvt.u16.u64 %b16, %rb;
)" + Body + R"(
  ld.param.u64 %addr, [pout];
  mul.wide.u32 %t64, %tix, 8;
  add.s64 %addr, %addr, %t64;
)";
  S += Out16 ? "  st.global.u16 [%addr], %o16;\n" : "  st.global.u32 [%addr], %o32;\n";
  return S + "  ret;\n}\n";
}

std::vector<uint64_t> runGap(const std::string &Body, const std::vector<Row> &Rows, bool Out16 = false) {
  Jit J;
  std::string Err = J.load(gapKernel(Body, Out16));
  INFO(Err);
  REQUIRE(Err.empty());
  std::vector<uint64_t> In;
  for (const auto &R : Rows)
    In.insert(In.end(), R.begin(), R.end());
  std::vector<uint64_t> Out(Rows.size(), 0);
  ParamBuffer P;
  P.add(In.data()).add(Out.data());
  REQUIRE(J.run("op", {1, 1, 1}, {static_cast<uint32_t>(Rows.size()), 1, 1}, P.data()));
  return Out;
}

const std::vector<uint32_t> Interesting = {
    0,  1,  2,  3,   5,   7,   8,           15,          16,          17,          30,          31,         32,
    33, 63, 64, 100, 255, 256, 0x80000000u, 0x7fffffffu, 0xffffffffu, 0xaaaaaaaau, 0x12345678u, 0xfffffffeu};

// ---- references from the PTX ISA pseudo-code ----

uint32_t refBmsk(uint32_t A, uint32_t B, bool Clamp) {
  uint32_t A1 = A & 0x1f, B1 = B & 0x1f, Sum = A1 + B1;
  uint32_t Mask0 = ~0u << A1;
  bool SumOvf = Sum >= 32, PosOvf = false, WidthOvf = false;
  if (Clamp) {
    if (A >= 32) {
      PosOvf = true;
      Mask0 = 0;
    }
    if (B >= 32)
      WidthOvf = true;
  }
  uint32_t Mask1;
  if (SumOvf || PosOvf || WidthOvf)
    Mask1 = 0;
  else if (B1 == 0)
    Mask1 = ~0u;
  else
    Mask1 = ~0u << Sum;
  return Mask0 & ~Mask1;
}

uint32_t refSzext(uint32_t A, uint32_t B, bool Clamp, bool Signed) {
  uint32_t B1 = B & 0x1f;
  bool TooLarge = B >= 32 && Clamp;
  uint32_t Mask = TooLarge ? 0 : ~0u << B1;
  uint32_t SignPos = (B1 - 1) & 0x1f;
  bool SignBit = (B1 == 0 || TooLarge || !Signed) ? false : ((A >> SignPos) & 1);
  return (A & ~Mask) | (SignBit ? Mask : 0);
}

uint32_t refFns(uint32_t Mask, uint32_t Base, int32_t Offset) {
  uint32_t D = 0xffffffffu;
  if (Offset == 0) {
    if ((Mask >> Base) & 1)
      D = Base;
    return D;
  }
  int64_t Pos = Base;
  int64_t Count = std::llabs(int64_t(Offset)) - 1;
  int Inc = Offset > 0 ? 1 : -1;
  while (Pos >= 0 && Pos < 32) {
    if ((Mask >> Pos) & 1) {
      if (Count == 0)
        return uint32_t(Pos);
      --Count;
    }
    Pos += Inc;
  }
  return D;
}

// min/max pseudo-code on values decoded to double (exact for f32/f16/bf16), returning the bits of the format.
struct Fmt {
  unsigned Bits;
  double (*Decode)(uint32_t);
  uint32_t CanonNan;
};
double decodeF32(uint32_t X) { return std::bit_cast<float>(X); }
double decodeF16(uint32_t X) { return double(std::bit_cast<_Float16>(uint16_t(X))); }
double decodeBF16(uint32_t X) { return std::bit_cast<float>(X << 16); }
const Fmt F32Fmt{32, decodeF32, 0x7fffffffu}, F16Fmt{16, decodeF16, 0x7fffu}, BF16Fmt{16, decodeBF16, 0x7fffu};

uint32_t refMinMax(const Fmt &F, uint32_t A, uint32_t B, bool IsMin, bool NanMode, bool XorSign) {
  uint32_t SignBit = 1u << (F.Bits - 1);
  uint32_t Xs = 0;
  if (XorSign) {
    Xs = (A ^ B) & SignBit;
    A &= ~SignBit;
    B &= ~SignBit;
  }
  double X = F.Decode(A), Y = F.Decode(B);
  bool XN = std::isnan(X), YN = std::isnan(Y);
  uint32_t D;
  if (XN && YN)
    D = F.CanonNan;
  else if (NanMode && (XN || YN))
    D = F.CanonNan;
  else if (XN)
    D = B;
  else if (YN)
    D = A;
  else if (X == Y) // only +0 vs -0 can differ: -0 < +0
    D = IsMin ? (A | B) : (A & B);
  else
    D = (IsMin ? X < Y : X > Y) ? A : B;
  if (XorSign && !std::isnan(F.Decode(D)))
    D = (D & ~SignBit) | Xs;
  return D;
}

const std::vector<uint32_t> F32Vals = {0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x40000000u, 0xc0400000u,
                                       0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u, 0x7f800001u, 0x00000001u,
                                       0x80000003u, 0x7f7fffffu, 0xff7fffffu, 0x3f800001u};
const std::vector<uint32_t> H16Vals = {0x0000, 0x8000, 0x3c00, 0xbc00, 0x4000, 0xc200, 0x7c00, 0xfc00,
                                       0x7e00, 0xfe01, 0x7c01, 0x0001, 0x8003, 0x7bff, 0xfbff, 0x3c01};
const std::vector<uint32_t> BF16Vals = {0x0000, 0x8000, 0x3f80, 0xbf80, 0x4000, 0xc040, 0x7f80, 0xff80,
                                        0x7fc0, 0xffc1, 0x7f81, 0x0001, 0x8003, 0x7f7f, 0xff7f, 0x3f81};

// ---- rounding references by search over the destination values ----

// tf32 value grid: f32 patterns with the low 13 bits zero. Rounds |x| to the neighbours lo/hi and picks per mode.
uint32_t refTf32(uint32_t Bits, const std::string &Mode, bool SatFinite, bool Relu) {
  uint32_t Sign = Bits & 0x80000000u, Ax = Bits & 0x7fffffffu;
  if (Ax > 0x7f800000u)
    return 0x7fffffffu;
  uint32_t R;
  if (Ax == 0x7f800000u) {
    R = Ax;
  } else {
    uint32_t Lo = Ax & ~0x1fffu, Hi = Lo + 0x2000;
    double X = std::bit_cast<float>(Ax);
    double VLo = std::bit_cast<float>(Lo);
    // Hi may be the infinity pattern: its value for rounding purposes is 2^128.
    double VHi = Hi == 0x7f800000u ? std::ldexp(1.0, 128) : double(std::bit_cast<float>(Hi));
    double DLo = X - VLo, DHi = VHi - X;
    if (Mode == "rz" || DLo == 0)
      R = Lo;
    else if (DLo < DHi)
      R = Lo;
    else if (DLo > DHi)
      R = Hi;
    else if (Mode == "rna")
      R = Hi;
    else
      R = ((Lo >> 13) & 1) ? Hi : Lo;
  }
  if (SatFinite && R >= 0x7f800000u)
    R = 0x7f7fe000u;
  if (Relu && Sign && R != 0)
    return 0;
  return R | Sign;
}

// fp8 value of an encoding (NaN for the NaN encodings, infinity for e5m2's).
double fp8Value(uint32_t Enc, bool E4M3) {
  unsigned M = E4M3 ? 3 : 2, Bias = E4M3 ? 7 : 15;
  uint32_t S = Enc >> 7, E = (Enc >> M) & (E4M3 ? 0xf : 0x1f), Man = Enc & ((1u << M) - 1);
  double V;
  if (E4M3 && (Enc & 0x7f) == 0x7f)
    return std::numeric_limits<double>::quiet_NaN();
  if (!E4M3 && E == 0x1f)
    V = Man ? std::numeric_limits<double>::quiet_NaN() : std::numeric_limits<double>::infinity();
  else if (E == 0)
    V = std::ldexp(double(Man), 1 - int(Bias) - int(M));
  else
    V = std::ldexp(double((1u << M) | Man), int(E) - int(Bias) - int(M));
  return S ? -V : V;
}

// Nearest finite fp8 value (ties to the even encoding), saturating, NaN -> 0x7f; .relu: below zero -> +0.
uint32_t refToFp8(float X, bool E4M3, bool Relu) {
  if (std::isnan(X))
    return 0x7f;
  uint32_t MaxEnc = E4M3 ? 0x7e : 0x7b;
  double Ax = std::fabs(double(X));
  uint32_t Best = MaxEnc; // values beyond the largest finite one (and infinities) saturate
  double BestErr = std::numeric_limits<double>::infinity();
  for (uint32_t Enc = 0; Enc <= MaxEnc && Ax < fp8Value(MaxEnc, E4M3); ++Enc) {
    double Err = std::fabs(fp8Value(Enc, E4M3) - Ax);
    if (Err < BestErr || (Err == BestErr && (Enc & 1) == 0)) {
      Best = Enc;
      BestErr = Err;
    }
  }
  if (std::signbit(X)) {
    if (Relu && Best != 0)
      return 0;
    Best |= 0x80;
  }
  return Best;
}

uint32_t refFp8ToHalf(uint32_t Enc, bool E4M3, bool Relu) {
  double V = fp8Value(Enc, E4M3);
  if (std::isnan(V))
    return 0x7fff;
  if (Relu && V < 0)
    return 0;
  return std::bit_cast<uint16_t>(_Float16(V)); // exact: every fp8 value is an f16 value
}

} // namespace

TEST_CASE("bmsk .clamp and .wrap follow the PTX pseudo-code", "[lower][isagaps]") {
  std::vector<Row> Rows;
  for (uint32_t A : Interesting)
    for (uint32_t B : Interesting)
      Rows.push_back({A, B, 0});
  for (bool Clamp : {true, false}) {
    auto Out = runGap(std::string("  bmsk.") + (Clamp ? "clamp" : "wrap") + ".b32 %o32, %a32, %b32;\n", Rows);
    for (size_t K = 0; K < Rows.size(); ++K) {
      INFO("clamp=" << Clamp << " a=" << Rows[K][0] << " b=" << Rows[K][1]);
      CHECK(uint32_t(Out[K]) == refBmsk(uint32_t(Rows[K][0]), uint32_t(Rows[K][1]), Clamp));
    }
  }
  // The manual's example: bmsk.wrap.b32 rd, 1, 2 gives 0x00000006.
  auto Out = runGap("  bmsk.wrap.b32 %o32, 1, 2;\n", {{0, 0, 0}});
  CHECK(uint32_t(Out[0]) == 6u);
}

TEST_CASE("szext .clamp/.wrap .s32/.u32 follow the PTX pseudo-code", "[lower][isagaps]") {
  std::vector<Row> Rows;
  for (uint32_t A : Interesting)
    for (uint32_t B : Interesting)
      Rows.push_back({A, B, 0});
  for (bool Clamp : {true, false})
    for (bool Signed : {true, false}) {
      std::string Body =
          std::string("  szext.") + (Clamp ? "clamp" : "wrap") + (Signed ? ".s32" : ".u32") + " %o32, %a32, %b32;\n";
      auto Out = runGap(Body, Rows);
      for (size_t K = 0; K < Rows.size(); ++K) {
        INFO(Body << " a=" << Rows[K][0] << " b=" << Rows[K][1]);
        CHECK(uint32_t(Out[K]) == refSzext(uint32_t(Rows[K][0]), uint32_t(Rows[K][1]), Clamp, Signed));
      }
    }
}

TEST_CASE("fns.b32 finds the n-th set bit up or down from base", "[lower][isagaps]") {
  std::vector<Row> Rows;
  const uint32_t Masks[] = {0, 0xaaaaaaaau, 0xffffffffu, 0x80000001u, 0x12345678u, 0x00010000u};
  std::vector<int32_t> Offsets;
  for (int32_t O = -34; O <= 34; ++O)
    Offsets.push_back(O);
  Offsets.push_back(std::numeric_limits<int32_t>::min());
  Offsets.push_back(std::numeric_limits<int32_t>::max());
  for (uint32_t M : Masks)
    for (uint32_t Base = 0; Base < 32; ++Base)
      for (int32_t O : Offsets)
        Rows.push_back({M, Base, uint32_t(O)});
  auto Out = runGap("  fns.b32 %o32, %a32, %b32, %c32;\n", Rows);
  for (size_t K = 0; K < Rows.size(); ++K) {
    INFO("mask=" << Rows[K][0] << " base=" << Rows[K][1] << " offset=" << int32_t(Rows[K][2]));
    CHECK(uint32_t(Out[K]) ==
          refFns(uint32_t(Rows[K][0]), uint32_t(Rows[K][1]), std::bit_cast<int32_t>(uint32_t(Rows[K][2]))));
  }
  // The manual's examples.
  auto Ex = runGap("  fns.b32 %o32, 0xaaaaaaaa, %b32, %c32;\n",
                   {{0, 3, 1}, {0, 3, uint32_t(-1)}, {0, 2, 1}, {0, 2, uint32_t(-1)}});
  CHECK(uint32_t(Ex[0]) == 3u);
  CHECK(uint32_t(Ex[1]) == 3u);
  CHECK(uint32_t(Ex[2]) == 3u);
  CHECK(uint32_t(Ex[3]) == 1u);
}

TEST_CASE("min/max .xorsign.abs and .NaN on f32 are bit-exact", "[lower][isagaps]") {
  std::vector<Row> Rows;
  for (uint32_t A : F32Vals)
    for (uint32_t B : F32Vals)
      Rows.push_back({A, B, 0});
  for (std::string Op : {"min", "max"})
    for (std::string Mods : {"", ".NaN", ".xorsign.abs", ".NaN.xorsign.abs"}) {
      std::string Body = "  .reg .f32 %tf;\n  " + Op + Mods + ".f32 %tf, %af, %bf;\n  mov.b32 %o32, %tf;\n";
      auto Out = runGap(Body, Rows);
      for (size_t K = 0; K < Rows.size(); ++K) {
        INFO(Body << std::hex << " a=" << Rows[K][0] << " b=" << Rows[K][1]);
        CHECK(uint32_t(Out[K]) == refMinMax(F32Fmt, uint32_t(Rows[K][0]), uint32_t(Rows[K][1]), Op == "min",
                                            Mods.find("NaN") != std::string::npos,
                                            Mods.find("xorsign") != std::string::npos));
      }
    }
}

TEST_CASE("min/max on f16, bf16 and packed pairs: NaN rules, -0 < +0, .xorsign.abs", "[lower][isagaps]") {
  for (bool Bf : {false, true}) {
    const auto &Vals = Bf ? BF16Vals : H16Vals;
    const Fmt &F = Bf ? BF16Fmt : F16Fmt;
    std::vector<Row> Rows;
    for (uint32_t A : Vals)
      for (uint32_t B : Vals)
        Rows.push_back({A, B, 0});
    for (std::string Op : {"min", "max"})
      for (std::string Mods : {"", ".NaN", ".xorsign.abs", ".NaN.xorsign.abs"}) {
        std::string T = Bf ? ".bf16" : ".f16";
        std::string Body = "  " + Op + Mods + T + " %o16, %a16, %b16;\n";
        auto Out = runGap(Body, Rows, true);
        // Packed: lane 0 = (a, b), lane 1 = (b, a).
        std::string BodyX2 = "  .reg .b32 %pa, %pb;\n  mov.b32 %pa, {%a16, %b16};\n  mov.b32 %pb, {%b16, %a16};\n  " +
                             Op + Mods + T + "x2 %o32, %pa, %pb;\n";
        auto OutX2 = runGap(BodyX2, Rows);
        for (size_t K = 0; K < Rows.size(); ++K) {
          uint32_t A = uint32_t(Rows[K][0]), B = uint32_t(Rows[K][1]);
          bool NanMode = Mods.find("NaN") != std::string::npos, Xs = Mods.find("xorsign") != std::string::npos;
          uint32_t R0 = refMinMax(F, A, B, Op == "min", NanMode, Xs), R1 = refMinMax(F, B, A, Op == "min", NanMode, Xs);
          INFO(Body << std::hex << " a=" << A << " b=" << B);
          CHECK(uint32_t(Out[K]) == R0);
          CHECK(uint32_t(OutX2[K]) == (R0 | (R1 << 16)));
        }
      }
  }
}

TEST_CASE("cvt to tf32 rounds .rna/.rn/.rz exactly with .satfinite and .relu", "[lower][isagaps]") {
  std::vector<Row> Rows;
  const uint32_t Base[] = {0x3f800000u, 0x3f801000u, 0x3f803000u, 0x3f800fffu, 0x3f801001u, 0x3f802fffu,
                           0x00001000u, 0x00003000u, 0x00000fffu, 0x00001001u, 0x007ff000u, 0x7f7ff000u,
                           0x7f7fffffu, 0x7f7fefffu, 0x7f800000u, 0x7fc00000u, 0x7f800001u, 0x00000000u,
                           0x12345678u, 0x4049a5e3u, 0x3dcccccdu, 0x00000001u};
  for (uint32_t X : Base) {
    Rows.push_back({X, 0, 0});
    Rows.push_back({X | 0x80000000u, 0, 0});
  }
  struct Form {
    std::string Mods, Mode;
    bool Sat, Relu;
  };
  const Form Forms[] = {{"rna", "rna", false, false},        {"rna.satfinite", "rna", true, false},
                        {"rn", "rn", false, false},          {"rz", "rz", false, false},
                        {"rn.satfinite", "rn", true, false}, {"rz.satfinite", "rz", true, false},
                        {"rn.relu", "rn", false, true},      {"rz.satfinite.relu", "rz", true, true}};
  for (const auto &F : Forms) {
    std::string Body = "  cvt." + F.Mods + ".tf32.f32 %o32, %af;\n";
    auto Out = runGap(Body, Rows);
    for (size_t K = 0; K < Rows.size(); ++K) {
      INFO(Body << std::hex << " a=" << Rows[K][0]);
      CHECK(uint32_t(Out[K]) == refTf32(uint32_t(Rows[K][0]), F.Mode, F.Sat, F.Relu));
    }
  }
}

TEST_CASE("cvt.rn.satfinite e4m3x2/e5m2x2 from f32 and f16x2, and back to f16x2", "[lower][isagaps]") {
  for (bool E4 : {true, false}) {
    // Every fp8 value, the midpoints between neighbours and their f32 neighbours, overflow, infinities, NaN.
    std::vector<float> Xs;
    uint32_t MaxEnc = E4 ? 0x7e : 0x7b;
    for (uint32_t Enc = 0; Enc <= MaxEnc; ++Enc) {
      float V = float(fp8Value(Enc, E4));
      Xs.push_back(V);
      float Mid = float((fp8Value(Enc, E4) + fp8Value(Enc + 1, E4)) / 2); // exact in f32
      if (Enc < MaxEnc) {
        Xs.push_back(Mid);
        Xs.push_back(std::nextafter(Mid, 0.0f));
        Xs.push_back(std::nextafter(Mid, INFINITY));
      }
    }
    for (float V : {1e-30f, 1e30f, 500.0f, 464.0f, 465.0f, 60000.0f, 61440.0f, 70000.0f, INFINITY, NAN, 1e-45f})
      Xs.push_back(V);
    std::vector<Row> Rows;
    for (size_t K = 0; K < Xs.size(); ++K) {
      float A = Xs[K], B = Xs[(K * 7 + 3) % Xs.size()];
      Rows.push_back({std::bit_cast<uint32_t>(A), std::bit_cast<uint32_t>(B), 0});
      Rows.push_back({std::bit_cast<uint32_t>(-A), std::bit_cast<uint32_t>(-B), 0});
    }
    std::string T = E4 ? "e4m3x2" : "e5m2x2";
    for (bool Relu : {false, true}) {
      std::string Body = "  cvt.rn.satfinite" + std::string(Relu ? ".relu." : ".") + T + ".f32 %o16, %af, %bf;\n";
      auto Out = runGap(Body, Rows, true);
      for (size_t K = 0; K < Rows.size(); ++K) {
        float A = std::bit_cast<float>(uint32_t(Rows[K][0])), B = std::bit_cast<float>(uint32_t(Rows[K][1]));
        INFO(Body << std::hexfloat << " a=" << A << " b=" << B);
        CHECK(uint32_t(Out[K]) == ((refToFp8(A, E4, Relu) << 8) | refToFp8(B, E4, Relu)));
      }
    }
    // From f16x2: the upper half goes to the upper byte (f16 -> f32 is exact, so the f32 reference applies).
    std::vector<Row> HRows;
    for (uint32_t H = 0; H < 0x10000; H += 37)
      HRows.push_back({(H << 16) | ((H * 11) & 0xffff), 0, 0});
    for (uint32_t H : {0x7c00u, 0xfc00u, 0x7e00u, 0x5f00u, 0x7bffu})
      HRows.push_back({(H << 16) | H, 0, 0});
    auto OutH = runGap("  cvt.rn.satfinite." + T + ".f16x2 %o16, %a32;\n", HRows, true);
    for (size_t K = 0; K < HRows.size(); ++K) {
      uint32_t P = uint32_t(HRows[K][0]);
      float Hi = float(std::bit_cast<_Float16>(uint16_t(P >> 16))), Lo = float(std::bit_cast<_Float16>(uint16_t(P)));
      INFO(T << std::hex << " f16x2=" << P);
      CHECK(uint32_t(OutH[K]) == ((refToFp8(Hi, E4, false) << 8) | refToFp8(Lo, E4, false)));
    }
    // Unpack every encoding in both bytes.
    std::vector<Row> URows;
    for (uint32_t Enc = 0; Enc < 256; ++Enc)
      URows.push_back({(Enc << 8) | ((Enc * 13 + 5) & 0xff), 0, 0});
    for (bool Relu : {false, true}) {
      std::string Body = "  cvt.rn" + std::string(Relu ? ".relu" : "") + ".f16x2." + T + " %o32, %a16;\n";
      auto Out = runGap(Body, URows);
      for (size_t K = 0; K < URows.size(); ++K) {
        uint32_t P = uint32_t(URows[K][0]);
        INFO(Body << std::hex << " in=" << P);
        CHECK(uint32_t(Out[K]) == ((refFp8ToHalf(P >> 8, E4, Relu) << 16) | refFp8ToHalf(P & 0xff, E4, Relu)));
      }
    }
  }
}

TEST_CASE("forms still missing are clear errors naming the instruction", "[lower][isagaps]") {
  auto kernel = [](const std::string &Body) {
    return PtxHeader + ".visible .entry k()\n{\n  .reg .b32 %r<4>;\n  .reg .f32 %f<4>;\n  .reg .b16 %h<4>;\n" + Body +
           "  ret;\n}\n";
  };
  // The three-input integer min (not a PTX form; three-input min.f32 is supported) and cvt.rna.relu.tf32 (not a
  // PTX form) are rejected, not silently mis-lowered.
  std::string E1 = Jit::lowerError(kernel("  min.s32 %r0, %r1, %r2, %r3;\n"));
  CHECK(E1.find("invalid PTX instruction 'min") != std::string::npos);
  // %tid declared as a scalar register shadows the special register; a component of it is an error (ptxas: "Unknown
  // video selector"), not a read of the scalar.
  std::string E0 = Jit::lowerError(kernel("  .reg .b32 %tid;\n  mov.u32 %r0, %tid.x;\n"));
  CHECK(E0.find("'%tid' is a scalar register") != std::string::npos);
  std::string E2 = Jit::lowerError(kernel("  cvt.rna.relu.tf32.f32 %r0, %f1;\n"));
  CHECK(E2.find("unsupported PTX instruction 'cvt") != std::string::npos);
  std::string E3 = Jit::lowerError(kernel("  cvt.rz.satfinite.e4m3x2.f32 %h0, %f1, %f2;\n"));
  CHECK(E3.find("unsupported PTX instruction 'cvt") != std::string::npos);
}

TEST_CASE("vector atom/red .v2/.v4 .f32 add on global memory (PTX 8.1)", "[lower][isagaps]") {
  std::string Ptx = PtxHeader + R"(
.visible .entry vatom(.param .u64 p, .param .u64 q)
{
  .reg .b64 %rd<4>;
  .reg .b32 %r<4>;
  .reg .f32 %f<12>;
  ld.param.u64 %rd1, [p];
  ld.param.u64 %rd2, [q];
  mov.u32 %r1, %tid.x;
  cvt.rn.f32.u32 %f1, %r1;
  add.f32 %f2, %f1, 0f3F000000;
  atom.global.add.v2.f32 {%f3, %f4}, [%rd1], {%f1, %f2};
  red.global.add.v4.f32 [%rd1+8], {%f1, %f2, %f1, %f2};
  atom.global.max.v2.f32 {%f5, %f6}, [%rd1+24], {%f1, %f2};
  mul.wide.u32 %rd3, %r1, 8;
  add.s64 %rd2, %rd2, %rd3;
  st.global.v2.f32 [%rd2], {%f3, %f4};
  ret;
}
)";
  Jit J;
  std::string Err = J.load(Ptx);
  INFO(Err);
  REQUIRE(Err.empty());
  const unsigned N = 32;
  std::vector<float> Mem(8, 0.0f), Old(2 * N, -1.0f);
  ParamBuffer P;
  P.add(Mem.data()).add(Old.data());
  REQUIRE(J.run("vatom", {1, 1, 1}, {N, 1, 1}, P.data()));
  // Sums of 0..31 and of 0.5..31.5 are exact in f32, whatever the order.
  float S0 = 0, S1 = 0;
  for (unsigned T = 0; T < N; ++T) {
    S0 += float(T);
    S1 += float(T) + 0.5f;
  }
  CHECK(Mem[0] == S0);
  CHECK(Mem[1] == S1);
  CHECK(Mem[2] == S0);
  CHECK(Mem[3] == S1);
  CHECK(Mem[4] == S0);
  CHECK(Mem[5] == S1);
  CHECK(Mem[6] == float(N - 1));
  CHECK(Mem[7] == float(N - 1) + 0.5f);
  // Each thread got the old values: partial sums. Element 1 grows by at least 0.5 per thread, so its old values
  // all differ and the smallest is the initial 0.
  std::vector<float> Firsts;
  for (unsigned T = 0; T < N; ++T) {
    float T0 = Old[2 * T], T1 = Old[2 * T + 1];
    // Element 1 accumulates element 0's values plus 0.5 per earlier thread: T1 - T0 = 0.5 * (earlier threads).
    CHECK(std::fmod(T1 - T0, 0.5f) == 0.0f);
    Firsts.push_back(T1);
  }
  std::sort(Firsts.begin(), Firsts.end());
  CHECK(std::adjacent_find(Firsts.begin(), Firsts.end()) == Firsts.end());
  CHECK(Firsts.front() == 0.0f);
  // Unsupported vector forms stay errors: shared space, integer types.
  std::string E = Jit::lowerError(PtxHeader + ".visible .entry k()\n{\n  .reg .b32 %r<4>;\n  .reg .b64 %rd<2>;\n"
                                              "  atom.global.add.v2.u32 {%r0, %r1}, [%rd1], {%r2, %r3};\n  ret;\n}\n");
  CHECK(E.find("unsupported PTX instruction 'atom") != std::string::npos);
}
