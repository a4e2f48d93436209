// A region's thread loop often branches on a value that is the same for every thread: the exit test of a loop
// that holds a barrier (`for (s = 1; s < n; s *= 2) { ...; __syncthreads(); }`) is repeated by every thread of the
// region after the barrier, with the loop's body on one side and the code after the loop on the other. Both sides
// store, so the vectoriser would need masked stores (microcoded on AMD Zen) and declines the loop. Non-trivial
// unswitching gives each side a thread loop of its own. The O2 pipeline runs only trivial unswitching (O3 would run
// this on every function), so this pass runs it on region entries alone.
#include "ptx_translate/RegionUnswitch.h"

#include "ptx_translate/RegionEntry.h"

#include "ptx_translate/LlvmOptions.h"

#include <llvm/Transforms/Scalar/SimpleLoopUnswitch.h>

#include <mutex>

namespace cushim::ptx {

llvm::PreservedAnalyses RegionUnswitchPass::run(llvm::Loop &L, llvm::LoopAnalysisManager &AM,
                                                llvm::LoopStandardAnalysisResults &AR, llvm::LPMUpdater &U) {
  if (!L.getHeader()->getParent()->getName().starts_with(RegionEntryPrefix))
    return llvm::PreservedAnalyses::all();
  return llvm::SimpleLoopUnswitchPass(/*NonTrivial=*/true).run(L, AM, AR, U);
}

void raiseRegionUnswitchThreshold() {
  // LLVM's default (50) is below the thread loops of a scan step once a block-shape variant folds its tid.y and
  // tid.z loops away: the variant of the prefix scan's tile kernel then kept its masked loop and ran 2.5x slower.
  // The size of the SGEMM module's compile did not change measurably.
  static std::once_flag Once;
  std::call_once(Once, [] { setLlvmOption("unswitch-threshold", 200); });
}

} // namespace cushim::ptx
