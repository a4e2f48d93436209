// Region entries for engine tier T1 (see RegionEntry.cpp and kernel_abi.h).
#pragma once

#include "ptx_translate/Lowering.h"

#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace cushim::ptx {

// Symbol prefix of a kernel's region entry: void __cushim_region_NAME(const void *params, cushim_thread_ctx *ctx).
inline constexpr const char *RegionEntryPrefix = "__cushim_region_";

// Adds a region entry for every kernel whose only waits are block-wide barriers that all threads of a block reach
// together (no warp collectives, spin loops, grid syncs or exits from device functions) and sets
// CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY in its flags.
void addRegionEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels);

} // namespace cushim::ptx
