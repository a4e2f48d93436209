// End-to-end: the CUDA driver API on its own (no runtime). Compiles a kernel with NVRTC and loads the PTX with
// cuModuleLoadData, loads a PTX file from disk with cuModuleLoad, launches with kernelParams and with a packed `extra`
// buffer, and exercises memory, module globals, function attributes, created and primary contexts, device queries.
// Usage: driver_api <path to driver_kernels.ptx>
#include <cuda.h>
#include <nvrtc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#define CU_CHECK(Call)                                                                                                 \
  do {                                                                                                                 \
    CUresult CuErr = (Call);                                                                                           \
    if (CuErr != CUDA_SUCCESS) {                                                                                       \
      const char *ErrName = nullptr;                                                                                   \
      cuGetErrorName(CuErr, &ErrName);                                                                                 \
      std::fprintf(stderr, "%s:%d: %s failed: %d (%s)\n", __FILE__, __LINE__, #Call, int(CuErr),                     \
                   ErrName ? ErrName : "?");                                                                           \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

#define NVRTC_CHECK(Call)                                                                                              \
  do {                                                                                                                 \
    nvrtcResult NvErr = (Call);                                                                                        \
    if (NvErr != NVRTC_SUCCESS) {                                                                                      \
      std::fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #Call, nvrtcGetErrorString(NvErr));         \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

static int Failures = 0;

static void expect(bool Ok, const char *What) {
  std::printf("  %s %s\n", Ok ? "ok  " : "FAIL", What);
  if (!Ok)
    ++Failures;
}

// Mixed-size parameters so that packing the `extra` buffer needs alignment padding (short then double).
static const char *NvrtcSource = R"(
extern "C" __device__ int Bias;
__device__ int Bias = 5;

extern "C" __global__ void scaleAdd(float *Out, const float *In, float A, int N, short S, double B) {
  __shared__ float Stage[256];
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  Stage[threadIdx.x] = I < N ? In[I] : 0.0f;
  __syncthreads();
  if (I < N)
    Out[I] = Stage[threadIdx.x] * A + (float)S + (float)B + (float)Bias;
}

template <typename T> __global__ void fillValue(T *Out, int N, T V) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = V;
}
)";

static std::string compileWithNvrtc(std::string &FillName) {
  nvrtcProgram Prog;
  NVRTC_CHECK(nvrtcCreateProgram(&Prog, NvrtcSource, "driver_api_nvrtc.cu", 0, nullptr, nullptr));
  NVRTC_CHECK(nvrtcAddNameExpression(Prog, "fillValue<int>"));
  NVRTC_CHECK(nvrtcAddNameExpression(Prog, "&Bias"));
  const char *Opts[] = {"--gpu-architecture=compute_80", "-default-device"};
  nvrtcResult Res = nvrtcCompileProgram(Prog, 2, Opts);
  if (Res != NVRTC_SUCCESS) {
    size_t LogSize = 0;
    nvrtcGetProgramLogSize(Prog, &LogSize);
    std::string Log(LogSize, '\0');
    nvrtcGetProgramLog(Prog, Log.data());
    std::fprintf(stderr, "NVRTC compile failed:\n%s\n", Log.c_str());
    std::exit(2);
  }
  const char *Lowered = nullptr;
  NVRTC_CHECK(nvrtcGetLoweredName(Prog, "fillValue<int>", &Lowered));
  FillName = Lowered;
  size_t PtxSize = 0;
  NVRTC_CHECK(nvrtcGetPTXSize(Prog, &PtxSize));
  std::string Ptx(PtxSize, '\0');
  NVRTC_CHECK(nvrtcGetPTX(Prog, Ptx.data()));
  NVRTC_CHECK(nvrtcDestroyProgram(&Prog));
  return Ptx;
}

// Appends one argument to a launch buffer at its natural alignment, as the CUDA ABI lays out kernel parameters.
struct ParamBuffer {
  alignas(16) unsigned char Bytes[256] = {};
  size_t Size = 0;
  template <typename T> void push(const T &V) {
    Size = (Size + alignof(T) - 1) / alignof(T) * alignof(T);
    std::memcpy(Bytes + Size, &V, sizeof(T));
    Size += sizeof(T);
  }
};

static void testDeviceQueries(CUdevice Dev) {
  std::printf("device queries\n");
  char Name[256] = {};
  CU_CHECK(cuDeviceGetName(Name, sizeof(Name), Dev));
  std::printf("  device 0: %s\n", Name);
  expect(std::strlen(Name) > 0, "cuDeviceGetName returns a name");
  size_t Total = 0;
  CU_CHECK(cuDeviceTotalMem(&Total, Dev));
  expect(Total >= (size_t(256) << 20), "cuDeviceTotalMem >= 256 MiB");
  int V = 0;
  CU_CHECK(cuDeviceGetAttribute(&V, CU_DEVICE_ATTRIBUTE_WARP_SIZE, Dev));
  expect(V == 32, "warp size 32");
  CU_CHECK(cuDeviceGetAttribute(&V, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK, Dev));
  expect(V == 1024, "max threads per block 1024");
  int Major = 0, Minor = 0;
  CU_CHECK(cuDeviceGetAttribute(&Major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, Dev));
  CU_CHECK(cuDeviceGetAttribute(&Minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, Dev));
  std::printf("  compute capability %d.%d\n", Major, Minor);
  expect(Major >= 7, "compute capability major >= 7");
  CU_CHECK(cuDeviceGetAttribute(&V, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK, Dev));
  expect(V >= 48 * 1024, "shared memory per block >= 48 KiB");
  int DriverVersion = 0;
  CU_CHECK(cuDriverGetVersion(&DriverVersion));
  expect(DriverVersion >= 13000, "cuDriverGetVersion >= 13000");
  expect(cuDeviceGetAttribute(&V, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 99) == CUDA_ERROR_INVALID_DEVICE,
         "cuDeviceGetAttribute on device 99 -> CUDA_ERROR_INVALID_DEVICE");
}

static void testMemory() {
  std::printf("memory\n");
  const size_t N = 1000; // bytes; deliberately not a multiple of 4 for the D8 set
  CUdeviceptr A = 0, B = 0;
  CU_CHECK(cuMemAlloc(&A, 4096));
  CU_CHECK(cuMemAlloc(&B, 4096));
  std::vector<unsigned char> Host(4096);

  CU_CHECK(cuMemsetD8(A, 0xAB, N));
  CU_CHECK(cuMemcpyDtoH(Host.data(), A, N));
  bool Ok = true;
  for (size_t I = 0; I < N; ++I)
    Ok &= Host[I] == 0xAB;
  expect(Ok, "cuMemsetD8");

  CU_CHECK(cuMemsetD16(A, 0x1234, 300));
  std::vector<uint16_t> H16(300);
  CU_CHECK(cuMemcpyDtoH(H16.data(), A, 600));
  Ok = true;
  for (uint16_t X : H16)
    Ok &= X == 0x1234;
  unsigned char After = 0;
  CU_CHECK(cuMemcpyDtoH(&After, A + 600, 1));
  expect(Ok && After == 0xAB, "cuMemsetD16 (and it stops at its count)");

  CU_CHECK(cuMemsetD32(A, 0xDEADBEEFu, 256));
  std::vector<uint32_t> H32(256);
  CU_CHECK(cuMemcpyDtoH(H32.data(), A, 1024));
  Ok = true;
  for (uint32_t X : H32)
    Ok &= X == 0xDEADBEEFu;
  expect(Ok, "cuMemsetD32");

  std::vector<uint32_t> Pattern(1024);
  for (uint32_t I = 0; I < 1024; ++I)
    Pattern[I] = I * 2654435761u;
  CU_CHECK(cuMemcpyHtoD(A, Pattern.data(), 4096));
  CU_CHECK(cuMemcpyDtoD(B, A + 400, 2000));
  std::vector<uint32_t> Back(500);
  CU_CHECK(cuMemcpyDtoH(Back.data(), B, 2000));
  Ok = true;
  for (int I = 0; I < 500; ++I)
    Ok &= Back[I] == Pattern[100 + I];
  expect(Ok, "cuMemcpyHtoD + cuMemcpyDtoD (offset) + cuMemcpyDtoH");

  size_t Free = 0, Total = 0;
  CU_CHECK(cuMemGetInfo(&Free, &Total));
  expect(Total > 0 && Free <= Total, "cuMemGetInfo");
  CUdeviceptr BaseP = 0;
  size_t RangeSize = 0;
  CU_CHECK(cuMemGetAddressRange(&BaseP, &RangeSize, A + 123));
  expect(BaseP == A && RangeSize >= 4096, "cuMemGetAddressRange on an interior pointer");
  CU_CHECK(cuMemFree(A));
  CU_CHECK(cuMemFree(B));
}

// Module compiled by NVRTC, loaded from memory; launched with kernelParams and with `extra`.
static void testNvrtcModule() {
  std::printf("NVRTC module (cuModuleLoadData)\n");
  std::string FillName;
  std::string Ptx = compileWithNvrtc(FillName);
  expect(Ptx.find(".entry scaleAdd") != std::string::npos, "NVRTC produced PTX with the scaleAdd entry");
  CUmodule Mod;
  CU_CHECK(cuModuleLoadData(&Mod, Ptx.c_str()));
  CUfunction ScaleAdd, Fill;
  CU_CHECK(cuModuleGetFunction(&ScaleAdd, Mod, "scaleAdd"));
  CU_CHECK(cuModuleGetFunction(&Fill, Mod, FillName.c_str()));
  CUfunction Missing;
  expect(cuModuleGetFunction(&Missing, Mod, "noSuchKernel") == CUDA_ERROR_NOT_FOUND,
         "cuModuleGetFunction(unknown) -> CUDA_ERROR_NOT_FOUND");

  int Attr = 0;
  CU_CHECK(cuFuncGetAttribute(&Attr, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, ScaleAdd));
  expect(Attr == 256 * 4, "CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES == 1024");
  CU_CHECK(cuFuncGetAttribute(&Attr, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, ScaleAdd));
  expect(Attr >= 256 && Attr <= 1024, "CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK in [256, 1024]");
  CU_CHECK(cuFuncGetAttribute(&Attr, CU_FUNC_ATTRIBUTE_PTX_VERSION, ScaleAdd));
  expect(Attr > 0, "CU_FUNC_ATTRIBUTE_PTX_VERSION > 0");

  // Module global with an initializer, then overwritten.
  CUdeviceptr BiasPtr = 0;
  size_t BiasSize = 0;
  CU_CHECK(cuModuleGetGlobal(&BiasPtr, &BiasSize, Mod, "Bias"));
  int Bias = 0;
  CU_CHECK(cuMemcpyDtoH(&Bias, BiasPtr, sizeof(int)));
  expect(BiasSize == sizeof(int) && Bias == 5, "cuModuleGetGlobal(Bias): 4 bytes, initial value 5");
  Bias = 7;
  CU_CHECK(cuMemcpyHtoD(BiasPtr, &Bias, sizeof(int)));

  const int N = 1000;
  std::vector<float> In(N), Out(N);
  for (int I = 0; I < N; ++I)
    In[I] = 0.25f * static_cast<float>(I) - 100.0f;
  CUdeviceptr DIn, DOut;
  CU_CHECK(cuMemAlloc(&DIn, N * sizeof(float)));
  CU_CHECK(cuMemAlloc(&DOut, N * sizeof(float)));
  CU_CHECK(cuMemcpyHtoD(DIn, In.data(), N * sizeof(float)));

  // kernelParams launch.
  float A = 2.0f;
  int NArg = N;
  short S = -3;
  double B = 0.5;
  void *Params[] = {&DOut, &DIn, &A, &NArg, &S, &B};
  CU_CHECK(cuLaunchKernel(ScaleAdd, (N + 255) / 256, 1, 1, 256, 1, 1, 0, nullptr, Params, nullptr));
  CU_CHECK(cuCtxSynchronize());
  CU_CHECK(cuMemcpyDtoH(Out.data(), DOut, N * sizeof(float)));
  int Bad = 0;
  for (int I = 0; I < N; ++I)
    if (Out[I] != In[I] * 2.0f + (-3.0f) + 0.5f + 7.0f && Bad++ < 5)
      std::printf("  MISMATCH scaleAdd[%d]: got %g want %g\n", I, Out[I], In[I] * 2.0f + 4.5f);
  expect(Bad == 0, "scaleAdd launched with kernelParams");

  // `extra` launch: the same kernel with other values, packed by hand.
  ParamBuffer Buf;
  Buf.push(DOut);
  Buf.push(DIn);
  Buf.push(-1.0f);
  Buf.push(N);
  Buf.push(static_cast<short>(10));
  Buf.push(0.25);
  expect(Buf.Size == 40, "packed parameter buffer is 40 bytes (double aligned to 8)");
  size_t BufSize = Buf.Size;
  void *Extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, Buf.Bytes, CU_LAUNCH_PARAM_BUFFER_SIZE, &BufSize,
                   CU_LAUNCH_PARAM_END};
  CU_CHECK(cuLaunchKernel(ScaleAdd, (N + 255) / 256, 1, 1, 256, 1, 1, 0, nullptr, nullptr, Extra));
  CU_CHECK(cuCtxSynchronize());
  CU_CHECK(cuMemcpyDtoH(Out.data(), DOut, N * sizeof(float)));
  Bad = 0;
  for (int I = 0; I < N; ++I)
    if (Out[I] != -In[I] + 10.0f + 0.25f + 7.0f && Bad++ < 5)
      std::printf("  MISMATCH scaleAdd/extra[%d]: got %g want %g\n", I, Out[I], -In[I] + 17.25f);
  expect(Bad == 0, "scaleAdd launched with extra (BUFFER_POINTER/BUFFER_SIZE)");

  // The templated kernel under its lowered (mangled) name.
  int FillV = -77;
  void *FillParams[] = {&DOut, &NArg, &FillV};
  CU_CHECK(cuLaunchKernel(Fill, 4, 1, 1, 256, 1, 1, 0, nullptr, FillParams, nullptr));
  CU_CHECK(cuCtxSynchronize());
  std::vector<int> Ints(N);
  CU_CHECK(cuMemcpyDtoH(Ints.data(), DOut, N * sizeof(int)));
  Bad = 0;
  for (int X : Ints)
    Bad += X != -77;
  expect(Bad == 0, "fillValue<int> found by its lowered name");

  CU_CHECK(cuMemFree(DIn));
  CU_CHECK(cuMemFree(DOut));
  CU_CHECK(cuModuleUnload(Mod));
}

// Module from a .ptx file written by `nvcc -ptx`, loaded with cuModuleLoad.
static void testPtxFileModule(const char *Path) {
  std::printf("PTX file module (cuModuleLoad %s)\n", Path);
  CUmodule Mod;
  CU_CHECK(cuModuleLoad(&Mod, Path));
  CUfunction Iota, BlockSum;
  CU_CHECK(cuModuleGetFunction(&Iota, Mod, "iotaPlusBase"));
  CU_CHECK(cuModuleGetFunction(&BlockSum, Mod, "blockSum128"));

  CUdeviceptr BasePtr;
  size_t BaseSize;
  CU_CHECK(cuModuleGetGlobal(&BasePtr, &BaseSize, Mod, "Base"));
  int BaseV = 0;
  CU_CHECK(cuMemcpyDtoH(&BaseV, BasePtr, sizeof(int)));
  expect(BaseSize == 4 && BaseV == 1000, "cuModuleGetGlobal(Base) == 1000");

  const int N = 777;
  CUdeviceptr DOut;
  CU_CHECK(cuMemAlloc(&DOut, N * sizeof(int)));
  int NArg = N, Step = -3;
  void *Params[] = {&DOut, &NArg, &Step};
  CU_CHECK(cuLaunchKernel(Iota, (N + 63) / 64, 1, 1, 64, 1, 1, 0, nullptr, Params, nullptr));
  CU_CHECK(cuCtxSynchronize());
  std::vector<int> Out(N);
  CU_CHECK(cuMemcpyDtoH(Out.data(), DOut, N * sizeof(int)));
  int Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Out[I] != 1000 - 3 * I;
  expect(Bad == 0, "iotaPlusBase");

  const int Blocks = 6;
  std::vector<unsigned> In(Blocks * 128);
  for (size_t I = 0; I < In.size(); ++I)
    In[I] = static_cast<unsigned>(I * I % 1009);
  CUdeviceptr DIn, DSums;
  CU_CHECK(cuMemAlloc(&DIn, In.size() * sizeof(unsigned)));
  CU_CHECK(cuMemAlloc(&DSums, Blocks * sizeof(unsigned)));
  CU_CHECK(cuMemcpyHtoD(DIn, In.data(), In.size() * sizeof(unsigned)));
  void *SumParams[] = {&DIn, &DSums};
  CU_CHECK(cuLaunchKernel(BlockSum, Blocks, 1, 1, 128, 1, 1, 0, nullptr, SumParams, nullptr));
  CU_CHECK(cuCtxSynchronize());
  std::vector<unsigned> Sums(Blocks);
  CU_CHECK(cuMemcpyDtoH(Sums.data(), DSums, Blocks * sizeof(unsigned)));
  Bad = 0;
  for (int B = 0; B < Blocks; ++B) {
    unsigned Ref = 0;
    for (int T = 0; T < 128; ++T)
      Ref += In[B * 128 + T];
    Bad += Sums[B] != Ref;
  }
  expect(Bad == 0, "blockSum128 (static shared memory + bar.sync)");
  CU_CHECK(cuMemFree(DOut));
  CU_CHECK(cuMemFree(DIn));
  CU_CHECK(cuMemFree(DSums));
  CU_CHECK(cuModuleUnload(Mod));
}

int main(int Argc, char **Argv) {
  if (Argc < 2) {
    std::fprintf(stderr, "usage: %s <driver_kernels.ptx>\n", Argv[0]);
    return 2;
  }
  CU_CHECK(cuInit(0));
  int Count = 0;
  CU_CHECK(cuDeviceGetCount(&Count));
  expect(Count >= 1, "cuDeviceGetCount >= 1");
  CUdevice Dev;
  CU_CHECK(cuDeviceGet(&Dev, 0));
  testDeviceQueries(Dev);

  // A created context: current after creation, used for the NVRTC module, then destroyed.
  std::printf("created context\n");
  CUcontext Ctx = nullptr, Cur = nullptr;
  CU_CHECK(cuCtxCreate(&Ctx, nullptr, 0, Dev));
  CU_CHECK(cuCtxGetCurrent(&Cur));
  expect(Cur == Ctx, "cuCtxCreate makes the new context current");
  CUdevice CtxDev = -1;
  CU_CHECK(cuCtxGetDevice(&CtxDev));
  expect(CtxDev == Dev, "cuCtxGetDevice");
  testMemory();
  testNvrtcModule();
  CU_CHECK(cuCtxDestroy(Ctx));
  CU_CHECK(cuCtxGetCurrent(&Cur));
  expect(Cur == nullptr, "no current context after destroying the only one");

  // The primary context: retained twice (same handle), made current, used for the PTX file module, released.
  std::printf("primary context\n");
  CUcontext Primary = nullptr, Again = nullptr;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Primary, Dev));
  CU_CHECK(cuDevicePrimaryCtxRetain(&Again, Dev));
  expect(Primary == Again, "cuDevicePrimaryCtxRetain returns the same context twice");
  unsigned Flags = 0;
  int Active = 0;
  CU_CHECK(cuDevicePrimaryCtxGetState(Dev, &Flags, &Active));
  expect(Active == 1, "primary context is active while retained");
  CU_CHECK(cuCtxSetCurrent(Primary));
  testPtxFileModule(Argv[1]);
  CU_CHECK(cuCtxSetCurrent(nullptr));
  CU_CHECK(cuDevicePrimaryCtxRelease(Dev));
  CU_CHECK(cuDevicePrimaryCtxRelease(Dev));

  if (Failures == 0) {
    std::printf("driver_api: PASSED\n");
    return 0;
  }
  std::printf("driver_api: FAILED (%d failed checks)\n", Failures);
  return 1;
}
