// Device discovery (cuInit) and primary contexts.
#include "core/Device.h"

#include "core/Context.h"
#include "hal/Hal.h"
#include "support/Config.h"
#include "support/Log.h"

#include <vector>

namespace cushim::core {

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

Error probe() {
  const cushim_hal_ops &Ops = hal::ops();
  int Count = 0;
  CUSHIM_TRY(hal::check(Ops.device_count(&Count), "device_count"));
  std::vector<int> Visible;
  if (const auto &V = config().VisibleDevices) {
    for (int Id : *V) {
      if (Id >= Count)
        break; // CUDA ignores the list from the first ordinal that does not exist
      Visible.push_back(Id);
    }
  } else {
    for (int I = 0; I < Count; ++I)
      Visible.push_back(I);
  }
  if (Visible.empty())
    return makeError(CUDA_ERROR_NO_DEVICE, "no device is visible (backend '" + std::string(Ops.name) + "' has " +
                                               std::to_string(Count) + ", CUDA_VISIBLE_DEVICES selects none)");
  for (int HalIndex : Visible) {
    cushim_hal_device_info Info{};
    CUSHIM_TRY(hal::check(Ops.device_info(HalIndex, &Info), "device_info"));
    int Ordinal = static_cast<int>(table().Devices.size());
    table().Devices.push_back(std::make_unique<Device>(Ordinal, HalIndex, Info));
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

Expected<Context *> Device::retainPrimary() {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  if (!Primary) {
    auto Ctx = Context::create(*this, PrimaryFlags, /*IsPrimary=*/true);
    if (!Ctx)
      return Ctx.takeError();
    Primary = *Ctx;
  }
  ++PrimaryRefs;
  return Primary;
}

Error Device::releasePrimary() {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  if (!Primary || PrimaryRefs == 0)
    return makeError(CUDA_ERROR_INVALID_CONTEXT, "primary context of device " + std::to_string(Ordinal) +
                                                     " is not retained");
  if (--PrimaryRefs == 0) {
    Context *Old = Primary;
    Primary = nullptr;
    return Context::destroy(Old);
  }
  return Error::success();
}

Error Device::resetPrimary() {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  if (!Primary)
    return Error::success();
  Context *Old = Primary;
  Primary = nullptr;
  PrimaryRefs = 0;
  PrimaryFlags = 0;
  return Context::destroy(Old);
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

bool Device::primaryActive() const {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  return Primary != nullptr;
}

Context *Device::primaryIfActive() const {
  std::lock_guard<std::mutex> G(PrimaryMutex);
  return Primary;
}

} // namespace cushim::core
