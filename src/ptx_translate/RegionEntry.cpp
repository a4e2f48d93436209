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
// BlockUniformity: every barrier sits where no divergent branch decides whether it runs.
//
// Warp collectives (shfl, vote, redux, bar.warp.sync over the whole warp) that every lane of a warp reaches
// together cut regions too; the entry then runs warp by warp, each warp's regions as loops over its lanes, with the
// lanes' values exchanged through the arena at each such cut (RegionBuilder). Loops that threads leave at
// different iterations get a loop cut at their header, so that the thread loop runs the threads in lockstep, one
// iteration at a time (cutDivergentLoops). Kernels with other collectives, bar.arrive/bar.red, barriers with
// thread counts, spin loops or exits from device functions get the coroutine entry (CoroutineEntry.cpp) or stay
// on fibers.
#include "ptx_translate/RegionEntry.h"

#include "ptx_translate/ArenaScopes.h"
#include "ptx_translate/BlockEntry.h"
#include "ptx_translate/BlockUniformity.h"
#include "ptx_translate/WaitCalls.h"
#include "support/Log.h"

#include "cuda_shim/hal.h"
#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/MDBuilder.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/ValueHandle.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>
#include <llvm/Transforms/Utils/Cloning.h>
#include <llvm/Transforms/Utils/Local.h>
#include <llvm/Transforms/Utils/LowerAtomic.h>
#include <llvm/Transforms/Utils/PromoteMemToReg.h>
#include <llvm/Transforms/Utils/ValueMapper.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace cushim::ptx {

namespace {

constexpr uint32_t NonRegionFlags = CUSHIM_HAL_KERNEL_USES_GRID_SYNC | CUSHIM_HAL_KERNEL_MAY_SPIN;
// Regions may duplicate code (a loop with a barrier inside is entered from before the loop and after the barrier);
// past this factor over the kernel's size the entry is not worth its compile time.
constexpr size_t MaxCloneFactor = 8;
constexpr size_t RegionSetupAllowance = 128; // instructions per region on top
constexpr int32_t DoneState = -1;
// The liveness walks are quadratic in the kernel's size; past this many instructions the kernel keeps coroutines.
constexpr size_t MaxKernelInstructions = 20000;
// Each cut is a region (and the liveness walks visit every cut for every instruction): past this many, coroutines
// (a test kernel with hundreds of unrolled shuffles took a minute to compile as regions).
constexpr size_t MaxCuts = 128;

using BlockSet = std::set<llvm::BasicBlock *>;

// What ends a region: a barrier of the whole block, a warp collective that the lanes of each warp reach together
// (the warp's lanes exchange values through the arena at the cut), or the header of a loop that threads leave at
// different iterations (a loop cut: threads wait there only so that the thread loop runs them in lockstep).
enum class CutKind { Block, Shuffle, Vote, Redux, WarpSync, Loop };
bool isWarpCut(CutKind Kind) { return Kind != CutKind::Block && Kind != CutKind::Loop; }

// A cut of the working copy: the block that held the wait (now empty but for its branch) and where threads go on.
struct Cut {
  llvm::BasicBlock *Wait;
  llvm::BasicBlock *Continue;
  CutKind Kind;
  uint32_t Op = 0; // Vote: the cushim_vote_mode; Redux: the operation
};

// The blocks of the region that begins at Start: reachable from it without passing a cut, in the order found.
std::vector<llvm::BasicBlock *> regionBlocksFrom(llvm::BasicBlock *Start, const std::vector<Cut> &Cuts) {
  BlockSet Waits, InRegion;
  for (const Cut &C : Cuts)
    Waits.insert(C.Wait);
  std::vector<llvm::BasicBlock *> Blocks, Work{Start};
  while (!Work.empty()) {
    llvm::BasicBlock *BB = Work.back();
    Work.pop_back();
    if (Waits.count(BB) || !InRegion.insert(BB).second)
      continue;
    Blocks.push_back(BB);
    Work.insert(Work.end(), llvm::succ_begin(BB), llvm::succ_end(BB));
  }
  return Blocks;
}

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

// The kind of cut a warp collective makes, or null when regions cannot run it: only shfl, vote, redux and
// bar.warp.sync over the whole warp (a constant full member mask) are cuts.
std::optional<CutKind> warpCutKind(const llvm::CallBase &Call, const WaitCall &W) {
  auto fullMask = [&](unsigned Arg) {
    auto *Mask = llvm::dyn_cast<llvm::ConstantInt>(Call.getArgOperand(Arg));
    return Mask && Mask->isMinusOne();
  };
  auto constant = [&](unsigned Arg) { return llvm::isa<llvm::ConstantInt>(Call.getArgOperand(Arg)); };
  switch (W.Op) {
  case CUSHIM_COLLECTIVE_SHFL:
    if (fullMask(5) && constant(1))
      return CutKind::Shuffle;
    break;
  case CUSHIM_COLLECTIVE_VOTE:
    if (fullMask(3) && constant(1))
      return CutKind::Vote;
    break;
  case CUSHIM_COLLECTIVE_REDUX:
    if (fullMask(3) && constant(1))
      return CutKind::Redux;
    break;
  case CUSHIM_COLLECTIVE_WARPSYNC:
    if (fullMask(1))
      return CutKind::WarpSync;
    break;
  default:
    break;
  }
  return std::nullopt;
}

// Replaces a warp collective by its stand-ins around the cut: the lane's value is put before Wait, and the
// result taken at the start of Continue.
void replaceWarpCollective(llvm::CallBase &Call, Cut &C) {
  llvm::Module &M = *Call.getModule();
  llvm::LLVMContext &Ctx = M.getContext();
  llvm::Type *I32 = llvm::Type::getInt32Ty(Ctx);
  // The put ends the region before the cut (the wait block itself is not part of any region).
  llvm::IRBuilder<> Before(C.Wait->getUniquePredecessor()->getTerminator());
  if (C.Kind != CutKind::WarpSync) {
    llvm::FunctionCallee Put = M.getOrInsertFunction(PutName, llvm::Type::getVoidTy(Ctx), I32);
    Before.CreateCall(Put, {Call.getArgOperand(2)});
  }
  llvm::IRBuilder<> After(C.Continue, C.Continue->getFirstInsertionPt());
  llvm::Value *Result = nullptr;
  if (C.Kind == CutKind::Shuffle) {
    llvm::FunctionCallee Take =
        M.getOrInsertFunction(ShuffleName, I32, I32, I32, I32, llvm::PointerType::get(Ctx, 0));
    Result = After.CreateCall(Take, {Call.getArgOperand(1), Call.getArgOperand(3), Call.getArgOperand(4),
                                     Call.getArgOperand(6)});
  } else if (C.Kind == CutKind::Vote || C.Kind == CutKind::Redux) {
    C.Op = static_cast<uint32_t>(llvm::cast<llvm::ConstantInt>(Call.getArgOperand(1))->getZExtValue());
    Result = After.CreateCall(M.getOrInsertFunction(WarpResultName, I32));
  }
  if (Result)
    Call.replaceAllUsesWith(Result);
}

// Cuts the working copy at its waits (false if one is neither a uniform block barrier nor a warp collective every
// lane of its warp reaches together). Each wait call is removed; its block keeps only a branch to the
// continuation. WarpCuts tells whether any cut is a warp collective.
bool cutAtWaits(llvm::Function &G, std::vector<Cut> &Cuts, std::set<llvm::Value *> &UniformValues,
                bool &WarpCuts) {
  std::vector<std::pair<llvm::CallBase *, CutKind>> Waits;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I))
      if (const WaitCall *W = waitCallOf(*Call)) {
        std::optional<CutKind> Kind = isBlockBarrier(*Call) ? std::optional(CutKind::Block)
                                      : W->Kind == WaitKind::Collective ? warpCutKind(*Call, *W)
                                                                        : std::nullopt;
        if (!Kind)
          return false;
        Waits.emplace_back(Call, *Kind);
      }
  BlockUniformity Uniformity(G, G.getArg(0), G.getArg(1));
  std::optional<BlockUniformity> WarpUniformity;
  WarpCuts = false;
  for (auto &[Call, Kind] : Waits) {
    if (Kind == CutKind::Block) {
      if (!Uniformity.isUniform(Call->getParent()))
        return false;
      continue;
    }
    if (!WarpUniformity)
      WarpUniformity.emplace(G, G.getArg(0), G.getArg(1), UniformityScope::Warp);
    if (!WarpUniformity->isUniform(Call->getParent()))
      return false;
    WarpCuts = true;
  }
  for (llvm::Instruction &I : llvm::instructions(G))
    if (Uniformity.isUniform(&I))
      UniformValues.insert(&I);
  for (auto &[Call, Kind] : Waits) {
    llvm::BasicBlock *Wait = Call->getParent()->splitBasicBlock(Call, "cut");
    llvm::BasicBlock *Continue = Wait->splitBasicBlock(Call->getNextNode(), "cut.next");
    Cuts.push_back({Wait, Continue, Kind});
    if (Kind != CutKind::Block)
      replaceWarpCollective(*Call, Cuts.back());
    Call->eraseFromParent();
  }
  return true;
}

// The largest expression computed again where used instead of being kept per thread (instructions).
constexpr unsigned MaxRecomputed = 24;

// Whether I can be computed again where it is used, instead of being kept per thread: arithmetic on constants,
// arguments and reads of the parameter buffer or the context (in a region entry the context is the running
// thread's private copy, so tid reads give that thread's coordinates). Budget bounds the expression's size.
// Leaves are values the copy uses as they are (a uniform loop's counter, which is then kept as a uniform slot).
bool isRecomputable(llvm::Instruction &I, const llvm::Function &G, unsigned &Budget,
                    const std::set<llvm::Value *> &Leaves = {}) {
  if (Leaves.count(&I))
    return true;
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
      if (!isRecomputable(*OpI, G, Budget, Leaves))
        return false;
    } else if (!llvm::isa<llvm::Argument, llvm::Constant, llvm::BasicBlock>(Op)) {
      return false;
    }
  }
  return true;
}

// A copy of I's expression tree (isRecomputable) inserted before Before.
llvm::Value *recompute(llvm::Instruction &I, llvm::Instruction *Before, const std::set<llvm::Value *> &Leaves) {
  if (Leaves.count(&I))
    return &I;
  llvm::Instruction *Copy = I.clone();
  for (llvm::Use &Op : Copy->operands())
    if (auto *OpI = llvm::dyn_cast<llvm::Instruction>(Op.get()))
      Op.set(recompute(*OpI, Before, Leaves));
  Copy->insertBefore(Before);
  return Copy;
}

// Rewrites L's induction variables that step by an amount every thread has, I = phi [I0, before], [I + S, latch],
// as I0 + K * S over one counter K = phi [0, before], [K + 1, latch] (wrapping arithmetic, as the steps wrap), and
// returns K (null when no such variable qualifies). K is what a loop cut then keeps per thread. While all threads
// still in the loop have run the same number of iterations, a lockstep pass can read K once for all of them
// (RegionBuilder's lockstep counters), and I stays a function of tid: In[I] is then a consecutive load for the
// vectoriser, where a slot of I would make it a gather. Only variables whose start and step can be computed again
// where used (isRecomputable: from tid, the parameters and constants) qualify; others would cost a slot more.
llvm::PHINode *rewriteSteppedInductions(llvm::Function &G, llvm::Loop &L,
                                        const std::set<llvm::Value *> &UniformValues) {
  llvm::BasicBlock *Header = L.getHeader(), *Latch = L.getLoopLatch(), *Before = L.getLoopPredecessor();
  if (!Latch || !Before)
    return nullptr;
  auto cheap = [&](llvm::Value *V) {
    unsigned Budget = MaxRecomputed;
    auto *I = llvm::dyn_cast<llvm::Instruction>(V);
    return llvm::isa<llvm::Constant>(V) || (I && isRecomputable(*I, G, Budget));
  };
  std::vector<std::pair<llvm::PHINode *, llvm::Value *>> Stepped; // (I, S)
  unsigned Width = 0;
  for (llvm::PHINode &Phi : Header->phis()) {
    auto *Ty = llvm::dyn_cast<llvm::IntegerType>(Phi.getType());
    auto *Step = llvm::dyn_cast<llvm::BinaryOperator>(Phi.getIncomingValueForBlock(Latch));
    if (!Ty || Phi.getNumIncomingValues() != 2 || !Step || Step->getOpcode() != llvm::Instruction::Add)
      continue;
    llvm::Value *S = Step->getOperand(0) == &Phi ? Step->getOperand(1)
                     : Step->getOperand(1) == &Phi ? Step->getOperand(0)
                                                   : nullptr;
    if (!S || !L.isLoopInvariant(S) || !(llvm::isa<llvm::Constant>(S) || UniformValues.count(S)) || !cheap(S) ||
        !cheap(Phi.getIncomingValueForBlock(Before)))
      continue;
    Stepped.emplace_back(&Phi, S);
    Width = std::max(Width, Ty->getBitWidth());
  }
  if (Stepped.empty())
    return nullptr;
  llvm::IRBuilder<> B(Header, Header->begin());
  llvm::PHINode *K = B.CreatePHI(B.getIntNTy(Width), 2, "lockstep.k");
  K->addIncoming(B.getIntN(Width, 0), Before);
  K->addIncoming(llvm::BinaryOperator::CreateAdd(K, B.getIntN(Width, 1), "lockstep.k.next", Latch->getTerminator()),
                 Latch);
  B.SetInsertPoint(Header->getFirstNonPHI());
  for (auto &[Phi, S] : Stepped) {
    llvm::Value *I0 = Phi->getIncomingValueForBlock(Before);
    Phi->replaceAllUsesWith(B.CreateAdd(I0, B.CreateMul(B.CreateTrunc(K, Phi->getType()), S), Phi->getName()));
    Phi->eraseFromParent();
  }
  return K;
}

// Rewrites the stepped induction variables of every loop that holds a cut and that all threads run the same
// number of times (its exits are uniform): their values cross the cuts, and as I0 + K * S with K the same in every
// thread (a uniform slot, read once per region), an address such as a tiled loop's A + (row * N + t * 16 + tx)
// stays a function of tid for the vectoriser, where a per-thread slot of it would make every access a gather.
// Counters receives the loops' K, which regions after a cut use as it is when they compute I again.
void rewriteUniformLoopInductions(llvm::Function &G, const std::vector<Cut> &Cuts,
                                  std::set<llvm::Value *> &UniformValues, std::set<llvm::Value *> &Counters) {
  llvm::DominatorTree DT(G);
  llvm::LoopInfo LI(DT);
  for (llvm::Loop *L : LI.getLoopsInPreorder()) {
    if (!llvm::any_of(Cuts, [&](const Cut &C) { return L->contains(C.Wait); }))
      continue;
    llvm::SmallVector<llvm::BasicBlock *, 4> Exiting;
    L->getExitingBlocks(Exiting);
    bool Uniform = llvm::all_of(Exiting, [&](llvm::BasicBlock *BB) {
      auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB->getTerminator());
      return Br && (!Br->isConditional() || !llvm::isa<llvm::Instruction>(Br->getCondition()) ||
                    UniformValues.count(Br->getCondition()));
    });
    if (!Uniform)
      continue;
    if (llvm::PHINode *K = rewriteSteppedInductions(G, *L, UniformValues)) {
      UniformValues.insert(K);
      UniformValues.insert(K->getIncomingValueForBlock(L->getLoopLatch()));
      Counters.insert(K);
    }
  }
}

// Whether every thread that enters loop cut C's loop does so in the same pass: every edge into the loop from before
// it lies in a region all threads (of the block, or of the warp) start together, where no thread is in a loop
// (RegionBuilder runs loop cuts first). Then the threads still in the loop have all run the same number of
// iterations.
bool enteredTogether(const Cut &C, const BlockSet &LoopBlocks, const std::vector<Cut> &Cuts,
                     llvm::BasicBlock *Entry) {
  std::vector<llvm::BasicBlock *> Starts{Entry};
  for (const Cut &Other : Cuts)
    Starts.push_back(Other.Continue);
  for (size_t R = 0; R < Starts.size(); ++R) {
    std::vector<llvm::BasicBlock *> Blocks = regionBlocksFrom(Starts[R], Cuts);
    BlockSet InRegion(Blocks.begin(), Blocks.end());
    bool EntersLoop = llvm::any_of(llvm::predecessors(C.Wait), [&](llvm::BasicBlock *Pred) {
      return !LoopBlocks.count(Pred) && InRegion.count(Pred);
    });
    if (EntersLoop && R > 0 && Cuts[R - 1].Kind == CutKind::Loop)
      return false;
  }
  return true;
}

// Cuts each innermost loop that holds no cut and that threads leave at different iterations (its exit condition is
// not uniform) at its header: the region after such a loop cut runs one iteration of every thread still in the
// loop, so the thread loop runs the threads in lockstep, iteration by iteration, and is the innermost loop, which
// the vectoriser can work on (a per-thread loop inside the thread loop keeps it scalar). Threads that leave the
// loop go on to the next cut, and wait there until the loop is done: RegionBuilder runs the lowest state any
// thread is at, and loop cuts are numbered before all other cuts. Threads at loop cuts may run in any order (no
// barrier or collective lies between them); every other cut must wait for all threads (all lanes of the warp),
// which are then all at the same one. Returns whether any loop was cut. Counters receives, for each loop cut
// (by its header) whose threads all enter together, the slot of its iteration counter (rewriteSteppedInductions).
bool cutDivergentLoops(llvm::Function &G, std::vector<Cut> &Cuts, const std::set<llvm::Value *> &UniformValues,
                       std::map<llvm::BasicBlock *, llvm::AllocaInst *> &Counters) {
  llvm::DominatorTree DT(G);
  llvm::LoopInfo LI(DT);
  BlockSet Waits;
  for (const Cut &C : Cuts)
    Waits.insert(C.Wait);
  std::vector<std::pair<llvm::BasicBlock *, BlockSet>> Loops; // header, the loop's blocks
  bool AnyCut = false;
  for (llvm::Loop *L : LI.getLoopsInPreorder()) {
    if (!L->isInnermost() || llvm::any_of(L->blocks(), [&](llvm::BasicBlock *BB) { return Waits.count(BB); }))
      continue;
    llvm::SmallVector<llvm::BasicBlock *, 4> Exiting;
    L->getExitingBlocks(Exiting);
    bool Divergent = llvm::any_of(Exiting, [&](llvm::BasicBlock *BB) {
      auto *Br = llvm::dyn_cast<llvm::BranchInst>(BB->getTerminator());
      return !Br || (Br->isConditional() && llvm::isa<llvm::Instruction>(Br->getCondition()) &&
                     !UniformValues.count(Br->getCondition()));
    });
    if (Divergent)
      Loops.emplace_back(L->getHeader(), BlockSet(L->block_begin(), L->block_end()));
  }
  std::map<llvm::BasicBlock *, llvm::PHINode *> KPhis;
  for (auto &[Header, Blocks] : Loops)
    if (llvm::PHINode *K = rewriteSteppedInductions(G, *LI.getLoopFor(Header), UniformValues))
      KPhis[Header] = K;
  std::map<llvm::BasicBlock *, llvm::AllocaInst *> KSlots;
  for (auto &[Header, Blocks] : Loops) {
    // The header's phis live across the cut: demoted here, each is one per-thread slot, stored before the cut
    // and read after it (merged in a block before the cut, they would be demoted twice).
    for (llvm::PHINode &Phi : llvm::make_early_inc_range(Header->phis())) {
      llvm::AllocaInst *Slot = llvm::DemotePHIToStack(&Phi);
      if (KPhis.count(Header) && KPhis[Header] == &Phi)
        KSlots[Header] = Slot;
    }
    // Every edge into the header goes through the cut.
    llvm::SmallVector<llvm::BasicBlock *, 4> Preds(llvm::predecessors(Header));
    llvm::BasicBlock *Wait = llvm::SplitBlockPredecessors(Header, Preds, ".loop.cut");
    if (!Wait)
      continue;
    Cuts.push_back({Wait, Header, CutKind::Loop});
    AnyCut = true;
  }
  std::stable_partition(Cuts.begin(), Cuts.end(), [](const Cut &C) { return C.Kind == CutKind::Loop; });
  for (auto &[Header, Blocks] : Loops) {
    auto Slot = KSlots.find(Header);
    auto C = llvm::find_if(Cuts, [&](const Cut &C) { return C.Continue == Header; });
    if (Slot != KSlots.end() && Slot->second && C != Cuts.end() &&
        enteredTogether(*C, Blocks, Cuts, &G.getEntryBlock()))
      Counters[Header] = Slot->second;
  }
  return AnyCut;
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

// Whether I's value lives across a cut (it is live where a thread goes on after one).
bool livesAcrossCut(llvm::Instruction &I, const std::vector<Cut> &Cuts) {
  if (llvm::isa<llvm::AllocaInst>(I) || I.getType()->isVoidTy() || I.use_empty())
    return false;
  BlockSet LiveIn = liveInBlocks(I);
  for (const Cut &C : Cuts)
    if (LiveIn.count(C.Continue))
      return true;
  return false;
}

// Makes every value that lives across a cut local to the regions that use it, so that no region uses a value
// another region defined. Cheap values (addresses and indices computed from the thread's coordinates, the
// parameters and constants) are computed again where they are used, which keeps them visible to the vectoriser
// as functions of tid; the others move to an alloca (stored after the definition, loaded where used).
// UniformValues (from BlockUniformity) gives the slots that hold a value every thread has: UniformSlots.
void localiseValuesLiveAcrossCuts(llvm::Function &G, const std::vector<Cut> &Cuts,
                                  const std::set<llvm::Value *> &UniformValues,
                                  const std::set<llvm::Value *> &UniformCounters,
                                  std::set<llvm::AllocaInst *> &UniformSlots) {
  std::vector<llvm::Instruction *> Recomputable;
  for (llvm::Instruction &I : llvm::instructions(G)) {
    unsigned Budget = MaxRecomputed;
    if (!UniformCounters.count(&I) && livesAcrossCut(I, Cuts) && isRecomputable(I, G, Budget, UniformCounters))
      Recomputable.push_back(&I);
  }
  for (llvm::Instruction *I : Recomputable)
    for (llvm::Use &U : llvm::make_early_inc_range(I->uses())) {
      auto *User = llvm::cast<llvm::Instruction>(U.getUser());
      auto *Phi = llvm::dyn_cast<llvm::PHINode>(User);
      llvm::BasicBlock *UseBlock = Phi ? Phi->getIncomingBlock(U) : User->getParent();
      if (UseBlock != I->getParent()) // uses in I's own block never cross a cut
        U.set(recompute(*I, Phi ? UseBlock->getTerminator() : User, UniformCounters));
    }
  for (;;) {
    std::vector<llvm::Instruction *> Across;
    for (llvm::Instruction &I : llvm::instructions(G))
      if (livesAcrossCut(I, Cuts))
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

// Whether A's memory must survive a cut: the cut can be reached from a use of A and can reach one.
bool memoryLivesAcrossCut(llvm::AllocaInst &A, const std::vector<Cut> &Cuts,
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
  for (const Cut &C : Cuts) {
    bool Before = false, After = false;
    for (llvm::BasicBlock *U : Uses) {
      Before = Before || reach(U).count(C.Wait);
      After = After || reach(C.Wait).count(U);
    }
    if (Before && After)
      return true;
  }
  return false;
}

// Decides where each alloca of the working copy lives; false if one cannot be placed (a dynamic alloca, or an
// alignment above the arena's).
bool placeAllocas(llvm::Function &G, const std::vector<Cut> &Cuts,
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
    if (!memoryLivesAcrossCut(*A, Cuts, Reach))
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

// Builds __cushim_region_NAME from the cut working copy G. Without warp cuts, each region runs as one loop over
// the block's threads (the file comment). With them, each warp runs its regions as loops over its 32 lanes:
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
                bool LoopCuts, const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots)
      : G(G), H(Entry), Cuts(Cuts), Homes(Homes), ArenaBytesPerThread(ArenaBytesPerThread), WarpCuts(WarpCuts),
        LoopCuts(LoopCuts), CounterSlots(CounterSlots), Ctx(Entry.getContext()) {}

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
      // cuts, two exchange buffers (i32): a region's lanes take a collective's results from one while they put
      // their values for the next cut in the other. ExchangePad entries before, between and after the buffers
      // let a shuffle read its source lane unconditionally (and keep the read consecutive for the vectoriser).
      uint64_t PerThread = ArenaBytesPerThread + 4 + (WarpCuts ? 8 : 0);
      llvm::Value *Bytes = B.CreateMul(Threads, B.getInt64(PerThread));
      if (WarpCuts)
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
  // same block barrier (or returned): thread 0's next state is the block's. Otherwise the lowest state of the
  // block's threads (emitLowestState).
  llvm::Value *emitBlockState(llvm::IRBuilder<> &B) {
    if (WarpCuts || !LoopCuts)
      return B.CreateLoad(B.getInt32Ty(), NextStates, "next");
    return emitLowestState(B, B.getInt64(0), B.CreateTrunc(Threads, B.getInt32Ty()));
  }

  // The state a group of threads (Count threads from linear index First) goes on with. Without loop cuts, all are
  // at the same cut: the first thread's next state. With them, the lowest state any thread is at: loop cuts are
  // numbered first, so threads still in a loop run before the others, which wait at the next cut until all are
  // there (done is the highest state).
  llvm::Value *emitLowestState(llvm::IRBuilder<> &B, llvm::Value *First, llvm::Value *Count) {
    if (!LoopCuts)
      return B.CreateLoad(B.getInt32Ty(), B.CreateInBoundsGEP(B.getInt32Ty(), NextStates, First), "next");
    return emitFold(B, NextStates, First, Count, DoneState, "lowest",
                    [](llvm::IRBuilder<> &B, llvm::Value *Acc, llvm::Value *Next, llvm::Value *) {
                      return B.CreateBinaryIntrinsic(llvm::Intrinsic::umin, Acc, Next);
                    });
  }

  // How many threads are at state R (an i32).
  llvm::Value *emitThreadsAt(llvm::IRBuilder<> &B, size_t R) {
    return emitFold(B, NextStates, B.getInt64(0), B.CreateTrunc(Threads, B.getInt32Ty()), 0, "in.loop",
                    [&](llvm::IRBuilder<> &B, llvm::Value *Acc, llvm::Value *At, llvm::Value *) {
                      return B.CreateAdd(Acc, B.CreateZExt(B.CreateICmpEQ(At, B.getInt32(R)), B.getInt32Ty()));
                    });
  }

  // Acc = Init, then Acc = Combine(B, Acc, Array[First + I], I) for I in 0..Count-1 (i32 elements and result;
  // First is an i64 index, Count an i32). The accumulator lives in WarpAcc, which SROA turns into a register.
  llvm::Value *emitFold(llvm::IRBuilder<> &B, llvm::Value *Array, llvm::Value *First, llvm::Value *Count,
                        uint32_t Init, const char *Name,
                        llvm::function_ref<llvm::Value *(llvm::IRBuilder<> &, llvm::Value *Acc, llvm::Value *Element,
                                                         llvm::Value *I)>
                            Combine) {
    B.CreateStore(B.getInt32(Init), WarpAcc);
    emitCountedLoop(B, Count, Name, [&](llvm::IRBuilder<> &B, llvm::Value *I) {
      llvm::Value *Index = B.CreateAdd(First, B.CreateZExt(I, B.getInt64Ty()));
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
  unsigned lockstepUnroll(size_t R) {
    std::vector<llvm::BasicBlock *> Blocks = regionBlocks(R);
    size_t Size = 0;
    for (llvm::BasicBlock *BB : Blocks)
      Size += BB->size();
    // The loop's body: the blocks of the region that lead back to its cut (the others are the way out).
    BlockSet InRegion(Blocks.begin(), Blocks.end()), Body;
    std::vector<llvm::BasicBlock *> Work{Cuts[R - 1].Wait};
    while (!Work.empty()) {
      llvm::BasicBlock *BB = Work.back();
      Work.pop_back();
      for (llvm::BasicBlock *Pred : llvm::predecessors(BB))
        if (InRegion.count(Pred) && Body.insert(Pred).second)
          Work.push_back(Pred);
    }
    bool Writes = llvm::any_of(Body, [](llvm::BasicBlock *BB) { return writesMemory(*BB); });
    for (unsigned Unroll = Writes ? MaxWritingUnroll : MaxLockstepUnroll; Unroll > 1; Unroll /= 2)
      if (Size * Unroll <= MaxUnrolledRegion && Size * (Unroll - 1) <= UnrollBudget) {
        UnrollBudget -= Size * (Unroll - 1);
        return Unroll;
      }
    return 1;
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
      if (startsTogether(R)) {
        resetCounters(B);
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
      llvm::Value *InLoop = emitThreadsAt(B, R);
      B.CreateCondBr(B.CreateICmpUGE(B.CreateMul(InLoop, B.getInt32(MinLockstepShare)),
                                     B.CreateTrunc(Threads, B.getInt32Ty())),
                     Lockstep, Serial);
      for (bool IsSerial : {false, true}) {
        B.SetInsertPoint(IsSerial ? Serial : Lockstep);
        unsigned Unroll = IsSerial ? 1 : lockstepUnroll(R);
        if (!IsSerial)
          loadCounter(B, R, Unroll);
        emitThreadLoops(B, EngineCtx, ThreadCtx, [&](llvm::IRBuilder<> &B, llvm::Value *Linear) {
          emitRegion(B, R, Linear, IsSerial, Unroll);
        });
        advanceCounter(B, R);
        B.CreateBr(Next);
      }
    }
    B.SetInsertPoint(Next);
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
    llvm::Value *NumWarps = B.CreateLShr(B.CreateTrunc(Threads, B.getInt32Ty()), 5, "warps");
    emitCountedLoop(B, NumWarps, "warp.init", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      B.CreateStore(Current, at(B, WarpStates, Warp));
      B.CreateStore(B.getInt32(0), at(B, Phases, Warp));
      B.CreateStore(B.getInt32(0), at(B, Parked, Warp));
    });
    auto *Pass = llvm::BasicBlock::Create(Ctx, "warps.pass", &H);
    B.CreateBr(Pass);
    B.SetInsertPoint(Pass);
    B.CreateStore(B.getInt32(0), Running);
    emitCountedLoop(B, NumWarps, "warp", [&](llvm::IRBuilder<> &B, llvm::Value *Warp) {
      auto *Go = llvm::BasicBlock::Create(Ctx, "warp.go", &H);
      auto *WarpDispatch = llvm::BasicBlock::Create(Ctx, "warp.dispatch", &H);
      auto *WarpCut = llvm::BasicBlock::Create(Ctx, "warp.cut", &H);
      auto *Yield = llvm::BasicBlock::Create(Ctx, "warp.yield", &H);
      auto *Park = llvm::BasicBlock::Create(Ctx, "warp.park", &H);
      auto *WarpEnd = llvm::BasicBlock::Create(Ctx, "warp.end", &H);
      B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), at(B, Parked, Warp)), B.getInt32(0)), WarpEnd, Go);
      B.SetInsertPoint(Go);
      GroupFirst = B.CreateZExt(B.CreateShl(Warp, 5, "", true, true), B.getInt64Ty(), "warp.first");
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
        llvm::Value *Current = B.CreateZExt(B.CreateLoad(B.getInt32Ty(), Phase), B.getInt64Ty());
        llvm::Value *Stride = B.CreateAdd(Threads, B.getInt64(ExchangePad));
        TakeFrom = B.CreateInBoundsGEP(B.getInt32Ty(), Exchange, B.CreateMul(Current, Stride), "take.from");
        PutTo = B.CreateInBoundsGEP(B.getInt32Ty(), Exchange, B.CreateMul(B.CreateXor(Current, 1), Stride),
                                    "put.to");
        WarpResult = R > 0 ? emitWarpResult(B, Cuts[R - 1]) : nullptr;
        if (startsTogether(R))
          resetCounters(B);
        bool LoopCut = R > 0 && Cuts[R - 1].Kind == CutKind::Loop;
        unsigned Unroll = LoopCut ? lockstepUnroll(R) : 1;
        loadCounter(B, R, Unroll);
        emitWarpLaneLoop(B, EngineCtx, ThreadCtx, Warp,
                         [&](llvm::IRBuilder<> &B, llvm::Value *Linear, llvm::Value *Lane) {
                           LaneIndex = Lane;
                           emitRegion(B, R, Linear, false, Unroll);
                         });
        advanceCounter(B, R);
        llvm::Value *Next = emitLowestState(B, GroupFirst, B.getInt32(32));
        B.CreateStore(Next, WarpState);
        // The warp goes on past warp cuts, yields at loop cuts and parks at a block barrier (or when done).
        llvm::SwitchInst *After = B.CreateSwitch(Next, Park);
        for (size_t I = 0; I < Cuts.size(); ++I)
          if (isWarpCut(Cuts[I].Kind))
            After->addCase(B.getInt32(I + 1), WarpCut);
          else if (Cuts[I].Kind == CutKind::Loop)
            After->addCase(B.getInt32(I + 1), Yield);
      }
      B.SetInsertPoint(WarpEnd);
    });
    auto *AllParked = llvm::BasicBlock::Create(Ctx, "warps.parked", &H);
    B.CreateCondBr(B.CreateICmpNE(B.CreateLoad(B.getInt32Ty(), Running), B.getInt32(0)), Pass, AllParked);
    B.SetInsertPoint(AllParked);
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
  void emitRegion(llvm::IRBuilder<> &B, size_t R, llvm::Value *Linear, bool Serial = false, unsigned Unroll = 1) {
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
          llvm::Value *Offset = B.CreateAdd(B.CreateMul(Threads, B.getInt64(Home.Start)),
                                            B.CreateMul(Thread, B.getInt64(Home.Size)), "", true, true);
          llvm::Value *Start = B.CreateInBoundsGEP(B.getInt8Ty(), Arena, Offset, A->getName());
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
    if (WarpCuts)
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
    llvm::Value *MyState = B.CreateInBoundsGEP(B.getInt32Ty(), NextStates, Thread);
    std::vector<std::pair<llvm::Value *, llvm::AllocaInst *>> Copies = copySlotsWritten(B, ArenaSlots);
    llvm::BasicBlock *Join = End;
    llvm::Value *Before = nullptr;
    if (LoopCuts && R > 0) {
      // Only the threads at this region's state run it; the others are further on (or still in a loop).
      Join = llvm::BasicBlock::Create(Ctx, "region" + llvm::Twine(R) + ".next", &H);
      Before = B.CreateLoad(B.getInt32Ty(), MyState);
      B.CreateCondBr(B.CreateICmpEQ(Before, B.getInt32(R)), First, Join);
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
      B.CreateStore(B.CreateLoad(Ty, Slot), Copy);
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
      for (llvm::LoadInst *Load : readsBeforeStores(Clones, VMap[A])) {
        if (!Thread0)
          Thread0 = Pre.CreateInBoundsGEP(Pre.getInt8Ty(), Arena,
                                          Pre.CreateAdd(Pre.CreateMul(Threads, Pre.getInt64(Home.Start)),
                                                        Pre.CreateMul(GroupFirst, Pre.getInt64(Home.Size))),
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
  bool WarpCuts, LoopCuts;
  const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots;
  llvm::LLVMContext &Ctx;
  // Per loop cut (by region) with a lockstep counter: the threads' slot of its iteration counter, and the entry's
  // counter (one, or one per warp).
  std::map<size_t, std::pair<llvm::AllocaInst *, llvm::AllocaInst *>> Counters;
  size_t Original = 0;     // instructions of the working copy
  size_t UnrollBudget = 0; // instructions that lockstep passes may still add as copies of their regions
  llvm::BasicBlock *RegionStart = nullptr, *Done = nullptr;
  llvm::Value *EngineCtx = nullptr, *ThreadCtx = nullptr, *Threads = nullptr, *Arena = nullptr,
              *NextStates = nullptr, *Exchange = nullptr;
  llvm::AllocaInst *State = nullptr, *WarpState = nullptr, *Phase = nullptr, *WarpAcc = nullptr;
  // The region being built: the block before its thread loops, the linear index of its group's first thread
  // (i64), and with warp cuts the lane (i32), the exchange buffers and a vote's or redux's result.
  llvm::BasicBlock *RegionPre = nullptr;
  llvm::Value *GroupFirst = nullptr, *LaneIndex = nullptr, *TakeFrom = nullptr, *PutTo = nullptr,
              *WarpResult = nullptr;
  // With warp cuts, the warp being run (i32); in a lockstep pass with a counter, the counter's value.
  llvm::Value *CurrentWarp = nullptr, *LockstepK = nullptr;
  unsigned CounterStep = 1; // the iterations a lockstep pass runs
};

bool buildRegionEntry(llvm::Module &M, llvm::Function &Kernel, const KernelInfo &K,
                      const std::set<llvm::Function *> &Waiting, bool &WarpCuts) {
  llvm::Function *G = workingCopy(M, Kernel, Waiting);
  if (!G)
    return false;
  if (G->getInstructionCount() > MaxKernelInstructions) {
    G->eraseFromParent();
    return false;
  }
  std::vector<Cut> Cuts;
  std::map<llvm::AllocaInst *, AllocaHome> Homes;
  uint64_t ArenaBytesPerThread = 0;
  std::set<llvm::Value *> UniformValues;
  std::set<llvm::AllocaInst *> UniformSlots;
  std::map<llvm::BasicBlock *, llvm::AllocaInst *> CounterSlots;
  std::set<llvm::Value *> UniformCounters; // the counters of uniform loops with cuts (rewriteUniformLoopInductions)
  bool Ok = cutAtWaits(*G, Cuts, UniformValues, WarpCuts);
  bool LoopCuts = false;
  llvm::BasicBlock *Start = nullptr;
  if (Ok) {
    LoopCuts = cutDivergentLoops(*G, Cuts, UniformValues, CounterSlots);
    rewriteUniformLoopInductions(*G, Cuts, UniformValues, UniformCounters);
    Ok = Cuts.size() <= MaxCuts;
  }
  if (Ok) {
    // The allocas stay in the entry block, which no region clones; the code after them is region 0.
    Start = G->getEntryBlock().splitBasicBlock(G->getEntryBlock().getFirstNonPHIOrDbgOrAlloca(), "region.start");
    localiseValuesLiveAcrossCuts(*G, Cuts, UniformValues, UniformCounters, UniformSlots);
    Ok = placeAllocas(*G, Cuts, UniformSlots, Homes, ArenaBytesPerThread);
  }
  llvm::Function *Entry = nullptr;
  if (Ok) {
    relaxSharedAtomics(*G);
    Entry = createBlockEntry(M, Kernel, RegionEntryPrefix, K.ParamSize);
    Ok = RegionBuilder(*G, *Entry, Cuts, Homes, ArenaBytesPerThread, WarpCuts, LoopCuts, CounterSlots).build(Start);
  }
  G->eraseFromParent();
  for (const char *Name : {PutName, ShuffleName, WarpResultName})
    if (llvm::Function *StandIn = M.getFunction(Name); StandIn && StandIn->use_empty())
      StandIn->eraseFromParent();
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
    if (!(K.Flags & (CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS)) ||
        (K.Flags & NonRegionFlags))
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
    bool WarpCuts = false;
    if (buildRegionEntry(M, *Kernel, K, Waiting, WarpCuts))
      K.Flags |= CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY | (WarpCuts ? CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS : 0);
  }
}

} // namespace cushim::ptx
