// End-to-end: half (__half, __half2) and bfloat16 (__nv_bfloat16, __nv_bfloat162) arithmetic, comparisons,
// conversions and math functions through nvcc's own PTX (built for compute_75, where bf16 arithmetic is emulated in
// f32, and compute_90, where it is native). Math functions run on every one of the 65536 inputs against the
// correctly rounded long double result (1 ulp: NVIDIA documents no bound, the functions round an f32 result once);
// arithmetic is compared bit for bit with a host model (exact result rounded once to the format).
#include "math_common.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <string>

using namespace mathref;

#define REF2(E)                                                                                                        \
  [](LD x, LD y, LD, int) -> LD {                                                                                      \
    (void)x, (void)y;                                                                                                  \
    return E;                                                                                                          \
  }
#define TOL1 [](LD, LD, LD, int, LD) { return Tol{1, 0}; }

// ---- host decoding and rounding of the 16-bit formats ----

static float halfToFloat(uint16_t H) {
  int E = (H >> 10) & 31, M = H & 1023;
  float V = E == 0 ? std::ldexp(float(M), -24) : E == 31 ? (M ? NAN : INFINITY) : std::ldexp(float(M | 1024), E - 25);
  return (H & 0x8000) ? -V : V;
}
static float bf16ToFloat(uint16_t H) {
  uint32_t U = uint32_t(H) << 16;
  float F;
  std::memcpy(&F, &U, 4);
  return F;
}
// Round-to-odd of an exact a*b+c in double (53 >= 2*11+2 bits: rounding that once more to f16/bf16 is correct).
static double fmaToOdd(double A, double B, double C) {
  double P = A * B; // exact: 22 (f16) or 16 (bf16) significant bits
  double S = P + C;
  if (!std::isfinite(S))
    return S;
  double Bb = S - P;
  double E = (P - (S - Bb)) + (C - Bb); // TwoSum: S + E == P + C exactly
  if (E != 0) {
    uint64_t U;
    std::memcpy(&U, &S, 8);
    if ((U & 1) == 0)
      S = std::nextafter(S, E > 0 ? INFINITY : -INFINITY);
  }
  return S;
}

// ---- device operations: inputs and results travel as floats (f16/bf16 -> f32 is exact) ----
#define H(v) __float2half(v)
#define BF(v) __float2bfloat16(v)
#define HF(v) __half2float(v)
#define BFF(v) __bfloat162float(v)

// Math functions, for both formats: name, function, long double reference, ulps.
#define HMATH(X)                                                                                                       \
  X(sin, hsin, sinl(x), 1)                                                                                             \
  X(cos, hcos, cosl(x), 1)                                                                                             \
  X(exp, hexp, expl(x), 1)                                                                                             \
  X(exp2, hexp2, exp2l(x), 1)                                                                                          \
  X(exp10, hexp10, exp10l(x), 1)                                                                                       \
  X(log, hlog, logl(x), 1)                                                                                             \
  X(log2, hlog2, log2l(x), 1)                                                                                          \
  X(log10, hlog10, log10l(x), 1)                                                                                       \
  X(rcp, hrcp, 1 / x, 1)                                                                                               \
  X(rsqrt, hrsqrt, 1 / sqrtl(x), 1)                                                                                    \
  X(sqrt, hsqrt, sqrtl(x), 1)                                                                                          \
  X(tanh, htanh, tanhl(x), 1)                                                                                          \
  X(tanh_approx, htanh_approx, tanhl(x), 2)                                                                            \
  X(ceil, hceil, ceill(x), 0)                                                                                          \
  X(floor, hfloor, floorl(x), 0)                                                                                       \
  X(trunc, htrunc, truncl(x), 0)                                                                                       \
  X(rint, hrint, nearbyintl(x), 0)                                                                                     \
  X(neg, __hneg, -x, 0)                                                                                                \
  X(abs, __habs, fabsl(x), 0)

#define DEF_HMATH(N, Fn, ...)                                                                                          \
  MATH_OP(h_##N, float, r = HF(Fn(H(x))))                                                                              \
  MATH_OP(b_##N, float, r = BFF(Fn(BF(x))))
HMATH(DEF_HMATH)

// Packed forms: lanes (x, y); r = low lane, r2 = high lane.
MATH_OP(h2_sin, float, __half2 v = h2sin(__halves2half2(H(x), H(y))); r = HF(__low2half(v)); r2 = HF(__high2half(v)))
MATH_OP(h2_exp, float, __half2 v = h2exp(__halves2half2(H(x), H(y))); r = HF(__low2half(v)); r2 = HF(__high2half(v)))
MATH_OP(h2_sqrt, float, __half2 v = h2sqrt(__halves2half2(H(x), H(y))); r = HF(__low2half(v)); r2 = HF(__high2half(v)))
MATH_OP(b2_exp2, float, __nv_bfloat162 v = h2exp2(__halves2bfloat162(BF(x), BF(y))); r = BFF(__low2bfloat16(v));
        r2 = BFF(__high2bfloat16(v)))

// Arithmetic, bit-exact: name, device expression over a, b, c of type T (one macro for both formats).
#define HARITH(X)                                                                                                      \
  X(add, __hadd(a, b))                                                                                                 \
  X(sub, __hsub(a, b))                                                                                                 \
  X(mul, __hmul(a, b))                                                                                                 \
  X(div, __hdiv(a, b))                                                                                                 \
  X(add_sat, __hadd_sat(a, b))                                                                                         \
  X(mul_sat, __hmul_sat(a, b))                                                                                         \
  X(add_rn, __hadd_rn(a, b))                                                                                           \
  X(mul_rn, __hmul_rn(a, b))                                                                                           \
  X(max, __hmax(a, b))                                                                                                 \
  X(min, __hmin(a, b))                                                                                                 \
  X(max_nan, __hmax_nan(a, b))                                                                                         \
  X(min_nan, __hmin_nan(a, b))

#define DEF_HARITH(N, E)                                                                                               \
  MATH_OP(h_##N, float, __half a = H(x); __half b = H(y); __half c = H(z); r = HF(E))                                                \
  MATH_OP(b_##N, float, __nv_bfloat16 a = BF(x); __nv_bfloat16 b = BF(y); __nv_bfloat16 c = BF(z); r = BFF(E))
HARITH(DEF_HARITH)

// bf16 __hfma, __hfma_sat, __hfma_relu and __hfma2 exist from sm_80 on: the compute_90 build defines MATH_HALF_SM80.
MATH_OP(h_fma, float, r = HF(__hfma(H(x), H(y), H(z))))
MATH_OP(h_fma_sat, float, r = HF(__hfma_sat(H(x), H(y), H(z))))
MATH_OP(h_fma_relu, float, r = HF(__hfma_relu(H(x), H(y), H(z))))
#ifdef MATH_HALF_SM80
MATH_OP(b_fma, float, r = BFF(__hfma(BF(x), BF(y), BF(z))))
MATH_OP(b_fma_sat, float, r = BFF(__hfma_sat(BF(x), BF(y), BF(z))))
MATH_OP(b_fma_relu, float, r = BFF(__hfma_relu(BF(x), BF(y), BF(z))))
#endif

// Packed arithmetic: lanes (x, y) op (y, z) [op (z, x)].
MATH_OP(h2_add, float, __half2 v = __hadd2(__halves2half2(H(x), H(y)), __halves2half2(H(y), H(z)));
        r = HF(__low2half(v)); r2 = HF(__high2half(v)))
MATH_OP(h2_fma, float,
        __half2 v = __hfma2(__halves2half2(H(x), H(y)), __halves2half2(H(y), H(z)), __halves2half2(H(z), H(x)));
        r = HF(__low2half(v)); r2 = HF(__high2half(v)))
MATH_OP(b2_mul, float, __nv_bfloat162 v = __hmul2(__halves2bfloat162(BF(x), BF(y)), __halves2bfloat162(BF(y), BF(z)));
        r = BFF(__low2bfloat16(v)); r2 = BFF(__high2bfloat16(v)))
#ifdef MATH_HALF_SM80
MATH_OP(b2_fma, float,
        __nv_bfloat162 v = __hfma2(__halves2bfloat162(BF(x), BF(y)), __halves2bfloat162(BF(y), BF(z)),
                                   __halves2bfloat162(BF(z), BF(x)));
        r = BFF(__low2bfloat16(v)); r2 = BFF(__high2bfloat16(v)))
#endif

// Comparisons: a bit per predicate in ri.
MATH_OP(h_cmp, float, __half a = H(x); __half b = H(y);
        ri = __heq(a, b) | __hne(a, b) << 1 | __hlt(a, b) << 2 | __hle(a, b) << 3 | __hgt(a, b) << 4 |
             __hge(a, b) << 5 | __hequ(a, b) << 6 | __hneu(a, b) << 7 | __hltu(a, b) << 8 | __hgtu(a, b) << 9 |
             __hisnan(a) << 10 | __hisinf(a) << 11)
MATH_OP(b_cmp, float, __nv_bfloat16 a = BF(x); __nv_bfloat16 b = BF(y);
        ri = __heq(a, b) | __hne(a, b) << 1 | __hlt(a, b) << 2 | __hle(a, b) << 3 | __hgt(a, b) << 4 |
             __hge(a, b) << 5 | __hequ(a, b) << 6 | __hneu(a, b) << 7 | __hltu(a, b) << 8 | __hgtu(a, b) << 9 |
             __hisnan(a) << 10 | __hisinf(a) << 11)

// Conversions from f32 in four rounding modes (r: half, r2: bfloat16 result), and to integers.
MATH_OP(cvt_rn, float, r = HF(__float2half_rn(x)); r2 = BFF(__float2bfloat16_rn(x)))
MATH_OP(cvt_rz, float, r = HF(__float2half_rz(x)); r2 = BFF(__float2bfloat16_rz(x)))
MATH_OP(cvt_rd, float, r = HF(__float2half_rd(x)); r2 = BFF(__float2bfloat16_rd(x)))
MATH_OP(cvt_ru, float, r = HF(__float2half_ru(x)); r2 = BFF(__float2bfloat16_ru(x)))
MATH_OP(cvt_int_rn, float, ri = __half2int_rn(H(x)))
MATH_OP(cvt_int_rz, float, ri = __half2int_rz(H(x)))
MATH_OP(cvt_int_rd, float, ri = __half2int_rd(H(x)))
MATH_OP(cvt_int_ru, float, ri = __half2int_ru(H(x)))
MATH_OP(cvt_short_rn, float, ri = __half2short_rn(H(x)))
MATH_OP(cvt_bf_int_rz, float, ri = __bfloat162int_rz(BF(x)))
MATH_OP(cvt_from_int, float, r = HF(__int2half_rn(int(x))); r2 = BFF(__int2bfloat16_rn(int(x))))
MATH_OP(cvt_from_int_rz, float, r = HF(__int2half_rz(int(x))); r2 = BFF(__int2bfloat16_rz(int(x))))

// All 65536 values of a format as floats.
static Inputs<float> allValues(bool Bf16) {
  Inputs<float> In;
  for (uint32_t U = 0; U < 65536; ++U) {
    float V = Bf16 ? bf16ToFloat(uint16_t(U)) : halfToFloat(uint16_t(U));
    In.add(V, Bf16 ? bf16ToFloat(uint16_t(U * 40503u)) : halfToFloat(uint16_t(U * 40503u)),
           Bf16 ? bf16ToFloat(uint16_t(U * 9973u + 7)) : halfToFloat(uint16_t(U * 9973u + 7)));
  }
  return In;
}

// Rounds a double result of an exactly computed (or round-to-odd) operation to the format.
static float roundFmt(double V, Format F) { return float(roundTo(LD(V), F)); }

// Host model of one arithmetic operation.
static float hostArith(const char *Op, float A, float B, float C, Format F) {
  double X = A, Y = B, Z = C;
  std::string S = Op;
  auto sat = [](float V) { return V != V ? 0.0f : std::fmin(std::fmax(V, 0.0f), 1.0f); };
  if (S == "add" || S == "add_rn")
    return roundFmt(X + Y, F);
  if (S == "sub")
    return roundFmt(X - Y, F);
  if (S == "mul" || S == "mul_rn")
    return roundFmt(X * Y, F);
  if (S == "div")
    return roundFmt(X / Y, F);
  if (S == "fma")
    return roundFmt(fmaToOdd(X, Y, Z), F);
  if (S == "add_sat")
    return sat(roundFmt(X + Y, F));
  if (S == "mul_sat")
    return sat(roundFmt(X * Y, F));
  if (S == "fma_sat")
    return sat(roundFmt(fmaToOdd(X, Y, Z), F));
  if (S == "fma_relu") {
    float R = roundFmt(fmaToOdd(X, Y, Z), F);
    return R <= 0 ? 0.0f : R; // max(+0, r): -0 gives +0, NaN stays NaN
  }
  bool IsMax = S.compare(0, 3, "max") == 0, Nan = S.size() > 4;
  if (A != A || B != B) {
    if (Nan || (A != A && B != B))
      return NAN;
    return A != A ? B : A;
  }
  if (A == B) // -0 < +0
    return (std::signbit(A) == IsMax) ? B : A;
  return IsMax ? std::fmax(A, B) : std::fmin(A, B);
}

static long long hostCmp(float A, float B) {
  bool U = A != A || B != B;
  return (A == B) | (!U && A != B) << 1 | (A < B) << 2 | (A <= B) << 3 | (A > B) << 4 | (A >= B) << 5 |
         (U || A == B) << 6 | (A != B) << 7 | (U || A < B) << 8 | (U || A > B) << 9 | (A != A) << 10 |
         (A == -INFINITY ? -1 : A == INFINITY ? 1 : 0) * 2048; // __hisinf: -1 for -inf
}

template <class Op> static void checkMath(const char *Name, bool Bf16, LD (*Ref)(LD), double Ulps) {
  checkApprox<Op>(Name, Bf16 ? BF16 : F16, allValues(Bf16), 1, [Ref](LD x, LD, LD, int) { return Ref(x); },
                  [Ulps](LD, LD, LD, int, LD) { return Tol{Ulps, 0}; });
}

template <class Op> static void checkArith(const char *Name, const char *OpName, bool Bf16) {
  Format F = Bf16 ? BF16 : F16;
  checkExact<Op>(Name, allValues(Bf16), 3, [&](float x, float y, float z, int) { return hostArith(OpName, x, y, z, F); });
}

// Packed results: both lanes against the scalar host model.
template <class Op, class Fn> static void checkPacked(const char *Name, bool Bf16, Fn Lanes) {
  Inputs<float> In = allValues(Bf16);
  Outputs<float> Out = run<Op>(In);
  Verdict V(Name);
  char Buf[160];
  for (size_t I = 0; I < In.size(); ++I) {
    auto [Lo, Hi] = Lanes(In.X[I], In.Y[I], In.Z[I]);
    bool Ok = sameBits(Out.R[I], Lo) && sameBits(Out.R2[I], Hi);
    V.noteLD(Ok, Ok ? 0 : 1, fmtArgs(Buf, sizeof Buf, In.X[I], In.Y[I], In.Z[I], 0, 3), Out.R[I], sameBits(Out.R[I], Lo) ? Hi : Lo);
  }
  V.report();
}

int main() {
  std::printf("math_half: half and bfloat16 arithmetic and math functions, every input\n");
#define RUN_HMATH(N, Fn, R, U)                                                                                         \
  checkMath<Op_h_##N>("h" #N, false, [](LD x) -> LD { return R; }, U);                                                 \
  checkMath<Op_b_##N>("bf16 " #N, true, [](LD x) -> LD { return R; }, U);
  HMATH(RUN_HMATH)

  checkApprox<Op_h2_sin>("h2sin.lo", F16, allValues(false), 2, REF2(sinl(x)), TOL1, 0);
  checkApprox<Op_h2_sin>("h2sin.hi", F16, allValues(false), 2, REF2(sinl(y)), TOL1, 1);
  checkApprox<Op_h2_exp>("h2exp.hi", F16, allValues(false), 2, REF2(expl(y)), TOL1, 1);
  checkApprox<Op_h2_sqrt>("h2sqrt.lo", F16, allValues(false), 2, REF2(sqrtl(x)), TOL1, 0);
  checkApprox<Op_b2_exp2>("bf16x2 exp2.hi", BF16, allValues(true), 2, REF2(exp2l(y)), TOL1, 1);

#define RUN_HARITH(N, E)                                                                                               \
  checkArith<Op_h_##N>("__h" #N, #N, false);                                                                           \
  checkArith<Op_b_##N>("bf16 __h" #N, #N, true);
  HARITH(RUN_HARITH)
  checkArith<Op_h_fma>("__hfma", "fma", false);
  checkArith<Op_h_fma_sat>("__hfma_sat", "fma_sat", false);
  checkArith<Op_h_fma_relu>("__hfma_relu", "fma_relu", false);
#ifdef MATH_HALF_SM80
  checkArith<Op_b_fma>("bf16 __hfma", "fma", true);
  checkArith<Op_b_fma_sat>("bf16 __hfma_sat", "fma_sat", true);
  checkArith<Op_b_fma_relu>("bf16 __hfma_relu", "fma_relu", true);
#endif

  checkPacked<Op_h2_add>("__hadd2", false, [](float x, float y, float z) {
    return std::pair{hostArith("add", x, y, 0, F16), hostArith("add", y, z, 0, F16)};
  });
  checkPacked<Op_h2_fma>("__hfma2", false, [](float x, float y, float z) {
    return std::pair{hostArith("fma", x, y, z, F16), hostArith("fma", y, z, x, F16)};
  });
  checkPacked<Op_b2_mul>("bf16x2 __hmul2", true, [](float x, float y, float z) {
    return std::pair{hostArith("mul", x, y, 0, BF16), hostArith("mul", y, z, 0, BF16)};
  });
#ifdef MATH_HALF_SM80
  checkPacked<Op_b2_fma>("bf16x2 __hfma2", true, [](float x, float y, float z) {
    return std::pair{hostArith("fma", x, y, z, BF16), hostArith("fma", y, z, x, BF16)};
  });
#endif

  checkInt<Op_h_cmp>("half compare", allValues(false), 2, [](float x, float y, float, int) { return hostCmp(x, y); });
  checkInt<Op_b_cmp>("bf16 compare", allValues(true), 2, [](float x, float y, float, int) { return hostCmp(x, y); });

  // f32 -> f16/bf16 in four rounding modes: a sweep of floats (the host rounds in long double, exactly).
  Inputs<float> Floats = unaryInputs<float>(-70000, 70000, 4000);
  auto directed = [](LD V, Format F, int Mode) -> float {
    LD R = roundTo(V, F);
    if (std::isnan(V) || std::isinf(V) || R == V)
      return float(R);
    bool Up = Mode == FE_UPWARD || (Mode == FE_TOWARDZERO && V < 0);
    bool Down = Mode == FE_DOWNWARD || (Mode == FE_TOWARDZERO && V > 0);
    LD Q = ulpOf(V, F);
    if (Up && R < V)
      R += Q;
    if (Down && R > V)
      R -= Q;
    LD Max = ldexpl(2.0L - ldexpl(1.0L, 1 - F.Mant), F.EMax);
    if (std::isinf(R) || fabsl(R) > Max) // directed modes saturate on the side that does not round outward
      R = ((V > 0 && Down) || (V < 0 && Up)) ? copysignl(Max, V) : copysignl(INFINITY, V);
    if (R == 0)
      R = copysignl(0.0L, V);
    return float(R);
  };
  const std::pair<const char *, int> Modes[] = {{"rn", FE_TONEAREST}, {"rz", FE_TOWARDZERO}, {"rd", FE_DOWNWARD},
                                                {"ru", FE_UPWARD}};
  for (auto [Name, Mode] : Modes) {
    Outputs<float> Out = Mode == FE_TONEAREST   ? run<Op_cvt_rn>(Floats)
                         : Mode == FE_TOWARDZERO ? run<Op_cvt_rz>(Floats)
                         : Mode == FE_DOWNWARD   ? run<Op_cvt_rd>(Floats)
                                                 : run<Op_cvt_ru>(Floats);
    std::string Label = std::string("__float2half/bfloat16_") + Name;
    Verdict V(Label.c_str());
    char Buf[64];
    for (size_t I = 0; I < Floats.size(); ++I) {
      float H = directed(Floats.X[I], F16, Mode), B = directed(Floats.X[I], BF16, Mode);
      bool Ok = sameBits(Out.R[I], H) && sameBits(Out.R2[I], B);
      V.noteLD(Ok, 0, fmtArgs(Buf, sizeof Buf, Floats.X[I], 0, 0, 0, 1), Out.R[I], sameBits(Out.R[I], H) ? B : H);
    }
    V.report();
  }
  auto toInt = [](LD V) -> long long { return V != V ? 0 : (long long)std::fmax(std::fmin(V, 2147483647.0L), -2147483648.0L); };
  checkInt<Op_cvt_int_rn>("__half2int_rn", allValues(false), 1, [&](float x, float, float, int) { return toInt(nearbyintl(x)); });
  checkInt<Op_cvt_int_rz>("__half2int_rz", allValues(false), 1, [&](float x, float, float, int) { return toInt(truncl(x)); });
  checkInt<Op_cvt_int_rd>("__half2int_rd", allValues(false), 1, [&](float x, float, float, int) { return toInt(floorl(x)); });
  checkInt<Op_cvt_int_ru>("__half2int_ru", allValues(false), 1, [&](float x, float, float, int) { return toInt(ceill(x)); });
  checkInt<Op_cvt_short_rn>("__half2short_rn", allValues(false), 1, [](float x, float, float, int) -> long long {
    LD V = nearbyintl(x);
    return V != V ? 0 : (long long)std::fmax(std::fmin(V, 32767.0L), -32768.0L);
  });
  checkInt<Op_cvt_bf_int_rz>("__bfloat162int_rz", allValues(true), 1, [&](float x, float, float, int) { return toInt(truncl(x)); });
  Inputs<float> Ints;
  for (int K = -70000; K <= 70000; K += 7)
    Ints.add(float(K));
  checkExact<Op_cvt_from_int>("__int2half_rn", Ints, 1, [](float x, float, float, int) { return roundFmt(x, F16); });
  {
    Outputs<float> Out = run<Op_cvt_from_int_rz>(Ints);
    Verdict V("__int2half/bfloat16_rz");
    char Buf[64];
    for (size_t I = 0; I < Ints.size(); ++I) {
      float H = directed(Ints.X[I], F16, FE_TOWARDZERO), B = directed(Ints.X[I], BF16, FE_TOWARDZERO);
      bool Ok = sameBits(Out.R[I], H) && sameBits(Out.R2[I], B);
      V.noteLD(Ok, 0, fmtArgs(Buf, sizeof Buf, Ints.X[I], 0, 0, 0, 1), Out.R[I], sameBits(Out.R[I], H) ? B : H);
    }
    V.report();
  }
  return e2e::finish("math_half", e2e::Failures);
}
