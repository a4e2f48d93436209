// A region entry keeps each value that lives across a cut in its own array of the arena (slot k of thread t at
// arena + k_start * threads + t * k_size). Alias analysis cannot tell two such arrays apart: their distance is a
// multiple of the thread count, which it does not know to be non-zero. So a store to one array stopped the
// forwarding of an earlier store to another (a reload of a barrier loop's step stayed a per-thread load, and the
// shared-memory address built from it was not affine), and the vectoriser found "unsafe dependences" between
// them. The arrays are distinct objects of the kernel (allocas), so one alias scope per array says it for good.
#include "ptx_translate/ArenaScopes.h"

#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/MDBuilder.h>

#include <map>
#include <set>

namespace cushim::ptx {
namespace {

llvm::MDNode *concat(llvm::LLVMContext &Ctx, llvm::MDNode *Old, const llvm::SmallVector<llvm::Metadata *, 8> &Add) {
  return llvm::MDNode::concatenate(Old, llvm::MDNode::get(Ctx, Add));
}

} // namespace

bool deriveAddresses(const std::vector<llvm::Value *> &Roots, const std::set<llvm::Value *> &Stop,
                     std::set<llvm::Value *> &Derived) {
  std::vector<llvm::Value *> Work(Roots);
  while (!Work.empty()) {
    llvm::Value *V = Work.back();
    Work.pop_back();
    if (!Derived.insert(V).second)
      continue;
    for (llvm::Use &U : V->uses()) {
      auto *User = llvm::dyn_cast<llvm::Instruction>(U.getUser());
      if (!User)
        return false;
      if (llvm::isa<llvm::GetElementPtrInst, llvm::PHINode, llvm::SelectInst>(User)) {
        if (!Stop.count(User))
          Work.push_back(User);
      } else if (!(llvm::isa<llvm::LoadInst>(User) || (llvm::isa<llvm::StoreInst>(User) &&
                                                        U.getOperandNo() == llvm::StoreInst::getPointerOperandIndex()))) {
        return false;
      }
    }
  }
  return true;
}

bool scopeArenaArrays(llvm::Function &F, llvm::Value *Arena, const std::vector<std::vector<llvm::Value *>> &Arrays) {
  std::set<llvm::Value *> Starts;
  for (const auto &Roots : Arrays)
    Starts.insert(Roots.begin(), Roots.end());
  // Addresses reached from the arena other than through an array's start: they may point anywhere in it.
  std::set<llvm::Value *> Anywhere;
  if (!deriveAddresses({Arena}, Starts, Anywhere))
    return false;
  std::vector<std::set<llvm::Value *>> InArray(Arrays.size());
  for (size_t I = 0; I < Arrays.size(); ++I)
    if (!deriveAddresses(Arrays[I], {}, InArray[I]))
      return false;

  llvm::LLVMContext &Ctx = F.getContext();
  llvm::MDBuilder MD(Ctx);
  llvm::MDNode *Domain = MD.createAnonymousAliasScopeDomain("cushim.arena.arrays");
  std::vector<llvm::MDNode *> Scopes;
  for (size_t I = 0; I < Arrays.size(); ++I)
    Scopes.push_back(MD.createAnonymousAliasScope(Domain, "array" + std::to_string(I)));
  for (llvm::Instruction &Inst : llvm::instructions(F)) {
    llvm::Value *Ptr = llvm::getLoadStorePointerOperand(&Inst);
    if (!Ptr || Anywhere.count(Ptr))
      continue;
    llvm::SmallVector<llvm::Metadata *, 8> In, NotIn;
    for (size_t I = 0; I < Arrays.size(); ++I)
      (InArray[I].count(Ptr) ? In : NotIn).push_back(Scopes[I]);
    if (In.empty()) // not an arena address
      continue;
    Inst.setMetadata(llvm::LLVMContext::MD_alias_scope,
                     concat(Ctx, Inst.getMetadata(llvm::LLVMContext::MD_alias_scope), In));
    if (!NotIn.empty())
      Inst.setMetadata(llvm::LLVMContext::MD_noalias, concat(Ctx, Inst.getMetadata(llvm::LLVMContext::MD_noalias), NotIn));
  }
  return true;
}

} // namespace cushim::ptx
