// Small helpers shared by the end-to-end programs: error checks, a fixed-seed generator and mismatch reporting.
// Each program stays a standalone main(); this header only removes boilerplate so the checks read clearly.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <cuda_runtime.h>

// Abort the program (non-zero exit) on an unexpected runtime error, naming the call and the error.
#define E2E_CHECK(Call)                                                                                                \
  do {                                                                                                                 \
    cudaError_t E2eErr = (Call);                                                                                       \
    if (E2eErr != cudaSuccess) {                                                                                       \
      std::fprintf(stderr, "%s:%d: %s failed: %s (%s)\n", __FILE__, __LINE__, #Call, cudaGetErrorName(E2eErr),       \
                   cudaGetErrorString(E2eErr));                                                                        \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

// The same for a driver API call (programs that also call the driver API include <cuda.h> themselves).
#define CU_CHECK(Call)                                                                                                 \
  do {                                                                                                                 \
    CUresult CuErr = (Call);                                                                                           \
    if (CuErr != CUDA_SUCCESS) {                                                                                       \
      std::fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #Call, static_cast<int>(CuErr));          \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

// Check a kernel launch: both the launch-time error and the execution result.
#define E2E_CHECK_LAUNCH()                                                                                             \
  do {                                                                                                                 \
    E2E_CHECK(cudaGetLastError());                                                                                     \
    E2E_CHECK(cudaDeviceSynchronize());                                                                                \
  } while (0)

namespace e2e {

// xorshift64*: deterministic across platforms, so every run sees the same inputs.
struct Rng {
  uint64_t State;
  explicit Rng(uint64_t Seed) : State(Seed ? Seed : 0x9E3779B97F4A7C15ull) {}
  uint32_t next() {
    State ^= State >> 12;
    State ^= State << 25;
    State ^= State >> 27;
    return static_cast<uint32_t>((State * 0x2545F4914F6CDD1Dull) >> 32);
  }
  // Uniform in [Lo, Hi].
  int range(int Lo, int Hi) { return Lo + static_cast<int>(next() % static_cast<uint32_t>(Hi - Lo + 1)); }
  // Uniform in [-1, 1).
  float unit() { return static_cast<float>(next() >> 8) / static_cast<float>(1u << 23) - 1.0f; }
};

// Counts mismatches and prints the first few, so a failure shows what went wrong without flooding the log.
struct Mismatches {
  const char *What;
  long Count = 0;
  static constexpr long MaxPrinted = 10;
  explicit Mismatches(const char *What) : What(What) {}

  void intAt(long Index, long long Got, long long Want) {
    if (Got == Want)
      return;
    if (Count++ < MaxPrinted)
      std::printf("  MISMATCH %s[%ld]: got %lld, want %lld\n", What, Index, Got, Want);
  }
  void realAt(long Index, double Got, double Want, double RelTol, double AbsTol) {
    double Diff = std::fabs(Got - Want);
    if (Diff <= AbsTol + RelTol * std::fabs(Want))
      return;
    if (Count++ < MaxPrinted)
      std::printf("  MISMATCH %s[%ld]: got %.9g, want %.9g (diff %.3g)\n", What, Index, Got, Want, Diff);
  }
  // Prints a one-line verdict for this check and returns true when it passed.
  bool report() const {
    if (Count == 0)
      std::printf("  ok   %s\n", What);
    else
      std::printf("  FAIL %s: %ld mismatches\n", What, Count);
    return Count == 0;
  }
};

// Failed checks of the program so far; the expect helpers count here and finish() reports them.
inline int Failures = 0;

// One printed check line ("  ok   ..." / "  FAIL ..."); a failure is counted, the program goes on.
inline void expect(bool Ok, const char *What) {
  std::printf("  %s %s\n", Ok ? "ok  " : "FAIL", What);
  if (!Ok)
    ++Failures;
}

// A runtime call's result against the documented code, both printed by name.
inline void expectCode(cudaError_t Got, cudaError_t Want, const char *What) {
  bool Ok = Got == Want;
  std::printf("  %s %s: got %s, want %s\n", Ok ? "ok  " : "FAIL", What, cudaGetErrorName(Got), cudaGetErrorName(Want));
  if (!Ok)
    ++Failures;
}

// Final line every program prints; the runner and humans look for it.
inline int finish(const char *Program, int Failures) {
  if (Failures == 0) {
    std::printf("%s: PASSED\n", Program);
    return 0;
  }
  std::printf("%s: FAILED (%d failed checks)\n", Program, Failures);
  return 1;
}

} // namespace e2e
