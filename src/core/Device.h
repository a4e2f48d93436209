// Devices as CUDA sees them: ordinals over the backend's devices (after CUDA_VISIBLE_DEVICES), their
// attributes for the reported compute capability, and their primary contexts.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

namespace cushim::core {

class Context;

class CUSHIM_API Device {
public:
  Device(int Ordinal, int HalIndex, const cushim_hal_device_info &Info);
  ~Device();

  int ordinal() const { return Ordinal; }
  int halIndex() const { return HalIndex; }
  const cushim_hal_device_info &info() const { return Info; }
  const char *name() const { return Info.name; }
  int ccMajor() const { return CcMajor; }
  int ccMinor() const { return CcMinor; }
  // Compute capability as major*10+minor, the form fatbinary entries use.
  unsigned arch() const { return CcMajor * 10 + CcMinor; }

  // cuDeviceGetPCIBusId's form: "dddd:bb:dd.0" (hexadecimal).
  std::string pciBusId() const;

  // cuDeviceGetAttribute: CUDA_ERROR_INVALID_VALUE for an attribute that does not exist.
  Expected<int> attribute(CUdevice_attribute Attribute) const;

  // Primary context: one object per device for the life of the process, so its CUcontext handle never changes (as
  // on CUDA). Retained by the runtime and cuDevicePrimaryCtxRetain, which (re)activate it; the last release and
  // cuDevicePrimaryCtxReset deactivate it (Context::deactivate). A reset drops the count; the releases its holders
  // still owe succeed without effect ("it is safe for other modules to call cuDevicePrimaryCtxRelease() even after
  // resetting the device").
  Expected<Context *> retainPrimary();
  Error releasePrimary();
  Error resetPrimary();
  // The primary context's handle, created inactive if it does not exist yet (CUDART_INTERFACE hands it out without
  // a reference).
  Context *primaryHandle();
  // The primary context object if it was ever created (active or not), else nullptr; takes no lock.
  Context *primaryHandleIfCreated() const { return PrimaryObject.load(std::memory_order_acquire); }
  Error setPrimaryFlags(unsigned Flags);
  unsigned primaryFlags() const;
  bool primaryActive() const;
  // The primary context if it is active, else nullptr.
  Context *primaryIfActive() const;

private:
  int Ordinal;
  int HalIndex;
  cushim_hal_device_info Info;
  int CcMajor, CcMinor;

  mutable std::mutex PrimaryMutex;
  std::atomic<Context *> PrimaryObject{nullptr}; // set once, never deleted
  unsigned PrimaryRefs = 0;
  unsigned ReleasesOwed = 0; // references a reset dropped
  unsigned PrimaryFlags = 0;
};

// cuInit: probes the backend once. Later calls return the first result.
CUSHIM_API Error initialize(unsigned Flags);
CUSHIM_API bool isInitialized();
// Number of visible devices (0 before initialization).
CUSHIM_API int deviceCount();
// The device with this ordinal, or nullptr.
CUSHIM_API Device *device(int Ordinal);

// cuDeviceGetByPCIBusId: the device at [domain:]bus:device[.function] (hexadecimal); CUDA_ERROR_INVALID_VALUE for a
// malformed id, CUDA_ERROR_INVALID_DEVICE when no device is there.
CUSHIM_API Expected<Device *> deviceByPciBusId(const char *Id);
// A device UUID as nvidia-smi prints it and CUDA_VISIBLE_DEVICES accepts it: "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
CUSHIM_API std::string uuidString(const uint8_t *Uuid);

// The driver and runtime version we report (CUDA 13.0).
constexpr int ReportedCudaVersion = 13000;

} // namespace cushim::core
