// The runtime calls through which a thread waits for others (barriers and warp collectives, kernel_abi.h), and
// the call-graph facts the tier entries need about them (CoroutineEntry.cpp, RegionEntry.cpp).
#pragma once

#include <cstdint>
#include <set>

namespace llvm {
class CallBase;
class Function;
class Module;
} // namespace llvm

namespace cushim::ptx {

enum class WaitKind { Barrier, Collective };
struct WaitCall {
  WaitKind Kind;
  uint32_t Op; // barrier op (cushim_coro_bar_op) or collective kind (cushim_collective_kind)
  bool HasResult;
};

// What Call waits for, or null when it is not a wait.
const WaitCall *waitCallOf(const llvm::CallBase &Call);

// Defined functions from which a wait can be reached; false in Ok when an indirect call could reach one.
std::set<llvm::Function *> waitingFunctions(llvm::Module &M, bool &Ok);

// Inlines every call to a waiting function into F until none is left; false when that does not terminate
// (recursion through a wait) or a call cannot be inlined.
bool inlineWaitingCalls(llvm::Function &F, const std::set<llvm::Function *> &Waiting);

} // namespace cushim::ptx
