// Kernel launches and function attributes of the runtime API.
#include "runtime/RuntimeLaunch.h"
#include "runtime/RuntimeState.h"

#include "core/Graph.h"
#include "core/Launch.h"
#include "core/Stream.h"
#include "support/Config.h"

#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

namespace cushim::runtime {

Error launchHostFunction(const void *HostFun, dim3 Grid, dim3 Block, void **Args, size_t Shared, cudaStream_t Stream) {
  auto F = functionFor(HostFun);
  if (!F)
    return F.takeError();
  core::Context &Ctx = (*F)->module().context();
  CUSHIM_TRY(Ctx.stickyError());
  core::LaunchConfig C;
  C.Grid[0] = Grid.x, C.Grid[1] = Grid.y, C.Grid[2] = Grid.z;
  C.Block[0] = Block.x, C.Block[1] = Block.y, C.Block[2] = Block.z;
  if (Shared > UINT32_MAX)
    return runtimeError(cudaErrorInvalidValue, "dynamic shared memory size out of range");
  C.DynamicShared = static_cast<unsigned>(Shared);
  if (Error E = core::checkLaunchDims(**F, C); E.isError())
    return runtimeError(cudaErrorInvalidConfiguration, E.message());
  auto S = core::resolveStream(Ctx, reinterpret_cast<CUstream>(Stream));
  if (!S)
    return S.takeError();
  CUSHIM_TRY(core::launchKernel(**F, C, **S, Args, nullptr));
  // A captured launch only recorded a node: there is nothing to wait for (and capturing streams cannot be waited on).
  if (config().LaunchBlocking && core::captureInfo(**S).Status == CU_STREAM_CAPTURE_STATUS_NONE)
    return (*S)->synchronize();
  return Error::success();
}

} // namespace cushim::runtime

CUSHIM_EXPORT cudaError_t cudaLaunchKernel(const void *Func, dim3 Grid, dim3 Block, void **Args, size_t Shared,
                                           cudaStream_t Stream) {
  ApiTrace T("cudaLaunchKernel");
  T.args("func={} grid=({},{},{}) block=({},{},{}) shared={} stream={}", Func, Grid.x, Grid.y, Grid.z, Block.x,
         Block.y, Block.z, Shared, static_cast<void *>(Stream));
  return finish(T, launchHostFunction(Func, Grid, Block, Args, Shared, Stream));
}

CUSHIM_EXPORT cudaError_t cudaLaunchKernel_ptsz(const void *Func, dim3 Grid, dim3 Block, void **Args, size_t Shared,
                                                cudaStream_t Stream) {
  ApiTrace T("cudaLaunchKernel_ptsz");
  T.args("func={} grid=({},{},{}) block=({},{},{}) shared={} stream={}", Func, Grid.x, Grid.y, Grid.z, Block.x,
         Block.y, Block.z, Shared, static_cast<void *>(Stream));
  // --default-stream per-thread: stream 0 names the calling thread's default stream.
  return finish(T, launchHostFunction(Func, Grid, Block, Args, Shared, Stream ? Stream : cudaStreamPerThread));
}

CUSHIM_EXPORT cudaError_t cudaFuncGetAttributes(struct cudaFuncAttributes *Attr, const void *Func) {
  ApiTrace T("cudaFuncGetAttributes");
  T.args("attr={} func={}", static_cast<void *>(Attr), Func);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Attr)
      return runtimeError(cudaErrorInvalidValue, "cudaFuncGetAttributes: attr is NULL");
    auto F = functionFor(Func);
    if (!F)
      return F.takeError();
    auto Get = [&](CUfunction_attribute A) { return *(*F)->attribute(A); };
    std::memset(Attr, 0, sizeof(*Attr));
    Attr->sharedSizeBytes = static_cast<size_t>(Get(CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES));
    Attr->constSizeBytes = static_cast<size_t>(Get(CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES));
    Attr->localSizeBytes = static_cast<size_t>(Get(CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES));
    Attr->maxThreadsPerBlock = Get(CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    Attr->numRegs = Get(CU_FUNC_ATTRIBUTE_NUM_REGS);
    Attr->ptxVersion = Get(CU_FUNC_ATTRIBUTE_PTX_VERSION);
    Attr->binaryVersion = Get(CU_FUNC_ATTRIBUTE_BINARY_VERSION);
    Attr->cacheModeCA = Get(CU_FUNC_ATTRIBUTE_CACHE_MODE_CA);
    Attr->maxDynamicSharedSizeBytes = Get(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES);
    Attr->preferredShmemCarveout = Get(CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT);
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaFuncSetAttribute(const void *Func, enum cudaFuncAttribute Attr, int Value) {
  ApiTrace T("cudaFuncSetAttribute");
  T.args("func={} attr={} value={}", Func, static_cast<int>(Attr), Value);
  CUSHIM_RUNTIME_BODY(T, {
    auto F = functionFor(Func);
    if (!F)
      return F.takeError();
    switch (Attr) {
    case cudaFuncAttributeMaxDynamicSharedMemorySize:
      return (*F)->setAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, Value);
    case cudaFuncAttributePreferredSharedMemoryCarveout:
      return (*F)->setAttribute(CU_FUNC_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT, Value);
    default:
      return runtimeError(cudaErrorInvalidValue,
                          "cudaFuncSetAttribute: attribute " + std::to_string(Attr) + " is not supported yet");
    }
  });
}
