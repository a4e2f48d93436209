// Modules and functions: PTX (given as text, in a fatbinary or in a registration wrapper) translated, compiled for
// the backend's target and loaded there.
#pragma once

#include "core/JitCache.h"
#include "core/Specialiser.h"
#include "cuda_shim/hal.h"
#include "ptx_translate/Lowering.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace cushim::core {

class Context;
class Module;
class TextureReference;

using KernelVariant = ptx::LoweringOptions::Variant;

// Translates PTX for Target through the on-disk JIT cache; with Variant, only that kernel, specialised for a launch
// shape (ptx_translate/Specialise.h).
Expected<CompiledModule> compilePtx(std::string_view Ptx, const std::string &Name, const cushim_hal_target &Target,
                                    const std::optional<KernelVariant> &Variant = std::nullopt);

class CUSHIM_API Function {
public:
  Function(Module &M, ptx::KernelInfo Info, cushim_hal_kernel Hal) : M(M), Info(std::move(Info)), Hal(Hal) {}

  Module &module() const { return M; }
  const ptx::KernelInfo &info() const { return Info; }
  const std::string &name() const { return Info.Name; }
  // nullptr while its module is detached (Module::detach).
  cushim_hal_kernel hal() const { return Hal; }
  void setHal(cushim_hal_kernel NewHal) { Hal = NewHal; }
  CUfunction handle() { return reinterpret_cast<CUfunction>(this); }

  // cuFuncGetAttribute.
  Expected<int> attribute(CUfunction_attribute Attribute) const;
  // cuFuncSetAttribute (the settable ones).
  Error setAttribute(CUfunction_attribute Attribute, int Value);
  // Largest dynamic shared memory a launch may ask for.
  unsigned maxDynamicShared() const { return MaxDynamicShared; }

  // The kernel to launch with Shape: the variant compiled for it once there is one, else hal(). The first launches
  // of a shape ask for its variant (Specialiser.h).
  cushim_hal_kernel halFor(const LaunchShape &Shape) {
    if (cushim_hal_kernel Variant = loadedVariant(Shape))
      return Variant;
    return VariantCount.load(std::memory_order_relaxed) < MaxVariants ? requestVariant(Shape) : Hal;
  }
  // Publishes a loaded variant (called with the module's VariantSource locked).
  void installVariant(const LaunchShape &Shape, cushim_hal_kernel Variant);
  // Forgets the variants (their backend module goes) and the shapes asked for.
  void dropVariants();

private:
  cushim_hal_kernel requestVariant(const LaunchShape &Shape);
  // The variant loaded for Shape, or null.
  cushim_hal_kernel loadedVariant(const LaunchShape &Shape) const {
    unsigned Count = VariantCount.load(std::memory_order_acquire);
    for (unsigned I = 0; I < Count; ++I)
      if (Variants[I].Shape == Shape)
        return Variants[I].Hal;
    return nullptr;
  }

  Module &M;
  ptx::KernelInfo Info;
  cushim_hal_kernel Hal;
  // Variants by shape: a kernel launched with many shapes gets the first few.
  static constexpr unsigned MaxVariants = 4;
  struct Variant {
    LaunchShape Shape;
    cushim_hal_kernel Hal = nullptr;
  };
  std::array<Variant, MaxVariants> Variants;
  std::atomic<unsigned> VariantCount{0};
  std::mutex VariantMutex; // guards Requested and writers of Variants
  std::vector<LaunchShape> Requested;
  static constexpr unsigned MinLaunchesBeforeVariant = 3; // except with CUSHIM_SPECIALISE=sync
  std::atomic<unsigned> Launches{0}; // counted while a launch finds no variant for its shape
  unsigned MaxDynamicShared = 48 * 1024;
  int PreferredCarveout = -1;
};

class CUSHIM_API Module {
public:
  // Loads an image as cuModuleLoadData accepts it: PTX text, a fatbinary container or a registration wrapper.
  // MaxSize bounds reads when known (0: trust the image's own headers).
  static Expected<Module *> loadImage(Context &Ctx, const void *Image, size_t MaxSize, std::string Name);
  // Loads PTX text.
  static Expected<Module *> loadPtx(Context &Ctx, std::string_view Ptx, std::string Name);
  static Error unload(Module *M);

  // Library modules (cuLibraryLoadData) in a primary context keep their handles across its reset, as CUDA's
  // context-independent CUlibrary and CUkernel handles do: the reset detaches the module (its code and variables go,
  // the Module and Function objects stay registered) and the library loads it again on its next use there.
  void setKeepsHandles() { KeepsHandles = true; }
  bool keepsHandles() const { return KeepsHandles; }
  void detach();
  // Loads Image (the one the module was first loaded from) again in the module's context, now active.
  Error reattach(const void *Image, size_t MaxSize);
  bool detached() const { return Detached; }

  Context &context() const { return Ctx; }
  const std::string &name() const { return Name; }
  CUmodule handle() { return reinterpret_cast<CUmodule>(this); }

  // CUDA_ERROR_NOT_FOUND when the module has no such kernel.
  Expected<Function *> function(std::string_view KernelName);
  // Address and size of a .global/.const variable; CUDA_ERROR_NOT_FOUND when absent.
  Expected<std::pair<void *, size_t>> global(std::string_view VarName);
  const std::vector<ptx::KernelInfo> &kernels() const { return Kernels; }
  // What compiling variants of the module's kernels needs; null when the backend cannot load them (or detached).
  std::shared_ptr<VariantSource> variantSource() {
    std::lock_guard<std::mutex> G(Mutex);
    return Variants;
  }
  // cuModuleGetTexRef / cuModuleGetSurfRef: the module-scope .texref/.surfref of that name (one object per name,
  // living as long as the module); CUDA_ERROR_NOT_FOUND when absent.
  Expected<TextureReference *> textureReference(std::string_view RefName, bool Surface);

  ~Module();

private:
  Module(Context &Ctx, std::string Name) : Ctx(Ctx), Name(std::move(Name)) {}
  Error build(std::string_view Ptx);
  // Unloads the backend module (unless Unload is false: then it stays loaded for good) and drops its variables from
  // the allocation map (and the texture references).
  void releaseBackend(bool Unload = true);

  Context &Ctx;
  std::string Name;
  cushim_hal_module Hal = nullptr;
  bool KeepsHandles = false;
  std::atomic<bool> Detached{false};
  std::vector<ptx::KernelInfo> Kernels;
  std::vector<ptx::GlobalInfo> Globals;
  std::mutex Mutex;
  std::map<std::string, std::unique_ptr<Function>, std::less<>> Functions;
  std::map<std::string, TextureReference *, std::less<>> References; // key: slot symbol; owned, freed with the module
  std::shared_ptr<VariantSource> Variants;
};

CUSHIM_API Module *lookupModule(CUmodule Handle);
CUSHIM_API Function *lookupFunction(CUfunction Handle);

} // namespace cushim::core
