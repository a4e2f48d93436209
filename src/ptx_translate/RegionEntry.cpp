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
// lanes' values exchanged through the arena at each such cut (RegionBuilder.cpp). Loops that threads leave at
// different iterations get a loop cut at their header, so that the thread loop runs the threads in lockstep, one
// iteration at a time (cutDivergentLoops). Kernels with other collectives, bar.arrive/bar.red, barriers with
// thread counts, spin loops or exits from device functions get the coroutine entry (CoroutineEntry.cpp) or stay
// on fibers.
#include "ptx_translate/RegionEntry.h"

#include "ptx_translate/BlockEntry.h"
#include "ptx_translate/BlockUniformity.h"
#include "ptx_translate/FlatEntry.h"
#include "ptx_translate/GridStride.h"
#include "ptx_translate/RegionInternal.h"
#include "ptx_translate/WaitCalls.h"
#include "ptx_translate/WarpStepMerging.h"
#include "support/Log.h"

#include "cuda_shim/hal.h"
#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/CFG.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/CFG.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/InstIterator.h>
#include <llvm/IR/Instructions.h>
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

#include <algorithm>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

namespace cushim::ptx {

namespace region {

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

} // namespace region

using namespace region;

namespace {

constexpr uint32_t NonRegionFlags = CUSHIM_HAL_KERNEL_USES_GRID_SYNC | CUSHIM_HAL_KERNEL_MAY_SPIN;
// The liveness walks are quadratic in the kernel's size; past this many instructions the kernel keeps coroutines.
constexpr size_t MaxKernelInstructions = 20000;
// Each cut is a region (and the liveness walks visit every cut for every instruction): past this many, coroutines
// (a test kernel with hundreds of unrolled shuffles took a minute to compile as regions).
constexpr size_t MaxCuts = 128;

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
  return contextFieldRead(llvm::getUnderlyingObject(Ptr), G.getArg(1)) ==
         int64_t(offsetof(cushim_thread_ctx, shared_base));
}

// A region entry runs its block on one OS thread from start to end, and nothing outside the block sees its
// shared memory: atomics on shared memory need no atomicity there, and plain reads and writes (no locked
// instructions) give the same results. Volatile shared accesses (warp-synchronous code) become plain too: their
// order between lanes is the cuts' business (mergeWarpSteps), and plain ones can be vectorised across lanes.
void relaxSharedMemory(llvm::Function &G) {
  std::vector<llvm::Instruction *> Atomics;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && !Load->isAtomic() && Load->isVolatile() &&
                                                         isSharedAddress(Load->getPointerOperand(), G))
      Load->setVolatile(false);
    else if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && !Store->isAtomic() && Store->isVolatile() &&
                                                                isSharedAddress(Store->getPointerOperand(), G))
      Store->setVolatile(false);
    else if (auto *RMW = llvm::dyn_cast<llvm::AtomicRMWInst>(&I); RMW && isSharedAddress(RMW->getPointerOperand(), G))
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
// bar.warp.sync over the whole warp (a constant full member mask) are cuts, and warp steps (volatile shared
// accesses), which then run as a __syncwarp of the whole warp: the lanes reach them together.
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
  case CUSHIM_COLLECTIVE_WARPSTEP:
    return CutKind::WarpSync;
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
// Whether Kernel, or a function it calls, has a loop (a back edge).
bool hasLoop(llvm::Function &Kernel) {
  return !allReachable(Kernel, [](llvm::Function &F) {
    llvm::SmallVector<std::pair<const llvm::BasicBlock *, const llvm::BasicBlock *>, 4> BackEdges;
    llvm::FindFunctionBackedges(F, BackEdges);
    return BackEdges.empty();
  });
}

// Whether only one thread of each row of the block can reach BB (one thread of a 1D block): a block dominating it
// branches on `tid.x == C` (or `!=`) and only the equal way leads to BB (`if (threadIdx.x == 0) { for (...) total +=
// s[i]; }`).
bool reachedByOneThread(llvm::BasicBlock *BB, const llvm::DominatorTree &DT, const llvm::Value *Ctx) {
  for (const llvm::DomTreeNode *Node = DT.getNode(BB); Node && Node->getIDom(); Node = Node->getIDom()) {
    auto *Br = llvm::dyn_cast<llvm::BranchInst>(Node->getIDom()->getBlock()->getTerminator());
    auto *Cmp = Br && Br->isConditional() ? llvm::dyn_cast<llvm::ICmpInst>(Br->getCondition()) : nullptr;
    if (!Cmp || !Cmp->isEquality() || !llvm::isa<llvm::ConstantInt>(Cmp->getOperand(1)))
      continue;
    const llvm::Value *X = Cmp->getOperand(0);
    if (auto *Ext = llvm::dyn_cast<llvm::CastInst>(X))
      X = Ext->getOperand(0);
    if (contextFieldRead(X, Ctx) != int64_t(offsetof(cushim_thread_ctx, tid)))
      continue;
    llvm::BasicBlock *Equal = Br->getSuccessor(Cmp->getPredicate() == llvm::ICmpInst::ICMP_EQ ? 0 : 1);
    llvm::BasicBlock *Other = Br->getSuccessor(Cmp->getPredicate() == llvm::ICmpInst::ICMP_EQ ? 1 : 0);
    if (Equal != Other && DT.dominates(llvm::BasicBlockEdge(Br->getParent(), Equal), BB))
      return true;
  }
  return false;
}

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
    // A loop one thread (per row) runs gains nothing from lockstep passes over all the block's threads.
    if (Divergent && !reachedByOneThread(L->getHeader(), DT, G.getArg(1)))
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

// How many pairs of slots joined by a copy coalesceCopiedSlots tries to merge.
constexpr unsigned MaxSlotMergeTries = 64;

// The slot a value was just loaded from: V is a load of a scalar slot with no store to that slot between it and
// Before (both in one block); null otherwise.
llvm::AllocaInst *copiedFrom(llvm::Value *V, llvm::Instruction *Before) {
  auto *Load = llvm::dyn_cast<llvm::LoadInst>(V);
  auto *From = Load ? llvm::dyn_cast<llvm::AllocaInst>(Load->getPointerOperand()) : nullptr;
  if (!From || Load->getParent() != Before->getParent() || !Load->comesBefore(Before))
    return nullptr;
  for (llvm::Instruction *I = Load->getNextNode(); I != Before; I = I->getNextNode())
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(I); Store && Store->getPointerOperand() == From)
      return nullptr;
  return From;
}

// Whether Slot's value can still be read after From: a load of Slot reachable without a store to Slot first.
bool liveAfter(llvm::AllocaInst *Slot, llvm::Instruction *From) {
  std::set<llvm::BasicBlock *> Seen;
  std::vector<llvm::Instruction *> Work{From->getNextNode()};
  while (!Work.empty()) {
    llvm::Instruction *I = Work.back();
    Work.pop_back();
    for (; I; I = I->getNextNode()) {
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(I); Load && Load->getPointerOperand() == Slot)
        return true;
      if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(I); Store && Store->getPointerOperand() == Slot)
        break;
      if (I->isTerminator())
        for (llvm::BasicBlock *Succ : llvm::successors(I))
          if (Seen.insert(Succ).second)
            Work.push_back(&Succ->front());
    }
  }
  return false;
}

// Whether Slot is a demoted value: a scalar alloca used only by loads and by stores into it.
bool plainSlot(llvm::AllocaInst *Slot) {
  if (!Slot->getAllocatedType()->isSingleValueType() || Slot->isArrayAllocation())
    return false;
  return llvm::all_of(Slot->users(), [&](llvm::User *U) {
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(U))
      return Store->getPointerOperand() == Slot && Store->getValueOperand() != Slot && Store->isSimple();
    auto *Load = llvm::dyn_cast<llvm::LoadInst>(U);
    return Load && Load->isSimple() && Load->getType() == Slot->getAllocatedType();
  });
}

// Whether Slot is written where Other's value is still needed, other than by a copy of Other's value.
bool writtenWhileLive(llvm::AllocaInst *Slot, llvm::AllocaInst *Other) {
  for (llvm::User *U : Slot->users())
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(U);
        Store && copiedFrom(Store->getValueOperand(), Store) != Other && liveAfter(Other, Store))
      return true;
  return false;
}

// Merges demoted values' slots joined by copies (`store (load A), B`) where their values are never needed at once:
// a loop's phi and the phi of a branch inside it (`if (tid < s) sum += ...` in a tree reduction) then share one
// slot, and the threads that keep their value store nothing (the copy becomes a store of a slot's own value, which
// is dropped here). Each merged pair must agree on uniformity; counters keep their own slots.
void coalesceCopiedSlots(llvm::Function &G, std::set<llvm::AllocaInst *> &UniformSlots,
                         const std::map<llvm::BasicBlock *, llvm::AllocaInst *> &CounterSlots) {
  std::set<llvm::AllocaInst *> Counters;
  for (auto &[Header, Slot] : CounterSlots)
    Counters.insert(Slot);
  std::vector<std::pair<llvm::AllocaInst *, llvm::AllocaInst *>> Copies;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I))
      if (auto *To = llvm::dyn_cast<llvm::AllocaInst>(Store->getPointerOperand()))
        if (llvm::AllocaInst *From = copiedFrom(Store->getValueOperand(), Store); From && From != To)
          Copies.emplace_back(From, To);
  // Each pair is tried once, with what earlier merges made of its slots; the liveness walks cost a pass over the
  // kernel each, so only so many are tried.
  std::map<llvm::AllocaInst *, llvm::AllocaInst *> MergedInto;
  auto current = [&](llvm::AllocaInst *A) {
    for (auto It = MergedInto.find(A); It != MergedInto.end(); It = MergedInto.find(A))
      A = It->second;
    return A;
  };
  unsigned Tries = 0;
  for (auto [From, To] : Copies) {
    From = current(From);
    To = current(To);
    if (From == To || From->getAllocatedType() != To->getAllocatedType() || Counters.count(From) ||
        Counters.count(To) || UniformSlots.count(From) != UniformSlots.count(To) || !plainSlot(From) ||
        !plainSlot(To) || ++Tries > MaxSlotMergeTries || writtenWhileLive(To, From) || writtenWhileLive(From, To))
      continue;
    To->replaceAllUsesWith(From);
    UniformSlots.erase(To);
    MergedInto[To] = From;
  }
  // Merged slots are deleted only now: the pairs still name them.
  for (auto &[To, From] : MergedInto)
    To->eraseFromParent();
  // Stores of the value just loaded from the same slot.
  std::vector<llvm::StoreInst *> SelfCopies;
  for (llvm::Instruction &I : llvm::instructions(G))
    if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I);
        Store && Store->isSimple() && llvm::isa<llvm::AllocaInst>(Store->getPointerOperand()) &&
        copiedFrom(Store->getValueOperand(), Store) == Store->getPointerOperand() &&
        llvm::cast<llvm::LoadInst>(Store->getValueOperand())->isSimple())
      SelfCopies.push_back(Store);
  for (llvm::StoreInst *Store : SelfCopies) {
    llvm::Value *Loaded = Store->getValueOperand();
    Store->eraseFromParent();
    llvm::RecursivelyDeleteTriviallyDeadInstructions(Loaded);
  }
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

// Builds K's region entry from G, the kernel's working copy (made here when null), which it erases.
bool buildRegionEntry(llvm::Module &M, llvm::Function &Kernel, const KernelInfo &K,
                      const std::set<llvm::Function *> &Waiting, bool &WarpCuts, llvm::Function *G = nullptr) {
  if (!G)
    G = workingCopy(M, Kernel, Waiting);
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
  // Regions run a warp's lanes one after another: most warp steps of warp-synchronous code need no cut then.
  mergeWarpSteps(*G, G->getArg(0), G->getArg(1));
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
    coalesceCopiedSlots(*G, UniformSlots, CounterSlots);
    Ok = placeAllocas(*G, Cuts, UniformSlots, Homes, ArenaBytesPerThread);
  }
  llvm::Function *Entry = nullptr;
  if (Ok) {
    relaxSharedMemory(*G);
    // The warps need to run one by one only past their warp cuts: the block's other regions can run as loops over
    // all its threads, and the warp cuts' regions warp by warp (RegionBuilder.cpp). The warp cuts are numbered
    // after the loop cuts and before the block barriers, so that the lowest state any thread is at runs a warp's
    // cuts before a barrier it has not reached goes on. Shuffles, votes and reductions in loops (a grid-stride
    // loop's warp sums) keep whole warp entries: their exchange buffers alternate per warp, also at loop cuts.
    bool Exchanges = llvm::any_of(Cuts, [](const Cut &C) { return isWarpCut(C.Kind) && C.Kind != CutKind::WarpSync; });
    bool WarpRegions = WarpCuts && (!Exchanges || !LoopCuts);
    if (WarpRegions)
      std::stable_partition(Cuts.begin(), Cuts.end(), [](const Cut &C) { return C.Kind != CutKind::Block; });
    Entry = createBlockEntry(M, Kernel, RegionEntryPrefix, K.ParamSize);
    Ok = buildRegions(*G, *Entry, Cuts, Homes, ArenaBytesPerThread, WarpCuts && !WarpRegions, WarpRegions, LoopCuts,
                      CounterSlots, Start);
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
    bool Waits = K.Flags & (CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS);
    if ((!Waits && !(K.Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY)) || (K.Flags & NonRegionFlags))
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
    llvm::Function *Copy = nullptr;
    if (!Waits) {
      // A kernel without waits runs on its flat entry, unless it has a grid-stride loop (GridStride.h): a region
      // entry runs that loop's iterations of all threads together. Kernels without a loop need no look.
      if (!hasLoop(*Kernel) || !(Copy = workingCopy(M, *Kernel, Waiting)))
        continue;
      if (!hasGridStrideLoop(*Copy)) {
        Copy->eraseFromParent();
        continue;
      }
    }
    bool WarpCuts = false;
    if (!buildRegionEntry(M, *Kernel, K, Waiting, WarpCuts, Copy)) // builds from the copy, and erases it
      continue;
    K.Flags |= CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY | (WarpCuts ? CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS : 0);
    if (!Waits && (K.Flags & CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY)) {
      if (llvm::Function *Flat = M.getFunction(std::string(FlatEntryPrefix) + K.Name))
        Flat->eraseFromParent();
      K.Flags &= ~uint32_t(CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY);
    }
  }
}

} // namespace cushim::ptx
