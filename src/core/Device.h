// Devices as CUDA sees them: ordinals over the backend's devices (after CUDA_VISIBLE_DEVICES), their
// attributes for the reported compute capability, and their primary contexts.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

#include <cuda.h>

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

  // Primary context: retained by the runtime and cuDevicePrimaryCtxRetain; destroyed when the count drops to 0.
  Expected<Context *> retainPrimary();
  Error releasePrimary();
  Error resetPrimary();
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
  Context *Primary = nullptr;
  unsigned PrimaryRefs = 0;
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
