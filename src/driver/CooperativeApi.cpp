// Occupancy: cuOccupancyMaxActiveBlocksPerMultiprocessor(WithFlags), cuOccupancyAvailableDynamicSMemPerBlock, the limit cooperative launches (LaunchApi.cpp)
// are checked against. The limits live in core (core/Occupancy.cpp), shared with libcudart.
#include "driver/DriverApi.h"

#include "core/Launch.h"
#include "core/Module.h"

#include <algorithm>
#include <climits>

using namespace cushim;
using namespace cushim::driver;


CUSHIM_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *NumBlocks, CUfunction Handle,
                                                                            int BlockSize, size_t DynamicSMemSize,
                                                                            unsigned int Flags) {
  ApiTrace T("cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags");
  T.args("numBlocks={} func={} blockSize={} dynamicSMemSize={} flags={}", static_cast<void *>(NumBlocks),
         static_cast<void *>(Handle), BlockSize, DynamicSMemSize, Flags);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!NumBlocks)
      return makeError(CUDA_ERROR_INVALID_VALUE, "numBlocks is NULL");
    if (Flags & ~static_cast<unsigned>(CU_OCCUPANCY_DISABLE_CACHING_OVERRIDE))
      return makeError(CUDA_ERROR_INVALID_VALUE, "unknown occupancy flags");
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "not a live function");
    auto N = core::maxActiveBlocksPerMultiprocessor(*F, BlockSize, DynamicSMemSize);
    if (!N)
      return N.takeError();
    *NumBlocks = *N;
    return Error::success();
  });
}

CUSHIM_EXPORT CUresult cuOccupancyMaxActiveBlocksPerMultiprocessor(int *NumBlocks, CUfunction Handle, int BlockSize,
                                                                   size_t DynamicSMemSize) {
  return cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(NumBlocks, Handle, BlockSize, DynamicSMemSize,
                                                              CU_OCCUPANCY_DEFAULT);
}

CUSHIM_EXPORT CUresult cuOccupancyAvailableDynamicSMemPerBlock(size_t *DynamicSmemSize, CUfunction Handle, int NumBlocks,
                                                               int BlockSize) {
  ApiTrace T("cuOccupancyAvailableDynamicSMemPerBlock");
  T.args("dynamicSmemSize={} func={} numBlocks={} blockSize={}", static_cast<void *>(DynamicSmemSize),
         static_cast<void *>(Handle), NumBlocks, BlockSize);
  CUSHIM_DRIVER_BODY(T, {
    CUSHIM_TRY(requireInit());
    if (!DynamicSmemSize)
      return makeError(CUDA_ERROR_INVALID_VALUE, "dynamicSmemSize is NULL");
    core::Function *F = core::lookupFunction(Handle);
    if (!F)
      return makeError(CUDA_ERROR_INVALID_HANDLE, "not a live function");
    auto Available = core::availableDynamicSharedPerBlock(*F, NumBlocks, BlockSize);
    if (!Available)
      return Available.takeError();
    *DynamicSmemSize = *Available;
    return Error::success();
  });
}
