// cudaDeviceReset in the middle of a program, then the device used again: allocations, kernels, __device__ and
// __constant__ variables and streams work as before, the old allocations are gone and module variables start again
// from their initial values (the program's modules are loaded anew). The driver API's view of the primary context
// is checked too: its handle stays the same across the reset (NVIDIA's runtime relies on that with nvcc's default
// static cudart), it stays current (to another thread too, whose next call reactivates it), it is inactive until
// the next runtime call, and cuDevicePrimaryCtx* behave as documented. Built with both our libcudart.so.13
// (tests/e2e/groups/devices.cmake) and NVIDIA's static cudart (tests/e2e/groups/static.cmake).
#include "e2e_common.h"

#include <cuda.h>

#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

__device__ int Launches = 100; // counts launches of bump; back to 100 after every reset
__constant__ int Scale;        // set by the host after every reset

__global__ void bump() { atomicAdd(&Launches, 1); }

__global__ void fill(int *Out, int N, int Round) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = I * Scale + Round + Launches;
}

static int expectedAt(int I, int Scale, int Round, int LaunchCount) { return I * Scale + Round + LaunchCount; }

// One round of work on a fresh (or freshly reset) device: every check counts against Round.
static void round(int Round, int N) {
  std::printf("round %d\n", Round);
  int Value = -1;
  E2E_CHECK(cudaMemcpyFromSymbol(&Value, Launches, sizeof(int)));
  e2e::expect(Value == 100, "__device__ variable starts from its initial value");
  int S = 3 + Round;
  E2E_CHECK(cudaMemcpyToSymbol(Scale, &S, sizeof(int)));
  cudaStream_t Stream;
  E2E_CHECK(cudaStreamCreate(&Stream));
  for (int K = 0; K < 5; ++K)
    bump<<<1, 1, 0, Stream>>>();
  int *Out = nullptr;
  E2E_CHECK(cudaMalloc(&Out, N * sizeof(int)));
  fill<<<(N + 127) / 128, 128, 0, Stream>>>(Out, N, Round);
  E2E_CHECK(cudaGetLastError());
  E2E_CHECK(cudaStreamSynchronize(Stream));
  std::vector<int> Host(N, -1);
  E2E_CHECK(cudaMemcpy(Host.data(), Out, N * sizeof(int), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("kernel results");
  for (int I = 0; I < N; ++I)
    M.intAt(I, Host[I], expectedAt(I, S, Round, 105));
  if (!M.report())
    ++e2e::Failures;
  E2E_CHECK(cudaStreamDestroy(Stream));
  // Left allocated on purpose: the reset frees it.
  cudaPointerAttributes A;
  E2E_CHECK(cudaPointerGetAttributes(&A, Out));
  e2e::expect(A.type == cudaMemoryTypeDevice, "the allocation is device memory before the reset");
}

int main() {
  const int N = 1000;
  CU_CHECK(cuInit(0));
  CUdevice Dev = 0;
  CU_CHECK(cuDeviceGet(&Dev, 0));
  int *Old = nullptr;
  CUcontext First = nullptr;
  for (int Round = 0; Round < 3; ++Round) {
    round(Round, N);
    E2E_CHECK(cudaMalloc(&Old, 64));
    CUcontext Before = nullptr;
    CU_CHECK(cuCtxGetCurrent(&Before));
    if (Round == 0)
      First = Before;
    e2e::expect(Before != nullptr && Before == First, "the primary context keeps its handle across resets");
    unsigned Flags = 0;
    int Active = 0;
    CU_CHECK(cuDevicePrimaryCtxGetState(Dev, &Flags, &Active));
    e2e::expect(Active == 1, "the primary context is active before the reset");

    E2E_CHECK(cudaDeviceReset());

    CU_CHECK(cuDevicePrimaryCtxGetState(Dev, &Flags, &Active));
    e2e::expect(Active == 0, "the primary context is inactive after the reset");
    CUcontext After = nullptr;
    CU_CHECK(cuCtxGetCurrent(&After));
    e2e::expect(After == Before, "the reset primary context stays current");
    void *Ptr = nullptr;
    e2e::expect(cuMemAlloc(reinterpret_cast<CUdeviceptr *>(&Ptr), 64) == CUDA_ERROR_CONTEXT_IS_DESTROYED,
                "cuMemAlloc in the reset context: CUDA_ERROR_CONTEXT_IS_DESTROYED");
    // The runtime reactivates it at its next call that needs a context.
    E2E_CHECK(cudaDeviceSynchronize());
    cudaPointerAttributes A;
    E2E_CHECK(cudaPointerGetAttributes(&A, Old));
    e2e::expect(A.type == cudaMemoryTypeUnregistered, "the reset freed the old allocation");
    CU_CHECK(cuDevicePrimaryCtxGetState(Dev, &Flags, &Active));
    e2e::expect(Active == 1, "the runtime reactivated the primary context");
  }
  round(3, N);

  // Another thread that uses the device across a reset made by this one: the context stays current to it, and its
  // next call reactivates it (CUDA: "the next CUDA Runtime API call on any thread which requires an active context").
  std::printf("a second thread\n");
  std::mutex M;
  std::condition_variable Cv;
  int Step = 0;
  CUcontext SeenBefore = nullptr, SeenAfter = nullptr;
  std::thread Other([&] {
    E2E_CHECK(cudaSetDevice(0));
    E2E_CHECK(cudaFree(nullptr));
    CU_CHECK(cuCtxGetCurrent(&SeenBefore));
    std::unique_lock<std::mutex> L(M);
    Step = 1;
    Cv.notify_all();
    Cv.wait(L, [&] { return Step == 2; });
    CU_CHECK(cuCtxGetCurrent(&SeenAfter));
    round(5, N);
  });
  {
    std::unique_lock<std::mutex> L(M);
    Cv.wait(L, [&] { return Step == 1; });
    E2E_CHECK(cudaDeviceReset());
    Step = 2;
    Cv.notify_all();
  }
  Other.join();
  e2e::expect(SeenBefore == First && SeenAfter == First,
              "the other thread keeps the same primary context current across the reset");

  // The driver's primary-context calls around a reset: the handle never changes, a reset deactivates the context
  // whatever its use count, and cuCtxSetCurrent accepts the handle meanwhile.
  std::printf("driver primary context\n");
  CUcontext Retained = nullptr;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Retained, Dev));
  e2e::expect(Retained == First, "cuDevicePrimaryCtxRetain returns the same handle");
  CU_CHECK(cuDevicePrimaryCtxReset(Dev));
  unsigned Flags = 0;
  int Active = 1;
  CU_CHECK(cuDevicePrimaryCtxGetState(Dev, &Flags, &Active));
  e2e::expect(Active == 0, "cuDevicePrimaryCtxReset deactivates the primary context");
  CU_CHECK(cuCtxSetCurrent(Retained)); // accepted: the handle is still the device's primary context
  CUcontext Again = nullptr;
  CU_CHECK(cuDevicePrimaryCtxRetain(&Again, Dev));
  e2e::expect(Again == First, "a retain after the reset reactivates the same handle");
  CUdevice Got = -1;
  CU_CHECK(cuCtxGetDevice(&Got));
  e2e::expect(Got == Dev, "the reactivated context is usable");
  CU_CHECK(cuDevicePrimaryCtxRelease(Dev)); // safe after a reset, as documented
  round(4, N);                               // the runtime recovers from a reset it did not make

  return e2e::finish("device_reset", e2e::Failures);
}
