// End-to-end: streams run asynchronously to the host and to each other, work is ordered within a stream and across
// streams by cudaStreamWaitEvent, the legacy default stream synchronises with blocking streams but not non-blocking
// ones, async copies of every direction follow CUDA's host-synchronisation rules, and stale handles are refused.
// Built twice: as is, and with --default-stream per-thread (CUDA_API_PER_THREAD_DEFAULT_STREAM), where the
// per-thread default streams of two host threads must run independently.
//
// Determinism: every "is it still running?" check is made while a gate kernel spins on a flag in pinned host memory
// that only this program opens, so NotReady is guaranteed; a gate gives up after 30 s (writing -1) so that a broken
// implementation fails instead of hanging.
#include "e2e_common.h"
#include "gate_kernels.h"

#include <cuda.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

using e2e::Failures;
using e2e::expect;
using e2e::expectCode;

static void expectDrv(CUresult Got, CUresult Want, const char *What) {
  const char *GotName = "?", *WantName = "?";
  cuGetErrorName(Got, &GotName);
  cuGetErrorName(Want, &WantName);
  bool Ok = Got == Want;
  std::printf("  %s %s: got %s, want %s\n", Ok ? "ok  " : "FAIL", What, GotName, WantName);
  if (!Ok)
    ++Failures;
}

#define DRV_CHECK(Call)                                                                                                \
  do {                                                                                                                 \
    CUresult DrvErr = (Call);                                                                                          \
    if (DrvErr != CUDA_SUCCESS) {                                                                                      \
      std::fprintf(stderr, "%s:%d: %s failed: %d\n", __FILE__, __LINE__, #Call, static_cast<int>(DrvErr));             \
      std::exit(2);                                                                                                    \
    }                                                                                                                  \
  } while (0)

// ---- Gates -------------------------------------------------------------------------------------------------------

// Polls until the stream is idle (true) or the deadline passes (false): a wait that cannot hang the test.
static bool idleWithin(cudaStream_t S, int Ms) {
  auto Deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(Ms);
  while (std::chrono::steady_clock::now() < Deadline) {
    cudaError_t E = cudaStreamQuery(S);
    if (E == cudaSuccess)
      return true;
    if (E != cudaErrorNotReady)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// ---- Kernels -----------------------------------------------------------------------------------------------------

__global__ void addConst(int *Data, int N, int C) {
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += gridDim.x * blockDim.x)
    Data[I] += C;
}

__global__ void scaleBy(int *Data, int N, int F) {
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += gridDim.x * blockDim.x)
    Data[I] *= F;
}

__global__ void copyElement(int *Data, int From, int To) { Data[To] = Data[From]; }

static std::vector<int> sequence(int N, uint64_t Seed) {
  e2e::Rng R(Seed);
  std::vector<int> V(N);
  for (int &X : V)
    X = R.range(-1000, 1000);
  return V;
}

static void checkInts(const char *What, const int *Got, const std::vector<int> &Want) {
  e2e::Mismatches M(What);
  for (size_t I = 0; I < Want.size(); ++I)
    M.intAt(static_cast<long>(I), Got[I], Want[I]);
  if (!M.report())
    ++Failures;
}

// ---- Stream objects ----------------------------------------------------------------------------------------------

static void testStreamProperties() {
  std::printf("stream creation, flags and priorities\n");
  int Least = 1, Greatest = 1;
  E2E_CHECK(cudaDeviceGetStreamPriorityRange(&Least, &Greatest));
  expect(Least == 0 && Greatest == -5, "priority range is [least 0, greatest -5]");

  cudaStream_t A, B, C, D;
  E2E_CHECK(cudaStreamCreate(&A));
  E2E_CHECK(cudaStreamCreateWithFlags(&B, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithPriority(&C, cudaStreamDefault, -3));
  E2E_CHECK(cudaStreamCreateWithPriority(&D, cudaStreamNonBlocking, -100));
  unsigned Flags = 99;
  int Priority = 99;
  E2E_CHECK(cudaStreamGetFlags(A, &Flags));
  expect(Flags == cudaStreamDefault, "cudaStreamCreate: flags cudaStreamDefault");
  E2E_CHECK(cudaStreamGetFlags(B, &Flags));
  expect(Flags == cudaStreamNonBlocking, "cudaStreamCreateWithFlags: flags cudaStreamNonBlocking");
  E2E_CHECK(cudaStreamGetPriority(A, &Priority));
  expect(Priority == 0, "default priority 0");
  E2E_CHECK(cudaStreamGetPriority(C, &Priority));
  expect(Priority == -3, "priority -3 kept");
  E2E_CHECK(cudaStreamGetPriority(D, &Priority));
  expect(Priority == -5, "priority -100 clamped to -5");
  E2E_CHECK(cudaStreamGetFlags(D, &Flags));
  expect(Flags == cudaStreamNonBlocking, "cudaStreamCreateWithPriority keeps the flags");
  unsigned long long IdA = 0, IdB = 0;
  E2E_CHECK(cudaStreamGetId(A, &IdA));
  E2E_CHECK(cudaStreamGetId(B, &IdB));
  expect(IdA != IdB, "stream ids differ");
  int Device = -1;
  E2E_CHECK(cudaStreamGetDevice(A, &Device));
  expect(Device == 0, "cudaStreamGetDevice is device 0");
  E2E_CHECK(cudaStreamGetPriority(0, &Priority));
  expect(Priority == 0, "default stream priority 0");
  E2E_CHECK(cudaStreamQuery(A));

  expectCode(cudaStreamCreateWithFlags(&A, 0x10), cudaErrorInvalidValue, "undefined stream flag");
  expectCode(cudaStreamCreate(nullptr), cudaErrorInvalidValue, "cudaStreamCreate(NULL)");
  expectCode(cudaStreamGetPriority(C, nullptr), cudaErrorInvalidValue, "cudaStreamGetPriority(NULL)");
  (void)cudaGetLastError();

  for (cudaStream_t S : {A, B, C, D})
    E2E_CHECK(cudaStreamDestroy(S));
  // Stale handles (no stream was created since, so the addresses are not reused).
  expectCode(cudaStreamQuery(A), cudaErrorInvalidResourceHandle, "cudaStreamQuery(destroyed stream)");
  expectCode(cudaStreamSynchronize(B), cudaErrorInvalidResourceHandle, "cudaStreamSynchronize(destroyed stream)");
  expectCode(cudaStreamDestroy(C), cudaErrorInvalidResourceHandle, "cudaStreamDestroy twice");
  // A 0-byte memset succeeds before the stream is looked at (NVIDIA's runtime makes no driver call for it).
  expectCode(cudaMemsetAsync(nullptr, 0, 0, D), cudaSuccess, "0-byte cudaMemsetAsync on a destroyed stream");
  (void)cudaGetLastError();
}

// ---- Concurrency with the host and between streams ---------------------------------------------------------------

static void testConcurrency() {
  std::printf("streams run asynchronously to the host and to each other\n");
  const int N = 4096;
  Gate G;
  int *Out = nullptr, *Dev = nullptr, *Host = nullptr;
  E2E_CHECK(cudaMalloc(&Out, sizeof(int)));
  E2E_CHECK(cudaMemset(Out, 0, sizeof(int)));
  E2E_CHECK(cudaMalloc(&Dev, N * sizeof(int)));
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Host), N * sizeof(int)));
  cudaStream_t Blocked, Other;
  E2E_CHECK(cudaStreamCreate(&Blocked));
  E2E_CHECK(cudaStreamCreateWithFlags(&Other, cudaStreamNonBlocking));

  waitGate<<<1, 1, 0, Blocked>>>(G.Flag, Out, 7);
  E2E_CHECK(cudaGetLastError());
  expectCode(cudaStreamQuery(Blocked), cudaErrorNotReady, "cudaStreamQuery while a kernel waits for the host");

  // Independent work on another stream finishes while the first one is still blocked.
  std::vector<int> In = sequence(N, 1), Want(N);
  for (int I = 0; I < N; ++I)
    Want[I] = (In[I] + 3) * 2;
  std::memcpy(Host, In.data(), N * sizeof(int));
  E2E_CHECK(cudaMemcpyAsync(Dev, Host, N * sizeof(int), cudaMemcpyHostToDevice, Other));
  addConst<<<8, 128, 0, Other>>>(Dev, N, 3);
  scaleBy<<<8, 128, 0, Other>>>(Dev, N, 2);
  E2E_CHECK(cudaMemcpyAsync(Host, Dev, N * sizeof(int), cudaMemcpyDeviceToHost, Other));
  expect(idleWithin(Other, 20000), "a second stream completes while the first is blocked");
  checkInts("work ordered within the second stream", Host, Want);
  expectCode(cudaStreamQuery(Blocked), cudaErrorNotReady, "first stream still blocked");

  G.open();
  E2E_CHECK(cudaStreamSynchronize(Blocked));
  int Got = 0;
  E2E_CHECK(cudaMemcpy(&Got, Out, sizeof(int), cudaMemcpyDeviceToHost));
  expect(Got == 7, "gate kernel finished after the host opened it");
  E2E_CHECK(cudaStreamQuery(Blocked));

  E2E_CHECK(cudaStreamDestroy(Blocked));
  E2E_CHECK(cudaStreamDestroy(Other));
  E2E_CHECK(cudaFree(Out));
  E2E_CHECK(cudaFree(Dev));
  E2E_CHECK(cudaFreeHost(Host));
}

// ---- Ordering across streams -------------------------------------------------------------------------------------

static void testWaitEvent() {
  std::printf("cudaStreamWaitEvent orders work across streams\n");
  const int N = 1000;
  Gate G;
  int *Dev = nullptr, *Host = nullptr;
  E2E_CHECK(cudaMalloc(&Dev, N * sizeof(int)));
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Host), N * sizeof(int)));
  E2E_CHECK(cudaMemset(Dev, 0, N * sizeof(int)));
  std::vector<int> In = sequence(N, 2), Want(N);
  for (int I = 0; I < N; ++I)
    Want[I] = (In[I] + 5) * 3;
  std::memcpy(Host, In.data(), N * sizeof(int));
  E2E_CHECK(cudaDeviceSynchronize());

  cudaStream_t Producer, Consumer;
  E2E_CHECK(cudaStreamCreateWithFlags(&Producer, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&Consumer, cudaStreamNonBlocking));
  cudaEvent_t Ready;
  E2E_CHECK(cudaEventCreateWithFlags(&Ready, cudaEventDisableTiming));

  // Producer: gate, upload, +5. Consumer: wait for it, *3, download. Without the wait the consumer would scale zeros.
  waitGate<<<1, 1, 0, Producer>>>(G.Flag, nullptr, 0);
  E2E_CHECK(cudaMemcpyAsync(Dev, Host, N * sizeof(int), cudaMemcpyHostToDevice, Producer));
  addConst<<<4, 256, 0, Producer>>>(Dev, N, 5);
  E2E_CHECK(cudaEventRecord(Ready, Producer));
  E2E_CHECK(cudaStreamWaitEvent(Consumer, Ready, 0));
  scaleBy<<<4, 256, 0, Consumer>>>(Dev, N, 3);
  int *Result = nullptr;
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Result), N * sizeof(int)));
  E2E_CHECK(cudaMemcpyAsync(Result, Dev, N * sizeof(int), cudaMemcpyDeviceToHost, Consumer));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  expectCode(cudaStreamQuery(Consumer), cudaErrorNotReady, "consumer waits for the producer's event");
  expectCode(cudaEventQuery(Ready), cudaErrorNotReady, "event not reached while the producer is blocked");
  G.open();
  E2E_CHECK(cudaStreamSynchronize(Consumer));
  checkInts("consumer saw the producer's result", Result, Want);
  expectCode(cudaEventQuery(Ready), cudaSuccess, "event reached");

  E2E_CHECK(cudaEventDestroy(Ready));
  E2E_CHECK(cudaStreamDestroy(Producer));
  E2E_CHECK(cudaStreamDestroy(Consumer));
  E2E_CHECK(cudaFree(Dev));
  E2E_CHECK(cudaFreeHost(Host));
  E2E_CHECK(cudaFreeHost(Result));
}

// ---- The legacy default stream -----------------------------------------------------------------------------------

// Legacy is 0 in a default build, cudaStreamLegacy in a per-thread build (where cudaMemcpy uses the per-thread stream).
static void testLegacyStream(cudaStream_t Legacy, bool MemcpyIsLegacy) {
  std::printf("legacy default stream: implicit synchronisation with blocking streams only\n");
  int *Cells = nullptr;
  E2E_CHECK(cudaMalloc(&Cells, 8 * sizeof(int)));
  E2E_CHECK(cudaMemset(Cells, 0, 8 * sizeof(int)));
  E2E_CHECK(cudaDeviceSynchronize());
  cudaStream_t Blocking, NonBlocking;
  E2E_CHECK(cudaStreamCreate(&Blocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&NonBlocking, cudaStreamNonBlocking));
  cudaEvent_t Done;
  E2E_CHECK(cudaEventCreateWithFlags(&Done, cudaEventDisableTiming));
  int Host[8];

  {
    // Work on the legacy stream waits for earlier work of a blocking stream.
    Gate G;
    waitGate<<<1, 1, 0, Blocking>>>(G.Flag, Cells + 0, 11);
    copyElement<<<1, 1, 0, Legacy>>>(Cells, 0, 1);
    E2E_CHECK(cudaEventRecord(Done, Legacy));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    expectCode(cudaEventQuery(Done), cudaErrorNotReady, "legacy-stream work waits for a blocking stream");
    G.open();
    E2E_CHECK(cudaEventSynchronize(Done));
  }
  {
    // Later work of a blocking stream waits for the legacy stream.
    Gate G;
    waitGate<<<1, 1, 0, Legacy>>>(G.Flag, Cells + 2, 22);
    copyElement<<<1, 1, 0, Blocking>>>(Cells, 2, 3);
    E2E_CHECK(cudaEventRecord(Done, Blocking));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    expectCode(cudaEventQuery(Done), cudaErrorNotReady, "blocking-stream work waits for the legacy stream");
    // A non-blocking stream is exempt: it completes while the legacy stream is blocked.
    copyElement<<<1, 1, 0, NonBlocking>>>(Cells, 4, 5);
    expect(idleWithin(NonBlocking, 20000), "a non-blocking stream does not wait for the legacy stream");
    G.open();
    E2E_CHECK(cudaEventSynchronize(Done));
  }
  {
    // ... and the legacy stream does not wait for a non-blocking stream.
    Gate G;
    waitGate<<<1, 1, 0, NonBlocking>>>(G.Flag, Cells + 6, 66);
    E2E_CHECK(cudaMemsetAsync(Cells + 7, 0x01, 1, Legacy));
    E2E_CHECK(cudaEventRecord(Done, Legacy));
    auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    cudaError_t Q;
    while ((Q = cudaEventQuery(Done)) == cudaErrorNotReady && std::chrono::steady_clock::now() < Deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    expectCode(Q, cudaSuccess, "the legacy stream does not wait for a non-blocking stream");
    G.open();
    E2E_CHECK(cudaStreamSynchronize(NonBlocking));
  }
  if (MemcpyIsLegacy) {
    // cudaMemcpy runs on the legacy stream: it returns only after the blocking stream's earlier kernel.
    Gate G;
    waitGate<<<1, 1, 0, Blocking>>>(G.Flag, Cells + 0, 33);
    std::thread Opener = G.openLater(100);
    int Got = 0;
    E2E_CHECK(cudaMemcpy(&Got, Cells, sizeof(int), cudaMemcpyDeviceToHost));
    Opener.join();
    expect(Got == 33, "cudaMemcpy waited for the blocking stream's kernel");
  } else {
    E2E_CHECK(cudaDeviceSynchronize());
  }
  E2E_CHECK(cudaDeviceSynchronize());
  E2E_CHECK(cudaMemcpy(Host, Cells, sizeof(Host), cudaMemcpyDeviceToHost));
  expect(Host[1] == 11, "legacy copy saw the blocking stream's value");
  expect(Host[3] == 22, "blocking copy saw the legacy stream's value");
  expect(Host[6] == 66 && Host[7] == 1, "non-blocking and legacy work both completed");

  E2E_CHECK(cudaEventDestroy(Done));
  E2E_CHECK(cudaStreamDestroy(Blocking));
  E2E_CHECK(cudaStreamDestroy(NonBlocking));
  E2E_CHECK(cudaFree(Cells));
}

static void testDeviceSynchronize() {
  std::printf("cudaDeviceSynchronize waits for every stream\n");
  int *Cells = nullptr;
  E2E_CHECK(cudaMalloc(&Cells, 2 * sizeof(int)));
  cudaStream_t A, B;
  E2E_CHECK(cudaStreamCreate(&A));
  E2E_CHECK(cudaStreamCreateWithFlags(&B, cudaStreamNonBlocking));
  Gate G;
  waitGate<<<1, 1, 0, A>>>(G.Flag, Cells, 1);
  waitGate<<<1, 1, 0, B>>>(G.Flag, Cells + 1, 2);
  std::thread Opener = G.openLater(100);
  E2E_CHECK(cudaDeviceSynchronize());
  Opener.join();
  expectCode(cudaStreamQuery(A), cudaSuccess, "blocking stream idle after cudaDeviceSynchronize");
  expectCode(cudaStreamQuery(B), cudaSuccess, "non-blocking stream idle after cudaDeviceSynchronize");
  int Host[2] = {0, 0};
  E2E_CHECK(cudaMemcpy(Host, Cells, sizeof(Host), cudaMemcpyDeviceToHost));
  expect(Host[0] == 1 && Host[1] == 2, "both gated kernels completed");
  E2E_CHECK(cudaStreamDestroy(A));
  E2E_CHECK(cudaStreamDestroy(B));
  E2E_CHECK(cudaFree(Cells));
}

// ---- Async copies ------------------------------------------------------------------------------------------------

static void testAsyncCopies() {
  std::printf("cudaMemcpyAsync in every direction\n");
  const int N = 1 << 16;
  const size_t Bytes = N * sizeof(int);
  std::vector<int> In = sequence(N, 3);
  std::vector<int> Pageable(In), PageableOut(N, 0);
  int *Pinned = nullptr, *PinnedOut = nullptr, *DevA = nullptr, *DevB = nullptr;
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Pinned), Bytes));
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&PinnedOut), Bytes));
  E2E_CHECK(cudaMalloc(&DevA, Bytes));
  E2E_CHECK(cudaMalloc(&DevB, Bytes));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));

  {
    // Pageable source: staged before the call returns, so changing it right away does not change what is copied,
    // even though the copy itself cannot run yet (the stream is gated).
    Gate G;
    waitGate<<<1, 1, 0, S>>>(G.Flag, nullptr, 0);
    E2E_CHECK(cudaMemcpyAsync(DevA, Pageable.data(), Bytes, cudaMemcpyHostToDevice, S));
    std::fill(Pageable.begin(), Pageable.end(), -7);
    G.open();
    E2E_CHECK(cudaMemcpyAsync(PinnedOut, DevA, Bytes, cudaMemcpyDeviceToHost, S));
    E2E_CHECK(cudaStreamSynchronize(S));
    checkInts("host(pageable)->device: source staged at the call", PinnedOut, In);
  }
  {
    // Device to pageable host memory returns only once the copy is done: no synchronisation needed to read it.
    E2E_CHECK(cudaMemcpyAsync(PageableOut.data(), DevA, Bytes, cudaMemcpyDeviceToHost, S));
    checkInts("device->host(pageable) complete on return", PageableOut.data(), In);
  }
  {
    // Pinned host -> device -> device -> pinned host, fully asynchronous, in stream order.
    std::vector<int> Want(N);
    for (int I = 0; I < N; ++I) {
      Pinned[I] = In[I] ^ 0x5555;
      Want[I] = (In[I] ^ 0x5555) + 9;
    }
    E2E_CHECK(cudaMemcpyAsync(DevA, Pinned, Bytes, cudaMemcpyHostToDevice, S));
    E2E_CHECK(cudaMemcpyAsync(DevB, DevA, Bytes, cudaMemcpyDeviceToDevice, S));
    addConst<<<16, 256, 0, S>>>(DevB, N, 9);
    E2E_CHECK(cudaMemcpyAsync(PinnedOut, DevB, Bytes, cudaMemcpyDeviceToHost, S));
    E2E_CHECK(cudaStreamSynchronize(S));
    checkInts("pinned->device->device->pinned", PinnedOut, Want);
  }
  {
    // cudaMemcpyDefault infers the direction; host-to-host copies are synchronous.
    std::vector<int> Want(N);
    for (int I = 0; I < N; ++I)
      Want[I] = In[I] * 2 + 1;
    std::vector<int> Src(Want), Dst(N, 0);
    E2E_CHECK(cudaMemcpyAsync(Dst.data(), Src.data(), Bytes, cudaMemcpyHostToHost, S));
    checkInts("host->host complete on return", Dst.data(), Want);
    E2E_CHECK(cudaMemcpyAsync(DevA, Src.data(), Bytes, cudaMemcpyDefault, S));
    E2E_CHECK(cudaMemcpyAsync(DevB, DevA, Bytes, cudaMemcpyDefault, S));
    std::fill(Dst.begin(), Dst.end(), 0);
    E2E_CHECK(cudaMemcpyAsync(Dst.data(), DevB, Bytes, cudaMemcpyDefault, S));
    checkInts("cudaMemcpyDefault host->device->device->host", Dst.data(), Want);
  }
  {
    // cudaMemsetAsync in stream order, then the default-stream cudaMemset.
    std::vector<int> Want(N, 0x01010101);
    for (int I = N / 2; I < N; ++I)
      Want[I] = 0;
    E2E_CHECK(cudaMemsetAsync(DevA, 0x01, Bytes, S));
    E2E_CHECK(cudaMemsetAsync(DevA + N / 2, 0, Bytes / 2, S));
    E2E_CHECK(cudaMemcpyAsync(PinnedOut, DevA, Bytes, cudaMemcpyDeviceToHost, S));
    E2E_CHECK(cudaStreamSynchronize(S));
    checkInts("cudaMemsetAsync", PinnedOut, Want);
  }
  expectCode(cudaMemcpyAsync(Pageable.data(), PageableOut.data(), Bytes, cudaMemcpyDeviceToHost, S),
             cudaErrorInvalidValue, "cudaMemcpyAsync device-to-host from host memory");
  (void)cudaGetLastError();

  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFreeHost(Pinned));
  E2E_CHECK(cudaFreeHost(PinnedOut));
  E2E_CHECK(cudaFree(DevA));
  E2E_CHECK(cudaFree(DevB));
}

// ---- The driver API on the same streams --------------------------------------------------------------------------

static void testDriverStreams() {
  std::printf("driver API streams and async copies\n");
  DRV_CHECK(cuInit(0));
  CUcontext Current = nullptr;
  DRV_CHECK(cuCtxGetCurrent(&Current));
  int Least = 1, Greatest = 1;
  DRV_CHECK(cuCtxGetStreamPriorityRange(&Least, &Greatest));
  expect(Least == 0 && Greatest == -5, "cuCtxGetStreamPriorityRange is [0, -5]");

  CUstream S, P;
  DRV_CHECK(cuStreamCreate(&S, CU_STREAM_NON_BLOCKING));
  DRV_CHECK(cuStreamCreateWithPriority(&P, CU_STREAM_DEFAULT, -1));
  CUcontext StreamCtx = nullptr;
  DRV_CHECK(cuStreamGetCtx(S, &StreamCtx));
  expect(StreamCtx == Current, "cuStreamGetCtx is the current (primary) context");
  unsigned Flags = 0;
  int Priority = 0;
  DRV_CHECK(cuStreamGetFlags(S, &Flags));
  DRV_CHECK(cuStreamGetPriority(P, &Priority));
  expect(Flags == CU_STREAM_NON_BLOCKING && Priority == -1, "cuStreamGetFlags / cuStreamGetPriority");

  const int N = 2048;
  std::vector<int> In = sequence(N, 4), Out(N, 0);
  int *Pinned = nullptr;
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Pinned), N * sizeof(int)));
  std::memcpy(Pinned, In.data(), N * sizeof(int));
  CUdeviceptr A, B;
  DRV_CHECK(cuMemAlloc(&A, N * sizeof(int)));
  DRV_CHECK(cuMemAlloc(&B, N * sizeof(int)));
  DRV_CHECK(cuMemcpyHtoDAsync(A, Pinned, N * sizeof(int), S));
  DRV_CHECK(cuMemcpyDtoDAsync(B, A, N * sizeof(int), S));
  DRV_CHECK(cuMemsetD32Async(A, 0xdeadbeef, N / 2, S));
  DRV_CHECK(cuMemcpyDtoHAsync(Pinned, A, N * sizeof(int), S));
  DRV_CHECK(cuStreamSynchronize(S));
  std::vector<int> Want(In);
  for (int I = 0; I < N / 2; ++I)
    Want[I] = static_cast<int>(0xdeadbeef);
  checkInts("cuMemcpyHtoDAsync / cuMemsetD32Async / cuMemcpyDtoHAsync", Pinned, Want);
  DRV_CHECK(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(Out.data()), B, N * sizeof(int), P));
  checkInts("cuMemcpyAsync (unified, to pageable memory) after cuMemcpyDtoDAsync", Out.data(), In);
  DRV_CHECK(cuMemsetD8Async(A, 0x7f, N * sizeof(int), 0));
  DRV_CHECK(cuMemsetD16Async(B, 0x1234, N * 2, P));
#ifdef CUDA_API_PER_THREAD_DEFAULT_STREAM
  DRV_CHECK(cuStreamSynchronize(P)); // cuMemcpy uses the per-thread stream, which does not wait for P
#endif
  DRV_CHECK(cuMemcpy(reinterpret_cast<CUdeviceptr>(Out.data()), B, N * sizeof(int)));
  expect(Out[0] == 0x12341234 && Out[N - 1] == 0x12341234, "cuMemsetD16Async then cuMemcpy");
  DRV_CHECK(cuStreamQuery(S));

  DRV_CHECK(cuStreamDestroy(S));
  expectDrv(cuStreamQuery(S), CUDA_ERROR_INVALID_HANDLE, "cuStreamQuery(destroyed stream)");
  expectDrv(cuStreamDestroy(S), CUDA_ERROR_INVALID_HANDLE, "cuStreamDestroy twice");
  expectDrv(cuStreamCreate(&S, 0x8), CUDA_ERROR_INVALID_VALUE, "cuStreamCreate with an undefined flag");
  DRV_CHECK(cuStreamDestroy(P));
  DRV_CHECK(cuMemFree(A));
  DRV_CHECK(cuMemFree(B));
  E2E_CHECK(cudaFreeHost(Pinned));
}

// ---- Per-thread default streams (--default-stream per-thread) ------------------------------------------------------
#ifdef CUDA_API_PER_THREAD_DEFAULT_STREAM

static void testPerThreadStreams() {
  std::printf("per-thread default streams of two host threads are independent\n");
  Gate G;
  int *OutA = nullptr;
  E2E_CHECK(cudaMalloc(&OutA, sizeof(int)));
  E2E_CHECK(cudaMemset(OutA, 0, sizeof(int)));
  E2E_CHECK(cudaStreamSynchronize(0));
  std::atomic<int> Stage{0};
  unsigned long long IdA = 0, IdB = 0;
  cudaError_t QueryA = cudaSuccess, SyncA = cudaErrorUnknown;

  // Thread A: blocks its per-thread default stream with a gate.
  // Stream 0 is the per-thread default stream in this build (the launch goes through __cudaLaunchKernel_ptsz).
  std::thread A([&] {
    waitGate<<<1, 1>>>(G.Flag, OutA, 5);
    E2E_CHECK(cudaStreamGetId(cudaStreamPerThread, &IdA));
    QueryA = cudaStreamQuery(0);
    Stage = 1;
    SyncA = cudaStreamSynchronize(0);
  });
  while (Stage.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));

  // Thread B: a full round trip on its own default stream, including the synchronous cudaMemcpy, while A is blocked.
  const int N = 4096;
  std::vector<int> In = sequence(N, 5), Want(N), Got(N, 0);
  for (int I = 0; I < N; ++I)
    Want[I] = (In[I] + 4) * 5;
  std::atomic<bool> BDone{false};
  cudaError_t BError = cudaSuccess;
  std::thread B([&] {
    int *Dev = nullptr;
    cudaError_t E = cudaMalloc(&Dev, N * sizeof(int));
    if (E == cudaSuccess)
      E = cudaMemsetAsync(Dev, 0, N * sizeof(int), 0);
    if (E == cudaSuccess)
      E = cudaMemcpy(Dev, In.data(), N * sizeof(int), cudaMemcpyHostToDevice);
    if (E == cudaSuccess) {
      addConst<<<8, 128, 0, cudaStreamPerThread>>>(Dev, N, 4);
      scaleBy<<<8, 128, 0, cudaStreamPerThread>>>(Dev, N, 5);
      E = cudaMemcpyAsync(Got.data(), Dev, N * sizeof(int), cudaMemcpyDeviceToHost, 0);
    }
    if (E == cudaSuccess)
      E = cudaStreamSynchronize(0);
    if (E == cudaSuccess)
      E = cudaStreamGetId(cudaStreamPerThread, &IdB);
    BError = E;
    BDone = true;
  });
  // Watchdog: if B cannot finish while A is blocked, open the gate so that the test fails instead of hanging.
  auto Deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!BDone.load() && std::chrono::steady_clock::now() < Deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  bool BFinishedWhileABlocked = BDone.load();
  expect(BFinishedWhileABlocked, "thread B's default stream completes while thread A's is blocked");

  // The per-thread stream is a blocking stream: legacy-stream work waits for it.
  cudaEvent_t LegacyDone;
  E2E_CHECK(cudaEventCreateWithFlags(&LegacyDone, cudaEventDisableTiming));
  E2E_CHECK(cudaEventRecord(LegacyDone, cudaStreamLegacy));
  expectCode(cudaEventQuery(LegacyDone), cudaErrorNotReady, "legacy stream waits for thread A's per-thread stream");

  G.open();
  B.join();
  A.join();
  expectCode(BError, cudaSuccess, "thread B's calls");
  checkInts("thread B's result", Got.data(), Want);
  expectCode(QueryA, cudaErrorNotReady, "thread A: cudaStreamQuery(0) while its gate is closed");
  expectCode(SyncA, cudaSuccess, "thread A: cudaStreamSynchronize(0)");
  expect(IdA != 0 && IdB != 0 && IdA != IdB, "the two threads have different per-thread streams");
  E2E_CHECK(cudaEventSynchronize(LegacyDone));
  int HostA = 0;
  E2E_CHECK(cudaMemcpy(&HostA, OutA, sizeof(int), cudaMemcpyDeviceToHost));
  expect(HostA == 5, "thread A's gate kernel completed");
  E2E_CHECK(cudaEventDestroy(LegacyDone));
  E2E_CHECK(cudaFree(OutA));
}
#endif

int main() {
  testStreamProperties();
  testConcurrency();
  testWaitEvent();
  testAsyncCopies();
#ifdef CUDA_API_PER_THREAD_DEFAULT_STREAM
  testLegacyStream(cudaStreamLegacy, false);
  testPerThreadStreams();
#else
  testLegacyStream(0, true);
#endif
  testDeviceSynchronize();
  testDriverStreams(); // in the per-thread build: the driver's _ptsz/_ptds entry points
  return e2e::finish("streams", Failures);
}
