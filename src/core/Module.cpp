// Module loading: pick the PTX, translate it (parse, lower, compile for the backend's target) and load it.
#include "core/Module.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/Handles.h"
#include "core/JitCache.h"
#include "core/MemoryMap.h"
#include "core/Texture.h"
#include "fatbin/Fatbin.h"
#include "hal/Hal.h"
#include "ptx_translate/Codegen.h"
#include "ptx_translate/Parser.h"
#include "support/Config.h"
#include "support/Log.h"

#include <llvm/ADT/STLFunctionalExtras.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/raw_ostream.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>

namespace cushim::core {

static HandleRegistry<Module> &modules() {
  static auto *R = new HandleRegistry<Module>();
  return *R;
}
static HandleRegistry<Function> &functions() {
  static auto *R = new HandleRegistry<Function>();
  return *R;
}

Module *lookupModule(CUmodule Handle) { return Handle ? modules().lookup(Handle) : nullptr; }
Function *lookupFunction(CUfunction Handle) { return Handle ? functions().lookup(Handle) : nullptr; }

// Writes one artefact of a module to CUSHIM_DUMP_DIR.
static void dumpArtefact(const std::string &ModuleName, const char *Extension, std::string_view Data) {
  const std::string &Dir = config().DumpDir;
  if (Dir.empty())
    return;
  static std::atomic<unsigned> Counter{0};
  std::string Safe;
  for (char C : ModuleName)
    Safe += (std::isalnum(static_cast<unsigned char>(C)) || C == '.' || C == '_' || C == '-') ? C : '_';
  std::string Path = Dir + "/" + std::to_string(Counter++) + "-" + Safe + Extension;
  std::ofstream Out(Path, std::ios::binary);
  Out.write(Data.data(), static_cast<std::streamsize>(Data.size()));
  if (!Out)
    CUSHIM_LOG_WARN("CUSHIM_DUMP_DIR: cannot write {}", Path);
}

Expected<Module *> Module::loadPtx(Context &Ctx, std::string_view Ptx, std::string Name) {
  CUSHIM_TRY(Ctx.stickyError());
  auto *M = new Module(Ctx, std::move(Name));
  if (Error E = M->build(Ptx); E.isError()) {
    delete M;
    return E;
  }
  modules().add(M);
  Ctx.addModule(M);
  return M;
}

// Finds the PTX of an image as cuModuleLoadData accepts it and hands it to Use.
static Error withImagePtx(const Context &Ctx, const void *Image, size_t MaxSize, const std::string &Name,
                          llvm::function_ref<Error(std::string_view)> Use) {
  if (!Image)
    return makeError(CUDA_ERROR_INVALID_VALUE, "module image is NULL");
  Expected<fatbin::Image> Parsed = makeError(CUDA_ERROR_INVALID_IMAGE, "");
  switch (fatbin::detectImageKind(Image)) {
  case fatbin::ImageKind::PtxText: {
    const char *Text = static_cast<const char *>(Image);
    size_t Length = MaxSize ? strnlen(Text, MaxSize) : std::strlen(Text);
    return Use(std::string_view(Text, Length));
  }
  case fatbin::ImageKind::Wrapper:
    Parsed = fatbin::parseWrapper(Image);
    break;
  case fatbin::ImageKind::Container:
    Parsed = fatbin::parseContainer(Image, MaxSize);
    break;
  case fatbin::ImageKind::Elf:
    return makeError(CUDA_ERROR_NO_BINARY_FOR_GPU,
                     "module image is a cubin (SASS machine code for an NVIDIA GPU), which cuda_shim cannot run; "
                     "load PTX instead (nvcc -ptx, or embed it with -gencode arch=compute_XX,code=compute_XX)");
  case fatbin::ImageKind::Unknown:
    return makeError(CUDA_ERROR_INVALID_IMAGE, "module image is neither PTX text, a fatbinary nor a cubin");
  }
  if (!Parsed)
    return Parsed.takeError();
  unsigned Arch = Ctx.device().arch();
  const fatbin::Entry *Ptx = fatbin::selectPtx(*Parsed, Arch);
  if (!Ptx) {
    if (fatbin::hasOnlySass(*Parsed))
      return makeError(CUDA_ERROR_NO_BINARY_FOR_GPU,
                       "the fatbinary '" + Name + "' carries only SASS (NVIDIA machine code) and no PTX; rebuild with "
                       "PTX embedded, e.g. nvcc -gencode arch=compute_80,code=compute_80");
    unsigned Lowest = 0;
    for (const fatbin::Entry &E : Parsed->Entries)
      if (E.Kind == fatbin::EntryKind::Ptx && !E.Empty && (Lowest == 0 || E.Arch < Lowest))
        Lowest = E.Arch;
    if (Lowest)
      return makeError(CUDA_ERROR_NO_BINARY_FOR_GPU,
                       fmt::format("the fatbinary '{}' has PTX for compute_{} and above only, but the device reports "
                                   "compute capability {}.{}; set CUSHIM_CC={}.{} or rebuild for a lower architecture",
                                   Name, Lowest, Arch / 10, Arch % 10, Lowest / 10, Lowest % 10));
    return makeError(CUDA_ERROR_NO_BINARY_FOR_GPU, "the fatbinary '" + Name + "' carries no code");
  }
  CUSHIM_LOG_DEBUG("module '{}': using PTX for compute_{} ({} bytes)", Name, Ptx->Arch, Ptx->Payload.size());
  return Use(Ptx->Payload);
}

Expected<Module *> Module::loadImage(Context &Ctx, const void *Image, size_t MaxSize, std::string Name) {
  Module *Loaded = nullptr;
  CUSHIM_TRY(withImagePtx(Ctx, Image, MaxSize, Name, [&](std::string_view Ptx) -> Error {
    auto M = loadPtx(Ctx, Ptx, Name);
    if (!M)
      return M.takeError();
    Loaded = *M;
    return Error::success();
  }));
  return Loaded;
}

// Parses, lowers and compiles PTX for Target (the work the JIT cache saves).
static Expected<CompiledModule> translate(std::string_view Ptx, const std::string &Name,
                                          const cushim_hal_target &Target, const std::optional<KernelVariant> &Variant) {
  Expected<ptx::Module> Ast = ptx::parsePtx(Ptx, Name);
  if (!Ast)
    return Ast.takeError();
  llvm::LLVMContext LC;
  ptx::LoweringOptions Options;
  Options.ModuleName = Name;
  Options.Specialise = Variant;
  Expected<ptx::LoweredModule> Lowered = ptx::lowerModule(*Ast, LC, Options);
  if (!Lowered)
    return Lowered.takeError();
  std::string DumpName = Variant ? Name + "." + Variant->Kernel : Name;
  auto dumpIr = [&](const char *Suffix) {
    if (config().DumpDir.empty())
      return;
    std::string IR;
    llvm::raw_string_ostream OS(IR);
    Lowered->IR->print(OS, nullptr);
    dumpArtefact(DumpName, Suffix, OS.str());
  };
  dumpIr(".ll");
  Expected<std::string> Object = ptx::compileToObject(*Lowered->IR, Target);
  if (!Object)
    return Object.takeError();
  dumpIr(".opt.ll"); // compileToObject optimised the module in place
  dumpArtefact(DumpName, ".o", *Object);
  return CompiledModule{std::move(*Object), std::move(Lowered->Kernels), std::move(Lowered->Globals)};
}

Expected<CompiledModule> compilePtx(std::string_view Ptx, const std::string &Name, const cushim_hal_target &Target,
                                    const std::optional<KernelVariant> &Variant) {
  // The on-disk cache (JitCache.h); bypassed under CUSHIM_DUMP_DIR so that every module's IR and object get written.
  JitCache &Cache = JitCache::process();
  bool UseCache = Cache.enabled() && config().DumpDir.empty();
  std::string Key;
  if (UseCache) {
    std::string Options = "O2";
    if (Variant)
      Options += fmt::format(";variant={};{},{},{};{}", Variant->Kernel, Variant->Block[0], Variant->Block[1],
                             Variant->Block[2], Variant->DynamicShared);
    Key = JitCache::key(Ptx, Target, Options);
    if (std::optional<CompiledModule> Hit = Cache.loadModule(Key)) {
      CUSHIM_LOG_DEBUG("module '{}': JIT cache hit", Name);
      return std::move(*Hit);
    }
  }
  Expected<CompiledModule> Translated = translate(Ptx, Name, Target, Variant);
  if (Translated && UseCache)
    Cache.storeModule(Key, *Translated);
  return Translated;
}

Error Module::build(std::string_view Ptx) {
  dumpArtefact(Name, ".ptx", Ptx);
  cushim_hal_target Target{};
  CUSHIM_TRY(hal::check(hal::ops().target_describe(Ctx.device().halIndex(), &Target), "target_describe"));
  Expected<CompiledModule> Compiled = compilePtx(Ptx, Name, Target);
  if (!Compiled)
    return Compiled.takeError();
  const std::string &Object = Compiled->Object;

  Kernels = std::move(Compiled->Kernels);
  Globals = std::move(Compiled->Globals);
  std::vector<cushim_hal_kernel_desc> Descs;
  for (const ptx::KernelInfo &K : Kernels)
    Descs.push_back({K.Name.c_str(), K.Flags, K.ParamSize, K.StaticSharedSize, K.LocalSize, K.MaxThreads});
  CUSHIM_TRY(hal::check(
      hal::ops().module_load(Ctx.hal(), Object.data(), Object.size(), Descs.data(), Descs.size(), &Hal),
      "module_load"));
  // Module variables are device memory as far as copies and launches are concerned.
  for (const ptx::GlobalInfo &G : Globals) {
    void *Address = nullptr;
    size_t Size = 0;
    if (hal::ops().global_get(Hal, G.Name.c_str(), &Address, &Size) == CUDA_SUCCESS && Address)
      memory_map::insert({reinterpret_cast<uintptr_t>(Address), static_cast<size_t>(G.Size),
                          G.Managed ? ManagedVariableKind : ModuleVariableKind, &Ctx});
  }
  // What compiling variants of its kernels for launch shapes needs (Specialiser.h).
  if (hal::ops().module_add_variant) {
    Variants = std::make_shared<VariantSource>();
    Variants->Ptx = std::string(Ptx);
    Variants->ModuleName = Name;
    Variants->Target = Target;
    Variants->Hal = Hal;
  }
  CUSHIM_LOG_DEBUG("module '{}' loaded: {} kernel(s), {} global(s)", Name, Kernels.size(), Globals.size());
  return Error::success();
}

Error Module::unload(Module *M) {
  modules().remove(M);
  M->Ctx.removeModule(M);
  delete M;
  return Error::success();
}

void Module::releaseBackend(bool Unload) {
  if (Variants) {
    std::lock_guard<std::mutex> G(Variants->Mutex); // waits for a variant being installed
    Variants->Closed = true;
    Variants.reset();
  }
  for (auto &[N, F] : Functions)
    F->dropVariants();
  for (auto &[Symbol, R] : References)
    delete R;
  References.clear();
  for (const ptx::GlobalInfo &G : Globals) {
    void *Address = nullptr;
    size_t Size = 0;
    if (Hal && hal::ops().global_get(Hal, G.Name.c_str(), &Address, &Size) == CUDA_SUCCESS && Address)
      memory_map::erase(reinterpret_cast<uintptr_t>(Address));
  }
  if (Hal && Unload)
    (void)hal::check(hal::ops().module_unload(Hal), "module_unload");
  Hal = nullptr;
}

void Module::detach() {
  std::lock_guard<std::mutex> G(Mutex);
  // NVIDIA's runtime keeps the __managed__ addresses it got at load time across a reset, and host code reads and
  // writes them directly: the old backend module stays loaded (never unloaded) so those addresses stay valid memory.
  bool HasManaged = std::any_of(Globals.begin(), Globals.end(), [](const ptx::GlobalInfo &G) { return G.Managed; });
  if (HasManaged)
    CUSHIM_LOG_WARN("module '{}': its __managed__ variables get new storage after the context's reset; host code "
                    "that kept their old addresses no longer shares them with kernels (docs/EXPORT_TABLES.md)",
                    Name);
  releaseBackend(/*Unload=*/!HasManaged);
  for (auto &[N, F] : Functions)
    F->setHal(nullptr);
  Ctx.removeModule(this);
  Detached = true;
  CUSHIM_LOG_DEBUG("module '{}' detached from its reset context; its handles stay valid", Name);
}

Error Module::reattach(const void *Image, size_t MaxSize) {
  std::lock_guard<std::mutex> G(Mutex);
  if (!Detached)
    return Error::success();
  CUSHIM_TRY(Ctx.stickyError());
  CUSHIM_TRY(withImagePtx(Ctx, Image, MaxSize, Name, [&](std::string_view Ptx) { return build(Ptx); }));
  for (auto &[N, F] : Functions) {
    cushim_hal_kernel HalKernel = nullptr;
    if (Error E = hal::check(hal::ops().kernel_get(Hal, N.c_str(), &HalKernel), "kernel_get"); E.isError()) {
      releaseBackend();
      return E;
    }
    F->setHal(HalKernel);
  }
  Ctx.addModule(this);
  Detached = false;
  CUSHIM_LOG_DEBUG("module '{}' loaded again in its reactivated context", Name);
  return Error::success();
}

Module::~Module() {
  for (auto &[N, F] : Functions)
    functions().remove(F.get());
  releaseBackend();
}

Expected<Function *> Module::function(std::string_view KernelName) {
  std::lock_guard<std::mutex> G(Mutex);
  if (auto It = Functions.find(KernelName); It != Functions.end())
    return It->second.get();
  for (const ptx::KernelInfo &K : Kernels) {
    if (K.Name != KernelName)
      continue;
    cushim_hal_kernel HalKernel = nullptr; // a detached module's kernels get theirs when it is loaded again
    if (!Detached)
      CUSHIM_TRY(hal::check(hal::ops().kernel_get(Hal, K.Name.c_str(), &HalKernel), "kernel_get"));
    auto F = std::make_unique<Function>(*this, K, HalKernel);
    Function *Raw = F.get();
    Functions.emplace(K.Name, std::move(F));
    functions().add(Raw);
    return Raw;
  }
  return makeError(CUDA_ERROR_NOT_FOUND, "module '" + Name + "' has no kernel named '" + std::string(KernelName) + "'");
}

Expected<std::pair<void *, size_t>> Module::global(std::string_view VarName) {
  if (Detached)
    return makeError(CUDA_ERROR_CONTEXT_IS_DESTROYED,
                     "module '" + Name + "': its context was reset; its variables exist again once it is current");
  for (const ptx::GlobalInfo &G : Globals) {
    if (G.Name != VarName)
      continue;
    void *Address = nullptr;
    size_t Size = 0;
    CUSHIM_TRY(hal::check(hal::ops().global_get(Hal, G.Name.c_str(), &Address, &Size), "global_get"));
    return std::make_pair(Address, static_cast<size_t>(G.Size));
  }
  return makeError(CUDA_ERROR_NOT_FOUND,
                   "module '" + Name + "' has no .global or .const variable named '" + std::string(VarName) + "'");
}

Expected<TextureReference *> Module::textureReference(std::string_view RefName, bool Surface) {
  std::string Symbol = (Surface ? CUSHIM_SURFREF_SLOT_PREFIX : CUSHIM_TEXREF_SLOT_PREFIX) + std::string(RefName);
  std::lock_guard<std::mutex> G(Mutex);
  if (Detached)
    return makeError(CUDA_ERROR_CONTEXT_IS_DESTROYED, "module '" + Name + "': its context was reset");
  if (auto It = References.find(Symbol); It != References.end())
    return It->second;
  void *Slot = nullptr;
  size_t Size = 0;
  if (hal::ops().global_get(Hal, Symbol.c_str(), &Slot, &Size) != CUDA_SUCCESS || !Slot)
    return makeError(CUDA_ERROR_NOT_FOUND,
                     fmt::format("module '{}' has no {} named '{}' (or no instruction of the module uses one)", Name,
                                 Surface ? ".surfref" : ".texref", RefName));
  auto *R = new TextureReference(Ctx, Surface ? TextureReference::Kind::Surface : TextureReference::Kind::Texture,
                                 Slot);
  References.emplace(std::move(Symbol), R);
  return R;
}

// --- Function attributes ------------------------------------------------------------------------------------------

Expected<int> Function::attribute(CUfunction_attribute Attribute) const {
  unsigned Arch = M.context().device().arch();
  switch (Attribute) {
  case CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK: return Info.MaxThreads ? static_cast<int>(Info.MaxThreads) : 1024;
  case CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES: return static_cast<int>(Info.StaticSharedSize);
  case CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES: return 0;
  case CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES: return static_cast<int>(Info.LocalSize);
  case CU_FUNC_ATTRIBUTE_NUM_REGS: return 32; // CPU threads have no register file; a typical count for occupancy maths
  case CU_FUNC_ATTRIBUTE_PTX_VERSION: return static_cast<int>(Arch);
  case CU_FUNC_ATTRIBUTE_BINARY_VERSION: return static_cast<int>(Arch);
  case CU_FUNC_ATTRIBUTE_CACHE_MODE_CA: return 0;
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: return static_cast<int>(MaxDynamicShared);
  case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT: return PreferredCarveout;
  case CU_FUNC_ATTRIBUTE_CLUSTER_SIZE_MUST_BE_SET: return 0;
  case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_WIDTH:
  case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_HEIGHT:
  case CU_FUNC_ATTRIBUTE_REQUIRED_CLUSTER_DEPTH: return 0;
  case CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED: return 0;
  case CU_FUNC_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE: return 0;
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, "unknown function attribute " + std::to_string(Attribute));
  }
}

Error Function::setAttribute(CUfunction_attribute Attribute, int Value) {
  switch (Attribute) {
  case CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES: {
    auto Optin = M.context().device().attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    if (Value < 0 || static_cast<long>(Value) + Info.StaticSharedSize > static_cast<long>(*Optin))
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("dynamic shared memory {} + static {} exceeds the device's opt-in limit {}", Value,
                                   Info.StaticSharedSize, *Optin));
    MaxDynamicShared = static_cast<unsigned>(Value);
    return Error::success();
  }
  case CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
    if (Value < -1 || Value > 100)
      return makeError(CUDA_ERROR_INVALID_VALUE, "shared memory carveout must be -1 or 0..100");
    PreferredCarveout = Value;
    return Error::success();
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     "function attribute " + std::to_string(Attribute) + " cannot be set (or is not supported yet)");
  }
}

} // namespace cushim::core
