// Independent graph branches run concurrently, and edges still order nodes (docs/GRAPHS.md, "Executable graphs").
// Concurrency is proven without timing: nodes on independent branches rendezvous with each other (host nodes through
// an atomic counter, a host node with a kernel through mapped memory), which only completes when both run at once;
// a serial executor times out after a generous wait and the check fails. Ordering is checked by results.
#include "e2e_common.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

using e2e::expect;

constexpr auto RendezvousTimeout = std::chrono::seconds(20);

// Spins (yielding) until Ready() or the timeout; true when Ready() held.
template <typename F> static bool waitUntil(F Ready) {
  auto Deadline = std::chrono::steady_clock::now() + RendezvousTimeout;
  while (!Ready()) {
    if (std::chrono::steady_clock::now() > Deadline)
      return false;
    std::this_thread::yield();
  }
  return true;
}

// Host nodes of one rendezvous: each arrives, then waits for all Parties to arrive.
struct Rendezvous {
  std::atomic<int> Arrived{0};
  std::atomic<int> Met{0};     // parties that saw everyone arrive
  std::atomic<int> After{0};   // the node after the rendezvous nodes ran
  std::atomic<int> Early{0};   // ... and saw fewer than Parties meet (an edge not respected)
  int Parties = 2;
  void reset() { Arrived = Met = After = Early = 0; }
};

static void CUDART_CB arrive(void *P) {
  auto *R = static_cast<Rendezvous *>(P);
  int Round = R->Arrived.fetch_add(1) / R->Parties; // launches of one graph do not overlap: all see one round
  if (waitUntil([&] { return R->Arrived.load() >= (Round + 1) * R->Parties; }))
    R->Met.fetch_add(1);
}

static void CUDART_CB afterRendezvous(void *P) {
  auto *R = static_cast<Rendezvous *>(P);
  if (R->Met.load() < (R->After.load() + 1) * R->Parties)
    R->Early.fetch_add(1);
  R->After.fetch_add(1);
}

static cudaGraphNode_t hostNode(cudaGraph_t G, cudaHostFn_t Fn, void *Data, std::vector<cudaGraphNode_t> Deps = {}) {
  cudaHostNodeParams P{Fn, Data};
  cudaGraphNode_t N;
  E2E_CHECK(cudaGraphAddHostNode(&N, G, Deps.data(), Deps.size(), &P));
  return N;
}

// ---- 1. Two host nodes with no edge meet; a third after both sees them done ----------------------------------------
static void hostRendezvous() {
  std::printf("host nodes on independent branches\n");
  Rendezvous R;
  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaGraphNode_t A = hostNode(G, arrive, &R), B = hostNode(G, arrive, &R);
  hostNode(G, afterRendezvous, &R, {A, B});
  cudaGraphExec_t E;
  E2E_CHECK(cudaGraphInstantiate(&E, G, 0));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  constexpr int Launches = 3;
  for (int I = 0; I < Launches; ++I)
    E2E_CHECK(cudaGraphLaunch(E, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(R.Met.load() == 2 * Launches, "both host nodes met in every launch (they ran concurrently)");
  expect(R.After.load() == Launches && R.Early.load() == 0, "the node after them ran after both, once per launch");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaStreamDestroy(S));
}

// ---- 2. A host node waits for a kernel on another branch (added after it) ----------------------------------------
__global__ void raiseFlag(volatile int *Flag, int V) { *Flag = V; }

struct FlagWait {
  volatile int *Flag;
  int Want;
  std::atomic<int> Seen{0};
};

static void CUDART_CB waitForFlag(void *P) {
  auto *W = static_cast<FlagWait *>(P);
  if (waitUntil([&] { return *W->Flag == W->Want; }))
    W->Seen.fetch_add(1);
}

static void hostWaitsForKernel() {
  std::printf("a host node waiting for a kernel on another branch\n");
  int *Flag, *DevFlag;
  E2E_CHECK(cudaHostAlloc(&Flag, sizeof(int), cudaHostAllocMapped));
  E2E_CHECK(cudaHostGetDevicePointer(&DevFlag, Flag, 0));
  *Flag = 0;
  FlagWait W{Flag, 1};
  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  hostNode(G, waitForFlag, &W); // created first: a serial executor would run it first and never see the flag
  cudaKernelNodeParams K{};
  int V = 1;
  void *Args[] = {&DevFlag, &V};
  K.func = reinterpret_cast<void *>(raiseFlag);
  K.gridDim = dim3(1);
  K.blockDim = dim3(1);
  K.kernelParams = Args;
  cudaGraphNode_t KN;
  E2E_CHECK(cudaGraphAddKernelNode(&KN, G, nullptr, 0, &K));
  cudaGraphExec_t E;
  E2E_CHECK(cudaGraphInstantiate(&E, G, 0));
  for (int I = 1; I <= 3; ++I) {
    // Each launch raises a new value: the node in between resets nothing, so the host node waits for this launch's.
    V = I;
    E2E_CHECK(cudaGraphKernelNodeSetParams(KN, &K));
    E2E_CHECK(cudaGraphExecKernelNodeSetParams(E, KN, &K));
    W.Want = I;
    E2E_CHECK(cudaGraphLaunch(E, 0));
    E2E_CHECK(cudaStreamSynchronize(0));
  }
  expect(W.Seen.load() == 3, "the host node saw the other branch's kernel in every launch");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaFreeHost(Flag));
}

// ---- 3. Branches inside a child graph, and a captured fork ------------------------------------------------------
static void childAndCapture() {
  std::printf("branches of a child graph and of a captured fork\n");
  Rendezvous R;
  cudaGraph_t Child, Parent;
  E2E_CHECK(cudaGraphCreate(&Child, 0));
  hostNode(Child, arrive, &R);
  hostNode(Child, arrive, &R);
  E2E_CHECK(cudaGraphCreate(&Parent, 0));
  cudaGraphNode_t CN;
  E2E_CHECK(cudaGraphAddChildGraphNode(&CN, Parent, nullptr, 0, Child));
  hostNode(Parent, afterRendezvous, &R, {CN});
  cudaGraphExec_t E;
  E2E_CHECK(cudaGraphInstantiate(&E, Parent, 0));
  E2E_CHECK(cudaGraphLaunch(E, 0));
  E2E_CHECK(cudaGraphLaunch(E, 0));
  E2E_CHECK(cudaDeviceSynchronize());
  expect(R.Met.load() == 4 && R.After.load() == 2 && R.Early.load() == 0,
         "a child graph's two host nodes met, the parent's next node ran after them");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(Parent));
  E2E_CHECK(cudaGraphDestroy(Child));

  // The same shape captured from two streams forked and joined through events.
  R.reset();
  cudaStream_t S1, S2;
  cudaEvent_t Fork, Join;
  E2E_CHECK(cudaStreamCreateWithFlags(&S1, cudaStreamNonBlocking));
  E2E_CHECK(cudaStreamCreateWithFlags(&S2, cudaStreamNonBlocking));
  E2E_CHECK(cudaEventCreateWithFlags(&Fork, cudaEventDisableTiming));
  E2E_CHECK(cudaEventCreateWithFlags(&Join, cudaEventDisableTiming));
  E2E_CHECK(cudaStreamBeginCapture(S1, cudaStreamCaptureModeGlobal));
  E2E_CHECK(cudaEventRecord(Fork, S1));
  E2E_CHECK(cudaStreamWaitEvent(S2, Fork, 0));
  E2E_CHECK(cudaLaunchHostFunc(S1, arrive, &R));
  E2E_CHECK(cudaLaunchHostFunc(S2, arrive, &R));
  E2E_CHECK(cudaEventRecord(Join, S2));
  E2E_CHECK(cudaStreamWaitEvent(S1, Join, 0));
  E2E_CHECK(cudaLaunchHostFunc(S1, afterRendezvous, &R));
  cudaGraph_t G;
  E2E_CHECK(cudaStreamEndCapture(S1, &G));
  E2E_CHECK(cudaGraphInstantiate(&E, G, 0));
  E2E_CHECK(cudaGraphLaunch(E, S1));
  E2E_CHECK(cudaStreamSynchronize(S1));
  expect(R.Met.load() == 2 && R.After.load() == 1 && R.Early.load() == 0,
         "a captured fork's host functions met, the joined one ran after them");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaEventDestroy(Fork));
  E2E_CHECK(cudaEventDestroy(Join));
  E2E_CHECK(cudaStreamDestroy(S1));
  E2E_CHECK(cudaStreamDestroy(S2));
}

// ---- 4. Ordering: many branches of dependent kernels, wider than the lanes, launched back to back ---------------
constexpr int N = 4096;
constexpr int Branches = 12; // more branches than cuda_shim's lanes: some share one
constexpr int Steps = 4;

__global__ void stepKernel(int *P, int Count, int Step) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    P[I] = P[I] * 3 + Step + (I & 7);
}

__global__ void sumBranches(int *const *Parts, int NumParts, int *Out, int Count) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I >= Count)
    return;
  int Sum = 0;
  for (int B = 0; B < NumParts; ++B)
    Sum += Parts[B][I] * (B + 1);
  Out[I] += Sum; // accumulates across launches: each launch must follow the previous one
}

static std::atomic<int> Inside{0}, Overlaps{0};
static void CUDART_CB enterGraph(void *) {
  if (Inside.fetch_add(1) != 0)
    Overlaps.fetch_add(1);
}
static void CUDART_CB leaveGraph(void *) { Inside.fetch_sub(1); }

// A kernel node over the N elements (the arguments are copied when the node is added).
static cudaGraphNode_t gridNode(cudaGraph_t G, void *Fn, void **Args, std::vector<cudaGraphNode_t> Deps) {
  cudaKernelNodeParams K{};
  K.func = Fn;
  K.gridDim = dim3(N / 256);
  K.blockDim = dim3(256);
  K.kernelParams = Args;
  cudaGraphNode_t Node;
  E2E_CHECK(cudaGraphAddKernelNode(&Node, G, Deps.data(), Deps.size(), &K));
  return Node;
}

static void orderedBranches() {
  std::printf("dependent kernels on %d branches, launched back to back on two streams\n", Branches);
  int *Parts[Branches], **DevParts, *Out;
  for (auto &P : Parts)
    E2E_CHECK(cudaMalloc(&P, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DevParts, sizeof(Parts)));
  E2E_CHECK(cudaMemcpy(DevParts, Parts, sizeof(Parts), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMalloc(&Out, N * sizeof(int)));
  E2E_CHECK(cudaMemset(Out, 0, N * sizeof(int)));

  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaGraphNode_t Enter = hostNode(G, enterGraph, nullptr);
  std::vector<cudaGraphNode_t> Ends;
  int Count = N;
  for (int B = 0; B < Branches; ++B) {
    cudaMemsetParams M{};
    M.dst = Parts[B];
    M.value = B;
    M.elementSize = 4;
    M.width = N;
    M.height = 1;
    cudaGraphNode_t Prev;
    E2E_CHECK(cudaGraphAddMemsetNode(&Prev, G, &Enter, 1, &M));
    for (int St = 0; St < Steps; ++St) {
      int Step = St + 1;
      void *Args[] = {&Parts[B], &Count, &Step};
      Prev = gridNode(G, reinterpret_cast<void *>(stepKernel), Args, {Prev});
    }
    Ends.push_back(Prev);
  }
  int NumParts = Branches;
  void *SumArgs[] = {&DevParts, &NumParts, &Out, &Count};
  cudaGraphNode_t Sum = gridNode(G, reinterpret_cast<void *>(sumBranches), SumArgs, Ends);
  hostNode(G, leaveGraph, nullptr, {Sum});

  cudaGraphExec_t E;
  E2E_CHECK(cudaGraphInstantiate(&E, G, 0));
  cudaStream_t S[2];
  for (auto &St : S)
    E2E_CHECK(cudaStreamCreate(&St)); // blocking streams: the legacy copy below waits for them
  constexpr int Launches = 10;
  for (int I = 0; I < Launches; ++I)
    E2E_CHECK(cudaGraphLaunch(E, S[I % 2]));
  std::vector<int> Got(N);
  E2E_CHECK(cudaMemcpy(Got.data(), Out, N * sizeof(int), cudaMemcpyDeviceToHost)); // legacy stream: after both

  e2e::Mismatches M("sum of the branches after 10 launches");
  for (int I = 0; I < N; ++I) {
    unsigned Sum = 0; // the kernels' int arithmetic wraps
    for (unsigned B = 0; B < Branches; ++B) {
      unsigned V = B; // the memset node (4-byte elements)
      for (unsigned St = 1; St <= Steps; ++St)
        V = V * 3 + St + (I & 7);
      Sum += V * (B + 1);
    }
    M.intAt(I, Got[I], static_cast<int>(Sum * Launches));
  }
  expect(M.report(), "every edge was respected in every launch");
  expect(Overlaps.load() == 0, "launches of the executable graph did not overlap");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(G));
  for (auto &St : S)
    E2E_CHECK(cudaStreamDestroy(St));
  for (auto &P : Parts)
    E2E_CHECK(cudaFree(P));
  E2E_CHECK(cudaFree(DevParts));
  E2E_CHECK(cudaFree(Out));
}

int main() {
  hostRendezvous();
  hostWaitsForKernel();
  childAndCapture();
  orderedBranches();
  E2E_CHECK(cudaDeviceSynchronize());
  return e2e::finish("graph_concurrency", e2e::Failures);
}
