// Every allocation handed out, by address, so that API calls can validate pointers and find their owners.
#pragma once

#include "support/Export.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace cushim::core {

class Context;

// Allocation kinds beyond cushim_hal_memory_kind: memory the core tracks but the HAL did not allocate.
constexpr int ModuleVariableKind = 0x100; // a module's .global/.const variable (freed with its module)

struct Allocation {
  uintptr_t Base = 0;
  size_t Size = 0;
  int Kind = 0; // cushim_hal_memory_kind
  Context *Owner = nullptr;
};

namespace memory_map {
CUSHIM_API void insert(const Allocation &A);
CUSHIM_API void erase(uintptr_t Base);
// The allocation containing Ptr (one-past-the-end does not count, except for zero-sized ones).
CUSHIM_API std::optional<Allocation> find(const void *Ptr);
// The allocation that starts exactly at Ptr.
CUSHIM_API std::optional<Allocation> findBase(const void *Ptr);
// True when [Ptr, Ptr+Bytes) lies inside one allocation.
CUSHIM_API bool containsRange(const void *Ptr, size_t Bytes);
// Some allocation owned by a context (used to free everything when the context goes away).
CUSHIM_API std::optional<Allocation> findOwnedBy(const Context *Owner);
} // namespace memory_map

} // namespace cushim::core
