// A block entry (BlockEntry.h) reads the block's dimensions from the engine's context, so its thread loops run a
// count unknown at compile time: the vectoriser keeps a remainder loop and run-time checks, and loops over the
// threads' own indices (`for (i = threadIdx.x; i < 256; i += blockDim.x)`) stay loops. A kernel launched with one
// shape over and over gains from code compiled for that shape: the core compiles such variants on demand
// (core/Specialiser.cpp) and for .reqntid kernels at load. The shape travels as a function attribute, which the
// block entries copy from the kernel; BlockEntry.cpp then uses constants for the dimensions and stores them (and
// the dynamic shared-memory size) in each thread's private context, from which the kernel body reads them.
#include "ptx_translate/Specialise.h"

#include <llvm/IR/Function.h>
#include <llvm/IR/GlobalVariable.h>
#include <llvm/IR/Module.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>

namespace cushim::ptx {

namespace {

constexpr const char *ShapeAttribute = "cushim-block-shape";

} // namespace

std::optional<BlockShape> blockShapeOf(const llvm::Function &F) {
  llvm::Attribute A = F.getFnAttribute(ShapeAttribute);
  if (!A.isStringAttribute())
    return std::nullopt;
  BlockShape Shape;
  unsigned Dynamic = 0;
  std::string Text = A.getValueAsString().str();
  int Read = std::sscanf(Text.c_str(), "%u,%u,%u,%u", &Shape.Dims[0], &Shape.Dims[1], &Shape.Dims[2], &Dynamic);
  if (Read < 3)
    return std::nullopt;
  if (Read == 4)
    Shape.DynamicShared = Dynamic;
  return Shape;
}

void setBlockShape(llvm::Function &Kernel, const BlockShape &Shape) {
  std::string Text = fmt::format("{},{},{}", Shape.Dims[0], Shape.Dims[1], Shape.Dims[2]);
  if (Shape.DynamicShared)
    Text += fmt::format(",{}", *Shape.DynamicShared);
  Kernel.addFnAttr(ShapeAttribute, Text);
}

void specialiseRequiredShapes(llvm::Module &M, const std::vector<KernelInfo> &Kernels) {
  for (const KernelInfo &K : Kernels) {
    llvm::Function *F = M.getFunction(K.Name);
    if (!F || !K.ReqNTid || K.ReqNTid->empty() || K.ReqNTid->size() > 3)
      continue;
    BlockShape Shape;
    std::copy(K.ReqNTid->begin(), K.ReqNTid->end(), Shape.Dims);
    setBlockShape(*F, Shape);
  }
}

std::string variantName(const std::string &Kernel, const BlockShape &Shape) {
  return fmt::format("{}.block{}x{}x{}.shared{}", Kernel, Shape.Dims[0], Shape.Dims[1], Shape.Dims[2],
                     Shape.DynamicShared.value_or(0));
}

Error makeKernelVariant(llvm::Module &M, std::vector<KernelInfo> &Kernels, const std::string &Kernel,
                        const BlockShape &Shape) {
  auto It = std::find_if(Kernels.begin(), Kernels.end(), [&](const KernelInfo &K) { return K.Name == Kernel; });
  llvm::Function *F = M.getFunction(Kernel);
  if (It == Kernels.end() || !F)
    return makeError(CUDA_ERROR_NOT_FOUND, "no kernel named '" + Kernel + "' to specialise");
  KernelInfo Info = *It;
  for (const KernelInfo &K : Kernels)
    if (K.Name != Kernel)
      if (llvm::Function *Other = M.getFunction(K.Name); Other && Other->use_empty())
        Other->eraseFromParent(); // PTX never calls a kernel; one whose address is taken goes private below
  Kernels = {Info};
  // Everything but the kernel becomes a private copy; its block entries, added later, are the only exports.
  for (llvm::Function &G : M)
    if (!G.isDeclaration() && &G != F)
      G.setLinkage(llvm::GlobalValue::InternalLinkage);
  Info.Name = variantName(Kernel, Shape);
  F->setName(Info.Name);
  setBlockShape(*F, Shape);
  Kernels.front().Name = Info.Name;
  // Variables live in the loaded module: the variant refers to them by name.
  for (llvm::GlobalVariable &V : M.globals())
    if (V.hasExternalLinkage() && V.hasInitializer())
      V.setInitializer(nullptr);
  for (const char *Structors : {"llvm.global_ctors", "llvm.global_dtors"})
    if (llvm::GlobalVariable *V = M.getGlobalVariable(Structors))
      V->eraseFromParent();
  return Error::success();
}

} // namespace cushim::ptx
