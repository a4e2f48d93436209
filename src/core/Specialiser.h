// Block-shape specialisation of kernels (ptx_translate/Specialise.h): launches of a kernel with a shape ask for a
// variant compiled for that shape; later launches of the shape run it. CUSHIM_SPECIALISE picks when the variant is
// compiled: by the launching thread once the kernel has been launched 3 times without one (auto, the default), at
// the first launch of each shape (sync), in the background (async; launches run the generic code until it is
// loaded) or never (off).
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

namespace cushim::core {

class Function;

// A launch shape: what a variant is compiled for.
struct LaunchShape {
  uint32_t Block[3] = {1, 1, 1};
  uint32_t DynamicShared = 0;
  bool operator==(const LaunchShape &O) const {
    return Block[0] == O.Block[0] && Block[1] == O.Block[1] && Block[2] == O.Block[2] &&
           DynamicShared == O.DynamicShared;
  }
};

// What compiling a variant needs of its module, shared with background compiles so that the module may go while
// one runs: the module closes it (under Mutex) before its backend module and functions go, and a compile that
// finishes later finds it closed and drops its result.
struct VariantSource {
  std::mutex Mutex;
  bool Closed = false;
  std::string Ptx;
  std::string ModuleName;
  cushim_hal_target Target{};
  cushim_hal_module Hal = nullptr;
};

// Compiles the variant of F for Shape and installs it in F (Function::installVariant). Sync: now, on this thread;
// otherwise queued for the process's specialisation thread. Failures are logged; the shape keeps the generic code.
void requestVariant(std::shared_ptr<VariantSource> Source, Function &F, const LaunchShape &Shape, bool Sync);

} // namespace cushim::core
