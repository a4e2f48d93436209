// End-to-end: every single-precision function of the CUDA Math API and the single-precision intrinsics, through
// nvcc's own PTX, against long double references within NVIDIA's documented maximum ulp errors (CUDA C++
// Programming Guide, "Mathematical Functions": bounds vs the correctly rounded result), and bit for bit against the
// host where the result is correctly rounded (sqrt, fma, directed-rounding intrinsics, fmod, rint, ...).
// Inputs: a dense sweep of each function's useful domain, every binade of both signs, and the special values.
#include "math_common.h"

using namespace mathref;

#define MATH_T float
#define MATH_FMT F32

static const LD Pi = 3.14159265358979323846264338327950288L;

// ---- one-argument functions with a documented ulp bound: name, device statement, reference, ulps, abs, domain ----
#define APPROX1(X)                                                                                                     \
  X(sinf, r = sinf(x), sinl(x), 2, 0, -10, 10)                                                                         \
  X(cosf, r = cosf(x), cosl(x), 2, 0, -10, 10)                                                                         \
  X(tanf, r = tanf(x), tanl(x), 4, 0, -10, 10)                                                                         \
  X(sinpif, r = sinpif(x), sinpiL(x), 1, 0, -4, 4)                                                                     \
  X(cospif, r = cospif(x), cospiL(x), 1, 0, -4, 4)                                                                     \
  X(asinf, r = asinf(x), asinl(x), 2, 0, -1.1, 1.1)                                                                    \
  X(acosf, r = acosf(x), acosl(x), 2, 0, -1.1, 1.1)                                                                    \
  X(atanf, r = atanf(x), atanl(x), 2, 0, -10, 10)                                                                      \
  X(sinhf, r = sinhf(x), sinhl(x), 3, 0, -90, 90)                                                                      \
  X(coshf, r = coshf(x), coshl(x), 2, 0, -90, 90)                                                                      \
  X(tanhf, r = tanhf(x), tanhl(x), 2, 0, -10, 10)                                                                      \
  X(asinhf, r = asinhf(x), asinhl(x), 3, 0, -10, 10)                                                                   \
  X(acoshf, r = acoshf(x), acoshl(x), 4, 0, 0.5, 100)                                                                  \
  X(atanhf, r = atanhf(x), atanhl(x), 3, 0, -1.1, 1.1)                                                                 \
  X(expf, r = expf(x), expl(x), 2, 0, -105, 90)                                                                        \
  X(exp2f, r = exp2f(x), exp2l(x), 2, 0, -152, 130)                                                                    \
  X(exp10f, r = exp10f(x), exp10l(x), 2, 0, -46, 39)                                                                   \
  X(expm1f, r = expm1f(x), expm1l(x), 1, 0, -20, 90)                                                                   \
  X(logf, r = logf(x), logl(x), 1, 0, -1, 100)                                                                         \
  X(log2f, r = log2f(x), log2l(x), 1, 0, -1, 100)                                                                      \
  X(log10f, r = log10f(x), log10l(x), 2, 0, -1, 100)                                                                   \
  X(log1pf, r = log1pf(x), log1pl(x), 1, 0, -1.5, 100)                                                                 \
  X(rsqrtf, r = rsqrtf(x), 1 / sqrtl(x), 2, 0, -1, 100)                                                                \
  X(cbrtf, r = cbrtf(x), cbrtl(x), 1, 0, -100, 100)                                                                    \
  X(rcbrtf, r = rcbrtf(x), 1 / cbrtl(x), 1, 0, -100, 100)                                                              \
  X(erff, r = erff(x), erfl(x), 2, 0, -5, 5)                                                                           \
  X(erfcf, r = erfcf(x), erfcl(x), 4, 0, -5, 12)                                                                       \
  X(erfinvf, r = erfinvf(x), erfinvL(x), 2, 0, -1.1, 1.1)                                                              \
  X(erfcinvf, r = erfcinvf(x), erfcinvL(x), 4, 0, -0.1, 2.1)                                                           \
  X(erfcxf, r = erfcxf(x), erfcxL(x), 4, 0, -10, 50)                                                                   \
  X(normcdff, r = normcdff(x), normcdfL(x), 5, 0, -40, 10)                                                             \
  X(normcdfinvf, r = normcdfinvf(x), normcdfinvL(x), 5, 0, -0.1, 1.1)                                                  \
  X(lgammaf, r = lgammaf(x), lgammal(x), (x > -10.001L && x < -2.264L) ? Inf : 6, 0, -20, 50)                          \
  X(tgammaf, r = tgammaf(x), tgammal(x), 5, 0, -10, 36)                                                                \
  X(j0f, r = j0f(x), j0l(x), fabsl(x) < 8 ? 9 : 0, fabsl(x) < 8 ? 0 : 2.2e-6, -30, 30)                                 \
  X(j1f, r = j1f(x), j1l(x), fabsl(x) < 8 ? 9 : 0, fabsl(x) < 8 ? 0 : 2.2e-6, -30, 30)                                 \
  X(y0f, r = y0f(x), y0l(x), fabsl(x) < 8 ? 9 : 0, fabsl(x) < 8 ? 0 : 2.2e-6, -1, 30)                                  \
  X(y1f, r = y1f(x), y1l(x), fabsl(x) < 8 ? 9 : 0, fabsl(x) < 8 ? 0 : 2.2e-6, -1, 30)                                  \
  X(cyl_bessel_i0f, r = cyl_bessel_i0f(x), besselI0L(x), 6, 0, -90, 90)                                                \
  X(cyl_bessel_i1f, r = cyl_bessel_i1f(x), besselI1L(x), 6, 0, -90, 90)                                                \
  X(frsqrt_rn, r = __frsqrt_rn(x), 1 / sqrtl(x), 0, 0, -1, 100)                                                        \
  /* intrinsics: bounds of the Programming Guide's intrinsic table */                                                  \
  X(i_sinf, r = __sinf(x), sinl(x), fabsl(x) <= Pi ? 0 : Inf, fabsl(x) <= Pi ? exp2l(-21.41L) : 0, -3.14159, 3.14159)      \
  X(i_cosf, r = __cosf(x), cosl(x), fabsl(x) <= Pi ? 0 : Inf, fabsl(x) <= Pi ? exp2l(-21.19L) : 0, -3.14159, 3.14159)      \
  X(i_tanf, r = __tanf(x), tanl(x), fabsl(x) <= 1.5L ? 2 : Inf,                                                        \
    fabsl(x) <= 1.5L ? (1 + fabsl(ref)) * 0x1p-21 / fabsl(cosl(x)) : 0, -1.5, 1.5)                                     \
  X(i_expf, r = __expf(x), expl(x), 2 + floorl(fabsl(1.173L * x)), 0, -87, 88)                                        \
  X(i_exp10f, r = __exp10f(x), exp10l(x), 2 + floorl(fabsl(2.97L * x)), 0, -37, 38)                                   \
  X(i_logf, r = __logf(x), logl(x), (x >= 0.5L && x <= 2) ? 0 : 3, (x >= 0.5L && x <= 2) ? exp2l(-21.41L) : 0, -1, 10)    \
  X(i_log2f, r = __log2f(x), log2l(x), (x >= 0.5L && x <= 2) ? 0 : 2, (x >= 0.5L && x <= 2) ? 0x1p-22 : 0, -1, 10)    \
  X(i_log10f, r = __log10f(x), log10l(x), (x >= 0.5L && x <= 2) ? 0 : 3, (x >= 0.5L && x <= 2) ? 0x1p-24 : 0, -1, 10)

// ---- two-argument functions with a documented bound ----
#define APPROX2(X)                                                                                                     \
  X(atan2f, r = atan2f(x, y), atan2l(x, y), 3, 0, -10, 10, -10, 10)                                                    \
  X(powf, r = powf(x, y), powl(x, y), 4, 0, -10, 30, -40, 40)                                                          \
  X(hypotf, r = hypotf(x, y), hypotl(x, y), 3, 0, -1e3, 1e3, -1e3, 1e3)                                                \
  X(rhypotf, r = rhypotf(x, y), 1 / hypotl(x, y), 2, 0, -1e3, 1e3, -1e3, 1e3)                                          \
  X(fdividef, r = __fdividef(x, y), x / y,                                                                             \
    (fabsl(y) >= 0x1p-126L && fabsl(y) <= 0x1p126L && fabsl(x / y) >= 0x1p-126L && fabsl(x / y) < 0x1p127L) ? 2 : Inf, \
    0, -100, 100, -100, 100)                                                                                           \
  X(i_powf, r = __powf(x, y), powl(x, y),                                                                              \
    (x > 0 && fabsl(y * log2l(x)) < 100) ? 2 + 2 * fabsl(y * log2l(x)) : Inf, 0, 0, 30, -20, 20)

// ---- three-argument functions with a bound ----
#define APPROX3(X)                                                                                                     \
  X(norm3df, r = norm3df(x, y, z), sqrtl(x * x + y * y + z * z), 3, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)              \
  X(rnorm3df, r = rnorm3df(x, y, z), 1 / sqrtl(x * x + y * y + z * z), 2, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)        \
  X(norm4df, r = norm4df(x, y, z, 0.75f * x), norm4(x, y, z), 3, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)                   \
  X(rnorm4df, r = rnorm4df(x, y, z, 0.75f * x), 1 / norm4(x, y, z), 2, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)            \
  X(normf, r = normQuad(x, y, z, false), norm4(x, y, z), 4, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3) \
  X(rnormf, r = normQuad(x, y, z, true), 1 / norm4(x, y, z), 3, 0, -1e3, 1e3, -1e3, 1e3,     \
    -1e3, 1e3)

// The fourth argument of the 4-norms is 0.75 x rounded to float (as the device computes it).
static LD norm4(LD x, LD y, LD z) {
  LD w = static_cast<float>(0.75f * static_cast<float>(x));
  return sqrtl(x * x + y * y + z * z + w * w);
}

// ---- correctly rounded functions: compared bit for bit with the host (libm, SSE in the given rounding mode) ----
#define EXACT1(X)                                                                                                      \
  X(sqrtf, r = sqrtf(x), sqrtf(x), -1, 100)                                                                            \
  X(fabsf, r = fabsf(x), fabsf(x), -10, 10)                                                                            \
  X(truncf, r = truncf(x), truncf(x), -10, 10)                                                                         \
  X(roundf, r = roundf(x), roundf(x), -10, 10)                                                                         \
  X(rintf, r = rintf(x), rintf(x), -10, 10)                                                                            \
  X(nearbyintf, r = nearbyintf(x), nearbyintf(x), -10, 10)                                                             \
  X(ceilf, r = ceilf(x), ceilf(x), -10, 10)                                                                            \
  X(floorf, r = floorf(x), floorf(x), -10, 10)                                                                         \
  X(logbf, r = logbf(x), logbf(x), -10, 10)                                                                            \
  X(saturatef, r = __saturatef(x), (x > 0 ? (x < 1 ? x : 1.0f) : 0.0f), -2, 2)                                        \
  X(fsqrt_rn, r = __fsqrt_rn(x), withRounding(FE_TONEAREST, [&] { return sqrtf(x); }), -1, 100)                        \
  X(fsqrt_rz, r = __fsqrt_rz(x), withRounding(FE_TOWARDZERO, [&] { return sqrtf(x); }), -1, 100)                       \
  X(fsqrt_rd, r = __fsqrt_rd(x), withRounding(FE_DOWNWARD, [&] { return sqrtf(x); }), -1, 100)                         \
  X(fsqrt_ru, r = __fsqrt_ru(x), withRounding(FE_UPWARD, [&] { return sqrtf(x); }), -1, 100)                           \
  X(frcp_rn, r = __frcp_rn(x), withRounding(FE_TONEAREST, [&] { return 1.0f / x; }), -10, 10)                          \
  X(frcp_rz, r = __frcp_rz(x), withRounding(FE_TOWARDZERO, [&] { return 1.0f / x; }), -10, 10)                         \
  X(frcp_rd, r = __frcp_rd(x), withRounding(FE_DOWNWARD, [&] { return 1.0f / x; }), -10, 10)                           \
  X(frcp_ru, r = __frcp_ru(x), withRounding(FE_UPWARD, [&] { return 1.0f / x; }), -10, 10)                             \
  X(recip, r = 1.0f / x, 1.0f / x, -10, 10)                                                                            \
  X(modff_frac, float ip; r = modff(x, &ip); r2 = ip, modff(x, &z), -100, 100)                                         \
  X(modff_int, float ip; modff(x, &ip); r = ip, (modff(x, &z), z), -100, 100)                                          \
  X(frexpf_m, int e; r = frexpf(x, &e), frexpf(x, &k), -100, 100)                                                      \
  X(int2float_rz, r = __int2float_rz(__float_as_int(x)), withRounding(FE_TOWARDZERO, [&] { return float(fbits(x)); }), \
    -10, 10)                                                                                                           \
  X(int2float_rd, r = __int2float_rd(__float_as_int(x)), withRounding(FE_DOWNWARD, [&] { return float(fbits(x)); }),   \
    -10, 10)                                                                                                           \
  X(uint2float_ru, r = __uint2float_ru(__float_as_uint(x)),                                                            \
    withRounding(FE_UPWARD, [&] { return float(unsigned(fbits(x))); }), -10, 10)                                       \
  X(ll2float_rn, r = __ll2float_rn(1234567891234ll * __float_as_int(x)),                                               \
    float(1234567891234ll * fbits(x)), -10, 10)

// Integer arguments derived from floats, clamped so that host and device convert them the same way (C leaves
// out-of-range conversions undefined).
__host__ __device__ int expArg(float Y) { return int(fmaxf(fminf(Y * 30, 1e9f), -1e9f)); }
__host__ __device__ float clampLL(float X) { return fmaxf(fminf(X, 4e18f), -4e18f); }

static int fbits(float X) {
  int I;
  std::memcpy(&I, &X, 4);
  return I;
}

#define EXACT2(X)                                                                                                      \
  X(fmodf, r = fmodf(x, y), fmodf(x, y), -100, 100, -10, 10)                                                           \
  X(remainderf, r = remainderf(x, y), remainderf(x, y), -100, 100, -10, 10)                                            \
  X(remquof, int q; r = remquof(x, y, &q), remquof(x, y, &k), -100, 100, -10, 10)                                      \
  X(fdimf, r = fdimf(x, y), fdimf(x, y), -10, 10, -10, 10)                                                             \
  X(fmaxf, r = fmaxf(x, y), fmaxf(x, y), -10, 10, -10, 10)                                                             \
  X(fminf, r = fminf(x, y), fminf(x, y), -10, 10, -10, 10)                                                             \
  X(nextafterf, r = nextafterf(x, y), nextafterf(x, y), -10, 10, -10, 10)                                              \
  X(copysignf, r = copysignf(x, y), copysignf(x, y), -10, 10, -10, 10)                                                 \
  X(div_full, r = x / y, x / y, -100, 100, -100, 100)                                                                  \
  X(ldexpf, r = ldexpf(x, expArg(y)), ldexpf(x, expArg(y)), -10, 10, -10, 10)                                      \
  X(scalbnf, r = scalbnf(x, expArg(y)), scalbnf(x, expArg(y)), -10, 10, -10, 10)                                   \
  X(scalblnf, r = scalblnf(x, long(expArg(y))), scalblnf(x, long(expArg(y))), -10, 10, -10, 10)                              \
  X(fadd_rn, r = __fadd_rn(x, y), withRounding(FE_TONEAREST, [&] { return x + y; }), -10, 10, -10, 10)                 \
  X(fadd_rz, r = __fadd_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x + y; }), -10, 10, -10, 10)                \
  X(fadd_rd, r = __fadd_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x + y; }), -10, 10, -10, 10)                  \
  X(fadd_ru, r = __fadd_ru(x, y), withRounding(FE_UPWARD, [&] { return x + y; }), -10, 10, -10, 10)                    \
  X(fsub_rn, r = __fsub_rn(x, y), withRounding(FE_TONEAREST, [&] { return x - y; }), -10, 10, -10, 10)                 \
  X(fsub_rz, r = __fsub_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x - y; }), -10, 10, -10, 10)                \
  X(fsub_rd, r = __fsub_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x - y; }), -10, 10, -10, 10)                  \
  X(fsub_ru, r = __fsub_ru(x, y), withRounding(FE_UPWARD, [&] { return x - y; }), -10, 10, -10, 10)                    \
  X(fmul_rn, r = __fmul_rn(x, y), withRounding(FE_TONEAREST, [&] { return x * y; }), -10, 10, -10, 10)                 \
  X(fmul_rz, r = __fmul_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x * y; }), -10, 10, -10, 10)                \
  X(fmul_rd, r = __fmul_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x * y; }), -10, 10, -10, 10)                  \
  X(fmul_ru, r = __fmul_ru(x, y), withRounding(FE_UPWARD, [&] { return x * y; }), -10, 10, -10, 10)                    \
  X(fdiv_rn, r = __fdiv_rn(x, y), withRounding(FE_TONEAREST, [&] { return x / y; }), -10, 10, -10, 10)                 \
  X(fdiv_rz, r = __fdiv_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x / y; }), -10, 10, -10, 10)                \
  X(fdiv_rd, r = __fdiv_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x / y; }), -10, 10, -10, 10)                  \
  X(fdiv_ru, r = __fdiv_ru(x, y), withRounding(FE_UPWARD, [&] { return x / y; }), -10, 10, -10, 10)

#define EXACT3(X)                                                                                                      \
  X(fmaf, r = fmaf(x, y, z), fmaf(x, y, z))                                                                            \
  X(fmaf_rn, r = __fmaf_rn(x, y, z), withRounding(FE_TONEAREST, [&] { return fmaf(x, y, z); }))                        \
  X(fmaf_rz, r = __fmaf_rz(x, y, z), withRounding(FE_TOWARDZERO, [&] { return fmaf(x, y, z); }))                       \
  X(fmaf_rd, r = __fmaf_rd(x, y, z), withRounding(FE_DOWNWARD, [&] { return fmaf(x, y, z); }))                         \
  X(fmaf_ru, r = __fmaf_ru(x, y, z), withRounding(FE_UPWARD, [&] { return fmaf(x, y, z); }))                           \
  X(fmaf_ieee_rz, r = __fmaf_ieee_rz(x, y, z), withRounding(FE_TOWARDZERO, [&] { return fmaf(x, y, z); }))

// ---- integer results ----
#define TOINT(X)                                                                                                       \
  X(ilogbf, ri = ilogbf(x), ilogbf(x), -10, 10)                                                                        \
  X(lrintf, ri = lrintf(clampLL(x)), lrintf(clampLL(x)), -1e6, 1e6)                                                                      \
  X(lroundf, ri = lroundf(clampLL(x)), lroundf(clampLL(x)), -1e6, 1e6)                                                                   \
  X(llrintf, ri = llrintf(clampLL(x)), llrintf(clampLL(x)), -1e6, 1e6)                                                                   \
  X(llroundf, ri = llroundf(clampLL(x)), llroundf(clampLL(x)), -1e6, 1e6)                                                                \
  X(float2int_rn, ri = __float2int_rn(x), sat<int>(nearbyintl(x)), -1e3, 1e3)                                        \
  X(float2int_rz, ri = __float2int_rz(x), sat<int>(truncl(x)), -1e3, 1e3)                                             \
  X(float2int_rd, ri = __float2int_rd(x), sat<int>(floorl(x)), -1e3, 1e3)                                             \
  X(float2int_ru, ri = __float2int_ru(x), sat<int>(ceill(x)), -1e3, 1e3)                                              \
  X(float2uint_rn, ri = __float2uint_rn(x), sat<unsigned>(nearbyintl(x)), -1e3, 1e3)                                  \
  X(float2ll_rz, ri = __float2ll_rz(x), sat<long long>(truncl(x)), -1e3, 1e3)                                         \
  X(float2ull_rd, ri = (long long)__float2ull_rd(x), (long long)sat<unsigned long long>(floorl(x)), -1e3, 1e3)        \
  X(float_as_int, ri = __float_as_int(x), fbits(x), -10, 10)                                                           \
  X(signbit, ri = signbit(x) != 0, std::signbit(x) != 0, -10, 10)                                                      \
  X(isnan, ri = isnan(x) != 0, std::isnan(x) != 0, -10, 10)                                                            \
  X(isinf, ri = isinf(x) != 0, std::isinf(x) != 0, -10, 10)                                                            \
  X(isfinite, ri = isfinite(x) != 0, std::isfinite(x) != 0, -10, 10)


// Below this |x| jnf (n >= 2) overflows in CUDA's backward recurrence (see main).
static constexpr long double JnTiny = 0x1p-40L;

// normf/rnormf over the array {x, y, z, 0.75 x}.
__device__ float normQuad(float x, float y, float z, bool Reciprocal) {
  float A[4];
  A[0] = x;
  A[1] = y;
  A[2] = z;
  A[3] = 0.75f * x;
  return Reciprocal ? rnormf(4, A) : normf(4, A);
}

APPROX1(DEF_OP)
APPROX2(DEF_OP)
APPROX3(DEF_OP)
EXACT1(DEF_OP)
EXACT2(DEF_OP)
EXACT3(DEF_OP)
TOINT(DEF_OP)

// Functions with two results or an order argument.
MATH_OP(sincosf, float, sincosf(x, &r, &r2))
MATH_OP(sincospif, float, sincospif(x, &r, &r2))
MATH_OP(frexpf_e, float, int e; frexpf(x, &e); ri = e)
MATH_OP(remquof_q, float, int q; remquof(x, y, &q); ri = q)
MATH_OP(jnf, float, r = jnf(k, x))
MATH_OP(ynf, float, r = ynf(k, x))

int main() {
  std::printf("math_float: single-precision CUDA Math API and intrinsics vs documented ulp bounds\n");
  APPROX1(RUN_APPROX1)
  APPROX2(RUN_APPROX2)
  APPROX3(RUN_APPROX3)
  EXACT1(RUN_EXACT1)
  EXACT2(RUN_EXACT2)
  EXACT3(RUN_EXACT3)
  TOINT(RUN_TOINT)

  // Two results: sin and cos of one call.
  checkApprox<Op_sincosf>("sincosf.sin", F32, unaryInputs<float>(-10, 10), 1, REF(sinl(x)), TOL(2, 0));
  checkApprox<Op_sincosf>("sincosf.cos", F32, unaryInputs<float>(-10, 10), 1, REF(cosl(x)), TOL(2, 0), 1);
  checkApprox<Op_sincospif>("sincospif.sin", F32, unaryInputs<float>(-4, 4), 1, REF(sinpiL(x)), TOL(1, 0));
  checkApprox<Op_sincospif>("sincospif.cos", F32, unaryInputs<float>(-4, 4), 1, REF(cospiL(x)), TOL(1, 0), 1);
  checkInt<Op_frexpf_e>("frexpf.exp", unaryInputs<float>(-100, 100), 1, HOSTI((frexpf(x, &k), k)));
  // remquo: the quotient's sign and its last three bits are specified.
  checkInt<Op_remquof_q>("remquof.quo", binaryInputs<float>(-100, 100, -10, 10), 2,
                                 [](float x, float y, float, int) { return remquoQuotient(x, y); });

  // Bessel functions of order n: jn like j0/j1 for n < 2, else an absolute bound; yn ceil(2 + 2.5n) ulp for
  // |x| < n, like y0/y1 below 8 for n < 2, else an absolute bound.
  Inputs<float> Bessel = besselInputs<float>();
  // For n >= 2 and tiny |x| (below 2^-47 for n = 20), CUDA's backward (Miller) recurrence overflows and jnf returns NaN: that
  // path uses only IEEE-exact instructions (cvt, add, div.rn, mul, fma.rn, selp), so a GPU computes the same NaN;
  // the documented bound is not claimed there. The sign of a zero result at infinite x is not specified.
  checkApprox<Op_jnf>("jnf", F32, Bessel, 4, REF(jnl(k, x)), [](LD x, LD, LD, int k, LD) {
    if (k >= 2 && fabsl(x) < JnTiny)
      return Tol{Inf, 0, false};
    if (k < 2 && fabsl(x) < 8)
      return Tol{9, 0, false};
    return Tol{0, 2.2e-6, false};
  });
  checkApprox<Op_ynf>("ynf", F32, Bessel, 4, REF(ynl(k, x)), [](LD x, LD, LD, int k, LD) {
    if (fabsl(x) < k)
      return Tol{ceil(2 + 2.5 * k), 0, false};
    if (k < 2 && fabsl(x) < 8)
      return Tol{9, 0, false};
    return Tol{0, 2.2e-6, false};
  });
  return e2e::finish("math_float", e2e::Failures);
}
