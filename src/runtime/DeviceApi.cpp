// Devices in the runtime API: selection, properties, attributes, synchronisation, reset and versions.
#include "runtime/RuntimeState.h"

#include "core/Device.h"

#include <cstring>

using namespace cushim;
using namespace cushim::runtime;

CUSHIM_EXPORT cudaError_t cudaGetDeviceCount(int *Count) {
  ApiTrace T("cudaGetDeviceCount");
  T.args("count={}", static_cast<void *>(Count));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Count)
      return runtimeError(cudaErrorInvalidValue, "cudaGetDeviceCount: count is NULL");
    Error E = core::initialize(0);
    *Count = core::deviceCount();
    return E;
  });
}

CUSHIM_EXPORT cudaError_t cudaSetDevice(int Device) {
  ApiTrace T("cudaSetDevice");
  T.args("device={}", Device);
  CUSHIM_RUNTIME_BODY(T, {
    auto D = runtimeDevice(Device);
    if (!D)
      return D.takeError();
    currentDevice() = Device;
    // Since CUDA 12 cudaSetDevice initialises the device's primary context and makes it current.
    core::Context *Current = core::currentContext();
    if (Current && &Current->device() != *D)
      core::setCurrentContext(nullptr);
    auto Ctx = context();
    return Ctx ? Error::success() : Ctx.takeError();
  });
}

CUSHIM_EXPORT cudaError_t cudaGetDevice(int *Device) {
  ApiTrace T("cudaGetDevice");
  T.args("device={}", static_cast<void *>(Device));
  CUSHIM_RUNTIME_BODY(T, {
    if (!Device)
      return runtimeError(cudaErrorInvalidValue, "cudaGetDevice: device is NULL");
    CUSHIM_TRY(core::initialize(0));
    core::Context *Current = core::currentContext();
    *Device = Current ? Current->device().ordinal() : currentDevice();
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceGetAttribute(int *Value, enum cudaDeviceAttr Attr, int Device) {
  ApiTrace T("cudaDeviceGetAttribute");
  T.args("value={} attr={} device={}", static_cast<void *>(Value), static_cast<int>(Attr), Device);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Value)
      return runtimeError(cudaErrorInvalidValue, "cudaDeviceGetAttribute: value is NULL");
    auto D = runtimeDevice(Device);
    if (!D)
      return D.takeError();
    // cudaDeviceAttr and CUdevice_attribute share their numbering.
    auto V = (*D)->attribute(static_cast<CUdevice_attribute>(Attr));
    if (!V)
      return runtimeError(cudaErrorInvalidValue, V.error().message());
    *Value = *V;
    return Error::success();
  });
}

static void fillProperties(cudaDeviceProp &P, core::Device &D) {
  auto A = [&](CUdevice_attribute Attr) { return *D.attribute(Attr); };
  std::memset(&P, 0, sizeof(P));
  std::strncpy(P.name, D.name(), sizeof(P.name) - 1);
  std::memcpy(P.uuid.bytes, D.info().uuid, sizeof(P.uuid.bytes));
  P.totalGlobalMem = D.info().total_memory;
  P.sharedMemPerBlock = A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
  P.regsPerBlock = A(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK);
  P.warpSize = A(CU_DEVICE_ATTRIBUTE_WARP_SIZE);
  P.memPitch = A(CU_DEVICE_ATTRIBUTE_MAX_PITCH);
  P.maxThreadsPerBlock = A(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  P.maxThreadsDim[0] = A(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X);
  P.maxThreadsDim[1] = A(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y);
  P.maxThreadsDim[2] = A(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z);
  P.maxGridSize[0] = A(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X);
  P.maxGridSize[1] = A(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y);
  P.maxGridSize[2] = A(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z);
  P.totalConstMem = A(CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY);
  P.major = D.ccMajor();
  P.minor = D.ccMinor();
  P.textureAlignment = A(CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT);
  P.texturePitchAlignment = A(CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT);
  P.multiProcessorCount = A(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  P.integrated = A(CU_DEVICE_ATTRIBUTE_INTEGRATED);
  P.canMapHostMemory = A(CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY);
  P.maxTexture1D = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_WIDTH);
  P.maxTexture1DMipmap = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH);
  P.maxTexture2D[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_WIDTH);
  P.maxTexture2D[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_HEIGHT);
  P.maxTexture2DMipmap[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH);
  P.maxTexture2DMipmap[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT);
  P.maxTexture2DLinear[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_WIDTH);
  P.maxTexture2DLinear[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_HEIGHT);
  P.maxTexture2DLinear[2] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_PITCH);
  P.maxTexture2DGather[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_WIDTH);
  P.maxTexture2DGather[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_HEIGHT);
  P.maxTexture3D[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH);
  P.maxTexture3D[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT);
  P.maxTexture3D[2] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH);
  P.maxTexture3DAlt[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH_ALTERNATE);
  P.maxTexture3DAlt[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT_ALTERNATE);
  P.maxTexture3DAlt[2] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH_ALTERNATE);
  P.maxTextureCubemap = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_WIDTH);
  P.maxTexture1DLayered[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_WIDTH);
  P.maxTexture1DLayered[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_LAYERS);
  P.maxTexture2DLayered[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_WIDTH);
  P.maxTexture2DLayered[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_HEIGHT);
  P.maxTexture2DLayered[2] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_LAYERS);
  P.maxTextureCubemapLayered[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH);
  P.maxTextureCubemapLayered[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_LAYERS);
  P.maxSurface1D = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_WIDTH);
  P.maxSurface2D[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_WIDTH);
  P.maxSurface2D[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_HEIGHT);
  P.maxSurface3D[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_WIDTH);
  P.maxSurface3D[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_HEIGHT);
  P.maxSurface3D[2] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_DEPTH);
  P.maxSurface1DLayered[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_WIDTH);
  P.maxSurface1DLayered[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_LAYERS);
  P.maxSurface2DLayered[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_WIDTH);
  P.maxSurface2DLayered[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_HEIGHT);
  P.maxSurface2DLayered[2] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_LAYERS);
  P.maxSurfaceCubemap = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_WIDTH);
  P.maxSurfaceCubemapLayered[0] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH);
  P.maxSurfaceCubemapLayered[1] = A(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_LAYERS);
  P.surfaceAlignment = A(CU_DEVICE_ATTRIBUTE_SURFACE_ALIGNMENT);
  P.concurrentKernels = A(CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS);
  P.ECCEnabled = A(CU_DEVICE_ATTRIBUTE_ECC_ENABLED);
  P.pciBusID = A(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID);
  P.pciDeviceID = A(CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID);
  P.pciDomainID = A(CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID);
  P.tccDriver = A(CU_DEVICE_ATTRIBUTE_TCC_DRIVER);
  P.asyncEngineCount = A(CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT);
  P.unifiedAddressing = A(CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING);
  P.memoryBusWidth = A(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
  P.l2CacheSize = A(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
  P.persistingL2CacheMaxSize = A(CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE);
  P.maxThreadsPerMultiProcessor = A(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
  P.streamPrioritiesSupported = A(CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED);
  P.globalL1CacheSupported = A(CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED);
  P.localL1CacheSupported = A(CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED);
  P.sharedMemPerMultiprocessor = A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
  P.regsPerMultiprocessor = A(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR);
  P.managedMemory = A(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY);
  P.isMultiGpuBoard = A(CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD);
  P.multiGpuBoardGroupID = A(CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD_GROUP_ID);
  P.hostNativeAtomicSupported = A(CU_DEVICE_ATTRIBUTE_HOST_NATIVE_ATOMIC_SUPPORTED);
  P.pageableMemoryAccess = A(CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS);
  P.concurrentManagedAccess = A(CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS);
  P.computePreemptionSupported = A(CU_DEVICE_ATTRIBUTE_COMPUTE_PREEMPTION_SUPPORTED);
  P.canUseHostPointerForRegisteredMem = A(CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM);
  P.cooperativeLaunch = A(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH);
  P.sharedMemPerBlockOptin = A(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
  P.pageableMemoryAccessUsesHostPageTables = A(CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES);
  P.directManagedMemAccessFromHost = A(CU_DEVICE_ATTRIBUTE_DIRECT_MANAGED_MEM_ACCESS_FROM_HOST);
  P.maxBlocksPerMultiProcessor = A(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR);
  P.accessPolicyMaxWindowSize = A(CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE);
  P.reservedSharedMemPerBlock = A(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK);
  P.hostRegisterSupported = A(CU_DEVICE_ATTRIBUTE_HOST_REGISTER_SUPPORTED);
  P.memoryPoolsSupported = A(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED);
  P.clusterLaunch = A(CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH);
  P.unifiedFunctionPointers = A(CU_DEVICE_ATTRIBUTE_UNIFIED_FUNCTION_POINTERS);
  P.deviceNumaConfig = A(CU_DEVICE_ATTRIBUTE_NUMA_CONFIG);
  P.deviceNumaId = A(CU_DEVICE_ATTRIBUTE_NUMA_ID);
  P.hostNumaId = A(CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID);
}

CUSHIM_EXPORT cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *Prop, int Device) {
  ApiTrace T("cudaGetDeviceProperties");
  T.args("prop={} device={}", static_cast<void *>(Prop), Device);
  CUSHIM_RUNTIME_BODY(T, {
    if (!Prop)
      return runtimeError(cudaErrorInvalidValue, "cudaGetDeviceProperties: prop is NULL");
    auto D = runtimeDevice(Device);
    if (!D)
      return D.takeError();
    fillProperties(*Prop, **D);
    return Error::success();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceSynchronize(void) {
  ApiTrace T("cudaDeviceSynchronize");
  CUSHIM_RUNTIME_BODY(T, {
    auto Ctx = context();
    if (!Ctx)
      return Ctx.takeError();
    CUSHIM_TRY((*Ctx)->captureCheckSynchronize("cudaDeviceSynchronize"));
    return (*Ctx)->synchronize();
  });
}

CUSHIM_EXPORT cudaError_t cudaDeviceReset(void) {
  ApiTrace T("cudaDeviceReset");
  CUSHIM_RUNTIME_BODY(T, {
    CUSHIM_TRY(core::initialize(0));
    core::Device *D = core::device(currentDevice());
    if (!D)
      return runtimeError(cudaErrorInvalidDevice, "cudaDeviceReset: invalid current device");
    // The context stays current to the threads it was current to; the next call that needs it reactivates it.
    if (core::Context *Primary = D->primaryIfActive())
      forgetContext(Primary);
    // The thread's last error survives the reset, as with NVIDIA's runtime (the next cudaGetLastError returns it).
    return D->resetPrimary();
  });
}

CUSHIM_EXPORT cudaError_t cudaDriverGetVersion(int *Version) {
  ApiTrace T("cudaDriverGetVersion");
  T.args("driverVersion={}", static_cast<void *>(Version));
  if (!Version)
    return finish(T, cudaErrorInvalidValue, "cudaDriverGetVersion: driverVersion is NULL");
  *Version = core::ReportedCudaVersion;
  return finish(T, cudaSuccess);
}

CUSHIM_EXPORT cudaError_t cudaRuntimeGetVersion(int *Version) {
  ApiTrace T("cudaRuntimeGetVersion");
  T.args("runtimeVersion={}", static_cast<void *>(Version));
  if (!Version)
    return finish(T, cudaErrorInvalidValue, "cudaRuntimeGetVersion: runtimeVersion is NULL");
  *Version = core::ReportedCudaVersion;
  return finish(T, cudaSuccess);
}
