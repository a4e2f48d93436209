// Shared by the tests of single IR passes: a module parsed from IR text, a function pass run on one function, and
// a JIT-compiled function of a module.
#pragma once

#include <catch2/catch.hpp>

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/TargetSelect.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>

namespace cushim::test {

// A module parsed from IR text (the test fails on a parse error).
struct ParsedIr {
  std::unique_ptr<llvm::LLVMContext> Ctx = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> M;
  explicit ParsedIr(const std::string &Text) {
    llvm::SMDiagnostic Diag;
    M = llvm::parseAssemblyString(Text, Diag, *Ctx);
    if (!M)
      FAIL(Diag.getMessage().str());
  }
  // The module's first function (the one under test).
  llvm::Function &entry() { return *M->functions().begin(); }
};

// Runs a function pass on F with the standard analyses registered; whether it changed anything.
template <typename PassT> bool runFunctionPass(PassT Pass, llvm::Function &F) {
  llvm::PassBuilder PB;
  llvm::LoopAnalysisManager LAM;
  llvm::FunctionAnalysisManager FAM;
  llvm::CGSCCAnalysisManager CGAM;
  llvm::ModuleAnalysisManager MAM;
  PB.registerModuleAnalyses(MAM);
  PB.registerCGSCCAnalyses(CGAM);
  PB.registerFunctionAnalyses(FAM);
  PB.registerLoopAnalyses(LAM);
  PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);
  return !Pass.run(F, FAM).areAllPreserved();
}

// Runs a function pass on F, checks that the module still verifies, and returns how many loops F has then.
template <typename PassT> size_t loopsAfter(PassT Pass, llvm::Function &F) {
  runFunctionPass(std::move(Pass), F);
  REQUIRE_FALSE(llvm::verifyModule(*F.getParent(), &llvm::errs()));
  llvm::DominatorTree DT(F);
  llvm::LoopInfo LI(DT);
  return LI.getLoopsInPreorder().size();
}

// IR text with every @KEY@ of Fills replaced by its text.
inline std::string filled(std::string Text, std::initializer_list<std::pair<std::string, std::string>> Fills) {
  for (const auto &[From, To] : Fills)
    for (size_t At; (At = Text.find(From)) != std::string::npos;)
      Text.replace(At, From.size(), To);
  return Text;
}

// JIT-compiles P's module and returns the address of Name as a FnT; the JIT lives as long as the returned owner.
// HostSymbols (name, address) are functions of the test that the module may call.
template <typename FnT>
std::pair<std::unique_ptr<llvm::orc::LLJIT>, FnT>
jitFunction(ParsedIr &&P, const std::string &Name,
            std::initializer_list<std::pair<const char *, void *>> HostSymbols = {}) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto J = llvm::cantFail(llvm::orc::LLJITBuilder().create());
  if (HostSymbols.size()) {
    llvm::orc::SymbolMap Symbols;
    for (auto [SymbolName, Address] : HostSymbols)
      Symbols[J->mangleAndIntern(SymbolName)] = {llvm::orc::ExecutorAddr::fromPtr(Address),
                                                 llvm::JITSymbolFlags::Exported};
    llvm::cantFail(J->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(Symbols))));
  }
  llvm::cantFail(J->addIRModule(llvm::orc::ThreadSafeModule(std::move(P.M), std::move(P.Ctx))));
  auto *Fn = llvm::cantFail(J->lookup(Name)).toPtr<FnT>();
  return {std::move(J), Fn};
}

} // namespace cushim::test
