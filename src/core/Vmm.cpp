// Virtual memory management on memfd objects and mmap (core/Vmm.h, docs/MEMORY.md).
#include "core/Vmm.h"

#include "core/Device.h"
#include "hal/Hal.h"
#include "support/Log.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

namespace cushim::core::vmm {

namespace {

// What cuMemGetAllocationGranularity reports (a GPU's 2 MiB); sizes, offsets and addresses are multiples of it.
constexpr size_t Granularity = size_t(2) << 20;

struct Physical {
  int Fd = -1;
  size_t Size = 0;
  CUmemAllocationProp Prop{};
  int HandleRefs = 1; // cuMemCreate / cuMemRetainAllocationHandle / import, less cuMemRelease
  int MapRefs = 0;    // live mappings
};

struct Mapping {
  size_t Size = 0;
  Physical *Handle = nullptr;
  std::map<int, unsigned long long> Access; // device ordinal (-1: host) -> CU_MEM_ACCESS_FLAGS_*
};

struct Reservation {
  size_t Size = 0;
  std::map<uintptr_t, Mapping> Maps; // by address
};

struct VmmState {
  std::mutex Mutex;
  std::set<Physical *> Handles;              // live handles (HandleRefs > 0)
  std::map<uintptr_t, Reservation> Reserved; // by base address
};
VmmState &state() {
  static auto *S = new VmmState();
  return *S;
}

Error requireHostMemory(const char *Api) {
  // Mapping a handle into the process's address space is how this backend's devices address memory at all; a
  // discrete device would need backend support the HAL does not have.
  Device *Dev = device(0);
  if (!Dev || !Dev->info().integrated)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: virtual memory management needs a backend whose device memory is host memory",
                                 Api));
  return Error::success();
}

Physical *lookupLocked(CUmemGenericAllocationHandle H) {
  auto *P = reinterpret_cast<Physical *>(static_cast<uintptr_t>(H));
  return state().Handles.count(P) ? P : nullptr;
}

bool isDeviceLocated(const Physical &P) { return P.Prop.location.type == CU_MEM_LOCATION_TYPE_DEVICE; }

void dropLocked(Physical *P) {
  if (P->HandleRefs > 0 || P->MapRefs > 0)
    return;
  if (isDeviceLocated(*P))
    memory_map::addDeviceBytes(P->Prop.location.id, -int64_t(P->Size));
  ::close(P->Fd);
  delete P;
}

Error checkProp(const char *Api, const CUmemAllocationProp &Prop) {
  if (Prop.type != CU_MEM_ALLOCATION_TYPE_PINNED)
    return makeError(Prop.type == CU_MEM_ALLOCATION_TYPE_MANAGED ? CUDA_ERROR_NOT_SUPPORTED : CUDA_ERROR_INVALID_VALUE,
                     fmt::format("{}: allocation type {} (CU_MEM_ALLOCATION_TYPE_PINNED is supported)", Api,
                                 int(Prop.type)));
  switch (Prop.location.type) {
  case CU_MEM_LOCATION_TYPE_DEVICE:
    if (!device(Prop.location.id))
      return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("{}: invalid device {}", Api, Prop.location.id));
    break;
  case CU_MEM_LOCATION_TYPE_HOST:
  case CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT: break;
  case CU_MEM_LOCATION_TYPE_HOST_NUMA:
    if (Prop.location.id != 0)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: host NUMA node {} does not exist", Api,
                                                             Prop.location.id));
    break;
  default:
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: invalid location type {}", Api,
                                                           int(Prop.location.type)));
  }
  if (Prop.requestedHandleTypes & ~CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("{}: handle types {:#x} (only POSIX file descriptors exist on this backend)", Api,
                                 unsigned(Prop.requestedHandleTypes)));
  return Error::success();
}

// The reservation containing [P, P+Size), with the state lock held.
Reservation *reservationLocked(uintptr_t P, size_t Size, uintptr_t *Base) {
  auto &R = state().Reserved;
  auto It = R.upper_bound(P);
  if (It == R.begin())
    return nullptr;
  --It;
  if (P - It->first > It->second.Size || Size > It->second.Size - (P - It->first))
    return nullptr;
  *Base = It->first;
  return &It->second;
}

// The mapping containing P, with the state lock held.
std::pair<uintptr_t, Mapping *> mappingLocked(uintptr_t P) {
  uintptr_t Base = 0;
  Reservation *R = reservationLocked(P, 1, &Base);
  if (!R)
    return {0, nullptr};
  auto It = R->Maps.upper_bound(P);
  if (It == R->Maps.begin())
    return {0, nullptr};
  --It;
  if (P >= It->first + It->second.Size)
    return {0, nullptr};
  return {It->first, &It->second};
}

unsigned long long widest(const Mapping &M) {
  unsigned long long F = CU_MEM_ACCESS_FLAGS_PROT_NONE;
  for (auto &[Dev, Flags] : M.Access)
    F |= Flags;
  return F;
}

int protectionOf(unsigned long long Flags) {
  if (Flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
    return PROT_READ | PROT_WRITE;
  return Flags == CU_MEM_ACCESS_FLAGS_PROT_READ ? PROT_READ : PROT_NONE;
}

Error sysError(const char *Api, const char *What) {
  int E = errno;
  return makeError(E == ENOMEM ? CUDA_ERROR_OUT_OF_MEMORY : CUDA_ERROR_UNKNOWN,
                   fmt::format("{}: {} failed: {}", Api, What, std::strerror(E)));
}

} // namespace

Expected<size_t> granularity(const CUmemAllocationProp &Prop, CUmemAllocationGranularity_flags Option) {
  CUSHIM_TRY(checkProp("cuMemGetAllocationGranularity", Prop));
  if (Option != CU_MEM_ALLOC_GRANULARITY_MINIMUM && Option != CU_MEM_ALLOC_GRANULARITY_RECOMMENDED)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemGetAllocationGranularity: invalid option {}", int(Option)));
  return Granularity;
}

Expected<CUmemGenericAllocationHandle> create(size_t Size, const CUmemAllocationProp &Prop, unsigned long long Flags) {
  CUSHIM_TRY(requireHostMemory("cuMemCreate"));
  CUSHIM_TRY(checkProp("cuMemCreate", Prop));
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemCreate: flags must be 0 (got {:#x})", Flags));
  if (Size == 0 || Size % Granularity != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemCreate: size {} is not a positive multiple of the granularity {}", Size,
                                 Granularity));
  if (Prop.allocFlags.usage & (CU_MEM_CREATE_USAGE_HW_DECOMPRESS | CU_MEM_CREATE_USAGE_TILE_POOL))
    return makeError(CUDA_ERROR_NOT_SUPPORTED, "cuMemCreate: tile-pool and hardware-decompression usage are not supported");
  int Fd = ::memfd_create("cushim-vmm", MFD_CLOEXEC);
  if (Fd < 0)
    return sysError("cuMemCreate", "memfd_create");
  if (::ftruncate(Fd, static_cast<off_t>(Size)) != 0) {
    Error E = sysError("cuMemCreate", "ftruncate");
    ::close(Fd);
    return E;
  }
  auto *P = new Physical();
  P->Fd = Fd;
  P->Size = Size;
  P->Prop = Prop;
  // Compression and RDMA are requests the backend does not grant; the properties say so.
  P->Prop.allocFlags.compressionType = CU_MEM_ALLOCATION_COMP_NONE;
  P->Prop.allocFlags.gpuDirectRDMACapable = 0;
  if (P->Prop.location.type == CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT)
    P->Prop.location = {CU_MEM_LOCATION_TYPE_HOST_NUMA, 0};
  if (isDeviceLocated(*P))
    memory_map::addDeviceBytes(P->Prop.location.id, int64_t(Size));
  std::lock_guard<std::mutex> G(state().Mutex);
  state().Handles.insert(P);
  return static_cast<CUmemGenericAllocationHandle>(reinterpret_cast<uintptr_t>(P));
}

Error release(CUmemGenericAllocationHandle Handle) {
  std::lock_guard<std::mutex> G(state().Mutex);
  Physical *P = lookupLocked(Handle);
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemRelease: {:#x} is not a live allocation handle",
                                                           Handle));
  if (--P->HandleRefs == 0)
    state().Handles.erase(P); // mappings keep the memory until they are unmapped
  dropLocked(P);
  return Error::success();
}

Expected<CUdeviceptr> reserve(size_t Size, size_t Alignment, CUdeviceptr Addr, unsigned long long Flags) {
  CUSHIM_TRY(requireHostMemory("cuMemAddressReserve"));
  if (Size == 0 || Size % Granularity != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemAddressReserve: size {} is not a positive multiple of the granularity {}", Size,
                                 Granularity));
  if (Alignment == 0)
    Alignment = Granularity;
  if ((Alignment & (Alignment - 1)) != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemAddressReserve: alignment {} is not a power of two", Alignment));
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemAddressReserve: flags must be 0 (got {:#x})", Flags));
  Alignment = std::max(Alignment, static_cast<size_t>(::sysconf(_SC_PAGESIZE)));
  void *Base = MAP_FAILED;
  // The address is a hint, as on CUDA: taken when free and suitably aligned, otherwise another range is chosen.
  if (Addr && Addr % Alignment == 0)
    Base = ::mmap(reinterpret_cast<void *>(Addr), Size, PROT_NONE,
                  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
  if (Base == MAP_FAILED) {
    size_t Span = Size + Alignment;
    void *Raw = ::mmap(nullptr, Span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (Raw == MAP_FAILED)
      return sysError("cuMemAddressReserve", "mmap");
    uintptr_t R = reinterpret_cast<uintptr_t>(Raw), A = (R + Alignment - 1) & ~(Alignment - 1);
    if (A > R)
      ::munmap(Raw, A - R);
    if (R + Span > A + Size)
      ::munmap(reinterpret_cast<void *>(A + Size), R + Span - (A + Size));
    Base = reinterpret_cast<void *>(A);
  }
  std::lock_guard<std::mutex> G(state().Mutex);
  state().Reserved[reinterpret_cast<uintptr_t>(Base)] = Reservation{Size, {}};
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(Base));
}

Error free(CUdeviceptr Ptr, size_t Size) {
  std::lock_guard<std::mutex> G(state().Mutex);
  auto It = state().Reserved.find(static_cast<uintptr_t>(Ptr));
  if (It == state().Reserved.end() || It->second.Size != Size)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemAddressFree: [{:#x}, +{}) is not a range cuMemAddressReserve returned", Ptr,
                                 Size));
  if (!It->second.Maps.empty())
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemAddressFree: {} mapping(s) in [{:#x}, +{}) must be unmapped first",
                                 It->second.Maps.size(), Ptr, Size));
  ::munmap(reinterpret_cast<void *>(It->first), Size);
  state().Reserved.erase(It);
  return Error::success();
}

Error map(CUdeviceptr Ptr, size_t Size, size_t Offset, CUmemGenericAllocationHandle Handle, unsigned long long Flags) {
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemMap: flags must be 0 (got {:#x})", Flags));
  std::lock_guard<std::mutex> G(state().Mutex);
  Physical *P = lookupLocked(Handle);
  if (!P)
    return makeError(CUDA_ERROR_INVALID_HANDLE, fmt::format("cuMemMap: {:#x} is not a live allocation handle", Handle));
  if (Size == 0 || Size % Granularity || Offset % Granularity || Ptr % Granularity || Offset > P->Size ||
      Size > P->Size - Offset)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemMap: [{:#x}, +{}) at offset {} of a {}-byte handle (granularity {})", Ptr, Size,
                                 Offset, P->Size, Granularity));
  uintptr_t Base = 0;
  Reservation *R = reservationLocked(static_cast<uintptr_t>(Ptr), Size, &Base);
  if (!R)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemMap: [{:#x}, +{}) is not inside a reserved address range", Ptr, Size));
  uintptr_t Start = static_cast<uintptr_t>(Ptr);
  for (auto &[At, M] : R->Maps)
    if (At < Start + Size && Start < At + M.Size)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuMemMap: [{:#x}, +{}) overlaps the mapping at {:#x}", Ptr, Size, At));
  // Not accessible until cuMemSetAccess, as on CUDA.
  void *Got = ::mmap(reinterpret_cast<void *>(Start), Size, PROT_NONE, MAP_SHARED | MAP_FIXED, P->Fd,
                     static_cast<off_t>(Offset));
  if (Got == MAP_FAILED)
    return sysError("cuMemMap", "mmap");
  R->Maps[Start] = Mapping{Size, P, {}};
  ++P->MapRefs;
  memory_map::insert({Start, Size, VmmKind, nullptr, 0, P});
  return Error::success();
}

Error unmap(CUdeviceptr Ptr, size_t Size) {
  std::lock_guard<std::mutex> G(state().Mutex);
  uintptr_t Base = 0, Start = static_cast<uintptr_t>(Ptr);
  Reservation *R = reservationLocked(Start, Size, &Base);
  if (!R || Size == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemUnmap: [{:#x}, +{}) is not inside a reserved address range", Ptr, Size));
  // The range must consist of whole mappings.
  std::vector<uintptr_t> Covered;
  uintptr_t At = Start;
  while (At < Start + Size) {
    auto It = R->Maps.find(At);
    if (It == R->Maps.end() || At + It->second.Size > Start + Size)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuMemUnmap: [{:#x}, +{}) does not consist of whole mappings (at {:#x})", Ptr, Size,
                                   At));
    Covered.push_back(At);
    At += It->second.Size;
  }
  for (uintptr_t M : Covered) {
    Mapping Gone = R->Maps[M];
    R->Maps.erase(M);
    memory_map::erase(M);
    ::mmap(reinterpret_cast<void *>(M), Gone.Size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
           -1, 0);
    --Gone.Handle->MapRefs;
    dropLocked(Gone.Handle);
  }
  return Error::success();
}

Error setAccess(CUdeviceptr Ptr, size_t Size, const CUmemAccessDesc *Descs, size_t Count) {
  if (!Descs || Count == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemSetAccess: no access descriptors");
  for (size_t I = 0; I < Count; ++I) {
    const CUmemAccessDesc &D = Descs[I];
    bool Host = D.location.type == CU_MEM_LOCATION_TYPE_HOST || D.location.type == CU_MEM_LOCATION_TYPE_HOST_NUMA ||
                D.location.type == CU_MEM_LOCATION_TYPE_HOST_NUMA_CURRENT;
    if (!Host && (D.location.type != CU_MEM_LOCATION_TYPE_DEVICE || !device(D.location.id)))
      return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("cuMemSetAccess: entry {} names no device", I));
    if (D.flags != CU_MEM_ACCESS_FLAGS_PROT_NONE && D.flags != CU_MEM_ACCESS_FLAGS_PROT_READ &&
        D.flags != CU_MEM_ACCESS_FLAGS_PROT_READWRITE)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemSetAccess: invalid flags {}", int(D.flags)));
  }
  std::lock_guard<std::mutex> G(state().Mutex);
  uintptr_t Base = 0, Start = static_cast<uintptr_t>(Ptr);
  Reservation *R = reservationLocked(Start, Size, &Base);
  if (!R || Size == 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemSetAccess: [{:#x}, +{}) is not inside a reserved range", Ptr, Size));
  std::vector<std::pair<uintptr_t, Mapping *>> Hit;
  for (uintptr_t At = Start; At < Start + Size;) {
    auto It = R->Maps.find(At);
    if (It == R->Maps.end() || At + It->second.Size > Start + Size)
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("cuMemSetAccess: [{:#x}, +{}) is not fully mapped by whole mappings (at {:#x})",
                                   Ptr, Size, At));
    Hit.push_back({At, &It->second});
    At += It->second.Size;
  }
  for (auto &[At, M] : Hit) {
    for (size_t I = 0; I < Count; ++I) {
      int Key = Descs[I].location.type == CU_MEM_LOCATION_TYPE_DEVICE ? Descs[I].location.id : -1;
      M->Access[Key] = Descs[I].flags;
    }
    // One address space serves every device and the host here: the widest access granted applies.
    if (::mprotect(reinterpret_cast<void *>(At), M->Size, protectionOf(widest(*M))) != 0)
      return sysError("cuMemSetAccess", "mprotect");
  }
  return Error::success();
}

Expected<unsigned long long> access(const CUmemLocation &Location, CUdeviceptr Ptr) {
  bool Host = Location.type == CU_MEM_LOCATION_TYPE_HOST || Location.type == CU_MEM_LOCATION_TYPE_HOST_NUMA;
  if (!Host && (Location.type != CU_MEM_LOCATION_TYPE_DEVICE || !device(Location.id)))
    return makeError(CUDA_ERROR_INVALID_DEVICE, "cuMemGetAccess: the location names no device");
  std::lock_guard<std::mutex> G(state().Mutex);
  auto [At, M] = mappingLocked(static_cast<uintptr_t>(Ptr));
  if (!M)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemGetAccess: {:#x} is not mapped", Ptr));
  auto It = M->Access.find(Host ? -1 : Location.id);
  return It == M->Access.end() ? 0ull : It->second;
}

Expected<CUmemAllocationProp> properties(CUmemGenericAllocationHandle Handle) {
  std::lock_guard<std::mutex> G(state().Mutex);
  Physical *P = lookupLocked(Handle);
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemGetAllocationPropertiesFromHandle: {:#x} is not a live handle", Handle));
  return P->Prop;
}

Expected<CUmemGenericAllocationHandle> retain(void *Addr) {
  std::lock_guard<std::mutex> G(state().Mutex);
  auto [At, M] = mappingLocked(reinterpret_cast<uintptr_t>(Addr));
  if (!M)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemRetainAllocationHandle: {} is not in a mapped range", Addr));
  Physical *P = M->Handle;
  if (P->HandleRefs++ == 0)
    state().Handles.insert(P); // released but still mapped: the handle lives again
  return static_cast<CUmemGenericAllocationHandle>(reinterpret_cast<uintptr_t>(P));
}

Error exportHandle(void *Shareable, CUmemGenericAllocationHandle Handle, CUmemAllocationHandleType Type,
                   unsigned long long Flags) {
  if (!Shareable || Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuMemExportToShareableHandle: NULL output or nonzero flags");
  std::lock_guard<std::mutex> G(state().Mutex);
  Physical *P = lookupLocked(Handle);
  if (!P)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuMemExportToShareableHandle: {:#x} is not a live handle",
                                                           Handle));
  if (Type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR ||
      !(P->Prop.requestedHandleTypes & CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR))
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     "cuMemExportToShareableHandle: the handle was not created exportable as a POSIX file descriptor");
  int Fd = ::fcntl(P->Fd, F_DUPFD_CLOEXEC, 0);
  if (Fd < 0)
    return sysError("cuMemExportToShareableHandle", "dup");
  std::memcpy(Shareable, &Fd, sizeof(Fd));
  return Error::success();
}

Expected<CUmemGenericAllocationHandle> importHandle(void *OsHandle, CUmemAllocationHandleType Type) {
  CUSHIM_TRY(requireHostMemory("cuMemImportFromShareableHandle"));
  if (Type != CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR)
    return makeError(CUDA_ERROR_NOT_SUPPORTED,
                     fmt::format("cuMemImportFromShareableHandle: handle type {} (POSIX file descriptors only)",
                                 int(Type)));
  // For POSIX descriptors the "pointer" is the descriptor itself, as CUDA documents.
  int Fd = static_cast<int>(reinterpret_cast<intptr_t>(OsHandle));
  struct stat St;
  if (::fstat(Fd, &St) != 0 || St.st_size <= 0 || size_t(St.st_size) % Granularity != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("cuMemImportFromShareableHandle: descriptor {} is not an exported allocation", Fd));
  int Own = ::fcntl(Fd, F_DUPFD_CLOEXEC, 0);
  if (Own < 0)
    return sysError("cuMemImportFromShareableHandle", "dup");
  auto *P = new Physical();
  P->Fd = Own;
  P->Size = static_cast<size_t>(St.st_size);
  P->Prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  P->Prop.location = {CU_MEM_LOCATION_TYPE_DEVICE, 0};
  P->Prop.requestedHandleTypes = CU_MEM_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR;
  memory_map::addDeviceBytes(0, int64_t(P->Size));
  std::lock_guard<std::mutex> G(state().Mutex);
  state().Handles.insert(P);
  return static_cast<CUmemGenericAllocationHandle>(reinterpret_cast<uintptr_t>(P));
}

unsigned long long handleTypesAt(const Allocation &A) {
  std::lock_guard<std::mutex> G(state().Mutex);
  return static_cast<const Physical *>(A.Object)->Prop.requestedHandleTypes;
}

unsigned long long accessFlagsAt(const Allocation &A, int Device) {
  std::lock_guard<std::mutex> G(state().Mutex);
  auto [At, M] = mappingLocked(A.Base);
  if (!M)
    return CU_MEM_ACCESS_FLAGS_PROT_NONE;
  auto It = M->Access.find(Device);
  return It == M->Access.end() ? 0ull : It->second;
}

int deviceAt(const Allocation &A) {
  std::lock_guard<std::mutex> G(state().Mutex);
  const Physical *P = static_cast<const Physical *>(A.Object);
  return isDeviceLocated(*P) ? P->Prop.location.id : -1;
}

} // namespace cushim::core::vmm
