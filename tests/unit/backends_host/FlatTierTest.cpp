// Engine tier T0: which kernels get a flat entry (one call per block, threads as a loop), that LLVM vectorises the
// thread loop of a simple kernel, and that flat blocks give the per-thread results (early exits, local arrays,
// 3D blocks, traps) when run through the HAL.
#include "TestSupport.h"

#include "ptx_translate/FlatEntry.h"

#include <llvm/IR/Instructions.h>

#include <vector>

using namespace cushim::test;

namespace {

std::unique_ptr<LoweredPtx> lower(const std::string &Body) { return lowerPtx(Body, "flat.ptx"); }

bool hasFlatEntry(const LoweredPtx &L, const std::string &Kernel) {
  bool Flagged = kernelInfo(L, Kernel).Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY;
  bool Defined = L.M.IR->getFunction(std::string(cushim::ptx::FlatEntryPrefix) + Kernel) != nullptr;
  CHECK(Flagged == Defined);
  return Flagged;
}

// y[i] = a * x[i] + y[i] for i < n, i = ctaid.x * ntid.x + tid.x (what nvcc emits for SAXPY).
const char *Saxpy = ".visible .entry saxpy(.param .u32 n, .param .f32 a, .param .u64 x, .param .u64 y)\n{\n"
                    " .reg .pred %p<2>;\n .reg .b32 %r<8>;\n .reg .f32 %f<8>;\n .reg .b64 %rd<8>;\n"
                    " ld.param.u32 %r1, [n];\n ld.param.f32 %f1, [a];\n ld.param.u64 %rd1, [x];\n"
                    " ld.param.u64 %rd2, [y];\n mov.u32 %r2, %ctaid.x;\n mov.u32 %r3, %ntid.x;\n"
                    " mov.u32 %r4, %tid.x;\n mad.lo.s32 %r5, %r2, %r3, %r4;\n setp.ge.s32 %p1, %r5, %r1;\n"
                    " @%p1 bra $DONE;\n mul.wide.s32 %rd3, %r5, 4;\n add.s64 %rd4, %rd1, %rd3;\n"
                    " add.s64 %rd5, %rd2, %rd3;\n ld.global.f32 %f2, [%rd4];\n ld.global.f32 %f3, [%rd5];\n"
                    " fma.rn.f32 %f4, %f1, %f2, %f3;\n st.global.f32 [%rd5], %f4;\n$DONE:\n ret;\n}\n";

} // namespace

TEST_CASE("kernels without barriers, collectives, spin loops or nested exits get a flat entry", "[engine][t0]") {
  auto L = lower(
      std::string(Saxpy) +
      // exit at kernel level ends one thread: fine in a thread loop
      ".visible .entry early_exit(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<4>;\n .reg .b64 %rd<4>;\n"
      " mov.u32 %r1, %tid.x;\n setp.eq.u32 %p1, %r1, 0;\n @%p1 exit;\n ret;\n}\n"
      // exit inside a device function must unwind one thread: thread by thread
      ".func stop()\n{\n exit;\n}\n"
      ".visible .entry nested_exit(.param .u64 p)\n{\n call.uni stop, ();\n ret;\n}\n"
      ".visible .entry with_barrier(.param .u64 p)\n{\n bar.sync 0;\n ret;\n}\n"
      ".visible .entry with_vote(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<2>;\n"
      " vote.sync.ballot.b32 %r1, 1, -1;\n ret;\n}\n"
      ".visible .entry with_spin(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<2>;\n .reg .b64 %rd<2>;\n"
      " ld.param.u64 %rd1, [p];\n$W:\n ld.volatile.global.u32 %r1, [%rd1];\n setp.eq.u32 %p1, %r1, 0;\n"
      " @%p1 bra $W;\n ret;\n}\n");
  CHECK(hasFlatEntry(*L, "saxpy"));
  CHECK(hasFlatEntry(*L, "early_exit"));
  CHECK_FALSE(hasFlatEntry(*L, "nested_exit"));
  CHECK_FALSE(hasFlatEntry(*L, "with_barrier"));
  CHECK_FALSE(hasFlatEntry(*L, "with_vote"));
  CHECK_FALSE(hasFlatEntry(*L, "with_spin"));
}

TEST_CASE("the thread loop of a flat SAXPY is vectorised", "[engine][t0]") {
  auto L = lower(Saxpy);
  REQUIRE(hasFlatEntry(*L, "saxpy"));
  // compileToObject optimises the module in place; the flat entry must then compute floats in vector registers.
  auto Object = cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget());
  REQUIRE(Object);
  const llvm::Function *Flat = L->M.IR->getFunction(std::string(cushim::ptx::FlatEntryPrefix) + "saxpy");
  REQUIRE(Flat);
  bool VectorFma = false;
  for (const llvm::BasicBlock &BB : *Flat)
    for (const llvm::Instruction &I : BB)
      if (I.getType()->isVectorTy() && I.getType()->getScalarType()->isFloatTy() &&
          (llvm::isa<llvm::CallInst>(I) || I.getOpcode() == llvm::Instruction::FMul))
        VectorFma = true;
  CHECK(VectorFma);
}

TEST_CASE("flat blocks give every thread its own coordinates, exit and local memory", "[engine][t0]") {
  // out[linear global index] = tid.x + 10*tid.y + 100*tid.z + 1000*ctaid.x + (sum of a local array of 8 words
  // filled from the thread index); threads with an odd linear index exit before writing.
  auto L = lower(".visible .entry coords(.param .u64 p)\n{\n .local .align 4 .b8 arr[32];\n"
                 " .reg .pred %p<4>;\n .reg .b32 %r<32>;\n .reg .b64 %rd<16>;\n"
                 " ld.param.u64 %rd1, [p];\n mov.u32 %r1, %tid.x;\n mov.u32 %r2, %tid.y;\n mov.u32 %r3, %tid.z;\n"
                 " mov.u32 %r4, %ntid.x;\n mov.u32 %r5, %ntid.y;\n mov.u32 %r6, %ntid.z;\n mov.u32 %r7, %ctaid.x;\n"
                 " mad.lo.s32 %r8, %r3, %r5, %r2;\n mad.lo.s32 %r9, %r8, %r4, %r1;\n"  // linear in block
                 " mul.lo.s32 %r10, %r4, %r5;\n mul.lo.s32 %r10, %r10, %r6;\n mad.lo.s32 %r11, %r7, %r10, %r9;\n"
                 " and.b32 %r12, %r9, 1;\n setp.ne.u32 %p1, %r12, 0;\n @%p1 exit;\n"
                 " mov.u64 %rd2, arr;\n mov.u32 %r13, 0;\n$FILL:\n mul.wide.u32 %rd3, %r13, 4;\n"
                 " add.s64 %rd4, %rd2, %rd3;\n add.s32 %r14, %r9, %r13;\n st.local.u32 [%rd4], %r14;\n"
                 " add.s32 %r13, %r13, 1;\n setp.lt.u32 %p2, %r13, 8;\n @%p2 bra $FILL;\n"
                 " mov.u32 %r15, 0;\n mov.u32 %r13, 0;\n$SUM:\n mul.wide.u32 %rd3, %r13, 4;\n"
                 " add.s64 %rd4, %rd2, %rd3;\n ld.local.u32 %r16, [%rd4];\n add.s32 %r15, %r15, %r16;\n"
                 " add.s32 %r13, %r13, 1;\n setp.lt.u32 %p3, %r13, 8;\n @%p3 bra $SUM;\n"
                 " mad.lo.s32 %r17, %r2, 10, %r1;\n mad.lo.s32 %r17, %r3, 100, %r17;\n mad.lo.s32 %r17, %r7, 1000, %r17;\n"
                 " shl.b32 %r18, %r15, 16;\n add.s32 %r17, %r17, %r18;\n"
                 " mul.wide.u32 %rd5, %r11, 4;\n add.s64 %rd6, %rd1, %rd5;\n st.global.u32 [%rd6], %r17;\n ret;\n}\n");
  const auto &K = kernelInfo(*L, "coords");
  REQUIRE((K.Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY) != 0);
  auto Object = cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget());
  REQUIRE(Object);
  HostFixture F;
  cushim_hal_module Mod = F.load(*Object, {kernelDesc("coords", K.Flags, K.ParamSize, K.StaticSharedSize)});
  cushim_hal_kernel Kern = F.kernel(Mod, "coords");
  const uint32_t Bx = 5, By = 3, Bz = 2, Blocks = 7, PerBlock = Bx * By * Bz;
  std::vector<uint32_t> Out(Blocks * PerBlock, 0xffffffffu);
  uint32_t *OutPtr = Out.data();
  REQUIRE(F.launch(Kern, {Blocks, 1, 1}, {Bx, By, Bz}, &OutPtr, sizeof(OutPtr)) == 0);
  REQUIRE(F.sync() == 0);
  for (uint32_t C = 0; C < Blocks; ++C)
    for (uint32_t Z = 0; Z < Bz; ++Z)
      for (uint32_t Y = 0; Y < By; ++Y)
        for (uint32_t X = 0; X < Bx; ++X) {
          uint32_t Linear = (Z * By + Y) * Bx + X;
          uint32_t Expected = 0xffffffffu;
          if (Linear % 2 == 0)
            Expected = X + 10 * Y + 100 * Z + 1000 * C + ((8 * Linear + 28) << 16);
          INFO("block " << C << " thread " << X << "," << Y << "," << Z);
          CHECK(Out[C * PerBlock + Linear] == Expected);
        }
  F.Ops->module_unload(Mod);
}

TEST_CASE("a trap in a flat block fails the launch", "[engine][t0]") {
  auto L = lower(".visible .entry trap_last(.param .u64 p)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<4>;\n"
                 " .reg .b64 %rd<4>;\n ld.param.u64 %rd1, [p];\n mov.u32 %r1, %tid.x;\n"
                 " mul.wide.u32 %rd2, %r1, 4;\n add.s64 %rd3, %rd1, %rd2;\n st.global.u32 [%rd3], 1;\n"
                 " setp.eq.u32 %p1, %r1, 63;\n @%p1 trap;\n ret;\n}\n");
  const auto &K = kernelInfo(*L, "trap_last");
  REQUIRE((K.Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY) != 0);
  auto Object = cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget());
  REQUIRE(Object);
  HostFixture F;
  cushim_hal_module Mod = F.load(*Object, {kernelDesc("trap_last", K.Flags, K.ParamSize)});
  cushim_hal_kernel Kern = F.kernel(Mod, "trap_last");
  std::vector<uint32_t> Out(64, 0);
  uint32_t *OutPtr = Out.data();
  REQUIRE(F.launch(Kern, {1, 1, 1}, {64, 1, 1}, &OutPtr, sizeof(OutPtr)) == 0);
  CHECK(F.sync() == CUDA_ERROR_LAUNCH_FAILED);
  CHECK(Out[0] == 1); // threads before the trapping one ran
  F.Ops->module_unload(Mod);
}

TEST_CASE("flat blocks read the block's coordinates when the context escapes into a call", "[engine][t0]") {
  // A recursive device function cannot be inlined, so the thread's context copy stays in memory (regression: the
  // lowering's !invariant.load marks let GVN read that copy as undefined, and every thread did nothing).
  auto L = lower(".func (.param .b32 r) sum_to(.param .b32 n)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<8>;\n"
                 " ld.param.b32 %r1, [n];\n setp.eq.u32 %p1, %r1, 0;\n @%p1 bra $ZERO;\n sub.s32 %r2, %r1, 1;\n"
                 " { .param .b32 a0;\n .param .b32 r0;\n st.param.b32 [a0], %r2;\n"
                 " call.uni (r0), sum_to, (a0);\n ld.param.b32 %r3, [r0];\n }\n add.s32 %r4, %r3, %r1;\n"
                 " st.param.b32 [r], %r4;\n ret;\n$ZERO:\n st.param.b32 [r], 0;\n ret;\n}\n"
                 ".visible .entry sums(.param .u64 p, .param .u32 n)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<8>;\n"
                 " .reg .b64 %rd<4>;\n ld.param.u64 %rd1, [p];\n ld.param.u32 %r1, [n];\n mov.u32 %r2, %ctaid.x;\n"
                 " mov.u32 %r3, %ntid.x;\n mov.u32 %r4, %tid.x;\n mad.lo.s32 %r5, %r2, %r3, %r4;\n"
                 " setp.ge.s32 %p1, %r5, %r1;\n @%p1 bra $DONE;\n and.b32 %r6, %r5, 15;\n"
                 " { .param .b32 a0;\n .param .b32 r0;\n st.param.b32 [a0], %r6;\n"
                 " call.uni (r0), sum_to, (a0);\n ld.param.b32 %r7, [r0];\n }\n"
                 " mul.wide.s32 %rd2, %r5, 4;\n add.s64 %rd3, %rd1, %rd2;\n st.global.u32 [%rd3], %r7;\n$DONE:\n ret;\n}\n");
  const auto &K = kernelInfo(*L, "sums");
  REQUIRE((K.Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY) != 0);
  auto Object = cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget());
  REQUIRE(Object);
  HostFixture F;
  cushim_hal_module Mod = F.load(*Object, {kernelDesc("sums", K.Flags, K.ParamSize)});
  cushim_hal_kernel Kern = F.kernel(Mod, "sums");
  const uint32_t N = 1000;
  std::vector<uint32_t> Out(N, 0xffffffffu);
  struct {
    uint32_t *Ptr;
    uint32_t N;
  } Params{Out.data(), N};
  REQUIRE(F.launch(Kern, {(N + 255) / 256, 1, 1}, {256, 1, 1}, &Params, sizeof(Params)) == 0);
  REQUIRE(F.sync() == 0);
  for (uint32_t I = 0; I < N; ++I) {
    uint32_t M = I & 15;
    INFO("thread " << I);
    CHECK(Out[I] == M * (M + 1) / 2);
  }
  F.Ops->module_unload(Mod);
}
