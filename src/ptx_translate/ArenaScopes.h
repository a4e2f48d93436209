// Alias scopes per array of a region entry's arena, so that alias analysis tells the demoted values apart (see
// ArenaScopes.cpp).
#pragma once

#include <set>
#include <vector>

namespace llvm {
class Function;
class MDNode;
class Value;
} // namespace llvm

namespace cushim::ptx {

// Adds to every load and store of F whose address derives from exactly known arrays of the arena (Arrays: per
// array, the pointers where it begins; the arrays do not overlap and no address derived from one leaves it) one
// scope per array it may touch and a noalias for every other array, in a domain of its own. Addresses derived from
// Arena by any other path get nothing (they may touch any array). False, with nothing changed, when an address
// derived from Arena is used by anything but address arithmetic, loads and stores.
// Adds to Derived everything computed from Roots by address arithmetic (GEPs, phis, selects), not entering Stop;
// false if such an address is used by anything but address arithmetic, a load, or a store as its address.
bool deriveAddresses(const std::vector<llvm::Value *> &Roots, const std::set<llvm::Value *> &Stop,
                     std::set<llvm::Value *> &Derived);

bool scopeArenaArrays(llvm::Function &F, llvm::Value *Arena, const std::vector<std::vector<llvm::Value *>> &Arrays);

} // namespace cushim::ptx
