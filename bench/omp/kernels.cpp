// The benchmark kernels as hand-written C++ with OpenMP (built -O3 -march=native -fopenmp): the CPU baseline every
// ratio in the table is measured against. Natural CPU code (loops over data, per-thread partials), not GPU emulation.
#include "../common/bench_common.h"

#include <omp.h>

namespace {

void saxpy(int N, float A, const float *X, const float *Y, float *Z) {
#pragma omp parallel for simd schedule(static)
  for (int I = 0; I < N; ++I)
    Z[I] = A * X[I] + Y[I];
}

template <typename T> T reduce(const T *In, int N) {
  T Sum = 0;
#pragma omp parallel for simd reduction(+ : Sum) schedule(static)
  for (int I = 0; I < N; ++I)
    Sum += In[I];
  return Sum;
}

// Cache-blocked i-k-j loops: the inner loop streams a row of B and C and vectorises.
void sgemm(int N, const float *A, const float *B, float *C) {
  const int Bk = 128, Bj = 256;
#pragma omp parallel for schedule(static)
  for (int I = 0; I < N; ++I) {
    float *Ci = C + (size_t)I * N;
    for (int J = 0; J < N; ++J)
      Ci[J] = 0.0f;
    for (int K0 = 0; K0 < N; K0 += Bk)
      for (int J0 = 0; J0 < N; J0 += Bj) {
        int K1 = std::min(N, K0 + Bk), J1 = std::min(N, J0 + Bj);
        for (int K = K0; K < K1; ++K) {
          float Aik = A[(size_t)I * N + K];
          const float *Bk_ = B + (size_t)K * N;
#pragma omp simd
          for (int J = J0; J < J1; ++J)
            Ci[J] += Aik * Bk_[J];
        }
      }
  }
}

void stencil2d(int N, const float *In, float *Out) {
#pragma omp parallel for schedule(static)
  for (int Y = 0; Y < N; ++Y) {
    const float *R = In + (size_t)Y * N;
    float *O = Out + (size_t)Y * N;
    if (Y == 0 || Y == N - 1) {
      std::memcpy(O, R, N * sizeof(float));
      continue;
    }
    O[0] = R[0];
    O[N - 1] = R[N - 1];
#pragma omp simd
    for (int X = 1; X < N - 1; ++X)
      O[X] = bench::StencilCenter * R[X] + bench::StencilNeighbour * (R[X - 1] + R[X + 1] + R[X - N] + R[X + N]);
  }
}

void nbody(int N, const float *Pos, float *Acc) {
#pragma omp parallel for schedule(static)
  for (int I = 0; I < N; ++I) {
    float Px = Pos[I * 4], Py = Pos[I * 4 + 1], Pz = Pos[I * 4 + 2];
    float Ax = 0.0f, Ay = 0.0f, Az = 0.0f;
#pragma omp simd reduction(+ : Ax, Ay, Az)
    for (int J = 0; J < N; ++J) {
      float Dx = Pos[J * 4] - Px, Dy = Pos[J * 4 + 1] - Py, Dz = Pos[J * 4 + 2] - Pz;
      float D2 = Dx * Dx + Dy * Dy + Dz * Dz + bench::NbodySoftening2;
      float Inv = 1.0f / std::sqrt(D2);
      float S = Pos[J * 4 + 3] * Inv * Inv * Inv;
      Ax += Dx * S;
      Ay += Dy * S;
      Az += Dz * S;
    }
    Acc[I * 4] = Ax;
    Acc[I * 4 + 1] = Ay;
    Acc[I * 4 + 2] = Az;
    Acc[I * 4 + 3] = 0.0f;
  }
}

// Private histograms per thread, merged at the end.
void histogram(const uint8_t *In, int N, unsigned *Bins) {
  std::memset(Bins, 0, 256 * sizeof(unsigned));
#pragma omp parallel
  {
    unsigned Local[256] = {};
#pragma omp for schedule(static) nowait
    for (int I = 0; I < N; ++I)
      ++Local[In[I]];
    for (int B = 0; B < 256; ++B)
      if (Local[B]) {
#pragma omp atomic
        Bins[B] += Local[B];
      }
  }
}

inline float cnd(float D) {
  const float A1 = 0.31938153f, A2 = -0.356563782f, A3 = 1.781477937f, A4 = -1.821255978f, A5 = 1.330274429f;
  const float Rsqrt2Pi = 0.39894228040143267793994605993438f;
  float K = 1.0f / (1.0f + 0.2316419f * std::fabs(D));
  float C = Rsqrt2Pi * std::exp(-0.5f * D * D) * (K * (A1 + K * (A2 + K * (A3 + K * (A4 + K * A5)))));
  return D > 0 ? 1.0f - C : C;
}

void blackScholes(int N, const float *S, const float *X, const float *T, float *Call, float *Put) {
  const float R = bench::BsRiskFree, V = bench::BsVolatility;
#pragma omp parallel for schedule(static)
  for (int I = 0; I < N; ++I) {
    float SqrtT = std::sqrt(T[I]);
    float D1 = (std::log(S[I] / X[I]) + (R + 0.5f * V * V) * T[I]) / (V * SqrtT);
    float D2 = D1 - V * SqrtT;
    float Cnd1 = cnd(D1), Cnd2 = cnd(D2);
    float ExpRT = std::exp(-R * T[I]);
    Call[I] = S[I] * Cnd1 - X[I] * ExpRT * Cnd2;
    Put[I] = X[I] * ExpRT * (1.0f - Cnd2) - S[I] * (1.0f - Cnd1);
  }
}

void spmv(const bench::Csr &M, const float *X, float *Y) {
  int Rows = (int)M.Rows;
  const int *RowPtr = M.RowPtr.data(), *Col = M.Col.data();
  const float *Val = M.Val.data();
#pragma omp parallel for schedule(static)
  for (int R = 0; R < Rows; ++R) {
    float Sum = 0.0f;
    for (int K = RowPtr[R]; K < RowPtr[R + 1]; ++K)
      Sum += Val[K] * X[Col[K]];
    Y[R] = Sum;
  }
}

// Two passes: every thread sums its contiguous chunk, the chunk totals are scanned, then each chunk is scanned with
// its offset.
void scan(const int *In, int *Out, int N) {
  int Threads = omp_get_max_threads();
  std::vector<int> Totals(Threads + 1, 0);
#pragma omp parallel num_threads(Threads)
  {
    int T = omp_get_thread_num(), Nt = omp_get_num_threads();
    size_t Begin = (size_t)N * T / Nt, End = (size_t)N * (T + 1) / Nt;
    int Sum = 0;
    for (size_t I = Begin; I < End; ++I)
      Sum += In[I];
    Totals[T + 1] = Sum;
#pragma omp barrier
#pragma omp single
    for (int K = 1; K <= Nt; ++K)
      Totals[K] += Totals[K - 1];
    int Run = Totals[T];
    for (size_t I = Begin; I < End; ++I) {
      Out[I] = Run;
      Run += In[I];
    }
  }
}

} // namespace

int main(int Argc, char **Argv) {
  bench::Options O = bench::parseOptions(Argc, Argv);
  const bench::Sizes &S = O.S;

  if (O.wants("saxpy")) {
    int N = (int)S.SaxpyN;
    auto X = bench::randomFloats(N, 1, -1, 1), Y = bench::randomFloats(N, 2, -1, 1);
    std::vector<float> Z(N);
    bench::timeKernel(O, "saxpy", [&] { saxpy(N, 2.5f, X.data(), Y.data(), Z.data()); });
    bench::writeOutput(O, "saxpy", Z.data(), Z.size() * sizeof(float));
  }
  if (O.wants("reduce_shared")) {
    auto In = bench::randomInts(S.ReduceN, 3, 16);
    int Sum = 0;
    bench::timeKernel(O, "reduce_shared", [&] { Sum = reduce(In.data(), (int)In.size()); });
    bench::writeOutput(O, "reduce_shared", &Sum, sizeof(Sum));
  }
  if (O.wants("reduce_shuffle")) {
    auto In = bench::randomFloats(S.ReduceN, 4, 0, 1);
    float Sum = 0;
    bench::timeKernel(O, "reduce_shuffle", [&] { Sum = reduce(In.data(), (int)In.size()); });
    bench::writeOutput(O, "reduce_shuffle", &Sum, sizeof(Sum));
  }
  if (O.wants("sgemm")) {
    int N = (int)S.SgemmN;
    auto A = bench::randomFloats((size_t)N * N, 5, -1, 1), B = bench::randomFloats((size_t)N * N, 6, -1, 1);
    std::vector<float> C((size_t)N * N);
    bench::timeKernel(O, "sgemm", [&] { sgemm(N, A.data(), B.data(), C.data()); });
    bench::writeOutput(O, "sgemm", C.data(), C.size() * sizeof(float));
  }
  if (O.wants("stencil2d")) {
    int N = (int)S.StencilN;
    auto In = bench::randomFloats((size_t)N * N, 7, 0, 1);
    std::vector<float> Out((size_t)N * N);
    bench::timeKernel(O, "stencil2d", [&] { stencil2d(N, In.data(), Out.data()); });
    bench::writeOutput(O, "stencil2d", Out.data(), Out.size() * sizeof(float));
  }
  if (O.wants("nbody")) {
    int N = (int)S.NbodyN;
    auto P = bench::randomFloats((size_t)N * 4, 8, -1, 1);
    for (int I = 0; I < N; ++I)
      P[I * 4 + 3] = 0.5f * (P[I * 4 + 3] + 1.5f);
    std::vector<float> Acc((size_t)N * 4);
    bench::timeKernel(O, "nbody", [&] { nbody(N, P.data(), Acc.data()); });
    bench::writeOutput(O, "nbody", Acc.data(), Acc.size() * sizeof(float));
  }
  if (O.wants("histogram")) {
    auto In = bench::histogramInput(S.HistN, 9);
    unsigned Bins[256];
    bench::timeKernel(O, "histogram", [&] { histogram(In.data(), (int)In.size(), Bins); });
    bench::writeOutput(O, "histogram", Bins, sizeof(Bins));
  }
  if (O.wants("black_scholes")) {
    int N = (int)S.BsN;
    auto Sp = bench::randomFloats(N, 10, 5, 30), X = bench::randomFloats(N, 11, 1, 100);
    auto T = bench::randomFloats(N, 12, 0.25f, 10);
    std::vector<float> Out((size_t)N * 2);
    bench::timeKernel(O, "black_scholes",
                      [&] { blackScholes(N, Sp.data(), X.data(), T.data(), Out.data(), Out.data() + N); });
    bench::writeOutput(O, "black_scholes", Out.data(), Out.size() * sizeof(float));
  }
  if (O.wants("spmv_csr")) {
    bench::Csr M = bench::randomCsr(S.SpmvRows, S.SpmvPerRow, 13);
    auto X = bench::randomFloats(M.Rows, 14, -1, 1);
    std::vector<float> Y(M.Rows);
    bench::timeKernel(O, "spmv_csr", [&] { spmv(M, X.data(), Y.data()); });
    bench::writeOutput(O, "spmv_csr", Y.data(), Y.size() * sizeof(float));
  }
  if (O.wants("scan")) {
    auto In = bench::randomInts(S.ScanN, 15, 4);
    std::vector<int> Out(In.size());
    bench::timeKernel(O, "scan", [&] { scan(In.data(), Out.data(), (int)In.size()); });
    bench::writeOutput(O, "scan", Out.data(), Out.size() * sizeof(int));
  }

  // Micro-benchmark counterpart of the empty-kernel launch: an empty parallel region (fork + join).
  {
    size_t Reps = O.Quick ? 1000 : 100000;
    std::vector<double> Us(Reps);
    for (size_t I = 0; I < Reps; ++I) {
      double T0 = bench::nowSeconds();
#pragma omp parallel
      {
        asm volatile("" ::: "memory");
      }
      Us[I] = (bench::nowSeconds() - T0) * 1e6;
    }
    bench::printMicro("launch_sync_latency", bench::median(Us), "us");
  }
  return 0;
}
