// cuGetProcAddress / cuGetProcAddress_v2: the driver entry points by API name and CUDA version, as NVIDIA's static
// cudart resolves every driver function it uses (it never links against libcuda.so.1's symbols directly).
#include "driver/DriverApi.h"
#include "driver/DriverSurface.h"

#include "support/Log.h"

#include <algorithm>
#include <cstring>

using namespace cushim;

namespace cushim::driver {

StubResult notImplemented(const char *Name) {
  if (logOnce(Name))
    CUSHIM_LOG_WARN("{} is not implemented", Name);
  return CUDA_ERROR_NOT_SUPPORTED;
}

ProcLookup lookupProc(const char *Name, int CudaVersion, bool PerThread) {
  ProcLookup R;
  const ProcEntry *Begin = ProcTable, *End = ProcTable + ProcTableSize;
  auto Less = [](const ProcEntry &E, const char *N) { return std::strcmp(E.Name, N) < 0; };
  const ProcEntry *First = std::lower_bound(Begin, End, Name, Less);
  const ProcEntry *Chosen = nullptr;
  for (const ProcEntry *E = First; E != End && std::strcmp(E->Name, Name) == 0; ++E) {
    R.NameKnown = true;
    // Entries are sorted by version: the last one not newer than the request wins.
    if (E->Version <= CudaVersion)
      Chosen = E;
  }
  if (!Chosen)
    return R;
  R.Entry = Chosen;
  R.Fn = Chosen->Fn;
  // The per-thread variant of exactly that revision, if it existed at the requested version; otherwise the
  // legacy-stream variant, as NVIDIA's driver answers for functions that never had a per-thread form.
  if (PerThread && Chosen->PerThreadFn && Chosen->PerThreadVersion <= CudaVersion)
    R.Fn = Chosen->PerThreadFn;
  return R;
}

} // namespace cushim::driver

static Error getProcAddress(const char *Symbol, void **Pfn, int CudaVersion, cuuint64_t Flags,
                            CUdriverProcAddressQueryResult *Status) {
  if (Status)
    *Status = CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
  if (!Symbol || !Pfn)
    return makeError(CUDA_ERROR_INVALID_VALUE, "cuGetProcAddress: symbol or pfn is NULL");
  *Pfn = nullptr;
  constexpr cuuint64_t Known = CU_GET_PROC_ADDRESS_LEGACY_STREAM | CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
  if ((Flags & ~Known) != 0 || Flags == Known)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("cuGetProcAddress: invalid flags {:#x}", Flags));
  // CU_GET_PROC_ADDRESS_DEFAULT means the legacy default stream for the driver itself (cuda.h's inline wrapper adds
  // the per-thread flag for code compiled with CUDA_API_PER_THREAD_DEFAULT_STREAM).
  bool PerThread = (Flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0;
  driver::ProcLookup L = driver::lookupProc(Symbol, CudaVersion, PerThread);
  if (!L.Fn) {
    if (L.NameKnown && Status)
      *Status = CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
    // Not an application error worth a warning: cudart probes names that older drivers lack.
    CUSHIM_LOG_DEBUG("cuGetProcAddress: {} at version {} {}", Symbol, CudaVersion,
                     L.NameKnown ? "is newer than the requested version" : "is not a driver API name");
    return makeError(CUDA_ERROR_NOT_FOUND, "");
  }
  *Pfn = L.Fn;
  if (Status)
    *Status = CU_GET_PROC_ADDRESS_SUCCESS;
  CUSHIM_LOG_TRACE("cuGetProcAddress: {} at version {}{} -> {}{}", Symbol, CudaVersion,
                   PerThread ? " (per-thread)" : "", L.Entry->Symbol,
                   L.Fn == L.Entry->PerThreadFn ? " (per-thread variant)" : "");
  return Error::success();
}

CUSHIM_EXPORT CUresult cuGetProcAddress_v2(const char *Symbol, void **Pfn, int CudaVersion, cuuint64_t Flags,
                                           CUdriverProcAddressQueryResult *SymbolStatus) {
  ApiTrace T("cuGetProcAddress_v2");
  T.args("symbol={} pfn={} cudaVersion={} flags={:#x} symbolStatus={}", Symbol ? Symbol : "(null)",
         static_cast<void *>(Pfn), CudaVersion, Flags, static_cast<void *>(SymbolStatus));
  return T.done(getProcAddress(Symbol, Pfn, CudaVersion, Flags, SymbolStatus));
}

CUSHIM_EXPORT CUresult cuGetProcAddress(const char *Symbol, void **Pfn, int CudaVersion, cuuint64_t Flags) {
  ApiTrace T("cuGetProcAddress");
  T.args("symbol={} pfn={} cudaVersion={} flags={:#x}", Symbol ? Symbol : "(null)", static_cast<void *>(Pfn),
         CudaVersion, Flags);
  return T.done(getProcAddress(Symbol, Pfn, CudaVersion, Flags, nullptr));
}
