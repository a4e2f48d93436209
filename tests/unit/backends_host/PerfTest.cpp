// Hidden measurements (run with `backends_host_tests "[.perf]"`): launch overhead and barrier cost of the engine.
#include "TestSupport.h"

#include <chrono>

using namespace cushim::test;

namespace {
const char *PerfKernels = R"IR(
define void @empty(ptr %p, ptr %c) {
entry:
  ret void
}
define void @barloop(ptr %p, ptr %c) {
entry:
  br label %loop
loop:
  %i = phi i32 [ 0, %entry ], [ %n, %loop ]
  call void @__cushim_bar_sync(ptr %c, i32 0, i32 0)
  %n = add i32 %i, 1
  %d = icmp eq i32 %n, 100
  br i1 %d, label %exit, label %loop
exit:
  ret void
}
)IR";

double secondsSince(std::chrono::steady_clock::time_point Start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
}
} // namespace

TEST_CASE("engine performance figures", "[.perf]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(PerfKernels),
                               {kernelDesc("empty", 0, 0), kernelDesc("barloop", CUSHIM_HAL_KERNEL_USES_BARRIERS, 0)});
  cushim_hal_kernel Empty = F.kernel(M, "empty"), BarLoop = F.kernel(M, "barloop");
  REQUIRE(F.launch(Empty, {1, 1, 1}, {1, 1, 1}, nullptr, 0) == 0);
  REQUIRE(F.sync() == 0);

  const int N = 20000;
  auto Start = std::chrono::steady_clock::now();
  for (int I = 0; I < N; ++I)
    REQUIRE(F.launch(Empty, {1, 1, 1}, {1, 1, 1}, nullptr, 0) == 0);
  REQUIRE(F.sync() == 0);
  double Pipelined = secondsSince(Start) / N;

  const int R = 2000;
  Start = std::chrono::steady_clock::now();
  for (int I = 0; I < R; ++I) {
    REQUIRE(F.launch(Empty, {1, 1, 1}, {1, 1, 1}, nullptr, 0) == 0);
    REQUIRE(F.sync() == 0);
  }
  double RoundTrip = secondsSince(Start) / R;

  Start = std::chrono::steady_clock::now();
  for (int I = 0; I < 100; ++I)
    REQUIRE(F.launch(Empty, {1024, 1, 1}, {256, 1, 1}, nullptr, 0) == 0);
  REQUIRE(F.sync() == 0);
  double FastThreads = 100.0 * 1024 * 256 / secondsSince(Start);

  Start = std::chrono::steady_clock::now();
  REQUIRE(F.launch(BarLoop, {64, 1, 1}, {256, 1, 1}, nullptr, 0) == 0);
  REQUIRE(F.sync() == 0);
  double Barrier = secondsSince(Start);
  double PerThreadBarrier = Barrier / (64.0 * 256 * 100);

  WARN("empty kernel, 1 thread: " << Pipelined * 1e6 << " us per launch pipelined, " << RoundTrip * 1e6
                                  << " us launch+sync round trip");
  WARN("empty kernel, 1024x256: " << FastThreads / 1e6 << " M threads/s (fast path)");
  WARN("barrier loop 64 blocks x 256 threads x 100 bar.sync: " << Barrier * 1e3 << " ms, " << PerThreadBarrier * 1e9
                                                               << " ns per thread-barrier");
  CHECK(Pipelined > 0);
}
