// End-to-end: programs that link device code at run time with nvJitLink for the device's real architecture
// (-arch=sm_80) and load nvJitLinkGetLinkedCubin's result with cuModuleLoadData, run unmodified: our
// libnvJitLink.so.13 forwards to NVIDIA's and answers with an image cuda_shim loads. Covers an LTO link of two NVRTC
// -dlto programs (a kernel calling a device function of the other), a plain link of one PTX input, NVIDIA's errors
// passed through, and plain links of two PTX inputs (merged into one module by ours) in both orders.
#include <cuda.h>
#include <nvJitLink.h>
#include <nvrtc.h>

#include <cstdio>
#include <cstdlib>
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

#define CHECK_OK(Call, Ok)                                                                                             \
  do {                                                                                                                 \
    auto R = (Call);                                                                                                   \
    if (R != (Ok)) {                                                                                                   \
      std::fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #Call, int(R));                             \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)
#define NVRTC_CHECK(Call) CHECK_OK(Call, NVRTC_SUCCESS)
#define JIT_CHECK(Call) CHECK_OK(Call, NVJITLINK_SUCCESS)

// The device function and the kernel live in separate translation units: only linking resolves the call.
static const char *Library = R"(
extern "C" __device__ int combine(int A, int B) { return A * 5 - B; }
)";
static const char *Kernel = R"(
extern "C" __device__ int combine(int A, int B);
extern "C" __global__ void apply(int *Out, const int *In, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = combine(In[I], I);
}
)";
// One self-contained translation unit for the plain (PTX) link.
static const char *Whole = R"(
extern "C" __global__ void apply(int *Out, const int *In, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = In[I] * 5 - I;
}
)";

// NVRTC output: LTO IR (-dlto) or PTX, for compute_80, relocatable so extern device functions may stay unresolved.
static std::string compile(const char *Source, const char *Name, bool Lto) {
  nvrtcProgram P;
  NVRTC_CHECK(nvrtcCreateProgram(&P, Source, Name, 0, nullptr, nullptr));
  std::vector<const char *> Opts = {"--gpu-architecture=compute_80", "-rdc=true"};
  if (Lto)
    Opts.push_back("-dlto");
  nvrtcResult R = nvrtcCompileProgram(P, static_cast<int>(Opts.size()), Opts.data());
  if (R != NVRTC_SUCCESS) {
    size_t N = 0;
    nvrtcGetProgramLogSize(P, &N);
    std::string Log(N, '\0');
    nvrtcGetProgramLog(P, Log.data());
    std::fprintf(stderr, "compiling %s failed: %s\n", Name, Log.c_str());
    std::exit(2);
  }
  size_t N = 0;
  std::string Out;
  if (Lto) {
    NVRTC_CHECK(nvrtcGetLTOIRSize(P, &N));
    Out.resize(N);
    NVRTC_CHECK(nvrtcGetLTOIR(P, Out.data()));
  } else {
    NVRTC_CHECK(nvrtcGetPTXSize(P, &N));
    Out.resize(N);
    NVRTC_CHECK(nvrtcGetPTX(P, Out.data()));
  }
  NVRTC_CHECK(nvrtcDestroyProgram(&P));
  return Out;
}

struct LinkInput {
  nvJitLinkInputType Type;
  std::string Data;
  const char *Name;
};

// Links for sm_80 with the given options; returns the linked cubin (empty when the link failed).
static std::string link(std::vector<const char *> Opts, const std::vector<LinkInput> &Inputs) {
  Opts.insert(Opts.begin(), "-arch=sm_80");
  nvJitLinkHandle H;
  JIT_CHECK(nvJitLinkCreate(&H, static_cast<uint32_t>(Opts.size()), Opts.data()));
  for (const LinkInput &In : Inputs)
    JIT_CHECK(nvJitLinkAddData(H, In.Type, In.Data.data(), In.Data.size(), In.Name));
  nvJitLinkResult R = nvJitLinkComplete(H);
  std::string Cubin;
  size_t Size = 0;
  if (R == NVJITLINK_SUCCESS && nvJitLinkGetLinkedCubinSize(H, &Size) == NVJITLINK_SUCCESS && Size > 0) {
    Cubin.resize(Size);
    JIT_CHECK(nvJitLinkGetLinkedCubin(H, Cubin.data()));
  } else {
    std::fprintf(stderr, "link failed: %d\n", int(R));
  }
  JIT_CHECK(nvJitLinkDestroy(&H));
  return Cubin;
}

// Loads the image and runs apply(Out, In, N); true when every result is In[I] * 5 - I.
static bool runApply(const std::string &Image, const std::string &What) {
  CUmodule Mod;
  CUresult Loaded = cuModuleLoadData(&Mod, Image.data());
  expect(Loaded == CUDA_SUCCESS, What + ": cuModuleLoadData of the linked cubin: " + std::to_string(Loaded));
  if (Loaded != CUDA_SUCCESS)
    return false;
  CUfunction F;
  CU_CHECK(cuModuleGetFunction(&F, Mod, "apply"));
  const int N = 1000;
  std::vector<int> In(N), Out(N, 0);
  for (int I = 0; I < N; ++I)
    In[I] = (I * 31) % 97 - 40;
  CUdeviceptr DIn, DOut;
  CU_CHECK(cuMemAlloc(&DIn, N * sizeof(int)));
  CU_CHECK(cuMemAlloc(&DOut, N * sizeof(int)));
  CU_CHECK(cuMemcpyHtoD(DIn, In.data(), N * sizeof(int)));
  int Count = N;
  void *Params[] = {&DOut, &DIn, &Count};
  CU_CHECK(cuLaunchKernel(F, (N + 127) / 128, 1, 1, 128, 1, 1, 0, nullptr, Params, nullptr));
  CU_CHECK(cuCtxSynchronize());
  CU_CHECK(cuMemcpyDtoH(Out.data(), DOut, N * sizeof(int)));
  int Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Out[I] != In[I] * 5 - I;
  expect(Bad == 0, What + ": kernel results (" + std::to_string(Bad) + " wrong)");
  CU_CHECK(cuMemFree(DIn));
  CU_CHECK(cuMemFree(DOut));
  CU_CHECK(cuModuleUnload(Mod));
  return Bad == 0;
}

int main() {
  unsigned Major = 0, Minor = 0;
  JIT_CHECK(nvJitLinkVersion(&Major, &Minor));
  std::printf("nvJitLink %u.%u\n", Major, Minor);
  CU_CHECK(cuInit(0));
  CUdevice Dev;
  CU_CHECK(cuDeviceGet(&Dev, 0));
  CUcontext Ctx;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Ctx, Dev));
  CU_CHECK(cuCtxSetCurrent(Ctx));

  std::printf("LTO link of two NVRTC -dlto programs\n");
  std::string Lto = link({"-lto", "-O3"}, {{NVJITLINK_INPUT_LTOIR, compile(Library, "library.cu", true), "library"},
                                          {NVJITLINK_INPUT_ANY, compile(Kernel, "kernel.cu", true), "kernel"}});
  expect(!Lto.empty(), "linked cubin of " + std::to_string(Lto.size()) + " bytes");
  if (!Lto.empty())
    runApply(Lto, "LTO");

  std::printf("plain link of one PTX input\n");
  std::string Plain = link({}, {{NVJITLINK_INPUT_PTX, compile(Whole, "whole.cu", false), "whole"}});
  expect(!Plain.empty(), "linked cubin of " + std::to_string(Plain.size()) + " bytes");
  if (!Plain.empty())
    runApply(Plain, "PTX");

  std::printf("NVIDIA's answers pass through\n");
  nvJitLinkHandle H;
  const char *NoArch[] = {"-O3"};
  expect(nvJitLinkCreate(&H, 1, NoArch) == NVJITLINK_ERROR_MISSING_ARCH, "no -arch: NVJITLINK_ERROR_MISSING_ARCH");
  const char *PtxOut[] = {"-arch=sm_80", "-lto", "-ptx"};
  JIT_CHECK(nvJitLinkCreate(&H, 3, PtxOut));
  std::string Ir = compile(Whole, "whole.cu", true);
  JIT_CHECK(nvJitLinkAddData(H, NVJITLINK_INPUT_LTOIR, Ir.data(), Ir.size(), "whole"));
  JIT_CHECK(nvJitLinkComplete(H));
  size_t PtxSize = 0, CubinSize = 0;
  expect(nvJitLinkGetLinkedPtxSize(H, &PtxSize) == NVJITLINK_SUCCESS && PtxSize > 0, "-lto -ptx gives PTX");
  expect(nvJitLinkGetLinkedCubinSize(H, &CubinSize) != NVJITLINK_SUCCESS, "-lto -ptx gives no cubin");
  std::string Ptx(PtxSize, '\0');
  JIT_CHECK(nvJitLinkGetLinkedPtx(H, Ptx.data()));
  JIT_CHECK(nvJitLinkDestroy(&H));
  runApply(Ptx, "linked PTX");

  // Two PTX modules, in both orders: NVIDIA links them into one cubin; ours merges them into one PTX module (the
  // kernel's .extern declaration of combine becomes a forward declaration of the other input's definition).
  std::printf("plain links of two PTX inputs\n");
  std::string LibraryPtx = compile(Library, "library.cu", false), KernelPtx = compile(Kernel, "kernel.cu", false);
  std::string Two = link({}, {{NVJITLINK_INPUT_PTX, LibraryPtx, "library"}, {NVJITLINK_INPUT_PTX, KernelPtx, "kernel"}});
  expect(!Two.empty(), "NVIDIA links them");
  if (!Two.empty())
    runApply(Two, "two PTX inputs, definition first");
  std::string Reversed =
      link({}, {{NVJITLINK_INPUT_PTX, KernelPtx, "kernel"}, {NVJITLINK_INPUT_PTX, LibraryPtx, "library"}});
  expect(!Reversed.empty(), "NVIDIA links them in the other order");
  if (!Reversed.empty())
    runApply(Reversed, "two PTX inputs, declaration first");

  CU_CHECK(cuDevicePrimaryCtxRelease(Dev));
  if (Failures) {
    std::printf("nvjitlink_cubin: FAILED (%d failed checks)\n", Failures);
    return 1;
  }
  std::printf("nvjitlink_cubin: PASSED\n");
  return 0;
}
