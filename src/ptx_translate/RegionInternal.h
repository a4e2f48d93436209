// What the two halves of the region entries' construction share: RegionEntry.cpp cuts a kernel's working copy at
// its waits and divergent loops and decides where each value lives; RegionBuilder.cpp builds the entry from that.
#pragma once

#include <llvm/IR/BasicBlock.h>
#include <llvm/IR/Function.h>
#include <llvm/IR/Instructions.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <vector>

namespace cushim::ptx::region {

// Regions may duplicate code (a loop with a barrier inside is entered from before the loop and after the barrier);
// past this factor over the kernel's size the entry is not worth its compile time.
constexpr size_t MaxCloneFactor = 8;
constexpr size_t RegionSetupAllowance = 128; // instructions per region on top
constexpr int32_t DoneState = -1;

using BlockSet = std::set<llvm::BasicBlock *>;

// What ends a region: a barrier of the whole block, a warp collective that the lanes of each warp reach together
// (the warp's lanes exchange values through the arena at the cut), or the header of a loop that threads leave at
// different iterations (a loop cut: threads wait there only so that the thread loop runs them in lockstep).
enum class CutKind { Block, Shuffle, Vote, Redux, WarpSync, Loop };
inline bool isWarpCut(CutKind Kind) { return Kind != CutKind::Block && Kind != CutKind::Loop; }

// A cut of the working copy: the block that held the wait (now empty but for its branch) and where threads go on.
struct Cut {
  llvm::BasicBlock *Wait;
  llvm::BasicBlock *Continue;
  CutKind Kind;
  uint32_t Op = 0; // Vote: the cushim_vote_mode; Redux: the operation
};

// Stand-ins for a warp collective in the cut working copy, replaced by arena accesses when a region is built:
// before the cut each lane puts its value, after it the lane takes the collective's result.
constexpr const char *PutName = "__cushim_region_put";         // void (i32 value)
constexpr const char *ShuffleName = "__cushim_region_shuffle"; // i32 (i32 mode, i32 b, i32 c, ptr in_range)
constexpr const char *WarpResultName = "__cushim_region_warp_result"; // i32 (): vote or redux over the warp
// Entries of padding around each exchange buffer (a shuffle's source lane is at most 31 lanes off its warp).
constexpr uint64_t ExchangePad = 32;
// A loop cut's region runs its threads in lockstep while at least 1/MinLockstepShare of the block's threads are
// in the loop; below that, each thread runs the rest of its loop at once.
constexpr uint32_t MinLockstepShare = 8;
// A lockstep pass runs up to this many iterations of each thread's loop, when the loop cut's region is at most
// MaxUnrolledRegion instructions with its copies. A grid-stride loop reads one piece of its array per iteration
// (a block's worth, 1 KiB for 256 threads of ints), far from the next: 8 pieces per pass keep more of them in
// flight than 4 (the reductions ran 15-25% faster). A region that writes memory (other than the threads' own
// values) gets at most MaxWritingUnroll: its copies' accesses may depend on each other, and the histogram's
// shared-memory increments ran 25-35% slower with 8 copies than with 4.
constexpr unsigned MaxLockstepUnroll = 8;
constexpr unsigned MaxWritingUnroll = 4;
constexpr size_t MaxUnrolledRegion = 1200;
// The branch weight (against 1) that marks a lockstep pass's branches likely to keep a thread in its loop, which
// GuardVersioning folds in a copy of the pass (RegionBuilder.cpp, markStaying).
constexpr uint32_t LockstepStayWeight = 1u << 20;
// Metadata on the marked way out of a lockstep pass's first copy: GuardVersioning also makes a copy of the pass
// for blocks whose threads all leave there (a grid-stride loop of one iteration per thread).
inline constexpr const char *LockstepFirstExit = "cushim.lockstep.first";
// Metadata on a lockstep pass's check that the thread is at the pass (the other marked branch kind).
inline constexpr const char *LockstepStateCheck = "cushim.lockstep.state";
// All lockstep passes of a kernel together add at most this many times its size in copies.
constexpr size_t MaxUnrollShare = 3;

// Where a per-thread alloca of the working copy lives in the region entry.
struct AllocaHome {
  bool InArena = false;
  bool Uniform = false; // arena: a demoted value that is the same in every thread (UniformSlots)
  uint64_t Start = 0; // arena: the array of all threads' copies begins at Start * thread count
  uint64_t Size = 0;  // arena: bytes per thread (a multiple of the alignment)
  llvm::AllocaInst *Local = nullptr; // not in the arena: one alloca of the entry, reused by every thread
};

// The blocks of the region that begins at Start: reachable from it without passing a cut, in the order found.
std::vector<llvm::BasicBlock *> regionBlocksFrom(llvm::BasicBlock *Start, const std::vector<Cut> &Cuts);

// Blocks reachable from the successors of any block in From.
BlockSet reachableFrom(const BlockSet &From);

// Builds the region entry's body in Entry from the cut working copy G, whose region 0 begins at Start; false when
// the regions would grow the code past MaxCloneFactor. Homes gets each local alloca's copy in Entry. WarpCuts: the
// warps run all their regions one by one; WarpRegions: only the regions after warp cuts do (the warp cuts numbered
// between the loop cuts and the block barriers).
bool buildRegions(llvm::Function &G, llvm::Function &Entry, const std::vector<Cut> &Cuts,
                  std::map<llvm::AllocaInst *, AllocaHome> &Homes, uint64_t ArenaBytesPerThread, bool WarpCuts,
                  bool WarpRegions, bool LoopCuts, const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots,
                  llvm::BasicBlock *Start);

} // namespace cushim::ptx::region
