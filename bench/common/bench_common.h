// Shared by the three implementations of every benchmark kernel (CUDA, C++/OpenMP, OpenCL host): problem sizes,
// deterministic inputs, the timing loop and the result protocol bench/run.py reads. Plain C++17, no CUDA.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace bench {

// Problem sizes. Full sizes keep the whole suite within a few minutes on two cores; --quick is a smoke test.
struct Sizes {
  size_t SaxpyN, ReduceN, SgemmN, StencilN, NbodyN, HistN, BsN, SpmvRows, SpmvPerRow, ScanN;
  double TimeBudgetS; // per kernel: keep timing repetitions until this much time was spent (at least one)
  int MaxReps;
};

inline Sizes fullSizes() {
  return Sizes{1u << 24, 1u << 24, 1024, 4096, 8192, 1u << 24, 1u << 22, 1u << 20, 16, 1u << 24, 1.0, 15};
}
inline Sizes quickSizes() { return Sizes{1u << 16, 1u << 16, 64, 256, 512, 1u << 16, 4096, 4096, 16, 1u << 16, 0.0, 1}; }

// The ten kernels, in table order.
inline const char *const KernelNames[] = {"saxpy",   "reduce_shared", "reduce_shuffle", "sgemm",  "stencil2d",
                                          "nbody",   "histogram",     "black_scholes",  "spmv_csr", "scan"};

// A human description of a kernel's problem size, for the result table ("SIZE <kernel> <text>" lines).
inline std::string describeSize(const Sizes &S, const std::string &Kernel) {
  auto M = [](size_t N) {
    return N >= (1u << 20) && N % (1u << 20) == 0 ? std::to_string(N >> 20) + "M"
           : N >= 1024 && N % 1024 == 0          ? std::to_string(N >> 10) + "K"
                                                 : std::to_string(N);
  };
  if (Kernel == "saxpy")
    return M(S.SaxpyN) + " floats";
  if (Kernel == "reduce_shared")
    return M(S.ReduceN) + " ints";
  if (Kernel == "reduce_shuffle")
    return M(S.ReduceN) + " floats";
  if (Kernel == "sgemm")
    return std::to_string(S.SgemmN) + "^3";
  if (Kernel == "stencil2d")
    return std::to_string(S.StencilN) + "^2";
  if (Kernel == "nbody")
    return M(S.NbodyN) + " bodies";
  if (Kernel == "histogram")
    return M(S.HistN) + " bytes";
  if (Kernel == "black_scholes")
    return M(S.BsN) + " options";
  if (Kernel == "spmv_csr")
    return M(S.SpmvRows) + " rows x ~" + std::to_string(S.SpmvPerRow);
  if (Kernel == "scan")
    return M(S.ScanN) + " ints";
  return "?";
}

// Command line every benchmark program accepts: [--quick] [--out DIR] [--only KERNEL[,KERNEL...]].
struct Options {
  bool Quick = false;
  std::string OutDir;
  std::string Only;
  Sizes S = fullSizes();
  bool wants(const char *Kernel) const {
    if (Only.empty())
      return true;
    std::string List = "," + Only + ",";
    return List.find(std::string(",") + Kernel + ",") != std::string::npos;
  }
};

inline Options parseOptions(int Argc, char **Argv) {
  Options O;
  for (int I = 1; I < Argc; ++I) {
    std::string A = Argv[I];
    if (A == "--quick")
      O.Quick = true;
    else if (A == "--out" && I + 1 < Argc)
      O.OutDir = Argv[++I];
    else if (A == "--only" && I + 1 < Argc)
      O.Only = Argv[++I];
    else {
      std::fprintf(stderr, "usage: %s [--quick] [--out DIR] [--only KERNEL,...]\n", Argv[0]);
      std::exit(2);
    }
  }
  O.S = O.Quick ? quickSizes() : fullSizes();
  return O;
}

// xorshift64*: the same stream on every platform and in every implementation.
struct Rng {
  uint64_t State;
  explicit Rng(uint64_t Seed) : State(Seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() {
    State ^= State >> 12;
    State ^= State << 25;
    State ^= State >> 27;
    return static_cast<uint32_t>((State * 0x2545F4914F6CDD1Dull) >> 32);
  }
  float unit() { return static_cast<float>(next() >> 8) / static_cast<float>(1u << 24); } // [0, 1)
  float symmetric() { return 2.0f * unit() - 1.0f; }                                       // [-1, 1)
};

inline std::vector<float> randomFloats(size_t N, uint64_t Seed, float Lo, float Hi) {
  std::vector<float> V(N);
  Rng R(Seed);
  for (float &X : V)
    X = Lo + (Hi - Lo) * R.unit();
  return V;
}

inline std::vector<int> randomInts(size_t N, uint64_t Seed, int Modulo) {
  std::vector<int> V(N);
  Rng R(Seed);
  for (int &X : V)
    X = static_cast<int>(R.next() % static_cast<uint32_t>(Modulo));
  return V;
}

// Bytes with a skewed distribution (a few hot bins), so shared-memory atomics collide as in real histograms.
inline std::vector<uint8_t> histogramInput(size_t N, uint64_t Seed) {
  std::vector<uint8_t> V(N);
  Rng R(Seed);
  for (uint8_t &X : V) {
    uint32_t Bits = R.next();
    X = (Bits & 3) == 0 ? static_cast<uint8_t>((Bits >> 8) & 7) : static_cast<uint8_t>(Bits >> 24);
  }
  return V;
}

// A CSR matrix with SpmvPerRow +- 50% entries per row at random columns (sorted), values in [-1, 1).
struct Csr {
  size_t Rows = 0;
  std::vector<int> RowPtr, Col;
  std::vector<float> Val;
};

inline Csr randomCsr(size_t Rows, size_t PerRow, uint64_t Seed) {
  Csr M;
  M.Rows = Rows;
  M.RowPtr.resize(Rows + 1);
  Rng R(Seed);
  M.RowPtr[0] = 0;
  for (size_t I = 0; I < Rows; ++I) {
    size_t Count = PerRow / 2 + R.next() % (PerRow + 1);
    size_t Start = M.Col.size();
    for (size_t K = 0; K < Count; ++K) {
      // Mostly near the diagonal (banded, as in PDE matrices), some far away.
      long Offset = (R.next() & 7) == 0 ? static_cast<long>(R.next() % Rows) - static_cast<long>(I)
                                        : static_cast<long>(R.next() % 512) - 256;
      long C = static_cast<long>(I) + Offset;
      C = std::clamp<long>(C, 0, static_cast<long>(Rows) - 1);
      M.Col.push_back(static_cast<int>(C));
      M.Val.push_back(R.symmetric());
    }
    std::sort(M.Col.begin() + Start, M.Col.end());
    M.RowPtr[I + 1] = static_cast<int>(M.Col.size());
  }
  return M;
}

// Black-Scholes constants (as in NVIDIA's sample): riskless rate and volatility.
constexpr float BsRiskFree = 0.02f;
constexpr float BsVolatility = 0.30f;
// n-body softening (squared).
constexpr float NbodySoftening2 = 0.01f;
// 5-point stencil weights.
constexpr float StencilCenter = 0.5f, StencilNeighbour = 0.125f;

// Writes an output array for the cross-check: <OutDir>/<Kernel>.bin, raw little-endian elements.
inline void writeOutput(const Options &O, const char *Kernel, const void *Data, size_t Bytes) {
  if (O.OutDir.empty())
    return;
  std::string Path = O.OutDir + "/" + Kernel + ".bin";
  FILE *F = std::fopen(Path.c_str(), "wb");
  if (!F || std::fwrite(Data, 1, Bytes, F) != Bytes) {
    std::fprintf(stderr, "cannot write %s\n", Path.c_str());
    std::exit(2);
  }
  std::fclose(F);
}

inline double nowSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Times Run (one complete execution of the kernel, synchronised): one untimed warm-up (JIT, page faults, caches),
// then repetitions until the time budget is spent, and prints "RESULT <kernel> <median ms> <min ms> <reps>".
template <typename Fn> void timeKernel(const Options &O, const char *Kernel, Fn &&Run) {
  Run();
  std::vector<double> Ms;
  double Start = nowSeconds();
  do {
    double T0 = nowSeconds();
    Run();
    Ms.push_back((nowSeconds() - T0) * 1e3);
  } while (nowSeconds() - Start < O.S.TimeBudgetS && static_cast<int>(Ms.size()) < O.S.MaxReps);
  std::sort(Ms.begin(), Ms.end());
  std::printf("SIZE %s %s\n", Kernel, describeSize(O.S, Kernel).c_str());
  std::printf("RESULT %s %.6f %.6f %zu\n", Kernel, Ms[Ms.size() / 2], Ms.front(), Ms.size());
  std::fflush(stdout);
}

// Median of a sample (copied: the caller keeps its order).
inline double median(std::vector<double> V) {
  std::sort(V.begin(), V.end());
  return V.empty() ? 0.0 : V[V.size() / 2];
}

// "MICRO <name> <value> <unit>" lines for the launch and module-load micro-benchmarks.
inline void printMicro(const char *Name, double Value, const char *Unit) {
  std::printf("MICRO %s %.6f %s\n", Name, Value, Unit);
  std::fflush(stdout);
}

} // namespace bench
