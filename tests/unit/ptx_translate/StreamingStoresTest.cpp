// StreamingStoresPass (src/ptx_translate/StreamingStores.cpp): a flat entry's full-line vector stores into a
// parameter array get a non-temporal form, taken when the launch writes enough and the address is aligned; stores
// that might leave holes in a line, into memory that is not a parameter array or that the entry also reads, or in
// functions where another thread could observe their order, are left alone. Both forms store the same values
// (JIT-compiled and run).
#include "ptx_translate/StreamingStores.h"

#include "IrPassTestSupport.h"

#include "cuda_shim/kernel_abi.h"

#include <catch2/catch.hpp>

#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

// A flat entry storing the float parameter to out[0..256) (out: the pointer parameter at offset 8), @STORES@ per
// iteration of a loop that steps @STEP@ floats. @EXTRA@ goes before the loop.
constexpr const char *Entry = R"(
target triple = "@TRIPLE@"
define void @@NAME@(ptr noalias %params, ptr noalias %ctx) {
entry:
  %outp = getelementptr inbounds i8, ptr %params, i64 8
  %outi = load i64, ptr %outp
  %out = inttoptr i64 %outi to ptr
  %val = load float, ptr %params
  %v = insertelement <16 x float> poison, float %val, i64 0
  %splat = shufflevector <16 x float> %v, <16 x float> poison, <16 x i32> zeroinitializer
  %quarter = shufflevector <16 x float> %v, <16 x float> poison, <4 x i32> zeroinitializer
  %half = shufflevector <16 x float> %v, <16 x float> poison, <8 x i32> zeroinitializer
  %sharedp = getelementptr inbounds i8, ptr %ctx, i64 @SHARED@
  %shared = load ptr, ptr %sharedp
  @EXTRA@
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %p = getelementptr inbounds float, ptr %out, i64 %i
  @STORES@
  %i.next = add nuw nsw i64 %i, @STEP@
  %done = icmp uge i64 %i.next, 256
  br i1 %done, label %exit, label %loop
exit:
  ret void
}
)";

struct Shape {
  Shape(std::string Stores, std::string Step = "16", std::string Extra = "", std::string Name = "__cushim_flat_k",
        std::string Triple = "x86_64-unknown-linux-gnu")
      : Stores(std::move(Stores)), Step(std::move(Step)), Extra(std::move(Extra)), Name(std::move(Name)),
        Triple(std::move(Triple)) {}
  std::string Stores, Step, Extra, Name, Triple;
};

const std::string Line = "store <16 x float> %splat, ptr %p, align 4";
// Two 32-byte halves of a 64-byte step (an AVX2 vector loop interleaved twice).
const std::string Halves = "store <8 x float> %half, ptr %p, align 4\n  %p8 = getelementptr inbounds float, ptr %p, "
                           "i64 8\n  store <8 x float> %half, ptr %p8, align 4";

std::string entry(const Shape &S) {
  return cushim::test::filled(Entry, {{"@TRIPLE@", S.Triple},
                                      {"@NAME@", S.Name},
                                      {"@STORES@", S.Stores},
                                      {"@STEP@", S.Step},
                                      {"@EXTRA@", S.Extra},
                                      {"@SHARED@", std::to_string(offsetof(cushim_thread_ctx, shared_base))}});
}

// The non-temporal stores of the function after the pass, with their alignments.
std::vector<uint64_t> streamingAlignments(cushim::test::ParsedIr &P) {
  cushim::test::runFunctionPass(cushim::ptx::StreamingStoresPass(), P.entry());
  REQUIRE_FALSE(llvm::verifyModule(*P.M, &llvm::errs()));
  std::vector<uint64_t> Aligns;
  for (llvm::BasicBlock &BB : P.entry())
    for (llvm::Instruction &I : BB)
      if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I);
          Store && Store->getMetadata(llvm::LLVMContext::MD_nontemporal))
        Aligns.push_back(Store->getAlign().value());
  return Aligns;
}

// Runs the transformed entry for a 256-thread block of a 1-block grid with the given stream_store_kib, writing 7.5
// to a buffer at Misalign bytes past a 64-byte boundary; whether all 256 floats (and nothing around them) are right.
bool storesAll(cushim::test::ParsedIr &&P, uint32_t StreamKiB, size_t Misalign) {
  std::string Name = P.entry().getName().str();
  auto [J, Fn] = cushim::test::jitFunction<void (*)(const void *, cushim_thread_ctx *)>(std::move(P), Name);
  alignas(64) static unsigned char Buffer[2048];
  std::memset(Buffer, 0, sizeof(Buffer));
  float *Out = reinterpret_cast<float *>(Buffer + 64 + Misalign);
  struct {
    float Value;
    float *Out;
  } Params{7.5f, Out};
  cushim_thread_ctx Ctx{};
  Ctx.ntid[0] = 256;
  Ctx.ntid[1] = Ctx.ntid[2] = Ctx.nctaid[0] = Ctx.nctaid[1] = Ctx.nctaid[2] = 1;
  Ctx.stream_store_kib = StreamKiB;
  Fn(&Params, &Ctx);
  for (int I = 0; I < 256; ++I)
    if (Out[I] != 7.5f)
      return false;
  return Out[-1] == 0.0f && Out[256] == 0.0f;
}

} // namespace

TEST_CASE("Full-line stores into a parameter array get a non-temporal form that stores the same values",
          "[streaming-stores]") {
  {
    cushim::test::ParsedIr P(entry({Line}));
    CHECK(streamingAlignments(P) == std::vector<uint64_t>{64});
  }
  {
    cushim::test::ParsedIr P(entry({Halves}));
    CHECK(streamingAlignments(P) == std::vector<uint64_t>{32, 32});
  }
  {
    cushim::test::ParsedIr P(entry({"store <4 x float> %quarter, ptr %p, align 4", "4"})); // 16 bytes a step
    CHECK(streamingAlignments(P) == std::vector<uint64_t>{16});
  }
  {
    // Reading another parameter's array is fine (the copy's source is the pointer at offset 16).
    cushim::test::ParsedIr P(entry({"%q = getelementptr inbounds float, ptr %in, i64 %i\n  "
                                    "%x = load <16 x float>, ptr %q, align 4\n  store <16 x float> %x, ptr %p, align 4",
                                    "16",
                                    "%inp = getelementptr inbounds i8, ptr %params, i64 16\n  "
                                    "%ini = load i64, ptr %inp\n  %in = inttoptr i64 %ini to ptr"}));
    CHECK(streamingAlignments(P) == std::vector<uint64_t>{64});
  }
  // Always (aligned and not), by size (1 KiB written: 1 KiB is enough, 2 KiB is not), never.
  for (const std::string &Stores : {Line, Halves})
    for (auto [KiB, Misalign] : {std::pair<uint32_t, size_t>{0, 0}, {0, 4}, {0, 32}, {1, 0}, {2, 0}, {UINT32_MAX, 0}}) {
      INFO("stream_store_kib " << KiB << ", misaligned by " << Misalign);
      cushim::test::ParsedIr P(entry({Stores}));
      REQUIRE(streamingAlignments(P).size() >= 1);
      CHECK(storesAll(std::move(P), KiB, Misalign));
    }
}

TEST_CASE("Stores that may leave holes, stores outside parameter arrays and observable orders are left alone",
          "[streaming-stores]") {
  auto untouched = [](const Shape &S) {
    cushim::test::ParsedIr P(entry(S));
    return streamingAlignments(P).empty();
  };
  CHECK(untouched({"store <8 x float> %half, ptr %p, align 4"})); // half of each 64-byte step: holes
  // An update in place: its lines are in the cache already (the same parameter, loaded again, is the same array).
  CHECK(untouched({"%old = load <16 x float>, ptr %p, align 4\n  %new = fadd <16 x float> %old, %splat\n  "
                   "store <16 x float> %new, ptr %p, align 4"}));
  CHECK(untouched({Line, "16",
                   "%outp2 = getelementptr inbounds i8, ptr %params, i64 8\n  %outi2 = load i64, ptr %outp2\n  "
                   "%out2 = inttoptr i64 %outi2 to ptr\n  %first = load float, ptr %out2"}));
  {
    // Shared memory: reached through the context, not a parameter.
    cushim::test::ParsedIr P(entry({"%q = getelementptr inbounds float, ptr %shared, i64 %i\n  "
                                    "store <16 x float> %splat, ptr %q, align 4"}));
    CHECK(streamingAlignments(P).empty());
  }
  CHECK(untouched({Line, "16", "%old = atomicrmw add ptr %shared, i32 1 monotonic"}));
  CHECK(untouched({Line, "16", "fence seq_cst"}));
  CHECK(untouched({Line, "16", "store volatile i32 0, ptr %shared"}));
  CHECK(untouched({Line, "16", "", "k"}));                                            // not a block entry
  CHECK(untouched({Line, "16", "", "__cushim_flat_k", "aarch64-unknown-linux-gnu"})); // x86 only
}
