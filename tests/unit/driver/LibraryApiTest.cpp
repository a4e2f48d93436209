// The library API (cuLibrary*, cuKernel*) and context queries the static cudart uses: a library loaded from a
// registration wrapper, its kernel launched through the CUkernel handle and checked against a CPU reference.
#include <catch2/catch.hpp>

#include <cuda.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

// `add(float *A, const float *B, int N)`: A[i] += B[i], as compute_80 PTX in a fatbin container.
struct AddLibrary {
  std::vector<unsigned long long> Fatbin;
  struct {
    int Magic;
    int Version;
    const unsigned long long *Data;
    void *FilenameOrFatbins;
  } Wrapper{};

  AddLibrary() {
    std::ifstream In(CUSHIM_FATBIN_TEST_DATA "/ptx80_none.fatbin", std::ios::binary);
    REQUIRE(In.good());
    std::string Bytes((std::istreambuf_iterator<char>(In)), std::istreambuf_iterator<char>());
    Fatbin.resize((Bytes.size() + 7) / 8);
    std::memcpy(Fatbin.data(), Bytes.data(), Bytes.size());
    Wrapper = {0x466243b1, 1, Fatbin.data(), nullptr};
  }
};

void makePrimaryCurrent() {
  REQUIRE(cuInit(0) == CUDA_SUCCESS);
  CUcontext Ctx = nullptr;
  REQUIRE(cuDevicePrimaryCtxRetain(&Ctx, 0) == CUDA_SUCCESS);
  REQUIRE(cuCtxSetCurrent(Ctx) == CUDA_SUCCESS);
}

// Launches add through its CUkernel handle in the current context and checks A + B against the CPU.
void checkAdd(CUkernel Kernel) {
  const int N = 1000;
  std::vector<float> A(N), B(N), Out(N);
  for (int I = 0; I < N; ++I) {
    A[I] = 0.5f * I;
    B[I] = 3.0f - I;
  }
  CUdeviceptr DA = 0, DB = 0;
  REQUIRE(cuMemAlloc_v2(&DA, N * sizeof(float)) == CUDA_SUCCESS);
  REQUIRE(cuMemAlloc_v2(&DB, N * sizeof(float)) == CUDA_SUCCESS);
  REQUIRE(cuMemcpyHtoD_v2(DA, A.data(), N * sizeof(float)) == CUDA_SUCCESS);
  REQUIRE(cuMemcpyHtoD_v2(DB, B.data(), N * sizeof(float)) == CUDA_SUCCESS);
  int Count32 = N;
  void *Params[] = {&DA, &DB, &Count32};
  // CUDA 12: a CUkernel may be passed where a CUfunction is expected.
  REQUIRE(cuLaunchKernel(reinterpret_cast<CUfunction>(Kernel), (N + 127) / 128, 1, 1, 128, 1, 1, 0, nullptr, Params,
                         nullptr) == CUDA_SUCCESS);
  REQUIRE(cuCtxSynchronize_v2(nullptr) == CUDA_SUCCESS);
  REQUIRE(cuMemcpyDtoH_v2(Out.data(), DA, N * sizeof(float)) == CUDA_SUCCESS);
  for (int I = 0; I < N; ++I) {
    INFO(I);
    REQUIRE(Out[I] == A[I] + B[I]);
  }
  CHECK(cuMemFree_v2(DA) == CUDA_SUCCESS);
  CHECK(cuMemFree_v2(DB) == CUDA_SUCCESS);
}

} // namespace

TEST_CASE("a library's kernel runs through its CUkernel handle", "[driver][library]") {
  makePrimaryCurrent();
  AddLibrary Add;
  CUlibraryOption Option = CU_LIBRARY_BINARY_IS_PRESERVED;
  void *OptionValue = nullptr;
  CUlibrary Lib = nullptr;
  REQUIRE(cuLibraryLoadData(&Lib, &Add.Wrapper, nullptr, nullptr, 0, &Option, &OptionValue, 1) == CUDA_SUCCESS);

  unsigned Count = 0;
  REQUIRE(cuLibraryGetKernelCount(&Count, Lib) == CUDA_SUCCESS);
  CHECK(Count == 1);
  CUkernel Kernel = nullptr, Listed = nullptr;
  REQUIRE(cuLibraryGetKernel(&Kernel, Lib, "_Z3addPfPKfi") == CUDA_SUCCESS);
  REQUIRE(cuLibraryEnumerateKernels(&Listed, 1, Lib) == CUDA_SUCCESS);
  CHECK(Listed == Kernel);
  CHECK(cuLibraryGetKernel(&Listed, Lib, "noSuchKernel") == CUDA_ERROR_NOT_FOUND);

  const char *Name = nullptr;
  REQUIRE(cuKernelGetName(&Name, Kernel) == CUDA_SUCCESS);
  CHECK(std::string(Name) == "_Z3addPfPKfi");
  size_t Offset = 0, Size = 0;
  REQUIRE(cuKernelGetParamInfo(Kernel, 2, &Offset, &Size) == CUDA_SUCCESS);
  CHECK(Offset == 16);
  CHECK(Size == 4);
  CHECK(cuKernelGetParamInfo(Kernel, 3, &Offset, &Size) == CUDA_ERROR_INVALID_VALUE);
  int MaxThreads = 0;
  REQUIRE(cuKernelGetAttribute(&MaxThreads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, Kernel, 0) == CUDA_SUCCESS);
  CHECK(MaxThreads > 0);

  CUfunction Fn = nullptr;
  REQUIRE(cuKernelGetFunction(&Fn, Kernel) == CUDA_SUCCESS);
  CUmodule Mod = nullptr, FnMod = nullptr;
  REQUIRE(cuLibraryGetModule(&Mod, Lib) == CUDA_SUCCESS);
  REQUIRE(cuFuncGetModule(&FnMod, Fn) == CUDA_SUCCESS);
  CHECK(Mod == FnMod);
  CUlibrary Owner = nullptr;
  REQUIRE(cuKernelGetLibrary(&Owner, Kernel) == CUDA_SUCCESS);
  CHECK(Owner == Lib);

  checkAdd(Kernel);

  REQUIRE(cuLibraryUnload(Lib) == CUDA_SUCCESS);
  CHECK(cuLibraryGetKernel(&Listed, Lib, "_Z3addPfPKfi") == CUDA_ERROR_INVALID_HANDLE);
  CHECK(cuKernelGetFunction(&Fn, Kernel) == CUDA_ERROR_INVALID_HANDLE);
}

TEST_CASE("context queries the static cudart makes", "[driver][context]") {
  makePrimaryCurrent();
  CUmoduleLoadingMode Mode{};
  REQUIRE(cuModuleGetLoadingMode(&Mode) == CUDA_SUCCESS);
  // NVIDIA's default (LAZY) unless CUDA_MODULE_LOADING=EAGER; both modes translate a module when it is loaded.
  const char *Env = std::getenv("CUDA_MODULE_LOADING");
  CHECK(Mode == (Env && std::string(Env) == "EAGER" ? CU_MODULE_EAGER_LOADING : CU_MODULE_LAZY_LOADING));

  size_t Stack = 0;
  REQUIRE(cuCtxGetLimit(&Stack, CU_LIMIT_STACK_SIZE) == CUDA_SUCCESS);
  CHECK(Stack == 1024);
  REQUIRE(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 4096) == CUDA_SUCCESS);
  REQUIRE(cuCtxGetLimit(&Stack, CU_LIMIT_STACK_SIZE) == CUDA_SUCCESS);
  CHECK(Stack == 4096);
  REQUIRE(cuCtxSetLimit(CU_LIMIT_STACK_SIZE, 1024) == CUDA_SUCCESS);
  CHECK(cuCtxGetLimit(&Stack, static_cast<CUlimit>(0x77)) == CUDA_ERROR_UNSUPPORTED_LIMIT);

  CUcontext Current = nullptr;
  REQUIRE(cuCtxGetCurrent(&Current) == CUDA_SUCCESS);
  CUdevice Dev = -1;
  REQUIRE(cuCtxGetDevice_v2(&Dev, Current) == CUDA_SUCCESS);
  CHECK(Dev == 0);
  CHECK(cuCtxGetDevice_v2(&Dev, reinterpret_cast<CUcontext>(&Dev)) == CUDA_ERROR_INVALID_CONTEXT);
  unsigned Flags = 0xffff;
  REQUIRE(cuCtxGetFlags(&Flags) == CUDA_SUCCESS);
  CHECK((Flags & ~CU_CTX_FLAGS_MASK) == 0);

  CUfunc_cache Cache{};
  REQUIRE(cuCtxGetCacheConfig(&Cache) == CUDA_SUCCESS);
  CHECK(Cache == CU_FUNC_CACHE_PREFER_NONE);
  int Peer = -1;
  REQUIRE(cuDeviceCanAccessPeer(&Peer, 0, 0) == CUDA_SUCCESS);
  CHECK(Peer == 0);
}

TEST_CASE("the primary context keeps its handle across cuDevicePrimaryCtxReset", "[driver][context]") {
  makePrimaryCurrent();
  CUcontext Primary = nullptr;
  REQUIRE(cuCtxGetCurrent(&Primary) == CUDA_SUCCESS);
  REQUIRE(cuDevicePrimaryCtxReset(0) == CUDA_SUCCESS);
  unsigned Flags = 0;
  int Active = 1;
  REQUIRE(cuDevicePrimaryCtxGetState(0, &Flags, &Active) == CUDA_SUCCESS);
  CHECK(Active == 0);
  // Still current, as on CUDA; calls that need it say it is destroyed until it is retained again.
  CUcontext Current = nullptr;
  REQUIRE(cuCtxGetCurrent(&Current) == CUDA_SUCCESS);
  CHECK(Current == Primary);
  CUdeviceptr Ptr = 0;
  CHECK(cuMemAlloc_v2(&Ptr, 64) == CUDA_ERROR_CONTEXT_IS_DESTROYED);
  CHECK(cuCtxSynchronize_v2(nullptr) == CUDA_ERROR_CONTEXT_IS_DESTROYED);
  unsigned Version = 0;
  CHECK(cuCtxGetApiVersion(Primary, &Version) == CUDA_ERROR_INVALID_CONTEXT);
  REQUIRE(cuCtxSetCurrent(nullptr) == CUDA_SUCCESS);
  REQUIRE(cuCtxSetCurrent(Primary) == CUDA_SUCCESS); // the handle is still the device's primary context
  REQUIRE(cuCtxPushCurrent_v2(Primary) == CUDA_SUCCESS);
  REQUIRE(cuCtxPopCurrent_v2(&Current) == CUDA_SUCCESS);
  CHECK(Current == Primary);
  // The retain makeCurrent took was dropped by the reset: its release is still accepted (without effect), a second
  // one is not.
  CHECK(cuDevicePrimaryCtxRelease_v2(0) == CUDA_SUCCESS);
  CHECK(cuDevicePrimaryCtxRelease_v2(0) == CUDA_ERROR_INVALID_CONTEXT);
  CUcontext Again = nullptr;
  REQUIRE(cuDevicePrimaryCtxRetain(&Again, 0) == CUDA_SUCCESS);
  CHECK(Again == Primary);
  REQUIRE(cuDevicePrimaryCtxGetState(0, &Flags, &Active) == CUDA_SUCCESS);
  CHECK(Active == 1);
  REQUIRE(cuMemAlloc_v2(&Ptr, 64) == CUDA_SUCCESS);
  CHECK(cuMemFree_v2(Ptr) == CUDA_SUCCESS);
  // The last release deactivates it in place too.
  REQUIRE(cuDevicePrimaryCtxRelease_v2(0) == CUDA_SUCCESS);
  REQUIRE(cuDevicePrimaryCtxGetState(0, &Flags, &Active) == CUDA_SUCCESS);
  CHECK(Active == 0);
  REQUIRE(cuDevicePrimaryCtxRetain(&Again, 0) == CUDA_SUCCESS);
  CHECK(Again == Primary);
}

TEST_CASE("a library's CUkernel runs again after its primary context is reset", "[driver][library]") {
  makePrimaryCurrent();
  AddLibrary Add;
  CUlibrary Lib = nullptr;
  REQUIRE(cuLibraryLoadData(&Lib, &Add.Wrapper, nullptr, nullptr, 0, nullptr, nullptr, 0) == CUDA_SUCCESS);
  CUkernel Kernel = nullptr;
  REQUIRE(cuLibraryGetKernel(&Kernel, Lib, "_Z3addPfPKfi") == CUDA_SUCCESS);
  checkAdd(Kernel);
  for (int Round = 0; Round < 2; ++Round) {
    REQUIRE(cuDevicePrimaryCtxReset(0) == CUDA_SUCCESS);
    // Library and kernel handles stay valid while the context is inactive; using the kernel needs the context.
    CUkernel Again = nullptr;
    REQUIRE(cuLibraryGetKernel(&Again, Lib, "_Z3addPfPKfi") == CUDA_SUCCESS);
    CHECK(Again == Kernel);
    const char *Name = nullptr;
    REQUIRE(cuKernelGetName(&Name, Kernel) == CUDA_SUCCESS);
    CHECK(std::string(Name) == "_Z3addPfPKfi");
    void *NoParams[] = {nullptr, nullptr, nullptr};
    CHECK(cuLaunchKernel(reinterpret_cast<CUfunction>(Kernel), 1, 1, 1, 1, 1, 1, 0, nullptr, NoParams, nullptr) ==
          CUDA_ERROR_CONTEXT_IS_DESTROYED);
    CUcontext Primary = nullptr;
    REQUIRE(cuDevicePrimaryCtxRetain(&Primary, 0) == CUDA_SUCCESS);
    checkAdd(Kernel); // loaded again in the reactivated context
  }
  REQUIRE(cuLibraryUnload(Lib) == CUDA_SUCCESS);
  CUkernel Listed = nullptr;
  CHECK(cuLibraryGetKernel(&Listed, Lib, "_Z3addPfPKfi") == CUDA_ERROR_INVALID_HANDLE);
}
