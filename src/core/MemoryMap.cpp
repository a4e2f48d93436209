// Process-wide allocation map (unified addressing: one address space for all contexts).
#include "core/MemoryMap.h"

#include <map>
#include <mutex>

namespace cushim::core::memory_map {

namespace {
std::mutex &mutex() {
  static auto *M = new std::mutex();
  return *M;
}
std::map<uintptr_t, Allocation> &allocations() {
  static auto *A = new std::map<uintptr_t, Allocation>();
  return *A;
}
} // namespace

void insert(const Allocation &A) {
  std::lock_guard<std::mutex> G(mutex());
  allocations()[A.Base] = A;
}

void erase(uintptr_t Base) {
  std::lock_guard<std::mutex> G(mutex());
  allocations().erase(Base);
}

std::optional<Allocation> find(const void *Ptr) {
  uintptr_t P = reinterpret_cast<uintptr_t>(Ptr);
  std::lock_guard<std::mutex> G(mutex());
  auto &Map = allocations();
  auto It = Map.upper_bound(P);
  if (It == Map.begin())
    return std::nullopt;
  --It;
  const Allocation &A = It->second;
  if (P < A.Base + A.Size || (A.Size == 0 && P == A.Base))
    return A;
  return std::nullopt;
}

std::optional<Allocation> findBase(const void *Ptr) {
  std::lock_guard<std::mutex> G(mutex());
  auto It = allocations().find(reinterpret_cast<uintptr_t>(Ptr));
  if (It == allocations().end())
    return std::nullopt;
  return It->second;
}

std::optional<Allocation> findOwnedBy(const Context *Owner) {
  std::lock_guard<std::mutex> G(mutex());
  for (const auto &[Base, A] : allocations())
    if (A.Owner == Owner)
      return A;
  return std::nullopt;
}

bool containsRange(const void *Ptr, size_t Bytes) {
  std::optional<Allocation> A = find(Ptr);
  if (!A)
    return false;
  uintptr_t P = reinterpret_cast<uintptr_t>(Ptr);
  return Bytes <= A->Size && P - A->Base <= A->Size - Bytes;
}

} // namespace cushim::core::memory_map
