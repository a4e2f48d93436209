// Engine tier T1 (first stage): which kernels get a coroutine entry, and that blocks of coroutine threads give
// exactly the results of fiber mode (T2) for barriers in loops, early exits before barriers, bar.red, shuffles
// and votes. The same module is loaded twice: once as lowered, once with the coroutine entry hidden from the
// engine (its descriptor flag cleared), which runs the kernel on fibers.
#include "TestSupport.h"

#include "ptx_translate/CoroutineEntry.h"

#include <vector>

using namespace cushim::test;

namespace {

std::unique_ptr<LoweredPtx> lower(const std::string &Body) { return lowerPtx(Body, "coro.ptx"); }

bool hasCoroutineEntry(const LoweredPtx &L, const std::string &Kernel) {
  bool Flagged = kernelInfo(L, Kernel).Flags & CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY;
  bool Defined = L.M.IR->getFunction(std::string(cushim::ptx::CoroutineEntryPrefix) + Kernel) != nullptr;
  CHECK(Flagged == Defined);
  return Flagged;
}

// Runs Kernel on T1's coroutine entry and on T2 (fibers); returns both outputs.
struct TwoRuns {
  std::vector<uint32_t> T1, T2;
};
TwoRuns runBoth(LoweredPtx &L, const std::string &Kernel, std::array<uint32_t, 3> Grid, std::array<uint32_t, 3> Block,
                size_t Words, int ExpectedStatus = 0) {
  TierRuns R = runOnTierAndOracle(L, Kernel, CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY, Grid, Block, Words, ExpectedStatus);
  return {std::move(R.Tier), std::move(R.Oracle)};
}

} // namespace

TEST_CASE("kernels that wait get a coroutine entry unless they spin, wait through function pointers or have a "
          "region entry",
          "[engine][t1]") {
  // Divergent barriers (only thread 0 waits: exited threads count as arrived) keep a kernel off region entries.
  auto L = lower(".func sync_in_func()\n{\n bar.sync 0;\n ret;\n}\n"
                 ".visible .entry calls_sync(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<2>;\n"
                 " mov.u32 %r1, %tid.x;\n setp.ne.u32 %p1, %r1, 0;\n @%p1 bra $OUT;\n call.uni sync_in_func, ();\n"
                 "$OUT:\n ret;\n}\n"
                 ".visible .entry divergent_sync(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<2>;\n"
                 " mov.u32 %r1, %tid.x;\n setp.eq.u32 %p1, %r1, 0;\n @%p1 bar.sync 0;\n ret;\n}\n"
                 ".visible .entry uniform_sync(.param .u64 p)\n{\n bar.sync 0;\n ret;\n}\n"
                 ".visible .entry no_wait(.param .u64 p)\n{\n ret;\n}\n"
                 ".visible .entry spins(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<2>;\n"
                 " .reg .b64 %rd<2>;\n ld.param.u64 %rd1, [p];\n bar.sync 0;\n$W:\n"
                 " ld.volatile.global.u32 %r1, [%rd1];\n setp.eq.u32 %p1, %r1, 0;\n @%p1 bra $W;\n ret;\n}\n");
  CHECK(hasCoroutineEntry(*L, "calls_sync"));
  CHECK(hasCoroutineEntry(*L, "divergent_sync"));
  CHECK_FALSE(hasCoroutineEntry(*L, "no_wait"));
  CHECK_FALSE(hasCoroutineEntry(*L, "spins"));
  // A kernel with a region entry runs on it: a coroutine entry would only cost compile time.
  CHECK((kernelInfo(*L, "uniform_sync").Flags & CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY) != 0);
  CHECK_FALSE(hasCoroutineEntry(*L, "uniform_sync"));
  // The coroutine passes run at O0 too (an unlowered llvm.coro.* intrinsic cannot be compiled).
  CHECK(cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget(), 0));
}

TEST_CASE("coroutine blocks match fibers: barriers in loops, exits before barriers, bar.red", "[engine][t1]") {
  // Each thread: s[tid] = tid; for 4 rounds { bar; v = s[(tid + round + 1) % n]; bar; s[tid] = v + tid; }
  // Threads with tid % 7 == 3 exit before the loop (exited threads count as arrived). Then bar.red.popc of
  // (s[tid] odd) and out[ctaid * n + tid] = s[tid] * 1000 + popc for the remaining threads.
  auto L = lower(
      ".visible .entry rounds(.param .u64 p)\n{\n .shared .align 4 .b8 s[4096];\n .reg .pred %p<4>;\n"
      " .reg .b32 %r<32>;\n .reg .b64 %rd<8>;\n ld.param.u64 %rd1, [p];\n mov.u32 %r1, %tid.x;\n"
      " mov.u32 %r2, %ntid.x;\n mov.u32 %r3, %ctaid.x;\n shl.b32 %r4, %r1, 2;\n mov.u32 %r5, s;\n"
      " add.s32 %r6, %r5, %r4;\n st.shared.u32 [%r6], %r1;\n rem.u32 %r7, %r1, 7;\n setp.eq.u32 %p1, %r7, 3;\n"
      " @%p1 exit;\n mov.u32 %r8, 0;\n$LOOP:\n bar.sync 0;\n add.s32 %r9, %r1, %r8;\n add.s32 %r9, %r9, 1;\n"
      " rem.u32 %r9, %r9, %r2;\n shl.b32 %r10, %r9, 2;\n add.s32 %r11, %r5, %r10;\n ld.shared.u32 %r12, [%r11];\n"
      " bar.sync 0;\n add.s32 %r13, %r12, %r1;\n st.shared.u32 [%r6], %r13;\n add.s32 %r8, %r8, 1;\n"
      " setp.lt.u32 %p2, %r8, 4;\n @%p2 bra $LOOP;\n ld.shared.u32 %r14, [%r6];\n and.b32 %r15, %r14, 1;\n"
      " setp.ne.u32 %p3, %r15, 0;\n bar.red.popc.u32 %r16, 0, %p3;\n mad.lo.s32 %r17, %r14, 1000, %r16;\n"
      " mad.lo.s32 %r18, %r3, %r2, %r1;\n mul.wide.u32 %rd2, %r18, 4;\n add.s64 %rd3, %rd1, %rd2;\n"
      " st.global.u32 [%rd3], %r17;\n ret;\n}\n");
  for (uint32_t Threads : {1u, 32u, 100u, 256u, 1024u}) {
    INFO(Threads << " threads");
    TwoRuns R = runBoth(*L, "rounds", {3, 1, 1}, {Threads, 1, 1}, 3 * Threads);
    CHECK(R.T1 == R.T2);
    if (Threads == 100)
      CHECK(R.T1[0] != 0); // the kernel did run (thread 0 does not exit)
  }
}

TEST_CASE("coroutine blocks match fibers: shuffles, votes and partial warps", "[engine][t1]") {
  // Warp sum by shfl.down over the full warp, ballot of odd lanes, and shfl.idx from lane (lane * 5) % 32;
  // out[gtid * 3 + k].
  auto L = lower(".visible .entry warps(.param .u64 p)\n{\n .reg .pred %p<4>;\n .reg .b32 %r<32>;\n"
                 " .reg .b64 %rd<8>;\n ld.param.u64 %rd1, [p];\n mov.u32 %r1, %tid.x;\n mov.u32 %r2, %ntid.x;\n"
                 " mov.u32 %r3, %ctaid.x;\n mad.lo.s32 %r4, %r3, %r2, %r1;\n mul.lo.s32 %r5, %r4, 7;\n"
                 " mov.u32 %r6, 16;\n$SUM:\n shfl.sync.down.b32 %r7|%p1, %r5, %r6, 31, -1;\n"
                 " @%p1 add.s32 %r5, %r5, %r7;\n shr.u32 %r6, %r6, 1;\n setp.ne.u32 %p2, %r6, 0;\n @%p2 bra $SUM;\n"
                 " and.b32 %r8, %r1, 1;\n setp.ne.u32 %p3, %r8, 0;\n vote.sync.ballot.b32 %r9, %p3, -1;\n"
                 " and.b32 %r10, %r1, 31;\n mul.lo.s32 %r11, %r10, 5;\n and.b32 %r11, %r11, 31;\n"
                 " shfl.sync.idx.b32 %r12, %r4, %r11, 31, -1;\n mul.lo.s32 %r13, %r4, 3;\n"
                 " mul.wide.u32 %rd2, %r13, 4;\n add.s64 %rd3, %rd1, %rd2;\n st.global.u32 [%rd3], %r5;\n"
                 " st.global.u32 [%rd3+4], %r9;\n st.global.u32 [%rd3+8], %r12;\n ret;\n}\n");
  for (uint32_t Threads : {32u, 64u, 256u}) {
    INFO(Threads << " threads");
    TwoRuns R = runBoth(*L, "warps", {2, 1, 1}, {Threads, 1, 1}, 2 * Threads * 3);
    CHECK(R.T1 == R.T2);
    // lane 0 of warp 0, block 0: sum of 7 * (0..31)
    CHECK(R.T1[0] == 7u * (31 * 32 / 2));
    CHECK(R.T1[1] == 0xaaaaaaaau);
  }
}

TEST_CASE("a deadlock in a coroutine block fails the launch instead of hanging", "[engine][t1]") {
  // Thread 0 waits at barrier 1 for all threads, the others at barrier 0: neither completes.
  auto L = lower(".visible .entry stuck(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<2>;\n"
                 " mov.u32 %r1, %tid.x;\n setp.eq.u32 %p1, %r1, 0;\n @%p1 bar.sync 1;\n @!%p1 bar.sync 0;\n ret;\n}\n");
  TwoRuns R = runBoth(*L, "stuck", {1, 1, 1}, {64, 1, 1}, 1, CUDA_ERROR_LAUNCH_FAILED);
  CHECK(R.T1 == R.T2);
}
