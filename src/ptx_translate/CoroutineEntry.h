// Coroutine entries for engine tier T1 (see CoroutineEntry.cpp and kernel_abi.h).
#pragma once

#include "ptx_translate/Lowering.h"

#include <vector>

namespace llvm {
class Module;
} // namespace llvm

namespace cushim::ptx {

// Symbol prefix of a kernel's coroutine entry: void *__cushim_coro_NAME(const void *params, cushim_thread_ctx *ctx).
inline constexpr const char *CoroutineEntryPrefix = "__cushim_coro_";

// Adds a coroutine entry for every kernel with barriers or warp collectives whose waits can all be inlined into it
// (no recursion or function pointers leading to a wait; no spin loops or grid syncs) and that has no region entry,
// and sets CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY in its flags.
void addCoroutineEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels);

} // namespace cushim::ptx
