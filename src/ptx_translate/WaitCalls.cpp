#include "ptx_translate/WaitCalls.h"

#include "cuda_shim/kernel_abi.h"

#include <llvm/IR/Instructions.h>
#include <llvm/IR/Module.h>
#include <llvm/Transforms/Utils/Cloning.h>

#include <map>
#include <string>
#include <vector>

namespace cushim::ptx {

namespace {

// The runtime functions of kernel_abi.h that wait for other threads.
const std::map<std::string, WaitCall> &waitCalls() {
  static const std::map<std::string, WaitCall> Calls = {
      {"__cushim_bar_sync", {WaitKind::Barrier, CUSHIM_CORO_BAR_SYNC, false}},
      {"__cushim_bar_arrive", {WaitKind::Barrier, CUSHIM_CORO_BAR_ARRIVE, false}},
      {"__cushim_bar_red", {WaitKind::Barrier, CUSHIM_CORO_BAR_RED, true}},
      {"__cushim_shfl_sync", {WaitKind::Collective, CUSHIM_COLLECTIVE_SHFL, true}},
      {"__cushim_vote_sync", {WaitKind::Collective, CUSHIM_COLLECTIVE_VOTE, true}},
      {"__cushim_match_sync", {WaitKind::Collective, CUSHIM_COLLECTIVE_MATCH, true}},
      {"__cushim_redux_sync", {WaitKind::Collective, CUSHIM_COLLECTIVE_REDUX, true}},
      {"__cushim_activemask", {WaitKind::Collective, CUSHIM_COLLECTIVE_ACTIVEMASK, true}},
      {"__cushim_warp_sync", {WaitKind::Collective, CUSHIM_COLLECTIVE_WARPSYNC, false}},
      {"__cushim_warp_step", {WaitKind::Collective, CUSHIM_COLLECTIVE_WARPSTEP, false}},
  };
  return Calls;
}

} // namespace

const WaitCall *waitCallOf(const llvm::CallBase &Call) {
  const llvm::Function *Callee = Call.getCalledFunction();
  if (!Callee)
    return nullptr;
  auto It = waitCalls().find(Callee->getName().str());
  return It == waitCalls().end() ? nullptr : &It->second;
}

std::set<llvm::Function *> waitingFunctions(llvm::Module &M, bool &Ok) {
  std::map<llvm::Function *, std::set<llvm::Function *>> Callers;
  std::vector<llvm::Function *> Work;
  Ok = true;
  bool AnyIndirect = false;
  for (llvm::Function &F : M) {
    if (F.isDeclaration())
      continue;
    for (llvm::BasicBlock &BB : F)
      for (llvm::Instruction &I : BB)
        if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I)) {
          if (waitCallOf(*Call))
            Work.push_back(&F);
          else if (llvm::Function *Callee = Call->getCalledFunction())
            Callers[Callee].insert(&F);
          else
            AnyIndirect = true;
        }
  }
  std::set<llvm::Function *> Waiting;
  while (!Work.empty()) {
    llvm::Function *F = Work.back();
    Work.pop_back();
    if (!Waiting.insert(F).second)
      continue;
    for (llvm::Function *Caller : Callers[F])
      Work.push_back(Caller);
  }
  // A function pointer may lead to a waiting device function: the waits would not be visible to the entry.
  if (AnyIndirect && !Waiting.empty())
    Ok = false;
  return Waiting;
}

bool inlineWaitingCalls(llvm::Function &F, const std::set<llvm::Function *> &Waiting) {
  for (unsigned Round = 0; Round < 64; ++Round) {
    std::vector<llvm::CallBase *> Calls;
    for (llvm::BasicBlock &BB : F)
      for (llvm::Instruction &I : BB)
        if (auto *Call = llvm::dyn_cast<llvm::CallBase>(&I))
          if (llvm::Function *Callee = Call->getCalledFunction(); Callee && Waiting.count(Callee))
            Calls.push_back(Call);
    if (Calls.empty())
      return true;
    for (llvm::CallBase *Call : Calls) {
      llvm::InlineFunctionInfo Info;
      if (!llvm::InlineFunction(*Call, Info).isSuccess())
        return false;
    }
  }
  return false;
}

} // namespace cushim::ptx
