// The parts of the export tables (ExportTableApi.cpp) other driver code and the unit tests reach: context-local
// storage teardown and the integrity-check digest.
#pragma once

#include "support/Export.h"

#include <cuda.h>

#include <cstdint>

namespace cushim::driver {

// Called by the driver when a context's runtime state must go (context destroyed, primary context reset).
using ClsDestructor = void (*)(CUcontext Ctx, void *Key, void *Value);

// Runs and forgets the context-local-storage destructors registered for Ctx.
CUSHIM_API void destroyContextLocalStorage(CUcontext Ctx);

// The INTEGRITY_CHECK digest: HMAC-MD2 over these fields, then 28 bytes per device (docs/EXPORT_TABLES.md).
struct IntegrityInput {
  uint32_t DriverVersion = 0;
  uint32_t RuntimeVersion = 0;
  uint32_t ProcessId = 0;
  uint32_t ThreadId = 0;
  uint64_t CudartTable = 0;    // address of the CUDART_INTERFACE table
  uint64_t IntegrityTable = 0; // address of the INTEGRITY_CHECK table
  uint64_t CheckFunction = 0;  // address of the check function itself
  uint64_t UnixSeconds = 0;
};
struct IntegrityDevice {
  unsigned char Uuid[16];
  uint32_t PciDomain, PciBus, PciDevice;
};
CUSHIM_API void integrityHash(const IntegrityInput &In, const IntegrityDevice *Devices, unsigned Count,
                              uint64_t Result[2]);

} // namespace cushim::driver
