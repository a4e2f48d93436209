// A kernel like SAXPY writes each output line once and never reads it back: an ordinary store first reads the line
// into the cache (16 bytes of memory traffic per element instead of 12) and then evicts data worth keeping. On x86,
// a non-temporal store writes a whole line straight to memory; it is what hand-tuned CPU code uses for large
// outputs. Whether it pays depends on the launch: an output that fits in the last-level cache is better kept there
// for the next kernel. So every candidate store gets two forms, chosen per block call: non-temporal when the launch
// writes at least cushim_thread_ctx::stream_store_kib KiB with such stores (kernel_abi.h) and the address is aligned
// as the form needs (below), ordinary otherwise.
//
// A candidate is a plain vector store into an array reached through a kernel parameter (never shared memory, local
// memory or the context) that the entry does not also read (an update in place has its lines in the cache already,
// and evicting them would cost more than the plain store), and that writes whole cache lines:
//  - a store of a multiple of 64 bytes (up to 256) writes whole lines when its address is 64-byte aligned, which the
//    non-temporal form checks;
//  - narrower stores (16 or 32 bytes, the vectors of targets without AVX-512) qualify as a group: stores executed on
//    every iteration of one loop, stepping through one array with it, that together write every byte they pass
//    (the loop's stride is the bytes they cover), each aligned to its own size.
// Only functions without atomics, fences, volatile accesses or calls that may write memory take part: a CUDA program
// can only observe another thread's stores through those, and the engine runs an SFENCE before it counts blocks
// finished, so everything they wrote is in memory before anything can depend on it.
#include "ptx_translate/StreamingStores.h"

#include "ptx_translate/BlockEntry.h"
#include "ptx_translate/FlatEntry.h"
#include "ptx_translate/RegionEntry.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/Analysis/LoopInfo.h>
#include <llvm/Analysis/ScalarEvolution.h>
#include <llvm/Analysis/ScalarEvolutionExpressions.h>
#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/Module.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/Utils/BasicBlockUtils.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <vector>

namespace cushim::ptx {

namespace {

constexpr uint64_t LineBytes = 64, MaxStoreBytes = 4 * LineBytes;

// Whether nothing in F lets another thread see the order of its stores: no atomics, fences or volatile accesses,
// and no calls that may write memory (other than the runtime's block scratch, trap and unsupported).
bool storesUnobserved(const llvm::Function &F) {
  for (const llvm::BasicBlock &BB : F)
    for (const llvm::Instruction &I : BB) {
      if (I.isAtomic() || llvm::isa<llvm::FenceInst>(I))
        return false;
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I); Load && Load->isVolatile())
        return false;
      if (auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I); Store && Store->isVolatile())
        return false;
      auto *Call = llvm::dyn_cast<llvm::CallBase>(&I);
      if (!Call || Call->onlyReadsMemory())
        continue;
      // Plain memory intrinsics and masked stores are ordinary writes; a volatile one is an access as above.
      if (auto *Mem = llvm::dyn_cast<llvm::MemIntrinsic>(Call); Mem && Mem->isVolatile())
        return false;
      if (llvm::isa<llvm::IntrinsicInst>(Call))
        continue;
      const llvm::Function *Callee = Call->getCalledFunction();
      llvm::StringRef Name = Callee ? Callee->getName() : "";
      if (Name != "__cushim_block_scratch" && Name != "__cushim_trap" && Name != "__cushim_unsupported")
        return false;
    }
  return true;
}

// The parameter arrays F reads (loads and masked loads). An update in place (`y[i] = a * x[i] + y[i]`) has the
// line in the cache already: a non-temporal store would evict it and write it again, slower than a plain store.
std::set<int64_t> parameterSlotsRead(const llvm::Function &F) {
  std::set<int64_t> Slots;
  for (const llvm::BasicBlock &BB : F)
    for (const llvm::Instruction &I : BB) {
      const llvm::Value *Address = nullptr;
      if (auto *Load = llvm::dyn_cast<llvm::LoadInst>(&I))
        Address = Load->getPointerOperand();
      else if (auto *Intrinsic = llvm::dyn_cast<llvm::IntrinsicInst>(&I);
               Intrinsic && (Intrinsic->getIntrinsicID() == llvm::Intrinsic::masked_load ||
                             Intrinsic->getIntrinsicID() == llvm::Intrinsic::masked_expandload))
        Address = Intrinsic->getArgOperand(0);
      if (!Address)
        continue;
      if (std::optional<int64_t> Slot = parameterSlot(llvm::getUnderlyingObject(Address), F))
        Slots.insert(*Slot);
    }
  return Slots;
}

// How many of a vector's elements one GPU thread stores: the vectoriser writes a thread's k consecutive elements
// as one interleaved vector, shuffled with the mask <0, VF, 2VF, ..., 1, ...> (1 first at position k).
uint64_t elementsPerThread(const llvm::Value *Stored) {
  auto *Shuffle = llvm::dyn_cast<llvm::ShuffleVectorInst>(Stored);
  if (!Shuffle || Shuffle->getShuffleMask().size() < 2 || Shuffle->getMaskValue(0) != 0)
    return 1;
  llvm::ArrayRef<int> Mask = Shuffle->getShuffleMask();
  for (size_t K = 1; K < Mask.size(); ++K)
    if (Mask[K] == 1)
      return K;
  return 1;
}

struct Candidate {
  llvm::StoreInst *Store;
  uint64_t Bytes;
  uint64_t Align;     // what the non-temporal form needs: a line, or the store's own size
  int64_t Offset = 0; // in a group: from the group's first start, in bytes
};

// Candidates that write to one array in one loop with one stride.
struct Group {
  int64_t Stride = 0;
  const llvm::SCEV *FirstStart = nullptr;
  uint64_t ElementBytes = 0; // what one GPU thread stores through them (one vector lane)
  bool Unrelated = false;    // some starts differ by a run-time amount: the array is left alone
  std::vector<Candidate> Members;

  // Whether the members together write every byte of one stride: [min, min + stride) without holes or overlaps.
  bool coversStride() const {
    if (Unrelated)
      return false;
    std::vector<std::pair<int64_t, uint64_t>> Spans;
    for (const Candidate &C : Members)
      Spans.push_back({C.Offset, C.Bytes});
    std::sort(Spans.begin(), Spans.end());
    int64_t End = Spans.front().first;
    for (auto [Offset, Bytes] : Spans) {
      if (Offset != End)
        return false;
      End += static_cast<int64_t>(Bytes);
    }
    return End - Spans.front().first == Stride;
  }
};

class StreamingStores {
public:
  StreamingStores(llvm::Function &F, llvm::LoopInfo &LI, llvm::DominatorTree &DT, llvm::ScalarEvolution &SE)
      : F(F), LI(LI), DT(DT), SE(SE), DL(F.getDataLayout()) {}

  bool run() {
    collect();
    std::vector<Candidate> Chosen = WholeLines;
    uint64_t BytesPerThread = WholeLineBytesPerThread;
    for (const Group &G : Groups)
      if (G.coversStride()) {
        BytesPerThread += G.ElementBytes;
        Chosen.insert(Chosen.end(), G.Members.begin(), G.Members.end());
      }
    if (Chosen.empty())
      return false;
    llvm::Value *Stream = emitLaunchCheck(BytesPerThread);
    for (const Candidate &C : Chosen)
      splitStore(C, Stream);
    return true;
  }

private:
  llvm::Function &F;
  llvm::LoopInfo &LI;
  llvm::DominatorTree &DT;
  llvm::ScalarEvolution &SE;
  const llvm::DataLayout &DL;
  std::vector<Candidate> WholeLines;
  uint64_t WholeLineBytesPerThread = 0;
  std::vector<Group> Groups;

  void collect() {
    std::set<int64_t> Read = parameterSlotsRead(F);
    std::map<std::tuple<const llvm::Loop *, int64_t, const llvm::SCEV *>, size_t> Index;
    for (llvm::BasicBlock &BB : F)
      for (llvm::Instruction &I : BB) {
        auto *Store = llvm::dyn_cast<llvm::StoreInst>(&I);
        auto *VecTy = Store ? llvm::dyn_cast<llvm::FixedVectorType>(Store->getValueOperand()->getType()) : nullptr;
        if (!VecTy || !Store->isSimple() ||
            DL.getTypeStoreSizeInBits(VecTy->getElementType()) != VecTy->getScalarSizeInBits())
          continue;
        std::optional<int64_t> Slot = parameterSlot(llvm::getUnderlyingObject(Store->getPointerOperand()), F);
        if (!Slot || Read.count(*Slot))
          continue;
        // What one GPU thread stores through it: one lane, or the lanes the vectoriser interleaved.
        uint64_t ElementBytes = VecTy->getScalarSizeInBits() / 8 * elementsPerThread(Store->getValueOperand());
        uint64_t Bytes = DL.getTypeStoreSize(VecTy).getFixedValue();
        if (Bytes % LineBytes == 0 && Bytes <= MaxStoreBytes) {
          WholeLines.push_back({Store, Bytes, LineBytes});
          WholeLineBytesPerThread += ElementBytes;
        } else if (Bytes == 16 || Bytes == 32) {
          addToGroup(*Store, Bytes, ElementBytes, Index);
        }
      }
  }

  void addToGroup(llvm::StoreInst &Store, uint64_t Bytes, uint64_t ElementBytes,
                  std::map<std::tuple<const llvm::Loop *, int64_t, const llvm::SCEV *>, size_t> &Index) {
    llvm::Loop *L = LI.getLoopFor(Store.getParent());
    if (!L || !L->getLoopLatch() || !DT.dominates(Store.getParent(), L->getLoopLatch()))
      return; // not run on every iteration: the stores might leave holes
    auto *Rec = llvm::dyn_cast<llvm::SCEVAddRecExpr>(SE.getSCEV(Store.getPointerOperand()));
    auto *Step = Rec ? llvm::dyn_cast<llvm::SCEVConstant>(Rec->getStepRecurrence(SE)) : nullptr;
    if (!Rec || Rec->getLoop() != L || !Rec->isAffine() || !Step || Step->getAPInt().sle(0))
      return;
    const llvm::SCEV *Base = SE.getPointerBase(Rec->getStart());
    int64_t Stride = Step->getAPInt().getSExtValue();
    auto [It, New] = Index.try_emplace({L, Stride, Base}, Groups.size());
    if (New)
      Groups.push_back({Stride, Rec->getStart(), ElementBytes, false, {}});
    Group &G = Groups[It->second];
    auto *Offset = llvm::dyn_cast<llvm::SCEVConstant>(SE.getMinusSCEV(Rec->getStart(), G.FirstStart));
    if (!Offset)
      G.Unrelated = true;
    else
      G.Members.push_back({&Store, Bytes, Bytes, Offset->getAPInt().getSExtValue()});
  }

  // In the entry block: whether this launch streams, i.e. its thread count times BytesPerThread reaches
  // ctx->stream_store_kib KiB (UINT32_MAX: never).
  llvm::Value *emitLaunchCheck(uint64_t BytesPerThread) {
    llvm::IRBuilder<> B(&*F.getEntryBlock().getFirstInsertionPt());
    llvm::Value *Ctx = F.getArg(1);
    auto field = [&](size_t Offset) {
      return B.CreateZExt(B.CreateLoad(B.getInt32Ty(), B.CreateConstInBoundsGEP1_64(B.getInt8Ty(), Ctx, Offset)),
                          B.getInt64Ty());
    };
    // Threads times bytes (a grid beyond 2^64 bytes would wrap; CUDA's limits allow 2^73 threads in theory).
    llvm::Value *Bytes =
        B.CreateMul(B.getInt64(BytesPerThread), B.CreateZExt(emitBlockThreadCount(B, Ctx), B.getInt64Ty()));
    for (unsigned I = 0; I < 3; ++I)
      Bytes = B.CreateMul(Bytes, field(offsetof(cushim_thread_ctx, nctaid) + 4 * I));
    llvm::Value *KiB = field(offsetof(cushim_thread_ctx, stream_store_kib));
    llvm::Value *Enough = B.CreateICmpUGE(Bytes, B.CreateShl(KiB, 10));
    return B.CreateAnd(Enough, B.CreateICmpNE(KiB, B.getInt64(UINT32_MAX)), "stream.stores");
  }

  // store → if (stream && aligned) non-temporal store else the store as it was.
  void splitStore(const Candidate &C, llvm::Value *Stream) {
    llvm::StoreInst *Store = C.Store;
    llvm::IRBuilder<> B(Store);
    llvm::Value *Take = Stream;
    if (Store->getAlign().value() < C.Align) {
      llvm::Value *Address = B.CreatePtrToInt(Store->getPointerOperand(), B.getInt64Ty());
      Take = B.CreateAnd(Take, B.CreateICmpEQ(B.CreateAnd(Address, C.Align - 1), B.getInt64(0)), "stream.aligned");
    }
    llvm::Instruction *Then = nullptr, *Else = nullptr;
    llvm::SplitBlockAndInsertIfThenElse(Take, Store->getIterator(), &Then, &Else);
    auto *Streaming = llvm::cast<llvm::StoreInst>(Store->clone());
    Streaming->insertBefore(Then);
    Streaming->setAlignment(llvm::Align(C.Align));
    llvm::MDNode *One = llvm::MDNode::get(F.getContext(), llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(
                                                              llvm::Type::getInt32Ty(F.getContext()), 1)));
    Streaming->setMetadata(llvm::LLVMContext::MD_nontemporal, One);
    Store->moveBefore(Else);
  }
};

} // namespace

llvm::PreservedAnalyses StreamingStoresPass::run(llvm::Function &F, llvm::FunctionAnalysisManager &FAM) {
  if (!F.getName().starts_with(FlatEntryPrefix) && !F.getName().starts_with(RegionEntryPrefix))
    return llvm::PreservedAnalyses::all();
  if (llvm::Triple(F.getParent()->getTargetTriple()).getArch() != llvm::Triple::x86_64 || F.arg_size() != 2 ||
      !storesUnobserved(F))
    return llvm::PreservedAnalyses::all();
  StreamingStores Pass(F, FAM.getResult<llvm::LoopAnalysis>(F), FAM.getResult<llvm::DominatorTreeAnalysis>(F),
                       FAM.getResult<llvm::ScalarEvolutionAnalysis>(F));
  return Pass.run() ? llvm::PreservedAnalyses::none() : llvm::PreservedAnalyses::all();
}

} // namespace cushim::ptx
