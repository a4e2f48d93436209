// __device__ and __constant__ variables by their host shadow (cudaMemcpyToSymbol, cudaGetSymbolAddress, ...).
#include "runtime/RuntimeState.h"

#include "core/MemoryMap.h"
#include "core/Stream.h"

#include <fmt/format.h>

using namespace cushim;
using namespace cushim::runtime;

static Error symbolCopy(const char *Api, const void *Symbol, void *Host, size_t Count, size_t Offset,
                        cudaMemcpyKind Kind, bool ToSymbol) {
  auto Var = variableFor(Symbol);
  if (!Var)
    return Var.takeError();
  auto [Address, Size] = *Var;
  if (Offset > Size || Count > Size - Offset)
    return runtimeError(cudaErrorInvalidValue, fmt::format("{}: offset {} + count {} exceed the symbol's {} bytes", Api,
                                                           Offset, Count, Size));
  if (Count == 0)
    return Error::success();
  if (!Host)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": NULL pointer");
  bool HostIsDevice = core::memory_map::containsRange(Host, Count);
  cudaMemcpyKind Expected = ToSymbol ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost;
  if (Kind != Expected && Kind != cudaMemcpyDeviceToDevice && Kind != cudaMemcpyDefault)
    return runtimeError(cudaErrorInvalidMemcpyDirection, std::string(Api) + ": invalid copy direction");
  if (Kind == cudaMemcpyDeviceToDevice && !HostIsDevice)
    return runtimeError(cudaErrorInvalidValue, std::string(Api) + ": cudaMemcpyDeviceToDevice with a host pointer");
  auto Ctx = context();
  if (!Ctx)
    return Ctx.takeError();
  char *Device = static_cast<char *>(Address) + Offset;
  core::Stream &S = (*Ctx)->nullStream();
  CUSHIM_TRY(ToSymbol ? S.copy(Device, Host, Count) : S.copy(Host, Device, Count));
  return S.synchronize();
}

CUSHIM_EXPORT cudaError_t cudaMemcpyToSymbol(const void *Symbol, const void *Src, size_t Count, size_t Offset,
                                             enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpyToSymbol");
  T.args("symbol={} src={} count={} offset={} kind={}", Symbol, Src, Count, Offset, static_cast<int>(Kind));
  return finish(T, symbolCopy("cudaMemcpyToSymbol", Symbol, const_cast<void *>(Src), Count, Offset, Kind, true));
}

CUSHIM_EXPORT cudaError_t cudaMemcpyFromSymbol(void *Dst, const void *Symbol, size_t Count, size_t Offset,
                                               enum cudaMemcpyKind Kind) {
  ApiTrace T("cudaMemcpyFromSymbol");
  T.args("dst={} symbol={} count={} offset={} kind={}", Dst, Symbol, Count, Offset, static_cast<int>(Kind));
  return finish(T, symbolCopy("cudaMemcpyFromSymbol", Symbol, Dst, Count, Offset, Kind, false));
}

CUSHIM_EXPORT cudaError_t cudaGetSymbolAddress(void **DevPtr, const void *Symbol) {
  ApiTrace T("cudaGetSymbolAddress");
  T.args("devPtr={} symbol={}", static_cast<void *>(DevPtr), Symbol);
  CUSHIM_RUNTIME_BODY(T, {
    if (!DevPtr)
      return runtimeError(cudaErrorInvalidValue, "cudaGetSymbolAddress: devPtr is NULL");
    auto Var = variableFor(Symbol);
    if (!Var)
      return Var.takeError();
    *DevPtr = Var->first;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetSymbolSize(size_t *Size, const void *Symbol) {
  ApiTrace T("cudaGetSymbolSize");
  T.args("size={} symbol={}", static_cast<void *>(Size), Symbol);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Size)
      return runtimeError(cudaErrorInvalidValue, "cudaGetSymbolSize: size is NULL");
    auto Var = variableFor(Symbol);
    if (!Var)
      return Var.takeError();
    *Size = Var->second;
    return Error::success();
  });
}
