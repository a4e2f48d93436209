// ThreadLoopInterchangePass (src/ptx_translate/ThreadLoopInterchange.cpp): a thread loop around an inner loop that
// every thread runs alike becomes one loop over the threads per block (the inner loop holding its own), and
// computes exactly what it computed before (both versions are JIT-compiled and run on the same inputs); thread
// loops whose threads may part ways, or whose accesses would need gathers, are left alone.
#include "ptx_translate/ThreadLoopInterchange.h"

#include "IrPassTestSupport.h"

#include <catch2/catch.hpp>

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>

#include <cstring>
#include <string>
#include <vector>

namespace {

// Out[t] = In[t] + sum over j < K of In[j * N + t] (in order), for N threads. @INIT@ and @ADDR@ let the tests make
// the branch into the inner loop per-thread data, or the inner loop's reads strided across threads.
constexpr const char *Kernel = R"(
define void @__cushim_flat_k(ptr noalias %out, ptr noalias %in, i64 %n, i32 %k) {
entry:
  br label %tid.x.loop
tid.x.loop:
  %t = phi i64 [ 0, %entry ], [ %t.next, %latch ]
  %p = getelementptr inbounds float, ptr %in, i64 %t
  %init = load float, ptr %p
  %has = @INIT@
  br i1 %has, label %inner, label %latch
inner:
  %j = phi i32 [ 0, %tid.x.loop ], [ %j.next, %inner ]
  %acc = phi float [ %init, %tid.x.loop ], [ %acc.next, %inner ]
  %j64 = zext i32 %j to i64
  %idx = @ADDR@
  %q = getelementptr inbounds float, ptr %in, i64 %idx
  %v = load float, ptr %q
  %acc.next = fadd float %acc, %v
  %j.next = add nuw nsw i32 %j, 1
  %more = icmp slt i32 %j.next, %k
  br i1 %more, label %inner, label %latch
latch:
  %res = phi float [ %init, %tid.x.loop ], [ %acc.next, %inner ]
  %o = getelementptr inbounds float, ptr %out, i64 %t
  store float %res, ptr %o
  %t.next = add nuw nsw i64 %t, 1
  %done = icmp eq i64 %t.next, %n
  br i1 %done, label %exit, label %tid.x.loop
exit:
  ret void
}
)";

const std::string UniformEntry = "icmp sgt i32 %k, 0";
const std::string DivergentEntry = "fcmp ogt float %init, 0.0"; // skipped by threads whose In[t] <= 0
const std::string ColumnAddress = "add i64 %t, %row\n  %row = mul i64 %j64, %n";
const std::string RowAddress = "add i64 %j64, %rowt\n  %rowt = mul i64 %t, 64"; // thread t reads In[64 t + j]

std::string kernel(const std::string &Init, const std::string &Addr) {
  std::string S = Kernel;
  S.replace(S.find("@INIT@"), 6, Init);
  // The address's helper value must come first in the block: put it on the line before %idx.
  size_t Cut = Addr.find('\n');
  std::string Helper = Addr.substr(Cut + 3), Expr = Addr.substr(0, Cut);
  S.replace(S.find("  %idx = @ADDR@"), 15, "  " + Helper + "\n  %idx = " + Expr);
  return S;
}

struct Parsed : cushim::test::ParsedIr {
  using ParsedIr::ParsedIr;
  llvm::Function &entry() { return *M->getFunction("__cushim_flat_k"); }
};

bool interchange(llvm::Function &F) { return cushim::test::runFunctionPass(cushim::ptx::ThreadLoopInterchangePass(), F); }

bool hasThreadLoopHeader(llvm::Function &F) {
  llvm::DominatorTree DT(F);
  llvm::LoopInfo LI(DT);
  for (llvm::Loop *L : LI.getLoopsInPreorder())
    if (L->getHeader()->getName() == "tid.x.loop")
      return true;
  return false;
}

// Runs the entry of P over N threads with inner trip count K; returns Out.
std::vector<float> run(Parsed P, const std::vector<float> &In, int64_t N, int32_t K) {
  auto [J, Fn] = cushim::test::jitFunction<void (*)(float *, const float *, int64_t, int32_t)>(std::move(P),
                                                                                               "__cushim_flat_k");
  std::vector<float> Out(N, -1.0f);
  Fn(Out.data(), In.data(), N, K);
  return Out;
}

std::vector<float> inputs(size_t Count) {
  std::vector<float> In(Count);
  uint32_t X = 12345;
  for (float &V : In) {
    X = X * 1664525u + 1013904223u;
    V = static_cast<float>(static_cast<int32_t>(X >> 8) % 2000) / 997.0f; // mixed signs, inexact sums
  }
  return In;
}

bool sameBits(const std::vector<float> &A, const std::vector<float> &B) {
  return A.size() == B.size() && std::memcmp(A.data(), B.data(), A.size() * sizeof(float)) == 0;
}

} // namespace

TEST_CASE("A thread loop around a uniform inner loop runs block by block, with the same results",
          "[thread-interchange]") {
  std::string Text = kernel(UniformEntry, ColumnAddress);
  Parsed After(Text);
  REQUIRE(interchange(After.entry()));
  CHECK_FALSE(llvm::verifyFunction(After.entry(), &llvm::errs()));
  CHECK_FALSE(hasThreadLoopHeader(After.entry()));
  // The inner loop now holds a loop over the threads.
  llvm::DominatorTree DT(After.entry());
  llvm::LoopInfo LI(DT);
  bool InnerHoldsThreads = false;
  for (llvm::Loop *L : LI.getLoopsInPreorder())
    InnerHoldsThreads |= L->getHeader()->getName() == "inner.threads" && L->getParentLoop() &&
                         L->getParentLoop()->getHeader()->getName() == "inner";
  CHECK(InnerHoldsThreads);
  for (int64_t N : {1, 8, 37, 1024})
    for (int32_t K : {0, 1, 5}) {
      std::vector<float> In = inputs(static_cast<size_t>(N) * (K + 1) + 64 * 8);
      INFO("threads " << N << ", inner iterations " << K);
      Parsed Changed(Text);
      REQUIRE(interchange(Changed.entry()));
      CHECK(sameBits(run(std::move(Changed), In, N, K), run(Parsed(Text), In, N, K)));
    }
}

// The same kernel with In[t] passing through stack memory (a thread's local memory, which it has to itself).
static std::string withPrivateMemory(std::string S) {
  S.replace(S.find("entry:\n"), 7, "entry:\n  %priv = alloca float\n");
  S.replace(S.find("  %init = load float, ptr %p\n"), 29,
            "  %init0 = load float, ptr %p\n  store float %init0, ptr %priv\n  %init = load float, ptr %priv\n");
  return S;
}

TEST_CASE("Thread loops whose threads part ways, read strided addresses or use stack memory are left alone",
          "[thread-interchange]") {
  for (const std::string &Text : {kernel(DivergentEntry, ColumnAddress), kernel(UniformEntry, RowAddress),
                                  withPrivateMemory(kernel(UniformEntry, ColumnAddress))}) {
    Parsed P(Text);
    CHECK_FALSE(interchange(P.entry()));
    CHECK(hasThreadLoopHeader(P.entry()));
  }
}
