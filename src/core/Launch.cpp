// Kernel launch: configuration checks and parameter packing, then an asynchronous enqueue on the stream.
#include "core/Launch.h"

#include "core/Context.h"
#include "core/Device.h"
#include "core/Graph.h"
#include "core/Module.h"
#include "core/Stream.h"

#include <fmt/format.h>

#include <cstring>
#include <vector>

namespace cushim::core {

Error checkLaunchDims(const Function &F, const LaunchConfig &C) {
  static constexpr unsigned MaxBlock[3] = {1024, 1024, 64};
  static constexpr unsigned MaxGrid[3] = {2147483647u, 65535, 65535};
  static constexpr char Axis[3] = {'x', 'y', 'z'};
  for (int I = 0; I < 3; ++I) {
    if (C.Block[I] == 0 || C.Block[I] > MaxBlock[I])
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("launch of '{}': block dimension {} = {} (allowed 1..{})",
                                                             F.name(), Axis[I], C.Block[I], MaxBlock[I]));
    if (C.Grid[I] == 0 || C.Grid[I] > MaxGrid[I])
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("launch of '{}': grid dimension {} = {} (allowed 1..{})",
                                                             F.name(), Axis[I], C.Grid[I], MaxGrid[I]));
  }
  unsigned long long Threads = 1ull * C.Block[0] * C.Block[1] * C.Block[2];
  unsigned Limit = F.info().MaxThreads ? F.info().MaxThreads : 1024;
  if (Threads > Limit)
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("launch of '{}': {} threads per block, the kernel allows at most {}", F.name(),
                                 Threads, Limit));
  if (const auto &Req = F.info().ReqNTid) {
    for (size_t I = 0; I < Req->size() && I < 3; ++I)
      if ((*Req)[I] != C.Block[I])
        return makeError(CUDA_ERROR_INVALID_VALUE,
                         fmt::format("launch of '{}': block dimension {} = {} but the kernel requires .reqntid {}",
                                     F.name(), Axis[I], C.Block[I], (*Req)[I]));
  }
  return Error::success();
}

Error checkLaunchShared(const Function &F, const LaunchConfig &C) {
  if (C.DynamicShared > F.maxDynamicShared())
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("launch of '{}': {} bytes of dynamic shared memory exceed the function's limit of {} "
                                 "(raise it with cudaFuncSetAttribute(cudaFuncAttributeMaxDynamicSharedMemorySize))",
                                 F.name(), C.DynamicShared, F.maxDynamicShared()));
  return Error::success();
}

Expected<LaunchAttributes> readLaunchAttributes(const CUlaunchAttribute *Attrs, unsigned NumAttrs, const char *Api) {
  if (NumAttrs && !Attrs)
    return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("{}: attrs is NULL with numAttrs = {}", Api, NumAttrs));
  LaunchAttributes Out;
  for (unsigned I = 0; I < NumAttrs; ++I) {
    const CUlaunchAttribute &A = Attrs[I];
    switch (A.id) {
    case CU_LAUNCH_ATTRIBUTE_IGNORE: break;
    case CU_LAUNCH_ATTRIBUTE_COOPERATIVE: Out.Cooperative = A.value.cooperative != 0; break;
    // Scheduling and cache hints: every value is correct to ignore on a CPU (priorities only order ready work).
    case CU_LAUNCH_ATTRIBUTE_PRIORITY:
    case CU_LAUNCH_ATTRIBUTE_ACCESS_POLICY_WINDOW:
    case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN:
    case CU_LAUNCH_ATTRIBUTE_MEM_SYNC_DOMAIN_MAP:
    case CU_LAUNCH_ATTRIBUTE_CLUSTER_SCHEDULING_POLICY_PREFERENCE:
    case CU_LAUNCH_ATTRIBUTE_PREFERRED_SHARED_MEMORY_CARVEOUT:
    // Programmatic serialisation only permits overlap with the previous kernel; full serialisation is a valid order.
    case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION: break;
    case CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION:
    case CU_LAUNCH_ATTRIBUTE_PREFERRED_CLUSTER_DIMENSION:
      if (A.value.clusterDim.x <= 1 && A.value.clusterDim.y <= 1 && A.value.clusterDim.z <= 1)
        break;
      return makeError(CUDA_ERROR_NOT_SUPPORTED,
                       fmt::format("{}: thread block clusters ({},{},{}) are not supported by the host backend", Api,
                                   A.value.clusterDim.x, A.value.clusterDim.y, A.value.clusterDim.z));
    case CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_EVENT:
    case CU_LAUNCH_ATTRIBUTE_LAUNCH_COMPLETION_EVENT:
      return makeError(CUDA_ERROR_NOT_SUPPORTED,
                       fmt::format("{}: launch attribute {} (launch-triggered events) is not supported by the host "
                                   "backend",
                                   Api, static_cast<int>(A.id)));
    default:
      return makeError(CUDA_ERROR_NOT_SUPPORTED, fmt::format("{}: launch attribute {} is not supported by the host "
                                                             "backend",
                                                             Api, static_cast<int>(A.id)));
    }
  }
  return Out;
}

Error packKernelParams(const Function &F, void **KernelParams, void **Extra, std::vector<char> &Buffer) {
  Buffer.assign(F.info().ParamSize, 0);
  return packKernelParams(F, KernelParams, Extra, Buffer.data());
}

Error packKernelParams(const Function &F, void **KernelParams, void **Extra, char *Out) {
  const ptx::KernelInfo &K = F.info();
  if (K.ParamSize)
    std::memset(Out, 0, K.ParamSize);
  if (KernelParams && Extra)
    return makeError(CUDA_ERROR_INVALID_VALUE, "launch of '" + K.Name + "': both kernelParams and extra given");
  if (KernelParams) {
    for (size_t I = 0; I < K.Params.size(); ++I) {
      if (!KernelParams[I])
        return makeError(CUDA_ERROR_INVALID_VALUE,
                         fmt::format("launch of '{}': kernelParams[{}] is NULL", K.Name, I));
      std::memcpy(Out + K.Params[I].Offset, KernelParams[I], K.Params[I].Size);
    }
    return Error::success();
  }
  if (Extra) {
    const void *Source = nullptr;
    size_t Size = 0;
    bool HaveSize = false;
    for (size_t I = 0; Extra[I] != CU_LAUNCH_PARAM_END; I += 2) {
      if (Extra[I] == CU_LAUNCH_PARAM_BUFFER_POINTER) {
        Source = Extra[I + 1];
      } else if (Extra[I] == CU_LAUNCH_PARAM_BUFFER_SIZE) {
        if (!Extra[I + 1])
          return makeError(CUDA_ERROR_INVALID_VALUE, "launch of '" + K.Name + "': CU_LAUNCH_PARAM_BUFFER_SIZE is NULL");
        Size = *static_cast<size_t *>(Extra[I + 1]);
        HaveSize = true;
      } else {
        return makeError(CUDA_ERROR_INVALID_VALUE,
                         fmt::format("launch of '{}': unknown extra option {}", K.Name, Extra[I]));
      }
    }
    if (K.ParamSize == 0)
      return Error::success();
    if (!Source || !HaveSize)
      return makeError(CUDA_ERROR_INVALID_VALUE, "launch of '" + K.Name +
                                                     "': extra needs CU_LAUNCH_PARAM_BUFFER_POINTER and _SIZE");
    if (Size < K.ParamSize)
      return makeError(CUDA_ERROR_INVALID_VALUE, fmt::format("launch of '{}': parameter buffer of {} bytes, the "
                                                             "kernel takes {}",
                                                             K.Name, Size, K.ParamSize));
    std::memcpy(Out, Source, K.ParamSize);
    return Error::success();
  }
  if (!K.Params.empty())
    return makeError(CUDA_ERROR_INVALID_VALUE,
                     fmt::format("launch of '{}': the kernel takes {} parameter(s) but none were given", K.Name,
                                 K.Params.size()));
  return Error::success();
}

Error launchKernel(Function &F, const LaunchConfig &C, Stream &S, void **KernelParams, void **Extra) {
  if (!F.hal())
    return makeError(CUDA_ERROR_CONTEXT_IS_DESTROYED, "launch of '" + F.name() + "': its module's context was reset");
  if (&F.module().context() != &S.context())
    return makeError(CUDA_ERROR_INVALID_HANDLE, "launch of '" + F.name() + "': function and stream belong to "
                                                                          "different contexts");
  CUSHIM_TRY(checkLaunchDims(F, C));
  CUSHIM_TRY(checkLaunchShared(F, C));
  // Packed on the stack unless unusually large: a launch allocates nothing (the backend copies the buffer).
  size_t ParamSize = F.info().ParamSize;
  alignas(16) char Small[1024];
  std::vector<char> Large;
  char *Buffer = Small;
  if (ParamSize > sizeof(Small)) {
    Large.resize(ParamSize);
    Buffer = Large.data();
  }
  CUSHIM_TRY(packKernelParams(F, KernelParams, Extra, Buffer));
  cushim_hal_launch L{};
  for (int I = 0; I < 3; ++I) {
    L.grid[I] = C.Grid[I];
    L.block[I] = C.Block[I];
  }
  L.dynamic_shared_size = C.DynamicShared;
  L.params = Buffer;
  L.params_size = ParamSize;
  if (captureActive()) {
    // A capturing stream records a kernel node holding its own copy of the packed parameters (docs/GRAPHS.md).
    GraphNode N;
    N.Type = CU_GRAPH_NODE_TYPE_KERNEL;
    N.Kernel.F = &F;
    N.Kernel.Config = C;
    N.Kernel.Args.assign(Buffer, Buffer + ParamSize);
    if (auto R = captureNode(S, std::move(N)))
      return std::move(*R);
  }
  LaunchShape Shape{{C.Block[0], C.Block[1], C.Block[2]}, C.DynamicShared};
  return S.launch(F.halFor(Shape), L); // the backend copies the buffer before returning
}

} // namespace cushim::core
