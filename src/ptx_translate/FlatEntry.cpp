// Flat entries (engine tier T0): for a kernel with no barriers, warp collectives, spin loops or thread exits from
// inside device functions, one call of __cushim_flat_NAME runs every thread of a block as a loop nest over
// tid.z/y/x with the per-thread body inlined. The thread index becomes a loop induction variable, so LLVM's loop
// vectorizer can run several GPU threads per SIMD instruction, and a block costs one call instead of one call
// (and one setjmp) per thread.
#include "ptx_translate/FlatEntry.h"

#include "ptx_translate/BlockEntry.h"

#include "cuda_shim/hal.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <vector>

namespace cushim::ptx {

namespace {

constexpr uint32_t NonFlatFlags = CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS |
                                  CUSHIM_HAL_KERNEL_USES_GRID_SYNC | CUSHIM_HAL_KERNEL_MAY_SPIN;

llvm::Function *buildFlatEntry(llvm::Module &M, llvm::Function &Kernel, uint32_t ParamSize) {
  llvm::Function *Flat = createBlockEntry(M, Kernel, FlatEntryPrefix, ParamSize);
  llvm::Value *Params = Flat->getArg(0);
  llvm::Value *EngineCtx = Flat->getArg(1);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(M.getContext(), "entry", Flat));
  llvm::Value *ThreadCtx = emitPrivateContext(B, EngineCtx);
  llvm::CallInst *Call = nullptr;
  emitThreadLoops(B, EngineCtx, ThreadCtx,
                  [&](llvm::IRBuilder<> &B, llvm::Value *) { Call = B.CreateCall(&Kernel, {Params, ThreadCtx}); });
  B.CreateRetVoid();

  // If the body cannot be inlined the loop still works (one call per thread, without the engine's setjmp).
  llvm::InlineFunctionInfo Info;
  (void)llvm::InlineFunction(*Call, Info);
  dropInvariantLoadMarks(*Flat);
  return Flat;
}

} // namespace

void addFlatEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels) {
  for (KernelInfo &K : Kernels) {
    if (K.Flags & NonFlatFlags)
      continue;
    llvm::Function *Kernel = M.getFunction(K.Name);
    if (!Kernel || Kernel->isDeclaration() || !canRunAsBlockLoop(*Kernel))
      continue;
    buildFlatEntry(M, *Kernel, K.ParamSize);
    K.Flags |= CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY;
  }
}

} // namespace cushim::ptx
