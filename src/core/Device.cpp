// Device discovery (cuInit) and primary contexts.
#include "core/Device.h"

#include "core/Context.h"
#include "hal/Hal.h"
#include "support/Config.h"
#include "support/Log.h"

#include <llvm/ADT/StringRef.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace cushim::core {

std::string uuidString(const uint8_t *Uuid) {
  // nvidia-smi's form: GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx, the bytes in order.
  std::string S = "GPU-";
  for (int I = 0; I < 16; ++I) {
    if (I == 4 || I == 6 || I == 8 || I == 10)
      S += '-';
    S += fmt::format("{:02x}", Uuid[I]);
  }
  return S;
}

namespace {
struct DeviceTable {
  Error InitResult;
  std::vector<std::unique_ptr<Device>> Devices;
};

DeviceTable &table() {
  static DeviceTable *T = new DeviceTable(); // never destroyed: applications call us from atexit handlers
  return *T;
}

std::once_flag InitOnce;
bool Initialized = false;

// One CUDA_VISIBLE_DEVICES entry: a decimal index, or GPU-<uuid> / a prefix of it that names exactly one device
// (case-insensitive, as nvidia-smi prints them). -1 when the entry names no device, or one already listed.
int resolveVisibleEntry(const std::string &Entry, const std::vector<std::string> &Uuids, const std::vector<int> &Taken) {
  int Found = -1;
  if (!Entry.empty() && Entry.find_first_not_of("0123456789") == std::string::npos) {
    if (Entry.size() <= 9 && std::stol(Entry) < static_cast<long>(Uuids.size()))
      Found = static_cast<int>(std::stol(Entry));
  } else if (llvm::StringRef(Entry).starts_with_insensitive("GPU-")) {
    for (size_t I = 0; I < Uuids.size(); ++I) {
      if (!llvm::StringRef(Uuids[I]).starts_with_insensitive(Entry))
        continue;
      if (Found >= 0)
        return -1; // ambiguous prefix
      Found = static_cast<int>(I);
    }
  }
  if (Found >= 0 && std::find(Taken.begin(), Taken.end(), Found) != Taken.end())
    return -1;
  return Found;
}

Error probe() {
  const cushim_hal_ops &Ops = hal::ops();
  int Count = 0;
  CUSHIM_TRY(hal::check(Ops.device_count(&Count), "device_count"));
  std::vector<cushim_hal_device_info> Infos(static_cast<size_t>(std::max(0, Count)));
  std::vector<std::string> Uuids;
  for (int I = 0; I < Count; ++I) {
    CUSHIM_TRY(hal::check(Ops.device_info(I, &Infos[I]), "device_info"));
    Uuids.push_back(uuidString(Infos[I].uuid));
  }
  std::vector<int> Visible;
  if (const auto &Entries = config().VisibleDeviceEntries) {
    for (const std::string &Entry : *Entries) {
      int HalIndex = resolveVisibleEntry(Entry, Uuids, Visible);
      if (HalIndex < 0) {
        // CUDA ignores the list from the first entry that names no device.
        CUSHIM_LOG_INFO("CUDA_VISIBLE_DEVICES: '{}' names no device (or one listed before); the entries from there "
                        "on are ignored",
                        Entry);
        break;
      }
      Visible.push_back(HalIndex);
    }
  } else {
    for (int I = 0; I < Count; ++I)
      Visible.push_back(I);
  }
  if (Visible.empty())
    return makeError(CUDA_ERROR_NO_DEVICE, "no device is visible (backend '" + std::string(Ops.name) + "' has " +
                                               std::to_string(Count) + ", CUDA_VISIBLE_DEVICES selects none)");
  for (int HalIndex : Visible) {
    int Ordinal = static_cast<int>(table().Devices.size());
    table().Devices.push_back(std::make_unique<Device>(Ordinal, HalIndex, Infos[HalIndex]));
  }
  CUSHIM_LOG_INFO("{} device(s) on backend '{}', reporting compute capability {}.{}", table().Devices.size(), Ops.name,
                  config().CcMajor, config().CcMinor);
  return Error::success();
}
} // namespace

Error initialize(unsigned Flags) {
  if (Flags != 0)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuInit: Flags must be 0");
  std::call_once(InitOnce, [] {
    table().InitResult = probe();
    Initialized = !table().InitResult.isError();
  });
  return table().InitResult;
}

bool isInitialized() { return Initialized; }

int deviceCount() { return Initialized ? static_cast<int>(table().Devices.size()) : 0; }

Device *device(int Ordinal) {
  if (!Initialized || Ordinal < 0 || Ordinal >= static_cast<int>(table().Devices.size()))
    return nullptr;
  return table().Devices[Ordinal].get();
}

Device::Device(int Ordinal, int HalIndex, const cushim_hal_device_info &Info)
    : Ordinal(Ordinal), HalIndex(HalIndex), Info(Info), CcMajor(config().CcMajor), CcMinor(config().CcMinor) {}

Device::~Device() = default;

std::string Device::pciBusId() const {
  return fmt::format("{:04X}:{:02X}:{:02X}.0", static_cast<unsigned>(Info.pci_domain),
                     static_cast<unsigned>(Info.pci_bus), static_cast<unsigned>(Info.pci_device));
}

Expected<Device *> deviceByPciBusId(const char *Id) {
  unsigned Domain = 0, Bus = 0, Dev = 0, Fn = 0;
  int N = 0;
  bool Parsed = (std::sscanf(Id, "%x:%x:%x.%x%n", &Domain, &Bus, &Dev, &Fn, &N) == 4 && Id[N] == 0) ||
                (std::sscanf(Id, "%x:%x:%x%n", &Domain, &Bus, &Dev, &N) == 3 && Id[N] == 0);
  if (!Parsed) {
    Domain = 0;
    Parsed = (std::sscanf(Id, "%x:%x.%x%n", &Bus, &Dev, &Fn, &N) == 3 && Id[N] == 0) ||
             (std::sscanf(Id, "%x:%x%n", &Bus, &Dev, &N) == 2 && Id[N] == 0);
  }
  if (!Parsed)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("malformed PCI bus id '{}'", Id));
  for (int O = 0; O < deviceCount(); ++O) {
    const cushim_hal_device_info &I = device(O)->info();
    if (static_cast<unsigned>(I.pci_domain) == Domain && static_cast<unsigned>(I.pci_bus) == Bus &&
        static_cast<unsigned>(I.pci_device) == Dev)
      return device(O);
  }
  return makeError(CUDA_ERROR_INVALID_DEVICE, fmt::format("no device at PCI bus id '{}'", Id));
}

Context *Device::primaryHandle() {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  if (!PrimaryObject.load(std::memory_order_relaxed))
    PrimaryObject.store(Context::createInactivePrimary(*this), std::memory_order_release);
  return PrimaryObject.load(std::memory_order_relaxed);
}

Expected<Context *> Device::retainPrimary() {
  Context *Primary = primaryHandle();
  std::lock_guard<std::mutex> G(PrimaryMutex);
  if (!Primary->active())
    CUSHIM_TRY(Primary->activate(PrimaryFlags));
  ++PrimaryRefs;
  return Primary;
}

Error Device::releasePrimary() {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  Context *Primary = PrimaryObject.load(std::memory_order_relaxed);
  if (Primary && PrimaryRefs == 0 && ReleasesOwed > 0) {
    --ReleasesOwed; // a reference the last reset already dropped
    return Error::success();
  }
  if (!Primary || PrimaryRefs == 0)
    return makeError(CUDA_ERROR_INVALID_CONTEXT, "primary context of device " + std::to_string(Ordinal) +
                                                     " is not retained");
  if (--PrimaryRefs == 0)
    return Primary->deactivate();
  return Error::success();
}

Error Device::resetPrimary() {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  Context *Primary = PrimaryObject.load(std::memory_order_relaxed);
  if (!Primary)
    return Error::success();
  ReleasesOwed += PrimaryRefs;
  PrimaryRefs = 0;
  PrimaryFlags = 0;
  return Primary->deactivate();
}

Error Device::setPrimaryFlags(unsigned Flags) {
  constexpr unsigned Known = CU_CTX_SCHED_MASK | CU_CTX_MAP_HOST | CU_CTX_LMEM_RESIZE_TO_MAX | CU_CTX_COREDUMP_ENABLE |
                             CU_CTX_USER_COREDUMP_ENABLE | CU_CTX_SYNC_MEMOPS;
  if (Flags & ~Known)
    return makeError(CUDA_ERROR_INVALID_VALUE, "unknown primary context flags");
  if ((Flags & CU_CTX_SCHED_MASK) == CU_CTX_SCHED_MASK)
    return makeError(CUDA_ERROR_INVALID_VALUE, "conflicting scheduling flags");
  std::lock_guard<std::mutex> G(PrimaryMutex);
  PrimaryFlags = Flags;
  return Error::success();
}

unsigned Device::primaryFlags() const {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  return PrimaryFlags;
}

bool Device::primaryActive() const { return primaryIfActive() != nullptr; }

Context *Device::primaryIfActive() const {
  Context *Primary = primaryHandleIfCreated();
  return Primary && Primary->active() ? Primary : nullptr;
}

} // namespace cushim::core
