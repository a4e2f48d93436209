// ThreadLoopSplitPass (src/ptx_translate/ThreadLoopSplit.cpp): a region entry's thread loop guarded by
// `A(t) < X` (any order, signed or unsigned) runs as two loops, below and from the split point, each without the
// guard, plus the original for indices that could wrap; `A(t) == X` or `!=` splits after 16 threads (the first part
// keeps the guard, the second starts on a cache line; where only thread 0 writes, thread 0 runs alone, without the
// guard, before threads 1-15). Both versions are
// JIT-compiled and give the same results for split points before, inside and after the threads.
#include "ptx_translate/ThreadLoopSplit.h"

#include "IrPassTestSupport.h"

#include <catch2/catch.hpp>

#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>

#include <string>
#include <tuple>
#include <vector>

namespace {

// 64 threads: thread t computes a = base + t (i32); when `a @PRED@ x` it writes Out[t] = a * 3 + In[t + 1], else
// Out[t] = -a. The tree step of a reduction (`if (tid < s) s[tid] += s[tid + s]`) has this shape.
constexpr const char *Loop = R"(
define void @@NAME@(ptr noalias %out, ptr noalias %in, i32 %base, i32 %x) {
entry:
  br label %tid.x.loop
tid.x.loop:
  %t = phi i64 [ 0, %entry ], [ %t.next, %latch ]
  %t32 = trunc i64 %t to i32
  %a = add @FLAGS@ i32 %base, %t32
  %o = getelementptr inbounds i32, ptr %out, i64 %t
  %guard = icmp @PRED@ i32 %a, %x
  br i1 %guard, label %then, label %else
then:
  %t1 = add nuw nsw i64 %t, 1
  %p = getelementptr inbounds i32, ptr %in, i64 %t1
  %v = load i32, ptr %p
  %m = mul i32 %a, 3
  %r = add i32 %m, %v
  store i32 %r, ptr %o
  br label %latch
else:
  %n = sub i32 0, %a
  store i32 %n, ptr %o
  br label %latch
latch:
  %t.next = add nuw nsw i64 %t, 1
  %done = icmp eq i64 %t.next, 64
  br i1 %done, label %exit, label %tid.x.loop
exit:
  ret void
}
)";

const std::string Region = "__cushim_region_k";

// NoWrap: A is the thread index itself (Base unused), which cannot wrap: the pass needs no original loop for it.
std::string loop(const std::string &Name, const std::string &Pred, bool NoWrap = false) {
  std::string S = Loop;
  S.replace(S.find("@NAME@"), 6, Name);
  S.replace(S.find("@PRED@"), 6, Pred);
  // Without a base, A is the thread index itself, which the trip count bounds.
  const std::string Add = "add @FLAGS@ i32 %base, %t32";
  S.replace(S.find(Add), Add.size(), NoWrap ? "add nuw nsw i32 %t32, 0" : "add i32 %base, %t32");
  return S;
}

using Parsed = cushim::test::ParsedIr;

// Runs the pass on the entry; the number of loops afterwards.
size_t splitAndCountLoops(Parsed &P) {
  return cushim::test::loopsAfter(cushim::ptx::ThreadLoopSplitPass(), P.entry());
}

std::vector<int32_t> run(Parsed &&P, int32_t Base, int32_t X) {
  std::string Name = P.entry().getName().str();
  auto [J, Fn] = cushim::test::jitFunction<void (*)(int32_t *, const int32_t *, int32_t, int32_t)>(std::move(P), Name);
  std::vector<int32_t> In(65), Out(64, 12345);
  for (size_t I = 0; I < In.size(); ++I)
    In[I] = static_cast<int32_t>(I * 7 + 1);
  Fn(Out.data(), In.data(), Base, X);
  return Out;
}

} // namespace

TEST_CASE("A thread loop guarded by an order on the thread index runs as two loops, with the same results",
          "[thread-split]") {
  for (const char *Pred : {"slt", "sle", "sgt", "sge", "ult", "ule", "ugt", "uge"}) {
    // Split points before, inside and after the threads; a base whose last thread wraps (the original runs);
    // negative values (signed and unsigned orders differ).
    for (auto [Base, X] : {std::pair{0, 20}, {0, 0}, {10, 5}, {0, 64}, {0, 100}, {-30, 3}, {-5, -70},
                           {0x7fffffe0, 0x7ffffff0}, {-1, 40}}) {
      INFO(Pred << " base " << Base << " x " << X);
      Parsed Split(loop(Region, Pred));
      REQUIRE(splitAndCountLoops(Split) == 3);
      CHECK(run(std::move(Split), Base, X) == run(Parsed(loop(Region, Pred)), Base, X));
    }
  }
}

TEST_CASE("A guard whose index provably does not wrap splits into two loops only", "[thread-split]") {
  for (const char *Pred : {"slt", "sle", "sgt", "sge", "ult", "ugt"})
    for (auto [Base, X] : {std::pair{0, 20}, {0, 0}, {0, 5}, {0, 64}, {0, 3}, {0, -70}}) {
      INFO(Pred << " base " << Base << " x " << X);
      Parsed Split(loop(Region, Pred, true));
      REQUIRE(splitAndCountLoops(Split) == 2);
      CHECK(run(std::move(Split), Base, X) == run(Parsed(loop(Region, Pred, true)), Base, X));
    }
}

// Where the last part starts: the constant in `split.point = umin(C, threads)`, or -1.
int64_t firstPartThreads(llvm::Function &F) {
  for (llvm::BasicBlock &BB : F)
    for (llvm::Instruction &I : BB)
      if (auto *Min = llvm::dyn_cast<llvm::MinMaxIntrinsic>(&I);
          Min && I.getName().starts_with("split.point") && Min->getIntrinsicID() == llvm::Intrinsic::umin)
        if (auto *C = llvm::dyn_cast<llvm::ConstantInt>(Min->getLHS()))
          return C->getSExtValue();
  return -1;
}

// The conditional branches on the guard's comparison (`%guard`, in the original loop and its copies).
size_t guardedBranches(llvm::Function &F) {
  size_t Count = 0;
  for (llvm::BasicBlock &BB : F)
    if (auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB.getTerminator());
        Br && Br->isConditional() && Br->getCondition()->getName().starts_with("guard"))
      ++Count;
  return Count;
}

// The loop with the other threads' store dropped: only the guard's side writes memory.
std::string guardedWritesOnly(const std::string &Pred) {
  std::string S = loop(Region, Pred);
  const std::string Store = "  store i32 %n, ptr %o\n";
  S.erase(S.find(Store), Store.size());
  return S;
}

TEST_CASE("An equality on the thread index splits after the first cache line of threads when thread 0 is the one",
          "[thread-split]") {
  for (const char *Pred : {"eq", "ne"})
    for (bool OnlyGuardWrites : {false, true}) {
      auto make = [&] { return OnlyGuardWrites ? guardedWritesOnly(Pred) : loop(Region, Pred); };
      // eq: thread 0's side is the guarded one; ne: the others'. Only the eq loop without the others' store has
      // all its writes on thread 0's side.
      bool ThreeParts = OnlyGuardWrites && std::string(Pred) == "eq";
      for (auto [Base, X] : {std::pair{0, 0}, {7, 7}, {0, 5}, {-3, 0}, {0, 64}, {-20, -4}}) {
        INFO(Pred << (OnlyGuardWrites ? ", guarded writes only" : "") << ", base " << Base << " x " << X);
        Parsed Split(make());
        // The last part starts at thread 16 (a cache line of 4-byte elements). Before it, threads 0-15 keep the
        // guard (their stores stay wide); or, where only thread 0 writes, thread 0 runs alone with the guard
        // folded (scalar code, not a one-lane gather and scatter) and threads 1-15 without it. The original loop
        // keeps the guard for blocks where thread 0 is not the one.
        REQUIRE(splitAndCountLoops(Split) == (ThreeParts ? 4 : 3));
        CHECK(firstPartThreads(Split.entry()) == 16);
        CHECK(guardedBranches(Split.entry()) == (ThreeParts ? 1 : 2));
        CHECK(run(std::move(Split), Base, X) == run(Parsed(make()), Base, X));
      }
      // Blocks of fewer threads than that run the first parts only.
      for (int Threads : {8, 1}) {
        std::string Small = make();
        Small.replace(Small.find("icmp eq i64 %t.next, 64"), 23, "icmp eq i64 %t.next, " + std::to_string(Threads));
        for (auto [Base, X] : {std::pair{0, 0}, {3, 3}, {0, 2}}) {
          INFO(Pred << (OnlyGuardWrites ? ", guarded writes only, " : ", ") << Threads << " threads, base " << Base
                    << " x " << X);
          Parsed Split(Small);
          REQUIRE(splitAndCountLoops(Split) == (ThreeParts ? 4 : 3));
          std::vector<int32_t> Got = run(std::move(Split), Base, X), Want = run(Parsed(Small), Base, X);
          CHECK(Got == Want);
          CHECK(Got[Threads] == 12345); // untouched past the block
        }
      }
    }
}

// A = base + k * t: the tree of `index = 2 * s * tid; if (index < n)`.
std::string steppedLoop(const std::string &Pred) {
  std::string S = loop(Region, Pred);
  const std::string Params = "i32 %base, i32 %x)", Add = "add i32 %base, %t32";
  S.replace(S.find(Params), Params.size(), "i32 %base, i32 %x, i32 %k)");
  S.replace(S.find(Add), Add.size(), "mul i32 %t32, %k\n  %a = add i32 %base, %tk");
  S.replace(S.find("%a = mul i32 %t32"), 2, "%tk");
  return S;
}

std::vector<int32_t> runStepped(Parsed &&P, int32_t Base, int32_t X, int32_t K) {
  std::string Name = P.entry().getName().str();
  auto [J, Fn] = cushim::test::jitFunction<void (*)(int32_t *, const int32_t *, int32_t, int32_t, int32_t)>(
      std::move(P), Name);
  std::vector<int32_t> In(65), Out(64, 12345);
  for (size_t I = 0; I < In.size(); ++I)
    In[I] = static_cast<int32_t>(I * 7 + 1);
  Fn(Out.data(), In.data(), Base, X, K);
  return Out;
}

TEST_CASE("A guard on a multiple of the thread index splits where it turns, with the same results",
          "[thread-split]") {
  for (const char *Pred : {"slt", "sle", "sgt", "uge", "ult", "ule"})
    // Steps of 0, 1, 2, 3, 64 (only thread 0 below), negative (A decreases: the original runs) and large (A wraps).
    for (auto [Base, X, K] : {std::tuple{0, 256, 2}, {0, 256, 8}, {0, 100, 3}, {5, 100, 3}, {0, 256, 64}, {0, 20, 0},
                              {30, 20, 0}, {0, 0, 4}, {100, 40, -3}, {0, 1000, 0x10000000}, {-50, 10, 7}}) {
      INFO(Pred << " base " << Base << " x " << X << " k " << K);
      Parsed Split(steppedLoop(Pred));
      REQUIRE(splitAndCountLoops(Split) == 3);
      CHECK(runStepped(std::move(Split), Base, X, K) == runStepped(Parsed(steppedLoop(Pred)), Base, X, K));
    }
}

TEST_CASE("Thread loops of other functions are not split", "[thread-split]") {
  Parsed NotARegion(loop("__cushim_flat_k", "slt"));
  CHECK(splitAndCountLoops(NotARegion) == 1);
}
