// Managed memory: allocation, stream attachment, advice and prefetch state per page, range attributes, and the
// module's __managed__ variables (core/Memory.h, docs/MEMORY.md).
#include "core/Context.h"
#include "core/Device.h"
#include "core/Memory.h"
#include "core/Module.h"
#include "core/Stream.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace cushim::core {

namespace {

// Advice is kept per 4 KiB page, relative to the allocation's start, as CUDA applies it to whole pages.
constexpr size_t PageSize = 4096;

struct Place {
  int Type = CU_MEM_LOCATION_TYPE_INVALID;
  int Id = 0;
  bool operator==(const Place &O) const { return Type == O.Type && (Type != CU_MEM_LOCATION_TYPE_DEVICE &&
                                                                       Type != CU_MEM_LOCATION_TYPE_HOST_NUMA
                                                                           ? true
                                                                           : Id == O.Id); }
};

struct PageState {
  bool ReadMostly = false;
  Place Preferred;
  Place LastPrefetch;
  uint64_t AccessedBy = 0; // bit d: device d; bit 63: the host (cudaCpuDeviceId)
};

constexpr int HostBit = 63;

struct ManagedState {
  std::mutex Mutex;
  std::map<uint64_t, std::vector<PageState>> ByAllocation; // by Allocation::Id, created on first advice
};
ManagedState &state() {
  static auto *S = new ManagedState();
  return *S;
}

// The pages [First, Last) of A that [Ptr, Ptr+Count) touches.
std::pair<size_t, size_t> pagesOf(const Allocation &A, const void *Ptr, size_t Count) {
  uintptr_t Off = reinterpret_cast<uintptr_t>(Ptr) - A.Base;
  return {Off / PageSize, (Off + Count + PageSize - 1) / PageSize};
}

std::vector<PageState> &pagesLocked(const Allocation &A) {
  auto &Pages = state().ByAllocation[A.Id];
  if (Pages.empty())
    Pages.resize((A.Size + PageSize - 1) / PageSize);
  return Pages;
}

// A location as advice and prefetch accept it: a device with managed memory, or the host.
Error checkLocation(const char *What, const CUmemLocation &L, bool AllowHostNuma) {
  switch (L.type) {
  case CU_MEM_LOCATION_TYPE_DEVICE:
    if (!device(L.id))
      return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("{}: invalid device ordinal {}", What, L.id));
    return Error::success();
  case CU_MEM_LOCATION_TYPE_HOST:
    return Error::success();
  case CU_MEM_LOCATION_TYPE_HOST_NUMA:
  case CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT:
    if (AllowHostNuma && (L.type == CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT || L.id == 0))
      return Error::success(); // one NUMA node (0) on this backend
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: host NUMA node {} does not exist", What, L.id));
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: invalid location type {}", What, int(L.type)));
  }
}

Place toLocation(const CUmemLocation &L) {
  if (L.type == CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT)
    return {CU_MEM_LOCATION_TYPE_HOST_NUMA, 0};
  return {L.type, L.type == CU_MEM_LOCATION_TYPE_HOST ? 0 : L.id};
}

// The legacy single-int form of a location: a device ordinal, CU_DEVICE_CPU (-1) or CU_DEVICE_INVALID (-2).
int legacyId(const Place &L) {
  if (L.Type == CU_MEM_LOCATION_TYPE_DEVICE)
    return L.Id;
  if (L.Type == CU_MEM_LOCATION_TYPE_HOST || L.Type == CU_MEM_LOCATION_TYPE_HOST_NUMA)
    return -1;
  return -2;
}

} // namespace

bool isManagedKind(int Kind) { return Kind == CUSHIM_HAL_MEMORY_MANAGED || Kind == ManagedVariableKind; }

Expected<void *> allocateManaged(Context &Ctx, size_t Bytes, unsigned Flags) {
  if (Flags != CU_MEM_ATTACH_GLOBAL && Flags != CU_MEM_ATTACH_HOST)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("managed allocation flags must be CU_MEM_ATTACH_GLOBAL or CU_MEM_ATTACH_HOST (got "
                                 "{:#x})",
                                 Flags));
  if (Bytes == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "managed allocation of 0 bytes");
  auto P = Ctx.allocate(Bytes, CUSHIM_HAL_MEMORY_MANAGED);
  if (!P)
    return P;
  memory_map::setFlags(reinterpret_cast<uintptr_t>(*P), Flags);
  return P;
}

Expected<Allocation> managedRange(const char *Api, const void *Ptr, size_t Count) {
  if (Count == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: count is 0", Api));
  auto A = memory_map::find(Ptr);
  if (!A || !isManagedKind(A->Kind))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: {} is not managed memory", Api, Ptr));
  uintptr_t P = reinterpret_cast<uintptr_t>(Ptr);
  if (Count > A->Size || P - A->Base > A->Size - Count)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: [{}, +{}) runs past the managed allocation at {:#x} (+{})", Api, Ptr, Count,
                                 A->Base, A->Size));
  return *A;
}

Error adviseManaged(const void *Ptr, size_t Count, CUmem_advise Advice, CUmemLocation Location) {
  auto A = managedRange("cuMemAdvise", Ptr, Count);
  if (!A)
    return A.takeError();
  bool NeedsLocation = Advice == CU_MEM_ADVISE_SET_PREFERRED_LOCATION || Advice == CU_MEM_ADVISE_SET_ACCESSED_BY ||
                       Advice == CU_MEM_ADVISE_UNSET_ACCESSED_BY;
  if (Advice < CU_MEM_ADVISE_SET_READ_MOSTLY || Advice > CU_MEM_ADVISE_UNSET_ACCESSED_BY)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemAdvise: unknown advice {}", int(Advice)));
  if (NeedsLocation)
    CUSHIM_TRY(checkLocation("cuMemAdvise", Location, Advice == CU_MEM_ADVISE_SET_PREFERRED_LOCATION));
  Place L = toLocation(Location);
  int Bit = L.Type == CU_MEM_LOCATION_TYPE_DEVICE ? L.Id : HostBit;
  std::lock_guard<std::mutex> G(state().Mutex);
  auto &Pages = pagesLocked(*A);
  auto [First, Last] = pagesOf(*A, Ptr, Count);
  for (size_t I = First; I < Last && I < Pages.size(); ++I) {
    PageState &S = Pages[I];
    switch (Advice) {
    case CU_MEM_ADVISE_SET_READ_MOSTLY: S.ReadMostly = true; break;
    case CU_MEM_ADVISE_UNSET_READ_MOSTLY: S.ReadMostly = false; break;
    case CU_MEM_ADVISE_SET_PREFERRED_LOCATION: S.Preferred = L; break;
    case CU_MEM_ADVISE_UNSET_PREFERRED_LOCATION: S.Preferred = {}; break;
    case CU_MEM_ADVISE_SET_ACCESSED_BY: S.AccessedBy |= uint64_t(1) << Bit; break;
    case CU_MEM_ADVISE_UNSET_ACCESSED_BY: S.AccessedBy &= ~(uint64_t(1) << Bit); break;
    default: break;
    }
  }
  return Error::success();
}

Error prefetchManaged(Stream &S, const void *Ptr, size_t Count, CUmemLocation Location, unsigned Flags) {
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemPrefetchAsync: flags must be 0 (got {:#x})", Flags));
  auto A = managedRange("cuMemPrefetchAsync", Ptr, Count);
  if (!A)
    return A.takeError();
  CUSHIM_TRY(checkLocation("cuMemPrefetchAsync", Location, true));
  // The pages are already resident where every device and the host reach them; the prefetch still occupies its
  // place in the stream (an empty command), so events recorded after it complete after it, as on CUDA.
  CUSHIM_TRY(S.callback([](CUresult) {}));
  Place L = toLocation(Location);
  std::lock_guard<std::mutex> G(state().Mutex);
  auto &Pages = pagesLocked(*A);
  auto [First, Last] = pagesOf(*A, Ptr, Count);
  for (size_t I = First; I < Last && I < Pages.size(); ++I)
    Pages[I].LastPrefetch = L;
  return Error::success();
}

Error attachManaged(Stream &S, void *Ptr, size_t Length, unsigned Flags) {
  if (Flags != CU_MEM_ATTACH_GLOBAL && Flags != CU_MEM_ATTACH_HOST && Flags != CU_MEM_ATTACH_SINGLE)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuStreamAttachMemAsync: invalid flags {:#x}", Flags));
  auto A = memory_map::find(Ptr);
  if (!A || !isManagedKind(A->Kind))
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuStreamAttachMemAsync: {} is not managed memory", Ptr));
  if (reinterpret_cast<uintptr_t>(Ptr) != A->Base || (Length != 0 && Length != A->Size))
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuStreamAttachMemAsync: [{}, +{}) is not the whole managed allocation at {:#x} "
                                 "(+{}); length must be 0 or its size",
                                 Ptr, Length, A->Base, A->Size));
  // Host and devices share the memory here (concurrent managed access), so attaching changes visibility rules the
  // backend never needs to enforce; it is recorded in stream order for the attributes.
  CUSHIM_TRY(S.callback([](CUresult) {}));
  memory_map::setFlags(A->Base, Flags);
  return Error::success();
}

Error managedRangeAttribute(void *Data, size_t DataSize, CUmem_range_attribute Attribute, const void *Ptr,
                            size_t Count) {
  if (!Data)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemRangeGetAttribute: data is NULL");
  bool IsList = Attribute == CU_MEM_RANGE_ATTRIBUTE_ACCESSED_BY;
  if (Attribute < CU_MEM_RANGE_ATTRIBUTE_READ_MOSTLY || Attribute > CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION_ID)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemRangeGetAttribute: unknown attribute {}", int(Attribute)));
  if (IsList ? (DataSize == 0 || DataSize % 4 != 0) : DataSize != 4)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemRangeGetAttribute: dataSize {} is wrong for attribute {}", DataSize,
                                 int(Attribute)));
  auto A = managedRange("cuMemRangeGetAttribute", Ptr, Count);
  if (!A)
    return A.takeError();
  std::lock_guard<std::mutex> G(state().Mutex);
  std::vector<PageState> Default;
  std::vector<PageState> *Pages = &Default;
  if (auto It = state().ByAllocation.find(A->Id); It != state().ByAllocation.end())
    Pages = &It->second;
  auto [First, Last] = pagesOf(*A, Ptr, Count);
  auto pageAt = [&](size_t I) { return I < Pages->size() ? (*Pages)[I] : PageState(); };
  // A value holds for the range only when every page agrees; otherwise CUDA reports "none".
  bool AllReadMostly = true, SamePreferred = true, SamePrefetch = true;
  uint64_t AccessedByAll = ~uint64_t(0);
  PageState FirstPage = pageAt(First);
  for (size_t I = First; I < Last; ++I) {
    PageState P = pageAt(I);
    AllReadMostly &= P.ReadMostly;
    SamePreferred &= P.Preferred == FirstPage.Preferred;
    SamePrefetch &= P.LastPrefetch == FirstPage.LastPrefetch;
    AccessedByAll &= P.AccessedBy;
  }
  Place Preferred = SamePreferred ? FirstPage.Preferred : Place();
  Place Prefetch = SamePrefetch ? FirstPage.LastPrefetch : Place();
  int32_t Value = 0;
  switch (Attribute) {
  case CU_MEM_RANGE_ATTRIBUTE_READ_MOSTLY: Value = AllReadMostly ? 1 : 0; break;
  case CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION: Value = legacyId(Preferred); break;
  case CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION: Value = legacyId(Prefetch); break;
  case CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION_TYPE: Value = Preferred.Type; break;
  case CU_MEM_RANGE_ATTRIBUTE_PREFERRED_LOCATION_ID: Value = Preferred.Id; break;
  case CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION_TYPE: Value = Prefetch.Type; break;
  case CU_MEM_RANGE_ATTRIBUTE_LAST_PREFETCH_LOCATION_ID: Value = Prefetch.Id; break;
  case CU_MEM_RANGE_ATTRIBUTE_ACCESSED_BY: {
    // The devices (and the host, as CU_DEVICE_CPU) with accessed-by advice on the whole range; the rest of the
    // array is CU_DEVICE_INVALID.
    std::vector<int32_t> List(DataSize / 4, -2);
    size_t N = 0;
    if (AccessedByAll & (uint64_t(1) << HostBit))
      List[N++] = -1;
    for (int D = 0; D < HostBit && N < List.size(); ++D)
      if (AccessedByAll & (uint64_t(1) << D))
        List[N++] = D;
    if (N > List.size())
      N = List.size();
    std::memcpy(Data, List.data(), DataSize);
    return Error::success();
  }
  default: break;
  }
  std::memcpy(Data, &Value, 4);
  return Error::success();
}

void forgetManaged(const Allocation &A) {
  std::lock_guard<std::mutex> G(state().Mutex);
  state().ByAllocation.erase(A.Id);
}

Expected<std::pair<void *, size_t>> managedVariable(Module &M, std::string_view Name) {
  auto G = M.global(Name);
  if (!G)
    return G;
  auto A = memory_map::findBase(G->first);
  if (!A || A->Kind != ManagedVariableKind)
    return makeError(CUDA_ERROR_NOT_FOUND,
                     fmt::format("module '{}' has a variable '{}', but it is not __managed__", M.name(), Name));
  return G;
}

} // namespace cushim::core
