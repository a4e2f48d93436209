// NextBlockPrefetchPass (src/ptx_translate/NextBlockPrefetch.cpp): a region entry's vector loads (plain or masked) of
// a kernel-parameter array prefetch, into L2, the lines the next block loads there: the address computed with
// blockIdx.x + 1 where it follows blockIdx.x, else blockDim.x elements further on; loads of other memory, scalar
// loads and functions that are not region entries get none. The prefetches are checked by
// their addresses, computed by running the transformed function with the prefetch intrinsic replaced by a recorder.
#include "ptx_translate/NextBlockPrefetch.h"

#include "IrPassTestSupport.h"

#include "cuda_shim/kernel_abi.h"

#include <catch2/catch.hpp>

#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

// A region entry summing in[i .. i + @LANES@) for i stepping by @LANES@ over 64 floats into out[0..@LANES@) (in: the
// pointer parameter at offset 0, out at offset 8), plus @EXTRA@ loads. The loads are vectors of @LANES@ floats.
constexpr const char *Entry = R"(
define void @@NAME@(ptr noalias %params, ptr noalias %ctx) {
entry:
  %ini = load i64, ptr %params
  %in = inttoptr i64 %ini to ptr
  %outp = getelementptr inbounds i8, ptr %params, i64 8
  %outi = load i64, ptr %outp
  %out = inttoptr i64 %outi to ptr
  %sharedp = getelementptr inbounds i8, ptr %ctx, i64 @SHARED@
  %shared = load ptr, ptr %sharedp
  %ctaidp = getelementptr inbounds i8, ptr %ctx, i64 @CTAID@
  %ctaid = load i32, ptr %ctaidp
  %first = @FIRST@
  %firstw = sext i32 %first to i64
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %acc = phi <@LANES@ x float> [ zeroinitializer, %entry ], [ %acc.next, %loop ]
  %idx = add i64 %firstw, %i
  %p = getelementptr inbounds float, ptr %in, i64 %idx
  %v = @LOAD@
  @EXTRA@
  %acc.next = fadd <@LANES@ x float> %acc, %v
  %i.next = add nuw nsw i64 %i, @LANES@
  %done = icmp uge i64 %i.next, 64
  br i1 %done, label %exit, label %loop
exit:
  store <@LANES@ x float> %acc.next, ptr %out, align 4
  ret void
}
declare <@LANES@ x float> @llvm.masked.load.v@LANES@f32.p0(ptr, i32, <@LANES@ x i1>, <@LANES@ x float>)
)";

// The ways the entry loads its vector: plainly, or masked (a guarded load the vectoriser kept).
const std::string PlainLoad = "load <@LANES@ x float>, ptr %p, align 4";
const std::string MaskedLoad = "call <@LANES@ x float> @llvm.masked.load.v@LANES@f32.p0(ptr %p, i32 4, "
                               "<@LANES@ x i1> splat (i1 true), <@LANES@ x float> zeroinitializer)";

// PerBlock: the elements a block's index starts after the previous block's (the entry reads from
// in[ctaid.x * PerBlock]); 0 for an index that does not depend on %ctaid.x.
std::string entry(const std::string &Name, int Lanes, const std::string &Extra = "", int PerBlock = 0,
                  const std::string &Load = PlainLoad) {
  return cushim::test::filled(Entry, {{"@NAME@", Name},
                                      {"@LOAD@", Load},
                                      {"@LANES@", std::to_string(Lanes)},
                                      {"@EXTRA@", Extra},
                                      {"@FIRST@", PerBlock ? "mul i32 %ctaid, " + std::to_string(PerBlock)
                                                           : std::string("add i32 0, 0")},
                                      {"@CTAID@", std::to_string(offsetof(cushim_thread_ctx, ctaid))},
                                      {"@SHARED@", std::to_string(offsetof(cushim_thread_ctx, shared_base))}});
}

const std::string Region = "__cushim_region_k";

// Every prefetch the pass added, as (byte offset from `in` when the entry runs with blockDim.x = BlockX and
// blockIdx.x = BlockId, locality).
std::vector<int64_t> prefetchedOffsets(cushim::test::ParsedIr &&P, uint32_t BlockX, uint32_t BlockId = 0) {
  cushim::test::runFunctionPass(cushim::ptx::NextBlockPrefetchPass(), P.entry());
  REQUIRE_FALSE(llvm::verifyModule(*P.M, &llvm::errs()));
  // Each prefetch becomes a call of a recorder with its address and locality.
  llvm::LLVMContext &Context = P.M->getContext();
  auto *Record = llvm::Function::Create(
      llvm::FunctionType::get(llvm::Type::getVoidTy(Context),
                              {llvm::PointerType::getUnqual(Context), llvm::Type::getInt32Ty(Context)}, false),
      llvm::Function::ExternalLinkage, "record_prefetch", *P.M);
  std::vector<llvm::IntrinsicInst *> Prefetches;
  for (llvm::BasicBlock &BB : P.entry())
    for (llvm::Instruction &I : BB)
      if (auto *II = llvm::dyn_cast<llvm::IntrinsicInst>(&I); II && II->getIntrinsicID() == llvm::Intrinsic::prefetch)
        Prefetches.push_back(II);
  for (llvm::IntrinsicInst *II : Prefetches) {
    llvm::CallInst::Create(Record, {II->getArgOperand(0), II->getArgOperand(2)}, "", II->getIterator());
    II->eraseFromParent();
  }
  static std::vector<int64_t> Seen;
  static const char *Base = nullptr;
  Seen.clear();
  struct Recorder {
    static void record(const char *Address, int32_t Locality) {
      CHECK(Locality == 2);
      Seen.push_back(Address - Base);
    }
  };
  std::string Name = P.entry().getName().str();
  auto [J, Fn] = cushim::test::jitFunction<void (*)(const void *, cushim_thread_ctx *)>(
      std::move(P), Name, {{"record_prefetch", reinterpret_cast<void *>(&Recorder::record)}});
  static float In[4096], Out[64], Shared[64];
  Base = reinterpret_cast<const char *>(In);
  struct {
    float *In, *Out;
  } Params{In, Out};
  cushim_thread_ctx Ctx{};
  Ctx.ntid[0] = BlockX;
  Ctx.ctaid[0] = BlockId;
  Ctx.shared_base = reinterpret_cast<char *>(Shared);
  Fn(&Params, &Ctx);
  return Seen;
}

} // namespace

TEST_CASE("A region entry's vector loads of a parameter array prefetch the next block's lines into L2",
          "[next-block-prefetch]") {
  // 16 floats a load (one line), blocks of 256: each of the 4 loads prefetches 1 KiB further on.
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 16)), 256) ==
        std::vector<int64_t>{1024, 1024 + 64, 1024 + 128, 1024 + 192});
  // 64 floats (four lines) in one load, blocks of 32: four prefetches, 128 bytes further on.
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 64)), 32) ==
        std::vector<int64_t>{128, 128 + 64, 128 + 128, 128 + 192});
}

TEST_CASE("A load whose index follows blockIdx.x prefetches where the next block reads", "[next-block-prefetch]") {
  // reduce4-style: each block reads 2 * blockDim.x elements from ctaid.x * 512, so the next block's element is 2 KiB
  // further on, not blockDim.x elements (1 KiB); masked loads (a guarded second load) are prefetched too.
  for (const std::string &Load : {PlainLoad, MaskedLoad}) {
    INFO(Load);
    CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 16, "", 512, Load)), 256) ==
          std::vector<int64_t>{2048, 2048 + 64, 2048 + 128, 2048 + 192});
    // Block 3: its loads start 6 KiB in, the prefetches 2 KiB after them.
    CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 16, "", 512, Load)), 256, 3) ==
          std::vector<int64_t>{8192, 8192 + 64, 8192 + 128, 8192 + 192});
  }
  // An index of blockIdx.x * blockDim.x: the same as blockDim.x elements on.
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 16, "", 256)), 256) ==
        std::vector<int64_t>{1024, 1024 + 64, 1024 + 128, 1024 + 192});
}

TEST_CASE("Loads of other memory, narrow loads and functions that are not region entries prefetch nothing",
          "[next-block-prefetch]") {
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 8)), 256).empty()); // half a line
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry("__cushim_flat_k", 16)), 256).empty());
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry("k", 16)), 256).empty());
  // Shared memory (through the context) gets none; the parameter array's load still does.
  CHECK(prefetchedOffsets(cushim::test::ParsedIr(entry(Region, 16,
                                                       "%q = getelementptr inbounds float, ptr %shared, i64 %i\n  "
                                                       "%w = load <16 x float>, ptr %q, align 4")),
                          256)
            .size() == 4);
}
