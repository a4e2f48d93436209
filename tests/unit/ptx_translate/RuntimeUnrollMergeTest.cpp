// RuntimeUnrollMergePass (src/ptx_translate/RuntimeUnrollMerge.cpp) on the shape nvcc gives CSR SpMV's row loop: a
// remainder loop, then the loop unrolled 4 times, the running sum carried as i32 bits between them. The merged loop
// computes the same bits as the region for rows of every length (both JIT-compiled and run on the same matrix).
// Regions are left alone where the copies differ from the remainder's body (an element read twice, other operands),
// where they store, and where the region's iterations are not shown to be those of one loop from s to e: no s < e
// where it starts, a remainder that is not the count mod 4, an unrolled loop entered with fewer than 4 elements left,
// an unsigned exit test whose addresses are sign-extended. The same for nvcc's other layout (a hash over each row,
// the remainder after the unrolled loop, copies listing an add's operands in either order): merged and bit for bit
// equal, or left alone where an empty row would enter the unrolled loop, where it is entered from 3 elements, where
// a copy reads the wrong element, or where the remainder does not go on where the unrolled loop stopped.
#include "ptx_translate/RuntimeUnrollMerge.h"

#include "IrPassTestSupport.h"

#include <catch2/catch.hpp>

#include <llvm/IR/Module.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

// y[r] = sum over k in [rowptr[r], rowptr[r + 1]) of val[k] * x[col[k]] (fma chain), as nvcc lays it out.
constexpr const char *Spmv = R"(
define void @spmv(ptr %rowptr, ptr %col, ptr %val, ptr %x, ptr %y, i32 %rows, ptr %sink) {
entry:
  %colI = ptrtoint ptr %col to i64
  %valI = ptrtoint ptr %val to i64
  %xI = ptrtoint ptr %x to i64
  br label %row.loop
row.loop:
  %r = phi i32 [ 0, %entry ], [ %r.next, %x.done ]
  %rw = sext i32 %r to i64
  %rp = getelementptr i32, ptr %rowptr, i64 %rw
  %s = load i32, ptr %rp
  %rp1 = getelementptr i32, ptr %rp, i64 1
  %e = load i32, ptr %rp1
  %nonempty = icmp slt i32 %s, %e
  br i1 @NONEMPTY@, label %g, label %x.done
g:
  %n = sub i32 %e, %s
  %rem = and i32 %n, @MASK@
  %skip = icmp eq i32 %rem, 0
  br i1 %skip, label %mid, label %p1
p1:
  %sw = sext i32 %s to i64
  %s4 = shl nsw i64 %sw, 2
  %c0 = add i64 %s4, %colI
  %v0 = add i64 %s4, %valI
  br label %l1
l1:
  %cnt = phi i32 [ %rem, %p1 ], [ %cnt.next, %l1 ]
  %sum1 = phi float [ 0.0, %p1 ], [ %f1, %l1 ]
  %vp = phi i64 [ %v0, %p1 ], [ %vp.next, %l1 ]
  %cp = phi i64 [ %c0, %p1 ], [ %cp.next, %l1 ]
  %cptr = inttoptr i64 %cp to ptr
  %ci = load i32, ptr %cptr
  %cw = sext i32 %ci to i64
  %c4 = shl nsw i64 %cw, 2
  %xa = add i64 %c4, %xI
  %xptr = inttoptr i64 %xa to ptr
  %xv = load float, ptr %xptr
  %vptr = inttoptr i64 %vp to ptr
  %vv = load float, ptr %vptr
  %f1 = call float @llvm.fma.f32(float %vv, float %xv, float %sum1)
  %cp.next = add i64 %cp, 4
  %vp.next = add i64 %vp, 4
  %cnt.next = add nsw i32 %cnt, -1
  %l1.done = icmp eq i32 %cnt.next, 0
  br i1 %l1.done, label %e1, label %l1
e1:
  %f1.last = phi float [ %f1, %l1 ]
  %k1 = add i32 %s, %rem
  %f1.bits = bitcast float %f1.last to i32
  br label %mid
mid:
  %k = phi i32 [ %s, %g ], [ %k1, %e1 ]
  %acc = phi i32 [ 0, %g ], [ %f1.bits, %e1 ]
  %neg = sub i32 %s, %e
  %few = icmp ugt i32 %neg, @FEW@
  br i1 %few, label %x.done, label %p2
p2:
  %kw = sext i32 %k to i64
  %k4 = shl nsw i64 %kw, 2
  %k48 = add nsw i64 %k4, 8
  %vq0 = add i64 %k48, %valI
  %cq0 = add i64 %k48, %colI
  br label %l2
l2:
  %k2 = phi i32 [ %k, %p2 ], [ %k2.next, %l2 ]
  %acc2 = phi i32 [ %acc, %p2 ], [ %acc2.next, %l2 ]
  %cq = phi i64 [ %cq0, %p2 ], [ %cq.next, %l2 ]
  %vq = phi i64 [ %vq0, %p2 ], [ %vq.next, %l2 ]
  %g.prev = bitcast i32 %acc2 to float
@COPIES@
  %acc2.next = bitcast float %g3 to i32
  %vq.next = add i64 %vq, 16
  %cq.next = add i64 %cq, 16
  %k2.next = add i32 %k2, 4
  %more = icmp @MORE@ i32 %k2.next, %e
  br i1 %more, label %l2, label %e2
e2:
  %acc2.last = phi i32 [ %acc2.next, %l2 ]
  br label %x.done
x.done:
  %res = phi i32 [ 0, %row.loop ], [ %acc, %mid ], [ %acc2.last, %e2 ]
  %yp = getelementptr i32, ptr %y, i64 %rw
  store i32 %res, ptr %yp
  %r.next = add nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %exit, label %row.loop
exit:
  ret void
}

declare float @llvm.fma.f32(float, float, float)
)";

// Copy J of the unrolled body: the element at byte offset Offset from the pointers (-8, -4, 0, 4 for copies 0-3).
constexpr const char *Copy = R"(
  %ca@J@ = add i64 %cq, @OFF@
  %cpt@J@ = inttoptr i64 %ca@J@ to ptr
  %ci@J@ = load i32, ptr %cpt@J@
  %cw@J@ = sext i32 %ci@J@ to i64
  %c4@J@ = shl nsw i64 %cw@J@, 2
  %xa@J@ = add i64 %c4@J@, %xI
  %xpt@J@ = inttoptr i64 %xa@J@ to ptr
  %xv@J@ = load float, ptr %xpt@J@
  %va@J@ = add i64 %vq, @OFF@
  %vpt@J@ = inttoptr i64 %va@J@ to ptr
  %vv@J@ = load float, ptr %vpt@J@
  %g@J@ = call float @llvm.fma.f32(float @A@, float @B@, float @PREV@)@STORE@
)";

struct Variant {
  int Offset3 = 4;           // copy 3's offset (4 is right)
  bool SquareCopy1 = false;  // copy 1 multiplies x by itself instead of by val
  bool Store = false;        // copy 2 also stores its sum
  bool Unguarded = false;    // G is reached for empty rows too (s < e unknown)
  int Mask = 3;              // the remainder is n & Mask
  int Few = -4;              // Mid skips the unrolled loop where s - e > Few (unsigned)
  bool UnsignedExit = false; // the unrolled loop's exit test compares without sign
};

std::string spmvIr(const Variant &V = {}) {
  std::string Copies;
  for (int J = 0; J < 4; ++J) {
    std::string Prev = J == 0 ? "%g.prev" : "%g" + std::to_string(J - 1);
    int Offset = J == 3 ? V.Offset3 : (J - 2) * 4;
    bool Square = V.SquareCopy1 && J == 1;
    std::string N = std::to_string(J);
    Copies += cushim::test::filled(Copy, {{"@A@", Square ? "%xv@J@" : "%vv@J@"},
                                          {"@B@", "%xv@J@"},
                                          {"@STORE@", V.Store && J == 2 ? "\n  store float %g2, ptr %sink" : ""},
                                          {"@J@", N},
                                          {"@OFF@", std::to_string(Offset)},
                                          {"@PREV@", Prev}});
  }
  return cushim::test::filled(Spmv, {{"@COPIES@", Copies},
                                     {"@NONEMPTY@", V.Unguarded ? "true" : "%nonempty"},
                                     {"@MASK@", std::to_string(V.Mask)},
                                     {"@FEW@", std::to_string(V.Few)},
                                     {"@MORE@", V.UnsignedExit ? "ult" : "slt"}});
}

bool hasMergedLoop(llvm::Function &F) {
  for (llvm::BasicBlock &BB : F)
    if (BB.getName().ends_with(cushim::ptx::MergedLoopSuffix))
      return true;
  return false;
}

struct Matrix {
  std::vector<int32_t> RowPtr{0}, Col;
  std::vector<float> Val, X;
};

// Rows of every length from 0 to 40, then random lengths.
Matrix matrix() {
  Matrix M;
  std::mt19937 Rng(7);
  std::uniform_real_distribution<float> Value(-1.0f, 1.0f);
  const int Cols = 97;
  for (int R = 0; R < 200; ++R) {
    int Length = R <= 40 ? R : static_cast<int>(Rng() % 25);
    for (int K = 0; K < Length; ++K) {
      M.Col.push_back(static_cast<int32_t>(Rng() % Cols));
      M.Val.push_back(Value(Rng));
    }
    M.RowPtr.push_back(static_cast<int32_t>(M.Col.size()));
  }
  for (int C = 0; C < Cols; ++C)
    M.X.push_back(Value(Rng));
  return M;
}

using SpmvFn = void (*)(const int32_t *, const int32_t *, const float *, const float *, float *, int32_t, float *);

std::vector<uint32_t> run(cushim::test::ParsedIr &&P, const Matrix &M) {
  auto [J, Fn] = cushim::test::jitFunction<SpmvFn>(std::move(P), "spmv");
  int Rows = static_cast<int>(M.RowPtr.size()) - 1;
  std::vector<float> Y(Rows, -7.0f);
  float Sink = 0;
  Fn(M.RowPtr.data(), M.Col.data(), M.Val.data(), M.X.data(), Y.data(), Rows, &Sink);
  std::vector<uint32_t> Bits(Rows);
  std::memcpy(Bits.data(), Y.data(), Rows * sizeof(float));
  return Bits;
}

// h = h * 31 + data[k] over k in [rowptr[r], rowptr[r + 1]) in nvcc's other layout: the loop unrolled 4 times
// first (counting down from n & -4, odd copies listing the add's operands the other way round), then the remainder.
constexpr const char *Hashes = R"(
define void @hashes(ptr %rowptr, ptr %data, ptr %out, i32 %rows) {
entry:
  %dataI = ptrtoint ptr %data to i64
  br label %row.loop
row.loop:
  %r = phi i32 [ 0, %entry ], [ %r.next, %row.done ]
  %rw = sext i32 %r to i64
  %sp = getelementptr i32, ptr %rowptr, i64 %rw
  %s = load i32, ptr %sp
  %ep = getelementptr i32, ptr %sp, i64 1
  %e = load i32, ptr %ep
  %nonempty = icmp slt i32 %s, %e
  br i1 @NONEMPTY@, label %g, label %row.done
g:
  %n = sub i32 %e, %s
  %rem = and i32 %n, 3
  %neg = sub i32 %s, %e
  %few = icmp ugt i32 %neg, @FEW@
  br i1 %few, label %mid, label %p2
p2:
  %whole = and i32 %n, -4
  %sw = sext i32 %s to i64
  %s4 = shl nsw i64 %sw, 2
  %a0 = add i64 %s4, %dataI
  br label %l2
l2:
  %c = phi i32 [ %whole, %p2 ], [ %c.next, %l2 ]
  %k2 = phi i32 [ %s, %p2 ], [ %k2.next, %l2 ]
  %h.prev = phi i32 [ 7, %p2 ], [ %h3, %l2 ]
  %a = phi i64 [ %a0, %p2 ], [ %a.next, %l2 ]
@COPIES@
  %a.next = add i64 %a, 16
  %k2.next = add i32 %k2, 4
  %k.resume = add i32 %k2, @RESUME@
  %c.next = add i32 %c, -4
  %l2.done = icmp eq i32 %c.next, 0
  br i1 %l2.done, label %e2, label %l2
e2:
  br label %mid
mid:
  %k = phi i32 [ %s, %g ], [ %k.resume, %e2 ]
  %hm = phi i32 [ 7, %g ], [ %h3, %e2 ]
  %skip = icmp eq i32 %rem, 0
  br i1 %skip, label %x, label %p1
p1:
  %kw = sext i32 %k to i64
  %k4 = shl nsw i64 %kw, 2
  %b0 = add i64 %k4, %dataI
  br label %l1
l1:
  %cnt = phi i32 [ %rem, %p1 ], [ %cnt.next, %l1 ]
  %g1 = phi i32 [ %hm, %p1 ], [ %g1.next, %l1 ]
  %b = phi i64 [ %b0, %p1 ], [ %b.next, %l1 ]
  %bp = inttoptr i64 %b to ptr
  %w = load i32, ptr %bp
  %n1 = mul i32 %g1, 31
  %g1.next = add i32 %w, %n1
  %b.next = add i64 %b, 4
  %cnt.next = add i32 %cnt, -1
  %l1.done = icmp eq i32 %cnt.next, 0
  br i1 %l1.done, label %e1, label %l1
e1:
  %g1.last = phi i32 [ %g1.next, %l1 ]
  br label %x
x:
  %res = phi i32 [ %hm, %mid ], [ %g1.last, %e1 ]
  br label %row.done
row.done:
  %out.r = phi i32 [ 7, %row.loop ], [ %res, %x ]
  %op = getelementptr i32, ptr %out, i64 %rw
  store i32 %out.r, ptr %op
  %r.next = add nsw i32 %r, 1
  %rdone = icmp eq i32 %r.next, %rows
  br i1 %rdone, label %exit, label %row.loop
exit:
  ret void
}
)";

constexpr const char *HashCopy = R"(
  %ad@J@ = add i64 %a, @OFF@
  %pt@J@ = inttoptr i64 %ad@J@ to ptr
  %v@J@ = load i32, ptr %pt@J@
  %m@J@ = mul i32 @PREV@, 31
  %h@J@ = add i32 @OPERANDS@
)";

struct EpilogueVariant {
  bool Unguarded = false; // G is reached for empty rows too: an empty row would enter the unrolled loop
  int Few = -4;           // G skips the unrolled loop where s - e > Few (unsigned)
  int Offset2 = 8;        // copy 2's offset (8 is right)
  int Resume = 0;         // the remainder goes on this many elements after where the unrolled loop stopped
};

std::string hashesIr(const EpilogueVariant &V = {}) {
  std::string Copies;
  for (int J = 0; J < 4; ++J) {
    std::string N = std::to_string(J), Prev = J == 0 ? "%h.prev" : "%h" + std::to_string(J - 1);
    Copies += cushim::test::filled(HashCopy, {{"@OPERANDS@", J % 2 ? "%m@J@, %v@J@" : "%v@J@, %m@J@"},
                                              {"@PREV@", Prev},
                                              {"@J@", N},
                                              {"@OFF@", std::to_string(J == 2 ? V.Offset2 : 4 * J)}});
  }
  return cushim::test::filled(Hashes, {{"@COPIES@", Copies},
                                       {"@NONEMPTY@", V.Unguarded ? "true" : "%nonempty"},
                                       {"@FEW@", std::to_string(V.Few)},
                                       {"@RESUME@", std::to_string(4 + V.Resume)}});
}

using HashesFn = void (*)(const int32_t *, const uint32_t *, uint32_t *, int32_t);

std::vector<uint32_t> runHashes(cushim::test::ParsedIr &&P, const Matrix &M) {
  auto [J, Fn] = cushim::test::jitFunction<HashesFn>(std::move(P), "hashes");
  int Rows = static_cast<int>(M.RowPtr.size()) - 1;
  std::vector<uint32_t> Data(M.Col.begin(), M.Col.end()), Out(Rows, 0);
  Fn(M.RowPtr.data(), Data.data(), Out.data(), Rows);
  return Out;
}

// Runs the pass on a copy of Ir, which must then hold a merged loop, and returns what the original and the merged
// function (run by Run on M) compute, after checking that they agree row by row.
template <typename RunFn> std::vector<uint32_t> mergedAgrees(const std::string &Ir, const Matrix &M, RunFn Run) {
  cushim::test::ParsedIr Original(Ir), Merged(Ir);
  REQUIRE(cushim::test::runFunctionPass(cushim::ptx::RuntimeUnrollMergePass(), Merged.entry()));
  REQUIRE_FALSE(llvm::verifyModule(*Merged.M, &llvm::errs()));
  REQUIRE(hasMergedLoop(Merged.entry()));
  std::vector<uint32_t> Want = Run(std::move(Original), M), Got = Run(std::move(Merged), M);
  REQUIRE(Got.size() == Want.size());
  for (size_t R = 0; R < Want.size(); ++R) {
    INFO("row " << R << " of length " << M.RowPtr[R + 1] - M.RowPtr[R]);
    CHECK(Got[R] == Want[R]);
  }
  return Want;
}

} // namespace

TEST_CASE("runtime-unrolled loops merge into one loop that computes the same bits", "[runtime-unroll-merge]") {
  Matrix M = matrix();
  std::vector<uint32_t> Want = mergedAgrees(spmvIr(), M, run);
  // The reference itself: row 5 by hand.
  float Row5 = 0;
  for (int K = M.RowPtr[5]; K < M.RowPtr[6]; ++K)
    Row5 = std::fma(M.Val[K], M.X[M.Col[K]], Row5);
  uint32_t Row5Bits;
  std::memcpy(&Row5Bits, &Row5, sizeof(Row5));
  CHECK(Want[5] == Row5Bits);
}

TEST_CASE("regions whose unrolled copies differ from the remainder's body are left alone", "[runtime-unroll-merge]") {
  Variant V;
  SECTION("an element read twice") { V.Offset3 = 0; }
  SECTION("one copy multiplying other operands") { V.SquareCopy1 = true; }
  SECTION("a store in the unrolled loop") { V.Store = true; }
  // What makes the region's iterations those of one loop from s to e: where it is not shown, no merge.
  SECTION("no s < e where the region starts") { V.Unguarded = true; }
  SECTION("a remainder that is the count mod 8") { V.Mask = 7; }
  SECTION("the unrolled loop entered from 3 elements") { V.Few = -3; }
  SECTION("an unsigned exit test (addresses sign-extended) after a signed guard") { V.UnsignedExit = true; }
  cushim::test::ParsedIr P(spmvIr(V));
  CHECK_FALSE(cushim::test::runFunctionPass(cushim::ptx::RuntimeUnrollMergePass(), P.entry()));
  CHECK_FALSE(hasMergedLoop(P.entry()));
}

TEST_CASE("the remainder after the unrolled loop merges too, copies' operands in either order",
          "[runtime-unroll-merge]") {
  Matrix M = matrix();
  std::vector<uint32_t> Want = mergedAgrees(hashesIr(), M, runHashes);
  // The reference itself: row 9 by hand.
  uint32_t Row9 = 7;
  for (int K = M.RowPtr[9]; K < M.RowPtr[10]; ++K)
    Row9 = Row9 * 31u + static_cast<uint32_t>(M.Col[K]);
  CHECK(Want[9] == Row9);
}

TEST_CASE("remainders after the unrolled loop are left alone where the count is not shown", "[runtime-unroll-merge]") {
  EpilogueVariant V;
  SECTION("no s < e: an empty row would enter the unrolled loop") { V.Unguarded = true; }
  SECTION("the unrolled loop entered from 3 elements") { V.Few = -3; }
  SECTION("an element read twice") { V.Offset2 = 4; }
  SECTION("a remainder that skips an element") { V.Resume = 1; }
  cushim::test::ParsedIr P(hashesIr(V));
  CHECK_FALSE(cushim::test::runFunctionPass(cushim::ptx::RuntimeUnrollMergePass(), P.entry()));
  CHECK_FALSE(hasMergedLoop(P.entry()));
}
