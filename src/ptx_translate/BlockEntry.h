// Pieces shared by the entries that run a whole block per call (FlatEntry.cpp for tier T0, RegionEntry.cpp for
// tier T1's region loops): the entry function itself, each thread's private context and the loop nest over the
// block's threads.
#pragma once

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/ADT/StringRef.h>
#include <llvm/IR/IRBuilder.h>

#include <cstdint>
#include <optional>

namespace llvm {
class AllocaInst;
class Function;
class Module;
class Value;
} // namespace llvm

namespace cushim::ptx {

// Whether the kernel and everything it can call may run in a thread loop: no indirect calls, no thread exit from a
// device function (it unwinds a single thread) and no yield (it lets another thread of the block run).
bool canRunAsBlockLoop(llvm::Function &Kernel);

// Calls Visit on Kernel and on every defined function it reaches through direct calls, until Visit returns false;
// whether it never did.
bool allReachable(llvm::Function &Kernel, llvm::function_ref<bool(llvm::Function &)> Visit);

// void PREFIX<kernel>(const void *params, cushim_thread_ctx *ctx), with the kernel's code-generation attributes
// and what the engine guarantees about both arguments (no aliasing, ParamSize / the whole context readable).
llvm::Function *createBlockEntry(llvm::Module &M, llvm::Function &Kernel, llvm::StringRef Prefix, uint32_t ParamSize);

// A private copy of the engine's context (at B's insertion point), which the thread loops give each thread's
// coordinates. When no runtime call lets it escape, SROA turns it into registers.
llvm::AllocaInst *emitPrivateContext(llvm::IRBuilder<> &B, llvm::Value *EngineCtx);

// The loop nest over the block's threads (tid.z, then y, then x innermost), block dimensions read from EngineCtx.
// Before Body(B, Linear) emits one thread's work, ThreadCtx holds that thread's tid, laneid and warpid; Linear is
// its linear index in the block. Body may create blocks and must leave B where the thread's work ends.
void emitThreadLoops(llvm::IRBuilder<> &B, llvm::Value *EngineCtx, llvm::Value *ThreadCtx,
                     llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Value *Linear)> Body);

// For blocks whose x dimension is a multiple of 32: the loop over the 32 lanes of warp Warp (an i32 value), with
// ThreadCtx holding each lane's tid, laneid and warpid before Body(B, Linear, Lane) emits its work.
void emitWarpLaneLoop(llvm::IRBuilder<> &B, llvm::Value *EngineCtx, llvm::Value *ThreadCtx, llvm::Value *Warp,
                      llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Value *Linear, llvm::Value *Lane)> Body);

// A bottom-tested counted loop 0..Count-1 (Count >= 1). Body(B, Index) emits the loop body at B's insertion point
// and may create blocks; the builder is left after the loop. Without RuntimeUnroll the loop is marked so that
// LLVM's unroller leaves it (and the scalar loop the vectoriser keeps of it) alone when its count is not constant.
void emitCountedLoop(llvm::IRBuilder<> &B, llvm::Value *Count, const char *Name,
                     llvm::function_ref<void(llvm::IRBuilder<> &, llvm::Value *Index)> Body,
                     bool RuntimeUnroll = true);

// Which kernel parameter the memory Base (an underlying object) belongs to, in a block entry Entry: the offset in
// the parameter buffer (Entry's first argument) its address was loaded from, possibly converted from an integer;
// none for other memory (shared, local, the context, a region's arena, addresses read from memory).
std::optional<int64_t> parameterSlot(const llvm::Value *Base, const llvm::Function &Entry);

// Block dimension I (0: x, 1: y, 2: z) as an i32: a constant in a specialised entry, else read from EngineCtx with
// CUDA's bounds as its range.
llvm::Value *emitBlockDim(llvm::IRBuilder<> &B, llvm::Value *EngineCtx, unsigned I);

// The number of threads in the block (ntid.x * y * z), read from EngineCtx.
llvm::Value *emitBlockThreadCount(llvm::IRBuilder<> &B, llvm::Value *EngineCtx);

// The lowering marks context reads !invariant.load (true of the engine's context during one thread's run). In a
// block entry they read the private copy, whose only definition is a memcpy: with the marks, GVN may look past that
// memcpy to the fresh alloca and read undefined values.
void dropInvariantLoadMarks(llvm::Function &F);

} // namespace cushim::ptx
