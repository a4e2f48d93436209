// The second half of building a region entry (RegionEntry.cpp has the first and the overall picture): from the
// working copy cut into regions, RegionBuilder emits the entry's dispatch loop, each region's thread loops (or, with
// warp cuts, lane loops per warp), the arena of values kept across cuts and the lockstep passes of loop cuts.
#include "ptx_translate/RegionInternal.h"

#include "ptx_translate/ArenaScopes.h"
#include "ptx_translate/BlockEntry.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/ValueHandle.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <set>
#include <vector>

namespace cushim::ptx::region {

namespace {

// Whether BB writes memory other than the working copy's allocas (which hold the threads' own values).
bool writesMemory(const llvm::BasicBlock &BB) {
  for (const llvm::Instruction &I : BB) {
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I)) {
      if (!llvm::isa<llvm::AllocaInst>(llvm::getUnderlyingObject(Store->getPointerOperand())))
        return true;
    } else if (llvm::isa<llvm::AtomicRMWInst, llvm::AtomicCmpXchgInst, llvm::MemIntrinsic>(I)) {
      return true;
    } else if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I);
               Call && !llvm::isa<llvm::IntrinsicInst>(Call) && Call->mayWriteToMemory()) {
      return true;
    }
  }
  return false;
}

// Builds __cushim_region_NAME from the cut working copy G. Without warp cuts, each region runs as one loop over
// the block's threads (the file comment); so do they with WarpRegions, but for the regions after warp cuts
// (emitWarpCutRegion). Otherwise (WarpCuts), each warp runs its regions as loops over its 32 lanes:
//
//   state = 0
//   while (state != done)
//     ws[w] = state for every warp w
//     repeat (a pass) until every warp is parked:
//       for each warp w not parked:
//         do: run region ws[w] for the lanes of w; ws[w] = the region after the cut they reached
//         while that cut was a warp collective (the lanes exchange values through the arena there)
//         a loop cut: w yields until the next pass; a block barrier or return: w is parked
//     state = the block barrier's continuation (or done: the same for every warp)
class RegionBuilder {
public:
  RegionBuilder(llvm::Function &G, llvm::Function &Entry, const std::vector<Cut> &Cuts,
                std::map<llvm::AllocaInst *, AllocaHome> &Homes, uint64_t ArenaBytesPerThread, bool WarpCuts,
                bool WarpRegions, bool LoopCuts, const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots)
      : G(G), H(Entry), Cuts(Cuts), Homes(Homes), ArenaBytesPerThread(ArenaBytesPerThread), WarpCuts(WarpCuts),
        WarpRegions(WarpRegions), LoopCuts(LoopCuts), CounterSlots(CounterSlots), Ctx(Entry.getContext()) {}

  // False when the regions would grow the code past MaxCloneFactor.
  bool build(llvm::BasicBlock *Start) {
    RegionStart = Start;
    llvm::IRBuilder<> B(llvm::BasicBlock::Create(Ctx, "entry", &H));
    EngineCtx = H.getArg(1);
    ThreadCtx = emitPrivateContext(B, EngineCtx);
    Threads = B.CreateZExt(emitBlockThreadCount(B, EngineCtx), B.getInt64Ty(), "threads");
    {
      // Like malloc's, the scratch memory is reachable through no other pointer the kernel has.
      llvm::AttributeList NoAliasResult =
          llvm::AttributeList().addRetAttribute(Ctx, llvm::Attribute::NoAlias);
      llvm::FunctionCallee Scratch = H.getParent()->getOrInsertFunction(
          "__cushim_block_scratch", llvm::FunctionType::get(B.getPtrTy(), {B.getPtrTy(), B.getInt64Ty()}, false),
          NoAliasResult);
      // Arrays over the block's threads: the per-thread values, each thread's next state (i32) and, with warp
      // collectives that exchange values (not warp steps), two exchange buffers (i32): a region's lanes take a
      // collective's results from one while they put their values for the next cut in the other. ExchangePad
      // entries before, between and after the buffers let a shuffle read its source lane unconditionally (and keep
      // the read consecutive for the vectoriser).
      Exchanges = llvm::any_of(Cuts, [](const Cut &C) { return isWarpCut(C.Kind) && C.Kind != CutKind::WarpSync; });
      uint64_t PerThread = ArenaBytesPerThread + 4 + (Exchanges ? 8 : 0);
      llvm::Value *Bytes = B.CreateMul(Threads, B.getInt64(PerThread));
      if (Exchanges)
        Bytes = B.CreateAdd(Bytes, B.getInt64(3 * ExchangePad * 4));
      Arena = B.CreateCall(Scratch, {EngineCtx, Bytes}, "arena");
      NextStates = B.CreateInBoundsGEP(B.getInt8Ty(), Arena, B.CreateMul(Threads, B.getInt64(ArenaBytesPerThread)),
                                       "next.states");
      Exchange = B.CreateInBoundsGEP(B.getInt32Ty(), NextStates,
                                     B.CreateAdd(Threads, B.getInt64(ExchangePad)), "exchange");
    }
    for (auto &[A, Home] : Homes)
      if (!Home.InArena) {
        Home.Local = llvm::cast<llvm::AllocaInst>(A->clone());
        B.Insert(Home.Local, A->getName());
      }
    State = B.CreateAlloca(B.getInt32Ty(), nullptr, "state");
    WarpState = B.CreateAlloca(B.getInt32Ty(), nullptr, "warp.state");
    Phase = B.CreateAlloca(B.getInt32Ty(), nullptr, "warp.phase");
    WarpAcc = B.CreateAlloca(B.getInt32Ty(), nullptr, "warp.acc");
    Flag = B.CreateAlloca(B.getInt32Ty(), nullptr, "flag");
    if (WarpRegions && Exchanges)
      WarpPhases = B.CreateAlloca(llvm::ArrayType::get(B.getInt32Ty(), 32), nullptr, "warp.phases");
    for (auto &[Header, Slot] : CounterSlots) {
      size_t R = 1 + (llvm::find_if(Cuts, [&](const Cut &C) { return C.Continue == Header; }) - Cuts.begin());
      llvm::Type *Ty = Slot->getAllocatedType();
      Counters[R] = {Slot, B.CreateAlloca(WarpCuts ? llvm::ArrayType::get(Ty, 32) : Ty, nullptr, "lockstep.k")};
    }
    B.CreateStore(B.getInt32(0), State);
    llvm::BasicBlock *Dispatch = llvm::BasicBlock::Create(Ctx, "dispatch", &H);
    Done = llvm::BasicBlock::Create(Ctx, "done", &H);
    B.CreateBr(Dispatch);
    B.SetInsertPoint(Done);
    B.CreateRetVoid();
    B.SetInsertPoint(Dispatch);
    Original = G.getInstructionCount();
    UnrollBudget = Original * MaxUnrollShare;
    findSlotsUsedInWarpRegions();
    if (WarpCuts)
      buildWarpLoop(B);
    else
      buildBlockLoop(B);
    B.CreateStore(emitBlockState(B), State);
    B.CreateBr(Dispatch);
    scopeMemoryAccesses();
    // Everything counts: the clones, and past a fixed allowance each region's setup (its thread loops and slot
    // addresses).
    return H.getInstructionCount() <= MaxCloneFactor * Original + RegionSetupAllowance * (Cuts.size() + 1);
  }

private:
  // The arena and the block's shared memory are reachable through no other pointer the kernel has, but alias
  // analysis sees that only while no address of theirs escapes, and the vectoriser's own run-time checks compare
  // arena addresses (which counts as an escape): loops vectorised after the first then need bounds for every other
  // access, which a gather through a loaded index (In[I] in a lockstep loop) or a zero-extended 32-bit shared
  // offset does not have. Scoped alias metadata says it for good: accesses through the arena, through shared
  // memory's base and through anything else are in three scopes that do not alias. A memory is scoped only while
  // its addresses reach nothing but loads, stores and address arithmetic (no call or integer carries them
  // elsewhere, where a pointer of the third kind could be made from them).
  void scopeMemoryAccesses() {
    std::vector<llvm::Value *> SharedBases;
    for (llvm::Instruction &I : llvm::instructions(H))
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I);
          Load && isContextField(Load->getPointerOperand(), offsetof(cushim_thread_ctx, shared_base)))
        SharedBases.push_back(Load);
    llvm::MDBuilder MD(Ctx);
    llvm::MDNode *Domain = MD.createAnonymousAliasScopeDomain("cushim.region");
    std::vector<std::pair<std::set<llvm::Value *>, llvm::MDNode *>> Scopes;
    for (auto &[Roots, Name] : {std::pair{std::vector<llvm::Value *>{Arena}, "arena"},
                                std::pair{SharedBases, "shared"}}) {
      std::set<llvm::Value *> Derived;
      if (!Roots.empty() && deriveAddresses(Roots, {}, Derived))
        Scopes.emplace_back(std::move(Derived), MD.createAnonymousAliasScope(Domain, Name));
    }
    if (Scopes.empty())
      return;
    std::vector<std::vector<llvm::Value *>> Arrays{{NextStates}}; // the next states and exchange buffers
    for (const auto &Array : ArrayStarts) {
      Arrays.emplace_back();
      for (llvm::Value *Start : Array.second)
        if (Start) // not deleted since
          Arrays.back().push_back(Start);
    }
    bool ArenaScoped = Scopes.front().first.count(Arena); // the arena's scope comes first when it has one
    for (llvm::Instruction &I : llvm::instructions(H)) {
      llvm::Value *Ptr = llvm::getLoadStorePointerOperand(&I);
      if (!Ptr)
        continue;
      llvm::SmallVector<llvm::Metadata *, 2> In, NotIn;
      for (auto &[Derived, Scope] : Scopes)
        (Derived.count(Ptr) ? In : NotIn).push_back(Scope);
      if (!In.empty())
        I.setMetadata(llvm::LLVMContext::MD_alias_scope, llvm::MDNode::get(Ctx, In));
      if (!NotIn.empty())
        I.setMetadata(llvm::LLVMContext::MD_noalias, llvm::MDNode::get(Ctx, NotIn));
    }
    if (ArenaScoped)
      scopeArenaArrays(H, Arena, Arrays);
  }

  // Where each arena array begins in the regions that use it, by the array's AllocaHome::Start (ArenaScopes.h).
  std::map<uint64_t, std::vector<llvm::WeakVH>> ArrayStarts;

  // Whether Ptr addresses the field at Offset of the running thread's context.
  bool isContextField(llvm::Value *Ptr, uint64_t Offset) const {
    const llvm::DataLayout &DL = H.getParent()->getDataLayout();
    llvm::APInt At(DL.getIndexTypeSizeInBits(Ptr->getType()), 0);
    return Ptr->stripAndAccumulateConstantOffsets(DL, At, true) == ThreadCtx && At == Offset;
  }

  llvm::BasicBlock *startOf(size_t R) const { return R == 0 ? RegionStart : Cuts[R - 1].Continue; }

  // The state the block goes on with after a pass over its threads. With warp cuts, every warp is parked at the
  // same block barrier (or returned): thread 0's next state is the block's; so it is without loop cuts or warp
  // regions. With warp regions and no loop cuts, the lowest state of the warps' first lanes (the lanes of a warp
  // reach its warp cuts together). Otherwise the lowest state of the block's threads (emitLowestState).
  llvm::Value *emitBlockState(llvm::IRBuilder<> &B) {
    if (WarpCuts || (!LoopCuts && !WarpRegions))
      return B.CreateLoad(B.getInt32Ty(), NextStates, "next");
    if (!LoopCuts)
      return emitFold(B, NextStates, B.getInt64(0), emitWarpCount(B), DoneState, "lowest.warp", umin, /*Stride=*/32);
    return emitLowestState(B, B.getInt64(0), B.CreateTrunc(Threads, B.getInt32Ty()));
  }

  llvm::Value *emitWarpCount(llvm::IRBuilder<> &B) {
    return B.CreateLShr(B.CreateTrunc(Threads, B.getInt32Ty()), 5, "warps");
  }

  // The linear index of warp Warp's first thread (i64).
  static llvm::Value *emitWarpFirst(llvm::IRBuilder<> &B, llvm::Value *Warp) {
    return B.CreateZExt(B.CreateShl(Warp, 5, "", true, true), B.getInt64Ty(), "warp.first");
  }

  static llvm::Value *umin(llvm::IRBuilder<> &B, llvm::Value *Acc, llvm::Value *Next, llvm::Value *) {
    return B.CreateBinaryIntrinsic(llvm::Intrinsic::umin, Acc, Next);
  }

  // The state a group of threads (Count threads from linear index First) goes on with. Without loop cuts, all are
  // at the same cut: the first thread's next state. With them, the lowest state any thread is at: loop cuts are
  // numbered first, so threads still in a loop run before the others, which wait at the next cut until all are
  // there (done is the highest state).
  llvm::Value *emitLowestState(llvm::IRBuilder<> &B, llvm::Value *First, llvm::Value *Count) {
    if (!LoopCuts)
      return B.CreateLoad(B.getInt32Ty(), B.CreateInBoundsGEP(B.getInt32Ty(), NextStates, First), "next");
    return emitFold(B, NextStates, First, Count, DoneState, "lowest", umin);
  }

  // How many threads of a group (Count threads from linear index First) are at state R (an i32).
  llvm::Value *emitThreadsAt(llvm::IRBuilder<> &B, size_t R, llvm::Value *First, llvm::Value *Count) {
    return emitFold(B, NextStates, First, Count, 0, "in.loop",
                    [&](llvm::IRBuilder<> &B, llvm::Value *Acc, llvm::Value *At, llvm::Value *) {
                      return B.CreateAdd(Acc, B.CreateZExt(B.CreateICmpEQ(At, B.getInt32(R)), B.getInt32Ty()));
                    });
  }

  // Acc = Init, then Acc = Combine(B, Acc, Array[First + I * Stride], I) for I in 0..Count-1 (i32 elements and
  // result; First is an i64 index, Count an i32). The accumulator lives in WarpAcc, which SROA turns into a
  // register.
  llvm::Value *emitFold(
      llvm::IRBuilder<> &B, llvm::Value *Array, llvm::Value *First, llvm::Value *Count, uint32_t Init, const char *Name,
      llvm::function_ref<llvm::Value *(llvm::IRBuilder<> &, llvm::Value *Acc, llvm::Value *Element, llvm::Value *I)>
          Combine,
      uint64_t Stride = 1) {
    B.CreateStore(B.getInt32(Init), WarpAcc);
    emitCountedLoop(B, Count, Name, [&](llvm::IRBuilder<> &B, llvm::Value *I) {
      llvm::Value *Offset = B.CreateZExt(I, B.getInt64Ty());
      if (Stride != 1)
        Offset = B.CreateMul(Offset, B.getInt64(Stride), "", true, true);
      llvm::Value *Index = B.CreateAdd(First, Offset);
      llvm::Value *Element = B.CreateLoad(B.getInt32Ty(), B.CreateInBoundsGEP(B.getInt32Ty(), Array, Index));
      B.CreateStore(Combine(B, B.CreateLoad(B.getInt32Ty(), WarpAcc), Element, I), WarpAcc);
    });
    return B.CreateLoad(B.getInt32Ty(), WarpAcc, Name);
  }

  // Where the current group (the block, or the warp being run) keeps loop cut R's lockstep counter.
  llvm::Value *counterAt(llvm::IRBuilder<> &B, size_t R) {
    llvm::AllocaInst *Counter = Counters.at(R).second;
    return WarpCuts ? B.CreateInBoundsGEP(Counter->getAllocatedType(), Counter, {B.getInt32(0), CurrentWarp})
                    : Counter;
  }

  // A region every thread of the group starts together: no thread is in a loop, so every lockstep counter is 0
  // for the threads that will next enter its loop.
  void resetCounters(llvm::IRBuilder<> &B) {
    for (auto &[R, Counter] : Counters)
      B.CreateStore(llvm::ConstantInt::get(Counter.first->getAllocatedType(), 0), counterAt(B, R));
  }

  // Before a lockstep pass of loop cut R: its counter (the iterations every thread still in the loop has run),
  // which the pass's threads read instead of their own copies; after it, one more.
  void loadCounter(llvm::IRBuilder<> &B, size_t R, unsigned Unroll) {
    CounterStep = Unroll;
    LockstepK = Counters.count(R) ? B.CreateLoad(Counters.at(R).first->getAllocatedType(), counterAt(B, R),
                                                 "lockstep.k")
                                  : nullptr;
  }
  void advanceCounter(llvm::IRBuilder<> &B, size_t R) {
    if (LockstepK)
      B.CreateStore(B.CreateAdd(LockstepK, llvm::ConstantInt::get(LockstepK->getType(), CounterStep)),
                    counterAt(B, R));
    LockstepK = nullptr;
  }

  std::vector<llvm::BasicBlock *> regionBlocks(size_t R) const { return regionBlocksFrom(startOf(R), Cuts); }

  // How many iterations of its loop each thread runs in one lockstep pass of loop cut R: several, when the
  // region is small, so that a pass's fixed costs (finding the threads still in the loop, the lowest state) are
  // shared, and the loads of the iterations overlap (a grid-stride loop's next iteration is far off in memory).
  // The copies beyond the first come out of UnrollBudget, shared by the kernel's loop cuts, so that the entry
  // stays within MaxCloneFactor.
  // Decided once per loop cut (a warp entry may emit its lockstep pass twice: per warp and for the whole block).
  unsigned lockstepUnroll(size_t R) {
    if (auto It = UnrollOf.find(R); It != UnrollOf.end())
      return It->second;
    size_t Size = regionSize(R);
    BlockSet Body = loopBody(R);
    bool Writes = llvm::any_of(Body, [](llvm::BasicBlock *BB) { return writesMemory(*BB); });
    unsigned Chosen = 1;
    for (unsigned Unroll = Writes ? MaxWritingUnroll : MaxLockstepUnroll; Unroll > 1; Unroll /= 2)
      if (Size * Unroll <= MaxUnrolledRegion && Size * (Unroll - 1) <= UnrollBudget) {
        UnrollBudget -= Size * (Unroll - 1);
        Chosen = Unroll;
        break;
      }
    return UnrollOf[R] = Chosen;
  }

  size_t regionSize(size_t R) const {
    size_t Size = 0;
    for (llvm::BasicBlock *BB : regionBlocks(R))
      Size += BB->size();
    return Size;
  }

  // The body of loop cut R's loop: the blocks of its region that lead back to the cut (the others are the way out).
  BlockSet loopBody(size_t R) const {
    std::vector<llvm::BasicBlock *> Blocks = regionBlocks(R);
    BlockSet InRegion(Blocks.begin(), Blocks.end()), Body;
    std::vector<llvm::BasicBlock *> Work{Cuts[R - 1].Wait};
    while (!Work.empty()) {
      llvm::BasicBlock *BB = Work.back();
      Work.pop_back();
      for (llvm::BasicBlock *Pred : llvm::predecessors(BB))
        if (InRegion.count(Pred) && Body.insert(Pred).second)
          Work.push_back(Pred);
    }
    return Body;
  }

  // In a lockstep pass, the thread's check of its state and each copy's way out of the loop are marked likely to
  // stay (branch weights): GuardVersioning gives the pass a copy with them folded for the passes where every
  // thread is in the loop and none leaves it (the middle of a grid-stride loop), with no masks left to vectorise.
  void markStaying(llvm::BranchInst &Br, bool StaysOnTrue) {
    llvm::MDBuilder MD(Ctx);
    Br.setMetadata(llvm::LLVMContext::MD_prof, StaysOnTrue ? MD.createBranchWeights(LockstepStayWeight, 1)
                                                           : MD.createBranchWeights(1, LockstepStayWeight));
  }
  void markLoopExits(size_t R, const std::vector<std::unique_ptr<llvm::ValueToValueMapTy>> &CopyMaps) {
    BlockSet Stay = loopBody(R);
    Stay.insert(Cuts[R - 1].Wait);
    for (llvm::BasicBlock *BB : loopBody(R)) {
      auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB->getTerminator());
      if (!Br || !Br->isConditional())
        continue;
      bool TrueStays = Stay.count(Br->getSuccessor(0)), FalseStays = Stay.count(Br->getSuccessor(1));
      if (TrueStays == FalseStays)
        continue;
      // Not the last copy's: threads that leave there leave at the end of the pass, which the copy without marks
      // can run as well (with a mask for what follows the loop), so a grid-stride loop's last pass keeps it when
      // every thread leaves after its last copy.
      for (size_t C = 0; C + 1 < CopyMaps.size(); ++C)
        if (auto It = CopyMaps[C]->find(BB); It != CopyMaps[C]->end()) {
          auto *Exit = llvm::cast<llvm::BranchInst>(llvm::cast<llvm::BasicBlock>(It->second)->getTerminator());
          markStaying(*Exit, TrueStays);
          if (C == 0)
            Exit->setMetadata(LockstepFirstExit, llvm::MDNode::get(Ctx, {}));
        }
    }
  }

  // Without loop cuts or warp cuts every region starts with all threads together at the same state, and a uniform
  // slot holds one value for all threads: it is one value in the arena (thread 0's place), not one per thread.
  // With warp regions, so is a slot that no warp cut's region uses: the warps run such a region one after
  // another, and a warp must not see the value the warp before it wrote there (a loop's counter stepped per warp,
  // as in e2e/simt_warp_lockstep's warpSumsInLoop).
  bool sharedSlot(llvm::AllocaInst *A) const {
    return Homes.at(A).Uniform && !LoopCuts && !WarpCuts && !UsedInWarpRegions.count(A);
  }
  // Then every thread also goes on to the same cut: one next state for the block.
  bool sharedNextState() const { return !LoopCuts && !WarpCuts && !WarpRegions; }

  // The slots (allocas of the working copy) that a warp cut's region uses.
  std::set<llvm::AllocaInst *> UsedInWarpRegions;
  void findSlotsUsedInWarpRegions() {
    for (size_t R = 1; WarpRegions && R <= Cuts.size(); ++R)
      if (isWarpCut(Cuts[R - 1].Kind))
        for (llvm::BasicBlock *BB : regionBlocks(R))
          for (llvm::Instruction &I : *BB)
            for (llvm::Value *Op : I.operands())
              if (Op->getType()->isPointerTy())
                if (auto *A = llvm::dyn_cast<llvm::AllocaInst>(llvm::getUnderlyingObject(Op)))
                  UsedInWarpRegions.insert(A);
  }

  // Whether every thread starts region R together (not only those a loop cut left behind).
  bool startsTogether(size_t R) const { return R == 0 || Cuts[R - 1].Kind != CutKind::Loop; }

  // Dispatch on the state, then region R as one loop over the block's threads.
  void buildBlockLoop(llvm::IRBuilder<> &B) {
    llvm::SwitchInst *Switch = B.CreateSwitch(B.CreateLoad(B.getInt32Ty(), State), Done, Cuts.size() + 1);
    GroupFirst = B.getInt64(0);
    llvm::BasicBlock *Next = llvm::BasicBlock::Create(Ctx, "regions.done", &H);
    for (size_t R = 0; R <= Cuts.size(); ++R) {
      RegionPre = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R), &H);
      Switch->addCase(B.getInt32(R), RegionPre);
      B.SetInsertPoint(RegionPre);
      if (R > 0 && isWarpCut(Cuts[R - 1].Kind)) {
        emitWarpCutRegion(B, R);
        B.CreateBr(Next);
        continue;
      }
      if (startsTogether(R)) {
        resetCounters(B);
        if (Exchanges) // every warp is here (the start or a block barrier): its values go to the first buffer
          emitFirstExchange(B);
        emitThreadLoops(B, EngineCtx, ThreadCtx, [&](llvm::IRBuilder<> &B, llvm::Value *Linear) {
          emitRegion(B, R, Linear);
        });
        B.CreateBr(Next);
        continue;
      }
      // A loop cut's region: in lockstep while enough threads are in the loop to fill vectors, else each thread
      // finishes its loop at once (a loop that one thread runs, under if (tid == 0), must not cost a pass over
      // all threads per iteration).
      auto *Lockstep = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".lockstep", &H);
      auto *Serial = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".serial", &H);
      llvm::Value *InLoop = emitThreadsAt(B, R, B.getInt64(0), B.CreateTrunc(Threads, B.getInt32Ty()));
      llvm::Value *AllInLoop = B.CreateICmpEQ(InLoop, B.CreateTrunc(Threads, B.getInt32Ty()), "all.in.loop");
      B.CreateCondBr(B.CreateICmpUGE(B.CreateMul(InLoop, B.getInt32(MinLockstepShare)),
                                     B.CreateTrunc(Threads, B.getInt32Ty())),
                     Lockstep, Serial);
      for (bool IsSerial : {false, true}) {
        B.SetInsertPoint(IsSerial ? Serial : Lockstep);
        unsigned Unroll = IsSerial ? 1 : lockstepUnroll(R);
        if (!IsSerial)
          loadCounter(B, R, Unroll);
        emitThreadLoops(B, EngineCtx, ThreadCtx, [&](llvm::IRBuilder<> &B, llvm::Value *Linear) {
          emitRegion(B, R, Linear, IsSerial, Unroll, IsSerial ? nullptr : AllInLoop);
        });
        advanceCounter(B, R);
        B.CreateBr(Next);
      }
    }
    B.SetInsertPoint(Next);
  }

  // The region after a warp cut (WarpRegions): the warps at the cut run it, each as a loop over its 32 lanes (as
  // they would in a warp entry), and the others are skipped. Every lane of a warp reaches the warp's cuts together
  // (BlockUniformity in its warp scope), and the cut is the lowest state of the block's threads now (cut
  // numbering): a warp whose first lane is at the cut has all its lanes there. Past a shuffle, vote or redux, the
  // warp's exchange buffers swap (as in buildWarpLoop). NVIDIA's reduce4 sample (a tree of block barriers, then
  // warp-synchronous steps in the first warp) ran every region warp by warp before.
  void emitWarpCutRegion(llvm::IRBuilder<> &B, size_t R) {
    resetCounters(B);
    emitCountedLoop(B, emitWarpCount(B), "cut.warp", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      llvm::Value *First = emitWarpFirst(B, Warp);
      llvm::Value *At = B.CreateLoad(B.getInt32Ty(), B.CreateInBoundsGEP(B.getInt32Ty(), NextStates, First));
      RegionPre = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".warp", &H);
      auto *Skip = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".warp.end", &H);
      B.CreateCondBr(B.CreateICmpEQ(At, B.getInt32(R)), RegionPre, Skip);
      B.SetInsertPoint(RegionPre);
      GroupFirst = First;
      if (Exchanges) {
        llvm::Value *PhaseAt = warpPhaseAt(B, Warp);
        llvm::Value *Current = B.CreateXor(B.CreateLoad(B.getInt32Ty(), PhaseAt), 1);
        B.CreateStore(Current, PhaseAt);
        setExchangeBuffers(B, Current);
        WarpResult = emitWarpResult(B, Cuts[R - 1]);
      }
      emitWarpLaneLoop(B, EngineCtx, ThreadCtx, Warp,
                       [&](llvm::IRBuilder<> &B, llvm::Value *Linear, llvm::Value *Lane) {
                         LaneIndex = Lane;
                         emitRegion(B, R, Linear);
                       });
      B.CreateBr(Skip);
      B.SetInsertPoint(Skip);
    });
    GroupFirst = B.getInt64(0);
  }

  // Before a region every warp starts (WarpRegions with exchanges): each warp's phase is 0, so the values its lanes
  // put for the next warp cut go to the second buffer, which the region after the cut takes from.
  void emitFirstExchange(llvm::IRBuilder<> &B) {
    emitCountedLoop(B, emitWarpCount(B), "phase.reset", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      B.CreateStore(B.getInt32(0), warpPhaseAt(B, Warp));
    });
    setExchangeBuffers(B, B.getInt32(0));
    WarpResult = nullptr;
  }

  llvm::Value *warpPhaseAt(llvm::IRBuilder<> &B, llvm::Value *Warp) {
    return B.CreateInBoundsGEP(WarpPhases->getAllocatedType(), WarpPhases, {B.getInt32(0), Warp});
  }

  // TakeFrom and PutTo for a group at exchange phase Current (an i32: 0 or 1).
  void setExchangeBuffers(llvm::IRBuilder<> &B, llvm::Value *Current) {
    llvm::Value *Phase = B.CreateZExt(Current, B.getInt64Ty());
    llvm::Value *Stride = B.CreateAdd(Threads, B.getInt64(ExchangePad));
    TakeFrom = B.CreateInBoundsGEP(B.getInt32Ty(), Exchange, B.CreateMul(Phase, Stride), "take.from");
    PutTo = B.CreateInBoundsGEP(B.getInt32Ty(), Exchange, B.CreateMul(B.CreateXor(Phase, 1), Stride), "put.to");
  }

  // Passes over the warps until all of them reached the next block barrier (or returned). In a pass, each warp
  // runs regions past its warp cuts until it reaches a loop cut (it yields: the next warp runs, so the warps'
  // loops advance together, one iteration per pass, and touch neighbouring memory as a block's threads would) or
  // a block barrier (it parks until the block goes on).
  void buildWarpLoop(llvm::IRBuilder<> &B) {
    llvm::Value *Current = B.CreateLoad(B.getInt32Ty(), State, "state");
    llvm::BasicBlock *Warps = llvm::BasicBlock::Create(Ctx, "warps", &H);
    B.CreateCondBr(B.CreateICmpEQ(Current, B.getInt32(DoneState)), Done, Warps);
    B.SetInsertPoint(Warps);
    // Per warp (at most 32): its state, its exchange buffer phase, whether it is parked.
    llvm::IRBuilder<> Entry(&H.getEntryBlock(), H.getEntryBlock().begin());
    llvm::Type *PerWarp = llvm::ArrayType::get(B.getInt32Ty(), 32);
    llvm::Value *WarpStates = Entry.CreateAlloca(PerWarp, nullptr, "warp.states");
    llvm::Value *Phases = Entry.CreateAlloca(PerWarp, nullptr, "warp.phases");
    llvm::Value *Parked = Entry.CreateAlloca(PerWarp, nullptr, "warp.parked");
    llvm::Value *Running = Entry.CreateAlloca(B.getInt32Ty(), nullptr, "warps.running");
    auto at = [&](llvm::IRBuilder<> &B, llvm::Value *Array, llvm::Value *Warp) {
      return B.CreateInBoundsGEP(PerWarp, Array, {B.getInt32(0), Warp});
    };
    llvm::Value *NumWarps = emitWarpCount(B);
    emitCountedLoop(B, NumWarps, "warp.init", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      B.CreateStore(Current, at(B, WarpStates, Warp));
      B.CreateStore(B.getInt32(0), at(B, Phases, Warp));
      B.CreateStore(B.getInt32(0), at(B, Parked, Warp));
    });
    auto *Pass = llvm::BasicBlock::Create(Ctx, "warps.pass", &H);
    auto *EachWarp = llvm::BasicBlock::Create(Ctx, "warps.each", &H);
    auto *PassEnd = llvm::BasicBlock::Create(Ctx, "warps.pass.end", &H);
    B.CreateBr(Pass);
    B.SetInsertPoint(Pass);
    B.CreateStore(B.getInt32(0), Running);
    WarpArrays Arrays{PerWarp, WarpStates, Phases, Parked, Running, NumWarps};
    if (LoopCuts)
      emitBlockLockstepPasses(B, Arrays, EachWarp, PassEnd);
    else
      B.CreateBr(EachWarp);
    B.SetInsertPoint(EachWarp);
    emitCountedLoop(B, NumWarps, "warp", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      auto *Go = llvm::BasicBlock::Create(Ctx, "warp.go", &H);
      auto *WarpDispatch = llvm::BasicBlock::Create(Ctx, "warp.dispatch", &H);
      auto *WarpCut = llvm::BasicBlock::Create(Ctx, "warp.cut", &H);
      auto *Yield = llvm::BasicBlock::Create(Ctx, "warp.yield", &H);
      auto *Park = llvm::BasicBlock::Create(Ctx, "warp.park", &H);
      auto *WarpEnd = llvm::BasicBlock::Create(Ctx, "warp.end", &H);
      B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), at(B, Parked, Warp)), B.getInt32(0)), WarpEnd, Go);
      B.SetInsertPoint(Go);
      GroupFirst = emitWarpFirst(B, Warp);
      CurrentWarp = Warp;
      B.CreateStore(B.CreateLoad(B.getInt32Ty(), at(B, WarpStates, Warp)), WarpState);
      B.CreateStore(B.CreateLoad(B.getInt32Ty(), at(B, Phases, Warp)), Phase);
      B.CreateBr(WarpDispatch);
      // Past a warp cut, the buffers swap: results are taken from the one the lanes put their values in.
      B.SetInsertPoint(WarpCut);
      B.CreateStore(B.CreateXor(B.CreateLoad(B.getInt32Ty(), Phase), 1), Phase);
      B.CreateBr(WarpDispatch);
      B.SetInsertPoint(Yield);
      B.CreateStore(B.CreateLoad(B.getInt32Ty(), WarpState), at(B, WarpStates, Warp));
      B.CreateStore(B.CreateLoad(B.getInt32Ty(), Phase), at(B, Phases, Warp));
      B.CreateStore(B.getInt32(1), Running);
      B.CreateBr(WarpEnd);
      B.SetInsertPoint(Park);
      B.CreateStore(B.getInt32(1), at(B, Parked, Warp));
      B.CreateBr(WarpEnd);
      B.SetInsertPoint(WarpDispatch);
      llvm::SwitchInst *Switch = B.CreateSwitch(B.CreateLoad(B.getInt32Ty(), WarpState), Park, Cuts.size() + 1);
      for (size_t R = 0; R <= Cuts.size(); ++R) {
        RegionPre = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R), &H);
        Switch->addCase(B.getInt32(R), RegionPre);
        B.SetInsertPoint(RegionPre);
        setExchangeBuffers(B, B.CreateLoad(B.getInt32Ty(), Phase));
        WarpResult = R > 0 ? emitWarpResult(B, Cuts[R - 1]) : nullptr;
        if (startsTogether(R))
          resetCounters(B);
        bool LoopCut = R > 0 && Cuts[R - 1].Kind == CutKind::Loop;
        unsigned Unroll = LoopCut ? lockstepUnroll(R) : 1;
        loadCounter(B, R, Unroll);
        llvm::Value *AllInLoop =
            LoopCut ? B.CreateICmpEQ(emitThreadsAt(B, R, GroupFirst, B.getInt32(32)), B.getInt32(32), "all.in.loop")
                    : nullptr;
        emitWarpLaneLoop(B, EngineCtx, ThreadCtx, Warp,
                         [&](llvm::IRBuilder<> &B, llvm::Value *Linear, llvm::Value *Lane) {
                           LaneIndex = Lane;
                           emitRegion(B, R, Linear, false, Unroll, AllInLoop);
                         });
        advanceCounter(B, R);
        // Every lane started the region together and it reaches one cut: no need to look at the lanes' states
        // (a warp sum's five shuffle regions; reduce_shuffle over 256K floats: 0.57-0.60 -> 0.43-0.51 ms).
        llvm::Value *Next = OnlyNext ? B.getInt32(*OnlyNext) : emitLowestState(B, GroupFirst, B.getInt32(32));
        B.CreateStore(Next, WarpState);
        emitWarpGoesOn(B, Next, WarpCut, Yield, Park);
      }
      B.SetInsertPoint(WarpEnd);
    });
    B.CreateBr(PassEnd);
    B.SetInsertPoint(PassEnd);
    auto *AllParked = llvm::BasicBlock::Create(Ctx, "warps.parked", &H);
    B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), Running), B.getInt32(0)), Pass, AllParked);
    B.SetInsertPoint(AllParked);
  }

  // Where a warp goes after a region, by its next state: on past a warp cut, yields at a loop cut, parks at a block
  // barrier (or when done).
  void emitWarpGoesOn(llvm::IRBuilder<> &B, llvm::Value *Next, llvm::BasicBlock *PastCut, llvm::BasicBlock *Yield,
                      llvm::BasicBlock *Park) {
    llvm::SwitchInst *After = B.CreateSwitch(Next, Park);
    for (size_t I = 0; I < Cuts.size(); ++I)
      if (isWarpCut(Cuts[I].Kind))
        After->addCase(B.getInt32(I + 1), PastCut);
      else if (Cuts[I].Kind == CutKind::Loop)
        After->addCase(B.getInt32(I + 1), Yield);
  }

  // The per-warp bookkeeping of a warp entry (buildWarpLoop): each warp's state, exchange phase and whether it is
  // parked, whether a warp yielded in this pass, and the number of warps.
  struct WarpArrays {
    llvm::Type *Ty; // [32 x i32]
    llvm::Value *States, *Phases, *Parked, *Running, *NumWarps;
    llvm::Value *at(llvm::IRBuilder<> &B, llvm::Value *Array, llvm::Value *Warp) const {
      return B.CreateInBoundsGEP(Ty, Array, {B.getInt32(0), Warp});
    }
  };

  // Sets a flag (an i32 alloca of the entry) to whether Pred holds for every warp.
  llvm::Value *emitAllWarps(llvm::IRBuilder<> &B, const WarpArrays &W, const char *Name,
                            llvm::function_ref<llvm::Value *(llvm::IRBuilder<> &, llvm::Value *Warp)> Pred) {
    B.CreateStore(B.getInt32(1), WarpAcc);
    emitCountedLoop(B, W.NumWarps, Name, [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      llvm::Value *Holds = B.CreateZExt(Pred(B, Warp), B.getInt32Ty());
      B.CreateStore(B.CreateAnd(B.CreateLoad(B.getInt32Ty(), WarpAcc), Holds), WarpAcc);
    });
    return B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), WarpAcc), B.getInt32(0), Name);
  }

  // At the start of a pass over the warps: when every warp is at the same loop cut, with the same exchange phase
  // and lockstep counter (a grid-stride loop that all warps entered together), the loop cut's lockstep pass runs
  // for the whole block as one thread loop instead of one lane loop per warp: the pass's fixed costs are paid
  // once, not per warp, and each of its iterations reads the block's whole piece of a grid-stride array at once
  // (a warp's is 128 bytes of floats). Each warp then goes on from the lowest state of its lanes, as after its
  // own pass: yields at the loop cut, parks at a block barrier, or (past a warp cut) runs on in this pass's loop
  // over the warps, EachWarp; PassEnd when no warp needs it. The copies come out of the unroll budget.
  void emitBlockLockstepPasses(llvm::IRBuilder<> &B, const WarpArrays &W, llvm::BasicBlock *EachWarp,
                               llvm::BasicBlock *PassEnd) {
    llvm::Value *Zero = B.getInt32(0);
    llvm::Value *S0 = B.CreateLoad(B.getInt32Ty(), W.at(B, W.States, Zero), "state0");
    llvm::Value *P0 = B.CreateLoad(B.getInt32Ty(), W.at(B, W.Phases, Zero), "phase0");
    llvm::Value *Same = emitAllWarps(B, W, "warps.same", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      llvm::Value *State = B.CreateLoad(B.getInt32Ty(), W.at(B, W.States, Warp));
      llvm::Value *Phase = B.CreateLoad(B.getInt32Ty(), W.at(B, W.Phases, Warp));
      llvm::Value *Parked = B.CreateLoad(B.getInt32Ty(), W.at(B, W.Parked, Warp));
      return B.CreateAnd(B.CreateAnd(B.CreateICmpEQ(State, S0), B.CreateICmpEQ(Phase, P0)),
                         B.CreateICmpEQ(Parked, B.getInt32(0)));
    });
    auto *Check = llvm::BasicBlock::Create(Ctx, "warps.together", &H);
    B.CreateCondBr(Same, Check, EachWarp);
    B.SetInsertPoint(Check);
    llvm::SwitchInst *Switch = B.CreateSwitch(S0, EachWarp);
    for (size_t R = 1; R <= Cuts.size(); ++R) {
      if (Cuts[R - 1].Kind != CutKind::Loop)
        continue;
      unsigned Unroll = lockstepUnroll(R);
      size_t Cost = regionSize(R) * Unroll;
      if (Cost > UnrollBudget)
        continue;
      UnrollBudget -= Cost;
      RegionPre = llvm::BasicBlock::Create(Ctx, "block.region" + llvm::Twine(R), &H);
      Switch->addCase(B.getInt32(R), RegionPre);
      B.SetInsertPoint(RegionPre);
      if (Counters.count(R)) { // the warps' counters must agree too
        llvm::AllocaInst *Counter = Counters.at(R).second;
        auto counterOf = [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
          return B.CreateInBoundsGEP(Counter->getAllocatedType(), Counter, {B.getInt32(0), Warp});
        };
        llvm::Type *Ty = Counters.at(R).first->getAllocatedType();
        llvm::Value *K0 = B.CreateLoad(Ty, counterOf(B, Zero));
        llvm::Value *Agree = emitAllWarps(B, W, "warps.same.k", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
          return B.CreateICmpEQ(B.CreateLoad(Ty, counterOf(B, Warp)), K0);
        });
        auto *Run = llvm::BasicBlock::Create(Ctx, "block.region" + llvm::Twine(R) + ".run", &H);
        B.CreateCondBr(Agree, Run, EachWarp);
        B.SetInsertPoint(Run);
      }
      GroupFirst = B.getInt64(0);
      CurrentWarp = Zero;
      setExchangeBuffers(B, P0);
      WarpResult = nullptr;
      loadCounter(B, R, Unroll);
      llvm::Value *ThreadCount = B.CreateTrunc(Threads, B.getInt32Ty());
      llvm::Value *AllInLoop =
          B.CreateICmpEQ(emitThreadsAt(B, R, GroupFirst, ThreadCount), ThreadCount, "all.in.loop");
      emitThreadLoops(B, EngineCtx, ThreadCtx, [&](llvm::IRBuilder<> &B, llvm::Value *Linear) {
        LaneIndex = B.CreateAnd(Linear, 31);
        emitRegion(B, R, Linear, false, Unroll, AllInLoop);
      });
      llvm::Value *K = LockstepK;
      LockstepK = nullptr;
      B.CreateStore(Zero, Flag);
      emitCountedLoop(B, W.NumWarps, "warp.next", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
        if (K)
          B.CreateStore(B.CreateAdd(K, llvm::ConstantInt::get(K->getType(), Unroll)),
                        B.CreateInBoundsGEP(Counters.at(R).second->getAllocatedType(), Counters.at(R).second,
                                            {B.getInt32(0), Warp}));
        llvm::Value *First = emitWarpFirst(B, Warp);
        llvm::Value *Next = emitLowestState(B, First, B.getInt32(32));
        B.CreateStore(Next, W.at(B, W.States, Warp));
        auto *Park = llvm::BasicBlock::Create(Ctx, "warp.next.park", &H);
        auto *Yield = llvm::BasicBlock::Create(Ctx, "warp.next.yield", &H);
        auto *PastCut = llvm::BasicBlock::Create(Ctx, "warp.next.cut", &H);
        auto *Joined = llvm::BasicBlock::Create(Ctx, "warp.next.done", &H);
        emitWarpGoesOn(B, Next, PastCut, Yield, Park);
        B.SetInsertPoint(Park);
        B.CreateStore(B.getInt32(1), W.at(B, W.Parked, Warp));
        B.CreateBr(Joined);
        B.SetInsertPoint(Yield);
        B.CreateStore(B.getInt32(1), W.Running);
        B.CreateBr(Joined);
        // Past a warp cut the buffers swap, as in the warp's own loop; the warp runs on in EachWarp.
        B.SetInsertPoint(PastCut);
        B.CreateStore(B.CreateXor(P0, 1), W.at(B, W.Phases, Warp));
        B.CreateStore(B.getInt32(1), Flag);
        B.CreateBr(Joined);
        B.SetInsertPoint(Joined);
      });
      B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), Flag), Zero), EachWarp, PassEnd);
    }
  }

  // A vote's or redux's result from the values the warp's lanes put before cut C (the same for every lane),
  // computed once before the lanes run; null for other cuts.
  llvm::Value *emitWarpResult(llvm::IRBuilder<> &B, const Cut &C) {
    if (C.Kind != CutKind::Vote && C.Kind != CutKind::Redux)
      return nullptr;
    uint32_t Identity = 0;
    if (C.Kind == CutKind::Redux && C.Op == 1)
      Identity = 0x7fffffffu; // min
    else if (C.Kind == CutKind::Redux && C.Op == 2)
      Identity = 0x80000000u; // max
    else if (C.Kind == CutKind::Redux && (C.Op == 3 || C.Op == 5))
      Identity = ~0u; // umin, and
    auto combine = [&](llvm::IRBuilder<> &B, llvm::Value *Acc, llvm::Value *V, llvm::Value *Lane) -> llvm::Value * {
      if (C.Kind == CutKind::Vote)
        return B.CreateOr(Acc, B.CreateShl(B.CreateZExt(B.CreateICmpNE(V, B.getInt32(0)), B.getInt32Ty()), Lane));
      switch (C.Op) {
      case 0:
        return B.CreateAdd(Acc, V);
      case 1:
        return B.CreateBinaryIntrinsic(llvm::Intrinsic::smin, Acc, V);
      case 2:
        return B.CreateBinaryIntrinsic(llvm::Intrinsic::smax, Acc, V);
      case 3:
        return B.CreateBinaryIntrinsic(llvm::Intrinsic::umin, Acc, V);
      case 4:
        return B.CreateBinaryIntrinsic(llvm::Intrinsic::umax, Acc, V);
      case 5:
        return B.CreateAnd(Acc, V);
      case 6:
        return B.CreateOr(Acc, V);
      default:
        return B.CreateXor(Acc, V);
      }
    };
    llvm::Value *Acc = emitFold(B, TakeFrom, GroupFirst, B.getInt32(32), Identity, "warp.result", combine);
    if (C.Kind == CutKind::Redux)
      return Acc;
    llvm::Value *All = B.CreateICmpEQ(Acc, B.getInt32(~0u)), *None = B.CreateICmpEQ(Acc, B.getInt32(0));
    switch (C.Op) {
    case CUSHIM_VOTE_ALL:
      return B.CreateZExt(All, B.getInt32Ty());
    case CUSHIM_VOTE_ANY:
      return B.CreateZExt(B.CreateNot(None), B.getInt32Ty());
    case CUSHIM_VOTE_UNI:
      return B.CreateZExt(B.CreateOr(All, None), B.getInt32Ty());
    default:
      return Acc; // ballot
    }
  }

  // shfl.sync over a whole warp (EngineFiber.cpp's shuffle() for a warp whose 32 lanes all take part): the source
  // lane from mode, b and c (clamp value in bits 4:0, segment mask in bits 12:8); an out-of-range source reads the
  // lane's own value. Take is the stand-in call (mode, b, c, in_range).
  llvm::Value *emitShuffle(llvm::IRBuilder<> &B, llvm::CallBase &Take) {
    auto Mode = llvm::cast<llvm::ConstantInt>(Take.getArgOperand(0))->getZExtValue();
    llvm::Value *BVal = B.CreateAnd(Take.getArgOperand(1), 31), *C = Take.getArgOperand(2);
    llvm::Value *CVal = B.CreateAnd(C, 31), *Seg = B.CreateAnd(B.CreateLShr(C, 8), 31);
    llvm::Value *L = LaneIndex;
    llvm::Value *MaxLane = B.CreateOr(B.CreateAnd(L, Seg), B.CreateAnd(CVal, B.CreateNot(Seg)));
    llvm::Value *J = nullptr, *InRange = nullptr;
    switch (Mode) {
    case CUSHIM_SHFL_UP:
      J = B.CreateSub(L, BVal);
      InRange = B.CreateICmpSGE(J, MaxLane);
      break;
    case CUSHIM_SHFL_DOWN:
      J = B.CreateAdd(L, BVal);
      InRange = B.CreateICmpSLE(J, MaxLane);
      break;
    case CUSHIM_SHFL_BFLY:
      J = B.CreateXor(L, BVal);
      InRange = B.CreateICmpSLE(J, MaxLane);
      break;
    default: // CUSHIM_SHFL_IDX
      J = B.CreateOr(B.CreateAnd(L, Seg), B.CreateAnd(BVal, B.CreateNot(Seg)));
      InRange = B.CreateICmpSLE(J, MaxLane);
      break;
    }
    // In range, the source is a lane of the warp (0..31); out of range, J is within 31 of one (the padding), and
    // the lane reads its own value. Both reads are unconditional: up and down read consecutive lanes.
    auto read = [&](llvm::Value *Lane) {
      llvm::Value *Index = B.CreateAdd(GroupFirst, B.CreateSExt(Lane, B.getInt64Ty()));
      return B.CreateLoad(B.getInt32Ty(), B.CreateGEP(B.getInt32Ty(), TakeFrom, Index));
    };
    llvm::Value *Result = B.CreateSelect(InRange, read(J), read(L));
    llvm::Value *InRangeOut = Take.getArgOperand(3);
    if (!llvm::isa<llvm::ConstantPointerNull>(InRangeOut))
      B.CreateStore(B.CreateZExt(InRange, B.getInt32Ty()), InRangeOut);
    return Result;
  }

  // The warp collectives' stand-ins of a region's clones, replaced by accesses to the exchange buffers.
  void replaceStandIns(const std::vector<llvm::BasicBlock *> &Clones, llvm::Value *Thread) {
    for (llvm::BasicBlock *Clone : Clones)
      for (llvm::Instruction &I : llvm::make_early_inc_range(*Clone)) {
        auto *Call = llvm::dyn_cast<llvm::CallInst>(&I);
        llvm::Function *Callee = Call ? Call->getCalledFunction() : nullptr;
        if (!Callee)
          continue;
        llvm::IRBuilder<> B(Call);
        llvm::StringRef Name = Callee->getName();
        if (Name == PutName)
          B.CreateStore(Call->getArgOperand(0), B.CreateInBoundsGEP(B.getInt32Ty(), PutTo, Thread));
        else if (Name == ShuffleName)
          Call->replaceAllUsesWith(emitShuffle(B, *Call));
        else if (Name == WarpResultName)
          Call->replaceAllUsesWith(WarpResult);
        else
          continue;
        Call->eraseFromParent();
      }
  }

  // One thread's run of region R (from Start to the next cut or return) at B; B is left where the thread's run
  // ends, with the state for the next region stored.
  // AllHere (for a lockstep pass: an i1 computed before the thread loops, or null) says that every thread of the
  // group is at state R.
  void emitRegion(llvm::IRBuilder<> &B, size_t R, llvm::Value *Linear, bool Serial = false, unsigned Unroll = 1,
                  llvm::Value *AllHere = nullptr) {
    llvm::BasicBlock *Start = startOf(R);
    // Serial: the region of a loop cut loops back to its start instead of ending at its own cut, so each thread
    // runs the rest of its loop at once. Unroll: the region is there Unroll times, each copy going on to the
    // next at the loop cut, so each thread runs up to Unroll iterations of its loop in one pass.
    unsigned NumCopies = Serial ? 1 : Unroll;
    llvm::BasicBlock *OwnCut = Serial || NumCopies > 1 ? Cuts[R - 1].Wait : nullptr;
    llvm::BasicBlock *Body = B.GetInsertBlock();
    std::vector<std::unique_ptr<llvm::ValueToValueMapTy>> CopyMaps;
    for (unsigned C = 0; C < NumCopies; ++C)
      CopyMaps.push_back(std::make_unique<llvm::ValueToValueMapTy>());
    llvm::ValueToValueMapTy &VMap = *CopyMaps.front();
    // What every copy maps alike (arguments, slots, exits); the copies' own blocks and values come on top.
    std::vector<std::pair<llvm::Value *, llvm::Value *>> Shared;
    auto share = [&](llvm::Value *From, llvm::Value *To) {
      VMap[From] = To;
      Shared.emplace_back(From, To);
    };
    share(G.getArg(0), H.getArg(0));
    share(G.getArg(1), ThreadCtx);
    llvm::Value *Thread = B.CreateZExt(Linear, B.getInt64Ty());

    std::map<llvm::BasicBlock *, size_t> CutAt;
    for (size_t I = 0; I < Cuts.size(); ++I)
      CutAt[Cuts[I].Wait] = I;
    std::vector<llvm::BasicBlock *> Blocks = regionBlocks(R);
    BlockSet InRegion(Blocks.begin(), Blocks.end());
    // Where this thread's copy of each alloca the region uses lives (a kernel with many cuts has many slots, and
    // each region uses few of them).
    std::vector<std::pair<llvm::AllocaInst *, llvm::Value *>> ArenaSlots;
    for (llvm::BasicBlock *BB : Blocks)
      for (llvm::Instruction &I : *BB)
        for (llvm::Value *Op : I.operands()) {
          auto *A = llvm::dyn_cast<llvm::AllocaInst>(Op);
          auto It = A ? Homes.find(A) : Homes.end();
          if (It == Homes.end() || VMap.count(A))
            continue;
          const AllocaHome &Home = It->second;
          if (!Home.InArena) {
            share(A, Home.Local);
            continue;
          }
          llvm::Value *Start;
          if (sharedSlot(A)) {
            llvm::IRBuilder<> Pre(RegionPre->getTerminator());
            Start = Pre.CreateInBoundsGEP(Pre.getInt8Ty(), Arena, Pre.CreateMul(Threads, Pre.getInt64(Home.Start)),
                                          A->getName());
          } else {
            llvm::Value *Offset = B.CreateAdd(B.CreateMul(Threads, B.getInt64(Home.Start)),
                                              B.CreateMul(Thread, B.getInt64(Home.Size)), "", true, true);
            Start = B.CreateInBoundsGEP(B.getInt8Ty(), Arena, Offset, A->getName());
          }
          share(A, Start);
          ArrayStarts[Home.Start].emplace_back(Start);
          ArenaSlots.emplace_back(A, Start);
        }
    llvm::BasicBlock *End = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".end", &H);
    B.SetInsertPoint(End);
    llvm::PHINode *Next = B.CreatePHI(B.getInt32Ty(), 2, "next");
    // A cut ends the region: the thread goes on with the region after it.
    for (auto &[Wait, I] : CutAt) {
      if (Serial && Wait == OwnCut)
        continue;
      auto *Exit = llvm::BasicBlock::Create(Ctx, "to.region" + llvm::Twine(I + 1), &H);
      llvm::BranchInst::Create(End, Exit);
      Next->addIncoming(llvm::ConstantInt::get(B.getInt32Ty(), I + 1), Exit);
      share(Wait, Exit);
    }

    std::vector<llvm::BasicBlock *> Clones;
    for (unsigned C = 0; C < NumCopies; ++C) {
      llvm::ValueToValueMapTy &CopyMap = *CopyMaps[C];
      if (C > 0)
        for (auto &[From, To] : Shared)
          CopyMap[From] = To;
      for (llvm::BasicBlock *BB : Blocks) {
        // Paths from outside the region (a loop entered before a cut) do not exist here.
        llvm::BasicBlock *Clone = llvm::CloneBasicBlock(
            BB, CopyMap, ".r" + llvm::Twine(R) + (C > 0 ? "." + llvm::Twine(C) : llvm::Twine()), &H);
        for (llvm::PHINode &Phi : llvm::make_early_inc_range(Clone->phis()))
          for (unsigned I = Phi.getNumIncomingValues(); I-- > 0;)
            if (!InRegion.count(Phi.getIncomingBlock(I)))
              Phi.removeIncomingValue(I, /*DeletePHIIfEmpty=*/false);
        CopyMap[BB] = Clone;
        Clones.push_back(Clone);
      }
    }
    for (unsigned C = 0; C < NumCopies; ++C) {
      llvm::ValueToValueMapTy &CopyMap = *CopyMaps[C];
      if (Serial)
        CopyMap[OwnCut] = CopyMap[Start];
      else if (OwnCut && C + 1 < NumCopies)
        CopyMap[OwnCut] = (*CopyMaps[C + 1])[Start];
      for (llvm::BasicBlock *BB : Blocks) {
        auto *Clone = llvm::cast<llvm::BasicBlock>(static_cast<llvm::Value *>(CopyMap[BB]));
        for (llvm::Instruction &I : *Clone)
          llvm::RemapInstruction(&I, CopyMap, llvm::RF_NoModuleLevelChanges | llvm::RF_IgnoreMissingLocals);
        if (auto *Ret = llvm::dyn_cast<llvm::ReturnInst>(Clone->getTerminator())) {
          Ret->eraseFromParent();
          llvm::BranchInst::Create(End, Clone);
          Next->addIncoming(llvm::ConstantInt::getSigned(B.getInt32Ty(), DoneState), Clone);
        }
      }
    }
    // Exits to cuts this region cannot reach are dropped.
    for (auto &[Wait, I] : CutAt) {
      if (Serial && Wait == OwnCut)
        continue;
      auto *Exit = llvm::cast<llvm::BasicBlock>(static_cast<llvm::Value *>(VMap[Wait]));
      if (llvm::pred_empty(Exit)) {
        Next->removeIncomingValue(Exit, false);
        Exit->eraseFromParent();
      }
    }
    OnlyNext.reset();
    if (auto *Same = llvm::dyn_cast_or_null<llvm::ConstantInt>(Next->hasConstantValue());
        Same && startsTogether(R) && !Serial)
      OnlyNext = static_cast<uint32_t>(Same->getZExtValue());
    if (Exchanges)
      replaceStandIns(Clones, Thread);
    if (startsTogether(R))
      readUniformSlotsOnce(Clones, VMap);
    if (LockstepK && !Serial && VMap.count(Counters.at(R).first))
      for (llvm::LoadInst *Load : readsBeforeStores(Clones, VMap[Counters.at(R).first])) {
        Load->replaceAllUsesWith(LockstepK);
        Load->eraseFromParent();
      }
    B.SetInsertPoint(Body);
    auto *First = llvm::cast<llvm::BasicBlock>(static_cast<llvm::Value *>(VMap[Start]));
    // Without loop or warp cuts every thread goes on to the same cut (the barriers are uniform), and the block's
    // next state is thread 0's: every thread stores it to the same place, which the loop stores once.
    llvm::Value *MyState = sharedNextState() ? NextStates : B.CreateInBoundsGEP(B.getInt32Ty(), NextStates, Thread);
    std::vector<std::pair<llvm::Value *, llvm::AllocaInst *>> Copies = copySlotsWritten(B, ArenaSlots);
    llvm::BasicBlock *Join = End;
    llvm::Value *Before = nullptr;
    if (LoopCuts && !startsTogether(R)) {
      // Only the threads at this region's state run it; the others are further on (or still in a loop). A region
      // that every thread starts together needs no check: its cut waited for all threads (or all lanes of the
      // warp), which are then all at its state.
      Join = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".next", &H);
      Before = B.CreateLoad(B.getInt32Ty(), MyState);
      llvm::Value *Here = B.CreateICmpEQ(Before, B.getInt32(R));
      llvm::BranchInst *Br = B.CreateCondBr(AllHere ? B.CreateLogicalOr(AllHere, Here) : Here, First, Join);
      if (AllHere) {
        markStaying(*Br, true);
        Br->setMetadata(LockstepStateCheck, llvm::MDNode::get(Ctx, {}));
        markLoopExits(R, CopyMaps);
      }
    } else {
      B.CreateBr(First);
    }
    if (Join != End) {
      B.SetInsertPoint(End);
      B.CreateBr(Join);
      B.SetInsertPoint(Join);
      llvm::PHINode *Merged = B.CreatePHI(B.getInt32Ty(), 2, "next");
      Merged->addIncoming(Before, Body);
      Merged->addIncoming(Next, End);
      Next = Merged;
    } else {
      B.SetInsertPoint(End);
    }
    // Per thread, not in one variable: a value carried from iteration to iteration would keep the vectoriser off
    // the thread loop. Stored by every thread, like the slot copies.
    B.CreateStore(Next, MyState);
    for (auto &[Slot, Copy] : Copies)
      B.CreateStore(B.CreateLoad(Copy->getAllocatedType(), Copy), Slot);
  }

  // The region works on a local copy of each arena slot it writes, read at the start and written back at the end
  // by every thread of the thread loop, also those that do not run the region (they write back what they read).
  // The copies become registers, and the slots' loads and stores become unconditional for the vectoriser: masked
  // stores would be slow (microcoded on AMD's Zen), and a loop cut's serial path keeps its values in registers.
  // Only slots that the region reads and writes whole (demoted values, not arrays of local memory) are copied.
  // Returns (slot, copy) pairs; B is at the start of the thread's run, before the check of its state.
  std::vector<std::pair<llvm::Value *, llvm::AllocaInst *>>
  copySlotsWritten(llvm::IRBuilder<> &B, const std::vector<std::pair<llvm::AllocaInst *, llvm::Value *>> &Slots) {
    std::vector<std::pair<llvm::Value *, llvm::AllocaInst *>> Copies;
    for (auto &[A, Slot] : Slots) {
      llvm::Type *Ty = A->getAllocatedType();
      bool Written = false, Whole = Ty->isSingleValueType();
      for (llvm::User *U : Slot->users()) {
        if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(U))
          Whole &= Load->getType() == Ty && Load->isSimple();
        else if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(U))
          Written = true, Whole &= Store->getPointerOperand() == Slot &&
                                   Store->getValueOperand()->getType() == Ty && Store->isSimple();
        else
          Whole = false;
      }
      if (!Written || !Whole)
        continue;
      llvm::IRBuilder<> Entry(&H.getEntryBlock(), H.getEntryBlock().begin());
      llvm::AllocaInst *Copy = Entry.CreateAlloca(Ty, nullptr, A->getName() + ".copy");
      Slot->replaceAllUsesWith(Copy);
      // A shared uniform slot is read once, before the thread loop: each thread then starts from the value the
      // slot had when the region began, not from what the thread before it wrote back.
      llvm::Value *Initial = nullptr;
      if (sharedSlot(A)) {
        llvm::IRBuilder<> Pre(RegionPre->getTerminator());
        Initial = Pre.CreateLoad(Ty, Slot, A->getName() + ".uniform");
      } else {
        Initial = B.CreateLoad(Ty, Slot);
      }
      B.CreateStore(Initial, Copy);
      Copies.emplace_back(Slot, Copy);
    }
    return Copies;
  }

  // A uniform slot holds the same value in every thread when a region starts (the threads all stored the same
  // value before the cut). Its reads that no store of the region can precede take the value of the group's first
  // thread (thread 0, or the warp's first lane: other warps may be past later cuts) once, before the thread loops:
  // the value, and the branches on it, become loop-invariant for the vectoriser.
  void readUniformSlotsOnce(const std::vector<llvm::BasicBlock *> &Clones, llvm::ValueToValueMapTy &VMap) {
    for (auto &[A, Home] : Homes) {
      if (!Home.Uniform || !VMap.count(A)) // not a uniform slot, or not one this region uses
        continue;
      llvm::IRBuilder<> Pre(RegionPre->getTerminator());
      llvm::Value *Thread0 = nullptr;
      llvm::Value *First = sharedSlot(A) ? Pre.getInt64(0) : GroupFirst;
      for (llvm::LoadInst *Load : readsBeforeStores(Clones, VMap[A])) {
        if (!Thread0)
          Thread0 = Pre.CreateInBoundsGEP(Pre.getInt8Ty(), Arena,
                                          Pre.CreateAdd(Pre.CreateMul(Threads, Pre.getInt64(Home.Start)),
                                                        Pre.CreateMul(First, Pre.getInt64(Home.Size))),
                                          A->getName() + ".first");
        Load->replaceAllUsesWith(Pre.CreateLoad(Load->getType(), Thread0, A->getName() + ".uniform"));
        Load->eraseFromParent();
      }
    }
  }

  // The reads of Slot in a region's clones that no store of the region to Slot can precede: they read what the
  // thread had when the region started.
  static std::vector<llvm::LoadInst *> readsBeforeStores(const std::vector<llvm::BasicBlock *> &Clones,
                                                         llvm::Value *Slot) {
    BlockSet Stored;
    for (llvm::BasicBlock *BB : Clones)
      for (llvm::Instruction &I : *BB)
        if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && Store->getPointerOperand() == Slot)
          Stored.insert(BB);
    BlockSet AfterStore = reachableFrom(Stored);
    std::vector<llvm::LoadInst *> Loads;
    for (llvm::BasicBlock *BB : Clones) {
      if (AfterStore.count(BB))
        continue;
      for (llvm::Instruction &I : *BB) {
        if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && Store->getPointerOperand() == Slot)
          break; // later reads in this block see this thread's own store
        if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && Load->getPointerOperand() == Slot)
          Loads.push_back(Load);
      }
    }
    return Loads;
  }

  llvm::Function &G;
  llvm::Function &H;
  const std::vector<Cut> &Cuts;
  std::map<llvm::AllocaInst *, AllocaHome> &Homes;
  uint64_t ArenaBytesPerThread;
  bool WarpCuts, WarpRegions, LoopCuts;
  bool Exchanges = false;                 // a warp cut exchanges values (a shuffle, vote or redux, not a warp step)
  llvm::AllocaInst *WarpPhases = nullptr; // WarpRegions with exchanges: each warp's exchange phase
  const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots;
  llvm::LLVMContext &Ctx;
  // Per loop cut (by region) with a lockstep counter: the threads' slot of its iteration counter, and the entry's
  // counter (one, or one per warp).
  std::map<size_t, std::pair<llvm::AllocaInst *, llvm::AllocaInst *>> Counters;
  size_t Original = 0;     // instructions of the working copy
  size_t UnrollBudget = 0; // instructions that lockstep passes may still add as copies of their regions
  std::map<size_t, unsigned> UnrollOf; // lockstepUnroll's choice per loop cut
  llvm::BasicBlock *RegionStart = nullptr, *Done = nullptr;
  llvm::Value *EngineCtx = nullptr, *ThreadCtx = nullptr, *Threads = nullptr, *Arena = nullptr,
              *NextStates = nullptr, *Exchange = nullptr;
  llvm::AllocaInst *State = nullptr, *WarpState = nullptr, *Phase = nullptr, *WarpAcc = nullptr, *Flag = nullptr;
  // The region being built: the block before its thread loops, the linear index of its group's first thread
  // (i64), and with warp cuts the lane (i32), the exchange buffers and a vote's or redux's result.
  llvm::BasicBlock *RegionPre = nullptr;
  llvm::Value *GroupFirst = nullptr, *LaneIndex = nullptr, *TakeFrom = nullptr, *PutTo = nullptr,
              *WarpResult = nullptr;
  // With warp cuts, the warp being run (i32); in a lockstep pass with a counter, the counter's value.
  llvm::Value *CurrentWarp = nullptr, *LockstepK = nullptr;
  unsigned CounterStep = 1; // the iterations a lockstep pass runs
  // The state every thread of the group goes on with after the region just emitted, when that is known before it
  // runs: a region that all threads start together and that reaches one cut (or only returns).
  std::optional<uint32_t> OnlyNext;
};

} // namespace

bool buildRegions(llvm::Function &G, llvm::Function &Entry, const std::vector<Cut> &Cuts,
                  std::map<llvm::AllocaInst *, AllocaHome> &Homes, uint64_t ArenaBytesPerThread, bool WarpCuts,
                  bool WarpRegions, bool LoopCuts, const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots,
                  llvm::BasicBlock *Start) {
  return RegionBuilder(G, Entry, Cuts, Homes, ArenaBytesPerThread, WarpCuts, WarpRegions, LoopCuts, CounterSlots)
      .build(Start);
}

} // namespace cushim::ptx::region
