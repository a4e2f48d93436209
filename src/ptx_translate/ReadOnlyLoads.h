// Loads of data that PTX declares read-only for the kernel (`ld.global.nc`) get an alias scope that no store of
// their function aliases (see ReadOnlyLoads.cpp).
#pragma once

namespace llvm {
class Module;
} // namespace llvm

namespace cushim::ptx {

// The metadata kind the lowering puts on each load of an `ld.global.nc` (an empty node), until scopeReadOnlyLoads.
constexpr const char *ReadOnlyLoadMark = "cushim.readonly";

// Puts each function's marked loads in one alias scope and all its stores, atomics and memory intrinsics in that
// scope's complement; removes the marks.
void scopeReadOnlyLoads(llvm::Module &M);

} // namespace cushim::ptx
