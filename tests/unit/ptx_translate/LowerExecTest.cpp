// Execution tests of the lowering: small PTX kernels are lowered, JIT-compiled and run per thread; results are
// compared bit-exactly with CPU references of the PTX semantics (shift clamping, cvt saturation, rounding modes,
// .ftz, .sat, min/max NaN rules, division by zero, bfe/bfi/prmt, carries, wide multiplies, lop3, atomics).
#include "LowerTestHarness.h"

#include <catch2/catch.hpp>

#include <bit>
#include <cfenv>
#include <cmath>
#include <cstdint>
#include <limits>

using namespace lowertest;

namespace {

using Row = std::array<uint64_t, 3>;

// One kernel thread per row: inputs a, b, c (64-bit each) are available as %ra/%a32/%af/%ad/%a16/%pa etc.;
// the body sets the output register of kind Kind (%o32, %o64, %of, %od, %o16 or %op).
std::string opKernel(const std::string &Decls, const std::string &Body, const std::string &Kind) {
  std::string S = PtxHeader + R"(
.visible .entry op(.param .u64 pin, .param .u64 pout)
{
  .reg .b64 %ra, %rb, %rc, %o64, %addr, %t64;
  .reg .b32 %a32, %b32, %c32, %o32, %tix;
  .reg .f32 %af, %bf, %cf, %of;
  .reg .f64 %ad, %bd, %cd, %od;
  .reg .b16 %a16, %b16, %c16, %o16;
  .reg .pred %pa, %pb, %pc, %op, %oq;
)" + Decls + R"(
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
  mov.b32 %cf, %c32;
  mov.b64 %ad, %ra;
  mov.b64 %bd, %rb;
  mov.b64 %cd, %rc;
  cvt.u16.u64 %a16, %ra;
  cvt.u16.u64 %b16, %rb;
  cvt.u16.u64 %c16, %rc;
  setp.ne.s64 %pa, %ra, 0;
  setp.ne.s64 %pb, %rb, 0;
  setp.ne.s64 %pc, %rc, 0;
)" + Body + R"(
  ld.param.u64 %addr, [pout];
  mul.wide.u32 %t64, %tix, 8;
  add.s64 %addr, %addr, %t64;
)";
  if (Kind == "b32")
    S += "  st.global.u32 [%addr], %o32;\n";
  else if (Kind == "b64")
    S += "  st.global.u64 [%addr], %o64;\n";
  else if (Kind == "f32")
    S += "  st.global.f32 [%addr], %of;\n";
  else if (Kind == "f64")
    S += "  st.global.f64 [%addr], %od;\n";
  else if (Kind == "b16")
    S += "  st.global.u16 [%addr], %o16;\n";
  else if (Kind == "pred")
    S += "  selp.u32 %o32, 1, 0, %op;\n  st.global.u32 [%addr], %o32;\n";
  else if (Kind == "pq")
    S += "  selp.u32 %o32, 1, 0, %op;\n  selp.u32 %tix, 2, 0, %oq;\n  or.b32 %o32, %o32, %tix;\n"
         "  st.global.u32 [%addr], %o32;\n";
  return S + "  ret;\n}\n";
}

std::vector<uint64_t> runOp(const std::string &Body, const std::string &Kind, const std::vector<Row> &Rows,
                            const std::string &Decls = "") {
  Jit J;
  std::string Err = J.load(opKernel(Decls, Body, Kind));
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

uint64_t f2u(float F) { return std::bit_cast<uint32_t>(F); }
uint64_t d2u(double D) { return std::bit_cast<uint64_t>(D); }
float u2f(uint64_t U) { return std::bit_cast<float>(static_cast<uint32_t>(U)); }
double u2d(uint64_t U) { return std::bit_cast<double>(U); }

// References computed by the host FPU under an explicit rounding mode.
// The result goes through a volatile so the compiler cannot move the operation past the mode switch.
template <typename F> auto withRounding(int Mode, F Fn) {
  int Old = std::fegetround();
  std::fesetround(Mode);
  volatile auto R = Fn();
  std::fesetround(Old);
  return R;
}

uint32_t refBfe(uint32_t A, uint32_t Pos, uint32_t Len, bool Signed) {
  Pos &= 0xff;
  Len &= 0xff;
  uint32_t SBit = 0;
  if (Signed && Len != 0)
    SBit = (A >> std::min(Pos + Len - 1, 31u)) & 1;
  uint32_t D = 0;
  for (uint32_t I = 0; I <= 31; ++I) {
    uint32_t Bit = (I < Len && Pos + I <= 31) ? (A >> (Pos + I)) & 1 : SBit;
    D |= Bit << I;
  }
  return D;
}

uint32_t refBfi(uint32_t A, uint32_t B, uint32_t Pos, uint32_t Len) {
  Pos &= 0xff;
  Len &= 0xff;
  uint32_t F = B;
  for (uint32_t I = 0; I < Len && Pos + I <= 31; ++I)
    F = (F & ~(1u << (Pos + I))) | (((A >> I) & 1) << (Pos + I));
  return F;
}

uint32_t refPrmt(uint32_t A, uint32_t B, uint32_t C) {
  uint64_t Tmp = (uint64_t(B) << 32) | A;
  uint32_t D = 0;
  for (int I = 0; I < 4; ++I) {
    uint32_t Sel = (C >> (4 * I)) & 0xf;
    uint32_t Byte = (Tmp >> (8 * (Sel & 7))) & 0xff;
    if (Sel & 8)
      Byte = (Byte & 0x80) ? 0xff : 0;
    D |= Byte << (8 * I);
  }
  return D;
}

} // namespace

TEST_CASE("shifts clamp the amount like PTX", "[ptx][lower][exec]") {
  std::vector<Row> Rows = {{0x80000001u, 0, 0},  {0x80000001u, 1, 0},  {0x80000001u, 31, 0},
                           {0x80000001u, 32, 0}, {0x80000001u, 33, 0}, {0x80000001u, 0xffffffffu, 0}};
  auto Shl = runOp("shl.b32 %o32, %a32, %b32;", "b32", Rows);
  auto ShrU = runOp("shr.u32 %o32, %a32, %b32;", "b32", Rows);
  auto ShrS = runOp("shr.s32 %o32, %a32, %b32;", "b32", Rows);
  for (size_t I = 0; I < Rows.size(); ++I) {
    uint32_t A = uint32_t(Rows[I][0]), N = uint32_t(Rows[I][1]);
    CHECK(Shl[I] == (N >= 32 ? 0u : A << N));
    CHECK(ShrU[I] == (N >= 32 ? 0u : A >> N));
    CHECK(ShrS[I] == uint32_t(int32_t(A) >> std::min(N, 31u)));
  }
  auto Shl64 = runOp("shl.b64 %o64, %ra, %b32;", "b64", {{1, 63, 0}, {1, 64, 0}, {3, 1000, 0}});
  CHECK(Shl64 == std::vector<uint64_t>{1ull << 63, 0, 0});
}

TEST_CASE("division by zero and overflow give defined values", "[ptx][lower][exec]") {
  std::vector<Row> Rows = {{7, 2, 0}, {7, 0, 0}, {0x80000000u, 0xffffffffu, 0}, {0xfffffff9u, 2, 0}};
  auto DivS = runOp("div.s32 %o32, %a32, %b32;", "b32", Rows);
  auto RemS = runOp("rem.s32 %o32, %a32, %b32;", "b32", Rows);
  auto DivU = runOp("div.u32 %o32, %a32, %b32;", "b32", Rows);
  auto RemU = runOp("rem.u32 %o32, %a32, %b32;", "b32", Rows);
  CHECK(DivS == std::vector<uint64_t>{3, 0xffffffffu, 0x80000000u, uint32_t(-3)});
  CHECK(RemS == std::vector<uint64_t>{1, 7, 0, uint32_t(-1)});
  CHECK(DivU == std::vector<uint64_t>{3, 0xffffffffu, 0, 0xfffffff9u / 2});
  CHECK(RemU == std::vector<uint64_t>{1, 7, 0x80000000u, 0xfffffff9u % 2});
  auto Div64 = runOp("div.s64 %o64, %ra, %rb;", "b64", {{100, 0, 0}, {uint64_t(INT64_MIN), uint64_t(-1), 0}});
  CHECK(Div64 == std::vector<uint64_t>{~0ull, uint64_t(INT64_MIN)});
}

TEST_CASE("integer multiply forms", "[ptx][lower][exec]") {
  std::vector<Row> Rows = {{0xfffffffeu, 3, 10}, {0x7fffffffu, 0x7fffffffu, 1}, {0x80000000u, 0x80000000u, 0}};
  auto HiS = runOp("mul.hi.s32 %o32, %a32, %b32;", "b32", Rows);
  auto HiU = runOp("mul.hi.u32 %o32, %a32, %b32;", "b32", Rows);
  auto WideS = runOp("mul.wide.s32 %o64, %a32, %b32;", "b64", Rows);
  auto MadWideU = runOp("mad.wide.u32 %o64, %a32, %b32, %rc;", "b64", Rows);
  auto MadLo = runOp("mad.lo.s32 %o32, %a32, %b32, %c32;", "b32", Rows);
  auto Mul24Hi = runOp("mul24.hi.u32 %o32, %a32, %b32;", "b32", Rows);
  for (size_t I = 0; I < Rows.size(); ++I) {
    uint32_t A = uint32_t(Rows[I][0]), B = uint32_t(Rows[I][1]), C = uint32_t(Rows[I][2]);
    CHECK(HiS[I] == uint32_t((int64_t(int32_t(A)) * int32_t(B)) >> 32));
    CHECK(HiU[I] == uint32_t((uint64_t(A) * B) >> 32));
    CHECK(WideS[I] == uint64_t(int64_t(int32_t(A)) * int32_t(B)));
    CHECK(MadWideU[I] == uint64_t(A) * B + Rows[I][2]);
    CHECK(MadLo[I] == uint32_t(A * B + C));
    CHECK(Mul24Hi[I] == uint32_t(((uint64_t(A & 0xffffff) * (B & 0xffffff)) >> 16)));
  }
  auto Hi64 = runOp("mul.hi.u64 %o64, %ra, %rb;", "b64", {{~0ull, ~0ull, 0}});
  CHECK(Hi64[0] == ~0ull - 1);
}

TEST_CASE("carry chains: add.cc/addc and sub.cc/subc", "[ptx][lower][exec]") {
  // 64-bit add and subtract through 32-bit halves.
  std::string Add = R"(
  .reg .b32 %lo, %hi, %x, %y;
  cvt.u32.u64 %x, %ra; shr.b64 %t64, %ra, 32; cvt.u32.u64 %y, %t64;
  cvt.u32.u64 %lo, %rb; shr.b64 %t64, %rb, 32; cvt.u32.u64 %hi, %t64;
  add.cc.u32 %lo, %x, %lo;
  addc.u32 %hi, %y, %hi;
  mov.b64 %o64, {%lo, %hi};)";
  std::string Sub = R"(
  .reg .b32 %lo, %hi, %x, %y;
  cvt.u32.u64 %x, %ra; shr.b64 %t64, %ra, 32; cvt.u32.u64 %y, %t64;
  cvt.u32.u64 %lo, %rb; shr.b64 %t64, %rb, 32; cvt.u32.u64 %hi, %t64;
  sub.cc.u32 %lo, %x, %lo;
  subc.u32 %hi, %y, %hi;
  mov.b64 %o64, {%lo, %hi};)";
  std::vector<Row> Rows = {{0xffffffffull, 1, 0}, {0x1ffffffffull, 0xffffffffull, 0}, {5, 7, 0}, {1ull << 32, 1, 0}};
  auto A = runOp(Add, "b64", Rows);
  auto S = runOp(Sub, "b64", Rows);
  for (size_t I = 0; I < Rows.size(); ++I) {
    CHECK(A[I] == Rows[I][0] + Rows[I][1]);
    CHECK(S[I] == Rows[I][0] - Rows[I][1]);
  }
}

TEST_CASE("bfe, bfi and prmt follow the PTX bit rules", "[ptx][lower][exec]") {
  std::vector<Row> Rows = {{0xf0f0a5a5u, 4, 8},  {0xf0f0a5a5u, 28, 8}, {0x80000000u, 31, 1},       {0x12345678u, 0, 0},
                           {0x92345678u, 40, 3}, {0x12345678u, 8, 40}, {0xffff0000u, 0x108, 0x105}};
  auto BfeU = runOp("bfe.u32 %o32, %a32, %b32, %c32;", "b32", Rows);
  auto BfeS = runOp("bfe.s32 %o32, %a32, %b32, %c32;", "b32", Rows);
  auto Bfi = runOp("bfi.b32 %o32, %a32, 0x0f0f0f0f, %b32, %c32;", "b32", Rows);
  for (size_t I = 0; I < Rows.size(); ++I) {
    uint32_t A = uint32_t(Rows[I][0]), P = uint32_t(Rows[I][1]), L = uint32_t(Rows[I][2]);
    INFO("row " << I);
    CHECK(BfeU[I] == refBfe(A, P, L, false));
    CHECK(BfeS[I] == refBfe(A, P, L, true));
    CHECK(Bfi[I] == refBfi(A, 0x0f0f0f0fu, P, L));
  }
  std::vector<Row> PRows = {{0x33221100u, 0x77665544u, 0x3210},
                            {0x33221100u, 0x77665544u, 0x7654},
                            {0x83221100u, 0xf7665544u, 0x8b3f},
                            {0x33221100u, 0x77665544u, 0x0000}};
  auto Prmt = runOp("prmt.b32 %o32, %a32, %b32, %c32;", "b32", PRows);
  for (size_t I = 0; I < PRows.size(); ++I)
    CHECK(Prmt[I] == refPrmt(uint32_t(PRows[I][0]), uint32_t(PRows[I][1]), uint32_t(PRows[I][2])));
  // Mode forms: f4e with selector 1 gives bytes 4321; rc8 replicates byte c[1:0].
  auto F4e = runOp("prmt.b32.f4e %o32, %a32, %b32, 1;", "b32", {{0x33221100u, 0x77665544u, 0}});
  CHECK(F4e[0] == 0x44332211u);
  auto Rc8 = runOp("prmt.b32.rc8 %o32, %a32, %b32, 2;", "b32", {{0x33221100u, 0x77665544u, 0}});
  CHECK(Rc8[0] == 0x22222222u);
}

TEST_CASE("bit counting and funnel shifts", "[ptx][lower][exec]") {
  std::vector<Row> Rows = {{0, 0, 0}, {1, 0, 0}, {0x80000000u, 0, 0}, {0xfffffff0u, 0, 0}, {0x00f00000u, 0, 0}};
  auto Popc = runOp("popc.b32 %o32, %a32;", "b32", Rows);
  auto Clz = runOp("clz.b32 %o32, %a32;", "b32", Rows);
  auto Brev = runOp("brev.b32 %o32, %a32;", "b32", Rows);
  auto BfindU = runOp("bfind.u32 %o32, %a32;", "b32", Rows);
  auto BfindS = runOp("bfind.s32 %o32, %a32;", "b32", Rows);
  auto BfindSh = runOp("bfind.shiftamt.u32 %o32, %a32;", "b32", Rows);
  for (size_t I = 0; I < Rows.size(); ++I) {
    uint32_t A = uint32_t(Rows[I][0]);
    CHECK(Popc[I] == uint32_t(std::popcount(A)));
    CHECK(Clz[I] == uint32_t(std::countl_zero(A)));
    uint32_t R = 0;
    for (int B = 0; B < 32; ++B)
      R |= ((A >> B) & 1) << (31 - B);
    CHECK(Brev[I] == R);
    CHECK(BfindU[I] == (A == 0 ? 0xffffffffu : 31u - std::countl_zero(A)));
    uint32_t X = int32_t(A) < 0 ? ~A : A;
    CHECK(BfindS[I] == (X == 0 ? 0xffffffffu : 31u - std::countl_zero(X)));
    CHECK(BfindSh[I] == (A == 0 ? 0xffffffffu : uint32_t(std::countl_zero(A))));
  }
  std::vector<Row> Sh = {{0x89abcdefu, 0x01234567u, 4}, {0x89abcdefu, 0x01234567u, 36}, {0x89abcdefu, 0x01234567u, 32}};
  auto LW = runOp("shf.l.wrap.b32 %o32, %a32, %b32, %c32;", "b32", Sh);
  auto LC = runOp("shf.l.clamp.b32 %o32, %a32, %b32, %c32;", "b32", Sh);
  auto RW = runOp("shf.r.wrap.b32 %o32, %a32, %b32, %c32;", "b32", Sh);
  auto RC = runOp("shf.r.clamp.b32 %o32, %a32, %b32, %c32;", "b32", Sh);
  for (size_t I = 0; I < Sh.size(); ++I) {
    uint64_t BA = (Sh[I][1] << 32) | Sh[I][0];
    uint32_t NW = uint32_t(Sh[I][2]) & 31, NC = std::min<uint32_t>(uint32_t(Sh[I][2]), 32);
    CHECK(LW[I] == uint32_t((BA << NW) >> 32));
    CHECK(LC[I] == (NC == 32 ? uint32_t(Sh[I][0]) : uint32_t((BA << NC) >> 32)));
    CHECK(RW[I] == uint32_t(BA >> NW));
    CHECK(RC[I] == (NC == 32 ? uint32_t(Sh[I][1]) : uint32_t(BA >> NC)));
  }
}

TEST_CASE("lop3 evaluates every truth table", "[ptx][lower][exec]") {
  const uint32_t A = 0xf0f0cc33u, B = 0xccaa0ff0u, C = 0xaa55f00fu;
  for (unsigned Lut : {0x00u, 0xffu, 0x96u, 0xe8u, 0x80u, 0x1eu, 0xcau, 0x6au}) {
    auto R = runOp("lop3.b32 %o32, %a32, %b32, %c32, " + std::to_string(Lut) + ";", "b32", {{A, B, C}});
    uint32_t Ref = 0;
    for (int Bit = 0; Bit < 32; ++Bit) {
      unsigned Idx = (((A >> Bit) & 1) << 2) | (((B >> Bit) & 1) << 1) | ((C >> Bit) & 1);
      Ref |= ((Lut >> Idx) & 1) << Bit;
    }
    INFO("lut " << Lut);
    CHECK(R[0] == Ref);
  }
}

TEST_CASE("setp combinations, set, selp and slct", "[ptx][lower][exec]") {
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  std::vector<Row> Rows = {{f2u(1.0f), f2u(2.0f), 1}, {f2u(NaN), f2u(2.0f), 0}, {f2u(2.0f), f2u(2.0f), 1}};
  auto Lt = runOp("setp.lt.f32 %op|%oq, %af, %bf;", "pq", Rows);
  CHECK(Lt == std::vector<uint64_t>{1, 2, 2});
  auto Ltu = runOp("setp.ltu.f32 %op, %af, %bf;", "pred", Rows);
  CHECK(Ltu == std::vector<uint64_t>{1, 1, 0});
  auto Ne = runOp("setp.ne.f32 %op, %af, %bf;", "pred", Rows);
  CHECK(Ne == std::vector<uint64_t>{1, 0, 0});
  auto Neu = runOp("setp.neu.f32 %op, %af, %bf;", "pred", Rows);
  CHECK(Neu == std::vector<uint64_t>{1, 1, 0});
  auto AndP = runOp("setp.le.and.f32 %op|%oq, %af, %bf, %pc;", "pq", Rows);
  CHECK(AndP == std::vector<uint64_t>{1, 0, 1}); // p = cmp & c, q = !cmp & c
  auto AndQ = runOp("setp.le.and.f32 %op|%oq, %af, %bf, %pc;", "pq", {{f2u(NaN), f2u(2.0f), 1}});
  CHECK(AndQ[0] == 2);
  auto OrP = runOp("setp.gt.or.f32 %op, %af, %bf, !%pc;", "pred", Rows);
  CHECK(OrP == std::vector<uint64_t>{0, 1, 0});
  auto SetF = runOp("set.lt.f32.f32 %of, %af, %bf;", "f32", Rows);
  CHECK(SetF == std::vector<uint64_t>{f2u(1.0f), 0, 0});
  auto SetU = runOp("set.eq.u32.f32 %o32, %af, %bf;", "b32", Rows);
  CHECK(SetU == std::vector<uint64_t>{0, 0, 0xffffffffu});
  std::vector<Row> IRows = {{0xffffffffu, 1, 0}, {1, 0xffffffffu, 0}};
  auto LtS = runOp("setp.lt.s32 %op, %a32, %b32;", "pred", IRows);
  auto LtU = runOp("setp.lo.u32 %op, %a32, %b32;", "pred", IRows);
  CHECK(LtS == std::vector<uint64_t>{1, 0});
  CHECK(LtU == std::vector<uint64_t>{0, 1});
  auto Selp = runOp("selp.b32 %o32, %a32, %b32, %pc;", "b32", {{5, 6, 1}, {5, 6, 0}});
  CHECK(Selp == std::vector<uint64_t>{5, 6});
  auto Slct = runOp("slct.u32.s32 %o32, %a32, %b32, %c32;", "b32", {{5, 6, 0}, {5, 6, 0x80000000u}});
  CHECK(Slct == std::vector<uint64_t>{5, 6});
  auto SlctF = runOp("slct.u32.f32 %o32, %a32, %b32, %cf;", "b32", {{5, 6, f2u(-0.0f)}, {5, 6, f2u(-1.0f)}});
  CHECK(SlctF == std::vector<uint64_t>{5, 6});
}

TEST_CASE("float to integer conversion saturates and maps NaN to 0", "[ptx][lower][exec]") {
  const float NaN = std::numeric_limits<float>::quiet_NaN();
  std::vector<Row> Rows = {{f2u(NaN), 0, 0},   {f2u(1e10f), 0, 0}, {f2u(-1e10f), 0, 0},
                           {f2u(-1.5f), 0, 0}, {f2u(2.5f), 0, 0},  {f2u(-2.5f), 0, 0}};
  auto Rzi = runOp("cvt.rzi.s32.f32 %o32, %af;", "b32", Rows);
  CHECK(Rzi == std::vector<uint64_t>{0, 0x7fffffffu, 0x80000000u, uint32_t(-1), 2, uint32_t(-2)});
  auto Rni = runOp("cvt.rni.s32.f32 %o32, %af;", "b32", Rows);
  CHECK(Rni == std::vector<uint64_t>{0, 0x7fffffffu, 0x80000000u, uint32_t(-2), 2, uint32_t(-2)});
  auto Rmi = runOp("cvt.rmi.s32.f32 %o32, %af;", "b32", Rows);
  CHECK(Rmi == std::vector<uint64_t>{0, 0x7fffffffu, 0x80000000u, uint32_t(-2), 2, uint32_t(-3)});
  auto Rpi = runOp("cvt.rpi.s32.f32 %o32, %af;", "b32", Rows);
  CHECK(Rpi == std::vector<uint64_t>{0, 0x7fffffffu, 0x80000000u, uint32_t(-1), 3, uint32_t(-2)});
  auto U32 = runOp("cvt.rzi.u32.f32 %o32, %af;", "b32", Rows);
  CHECK(U32 == std::vector<uint64_t>{0, 0xffffffffu, 0, 0, 2, 0});
  auto U8 = runOp("cvt.rzi.u8.f32 %o16, %af;", "b16", {{f2u(300.0f), 0, 0}, {f2u(-3.0f), 0, 0}, {f2u(7.9f), 0, 0}});
  CHECK(U8 == std::vector<uint64_t>{255, 0, 7});
  auto S64 = runOp("cvt.rzi.s64.f64 %o64, %ad;", "b64", {{d2u(-1e30), 0, 0}, {d2u(123.9), 0, 0}});
  CHECK(S64 == std::vector<uint64_t>{uint64_t(INT64_MIN), 123});
  auto SatI = runOp("cvt.sat.s8.s32 %o16, %a32;", "b16", {{300, 0, 0}, {uint32_t(-300), 0, 0}, {5, 0, 0}});
  CHECK(SatI == std::vector<uint64_t>{127, 0xff80, 5});
}

TEST_CASE("directed rounding of float arithmetic and conversions is exact", "[ptx][lower][exec]") {
  std::vector<std::pair<float, float>> Pairs = {{1.0f, 1e-8f},  {-1.0f, 1e-8f}, {3.0f, 7.0f},
                                                {1e30f, 3e-5f}, {-0.1f, 0.3f},  {1.0f / 3, -2.0f / 7}};
  std::vector<Row> Rows;
  for (auto [A, B] : Pairs)
    Rows.push_back({f2u(A), f2u(B), f2u(A * 0.5f)});
  struct ModeCase {
    const char *Name;
    int Fe;
  } Modes[] = {{"rn", FE_TONEAREST}, {"rz", FE_TOWARDZERO}, {"rm", FE_DOWNWARD}, {"rp", FE_UPWARD}};
  for (const auto &M : Modes) {
    INFO("mode " << M.Name);
    std::string Mod = M.Name;
    auto Add = runOp("add." + Mod + ".f32 %of, %af, %bf;", "f32", Rows);
    auto Mul = runOp("mul." + Mod + ".f32 %of, %af, %bf;", "f32", Rows);
    auto Div = runOp("div." + Mod + ".f32 %of, %af, %bf;", "f32", Rows);
    auto Fma = runOp("fma." + Mod + ".f32 %of, %af, %bf, %cf;", "f32", Rows);
    auto Sqrt = runOp("sqrt." + Mod + ".f32 %of, %bf;", "f32", Rows);
    auto Cvt = runOp("cvt." + Mod + ".f32.f64 %of, %ad;", "f32",
                     {{d2u(1.0 / 3), 0, 0}, {d2u(-1.0 / 3), 0, 0}, {d2u(1e300), 0, 0}, {d2u(-2.0 / 3), 0, 0}});
    auto CvtI = runOp("cvt." + Mod + ".f32.s32 %of, %a32;", "f32",
                      {{16777217u, 0, 0}, {uint32_t(-16777219), 0, 0}, {0x7fffffffu, 0, 0}});
    for (size_t I = 0; I < Rows.size(); ++I) {
      volatile float A = Pairs[I].first, B = Pairs[I].second, C = Pairs[I].first * 0.5f;
      INFO("row " << I);
      CHECK(Add[I] == f2u(withRounding(M.Fe, [&] { return float(A + B); })));
      CHECK(Mul[I] == f2u(withRounding(M.Fe, [&] { return float(A * B); })));
      CHECK(Div[I] == f2u(withRounding(M.Fe, [&] { return float(A / B); })));
      CHECK(Fma[I] == f2u(withRounding(M.Fe, [&] { return std::fma(float(A), float(B), float(C)); })));
      if (B >= 0)
        CHECK(Sqrt[I] == f2u(withRounding(M.Fe, [&] { return std::sqrt(float(B)); })));
    }
    std::vector<double> Ds = {1.0 / 3, -1.0 / 3, 1e300, -2.0 / 3};
    for (size_t I = 0; I < Ds.size(); ++I) {
      volatile double D = Ds[I];
      CHECK(Cvt[I] == f2u(withRounding(M.Fe, [&] { return float(D); })));
    }
    std::vector<int32_t> Is = {16777217, -16777219, 0x7fffffff};
    for (size_t I = 0; I < Is.size(); ++I) {
      volatile int32_t V = Is[I];
      CHECK(CvtI[I] == f2u(withRounding(M.Fe, [&] { return float(V); })));
    }
  }
  // f64 arithmetic in directed modes.
  auto AddD = runOp("add.rz.f64 %od, %ad, %bd;", "f64", {{d2u(1.0), d2u(1e-20), 0}, {d2u(-1.0), d2u(-1e-20), 0}});
  CHECK(AddD[0] == d2u(1.0));
  CHECK(AddD[1] == d2u(-1.0));
  auto AddP = runOp("add.rp.f64 %od, %ad, %bd;", "f64", {{d2u(1.0), d2u(1e-20), 0}});
  CHECK(AddP[0] == d2u(std::nextafter(1.0, 2.0)));
}

TEST_CASE("ftz, sat and the NaN rules of min/max", "[ptx][lower][exec]") {
  const float Sub = std::numeric_limits<float>::denorm_min() * 8, NaN = std::numeric_limits<float>::quiet_NaN();
  auto Ftz = runOp("add.ftz.f32 %of, %af, %bf;", "f32", {{f2u(Sub), f2u(0.0f), 0}, {f2u(-Sub), f2u(0.0f), 0}});
  CHECK(Ftz[0] == f2u(0.0f));
  CHECK(Ftz[1] == f2u(0.0f)); // -0 + +0 = +0
  auto NoFtz = runOp("add.f32 %of, %af, %bf;", "f32", {{f2u(Sub), f2u(0.0f), 0}});
  CHECK(NoFtz[0] == f2u(Sub));
  auto MulFtz =
      runOp("mul.ftz.f32 %of, %af, %bf;", "f32", {{f2u(1e-20f), f2u(1e-20f), 0}, {f2u(-1e-30f), f2u(1e-10f), 0}});
  CHECK(MulFtz[0] == f2u(0.0f));
  CHECK(MulFtz[1] == f2u(-0.0f));
  auto Sat = runOp(
      "add.sat.f32 %of, %af, %bf;", "f32",
      {{f2u(NaN), f2u(0.0f), 0}, {f2u(1.5f), f2u(0.0f), 0}, {f2u(-0.5f), f2u(0.0f), 0}, {f2u(0.25f), f2u(0.0f), 0}});
  CHECK(Sat == std::vector<uint64_t>{f2u(0.0f), f2u(1.0f), f2u(0.0f), f2u(0.25f)});
  std::vector<Row> Rows = {{f2u(NaN), f2u(1.0f), 0},   {f2u(2.0f), f2u(NaN), 0},   {f2u(NaN), f2u(NaN), 0},
                           {f2u(-0.0f), f2u(0.0f), 0}, {f2u(0.0f), f2u(-0.0f), 0}, {f2u(-3.0f), f2u(2.0f), 0}};
  auto Min = runOp("min.f32 %of, %af, %bf;", "f32", Rows);
  auto Max = runOp("max.f32 %of, %af, %bf;", "f32", Rows);
  CHECK(Min == std::vector<uint64_t>{f2u(1.0f), f2u(2.0f), 0x7fffffffu, f2u(-0.0f), f2u(-0.0f), f2u(-3.0f)});
  CHECK(Max == std::vector<uint64_t>{f2u(1.0f), f2u(2.0f), 0x7fffffffu, f2u(0.0f), f2u(0.0f), f2u(2.0f)});
  auto MinNaN = runOp("min.NaN.f32 %of, %af, %bf;", "f32", Rows);
  CHECK(MinNaN[0] == 0x7fffffffu);
  CHECK(MinNaN[5] == f2u(-3.0f));
}

TEST_CASE("rsqrt.approx.f32 stays within PTX's bound of 2^-22.9 relative error", "[ptx][lower][exec]") {
  // Specials first (exact by definition), then normals and subnormals over the whole exponent range.
  std::vector<float> X = {0.0f, -0.0f, INFINITY, -1.0f, 1.0f, 4.0f, 1e-40f, 1.4e-45f, 1.17549435e-38f, 3.4e38f};
  for (int E = -149; E < 128; E += 1)
    X.push_back(std::ldexp(1.37f, E));
  for (uint32_t I = 0; X.size() < 1000; ++I)
    X.push_back(std::bit_cast<float>(0x00800000u + I * 2130641u % 0x7f000000u)); // spread over the positives
  std::vector<Row> Rows;
  for (float V : X)
    Rows.push_back({f2u(V), 0, 0});
  auto R = runOp("rsqrt.approx.f32 %of, %af;", "f32", Rows);
  CHECK(u2f(R[0]) == INFINITY);
  CHECK(u2f(R[1]) == -INFINITY);
  CHECK(u2f(R[2]) == 0.0f);
  CHECK(std::isnan(u2f(R[3])));
  for (size_t I = 4; I < X.size(); ++I) {
    if (!(X[I] > 0))
      continue;
    long double Want = 1.0L / std::sqrt(static_cast<long double>(X[I]));
    long double Error = std::fabs((u2f(R[I]) - Want) / Want);
    INFO("x = " << X[I] << ", got " << u2f(R[I]));
    CHECK(Error <= std::exp2(-22.9L));
  }
}

TEST_CASE("float helpers: abs, neg, rcp, sqrt, approximate functions, testp, copysign", "[ptx][lower][exec]") {
  auto Rcp = runOp("rcp.rn.f32 %of, %af;", "f32", {{f2u(3.0f), 0, 0}});
  CHECK(Rcp[0] == f2u(1.0f / 3.0f));
  auto Sqrt = runOp("sqrt.rn.f64 %od, %ad;", "f64", {{d2u(2.0), 0, 0}});
  CHECK(Sqrt[0] == d2u(std::sqrt(2.0)));
  auto Ex2 = runOp("ex2.approx.ftz.f32 %of, %af;", "f32", {{f2u(3.0f), 0, 0}, {f2u(-1.0f), 0, 0}});
  CHECK(u2f(Ex2[0]) == Approx(8.0f).epsilon(1e-6));
  CHECK(u2f(Ex2[1]) == Approx(0.5f).epsilon(1e-6));
  auto Lg2 = runOp("lg2.approx.f32 %of, %af;", "f32", {{f2u(8.0f), 0, 0}});
  CHECK(u2f(Lg2[0]) == Approx(3.0f).epsilon(1e-6));
  auto Sin = runOp("sin.approx.f32 %of, %af;", "f32", {{f2u(0.5f), 0, 0}});
  CHECK(u2f(Sin[0]) == Approx(std::sin(0.5f)).epsilon(1e-6));
  auto Tanh = runOp("tanh.approx.f32 %of, %af;", "f32", {{f2u(0.5f), 0, 0}, {f2u(-30.0f), 0, 0}, {f2u(1e-6f), 0, 0}});
  CHECK(u2f(Tanh[0]) == Approx(std::tanh(0.5f)).epsilon(1e-5));
  CHECK(u2f(Tanh[1]) == -1.0f);
  CHECK(u2f(Tanh[2]) == Approx(1e-6f).epsilon(1e-5));
  auto Rsq = runOp("rsqrt.approx.f64 %od, %ad;", "f64", {{d2u(4.0), 0, 0}});
  CHECK(u2d(Rsq[0]) == 0.5);
  auto Abs = runOp("abs.f32 %of, %af;", "f32", {{f2u(-2.5f), 0, 0}});
  CHECK(Abs[0] == f2u(2.5f));
  auto Neg = runOp("neg.f64 %od, %ad;", "f64", {{d2u(0.0), 0, 0}});
  CHECK(Neg[0] == d2u(-0.0));
  auto Testp = runOp("testp.subnormal.f32 %op, %af;", "pred", {{f2u(1e-40f), 0, 0}, {f2u(1.0f), 0, 0}});
  CHECK(Testp == std::vector<uint64_t>{1, 0});
  auto Nan = runOp("testp.notanumber.f64 %op, %ad;", "pred", {{d2u(std::nan("")), 0, 0}, {d2u(1.0), 0, 0}});
  CHECK(Nan == std::vector<uint64_t>{1, 0});
  auto Cs = runOp("copysign.f32 %of, %af, %bf;", "f32", {{f2u(-1.0f), f2u(2.0f), 0}});
  CHECK(Cs[0] == f2u(-2.0f));
  auto DivFull = runOp("div.full.f32 %of, %af, %bf;", "f32", {{f2u(1.0f), f2u(4.0f), 0}});
  CHECK(DivFull[0] == f2u(0.25f));
}

TEST_CASE("half precision conversions and packed arithmetic", "[ptx][lower][exec]") {
  auto ToHalf =
      runOp("cvt.rn.f16.f32 %o16, %af;", "b16", {{f2u(1.0f), 0, 0}, {f2u(65520.0f), 0, 0}, {f2u(0.1f), 0, 0}});
  CHECK(ToHalf == std::vector<uint64_t>{0x3c00, 0x7c00, 0x2e66});
  auto FromHalf = runOp("cvt.f32.f16 %of, %a16;", "f32", {{0x3c00, 0, 0}, {0xc000, 0, 0}});
  CHECK(FromHalf == std::vector<uint64_t>{f2u(1.0f), f2u(-2.0f)});
  // f16x2: lanes add independently.
  auto Add2 = runOp("add.rn.f16x2 %o32, %a32, %b32;", "b32", {{0x3c004000u, 0x3c003c00u, 0}});
  CHECK(Add2[0] == 0x40004200u);
  auto Pack = runOp("cvt.rn.f16x2.f32 %o32, %af, %bf;", "b32", {{f2u(1.0f), f2u(2.0f), 0}});
  CHECK(Pack[0] == 0x3c004000u);
  auto Fma = runOp("fma.rn.f16 %o16, %a16, %b16, %c16;", "b16", {{0x4000, 0x4200, 0x3c00}}); // 2*3+1
  CHECK(Fma[0] == 0x4700);
}

TEST_CASE("integer conversions extend and truncate by type", "[ptx][lower][exec]") {
  auto S = runOp("cvt.s64.s32 %o64, %a32;", "b64", {{0xfffffffeu, 0, 0}});
  CHECK(S[0] == uint64_t(-2));
  auto U = runOp("cvt.u64.u32 %o64, %a32;", "b64", {{0xfffffffeu, 0, 0}});
  CHECK(U[0] == 0xfffffffeull);
  auto S8 = runOp("cvt.s32.s8 %o32, %a32;", "b32", {{0x1ff, 0, 0}});
  CHECK(S8[0] == 0xffffffffu);
  auto Sad = runOp("sad.u32 %o32, %a32, %b32, %c32;", "b32", {{3, 10, 100}});
  CHECK(Sad[0] == 107);
  auto Abs = runOp("abs.s32 %o32, %a32;", "b32", {{0x80000000u, 0, 0}, {uint32_t(-5), 0, 0}});
  CHECK(Abs == std::vector<uint64_t>{0x80000000u, 5});
  auto MinMax = runOp("min.s32 %o32, %a32, %b32;", "b32", {{uint32_t(-1), 1, 0}});
  CHECK(MinMax[0] == 0xffffffffu);
  auto MinU = runOp("min.u32 %o32, %a32, %b32;", "b32", {{uint32_t(-1), 1, 0}});
  CHECK(MinU[0] == 1);
  auto Unpack = runOp(".reg .b32 %x, %y;\n mov.b64 {%x, %y}, %ra;\n sub.s32 %o32, %y, %x;", "b32",
                      {{0x0000000500000002ull, 0, 0}});
  CHECK(Unpack[0] == 3);
}

TEST_CASE("atomics on global memory", "[ptx][lower][exec]") {
  std::string Ptx = PtxHeader + R"(
.visible .entry atoms(.param .u64 p)
{
  .reg .b32 %r<12>;
  .reg .b64 %rd<4>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [p];
  atom.global.add.u32 %r1, [%rd1], 5;
  atom.global.inc.u32 %r2, [%rd1+4], 2;
  atom.global.dec.u32 %r3, [%rd1+8], 7;
  atom.global.cas.b32 %r4, [%rd1+12], 10, 20;
  atom.global.exch.b32 %r5, [%rd1+16], 99;
  atom.global.max.s32 %r6, [%rd1+20], -3;
  atom.global.min.u32 %r7, [%rd1+24], 4;
  atom.global.add.f32 %f1, [%rd1+28], 0f3F800000;
  red.global.or.b32 [%rd1+32], 0x10;
  atom.global.add.u64 %rd2, [%rd1+40], 1;
  ret;
}
)";
  Jit J;
  std::string Err = J.load(Ptx);
  INFO(Err);
  REQUIRE(Err.empty());
  struct alignas(8) Mem {
    uint32_t Add = 1, Inc = 2, Dec = 0, Cas = 10, Exch = 1;
    int32_t Max = -5;
    uint32_t Min = 9;
    float FAdd = 0.5f;
    uint32_t Or = 1, Pad = 0;
    uint64_t Add64 = 41;
  } M;
  ParamBuffer P;
  P.add(&M);
  // Three threads run the same sequence.
  REQUIRE(J.run("atoms", {1, 1, 1}, {3, 1, 1}, P.data()));
  CHECK(M.Add == 16);
  CHECK(M.Inc == 2); // 2 -> 0 -> 1 -> 2 (wraps at >= 2)
  CHECK(M.Dec == 5); // 0 -> 7 -> 6 -> 5
  CHECK(M.Cas == 20);
  CHECK(M.Exch == 99);
  CHECK(M.Max == -3);
  CHECK(M.Min == 4);
  CHECK(M.FAdd == 3.5f);
  CHECK(M.Or == 0x11);
  CHECK(M.Add64 == 44);
}

TEST_CASE("predicated instructions, loops and special registers", "[ptx][lower][exec]") {
  std::string Ptx = PtxHeader + R"(
.visible .entry loop(.param .u64 out, .param .u32 n)
{
  .reg .pred %p<3>;
  .reg .b32 %r<10>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  ld.param.u32 %r1, [n];
  mov.u32 %r2, %tid.x;
  mov.u32 %r3, %ctaid.x;
  mov.u32 %r4, %ntid.x;
  mad.lo.s32 %r5, %r3, %r4, %r2;
  mov.u32 %r6, 0;
  mov.u32 %r7, 0;
$L_loop:
  setp.ge.u32 %p1, %r7, %r5;
  @%p1 bra $L_done;
  add.s32 %r6, %r6, %r7;
  add.s32 %r7, %r7, 1;
  bra.uni $L_loop;
$L_done:
  setp.lt.u32 %p2, %r5, %r1;
  @!%p2 ret;
  mov.u32 %r8, %lanemask_lt;
  @%p2 add.s32 %r6, %r6, 1000;
  mul.wide.u32 %rd2, %r5, 8;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v2.u32 [%rd3], {%r6, %r8};
  ret;
}
)";
  Jit J;
  std::string Err = J.load(Ptx);
  INFO(Err);
  REQUIRE(Err.empty());
  std::vector<uint32_t> Out(2 * 12, 0xdeadbeef);
  ParamBuffer P;
  P.add(Out.data()).add(uint32_t(10));
  REQUIRE(J.run("loop", {3, 1, 1}, {4, 1, 1}, P.data()));
  for (uint32_t G = 0; G < 12; ++G) {
    INFO("thread " << G);
    if (G < 10) {
      CHECK(Out[2 * G] == G * (G - (G ? 1 : 0)) / 2 + 1000 - (G ? 0 : 0));
      CHECK(Out[2 * G + 1] == (1u << (G % 4 % 32)) - 1);
    } else {
      CHECK(Out[2 * G] == 0xdeadbeef);
    }
  }
  const auto *KI = J.kernel("loop");
  REQUIRE(KI);
  CHECK(KI->ParamSize == 16);
  REQUIRE(KI->Params.size() == 2);
  CHECK(KI->Params[1].Offset == 8);
  CHECK(KI->Flags == 0);
}

TEST_CASE("warp shuffles, votes and reductions", "[ptx][lower][exec]") {
  std::string Ptx = PtxHeader + R"(
.visible .entry warp(.param .u64 out)
{
  .reg .pred %p<4>;
  .reg .b32 %r<20>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %laneid;
  mul.lo.s32 %r2, %r1, 10;
  shfl.sync.down.b32 %r3|%p1, %r2, 3, 31, -1;
  shfl.sync.up.b32 %r4, %r2, 1, 0, -1;
  shfl.sync.bfly.b32 %r5, %r2, 1, 31, -1;
  shfl.sync.idx.b32 %r6, %r2, 7, 31, -1;
  and.b32 %r7, %r1, 1;
  setp.eq.s32 %p2, %r7, 1;
  vote.sync.ballot.b32 %r8, %p2, -1;
  vote.sync.any.pred %p3, %p2, -1;
  selp.u32 %r9, 1, 0, %p3;
  redux.sync.add.u32 %r10, %r1, -1;
  selp.u32 %r11, 1, 0, %p1;
  activemask.b32 %r12;
  mul.wide.u32 %rd2, %r1, 32;
  add.s64 %rd3, %rd1, %rd2;
  st.global.v4.u32 [%rd3], {%r3, %r4, %r5, %r6};
  st.global.v4.u32 [%rd3+16], {%r8, %r9, %r10, %r11};
  ret;
}
)";
  Jit J;
  std::string Err = J.load(Ptx);
  INFO(Err);
  REQUIRE(Err.empty());
  REQUIRE(J.kernel("warp"));
  CHECK(J.kernel("warp")->Flags == CUSHIM_HAL_KERNEL_USES_WARP_OPS);
  std::vector<uint32_t> Out(32 * 8, 0);
  ParamBuffer P;
  P.add(Out.data());
  REQUIRE(J.run("warp", {1, 1, 1}, {32, 1, 1}, P.data()));
  for (uint32_t L = 0; L < 32; ++L) {
    INFO("lane " << L);
    const uint32_t *O = &Out[8 * L];
    CHECK(O[0] == (L + 3 <= 31 ? (L + 3) * 10 : L * 10));
    CHECK(O[1] == (L >= 1 ? (L - 1) * 10 : 0));
    CHECK(O[2] == (L ^ 1) * 10);
    CHECK(O[3] == 70);
    CHECK(O[4] == 0xaaaaaaaau);
    CHECK(O[5] == 1);
    CHECK(O[6] == 496);
    CHECK(O[7] == (L + 3 <= 31 ? 1u : 0u));
  }
}

TEST_CASE("unsupported instructions are errors naming the instruction and line", "[ptx][lower]") {
  std::string Ptx = PtxHeader + R"(
.visible .entry k()
{
  .reg .b32 %r<4>;
  mov.u32 %r1, 1;
  cp.async.wait_all;
  ret;
}
)";
  std::string Msg = Jit::lowerError(Ptx);
  INFO(Msg);
  CHECK(Msg.find("test.ptx:9:") != std::string::npos);
  CHECK(Msg.find("unsupported PTX instruction 'cp.async.wait_all'") != std::string::npos);
}
