// Flat entries (engine tier T0): for a kernel with no barriers, warp collectives, spin loops or thread exits from
// inside device functions, one call of __cushim_flat_NAME runs every thread of a block as a loop nest over
// tid.z/y/x with the per-thread body inlined. The thread index becomes a loop induction variable, so LLVM's loop
// vectorizer can run several GPU threads per SIMD instruction, and a block costs one call instead of one call
// (and one setjmp) per thread.
#include "ptx_translate/FlatEntry.h"

#include "cuda_shim/hal.h"
#include "cuda_shim/kernel_abi.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <cstddef>
#include <set>
#include <vector>

namespace cushim::ptx {

namespace {

constexpr uint32_t NonFlatFlags = CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS |
                                  CUSHIM_HAL_KERNEL_USES_GRID_SYNC | CUSHIM_HAL_KERNEL_MAY_SPIN;

// Runtime calls that need the engine to run one thread at a time: exit unwinds a single thread (a flat loop would
// lose the rest of its block), yield lets another thread of the block run.
bool needsOwnThread(const llvm::Function &Callee) {
  llvm::StringRef Name = Callee.getName();
  return Name == "__cushim_exit" || Name == "__cushim_yield";
}

// Whether the kernel and everything it can call may run in a thread loop.
bool canRunFlat(llvm::Function &Kernel) {
  std::set<llvm::Function *> Seen;
  std::vector<llvm::Function *> Work{&Kernel};
  while (!Work.empty()) {
    llvm::Function *F = Work.back();
    Work.pop_back();
    if (!Seen.insert(F).second)
      continue;
    for (llvm::BasicBlock &BB : *F)
      for (llvm::Instruction &I : BB) {
        auto *Call = llvm::dyn_cast<llvm::CallBase>(&I);
        if (!Call)
          continue;
        llvm::Function *Callee = Call->getCalledFunction();
        if (!Callee)
          return false; // an indirect call may reach exit
        if (needsOwnThread(*Callee))
          return false;
        if (!Callee->isDeclaration())
          Work.push_back(Callee);
      }
  }
  return true;
}

// A bottom-tested counted loop 0..Count-1 (Count >= 1: block dimensions are never 0). Body(B, Index) emits the
// loop body at B's insertion point and may create blocks; the builder is left after the loop.
template <typename BodyFn>
void emitCountedLoop(llvm::IRBuilder<> &B, llvm::Value *Count, const char *Name, BodyFn Body) {
  llvm::Function *F = B.GetInsertBlock()->getParent();
  llvm::LLVMContext &Ctx = F->getContext();
  llvm::BasicBlock *Pre = B.GetInsertBlock();
  llvm::BasicBlock *Loop = llvm::BasicBlock::Create(Ctx, std::string(Name) + ".loop", F);
  llvm::BasicBlock *Exit = llvm::BasicBlock::Create(Ctx, std::string(Name) + ".done", F);
  B.CreateBr(Loop);
  B.SetInsertPoint(Loop);
  llvm::PHINode *Index = B.CreatePHI(B.getInt32Ty(), 2, Name);
  Index->addIncoming(B.getInt32(0), Pre);
  Body(B, Index);
  llvm::Value *Next = B.CreateAdd(Index, B.getInt32(1), std::string(Name) + ".next", /*HasNUW=*/true, true);
  Index->addIncoming(Next, B.GetInsertBlock());
  B.CreateCondBr(B.CreateICmpULT(Next, Count), Loop, Exit);
  B.SetInsertPoint(Exit);
}

llvm::Function *buildFlatEntry(llvm::Module &M, llvm::Function &Kernel, uint32_t ParamSize) {
  llvm::LLVMContext &Ctx = M.getContext();
  llvm::Type *Ptr = llvm::PointerType::get(Ctx, 0);
  auto *Ty = llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), {Ptr, Ptr}, false);
  auto *Flat =
      llvm::Function::Create(Ty, llvm::GlobalValue::ExternalLinkage, std::string(FlatEntryPrefix) + Kernel.getName().str(), M);
  // Same code-generation attributes as the kernel (its body is inlined here).
  llvm::AttrBuilder Attrs(Ctx, Kernel.getAttributes().getFnAttrs());
  Attrs.removeAttribute(llvm::Attribute::NoInline).removeAttribute(llvm::Attribute::AlwaysInline);
  Flat->addFnAttrs(Attrs);
  // The parameter buffer and the engine's thread context are never written through the kernel's pointers, so
  // loads from them can leave the thread loop.
  Flat->addParamAttr(0, llvm::Attribute::NoAlias);
  Flat->addParamAttr(1, llvm::Attribute::NoAlias);
  // Both are always fully readable (the engine pads the parameter copy to ParamSize), so loads from them may be
  // hoisted out of the conditional code of the body.
  if (ParamSize)
    Flat->addDereferenceableParamAttr(0, ParamSize);
  Flat->addDereferenceableParamAttr(1, sizeof(cushim_thread_ctx));
  Flat->addParamAttr(0, llvm::Attribute::getWithAlignment(Ctx, llvm::Align(8)));
  Flat->addParamAttr(1, llvm::Attribute::getWithAlignment(Ctx, llvm::Align(alignof(cushim_thread_ctx))));
  llvm::Value *Params = Flat->getArg(0);
  llvm::Value *EngineCtx = Flat->getArg(1);

  llvm::IRBuilder<> B(llvm::BasicBlock::Create(Ctx, "entry", Flat));
  // Each thread gets a private copy of the context with its own coordinates. When the body never lets the context
  // escape (no runtime call needs it), SROA turns the copy into registers and tid.x into the induction variable.
  auto *ThreadCtx = B.CreateAlloca(llvm::ArrayType::get(B.getInt8Ty(), sizeof(cushim_thread_ctx)), nullptr, "ctx");
  ThreadCtx->setAlignment(llvm::Align(alignof(cushim_thread_ctx)));
  B.CreateMemCpy(ThreadCtx, llvm::Align(alignof(cushim_thread_ctx)), EngineCtx, llvm::Align(alignof(cushim_thread_ctx)),
                 sizeof(cushim_thread_ctx));
  auto field = [&](size_t Offset) { return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), ThreadCtx, Offset); };
  auto loadDim = [&](unsigned I) {
    return B.CreateLoad(B.getInt32Ty(),
                        B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), EngineCtx, offsetof(cushim_thread_ctx, ntid) + 4 * I));
  };
  llvm::Value *NX = loadDim(0), *NY = loadDim(1), *NZ = loadDim(2);

  llvm::CallInst *Call = nullptr;
  emitCountedLoop(B, NZ, "tid.z", [&](llvm::IRBuilder<> &B, llvm::Value *Z) {
    emitCountedLoop(B, NY, "tid.y", [&](llvm::IRBuilder<> &B, llvm::Value *Y) {
      llvm::Value *Row = B.CreateMul(B.CreateAdd(B.CreateMul(Z, NY), Y), NX);
      emitCountedLoop(B, NX, "tid.x", [&](llvm::IRBuilder<> &B, llvm::Value *X) {
        B.CreateStore(X, field(offsetof(cushim_thread_ctx, tid)));
        B.CreateStore(Y, field(offsetof(cushim_thread_ctx, tid) + 4));
        B.CreateStore(Z, field(offsetof(cushim_thread_ctx, tid) + 8));
        llvm::Value *Linear = B.CreateAdd(Row, X);
        B.CreateStore(B.CreateAnd(Linear, 31), field(offsetof(cushim_thread_ctx, laneid)));
        B.CreateStore(B.CreateLShr(Linear, 5), field(offsetof(cushim_thread_ctx, warpid)));
        Call = B.CreateCall(&Kernel, {Params, ThreadCtx});
      });
    });
  });
  B.CreateRetVoid();

  // If the body cannot be inlined the loop still works (one call per thread, without the engine's setjmp).
  llvm::InlineFunctionInfo Info;
  (void)llvm::InlineFunction(*Call, Info);
  // The lowering marks context reads !invariant.load (true of the engine's context during one thread's run). Here
  // they read the private copy, whose only definition is the memcpy above: with the marks, GVN may look past that
  // memcpy to the fresh alloca and read undefined values.
  for (llvm::BasicBlock &BB : *Flat)
    for (llvm::Instruction &I : BB)
      I.setMetadata(llvm::LLVMContext::MD_invariant_load, nullptr);
  return Flat;
}

} // namespace

void addFlatEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels) {
  for (KernelInfo &K : Kernels) {
    if (K.Flags & NonFlatFlags)
      continue;
    llvm::Function *Kernel = M.getFunction(K.Name);
    if (!Kernel || Kernel->isDeclaration() || !canRunFlat(*Kernel))
      continue;
    buildFlatEntry(M, *Kernel, K.ParamSize);
    K.Flags |= CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY;
  }
}

} // namespace cushim::ptx
