// Which values and blocks of a kernel are the same for every thread of a block (RegionEntry.cpp needs every
// barrier to be reached by all threads together). Works on SSA form (after mem2reg) of a function whose arguments
// are the lowering's (params, ctx).
#pragma once

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallPtrSet.h>

namespace llvm {
class BasicBlock;
class Function;
class Value;
} // namespace llvm

namespace cushim::ptx {

class BlockUniformity {
public:
  // Params and Ctx are F's parameter-buffer and thread-context arguments.
  BlockUniformity(llvm::Function &F, llvm::Value *Params, llvm::Value *Ctx);

  // V has one value in all threads of the block (conservative: false when unsure).
  bool isUniform(const llvm::Value *V) const { return !Divergent.contains(V); }
  // Every thread of the block that has not returned runs BB, and runs it together with the others: BB is not
  // control-dependent on a branch the threads may take different ways.
  bool isUniform(const llvm::BasicBlock *BB) const { return !DivergentBlocks.contains(BB); }

private:
  llvm::DenseSet<const llvm::Value *> Divergent;
  llvm::SmallPtrSet<const llvm::BasicBlock *, 32> DivergentBlocks;
};

} // namespace cushim::ptx
