// ORC LLJIT loading of kernel objects for the host backend. One LLJIT serves the whole process (all contexts and
// devices share the host's code); each module gets its own JITDylib, so unloading removes exactly its code and data,
// and equal symbol names in two modules never clash.
#include "HostJit.h"

#include "support/Log.h"

#include <llvm/ExecutionEngine/Orc/Core.h>
#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Object/SymbolSize.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

namespace cushim::host {

namespace {
constexpr const char *CtorsSymbol = "__cushim_module_ctors"; // see ptx_translate/Codegen.h
constexpr const char *DtorsSymbol = "__cushim_module_dtors";

void initializeNativeTarget() {
  static std::once_flag Once;
  std::call_once(Once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}
} // namespace

const cushim_hal_target &hostCodegenTarget() {
  struct Description {
    std::string Triple, Cpu, Features;
    cushim_hal_target Target;
  };
  static const Description *Desc = [] {
    auto *D = new Description; // leaked: handed out as C strings for the life of the process
    D->Triple = llvm::sys::getProcessTriple();
    D->Cpu = llvm::sys::getHostCPUName().str();
    std::vector<std::string> Parts;
    for (const auto &F : llvm::sys::getHostCPUFeatures())
      Parts.push_back(std::string(1, F.second ? '+' : '-').append(F.first().data(), F.first().size()));
    std::sort(Parts.begin(), Parts.end()); // stable text: it is part of JIT cache keys
    for (const std::string &P : Parts) {
      if (!D->Features.empty())
        D->Features += ',';
      D->Features += P;
    }
    D->Target = cushim_hal_target{D->Triple.c_str(), D->Cpu.c_str(), D->Features.c_str(), ""};
    return D;
  }();
  return Desc->Target;
}

struct JitModule::Impl {
  llvm::orc::JITDylib *JD = nullptr;
};

JitModule::~JitModule() = default;

struct HostJit::State {
  std::unique_ptr<llvm::orc::LLJIT> J;
  llvm::orc::JITDylib *Runtime = nullptr;
  std::mutex Mutex; // serialises JITDylib creation/removal and structor runs
  std::atomic<uint64_t> Counter{0};
};

Expected<HostJit *> HostJit::get() {
  static std::mutex Mutex;
  static HostJit *Instance = nullptr; // leaked: kernels may run on worker threads until the process exits
  std::lock_guard<std::mutex> Lock(Mutex);
  if (Instance)
    return Instance;
  initializeNativeTarget();
  auto J = llvm::orc::LLJITBuilder().create();
  if (!J)
    return makeError(CUDA_ERROR_UNKNOWN, "cannot create the ORC JIT: " + llvm::toString(J.takeError()));
  auto *S = new State;
  S->J = std::move(*J);
  llvm::orc::ExecutionSession &ES = S->J->getExecutionSession();
  S->Runtime = &ES.createBareJITDylib("cushim_runtime");
  llvm::orc::SymbolMap Symbols;
  size_t Count = 0;
  const RuntimeSymbol *Table = runtimeSymbols(Count);
  for (size_t I = 0; I < Count; ++I)
    Symbols[S->J->mangleAndIntern(Table[I].Name)] =
        llvm::orc::ExecutorSymbolDef(llvm::orc::ExecutorAddr::fromPtr(Table[I].Address),
                                     llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable);
  if (llvm::Error E = S->Runtime->define(llvm::orc::absoluteSymbols(std::move(Symbols))))
    return makeError(CUDA_ERROR_UNKNOWN, "cannot define the device runtime symbols: " + llvm::toString(std::move(E)));
  Instance = new HostJit;
  Instance->S = S;
  return Instance;
}

Expected<std::unique_ptr<JitModule>> HostJit::load(const void *Object, size_t Size) {
  if (!Object || Size == 0)
    return makeError(CUDA_ERROR_INVALID_IMAGE, "empty module object");
  llvm::StringRef Bytes(static_cast<const char *>(Object), Size);
  auto M = std::make_unique<JitModule>();
  M->P = std::make_unique<JitModule::Impl>();
  M->Name = "cushim_module_" + std::to_string(++S->Counter);

  // Read the symbol table first: it validates the object and gives global sizes (cuModuleGetGlobal).
  {
    auto Obj = llvm::object::ObjectFile::createObjectFile(llvm::MemoryBufferRef(Bytes, M->Name));
    if (!Obj)
      return makeError(CUDA_ERROR_INVALID_IMAGE,
                       "module object is not a readable object file: " + llvm::toString(Obj.takeError()));
    for (const auto &[Sym, SymSize] : llvm::object::computeSymbolSizes(**Obj)) {
      auto SymName = Sym.getName();
      if (!SymName) {
        llvm::consumeError(SymName.takeError());
        continue;
      }
      auto Flags = Sym.getFlags();
      if (!Flags) {
        llvm::consumeError(Flags.takeError());
        continue;
      }
      if (*Flags & llvm::object::SymbolRef::SF_Undefined)
        continue;
      M->SymbolSizes[SymName->str()] = SymSize;
    }
  }
  M->HasCtors = M->SymbolSizes.count(CtorsSymbol) != 0;
  M->HasDtors = M->SymbolSizes.count(DtorsSymbol) != 0;

  std::lock_guard<std::mutex> Lock(S->Mutex);
  auto JD = S->J->createJITDylib(M->Name);
  if (!JD)
    return makeError(CUDA_ERROR_UNKNOWN, "cannot create a JITDylib: " + llvm::toString(JD.takeError()));
  // The module itself first, then the device runtime, then what LLJIT links by default (the process: libc, libm,
  // libgcc's soft-float helpers).
  llvm::orc::JITDylibSearchOrder Order;
  Order.push_back({S->Runtime, llvm::orc::JITDylibLookupFlags::MatchExportedSymbolsOnly});
  for (auto &Link : S->J->defaultLinkOrder())
    Order.push_back(Link);
  JD->setLinkOrder(std::move(Order), /*LinkAgainstThisJITDylibFirst=*/true);
  M->P->JD = &*JD;

  if (llvm::Error E = S->J->addObjectFile(*JD, llvm::MemoryBuffer::getMemBufferCopy(Bytes, M->Name))) {
    std::string Message = llvm::toString(std::move(E));
    if (llvm::Error R = S->J->getExecutionSession().removeJITDylib(*JD))
      llvm::consumeError(std::move(R));
    return makeError(CUDA_ERROR_INVALID_IMAGE, "cannot add the module object to the JIT: " + Message);
  }
  if (M->HasCtors) {
    auto Ctors = S->J->lookup(*JD, CtorsSymbol);
    if (!Ctors) {
      std::string Message = llvm::toString(Ctors.takeError());
      if (llvm::Error R = S->J->getExecutionSession().removeJITDylib(*JD))
        llvm::consumeError(std::move(R));
      return makeError(CUDA_ERROR_INVALID_IMAGE, "cannot link the module: " + Message);
    }
    Ctors->toPtr<void (*)()>()();
  }
  return M;
}

Error HostJit::add(JitModule &M, const void *Object, size_t Size) {
  if (!Object || !Size)
    return makeError(CUDA_ERROR_INVALID_IMAGE, "empty module object");
  std::string Name = M.Name + ".variant" + std::to_string(++S->Counter);
  llvm::StringRef Bytes(static_cast<const char *>(Object), Size);
  std::lock_guard<std::mutex> Lock(S->Mutex);
  if (llvm::Error E = S->J->addObjectFile(*M.P->JD, llvm::MemoryBuffer::getMemBufferCopy(Bytes, Name)))
    return makeError(CUDA_ERROR_INVALID_IMAGE, "cannot add the object to the JIT: " + llvm::toString(std::move(E)));
  return Error::success();
}

Expected<void *> HostJit::lookup(JitModule &M, const std::string &Name) {
  auto Addr = S->J->lookup(*M.P->JD, Name);
  if (!Addr)
    return makeError(CUDA_ERROR_NOT_FOUND,
                     "symbol '" + Name + "' of " + M.Name + " cannot be resolved: " + llvm::toString(Addr.takeError()));
  return Addr->toPtr<void *>();
}

uint64_t HostJit::symbolSize(const JitModule &M, const std::string &Name) const {
  auto It = M.SymbolSizes.find(Name);
  return It == M.SymbolSizes.end() ? 0 : It->second;
}

bool HostJit::hasSymbol(const JitModule &M, const std::string &Name) const { return M.SymbolSizes.count(Name); }

Error HostJit::unload(std::unique_ptr<JitModule> M) {
  if (!M || !M->P->JD)
    return Error::success();
  if (M->HasDtors) {
    if (auto Dtors = S->J->lookup(*M->P->JD, DtorsSymbol))
      Dtors->toPtr<void (*)()>()();
    else
      llvm::consumeError(Dtors.takeError());
  }
  std::lock_guard<std::mutex> Lock(S->Mutex);
  if (llvm::Error E = S->J->getExecutionSession().removeJITDylib(*M->P->JD))
    return makeError(CUDA_ERROR_UNKNOWN, "cannot remove " + M->Name + ": " + llvm::toString(std::move(E)));
  M->P->JD = nullptr;
  return Error::success();
}

} // namespace cushim::host
