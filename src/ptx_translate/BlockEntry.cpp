#include "ptx_translate/BlockEntry.h"

#include "cuda_shim/kernel_abi.h"
#include "ptx_translate/BlockUniformity.h"
#include "ptx_translate/Specialise.h"

#include <llvm/IR/Instructions.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

#include <cstddef>
#include <set>
#include <vector>
#include <string>

namespace cushim::ptx {

namespace {

constexpr unsigned MaxBlockDimXY = 1024, MaxBlockDimZ = 64;

// Runtime calls that need the engine to run one thread at a time: exit unwinds a single thread (a flat loop would
// lose the rest of its block), yield lets another thread of the block run.
bool needsOwnThread(const llvm::Function &Callee) {
  llvm::StringRef Name = Callee.getName();
  return Name == "__cushim_exit" || Name == "__cushim_yield";
}

} // namespace

void emitCountedLoop(llvm::IRBuilder<> &B, llvm::Value *Count, const char *Name,
                     llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Value *Index)> Body, bool RuntimeUnroll) {
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
  llvm::BranchInst *Latch = B.CreateCondBr(B.CreateICmpULT(Next, Count), Loop, Exit);
  if (!RuntimeUnroll) {
    // A constant count (a specialised entry) would let LLVM unroll the vectorised loop, which is interleaved
    // already: more code, no gain (SAXPY ran about 30% slower unrolled).
    const char *Mark = llvm::isa<llvm::Constant>(Count) ? "llvm.loop.unroll.disable" : "llvm.loop.unroll.runtime.disable";
    llvm::MDNode *Id =
        llvm::MDNode::getDistinct(Ctx, {nullptr, llvm::MDNode::get(Ctx, llvm::MDString::get(Ctx, Mark))});
    Id->replaceOperandWith(0, Id);
    Latch->setMetadata(llvm::LLVMContext::MD_loop, Id);
  }
  B.SetInsertPoint(Exit);
}

std::optional<int64_t> parameterSlot(const llvm::Value *Base, const llvm::Function &Entry) {
  if (auto *Cast = llvm::dyn_cast<llvm::IntToPtrInst>(Base))
    Base = Cast->getOperand(0);
  // A read of the parameter buffer at a constant offset, decoded as the context's fields are.
  return contextFieldRead(Base, Entry.getArg(0));
}

bool allReachable(llvm::Function &Kernel, llvm::function_ref<bool(llvm::Function &)> Visit) {
  std::set<llvm::Function *> Seen;
  std::vector<llvm::Function *> Work{&Kernel};
  while (!Work.empty()) {
    llvm::Function *F = Work.back();
    Work.pop_back();
    if (F->isDeclaration() || !Seen.insert(F).second)
      continue;
    if (!Visit(*F))
      return false;
    for (llvm::BasicBlock &BB : *F)
      for (llvm::Instruction &I : BB)
        if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I); Call && Call->getCalledFunction())
          Work.push_back(Call->getCalledFunction());
  }
  return true;
}

bool canRunAsBlockLoop(llvm::Function &Kernel) {
  return allReachable(Kernel, [](llvm::Function &F) {
    for (llvm::BasicBlock &BB : F)
      for (llvm::Instruction &I : BB)
        if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I)) {
          llvm::Function *Callee = Call->getCalledFunction();
          if (!Callee || needsOwnThread(*Callee))
            return false; // an indirect call may reach exit
        }
    return true;
  });
}

llvm::Function *createBlockEntry(llvm::Module &M, llvm::Function &Kernel, llvm::StringRef Prefix, uint32_t ParamSize) {
  llvm::LLVMContext &Ctx = M.getContext();
  llvm::Type *Ptr = llvm::PointerType::get(Ctx, 0);
  auto *Ty = llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), {Ptr, Ptr}, false);
  auto *F = llvm::Function::Create(Ty, llvm::GlobalValue::ExternalLinkage, Prefix + Kernel.getName(), M);
  // Same code-generation attributes as the kernel (its body is inlined here).
  llvm::AttrBuilder Attrs(Ctx, Kernel.getAttributes().getFnAttrs());
  Attrs.removeAttribute(llvm::Attribute::NoInline).removeAttribute(llvm::Attribute::AlwaysInline);
  F->addFnAttrs(Attrs);
  // The parameter buffer and the engine's thread context are never written through the kernel's pointers, so
  // loads from them can leave the thread loop.
  F->addParamAttr(0, llvm::Attribute::NoAlias);
  F->addParamAttr(1, llvm::Attribute::NoAlias);
  // Both are always fully readable (the engine pads the parameter copy to ParamSize), so loads from them may be
  // hoisted out of the conditional code of the body.
  if (ParamSize)
    F->addDereferenceableParamAttr(0, ParamSize);
  F->addDereferenceableParamAttr(1, sizeof(cushim_thread_ctx));
  F->addParamAttr(0, llvm::Attribute::getWithAlignment(Ctx, llvm::Align(8)));
  F->addParamAttr(1, llvm::Attribute::getWithAlignment(Ctx, llvm::Align(alignof(cushim_thread_ctx))));
  return F;
}

llvm::AllocaInst *emitPrivateContext(llvm::IRBuilder<> &B, llvm::Value *EngineCtx) {
  auto *ThreadCtx = B.CreateAlloca(llvm::ArrayType::get(B.getInt8Ty(), sizeof(cushim_thread_ctx)), nullptr, "ctx");
  ThreadCtx->setAlignment(llvm::Align(alignof(cushim_thread_ctx)));
  B.CreateMemCpy(ThreadCtx, llvm::Align(alignof(cushim_thread_ctx)), EngineCtx, llvm::Align(alignof(cushim_thread_ctx)),
                 sizeof(cushim_thread_ctx));
  // A specialised entry's kernel body reads its shape from this copy, as constants.
  if (std::optional<BlockShape> Shape = blockShapeOf(*B.GetInsertBlock()->getParent())) {
    auto field = [&](size_t Offset) { return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), ThreadCtx, Offset); };
    for (unsigned I = 0; I < 3; ++I)
      B.CreateStore(B.getInt32(Shape->Dims[I]), field(offsetof(cushim_thread_ctx, ntid) + 4 * I));
    if (Shape->DynamicShared)
      B.CreateStore(B.getInt32(*Shape->DynamicShared), field(offsetof(cushim_thread_ctx, dynamic_shared_size)));
  }
  return ThreadCtx;
}

// CUDA bounds the block dimensions (x and y <= 1024, z <= 64): with the range known, scalar evolution can prove
// that 32-bit index arithmetic on tid does not wrap (shared-memory addresses are 32-bit offsets), which the
// vectoriser needs to bound a thread loop's accesses.
llvm::Value *emitBlockDim(llvm::IRBuilder<> &B, llvm::Value *EngineCtx, unsigned I) {
  if (std::optional<BlockShape> Shape = blockShapeOf(*B.GetInsertBlock()->getParent()))
    return B.getInt32(Shape->Dims[I]); // a specialised entry (Specialise.h)
  llvm::LoadInst *Dim = B.CreateLoad(
      B.getInt32Ty(), B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), EngineCtx, offsetof(cushim_thread_ctx, ntid) + 4 * I));
  llvm::MDBuilder MD(B.getContext());
  Dim->setMetadata(llvm::LLVMContext::MD_range,
                   MD.createRange(llvm::APInt(32, 1), llvm::APInt(32, I == 2 ? MaxBlockDimZ + 1 : MaxBlockDimXY + 1)));
  return Dim;
}

llvm::Value *emitBlockThreadCount(llvm::IRBuilder<> &B, llvm::Value *EngineCtx) {
  return B.CreateMul(B.CreateMul(emitBlockDim(B, EngineCtx, 0), emitBlockDim(B, EngineCtx, 1), "", true, true),
                     emitBlockDim(B, EngineCtx, 2), "threads", true, true);
}

void emitThreadLoops(llvm::IRBuilder<> &B, llvm::Value *EngineCtx, llvm::Value *ThreadCtx,
                     llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Value *Linear)> Body) {
  auto field = [&](size_t Offset) { return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), ThreadCtx, Offset); };
  llvm::Value *NX = emitBlockDim(B, EngineCtx, 0), *NY = emitBlockDim(B, EngineCtx, 1),
              *NZ = emitBlockDim(B, EngineCtx, 2);
  emitCountedLoop(B, NZ, "tid.z", [&](llvm::IRBuilder<> &B, llvm::Value *Z) {
    emitCountedLoop(B, NY, "tid.y", [&](llvm::IRBuilder<> &B, llvm::Value *Y) {
      // No wrap (a block has at most 1024 threads): scalar evolution can then see arena and shared addresses
      // indexed by the linear thread index as affine in the thread loop.
      llvm::Value *Plane = B.CreateMul(Z, NY, "", true, true);
      llvm::Value *Row = B.CreateMul(B.CreateAdd(Plane, Y, "", true, true), NX, "", true, true);
      // Not unrolled at run time: the vectoriser's scalar loop (for the remainder, or where its run-time checks
      // fail) would be unrolled too, which buys little and costs much compile time (LLVM's loop strength reduction
      // on the unrolled copies took about half the code generation of the SGEMM module).
      emitCountedLoop(
          B, NX, "tid.x",
          [&](llvm::IRBuilder<> &B, llvm::Value *X) {
            B.CreateStore(X, field(offsetof(cushim_thread_ctx, tid)));
            B.CreateStore(Y, field(offsetof(cushim_thread_ctx, tid) + 4));
            B.CreateStore(Z, field(offsetof(cushim_thread_ctx, tid) + 8));
            llvm::Value *Linear = B.CreateAdd(Row, X, "linear", true, true);
            B.CreateStore(B.CreateAnd(Linear, 31), field(offsetof(cushim_thread_ctx, laneid)));
            B.CreateStore(B.CreateLShr(Linear, 5), field(offsetof(cushim_thread_ctx, warpid)));
            Body(B, Linear);
          },
          /*RuntimeUnroll=*/false);
    });
  });
}

void emitWarpLaneLoop(llvm::IRBuilder<> &B, llvm::Value *EngineCtx, llvm::Value *ThreadCtx, llvm::Value *Warp,
                      llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Value *Linear, llvm::Value *Lane)> Body) {
  auto field = [&](size_t Offset) { return B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), ThreadCtx, Offset); };
  llvm::Value *NX = emitBlockDim(B, EngineCtx, 0), *NY = emitBlockDim(B, EngineCtx, 1);
  // The warp's first thread; the block's rows are whole warps, so its lanes share the row (tid.y, tid.z).
  llvm::Value *First = B.CreateShl(Warp, 5, "warp.first", true, true);
  llvm::Value *X0 = B.CreateURem(First, NX), *Row = B.CreateUDiv(First, NX);
  B.CreateStore(B.CreateURem(Row, NY), field(offsetof(cushim_thread_ctx, tid) + 4));
  B.CreateStore(B.CreateUDiv(Row, NY), field(offsetof(cushim_thread_ctx, tid) + 8));
  B.CreateStore(Warp, field(offsetof(cushim_thread_ctx, warpid)));
  emitCountedLoop(B, B.getInt32(32), "lane", [&](llvm::IRBuilder<> &B, llvm::Value *Lane) {
    B.CreateStore(B.CreateAdd(X0, Lane, "", true, true), field(offsetof(cushim_thread_ctx, tid)));
    B.CreateStore(Lane, field(offsetof(cushim_thread_ctx, laneid)));
    Body(B, B.CreateAdd(First, Lane, "", true, true), Lane);
  });
}

void dropInvariantLoadMarks(llvm::Function &F) {
  for (llvm::BasicBlock &BB : F)
    for (llvm::Instruction &I : BB)
      I.setMetadata(llvm::LLVMContext::MD_invariant_load, nullptr);
}

} // namespace cushim::ptx
