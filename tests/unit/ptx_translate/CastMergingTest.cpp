// CastMergingPass (src/ptx_translate/CastMerging.cpp): the inttoptr casts of one integer become one cast placed
// where it dominates all their uses (after a phi's block's phis for a phi, at the entry for an argument); casts of
// other integers or to other types stay apart; the function still verifies.
#include "ptx_translate/CastMerging.h"

#include <catch2/catch.hpp>

#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <map>

namespace {

constexpr const char *Ir = R"(
define i32 @f(i64 %base, i64 %other, i1 %c, i64 %n) {
entry:
  br i1 %c, label %a, label %b
a:
  %p1 = inttoptr i64 %base to ptr
  %v1 = load i32, ptr %p1
  br label %loop
b:
  %p2 = inttoptr i64 %base to ptr
  %q2 = getelementptr i8, ptr %p2, i64 4
  %v2 = load i32, ptr %q2
  %o = inttoptr i64 %other to ptr
  %v3 = load i32, ptr %o
  %s = add i32 %v2, %v3
  br label %loop
loop:
  %i = phi i64 [ 0, %a ], [ 0, %b ], [ %i.next, %loop ]
  %acc = phi i32 [ %v1, %a ], [ %s, %b ], [ %acc.next, %loop ]
  %addr = add i64 %base, %i
  %p3 = inttoptr i64 %addr to ptr
  %v4 = load i32, ptr %p3
  %p4 = inttoptr i64 %addr to ptr
  %v5 = load i32, ptr %p4
  %p5 = inttoptr i64 %base to ptr
  %v6 = load i32, ptr %p5
  %sum = add i32 %v4, %v5
  %sum2 = add i32 %sum, %v6
  %acc.next = add i32 %acc, %sum2
  %i.next = add i64 %i, 4
  %done = icmp eq i64 %i.next, %n
  br i1 %done, label %exit, label %loop
exit:
  ret i32 %acc.next
}
)";

} // namespace

TEST_CASE("Casts of one integer are merged into one that dominates their uses", "[cast-merging]") {
  llvm::LLVMContext Ctx;
  llvm::SMDiagnostic Diag;
  std::unique_ptr<llvm::Module> M = llvm::parseAssemblyString(Ir, Diag, Ctx);
  REQUIRE(M);
  llvm::Function &F = *M->getFunction("f");
  llvm::FunctionAnalysisManager FAM;
  llvm::PassBuilder PB;
  PB.registerFunctionAnalyses(FAM);
  cushim::ptx::CastMergingPass().run(F, FAM);

  std::string Errors;
  llvm::raw_string_ostream OS(Errors);
  CHECK_FALSE(llvm::verifyFunction(F, &OS));
  INFO(Errors);
  std::map<llvm::Value *, int> CastsOf;
  for (llvm::Instruction &I : llvm::instructions(F))
    if (auto *Cast = llvm::dyn_cast<llvm::IntToPtrInst>(&I)) {
      ++CastsOf[Cast->getOperand(0)];
      if (Cast->getOperand(0) == F.getArg(0))
        CHECK(Cast->getParent() == &F.getEntryBlock()); // an argument's cast: at the entry
      else if (Cast->getOperand(0) == F.getArg(1))
        CHECK(Cast->getParent()->getName() == "b"); // a single cast stays where it was
      else
        CHECK(Cast->getParent()->getName() == "loop"); // right after %addr
    }
  CHECK(CastsOf.size() == 3);
  for (auto &[Int, Count] : CastsOf)
    CHECK(Count == 1);
}
