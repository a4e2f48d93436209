// OpenCL host harness for the benchmark kernels (kernels.cl) on PoCL's CPU device: same inputs, same work-group
// shapes and the same timing loop as the CUDA program; the kernel source path is the first argument.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

#include "../common/bench_common.h"

#include <fstream>
#include <sstream>

namespace {

void check(cl_int Err, const char *What, int Line) {
  if (Err != CL_SUCCESS) {
    std::fprintf(stderr, "host.cpp:%d: %s failed: OpenCL error %d\n", Line, What, Err);
    std::exit(3);
  }
}
#define CL_CHECK(Call) check((Call), #Call, __LINE__)

struct Cl {
  cl_context Ctx = nullptr;
  cl_command_queue Q = nullptr;
  cl_program Prog = nullptr;
  cl_device_id Dev = nullptr;
  std::vector<cl_mem> Live; // buffers of the current kernel, released before the next one

  void releaseAll() {
    for (cl_mem M : Live)
      clReleaseMemObject(M);
    Live.clear();
  }

  cl_kernel kernel(const char *Name) {
    cl_int Err;
    cl_kernel K = clCreateKernel(Prog, Name, &Err);
    check(Err, Name, __LINE__);
    return K;
  }
  template <typename T> cl_mem buffer(const std::vector<T> &H) {
    cl_int Err;
    cl_mem M = clCreateBuffer(Ctx, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, H.size() * sizeof(T),
                              const_cast<T *>(H.data()), &Err);
    check(Err, "clCreateBuffer", __LINE__);
    Live.push_back(M);
    return M;
  }
  cl_mem buffer(size_t Bytes) {
    cl_int Err;
    cl_mem M = clCreateBuffer(Ctx, CL_MEM_READ_WRITE, Bytes, nullptr, &Err);
    check(Err, "clCreateBuffer", __LINE__);
    Live.push_back(M);
    return M;
  }
  void run(cl_kernel K, cl_uint Dims, const size_t *Global, const size_t *Local) {
    CL_CHECK(clEnqueueNDRangeKernel(Q, K, Dims, nullptr, Global, Local, 0, nullptr, nullptr));
  }
  void run1(cl_kernel K, size_t Global, size_t Local) { run(K, 1, &Global, &Local); }
  template <typename T> void write(const bench::Options &O, const char *Kernel, cl_mem M, size_t N) {
    std::vector<T> H(N);
    CL_CHECK(clEnqueueReadBuffer(Q, M, CL_TRUE, 0, N * sizeof(T), H.data(), 0, nullptr, nullptr));
    bench::writeOutput(O, Kernel, H.data(), N * sizeof(T));
  }
};

// Sets kernel arguments in order.
void setArgs(cl_kernel, cl_uint) {}
template <typename T, typename... Rest> void setArgs(cl_kernel K, cl_uint Index, const T &Arg, const Rest &...More) {
  CL_CHECK(clSetKernelArg(K, Index, sizeof(T), &Arg));
  setArgs(K, Index + 1, More...);
}

} // namespace

int main(int Argc, char **Argv) {
  if (Argc < 2) {
    std::fprintf(stderr, "usage: %s KERNELS.cl [--quick] [--out DIR] [--only K,...]\n", Argv[0]);
    return 2;
  }
  std::ifstream SourceFile(Argv[1]);
  std::stringstream SourceText;
  SourceText << SourceFile.rdbuf();
  std::string Source = SourceText.str();
  if (Source.empty()) {
    std::fprintf(stderr, "cannot read %s\n", Argv[1]);
    return 2;
  }
  Argv[1] = Argv[0];
  bench::Options O = bench::parseOptions(Argc - 1, Argv + 1);
  const bench::Sizes &S = O.S;

  Cl C;
  cl_platform_id Platform;
  CL_CHECK(clGetPlatformIDs(1, &Platform, nullptr));
  CL_CHECK(clGetDeviceIDs(Platform, CL_DEVICE_TYPE_ALL, 1, &C.Dev, nullptr));
  cl_int Err;
  C.Ctx = clCreateContext(nullptr, 1, &C.Dev, nullptr, nullptr, &Err);
  check(Err, "clCreateContext", __LINE__);
  C.Q = clCreateCommandQueue(C.Ctx, C.Dev, 0, &Err);
  check(Err, "clCreateCommandQueue", __LINE__);
  const char *Text = Source.c_str();
  C.Prog = clCreateProgramWithSource(C.Ctx, 1, &Text, nullptr, &Err);
  check(Err, "clCreateProgramWithSource", __LINE__);
  if (clBuildProgram(C.Prog, 1, &C.Dev, "-cl-std=CL1.2", nullptr, nullptr) != CL_SUCCESS) {
    char Log[16384] = {};
    clGetProgramBuildInfo(C.Prog, C.Dev, CL_PROGRAM_BUILD_LOG, sizeof(Log) - 1, Log, nullptr);
    std::fprintf(stderr, "clBuildProgram failed:\n%s\n", Log);
    return 3;
  }
  auto Finish = [&] { CL_CHECK(clFinish(C.Q)); };

  if (O.wants("saxpy")) {
    int N = (int)S.SaxpyN;
    cl_mem X = C.buffer(bench::randomFloats(N, 1, -1, 1)), Y = C.buffer(bench::randomFloats(N, 2, -1, 1));
    cl_mem Z = C.buffer((size_t)N * sizeof(float));
    cl_kernel K = C.kernel("saxpy");
    setArgs(K, 0, N, 2.5f, X, Y, Z);
    bench::timeKernel(O, "saxpy", [&] {
      C.run1(K, (N + 255) / 256 * 256, 256);
      Finish();
    });
    C.write<float>(O, "saxpy", Z, N);
    C.releaseAll();
  }
  const int ReduceBlocks = 1024;
  if (O.wants("reduce_shared")) {
    int N = (int)S.ReduceN, Blocks = ReduceBlocks;
    cl_mem In = C.buffer(bench::randomInts(N, 3, 16));
    cl_mem Partial = C.buffer(Blocks * sizeof(int)), Out = C.buffer(sizeof(int));
    cl_kernel K1 = C.kernel("reduceShared"), K2 = C.kernel("reduceShared");
    setArgs(K1, 0, In, N, Partial);
    setArgs(K2, 0, Partial, Blocks, Out);
    bench::timeKernel(O, "reduce_shared", [&] {
      C.run1(K1, (size_t)Blocks * 256, 256);
      C.run1(K2, 256, 256);
      Finish();
    });
    C.write<int>(O, "reduce_shared", Out, 1);
    C.releaseAll();
  }
  if (O.wants("reduce_shuffle")) {
    int N = (int)S.ReduceN, Blocks = ReduceBlocks;
    cl_mem In = C.buffer(bench::randomFloats(N, 4, 0, 1));
    cl_mem Partial = C.buffer(Blocks * sizeof(float)), Out = C.buffer(sizeof(float));
    cl_kernel K1 = C.kernel("reduceShuffle"), K2 = C.kernel("reduceShuffle");
    setArgs(K1, 0, In, N, Partial);
    setArgs(K2, 0, Partial, Blocks, Out);
    bench::timeKernel(O, "reduce_shuffle", [&] {
      C.run1(K1, (size_t)Blocks * 256, 256);
      C.run1(K2, 1024, 1024);
      Finish();
    });
    C.write<float>(O, "reduce_shuffle", Out, 1);
    C.releaseAll();
  }
  if (O.wants("sgemm")) {
    int N = (int)S.SgemmN;
    cl_mem A = C.buffer(bench::randomFloats((size_t)N * N, 5, -1, 1));
    cl_mem B = C.buffer(bench::randomFloats((size_t)N * N, 6, -1, 1));
    cl_mem Cm = C.buffer((size_t)N * N * sizeof(float));
    cl_kernel K = C.kernel("sgemmTiled");
    setArgs(K, 0, N, A, B, Cm);
    size_t Global[2] = {(size_t)N, (size_t)N}, Local[2] = {16, 16};
    bench::timeKernel(O, "sgemm", [&] {
      C.run(K, 2, Global, Local);
      Finish();
    });
    C.write<float>(O, "sgemm", Cm, (size_t)N * N);
    C.releaseAll();
  }
  if (O.wants("stencil2d")) {
    int N = (int)S.StencilN;
    cl_mem In = C.buffer(bench::randomFloats((size_t)N * N, 7, 0, 1));
    cl_mem Out = C.buffer((size_t)N * N * sizeof(float));
    cl_kernel K = C.kernel("stencil2d");
    setArgs(K, 0, N, In, Out);
    size_t Global[2] = {(size_t)(N + 31) / 32 * 32, (size_t)(N + 7) / 8 * 8}, Local[2] = {32, 8};
    bench::timeKernel(O, "stencil2d", [&] {
      C.run(K, 2, Global, Local);
      Finish();
    });
    C.write<float>(O, "stencil2d", Out, (size_t)N * N);
    C.releaseAll();
  }
  if (O.wants("nbody")) {
    int N = (int)S.NbodyN;
    auto P = bench::randomFloats((size_t)N * 4, 8, -1, 1);
    for (int I = 0; I < N; ++I)
      P[I * 4 + 3] = 0.5f * (P[I * 4 + 3] + 1.5f);
    cl_mem Pos = C.buffer(P), Acc = C.buffer((size_t)N * 4 * sizeof(float));
    cl_kernel K = C.kernel("nbody");
    setArgs(K, 0, N, Pos, Acc);
    bench::timeKernel(O, "nbody", [&] {
      C.run1(K, N, 256);
      Finish();
    });
    C.write<float>(O, "nbody", Acc, (size_t)N * 4);
    C.releaseAll();
  }
  if (O.wants("histogram")) {
    int N = (int)S.HistN;
    cl_mem In = C.buffer(bench::histogramInput(N, 9)), Bins = C.buffer(256 * sizeof(cl_uint));
    cl_kernel K = C.kernel("histogram");
    setArgs(K, 0, In, N, Bins);
    cl_uint Zero = 0;
    bench::timeKernel(O, "histogram", [&] {
      CL_CHECK(clEnqueueFillBuffer(C.Q, Bins, &Zero, sizeof(Zero), 0, 256 * sizeof(cl_uint), 0, nullptr, nullptr));
      C.run1(K, 256 * 256, 256);
      Finish();
    });
    C.write<cl_uint>(O, "histogram", Bins, 256);
    C.releaseAll();
  }
  if (O.wants("black_scholes")) {
    int N = (int)S.BsN;
    cl_mem Sp = C.buffer(bench::randomFloats(N, 10, 5, 30)), X = C.buffer(bench::randomFloats(N, 11, 1, 100));
    cl_mem T = C.buffer(bench::randomFloats(N, 12, 0.25f, 10));
    cl_mem Call = C.buffer((size_t)N * sizeof(float)), Put = C.buffer((size_t)N * sizeof(float));
    cl_kernel K = C.kernel("blackScholes");
    setArgs(K, 0, N, Sp, X, T, Call, Put);
    bench::timeKernel(O, "black_scholes", [&] {
      C.run1(K, (N + 255) / 256 * 256, 256);
      Finish();
    });
    std::vector<float> Out((size_t)N * 2);
    CL_CHECK(clEnqueueReadBuffer(C.Q, Call, CL_TRUE, 0, N * sizeof(float), Out.data(), 0, nullptr, nullptr));
    CL_CHECK(clEnqueueReadBuffer(C.Q, Put, CL_TRUE, 0, N * sizeof(float), Out.data() + N, 0, nullptr, nullptr));
    bench::writeOutput(O, "black_scholes", Out.data(), Out.size() * sizeof(float));
    C.releaseAll();
  }
  if (O.wants("spmv_csr")) {
    bench::Csr M = bench::randomCsr(S.SpmvRows, S.SpmvPerRow, 13);
    int Rows = (int)M.Rows;
    cl_mem RowPtr = C.buffer(M.RowPtr), Col = C.buffer(M.Col), Val = C.buffer(M.Val);
    cl_mem X = C.buffer(bench::randomFloats(Rows, 14, -1, 1)), Y = C.buffer((size_t)Rows * sizeof(float));
    cl_kernel K = C.kernel("spmvCsr");
    setArgs(K, 0, Rows, RowPtr, Col, Val, X, Y);
    bench::timeKernel(O, "spmv_csr", [&] {
      C.run1(K, (Rows + 255) / 256 * 256, 256);
      Finish();
    });
    C.write<float>(O, "spmv_csr", Y, Rows);
    C.releaseAll();
  }
  if (O.wants("scan")) {
    int N = (int)S.ScanN, Tiles = N / 1024;
    cl_mem In = C.buffer(bench::randomInts(N, 15, 4));
    cl_mem Out = C.buffer((size_t)N * sizeof(int)), Sums = C.buffer((size_t)Tiles * sizeof(int));
    cl_kernel K1 = C.kernel("scanTiles"), K2 = C.kernel("scanSums"), K3 = C.kernel("scanAdd");
    setArgs(K1, 0, In, Out, Sums);
    setArgs(K2, 0, Sums, Tiles);
    setArgs(K3, 0, Out, Sums);
    bench::timeKernel(O, "scan", [&] {
      C.run1(K1, (size_t)Tiles * 256, 256);
      C.run1(K2, 1024, 1024);
      C.run1(K3, (size_t)Tiles * 256, 256);
      Finish();
    });
    C.write<int>(O, "scan", Out, N);
    C.releaseAll();
  }

  // Micro-benchmarks: empty kernel enqueue + clFinish latency, and asynchronous enqueue throughput.
  {
    cl_kernel K = C.kernel("empty");
    size_t One = 1;
    for (int I = 0; I < 100; ++I)
      C.run(K, 1, &One, &One);
    Finish();
    size_t Reps = O.Quick ? 1000 : 20000;
    std::vector<double> Us(Reps);
    for (size_t I = 0; I < Reps; ++I) {
      double T0 = bench::nowSeconds();
      C.run(K, 1, &One, &One);
      Finish();
      Us[I] = (bench::nowSeconds() - T0) * 1e6;
    }
    bench::printMicro("launch_sync_latency", bench::median(Us), "us");
    size_t Async = O.Quick ? 1000 : 20000;
    double T0 = bench::nowSeconds();
    for (size_t I = 0; I < Async; ++I)
      C.run(K, 1, &One, &One);
    Finish();
    bench::printMicro("async_launch_rate", Async / (bench::nowSeconds() - T0), "launches/s");
  }
  return 0;
}
