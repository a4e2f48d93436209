// Which values and blocks of a kernel are the same for every thread of a block, or of a warp (RegionEntry.cpp needs
// every barrier to be reached by all threads of the block together, and every warp collective by all lanes of the
// warp). Works on SSA form (after mem2reg) of a function whose arguments are the lowering's (params, ctx).
#pragma once

#include <llvm/ADT/DenseSet.h>
#include <llvm/ADT/SmallPtrSet.h>

#include <cstdint>
#include <optional>

namespace llvm {
class BasicBlock;
class Function;
class Value;
} // namespace llvm

namespace cushim::ptx {

// Block: the threads of one block. Warp: the 32 lanes of one warp, for blocks whose x dimension is a multiple of
// 32 (then a warp's lanes share tid.y and tid.z, and tid.x / 32 and warpid are the same in all of them).
enum class UniformityScope { Block, Warp };

// The offset of the context field V reads, when V is a load from Ctx plus a constant.
std::optional<int64_t> contextFieldRead(const llvm::Value *V, const llvm::Value *Ctx);
// Whether the context bytes [Offset, Offset + Size) hold something that differs between the scope's threads (tid,
// laneid, warpid; in a warp only tid.x and laneid).
bool isThreadField(int64_t Offset, uint64_t Size, UniformityScope Scope);

class BlockUniformity {
public:
  // Params and Ctx are F's parameter-buffer and thread-context arguments.
  BlockUniformity(llvm::Function &F, llvm::Value *Params, llvm::Value *Ctx,
                  UniformityScope Scope = UniformityScope::Block);

  // V has one value in all threads of the scope (conservative: false when unsure).
  bool isUniform(const llvm::Value *V) const { return !Divergent.contains(V); }
  // Every thread of the scope that has not returned runs BB, and runs it together with the others: BB is not
  // control-dependent on a branch the threads may take different ways.
  bool isUniform(const llvm::BasicBlock *BB) const { return !DivergentBlocks.contains(BB); }

private:
  llvm::DenseSet<const llvm::Value *> Divergent;
  llvm::SmallPtrSet<const llvm::BasicBlock *, 32> DivergentBlocks;
};

} // namespace cushim::ptx
