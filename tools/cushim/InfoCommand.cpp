// cushim info: the devices as a CUDA program sees them, through the driver API (like NVIDIA's deviceQuery).
#include "tools/cushim/Commands.h"

#include <cuda.h>

#include <cstdio>

namespace cushim::tools {

static int attr(CUdevice Dev, CUdevice_attribute A) {
  int V = 0;
  cuDeviceGetAttribute(&V, A, Dev);
  return V;
}

int infoCommand(int Argc, char **Argv) {
  CUresult R = cuInit(0);
  if (R != CUDA_SUCCESS) {
    const char *Name = nullptr;
    cuGetErrorName(R, &Name);
    std::fprintf(stderr, "cushim info: cuInit failed: %s\n", Name ? Name : "?");
    return 1;
  }
  int Version = 0, Count = 0;
  cuDriverGetVersion(&Version);
  cuDeviceGetCount(&Count);
  std::printf("cuda_shim: CUDA driver API %d.%d, %d device(s)\n", Version / 1000, (Version % 1000) / 10, Count);
  for (int I = 0; I < Count; ++I) {
    CUdevice Dev;
    cuDeviceGet(&Dev, I);
    char Name[256] = {};
    cuDeviceGetName(Name, sizeof(Name), Dev);
    size_t Mem = 0;
    cuDeviceTotalMem(&Mem, Dev);
    std::printf("\nDevice %d: \"%s\"\n", I, Name);
    std::printf("  Compute capability:              %d.%d\n", attr(Dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
                attr(Dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR));
    std::printf("  Total global memory:             %.1f GiB\n", Mem / 1073741824.0);
    std::printf("  Multiprocessors (workers):       %d\n", attr(Dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT));
    std::printf("  Clock rate:                      %.0f MHz\n", attr(Dev, CU_DEVICE_ATTRIBUTE_CLOCK_RATE) / 1000.0);
    std::printf("  Warp size:                       %d\n", attr(Dev, CU_DEVICE_ATTRIBUTE_WARP_SIZE));
    std::printf("  Max threads per block:           %d\n", attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK));
    std::printf("  Max block dimensions:            (%d, %d, %d)\n", attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X),
                attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y), attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z));
    std::printf("  Max grid dimensions:             (%d, %d, %d)\n", attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X),
                attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y), attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z));
    std::printf("  Shared memory per block:         %d bytes (opt-in %d)\n",
                attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
                attr(Dev, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
    std::printf("  Constant memory:                 %d bytes\n", attr(Dev, CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY));
    std::printf("  Unified addressing:              %s\n", attr(Dev, CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING) ? "yes" : "no");
  }
  return 0;
}

} // namespace cushim::tools
