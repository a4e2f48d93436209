// ThreadLoopStridePass (src/ptx_translate/ThreadLoopStride.cpp): a region entry's thread loop guarded by
// `t % d == 0` (urem or srem, the index truncated or not, == or !=; or `t & (2^k - 1)`) visits only the multiples
// of |d|. Both versions are JIT-compiled and give the same results for divisors below, at and above the thread
// count; loops whose skipped threads would have done something keep their guard.
#include "ptx_translate/ThreadLoopStride.h"

#include "IrPassTestSupport.h"

#include <catch2/catch.hpp>

#include <llvm/IR/Module.h>

#include <string>
#include <vector>

namespace {

// n + 1 threads (1 to 1024, as blocks have): when `t % d` (@REM@ of the index as @TY@) compares @PRED@ with 0, thread t writes
// Out[t] = In[t] + In[t + 1] * t (the tree step `s[t] += s[t + s]` has this shape); @SKIP@ is what the others do.
constexpr const char *Loop = R"(
define void @@NAME@(ptr noalias %out, ptr noalias %in, i32 %d, i64 %n) {
entry:
  %dt = @DIVISOR@
  %low = and i64 %n, 1023
  %threads = add nuw nsw i64 %low, 1
  br label %tid.x.loop
tid.x.loop:
  %t = phi i64 [ 0, %entry ], [ %t.next, %latch ]
  %x = trunc i64 %t to @TY@
  %r = @REM@ @TY@ %x, %dt
  %guard = icmp @PRED@ @TY@ %r, 0
  br i1 %guard, label %@FIRST@, label %@SECOND@
then:
  %o = getelementptr inbounds i32, ptr %out, i64 %t
  %t1 = add nuw nsw i64 %t, 1
  %p0 = getelementptr inbounds i32, ptr %in, i64 %t
  %p1 = getelementptr inbounds i32, ptr %in, i64 %t1
  %v0 = load i32, ptr %p0
  %v1 = load i32, ptr %p1
  %t32 = trunc i64 %t to i32
  %m = mul i32 %v1, %t32
  %s = add i32 %v0, %m
  store i32 %s, ptr %o
  br label %latch
else:
  @SKIP@
  br label %latch
latch:
  @LATCH@
  %t.next = add nuw nsw i64 %t, 1
  %done = icmp eq i64 %t.next, %threads
  br i1 %done, label %exit, label %tid.x.loop
exit:
  ret void
}
)";

struct Form {
  const char *Rem = "urem", *Ty = "i32", *Pred = "eq";
  const char *Skip = "";  // what the threads the guard stops do
  const char *Latch = ""; // what every thread does at the end
};

std::string loop(const std::string &Name, const Form &F) {
  std::string S = Loop;
  auto put = [&](const std::string &Key, const std::string &Value) {
    for (size_t At; (At = S.find(Key)) != std::string::npos;)
      S.replace(At, Key.size(), Value);
  };
  put("@DIVISOR@", std::string(F.Ty) == "i32" ? "add i32 %d, 0" : "trunc i32 %d to @TY@");
  put("@NAME@", Name);
  put("@REM@", F.Rem);
  put("@TY@", F.Ty);
  put("@PRED@", F.Pred);
  bool Eq = std::string(F.Pred) == "eq";
  bool Empty = *F.Skip == 0;
  // Without a skip action the stopped threads go straight to the latch.
  put("@FIRST@", Eq ? "then" : (Empty ? "latch" : "else"));
  put("@SECOND@", Eq ? (Empty ? "latch" : "else") : "then");
  put("@SKIP@", F.Skip);
  put("@LATCH@", F.Latch);
  return S;
}

const std::string Region = "__cushim_region_k";

using Parsed = cushim::test::ParsedIr;

// Runs the pass on the entry; whether the thread loop became strided.
bool strided(Parsed &P) {
  REQUIRE(cushim::test::loopsAfter(cushim::ptx::ThreadLoopStridePass(), P.entry()) == 1);
  for (llvm::BasicBlock &BB : P.entry())
    if (BB.getName().ends_with(".strided"))
      return true;
  return false;
}

std::vector<int32_t> run(Parsed &&P, int32_t D, int64_t N) {
  std::string Name = P.entry().getName().str();
  auto [J, Fn] = cushim::test::jitFunction<void (*)(int32_t *, const int32_t *, int32_t, int64_t)>(std::move(P), Name);
  std::vector<int32_t> In(N + 1), Out(N, 12345);
  for (size_t I = 0; I < In.size(); ++I)
    In[I] = static_cast<int32_t>(I * 7 + 1);
  Fn(Out.data(), In.data(), D, N - 1);
  return Out;
}

} // namespace

TEST_CASE("A thread loop guarded by tid % d == 0 visits only the multiples of d, with the same results",
          "[thread-stride]") {
  for (Form F : {Form{}, Form{"urem", "i16"}, Form{"urem", "i32", "ne"}, Form{"srem", "i32"},
                 Form{"srem", "i16", "ne"}})
    for (int32_t D : {1, 2, 3, 7, 32, 64, 100})
      for (int64_t N : {64, 50, 1}) {
        // srem: a negative divisor lets the same threads through as its magnitude.
        for (int32_t Divisor : {D, std::string(F.Rem) == "srem" ? -D : D}) {
          INFO(F.Rem << " " << F.Ty << " " << F.Pred << " d " << Divisor << " n " << N);
          Parsed Strided(loop(Region, F));
          REQUIRE(strided(Strided));
          CHECK(run(std::move(Strided), Divisor, N) == run(Parsed(loop(Region, F)), Divisor, N));
        }
      }
}

TEST_CASE("A thread loop guarded by tid & (2^k - 1) == 0 visits only the multiples of 2^k", "[thread-stride]") {
  for (const char *Ty : {"i32", "i16"})
    for (int Mask : {0, 1, 3, 31, 127})
      for (int64_t N : {64, 50, 1}) {
        INFO(Ty << " mask " << Mask << " n " << N);
        std::string Text = loop(Region, Form{"urem", Ty});
        const std::string Rem = "urem " + std::string(Ty) + " %x, %dt";
        Text.replace(Text.find(Rem), Rem.size(), "and " + std::string(Ty) + " %x, " + std::to_string(Mask));
        Parsed Strided(Text);
        REQUIRE(strided(Strided));
        CHECK(run(std::move(Strided), 0, N) == run(Parsed(Text), 0, N));
      }
  // A mask that is not 2^k - 1 lets through threads that are no arithmetic progression.
  std::string Text = loop(Region, Form{});
  Text.replace(Text.find("urem i32 %x, %dt"), 16, "and i32 %x, 5");
  Parsed Holes(Text);
  CHECK_FALSE(strided(Holes));
}

TEST_CASE("Thread loops whose stopped threads do something keep their guard", "[thread-stride]") {
  // The stopped threads write.
  Parsed Writes(loop(Region, Form{"urem", "i32", "eq",
                                  "%oe = getelementptr inbounds i32, ptr %out, i64 %t\n  store i32 -1, ptr %oe"}));
  CHECK_FALSE(strided(Writes));
  // Every thread counts itself at the end.
  Parsed Counts(loop(Region, Form{"urem", "i32", "eq", "",
                                  "%c = load i32, ptr %in\n  %c1 = add i32 %c, 1\n  store i32 %c1, ptr %in"}));
  CHECK_FALSE(strided(Counts));
  // Not a region entry.
  Parsed Flat(loop("__cushim_flat_k", Form{}));
  CHECK_FALSE(strided(Flat));
}
