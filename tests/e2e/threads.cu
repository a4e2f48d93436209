// Host-thread concurrency: 16 host threads, each with its own stream, device buffer and pinned buffer, do 1,000
// rounds of kernel launch + copy back + check; every result must be exact. Then a short measurement of how the API
// scales with host threads on their own streams (printed, not checked: it depends on the machine's load).
//
//   threads                      the check (16 threads x 1,000 rounds) and a short measurement
//   threads --measure ROUNDS     only the measurement, ROUNDS per thread (docs/PERFORMANCE.md, "Host threads")
#include "e2e_common.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

constexpr int Threads = 16;
constexpr int Rounds = 1000;
constexpr int N = 128; // one block: the check is about the API, not the engine

__host__ __device__ unsigned mixValue(unsigned Seed, unsigned I) {
  unsigned X = Seed * 0x9E3779B1u + I * 0x85EBCA6Bu;
  X ^= X >> 15;
  X *= 0x2C1B3C6Du;
  X ^= X >> 12;
  return X + I;
}

__global__ void mix(unsigned *Out, int Count, unsigned Seed) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    Out[I] = mixValue(Seed, I);
}

__global__ void empty() {}

// One host thread's rounds; returns the number of wrong values (or -1 when an API call failed).
static long worker(int T) {
  cudaStream_t S;
  unsigned *Dev = nullptr, *Host = nullptr;
  if (cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking) != cudaSuccess ||
      cudaMalloc(&Dev, N * sizeof(unsigned)) != cudaSuccess ||
      cudaMallocHost(&Host, N * sizeof(unsigned)) != cudaSuccess)
    return -1;
  long Wrong = 0;
  for (int R = 0; R < Rounds; ++R) {
    unsigned Seed = static_cast<unsigned>(T) * 1000003u + static_cast<unsigned>(R);
    std::memset(Host, 0xff, N * sizeof(unsigned));
    mix<<<1, N, 0, S>>>(Dev, N, Seed);
    if (cudaGetLastError() != cudaSuccess ||
        cudaMemcpyAsync(Host, Dev, N * sizeof(unsigned), cudaMemcpyDeviceToHost, S) != cudaSuccess ||
        cudaStreamSynchronize(S) != cudaSuccess)
      return -1;
    for (int I = 0; I < N; ++I)
      Wrong += Host[I] != mixValue(Seed, I);
  }
  if (cudaStreamDestroy(S) != cudaSuccess || cudaFree(Dev) != cudaSuccess || cudaFreeHost(Host) != cudaSuccess)
    return -1;
  return Wrong;
}

static void check() {
  std::printf("%d host threads x %d rounds of launch + copy + check\n", Threads, Rounds);
  std::vector<std::thread> Pool;
  std::vector<long> Wrong(Threads, 0);
  auto Start = std::chrono::steady_clock::now();
  for (int T = 0; T < Threads; ++T)
    Pool.emplace_back([T, &Wrong] { Wrong[T] = worker(T); });
  for (std::thread &Th : Pool)
    Th.join();
  double Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  long Failed = 0, Bad = 0;
  for (long W : Wrong) {
    Failed += W < 0;
    Bad += W > 0 ? W : 0;
  }
  e2e::expect(Failed == 0, "every API call of every thread succeeded");
  e2e::expect(Bad == 0, "every value of every round is exact");
  std::printf("  %d rounds in %.2f s (%.0f rounds/s)\n", Threads * Rounds, Seconds, Threads * Rounds / Seconds);
}

// Rounds per second of T threads doing Body on their own streams, all together.
template <typename Fn> static double throughput(int T, int PerThread, Fn Body) {
  std::vector<cudaStream_t> Streams(T);
  for (cudaStream_t &S : Streams)
    E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  std::atomic<int> Ready{0};
  std::atomic<bool> Go{false};
  std::vector<std::thread> Pool;
  for (int I = 0; I < T; ++I)
    Pool.emplace_back([&, I] {
      Ready.fetch_add(1);
      while (!Go.load())
        std::this_thread::yield();
      for (int R = 0; R < PerThread; ++R)
        Body(Streams[I]);
    });
  while (Ready.load() < T)
    std::this_thread::yield();
  auto Start = std::chrono::steady_clock::now();
  Go = true;
  for (std::thread &Th : Pool)
    Th.join();
  double Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  for (cudaStream_t S : Streams)
    E2E_CHECK(cudaStreamDestroy(S));
  return T * PerThread / Seconds;
}

static void measure(int PerThread) {
  int *Probe = nullptr;
  E2E_CHECK(cudaMalloc(&Probe, 64));
  empty<<<1, 32>>>(); // loads the module before timing
  E2E_CHECK(cudaDeviceSynchronize());
  auto LaunchSync = [](cudaStream_t S) {
    empty<<<1, 32, 0, S>>>();
    cudaStreamSynchronize(S);
  };
  // Calls that touch only the runtime's and core's tables (no kernel runs): where a global lock would show at once.
  auto Queries = [Probe](cudaStream_t S) {
    cudaPointerAttributes A;
    cudaFuncAttributes F;
    cudaPointerGetAttributes(&A, Probe);
    cudaFuncGetAttributes(&F, empty);
    cudaStreamQuery(S);
    int D;
    cudaGetDevice(&D);
  };
  std::printf("measurement (%u hardware threads): operations per second, all host threads together, best of 3\n",
              std::thread::hardware_concurrency());
  std::printf("  %-8s %16s %9s %16s %9s\n", "threads", "launch+sync/s", "vs 1", "query rounds/s", "vs 1");
  double Base1 = 0, Base2 = 0;
  for (int T : {1, 2, 4, 8, 16}) {
    // The best of three runs: on a shared machine other load only ever slows a run down.
    double L = 0, Q = 0;
    for (int Run = 0; Run < 3; ++Run) {
      L = std::max(L, throughput(T, PerThread, LaunchSync));
      Q = std::max(Q, throughput(T, PerThread * 10, Queries));
    }
    if (T == 1)
      Base1 = L, Base2 = Q;
    std::printf("  %-8d %16.0f %8.2fx %16.0f %8.2fx\n", T, L, L / Base1, Q, Q / Base2);
  }
  E2E_CHECK(cudaFree(Probe));
}

int main(int Argc, char **Argv) {
  if (Argc > 2 && std::strcmp(Argv[1], "--measure") == 0) {
    measure(std::atoi(Argv[2]));
    return 0;
  }
  check();
  measure(100);
  return e2e::finish("threads", e2e::Failures);
}
