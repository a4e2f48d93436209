// End-to-end: a driver-API program that links nothing from CUDA and reaches libcuda.so.1 through dlopen + dlsym, as
// language bindings and plugin hosts do. Covers the legacy execution-control API (cuFuncSetBlockShape,
// cuFuncSetSharedSize, cuParamSet*, cuLaunch, cuLaunchGrid, cuLaunchGridAsync), context usage counts (cuCtxAttach /
// cuCtxDetach) and CUDA 12's library API (cuLibraryLoadData/FromFile, cuLibraryGet*, cuKernel*, cuLibraryUnload,
// cuModuleGetLoadingMode following CUDA_MODULE_LOADING).
// Usage: driver_legacy <path to driver_kernels.ptx>
#include <cuda.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

static int Failures = 0;

static void expect(bool Ok, const std::string &What) {
  std::printf("  %s %s\n", Ok ? "ok  " : "FAIL", What.c_str());
  if (!Ok)
    ++Failures;
}

static void expectCode(CUresult Got, CUresult Want, const std::string &What) {
  expect(Got == Want, What + ": got " + std::to_string(Got) + ", want " + std::to_string(Want));
}

static void *Lib = nullptr;

// Every entry point by the name a program passes to dlsym (the ABI names: _v2 where cuda.h maps to one).
template <typename Fn> static Fn sym(const char *Name) {
  void *P = dlsym(Lib, Name);
  if (!P) {
    std::fprintf(stderr, "dlsym(%s) failed: %s\n", Name, dlerror());
    std::exit(2);
  }
  return reinterpret_cast<Fn>(P);
}

#define SYM(Name, Type) static const auto Name = sym<Type>(#Name)

#define CHECK(Call)                                                                                                    \
  do {                                                                                                                 \
    CUresult R = (Call);                                                                                               \
    if (R != CUDA_SUCCESS) {                                                                                           \
      std::fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #Call, int(R));                             \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

static std::string readFile(const char *Path) {
  std::ifstream In(Path, std::ios::binary);
  if (!In) {
    std::fprintf(stderr, "cannot read %s\n", Path);
    std::exit(2);
  }
  std::stringstream S;
  S << In.rdbuf();
  return S.str();
}

int main(int Argc, char **Argv) {
  if (Argc != 2) {
    std::fprintf(stderr, "usage: %s driver_kernels.ptx\n", Argv[0]);
    return 2;
  }
  Lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!Lib) {
    std::fprintf(stderr, "dlopen(libcuda.so.1) failed: %s\n", dlerror());
    return 2;
  }
  SYM(cuInit, CUresult (*)(unsigned));
  SYM(cuDeviceGet, CUresult (*)(CUdevice *, int));
  SYM(cuCtxCreate_v2, CUresult (*)(CUcontext *, unsigned, CUdevice));
  SYM(cuCtxDestroy_v2, CUresult (*)(CUcontext));
  SYM(cuCtxGetCurrent, CUresult (*)(CUcontext *));
  SYM(cuCtxSetCurrent, CUresult (*)(CUcontext));
  SYM(cuCtxSynchronize, CUresult (*)());
  SYM(cuMemAlloc_v2, CUresult (*)(CUdeviceptr *, size_t));
  SYM(cuMemFree_v2, CUresult (*)(CUdeviceptr));
  SYM(cuMemcpyHtoD_v2, CUresult (*)(CUdeviceptr, const void *, size_t));
  SYM(cuMemcpyDtoH_v2, CUresult (*)(void *, CUdeviceptr, size_t));
  SYM(cuStreamCreate, CUresult (*)(CUstream *, unsigned));
  SYM(cuStreamSynchronize, CUresult (*)(CUstream));
  SYM(cuStreamDestroy_v2, CUresult (*)(CUstream));
  SYM(cuModuleLoadData, CUresult (*)(CUmodule *, const void *));
  SYM(cuModuleUnload, CUresult (*)(CUmodule));
  SYM(cuModuleGetFunction, CUresult (*)(CUfunction *, CUmodule, const char *));
  SYM(cuModuleGetLoadingMode, CUresult (*)(CUmoduleLoadingMode *));
  SYM(cuLaunchKernel, CUresult (*)(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,
                                   CUstream, void **, void **));
  // Legacy execution control and context usage counts.
  SYM(cuFuncSetBlockShape, CUresult (*)(CUfunction, int, int, int));
  SYM(cuFuncSetSharedSize, CUresult (*)(CUfunction, unsigned));
  SYM(cuParamSetSize, CUresult (*)(CUfunction, unsigned));
  SYM(cuParamSeti, CUresult (*)(CUfunction, int, unsigned));
  SYM(cuParamSetf, CUresult (*)(CUfunction, int, float));
  SYM(cuParamSetv, CUresult (*)(CUfunction, int, void *, unsigned));
  SYM(cuLaunch, CUresult (*)(CUfunction));
  SYM(cuLaunchGrid, CUresult (*)(CUfunction, int, int));
  SYM(cuLaunchGridAsync, CUresult (*)(CUfunction, int, int, CUstream));
  SYM(cuCtxAttach, CUresult (*)(CUcontext *, unsigned));
  SYM(cuCtxDetach, CUresult (*)(CUcontext));
  // The library API.
  SYM(cuLibraryLoadData, CUresult (*)(CUlibrary *, const void *, CUjit_option *, void **, unsigned,
                                      CUlibraryOption *, void **, unsigned));
  SYM(cuLibraryLoadFromFile, CUresult (*)(CUlibrary *, const char *, CUjit_option *, void **, unsigned,
                                          CUlibraryOption *, void **, unsigned));
  SYM(cuLibraryUnload, CUresult (*)(CUlibrary));
  SYM(cuLibraryGetKernel, CUresult (*)(CUkernel *, CUlibrary, const char *));
  SYM(cuLibraryGetModule, CUresult (*)(CUmodule *, CUlibrary));
  SYM(cuLibraryGetGlobal, CUresult (*)(CUdeviceptr *, size_t *, CUlibrary, const char *));
  SYM(cuLibraryGetManaged, CUresult (*)(CUdeviceptr *, size_t *, CUlibrary, const char *));
  SYM(cuLibraryGetKernelCount, CUresult (*)(unsigned *, CUlibrary));
  SYM(cuLibraryEnumerateKernels, CUresult (*)(CUkernel *, unsigned, CUlibrary));
  SYM(cuKernelGetFunction, CUresult (*)(CUfunction *, CUkernel));
  SYM(cuKernelGetName, CUresult (*)(const char **, CUkernel));
  SYM(cuKernelGetAttribute, CUresult (*)(int *, CUfunction_attribute, CUkernel, CUdevice));
  SYM(cuKernelSetAttribute, CUresult (*)(CUfunction_attribute, int, CUkernel, CUdevice));

  const std::string Ptx = readFile(Argv[1]);
  CHECK(cuInit(0));
  CUdevice Dev;
  CHECK(cuDeviceGet(&Dev, 0));
  CUcontext Ctx;
  CHECK(cuCtxCreate_v2(&Ctx, 0, Dev));

  // --- Legacy launches -------------------------------------------------------------------------------------------
  std::printf("legacy execution control\n");
  CUmodule Mod;
  CHECK(cuModuleLoadData(&Mod, Ptx.c_str()));
  CUfunction Iota, BlockSum;
  CHECK(cuModuleGetFunction(&Iota, Mod, "iotaPlusBase"));
  CHECK(cuModuleGetFunction(&BlockSum, Mod, "blockSum128"));

  const int N = 1000;
  CUdeviceptr DOut;
  CHECK(cuMemAlloc_v2(&DOut, N * sizeof(int)));
  std::vector<int> Host(N);

  expectCode(cuLaunch(Iota), CUDA_ERROR_INVALID_VALUE, "cuLaunch before cuFuncSetBlockShape");

  // iotaPlusBase(int *Out, int N, int Step): Out at 0, N at 8, Step at 12.
  expectCode(cuFuncSetBlockShape(Iota, 64, 1, 1), CUDA_SUCCESS, "cuFuncSetBlockShape 64");
  expectCode(cuParamSetSize(Iota, 16), CUDA_SUCCESS, "cuParamSetSize 16");
  expectCode(cuParamSetv(Iota, 0, &DOut, sizeof(DOut)), CUDA_SUCCESS, "cuParamSetv pointer at 0");
  expectCode(cuParamSeti(Iota, 8, N), CUDA_SUCCESS, "cuParamSeti N at 8");
  expectCode(cuParamSeti(Iota, 12, 3), CUDA_SUCCESS, "cuParamSeti Step at 12");
  expectCode(cuParamSeti(Iota, 16, 1), CUDA_ERROR_INVALID_VALUE, "cuParamSeti past the size set by cuParamSetSize");
  expectCode(cuLaunchGrid(Iota, (N + 63) / 64, 1), CUDA_SUCCESS, "cuLaunchGrid 16 x 1");
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH_v2(Host.data(), DOut, N * sizeof(int)));
  int Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Host[I] != 1000 + 3 * I;
  expect(Bad == 0, "cuLaunchGrid results (" + std::to_string(Bad) + " wrong)");

  // cuLaunch runs one block: only the first 64 elements change.
  expectCode(cuParamSeti(Iota, 12, 5), CUDA_SUCCESS, "cuParamSeti Step 5");
  expectCode(cuLaunch(Iota), CUDA_SUCCESS, "cuLaunch (1 x 1 grid)");
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH_v2(Host.data(), DOut, N * sizeof(int)));
  Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Host[I] != 1000 + (I < 64 ? 5 : 3) * I;
  expect(Bad == 0, "cuLaunch results: one block of 64 (" + std::to_string(Bad) + " wrong)");

  // blockSum128(const unsigned *In, unsigned *Out) on a stream, a 4 x 2 grid (blockIdx.y unused: rows agree).
  const int Blocks = 4;
  std::vector<unsigned> In(Blocks * 128);
  for (size_t I = 0; I < In.size(); ++I)
    In[I] = static_cast<unsigned>(I * 7 + 1);
  CUdeviceptr DIn, DSum;
  CHECK(cuMemAlloc_v2(&DIn, In.size() * sizeof(unsigned)));
  CHECK(cuMemAlloc_v2(&DSum, Blocks * sizeof(unsigned)));
  CHECK(cuMemcpyHtoD_v2(DIn, In.data(), In.size() * sizeof(unsigned)));
  CUstream Stream;
  CHECK(cuStreamCreate(&Stream, 0));
  expectCode(cuFuncSetBlockShape(BlockSum, 128, 1, 1), CUDA_SUCCESS, "cuFuncSetBlockShape 128");
  expectCode(cuParamSetv(BlockSum, 0, &DIn, sizeof(DIn)), CUDA_SUCCESS, "cuParamSetv In (no cuParamSetSize)");
  expectCode(cuParamSetv(BlockSum, 8, &DSum, sizeof(DSum)), CUDA_SUCCESS, "cuParamSetv Out");
  expectCode(cuParamSetf(BlockSum, 4096, 1.0f), CUDA_ERROR_INVALID_VALUE, "cuParamSetf past the 4 KB space");
  expectCode(cuLaunchGridAsync(BlockSum, Blocks, 2, Stream), CUDA_SUCCESS, "cuLaunchGridAsync 4 x 2 on a stream");
  CHECK(cuStreamSynchronize(Stream));
  std::vector<unsigned> Sums(Blocks);
  CHECK(cuMemcpyDtoH_v2(Sums.data(), DSum, Blocks * sizeof(unsigned)));
  Bad = 0;
  for (int B = 0; B < Blocks; ++B) {
    unsigned Want = 0;
    for (int T = 0; T < 128; ++T)
      Want += In[B * 128 + T];
    Bad += Sums[B] != Want;
  }
  expect(Bad == 0, "cuLaunchGridAsync block sums");

  // cuParamSetf: the float's bits land in the parameter space (iotaPlusBase reads them as Step).
  expectCode(cuParamSetf(Iota, 12, 1.0f), CUDA_SUCCESS, "cuParamSetf Step = bits of 1.0f");
  expectCode(cuLaunchGrid(Iota, 1, 1), CUDA_SUCCESS, "cuLaunchGrid 1 x 1");
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH_v2(Host.data(), DOut, sizeof(int) * 2));
  expect(Host[0] == 1000 && Host[1] == 1000 + 0x3f800000, "cuParamSetf value reaches the kernel bit for bit");

  // Launch-time checks, as for cuLaunchKernel.
  expectCode(cuFuncSetSharedSize(BlockSum, 1 << 20), CUDA_SUCCESS, "cuFuncSetSharedSize 1 MB");
  expectCode(cuLaunchGrid(BlockSum, 1, 1), CUDA_ERROR_INVALID_VALUE, "launch with 1 MB of dynamic shared memory");
  expectCode(cuFuncSetSharedSize(BlockSum, 0), CUDA_SUCCESS, "cuFuncSetSharedSize 0");
  expectCode(cuFuncSetBlockShape(Iota, 2048, 1, 1), CUDA_SUCCESS, "cuFuncSetBlockShape 2048 (checked at launch)");
  expectCode(cuLaunchGrid(Iota, 1, 1), CUDA_ERROR_INVALID_VALUE, "launch of 2048-thread blocks");
  expectCode(cuFuncSetBlockShape(Iota, 0, 1, 1), CUDA_ERROR_INVALID_VALUE, "cuFuncSetBlockShape 0");
  expectCode(cuLaunchGrid(Iota, 0, 1), CUDA_ERROR_INVALID_VALUE, "cuLaunchGrid 0 x 1");
  expectCode(cuFuncSetBlockShape(nullptr, 1, 1, 1), CUDA_ERROR_INVALID_HANDLE, "cuFuncSetBlockShape(NULL)");

  // --- Context usage counts ---------------------------------------------------------------------------------------
  std::printf("context usage counts\n");
  CUcontext Attached = nullptr;
  expectCode(cuCtxAttach(&Attached, 1), CUDA_ERROR_INVALID_VALUE, "cuCtxAttach with flags 1");
  expectCode(cuCtxAttach(&Attached, 0), CUDA_SUCCESS, "cuCtxAttach");
  expect(Attached == Ctx, "cuCtxAttach returns the current context");
  expectCode(cuCtxDetach(Attached), CUDA_SUCCESS, "cuCtxDetach of the attached use");
  CUdeviceptr Probe;
  expectCode(cuMemAlloc_v2(&Probe, 64), CUDA_SUCCESS, "context alive after detaching the attached use");
  CHECK(cuMemFree_v2(Probe));

  // Library API in the same context before the context goes.
  std::printf("library API\n");
  CUmoduleLoadingMode Mode;
  CHECK(cuModuleGetLoadingMode(&Mode));
  const char *Env = std::getenv("CUDA_MODULE_LOADING");
  CUmoduleLoadingMode WantMode =
      Env && std::strcmp(Env, "EAGER") == 0 ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING;
  expect(Mode == WantMode, std::string("cuModuleGetLoadingMode follows CUDA_MODULE_LOADING=") + (Env ? Env : "(unset)"));

  CUlibrary LibData;
  expectCode(cuLibraryLoadData(&LibData, Ptx.c_str(), nullptr, nullptr, 0, nullptr, nullptr, 0), CUDA_SUCCESS,
             "cuLibraryLoadData (PTX)");
  unsigned Count = 0;
  expectCode(cuLibraryGetKernelCount(&Count, LibData), CUDA_SUCCESS, "cuLibraryGetKernelCount");
  expect(Count == 2, "two kernels in the library, got " + std::to_string(Count));
  std::vector<CUkernel> Kernels(Count);
  expectCode(cuLibraryEnumerateKernels(Kernels.data(), Count, LibData), CUDA_SUCCESS, "cuLibraryEnumerateKernels");
  std::set<std::string> Names;
  for (CUkernel K : Kernels) {
    const char *Name = nullptr;
    if (cuKernelGetName(&Name, K) == CUDA_SUCCESS && Name)
      Names.insert(Name);
  }
  expect(Names == std::set<std::string>{"iotaPlusBase", "blockSum128"}, "cuKernelGetName of every kernel");

  CUkernel KIota, KSum;
  expectCode(cuLibraryGetKernel(&KIota, LibData, "iotaPlusBase"), CUDA_SUCCESS, "cuLibraryGetKernel iotaPlusBase");
  expectCode(cuLibraryGetKernel(&KSum, LibData, "blockSum128"), CUDA_SUCCESS, "cuLibraryGetKernel blockSum128");
  CUkernel Missing;
  expectCode(cuLibraryGetKernel(&Missing, LibData, "noSuchKernel"), CUDA_ERROR_NOT_FOUND, "cuLibraryGetKernel missing");

  int Shared = -1, MaxThreads = -1;
  expectCode(cuKernelGetAttribute(&Shared, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, KSum, Dev), CUDA_SUCCESS,
             "cuKernelGetAttribute SHARED_SIZE_BYTES");
  expect(Shared == 128 * 4, "blockSum128 has 512 bytes of static shared memory, got " + std::to_string(Shared));
  expectCode(cuKernelGetAttribute(&MaxThreads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, KSum, Dev), CUDA_SUCCESS,
             "cuKernelGetAttribute MAX_THREADS_PER_BLOCK");
  expect(MaxThreads >= 128, "MAX_THREADS_PER_BLOCK >= 128, got " + std::to_string(MaxThreads));
  expectCode(cuKernelSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 65536, KSum, Dev), CUDA_SUCCESS,
             "cuKernelSetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES 64 KB");
  int DynMax = -1;
  expectCode(cuKernelGetAttribute(&DynMax, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, KSum, Dev), CUDA_SUCCESS,
             "cuKernelGetAttribute MAX_DYNAMIC_SHARED_SIZE_BYTES");
  expect(DynMax == 65536, "the set value reads back, got " + std::to_string(DynMax));
  expectCode(cuKernelGetAttribute(&DynMax, CU_FUNC_ATTRIBUTE_NUM_REGS, KSum, 42), CUDA_ERROR_INVALID_DEVICE,
             "cuKernelGetAttribute on device 42");

  // Globals: read Base, change it, launch through the kernel's function and through the CUkernel itself.
  CUdeviceptr DBase = 0;
  size_t BaseBytes = 0;
  expectCode(cuLibraryGetGlobal(&DBase, &BaseBytes, LibData, "Base"), CUDA_SUCCESS, "cuLibraryGetGlobal Base");
  int BaseValue = 0;
  CHECK(cuMemcpyDtoH_v2(&BaseValue, DBase, sizeof(int)));
  expect(BaseBytes == 4 && BaseValue == 1000, "Base is 4 bytes holding 1000");
  BaseValue = -7;
  CHECK(cuMemcpyHtoD_v2(DBase, &BaseValue, sizeof(int)));
  CUdeviceptr Managed;
  size_t ManagedBytes;
  expectCode(cuLibraryGetManaged(&Managed, &ManagedBytes, LibData, "Base"), CUDA_ERROR_NOT_FOUND,
             "cuLibraryGetManaged of a non-managed variable");
  CUfunction FIota = nullptr;
  expectCode(cuKernelGetFunction(&FIota, KIota), CUDA_SUCCESS, "cuKernelGetFunction");
  int Step = 2, Count32 = N;
  void *Params[] = {&DOut, &Count32, &Step};
  expectCode(cuLaunchKernel(FIota, 4, 1, 1, 256, 1, 1, 0, nullptr, Params, nullptr), CUDA_SUCCESS,
             "cuLaunchKernel of cuKernelGetFunction's function");
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH_v2(Host.data(), DOut, N * sizeof(int)));
  Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Host[I] != -7 + 2 * I;
  expect(Bad == 0, "library kernel sees the changed global (" + std::to_string(Bad) + " wrong)");
  Step = 9;
  expectCode(cuLaunchKernel(reinterpret_cast<CUfunction>(KIota), 4, 1, 1, 256, 1, 1, 0, nullptr, Params, nullptr),
             CUDA_SUCCESS, "cuLaunchKernel with the CUkernel as the function");
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH_v2(Host.data(), DOut, N * sizeof(int)));
  Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Host[I] != -7 + 9 * I;
  expect(Bad == 0, "results of the CUkernel launch");
  // Driver-API launches report bad dimensions as CUDA_ERROR_INVALID_VALUE (the runtime's code is its own).
  expectCode(cuLaunchKernel(FIota, 1, 1, 1, 2048, 1, 1, 0, nullptr, Params, nullptr), CUDA_ERROR_INVALID_VALUE,
             "cuLaunchKernel with 2048-thread blocks");

  CUmodule LibMod = nullptr;
  expectCode(cuLibraryGetModule(&LibMod, LibData), CUDA_SUCCESS, "cuLibraryGetModule");
  CUfunction ViaModule = nullptr;
  expectCode(cuModuleGetFunction(&ViaModule, LibMod, "blockSum128"), CUDA_SUCCESS,
             "cuModuleGetFunction on the library's module");

  expectCode(cuLibraryUnload(LibData), CUDA_SUCCESS, "cuLibraryUnload");
  expectCode(cuLibraryUnload(LibData), CUDA_ERROR_INVALID_HANDLE, "cuLibraryUnload twice");
  expectCode(cuLibraryGetKernel(&KIota, LibData, "iotaPlusBase"), CUDA_ERROR_INVALID_HANDLE,
             "cuLibraryGetKernel on an unloaded library");

  CUlibrary LibFile;
  expectCode(cuLibraryLoadFromFile(&LibFile, Argv[1], nullptr, nullptr, 0, nullptr, nullptr, 0), CUDA_SUCCESS,
             "cuLibraryLoadFromFile");
  CUlibrary NoFile;
  expectCode(cuLibraryLoadFromFile(&NoFile, "/nonexistent/kernels.ptx", nullptr, nullptr, 0, nullptr, nullptr, 0),
             CUDA_ERROR_FILE_NOT_FOUND, "cuLibraryLoadFromFile of a missing file");
  CUkernel KFile;
  expectCode(cuLibraryGetKernel(&KFile, LibFile, "iotaPlusBase"), CUDA_SUCCESS, "kernel of the file library");
  Step = 4;
  expectCode(cuLaunchKernel(reinterpret_cast<CUfunction>(KFile), 4, 1, 1, 256, 1, 1, 0, nullptr, Params, nullptr),
             CUDA_SUCCESS, "launch from the file library");
  CHECK(cuCtxSynchronize());
  CHECK(cuMemcpyDtoH_v2(Host.data(), DOut, N * sizeof(int)));
  Bad = 0;
  for (int I = 0; I < N; ++I)
    Bad += Host[I] != 1000 + 4 * I;
  expect(Bad == 0, "file library has its own Base (1000)");
  CHECK(cuLibraryUnload(LibFile));

  CHECK(cuStreamDestroy_v2(Stream));
  CHECK(cuMemFree_v2(DOut));
  CHECK(cuMemFree_v2(DIn));
  CHECK(cuMemFree_v2(DSum));
  CHECK(cuModuleUnload(Mod));

  // The use cuCtxCreate gave is the last: detaching it destroys the context.
  expectCode(cuCtxDetach(Ctx), CUDA_SUCCESS, "cuCtxDetach of the created context's own use");
  expectCode(cuCtxSetCurrent(Ctx), CUDA_ERROR_INVALID_CONTEXT, "the detached context is destroyed");
  expectCode(cuCtxDetach(Ctx), CUDA_ERROR_INVALID_CONTEXT, "cuCtxDetach of a destroyed context");
  (void)cuCtxDestroy_v2;
  (void)cuCtxGetCurrent;

  if (Failures) {
    std::printf("driver_legacy: FAILED (%d failed checks)\n", Failures);
    return 1;
  }
  std::printf("driver_legacy: PASSED\n");
  return 0;
}
