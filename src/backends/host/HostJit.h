// Loading compiled kernel objects into the process: one ORC LLJIT per process, one JITDylib per loaded module,
// the device runtime (__cushim_*) resolved from a runtime JITDylib and libc/libm from the process.
#pragma once

#include "support/Error.h"

#include <cuda_shim/hal.h>

#include <memory>
#include <string>
#include <unordered_map>

namespace cushim::host {

// A loaded object: its JITDylib and the symbol sizes read from the object's symbol table.
class JitModule {
public:
  ~JitModule();
  const std::string &name() const { return Name; }

private:
  friend class HostJit;
  struct Impl;
  std::unique_ptr<Impl> P;
  std::string Name;
  std::unordered_map<std::string, uint64_t> SymbolSizes;
  bool HasCtors = false, HasDtors = false;
};

class HostJit {
public:
  // The process-wide JIT, created on first use (errors: CUDA_ERROR_UNKNOWN).
  static Expected<HostJit *> get();

  // Adds an ELF object; runs its static constructors (see ptx_translate/Codegen.h) once it is linked.
  // Errors: CUDA_ERROR_INVALID_IMAGE for an unreadable object.
  Expected<std::unique_ptr<JitModule>> load(const void *Object, size_t Size);
  // Adds another object to a loaded module: its undefined symbols resolve to the module's definitions first.
  // Errors: CUDA_ERROR_INVALID_IMAGE (unreadable object, or one that defines a symbol the module has).
  Error add(JitModule &M, const void *Object, size_t Size);
  // Address of a symbol of the module (links it on first lookup). CUDA_ERROR_NOT_FOUND if absent or unresolvable.
  Expected<void *> lookup(JitModule &M, const std::string &Name);
  // Size of a symbol from the object's symbol table, 0 if unknown.
  uint64_t symbolSize(const JitModule &M, const std::string &Name) const;
  bool hasSymbol(const JitModule &M, const std::string &Name) const;
  // Runs static destructors and removes the module's code and data.
  Error unload(std::unique_ptr<JitModule> M);

private:
  HostJit() = default;
  struct State;
  State *S = nullptr;
};

// The host's code generation target (triple, CPU, features), computed once; strings live for the process.
const cushim_hal_target &hostCodegenTarget();

// The device runtime functions lowered code calls (kernel_abi.h) and the extern device functions, by symbol name.
struct RuntimeSymbol {
  const char *Name;
  void *Address;
};
const RuntimeSymbol *runtimeSymbols(size_t &Count);

// Flushes device printf output if a kernel printed since the last call (CUDA flushes at synchronisation points).
void flushDevicePrintf();

} // namespace cushim::host
