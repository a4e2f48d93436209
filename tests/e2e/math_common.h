// Host side of the math e2e programs (math_float.cu, math_double.cu, math_half.cu): input sweeps, long double
// references, ulp distances in a target format, rounding to f16/bf16, and per-function verdicts.
#pragma once

#include "e2e_common.h"

#include <algorithm>
#include <cfenv>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace mathref {

using LD = long double;

// A binary floating-point format: significand bits (with the implicit bit), exponent range of normal numbers.
struct Format {
  int Mant, EMin, EMax;
};
constexpr Format F32{24, -126, 127}, F64{53, -1022, 1023}, F16{11, -14, 15}, BF16{8, -126, 127};

// The ulp of the binade R lies in (subnormal quantum below the normal range, the top binade above it).
inline LD ulpOf(LD R, Format F) {
  int E = F.EMin;
  R = fabsl(R);
  if (R != 0 && std::isfinite(R)) {
    int X;
    frexpl(R, &X); // R in [2^(X-1), 2^X)
    E = std::max(X - 1, F.EMin);
  }
  E = std::min(E, F.EMax);
  return ldexpl(1.0L, E - (F.Mant - 1));
}

// Rounds V to the nearest value of F (ties to even), with gradual underflow and overflow to infinity.
inline LD roundTo(LD V, Format F) {
  if (!std::isfinite(V) || V == 0)
    return V;
  LD Q = ulpOf(V, F);
  LD R = nearbyintl(V / Q) * Q; // V/Q and the product are exact: powers of two
  if (fabsl(R) >= ldexpl(1.0L, F.EMax + 1))
    return copysignl(INFINITY, V);
  return R;
}

// Does Got (a device result widened exactly) lie within Ulps ulps (of the reference's binade) plus Abs of Ref?
// NaN references need a NaN, infinite ones the same infinity; an infinite result counts as 2^(EMax+1).
// ZeroSign: an exact zero reference needs a zero of the same sign.
inline bool within(LD Got, LD Ref, Format F, double Ulps, double Abs, bool ZeroSign = true) {
  if (std::isnan(Ref))
    return std::isnan(Got);
  if (std::isnan(Got))
    return false;
  if (std::isinf(Ref))
    return Got == Ref;
  if (std::isinf(Got) && roundTo(Ref, F) == Got)
    return true; // the exact result overflows the format
  if (ZeroSign && Ref == 0 && Got == 0 && std::signbit(Ref) != std::signbit(Got))
    return false;
  LD G = std::isinf(Got) ? copysignl(ldexpl(1.0L, F.EMax + 1), Got) : Got;
  return fabsl(G - Ref) <= LD(Ulps) * ulpOf(Ref, F) + LD(Abs);
}

// Bit-exact comparison of two results of the same format; any NaN matches any NaN (PTX leaves payloads open).
template <typename T> bool sameBits(T A, T B) {
  if (A != A && B != B)
    return true;
  return std::memcmp(&A, &B, sizeof(T)) == 0;
}

// Per-function verdict: counts inputs, failures and the largest ulp distance seen; prints the first failures.
struct Verdict {
  const char *Name;
  long Count = 0, Fails = 0;
  double MaxUlp = 0;
  explicit Verdict(const char *Name) : Name(Name) {}
  void noteLD(bool Ok, double Ulp, const char *Input, double Got, LD Want) {
    ++Count;
    if (std::isfinite(Ulp))
      MaxUlp = std::max(MaxUlp, Ulp);
    if (Ok)
      return;
    static const long MaxPrinted = std::getenv("E2E_MATH_VERBOSE") ? 100000 : 4;
    if (Fails++ < MaxPrinted)
      std::printf("  MISMATCH %s(%s): got %.17g (%a), want %.21Lg\n", Name, Input, Got, Got, Want);
  }
  // Prints "ok/FAIL name: N inputs, max err U ulp" and counts a failure in e2e::Failures.
  void report() const {
    std::printf("  %s %-22s %6ld inputs, max %.2f ulp\n", Fails ? "FAIL" : "ok  ", Name, Count, MaxUlp);
    if (Fails) {
      std::printf("  FAIL %s: %ld of %ld inputs out of bounds\n", Name, Fails, Count);
      ++e2e::Failures;
    }
  }
};

// Ulp distance for the verdict's statistics (finite references only).
inline double ulpDistance(LD Got, LD Ref, Format F) {
  if (!std::isfinite(Ref) || !std::isfinite(Got))
    return 0;
  return double(fabsl(Got - Ref) / ulpOf(Ref, F));
}

// Sweep of one argument: N points spread evenly over [Lo, Hi], powers of two times a few significands across every
// binade of T (both signs; outside a function's domain they check the NaN/infinity cases), and the special values
// (zeros, subnormals, extremes, infinities, NaN) of T.
template <typename T> std::vector<T> sweep(double Lo, double Hi, int N) {
  std::vector<T> V;
  for (int K = 0; K < N; ++K)
    V.push_back(static_cast<T>(Lo + (Hi - Lo) * (double(K) + 0.5) / N));
  const double Sig[] = {1.0, 1.2345678901234567, 1.5, 1.9999999};
  int EMin = std::numeric_limits<T>::min_exponent - std::numeric_limits<T>::digits;
  int EMax = std::numeric_limits<T>::max_exponent;
  int Step = std::max(1, (EMax - EMin) / 160);
  for (int E = EMin; E < EMax; E += Step)
    for (double S : Sig)
      for (double Sign : {1.0, -1.0}) {
        V.push_back(static_cast<T>(Sign * std::ldexp(S, E)));
      }
  const T Specials[] = {T(0),
                        -T(0),
                        std::numeric_limits<T>::denorm_min(),
                        -std::numeric_limits<T>::denorm_min(),
                        std::numeric_limits<T>::min(),
                        -std::numeric_limits<T>::min(),
                        std::numeric_limits<T>::max(),
                        -std::numeric_limits<T>::max(),
                        std::numeric_limits<T>::infinity(),
                        -std::numeric_limits<T>::infinity(),
                        std::numeric_limits<T>::quiet_NaN(),
                        T(1),
                        T(-1),
                        T(0.5),
                        T(-0.5),
                        T(2),
                        T(-2),
                        T(3),
                        T(10)};
  for (T S : Specials)
    V.push_back(S);
  return V;
}

// Pairs for two-argument functions: every value of each sweep (N linear points each) meets three values of the other.
template <typename T> void pairs(double Lo1, double Hi1, double Lo2, double Hi2, int N, std::vector<T> &X,
                                 std::vector<T> &Y) {
  std::vector<T> A = sweep<T>(Lo1, Hi1, N), B = sweep<T>(Lo2, Hi2, N);
  for (size_t I = 0; I < A.size(); ++I)
    for (size_t J = 0; J < 3; ++J) {
      X.push_back(A[I]);
      Y.push_back(B[(I * 7 + J * 131 + J) % B.size()]);
    }
  for (size_t J = 0; J < B.size(); ++J) {
    X.push_back(A[(J * 13 + 5) % A.size()]);
    Y.push_back(B[J]);
  }
}

// Runs Fn with the host rounding mode set to Mode (FE_TONEAREST, FE_TOWARDZERO, FE_DOWNWARD, FE_UPWARD).
template <typename Fn> auto withRounding(int Mode, Fn F) {
  int Old = fegetround();
  fesetround(Mode);
  auto R = F();
  fesetround(Old);
  return R;
}

// ---- references that libm does not have, in long double ----

// sin(pi x) and cos(pi x) with the argument reduced exactly: x = n/2 + r with |r| <= 1/4 (both exact), so that the
// rounding of pi only costs a relative error (never an absolute one next to a zero).
inline LD sinpiL(LD X) {
  if (std::isinf(X) || std::isnan(X))
    return NAN;
  LD R = fmodl(X, 2.0L); // exact, sign of X
  if (R == 0 || fabsl(R) == 1)
    return copysignl(0.0L, X);
  LD N = nearbyintl(2 * R), T = R - N / 2;
  const LD Pi = 3.14159265358979323846264338327950288L;
  switch (((long long)N % 4 + 4) % 4) {
  case 0:
    return sinl(Pi * T);
  case 1:
    return cosl(Pi * T);
  case 2:
    return -sinl(Pi * T);
  default:
    return -cosl(Pi * T);
  }
}
inline LD cospiL(LD X) {
  if (std::isinf(X) || std::isnan(X))
    return NAN;
  LD R = fabsl(fmodl(X, 2.0L));
  if (R == 0.5L || R == 1.5L)
    return 0.0L;
  return sinpiL(R + 0.5L); // exact: R < 2
}

// Root of a monotonic function by bisection in long double (to the last bit); Increasing: F grows with x.
template <typename Fn> LD bisect(Fn F, LD Target, LD Lo, LD Hi, bool Increasing) {
  for (int K = 0; K < 200; ++K) {
    LD M = (Lo + Hi) / 2;
    if (M == Lo || M == Hi)
      break;
    bool Below = Increasing ? F(M) < Target : F(M) > Target;
    (Below ? Lo : Hi) = M;
  }
  return (Lo + Hi) / 2;
}

inline LD erfcinvL(LD Z) {
  if (std::isnan(Z) || Z < 0 || Z > 2)
    return NAN;
  if (Z == 0)
    return INFINITY;
  if (Z == 2)
    return -INFINITY;
  if (Z == 1)
    return 0;
  if (Z > 1)
    return -erfcinvL(2 - Z); // 2 - Z is exact for the float/double inputs used here
  // erfc decreases; compare logarithms so that tiny Z (down to the double subnormals) keep full precision.
  return bisect([](LD X) { return logl(erfcl(X)); }, logl(Z), 0.0L, 110.0L, false);
}
inline LD erfinvL(LD Y) {
  if (std::isnan(Y) || Y < -1 || Y > 1)
    return NAN;
  if (Y == 1)
    return INFINITY;
  if (Y == -1)
    return -INFINITY;
  if (Y == 0)
    return Y;
  if (fabsl(Y) >= 0.5L)
    return Y > 0 ? erfcinvL(1 - Y) : -erfcinvL(1 + Y); // exact differences (Sterbenz)
  if (fabsl(Y) < 1e-12L) // erfinv(y) = sqrt(pi)/2 (y + pi/12 y^3 + ...): bisection would not reach tiny roots
    return 0.886226925452758013649083741671L * Y * (1 + 0.261799387799149436538553615273L * Y * Y);
  return bisect([](LD X) { return erfl(X); }, Y, -1.0L, 1.0L, true);
}
inline LD normcdfinvL(LD P) {
  LD R = -1.41421356237309504880168872420969808L * erfcinvL(2 * P);
  return R == 0 ? 0.0L : R; // normcdfinv(0.5) is +0
}
inline LD normcdfL(LD X) { return erfcl(-X / 1.41421356237309504880168872420969808L) / 2; }

// exp(x^2) erfc(x): x^2 split exactly into three parts; an asymptotic series where erfc underflows.
inline LD erfcxL(LD X) {
  if (std::isnan(X))
    return X;
  if (X == INFINITY)
    return 0;
  if (X == -INFINITY)
    return INFINITY;
  if (X < -30)
    return INFINITY; // 2 exp(x^2) overflows every format
  if (X > 100) {
    LD T = 1 / (2 * X * X), Term = 1, Sum = 1;
    for (int N = 1; N < 12; ++N) {
      Term *= -(2 * N - 1) * T;
      Sum += Term;
    }
    return Sum / (X * 1.77245385090551602729816748334114518L);
  }
  LD H = X;
  {
    double D = double(X);
    float Hf = float(D); // 24 leading bits: H*H, 2*H*L and L*L are exact in long double
    H = Hf;
  }
  LD L = X - H;
  LD E = expl(H * H) * expl(2 * H * L) * expl(L * L);
  if (std::isinf(E))
    return E;
  if (X >= 0)
    return E * erfcl(X);
  return 2 * E - E * erfcl(-X); // erfc(x) = 2 - erfc(-x)
}

// Modified Bessel functions I0 and I1 by their power series (all terms positive: no cancellation).
inline LD besselI0L(LD X) {
  if (std::isnan(X))
    return X;
  if (std::isinf(X))
    return INFINITY;
  LD Q = X * X / 4, Term = 1, Sum = 1;
  for (int K = 1; K < 2000 && Term > Sum * 1e-22L; ++K) {
    Term *= Q / (LD(K) * K);
    Sum += Term;
  }
  return Sum;
}
inline LD besselI1L(LD X) {
  if (std::isnan(X))
    return X;
  if (std::isinf(X))
    return X;
  LD Q = X * X / 4, Term = X / 2, Sum = Term;
  for (int K = 1; K < 2000 && fabsl(Term) > fabsl(Sum) * 1e-22L; ++K) {
    Term *= Q / (LD(K) * (K + 1));
    Sum += Term;
  }
  return Sum;
}

} // namespace mathref

// ---- device side: one kernel template applies an operation to every input row ----

namespace mathref {

// One input row and the outputs of an operation (R: main result, R2: a second result such as sincos's cosine,
// RI: an integer result such as ilogb or remquo's quotient).
template <typename T> struct Inputs {
  std::vector<T> X, Y, Z;
  std::vector<int> K;
  void add(T A, T B = T(0), T C = T(0), int N = 0) {
    X.push_back(A);
    Y.push_back(B);
    Z.push_back(C);
    K.push_back(N);
  }
  size_t size() const { return X.size(); }
};
template <typename T> struct Outputs {
  std::vector<T> R, R2;
  std::vector<long long> RI;
};

// Inputs of the order-n Bessel functions (jn, yn): orders 0 to 20, each over a sweep of [-40, 40].
template <typename T> Inputs<T> besselInputs() {
  Inputs<T> In;
  for (int N : {0, 1, 2, 3, 5, 8, 13, 20})
    for (T X : sweep<T>(-40, 40, 300))
      In.add(X, 0, 0, N);
  return In;
}

// remquo's quotient as far as it is specified: its sign and its last three bits (0 where the remainder is NaN).
template <typename T> long long remquoQuotient(T x, T y) {
  int Q = 0;
  T R = std::remquo(x, y, &Q);
  return R != R ? 0 : (Q < 0 ? -((-Q) & 7) : Q & 7);
}

// Op is a struct with `__device__ void operator()(T x, T y, T z, int k, T &r, T &r2, long long &ri) const`.
template <class Op, typename T>
__global__ void applyKernel(const T *X, const T *Y, const T *Z, const int *K, T *R, T *R2, long long *RI, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I >= N)
    return;
  T A = T(0), B = T(0);
  long long C = 0;
  Op()(X[I], Y[I], Z[I], K[I], A, B, C);
  R[I] = A;
  R2[I] = B;
  RI[I] = C;
}

template <typename T> T *toDevice(const std::vector<T> &V) {
  T *P = nullptr;
  E2E_CHECK(cudaMalloc(&P, V.size() * sizeof(T) + 16));
  E2E_CHECK(cudaMemcpy(P, V.data(), V.size() * sizeof(T), cudaMemcpyHostToDevice));
  return P;
}
template <typename T> void fromDevice(std::vector<T> &V, const T *P, size_t N) {
  V.resize(N);
  E2E_CHECK(cudaMemcpy(V.data(), P, N * sizeof(T), cudaMemcpyDeviceToHost));
}

template <class Op, typename T> Outputs<T> run(const Inputs<T> &In) {
  int N = static_cast<int>(In.size());
  T *X = toDevice(In.X), *Y = toDevice(In.Y), *Z = toDevice(In.Z);
  int *K = toDevice(In.K);
  T *R, *R2;
  long long *RI;
  E2E_CHECK(cudaMalloc(&R, N * sizeof(T) + 16));
  E2E_CHECK(cudaMalloc(&R2, N * sizeof(T) + 16));
  E2E_CHECK(cudaMalloc(&RI, N * sizeof(long long) + 16));
  applyKernel<Op, T><<<(N + 127) / 128, 128>>>(X, Y, Z, K, R, R2, RI, N);
  E2E_CHECK_LAUNCH();
  Outputs<T> Out;
  fromDevice(Out.R, R, N);
  fromDevice(Out.R2, R2, N);
  fromDevice(Out.RI, RI, N);
  for (void *P : {(void *)X, (void *)Y, (void *)Z, (void *)K, (void *)R, (void *)R2, (void *)RI})
    E2E_CHECK(cudaFree(P));
  return Out;
}

// Tolerance of one result: Ulps ulps (the documented bound; INFINITY: not checked) plus Abs absolute.
struct Tol {
  double Ulps = 0, Abs = 0;
  bool ZeroSign = true;
};

inline const char *fmtArgs(char *Buf, size_t N, LD X, LD Y, LD Z, int K, int Arity) {
  if (Arity == 1)
    std::snprintf(Buf, N, "%La", X);
  else if (Arity == 2)
    std::snprintf(Buf, N, "%La, %La", X, Y);
  else if (Arity == 3)
    std::snprintf(Buf, N, "%La, %La, %La", X, Y, Z);
  else
    std::snprintf(Buf, N, "%d, %La", K, X);
  return Buf;
}

} // namespace mathref

// Defines the device operation Op_<Name> with the statement Body over x, y, z, k -> r, r2, ri.
#define MATH_OP(Name, T, Body)                                                                                         \
  struct Op_##Name {                                                                                                   \
    __device__ void operator()(T x, T y, T z, int k, T &r, T &r2, long long &ri) const {                               \
      (void)x, (void)y, (void)z, (void)k, (void)r, (void)r2, (void)ri;                                                 \
      Body;                                                                                                            \
    }                                                                                                                  \
  };

namespace mathref {

// Runs Op on In and checks output Which (0: r, 1: r2) against Ref(x, y, z, k) within TolOf(x, y, z, k, ref).
template <class Op, typename T, class RefFn, class TolFn>
void checkApprox(const char *Name, Format F, const Inputs<T> &In, int Arity, RefFn Ref, TolFn TolOf, int Which = 0) {
  Outputs<T> Out = run<Op>(In);
  Verdict V(Name);
  char Buf[160];
  for (size_t I = 0; I < In.size(); ++I) {
    LD X = In.X[I], Y = In.Y[I], Z = In.Z[I];
    int K = In.K[I];
    LD Want = Ref(X, Y, Z, K);
    Tol T0 = TolOf(X, Y, Z, K, Want);
    if (std::isinf(T0.Ulps))
      continue; // outside the documented range: not checked
    LD Got = Which ? Out.R2[I] : Out.R[I];
    bool Ok = within(Got, Want, F, T0.Ulps + 0.5, T0.Abs, T0.ZeroSign);
    V.noteLD(Ok, ulpDistance(Got, Want, F), fmtArgs(Buf, sizeof Buf, X, Y, Z, K, Arity), double(Got), Want);
  }
  V.report();
}

// Runs Op on In and compares r bit for bit with Host(x, y, z, k) computed in T on the host.
template <class Op, typename T, class HostFn>
void checkExact(const char *Name, const Inputs<T> &In, int Arity, HostFn Host) {
  Outputs<T> Out = run<Op>(In);
  Verdict V(Name);
  char Buf[160];
  for (size_t I = 0; I < In.size(); ++I) {
    T Want = Host(In.X[I], In.Y[I], In.Z[I], In.K[I]);
    bool Ok = sameBits(Out.R[I], Want);
    V.noteLD(Ok, Ok ? 0 : 1, fmtArgs(Buf, sizeof Buf, In.X[I], In.Y[I], In.Z[I], In.K[I], Arity), double(Out.R[I]),
             Want);
  }
  V.report();
}

// Runs Op on In and compares the integer result ri with Host(x, y, z, k).
template <class Op, typename T, class HostFn>
void checkInt(const char *Name, const Inputs<T> &In, int Arity, HostFn Host) {
  Outputs<T> Out = run<Op>(In);
  Verdict V(Name);
  char Buf[160];
  for (size_t I = 0; I < In.size(); ++I) {
    long long Want = Host(In.X[I], In.Y[I], In.Z[I], In.K[I]);
    bool Ok = Out.RI[I] == Want;
    V.noteLD(Ok, Ok ? 0 : 1, fmtArgs(Buf, sizeof Buf, In.X[I], In.Y[I], In.Z[I], In.K[I], Arity), double(Out.RI[I]),
             LD(Want));
  }
  V.report();
}

template <typename T> Inputs<T> unaryInputs(double Lo, double Hi, int N = 1500) {
  Inputs<T> In;
  for (T X : sweep<T>(Lo, Hi, N))
    In.add(X);
  return In;
}
template <typename T> Inputs<T> binaryInputs(double Lo1, double Hi1, double Lo2, double Hi2, int N = 600) {
  std::vector<T> X, Y;
  pairs<T>(Lo1, Hi1, Lo2, Hi2, N, X, Y);
  Inputs<T> In;
  for (size_t I = 0; I < X.size(); ++I)
    In.add(X[I], Y[I]);
  return In;
}
// Triples: pairs with a third value drawn from the third sweep.
template <typename T>
Inputs<T> ternaryInputs(double Lo1, double Hi1, double Lo2, double Hi2, double Lo3, double Hi3, int N = 400) {
  Inputs<T> In = binaryInputs<T>(Lo1, Hi1, Lo2, Hi2, N);
  std::vector<T> C = sweep<T>(Lo3, Hi3, N);
  for (size_t I = 0; I < In.size(); ++I)
    In.Z[I] = C[(I * 17 + I / 5) % C.size()];
  return In;
}

} // namespace mathref

// ---- the function tables of math_float.cu / math_double.cu: each defines MATH_T (float or double) and MATH_FMT
// (F32 or F64) and lists its functions in X-macros whose rows these macros define and run ----

#define REF(E)                                                                                                         \
  [](mathref::LD x, mathref::LD y, mathref::LD z, int k) -> mathref::LD {                                              \
    (void)x, (void)y, (void)z, (void)k;                                                                                \
    return E;                                                                                                          \
  }
#define TOL(U, A)                                                                                                      \
  [](mathref::LD x, mathref::LD y, mathref::LD z, int k, mathref::LD ref) -> mathref::Tol {                            \
    (void)x, (void)y, (void)z, (void)k, (void)ref;                                                                     \
    return mathref::Tol{double(U), double(A)};                                                                         \
  }
#define HOST(E)                                                                                                        \
  [](MATH_T x, MATH_T y, MATH_T z, int k) -> MATH_T {                                                                  \
    (void)x, (void)y, (void)z, (void)k;                                                                                \
    return E;                                                                                                          \
  }
#define HOSTI(E)                                                                                                       \
  [](MATH_T x, MATH_T y, MATH_T z, int k) -> long long {                                                               \
    (void)x, (void)y, (void)z, (void)k;                                                                                \
    return E;                                                                                                          \
  }
#define DEF_OP(N, B, ...) MATH_OP(N, MATH_T, B)
#define RUN_APPROX1(N, B, R, U, A, Lo, Hi)                                                                             \
  checkApprox<Op_##N>(#N, MATH_FMT, unaryInputs<MATH_T>(Lo, Hi), 1, REF(R), TOL(U, A));
#define RUN_APPROX2(N, B, R, U, A, Lo1, Hi1, Lo2, Hi2)                                                                 \
  checkApprox<Op_##N>(#N, MATH_FMT, binaryInputs<MATH_T>(Lo1, Hi1, Lo2, Hi2), 2, REF(R), TOL(U, A));
#define RUN_APPROX3(N, B, R, U, A, Lo1, Hi1, Lo2, Hi2, Lo3, Hi3)                                                       \
  checkApprox<Op_##N>(#N, MATH_FMT, ternaryInputs<MATH_T>(Lo1, Hi1, Lo2, Hi2, Lo3, Hi3), 3, REF(R), TOL(U, A));
#define RUN_EXACT1(N, B, H, Lo, Hi) checkExact<Op_##N>(#N, unaryInputs<MATH_T>(Lo, Hi), 1, HOST(H));
#define RUN_EXACT2(N, B, H, Lo1, Hi1, Lo2, Hi2)                                                                        \
  checkExact<Op_##N>(#N, binaryInputs<MATH_T>(Lo1, Hi1, Lo2, Hi2), 2, HOST(H));
#define RUN_EXACT3(N, B, H) checkExact<Op_##N>(#N, ternaryInputs<MATH_T>(-10, 10, -10, 10, -100, 100), 3, HOST(H));
#define RUN_TOINT(N, B, H, Lo, Hi) checkInt<Op_##N>(#N, unaryInputs<MATH_T>(Lo, Hi), 1, HOSTI(H));

namespace mathref {
constexpr double Inf = INFINITY; // a bound of Inf: not checked (outside the documented range)

// PTX float->int conversions saturate and give 0 for NaN: the reference after rounding to an integer.
template <typename I> I sat(LD V) {
  if (V != V)
    return 0;
  if (V <= LD(std::numeric_limits<I>::min()))
    return std::numeric_limits<I>::min();
  if (V >= LD(std::numeric_limits<I>::max()))
    return std::numeric_limits<I>::max();
  return static_cast<I>(V);
}
} // namespace mathref
