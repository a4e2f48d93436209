// PTX AST to target-neutral LLVM IR with per-thread semantics (see include/cuda_shim/kernel_abi.h).
#pragma once

#include "ptx_translate/Ast.h"
#include "support/Error.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace cushim::ptx {

// One kernel parameter as laid out in the packed parameter buffer.
struct ParamInfo {
  uint32_t Offset = 0;
  uint32_t Size = 0;
  uint32_t Align = 0;
};

// What the runtime needs to know about a kernel without looking at IR.
struct KernelInfo {
  std::string Name;               // PTX name, also the symbol of the lowered kernel
  std::vector<ParamInfo> Params;
  uint32_t ParamSize = 0;         // total bytes of the parameter buffer
  uint32_t StaticSharedSize = 0;  // bytes of .shared variables this kernel can reach
  uint32_t LocalSize = 0;         // bytes of .local storage (estimate)
  uint32_t Flags = 0;             // cushim_hal_kernel_flags
  uint32_t MaxThreads = 0;        // from .maxntid / .reqntid (product), 0 if none
  std::optional<std::vector<uint32_t>> ReqNTid;
};

// A module-scope .global or .const variable (the target of cudaMemcpyToSymbol, cuModuleGetGlobal).
struct GlobalInfo {
  std::string Name;
  StateSpace Space = StateSpace::Global;
  uint64_t Size = 0;
  bool Managed = false;
};

struct LoweredModule {
  std::unique_ptr<llvm::Module> IR;
  std::vector<KernelInfo> Kernels;
  std::vector<GlobalInfo> Globals;
};

struct LoweringOptions {
  std::string ModuleName = "ptx"; // also the SOURCE of error messages
  // Add the engine-tier entries (FlatEntry.h, CoroutineEntry.h). Coroutine entries need LLVM's coroutine passes,
  // which compileToObject runs at every optimisation level; a consumer that JIT-compiles the IR as it is must
  // turn this off.
  bool TierEntries = true;
  // Lower only this kernel, as a variant for one launch shape (Specialise.h: makeKernelVariant).
  struct Variant {
    std::string Kernel;
    uint32_t Block[3] = {1, 1, 1};
    uint32_t DynamicShared = 0;
  };
  std::optional<Variant> Specialise;
};

// Lowers a parsed module. PTX we cannot translate fails as NVIDIA's JIT fails on it, with CUDA_ERROR_INVALID_PTX
// (cudaErrorInvalidPtx): "SOURCE:LINE: unsupported PTX instruction 'OPCODE.MODS'" for valid PTX not implemented yet
// (SOURCE is Options.ModuleName), "SOURCE:LINE: invalid PTX instruction ..." for malformed operands.
Expected<LoweredModule> lowerModule(const Module &M, llvm::LLVMContext &Ctx, const LoweringOptions &Options = {});

} // namespace cushim::ptx
