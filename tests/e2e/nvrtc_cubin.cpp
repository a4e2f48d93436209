// End-to-end: the common NVRTC pattern of compiling for the device's real architecture (sm_80) and loading
// nvrtcGetCUBIN's machine code with cuModuleLoadData, run unmodified: our libnvrtc.so.13 (first on the loader path)
// forwards to NVIDIA's and answers CUBIN requests with an image cuda_shim loads. Also checks that what is forwarded
// behaves as NVIDIA's NVRTC: lowered names, the log of a failing compilation, no CUBIN for a virtual architecture.
#include <cuda.h>
#include <nvrtc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

static int Failures = 0;

static void expect(bool Ok, const std::string &What) {
  std::printf("  %s %s\n", Ok ? "ok  " : "FAIL", What.c_str());
  if (!Ok)
    ++Failures;
}

#define CU_CHECK(Call)                                                                                                 \
  do {                                                                                                                 \
    CUresult R = (Call);                                                                                               \
    if (R != CUDA_SUCCESS) {                                                                                           \
      std::fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #Call, int(R));                             \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

#define NVRTC_CHECK(Call)                                                                                              \
  do {                                                                                                                 \
    nvrtcResult R = (Call);                                                                                            \
    if (R != NVRTC_SUCCESS) {                                                                                          \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #Call, nvrtcGetErrorString(R));            \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

// A header given to nvrtcCreateProgram (the recompilation for the virtual architecture needs it too) and a template
// kernel reached through a name expression.
static const char *Header = "#define SCALE 3\n";
static const char *Source = R"(
#include "scale.h"
__constant__ int Offset = 11;
template <typename T> __global__ void affine(T *Out, const T *In, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = In[I] * SCALE + Offset + __shfl_xor_sync(0xffffffffu, In[I], 1) % 2;
}
)";

int main() {
  int Major = 0, Minor = 0;
  NVRTC_CHECK(nvrtcVersion(&Major, &Minor));
  std::printf("NVRTC %d.%d\n", Major, Minor);

  nvrtcProgram Prog;
  const char *Headers[] = {Header};
  const char *Includes[] = {"scale.h"};
  NVRTC_CHECK(nvrtcCreateProgram(&Prog, Source, "affine.cu", 1, Headers, Includes));
  NVRTC_CHECK(nvrtcAddNameExpression(Prog, "affine<int>"));
  const char *Opts[] = {"--gpu-architecture=sm_80", "-std=c++17"};
  nvrtcResult Compiled = nvrtcCompileProgram(Prog, 2, Opts);
  if (Compiled != NVRTC_SUCCESS) {
    size_t LogSize = 0;
    nvrtcGetProgramLogSize(Prog, &LogSize);
    std::string Log(LogSize, '\0');
    nvrtcGetProgramLog(Prog, Log.data());
    std::fprintf(stderr, "compilation for sm_80 failed: %s\n%s\n", nvrtcGetErrorString(Compiled), Log.c_str());
    return 2;
  }
  const char *Lowered = nullptr;
  NVRTC_CHECK(nvrtcGetLoweredName(Prog, "affine<int>", &Lowered));
  std::string Kernel = Lowered;
  expect(Kernel == "_Z6affineIiEvPT_PKS0_i", "lowered name of affine<int>: " + Kernel);
  size_t CubinSize = 0;
  NVRTC_CHECK(nvrtcGetCUBINSize(Prog, &CubinSize));
  std::vector<char> Cubin(CubinSize);
  NVRTC_CHECK(nvrtcGetCUBIN(Prog, Cubin.data()));
  expect(CubinSize > 0, "nvrtcGetCUBIN returned " + std::to_string(CubinSize) + " bytes");
  NVRTC_CHECK(nvrtcDestroyProgram(&Prog));

  // The CUBIN goes to the driver as the program would hand it to NVIDIA's.
  CU_CHECK(cuInit(0));
  CUdevice Dev;
  CU_CHECK(cuDeviceGet(&Dev, 0));
  CUcontext Ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx, Dev));
  CU_CHECK(cuCtxSetCurrent(Ctx));
  CUmodule Mod;
  CUresult Loaded = cuModuleLoadData(&Mod, Cubin.data());
  expect(Loaded == CUDA_SUCCESS, "cuModuleLoadData of nvrtcGetCUBIN's image: " + std::to_string(Loaded));
  if (Loaded == CUDA_SUCCESS) {
    CUfunction F;
    CU_CHECK(cuModuleGetFunction(&F, Mod, Kernel.c_str()));
    CUdeviceptr Offset;
    size_t OffsetBytes = 0;
    CU_CHECK(cuModuleGetGlobal(&Offset, &OffsetBytes, Mod, "Offset"));
    expect(OffsetBytes == sizeof(int), "__constant__ Offset is 4 bytes");
    const int N = 7 * 128; // whole warps: every lane takes part in the shuffle
    std::vector<int> In(N), Out(N, 0);
    for (int I = 0; I < N; ++I)
      In[I] = (I * 37) % 101 - 50;
    CUdeviceptr DIn, DOut;
    CU_CHECK(cuMemAlloc(&DIn, N * sizeof(int)));
    CU_CHECK(cuMemAlloc(&DOut, N * sizeof(int)));
    CU_CHECK(cuMemcpyHtoD(DIn, In.data(), N * sizeof(int)));
    int Count = N;
    void *Params[] = {&DOut, &DIn, &Count};
    CU_CHECK(cuLaunchKernel(F, 7, 1, 1, 128, 1, 1, 0, nullptr, Params, nullptr));
    CU_CHECK(cuCtxSynchronize());
    CU_CHECK(cuMemcpyDtoH(Out.data(), DOut, N * sizeof(int)));
    int Bad = 0;
    for (int I = 0; I < N; ++I) {
      Bad += Out[I] != In[I] * 3 + 11 + In[I ^ 1] % 2;
    }
    expect(Bad == 0, "kernel results (" + std::to_string(Bad) + " wrong)");
    CU_CHECK(cuMemFree(DIn));
    CU_CHECK(cuMemFree(DOut));
    CU_CHECK(cuModuleUnload(Mod));
  }

  // A virtual architecture has no CUBIN, as with NVIDIA's NVRTC; the PTX is there.
  nvrtcProgram Virt;
  NVRTC_CHECK(nvrtcCreateProgram(&Virt, "extern \"C\" __global__ void k(int *P) { *P = 1; }", "virt.cu", 0, nullptr,
                                 nullptr));
  const char *VirtOpts[] = {"--gpu-architecture=compute_80"};
  NVRTC_CHECK(nvrtcCompileProgram(Virt, 1, VirtOpts));
  size_t VirtCubin = 0, VirtPtx = 0;
  expect(nvrtcGetCUBINSize(Virt, &VirtCubin) != NVRTC_SUCCESS || VirtCubin == 0,
         "no CUBIN for compute_80, as NVIDIA's NVRTC");
  expect(nvrtcGetPTXSize(Virt, &VirtPtx) == NVRTC_SUCCESS && VirtPtx > 0, "PTX for compute_80");
  NVRTC_CHECK(nvrtcDestroyProgram(&Virt));

  // A compilation error is NVIDIA's: NVRTC_ERROR_COMPILATION with a log naming the problem.
  nvrtcProgram Broken;
  NVRTC_CHECK(nvrtcCreateProgram(&Broken, "__global__ void k() { undeclared = 1; }", "broken.cu", 0, nullptr,
                                 nullptr));
  const char *BrokenOpts[] = {"-arch", "sm_80"};
  nvrtcResult R = nvrtcCompileProgram(Broken, 2, BrokenOpts);
  size_t LogSize = 0;
  nvrtcGetProgramLogSize(Broken, &LogSize);
  std::string Log(LogSize, '\0');
  nvrtcGetProgramLog(Broken, Log.data());
  expect(R == NVRTC_ERROR_COMPILATION, std::string("broken source: ") + nvrtcGetErrorString(R));
  expect(Log.find("undeclared") != std::string::npos, "the log names the undeclared identifier");
  NVRTC_CHECK(nvrtcDestroyProgram(&Broken));

  CU_CHECK(cuDevicePrimaryCtxRelease(Dev));
  if (Failures) {
    std::printf("nvrtc_cubin: FAILED (%d failed checks)\n", Failures);
    return 1;
  }
  std::printf("nvrtc_cubin: PASSED\n");
  return 0;
}
