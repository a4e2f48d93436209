// Finding grid-stride loops (`for (i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)`) in a kernel
// without barriers (GridStride.cpp). A flat entry runs each thread's loop to its end before the next thread starts,
// so consecutive threads' elements are touched a whole loop apart; a region entry runs such loops in lockstep.
#pragma once

namespace llvm {
class Function;
} // namespace llvm

namespace cushim::ptx {

// Whether G (a kernel body in SSA form: the parameter buffer and the thread context are its arguments) has a loop
// with an index that starts at a value fixed for the block plus tid.x and steps by an amount the same for all
// threads.
bool hasGridStrideLoop(llvm::Function &G);

} // namespace cushim::ptx
