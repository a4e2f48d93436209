// Region entries (engine tier T1, block regions): for a kernel whose only waits are block-wide barriers that every
// thread of the block reaches together, one call of __cushim_region_NAME runs the whole block without switching
// between threads. The kernel is cut at its barriers into regions; each region runs as a loop over the block's
// threads (as a flat entry runs the whole kernel), and the regions follow each other as the barriers dictate:
//
//   state = 0
//   while (state != done)
//     for each thread t (tid.z, tid.y, tid.x):   // region `state`, from its start to the next barrier or return
//       run the region's code for t; next = the region after the barrier it reached (done after a return)
//     state = next                              // the same for every thread: the barriers are uniform
//
// Running every thread up to a barrier before any thread passes it is exactly bar.sync's guarantee. Values that
// live across a barrier are recomputed where they are used when cheap (addresses from tid and the parameters);
// the others are kept per thread in a block arena (one array per value, indexed by the thread, so a region's loop
// can be vectorised like a flat entry), and those every thread has alike are read once per region. Local memory
// that lives across a barrier is in the arena too; shared-memory atomics need no atomicity (one OS thread).
//
// The cut is only correct when all threads reach the same barriers in the same order, so the kernel must pass
// BlockUniformity: every barrier sits where no divergent branch decides whether it runs. Kernels with warp
// collectives, bar.arrive/bar.red, barriers with thread counts, spin loops or exits from device functions get the
// coroutine entry (CoroutineEntry.cpp) or stay on fibers.
#include "ptx_translate/RegionEntry.h"

#include "ptx_translate/BlockEntry.h"
#include "ptx_translate/BlockUniformity.h"
#include "ptx_translate/WaitCalls.h"
#include "support/Log.h"

#include "cuda_shim/hal.h"
#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/LowerAtomic.h>
#include <llvm/Transforms/Utils/PromoteMemToReg.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <cstddef>
#include <map>
#include <set>
#include <vector>

namespace cushim::ptx {

namespace {

constexpr uint32_t NonRegionFlags =
    CUSHIM_HAL_KERNEL_USES_WARP_OPS | CUSHIM_HAL_KERNEL_USES_GRID_SYNC | CUSHIM_HAL_KERNEL_MAY_SPIN;
// Regions may duplicate code (a loop with a barrier inside is entered from before the loop and after the barrier);
// past this factor over the kernel's size the entry is not worth its compile time.
constexpr size_t MaxCloneFactor = 8;
constexpr int32_t DoneState = -1;
// The liveness walks are quadratic in the kernel's size; past this many instructions the kernel keeps coroutines.
constexpr size_t MaxKernelInstructions = 20000;

using BlockSet = std::set<llvm::BasicBlock *>;

// A barrier of the working copy: the block that held it (now empty but for its branch) and where threads go on.
struct Barrier {
  llvm::BasicBlock *Wait;
  llvm::BasicBlock *Continue;
};

// Where a per-thread alloca of the working copy lives in the region entry.
struct AllocaHome {
  bool InArena = false;
  bool Uniform = false; // arena: a demoted value that is the same in every thread (UniformSlots)
  uint64_t Start = 0; // arena: the array of all threads' copies begins at Start * thread count
  uint64_t Size = 0;  // arena: bytes per thread (a multiple of the alignment)
  llvm::AllocaInst *Local = nullptr; // not in the arena: one alloca of the entry, reused by every thread
};

// Only barriers of the whole block (bar.sync / barrier.sync without a thread count) cut regions.
bool isBlockBarrier(const llvm::CallBase &Call) {
  const WaitCall *W = waitCallOf(Call);
  if (!W || W->Kind != WaitKind::Barrier || W->Op != CUSHIM_CORO_BAR_SYNC)
    return false;
  auto *Count = llvm::dyn_cast<llvm::ConstantInt>(Call.getArgOperand(2));
  return Count && Count->isZero();
}

// The kernel body with every waiting device function inlined, in SSA form, in an internal function of its own.
llvm::Function *workingCopy(llvm::Module &M, llvm::Function &Kernel, const std::set<llvm::Function *> &Waiting) {
  auto *G = llvm::Function::Create(Kernel.getFunctionType(), llvm::GlobalValue::InternalLinkage,
                                   "__cushim_region_work." + Kernel.getName(), M);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(M.getContext(), "entry", G));
  llvm::CallInst *Call = B.CreateCall(&Kernel, {G->getArg(0), G->getArg(1)});
  B.CreateRetVoid();
  llvm::InlineFunctionInfo Info;
  if (!llvm::InlineFunction(*Call, Info).isSuccess() || !inlineWaitingCalls(*G, Waiting)) {
    G->eraseFromParent();
    return nullptr;
  }
  std::vector<llvm::AllocaInst *> Promotable;
  for (llvm::Instruction &I : G->getEntryBlock())
    if (auto *A = llvm::dyn_cast<llvm::AllocaInst>(&I); A && llvm::isAllocaPromotable(A))
      Promotable.push_back(A);
  llvm::DominatorTree DT(*G);
  llvm::PromoteMemToReg(Promotable, DT);
  return G;
}

// Whether Ptr points into the block's shared memory: an offset from the context's shared_base.
bool isSharedAddress(const llvm::Value *Ptr, const llvm::Function &G) {
  const auto *Base = llvm::dyn_cast<llvm::LoadInst>(llvm::getUnderlyingObject(Ptr));
  if (!Base)
    return false;
  const llvm::DataLayout &DL = G.getParent()->getDataLayout();
  llvm::APInt Offset(DL.getIndexTypeSizeInBits(Base->getPointerOperandType()), 0);
  const llvm::Value *Field = Base->getPointerOperand()->stripAndAccumulateConstantOffsets(DL, Offset, true);
  return Field == G.getArg(1) && Offset == offsetof(cushim_thread_ctx, shared_base);
}

// A region entry runs its block on one OS thread from start to end, and nothing outside the block sees its
// shared memory: atomics on shared memory need no atomicity there, and plain reads and writes (no locked
// instructions) give the same results.
void relaxSharedAtomics(llvm::Function &G) {
  std::vector<llvm::Instruction *> Atomics;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *RMW = llvm::dyn_cast<llvm::AtomicRMWInst>(&I); RMW && isSharedAddress(RMW->getPointerOperand(), G))
      Atomics.push_back(RMW);
    else if (auto *CAS = llvm::dyn_cast<llvm::AtomicCmpXchgInst>(&I); CAS && isSharedAddress(CAS->getPointerOperand(), G))
      Atomics.push_back(CAS);
  for (llvm::Instruction *I : Atomics) {
    if (auto *RMW = llvm::dyn_cast<llvm::AtomicRMWInst>(I))
      llvm::lowerAtomicRMWInst(RMW);
    else
      llvm::lowerAtomicCmpXchgInst(llvm::cast<llvm::AtomicCmpXchgInst>(I));
  }
}

// Cuts the working copy at its barriers (false if a wait is not a uniform block barrier). Each barrier call is
// removed; its block keeps only a branch to the continuation.
bool cutAtBarriers(llvm::Function &G, std::vector<Barrier> &Barriers, std::set<llvm::Value *> &UniformValues) {
  std::vector<llvm::CallBase *> Waits;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I); Call && waitCallOf(*Call))
      Waits.push_back(Call);
  BlockUniformity Uniformity(G, G.getArg(0), G.getArg(1));
  for (llvm::CallBase *Call : Waits)
    if (!isBlockBarrier(*Call) || !Uniformity.isUniform(Call->getParent()))
      return false;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (Uniformity.isUniform(&I))
      UniformValues.insert(&I);
  for (llvm::CallBase *Call : Waits) {
    llvm::BasicBlock *Wait = Call->getParent()->splitBasicBlock(Call, "barrier");
    llvm::BasicBlock *Continue = Wait->splitBasicBlock(Call->getNextNode(), "barrier.next");
    Call->eraseFromParent();
    Barriers.push_back({Wait, Continue});
  }
  return true;
}

// Blocks where I's value is live on entry (I is not an alloca).
BlockSet liveInBlocks(llvm::Instruction &I) {
  BlockSet LiveIn;
  llvm::BasicBlock *Def = I.getParent();
  std::vector<llvm::BasicBlock *> Work;
  for (llvm::Use &U : I.uses()) {
    auto *User = llvm::cast<llvm::Instruction>(U.getUser());
    llvm::BasicBlock *UseBlock =
        llvm::isa<llvm::PHINode>(User) ? llvm::cast<llvm::PHINode>(User)->getIncomingBlock(U) : User->getParent();
    if (UseBlock != Def) // a use in the defining block (or a phi fed from it) needs no live-in value
      Work.push_back(UseBlock);
  }
  while (!Work.empty()) {
    llvm::BasicBlock *BB = Work.back();
    Work.pop_back();
    if (BB == Def || !LiveIn.insert(BB).second)
      continue;
    for (llvm::BasicBlock *Pred : llvm::predecessors(BB))
      Work.push_back(Pred);
  }
  return LiveIn;
}

// Whether I's value lives across a barrier (it is live where a thread goes on after one).
bool livesAcrossBarrier(llvm::Instruction &I, const std::vector<Barrier> &Barriers) {
  if (llvm::isa<llvm::AllocaInst>(I) || I.getType()->isVoidTy() || I.use_empty())
    return false;
  BlockSet LiveIn = liveInBlocks(I);
  for (const Barrier &Bar : Barriers)
    if (LiveIn.count(Bar.Continue))
      return true;
  return false;
}

// Whether I can be computed again where it is used, instead of being kept per thread: arithmetic on constants,
// arguments and reads of the parameter buffer or the context (in a region entry the context is the running
// thread's private copy, so tid reads give that thread's coordinates). Budget bounds the expression's size.
bool isRecomputable(llvm::Instruction &I, const llvm::Function &G, unsigned &Budget) {
  if (Budget == 0 || llvm::isa<llvm::PHINode, llvm::AllocaInst>(I) || I.isTerminator() || I.mayHaveSideEffects())
    return false;
  --Budget;
  if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I)) {
    const llvm::Value *Base = llvm::getUnderlyingObject(Load->getPointerOperand());
    if (Load->isVolatile() || (Base != G.getArg(0) && Base != G.getArg(1)))
      return false;
  } else if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I)) {
    if (!Call->doesNotAccessMemory() || Call->isConvergent())
      return false;
  } else if (I.mayReadFromMemory()) {
    return false;
  }
  for (llvm::Value *Op : I.operands()) {
    if (auto *OpI = llvm::dyn_cast<llvm::Instruction>(Op)) {
      if (!isRecomputable(*OpI, G, Budget))
        return false;
    } else if (!llvm::isa<llvm::Argument, llvm::Constant, llvm::BasicBlock>(Op)) {
      return false;
    }
  }
  return true;
}

// A copy of I's expression tree (isRecomputable) inserted before Before.
llvm::Value *recompute(llvm::Instruction &I, llvm::Instruction *Before) {
  llvm::Instruction *Copy = I.clone();
  for (llvm::Use &Op : Copy->operands())
    if (auto *OpI = llvm::dyn_cast<llvm::Instruction>(Op.get()))
      Op.set(recompute(*OpI, Before));
  Copy->insertBefore(Before);
  return Copy;
}

// Makes every value that lives across a barrier local to the regions that use it, so that no region uses a value
// another region defined. Cheap values (addresses and indices computed from the thread's coordinates, the
// parameters and constants) are computed again where they are used, which keeps them visible to the vectoriser
// as functions of tid; the others move to an alloca (stored after the definition, loaded where used).
// UniformValues (from BlockUniformity) gives the slots that hold a value every thread has: UniformSlots.
void localiseValuesLiveAcrossBarriers(llvm::Function &G, const std::vector<Barrier> &Barriers,
                                      const std::set<llvm::Value *> &UniformValues,
                                      std::set<llvm::AllocaInst *> &UniformSlots) {
  constexpr unsigned MaxRecomputed = 24;
  std::vector<llvm::Instruction *> Recomputable;
  for (llvm::Instruction &I : llvm::instructions(G)) {
    unsigned Budget = MaxRecomputed;
    if (livesAcrossBarrier(I, Barriers) && isRecomputable(I, G, Budget))
      Recomputable.push_back(&I);
  }
  for (llvm::Instruction *I : Recomputable)
    for (llvm::Use &U : llvm::make_early_inc_range(I->uses())) {
      auto *User = llvm::cast<llvm::Instruction>(U.getUser());
      auto *Phi = llvm::dyn_cast<llvm::PHINode>(User);
      llvm::BasicBlock *UseBlock = Phi ? Phi->getIncomingBlock(U) : User->getParent();
      if (UseBlock != I->getParent()) // uses in I's own block never cross a barrier
        U.set(recompute(*I, Phi ? UseBlock->getTerminator() : User));
    }
  for (;;) {
    std::vector<llvm::Instruction *> Across;
    for (llvm::Instruction &I : llvm::instructions(G))
      if (livesAcrossBarrier(I, Barriers))
        Across.push_back(&I);
    if (Across.empty())
      return;
    for (llvm::Instruction *I : Across) {
      // A reload of a uniform slot (a demoted phi's) is uniform too.
      auto *Reload = llvm::dyn_cast<llvm::LoadInst>(I);
      auto *From = Reload ? llvm::dyn_cast<llvm::AllocaInst>(Reload->getPointerOperand()) : nullptr;
      bool Uniform = UniformValues.count(I) || (From && UniformSlots.count(From));
      llvm::AllocaInst *Slot = nullptr;
      if (auto *Phi = llvm::dyn_cast<llvm::PHINode>(I))
        Slot = llvm::DemotePHIToStack(Phi);
      else
        Slot = llvm::DemoteRegToStack(*I);
      if (Uniform && Slot)
        UniformSlots.insert(Slot);
    }
  }
}

// Blocks reachable from the successors of any block in From.
BlockSet reachableFrom(const BlockSet &From) {
  BlockSet Seen;
  std::vector<llvm::BasicBlock *> Work;
  for (llvm::BasicBlock *BB : From)
    Work.insert(Work.end(), llvm::succ_begin(BB), llvm::succ_end(BB));
  while (!Work.empty()) {
    llvm::BasicBlock *BB = Work.back();
    Work.pop_back();
    if (!Seen.insert(BB).second)
      continue;
    Work.insert(Work.end(), llvm::succ_begin(BB), llvm::succ_end(BB));
  }
  return Seen;
}

// The blocks that touch A's memory (through any pointer derived from it); false if its address is stored to
// memory, where it could be used from anywhere.
bool blocksUsing(llvm::AllocaInst &A, BlockSet &Blocks) {
  std::set<llvm::Value *> Seen;
  std::vector<llvm::Value *> Work{&A};
  while (!Work.empty()) {
    llvm::Value *V = Work.back();
    Work.pop_back();
    if (!Seen.insert(V).second)
      continue;
    for (llvm::User *U : V->users()) {
      auto *I = llvm::cast<llvm::Instruction>(U);
      Blocks.insert(I->getParent());
      if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(I); Store && Store->getValueOperand() == V)
        return false;
      if (!llvm::isa<llvm::LoadInst, llvm::StoreInst>(I) && !I->getType()->isVoidTy())
        Work.push_back(I);
    }
  }
  return true;
}

// Whether A's memory must survive a barrier: the barrier can be reached from a use of A and can reach one.
bool memoryLivesAcrossBarrier(llvm::AllocaInst &A, const std::vector<Barrier> &Barriers,
                        std::map<llvm::BasicBlock *, BlockSet> &Reach) {
  BlockSet Uses;
  if (!blocksUsing(A, Uses))
    return true;
  auto reach = [&](llvm::BasicBlock *BB) -> const BlockSet & {
    auto It = Reach.find(BB);
    if (It == Reach.end())
      It = Reach.emplace(BB, reachableFrom(BlockSet{BB})).first;
    return It->second;
  };
  for (const Barrier &Bar : Barriers) {
    bool Before = false, After = false;
    for (llvm::BasicBlock *U : Uses) {
      Before = Before || reach(U).count(Bar.Wait);
      After = After || reach(Bar.Wait).count(U);
    }
    if (Before && After)
      return true;
  }
  return false;
}

// Decides where each alloca of the working copy lives; false if one cannot be placed (a dynamic alloca, or an
// alignment above the arena's).
bool placeAllocas(llvm::Function &G, const std::vector<Barrier> &Barriers,
                  const std::set<llvm::AllocaInst *> &UniformSlots, std::map<llvm::AllocaInst *, AllocaHome> &Homes,
                  uint64_t &ArenaBytesPerThread) {
  const llvm::DataLayout &DL = G.getParent()->getDataLayout();
  std::map<llvm::BasicBlock *, BlockSet> Reach;
  ArenaBytesPerThread = 0;
  for (llvm::Instruction &I : llvm::instructions(G)) {
    auto *A = llvm::dyn_cast<llvm::AllocaInst>(&I);
    if (!A)
      continue;
    if (!A->isStaticAlloca() || A->getParent() != &G.getEntryBlock() || A->getAlign().value() > 64)
      return false;
    AllocaHome &H = Homes[A];
    if (!memoryLivesAcrossBarrier(*A, Barriers, Reach))
      continue;
    uint64_t Align = std::max<uint64_t>(A->getAlign().value(), 16);
    H.InArena = true;
    H.Uniform = UniformSlots.count(A) != 0;
    H.Size = llvm::alignTo(A->getAllocationSize(DL)->getFixedValue(), A->getAlign().value());
    H.Start = llvm::alignTo(ArenaBytesPerThread, Align);
    ArenaBytesPerThread = H.Start + H.Size;
  }
  ArenaBytesPerThread = llvm::alignTo(ArenaBytesPerThread, 16);
  // Lifetime markers only describe allocas; the arena copies are plain memory.
  std::vector<llvm::Instruction *> Markers;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *Marker = llvm::dyn_cast<llvm::LifetimeIntrinsic>(&I))
      if (auto *A = llvm::dyn_cast<llvm::AllocaInst>(llvm::getUnderlyingObject(Marker->getArgOperand(1)));
          A && Homes[A].InArena)
        Markers.push_back(Marker);
  for (llvm::Instruction *Marker : Markers)
    Marker->eraseFromParent();
  return true;
}

// Builds __cushim_region_NAME from the cut working copy G.
class RegionBuilder {
public:
  RegionBuilder(llvm::Function &G, llvm::Function &Entry, const std::vector<Barrier> &Barriers,
                std::map<llvm::AllocaInst *, AllocaHome> &Homes, uint64_t ArenaBytesPerThread)
      : G(G), H(Entry), Barriers(Barriers), Homes(Homes), ArenaBytesPerThread(ArenaBytesPerThread),
        Ctx(Entry.getContext()) {}

  // False when the regions would grow the code past MaxCloneFactor.
  bool build(llvm::BasicBlock *Start) {
    llvm::IRBuilder<> B(llvm::BasicBlock::Create(Ctx, "entry", &H));
    llvm::Value *EngineCtx = H.getArg(1);
    ThreadCtx = emitPrivateContext(B, EngineCtx);
    Threads = B.CreateZExt(emitBlockThreadCount(B, EngineCtx), B.getInt64Ty(), "threads");
    {
      // Like malloc's, the scratch memory is reachable through no other pointer the kernel has.
      llvm::AttributeList NoAliasResult =
          llvm::AttributeList().addRetAttribute(Ctx, llvm::Attribute::NoAlias);
      llvm::FunctionCallee Scratch = H.getParent()->getOrInsertFunction(
          "__cushim_block_scratch", llvm::FunctionType::get(B.getPtrTy(), {B.getPtrTy(), B.getInt64Ty()}, false),
          NoAliasResult);
      // After the per-thread values: each thread's next state (an i32 array).
      Arena = B.CreateCall(Scratch, {EngineCtx, B.CreateMul(Threads, B.getInt64(ArenaBytesPerThread + 4))}, "arena");
      NextStates = B.CreateInBoundsGEP(B.getInt8Ty(), Arena, B.CreateMul(Threads, B.getInt64(ArenaBytesPerThread)),
                                       "next.states");
    }
    for (auto &[A, Home] : Homes)
      if (!Home.InArena) {
        Home.Local = llvm::cast<llvm::AllocaInst>(A->clone());
        B.Insert(Home.Local, A->getName());
      }
    State = B.CreateAlloca(B.getInt32Ty(), nullptr, "state");
    B.CreateStore(B.getInt32(0), State);
    llvm::BasicBlock *Dispatch = llvm::BasicBlock::Create(Ctx, "dispatch", &H);
    llvm::BasicBlock *Done = llvm::BasicBlock::Create(Ctx, "done", &H);
    B.CreateBr(Dispatch);
    B.SetInsertPoint(Dispatch);
    llvm::SwitchInst *Switch = B.CreateSwitch(B.CreateLoad(B.getInt32Ty(), State), Done, Barriers.size() + 1);
    B.SetInsertPoint(Done);
    B.CreateRetVoid();

    size_t Original = G.getInstructionCount(), Cloned = 0;
    for (size_t R = 0; R <= Barriers.size(); ++R) {
      llvm::BasicBlock *Pre = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R), &H);
      RegionPre = Pre;
      Switch->addCase(B.getInt32(R), Pre);
      B.SetInsertPoint(Pre);
      emitThreadLoops(B, EngineCtx, ThreadCtx, [&](llvm::IRBuilder<> &B, llvm::Value *Linear) {
        Cloned += emitRegion(B, R == 0 ? Start : Barriers[R - 1].Continue, R, Linear);
      });
      // Every thread reached the same barrier (or returned): thread 0's next state is the block's.
      B.CreateStore(B.CreateLoad(B.getInt32Ty(), NextStates, "next"), State);
      B.CreateBr(Dispatch);
      if (Cloned > MaxCloneFactor * Original)
        return false;
    }
    return true;
  }

private:
  // One thread's run of region R (from Start to the next barrier or return) at B; B is left where the thread's run
  // ends, with the state for the next region stored. Returns the number of instructions cloned.
  size_t emitRegion(llvm::IRBuilder<> &B, llvm::BasicBlock *Start, size_t R, llvm::Value *Linear) {
    llvm::BasicBlock *Body = B.GetInsertBlock();
    llvm::ValueToValueMapTy VMap;
    VMap[G.getArg(0)] = H.getArg(0);
    VMap[G.getArg(1)] = ThreadCtx;
    llvm::Value *Thread = B.CreateZExt(Linear, B.getInt64Ty());
    for (auto &[A, Home] : Homes) {
      if (!Home.InArena) {
        VMap[A] = Home.Local;
        continue;
      }
      llvm::Value *Offset = B.CreateAdd(B.CreateMul(Threads, B.getInt64(Home.Start)),
                                        B.CreateMul(Thread, B.getInt64(Home.Size)), "", true, true);
      VMap[A] = B.CreateInBoundsGEP(B.getInt8Ty(), Arena, Offset, A->getName());
    }
    llvm::BasicBlock *End = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".end", &H);
    B.SetInsertPoint(End);
    llvm::PHINode *Next = B.CreatePHI(B.getInt32Ty(), 2, "next");

    // The region's blocks: reachable from Start without passing a barrier.
    std::map<llvm::BasicBlock *, size_t> BarrierAt;
    for (size_t I = 0; I < Barriers.size(); ++I)
      BarrierAt[Barriers[I].Wait] = I;
    std::vector<llvm::BasicBlock *> Blocks;
    BlockSet InRegion;
    std::vector<llvm::BasicBlock *> Work{Start};
    while (!Work.empty()) {
      llvm::BasicBlock *BB = Work.back();
      Work.pop_back();
      if (BarrierAt.count(BB) || !InRegion.insert(BB).second)
        continue;
      Blocks.push_back(BB);
      Work.insert(Work.end(), llvm::succ_begin(BB), llvm::succ_end(BB));
    }
    // A barrier ends the region: the thread goes on with the region after it.
    for (auto &[Wait, I] : BarrierAt) {
      auto *Exit = llvm::BasicBlock::Create(Ctx, "to.region" + llvm::Twine(I + 1), &H);
      llvm::BranchInst::Create(End, Exit);
      Next->addIncoming(llvm::ConstantInt::get(B.getInt32Ty(), I + 1), Exit);
      VMap[Wait] = Exit;
    }

    size_t Count = 0;
    std::vector<llvm::BasicBlock *> Clones;
    for (llvm::BasicBlock *BB : Blocks) {
      // Paths from outside the region (a loop entered before the barrier) do not exist here.
      llvm::BasicBlock *Clone = llvm::CloneBasicBlock(BB, VMap, ".r" + llvm::Twine(R), &H);
      for (llvm::PHINode &Phi : llvm::make_early_inc_range(Clone->phis()))
        for (unsigned I = Phi.getNumIncomingValues(); I-- > 0;)
          if (!InRegion.count(Phi.getIncomingBlock(I)))
            Phi.removeIncomingValue(I, /*DeletePHIIfEmpty=*/false);
      VMap[BB] = Clone;
      Clones.push_back(Clone);
      Count += Clone->size();
    }
    for (llvm::BasicBlock *Clone : Clones) {
      for (llvm::Instruction &I : *Clone)
        llvm::RemapInstruction(&I, VMap, llvm::RF_NoModuleLevelChanges | llvm::RF_IgnoreMissingLocals);
      if (auto *Ret = llvm::dyn_cast<llvm::ReturnInst>(Clone->getTerminator())) {
        Ret->eraseFromParent();
        llvm::BranchInst::Create(End, Clone);
        Next->addIncoming(llvm::ConstantInt::getSigned(B.getInt32Ty(), DoneState), Clone);
      }
    }
    // Exits to barriers this region cannot reach are dropped.
    for (auto &[Wait, I] : BarrierAt) {
      auto *Exit = llvm::cast<llvm::BasicBlock>(static_cast<llvm::Value *>(VMap[Wait]));
      if (llvm::pred_empty(Exit)) {
        Next->removeIncomingValue(Exit, false);
        Exit->eraseFromParent();
      }
    }
    readUniformSlotsOnce(Clones, VMap);
    B.SetInsertPoint(Body);
    B.CreateBr(llvm::cast<llvm::BasicBlock>(static_cast<llvm::Value *>(VMap[Start])));
    B.SetInsertPoint(End);
    // Per thread, not in one variable: a value carried from iteration to iteration would keep the vectoriser off
    // the thread loop.
    B.CreateStore(Next, B.CreateInBoundsGEP(B.getInt32Ty(), NextStates, Thread));
    return Count;
  }

  // A uniform slot holds the same value in every thread when a region starts (the threads all stored the same
  // value before the barrier). Its reads that no store of the region can precede take thread 0's value once,
  // before the thread loops: the value, and the branches on it, become loop-invariant for the vectoriser.
  void readUniformSlotsOnce(const std::vector<llvm::BasicBlock *> &Clones, llvm::ValueToValueMapTy &VMap) {
    for (auto &[A, Home] : Homes) {
      if (!Home.Uniform)
        continue;
      llvm::Value *Slot = VMap[A];
      BlockSet Stored;
      for (llvm::BasicBlock *BB : Clones)
        for (llvm::Instruction &I : *BB)
          if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && Store->getPointerOperand() == Slot)
            Stored.insert(BB);
      BlockSet AfterStore = reachableFrom(Stored);
      llvm::IRBuilder<> Pre(RegionPre->getTerminator());
      llvm::Value *Thread0 = nullptr;
      for (llvm::BasicBlock *BB : Clones) {
        if (AfterStore.count(BB))
          continue;
        for (llvm::Instruction &I : llvm::make_early_inc_range(*BB)) {
          if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && Store->getPointerOperand() == Slot)
            break; // later reads in this block see this thread's own store
          auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I);
          if (!Load || Load->getPointerOperand() != Slot)
            continue;
          if (!Thread0)
            Thread0 = Pre.CreateInBoundsGEP(Pre.getInt8Ty(), Arena, Pre.CreateMul(Threads, Pre.getInt64(Home.Start)),
                                            A->getName() + ".thread0");
          Load->replaceAllUsesWith(Pre.CreateLoad(Load->getType(), Thread0, A->getName() + ".uniform"));
          Load->eraseFromParent();
        }
      }
    }
  }

  llvm::Function &G;
  llvm::Function &H;
  const std::vector<Barrier> &Barriers;
  std::map<llvm::AllocaInst *, AllocaHome> &Homes;
  uint64_t ArenaBytesPerThread;
  llvm::LLVMContext &Ctx;
  llvm::Value *ThreadCtx = nullptr, *Threads = nullptr, *Arena = nullptr, *NextStates = nullptr;
  llvm::BasicBlock *RegionPre = nullptr; // the block before the current region's thread loops
  llvm::AllocaInst *State = nullptr;
};

bool buildRegionEntry(llvm::Module &M, llvm::Function &Kernel, const KernelInfo &K,
                      const std::set<llvm::Function *> &Waiting) {
  llvm::Function *G = workingCopy(M, Kernel, Waiting);
  if (!G)
    return false;
  if (G->getInstructionCount() > MaxKernelInstructions) {
    G->eraseFromParent();
    return false;
  }
  std::vector<Barrier> Barriers;
  std::map<llvm::AllocaInst *, AllocaHome> Homes;
  uint64_t ArenaBytesPerThread = 0;
  std::set<llvm::Value *> UniformValues;
  std::set<llvm::AllocaInst *> UniformSlots;
  bool Ok = cutAtBarriers(*G, Barriers, UniformValues);
  llvm::BasicBlock *Start = nullptr;
  if (Ok) {
    // The allocas stay in the entry block, which no region clones; the code after them is region 0.
    Start = G->getEntryBlock().splitBasicBlock(G->getEntryBlock().getFirstNonPHIOrDbgOrAlloca(), "region.start");
    localiseValuesLiveAcrossBarriers(*G, Barriers, UniformValues, UniformSlots);
    Ok = placeAllocas(*G, Barriers, UniformSlots, Homes, ArenaBytesPerThread);
  }
  llvm::Function *Entry = nullptr;
  if (Ok) {
    relaxSharedAtomics(*G);
    Entry = createBlockEntry(M, Kernel, RegionEntryPrefix, K.ParamSize);
    Ok = RegionBuilder(*G, *Entry, Barriers, Homes, ArenaBytesPerThread).build(Start);
  }
  G->eraseFromParent();
  if (!Ok) {
    if (Entry)
      Entry->eraseFromParent();
    return false;
  }
  dropInvariantLoadMarks(*Entry);
  // A construction error must not cost the module: the kernel keeps its other tiers.
  std::string Problem;
  llvm::raw_string_ostream OS(Problem);
  if (llvm::verifyFunction(*Entry, &OS)) {
    CUSHIM_LOG_ERROR("region entry of kernel '{}' does not verify ({}); the kernel runs on another tier",
                     K.Name, OS.str());
    Entry->eraseFromParent();
    return false;
  }
  return true;
}

} // namespace

void addRegionEntries(llvm::Module &M, std::vector<KernelInfo> &Kernels) {
  bool Ok = true;
  std::set<llvm::Function *> Waiting;
  bool Computed = false;
  for (KernelInfo &K : Kernels) {
    if (!(K.Flags & CUSHIM_HAL_KERNEL_USES_BARRIERS) || (K.Flags & NonRegionFlags))
      continue;
    llvm::Function *Kernel = M.getFunction(K.Name);
    if (!Kernel || Kernel->isDeclaration() || !canRunAsBlockLoop(*Kernel))
      continue;
    if (!Computed) {
      Waiting = waitingFunctions(M, Ok);
      Computed = true;
    }
    if (!Ok)
      return;
    if (buildRegionEntry(M, *Kernel, K, Waiting))
      K.Flags |= CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY;
  }
}

} // namespace cushim::ptx
