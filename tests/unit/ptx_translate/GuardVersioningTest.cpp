// GuardVersioningPass (src/ptx_translate/GuardVersioning.cpp) on region entries: a lockstep pass's thread loop
// whose marked branches (branch weights from RegionBuilder) all fold gets a copy without them, entered when every
// thread provably goes the marked way; a loop with a marked branch that cannot be checked before the loop, or
// with no marked branch at all, is left alone. The copy computes what the loop computed (both are JIT-compiled and
// run on the same inputs).
#include "ptx_translate/GuardVersioning.h"

#include "IrPassTestSupport.h"

#include <catch2/catch.hpp>

#include <llvm/IR/Module.h>

#include <string>
#include <vector>

namespace {

// One lockstep pass of a grid-stride loop over 64 threads: a thread at state 1 (or every thread, when %all) runs
// one iteration, i = base + t; it stays in the loop (state 1) while i + 4096 < lim, else leaves (state 2). Out[t]
// gets i + 4096 for the threads that ran. @HERE@ is the thread's check of its state, @PROF@ the marks.
constexpr const char *Pass = R"(
define void @@NAME@(ptr noalias %out, ptr noalias %states, i32 %base, i32 %lim, i1 %all) {
entry:
  br label %tid.x.loop
tid.x.loop:
  %t = phi i64 [ 0, %entry ], [ %t.next, %latch ]
  %t32 = trunc i64 %t to i32
  %sp = getelementptr inbounds i32, ptr %states, i64 %t
  %st = load i32, ptr %sp
  %here = icmp eq i32 %st, 1
  %go = @HERE@
  br i1 %go, label %body, label %latch@PROF@
body:
  %i = add nsw i32 %base, %t32
  %i.next = add nsw i32 %i, 4096
  %o = getelementptr inbounds i32, ptr %out, i64 %t
  store i32 %i.next, ptr %o
  %stay = icmp slt i32 %i.next, %lim
  br i1 %stay, label %again, label %leave@PROF@
again:
  br label %latch
leave:
  br label %latch
latch:
  %v = phi i32 [ %st, %tid.x.loop ], [ 1, %again ], [ 2, %leave ]
  store i32 %v, ptr %sp
  %t.next = add nuw nsw i64 %t, 1
  %done = icmp eq i64 %t.next, 64
  br i1 %done, label %exit, label %tid.x.loop
exit:
  ret void
}
!0 = !{!"branch_weights", i32 1048576, i32 1}
)";

const std::string AllOrHere = "select i1 %all, i1 true, i1 %here";
const std::string HereOnly = "and i1 %here, true";
const std::string Region = "__cushim_region_k";

std::string pass(const std::string &Name, const std::string &Here, bool Marked) {
  return cushim::test::filled(Pass, {{"@NAME@", Name}, {"@HERE@", Here}, {"@PROF@", Marked ? ", !prof !0" : ""}});
}

using Parsed = cushim::test::ParsedIr;

// Runs the pass on the entry; returns the number of loops the entry has afterwards.
size_t versionAndCountLoops(Parsed &P) {
  return cushim::test::loopsAfter(cushim::ptx::GuardVersioningPass(), P.entry());
}

struct Result {
  std::vector<int32_t> Out, States;
  bool operator==(const Result &O) const { return Out == O.Out && States == O.States; }
};

Result run(Parsed &&P, int32_t Base, int32_t Lim, bool All, const std::vector<int32_t> &States) {
  std::string Name = P.entry().getName().str();
  auto [J, Fn] = cushim::test::jitFunction<void (*)(int32_t *, int32_t *, int32_t, int32_t, bool)>(std::move(P), Name);
  Result R{std::vector<int32_t>(64, -1), States};
  Fn(R.Out.data(), R.States.data(), Base, Lim, All);
  return R;
}

} // namespace

TEST_CASE("A lockstep pass whose marked branches all fold gets a copy without them, with the same results",
          "[guard-versioning]") {
  std::vector<int32_t> AllIn(64, 1), Some(64, 1);
  for (size_t T = 0; T < Some.size(); T += 3)
    Some[T] = 2;
  // Every thread stays (the copy runs); the last ones leave; not all threads are here; indices near INT_MAX.
  for (auto [Base, Lim, All, States] : {std::tuple{1000, 1000000, true, AllIn},
                                        {1000, 5120, true, AllIn},
                                        {1000, 1000000, false, Some},
                                        {0x7fffe000, 0x7fffffff, true, AllIn}}) {
    INFO("base " << Base << ", lim " << Lim << ", all " << All);
    Parsed Fast(pass(Region, AllOrHere, true));
    REQUIRE(versionAndCountLoops(Fast) == 2);
    CHECK(run(std::move(Fast), Base, Lim, All, States) ==
          run(Parsed(pass(Region, AllOrHere, false)), Base, Lim, All, States));
  }
}

TEST_CASE("Lockstep passes with a marked branch that cannot be checked, or without marks, are left alone",
          "[guard-versioning]") {
  Parsed StateOnly(pass(Region, HereOnly, true)); // the state check reads memory in the loop
  CHECK(versionAndCountLoops(StateOnly) == 1);
  Parsed Unmarked(pass(Region, AllOrHere, false)); // region entries fold only the builder's marks
  CHECK(versionAndCountLoops(Unmarked) == 1);
  Parsed NotAnEntry(pass("k", AllOrHere, true));
  CHECK(versionAndCountLoops(NotAnEntry) == 1);
}
