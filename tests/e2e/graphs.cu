// CUDA graphs end to end: a multi-stream capture (fork/join through events; kernels, copies, memset, host function)
// replayed many times, an explicit graph with every node type checked for ordering, exec update and per-node
// setters, clone, DOT output, and the documented errors of capture misuse and stale handles (docs/GRAPHS.md).
#include "e2e_common.h"
#include "gate_kernels.h"

#include <cuda.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using e2e::expect;
using e2e::expectCode;

constexpr int N = 1000;
constexpr int Threads = 128;
constexpr int Blocks = (N + Threads - 1) / Threads;

__global__ void scale(const int *A, int *B, int Count, int K) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    B[I] = A[I] * K;
}

__global__ void addConst(const int *A, int *C, int Count, int K) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    C[I] = A[I] + K;
}

__global__ void combine(const int *B, const int *C, int *D, int Count) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    D[I] = B[I] + 3 * C[I];
}

__global__ void addOne(int *P, int Count) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    P[I] += 1;
}

__global__ void times2(int *P, int Count) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    P[I] *= 2;
}

__global__ void setValue(int *P, int V) { *P = V; }

static std::atomic<int> HostRuns{0};
static void CUDART_CB countRun(void *) { HostRuns.fetch_add(1); }

// ---- 1. A captured fork/join graph replayed many times -------------------------------------------------------

static void capturedGraph() {
  std::printf("captured multi-stream graph\n");
  cudaStream_t S1, S2;
  E2E_CHECK(cudaStreamCreateWithFlags(&S1, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&S2, cudaStreamNonBlocking));
  cudaEvent_t Fork, Join;
  E2E_CHECK(cudaEventCreateWithFlags(&Fork, cudaEventDisableTiming));
  E2E_CHECK(cudaEventCreateWithFlags(&Join, cudaEventDisableTiming));
  int *A, *B, *C, *D, *In, *Out;
  E2E_CHECK(cudaMalloc(&A, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&B, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&C, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&D, N * sizeof(int)));
  E2E_CHECK(cudaMallocHost((void **)&In, N * sizeof(int)));
  E2E_CHECK(cudaMallocHost((void **)&Out, N * sizeof(int)));

  E2E_CHECK(cudaStreamBeginCapture(S1, cudaStreamCaptureModeGlobal));
  cudaStreamCaptureStatus Status;
  E2E_CHECK(cudaStreamIsCapturing(S1, &Status));
  expect(Status == cudaStreamCaptureStatusActive, "origin stream reports an active capture");
  E2E_CHECK(cudaStreamIsCapturing(S2, &Status));
  expect(Status == cudaStreamCaptureStatusNone, "the other stream is not capturing before the fork");
  E2E_CHECK(cudaMemsetAsync(D, 0xff, N * sizeof(int), S1));
  E2E_CHECK(cudaMemcpyAsync(A, In, N * sizeof(int), cudaMemcpyHostToDevice, S1));
  E2E_CHECK(cudaEventRecord(Fork, S1));
  E2E_CHECK(cudaStreamWaitEvent(S2, Fork, 0));
  E2E_CHECK(cudaStreamIsCapturing(S2, &Status));
  expect(Status == cudaStreamCaptureStatusActive, "waiting for a captured event pulls the stream into the capture");
  scale<<<Blocks, Threads, 0, S1>>>(A, B, N, 2);
  addConst<<<Blocks, Threads, 0, S2>>>(A, C, N, 5);
  E2E_CHECK(cudaLaunchHostFunc(S2, countRun, nullptr));
  E2E_CHECK(cudaEventRecord(Join, S2));
  E2E_CHECK(cudaStreamWaitEvent(S1, Join, 0));
  unsigned long long Id1 = 0, Id2 = 0;
  cudaGraph_t Building = nullptr;
  const cudaGraphNode_t *Deps = nullptr;
  size_t NumDeps = 0;
  E2E_CHECK(cudaStreamGetCaptureInfo(S1, &Status, &Id1, &Building, &Deps, nullptr, &NumDeps));
  E2E_CHECK(cudaStreamGetCaptureInfo(S2, &Status, &Id2, nullptr, nullptr, nullptr, nullptr));
  expect(Id1 == Id2 && Id1 != 0, "both streams report the same capture id");
  expect(Building != nullptr && NumDeps == 2, "after the join the origin depends on both branches");
  combine<<<Blocks, Threads, 0, S1>>>(B, C, D, N);
  E2E_CHECK(cudaMemcpyAsync(Out, D, N * sizeof(int), cudaMemcpyDeviceToHost, S1));
  expect(HostRuns.load() == 0, "nothing ran during the capture");
  cudaGraph_t Graph = nullptr;
  E2E_CHECK(cudaStreamEndCapture(S1, &Graph));
  E2E_CHECK(cudaStreamIsCapturing(S2, &Status));
  expect(Status == cudaStreamCaptureStatusNone, "ending the capture releases the joined stream");

  size_t NumNodes = 0, NumEdges = 0;
  E2E_CHECK(cudaGraphGetNodes(Graph, nullptr, &NumNodes));
  E2E_CHECK(cudaGraphGetEdges(Graph, nullptr, nullptr, nullptr, &NumEdges));
  std::printf("  captured %zu nodes, %zu edges\n", NumNodes, NumEdges);
  expect(NumNodes == 7 && NumEdges == 7, "7 nodes (memset, copy, 3 kernels, host, copy) and 7 edges");
  std::vector<cudaGraphNode_t> Nodes(NumNodes);
  E2E_CHECK(cudaGraphGetNodes(Graph, Nodes.data(), &NumNodes));
  int Kernels = 0, Copies = 0, Memsets = 0, Hosts = 0;
  for (cudaGraphNode_t Node : Nodes) {
    cudaGraphNodeType T;
    E2E_CHECK(cudaGraphNodeGetType(Node, &T));
    Kernels += T == cudaGraphNodeTypeKernel;
    Copies += T == cudaGraphNodeTypeMemcpy;
    Memsets += T == cudaGraphNodeTypeMemset;
    Hosts += T == cudaGraphNodeTypeHost;
    if (T == cudaGraphNodeTypeKernel) {
      cudaKernelNodeParams P;
      E2E_CHECK(cudaGraphKernelNodeGetParams(Node, &P));
      if (P.func == (void *)scale)
        expect(*(int *)P.kernelParams[3] == 2 && P.gridDim.x == Blocks, "captured scale node keeps its arguments");
    }
  }
  expect(Kernels == 3 && Copies == 2 && Memsets == 1 && Hosts == 1, "captured node types");

  cudaGraphExec_t Exec;
  E2E_CHECK(cudaGraphInstantiate(&Exec, Graph, 0));
  constexpr int Rounds = 25;
  e2e::Mismatches M("replayed graph output");
  for (int R = 0; R < Rounds; ++R) {
    for (int I = 0; I < N; ++I)
      In[I] = I * 7 - 300 + R;
    E2E_CHECK(cudaGraphLaunch(Exec, S1));
    E2E_CHECK(cudaStreamSynchronize(S1));
    for (int I = 0; I < N; ++I)
      M.intAt(R * N + I, Out[I], 2 * In[I] + 3 * (In[I] + 5));
  }
  M.report();
  expect(HostRuns.load() == Rounds, "the host node ran once per launch");
  // Back-to-back launches without synchronising in between: each waits for the previous one.
  for (int I = 0; I < N; ++I)
    In[I] = I;
  for (int R = 0; R < 40; ++R)
    E2E_CHECK(cudaGraphLaunch(Exec, R % 2 ? S2 : S1));
  E2E_CHECK(cudaDeviceSynchronize());
  bool Ok = HostRuns.load() == Rounds + 40;
  for (int I = 0; I < N; ++I)
    Ok &= Out[I] == 2 * I + 3 * (I + 5);
  expect(Ok, "40 back-to-back launches on alternating streams");

  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphDestroy(Graph));
  for (int *P : {A, B, C, D})
    E2E_CHECK(cudaFree(P));
  E2E_CHECK(cudaFreeHost(In));
  E2E_CHECK(cudaFreeHost(Out));
  E2E_CHECK(cudaEventDestroy(Fork));
  E2E_CHECK(cudaEventDestroy(Join));
  E2E_CHECK(cudaStreamDestroy(S1));
  E2E_CHECK(cudaStreamDestroy(S2));
}

// ---- 2. An explicit graph with every node type ---------------------------------------------------------------

struct HostSeen {
  const int *Pinned;
  long long Sum = -1;
};
static void CUDART_CB sumPinned(void *P) {
  auto *H = static_cast<HostSeen *>(P);
  long long S = 0;
  for (int I = 0; I < N; ++I)
    S += H->Pinned[I];
  H->Sum = S;
}

static void explicitGraph() {
  std::printf("explicit graph with every node type\n");
  cudaStream_t S, Other;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&Other, cudaStreamNonBlocking));
  int *X, *Gated, *Pinned, *Result;
  E2E_CHECK(cudaMalloc(&X, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&Gated, sizeof(int)));
  E2E_CHECK(cudaMallocHost((void **)&Pinned, N * sizeof(int)));
  E2E_CHECK(cudaMallocHost((void **)&Result, 2 * sizeof(int)));
  volatile int *Flag;
  E2E_CHECK(cudaMallocHost((void **)&Flag, sizeof(int)));
  cudaEvent_t Pre, Done;
  E2E_CHECK(cudaEventCreate(&Pre));
  E2E_CHECK(cudaEventCreate(&Done));

  // The child graph: X = X * 2 + 1.
  cudaGraph_t Child;
  E2E_CHECK(cudaGraphCreate(&Child, 0));
  int Count = N;
  void *XArgs[] = {&X, &Count};
  cudaKernelNodeParams KP = {};
  KP.gridDim = dim3(Blocks), KP.blockDim = dim3(Threads), KP.kernelParams = XArgs;
  cudaGraphNode_t CTimes, CAdd;
  KP.func = (void *)times2;
  E2E_CHECK(cudaGraphAddKernelNode(&CTimes, Child, nullptr, 0, &KP));
  KP.func = (void *)addOne;
  E2E_CHECK(cudaGraphAddKernelNode(&CAdd, Child, &CTimes, 1, &KP));

  // Main: memset 0 -> +1 -> child -> empty -> copy to pinned -> host sums it -> record Done.
  // Second root: wait for Pre (recorded by another stream) -> copy the gated value.
  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaMemsetParams MP = {};
  MP.dst = X, MP.value = 0, MP.elementSize = 4, MP.width = N, MP.height = 1;
  cudaGraphNode_t NSet, NAdd, NChild, NEmpty, NCopy, NHost, NRecord, NWait, NCopy2;
  E2E_CHECK(cudaGraphAddMemsetNode(&NSet, G, nullptr, 0, &MP));
  KP.func = (void *)addOne;
  E2E_CHECK(cudaGraphAddKernelNode(&NAdd, G, &NSet, 1, &KP));
  E2E_CHECK(cudaGraphAddChildGraphNode(&NChild, G, &NAdd, 1, Child));
  E2E_CHECK(cudaGraphAddEmptyNode(&NEmpty, G, &NChild, 1));
  E2E_CHECK(cudaGraphAddMemcpyNode1D(&NCopy, G, &NEmpty, 1, Pinned, X, N * sizeof(int), cudaMemcpyDeviceToHost));
  HostSeen Seen{Pinned};
  cudaHostNodeParams HP = {sumPinned, &Seen};
  E2E_CHECK(cudaGraphAddHostNode(&NHost, G, &NCopy, 1, &HP));
  E2E_CHECK(cudaGraphAddEventRecordNode(&NRecord, G, &NHost, 1, Done));
  E2E_CHECK(cudaGraphAddEventWaitNode(&NWait, G, nullptr, 0, Pre));
  E2E_CHECK(cudaGraphAddMemcpyNode1D(&NCopy2, G, &NWait, 1, Result, Gated, sizeof(int), cudaMemcpyDefault));
  // Tie the branches: the record waits for the gated copy too.
  E2E_CHECK(cudaGraphAddDependencies(G, &NCopy2, &NRecord, nullptr, 1));

  size_t NumNodes = 0, NumRoots = 0, NumEdges = 0, NumDeps = 0;
  E2E_CHECK(cudaGraphGetNodes(G, nullptr, &NumNodes));
  E2E_CHECK(cudaGraphGetRootNodes(G, nullptr, &NumRoots));
  E2E_CHECK(cudaGraphGetEdges(G, nullptr, nullptr, nullptr, &NumEdges));
  E2E_CHECK(cudaGraphNodeGetDependencies(NRecord, nullptr, nullptr, &NumDeps));
  expect(NumNodes == 9 && NumRoots == 2 && NumEdges == 8 && NumDeps == 2, "node, root, edge and dependency counts");
  std::vector<cudaGraphNode_t> From(NumEdges), To(NumEdges);
  E2E_CHECK(cudaGraphGetEdges(G, From.data(), To.data(), nullptr, &NumEdges));
  bool HasEdge = false;
  for (size_t I = 0; I < NumEdges; ++I)
    HasEdge |= From[I] == NCopy2 && To[I] == NRecord;
  expect(HasEdge, "cudaGraphGetEdges lists the added dependency");
  cudaGraphNodeType Types[9];
  cudaGraphNode_t All[9] = {NSet, NAdd, NChild, NEmpty, NCopy, NHost, NRecord, NWait, NCopy2};
  const cudaGraphNodeType Want[9] = {cudaGraphNodeTypeMemset,      cudaGraphNodeTypeKernel,    cudaGraphNodeTypeGraph,
                                     cudaGraphNodeTypeEmpty,       cudaGraphNodeTypeMemcpy,    cudaGraphNodeTypeHost,
                                     cudaGraphNodeTypeEventRecord, cudaGraphNodeTypeWaitEvent, cudaGraphNodeTypeMemcpy};
  bool TypesOk = true;
  for (int I = 0; I < 9; ++I) {
    E2E_CHECK(cudaGraphNodeGetType(All[I], &Types[I]));
    TypesOk &= Types[I] == Want[I];
  }
  expect(TypesOk, "cudaGraphNodeGetType for every node kind");

  cudaGraphExec_t Exec;
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  for (int Round = 0; Round < 3; ++Round) {
    *Flag = 0;
    *Result = 0;
    Seen.Sum = -1;
    E2E_CHECK(cudaMemset(Gated, 0, sizeof(int)));
    // Another stream records Pre behind a gate the host opens: the graph's wait node must hold it back.
    waitGate<<<1, 1, 0, Other>>>(Flag, Gated, 40 + Round);
    E2E_CHECK(cudaEventRecord(Pre, Other));
    E2E_CHECK(cudaGraphLaunch(Exec, S));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    expectCode(cudaStreamQuery(S), cudaErrorNotReady, "the graph waits for the gated event");
    expectCode(cudaEventQuery(Done), cudaErrorNotReady, "the record node has not been reached");
    std::atomic_thread_fence(std::memory_order_seq_cst);
    *Flag = 1;
    E2E_CHECK(cudaEventSynchronize(Done));
    E2E_CHECK(cudaStreamSynchronize(S));
    expect(*Result == 40 + Round, "the wait node ordered the copy after the other stream's kernel");
    // ((0 + 1) * 2 + 1) per element, summed by the host node after the copy.
    expect(Seen.Sum == 3LL * N, "host node saw the copy of ((0+1)*2+1)");
  }
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaGraphDestroy(Child));
  E2E_CHECK(cudaEventDestroy(Pre));
  E2E_CHECK(cudaEventDestroy(Done));
  E2E_CHECK(cudaFree(X));
  E2E_CHECK(cudaFree(Gated));
  E2E_CHECK(cudaFreeHost(Pinned));
  E2E_CHECK(cudaFreeHost(Result));
  E2E_CHECK(cudaFreeHost((void *)Flag));
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaStreamDestroy(Other));
}

// ---- 3. Exec update, per-node setters, clone, DOT ------------------------------------------------------------

static int readInt(const int *DevPtr) {
  int V = 0;
  E2E_CHECK(cudaMemcpy(&V, DevPtr, sizeof(int), cudaMemcpyDeviceToHost));
  return V;
}

static void updatesAndClone() {
  std::printf("exec update, node setters, clone, dot\n");
  int *P, *Q;
  E2E_CHECK(cudaMalloc(&P, sizeof(int)));
  E2E_CHECK(cudaMalloc(&Q, 64));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));

  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  int Value = 5;
  void *Args[] = {&P, &Value};
  cudaKernelNodeParams KP = {};
  KP.func = (void *)setValue, KP.gridDim = dim3(1), KP.blockDim = dim3(1), KP.kernelParams = Args;
  cudaGraphNode_t K, Set;
  E2E_CHECK(cudaGraphAddKernelNode(&K, G, nullptr, 0, &KP));
  Value = 1234; // the node copied the argument values when it was added
  cudaMemsetParams MP = {};
  MP.dst = Q, MP.value = 0x11, MP.elementSize = 1, MP.width = 64, MP.height = 1;
  E2E_CHECK(cudaGraphAddMemsetNode(&Set, G, &K, 1, &MP));

  cudaGraphExec_t Exec;
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(readInt(P) == 5, "kernel node ran with the values copied at add time");
  unsigned char Bytes[64];
  E2E_CHECK(cudaMemcpy(Bytes, Q, 64, cudaMemcpyDeviceToHost));
  expect(Bytes[0] == 0x11 && Bytes[63] == 0x11, "memset node");

  Value = 7;
  E2E_CHECK(cudaGraphExecKernelNodeSetParams(Exec, K, &KP));
  MP.value = 0x22;
  E2E_CHECK(cudaGraphExecMemsetNodeSetParams(Exec, Set, &MP));
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaMemcpy(Bytes, Q, 64, cudaMemcpyDeviceToHost));
  expect(readInt(P) == 7 && Bytes[5] == 0x22, "exec kernel/memset setters change the next launch");
  cudaKernelNodeParams Got;
  E2E_CHECK(cudaGraphKernelNodeGetParams(K, &Got));
  expect(*(int *)Got.kernelParams[1] == 5 && Got.func == (void *)setValue,
         "the graph's own node keeps its params after an exec setter");

  Value = 9;
  E2E_CHECK(cudaGraphKernelNodeSetParams(K, &KP));
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(readInt(P) == 7, "changing the graph does not change an instantiated graph");
  cudaGraphExecUpdateResultInfo Info;
  E2E_CHECK(cudaGraphExecUpdate(Exec, G, &Info));
  expect(Info.result == cudaGraphExecUpdateSuccess, "exec update succeeds on the same topology");
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(readInt(P) == 9, "exec update took the graph's new kernel params");

  E2E_CHECK(cudaGraphNodeSetEnabled(Exec, K, 0));
  unsigned Enabled = 1;
  E2E_CHECK(cudaGraphNodeGetEnabled(Exec, K, &Enabled));
  E2E_CHECK(cudaMemset(P, 0, sizeof(int)));
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(Enabled == 0 && readInt(P) == 0, "a disabled kernel node does not run");
  E2E_CHECK(cudaGraphNodeSetEnabled(Exec, K, 1));

  // Different topology / node type: the update is refused with the documented result.
  cudaGraph_t G2;
  E2E_CHECK(cudaGraphCreate(&G2, 0));
  cudaGraphNode_t K2;
  E2E_CHECK(cudaGraphAddKernelNode(&K2, G2, nullptr, 0, &KP));
  expectCode(cudaGraphExecUpdate(Exec, G2, &Info), cudaErrorGraphExecUpdateFailure, "update with fewer nodes");
  expect(Info.result == cudaGraphExecUpdateErrorTopologyChanged, "result: topology changed");
  cudaGraphNode_t M2;
  E2E_CHECK(cudaGraphAddMemsetNode(&M2, G2, nullptr, 0, &MP)); // same count, but not after the kernel
  expectCode(cudaGraphExecUpdate(Exec, G2, &Info), cudaErrorGraphExecUpdateFailure, "update with other edges");
  expect(Info.result == cudaGraphExecUpdateErrorTopologyChanged && Info.errorNode == M2,
         "result: topology changed at the memset node");
  cudaGraph_t G3;
  E2E_CHECK(cudaGraphCreate(&G3, 0));
  cudaGraphNode_t M3, K3;
  E2E_CHECK(cudaGraphAddMemsetNode(&M3, G3, nullptr, 0, &MP));
  E2E_CHECK(cudaGraphAddKernelNode(&K3, G3, &M3, 1, &KP));
  expectCode(cudaGraphExecUpdate(Exec, G3, &Info), cudaErrorGraphExecUpdateFailure, "update with swapped types");
  expect(Info.result == cudaGraphExecUpdateErrorNodeTypeChanged && Info.errorNode == M3, "result: node type changed");

  // Clone: independent copy; FindInClone maps nodes.
  cudaGraph_t Clone;
  E2E_CHECK(cudaGraphClone(&Clone, G));
  cudaGraphNode_t CK;
  E2E_CHECK(cudaGraphNodeFindInClone(&CK, K, Clone));
  Value = 31;
  E2E_CHECK(cudaGraphKernelNodeSetParams(CK, &KP));
  E2E_CHECK(cudaGraphKernelNodeGetParams(K, &Got));
  expect(*(int *)Got.kernelParams[1] == 9, "setting the clone's node leaves the original alone");
  cudaGraphExec_t CloneExec;
  E2E_CHECK(cudaGraphInstantiate(&CloneExec, Clone, 0));
  E2E_CHECK(cudaGraphLaunch(CloneExec, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(readInt(P) == 31, "the clone runs with its own params");
  size_t CloneNodes = 0;
  E2E_CHECK(cudaGraphGetNodes(Clone, nullptr, &CloneNodes));
  expect(CloneNodes == 2, "the clone has the original's nodes");

  // DOT output names the node kinds and the kernel.
  const char *Path = "graphs_e2e.dot";
  E2E_CHECK(cudaGraphDebugDotPrint(G, Path, cudaGraphDebugDotFlagsVerbose));
  std::ifstream Dot(Path);
  std::stringstream Text;
  Text << Dot.rdbuf();
  std::string Str = Text.str();
  expect(Str.find("digraph") != std::string::npos && Str.find("setValue") != std::string::npos &&
             Str.find("->") != std::string::npos,
         "DebugDotPrint writes a digraph with the kernel and the edge");
  std::remove(Path);

  E2E_CHECK(cudaGraphExecDestroy(CloneExec));
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  for (cudaGraph_t X : {G, G2, G3, Clone})
    E2E_CHECK(cudaGraphDestroy(X));
  E2E_CHECK(cudaFree(P));
  E2E_CHECK(cudaFree(Q));
  E2E_CHECK(cudaStreamDestroy(S));
}

// ---- 4. Misuse -----------------------------------------------------------------------------------------------

static void misuse() {
  std::printf("misuse\n");
  int *P;
  E2E_CHECK(cudaMalloc(&P, 256));
  int Host[64] = {};
  cudaStream_t S, S2, Blocking;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&S2, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreate(&Blocking));
  cudaEvent_t E;
  E2E_CHECK(cudaEventCreate(&E));
  cudaGraph_t G = nullptr;
  cudaStreamCaptureStatus Status;

  expectCode(cudaStreamBeginCapture(0, cudaStreamCaptureModeGlobal), cudaErrorStreamCaptureUnsupported,
             "capturing the legacy stream");
  (void)cudaGetLastError();

  // Synchronising a capturing stream invalidates the capture.
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  expectCode(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal), cudaErrorIllegalState, "capture begun twice");
  setValue<<<1, 1, 0, S>>>(P, 1);
  expectCode(cudaStreamSynchronize(S), cudaErrorStreamCaptureUnsupported, "cudaStreamSynchronize while capturing");
  E2E_CHECK(cudaStreamIsCapturing(S, &Status));
  expect(Status == cudaStreamCaptureStatusInvalidated, "the capture is invalidated");
  setValue<<<1, 1, 0, S>>>(P, 2);
  expectCode(cudaGetLastError(), cudaErrorStreamCaptureInvalidated, "launch into an invalidated capture");
  G = reinterpret_cast<cudaGraph_t>(0x1);
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "ending an invalidated capture");
  expect(G == nullptr, "no graph from an invalidated capture");
  E2E_CHECK(cudaStreamIsCapturing(S, &Status));
  expect(Status == cudaStreamCaptureStatusNone, "the stream left capture mode");
  (void)cudaGetLastError();

  // A synchronous copy during a global-mode capture is a prohibited ("unsafe") call.
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  expectCode(cudaMemcpy(Host, P, 4, cudaMemcpyDeviceToHost), cudaErrorStreamCaptureUnsupported,
             "cudaMemcpy during a global capture");
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "which invalidated the capture");
  // ... but allowed in relaxed mode.
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeRelaxed));
  expectCode(cudaMemcpy(Host, P, 4, cudaMemcpyDeviceToHost), cudaSuccess, "cudaMemcpy during a relaxed capture");
  E2E_CHECK(cudaStreamEndCapture(S, &G));
  E2E_CHECK(cudaGraphDestroy(G));
  // Allocation and freeing are prohibited ("unsafe") calls as well; the refused free leaves the memory allocated.
  int *Extra = nullptr;
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  expectCode(cudaMalloc(&Extra, 64), cudaErrorStreamCaptureUnsupported, "cudaMalloc during a global capture");
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "which invalidated the capture");
  E2E_CHECK(cudaMalloc(&Extra, 64));
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  expectCode(cudaFree(Extra), cudaErrorStreamCaptureUnsupported, "cudaFree during a global capture");
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "which invalidated the capture");
  E2E_CHECK(cudaMemset(Extra, 0, 64)); // still allocated
  E2E_CHECK(cudaFree(Extra));
  // Waiting for the whole device would wait for the capturing stream: refused in every mode, relaxed included.
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeRelaxed));
  expectCode(cudaDeviceSynchronize(), cudaErrorStreamCaptureUnsupported, "cudaDeviceSynchronize during a capture");
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "which invalidated the capture");
  (void)cudaGetLastError();
  // Another thread: prohibited while a global capture runs, not while a thread-local one does.
  for (cudaStreamCaptureMode Mode : {cudaStreamCaptureModeGlobal, cudaStreamCaptureModeThreadLocal}) {
    E2E_CHECK(cudaStreamBeginCapture(S, Mode));
    cudaError_t Other = cudaSuccess;
    std::thread([&] { Other = cudaMemcpy(Host, P, 4, cudaMemcpyDeviceToHost); }).join();
    bool Global = Mode == cudaStreamCaptureModeGlobal;
    expectCode(Other, Global ? cudaErrorStreamCaptureUnsupported : cudaSuccess,
               Global ? "cudaMemcpy in another thread during a global capture"
                      : "cudaMemcpy in another thread during a thread-local capture");
    cudaError_t End = cudaStreamEndCapture(S, &G);
    expectCode(End, Global ? cudaErrorStreamCaptureInvalidated : cudaSuccess, "end of that capture");
    if (End == cudaSuccess)
      E2E_CHECK(cudaGraphDestroy(G));
  }
  // cudaThreadExchangeStreamCaptureMode: a relaxed thread may make unsafe calls during its own capture.
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeThreadLocal));
  cudaStreamCaptureMode Mode = cudaStreamCaptureModeRelaxed;
  E2E_CHECK(cudaThreadExchangeStreamCaptureMode(&Mode));
  expect(Mode == cudaStreamCaptureModeGlobal, "the thread's previous mode was global");
  expectCode(cudaMemcpy(Host, P, 4, cudaMemcpyDeviceToHost), cudaSuccess, "cudaMemcpy in a relaxed thread");
  E2E_CHECK(cudaThreadExchangeStreamCaptureMode(&Mode));
  E2E_CHECK(cudaStreamEndCapture(S, &G));
  E2E_CHECK(cudaGraphDestroy(G));

  // The legacy stream while a blocking stream captures.
  E2E_CHECK(cudaStreamBeginCapture(Blocking, cudaStreamCaptureModeRelaxed));
  expectCode(cudaStreamIsCapturing(cudaStreamLegacy, &Status), cudaErrorStreamCaptureImplicit,
             "legacy stream status during a blocking capture");
  E2E_CHECK(cudaStreamIsCapturing(Blocking, &Status));
  expect(Status == cudaStreamCaptureStatusActive, "which did not invalidate it");
  expectCode(cudaMemsetAsync(P, 0, 4, 0), cudaErrorStreamCaptureImplicit,
             "legacy-stream work during a blocking capture");
  expectCode(cudaStreamEndCapture(Blocking, &G), cudaErrorStreamCaptureInvalidated, "which invalidated it");

  // Events across the capture boundary.
  E2E_CHECK(cudaEventRecord(E, S2));
  E2E_CHECK(cudaStreamSynchronize(S2));
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  expectCode(cudaStreamWaitEvent(S, E, 0), cudaErrorStreamCaptureIsolation, "waiting for an event from outside");
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "isolation invalidated the capture");
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  E2E_CHECK(cudaStreamWaitEvent(S, E, cudaEventWaitExternal));
  E2E_CHECK(cudaEventRecord(E, S));
  expectCode(cudaEventQuery(E), cudaErrorCapturedEvent, "querying an event recorded in a capture");
  E2E_CHECK(cudaStreamEndCapture(S, &G));
  size_t Count = 0;
  E2E_CHECK(cudaGraphGetNodes(G, nullptr, &Count));
  cudaGraphNode_t Only;
  E2E_CHECK(cudaGraphGetNodes(G, &Only, &Count));
  cudaGraphNodeType T;
  E2E_CHECK(cudaGraphNodeGetType(Only, &T));
  expect(Count == 1 && T == cudaGraphNodeTypeWaitEvent, "an external wait becomes an event-wait node");
  E2E_CHECK(cudaGraphDestroy(G));
  expectCode(cudaEventQuery(E), cudaSuccess, "the event is usable again after the capture ended");

  // Fork without join; end on the wrong stream.
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  E2E_CHECK(cudaEventRecord(E, S));
  E2E_CHECK(cudaStreamWaitEvent(S2, E, 0));
  setValue<<<1, 1, 0, S2>>>(P, 3);
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureUnjoined, "ending with a forked stream not joined");
  E2E_CHECK(cudaStreamIsCapturing(S2, &Status));
  expect(Status == cudaStreamCaptureStatusNone, "the forked stream left the failed capture");
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  E2E_CHECK(cudaEventRecord(E, S));
  E2E_CHECK(cudaStreamWaitEvent(S2, E, 0));
  expectCode(cudaStreamEndCapture(S2, &G), cudaErrorStreamCaptureUnmatched, "ending on a stream that only joined");
  expectCode(cudaStreamEndCapture(S, &G), cudaErrorStreamCaptureInvalidated, "the capture is then invalidated");
  (void)cudaGetLastError();

  // Stale handles and invalid structure.
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaGraphNode_t A, B;
  E2E_CHECK(cudaGraphAddEmptyNode(&A, G, nullptr, 0));
  E2E_CHECK(cudaGraphAddEmptyNode(&B, G, &A, 1));
  expectCode(cudaGraphAddDependencies(G, &A, &B, nullptr, 1), cudaErrorInvalidValue, "adding an existing edge");
  E2E_CHECK(cudaGraphAddDependencies(G, &B, &A, nullptr, 1));
  cudaGraphExec_t Exec = nullptr;
  expectCode(cudaGraphInstantiate(&Exec, G, 0), cudaErrorInvalidValue, "instantiating a graph with a cycle");
  E2E_CHECK(cudaGraphRemoveDependencies(G, &B, &A, nullptr, 1));
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  E2E_CHECK(cudaGraphDestroy(G));
  expectCode(cudaGraphGetNodes(G, nullptr, &Count), cudaErrorInvalidValue, "using a destroyed graph");
  expectCode(cudaGraphAddEmptyNode(&A, G, nullptr, 0), cudaErrorInvalidValue, "adding to a destroyed graph");
  expectCode(cudaGraphNodeGetType(B, &T), cudaErrorInvalidValue, "a node of a destroyed graph");
  E2E_CHECK(cudaGraphLaunch(Exec, S)); // the executable graph outlives its graph
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  expectCode(cudaGraphLaunch(Exec, S), cudaErrorInvalidValue, "launching a destroyed executable graph");
  expectCode(cudaGraphExecDestroy(Exec), cudaErrorInvalidValue, "destroying it twice");
  (void)cudaGetLastError();

  E2E_CHECK(cudaEventDestroy(E));
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaStreamDestroy(S2));
  E2E_CHECK(cudaStreamDestroy(Blocking));
  E2E_CHECK(cudaFree(P));
}

// ---- 5. The driver API on the same objects -------------------------------------------------------------------

#define DRV_CHECK(Call) E2E_CHECK((Call) == CUDA_SUCCESS ? cudaSuccess : cudaErrorUnknown)

static void CUDART_CB bump(void *P) { ++*static_cast<int *>(P); }

static void driverApi() {
  std::printf("driver API\n");
  int *P;
  E2E_CHECK(cudaMalloc(&P, 256));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  CUstream CS = reinterpret_cast<CUstream>(S);
  // Capture through cuStreamBeginCapture_v2 (cuda.h maps cuStreamBeginCapture to it), runtime work inside.
  DRV_CHECK(cuStreamBeginCapture(CS, CU_STREAM_CAPTURE_MODE_GLOBAL));
  E2E_CHECK(cudaMemsetAsync(P, 0, 256, S));
  setValue<<<1, 1, 0, S>>>(P, 77);
  CUstreamCaptureStatus Status;
  cuuint64_t Id = 0;
  CUgraph Building = nullptr;
  const CUgraphNode *Deps = nullptr;
  const CUgraphEdgeData *Edges = nullptr;
  size_t NumDeps = 0;
  DRV_CHECK(cuStreamGetCaptureInfo(CS, &Status, &Id, &Building, &Deps, &Edges, &NumDeps));
  expect(Status == CU_STREAM_CAPTURE_STATUS_ACTIVE && Id != 0 && NumDeps == 1 && Edges && Edges[0].type == 0,
         "cuStreamGetCaptureInfo (v3) during the capture");
  CUgraph G;
  DRV_CHECK(cuStreamEndCapture(CS, &G));
  size_t Count = 0;
  DRV_CHECK(cuGraphGetNodes(G, nullptr, &Count));
  std::vector<CUgraphNode> Nodes(Count);
  DRV_CHECK(cuGraphGetNodes(G, Nodes.data(), &Count));
  CUDA_KERNEL_NODE_PARAMS KP = {};
  CUgraphNodeType T1;
  DRV_CHECK(cuGraphNodeGetType(Nodes[1], &T1));
  DRV_CHECK(cuGraphKernelNodeGetParams(Nodes[1], &KP));
  expect(Count == 2 && T1 == CU_GRAPH_NODE_TYPE_KERNEL && KP.func && KP.ctx && *(int *)KP.kernelParams[1] == 77,
         "a captured kernel node read through cuGraphKernelNodeGetParams_v2");
  // Driver-built nodes: a host node after the kernel, params changed through the driver exec setter.
  int Runs = 0;
  CUDA_HOST_NODE_PARAMS HP = {bump, &Runs};
  CUgraphNode Host;
  DRV_CHECK(cuGraphAddHostNode(&Host, G, &Nodes[1], 1, &HP));
  CUgraphExec Exec;
  DRV_CHECK(cuGraphInstantiate(&Exec, G, 0));
  int Value = 88;
  void *Args[] = {&P, &Value};
  KP.kernelParams = Args;
  DRV_CHECK(cuGraphExecKernelNodeSetParams(Exec, Nodes[1], &KP));
  DRV_CHECK(cuGraphLaunch(Exec, CS));
  DRV_CHECK(cuStreamSynchronize(CS));
  int Got = 0;
  E2E_CHECK(cudaMemcpy(&Got, P, sizeof(int), cudaMemcpyDeviceToHost));
  expect(Got == 88 && Runs == 1, "driver exec setter and host node");
  CUgraphExecUpdateResultInfo Info;
  DRV_CHECK(cuGraphExecUpdate(Exec, G, &Info));
  DRV_CHECK(cuGraphLaunch(Exec, CS));
  DRV_CHECK(cuStreamSynchronize(CS));
  E2E_CHECK(cudaMemcpy(&Got, P, sizeof(int), cudaMemcpyDeviceToHost));
  expect(Info.result == CU_GRAPH_EXEC_UPDATE_SUCCESS && Got == 77 && Runs == 2, "cuGraphExecUpdate (v2)");
  CUresult R = cuStreamSynchronize(CS);
  DRV_CHECK(cuStreamBeginCapture(CS, CU_STREAM_CAPTURE_MODE_RELAXED));
  R = cuStreamSynchronize(CS);
  expect(R == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "cuStreamSynchronize on a capturing stream");
  CUgraph Dead = nullptr;
  R = cuStreamEndCapture(CS, &Dead);
  expect(R == CUDA_ERROR_STREAM_CAPTURE_INVALIDATED && !Dead, "cuStreamEndCapture of the invalidated capture");
  DRV_CHECK(cuGraphExecDestroy(Exec));
  DRV_CHECK(cuGraphDestroy(G));
  expect(cuGraphDestroy(G) == CUDA_ERROR_INVALID_VALUE, "cuGraphDestroy twice");
  (void)cudaGetLastError();
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(P));
}

int main() {
  capturedGraph();
  explicitGraph();
  updatesAndClone();
  misuse();
  driverApi();
  E2E_CHECK(cudaDeviceSynchronize());
  return e2e::finish("graphs", e2e::Failures);
}
