// Error reporting of the runtime API: last error and error strings.
#include "runtime/RuntimeState.h"

#include "support/ErrorTables.h"

using namespace cushim;
using namespace cushim::runtime;

CUSHIM_EXPORT cudaError_t cudaGetLastError(void) {
  cudaError_t E = lastError();
  lastError() = cudaSuccess;
  return E;
}

CUSHIM_EXPORT cudaError_t cudaPeekAtLastError(void) { return lastError(); }

CUSHIM_EXPORT const char *cudaGetErrorString(cudaError_t Error) {
  const char *S = runtimeErrorString(Error);
  return S ? S : "unrecognized error code";
}

CUSHIM_EXPORT const char *cudaGetErrorName(cudaError_t Error) {
  const char *S = runtimeErrorName(Error);
  return S ? S : "unrecognized error code"; // what NVIDIA's cudart 13 returns
}
