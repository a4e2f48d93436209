// Engine tier T1, region entries: which kernels get one (every barrier reached by all threads of the block
// together), and that running a block region by region gives exactly the results of fiber mode (T2): values and
// local memory that live across barriers, barriers in loops and in device functions, divergent code between
// barriers, 2D blocks.
#include "TestSupport.h"

#include "ptx_translate/RegionEntry.h"

#include <llvm/IR/Instructions.h>

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

// Whether Kernel's region entry runs every region warp by warp (its per-warp states), not only those after warp
// cuts.
bool runsWarpByWarp(const LoweredPtx &L, const std::string &Kernel) {
  const llvm::Function *F = L.M.IR->getFunction(std::string(cushim::ptx::RegionEntryPrefix) + Kernel);
  REQUIRE(F);
  for (const llvm::Instruction &I : F->getEntryBlock())
    if (llvm::isa<llvm::AllocaInst>(I) && I.getName().starts_with("warp.states"))
      return true;
  return false;
}

// Stores of a value just loaded from the same place (`store (load p), p`) in F: a region that only reads a value
// living across its barriers writes it back to the arena; the optimiser must drop that store.
size_t storesOfOwnLoad(const llvm::Function &F) {
  size_t Count = 0;
  for (const llvm::BasicBlock &BB : F)
    for (const llvm::Instruction &I : BB)
      if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I))
        if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(Store->getValueOperand()))
          Count += Load->getPointerOperand() == Store->getPointerOperand() && Load->getParent() == &BB;
  return Count;
}

TierRuns runBoth(LoweredPtx &L, const std::string &Kernel, std::array<uint32_t, 3> Grid,
                 std::array<uint32_t, 3> Block, size_t Words) {
  return runOnTierAndOracle(L, Kernel, CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY, Grid, Block, Words);
}

const char *Prologue = " .reg .pred %p<4>;\n .reg .pred %q<8>;\n .reg .b32 %r<40>;\n .reg .b32 %w<40>;\n"
                       " .reg .b64 %rd<12>;\n mov.u32 %r1, %tid.x;\n mov.u32 %r2, %ctaid.x;\n";

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
  CHECK_FALSE(hasRegionEntry(*L, "no_wait"));
  // The kernels a region entry refuses keep their coroutine entry.
  CHECK((kernelInfo(*L, "divergent_if").Flags & CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY) != 0);
  CHECK(cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget(), 0));
}

TEST_CASE("kernels whose warp collectives all lanes of a warp reach together get a region entry", "[engine][t1]") {
  auto L = lower(entry("shuffles", " shfl.sync.bfly.b32 %r3, %r1, 1, 31, -1;\n bar.sync 0;\n") +
                 entry("no_barrier", " shfl.sync.down.b32 %r3, %r1, 1, 31, -1;\n") +
                 entry("warp_branch", " shr.u32 %r3, %r1, 5;\n setp.eq.u32 %p1, %r3, 1;\n @%p1 bra $SKIP;\n"
                                      " vote.sync.ballot.b32 %r4, %p1, -1;\n$SKIP:\n bar.sync 0;\n") +
                 entry("lane_branch", " and.b32 %r3, %r1, 31;\n setp.lt.u32 %p1, %r3, 16;\n @%p1 bra $SKIP;\n"
                                      " shfl.sync.idx.b32 %r4, %r1, 0, 31, -1;\n$SKIP:\n") +
                 entry("part_mask", " shfl.sync.bfly.b32 %r3, %r1, 1, 31, 65535;\n") +
                 entry("match", " match.any.sync.b32 %r3, %r1, -1;\n") + entry("warp_sync", " bar.warp.sync -1;\n") +
                 // tid.x compared with a warp boundary is the same in all lanes of a warp.
                 entry("below_warp_bound", " setp.lt.u32 %p1, %r1, 64;\n @%p1 bra $SKIP;\n"
                                           " vote.sync.ballot.b32 %r4, %p1, -1;\n$SKIP:\n") +
                 entry("above_warp_bound", " setp.gt.s32 %p1, %r1, 31;\n @%p1 bra $SKIP;\n"
                                           " vote.sync.ballot.b32 %r4, %p1, -1;\n$SKIP:\n") +
                 // A loop that threads leave at different iterations (a loop cut), then a shuffle.
                 entry("shuffle_after_loop", " mov.u32 %r5, 0;\n$LOOP:\n add.u32 %r5, %r5, 1;\n"
                                             " setp.lt.u32 %p2, %r5, %r1;\n @%p2 bra $LOOP;\n"
                                             " shfl.sync.bfly.b32 %r3, %r5, 1, 31, -1;\n") +
                 // tid.x & -32 (nvcc's tid.x / 32 == 1) too.
                 entry("warp_mask_branch", " and.b32 %r3, %r1, -32;\n setp.eq.u32 %p1, %r3, 32;\n @!%p1 bra $SKIP;\n"
                                           " bar.warp.sync -1;\n$SKIP:\n bar.sync 0;\n") +
                 entry("inside_warp_bound", " setp.lt.u32 %p1, %r1, 48;\n @%p1 bra $SKIP;\n"
                                            " vote.sync.ballot.b32 %r4, %p1, -1;\n$SKIP:\n") +
                 // Volatile shared (and generic) accesses are warp steps; volatile global ones are not.
                 entry("volatile_shared", " setp.lt.u32 %p1, %r1, 32;\n @!%p1 bra $SKIP;\n"
                                          " ld.volatile.shared.u32 %r4, [4];\n st.volatile.shared.u32 [0], %r4;\n"
                                          "$SKIP:\n") +
                 entry("volatile_lanes", " and.b32 %r3, %r1, 31;\n setp.lt.u32 %p1, %r3, 16;\n @!%p1 bra $SKIP;\n"
                                         " ld.volatile.u32 %r4, [%rd1];\n$SKIP:\n") +
                 entry("volatile_global", " ld.volatile.global.u32 %r4, [%rd1];\n"));
  for (const char *Kernel : {"volatile_shared", "volatile_lanes"})
    CHECK((kernelInfo(*L, Kernel).Flags & CUSHIM_HAL_KERNEL_USES_WARP_OPS) != 0);
  CHECK((kernelInfo(*L, "volatile_global").Flags & CUSHIM_HAL_KERNEL_USES_WARP_OPS) == 0);
  for (const char *Kernel : {"shuffles", "no_barrier", "warp_branch", "warp_sync", "below_warp_bound",
                             "above_warp_bound", "volatile_shared", "warp_mask_branch", "shuffle_after_loop"}) {
    INFO(Kernel);
    CHECK(hasRegionEntry(*L, Kernel));
    // Warps must be rows of 32 threads; launches of other shapes run the coroutine entry.
    CHECK((kernelInfo(*L, Kernel).Flags & CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS) != 0);
    CHECK((kernelInfo(*L, Kernel).Flags & CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY) != 0);
    // Only the regions after warp cuts run warp by warp; the block's threads run the others as one loop, except
    // where a shuffle's exchange buffers must alternate per warp across a loop cut too.
    CHECK(runsWarpByWarp(*L, Kernel) == (std::string(Kernel) == "shuffle_after_loop"));
  }
  for (const char *Kernel : {"lane_branch", "part_mask", "match", "inside_warp_bound", "volatile_lanes"}) {
    INFO(Kernel);
    CHECK_FALSE(hasRegionEntry(*L, Kernel));
  }
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

TEST_CASE("region blocks match fibers: a block scan with values that live across its steps", "[engine][t1]") {
  // nvcc's scanTiles (bench/cuda/kernels.cu) with the input made up: thread t of block b has a = g, b = 2g + 1,
  // c = 3g + 2, d = 4g + 3 (g = b * ntid + t) and scans their sum e = a + b + c + d across the block
  // (Hillis-Steele, double-buffered in shared memory); a, b and c live across every step. out[4g + k] gets the
  // exclusive prefix plus the first k of a, b, c; thread 0 writes the block's total to out[4 * G + g] (G: the
  // grid's threads).
  auto L = lower(entry("scan_tiles", R"(
 .shared .align 4 .b8 tmp[8192];
 ld.param.u64 %rd1, [p];
 mov.u32 %r7, %ntid.x;
 mad.lo.s32 %r20, %r2, %r7, %r1;
 mov.u32 %r2, %r20;
 mad.lo.s32 %r3, %r20, 2, 1;
 mad.lo.s32 %r4, %r20, 3, 2;
 mad.lo.s32 %r8, %r20, 4, 3;
 add.s32 %r3, %r3, %r2;
 add.s32 %r4, %r4, %r3;
 add.s32 %r5, %r8, %r4;
 shl.b32 %r21, %r1, 2;
 mov.u32 %r26, tmp;
 add.s32 %r6, %r26, %r21;
 mov.u32 %r9, 0;
 st.shared.u32 [%r6], %r5;
 bar.sync 0;
 setp.lt.s32 %p1, %r7, 2;
 @%p1 bra $DONE;
 mov.u32 %r10, 0;
 mov.u32 %r27, 1;
 mov.u32 %r12, %r27;
$STEP:
 sub.s32 %r9, %r27, %r10;
 mul.lo.s32 %r11, %r10, %r7;
 shl.b32 %r30, %r11, 2;
 add.s32 %r31, %r6, %r30;
 ld.shared.u32 %r13, [%r31];
 setp.lt.s32 %p2, %r1, %r12;
 @%p2 bra $KEEP;
 add.s32 %r32, %r11, %r1;
 sub.s32 %r33, %r32, %r12;
 shl.b32 %r34, %r33, 2;
 add.s32 %r36, %r26, %r34;
 ld.shared.u32 %r37, [%r36];
 add.s32 %r13, %r37, %r13;
$KEEP:
 mul.lo.s32 %r38, %r9, %r7;
 shl.b32 %r39, %r38, 2;
 add.s32 %w0, %r6, %r39;
 st.shared.u32 [%w0], %r13;
 bar.sync 0;
 shl.b32 %r12, %r12, 1;
 setp.lt.s32 %p3, %r12, %r7;
 mov.u32 %r10, %r9;
 @%p3 bra $STEP;
$DONE:
 mul.lo.s32 %w1, %r9, %r7;
 add.s32 %w2, %w1, %r7;
 shl.b32 %w3, %w2, 2;
 add.s32 %w5, %r26, %w3;
 ld.shared.u32 %r17, [%w5+-4];
 shl.b32 %w6, %w1, 2;
 add.s32 %w7, %r6, %w6;
 ld.shared.u32 %w8, [%w7];
 sub.s32 %w9, %w8, %r5;
 bar.sync 0;
 mul.wide.s32 %rd2, %r20, 16;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %w9;
 add.s32 %w10, %w9, %r2;
 st.global.u32 [%rd3+4], %w10;
 add.s32 %w11, %w9, %r3;
 st.global.u32 [%rd3+8], %w11;
 add.s32 %w12, %w9, %r4;
 st.global.u32 [%rd3+12], %w12;
 setp.ne.s32 %q4, %r1, 0;
 @%q4 bra $END;
 mov.u32 %w13, %nctaid.x;
 mul.lo.s32 %w14, %w13, %r7;
 shl.b32 %w15, %w14, 2;
 add.s32 %w16, %w15, %r2;
 mul.wide.u32 %rd4, %w16, 4;
 add.s64 %rd5, %rd1, %rd4;
 st.global.u32 [%rd5], %r17;
$END:
)"));
  REQUIRE(hasRegionEntry(*L, "scan_tiles"));
  for (uint32_t Threads : {1u, 32u, 256u, 1024u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "scan_tiles", {3, 1, 1}, {Threads, 1, 1}, 12 * Threads + 3 * Threads + 3);
    CHECK(R.Tier == R.Oracle);
    // Block 0: thread t's exclusive prefix of e(g) = 10g + 6 over g < t, then + a, + a + b, + a + b + c.
    uint32_t Prefix = 0;
    for (uint32_t T = 0; T < Threads; ++T) {
      uint32_t A = T, B = 2 * T + 1, C = 3 * T + 2;
      CHECK(R.Tier[4 * T] == Prefix);
      CHECK(R.Tier[4 * T + 3] == Prefix + A + B + C);
      Prefix += 10 * T + 6;
    }
    CHECK(R.Tier[12 * Threads] == Prefix); // block 0's total, written by its thread 0 (g = 0)
    // The optimised entry (runBoth compiled the module in place) does not write a, b and c back to the arena in
    // each step, which only reads them.
    CHECK(storesOfOwnLoad(*L->M.IR->getFunction(std::string(cushim::ptx::RegionEntryPrefix) + "scan_tiles")) == 0);
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

TEST_CASE("region warps match fibers: shuffles, votes and reductions between block barriers", "[engine][t1]") {
  // v = a hash of gid. Every shfl mode (with segments of 8 lanes and lane-dependent sources), ballot/any/all,
  // redux add/min/max/xor, a loop of divergent length (g(tid.x % 32) = sum of k = tid.x % 32, +9, ... < 70) then
  // a shuffle loop with a uniform trip count summing v + g over the warp, and one warp-uniform branch around a
  // shuffle; then a block-wide sum of the warp sums through shared memory. Eleven words per thread. Without the
  // divergent loop (G_OF_TID: the loop, or g = 5 * (tid.x % 32) instead), the block's threads run the regions without
  // warp cuts as one loop and only those after warp cuts warp by warp; with it, every region runs warp by warp (the
  // exchange buffers alternate per warp across the loop cut).
  const std::string Kernel = R"(
 .shared .align 4 .b8 sums[128];
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mov.u32 %w1, %tid.y;
 mad.lo.s32 %w2, %w1, %r3, %r1;
 mov.u32 %w3, %ntid.y;
 mul.lo.s32 %w4, %r3, %w3;
 mad.lo.s32 %r4, %r2, %w4, %w2;
 mul.lo.s32 %r5, %r4, -1640531535;
 shr.u32 %r6, %r5, 7;
 xor.b32 %r5, %r5, %r6;
 shfl.sync.down.b32 %r7|%q1, %r5, 5, 31, -1;
 shfl.sync.up.b32 %r8, %r5, 3, 0, -1;
 shfl.sync.bfly.b32 %r9, %r5, 9, 31, -1;
 and.b32 %r10, %r5, 31;
 shfl.sync.idx.b32 %r11, %r5, %r10, 6175, -1;
 shfl.sync.down.b32 %r12|%q2, %r5, 2, 6175, -1;
 selp.u32 %r13, 1000, 0, %q1;
 add.s32 %r7, %r7, %r13;
 selp.u32 %r13, 1000, 0, %q2;
 add.s32 %r12, %r12, %r13;
 and.b32 %r14, %r5, 1;
 setp.ne.u32 %q3, %r14, 0;
 vote.sync.ballot.b32 %r15, %q3, -1;
 rem.u32 %r16, %r5, 7;
 setp.eq.u32 %q4, %r16, 0;
 vote.sync.any.pred %q5, %q4, -1;
 setp.lt.u32 %q4, %r4, 1000000;
 vote.sync.all.pred %q6, %q4, -1;
 selp.u32 %r17, 1, 0, %q5;
 selp.u32 %r18, 2, 0, %q6;
 or.b32 %r17, %r17, %r18;
 redux.sync.add.u32 %r19, %r5, -1;
 redux.sync.min.s32 %r20, %r5, -1;
 redux.sync.max.u32 %r21, %r5, -1;
 redux.sync.xor.b32 %r22, %r5, -1;
 and.b32 %w30, %r1, 31;
 mov.u32 %w32, 0;
G_OF_TID
 add.s32 %r23, %r5, %w32;
 mov.u32 %r24, 16;
$SUM:
 shfl.sync.down.b32 %r25, %r23, %r24, 31, -1;
 add.s32 %r23, %r23, %r25;
 shr.u32 %r24, %r24, 1;
 setp.ne.u32 %q7, %r24, 0;
 @%q7 bra $SUM;
 shr.u32 %w5, %w2, 5;
 and.b32 %w6, %w2, 31;
 setp.ne.u32 %q7, %w6, 0;
 @%q7 bra $NOSTORE;
 shl.b32 %w7, %w5, 2;
 mov.u32 %w8, sums;
 add.s32 %w9, %w8, %w7;
 st.shared.u32 [%w9], %r23;
$NOSTORE:
 shr.u32 %w10, %r1, 5;
 and.b32 %w11, %w10, 1;
 setp.eq.u32 %q7, %w11, 1;
 mov.u32 %r26, 0;
 @%q7 bra $ODD;
 shfl.sync.bfly.b32 %r26, %r5, 1, 31, -1;
$ODD:
 bar.sync 0;
 shr.u32 %w12, %w4, 5;
 mov.u32 %r27, 0;
 mov.u32 %w13, 0;
 mov.u32 %w8, sums;
$BLOCK:
 ld.shared.u32 %w14, [%w8];
 add.s32 %r27, %r27, %w14;
 add.s32 %w8, %w8, 4;
 add.s32 %w13, %w13, 1;
 setp.lt.u32 %q7, %w13, %w12;
 @%q7 bra $BLOCK;
 mul.lo.s32 %w15, %r4, 11;
 mul.wide.u32 %rd2, %w15, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r7;
 st.global.u32 [%rd3+4], %r8;
 st.global.u32 [%rd3+8], %r9;
 st.global.u32 [%rd3+12], %r11;
 st.global.u32 [%rd3+16], %r12;
 st.global.u32 [%rd3+20], %r15;
 st.global.u32 [%rd3+24], %r17;
 xor.b32 %r19, %r19, %r20;
 st.global.u32 [%rd3+28], %r19;
 xor.b32 %r21, %r21, %r22;
 st.global.u32 [%rd3+32], %r21;
 add.s32 %r26, %r26, %r23;
 st.global.u32 [%rd3+36], %r26;
 st.global.u32 [%rd3+40], %r27;
)";
  const std::string Loop = R"($GRID:
 setp.ge.u32 %q7, %w30, 70;
 @%q7 bra $GRID_DONE;
 add.s32 %w32, %w32, %w30;
 add.s32 %w30, %w30, 9;
 bra $GRID;
$GRID_DONE:
)";
  for (bool DivergentLoop : {true, false}) {
    INFO((DivergentLoop ? "with" : "without") << " the divergent loop");
    std::string Body = Kernel;
    Body.replace(Body.find("G_OF_TID"), 8, DivergentLoop ? Loop : " mul.lo.u32 %w32, %w30, 5;");
    auto L = lower(entry("warps", Body));
    REQUIRE(hasRegionEntry(*L, "warps"));
    REQUIRE((kernelInfo(*L, "warps").Flags & CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS) != 0);
    CHECK(runsWarpByWarp(*L, "warps") == DivergentLoop);
    // Rows of whole warps run the region entry; 16 x 4 (a warp spans two rows) runs another tier, with the same
    // results.
    for (std::array<uint32_t, 3> Block :
         {std::array<uint32_t, 3>{32, 1, 1}, {256, 1, 1}, {64, 4, 1}, {1024, 1, 1}, {16, 4, 1}}) {
      INFO(Block[0] << " x " << Block[1] << " threads");
      uint32_t Threads = Block[0] * Block[1];
      TierRuns R = runBoth(*L, "warps", {2, 1, 1}, Block, 11 * 2 * Threads);
      CHECK(R.Tier == R.Oracle);
      // Spot checks against the definition: block 1's lane 0 of its first warp.
      auto hash = [](uint32_t G) {
        uint32_t V = G * 2654435761u;
        return V ^ (V >> 7);
      };
      uint32_t First = Threads, Ballot = 0, BlockSum = 0;
      for (uint32_t Lane = 0; Lane < 32; ++Lane)
        Ballot |= (hash(First + Lane) & 1) << Lane;
      for (uint32_t T = 0; T < Threads; ++T) {
        BlockSum += hash(First + T);
        if (!DivergentLoop)
          BlockSum += 5 * ((T % Block[0]) % 32);
        else
          for (uint32_t K = (T % Block[0]) % 32; K < 70; K += 9)
            BlockSum += K;
      }
      CHECK(R.Tier[11 * First + 5] == Ballot);
      CHECK(R.Tier[11 * First + 2] == hash(First + 9)); // bfly 9
      CHECK(R.Tier[11 * First + 10] == BlockSum);
      CHECK(R.Tier[11 * (First + 3) + 1] == hash(First)); // up 3
    }
  }
}

TEST_CASE("region blocks match fibers: loops of divergent length run in lockstep", "[engine][t1]") {
  // Three rounds (a uniform loop with two barriers). Each round: a loop of (tid * 7 + round) % 11 iterations
  // (none for some threads) with an early exit; s[tid] = acc; barrier; acc += s[(tid + 1) % ntid]; barrier.
  // Then nested loops of divergent length (the inner one is cut). out[gid] = acc.
  auto L = lower(entry("lockstep", R"(
 .shared .align 4 .b8 s[4096];
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 mov.u32 %r5, 0;
 mov.u32 %w1, 0;
 shl.b32 %w20, %r1, 2;
 mov.u32 %w21, s;
 add.s32 %w22, %w21, %w20;
$ROUND:
 mad.lo.s32 %w2, %r1, 7, %w1;
 rem.u32 %w3, %w2, 11;
 mov.u32 %w4, 0;
 setp.eq.u32 %q1, %w3, 0;
 @%q1 bra $INNER_DONE;
$INNER:
 mul.lo.s32 %w5, %w4, %r4;
 xor.b32 %w5, %w5, %w1;
 add.s32 %r5, %r5, %w5;
 and.b32 %w6, %r5, 256;
 setp.ne.u32 %q2, %w6, 0;
 setp.gt.u32 %q3, %w4, 5;
 and.pred %q2, %q2, %q3;
 @%q2 bra $INNER_DONE;
 add.s32 %w4, %w4, 1;
 setp.lt.u32 %q4, %w4, %w3;
 @%q4 bra $INNER;
$INNER_DONE:
 st.shared.u32 [%w22], %r5;
 bar.sync 0;
 add.s32 %w7, %r1, 1;
 rem.u32 %w8, %w7, %r3;
 shl.b32 %w9, %w8, 2;
 add.s32 %w10, %w21, %w9;
 ld.shared.u32 %w11, [%w10];
 add.s32 %r5, %r5, %w11;
 bar.sync 0;
 add.s32 %w1, %w1, 1;
 setp.lt.u32 %q5, %w1, 3;
 @%q5 bra $ROUND;
 and.b32 %w12, %r1, 3;
 mov.u32 %w13, 0;
$OUTER:
 setp.ge.u32 %q6, %w13, %w12;
 @%q6 bra $OUTER_DONE;
 add.s32 %w14, %w13, %r1;
 rem.u32 %w15, %w14, 3;
 mov.u32 %w16, 0;
$NESTED:
 setp.ge.u32 %q7, %w16, %w15;
 @%q7 bra $NESTED_DONE;
 mad.lo.s32 %r5, %w13, %w16, %r5;
 add.s32 %r5, %r5, 1;
 add.s32 %w16, %w16, 1;
 bra $NESTED;
$NESTED_DONE:
 add.s32 %w13, %w13, 1;
 bra $OUTER;
$OUTER_DONE:
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r5;
)"));
  REQUIRE(hasRegionEntry(*L, "lockstep"));
  for (uint32_t Threads : {1u, 7u, 64u, 256u, 1024u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "lockstep", {2, 1, 1}, {Threads, 1, 1}, 2 * Threads);
    CHECK(R.Tier == R.Oracle);
  }
}

TEST_CASE("region warps match fibers: lanes that diverge between the shuffles of a loop", "[engine][t1]") {
  // Four rounds: acc += shfl.bfly(acc, 1); then a loop of (lane % 5 + round) iterations. Lanes with short loops
  // reach the next round's shuffle while others are still looping: the shuffle must wait for all of them.
  auto L = lower(entry("rounds", R"(
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 and.b32 %w1, %r1, 31;
 rem.u32 %w2, %w1, 5;
 mad.lo.s32 %r5, %r4, 13, 1;
 mov.u32 %w3, 0;
$ROUND:
 shfl.sync.bfly.b32 %w4, %r5, 1, 31, -1;
 add.s32 %r5, %r5, %w4;
 add.s32 %w5, %w2, %w3;
 mov.u32 %w6, 0;
$INNER:
 setp.ge.u32 %q1, %w6, %w5;
 @%q1 bra $INNER_DONE;
 mad.lo.s32 %r5, %r5, 3, %w6;
 add.s32 %w6, %w6, 1;
 bra $INNER;
$INNER_DONE:
 add.s32 %w3, %w3, 1;
 setp.lt.u32 %q2, %w3, 4;
 @%q2 bra $ROUND;
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r5;
)"));
  REQUIRE(hasRegionEntry(*L, "rounds"));
  for (uint32_t Threads : {32u, 128u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "rounds", {2, 1, 1}, {Threads, 1, 1}, 2 * Threads);
    CHECK(R.Tier == R.Oracle);
  }
}

TEST_CASE("region blocks match fibers: stepped loops, entered together or again from inside", "[engine][t1]") {
  // Loop A (i = tid; i < tid * 5 % 37 + 3 + (tid % 13) * ntid; i += ntid) is entered by every thread in region 0:
  // a lockstep pass reads its iteration count once for all threads (and runs several iterations per pass). Loop B
  // (j = gid; j < gid % 9 + gid + 20; j += 7) is inside a loop of tid % 3 + 1 rounds, so threads enter it again
  // from its own region, at different passes: they keep their own counts. After a barrier, loop C steps a 64-bit
  // index by ntid from tid + 11 (entered together again). out[gid] = what all three made of acc.
  auto L = lower(entry("stepped", R"(
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 mul.lo.s32 %w1, %r1, 5;
 rem.u32 %w2, %w1, 37;
 add.s32 %w2, %w2, 3;
 rem.u32 %w9, %r1, 13;
 mad.lo.s32 %w2, %w9, %r3, %w2;
 mov.u32 %r5, 0;
 mov.u32 %w3, %r1;
 setp.ge.u32 %q1, %w3, %w2;
 @%q1 bra $A_DONE;
$A:
 mul.lo.s32 %w4, %w3, 3;
 xor.b32 %w4, %w4, %r5;
 add.s32 %r5, %r5, %w4;
 add.s32 %w3, %w3, %r3;
 setp.lt.u32 %q2, %w3, %w2;
 @%q2 bra $A;
$A_DONE:
 rem.u32 %w5, %r4, 9;
 add.s32 %w5, %w5, %r4;
 add.s32 %w5, %w5, 20;
 rem.u32 %w10, %r1, 3;
 mov.u32 %w11, 0;
$OUTER:
 mov.u32 %w6, %r4;
$B:
 mad.lo.s32 %r5, %r5, 5, %w6;
 add.s32 %w6, %w6, 7;
 setp.lt.u32 %q3, %w6, %w5;
 @%q3 bra $B;
 add.s32 %w11, %w11, 1;
 setp.le.u32 %q5, %w11, %w10;
 @%q5 bra $OUTER;
 bar.sync 0;
 cvt.u64.u32 %rd4, %r1;
 cvt.u64.u32 %rd5, %r3;
 add.s64 %rd6, %rd4, 11;
 and.b32 %w7, %r1, 15;
 cvt.u64.u32 %rd7, %w7;
 mul.lo.s64 %rd7, %rd7, %rd5;
 add.s64 %rd7, %rd7, %rd6;
$C:
 cvt.u32.u64 %w8, %rd6;
 add.s32 %r5, %r5, %w8;
 shl.b32 %r5, %r5, 1;
 add.s64 %rd6, %rd6, %rd5;
 setp.le.u64 %q4, %rd6, %rd7;
 @%q4 bra $C;
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r5;
)"));
  REQUIRE(hasRegionEntry(*L, "stepped"));
  for (uint32_t Threads : {1u, 13u, 64u, 256u, 1024u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "stepped", {2, 1, 1}, {Threads, 1, 1}, 2 * Threads);
    CHECK(R.Tier == R.Oracle);
    // Thread 30 of block 1, by hand.
    if (Threads == 64) {
      uint32_t Tid = 30, Gid = 64 + Tid, Acc = 0;
      for (uint32_t I = Tid; I < Tid * 5 % 37 + 3 + Tid % 13 * Threads; I += Threads)
        Acc += (I * 3) ^ Acc;
      for (uint32_t Round = 0; Round <= Tid % 3; ++Round)
        for (uint32_t J = Gid; J < Gid % 9 + Gid + 20; J += 7)
          Acc = Acc * 5 + J;
      uint64_t Limit = (Tid & 15) * uint64_t(Threads) + Tid + 11;
      for (uint64_t K = Tid + 11; K <= Limit; K += Threads)
        Acc = (Acc + uint32_t(K)) << 1;
      CHECK(R.Tier[Gid] == Acc);
    }
  }
}

TEST_CASE("region blocks match fibers: stepped values of a loop with barriers", "[engine][t1]") {
  // A loop of 6 rounds with two barriers: j = tid * 3 + round * ntid (32 bits) and a = 1000 - round * 24 (64 bits,
  // a step every thread has, counted down) cross the barriers as I0 + round * S. Each round: s[tid] = j ^ a;
  // barrier; acc += s[(tid + round) % ntid] * (round + 1); barrier. out[gid] = acc.
  auto L = lower(entry("rounds", R"(
 .shared .align 4 .b8 s[4096];
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 mov.u32 %r5, 0;
 mul.lo.s32 %w1, %r1, 3;
 mov.u64 %rd4, 1000;
 mov.u32 %w2, 0;
 shl.b32 %w3, %r1, 2;
 mov.u32 %w4, s;
 add.s32 %w5, %w4, %w3;
$ROUND:
 cvt.u32.u64 %w6, %rd4;
 xor.b32 %w7, %w1, %w6;
 st.shared.u32 [%w5], %w7;
 bar.sync 0;
 add.s32 %w8, %r1, %w2;
 rem.u32 %w9, %w8, %r3;
 shl.b32 %w10, %w9, 2;
 add.s32 %w11, %w4, %w10;
 ld.shared.u32 %w12, [%w11];
 add.s32 %w13, %w2, 1;
 mad.lo.s32 %r5, %w12, %w13, %r5;
 bar.sync 0;
 add.s32 %w1, %w1, %r3;
 add.s64 %rd4, %rd4, -24;
 add.s32 %w2, %w2, 1;
 setp.lt.u32 %q1, %w2, 6;
 @%q1 bra $ROUND;
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r5;
)"));
  REQUIRE(hasRegionEntry(*L, "rounds"));
  for (uint32_t Threads : {1u, 48u, 256u}) {
    INFO(Threads << " threads");
    TierRuns R = runBoth(*L, "rounds", {2, 1, 1}, {Threads, 1, 1}, 2 * Threads);
    CHECK(R.Tier == R.Oracle);
    uint32_t Tid = Threads - 1, Acc = 0;
    for (uint32_t Round = 0; Round < 6; ++Round) {
      uint32_t From = (Tid + Round) % Threads;
      Acc += ((From * 3 + Round * Threads) ^ (1000 - Round * 24)) * (Round + 1);
    }
    CHECK(R.Tier[2 * Threads - 1] == Acc);
  }
}

namespace {

// A grid-stride loop (i = gid; i < 5000; i += nctaid * ntid; acc = (acc ^ i) * 3 + 1), then a barrier, or with
// WithShuffle a shuffle first (acc += the next lane's acc), which makes the entry run warp by warp. Its lockstep
// passes keep every thread in the loop except the last (or first) few, so a pass runs the copy with the loop's
// exits folded (GuardVersioning) or the general one, and blocks of high gid have threads that never enter.
std::string gridStride(const std::string &Name, bool WithShuffle) {
  return entry(Name, std::string(R"(
 ld.param.u64 %rd1, [p];
 mov.u32 %r3, %ntid.x;
 mov.u32 %r6, %nctaid.x;
 mad.lo.s32 %r4, %r2, %r3, %r1;
 mul.lo.s32 %w1, %r6, %r3;
 mov.u32 %r5, 7;
 mov.u32 %w2, %r4;
 setp.ge.u32 %q1, %w2, 5000;
 @%q1 bra $DONE;
$LOOP:
 xor.b32 %w3, %r5, %w2;
 mad.lo.s32 %r5, %w3, 3, 1;
 add.s32 %w2, %w2, %w1;
 setp.lt.u32 %q2, %w2, 5000;
 @%q2 bra $LOOP;
$DONE:
)") + (WithShuffle ? " shfl.sync.down.b32 %w4, %r5, 1, 31, -1;\n add.s32 %r5, %r5, %w4;\n" : "") +
                             R"( bar.sync 0;
 mul.wide.u32 %rd2, %r4, 4;
 add.s64 %rd3, %rd1, %rd2;
 st.global.u32 [%rd3], %r5;
)");
}

uint32_t gridStrideSum(uint32_t Gid, uint32_t Stride) {
  uint32_t Acc = 7;
  for (uint32_t I = Gid; I < 5000; I += Stride)
    Acc = (Acc ^ I) * 3 + 1;
  return Acc;
}

} // namespace

TEST_CASE("region blocks match fibers: grid-stride loops, passes with all threads in the loop", "[engine][t1]") {
  for (bool WithShuffle : {false, true}) {
    INFO((WithShuffle ? "warps" : "block"));
    auto L = lower(gridStride("gridstride", WithShuffle));
    REQUIRE(hasRegionEntry(*L, "gridstride"));
    // Many iterations per thread; one or none (20 x 256 >= 5000: every block's threads leave at the first copy, the
    // last block's do not all enter); one or two.
    for (auto [Blocks, Threads] :
         {std::pair{2u, 32u}, {2u, 64u}, {3u, 256u}, {8u, 1024u}, {20u, 256u}, {10u, 256u}, {5u, 1024u}}) {
      INFO(Blocks << " blocks of " << Threads << " threads");
      TierRuns R = runBoth(*L, "gridstride", {Blocks, 1, 1}, {Threads, 1, 1}, Blocks * Threads);
      CHECK(R.Tier == R.Oracle);
      // Thread 5 of block 1, by hand.
      uint32_t Gid = Threads + 5, Stride = Blocks * Threads;
      CHECK(R.Tier[Gid] == gridStrideSum(Gid, Stride) + (WithShuffle ? gridStrideSum(Gid + 1, Stride) : 0));
    }
  }
}

TEST_CASE("kernels without barriers run grid-stride loops on a region entry, other loops on a flat entry",
          "[engine][t1]") {
  // The grid-stride loop above without the barrier; and a loop whose start each thread reads from memory.
  std::string NoBarrier = gridStride("gridstride_flat", false);
  NoBarrier.erase(NoBarrier.find(" bar.sync 0;"), std::string(" bar.sync 0;").size());
  auto L = lower(NoBarrier + entry("loaded_start", R"(
 ld.param.u64 %rd1, [p];
 mul.wide.u32 %rd2, %r1, 4;
 add.s64 %rd3, %rd1, %rd2;
 ld.global.u32 %w2, [%rd3];
 mov.u32 %r5, 0;
$LOOP:
 add.s32 %r5, %r5, %w2;
 add.s32 %w2, %w2, 1;
 setp.lt.u32 %q2, %w2, 100;
 @%q2 bra $LOOP;
 st.global.u32 [%rd3], %r5;
)"));
  CHECK(hasRegionEntry(*L, "gridstride_flat"));
  CHECK((kernelInfo(*L, "gridstride_flat").Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY) == 0);
  CHECK_FALSE(hasRegionEntry(*L, "loaded_start"));
  CHECK((kernelInfo(*L, "loaded_start").Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY) != 0);
  for (auto [Blocks, Threads] : {std::pair{2u, 64u}, {3u, 256u}, {20u, 256u}, {10u, 256u}}) {
    INFO(Blocks << " blocks of " << Threads << " threads");
    TierRuns R = runBoth(*L, "gridstride_flat", {Blocks, 1, 1}, {Threads, 1, 1}, Blocks * Threads);
    CHECK(R.Tier == R.Oracle);
    uint32_t Gid = Threads + 5, Stride = Blocks * Threads;
    CHECK(R.Tier[Gid] == gridStrideSum(Gid, Stride));
  }
}
