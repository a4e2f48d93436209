// Removes the warp steps (volatile shared accesses, docs/SIMT.md) of a region entry's working copy that lanes run
// one after another through the region would not need (WarpStepMerging.cpp).
#pragma once

namespace llvm {
class Function;
class Value;
} // namespace llvm

namespace cushim::ptx {

void mergeWarpSteps(llvm::Function &G, llvm::Value *Params, llvm::Value *Ctx);

} // namespace cushim::ptx
