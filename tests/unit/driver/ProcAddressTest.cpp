// cuGetProcAddress: the version and per-thread-stream resolution NVIDIA's static cudart relies on, and the generated
// surface (every declared entry point exported; the unimplemented ones answer CUDA_ERROR_NOT_SUPPORTED).
#include <catch2/catch.hpp>

#include <cuda.h>
#include <dlfcn.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The definition inside libcuda.so.1 (what the library's own table points at; a PLT address from this executable
// would differ).
void *exported(const char *Name) {
  static void *Lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(Lib != nullptr);
  return dlsym(Lib, Name);
}

struct Resolved {
  CUresult Result;
  void *Fn;
  CUdriverProcAddressQueryResult Status;
};

Resolved resolve(const char *Name, int Version, cuuint64_t Flags = CU_GET_PROC_ADDRESS_DEFAULT) {
  Resolved R{CUDA_ERROR_UNKNOWN, reinterpret_cast<void *>(1), static_cast<CUdriverProcAddressQueryResult>(-1)};
  R.Result = cuGetProcAddress_v2(Name, &R.Fn, Version, Flags, &R.Status);
  return R;
}

void *resolvesTo(const char *Name, int Version, cuuint64_t Flags = CU_GET_PROC_ADDRESS_DEFAULT) {
  Resolved R = resolve(Name, Version, Flags);
  INFO(Name << " at " << Version << " flags " << Flags);
  REQUIRE(R.Result == CUDA_SUCCESS);
  REQUIRE(R.Status == CU_GET_PROC_ADDRESS_SUCCESS);
  REQUIRE(R.Fn != nullptr);
  return R.Fn;
}

std::string readFile(const char *Path) {
  std::ifstream In(Path);
  REQUIRE(In.good());
  std::stringstream S;
  S << In.rdbuf();
  return S.str();
}

std::vector<std::string> matches(const std::string &Text, const std::regex &Re) {
  std::vector<std::string> Out;
  for (auto It = std::sregex_iterator(Text.begin(), Text.end(), Re); It != std::sregex_iterator(); ++It)
    Out.push_back((*It)[1].str());
  return Out;
}

} // namespace

TEST_CASE("cuGetProcAddress picks the newest revision not newer than the requested version", "[driver][procaddress]") {
  CHECK(resolvesTo("cuMemAlloc", 2000) == exported("cuMemAlloc"));
  CHECK(resolvesTo("cuMemAlloc", 3020) == exported("cuMemAlloc_v2"));
  CHECK(resolvesTo("cuMemAlloc", 13000) == exported("cuMemAlloc_v2"));
  CHECK(resolvesTo("cuCtxCreate", 3020) == exported("cuCtxCreate_v2"));
  CHECK(resolvesTo("cuCtxCreate", 11040) == exported("cuCtxCreate_v3"));
  CHECK(resolvesTo("cuCtxCreate", 12050) == exported("cuCtxCreate_v4"));
  CHECK(resolvesTo("cuCtxCreate", 12040) == exported("cuCtxCreate_v3"));
  CHECK(resolvesTo("cuCtxGetDevice", 12090) == exported("cuCtxGetDevice"));
  CHECK(resolvesTo("cuCtxGetDevice", 13000) == exported("cuCtxGetDevice_v2"));
  CHECK(resolvesTo("cuStreamGetCaptureInfo", 11030) == exported("cuStreamGetCaptureInfo_v2"));
  CHECK(resolvesTo("cuGetProcAddress", 11030) == exported("cuGetProcAddress"));
  CHECK(resolvesTo("cuGetProcAddress", 12000) == exported("cuGetProcAddress_v2"));
  // cuda.h maps cuGraphInstantiate onto cuGraphInstantiateWithFlags from CUDA 12.0 on.
  CHECK(resolvesTo("cuGraphInstantiate", 11000) == exported("cuGraphInstantiate_v2"));
  CHECK(resolvesTo("cuGraphInstantiate", 12000) == exported("cuGraphInstantiateWithFlags"));
}

TEST_CASE("cuGetProcAddress returns per-thread default stream variants on request", "[driver][procaddress]") {
  const cuuint64_t Ptds = CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM;
  CHECK(resolvesTo("cuMemcpyHtoD", 7000, Ptds) == exported("cuMemcpyHtoD_v2_ptds"));
  CHECK(resolvesTo("cuMemcpyHtoD", 13000, CU_GET_PROC_ADDRESS_DEFAULT) == exported("cuMemcpyHtoD_v2"));
  CHECK(resolvesTo("cuMemcpyHtoD", 13000, CU_GET_PROC_ADDRESS_LEGACY_STREAM) == exported("cuMemcpyHtoD_v2"));
  CHECK(resolvesTo("cuLaunchKernel", 7000, Ptds) == exported("cuLaunchKernel_ptsz"));
  CHECK(resolvesTo("cuStreamGetCaptureInfo", 12030, Ptds) == exported("cuStreamGetCaptureInfo_v3_ptsz"));
  CHECK(resolvesTo("cuMemcpyBatchAsync", 12080, Ptds) == exported("cuMemcpyBatchAsync_ptsz"));
  // Before CUDA 7.0 there were no per-thread variants: the legacy function answers.
  CHECK(resolvesTo("cuMemcpyHtoD", 3020, Ptds) == exported("cuMemcpyHtoD_v2"));
  // Functions that never had a per-thread form resolve to their only form.
  CHECK(resolvesTo("cuMemAlloc", 13000, Ptds) == exported("cuMemAlloc_v2"));
}

TEST_CASE("cuGetProcAddress reports unknown names and too-old versions", "[driver][procaddress]") {
  Resolved R = resolve("cuNoSuchFunction", 13000);
  CHECK(R.Result == CUDA_ERROR_NOT_FOUND);
  CHECK(R.Status == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
  CHECK(R.Fn == nullptr);
  // Versioned symbol names are not API names.
  CHECK(resolve("cuMemAlloc_v2", 13000).Status == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);

  R = resolve("cuMemAllocAsync", 11010);
  CHECK(R.Result == CUDA_ERROR_NOT_FOUND);
  CHECK(R.Status == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
  CHECK(R.Fn == nullptr);
  CHECK(resolve("cuMemAllocAsync", 11020).Status == CU_GET_PROC_ADDRESS_SUCCESS);

  void *Fn = nullptr;
  CHECK(cuGetProcAddress_v2(nullptr, &Fn, 13000, 0, nullptr) == CUDA_ERROR_INVALID_VALUE);
  CHECK(cuGetProcAddress_v2("cuMemAlloc", nullptr, 13000, 0, nullptr) == CUDA_ERROR_INVALID_VALUE);
  CHECK(cuGetProcAddress_v2("cuMemAlloc", &Fn, 13000, 0x100, nullptr) == CUDA_ERROR_INVALID_VALUE);
  // The status pointer is optional.
  CHECK(cuGetProcAddress_v2("cuMemAlloc", &Fn, 13000, 0, nullptr) == CUDA_SUCCESS);
  CHECK(Fn == exported("cuMemAlloc_v2"));
}

TEST_CASE("cuGetProcAddress (CUDA 11.3 form) resolves like _v2", "[driver][procaddress]") {
  using GetProcV1 = CUresult (*)(const char *, void **, int, cuuint64_t);
  auto V1 = reinterpret_cast<GetProcV1>(exported("cuGetProcAddress"));
  REQUIRE(V1 != nullptr);
  void *Fn = nullptr;
  CHECK(V1("cuMemFree", &Fn, 3020, 0) == CUDA_SUCCESS);
  CHECK(Fn == exported("cuMemFree_v2"));
  CHECK(V1("cuNoSuchFunction", &Fn, 13000, 0) == CUDA_ERROR_NOT_FOUND);
  CHECK(Fn == nullptr);
}

TEST_CASE("every request NVIDIA's static cudart 13.0 makes at start-up resolves", "[driver][procaddress]") {
  std::ifstream In(CUSHIM_STARTUP_REQUESTS_FILE);
  REQUIRE(In.good());
  std::string Line;
  int Requests = 0;
  while (std::getline(In, Line)) {
    std::istringstream S(Line);
    std::string Name;
    int Version = 0;
    cuuint64_t Flags = 0;
    if (Line.empty() || Line[0] == '#' || !(S >> Name) || Name == "export-table" || !(S >> Version >> Flags))
      continue;
    Resolved R = resolve(Name.c_str(), Version, Flags);
    INFO(Name << " " << Version << " " << Flags);
    CHECK(R.Result == CUDA_SUCCESS);
    CHECK(R.Fn != nullptr);
    // The answer is one of the library's exported entry points.
    Dl_info Info{};
    REQUIRE(dladdr(R.Fn, &Info) != 0);
    REQUIRE(Info.dli_sname != nullptr);
    CHECK(std::string(Info.dli_sname).rfind(Name, 0) == 0);
    CHECK(exported(Info.dli_sname) == R.Fn);
    ++Requests;
  }
  CHECK(Requests > 400);
}

TEST_CASE("libcuda.so.1 exports every entry point the toolkit headers declare", "[driver][surface]") {
  std::string Table = readFile(CUSHIM_DRIVER_TABLE_FILE);
  std::vector<std::string> Declared = matches(Table, std::regex(R"(extern "C" \S+ (cu\w+)\(\);)"));
  CHECK(Declared.size() > 600);
  for (const std::string &Name : Declared) {
    INFO(Name);
    CHECK(exported(Name.c_str()) != nullptr);
  }
}

TEST_CASE("unimplemented entry points return CUDA_ERROR_NOT_SUPPORTED without crashing", "[driver][surface]") {
  std::vector<std::string> Stubs = matches(readFile(CUSHIM_DRIVER_STUBS_FILE), std::regex(R"(CUSHIM_STUB\((cu\w+)\))"));
  CHECK(!Stubs.empty());
  for (const std::string &Name : Stubs) {
    INFO(Name);
    // Stubs ignore their arguments, so calling them without any is safe.
    auto Fn = reinterpret_cast<CUresult (*)()>(exported(Name.c_str()));
    REQUIRE(Fn != nullptr);
    CHECK(Fn() == CUDA_ERROR_NOT_SUPPORTED);
  }
  // Implemented entry points are not stubbed.
  CHECK(std::find(Stubs.begin(), Stubs.end(), "cuMemAlloc_v2") == Stubs.end());
  CHECK(std::find(Stubs.begin(), Stubs.end(), "cuGetProcAddress_v2") == Stubs.end());
}
