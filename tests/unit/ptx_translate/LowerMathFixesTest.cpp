// Execution tests of float lowering fixes found by the math e2e programs: directed rounding with subnormal results
// or inputs (f32 and f64 mul/div/sqrt, exact zero sums under .rm), f16/bf16 fma rounded once (round-to-odd),
// fma.relu on -0, and set.CmpOp on packed halves. References: the host FPU in the same rounding mode, or an exact
// model rounded once.
#include "LowerTestHarness.h"

#include <catch2/catch.hpp>

#include <cfenv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

using namespace lowertest;

namespace {

// One thread per row: loads a, b, c (64-bit each) and runs Body, which sets %o (64-bit) from %a %b %c.
std::vector<uint64_t> runRows(const std::string &Decls, const std::string &Body,
                              const std::vector<std::array<uint64_t, 3>> &Rows) {
  std::string S = PtxHeader + R"(
.visible .entry op(.param .u64 pin, .param .u64 pout)
{
  .reg .b64 %a, %b, %c, %o, %addr, %t64;
  .reg .b32 %tix;
)" + Decls + R"(
  ld.param.u64 %addr, [pin];
  mov.u32 %tix, %tid.x;
  mul.wide.u32 %t64, %tix, 24;
  add.s64 %addr, %addr, %t64;
  ld.global.u64 %a, [%addr];
  ld.global.u64 %b, [%addr+8];
  ld.global.u64 %c, [%addr+16];
  mov.b64 %o, 0;
)" + Body + R"(
  ld.param.u64 %addr, [pout];
  mul.wide.u32 %t64, %tix, 8;
  add.s64 %addr, %addr, %t64;
  st.global.u64 [%addr], %o;
  ret;
}
)";
  Jit J;
  std::string Err = J.load(S);
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

template <typename T, typename U> U bitsOf(T V) {
  U R;
  std::memcpy(&R, &V, sizeof R);
  return R;
}
template <typename T, typename U> T fromBits(U V) {
  T R;
  std::memcpy(&R, &V, sizeof R);
  return R;
}

const int HostModes[] = {FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD};
const char *PtxModes[] = {"rz", "rm", "rp"};

template <typename Fn> auto inMode(int Mode, Fn F) {
  int Old = std::fegetround();
  std::fesetround(Mode);
  volatile auto R = F();
  std::fesetround(Old);
  return R;
}

// Subnormal-heavy f32/f64 operands: tiny magnitudes of both signs, some normal ones, zeros.
template <typename T> std::vector<T> tinyValues(std::mt19937_64 &G, int N) {
  std::vector<T> V = {T(0), -T(0), std::numeric_limits<T>::denorm_min(), -std::numeric_limits<T>::denorm_min(),
                      std::numeric_limits<T>::min(), T(1), T(-3)};
  std::uniform_real_distribution<double> Sig(1.0, 2.0);
  int EMin = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
  std::uniform_int_distribution<int> Exp(EMin, 8);
  while (int(V.size()) < N)
    V.push_back(T((G() & 1 ? -1 : 1) * std::ldexp(Sig(G), Exp(G))));
  return V;
}

} // namespace

TEST_CASE("directed rounding of f32/f64 mul, div, sqrt and add with subnormal operands and results",
          "[lower][math]") {
  std::mt19937_64 G(42);
  auto F = tinyValues<float>(G, 200);
  auto D = tinyValues<double>(G, 200);
  for (int M = 0; M < 3; ++M) {
    std::string Mode = PtxModes[M];
    std::vector<std::array<uint64_t, 3>> Rows;
    for (size_t I = 0; I < F.size(); ++I)
      Rows.push_back({bitsOf<float, uint32_t>(F[I]), bitsOf<float, uint32_t>(F[(I * 7 + 3) % F.size()]), 0});
    // f32: o = mul | div << 32 (two runs keep the kernel small), then sqrt(|a|) and a + (-a).
    auto Mul = runRows(".reg .f32 %x, %y, %r;\n  .reg .b32 %lo;",
                       "  cvt.u32.u64 %lo, %a;\n  mov.b32 %x, %lo;\n  cvt.u32.u64 %lo, %b;\n  mov.b32 %y, %lo;\n"
                       "  mul." + Mode + ".f32 %r, %x, %y;\n  mov.b32 %lo, %r;\n  cvt.u64.u32 %o, %lo;\n",
                       Rows);
    auto Div = runRows(".reg .f32 %x, %y, %r;\n  .reg .b32 %lo;",
                       "  cvt.u32.u64 %lo, %a;\n  mov.b32 %x, %lo;\n  cvt.u32.u64 %lo, %b;\n  mov.b32 %y, %lo;\n"
                       "  div." + Mode + ".f32 %r, %x, %y;\n  mov.b32 %lo, %r;\n  cvt.u64.u32 %o, %lo;\n",
                       Rows);
    auto Sqrt = runRows(".reg .f32 %x, %r;\n  .reg .b32 %lo;",
                        "  cvt.u32.u64 %lo, %a;\n  mov.b32 %x, %lo;\n  abs.f32 %x, %x;\n"
                        "  sqrt." + Mode + ".f32 %r, %x;\n  mov.b32 %lo, %r;\n  cvt.u64.u32 %o, %lo;\n",
                        Rows);
    auto Cancel = runRows(".reg .f32 %x, %r;\n  .reg .b32 %lo;",
                          "  cvt.u32.u64 %lo, %a;\n  mov.b32 %x, %lo;\n"
                          "  sub." + Mode + ".f32 %r, %x, %x;\n  mov.b32 %lo, %r;\n  cvt.u64.u32 %o, %lo;\n",
                          Rows);
    for (size_t I = 0; I < F.size(); ++I) {
      volatile float X = F[I], Y = F[(I * 7 + 3) % F.size()]; // volatile: computed after fesetround
      INFO("f32 " << Mode << " x=" << float(X) << " y=" << float(Y));
      CHECK(uint32_t(Mul[I]) == bitsOf<float, uint32_t>(inMode(HostModes[M], [&] { return X * Y; })));
      if (Y != 0)
        CHECK(uint32_t(Div[I]) == bitsOf<float, uint32_t>(inMode(HostModes[M], [&] { return X / Y; })));
      CHECK(uint32_t(Sqrt[I]) == bitsOf<float, uint32_t>(inMode(HostModes[M], [&] { return std::sqrt(std::fabs(float(X))); })));
      CHECK(uint32_t(Cancel[I]) == bitsOf<float, uint32_t>(inMode(HostModes[M], [&] { return X - X; })));
    }
    Rows.clear();
    for (size_t I = 0; I < D.size(); ++I)
      Rows.push_back({bitsOf<double, uint64_t>(D[I]), bitsOf<double, uint64_t>(D[(I * 5 + 1) % D.size()]),
                      bitsOf<double, uint64_t>(D[(I * 11 + 2) % D.size()])});
    auto DMul = runRows(".reg .f64 %x, %y, %r;", "  mov.b64 %x, %a;\n  mov.b64 %y, %b;\n  mul." + Mode +
                                                     ".f64 %r, %x, %y;\n  mov.b64 %o, %r;\n",
                        Rows);
    auto DDiv = runRows(".reg .f64 %x, %y, %r;", "  mov.b64 %x, %a;\n  mov.b64 %y, %b;\n  div." + Mode +
                                                     ".f64 %r, %x, %y;\n  mov.b64 %o, %r;\n",
                        Rows);
    auto DSqrt = runRows(".reg .f64 %x, %r;",
                         "  mov.b64 %x, %a;\n  abs.f64 %x, %x;\n  sqrt." + Mode + ".f64 %r, %x;\n  mov.b64 %o, %r;\n",
                         Rows);
    auto DFma = runRows(".reg .f64 %x, %y, %z, %r;", "  mov.b64 %x, %a;\n  mov.b64 %y, %b;\n  mov.b64 %z, %c;\n  fma." +
                                                         Mode + ".f64 %r, %x, %y, %z;\n  mov.b64 %o, %r;\n",
                        Rows);
    for (size_t I = 0; I < D.size(); ++I) {
      volatile double X = D[I], Y = D[(I * 5 + 1) % D.size()], Z = D[(I * 11 + 2) % D.size()];
      INFO("f64 " << Mode << " x=" << double(X) << " y=" << double(Y) << " z=" << double(Z));
      CHECK(DMul[I] == bitsOf<double, uint64_t>(inMode(HostModes[M], [&] { return X * Y; })));
      if (Y != 0)
        CHECK(DDiv[I] == bitsOf<double, uint64_t>(inMode(HostModes[M], [&] { return X / Y; })));
      CHECK(DSqrt[I] == bitsOf<double, uint64_t>(inMode(HostModes[M], [&] { return std::sqrt(std::fabs(double(X))); })));
      CHECK(DFma[I] == bitsOf<double, uint64_t>(inMode(HostModes[M], [&] { return std::fma(double(X), double(Y), double(Z)); })));
    }
  }
}

TEST_CASE("f16 and bf16 fma round once; fma.relu maps -0 to +0; set on packed halves", "[lower][math]") {
  // f16 fma against an exact model: all f16 values are multiples of 2^-24, so a*b + c is an exact multiple of
  // 2^-48 below 2^81: a long double holds it exactly when it fits 64 bits, else the triple is skipped.
  std::mt19937_64 G(7);
  std::vector<std::array<uint64_t, 3>> Rows;
  for (int I = 0; I < 1000; ++I)
    Rows.push_back({G() & 0xffff, G() & 0xffff, G() & 0xffff});
  auto half = [](uint16_t H) -> long double {
    int E = (H >> 10) & 31, M = H & 1023;
    long double V = E == 0 ? std::ldexp((long double)M, -24)
                    : E == 31 ? (M ? NAN : INFINITY)
                              : std::ldexp((long double)(M | 1024), E - 25);
    return (H & 0x8000) ? -V : V;
  };
  auto Out = runRows(".reg .b16 %x, %y, %z, %r;\n  .reg .b32 %w;",
                     "  cvt.u16.u64 %x, %a;\n  cvt.u16.u64 %y, %b;\n  cvt.u16.u64 %z, %c;\n"
                     "  fma.rn.f16 %r, %x, %y, %z;\n  cvt.u64.u16 %o, %r;\n",
                     Rows);
  auto Relu = runRows(".reg .b16 %x, %y, %z, %r;", "  cvt.u16.u64 %x, %a;\n  cvt.u16.u64 %y, %b;\n  cvt.u16.u64 %z, %c;\n"
                                                   "  fma.rn.relu.f16 %r, %x, %y, %z;\n  cvt.u64.u16 %o, %r;\n",
                      Rows);
  int Checked = 0;
  for (size_t I = 0; I < Rows.size(); ++I) {
    long double A = half(Rows[I][0]), B = half(Rows[I][1]), C = half(Rows[I][2]);
    if (!std::isfinite(A) || !std::isfinite(B) || !std::isfinite(C))
      continue;
    long double Exact = A * B + C; // exact when the span fits 64 bits: checked by recomputing the residual
    if ((Exact - C) != A * B)
      continue;
    // Round to f16 (ties to even) by brute force over the neighbours of the float conversion.
    _Float16 H = (_Float16)(double)Exact; // may double-round: pick the nearest of it and its neighbours
    uint16_t Best = bitsOf<_Float16, uint16_t>(H);
    for (int D = -1; D <= 1; ++D) {
      uint16_t Cand = uint16_t(bitsOf<_Float16, uint16_t>(H) + D);
      long double Cv = half(Cand), Bv = half(Best);
      if (std::isnan(Cv) || ((Cand ^ Best) & 0x8000))
        continue;
      long double Dc = std::fabs(Cv - Exact), Db = std::fabs(Bv - Exact);
      if (Dc < Db || (Dc == Db && (Cand & 1) == 0))
        Best = Cand;
    }
    if (std::fabs(Exact) >= 65520)
      continue; // overflow: covered by the e2e programs
    if (Exact == 0)
      continue; // the sign of an exact zero follows IEEE rules, checked elsewhere
    INFO("fma.f16 " << std::hex << Rows[I][0] << " " << Rows[I][1] << " " << Rows[I][2]);
    CHECK(uint16_t(Out[I]) == Best);
    uint16_t ReluWant = (Best & 0x8000) ? 0 : Best;
    CHECK(uint16_t(Relu[I]) == ReluWant);
    ++Checked;
  }
  CHECK(Checked > 500);

  // set.lt.f16x2.f16x2 and set.lt.u32.f16x2: per half 1.0 / 0xffff for true.
  std::vector<std::array<uint64_t, 3>> Cmp = {{0x3c00bc00, 0x00003c00, 0}, {0x7e000000, 0x00000000, 0}};
  auto SetF = runRows(".reg .b32 %x, %y, %r;", "  cvt.u32.u64 %x, %a;\n  cvt.u32.u64 %y, %b;\n"
                                               "  set.lt.f16x2.f16x2 %r, %x, %y;\n  cvt.u64.u32 %o, %r;\n",
                      Cmp);
  auto SetU = runRows(".reg .b32 %x, %y, %r;", "  cvt.u32.u64 %x, %a;\n  cvt.u32.u64 %y, %b;\n"
                                               "  set.ltu.u32.f16x2 %r, %x, %y;\n  cvt.u64.u32 %o, %r;\n",
                      Cmp);
  // Row 0: lo -1 < 1 true, hi 1 < 0 false. Row 1: lo 0 < 0 false, hi NaN < 0 false (unordered: true for ltu).
  CHECK(SetF[0] == 0x00003c00u);
  CHECK(SetF[1] == 0u);
  CHECK(SetU[0] == 0x0000ffffu);
  CHECK(SetU[1] == 0xffff0000u);
}

TEST_CASE("bf16 conversions and arithmetic round in IR (no __truncsfbf2 call in the JIT)", "[lower][math]") {
  // Rows: a = s32 / f32 bits / bf16 bits; results packed as 16-bit fields of %o.
  std::vector<std::array<uint64_t, 3>> Rows = {
      {16777217, 0x3fc00000, 0x3fc0}, // 2^24+1 -> 0x4b80; 1.5f -> 0x3fc0; rzi(1.5) = 1 -> 0x3f80, rni -> 2 (0x4000)
      {0xffffff81, 0x3f808000, 0xbfe0}, // -127 -> 0xc2fe; 1.00390625 (tie) -> even 0x3f80; rni(-1.75) = -2 (0xc000)
      {257, 0x3f818000, 0x4030},         // 257 -> 256 (tie to even) 0x4380; 0x3f818000 (tie) -> 0x3f82; rni(2.75) = 3
  };
  auto Out = runRows(".reg .b32 %i, %f;\n  .reg .f32 %x;\n  .reg .b16 %h, %r0, %r1, %r2, %r3;\n  .reg .b64 %t;",
                     "  cvt.u32.u64 %i, %a;\n  cvt.u32.u64 %f, %b;\n  mov.b32 %x, %f;\n  cvt.u16.u64 %h, %c;\n"
                     "  cvt.rn.bf16.s32 %r0, %i;\n  cvt.rn.bf16.f32 %r1, %x;\n  cvt.rzi.bf16.bf16 %r2, %h;\n"
                     "  cvt.rni.bf16.bf16 %r3, %h;\n"
                     "  cvt.u64.u16 %o, %r0;\n  cvt.u64.u16 %t, %r1;\n  shl.b64 %t, %t, 16;\n  or.b64 %o, %o, %t;\n"
                     "  cvt.u64.u16 %t, %r2;\n  shl.b64 %t, %t, 32;\n  or.b64 %o, %o, %t;\n"
                     "  cvt.u64.u16 %t, %r3;\n  shl.b64 %t, %t, 48;\n  or.b64 %o, %o, %t;\n",
                     Rows);
  CHECK(Out[0] == 0x40003f803fc04b80ull);
  CHECK(Out[1] == 0xc000bf803f80c2feull);
  CHECK(Out[2] == 0x404040003f824380ull);
  // bf16 fma rounds once and packed f16 fma works per lane.
  std::vector<std::array<uint64_t, 3>> F = {{0x3f81, 0x3f81, 0xbf82}, {0x3c013c00, 0x3c013c00, 0x80008000}};
  auto Fma = runRows(".reg .b16 %x, %y, %z, %r;\n  .reg .b32 %p, %q, %s, %v;",
                     "  cvt.u16.u64 %x, %a;\n  cvt.u16.u64 %y, %b;\n  cvt.u16.u64 %z, %c;\n"
                     "  fma.rn.bf16 %r, %x, %y, %z;\n  cvt.u64.u16 %o, %r;\n",
                     {F[0]});
  // (1 + 2^-7)^2 - (1 + 2^-6) = 2^-14 exactly: 0x3880.
  CHECK(Fma[0] == 0x3880u);
  auto Fma2 = runRows(".reg .b32 %p, %q, %s, %v;", "  cvt.u32.u64 %p, %a;\n  cvt.u32.u64 %q, %b;\n  cvt.u32.u64 %s, %c;\n"
                                                   "  fma.rn.f16x2 %v, %p, %q, %s;\n  cvt.u64.u32 %o, %v;\n",
                      {F[1]});
  // lo: 1 * 1 + -0 = 1 (0x3c00); hi: (1 + 2^-10)^2 = 1 + 2^-9 + 2^-20 -> 0x3c02.
  CHECK(Fma2[0] == 0x3c023c00u);
}
