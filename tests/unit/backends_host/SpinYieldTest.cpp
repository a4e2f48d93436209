// Independent thread scheduling: which loops the lowering gives yield points (and CUSHIM_HAL_KERNEL_MAY_SPIN), and
// that the engine runs a thread spinning on a flag another thread of its block sets, from PTX to the HAL.
#include "TestSupport.h"

#include "ptx_translate/LowerYield.h"

#include <llvm/IR/Instructions.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace cushim::test;

namespace {

std::unique_ptr<LoweredPtx> lower(const std::string &Body) { return lowerPtx(Body, "spin.ptx"); }

unsigned yieldCalls(const llvm::Module &M, const std::string &Fn) {
  unsigned N = 0;
  const llvm::Function *F = M.getFunction(Fn);
  REQUIRE(F);
  for (const llvm::BasicBlock &BB : *F)
    for (const llvm::Instruction &I : BB)
      if (const auto *C = llvm::dyn_cast<llvm::CallInst>(&I))
        if (C->getCalledFunction() && C->getCalledFunction()->getName() == "__cushim_yield")
          ++N;
  return N;
}

uint32_t flagsOf(const LoweredPtx &L, const std::string &Kernel) { return kernelInfo(L, Kernel).Flags; }

// A kernel of one loop: body, the loop's exit test on %p1, and what precedes it.
std::string loopKernel(const std::string &Name, const std::string &Before, const std::string &Body) {
  return ".visible .entry " + Name +
         "(.param .u64 p, .param .u32 n)\n{\n .reg .pred %p<4>;\n .reg .b32 %r<16>;\n"
         " .reg .b64 %rd<16>;\n ld.param.u64 %rd1, [p];\n ld.param.u32 %r1, [n];\n mov.u32 %r2, 0;\n" +
         Before + "$L_loop:\n" + Body + " @%p1 bra $L_loop;\n ret;\n}\n";
}

} // namespace

TEST_CASE("counted loops and walks over data get no yield point", "[engine][its]") {
  auto L = lower(
      loopKernel("counted", "",
                 " mul.wide.u32 %rd2, %r2, 4;\n add.s64 %rd3, %rd1, %rd2;\n st.global.u32 [%rd3], %r2;\n"
                 " add.s32 %r2, %r2, 1;\n setp.lt.u32 %p1, %r2, %r1;\n") +
      // the bound comes from memory, but it is read once before the loop
      loopKernel("bound_loaded_before", " ld.global.u32 %r3, [%rd1];\n",
                 " add.s32 %r2, %r2, 1;\n setp.lt.u32 %p1, %r2, %r3;\n") +
      // a walk: the next address depends on the value loaded (a list), plain loads
      loopKernel("list_walk", " mov.u64 %rd2, %rd1;\n", " ld.global.u64 %rd2, [%rd2];\n setp.ne.s64 %p1, %rd2, 0;\n") +
      // a lock-free CAS retry (atomicAdd on double): expects what the previous iteration saw
      loopKernel("cas_retry", " ld.global.u32 %r4, [%rd1];\n",
                 " mov.u32 %r5, %r4;\n add.s32 %r6, %r5, 3;\n atom.global.cas.b32 %r4, [%rd1], %r5, %r6;\n"
                 " setp.ne.u32 %p1, %r4, %r5;\n"));
  for (const char *K : {"counted", "bound_loaded_before", "list_walk", "cas_retry"}) {
    INFO(K);
    CHECK(yieldCalls(*L->M.IR, K) == 0);
    CHECK((flagsOf(*L, K) & CUSHIM_HAL_KERNEL_MAY_SPIN) == 0);
  }
}

TEST_CASE("polling loops, CAS locks and grid barriers get a yield point", "[engine][its]") {
  auto L =
      lower(loopKernel("volatile_poll", "", " ld.volatile.global.u32 %r3, [%rd1];\n setp.eq.u32 %p1, %r3, 0;\n") +
            loopKernel("acquire_poll", "", " ld.acquire.gpu.global.u32 %r3, [%rd1];\n setp.eq.u32 %p1, %r3, 0;\n") +
            loopKernel("cas_lock", "", " atom.global.cas.b32 %r3, [%rd1], 0, 1;\n setp.ne.u32 %p1, %r3, 0;\n") +
            // a plain load of one location, re-read every iteration (the body stores elsewhere)
            loopKernel("plain_poll", "",
                       " st.global.u32 [%rd1+4], %r2;\n ld.global.u32 %r3, [%rd1];\n setp.eq.u32 %p1, %r3, 0;\n") +
            loopKernel("clock_wait", " mov.u64 %rd4, %clock64;\n",
                       " mov.u64 %rd5, %clock64;\n sub.s64 %rd6, %rd5, %rd4;\n setp.lt.u64 %p1, %rd6, 1000;\n"));
  for (const char *K : {"volatile_poll", "acquire_poll", "cas_lock", "plain_poll", "clock_wait"}) {
    INFO(K);
    CHECK(yieldCalls(*L->M.IR, K) == 1);
    CHECK((flagsOf(*L, K) & CUSHIM_HAL_KERNEL_MAY_SPIN) != 0);
    CHECK((flagsOf(*L, K) & (CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS)) == 0);
  }
}

TEST_CASE("a kernel calling a spinning device function may spin", "[engine][its]") {
  auto L = lower(".func wait_flag(.param .b64 a)\n{\n .reg .pred %p<2>;\n .reg .b32 %r<4>;\n .reg .b64 %rd<4>;\n"
                 " ld.param.u64 %rd1, [a];\n$W:\n ld.volatile.global.u32 %r1, [%rd1];\n setp.eq.u32 %p1, %r1, 0;\n"
                 " @%p1 bra $W;\n ret;\n}\n"
                 ".visible .entry caller(.param .u64 p)\n{\n .reg .b64 %rd<4>;\n ld.param.u64 %rd1, [p];\n"
                 " { .param .b64 a0;\n st.param.b64 [a0], %rd1;\n call.uni wait_flag, (a0);\n }\n ret;\n}\n"
                 ".visible .entry plain(.param .u64 p)\n{\n .reg .b64 %rd<4>;\n ld.param.u64 %rd1, [p];\n"
                 " st.global.u64 [%rd1], %rd1;\n ret;\n}\n");
  CHECK(yieldCalls(*L->M.IR, "__cushim_func_wait_flag") == 1);
  CHECK((flagsOf(*L, "caller") & CUSHIM_HAL_KERNEL_MAY_SPIN) != 0);
  CHECK((flagsOf(*L, "plain") & CUSHIM_HAL_KERNEL_MAY_SPIN) == 0);
}

TEST_CASE("a thread spinning on a flag set by a later thread of its block terminates", "[engine][its]") {
  // Thread 0 waits for the flag the last thread sets in shared memory, then copies the value it published.
  auto L = lower(".visible .entry handoff(.param .u64 p)\n{\n .reg .pred %p<4>;\n .reg .b32 %r<8>;\n"
                 " .reg .b64 %rd<4>;\n .shared .align 4 .b32 flag;\n .shared .align 4 .b32 val;\n"
                 " ld.param.u64 %rd1, [p];\n mov.u32 %r1, %tid.x;\n mov.u32 %r2, %ntid.x;\n sub.s32 %r3, %r2, 1;\n"
                 " setp.eq.u32 %p1, %r1, 0;\n @%p1 bra $WAIT;\n setp.ne.u32 %p2, %r1, %r3;\n @%p2 bra $DONE;\n"
                 " mov.u32 %r4, 1234;\n st.shared.u32 [val], %r4;\n membar.cta;\n st.volatile.shared.u32 [flag], 1;\n"
                 " bra.uni $DONE;\n$WAIT:\n ld.volatile.shared.u32 %r5, [flag];\n setp.eq.u32 %p3, %r5, 0;\n"
                 " @%p3 bra $WAIT;\n ld.shared.u32 %r6, [val];\n st.global.u32 [%rd1], %r6;\n$DONE:\n ret;\n}\n");
  const auto &K = L->M.Kernels.at(0);
  REQUIRE((K.Flags & CUSHIM_HAL_KERNEL_MAY_SPIN) != 0);
  auto Object = cushim::ptx::compileToObject(*L->M.IR, cushim::ptx::hostTarget());
  REQUIRE(Object);
  HostFixture F;
  auto Desc = kernelDesc("handoff", K.Flags, K.ParamSize, K.StaticSharedSize);
  cushim_hal_module Mod = F.load(*Object, {Desc});
  cushim_hal_kernel Kern = F.kernel(Mod, "handoff");
  for (uint32_t Threads : {2u, 64u, 256u}) {
    INFO(Threads << " threads");
    uint32_t Out = 0;
    uint32_t *OutPtr = &Out;
    REQUIRE(F.launch(Kern, {3, 1, 1}, {Threads, 1, 1}, &OutPtr, sizeof(OutPtr)) == 0);
    REQUIRE(F.sync() == 0);
    CHECK(Out == 1234);
  }
  F.Ops->module_unload(Mod);
}

// Compile-time cost of the analysis and how many real-world kernels leave the fast path because of it. Run with
// backends_host_tests "[.perf]" (prints the measurements).
TEST_CASE("spin-loop analysis cost on real-world PTX", "[.perf][its]") {
  namespace fs = std::filesystem;
  fs::path Dir = fs::path(__FILE__).parent_path() / ".." / "ptx_translate" / "data" / "parser";
  double LowerMs = 0, AnalysisMs = 0, CodegenMs = 0;
  unsigned Kernels = 0, Spinning = 0, FastBefore = 0, FastAfter = 0;
  for (const auto &Entry : fs::directory_iterator(Dir)) {
    if (Entry.path().extension() != ".ptx")
      continue;
    std::ifstream In(Entry.path());
    std::stringstream Text;
    Text << In.rdbuf();
    auto Ast = cushim::ptx::parsePtx(Text.str(), Entry.path().filename().string());
    if (!Ast)
      continue;
    llvm::LLVMContext Ctx;
    auto T0 = std::chrono::steady_clock::now();
    auto M = cushim::ptx::lowerModule(*Ast, Ctx);
    auto T1 = std::chrono::steady_clock::now();
    if (!M)
      continue; // instructions not supported yet
    LowerMs += std::chrono::duration<double, std::milli>(T1 - T0).count();
    // The analysis again on every function (the lowering above already ran it once, so this is its cost).
    auto T2 = std::chrono::steady_clock::now();
    for (llvm::Function &Fn : *M->IR)
      if (!Fn.isDeclaration())
        cushim::ptx::lower::insertSpinYields(Fn, Fn.getArg(Fn.getName().starts_with("__cushim_func_") ? 0 : 1));
    auto T3 = std::chrono::steady_clock::now();
    AnalysisMs += std::chrono::duration<double, std::milli>(T3 - T2).count();
    auto Object = cushim::ptx::compileToObject(*M->IR, cushim::ptx::hostTarget());
    CodegenMs += std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - T3).count();
    for (const auto &K : M->Kernels) {
      ++Kernels;
      bool Fibers = K.Flags & (CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS);
      Spinning += (K.Flags & CUSHIM_HAL_KERNEL_MAY_SPIN) != 0;
      FastBefore += !Fibers;
      FastAfter += !Fibers && !(K.Flags & CUSHIM_HAL_KERNEL_MAY_SPIN);
      if (!Fibers && (K.Flags & CUSHIM_HAL_KERNEL_MAY_SPIN))
        WARN("leaves the fast path: " << Entry.path().filename().string() << " " << K.Name);
    }
  }
  WARN("codegen " << CodegenMs << " ms; lowering " << LowerMs << " ms, of which spin-loop analysis ~" << AnalysisMs
                  << " ms; " << Kernels << " kernels, " << Spinning << " may spin; fast path " << FastBefore << " -> "
                  << FastAfter);
  CHECK(Kernels > 0);
}
