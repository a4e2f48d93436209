// Process-wide allocation map (unified addressing: one address space for all contexts) and device-memory counts.
#include "core/MemoryMap.h"

#include "core/Context.h"
#include "core/Device.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace cushim::core::memory_map {

namespace {
// Every copy and launch check looks addresses up here from any host thread: lookups share the lock.
std::shared_mutex &mutex() {
  static auto *M = new std::shared_mutex();
  return *M;
}
std::map<uintptr_t, Allocation> &allocations() {
  static auto *A = new std::map<uintptr_t, Allocation>();
  return *A;
}

constexpr int MaxCountedDevices = 64;
std::atomic<int64_t> DeviceBytes[MaxCountedDevices];

// Device and managed allocations occupy device memory on a GPU (managed memory as it migrates there); pinned and
// registered host memory and module variables do not count.
void count(const Allocation &A, int Sign) {
  if ((A.Kind == CUSHIM_HAL_MEMORY_DEVICE || A.Kind == CUSHIM_HAL_MEMORY_MANAGED) && A.Owner)
    addDeviceBytes(A.Owner->device().ordinal(), Sign * static_cast<int64_t>(A.Size));
}
} // namespace

void insert(const Allocation &A) {
  std::lock_guard<std::shared_mutex> G(mutex());
  auto &Map = allocations();
  if (auto It = Map.find(A.Base); It != Map.end())
    count(It->second, -1);
  static uint64_t NextId = 1;
  Allocation &Stored = Map[A.Base] = A;
  Stored.Id = NextId++;
  count(A, +1);
}

void erase(uintptr_t Base) {
  std::lock_guard<std::shared_mutex> G(mutex());
  auto It = allocations().find(Base);
  if (It == allocations().end())
    return;
  count(It->second, -1);
  allocations().erase(It);
}

std::optional<Allocation> find(const void *Ptr) {
  uintptr_t P = reinterpret_cast<uintptr_t>(Ptr);
  std::shared_lock<std::shared_mutex> G(mutex());
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
  std::shared_lock<std::shared_mutex> G(mutex());
  auto It = allocations().find(reinterpret_cast<uintptr_t>(Ptr));
  if (It == allocations().end())
    return std::nullopt;
  return It->second;
}

std::optional<Allocation> findOwnedBy(const Context *Owner) {
  std::shared_lock<std::shared_mutex> G(mutex());
  for (const auto &[Base, A] : allocations())
    if (A.Owner == Owner)
      return A;
  return std::nullopt;
}

std::vector<Allocation> allOwnedBy(const Context *Owner, int Kind) {
  std::vector<Allocation> Result;
  std::shared_lock<std::shared_mutex> G(mutex());
  for (const auto &[Base, A] : allocations())
    if (A.Owner == Owner && A.Kind == Kind)
      Result.push_back(A);
  return Result;
}

bool containsRange(const void *Ptr, size_t Bytes) {
  std::optional<Allocation> A = find(Ptr);
  if (!A)
    return false;
  uintptr_t P = reinterpret_cast<uintptr_t>(Ptr);
  if (Bytes <= A->Size && P - A->Base <= A->Size - Bytes)
    return true;
  // Mappings placed side by side in a reserved range (cuMemMap) form one contiguous device range.
  std::shared_lock<std::shared_mutex> G(mutex());
  auto &Map = allocations();
  uintptr_t End = P + Bytes, Reached = A->Base + A->Size;
  auto It = Map.find(A->Base);
  if (It != Map.end())
    ++It;
  for (; A->Kind == VmmKind && Reached < End && It != Map.end() && It->first == Reached && It->second.Kind == VmmKind;
       ++It)
    Reached += It->second.Size;
  return A->Kind == VmmKind && Reached >= End;
}

std::vector<Allocation> overlapping(const void *Ptr, size_t Bytes) {
  uintptr_t P = reinterpret_cast<uintptr_t>(Ptr);
  std::vector<Allocation> Result;
  std::shared_lock<std::shared_mutex> G(mutex());
  auto &Map = allocations();
  auto It = Map.lower_bound(P);
  if (It != Map.begin() && std::prev(It)->second.Base + std::prev(It)->second.Size > P)
    Result.push_back(std::prev(It)->second);
  for (; It != Map.end() && It->first < P + Bytes; ++It)
    Result.push_back(It->second);
  return Result;
}

bool setFlags(uintptr_t Base, unsigned Flags) {
  std::lock_guard<std::shared_mutex> G(mutex());
  auto It = allocations().find(Base);
  if (It == allocations().end())
    return false;
  It->second.Flags = Flags;
  return true;
}

bool setSyncMemops(uintptr_t Base, bool Value) {
  std::lock_guard<std::shared_mutex> G(mutex());
  auto It = allocations().find(Base);
  if (It == allocations().end())
    return false;
  It->second.SyncMemops = Value;
  return true;
}

void addDeviceBytes(int Ordinal, int64_t Delta) {
  if (Ordinal >= 0 && Ordinal < MaxCountedDevices)
    DeviceBytes[Ordinal].fetch_add(Delta, std::memory_order_relaxed);
}

uint64_t deviceBytes(int Ordinal) {
  if (Ordinal < 0 || Ordinal >= MaxCountedDevices)
    return 0;
  int64_t V = DeviceBytes[Ordinal].load(std::memory_order_relaxed);
  return V > 0 ? static_cast<uint64_t>(V) : 0;
}

} // namespace cushim::core::memory_map
