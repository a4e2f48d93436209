// Object code generation for lowered PTX modules: new-pass-manager optimisation pipeline, then an ELF object
// emitted by a TargetMachine built from a HAL target description.
#include "ptx_translate/Codegen.h"

#include "ptx_translate/AddressFolding.h"
#include "ptx_translate/CastMerging.h"
#include "ptx_translate/GuardVersioning.h"
#include "ptx_translate/NextBlockPrefetch.h"
#include "ptx_translate/RegionUnswitch.h"
#include "ptx_translate/RuntimeUnrollMerge.h"
#include "ptx_translate/StreamingStores.h"
#include "ptx_translate/StrengthReduction.h"
#include "ptx_translate/ThreadLoopInterchange.h"
#include "ptx_translate/ThreadLoopSplit.h"
#include "ptx_translate/ThreadLoopStride.h"
#include "ptx_translate/WrappingMasks.h"

#include <llvm/Analysis/CGSCCPassManager.h>
#include <llvm/Analysis/LoopAnalysisManager.h>
#include <llvm/Analysis/TargetLibraryInfo.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/PassManager.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CodeGen.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

namespace cushim::ptx {

namespace {

// LLVM's target registry is filled once per process; the host target is always available, others when linked.
void initializeTargets() {
  static std::once_flag Once;
  std::call_once(Once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    disableCodegenStrengthReduction();
    raiseRegionUnswitchThreshold();
  });
}

struct HostDescription {
  std::string Triple, Cpu, Features;
};

const HostDescription &hostDescription() {
  static const HostDescription Desc = [] {
    HostDescription D;
    D.Triple = llvm::sys::getProcessTriple();
    D.Cpu = llvm::sys::getHostCPUName().str();
    // Sorted so the string (part of JIT cache keys) is stable from run to run.
    std::vector<std::string> Parts;
    for (const auto &F : llvm::sys::getHostCPUFeatures())
      Parts.push_back(std::string(1, F.second ? '+' : '-').append(F.first().data(), F.first().size()));
    std::sort(Parts.begin(), Parts.end());
    for (const std::string &P : Parts) {
      if (!D.Features.empty())
        D.Features += ',';
      D.Features += P;
    }
    return D;
  }();
  return Desc;
}

llvm::OptimizationLevel passLevel(unsigned OptLevel) {
  switch (OptLevel) {
  case 0:
    return llvm::OptimizationLevel::O0;
  case 1:
    return llvm::OptimizationLevel::O1;
  case 2:
    return llvm::OptimizationLevel::O2;
  default:
    return llvm::OptimizationLevel::O3;
  }
}

llvm::CodeGenOptLevel codegenLevel(unsigned OptLevel) {
  switch (OptLevel) {
  case 0:
    return llvm::CodeGenOptLevel::None;
  case 1:
    return llvm::CodeGenOptLevel::Less;
  case 2:
    return llvm::CodeGenOptLevel::Default;
  default:
    return llvm::CodeGenOptLevel::Aggressive;
  }
}

// Replaces llvm.global_ctors / llvm.global_dtors with one external function calling the entries in priority
// order: a JIT without a platform runtime does not run .init_array, so the backend calls this symbol itself.
void outlineStructors(llvm::Module &M, const char *ArrayName, const char *FunctionName, bool Reverse) {
  llvm::GlobalVariable *GV = M.getGlobalVariable(ArrayName);
  if (!GV)
    return;
  std::vector<std::pair<uint64_t, llvm::Constant *>> Entries;
  if (GV->hasInitializer()) {
    if (auto *Array = llvm::dyn_cast<llvm::ConstantArray>(GV->getInitializer())) {
      for (llvm::Use &Op : Array->operands()) {
        auto *Entry = llvm::dyn_cast<llvm::ConstantStruct>(Op.get());
        if (!Entry || Entry->getNumOperands() < 2)
          continue;
        auto *Priority = llvm::dyn_cast<llvm::ConstantInt>(Entry->getOperand(0));
        llvm::Constant *Fn = Entry->getOperand(1);
        if (!Priority || Fn->isNullValue())
          continue;
        Entries.emplace_back(Priority->getZExtValue(), Fn);
      }
    }
  }
  GV->eraseFromParent();
  std::stable_sort(Entries.begin(), Entries.end(), [](const auto &A, const auto &B) { return A.first < B.first; });
  if (Reverse)
    std::reverse(Entries.begin(), Entries.end());

  llvm::LLVMContext &Ctx = M.getContext();
  auto *FnTy = llvm::FunctionType::get(llvm::Type::getVoidTy(Ctx), false);
  auto *Outlined = llvm::Function::Create(FnTy, llvm::GlobalValue::ExternalLinkage, FunctionName, M);
  llvm::IRBuilder<> B(llvm::BasicBlock::Create(Ctx, "entry", Outlined));
  for (auto &[Priority, Fn] : Entries)
    B.CreateCall(FnTy, Fn);
  B.CreateRetVoid();
}

} // namespace

const char *hostTargetTriple() { return hostDescription().Triple.c_str(); }
const char *hostTargetCpu() { return hostDescription().Cpu.c_str(); }
const char *hostTargetFeatures() { return hostDescription().Features.c_str(); }

cushim_hal_target hostTarget() {
  return cushim_hal_target{hostTargetTriple(), hostTargetCpu(), hostTargetFeatures(), ""};
}

Expected<std::string> compileToObject(llvm::Module &M, const cushim_hal_target &Target, unsigned OptLevel) {
  initializeTargets();

  std::string VerifyMessage;
  llvm::raw_string_ostream VerifyOS(VerifyMessage);
  if (llvm::verifyModule(M, &VerifyOS))
    return makeError(CUDA_ERROR_INVALID_PTX,
                     "lowered module '" + M.getModuleIdentifier() + "' does not verify: " + VerifyOS.str());

  std::string TripleName = Target.triple && *Target.triple ? Target.triple : hostTargetTriple();
  llvm::Triple TheTriple(llvm::Triple::normalize(TripleName));
  std::string LookupError;
  const llvm::Target *TheTarget = llvm::TargetRegistry::lookupTarget(TheTriple.str(), LookupError);
  if (!TheTarget)
    return makeError(CUDA_ERROR_UNKNOWN, "no LLVM target for triple '" + TheTriple.str() + "': " + LookupError);

  llvm::TargetOptions Options;
  // Device code follows PTX's own floating-point rules, which the lowering spells out explicitly; nothing here
  // may relax them.
  std::unique_ptr<llvm::TargetMachine> TM(TheTarget->createTargetMachine(
      TheTriple.str(), Target.cpu ? Target.cpu : "", Target.features ? Target.features : "", Options, llvm::Reloc::PIC_,
      std::nullopt, codegenLevel(OptLevel)));
  if (!TM)
    return makeError(CUDA_ERROR_UNKNOWN, "cannot create a target machine for '" + TheTriple.str() + "' (cpu '" +
                                             std::string(Target.cpu ? Target.cpu : "") + "')");
  M.setTargetTriple(TheTriple.str());
  M.setDataLayout(TM->createDataLayout());

  {
    llvm::LoopAnalysisManager LAM;
    llvm::FunctionAnalysisManager FAM;
    llvm::CGSCCAnalysisManager CGAM;
    llvm::ModuleAnalysisManager MAM;
    llvm::PipelineTuningOptions PTO;
    llvm::PassBuilder PB(TM.get(), PTO);
    // Before the loop vectoriser: give flat entries' thread loops a copy without their index guards, make the
    // integer addresses of lowered PTX analysable, run thread loops around uniform inner loops block by block, and
    // rework region thread loops guarded by the thread index (strided for `tid % d == 0`, split for `tid < s`).
    PB.registerVectorizerStartEPCallback([](llvm::FunctionPassManager &FPM, llvm::OptimizationLevel) {
      // GuardVersioning and ThreadLoopInterchange need loops with preheaders; the simplification pipeline's
      // clean-ups may have folded one into a region entry's dispatch switch.
      FPM.addPass(llvm::LoopSimplifyPass());
      FPM.addPass(RuntimeUnrollMergePass());
      FPM.addPass(GuardVersioningPass());
      FPM.addPass(AddressFoldingPass());
      FPM.addPass(CastMergingPass());
      FPM.addPass(ThreadLoopInterchangePass());
      FPM.addPass(ThreadLoopStridePass());
      FPM.addPass(ThreadLoopSplitPass());
      FPM.addPass(WrappingMasksPass());
    });
    PB.registerLateLoopOptimizationsEPCallback([](llvm::LoopPassManager &LPM, llvm::OptimizationLevel) {
      LPM.addPass(RegionUnswitchPass());
    });
    // After vectorisation: stores of values just loaded from the same place go (below), large outputs' full-line
    // stores get a non-temporal form (StreamingStores.h), region entries' loads prefetch the next block's lines
    // (NextBlockPrefetch.h). Code generation's loop strength reduction is off (StrengthReduction.h); it runs here,
    // last.
    PB.registerOptimizerLastEPCallback([](llvm::ModulePassManager &MPM, llvm::OptimizationLevel Level) {
      if (Level == llvm::OptimizationLevel::O0)
        return;
      llvm::FunctionPassManager FPM;
      // A region entry keeps each thread's values in the arena and writes back the ones a region only read
      // (`store (load slot), slot`); after vectorisation such a store has other stores before it, which the
      // scoped alias metadata tells apart but the simplification pipeline's dead-store elimination does not ask
      // (it gives up at the first store in between). EarlyCSE with memory SSA drops them: scanTiles (16M ints)
      // 6.3-6.9 -> 5.3-5.8 ms, the histogram 4.9-5.7 -> 4.0-4.3 ms.
      FPM.addPass(llvm::EarlyCSEPass(/*UseMemorySSA=*/true));
      FPM.addPass(StreamingStoresPass());
      FPM.addPass(NextBlockPrefetchPass());
      FPM.addPass(llvm::createFunctionToLoopPassAdaptor(SelectiveStrengthReductionPass()));
      MPM.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(FPM)));
    });
    PB.registerModuleAnalyses(MAM);
    PB.registerCGSCCAnalyses(CGAM);
    PB.registerFunctionAnalyses(FAM);
    PB.registerLoopAnalyses(LAM);
    PB.crossRegisterProxies(LAM, FAM, CGAM, MAM);
    // Even at O0 a pipeline runs: it lowers the coroutine entries of tier T1 (CoroutineEntry.h).
    llvm::ModulePassManager MPM = OptLevel == 0 ? PB.buildO0DefaultPipeline(llvm::OptimizationLevel::O0)
                                                : PB.buildPerModuleDefaultPipeline(passLevel(OptLevel));
    MPM.run(M, MAM);
  }

  outlineStructors(M, "llvm.global_ctors", ModuleCtorsSymbol, /*Reverse=*/false);
  outlineStructors(M, "llvm.global_dtors", ModuleDtorsSymbol, /*Reverse=*/true);

  llvm::SmallVector<char, 0> Buffer;
  llvm::raw_svector_ostream OS(Buffer);
  llvm::legacy::PassManager CodegenPM;
  if (TM->addPassesToEmitFile(CodegenPM, OS, nullptr, llvm::CodeGenFileType::ObjectFile))
    return makeError(CUDA_ERROR_UNKNOWN, "target '" + TheTriple.str() + "' cannot emit object files");
  CodegenPM.run(M);
  return std::string(Buffer.begin(), Buffer.end());
}

} // namespace cushim::ptx
