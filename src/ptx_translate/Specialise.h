// Block-shape specialisation: a kernel compiled for one launch shape (block dimensions and dynamic shared-memory
// size), so that its thread loops have constant trip counts and the shape's arithmetic folds (see Specialise.cpp).
#pragma once

#include "ptx_translate/Lowering.h"
#include "support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llvm {
class Function;
class Module;
} // namespace llvm

namespace cushim::ptx {

// What a block entry may take as constant. DynamicShared is unset when only the dimensions are known (.reqntid).
struct BlockShape {
  uint32_t Dims[3] = {1, 1, 1};
  std::optional<uint32_t> DynamicShared;
};

// The shape a kernel (or a block entry copying the kernel's attributes) is specialised for, if any.
std::optional<BlockShape> blockShapeOf(const llvm::Function &F);

// Marks a kernel as specialised for Shape (a string attribute that createBlockEntry copies to the entries).
void setBlockShape(llvm::Function &Kernel, const BlockShape &Shape);

// Kernels with .reqntid run one block shape only: their entries take it as constant in the module itself.
void specialiseRequiredShapes(llvm::Module &M, const std::vector<KernelInfo> &Kernels);

// The symbol of a kernel specialised for Shape: distinct from the kernel's own, so both live in one loaded module.
std::string variantName(const std::string &Kernel, const BlockShape &Shape);

// Turns a lowered module into the variant of one kernel for one shape, to be loaded next to the module it came from:
// the kernel is renamed (variantName) and marked with the shape, the other kernels are dropped, the remaining code
// becomes private, and variables become declarations that resolve to the loaded module's. Kernels is left with
// the variant's KernelInfo alone. CUDA_ERROR_NOT_FOUND when the module has no such kernel.
Error makeKernelVariant(llvm::Module &M, std::vector<KernelInfo> &Kernels, const std::string &Kernel,
                        const BlockShape &Shape);

} // namespace cushim::ptx
