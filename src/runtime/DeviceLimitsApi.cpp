// Runtime device limits and configuration: cudaDeviceSet/GetLimit, cudaLaunchKernelExC and its launch attributes,
// cache/shared-memory configuration hints, device flags and PCI bus ids (peer access: PeerApi.cpp).
#include "runtime/RuntimeLaunch.h"
#include "runtime/RuntimeState.h"

#include "core/Device.h"
#include "core/Launch.h"
#include "core/Module.h"

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

namespace {

Error limitError(const Error &E, const char *Api, int Limit) {
  if (E.code() == CUDA_ERROR_UNSUPPORTED_LIMIT)
    return runtimeError(cudaErrorUnsupportedLimit, fmt::format("{}: unsupported limit {}", Api, Limit));
  return E;
}

// cudaLaunchAttribute is CUlaunchAttribute under another name: core reads both APIs' attribute lists.
static_assert(sizeof(cudaLaunchAttribute) == sizeof(CUlaunchAttribute) &&
              static_cast<int>(cudaLaunchAttributeLaunchCompletionEvent) ==
                  static_cast<int>(CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT));

Error launchEx(const cudaLaunchConfig_t *Config, const void *Func, void **Args, bool PerThread) {
  if (!Config)
    return runtimeError(cudaErrorInvalidValue, "cudaLaunchKernelExC: config is NULL");
  auto Attrs = core::readLaunchAttributes(reinterpret_cast<const CUlaunchAttribute *>(Config->attrs),
                                          Config->numAttrs, "cudaLaunchKernelExC");
  if (!Attrs)
    return Attrs.takeError();
  cudaStream_t Stream = Config->stream;
  if (PerThread && !Stream)
    Stream = cudaStreamPerThread;
  if (Attrs->Cooperative) {
    auto F = functionFor(Func);
    if (!F)
      return F.takeError();
    core::LaunchConfig C;
    C.Grid[0] = Config->gridDim.x, C.Grid[1] = Config->gridDim.y, C.Grid[2] = Config->gridDim.z;
    C.Block[0] = Config->blockDim.x, C.Block[1] = Config->blockDim.y, C.Block[2] = Config->blockDim.z;
    if (Config->dynamicSmemBytes > UINT32_MAX)
      return runtimeError(cudaErrorInvalidValue, "dynamic shared memory size out of range");
    C.DynamicShared = static_cast<unsigned>(Config->dynamicSmemBytes);
    if (Error E = core::checkLaunchDims(**F, C); E.isError())
      return runtimeError(cudaErrorInvalidConfiguration, E.message());
    if (Error E = core::checkCooperativeGrid(**F, C); E.isError()) {
      if (E.code() == CUDA_ERROR_COOPERATIVE_LAUNCH_TOO_LARGE)
        return runtimeError(cudaErrorCooperativeLaunchTooLarge, E.message());
      return E;
    }
  }
  return launchHostFunction(Func, Config->gridDim, Config->blockDim, Args, Config->dynamicSmemBytes, Stream);
}

// Device flags and cache configuration are per device; the host backend has nothing they would change.
constexpr int MaxDevices = 64;
std::atomic<unsigned> DeviceFlags[MaxDevices];
std::atomic<int> CacheConfig[MaxDevices];

int runtimeOrdinal() {
  core::Context *Current = core::currentContext();
  return Current ? Current->device().ordinal() : currentDevice();
}

Error checkCacheConfig(int Config) {
  if (Config < cudaFuncCachePreferNone || Config > cudaFuncCachePreferEqual)
    return runtimeError(cudaErrorInvalidValue, fmt::format("invalid cache configuration {}", Config));
  return Error::success();
}

Error pciBusId(char *Out, int Len, int Ordinal) {
  if (!Out || Len <= 0)
    return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetPCIBusId: pciBusId is NULL or len <= 0");
  auto D = runtimeDevice(Ordinal);
  if (!D)
    return D.takeError();
  std::snprintf(Out, static_cast<size_t>(Len), "%s", (*D)->pciBusId().c_str());
  return Error::success();
}

Error deviceByPciBusId(int *Device, const char *Id) {
  if (!Device || !Id)
    return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetByPCIBusId: device or pciBusId is NULL");
  CUSHIM_TRY(core::initialize(0));
  auto D = core::deviceByPciBusId(Id);
  if (!D)
    return D.takeError();
  *Device = (*D)->ordinal();
  return Error::success();
}

} // namespace

CUSHIM_EXPORT cudaError_t cudaDeviceSetLimit(enum cudaLimit Limit, size_t Value) {
  ApiTrace T("cudaDeviceSetLimit");
  T.args("limit={} value={}", static_cast<int>(Limit), Value);
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    if (auto Old = (*Ctx)->limit(Limit); !Old)
      return limitError(Old.takeError(), "cudaDeviceSetLimit", Limit);
    // The stack limit is recorded only: fibers run on CUSHIM_STACK_SIZE stacks (256 KiB by default), far above
    // any per-thread stack a GPU grants.
    return (*Ctx)->setLimit(Limit, Value);
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetLimit(size_t *Value, enum cudaLimit Limit) {
  ApiTrace T("cudaDeviceGetLimit");
  T.args("pValue={} limit={}", static_cast<void *>(Value), static_cast<int>(Limit));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Value)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetLimit: pValue is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    auto V = (*Ctx)->limit(Limit);
    if (!V)
      return limitError(V.takeError(), "cudaDeviceGetLimit", Limit);
    *Value = *V;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t *Config, const void *Func, void **Args) {
  ApiTrace T("cudaLaunchKernelExC");
  T.args("config={} func={}", static_cast<const void *>(Config), Func);
  return finish(T, launchEx(Config, Func, Args, false));
}

CUSHIM_EXPORT cudaError_t cudaLaunchKernelExC_ptsz(const cudaLaunchConfig_t *Config, const void *Func, void **Args) {
  ApiTrace T("cudaLaunchKernelExC_ptsz");
  T.args("config={} func={}", static_cast<const void *>(Config), Func);
  return finish(T, launchEx(Config, Func, Args, true));
}

CUSHIM_EXPORT cudaError_t cudaOccupancyAvailableDynamicSMemPerBlock(size_t *Size, const void *Func, int NumBlocks,
                                                                   int BlockSize) {
  ApiTrace T("cudaOccupancyAvailableDynamicSMemPerBlock");
  T.args("dynamicSmemSize={} func={} numBlocks={} blockSize={}", static_cast<void *>(Size), Func, NumBlocks,
         BlockSize);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Size)
      return runtimeError(cudaErrorInvalidValue, "dynamicSmemSize is NULL");
    auto F = functionFor(Func);
    if (!F)
      return F.takeError();
    if (NumBlocks <= 0 || BlockSize <= 0)
      return runtimeError(cudaErrorInvalidValue, "numBlocks and blockSize must be positive");
    auto Available = core::availableDynamicSharedPerBlock(**F, NumBlocks, BlockSize);
    if (!Available)
      return Available.takeError();
    *Size = *Available;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaFuncSetCacheConfig(const void *Func, enum cudaFuncCache Config) {
  ApiTrace T("cudaFuncSetCacheConfig");
  T.args("func={} cacheConfig={}", Func, static_cast<int>(Config));
  CUSHIM_RUNTIME_BODY(T, {
    auto F = functionFor(Func);
    if (!F)
      return F.takeError();
    return checkCacheConfig(Config); // a preference only: L1/shared splits do not exist on the host
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceSetCacheConfig(enum cudaFuncCache Config) {
  ApiTrace T("cudaDeviceSetCacheConfig");
  T.args("cacheConfig={}", static_cast<int>(Config));
  CUSHIM_RUNTIME_BODY(T, {
    CUSHIM_TRY(checkCacheConfig(Config));
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    int O = (*Ctx)->device().ordinal();
    if (O >= 0 && O < MaxDevices)
      CacheConfig[O] = Config;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetCacheConfig(enum cudaFuncCache *Config) {
  ApiTrace T("cudaDeviceGetCacheConfig");
  T.args("pCacheConfig={}", static_cast<void *>(Config));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Config)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetCacheConfig: pCacheConfig is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    int O = (*Ctx)->device().ordinal();
    *Config = static_cast<cudaFuncCache>(O >= 0 && O < MaxDevices ? CacheConfig[O].load() : 0);
    return Error::success();
  });
}

// Banked shared memory configuration stopped existing with Volta: CUDA reports four-byte banks and ignores the set.
CUSHIM_EXPORT cudaError_t cudaDeviceSetSharedMemConfig(enum cudaSharedMemConfig Config) {
  ApiTrace T("cudaDeviceSetSharedMemConfig");
  T.args("config={}", static_cast<int>(Config));
  CUSHIM_RUNTIME_BODY(T, {
    if (Config < cudaSharedMemBankSizeDefault || Config > cudaSharedMemBankSizeEightByte)
      return runtimeError(cudaErrorInvalidValue, "invalid shared memory configuration");
    auto Ctx = context();
    return Ctx ? Error::success() : Ctx.takeError();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetSharedMemConfig(enum cudaSharedMemConfig *Config) {
  ApiTrace T("cudaDeviceGetSharedMemConfig");
  T.args("pConfig={}", static_cast<void *>(Config));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Config)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetSharedMemConfig: pConfig is NULL");
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    *Config = cudaSharedMemBankSizeFourByte;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaSetDeviceFlags(unsigned int Flags) {
  ApiTrace T("cudaSetDeviceFlags");
  T.args("flags={:#x}", Flags);
  CUSHIM_RUNTIME_BODY(T, {
    constexpr unsigned Schedule = cudaDeviceScheduleMask;
    if (Flags & ~static_cast<unsigned>(cudaDeviceMask))
      return runtimeError(cudaErrorInvalidValue, fmt::format("cudaSetDeviceFlags: unknown flags {:#x}", Flags));
    unsigned S = Flags & Schedule;
    if (S != cudaDeviceScheduleAuto && S != cudaDeviceScheduleSpin && S != cudaDeviceScheduleYield &&
        S != cudaDeviceScheduleBlockingSync)
      return runtimeError(cudaErrorInvalidValue, "cudaSetDeviceFlags: more than one scheduling flag");
    int O = runtimeOrdinal();
    auto D = runtimeDevice(O);
    if (!D)
      return D.takeError();
    if (O < MaxDevices)
      DeviceFlags[O] = Flags;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetDeviceFlags(unsigned int *Flags) {
  ApiTrace T("cudaGetDeviceFlags");
  T.args("flags={}", static_cast<void *>(Flags));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Flags)
      return runtimeError(cudaErrorInvalidValue, "cudaGetDeviceFlags: flags is NULL");
    int O = runtimeOrdinal();
    auto D = runtimeDevice(O);
    if (!D)
      return D.takeError();
    // Host memory is always mapped (unified addressing), which CUDA reports as cudaDeviceMapHost.
    *Flags = (O < MaxDevices ? DeviceFlags[O].load() : 0u) | cudaDeviceMapHost;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaChooseDevice(int *Device, const struct cudaDeviceProp *Prop) {
  ApiTrace T("cudaChooseDevice");
  T.args("device={} prop={}", static_cast<void *>(Device), static_cast<const void *>(Prop));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Device || !Prop)
      return runtimeError(cudaErrorInvalidValue, "cudaChooseDevice: device or prop is NULL");
    CUSHIM_TRY(core::initialize(0));
    if (core::deviceCount() == 0)
      return runtimeError(cudaErrorNoDevice, "cudaChooseDevice: no device");
    // The closest match by compute capability (major, then minor), as CUDA's own choice.
    int Best = 0;
    long Distance = LONG_MAX;
    for (int O = 0; O < core::deviceCount(); ++O) {
      auto Major = core::device(O)->attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
      auto Minor = core::device(O)->attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
      if (!Major || !Minor)
        continue;
      long D = std::labs((*Major - Prop->major) * 100L + (*Minor - Prop->minor));
      if (D < Distance)
        Distance = D, Best = O;
    }
    *Device = Best;
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetPCIBusId(char *PciBusId, int Len, int Device) {
  ApiTrace T("cudaDeviceGetPCIBusId");
  T.args("pciBusId={} len={} device={}", static_cast<void *>(PciBusId), Len, Device);
  CUSHIM_RUNTIME_BODY(T, { return pciBusId(PciBusId, Len, Device); });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetByPCIBusId(int *Device, const char *PciBusId) {
  ApiTrace T("cudaDeviceGetByPCIBusId");
  T.args("device={} pciBusId={}", static_cast<void *>(Device), PciBusId ? PciBusId : "(null)");
  CUSHIM_RUNTIME_BODY(T, { return deviceByPciBusId(Device, PciBusId); });
}
