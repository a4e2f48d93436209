// End-to-end: error paths of the runtime API return the documented codes, the last-error state behaves like CUDA's
// (peek keeps it, get returns and clears it), launch configuration errors are not sticky, and error names/strings match.
#include "e2e_common.h"

#include <cstring>

__global__ void touch(int *P) {
  if (P)
    P[threadIdx.x] = threadIdx.x;
}

__global__ void useDynamicShared(int *P) {
  extern __shared__ int S[];
  S[threadIdx.x] = threadIdx.x;
  if (P)
    P[threadIdx.x] = S[threadIdx.x];
}

using e2e::Failures;
using e2e::expectCode;

static void expectStr(const char *Got, const char *Want, const char *What) {
  bool Ok = Got && std::strcmp(Got, Want) == 0;
  std::printf("  %s %s: got \"%s\", want \"%s\"\n", Ok ? "ok  " : "FAIL", What, Got ? Got : "(null)", Want);
  if (!Ok)
    ++Failures;
}

// Launch errors are reported through the last-error state: peek returns it without clearing, get returns and clears.
static void expectLaunchError(cudaError_t Want, const char *What) {
  char Buf[160];
  std::snprintf(Buf, sizeof(Buf), "%s: cudaPeekAtLastError", What);
  expectCode(cudaPeekAtLastError(), Want, Buf);
  std::snprintf(Buf, sizeof(Buf), "%s: cudaPeekAtLastError again (not cleared by peek)", What);
  expectCode(cudaPeekAtLastError(), Want, Buf);
  std::snprintf(Buf, sizeof(Buf), "%s: cudaGetLastError", What);
  expectCode(cudaGetLastError(), Want, Buf);
  std::snprintf(Buf, sizeof(Buf), "%s: cudaGetLastError after (cleared)", What);
  expectCode(cudaGetLastError(), cudaSuccess, Buf);
}

int main() {
  int *Dev = nullptr;
  E2E_CHECK(cudaMalloc(&Dev, 4096));
  expectCode(cudaGetLastError(), cudaSuccess, "clean start");

  std::printf("launch configuration\n");
  touch<<<1, 2048>>>(Dev);
  expectLaunchError(cudaErrorInvalidConfiguration, "blockDim 2048");
  touch<<<1, dim3(1024, 2, 1)>>>(Dev);
  expectLaunchError(cudaErrorInvalidConfiguration, "blockDim 1024x2 (2048 threads)");
  touch<<<1, dim3(1, 1, 65)>>>(Dev);
  expectLaunchError(cudaErrorInvalidConfiguration, "blockDim.z 65 (> 64)");
  touch<<<0, 32>>>(Dev);
  expectLaunchError(cudaErrorInvalidConfiguration, "gridDim 0");
  touch<<<dim3(1, 65536, 1), 1>>>(Dev);
  expectLaunchError(cudaErrorInvalidConfiguration, "gridDim.y 65536 (> 65535)");
  touch<<<1, 0>>>(Dev);
  expectLaunchError(cudaErrorInvalidConfiguration, "blockDim 0");
  // 1 MiB of dynamic shared memory is above every device's opt-in limit; CUDA reports it as an invalid argument.
  useDynamicShared<<<1, 32, 1 << 20>>>(Dev);
  expectLaunchError(cudaErrorInvalidValue, "1 MiB dynamic shared memory");

  // Configuration errors are not sticky: a valid launch afterwards works.
  useDynamicShared<<<1, 64, 64 * sizeof(int)>>>(Dev);
  expectCode(cudaGetLastError(), cudaSuccess, "valid launch after errors");
  expectCode(cudaDeviceSynchronize(), cudaSuccess, "cudaDeviceSynchronize after errors");
  int Host[64] = {};
  expectCode(cudaMemcpy(Host, Dev, sizeof(Host), cudaMemcpyDeviceToHost), cudaSuccess, "copy back");
  bool Ok = true;
  for (int I = 0; I < 64; ++I)
    Ok &= Host[I] == I;
  std::printf("  %s results of the valid launch\n", Ok ? "ok  " : "FAIL");
  Failures += Ok ? 0 : 1;

  std::printf("memory\n");
  void *Bogus = reinterpret_cast<void *>(0x10);
  expectCode(cudaMemcpy(Bogus, Host, sizeof(Host), cudaMemcpyHostToDevice), cudaErrorInvalidValue,
             "cudaMemcpy H2D to an invalid device pointer");
  cudaGetLastError();
  expectCode(cudaMemcpy(Host, Bogus, sizeof(Host), cudaMemcpyDeviceToHost), cudaErrorInvalidValue,
             "cudaMemcpy D2H from an invalid device pointer");
  cudaGetLastError();
  expectCode(cudaMemcpy(Host, Dev, sizeof(Host), static_cast<cudaMemcpyKind>(42)), cudaErrorInvalidMemcpyDirection,
             "cudaMemcpy with kind 42");
  cudaGetLastError();
  expectCode(cudaFree(reinterpret_cast<void *>(0x12345678)), cudaErrorInvalidValue, "cudaFree of a bogus pointer");
  cudaGetLastError();
  expectCode(cudaFree(nullptr), cudaSuccess, "cudaFree(nullptr) is a no-op");
  int *Twice = nullptr;
  E2E_CHECK(cudaMalloc(&Twice, 256));
  E2E_CHECK(cudaFree(Twice));
  expectCode(cudaFree(Twice), cudaErrorInvalidValue, "cudaFree twice");
  cudaGetLastError();
  void *Huge = nullptr;
  expectCode(cudaMalloc(&Huge, size_t(1) << 52), cudaErrorMemoryAllocation, "cudaMalloc(4 PiB)");
  cudaGetLastError();
  expectCode(cudaMalloc(static_cast<void **>(nullptr), 16), cudaErrorInvalidValue, "cudaMalloc(nullptr, 16)");
  cudaGetLastError();

  std::printf("symbols\n");
  static int NotASymbol = 0;
  expectCode(cudaMemcpyToSymbol(NotASymbol, Host, sizeof(int)), cudaErrorInvalidSymbol,
             "cudaMemcpyToSymbol on a host variable");
  cudaGetLastError();
  size_t Size = 0;
  expectCode(cudaGetSymbolSize(&Size, NotASymbol), cudaErrorInvalidSymbol, "cudaGetSymbolSize on a host variable");
  cudaGetLastError();

  std::printf("devices\n");
  expectCode(cudaSetDevice(99), cudaErrorInvalidDevice, "cudaSetDevice(99)");
  // Runtime API errors other than launches are recorded as the last error too.
  expectCode(cudaGetLastError(), cudaErrorInvalidDevice, "cudaGetLastError after cudaSetDevice(99)");
  expectCode(cudaGetLastError(), cudaSuccess, "cudaGetLastError cleared");
  int Current = -1;
  E2E_CHECK(cudaGetDevice(&Current));
  expectCode(Current == 0 ? cudaSuccess : cudaErrorUnknown, cudaSuccess, "current device still 0");
  cudaDeviceProp Prop;
  expectCode(cudaGetDeviceProperties(&Prop, 99), cudaErrorInvalidDevice, "cudaGetDeviceProperties(99)");
  cudaGetLastError();
  int Value = 0;
  expectCode(cudaDeviceGetAttribute(&Value, cudaDevAttrWarpSize, 99), cudaErrorInvalidDevice,
             "cudaDeviceGetAttribute(device 99)");
  cudaGetLastError();
  expectCode(cudaSetDevice(-1), cudaErrorInvalidDevice, "cudaSetDevice(-1)");
  cudaGetLastError();

  std::printf("error names and strings\n");
  expectStr(cudaGetErrorName(cudaSuccess), "cudaSuccess", "name of cudaSuccess");
  expectStr(cudaGetErrorName(cudaErrorInvalidValue), "cudaErrorInvalidValue", "name of 1");
  expectStr(cudaGetErrorName(cudaErrorInvalidConfiguration), "cudaErrorInvalidConfiguration", "name of 9");
  expectStr(cudaGetErrorName(cudaErrorInvalidSymbol), "cudaErrorInvalidSymbol", "name of 13");
  expectStr(cudaGetErrorName(cudaErrorInvalidDevice), "cudaErrorInvalidDevice", "name of 101");
  expectStr(cudaGetErrorString(cudaSuccess), "no error", "string of cudaSuccess");
  expectStr(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument", "string of cudaErrorInvalidValue");
  expectStr(cudaGetErrorString(cudaErrorMemoryAllocation), "out of memory", "string of cudaErrorMemoryAllocation");
  expectStr(cudaGetErrorString(cudaErrorInvalidConfiguration), "invalid configuration argument",
            "string of cudaErrorInvalidConfiguration");
  expectStr(cudaGetErrorString(cudaErrorInvalidDevice), "invalid device ordinal", "string of cudaErrorInvalidDevice");
  expectStr(cudaGetErrorString(cudaErrorInvalidSymbol), "invalid device symbol", "string of cudaErrorInvalidSymbol");
  expectStr(cudaGetErrorString(cudaErrorInvalidMemcpyDirection), "invalid copy direction for memcpy",
            "string of cudaErrorInvalidMemcpyDirection");
  // Strings of NVIDIA's libcudart 13.0 for a code it does not know (name and string alike).
  expectStr(cudaGetErrorName(static_cast<cudaError_t>(12345)), "unrecognized error code", "name of code 12345");
  expectStr(cudaGetErrorString(static_cast<cudaError_t>(12345)), "unrecognized error code", "string of code 12345");

  // Everything above left the context usable.
  expectCode(cudaDeviceSynchronize(), cudaSuccess, "final cudaDeviceSynchronize");
  expectCode(cudaFree(Dev), cudaSuccess, "final cudaFree");
  return e2e::finish("errors", Failures);
}
