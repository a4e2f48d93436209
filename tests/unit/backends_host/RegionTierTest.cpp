// Engine tier T1, region entries: which kernels get one (every barrier reached by all threads of the block
// together), and that running a block region by region gives exactly the results of fiber mode (T2): values and
// local memory that live across barriers, barriers in loops and in device functions, divergent code between
// barriers, 2D blocks.
#include "TestSupport.h"

#include "ptx_translate/RegionEntry.h"

#include <numeric>
#include <vector>

using namespace cushim::test;

namespace {

std::unique_ptr<LoweredPtx> lower(const std::string &Body) { return lowerPtx(Body, "region.ptx"); }

bool hasRegionEntry(const LoweredPtx &L, const std::string &Kernel) {
  bool Flagged = kernelInfo(L, Kernel).Flags & CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY;
  bool Defined = L.M.IR->getFunction(std::string(cushim::ptx::RegionEntryPrefix) + Kernel) != nullptr;
  CHECK(Flagged == Defined);
  return Flagged;
}

TierRuns runBoth(LoweredPtx &L, const std::string &Kernel, std::array<uint32_t, 3> Grid,
                 std::array<uint32_t, 3> Block, size_t Words) {
  return runOnTierAndOracle(L, Kernel, CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY, Grid, Block, Words);
}

const char *Prologue = " .reg .pred %p<4>;\n .reg .b32 %r<40>;\n .reg .b64 %rd<12>;\n mov.u32 %r1, %tid.x;\n"
                       " mov.u32 %r2, %ctaid.x;\n";

std::string entry(const std::string &Name, const std::string &Body) {
  return ".visible .entry " + Name + "(.param .u64 p)\n{\n" + Prologue + Body + " ret;\n}\n";
}

} // namespace

TEST_CASE("kernels whose barriers all threads reach together get a region entry", "[engine][t1]") {
  auto L = lower(".func sync_in_func()\n{\n bar.sync 0;\n ret;\n}\n" +
                 entry("calls_sync", " call.uni sync_in_func, ();\n") + entry("plain_sync", " bar.sync 0;\n") +
                 entry("uniform_if", " setp.eq.u32 %p1, %r2, 0;\n @%p1 bar.sync 0;\n") +
                 entry("divergent_if", " setp.eq.u32 %p1, %r1, 0;\n @%p1 bar.sync 0;\n") +
                 entry("exit_before", " setp.eq.u32 %p1, %r1, 5;\n @%p1 exit;\n bar.sync 0;\n") +
                 entry("counted", " bar.sync 0, 64;\n") +
                 entry("shared_condition", " .shared .align 4 .b32 flag;\n ld.shared.u32 %r3, [flag];\n"
                                           " setp.eq.u32 %p1, %r3, 0;\n @%p1 bar.sync 0;\n") +
                 entry("reduction", " setp.eq.u32 %p1, %r1, 0;\n bar.red.popc.u32 %r3, 0, %p1;\n") +
                 entry("shuffles", " shfl.sync.bfly.b32 %r3, %r1, 1, 31, -1;\n bar.sync 0;\n") +
                 entry("no_wait", ""));
  CHECK(hasRegionEntry(*L, "calls_sync"));
  CHECK(hasRegionEntry(*L, "plain_sync"));
  CHECK(hasRegionEntry(*L, "uniform_if"));
  CHECK_FALSE(hasRegionEntry(*L, "divergent_if"));
  CHECK_FALSE(hasRegionEntry(*L, "exit_before"));
  CHECK_FALSE(hasRegionEntry(*L, "counted"));
  CHECK_FALSE(hasRegionEntry(*L, "shared_condition"));
  CHECK_FALSE(hasRegionEntry(*L, "reduction"));
  CHECK_FALSE(hasRegionEntry(*L, "shuffles"));
  CHECK_FALSE(hasRegionEntry(*L, "no_wait"));
  // The kernels a region entry refuses keep their coroutine entry.
  CHECK((kernelInfo(*L, "divergent_if").Flags & CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY) != 0);
  CHECK(cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget(), 0));
}

TEST_CASE("region blocks match fibers: a tree reduction after divergent per-thread loops", "[engine][t1]") {
  // v = sum over k < tid % 5 of (gid * 7 + k) (a loop of divergent length); s[tid] = v; tree reduction over
  // s with a barrier per step (inside a loop with a uniform trip count); out[gid] = s[tid] * 3 + v, so v lives
  // across every barrier.
  auto L = lower(entry("tree", R"(
 .shared .align 4 .b8 s[4096];
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 mov.u32 %r5, 0;
 mov.u32 %r6, 0;
 rem.u32 %r7, %r1, 5;
 setp.eq.u32 %p1, %r7, 0;
 @%p1 bra $DONE1;
$L1:
 mad.lo.s32 %r8, %r4, 7, %r6;
 add.s32 %r5, %r5, %r8;
 add.s32 %r6, %r6, 1;
 setp.lt.u32 %p2, %r6, %r7;
 @%p2 bra $L1;
$DONE1:
 shl.b32 %r9, %r1, 2;
 mov.u32 %r10, s;
 add.s32 %r11, %r10, %r9;
 st.shared.u32 [%r11], %r5;
 bar.sync 0;
 shr.u32 %r12, %r3, 1;
$L2:
 setp.eq.u32 %p3, %r12, 0;
 @%p3 bra $END;
 setp.lt.u32 %p1, %r1, %r12;
 @!%p1 bra $SKIP;
 add.s32 %r13, %r1, %r12;
 shl.b32 %r14, %r13, 2;
 add.s32 %r15, %r10, %r14;
 ld.shared.u32 %r16, [%r15];
 ld.shared.u32 %r17, [%r11];
 add.s32 %r17, %r17, %r16;
 st.shared.u32 [%r11], %r17;
$SKIP:
 bar.sync 0;
 shr.u32 %r12, %r12, 1;
 bra $L2;
$END:
 ld.shared.u32 %r18, [%r11];
 mad.lo.s32 %r19, %r18, 3, %r5;
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r19;
)"));
  REQUIRE(hasRegionEntry(*L, "tree"));
  for (uint32_t Threads : {1u, 32u, 100u, 256u, 1024u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "tree", {3, 1, 1}, {Threads, 1, 1}, 3 * Threads);
    CHECK(R.Tier == R.Oracle);
    if (Threads == 256) {
      // Block 1's thread 0 holds the block's sum (a power-of-two block reduces completely); its own v is 0.
      uint32_t Sum = 0;
      for (uint32_t T = 0; T < Threads; ++T)
        for (uint32_t K = 0; K < T % 5; ++K)
          Sum += (Threads + T) * 7 + K;
      CHECK(R.Tier[Threads] == Sum * 3);
    }
  }
}

TEST_CASE("region blocks match fibers: local memory across barriers, barriers in functions, 2D blocks",
          "[engine][t1]") {
  // A (ctaid + 2)-round loop. Each round: s[linear] = loc[linear % 16] + round; barrier (in a device function);
  // read the next thread's value, add it to acc and keep it in loc (local memory, live across the next barrier);
  // barrier. out[ctaid * threads + linear] = acc.
  auto L = lower(".func bsync()\n{\n bar.sync 0;\n ret;\n}\n" + entry("rotate", R"(
 .local .align 4 .b8 loc[64];
 .shared .align 4 .b8 t[4096];
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mov.u32 %r4, %ntid.y;
 mov.u32 %r22, %tid.y;
 mad.lo.s32 %r6, %r22, %r3, %r1;
 mul.lo.s32 %r7, %r3, %r4;
 add.s32 %r8, %r2, 2;
 mov.u64 %rd2, loc;
 and.b32 %r9, %r6, 15;
 mul.wide.u32 %rd3, %r9, 4;
 add.s64 %rd4, %rd2, %rd3;
 st.local.u32 [%rd4], %r6;
 mov.u32 %r10, t;
 shl.b32 %r11, %r6, 2;
 add.s32 %r12, %r10, %r11;
 mov.u32 %r13, 0;
 mov.u32 %r20, 0;
$R:
 ld.local.u32 %r14, [%rd4];
 add.s32 %r15, %r14, %r13;
 st.shared.u32 [%r12], %r15;
 call.uni bsync, ();
 add.s32 %r16, %r6, 1;
 rem.u32 %r16, %r16, %r7;
 shl.b32 %r17, %r16, 2;
 add.s32 %r18, %r10, %r17;
 ld.shared.u32 %r19, [%r18];
 add.s32 %r20, %r20, %r19;
 st.local.u32 [%rd4], %r19;
 bar.sync 0;
 add.s32 %r13, %r13, 1;
 setp.lt.u32 %p1, %r13, %r8;
 @%p1 bra $R;
 mad.lo.s32 %r21, %r2, %r7, %r6;
 mul.wide.u32 %rd5, %r21, 4;
 add.s64 %rd6, %rd1, %rd5;
 st.global.u32 [%rd6], %r20;
)"));
  REQUIRE(hasRegionEntry(*L, "rotate"));
  for (std::array<uint32_t, 3> Block : {std::array<uint32_t, 3>{16, 1, 1}, {8, 4, 1}, {6, 5, 1}, {32, 32, 1}}) {
    uint32_t Threads = Block[0] * Block[1] * Block[2];
    INFO(Block[0] << "x" << Block[1] << "x" << Block[2]);
    TierRuns R = runBoth(*L, "rotate", {2, 1, 1}, Block, 2 * Threads);
    CHECK(R.Tier == R.Oracle);
    // A 16-thread block keeps every value in its own loc slot: round r adds neighbour values that shift by one
    // thread per round, so thread 0 of block 0 adds 1 + (2 + 1) = 4 over its two rounds.
    if (Threads == 16)
      CHECK(R.Tier[0] == 4);
  }
}

TEST_CASE("region blocks match fibers: shared-memory atomics between barriers", "[engine][t1]") {
  // h[0..15] = 0; barrier; every thread adds tid to h[tid % 16], takes the max of h[(tid + 1) % 16] and tid into
  // m[0] by compare-and-swap, and exchanges ticket numbers; barrier; out[gid] = h[tid % 16] + m[0] * 1000000.
  auto L = lower(entry("atomics", R"(
 .shared .align 4 .b8 h[64];
 .shared .align 4 .b32 m;
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 and.b32 %r5, %r1, 15;
 shl.b32 %r6, %r5, 2;
 mov.u32 %r7, h;
 add.s32 %r8, %r7, %r6;
 setp.lt.u32 %p1, %r1, 16;
 @%p1 st.shared.u32 [%r8], 0;
 setp.eq.u32 %p2, %r1, 0;
 @%p2 st.shared.u32 [m], 0;
 bar.sync 0;
 atom.shared.add.u32 %r9, [%r8], %r1;
 ld.shared.u32 %r10, [m];
$CAS:
 max.u32 %r11, %r10, %r1;
 atom.shared.cas.b32 %r12, [m], %r10, %r11;
 setp.ne.u32 %p3, %r12, %r10;
 mov.u32 %r10, %r12;
 @%p3 bra $CAS;
 bar.sync 0;
 ld.shared.u32 %r13, [%r8];
 ld.shared.u32 %r14, [m];
 mad.lo.s32 %r15, %r14, 1000000, %r13;
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r15;
)"));
  REQUIRE(hasRegionEntry(*L, "atomics"));
  for (uint32_t Threads : {16u, 100u, 256u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "atomics", {2, 1, 1}, {Threads, 1, 1}, 2 * Threads);
    CHECK(R.Tier == R.Oracle);
    uint32_t H0 = 0;
    for (uint32_t T = 0; T < Threads; T += 16)
      H0 += T;
    CHECK(R.Tier[0] == H0 + (Threads - 1) * 1000000);
  }
}
