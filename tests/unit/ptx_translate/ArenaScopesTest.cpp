// scopeArenaArrays (src/ptx_translate/ArenaScopes.cpp): accesses to two arrays of a region entry's arena do not
// alias, accesses to one array may, an address reached from the arena by another path may alias every array, and an
// address that escapes leaves the function untouched. Checked through LLVM's own alias analysis.
#include "ptx_translate/ArenaScopes.h"

#include <catch2/catch.hpp>

#include <llvm/Analysis/AliasAnalysis.h>
#include <llvm/Analysis/BasicAliasAnalysis.h>
#include <llvm/Analysis/ScopedNoAliasAA.h>
#include <llvm/Analysis/TypeBasedAliasAnalysis.h>
#include <llvm/AsmParser/Parser.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/SourceMgr.h>

#include <map>
#include <string>

namespace {

// The arena, two arrays (slot 0 at arena + 0, slot 1 at arena + 4 * threads), a per-thread index into each, and an
// address computed from the arena without going through an array's start (%any).
constexpr const char *Ir = R"(
declare noalias ptr @scratch(i64)
define void @entry(i64 %threads, i64 %t, i64 %u, ptr %escape.to) {
  %arena = call ptr @scratch(i64 %threads)
  %off0 = mul i64 %t, 4
  %a0 = getelementptr inbounds i8, ptr %arena, i64 %off0
  %base1 = mul i64 %threads, 4
  %off1 = add i64 %base1, %off0
  %a1 = getelementptr inbounds i8, ptr %arena, i64 %off1
  %offu = mul i64 %u, 4
  %a0u = getelementptr inbounds i8, ptr %arena, i64 %offu
  %any = getelementptr inbounds i8, ptr %arena, i64 %u
  %v0 = load i32, ptr %a0
  store i32 %v0, ptr %a1
  store i32 7, ptr %a0u
  %v1 = load i32, ptr %a1
  store i32 %v1, ptr %any
  ret void
}
)";

struct Fixture {
  llvm::LLVMContext Ctx;
  std::unique_ptr<llvm::Module> M;
  llvm::Function *F = nullptr;
  std::map<std::string, llvm::Value *> Named;

  explicit Fixture(const std::string &Text) {
    llvm::SMDiagnostic Diag;
    M = llvm::parseAssemblyString(Text, Diag, Ctx);
    REQUIRE(M);
    F = M->getFunction("entry");
    for (llvm::Instruction &I : llvm::instructions(*F))
      if (I.hasName())
        Named[I.getName().str()] = &I;
  }

  // The load or store whose address is the named value (the first one).
  llvm::Instruction *accessTo(const std::string &Ptr) {
    for (llvm::Instruction &I : llvm::instructions(*F))
      if (llvm::getLoadStorePointerOperand(&I) == Named.at(Ptr))
        return &I;
    FAIL("no access to " << Ptr);
    return nullptr;
  }

  llvm::AliasResult alias(const std::string &A, const std::string &B) {
    llvm::PassBuilder PB;
    llvm::FunctionAnalysisManager FAM;
    FAM.registerPass([] {
      llvm::AAManager AA; // the function-level part of LLVM's default pipeline
      AA.registerFunctionAnalysis<llvm::BasicAA>();
      AA.registerFunctionAnalysis<llvm::ScopedNoAliasAA>();
      AA.registerFunctionAnalysis<llvm::TypeBasedAA>();
      return AA;
    });
    PB.registerFunctionAnalyses(FAM);
    llvm::AAResults &AA = FAM.getResult<llvm::AAManager>(*F);
    return AA.alias(llvm::MemoryLocation::get(accessTo(A)), llvm::MemoryLocation::get(accessTo(B)));
  }
};

} // namespace

TEST_CASE("Arena arrays get alias scopes of their own", "[arena-scopes]") {
  Fixture X(Ir);
  // Without the scopes, alias analysis cannot separate the arrays (threads might be 0).
  CHECK(X.alias("a0", "a1") == llvm::AliasResult::MayAlias);
  REQUIRE(cushim::ptx::scopeArenaArrays(*X.F, X.Named.at("arena"), {{X.Named.at("a0"), X.Named.at("a0u")},
                                                                      {X.Named.at("a1")}}));
  CHECK(X.alias("a0", "a1") == llvm::AliasResult::NoAlias);
  CHECK(X.alias("a0u", "a1") == llvm::AliasResult::NoAlias);
  CHECK(X.alias("a0", "a0u") == llvm::AliasResult::MayAlias); // the same array, other threads' indices
  CHECK(X.alias("any", "a0") == llvm::AliasResult::MayAlias); // not through an array's start: anywhere
  CHECK(X.alias("any", "a1") == llvm::AliasResult::MayAlias);
  CHECK(X.accessTo("any")->getMetadata(llvm::LLVMContext::MD_noalias) == nullptr);
}

TEST_CASE("Arena arrays are left alone when an arena address escapes", "[arena-scopes]") {
  std::string Text = Ir;
  Text.replace(Text.find("  ret void"), 0, "  store ptr %a1, ptr %escape.to\n");
  Fixture X(Text);
  CHECK_FALSE(cushim::ptx::scopeArenaArrays(*X.F, X.Named.at("arena"), {{X.Named.at("a0")}, {X.Named.at("a1")}}));
  CHECK(X.accessTo("a1")->getMetadata(llvm::LLVMContext::MD_alias_scope) == nullptr);
  CHECK(X.alias("a0", "a1") == llvm::AliasResult::MayAlias);
}
