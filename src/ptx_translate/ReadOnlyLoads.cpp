// `ld.global.nc` loads through the non-coherent (texture) cache, which PTX allows only for data that stays
// read-only while the kernel runs; nvcc emits it for `const __restrict__` pointers and __ldg. So no store of the
// kernel writes what such a load reads, but LLVM cannot see it (the pointers come from the parameter buffer), and
// the loop vectoriser adds run-time overlap checks between the loads and the stores of every thread loop (for a
// 2-D block, once per row of threads). An alias scope for the marked loads, and the complement of that scope on the
// function's stores, atomics and memory intrinsics, says it. Calls keep no such metadata: a call that may write
// memory still orders the loads (a spin loop polling data through `.nc`, which PTX leaves undefined but real code
// does, must keep re-reading across its yield calls).
#include "ptx_translate/ReadOnlyLoads.h"

#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>

#include <vector>

namespace cushim::ptx {

void scopeReadOnlyLoads(llvm::Module &M) {
  llvm::LLVMContext &Ctx = M.getContext();
  unsigned Mark = Ctx.getMDKindID(ReadOnlyLoadMark);
  llvm::MDNode *ScopeList = nullptr; // the one scope, as a list
  for (llvm::Function &F : M) {
    std::vector<llvm::LoadInst *> Loads;
    for (llvm::Instruction &I : llvm::instructions(F))
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && Load->getMetadata(Mark))
        Loads.push_back(Load);
    if (Loads.empty())
      continue;
    if (!ScopeList) {
      llvm::MDBuilder MD(Ctx);
      ScopeList = llvm::MDNode::get(
          Ctx, MD.createAnonymousAliasScope(MD.createAnonymousAliasScopeDomain("cushim.readonly"), "ld.global.nc"));
    }
    for (llvm::LoadInst *Load : Loads) {
      Load->setMetadata(Mark, nullptr);
      Load->setMetadata(llvm::LLVMContext::MD_alias_scope,
                        llvm::MDNode::concatenate(Load->getMetadata(llvm::LLVMContext::MD_alias_scope), ScopeList));
    }
    for (llvm::Instruction &I : llvm::instructions(F))
      if (llvm::isa<llvm::StoreInst, llvm::AtomicRMWInst, llvm::AtomicCmpXchgInst, llvm::MemIntrinsic>(I))
        I.setMetadata(llvm::LLVMContext::MD_noalias,
                      llvm::MDNode::concatenate(I.getMetadata(llvm::LLVMContext::MD_noalias), ScopeList));
  }
}

} // namespace cushim::ptx
