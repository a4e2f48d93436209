// End-to-end: host work in streams. cudaStreamAddCallback and cudaLaunchHostFunc (and cuStreamAddCallback /
// cuLaunchHostFunc) run in stream order: after the work before them, before the work after them, in the order they
// were added, with the stream handle and the status of earlier work; a callback after a faulting kernel gets the
// error. The fault is provoked last, since it leaves the context unusable.
#include "e2e_common.h"

#include <cuda.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

using e2e::Failures;
using e2e::expect;
using e2e::expectCode;
// CUDA_LAUNCH_BLOCKING=1 (one registered run sets it) makes every kernel launch synchronous.
static const bool LaunchBlocking =
    std::getenv("CUDA_LAUNCH_BLOCKING") && std::strcmp(std::getenv("CUDA_LAUNCH_BLOCKING"), "1") == 0;

__global__ void addConst(int *Data, int N, int C) {
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += gridDim.x * blockDim.x)
    Data[I] += C;
}

// Reads a value the host wrote into pinned memory (through a host function) and stores it for the check.
__global__ void readHost(const volatile int *HostValue, int *Out) { *Out = *HostValue; }

__global__ void fault(int *P) {
  if (P)
    asm volatile("trap;");
}

// ---- Callbacks in order, after the work before them --------------------------------------------------------------

struct Record {
  std::mutex Mutex;
  std::vector<int> Order; // callback indices in the order they ran
  std::vector<int> Seen;  // what each callback read from pinned memory written by the copy before it
  std::vector<cudaError_t> Status;
  std::vector<cudaStream_t> Streams;
};

struct CallbackArg {
  Record *R;
  int Index;
  const int *Pinned; // written by the copy enqueued just before this callback
};

static void CUDART_CB recordCallback(cudaStream_t Stream, cudaError_t Status, void *UserData) {
  auto *A = static_cast<CallbackArg *>(UserData);
  std::lock_guard<std::mutex> G(A->R->Mutex);
  A->R->Order.push_back(A->Index);
  A->R->Seen.push_back(A->Pinned ? A->Pinned[0] : 0);
  A->R->Status.push_back(Status);
  A->R->Streams.push_back(Stream);
}

static void testCallbackOrder() {
  std::printf("cudaStreamAddCallback: stream order, status and handle\n");
  const int Steps = 64, N = 256;
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  int *Dev = nullptr, *Pinned = nullptr;
  E2E_CHECK(cudaMalloc(&Dev, N * sizeof(int)));
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Pinned), Steps * sizeof(int)));
  E2E_CHECK(cudaMemsetAsync(Dev, 0, N * sizeof(int), S));
  Record R;
  std::vector<CallbackArg> Args(Steps);
  for (int I = 0; I < Steps; ++I) {
    // Each step adds I+1 on the device and copies element 0 to its own pinned slot; the callback reads that slot.
    addConst<<<2, 128, 0, S>>>(Dev, N, I + 1);
    E2E_CHECK(cudaMemcpyAsync(Pinned + I, Dev, sizeof(int), cudaMemcpyDeviceToHost, S));
    Args[I] = {&R, I, Pinned + I};
    E2E_CHECK(cudaStreamAddCallback(S, recordCallback, &Args[I], 0));
  }
  E2E_CHECK(cudaStreamSynchronize(S));
  bool InOrder = static_cast<int>(R.Order.size()) == Steps, SawWork = InOrder, StatusOk = InOrder, HandleOk = InOrder;
  for (int I = 0; InOrder && I < Steps; ++I) {
    InOrder &= R.Order[I] == I;
    SawWork &= R.Seen[I] == (I + 1) * (I + 2) / 2; // 1 + 2 + ... + (I+1)
    StatusOk &= R.Status[I] == cudaSuccess;
    HandleOk &= R.Streams[I] == S;
  }
  expect(InOrder, "64 callbacks ran once each, in the order they were added");
  expect(SawWork, "each callback saw the results of the work enqueued before it");
  expect(StatusOk, "each callback got cudaSuccess");
  expect(HandleOk, "each callback got its stream's handle");

  // On the legacy stream the callback receives the handle passed, 0.
  Record Legacy;
  CallbackArg LegacyArg{&Legacy, 0, nullptr};
  E2E_CHECK(cudaStreamAddCallback(0, recordCallback, &LegacyArg, 0));
  E2E_CHECK(cudaDeviceSynchronize());
  expect(Legacy.Order.size() == 1 && Legacy.Streams[0] == nullptr && Legacy.Status[0] == cudaSuccess,
         "a legacy-stream callback gets stream 0 and cudaSuccess");

  expectCode(cudaStreamAddCallback(S, recordCallback, nullptr, 1), cudaErrorInvalidValue,
             "cudaStreamAddCallback with flags != 0");
  expectCode(cudaStreamAddCallback(S, nullptr, nullptr, 0), cudaErrorInvalidValue, "cudaStreamAddCallback(NULL)");
  expectCode(cudaLaunchHostFunc(S, nullptr, nullptr), cudaErrorInvalidValue, "cudaLaunchHostFunc(NULL)");
  (void)cudaGetLastError();
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(Dev));
  E2E_CHECK(cudaFreeHost(Pinned));
}

// ---- Host functions block the work after them --------------------------------------------------------------------

struct SlowWrite {
  volatile int *Target;
  int Value;
  int DelayMs;
};

static void CUDART_CB slowWrite(void *UserData) {
  auto *W = static_cast<SlowWrite *>(UserData);
  std::this_thread::sleep_for(std::chrono::milliseconds(W->DelayMs));
  *W->Target = W->Value;
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

static void testHostFuncBlocksLaterWork() {
  std::printf("cudaLaunchHostFunc: later work waits for the host function\n");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  int *HostValue = nullptr, *Out = nullptr, *Dev = nullptr;
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&HostValue), 2 * sizeof(int)));
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&Out), 2 * sizeof(int)));
  E2E_CHECK(cudaMalloc(&Dev, 2 * sizeof(int)));
  HostValue[0] = HostValue[1] = 0;
  Out[0] = Out[1] = 0;
  // A kernel reading host memory, and a copy of it, both after a host function that writes it 100 ms later.
  SlowWrite W1{HostValue, 1234, 100}, W2{HostValue + 1, 5678, 50};
  E2E_CHECK(cudaLaunchHostFunc(S, slowWrite, &W1));
  readHost<<<1, 1, 0, S>>>(HostValue, Dev);
  E2E_CHECK(cudaLaunchHostFunc(S, slowWrite, &W2));
  E2E_CHECK(cudaMemcpyAsync(Dev + 1, HostValue + 1, sizeof(int), cudaMemcpyHostToDevice, S));
  E2E_CHECK(cudaMemcpyAsync(Out, Dev, 2 * sizeof(int), cudaMemcpyDeviceToHost, S));
  if (!LaunchBlocking) // else the launch already waited for the first host function
    expectCode(cudaStreamQuery(S), cudaErrorNotReady, "stream busy while the host function sleeps");
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(Out[0] == 1234, "a kernel after a host function saw what it wrote");
  expect(Out[1] == 5678, "a copy after a host function saw what it wrote");
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFreeHost(HostValue));
  E2E_CHECK(cudaFreeHost(Out));
  E2E_CHECK(cudaFree(Dev));
}

// With CUDA_LAUNCH_BLOCKING=1 a launch returns only after the kernel (and so the host function before it) finished.
static void testLaunchBlocking() {
  std::printf("kernel launches %s (CUDA_LAUNCH_BLOCKING%s)\n", LaunchBlocking ? "are synchronous" : "are asynchronous",
              LaunchBlocking ? "=1" : " unset");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  int *HostValue = nullptr, *Dev = nullptr;
  E2E_CHECK(cudaMallocHost(reinterpret_cast<void **>(&HostValue), sizeof(int)));
  E2E_CHECK(cudaMalloc(&Dev, sizeof(int)));
  *HostValue = 0;
  SlowWrite W{HostValue, 99, 200};
  E2E_CHECK(cudaLaunchHostFunc(S, slowWrite, &W));
  readHost<<<1, 1, 0, S>>>(HostValue, Dev);
  E2E_CHECK(cudaGetLastError());
  if (LaunchBlocking)
    expectCode(cudaStreamQuery(S), cudaSuccess, "the stream is idle when the launch returns");
  else
    expectCode(cudaStreamQuery(S), cudaErrorNotReady, "the launch returned while the host function still sleeps");
  E2E_CHECK(cudaStreamSynchronize(S));
  int Got = 0;
  E2E_CHECK(cudaMemcpy(&Got, Dev, sizeof(int), cudaMemcpyDeviceToHost));
  expect(Got == 99, "the kernel ran after the host function");
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFreeHost(HostValue));
  E2E_CHECK(cudaFree(Dev));
}

// ---- Callbacks on several streams, ordered by events -------------------------------------------------------------

static std::atomic<int> Ticket{0};

struct Stamp {
  int DelayMs = 0;
  int Taken = -1;
};

static void CUDART_CB takeTicket(void *UserData) {
  auto *St = static_cast<Stamp *>(UserData);
  std::this_thread::sleep_for(std::chrono::milliseconds(St->DelayMs));
  St->Taken = Ticket++;
}

static void testCrossStream() {
  std::printf("host functions on several streams, ordered by events\n");
  const int Streams = 4;
  cudaStream_t S[Streams];
  cudaEvent_t Done[Streams];
  Stamp Stamps[Streams];
  for (int I = 0; I < Streams; ++I) {
    E2E_CHECK(cudaStreamCreateWithFlags(&S[I], cudaStreamNonBlocking));
    E2E_CHECK(cudaEventCreateWithFlags(&Done[I], cudaEventDisableTiming));
    Stamps[I].DelayMs = 30 * (Streams - 1 - I); // unordered, the later streams would finish first
  }
  // A chain: stream i waits for the event after stream i-1's host function, so only the events order them.
  E2E_CHECK(cudaLaunchHostFunc(S[0], takeTicket, &Stamps[0]));
  E2E_CHECK(cudaEventRecord(Done[0], S[0]));
  for (int I = 1; I < Streams; ++I) {
    E2E_CHECK(cudaStreamWaitEvent(S[I], Done[I - 1], 0));
    E2E_CHECK(cudaLaunchHostFunc(S[I], takeTicket, &Stamps[I]));
    E2E_CHECK(cudaEventRecord(Done[I], S[I]));
  }
  E2E_CHECK(cudaDeviceSynchronize());
  bool Ordered = true;
  for (int I = 0; I < Streams; ++I)
    Ordered &= Stamps[I].Taken == I;
  expect(Ordered, "host functions across four streams ran in event order");
  for (int I = 0; I < Streams; ++I) {
    E2E_CHECK(cudaEventDestroy(Done[I]));
    E2E_CHECK(cudaStreamDestroy(S[I]));
  }
}

// ---- The driver API ----------------------------------------------------------------------------------------------

struct DriverRecord {
  std::atomic<int> Calls{0};
  CUstream Stream = nullptr;
  CUresult Status = CUDA_ERROR_UNKNOWN;
};

static void CUDA_CB driverCallback(CUstream Stream, CUresult Status, void *UserData) {
  auto *R = static_cast<DriverRecord *>(UserData);
  R->Stream = Stream;
  R->Status = Status;
  ++R->Calls;
}

static void CUDA_CB driverHostFn(void *UserData) { ++static_cast<DriverRecord *>(UserData)->Calls; }

static void testDriver() {
  std::printf("cuStreamAddCallback / cuLaunchHostFunc\n");
  if (cuInit(0) != CUDA_SUCCESS) {
    expect(false, "cuInit");
    return;
  }
  CUstream S;
  if (cuStreamCreate(&S, CU_STREAM_DEFAULT) != CUDA_SUCCESS) {
    expect(false, "cuStreamCreate");
    return;
  }
  DriverRecord R;
  expect(cuStreamAddCallback(S, driverCallback, &R, 0) == CUDA_SUCCESS, "cuStreamAddCallback");
  expect(cuLaunchHostFunc(S, driverHostFn, &R) == CUDA_SUCCESS, "cuLaunchHostFunc");
  expect(cuStreamAddCallback(S, driverCallback, &R, 2) == CUDA_ERROR_INVALID_VALUE,
         "cuStreamAddCallback with flags != 0 is CUDA_ERROR_INVALID_VALUE");
  expect(cuStreamSynchronize(S) == CUDA_SUCCESS, "cuStreamSynchronize");
  expect(R.Calls == 2 && R.Stream == S && R.Status == CUDA_SUCCESS, "driver callback and host function ran");
  expect(cuStreamDestroy(S) == CUDA_SUCCESS, "cuStreamDestroy");
  expect(cuLaunchHostFunc(S, driverHostFn, &R) == CUDA_ERROR_INVALID_HANDLE,
         "cuLaunchHostFunc on a destroyed stream is CUDA_ERROR_INVALID_HANDLE");
}

// ---- Status after a fault (last: the context stays unusable) -----------------------------------------------------

static void testStatusAfterFault() {
  std::printf("a callback after a faulting kernel receives the error\n");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  Record R;
  CallbackArg Arg{&R, 0, nullptr};
  int *Dummy = nullptr;
  E2E_CHECK(cudaMalloc(&Dummy, sizeof(int)));
  fault<<<1, 1, 0, S>>>(Dummy);
  cudaError_t Launch = cudaGetLastError();
  cudaError_t Add = cudaStreamAddCallback(S, recordCallback, &Arg, 0);
  cudaError_t Sync = cudaStreamSynchronize(S);
  if (LaunchBlocking)
    expectCode(Launch, Sync, "the synchronous faulting launch returns the fault");
  else
    expectCode(Launch, cudaSuccess, "the faulting launch itself succeeds");
  expect(Sync != cudaSuccess, "cudaStreamSynchronize reports the fault");
  if (Add == cudaSuccess) {
    std::lock_guard<std::mutex> G(R.Mutex);
    expect(R.Status.size() == 1 && R.Status[0] == Sync, "the callback ran with the fault as its status");
  } else {
    // CUDA may refuse new work once it has seen the fault; then the refusal carries the same error.
    expectCode(Add, Sync, "cudaStreamAddCallback refused with the fault");
  }
  std::printf("  (fault reported as %s)\n", cudaGetErrorName(Sync));
}

int main() {
  testCallbackOrder();
  testHostFuncBlocksLaterWork();
  testLaunchBlocking();
  testCrossStream();
  testDriver();
  testStatusAfterFault();
  return e2e::finish("stream_callbacks", Failures);
}
