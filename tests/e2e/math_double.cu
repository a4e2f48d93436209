// End-to-end: every double-precision function of the CUDA Math API and the double-precision intrinsics, through
// nvcc's own PTX, against long double references within NVIDIA's documented maximum ulp errors (CUDA C++
// Programming Guide, "Mathematical Functions"), and bit for bit against the host where the result is correctly
// rounded (sqrt, fma, the __d*_r* and __fma_r* intrinsics, fmod, rint, ...).
// Inputs: a dense sweep of each function's useful domain, every binade of both signs, and the special values.
#include "math_common.h"

using namespace mathref;

#define MATH_T double
#define MATH_FMT F64


// ---- one-argument functions with a documented ulp bound: name, device statement, reference, ulps, abs, domain ----
#define APPROX1(X)                                                                                                     \
  X(sin, r = sin(x), sinl(x), 2, 0, -10, 10)                                                                           \
  X(cos, r = cos(x), cosl(x), 2, 0, -10, 10)                                                                           \
  X(tan, r = tan(x), tanl(x), 2, 0, -10, 10)                                                                           \
  X(sinpi, r = sinpi(x), sinpiL(x), 2, 0, -4, 4)                                                                       \
  X(cospi, r = cospi(x), cospiL(x), 2, 0, -4, 4)                                                                       \
  X(asin, r = asin(x), asinl(x), 2, 0, -1.1, 1.1)                                                                      \
  X(acos, r = acos(x), acosl(x), 2, 0, -1.1, 1.1)                                                                      \
  X(atan, r = atan(x), atanl(x), 2, 0, -10, 10)                                                                        \
  X(sinh, r = sinh(x), sinhl(x), 2, 0, -720, 720)                                                                      \
  X(cosh, r = cosh(x), coshl(x), 1, 0, -720, 720)                                                                      \
  X(tanh, r = tanh(x), tanhl(x), 1, 0, -20, 20)                                                                        \
  X(asinh, r = asinh(x), asinhl(x), 3, 0, -10, 10)                                                                     \
  X(acosh, r = acosh(x), acoshl(x), 3, 0, 0.5, 100)                                                                    \
  X(atanh, r = atanh(x), atanhl(x), 2, 0, -1.1, 1.1)                                                                   \
  X(exp, r = exp(x), expl(x), 1, 0, -750, 710)                                                                         \
  X(exp2, r = exp2(x), exp2l(x), 1, 0, -1080, 1030)                                                                    \
  X(exp10, r = exp10(x), exp10l(x), 1, 0, -330, 310)                                                                   \
  X(expm1, r = expm1(x), expm1l(x), 1, 0, -40, 710)                                                                    \
  X(log, r = log(x), logl(x), 1, 0, -1, 100)                                                                           \
  X(log2, r = log2(x), log2l(x), 1, 0, -1, 100)                                                                        \
  X(log10, r = log10(x), log10l(x), 1, 0, -1, 100)                                                                     \
  X(log1p, r = log1p(x), log1pl(x), 1, 0, -1.5, 100)                                                                   \
  X(rsqrt, r = rsqrt(x), 1 / sqrtl(x), 1, 0, -1, 100)                                                                  \
  X(cbrt, r = cbrt(x), cbrtl(x), 1, 0, -100, 100)                                                                      \
  X(rcbrt, r = rcbrt(x), 1 / cbrtl(x), 1, 0, -100, 100)                                                                \
  X(erf, r = erf(x), erfl(x), 2, 0, -6, 6)                                                                             \
  X(erfc, r = erfc(x), erfcl(x), 5, 0, -6, 28)                                                                         \
  X(erfinv, r = erfinv(x), erfinvL(x), 5, 0, -1.1, 1.1)                                                                \
  X(erfcinv, r = erfcinv(x), erfcinvL(x), 6, 0, -0.1, 2.1)                                                             \
  X(erfcx, r = erfcx(x), erfcxL(x), 4, 0, -27, 200)                                                                    \
  X(normcdf, r = normcdf(x), normcdfL(x), 5, 0, -40, 10)                                                               \
  X(normcdfinv, r = normcdfinv(x), normcdfinvL(x), 8, 0, -0.1, 1.1)                                                    \
  X(lgamma, r = lgamma(x), lgammal(x), (x > -23.0001L && x < -2.2637L) ? Inf : 4, 0, -30, 100)                         \
  X(tgamma, r = tgamma(x), tgammal(x), 10, 0, -20, 172)                                                                \
  X(j0, r = j0(x), j0l(x), fabsl(x) < 8 ? 7 : 0, fabsl(x) < 8 ? BesselRefErr : 5e-12, -30, 30)                         \
  X(j1, r = j1(x), j1l(x), fabsl(x) < 8 ? 7 : 0, fabsl(x) < 8 ? BesselRefErr : 5e-12, -30, 30)                         \
  X(y0, r = y0(x), y0l(x), fabsl(x) < 8 ? 7 : 0, fabsl(x) < 8 ? BesselRefErr : 5e-12, -1, 30)                          \
  X(y1, r = y1(x), y1l(x), fabsl(x) < 8 ? 7 : 0, fabsl(x) < 8 ? BesselRefErr : 5e-12, -1, 30)                          \
  X(cyl_bessel_i0, r = cyl_bessel_i0(x), besselI0L(x), 6, 0, -720, 720)                                                \
  X(cyl_bessel_i1, r = cyl_bessel_i1(x), besselI1L(x), 6, 0, -720, 720)

// ---- two-argument functions with a documented bound ----
#define APPROX2(X)                                                                                                     \
  X(atan2, r = atan2(x, y), atan2l(x, y), 2, 0, -10, 10, -10, 10)                                                      \
  X(pow, r = pow(x, y), powl(x, y), 2, 0, -10, 30, -300, 300)                                                          \
  X(hypot, r = hypot(x, y), hypotl(x, y), 2, 0, -1e3, 1e3, -1e3, 1e3)                                                  \
  X(rhypot, r = rhypot(x, y), 1 / hypotl(x, y), 1, 0, -1e3, 1e3, -1e3, 1e3)

// ---- three- and four-argument functions with a bound ----
#define APPROX3(X)                                                                                                     \
  X(norm3d, r = norm3d(x, y, z), sqrtl(x * x + y * y + z * z), 2, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)                \
  X(rnorm3d, r = rnorm3d(x, y, z), 1 / sqrtl(x * x + y * y + z * z), 1, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)          \
  X(norm4d, r = norm4d(x, y, z, 0.75 * x), norm4(x, y, z), 2, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)                     \
  X(rnorm4d, r = rnorm4d(x, y, z, 0.75 * x), 1 / norm4(x, y, z), 1, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)              \
  X(norm, r = normQuad(x, y, z, false), norm4(x, y, z), 2, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)                       \
  X(rnorm, r = normQuad(x, y, z, true), 1 / norm4(x, y, z), 1, 0, -1e3, 1e3, -1e3, 1e3, -1e3, 1e3)

// Near the zeros of j0/j1/y0/y1 below 8, glibc's long double references are good to about this absolute error
// (their ulp bound is relative: without the slack a reference error there would read as a device error).
static constexpr double BesselRefErr = 1e-18;
// Below this |x| jn (n >= 2) overflows in CUDA's backward recurrence (see main).
static constexpr long double JnTiny = 0x1p-50L;

// The fourth argument of the 4-norms is 0.75 x (exact in double).
static LD norm4(LD x, LD y, LD z) {
  LD w = 0.75L * x;
  return sqrtl(x * x + y * y + z * z + w * w);
}

// ---- correctly rounded functions: compared bit for bit with the host (libm, SSE in the given rounding mode) ----
#define EXACT1(X)                                                                                                      \
  X(sqrt, r = sqrt(x), sqrt(x), -1, 100)                                                                               \
  X(fabs, r = fabs(x), fabs(x), -10, 10)                                                                               \
  X(trunc, r = trunc(x), trunc(x), -10, 10)                                                                            \
  X(round, r = round(x), round(x), -10, 10)                                                                            \
  X(rint, r = rint(x), rint(x), -10, 10)                                                                               \
  X(nearbyint, r = nearbyint(x), nearbyint(x), -10, 10)                                                                \
  X(ceil, r = ceil(x), ceil(x), -10, 10)                                                                               \
  X(floor, r = floor(x), floor(x), -10, 10)                                                                            \
  X(logb, r = logb(x), logb(x), -10, 10)                                                                               \
  X(dsqrt_rn, r = __dsqrt_rn(x), withRounding(FE_TONEAREST, [&] { return sqrt(x); }), -1, 100)                         \
  X(dsqrt_rz, r = __dsqrt_rz(x), withRounding(FE_TOWARDZERO, [&] { return sqrt(x); }), -1, 100)                        \
  X(dsqrt_rd, r = __dsqrt_rd(x), withRounding(FE_DOWNWARD, [&] { return sqrt(x); }), -1, 100)                          \
  X(dsqrt_ru, r = __dsqrt_ru(x), withRounding(FE_UPWARD, [&] { return sqrt(x); }), -1, 100)                            \
  X(drcp_rn, r = __drcp_rn(x), withRounding(FE_TONEAREST, [&] { return 1.0 / x; }), -10, 10)                           \
  X(drcp_rz, r = __drcp_rz(x), withRounding(FE_TOWARDZERO, [&] { return 1.0 / x; }), -10, 10)                          \
  X(drcp_rd, r = __drcp_rd(x), withRounding(FE_DOWNWARD, [&] { return 1.0 / x; }), -10, 10)                            \
  X(drcp_ru, r = __drcp_ru(x), withRounding(FE_UPWARD, [&] { return 1.0 / x; }), -10, 10)                              \
  X(recip, r = 1.0 / x, 1.0 / x, -10, 10)                                                                              \
  X(modf_frac, double ip; r = modf(x, &ip), modf(x, &z), -100, 100)                                                    \
  X(modf_int, double ip; modf(x, &ip); r = ip, (modf(x, &z), z), -100, 100)                                            \
  X(frexp_m, int e; r = frexp(x, &e), frexp(x, &k), -100, 100)                                                         \
  X(ll2double_rz, r = __ll2double_rz(__double_as_longlong(x)),                                                         \
    withRounding(FE_TOWARDZERO, [&] { return double(dbits(x)); }), -10, 10)                                            \
  X(ull2double_ru, r = __ull2double_ru(__double_as_longlong(x)),                                                       \
    withRounding(FE_UPWARD, [&] { return double((unsigned long long)dbits(x)); }), -10, 10)                            \
  X(double2float_rz, r = __double2float_rz(x), withRounding(FE_TOWARDZERO, [&] { return double(float(x)); }), -10, 10) \
  X(double2float_rd, r = __double2float_rd(x), withRounding(FE_DOWNWARD, [&] { return double(float(x)); }), -10, 10)   \
  X(double2float_ru, r = __double2float_ru(x), withRounding(FE_UPWARD, [&] { return double(float(x)); }), -10, 10)     \
  X(double2float_rn, r = __double2float_rn(x), double(float(x)), -10, 10)

static long long dbits(double X) {
  long long I;
  std::memcpy(&I, &X, 8);
  return I;
}

// The high word of x with the low word of y.
static double hilo(double X, double Y) {
  long long R = (dbits(X) & ~0xffffffffll) | (dbits(Y) & 0xffffffffll);
  double D;
  std::memcpy(&D, &R, 8);
  return D;
}

// Integer arguments derived from doubles, clamped so that host and device convert them the same way.
__host__ __device__ int expArg(double Y) { return int(fmax(fmin(Y * 300, 1e9), -1e9)); }
__host__ __device__ double clampLL(double X) { return fmax(fmin(X, 4e18), -4e18); }

#define EXACT2(X)                                                                                                      \
  X(fmod, r = fmod(x, y), fmod(x, y), -100, 100, -10, 10)                                                              \
  X(remainder, r = remainder(x, y), remainder(x, y), -100, 100, -10, 10)                                               \
  X(remquo, int q; r = remquo(x, y, &q), remquo(x, y, &k), -100, 100, -10, 10)                                         \
  X(fdim, r = fdim(x, y), fdim(x, y), -10, 10, -10, 10)                                                                \
  X(fmax, r = fmax(x, y), fmax(x, y), -10, 10, -10, 10)                                                                \
  X(fmin, r = fmin(x, y), fmin(x, y), -10, 10, -10, 10)                                                                \
  X(nextafter, r = nextafter(x, y), nextafter(x, y), -10, 10, -10, 10)                                                 \
  X(copysign, r = copysign(x, y), copysign(x, y), -10, 10, -10, 10)                                                    \
  X(div_full, r = x / y, x / y, -100, 100, -100, 100)                                                                  \
  X(ldexp, r = ldexp(x, expArg(y)), ldexp(x, expArg(y)), -10, 10, -10, 10)                                             \
  X(scalbn, r = scalbn(x, expArg(y)), scalbn(x, expArg(y)), -10, 10, -10, 10)                                          \
  X(dadd_rn, r = __dadd_rn(x, y), withRounding(FE_TONEAREST, [&] { return x + y; }), -10, 10, -10, 10)                 \
  X(dadd_rz, r = __dadd_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x + y; }), -10, 10, -10, 10)                \
  X(dadd_rd, r = __dadd_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x + y; }), -10, 10, -10, 10)                  \
  X(dadd_ru, r = __dadd_ru(x, y), withRounding(FE_UPWARD, [&] { return x + y; }), -10, 10, -10, 10)                    \
  X(dsub_rz, r = __dsub_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x - y; }), -10, 10, -10, 10)                \
  X(dsub_rd, r = __dsub_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x - y; }), -10, 10, -10, 10)                  \
  X(dmul_rn, r = __dmul_rn(x, y), withRounding(FE_TONEAREST, [&] { return x * y; }), -10, 10, -10, 10)                 \
  X(dmul_rz, r = __dmul_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x * y; }), -10, 10, -10, 10)                \
  X(dmul_rd, r = __dmul_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x * y; }), -10, 10, -10, 10)                  \
  X(dmul_ru, r = __dmul_ru(x, y), withRounding(FE_UPWARD, [&] { return x * y; }), -10, 10, -10, 10)                    \
  X(ddiv_rn, r = __ddiv_rn(x, y), withRounding(FE_TONEAREST, [&] { return x / y; }), -10, 10, -10, 10)                 \
  X(ddiv_rz, r = __ddiv_rz(x, y), withRounding(FE_TOWARDZERO, [&] { return x / y; }), -10, 10, -10, 10)                \
  X(ddiv_rd, r = __ddiv_rd(x, y), withRounding(FE_DOWNWARD, [&] { return x / y; }), -10, 10, -10, 10)                  \
  X(ddiv_ru, r = __ddiv_ru(x, y), withRounding(FE_UPWARD, [&] { return x / y; }), -10, 10, -10, 10)

#define EXACT3(X)                                                                                                      \
  X(fma, r = fma(x, y, z), fma(x, y, z))                                                                               \
  X(fma_rn, r = __fma_rn(x, y, z), withRounding(FE_TONEAREST, [&] { return fma(x, y, z); }))                           \
  X(fma_rz, r = __fma_rz(x, y, z), withRounding(FE_TOWARDZERO, [&] { return fma(x, y, z); }))                          \
  X(fma_rd, r = __fma_rd(x, y, z), withRounding(FE_DOWNWARD, [&] { return fma(x, y, z); }))                            \
  X(fma_ru, r = __fma_ru(x, y, z), withRounding(FE_UPWARD, [&] { return fma(x, y, z); }))

// ---- integer results ----
#define TOINT(X)                                                                                                       \
  X(ilogb, ri = ilogb(x), ilogb(x), -10, 10)                                                                           \
  X(lrint, ri = lrint(clampLL(x)), lrint(clampLL(x)), -1e6, 1e6)                                                       \
  X(lround, ri = lround(clampLL(x)), lround(clampLL(x)), -1e6, 1e6)                                                    \
  X(llrint, ri = llrint(clampLL(x)), llrint(clampLL(x)), -1e6, 1e6)                                                    \
  X(llround, ri = llround(clampLL(x)), llround(clampLL(x)), -1e6, 1e6)                                                 \
  X(double2int_rn, ri = __double2int_rn(x), sat<int>(nearbyintl(x)), -1e3, 1e3)                                      \
  X(double2int_rz, ri = __double2int_rz(x), sat<int>(truncl(x)), -1e3, 1e3)                                           \
  X(double2int_rd, ri = __double2int_rd(x), sat<int>(floorl(x)), -1e3, 1e3)                                           \
  X(double2int_ru, ri = __double2int_ru(x), sat<int>(ceill(x)), -1e3, 1e3)                                            \
  X(double2uint_rn, ri = __double2uint_rn(x), sat<unsigned>(nearbyintl(x)), -1e3, 1e3)                                \
  X(double2ll_rz, ri = __double2ll_rz(x), sat<long long>(truncl(x)), -1e3, 1e3)                                       \
  X(double2ull_rd, ri = (long long)__double2ull_rd(x), (long long)sat<unsigned long long>(floorl(x)), -1e3, 1e3)      \
  X(double_as_longlong, ri = __double_as_longlong(x), dbits(x), -10, 10)                                               \
  X(double2hiint, ri = __double2hiint(x), int(dbits(x) >> 32), -10, 10)                                                \
  X(double2loint, ri = __double2loint(x), int(dbits(x)), -10, 10)                                                      \
  X(signbit, ri = signbit(x) != 0, std::signbit(x) != 0, -10, 10)                                                      \
  X(isnan, ri = isnan(x) != 0, std::isnan(x) != 0, -10, 10)                                                            \
  X(isinf, ri = isinf(x) != 0, std::isinf(x) != 0, -10, 10)                                                            \
  X(isfinite, ri = isfinite(x) != 0, std::isfinite(x) != 0, -10, 10)


// norm/rnorm over the array {x, y, z, 0.75 x}.
__device__ double normQuad(double x, double y, double z, bool Reciprocal) {
  double A[4];
  A[0] = x;
  A[1] = y;
  A[2] = z;
  A[3] = 0.75 * x;
  return Reciprocal ? rnorm(4, A) : norm(4, A);
}

APPROX1(DEF_OP)
APPROX2(DEF_OP)
APPROX3(DEF_OP)
EXACT1(DEF_OP)
EXACT2(DEF_OP)
EXACT3(DEF_OP)
TOINT(DEF_OP)

// Functions with two results or an order argument.
MATH_OP(sincos, double, sincos(x, &r, &r2))
MATH_OP(sincospi, double, sincospi(x, &r, &r2))
MATH_OP(frexp_e, double, int e; frexp(x, &e); ri = e)
MATH_OP(remquo_q, double, int q; remquo(x, y, &q); ri = q)
MATH_OP(jn, double, r = jn(k, x))
MATH_OP(yn, double, r = yn(k, x))
// hi/lo words back to a double.
MATH_OP(hiloint2double, double, r = __hiloint2double(__double2hiint(x), __double2loint(y)))

int main() {
  std::printf("math_double: double-precision CUDA Math API and intrinsics vs documented ulp bounds\n");
  APPROX1(RUN_APPROX1)
  APPROX2(RUN_APPROX2)
  APPROX3(RUN_APPROX3)
  EXACT1(RUN_EXACT1)
  EXACT2(RUN_EXACT2)
  EXACT3(RUN_EXACT3)
  TOINT(RUN_TOINT)

  checkApprox<Op_sincos>("sincos.sin", F64, unaryInputs<double>(-10, 10), 1, REF(sinl(x)), TOL(2, 0));
  checkApprox<Op_sincos>("sincos.cos", F64, unaryInputs<double>(-10, 10), 1, REF(cosl(x)), TOL(2, 0), 1);
  checkApprox<Op_sincospi>("sincospi.sin", F64, unaryInputs<double>(-4, 4), 1, REF(sinpiL(x)), TOL(2, 0));
  checkApprox<Op_sincospi>("sincospi.cos", F64, unaryInputs<double>(-4, 4), 1, REF(cospiL(x)), TOL(2, 0), 1);
  checkInt<Op_frexp_e>("frexp.exp", unaryInputs<double>(-100, 100), 1, HOSTI((frexp(x, &k), k)));
  checkInt<Op_remquo_q>("remquo.quo", binaryInputs<double>(-100, 100, -10, 10), 2,
                                 [](double x, double y, double, int) { return remquoQuotient(x, y); });
  checkExact<Op_hiloint2double>("hiloint2double", binaryInputs<double>(-10, 10, -10, 10), 2,
                                HOST(hilo(x, y)));

  // jn: like j0/j1 for n < 2, else the absolute bound; yn: the absolute bound for |x| > 1.5 n.
  Inputs<double> Bessel = besselInputs<double>();
  // As jnf: for n >= 2 and tiny |x| CUDA's backward recurrence overflows to NaN (IEEE-exact instructions only);
  // the sign of a zero result at infinite x is not specified.
  checkApprox<Op_jn>("jn", F64, Bessel, 4, REF(jnl(k, x)), [](LD x, LD, LD, int k, LD) {
    if (k >= 2 && fabsl(x) < JnTiny)
      return Tol{Inf, 0, false};
    if (k < 2 && fabsl(x) < 8)
      return Tol{7, BesselRefErr, false};
    return Tol{0, 5e-12, false};
  });
  checkApprox<Op_yn>("yn", F64, Bessel, 4, REF(ynl(k, x)), [](LD x, LD, LD, int k, LD) {
    if (k < 2 && fabsl(x) < 8)
      return Tol{7, BesselRefErr, false};
    if (fabsl(x) > 1.5L * k)
      return Tol{0, 5e-12, false};
    return Tol{Inf, 0, false};
  });
  return e2e::finish("math_double", e2e::Failures);
}
