// SelectiveStrengthReductionPass (src/ptx_translate/StrengthReduction.cpp): loop strength reduction runs on a plain
// loop (its `i * 12` addresses become a pointer stepped by 12) and leaves alone a loop marked as the vectoriser's
// scalar copy (llvm.loop.isvectorized, no vector operations), whose multiply stays.
#include "ptx_translate/StrengthReduction.h"

#include <catch2/catch.hpp>

#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/TargetParser/Host.h>

#include <memory>
#include <string>

namespace {

// The same loop twice; the second carries the mark the loop vectoriser leaves on the scalar loop it keeps.
std::string loopFunction(const std::string &Name, const std::string &LoopMark) {
  return "define void @" + Name + R"((ptr %p, i64 %n) {
entry:
  br label %loop
loop:
  %i = phi i64 [ 0, %entry ], [ %i.next, %loop ]
  %off = mul i64 %i, 12
  %a = getelementptr i8, ptr %p, i64 %off
  store i32 1, ptr %a
  %off2 = add i64 %off, 4
  %b = getelementptr i8, ptr %p, i64 %off2
  store i32 2, ptr %b
  %i.next = add nuw nsw i64 %i, 1
  %done = icmp eq i64 %i.next, %n
  br i1 %done, label %exit, label %loop)" +
         LoopMark + R"(
exit:
  ret void
}
)";
}

std::string moduleIr() {
  return loopFunction("plain", "") + loopFunction("scalar_copy", ", !llvm.loop !0") +
         "!0 = distinct !{!0, !1}\n!1 = !{!\"llvm.loop.isvectorized\", i32 1}\n";
}

bool hasMultiply(llvm::Function &F) {
  for (llvm::Instruction &I : llvm::instructions(F))
    if (I.getOpcode() == llvm::Instruction::Mul)
      return true;
  return false;
}

} // namespace

TEST_CASE("Loop strength reduction skips the vectoriser's scalar copies only", "[strength-reduction]") {
  llvm::InitializeNativeTarget();
  llvm::LLVMContext Ctx;
  llvm::SMDiagnostic Diag;
  std::unique_ptr<llvm::Module> M = llvm::parseAssemblyString(moduleIr(), Diag, Ctx);
  REQUIRE(M);
  std::string Triple = llvm::sys::getProcessTriple(), Error;
  const llvm::Target *Target = llvm::TargetRegistry::lookupTarget(Triple, Error);
  REQUIRE(Target);
  std::unique_ptr<llvm::TargetMachine> TM(
      Target->createTargetMachine(Triple, llvm::sys::getHostCPUName(), "", llvm::TargetOptions(), std::nullopt));
  REQUIRE(TM);
  M->setDataLayout(TM->createDataLayout());
  REQUIRE(hasMultiply(*M->getFunction("plain")));
  REQUIRE(hasMultiply(*M->getFunction("scalar_copy")));

  llvm::LoopAnalysisManager LAM;
  llvm::FunctionAnalysisManager FAM;
  llvm::CGSCCAnalysisManager CGAM;
  llvm::ModuleAnalysisManager MAM;
  llvm::PassBuilder PB(TM.get());
  PB.registerModuleAnalyses(MAM);
  PB.registerCGSCCAnalyses(CGAM);
  PB.registerFunctionAnalyses(FAM);
  PB.registerLoopAnalyses(LAM);
  PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);
  llvm::ModulePassManager MPM;
  MPM.addPass(llvm::createModuleToFunctionPassAdaptor(
      llvm::createFunctionToLoopPassAdaptor(cushim::ptx::SelectiveStrengthReductionPass())));
  MPM.run(*M, MAM);

  CHECK_FALSE(llvm::verifyModule(*M, &llvm::errs()));
  CHECK_FALSE(hasMultiply(*M->getFunction("plain"))); // strength-reduced: a pointer stepped by 12
  CHECK(hasMultiply(*M->getFunction("scalar_copy"))); // left alone
}
