// Launch and module-load micro-benchmarks, run unmodified under cuda_shim: empty-kernel launch + synchronise latency
// (median), the same round trip ended by cudaEventRecord + cudaEventSynchronize, asynchronous launch throughput, and
// cuModuleLoadData time for a real nvcc-produced PTX module (the first load in a fresh CUSHIM_CACHE_PATH is the cold
// JIT; later loads hit the cache when there is one).
// Usage: micro [--quick] --ptx MODULE.ptx
#include "../common/bench_common.h"

#include "cuda_check.h"

#include <cuda.h>

#include <fstream>
#include <sstream>

#define CHECK_CU(Call)                                                                                                 \
  do {                                                                                                                 \
    CUresult Res = (Call);                                                                                             \
    if (Res != CUDA_SUCCESS) {                                                                                         \
      const char *Name = nullptr;                                                                                      \
      cuGetErrorName(Res, &Name);                                                                                      \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #Call, Name ? Name : "?");                          \
      std::exit(3);                                                                                                    \
    }                                                                                                                  \
  } while (0)

__global__ void emptyKernel() {}

int main(int Argc, char **Argv) {
  bool Quick = false;
  std::string PtxPath;
  for (int I = 1; I < Argc; ++I) {
    std::string A = Argv[I];
    if (A == "--quick")
      Quick = true;
    else if (A == "--ptx" && I + 1 < Argc)
      PtxPath = Argv[++I];
  }
  CHECK(cudaFree(nullptr));

  // Launch + synchronise round trip of an empty one-thread kernel.
  size_t Reps = Quick ? 1000 : 100000;
  for (int I = 0; I < 100; ++I)
    emptyKernel<<<1, 1>>>();
  CHECK(cudaDeviceSynchronize());
  std::vector<double> Us(Reps);
  for (size_t I = 0; I < Reps; ++I) {
    double T0 = bench::nowSeconds();
    emptyKernel<<<1, 1>>>();
    CHECK(cudaStreamSynchronize(0));
    Us[I] = (bench::nowSeconds() - T0) * 1e6;
  }
  CHECK(cudaGetLastError());
  bench::printMicro("launch_sync_latency", bench::median(Us), "us");

  // The same round trip ended by an event: launch, cudaEventRecord, cudaEventSynchronize.
  cudaEvent_t Done;
  CHECK(cudaEventCreateWithFlags(&Done, cudaEventDisableTiming));
  for (size_t I = 0; I < Reps; ++I) {
    double T0 = bench::nowSeconds();
    emptyKernel<<<1, 1>>>();
    CHECK(cudaEventRecord(Done, 0));
    CHECK(cudaEventSynchronize(Done));
    Us[I] = (bench::nowSeconds() - T0) * 1e6;
  }
  CHECK(cudaEventDestroy(Done));
  bench::printMicro("event_sync_latency", bench::median(Us), "us");

  // Asynchronous launches back to back, one synchronisation at the end.
  size_t Async = Quick ? 1000 : 100000;
  double T0 = bench::nowSeconds();
  for (size_t I = 0; I < Async; ++I)
    emptyKernel<<<1, 1>>>();
  CHECK(cudaDeviceSynchronize());
  bench::printMicro("async_launch_rate", Async / (bench::nowSeconds() - T0), "launches/s");

  if (PtxPath.empty())
    return 0;
  std::ifstream In(PtxPath);
  std::stringstream Text;
  Text << In.rdbuf();
  std::string Ptx = Text.str();
  if (Ptx.empty()) {
    std::fprintf(stderr, "cannot read %s\n", PtxPath.c_str());
    return 2;
  }
  // The runtime made the primary context current on this thread.
  auto loadOnce = [&] {
    double Start = bench::nowSeconds();
    CUmodule M;
    CHECK_CU(cuModuleLoadData(&M, Ptx.c_str()));
    CUfunction F;
    CHECK_CU(cuModuleGetFunction(&F, M, "sgemmTiled"));
    double Ms = (bench::nowSeconds() - Start) * 1e3;
    CHECK_CU(cuModuleUnload(M));
    return Ms;
  };
  bench::printMicro("module_load_cold", loadOnce(), "ms");
  std::vector<double> Warm;
  for (int I = 0; I < 5; ++I)
    Warm.push_back(loadOnce());
  bench::printMicro("module_load_warm", bench::median(Warm), "ms");
  return 0;
}
