// End-to-end: events in both APIs. Creation flags, query/synchronize on pending, complete and never-recorded events,
// elapsed time (plausible, NotReady while pending, refused for disable-timing events), re-recording, waits that
// capture the record current at the call, destruction while pending, and stale handles.
// Pending states are made deterministic with a gate kernel that spins on a pinned host flag only this program opens.
#include "e2e_common.h"
#include "gate_kernels.h"

#include <cuda.h>

#include <atomic>
#include <chrono>
#include <thread>

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

__global__ void increment(int *P) { *P += 1; }

static void testFlags() {
  std::printf("creation flags\n");
  cudaEvent_t E;
  E2E_CHECK(cudaEventCreate(&E));
  E2E_CHECK(cudaEventDestroy(E));
  E2E_CHECK(cudaEventCreateWithFlags(&E, cudaEventBlockingSync | cudaEventDisableTiming));
  E2E_CHECK(cudaEventDestroy(E));
  expectCode(cudaEventCreateWithFlags(&E, cudaEventInterprocess), cudaErrorInvalidValue,
             "cudaEventInterprocess without cudaEventDisableTiming");
  // cuda_shim has no interprocess events (a documented limitation; CUDA on Linux supports them).
  expectCode(cudaEventCreateWithFlags(&E, cudaEventInterprocess | cudaEventDisableTiming), cudaErrorNotSupported,
             "cudaEventInterprocess | cudaEventDisableTiming is not supported");
  expectCode(cudaEventCreateWithFlags(&E, 0x40), cudaErrorInvalidValue, "undefined event flag");
  expectCode(cudaEventCreate(nullptr), cudaErrorInvalidValue, "cudaEventCreate(NULL)");
  (void)cudaGetLastError();
}

static void testNeverRecorded() {
  std::printf("events never recorded\n");
  cudaEvent_t A, B;
  E2E_CHECK(cudaEventCreate(&A));
  E2E_CHECK(cudaEventCreate(&B));
  expectCode(cudaEventQuery(A), cudaSuccess, "cudaEventQuery of a never-recorded event");
  expectCode(cudaEventSynchronize(A), cudaSuccess, "cudaEventSynchronize of a never-recorded event");
  float Ms = 0;
  expectCode(cudaEventElapsedTime(&Ms, A, B), cudaErrorInvalidResourceHandle,
             "cudaEventElapsedTime of never-recorded events");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));
  expectCode(cudaStreamWaitEvent(S, A, 0), cudaSuccess, "waiting for a never-recorded event is a no-op");
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaEventDestroy(A));
  E2E_CHECK(cudaEventDestroy(B));
  (void)cudaGetLastError();
}

static void testTiming() {
  std::printf("elapsed time\n");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  cudaEvent_t Start, Stop, NoTiming;
  E2E_CHECK(cudaEventCreate(&Start));
  E2E_CHECK(cudaEventCreateWithFlags(&Stop, cudaEventBlockingSync));
  E2E_CHECK(cudaEventCreateWithFlags(&NoTiming, cudaEventDisableTiming));
  Gate G;
  int *Out = nullptr;
  E2E_CHECK(cudaMalloc(&Out, sizeof(int)));

  E2E_CHECK(cudaEventRecord(Start, S));
  waitGate<<<1, 1, 0, S>>>(G.Flag, Out, 1);
  E2E_CHECK(cudaEventRecord(Stop, S));
  E2E_CHECK(cudaEventRecord(NoTiming, S));
  E2E_CHECK(cudaEventSynchronize(Start)); // reached before the gate: the clock starts before we sleep
  expectCode(cudaEventQuery(Start), cudaSuccess, "start event reached");
  expectCode(cudaEventQuery(Stop), cudaErrorNotReady, "stop event pending behind the gate");
  float Ms = -1;
  expectCode(cudaEventElapsedTime(&Ms, Start, Stop), cudaErrorNotReady, "cudaEventElapsedTime while stop pending");
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  G.open();
  E2E_CHECK(cudaEventSynchronize(Stop));
  E2E_CHECK(cudaEventElapsedTime(&Ms, Start, Stop));
  std::printf("  elapsed %.3f ms (the gate was held 60 ms)\n", Ms);
  expect(Ms >= 55.0f && Ms < 20000.0f, "elapsed time covers the 60 ms the gate was held, and is plausible");
  E2E_CHECK(cudaEventSynchronize(NoTiming));
  expectCode(cudaEventElapsedTime(&Ms, Start, NoTiming), cudaErrorInvalidResourceHandle,
             "cudaEventElapsedTime with a disable-timing event");
  expectCode(cudaEventElapsedTime(nullptr, Start, Stop), cudaErrorInvalidValue, "cudaEventElapsedTime(NULL, ...)");

  // Back-to-back records: a small, non-negative time.
  E2E_CHECK(cudaEventRecord(Start, S));
  increment<<<1, 1, 0, S>>>(Out);
  E2E_CHECK(cudaEventRecord(Stop, S));
  E2E_CHECK(cudaEventSynchronize(Stop));
  E2E_CHECK(cudaEventElapsedTime(&Ms, Start, Stop));
  expect(Ms >= 0.0f && Ms < 20000.0f, "elapsed time of one small kernel is >= 0 and plausible");
  // Legacy-stream records, the classic timing pattern.
  E2E_CHECK(cudaEventRecord(Start));
  increment<<<1, 1>>>(Out);
  E2E_CHECK(cudaEventRecord(Stop));
  E2E_CHECK(cudaEventSynchronize(Stop));
  E2E_CHECK(cudaEventElapsedTime(&Ms, Start, Stop));
  expect(Ms >= 0.0f && Ms < 20000.0f, "elapsed time on the default stream");
  int Host = 0;
  E2E_CHECK(cudaMemcpy(&Host, Out, sizeof(int), cudaMemcpyDeviceToHost));
  expect(Host == 3, "the timed kernels ran");
  (void)cudaGetLastError();

  E2E_CHECK(cudaEventDestroy(Start));
  E2E_CHECK(cudaEventDestroy(Stop));
  E2E_CHECK(cudaEventDestroy(NoTiming));
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(Out));
}

static void testRecordSemantics() {
  std::printf("re-recording, waits and destruction while pending\n");
  cudaStream_t Gated, Idle, Waiter;
  E2E_CHECK(cudaStreamCreateWithFlags(&Gated, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&Idle, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&Waiter, cudaStreamNonBlocking));
  cudaEvent_t E, Doomed;
  E2E_CHECK(cudaEventCreateWithFlags(&E, cudaEventDisableTiming));
  E2E_CHECK(cudaEventCreateWithFlags(&Doomed, cudaEventDisableTiming));
  Gate G;

  waitGate<<<1, 1, 0, Gated>>>(G.Flag, nullptr, 0);
  E2E_CHECK(cudaEventRecord(E, Gated));
  E2E_CHECK(cudaEventRecord(Doomed, Gated));
  expectCode(cudaEventQuery(E), cudaErrorNotReady, "event pending behind the gate");
  // The wait captures the record current at the call ...
  E2E_CHECK(cudaStreamWaitEvent(Waiter, E, 0));
  E2E_CHECK(cudaStreamWaitEvent(Waiter, Doomed, 0));
  // ... so re-recording E on an idle stream completes E but does not release Waiter.
  E2E_CHECK(cudaEventRecord(E, Idle));
  E2E_CHECK(cudaStreamSynchronize(Idle));
  expectCode(cudaEventQuery(E), cudaSuccess, "an event's state is that of its most recent record");
  // Destroying an event with a pending record returns at once; the wait on it still holds.
  E2E_CHECK(cudaEventDestroy(Doomed));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  expectCode(cudaStreamQuery(Waiter), cudaErrorNotReady, "the waiting stream still waits for the earlier record");
  G.open();
  E2E_CHECK(cudaStreamSynchronize(Waiter));
  E2E_CHECK(cudaStreamSynchronize(Gated));

  expectCode(cudaEventRecordWithFlags(E, Idle, cudaEventRecordExternal), cudaSuccess,
             "cudaEventRecordWithFlags(cudaEventRecordExternal) outside capture");
  expectCode(cudaEventRecordWithFlags(E, Idle, 0x10), cudaErrorInvalidValue, "undefined record flag");
  expectCode(cudaStreamWaitEvent(Waiter, E, 0x10), cudaErrorInvalidValue, "undefined wait flag");
  E2E_CHECK(cudaEventSynchronize(E));

  // Stale handles (no event was created since, so the addresses are not reused).
  E2E_CHECK(cudaEventDestroy(E));
  expectCode(cudaEventQuery(E), cudaErrorInvalidResourceHandle, "cudaEventQuery(destroyed event)");
  expectCode(cudaEventRecord(E, Idle), cudaErrorInvalidResourceHandle, "cudaEventRecord(destroyed event)");
  expectCode(cudaEventSynchronize(Doomed), cudaErrorInvalidResourceHandle, "cudaEventSynchronize(destroyed event)");
  expectCode(cudaStreamWaitEvent(Waiter, E, 0), cudaErrorInvalidResourceHandle, "cudaStreamWaitEvent(destroyed)");
  expectCode(cudaEventDestroy(E), cudaErrorInvalidResourceHandle, "cudaEventDestroy twice");
  (void)cudaGetLastError();

  E2E_CHECK(cudaStreamDestroy(Gated));
  E2E_CHECK(cudaStreamDestroy(Idle));
  E2E_CHECK(cudaStreamDestroy(Waiter));
}

static void testDriverEvents() {
  std::printf("driver API events\n");
  if (cuInit(0) != CUDA_SUCCESS) {
    expect(false, "cuInit");
    return;
  }
  CUstream S;
  expectDrv(cuStreamCreate(&S, CU_STREAM_NON_BLOCKING), CUDA_SUCCESS, "cuStreamCreate");
  CUevent Start, Stop, NoTiming;
  expectDrv(cuEventCreate(&Start, CU_EVENT_DEFAULT), CUDA_SUCCESS, "cuEventCreate");
  expectDrv(cuEventCreate(&Stop, CU_EVENT_BLOCKING_SYNC), CUDA_SUCCESS, "cuEventCreate(CU_EVENT_BLOCKING_SYNC)");
  expectDrv(cuEventCreate(&NoTiming, CU_EVENT_DISABLE_TIMING), CUDA_SUCCESS, "cuEventCreate(CU_EVENT_DISABLE_TIMING)");
  Gate G;
  expectDrv(cuEventRecord(Start, S), CUDA_SUCCESS, "cuEventRecord");
  waitGate<<<1, 1, 0, S>>>(G.Flag, nullptr, 0);
  expectDrv(cuEventRecordWithFlags(Stop, S, CU_EVENT_RECORD_DEFAULT), CUDA_SUCCESS, "cuEventRecordWithFlags");
  expectDrv(cuEventRecord(NoTiming, S), CUDA_SUCCESS, "cuEventRecord(disable-timing event)");
  expectDrv(cuEventSynchronize(Start), CUDA_SUCCESS, "cuEventSynchronize(start)");
  expectDrv(cuEventQuery(Stop), CUDA_ERROR_NOT_READY, "cuEventQuery pending");
  float Ms = -1;
  expectDrv(cuEventElapsedTime(&Ms, Start, Stop), CUDA_ERROR_NOT_READY, "cuEventElapsedTime pending");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  G.open();
  expectDrv(cuEventSynchronize(Stop), CUDA_SUCCESS, "cuEventSynchronize(stop)");
  expectDrv(cuEventElapsedTime(&Ms, Start, Stop), CUDA_SUCCESS, "cuEventElapsedTime");
  expect(Ms >= 25.0f && Ms < 20000.0f, "driver elapsed time covers the 30 ms gate");
  expectDrv(cuEventSynchronize(NoTiming), CUDA_SUCCESS, "cuEventSynchronize(disable-timing event)");
  expectDrv(cuEventElapsedTime(&Ms, Start, NoTiming), CUDA_ERROR_INVALID_HANDLE,
            "cuEventElapsedTime with a disable-timing event");
  expectDrv(cuEventCreate(&Start, 0x40), CUDA_ERROR_INVALID_VALUE, "cuEventCreate with an undefined flag");
  expectDrv(cuStreamWaitEvent(S, Stop, 0), CUDA_SUCCESS, "cuStreamWaitEvent");
  expectDrv(cuEventDestroy(Stop), CUDA_SUCCESS, "cuEventDestroy");
  expectDrv(cuEventQuery(Stop), CUDA_ERROR_INVALID_HANDLE, "cuEventQuery(destroyed event)");
  expectDrv(cuEventRecord(Stop, S), CUDA_ERROR_INVALID_HANDLE, "cuEventRecord(destroyed event)");
  expectDrv(cuEventDestroy(Stop), CUDA_ERROR_INVALID_HANDLE, "cuEventDestroy twice");
  expectDrv(cuEventDestroy(Start), CUDA_SUCCESS, "cuEventDestroy(start)");
  expectDrv(cuEventDestroy(NoTiming), CUDA_SUCCESS, "cuEventDestroy(disable-timing event)");
  expectDrv(cuStreamDestroy(S), CUDA_SUCCESS, "cuStreamDestroy");
}

int main() {
  testFlags();
  testNeverRecorded();
  testTiming();
  testRecordSemantics();
  testDriverEvents();
  return e2e::finish("events", Failures);
}
