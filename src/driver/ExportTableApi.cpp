// cuGetExportTable: NVIDIA's private driver tables, requested by UUID (by the static cudart, NVRTC and tools).
// No table is provided yet; unknown tables are refused as NVIDIA's driver refuses them, and logged with their UUID
// so that the request can be identified.
#include "driver/DriverApi.h"

#include "support/Log.h"

#include <fmt/format.h>

using namespace cushim;

static std::string uuidText(const CUuuid *Id) {
  std::string S;
  for (int I = 0; I < 16; ++I)
    S += fmt::format("{:02x}", static_cast<unsigned char>(Id->bytes[I]));
  return S;
}

CUSHIM_EXPORT CUresult cuGetExportTable(const void **PpExportTable, const CUuuid *PExportTableId) {
  ApiTrace T("cuGetExportTable");
  T.args("ppExportTable={} pExportTableId={}", static_cast<void *>(PpExportTable),
         PExportTableId ? uuidText(PExportTableId) : std::string("(null)"));
  CUSHIM_DRIVER_BODY(T, {
    if (!PpExportTable || !PExportTableId)
      return makeError(CUDA_ERROR_INVALID_VALUE, "cuGetExportTable: NULL argument");
    *PpExportTable = nullptr;
    std::string Id = uuidText(PExportTableId);
    if (logOnce(("export-table-" + Id).c_str()))
      CUSHIM_LOG_INFO("cuGetExportTable: table {} is not provided by cuda_shim", Id);
    return makeError(CUDA_ERROR_INVALID_VALUE, "");
  });
}
