// The hooks nvcc's host code calls: fatbinary, kernel and variable registration, and the <<<...>>> launch path.
#include "runtime/RuntimeState.h"

#include "runtime/RuntimeLaunch.h"
#include "support/Log.h"

#include <vector>

using namespace cushim;
using namespace cushim::runtime;

namespace {
struct CallConfiguration {
  dim3 Grid, Block;
  size_t Shared;
  cudaStream_t Stream;
};
std::vector<CallConfiguration> &callStack() {
  static thread_local std::vector<CallConfiguration> Stack;
  return Stack;
}
} // namespace

CUSHIM_EXPORT void **__cudaRegisterFatBinary(void *FatCubin) {
  auto *F = new FatbinRecord();
  F->Wrapper = FatCubin;
  Registry &R = registry();
  std::lock_guard<std::shared_mutex> G(R.Mutex);
  R.Fatbins.push_back(F);
  CUSHIM_LOG_DEBUG("registered fatbinary {}", FatCubin);
  // The handle nvcc keeps is opaque to it; ours is the record.
  return reinterpret_cast<void **>(F);
}

CUSHIM_EXPORT void __cudaRegisterFatBinaryEnd(void **Handle) { (void)Handle; }

CUSHIM_EXPORT void __cudaUnregisterFatBinary(void **Handle) {
  // Runs from atexit: modules die with their contexts; only forget the registrations.
  auto *F = reinterpret_cast<FatbinRecord *>(Handle);
  Registry &R = registry();
  std::lock_guard<std::shared_mutex> G(R.Mutex);
  for (auto It = R.Kernels.begin(); It != R.Kernels.end();) {
    if (It->second->Fatbin != F) {
      ++It;
      continue;
    }
    R.KernelHandles.erase(It->second);
    delete It->second;
    It = R.Kernels.erase(It);
  }
  for (auto It = R.Vars.begin(); It != R.Vars.end();)
    It = It->second->Fatbin == F ? (delete It->second, R.Vars.erase(It)) : std::next(It);
  std::erase(R.Fatbins, F);
  delete F;
}

CUSHIM_EXPORT void __cudaRegisterFunction(void **Handle, const char *HostFun, char *DeviceFun, const char *DeviceName,
                                          int ThreadLimit, uint3 *Tid, uint3 *Bid, dim3 *BDim, dim3 *GDim,
                                          int *WSize) {
  auto *K = new KernelRecord();
  K->Fatbin = reinterpret_cast<FatbinRecord *>(Handle);
  K->HostFun = HostFun;
  K->DeviceName = DeviceName ? DeviceName : (DeviceFun ? DeviceFun : "");
  Registry &R = registry();
  std::lock_guard<std::shared_mutex> G(R.Mutex);
  if (auto It = R.Kernels.find(HostFun); It != R.Kernels.end()) {
    R.KernelHandles.erase(It->second);
    delete It->second;
  }
  R.Kernels[HostFun] = K;
  R.KernelHandles.insert(K);
}

static void registerVar(void **Handle, const void *HostVar, void **ManagedPointer, const char *DeviceName, size_t Size,
                        int Constant) {
  auto *V = new VarRecord();
  V->Fatbin = reinterpret_cast<FatbinRecord *>(Handle);
  V->HostVar = HostVar;
  V->DeviceName = DeviceName ? DeviceName : "";
  V->Size = Size;
  V->Constant = Constant != 0;
  V->ManagedPointer = ManagedPointer;
  Registry &R = registry();
  std::lock_guard<std::shared_mutex> G(R.Mutex);
  if (auto It = R.Vars.find(HostVar); It != R.Vars.end())
    delete It->second;
  R.Vars[HostVar] = V;
}

CUSHIM_EXPORT void __cudaRegisterVar(void **Handle, char *HostVar, char *DeviceAddress, const char *DeviceName, int Ext,
                                     size_t Size, int Constant, int Global) {
  registerVar(Handle, HostVar, nullptr, DeviceName, Size, Constant);
}

CUSHIM_EXPORT void __cudaRegisterManagedVar(void **Handle, void **HostVarPtrAddress, char *DeviceAddress,
                                            const char *DeviceName, int Ext, size_t Size, int Constant, int Global) {
  registerVar(Handle, HostVarPtrAddress, HostVarPtrAddress, DeviceName, Size, Constant);
}

// Called by nvcc's host code before host code touches __managed__ variables: load the module so they have addresses.
// The host code dereferences the variables' pointers right after this returns, so a failure is logged loudly here
// (the program then faults on a NULL pointer, as it would on CUDA).
CUSHIM_EXPORT char __cudaInitModule(void **Handle) {
  auto Ctx = context();
  if (!Ctx) {
    CUSHIM_LOG_ERROR("__cudaInitModule: no context for __managed__ variables: {}", Ctx.error().message());
    return 0;
  }
  auto M = moduleFor(*reinterpret_cast<FatbinRecord *>(Handle), **Ctx);
  if (!M) {
    CUSHIM_LOG_ERROR("__cudaInitModule: the module holding __managed__ variables failed to load: {}",
                     M.error().message());
    return 0;
  }
  return 1;
}

CUSHIM_EXPORT unsigned __cudaPushCallConfiguration(dim3 GridDim, dim3 BlockDim, size_t SharedMem,
                                                   struct CUstream_st *Stream) {
  callStack().push_back({GridDim, BlockDim, SharedMem, Stream});
  return 0;
}

CUSHIM_EXPORT cudaError_t __cudaPopCallConfiguration(dim3 *GridDim, dim3 *BlockDim, size_t *SharedMem, void *Stream) {
  auto &Stack = callStack();
  if (Stack.empty())
    return cudaErrorMissingConfiguration;
  CallConfiguration C = Stack.back();
  Stack.pop_back();
  *GridDim = C.Grid;
  *BlockDim = C.Block;
  *SharedMem = C.Shared;
  *static_cast<cudaStream_t *>(Stream) = C.Stream;
  return cudaSuccess;
}

// CUDA 13's launch path: the stub asks once for a kernel handle, then launches through it.
CUSHIM_EXPORT cudaError_t __cudaGetKernel(cudaKernel_t *Kernel, const void *HostFun) {
  ApiTrace T("__cudaGetKernel");
  T.args("kernel={} func={}", static_cast<void *>(Kernel), HostFun);
  if (!Kernel)
    return finish(T, cudaErrorInvalidValue, "__cudaGetKernel: kernel is NULL");
  Registry &R = registry();
  std::shared_lock<std::shared_mutex> G(R.Mutex);
  auto It = R.Kernels.find(HostFun);
  if (It == R.Kernels.end())
    return finish(T, cudaErrorInvalidDeviceFunction, "__cudaGetKernel: not a registered __global__ function");
  *Kernel = reinterpret_cast<cudaKernel_t>(It->second);
  return finish(T, cudaSuccess);
}

static cudaError_t launchByHandle(const char *Api, cudaKernel_t Kernel, dim3 Grid, dim3 Block, void **Args,
                                  size_t Shared, cudaStream_t Stream) {
  ApiTrace T(Api);
  T.args("kernel={} grid=({},{},{}) block=({},{},{}) shared={} stream={}", static_cast<void *>(Kernel), Grid.x, Grid.y,
         Grid.z, Block.x, Block.y, Block.z, Shared, static_cast<void *>(Stream));
  const void *HostFun = nullptr;
  {
    Registry &R = registry();
    std::shared_lock<std::shared_mutex> G(R.Mutex);
    auto *K = reinterpret_cast<const KernelRecord *>(Kernel);
    if (R.KernelHandles.count(K))
      HostFun = K->HostFun;
  }
  if (!HostFun)
    return finish(T, cudaErrorInvalidResourceHandle, std::string(Api) + ": not a kernel handle from __cudaGetKernel");
  return finish(T, launchHostFunction(HostFun, Grid, Block, Args, Shared, Stream));
}

CUSHIM_EXPORT cudaError_t __cudaLaunchKernel(cudaKernel_t Kernel, dim3 Grid, dim3 Block, void **Args, size_t Shared,
                                             cudaStream_t Stream) {
  return launchByHandle("__cudaLaunchKernel", Kernel, Grid, Block, Args, Shared, Stream);
}

CUSHIM_EXPORT cudaError_t __cudaLaunchKernel_ptsz(cudaKernel_t Kernel, dim3 Grid, dim3 Block, void **Args,
                                                  size_t Shared, cudaStream_t Stream) {
  // --default-stream per-thread: stream 0 names the calling thread's default stream.
  return launchByHandle("__cudaLaunchKernel_ptsz", Kernel, Grid, Block, Args, Shared,
                        Stream ? Stream : cudaStreamPerThread);
}

CUSHIM_EXPORT void __cudaRegisterTexture(void **Handle, const struct textureReference *HostVar,
                                         const void **DeviceAddress, const char *DeviceName, int Dim, int Norm,
                                         int Ext) {
  CUSHIM_LOG_WARN("__cudaRegisterTexture('{}'): texture references are not supported yet; kernels using them will "
                  "fail to load",
                  DeviceName ? DeviceName : "?");
}

CUSHIM_EXPORT void __cudaRegisterSurface(void **Handle, const struct surfaceReference *HostVar,
                                         const void **DeviceAddress, const char *DeviceName, int Dim, int Ext) {
  CUSHIM_LOG_WARN("__cudaRegisterSurface('{}'): surface references are not supported yet; kernels using them will "
                  "fail to load",
                  DeviceName ? DeviceName : "?");
}
