// Shared helpers of the host backend tests: IR kernels compiled with the codegen and loaded through the HAL.
#pragma once

#include "ptx_translate/Codegen.h"
#include "ptx_translate/Lowering.h"
#include "ptx_translate/Parser.h"

#include <cuda_shim/hal.h>

#include <catch2/catch.hpp>

#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <memory>
#include <string>
#include <vector>

namespace cushim::test {

// Declarations every test kernel may use: the thread context type and the runtime functions of kernel_abi.h.
inline const char *IrPrelude = R"IR(
%ctx = type { [4 x i32], [4 x i32], [4 x i32], [4 x i32], i32, i32, i32, i32, i32, i32, i32, i32, i64, ptr, ptr, ptr }
declare void @__cushim_bar_sync(ptr, i32, i32) convergent
declare void @__cushim_bar_arrive(ptr, i32, i32) convergent
declare i32 @__cushim_bar_red(ptr, i32, i32, i32, i32) convergent
declare i32 @__cushim_shfl_sync(ptr, i32, i32, i32, i32, i32, ptr) convergent
declare i32 @__cushim_vote_sync(ptr, i32, i32, i32) convergent
declare i32 @__cushim_redux_sync(ptr, i32, i32, i32) convergent
declare i32 @__cushim_match_sync(ptr, i32, i64, i32, ptr) convergent
declare i32 @__cushim_activemask(ptr) convergent
declare void @__cushim_warp_sync(ptr, i32) convergent
declare void @__cushim_exit(ptr) noreturn
declare void @__cushim_trap(ptr) noreturn
declare void @__cushim_nanosleep(ptr, i32)
declare void @__cushim_extern_vprintf(ptr, ptr, ptr, ptr)
declare void @__cushim_extern_malloc(ptr, ptr, ptr)
declare void @__cushim_extern_free(ptr, ptr)
declare void @__cushim_extern___assertfail(ptr, ptr, ptr, ptr, ptr, ptr)
)IR";

// A PTX module (the sm_80 header prepended to Body) lowered into its own LLVM context.
struct LoweredPtx {
  llvm::LLVMContext Ctx;
  ptx::LoweredModule M;
};

inline std::unique_ptr<LoweredPtx> lowerPtx(const std::string &Body, const char *Source = "test.ptx") {
  auto L = std::make_unique<LoweredPtx>();
  auto Ast = ptx::parsePtx(".version 8.0\n.target sm_80\n.address_size 64\n" + Body, Source);
  if (!Ast)
    FAIL("parse: " << Ast.error().message());
  auto M = ptx::lowerModule(*Ast, L->Ctx);
  if (!M)
    FAIL("lower: " << M.error().message());
  L->M = std::move(*M);
  return L;
}

inline const ptx::KernelInfo &kernelInfo(const LoweredPtx &L, const std::string &Name) {
  for (const auto &K : L.M.Kernels)
    if (K.Name == Name)
      return K;
  FAIL("no kernel " << Name);
  return L.M.Kernels.front();
}

// Compiles IR text (IrPrelude prepended) to an object for the host.
inline std::string compileIr(const std::string &Body) {
  llvm::LLVMContext Ctx;
  llvm::SMDiagnostic Diag;
  std::string Text = std::string(IrPrelude) + Body;
  std::unique_ptr<llvm::Module> M = llvm::parseAssemblyString(Text, Diag, Ctx);
  if (!M) {
    std::string Message;
    llvm::raw_string_ostream OS(Message);
    Diag.print("test", OS);
    FAIL("IR does not parse: " << OS.str());
  }
  auto Object = ptx::compileToObject(*M, ptx::hostTarget());
  if (!Object)
    FAIL("codegen failed: " << Object.error().message());
  return *Object;
}

inline cushim_hal_kernel_desc kernelDesc(const char *Name, uint32_t Flags, uint32_t ParamSize,
                                         uint32_t StaticShared = 0) {
  return cushim_hal_kernel_desc{Name, Flags, ParamSize, StaticShared, 0, 0};
}

// A context with one queue on device 0; destroyed with the fixture.
struct HostFixture {
  const cushim_hal_ops *Ops = cushim_hal_host_backend();
  cushim_hal_context Ctx = nullptr;
  cushim_hal_queue Queue = nullptr;

  HostFixture() {
    REQUIRE(Ops->context_create(0, &Ctx) == 0);
    REQUIRE(Ops->queue_create(Ctx, 0, 0, &Queue) == 0);
  }
  ~HostFixture() {
    Ops->queue_destroy(Queue);
    Ops->context_destroy(Ctx);
  }

  cushim_hal_module load(const std::string &Object, const std::vector<cushim_hal_kernel_desc> &Kernels) {
    cushim_hal_module Module = nullptr;
    REQUIRE(Ops->module_load(Ctx, Object.data(), Object.size(), Kernels.data(), Kernels.size(), &Module) == 0);
    return Module;
  }
  cushim_hal_kernel kernel(cushim_hal_module Module, const char *Name) {
    cushim_hal_kernel K = nullptr;
    REQUIRE(Ops->kernel_get(Module, Name, &K) == 0);
    return K;
  }
  // Enqueues a launch with one pointer-sized parameter list given as raw bytes.
  int launch(cushim_hal_kernel K, std::array<uint32_t, 3> Grid, std::array<uint32_t, 3> Block, const void *Params,
             size_t ParamsSize, uint32_t DynamicShared = 0) {
    cushim_hal_launch L{};
    for (int I = 0; I < 3; ++I) {
      L.grid[I] = Grid[I];
      L.block[I] = Block[I];
    }
    L.dynamic_shared_size = DynamicShared;
    L.params = Params;
    L.params_size = ParamsSize;
    return Ops->enqueue_launch(Queue, K, &L);
  }
  int sync() { return Ops->queue_synchronize(Queue); }
};

// The engine-tier entries a lowered kernel may carry.
constexpr uint32_t TierEntryFlags =
    CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY | CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY | CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY;

// Outputs of one kernel run on a faster tier and on the oracle (T2: every tier entry hidden from the engine).
struct TierRuns {
  std::vector<uint32_t> Tier, Oracle;
};

// Runs Kernel of L (one u64 pointer parameter to Words words, initialised to 0) twice from one object: with only
// the tier entry Tier announced in its descriptor, and with none. Both launches must end with ExpectedStatus.
inline TierRuns runOnTierAndOracle(LoweredPtx &L, const std::string &Kernel, uint32_t Tier,
                                   std::array<uint32_t, 3> Grid, std::array<uint32_t, 3> Block, size_t Words,
                                   int ExpectedStatus = 0) {
  const auto &K = kernelInfo(L, Kernel);
  REQUIRE((K.Flags & Tier) != 0);
  auto Object = ptx::compileToObject(*L.M.IR, ptx::hostTarget());
  REQUIRE(Object);
  TierRuns R;
  for (bool OnTier : {true, false}) {
    HostFixture F;
    uint32_t Flags = (K.Flags & ~TierEntryFlags) | (OnTier ? Tier : 0);
    cushim_hal_module Mod = F.load(*Object, {kernelDesc(K.Name.c_str(), Flags, K.ParamSize, K.StaticSharedSize)});
    cushim_hal_kernel Kern = F.kernel(Mod, K.Name.c_str());
    std::vector<uint32_t> Out(Words, 0);
    uint32_t *OutPtr = Out.data();
    REQUIRE(F.launch(Kern, Grid, Block, &OutPtr, sizeof(OutPtr)) == 0);
    CHECK(F.sync() == ExpectedStatus);
    F.Ops->module_unload(Mod);
    (OnTier ? R.Tier : R.Oracle) = std::move(Out);
  }
  return R;
}

} // namespace cushim::test

namespace cushim::test {

// IR lines loading the i32 field at byte Offset of the thread context %c into %Name.
inline std::string field(const char *Name, int Offset) {
  return std::string("  %") + Name + ".p = getelementptr inbounds i8, ptr %c, i64 " + std::to_string(Offset) + "\n  %" +
         Name + " = load i32, ptr %" + Name + ".p\n";
}
// Offsets of cushim_thread_ctx fields.
enum CtxOffset {
  TidX = 0,
  TidY = 4,
  TidZ = 8,
  NtidX = 16,
  NtidY = 20,
  NtidZ = 24,
  CtaX = 32,
  CtaY = 36,
  CtaZ = 40,
  NctaX = 48,
  NctaY = 52,
  NctaZ = 56,
  LaneId = 64,
  WarpId = 68,
  NWarpId = 72,
  SmId = 76,
  NSmId = 80,
  DynShared = 84,
  TotalShared = 88,
  SharedBase = 104
};

} // namespace cushim::test
