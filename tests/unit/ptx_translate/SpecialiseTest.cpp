// Block-shape specialisation (src/ptx_translate/Specialise.cpp): a kernel variant for one launch shape is the kernel
// alone, renamed, with its own code private and the module's variables left to the loaded module; its flat entry
// runs a constant number of threads per row and gives the body the shape as constants. A .reqntid kernel gets the
// same in the module itself.
#include "ptx_translate/Lowering.h"
#include "ptx_translate/Parser.h"
#include "ptx_translate/Specialise.h"

#include <catch2/catch.hpp>

#include <llvm/IR/Constants.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

namespace {

constexpr const char *Ptx = R"(
.version 8.0
.target sm_80
.address_size 64

.global .align 4 .u32 counter = 7;

.visible .func (.reg .u32 r) twice(.reg .u32 x)
{
  add.u32 r, x, x;
  ret;
}

.visible .entry a(.param .u64 out)
{
  .reg .b32 %r<6>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mov.u32 %r2, %ntid.y;
  call (%r3), twice, (%r1);
  add.u32 %r3, %r3, %r2;
  mul.wide.u32 %rd2, %r1, 4;
  add.u64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r3;
  st.global.u32 [counter], %r3;
  ret;
}

.visible .entry b(.param .u64 out)
{
  ret;
}

.visible .entry c(.param .u64 out) .reqntid 32, 1, 1
{
  .reg .b32 %r<2>;
  .reg .b64 %rd<4>;
  ld.param.u64 %rd1, [out];
  mov.u32 %r1, %tid.x;
  mul.wide.u32 %rd2, %r1, 4;
  add.u64 %rd3, %rd1, %rd2;
  st.global.u32 [%rd3], %r1;
  ret;
}
)";

// The count the flat entry's tid.x loop compares its next index with.
llvm::Value *rowCount(llvm::Function &Flat) {
  for (llvm::BasicBlock &BB : Flat)
    if (BB.getName().starts_with("tid.x.loop"))
      if (auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB.getTerminator()); Br && Br->isConditional())
        if (auto *Cmp = llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition()))
          return Cmp->getOperand(1);
  return nullptr;
}

// Whether the entry stores the i32 constant V (a dimension into the threads' private context).
bool storesConstant(llvm::Function &F, uint64_t V) {
  for (llvm::Instruction &I : llvm::instructions(F))
    if (auto *S = llvm::dyn_cast<llvm::StoreInst>(&I))
      if (auto *C = llvm::dyn_cast<llvm::ConstantInt>(S->getValueOperand()); C && C->getBitWidth() == 32 &&
                                                                              C->getZExtValue() == V)
        return true;
  return false;
}

} // namespace

TEST_CASE("a kernel variant holds the kernel alone, specialised for its launch shape", "[ptx][lower][specialise]") {
  auto Ast = cushim::ptx::parsePtx(Ptx, "specialise.ptx");
  REQUIRE(Ast);
  llvm::LLVMContext Ctx;
  cushim::ptx::LoweringOptions Options;
  Options.Specialise = cushim::ptx::LoweringOptions::Variant{"a", {64, 3, 1}, 16};
  auto Lowered = cushim::ptx::lowerModule(*Ast, Ctx, Options);
  REQUIRE(Lowered);
  llvm::Module &M = *Lowered->IR;

  cushim::ptx::BlockShape Shape;
  Shape.Dims[0] = 64;
  Shape.Dims[1] = 3;
  Shape.DynamicShared = 16;
  std::string Name = cushim::ptx::variantName("a", Shape);
  CHECK(Name == "a.block64x3x1.shared16");
  REQUIRE(Lowered->Kernels.size() == 1);
  CHECK(Lowered->Kernels.front().Name == Name);
  CHECK_FALSE(M.getFunction("a"));
  CHECK_FALSE(M.getFunction("b"));
  CHECK_FALSE(M.getFunction("c"));
  llvm::Function *Twice = M.getFunction("__cushim_func_twice"); // .visible: external in the module itself
  REQUIRE(Twice);
  CHECK(Twice->hasLocalLinkage()); // a private copy: the loaded module defines its own
  llvm::GlobalVariable *Counter = M.getGlobalVariable("counter");
  REQUIRE(Counter);
  CHECK(Counter->isDeclaration()); // resolved to the loaded module's variable

  llvm::Function *Flat = M.getFunction(std::string("__cushim_flat_") + Name);
  REQUIRE(Flat);
  CHECK(Flat->hasExternalLinkage());
  auto *Count = llvm::dyn_cast_or_null<llvm::ConstantInt>(rowCount(*Flat));
  REQUIRE(Count);
  CHECK(Count->getZExtValue() == 64);
  CHECK(storesConstant(*Flat, 3));  // ntid.y, which the body reads
  CHECK(storesConstant(*Flat, 16)); // the dynamic shared-memory size
}

TEST_CASE("generic entries read the block shape; .reqntid kernels take theirs as constant", "[ptx][lower][specialise]") {
  auto Ast = cushim::ptx::parsePtx(Ptx, "specialise.ptx");
  REQUIRE(Ast);
  llvm::LLVMContext Ctx;
  auto Lowered = cushim::ptx::lowerModule(*Ast, Ctx, {});
  REQUIRE(Lowered);
  llvm::Module &M = *Lowered->IR;
  CHECK(Lowered->Kernels.size() == 3);
  CHECK_FALSE(M.getGlobalVariable("counter")->isDeclaration());
  CHECK_FALSE(M.getFunction("__cushim_func_twice")->hasLocalLinkage());

  llvm::Function *FlatA = M.getFunction("__cushim_flat_a");
  REQUIRE(FlatA);
  llvm::Value *CountA = rowCount(*FlatA);
  REQUIRE(CountA);
  CHECK_FALSE(llvm::isa<llvm::Constant>(CountA));
  CHECK_FALSE(cushim::ptx::blockShapeOf(*FlatA));

  llvm::Function *FlatC = M.getFunction("__cushim_flat_c");
  REQUIRE(FlatC);
  auto *CountC = llvm::dyn_cast_or_null<llvm::ConstantInt>(rowCount(*FlatC));
  REQUIRE(CountC);
  CHECK(CountC->getZExtValue() == 32);
  auto Shape = cushim::ptx::blockShapeOf(*FlatC);
  REQUIRE(Shape);
  CHECK(Shape->Dims[0] == 32);
  CHECK_FALSE(Shape->DynamicShared);
}

TEST_CASE("a variant of a kernel the module lacks is an error", "[ptx][lower][specialise]") {
  auto Ast = cushim::ptx::parsePtx(Ptx, "specialise.ptx");
  REQUIRE(Ast);
  llvm::LLVMContext Ctx;
  cushim::ptx::LoweringOptions Options;
  Options.Specialise = cushim::ptx::LoweringOptions::Variant{"missing", {32, 1, 1}, 0};
  auto Lowered = cushim::ptx::lowerModule(*Ast, Ctx, Options);
  REQUIRE_FALSE(Lowered);
  CHECK(Lowered.error().code() == CUDA_ERROR_NOT_FOUND);
}
