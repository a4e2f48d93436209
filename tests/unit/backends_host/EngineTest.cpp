// Execution engine tests: thread coordinates, barriers (tree reduction, exits, named barriers, bar.red), warp
// collectives, traps, asserts, printf and device malloc, each checked against a CPU reference.
#include "TestSupport.h"

#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace cushim::test;

namespace {

constexpr uint32_t Barriers = CUSHIM_HAL_KERNEL_USES_BARRIERS;
constexpr uint32_t WarpOps = CUSHIM_HAL_KERNEL_USES_WARP_OPS;

// out[4*g + 0..3] = packed tid, packed ctaid, laneid, warpid | nwarpid << 8 | (smid < nsmid) << 16
const std::string IdsKernel = std::string(R"IR(
define void @ids(ptr %p, ptr %c) {
entry:
  %out = load ptr, ptr %p
)IR") + field("tx", TidX) + field("ty", TidY) +
                              field("tz", TidZ) + field("nx", NtidX) + field("ny", NtidY) + field("nz", NtidZ) +
                              field("cx", CtaX) + field("cy", CtaY) + field("cz", CtaZ) + field("gx", NctaX) +
                              field("gy", NctaY) + field("lane", LaneId) + field("warp", WarpId) +
                              field("nwarp", NWarpId) + field("sm", SmId) + field("nsm", NSmId) + R"IR(
  %b0 = mul i32 %cz, %gy
  %b1 = add i32 %b0, %cy
  %b2 = mul i32 %b1, %gx
  %blin = add i32 %b2, %cx
  %t0 = mul i32 %tz, %ny
  %t1 = add i32 %t0, %ty
  %t2 = mul i32 %t1, %nx
  %tlin = add i32 %t2, %tx
  %nxy = mul i32 %nx, %ny
  %nthr = mul i32 %nxy, %nz
  %g0 = mul i32 %blin, %nthr
  %g = add i32 %g0, %tlin
  %ty10 = shl i32 %ty, 10
  %tz20 = shl i32 %tz, 20
  %pt0 = or i32 %tx, %ty10
  %pt = or i32 %pt0, %tz20
  %cy10 = shl i32 %cy, 10
  %cz20 = shl i32 %cz, 20
  %pc0 = or i32 %cx, %cy10
  %pc = or i32 %pc0, %cz20
  %nw8 = shl i32 %nwarp, 8
  %smok = icmp ult i32 %sm, %nsm
  %smok32 = zext i1 %smok to i32
  %smok16 = shl i32 %smok32, 16
  %w0 = or i32 %warp, %nw8
  %w = or i32 %w0, %smok16
  %base = mul i32 %g, 4
  %base64 = zext i32 %base to i64
  %q0 = getelementptr inbounds i32, ptr %out, i64 %base64
  store i32 %pt, ptr %q0
  %q1 = getelementptr inbounds i32, ptr %q0, i64 1
  store i32 %pc, ptr %q1
  %q2 = getelementptr inbounds i32, ptr %q0, i64 2
  store i32 %lane, ptr %q2
  %q3 = getelementptr inbounds i32, ptr %q0, i64 3
  store i32 %w, ptr %q3
  ret void
}
)IR";

void checkIds(HostFixture &F, uint32_t Flags) {
  std::string Object = compileIr(IdsKernel);
  cushim_hal_module M = F.load(Object, {kernelDesc("ids", Flags, 8)});
  cushim_hal_kernel K = F.kernel(M, "ids");
  std::array<uint32_t, 3> Grid{3, 2, 2}, Block{5, 3, 4};
  uint32_t Threads = 60, Blocks = 12;
  std::vector<uint32_t> Out(Threads * Blocks * 4, 0xdeadbeef);
  void *Ptr = Out.data();
  REQUIRE(F.launch(K, Grid, Block, &Ptr, sizeof(Ptr)) == 0);
  REQUIRE(F.sync() == 0);
  for (uint32_t Bz = 0; Bz < 2; ++Bz)
    for (uint32_t By = 0; By < 2; ++By)
      for (uint32_t Bx = 0; Bx < 3; ++Bx)
        for (uint32_t Tz = 0; Tz < 4; ++Tz)
          for (uint32_t Ty = 0; Ty < 3; ++Ty)
            for (uint32_t Tx = 0; Tx < 5; ++Tx) {
              uint32_t BLin = (Bz * 2 + By) * 3 + Bx, TLin = (Tz * 3 + Ty) * 5 + Tx;
              uint32_t G = BLin * Threads + TLin;
              INFO("block " << BLin << " thread " << TLin);
              CHECK(Out[G * 4 + 0] == (Tx | Ty << 10 | Tz << 20));
              CHECK(Out[G * 4 + 1] == (Bx | By << 10 | Bz << 20));
              CHECK(Out[G * 4 + 2] == TLin % 32);
              CHECK(Out[G * 4 + 3] == ((TLin / 32) | (2u << 8) | (1u << 16)));
            }
  REQUIRE(F.Ops->module_unload(M) == 0);
}

} // namespace

TEST_CASE("every thread sees its coordinates (fast path)", "[engine]") {
  HostFixture F;
  checkIds(F, 0);
}

TEST_CASE("every thread sees its coordinates (fiber mode)", "[engine]") {
  HostFixture F;
  checkIds(F, Barriers | WarpOps);
}

// Shared-memory tree reduction with bar.sync in a loop; dynamic shared memory of ntid.x ints.
static const std::string ReduceKernel = std::string(R"IR(
define void @reduce(ptr %p, ptr %c) {
entry:
  %in = load ptr, ptr %p
  %outp = getelementptr inbounds i8, ptr %p, i64 8
  %out = load ptr, ptr %outp
)IR") + field("tid", TidX) + field("n", NtidX) +
                                        field("bid", CtaX) + R"IR(
  %shp = getelementptr inbounds i8, ptr %c, i64 104
  %sh = load ptr, ptr %shp
  %g0 = mul i32 %bid, %n
  %g = add i32 %g0, %tid
  %g64 = zext i32 %g to i64
  %src = getelementptr inbounds i32, ptr %in, i64 %g64
  %v = load i32, ptr %src
  %tid64 = zext i32 %tid to i64
  %mine = getelementptr inbounds i32, ptr %sh, i64 %tid64
  store i32 %v, ptr %mine
  call void @__cushim_bar_sync(ptr %c, i32 0, i32 0)
  %s0 = lshr i32 %n, 1
  br label %loop
loop:
  %s = phi i32 [ %s0, %entry ], [ %snext, %cont ]
  %done = icmp eq i32 %s, 0
  br i1 %done, label %exit, label %body
body:
  %active = icmp ult i32 %tid, %s
  br i1 %active, label %add, label %cont
add:
  %o = add i32 %tid, %s
  %o64 = zext i32 %o to i64
  %op = getelementptr inbounds i32, ptr %sh, i64 %o64
  %a = load i32, ptr %mine
  %b = load i32, ptr %op
  %sum = add i32 %a, %b
  store i32 %sum, ptr %mine
  br label %cont
cont:
  call void @__cushim_bar_sync(ptr %c, i32 0, i32 0)
  %snext = lshr i32 %s, 1
  br label %loop
exit:
  %first = icmp eq i32 %tid, 0
  br i1 %first, label %write, label %end
write:
  %r = load i32, ptr %sh
  %bid64 = zext i32 %bid to i64
  %dst = getelementptr inbounds i32, ptr %out, i64 %bid64
  store i32 %r, ptr %dst
  br label %end
end:
  ret void
}
)IR";

TEST_CASE("shared-memory tree reduction with barriers in a loop", "[engine][barrier]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(ReduceKernel), {kernelDesc("reduce", Barriers, 16)});
  cushim_hal_kernel K = F.kernel(M, "reduce");
  for (uint32_t BlockSize : {1u, 32u, 256u, 1024u}) {
    uint32_t Blocks = 37;
    std::vector<int32_t> In(BlockSize * Blocks), Out(Blocks, -1);
    for (size_t I = 0; I < In.size(); ++I)
      In[I] = static_cast<int32_t>(I * 7 % 1001) - 300;
    void *Params[2] = {In.data(), Out.data()};
    REQUIRE(F.launch(K, {Blocks, 1, 1}, {BlockSize, 1, 1}, Params, sizeof(Params), BlockSize * 4) == 0);
    REQUIRE(F.sync() == 0);
    for (uint32_t B = 0; B < Blocks; ++B) {
      int32_t Expected = 0;
      for (uint32_t T = 0; T < BlockSize; ++T)
        Expected += In[B * BlockSize + T];
      INFO("block size " << BlockSize << " block " << B);
      CHECK(Out[B] == Expected);
    }
  }
}

// Odd threads leave (through __cushim_exit, or by returning when %ret is set) before the barrier; the even ones
// exchange values through shared memory across it.
static const std::string HalfExitKernel = std::string(R"IR(
define void @half_exit(ptr %p, ptr %c) {
entry:
  %out = load ptr, ptr %p
  %modep = getelementptr inbounds i8, ptr %p, i64 8
  %mode = load i32, ptr %modep
)IR") + field("tid", TidX) + field("n", NtidX) +
                                          R"IR(
  %shp = getelementptr inbounds i8, ptr %c, i64 104
  %sh = load ptr, ptr %shp
  %odd = and i32 %tid, 1
  %isodd = icmp ne i32 %odd, 0
  br i1 %isodd, label %leave, label %work
leave:
  %useexit = icmp eq i32 %mode, 0
  br i1 %useexit, label %callexit, label %ret
callexit:
  call void @__cushim_exit(ptr %c)
  unreachable
ret:
  ret void
work:
  %v = mul i32 %tid, 3
  %tid64 = zext i32 %tid to i64
  %mine = getelementptr inbounds i32, ptr %sh, i64 %tid64
  store i32 %v, ptr %mine
  call void @__cushim_bar_sync(ptr %c, i32 0, i32 0)
  %j0 = add i32 %tid, 2
  %j = urem i32 %j0, %n
  %j64 = zext i32 %j to i64
  %theirs = getelementptr inbounds i32, ptr %sh, i64 %j64
  %w = load i32, ptr %theirs
  %dst = getelementptr inbounds i32, ptr %out, i64 %tid64
  store i32 %w, ptr %dst
  call void @__cushim_bar_sync(ptr %c, i32 0, i32 0)
  ret void
}
)IR";

TEST_CASE("threads that exit count as arrived at later barriers", "[engine][barrier]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(HalfExitKernel), {kernelDesc("half_exit", Barriers, 12, 0)});
  cushim_hal_kernel K = F.kernel(M, "half_exit");
  for (uint32_t Mode : {0u, 1u}) {
    const uint32_t N = 128;
    std::vector<uint32_t> Out(N, 0xffffffff);
    struct {
      void *Out;
      uint32_t Mode;
    } Params{Out.data(), Mode};
    REQUIRE(F.launch(K, {2, 1, 1}, {N, 1, 1}, &Params, 12, N * 4) == 0);
    REQUIRE(F.sync() == 0);
    for (uint32_t T = 0; T < N; ++T) {
      INFO("mode " << Mode << " thread " << T);
      CHECK(Out[T] == (T % 2 ? 0xffffffffu : (T + 2) % N * 3));
    }
  }
}

// Threads 0..31 consume what threads 32..63 produce, synchronised by named barrier 1 with a count of 64
// (producers bar.arrive, consumers bar.sync); bar.red popc/and/or over (tid % 3 == 0) on barrier 2.
static const std::string NamedBarrierKernel = std::string(R"IR(
define void @named(ptr %p, ptr %c) {
entry:
  %out = load ptr, ptr %p
)IR") + field("tid", TidX) + R"IR(
  %shp = getelementptr inbounds i8, ptr %c, i64 104
  %sh = load ptr, ptr %shp
  %tid64 = zext i32 %tid to i64
  %producer = icmp uge i32 %tid, 32
  br i1 %producer, label %produce, label %consume
produce:
  %v = add i32 %tid, 100
  %slot = sub i64 %tid64, 32
  %sp = getelementptr inbounds i32, ptr %sh, i64 %slot
  store i32 %v, ptr %sp
  call void @__cushim_bar_arrive(ptr %c, i32 1, i32 64)
  br label %red
consume:
  call void @__cushim_bar_sync(ptr %c, i32 1, i32 64)
  %cp = getelementptr inbounds i32, ptr %sh, i64 %tid64
  %got = load i32, ptr %cp
  %dst = getelementptr inbounds i32, ptr %out, i64 %tid64
  store i32 %got, ptr %dst
  br label %red
red:
  %m = urem i32 %tid, 3
  %pred = icmp eq i32 %m, 0
  %pred32 = zext i1 %pred to i32
  %popc = call i32 @__cushim_bar_red(ptr %c, i32 2, i32 0, i32 0, i32 %pred32)
  %all = call i32 @__cushim_bar_red(ptr %c, i32 2, i32 0, i32 1, i32 %pred32)
  %any = call i32 @__cushim_bar_red(ptr %c, i32 3, i32 0, i32 2, i32 %pred32)
  %i1 = add i64 %tid64, 64
  %d1 = getelementptr inbounds i32, ptr %out, i64 %i1
  store i32 %popc, ptr %d1
  %i2 = add i64 %tid64, 128
  %d2 = getelementptr inbounds i32, ptr %out, i64 %i2
  store i32 %all, ptr %d2
  %i3 = add i64 %tid64, 192
  %d3 = getelementptr inbounds i32, ptr %out, i64 %i3
  store i32 %any, ptr %d3
  ret void
}
)IR";

TEST_CASE("named barriers with counts, bar.arrive and bar.red", "[engine][barrier]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(NamedBarrierKernel), {kernelDesc("named", Barriers, 8, 128)});
  cushim_hal_kernel K = F.kernel(M, "named");
  std::vector<uint32_t> Out(256, 0xffffffff);
  void *Ptr = Out.data();
  REQUIRE(F.launch(K, {1, 1, 1}, {64, 1, 1}, &Ptr, sizeof(Ptr)) == 0);
  REQUIRE(F.sync() == 0);
  for (uint32_t T = 0; T < 32; ++T)
    CHECK(Out[T] == T + 32 + 100);
  for (uint32_t T = 0; T < 64; ++T) {
    CHECK(Out[64 + T] == 22); // multiples of 3 in 0..63
    CHECK(Out[128 + T] == 0);
    CHECK(Out[192 + T] == 1);
  }
}

// Half the block waits on barrier 1, the other half on barrier 2, each with a count of the whole block: a real
// deadlock, which must fail the launch instead of hanging.
static const std::string DeadlockKernel = std::string(R"IR(
define void @deadlock(ptr %p, ptr %c) {
entry:
)IR") + field("tid", TidX) + R"IR(
  %low = icmp ult i32 %tid, 32
  %id = select i1 %low, i32 1, i32 2
  call void @__cushim_bar_sync(ptr %c, i32 %id, i32 64)
  ret void
}
define void @misflagged(ptr %p, ptr %c) {
entry:
  call void @__cushim_bar_sync(ptr %c, i32 0, i32 0)
  ret void
}
)IR";

TEST_CASE("a deadlocked or misflagged barrier fails the launch instead of hanging", "[engine][barrier]") {
  std::string Object = compileIr(DeadlockKernel);
  {
    HostFixture F;
    cushim_hal_module M = F.load(Object, {kernelDesc("deadlock", Barriers, 0), kernelDesc("misflagged", 0, 0)});
    REQUIRE(F.launch(F.kernel(M, "deadlock"), {4, 1, 1}, {64, 1, 1}, nullptr, 0) == 0);
    CHECK(F.sync() == CUDA_ERROR_LAUNCH_FAILED);
  }
  {
    HostFixture F;
    cushim_hal_module M = F.load(Object, {kernelDesc("deadlock", Barriers, 0), kernelDesc("misflagged", 0, 0)});
    // A lone thread may pass a barrier even in the fast path; two threads may not.
    REQUIRE(F.launch(F.kernel(M, "misflagged"), {2, 1, 1}, {1, 1, 1}, nullptr, 0) == 0);
    REQUIRE(F.sync() == 0);
    REQUIRE(F.launch(F.kernel(M, "misflagged"), {2, 1, 1}, {2, 1, 1}, nullptr, 0) == 0);
    CHECK(F.sync() == CUDA_ERROR_LAUNCH_FAILED);
  }
}

// Warp collectives: out[16*tid + k] for k = 0..10.
static const std::string WarpKernel = std::string(R"IR(
define void @warp(ptr %p, ptr %c) {
entry:
  %out = load ptr, ptr %p
)IR") + field("tid", TidX) + field("lane", LaneId) +
                                      R"IR(
  %pr = alloca i32
  %v0 = mul i32 %tid, 7
  %v = add i32 %v0, 1
  %bcast = call i32 @__cushim_shfl_sync(ptr %c, i32 3, i32 %v, i32 3, i32 31, i32 -1, ptr %pr)
  %down = call i32 @__cushim_shfl_sync(ptr %c, i32 1, i32 %v, i32 1, i32 31, i32 -1, ptr %pr)
  %downp = load i32, ptr %pr
  %up = call i32 @__cushim_shfl_sync(ptr %c, i32 0, i32 %v, i32 2, i32 0, i32 -1, ptr %pr)
  %upp = load i32, ptr %pr
  %bfly = call i32 @__cushim_shfl_sync(ptr %c, i32 2, i32 %v, i32 5, i32 31, i32 -1, ptr %pr)
  %seg = call i32 @__cushim_shfl_sync(ptr %c, i32 1, i32 %v, i32 4, i32 6175, i32 -1, ptr %pr)
  %segp = load i32, ptr %pr
  %m3 = urem i32 %tid, 3
  %p3 = icmp eq i32 %m3, 0
  %p3i = zext i1 %p3 to i32
  %ballot = call i32 @__cushim_vote_sync(ptr %c, i32 3, i32 %p3i, i32 -1)
  %any = call i32 @__cushim_vote_sync(ptr %c, i32 1, i32 %p3i, i32 -1)
  %all = call i32 @__cushim_vote_sync(ptr %c, i32 0, i32 %p3i, i32 -1)
  %sum = call i32 @__cushim_redux_sync(ptr %c, i32 0, i32 %v, i32 -1)
  %m4 = urem i32 %tid, 4
  %m4w = zext i32 %m4 to i64
  %match = call i32 @__cushim_match_sync(ptr %c, i32 0, i64 %m4w, i32 -1, ptr %pr)
  %odd = and i32 %lane, 1
  %isodd = icmp ne i32 %odd, 0
  br i1 %isodd, label %oddpath, label %join
oddpath:
  %am = call i32 @__cushim_activemask(ptr %c)
  br label %join
join:
  %amv = phi i32 [ %am, %oddpath ], [ 0, %entry ]
  %base0 = mul i32 %tid, 16
  %base = zext i32 %base0 to i64
  %o = getelementptr inbounds i32, ptr %out, i64 %base
  store i32 %bcast, ptr %o
  %o1 = getelementptr inbounds i32, ptr %o, i64 1
  store i32 %down, ptr %o1
  %o2 = getelementptr inbounds i32, ptr %o, i64 2
  store i32 %downp, ptr %o2
  %o3 = getelementptr inbounds i32, ptr %o, i64 3
  store i32 %up, ptr %o3
  %o4 = getelementptr inbounds i32, ptr %o, i64 4
  store i32 %upp, ptr %o4
  %o5 = getelementptr inbounds i32, ptr %o, i64 5
  store i32 %bfly, ptr %o5
  %o6 = getelementptr inbounds i32, ptr %o, i64 6
  store i32 %seg, ptr %o6
  %o7 = getelementptr inbounds i32, ptr %o, i64 7
  store i32 %segp, ptr %o7
  %o8 = getelementptr inbounds i32, ptr %o, i64 8
  store i32 %ballot, ptr %o8
  %o9 = getelementptr inbounds i32, ptr %o, i64 9
  store i32 %any, ptr %o9
  %o10 = getelementptr inbounds i32, ptr %o, i64 10
  store i32 %all, ptr %o10
  %o11 = getelementptr inbounds i32, ptr %o, i64 11
  store i32 %sum, ptr %o11
  %o12 = getelementptr inbounds i32, ptr %o, i64 12
  store i32 %match, ptr %o12
  %o13 = getelementptr inbounds i32, ptr %o, i64 13
  store i32 %amv, ptr %o13
  ret void
}
)IR";

TEST_CASE("warp shuffles, votes, redux, match and activemask", "[engine][warp]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(WarpKernel), {kernelDesc("warp", WarpOps, 8)});
  cushim_hal_kernel K = F.kernel(M, "warp");
  const uint32_t N = 64;
  std::vector<uint32_t> Out(N * 16, 0xffffffff);
  void *Ptr = Out.data();
  REQUIRE(F.launch(K, {1, 1, 1}, {N, 1, 1}, &Ptr, sizeof(Ptr)) == 0);
  REQUIRE(F.sync() == 0);
  auto V = [](uint32_t Tid) { return Tid * 7 + 1; };
  for (uint32_t T = 0; T < N; ++T) {
    uint32_t Lane = T % 32, WarpBase = T - Lane;
    const uint32_t *O = &Out[T * 16];
    INFO("thread " << T);
    CHECK(O[0] == V(WarpBase + 3));               // __shfl_sync(v, 3)
    CHECK(O[1] == (Lane < 31 ? V(T + 1) : V(T))); // __shfl_down_sync(v, 1)
    CHECK(O[2] == (Lane < 31));
    CHECK(O[3] == (Lane >= 2 ? V(T - 2) : V(T))); // __shfl_up_sync(v, 2)
    CHECK(O[4] == (Lane >= 2));
    CHECK(O[5] == V(WarpBase + (Lane ^ 5)));         // __shfl_xor_sync(v, 5)
    CHECK(O[6] == (Lane % 8 < 4 ? V(T + 4) : V(T))); // __shfl_down_sync(v, 4, width 8)
    CHECK(O[7] == (Lane % 8 < 4));
    uint32_t Ballot = 0;
    uint32_t Sum = 0;
    for (uint32_t L = 0; L < 32; ++L) {
      Ballot |= ((WarpBase + L) % 3 == 0) << L;
      Sum += V(WarpBase + L);
    }
    CHECK(O[8] == Ballot);
    CHECK(O[9] == 1);
    CHECK(O[10] == 0);
    CHECK(O[11] == Sum);
    CHECK(O[12] == (0x11111111u << (T % 4)));
    CHECK(O[13] == (Lane % 2 ? 0xaaaaaaaau : 0u));
  }
}

// Thread 5 of block 3 traps; or thread 0 of each block asserts.
static const std::string FaultKernels = std::string(R"IR(
@msg = private constant [6 x i8] c"x > 0\00"
@file = private constant [8 x i8] c"test.cu\00"
@fn = private constant [12 x i8] c"void kern()\00"
define void @trapper(ptr %p, ptr %c) {
entry:
  %out = load ptr, ptr %p
)IR") + field("tid", TidX) + field("bid", CtaX) +
                                        R"IR(
  %t5 = icmp eq i32 %tid, 5
  %b3 = icmp eq i32 %bid, 3
  %both = and i1 %t5, %b3
  br i1 %both, label %trap, label %ok
trap:
  call void @__cushim_trap(ptr %c)
  unreachable
ok:
  %bid64 = zext i32 %bid to i64
  %dst = getelementptr inbounds i32, ptr %out, i64 %bid64
  store i32 1, ptr %dst
  ret void
}
define void @asserter(ptr %p, ptr %c) {
entry:
)IR" + field("tid", TidX) + R"IR(
  %t0 = icmp eq i32 %tid, 1
  br i1 %t0, label %fail, label %ok
fail:
  %m = alloca ptr
  store ptr @msg, ptr %m
  %f = alloca ptr
  store ptr @file, ptr %f
  %l = alloca i32
  store i32 42, ptr %l
  %fnp = alloca ptr
  store ptr @fn, ptr %fnp
  %cs = alloca i64
  store i64 1, ptr %cs
  call void @__cushim_extern___assertfail(ptr %c, ptr %m, ptr %f, ptr %l, ptr %fnp, ptr %cs)
  ret void
ok:
  ret void
}
define void @noop(ptr %p, ptr %c) {
entry:
  ret void
}
)IR";

TEST_CASE("a trap fails the launch with a sticky error; a fresh context works", "[engine][fault]") {
  std::string Object = compileIr(FaultKernels);
  std::vector<cushim_hal_kernel_desc> Descs = {kernelDesc("trapper", 0, 8), kernelDesc("asserter", 0, 0),
                                               kernelDesc("noop", 0, 0)};
  for (uint32_t Flags : {0u, Barriers}) {
    Descs[0].flags = Flags;
    HostFixture F;
    cushim_hal_module M = F.load(Object, Descs);
    std::vector<uint32_t> Out(1000, 0);
    void *Ptr = Out.data();
    REQUIRE(F.launch(F.kernel(M, "trapper"), {1000, 1, 1}, {8, 1, 1}, &Ptr, sizeof(Ptr)) == 0);
    CHECK(F.sync() == CUDA_ERROR_LAUNCH_FAILED);
    // Sticky: the context refuses further work and keeps reporting the fault.
    CHECK(F.launch(F.kernel(M, "noop"), {1, 1, 1}, {1, 1, 1}, nullptr, 0) == CUDA_ERROR_LAUNCH_FAILED);
    CHECK(F.sync() == CUDA_ERROR_LAUNCH_FAILED);
    // Blocks taken after the fault are skipped (the grid is much larger than the worker count).
    CHECK(std::count(Out.begin(), Out.end(), 1u) < 999);
  }
  HostFixture Fresh;
  cushim_hal_module M = Fresh.load(Object, Descs);
  REQUIRE(Fresh.launch(Fresh.kernel(M, "noop"), {4, 1, 1}, {32, 1, 1}, nullptr, 0) == 0);
  CHECK(Fresh.sync() == 0);
  REQUIRE(Fresh.launch(Fresh.kernel(M, "asserter"), {2, 1, 1}, {4, 1, 1}, nullptr, 0) == 0);
  CHECK(Fresh.sync() == CUDA_ERROR_ASSERT);
}

namespace {
// Runs Body with stdout redirected to a temporary file and returns what was written.
template <typename Fn> std::string captureStdout(Fn &&Body) {
  std::fflush(stdout);
  char Path[] = "/tmp/cushim_stdout_XXXXXX";
  int Fd = mkstemp(Path);
  REQUIRE(Fd >= 0);
  int Saved = dup(1);
  dup2(Fd, 1);
  Body();
  std::fflush(stdout);
  dup2(Saved, 1);
  close(Saved);
  close(Fd);
  std::ifstream In(Path);
  std::stringstream Text;
  Text << In.rdbuf();
  unlink(Path);
  return Text.str();
}
} // namespace

// printf("t%d %5.2f %s %lld|\n", tid, 1.5 * tid, "ok", 1ll << 40) with CUDA's argument buffer layout.
static const std::string PrintfKernel = std::string(R"IR(
@fmt = private constant [22 x i8] c"t%d %5.2f %s %lld|%c\0A\00"
@ok = private constant [3 x i8] c"ok\00"
define void @printer(ptr %p, ptr %c) {
entry:
)IR") + field("tid", TidX) + R"IR(
  %args = alloca { i32, double, ptr, i64, i32 }, align 8
  %a0 = getelementptr inbounds { i32, double, ptr, i64, i32 }, ptr %args, i32 0, i32 0
  store i32 %tid, ptr %a0
  %tf = uitofp i32 %tid to double
  %d = fmul double %tf, 1.5
  %a1 = getelementptr inbounds { i32, double, ptr, i64, i32 }, ptr %args, i32 0, i32 1
  store double %d, ptr %a1
  %a2 = getelementptr inbounds { i32, double, ptr, i64, i32 }, ptr %args, i32 0, i32 2
  store ptr @ok, ptr %a2
  %a3 = getelementptr inbounds { i32, double, ptr, i64, i32 }, ptr %args, i32 0, i32 3
  store i64 1099511627776, ptr %a3
  %a4 = getelementptr inbounds { i32, double, ptr, i64, i32 }, ptr %args, i32 0, i32 4
  store i32 65, ptr %a4
  %fp = alloca ptr
  store ptr @fmt, ptr %fp
  %ap = alloca ptr
  store ptr %args, ptr %ap
  %ret = alloca i32
  call void @__cushim_extern_vprintf(ptr %c, ptr %ret, ptr %fp, ptr %ap)
  %r = load i32, ptr %ret
  %outp = load ptr, ptr %p
  %tid64 = zext i32 %tid to i64
  %dst = getelementptr inbounds i32, ptr %outp, i64 %tid64
  store i32 %r, ptr %dst
  ret void
}
)IR";

TEST_CASE("device printf formats CUDA's argument buffer and writes whole lines", "[engine][printf]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(PrintfKernel), {kernelDesc("printer", 0, 8)});
  std::vector<int32_t> Ret(32, -7); // indexed by tid: both blocks write the same slots
  void *Ptr = Ret.data();
  std::string Text = captureStdout([&] {
    REQUIRE(F.launch(F.kernel(M, "printer"), {2, 1, 1}, {32, 1, 1}, &Ptr, sizeof(Ptr)) == 0);
    REQUIRE(F.sync() == 0);
  });
  std::vector<std::string> Lines;
  std::stringstream Stream(Text);
  for (std::string Line; std::getline(Stream, Line);)
    Lines.push_back(Line);
  std::vector<std::string> Expected;
  for (int T = 0; T < 32; ++T) {
    char Buf[64];
    std::snprintf(Buf, sizeof(Buf), "t%d %5.2f ok 1099511627776|A", T, 1.5 * T);
    Expected.push_back(Buf);
    Expected.push_back(Buf); // once per block
  }
  std::sort(Lines.begin(), Lines.end());
  std::sort(Expected.begin(), Expected.end());
  CHECK(Lines == Expected);
  for (int32_t R : Ret)
    CHECK(R == 5);
}

TEST_CASE("launches on several queues share the worker pool concurrently", "[engine][queue]") {
  HostFixture F;
  cushim_hal_module M = F.load(compileIr(ReduceKernel), {kernelDesc("reduce", Barriers, 16)});
  cushim_hal_kernel K = F.kernel(M, "reduce");
  constexpr int Queues = 3, Launches = 20;
  const uint32_t BlockSize = 64, Blocks = 16;
  std::vector<cushim_hal_queue> Q(Queues);
  for (auto &Queue : Q)
    REQUIRE(F.Ops->queue_create(F.Ctx, 0, 0, &Queue) == 0);
  std::vector<int32_t> In(BlockSize * Blocks);
  for (size_t I = 0; I < In.size(); ++I)
    In[I] = static_cast<int32_t>(I % 97);
  std::vector<std::vector<int32_t>> Out(Queues * Launches, std::vector<int32_t>(Blocks, -1));
  for (int L = 0; L < Launches; ++L)
    for (int I = 0; I < Queues; ++I) {
      void *Params[2] = {In.data(), Out[L * Queues + I].data()};
      cushim_hal_launch Launch{{Blocks, 1, 1}, {BlockSize, 1, 1}, BlockSize * 4, 0, Params, sizeof(Params)};
      REQUIRE(F.Ops->enqueue_launch(Q[I], K, &Launch) == 0);
    }
  for (auto &Queue : Q) {
    REQUIRE(F.Ops->queue_synchronize(Queue) == 0);
    REQUIRE(F.Ops->queue_destroy(Queue) == 0);
  }
  for (auto &Result : Out)
    for (uint32_t B = 0; B < Blocks; ++B) {
      int32_t Expected = 0;
      for (uint32_t T = 0; T < BlockSize; ++T)
        Expected += In[B * BlockSize + T];
      CHECK(Result[B] == Expected);
    }
}
