// scopeReadOnlyLoads (src/ptx_translate/ReadOnlyLoads.cpp): the lowering puts an `ld.global.nc` load in an alias
// scope and the kernel's stores in its complement; a plain `ld.global` and the call of a device function get
// neither, and no lowering mark is left behind.
#include "ptx_translate/ReadOnlyLoads.h"
#include "ptx_translate/Lowering.h"
#include "ptx_translate/Parser.h"

#include <catch2/catch.hpp>

#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace {

constexpr const char *Ptx = R"(
.version 8.0
.target sm_80
.address_size 64

.func touch(.param .b64 p)
{
  .reg .b64 %rd<2>;
  ld.param.u64 %rd1, [p];
  st.global.f32 [%rd1], 0f00000000;
  ret;
}

.visible .entry k(.param .u64 a, .param .u64 b)
{
  .reg .b64 %rd<3>;
  .reg .f32 %f<3>;
  ld.param.u64 %rd1, [a];
  ld.param.u64 %rd2, [b];
  ld.global.nc.f32 %f1, [%rd1];
  ld.global.f32 %f2, [%rd2+4];
  add.f32 %f1, %f1, %f2;
  st.global.f32 [%rd2], %f1;
  {
    .param .b64 arg;
    st.param.b64 [arg], %rd2;
    call.uni touch, (arg);
  }
  ret;
}
)";

bool lists(llvm::MDNode *List, llvm::Metadata *Scope) {
  if (!List)
    return false;
  for (const llvm::MDOperand &Op : List->operands())
    if (Op.get() == Scope)
      return true;
  return false;
}

} // namespace

TEST_CASE("ld.global.nc loads get an alias scope that the kernel's stores do not alias", "[ptx][lower][readonly]") {
  auto Ast = cushim::ptx::parsePtx(Ptx, "readonly.ptx");
  REQUIRE(Ast);
  llvm::LLVMContext Ctx;
  cushim::ptx::LoweringOptions Options;
  Options.TierEntries = false;
  auto Lowered = cushim::ptx::lowerModule(*Ast, Ctx, Options);
  REQUIRE(Lowered);
  llvm::Function *K = Lowered->IR->getFunction("k");
  REQUIRE(K);

  // Exactly one load is scoped (the .nc one; not the plain ld.global, nor the parameter and context loads).
  std::vector<llvm::LoadInst *> Scoped;
  std::vector<llvm::Instruction *> Stores, Calls;
  unsigned Mark = Ctx.getMDKindID(cushim::ptx::ReadOnlyLoadMark);
  for (llvm::Instruction &I : llvm::instructions(*K)) {
    CHECK_FALSE(I.getMetadata(Mark));
    if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && Load->getMetadata(llvm::LLVMContext::MD_alias_scope))
      Scoped.push_back(Load);
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I);
        Store && Store->getValueOperand()->getType()->getPrimitiveSizeInBits() == 32)
      Stores.push_back(Store);
    if (llvm::isa<llvm::CallInst>(I))
      Calls.push_back(&I);
  }
  REQUIRE(Scoped.size() == 1);
  REQUIRE_FALSE(Stores.empty());
  llvm::MDNode *Scopes = Scoped[0]->getMetadata(llvm::LLVMContext::MD_alias_scope);
  REQUIRE(Scopes->getNumOperands() == 1);
  llvm::Metadata *Scope = Scopes->getOperand(0).get();
  for (llvm::Instruction *Store : Stores)
    CHECK(lists(Store->getMetadata(llvm::LLVMContext::MD_noalias), Scope));
  for (llvm::Instruction *Call : Calls)
    CHECK_FALSE(lists(Call->getMetadata(llvm::LLVMContext::MD_noalias), Scope));
  // The device function has no .nc load: its store is left as it was.
  llvm::Function *Touch = nullptr;
  for (llvm::Function &F : *Lowered->IR)
    if (F.getName().contains("touch") && !F.isDeclaration())
      Touch = &F;
  REQUIRE(Touch);
  for (llvm::Instruction &I : llvm::instructions(*Touch))
    CHECK_FALSE(I.getMetadata(llvm::LLVMContext::MD_noalias));
}
