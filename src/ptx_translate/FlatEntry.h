// Flat entries for engine tier T0 (see FlatEntry.cpp and kernel_abi.h).
#pragma once

#include "ptx_translate/Lowering.h"

#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace cushim::ptx {

// Symbol prefix of a kernel's flat entry: void __cushim_flat_NAME(const void *params, cushim_thread_ctx *ctx).
inline constexpr const char *FlatEntryPrefix = "__cushim_flat_";

// Adds a flat entry for every kernel that can run its threads as a loop (no barriers, warp collectives, spin loops
// or exits from device functions) and sets CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY in its flags.
void addFlatEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels);

} // namespace cushim::ptx
