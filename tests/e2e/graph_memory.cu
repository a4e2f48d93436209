// Graph memory nodes (docs/GRAPHS.md, "Memory nodes"): explicit allocation and free nodes, allocations that outlive
// their graph (freed by cudaFreeAsync / cudaFree or auto-freed on relaunch), stream-ordered allocation captured into
// allocation and free nodes, the documented errors, and the device's graph memory attributes.
#include "e2e_common.h"

#include <cuda.h>

#include <vector>

using e2e::expect;
using e2e::expectCode;

constexpr int N = 3000;
constexpr size_t Bytes = N * sizeof(int);

__global__ void fill(int *P, int Count, int Base) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    P[I] = Base + I * 3;
}

__global__ void addInto(const int *Src, int *Dst, int Count) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < Count)
    Dst[I] += Src[I];
}

static cudaMemAllocNodeParams allocParams(size_t Size) {
  cudaMemAllocNodeParams P{};
  P.poolProps.allocType = cudaMemAllocationTypePinned;
  P.poolProps.location.type = cudaMemLocationTypeDevice;
  P.poolProps.location.id = 0;
  P.bytesize = Size;
  return P;
}

static cudaGraphNode_t kernelNode(cudaGraph_t G, void *Fn, void **Args, std::vector<cudaGraphNode_t> Deps) {
  cudaKernelNodeParams K{};
  K.func = Fn;
  K.gridDim = dim3((N + 127) / 128);
  K.blockDim = dim3(128);
  K.kernelParams = Args;
  cudaGraphNode_t Node;
  E2E_CHECK(cudaGraphAddKernelNode(&Node, G, Deps.data(), Deps.size(), &K));
  return Node;
}

static bool checkFilled(const std::vector<int> &Got, int Base, int Times, const char *What) {
  e2e::Mismatches M(What);
  for (int I = 0; I < N; ++I)
    M.intAt(I, Got[I], static_cast<long long>(Times) * (Base + I * 3));
  return M.report();
}

static cuuint64_t graphMem(cudaGraphMemAttributeType Attr) {
  cuuint64_t V = 0;
  E2E_CHECK(cudaDeviceGetGraphMemAttribute(0, Attr, &V));
  return V;
}

// ---- 1. Allocation, use and free inside one graph -----------------------------------------------------------------
static void allocUseFree() {
  std::printf("allocation and free nodes in one graph\n");
  int *Out;
  E2E_CHECK(cudaMalloc(&Out, Bytes));
  E2E_CHECK(cudaMemset(Out, 0, Bytes));
  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaMemAllocNodeParams P = allocParams(Bytes);
  cudaGraphNode_t Alloc;
  E2E_CHECK(cudaGraphAddMemAllocNode(&Alloc, G, nullptr, 0, &P));
  int *Tmp = static_cast<int *>(P.dptr);
  expect(Tmp != nullptr, "the allocation node returned an address");
  int Count = N, Base = 7;
  void *FillArgs[] = {&Tmp, &Count, &Base};
  cudaGraphNode_t Fill = kernelNode(G, reinterpret_cast<void *>(fill), FillArgs, {Alloc});
  void *AddArgs[] = {&Tmp, &Out, &Count};
  cudaGraphNode_t Add = kernelNode(G, reinterpret_cast<void *>(addInto), AddArgs, {Fill});
  cudaGraphNode_t Free;
  E2E_CHECK(cudaGraphAddMemFreeNode(&Free, G, &Add, 1, Tmp));

  cudaMemAllocNodeParams Got{};
  E2E_CHECK(cudaGraphMemAllocNodeGetParams(Alloc, &Got));
  expect(Got.dptr == Tmp && Got.bytesize == Bytes && Got.poolProps.location.id == 0,
         "cudaGraphMemAllocNodeGetParams reports the address and size");
  void *Freed = nullptr;
  E2E_CHECK(cudaGraphMemFreeNodeGetParams(Free, &Freed));
  expect(Freed == Tmp, "cudaGraphMemFreeNodeGetParams reports the address");
  cudaGraphNodeType Type;
  E2E_CHECK(cudaGraphNodeGetType(Alloc, &Type));
  expect(Type == cudaGraphNodeTypeMemAlloc, "the allocation node's type is cudaGraphNodeTypeMemAlloc");
  E2E_CHECK(cudaGraphNodeGetType(Free, &Type));
  expect(Type == cudaGraphNodeTypeMemFree, "the free node's type is cudaGraphNodeTypeMemFree");

  // The documented refusals of free nodes and of graphs holding memory nodes.
  cudaGraphNode_t Bad;
  expectCode(cudaGraphAddMemFreeNode(&Bad, G, &Free, 1, Tmp), cudaErrorInvalidValue,
             "freeing an allocation twice in one graph");
  expectCode(cudaGraphAddMemFreeNode(&Bad, G, nullptr, 0, Out), cudaErrorInvalidValue,
             "freeing an address no allocation node returned");
  cudaGraph_t Clone = nullptr;
  cudaError_t E = cudaGraphClone(&Clone, G);
  std::printf("    cudaGraphClone: %s\n", cudaGetErrorName(E));
  expect(E != cudaSuccess, "a graph with memory nodes cannot be cloned");
  cudaGraph_t Parent;
  E2E_CHECK(cudaGraphCreate(&Parent, 0));
  E = cudaGraphAddChildGraphNode(&Bad, Parent, nullptr, 0, G);
  std::printf("    cudaGraphAddChildGraphNode: %s\n", cudaGetErrorName(E));
  expect(E != cudaSuccess, "a graph with memory nodes cannot be copied into a child graph node");
  E = cudaGraphDestroyNode(Add);
  std::printf("    cudaGraphDestroyNode: %s\n", cudaGetErrorName(E));
  expect(E != cudaSuccess, "nodes of a graph with memory nodes cannot be removed");
  E2E_CHECK(cudaGraphDestroy(Parent));

  cudaGraphExec_t Exec, Second;
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  E = cudaGraphInstantiate(&Second, G, 0);
  std::printf("    second cudaGraphInstantiate: %s\n", cudaGetErrorName(E));
  expect(E != cudaSuccess, "only one executable graph of a graph with memory nodes at a time");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  for (int I = 0; I < 4; ++I)
    E2E_CHECK(cudaGraphLaunch(Exec, S)); // freed in the graph: relaunching is fine
  std::vector<int> Host(N);
  E2E_CHECK(cudaMemcpyAsync(Host.data(), Out, Bytes, cudaMemcpyDeviceToHost, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  checkFilled(Host, 7, 4, "output after 4 launches");
  expect(graphMem(cudaGraphMemAttrUsedMemCurrent) == 0, "no graph memory in use after the free nodes ran");
  expect(graphMem(cudaGraphMemAttrReservedMemCurrent) >= Bytes, "the allocation node's memory stays reserved");

  // Destroying the executable graph allows another instantiation, whose allocation has the same address.
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  E2E_CHECK(cudaGraphMemAllocNodeGetParams(Alloc, &Got));
  expect(Got.dptr == Tmp, "the allocation's address is fixed across instantiations");
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaMemcpyAsync(Host.data(), Out, Bytes, cudaMemcpyDeviceToHost, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  checkFilled(Host, 7, 5, "output after a fifth launch from a new instantiation");
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaStreamDestroy(S));
  E2E_CHECK(cudaFree(Out));
}

// ---- 2. An allocation that outlives its graph -------------------------------------------------------------------
static void outlivesGraph() {
  std::printf("an allocation freed outside its graph\n");
  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaMemAllocNodeParams P = allocParams(Bytes);
  cudaGraphNode_t Alloc;
  E2E_CHECK(cudaGraphAddMemAllocNode(&Alloc, G, nullptr, 0, &P));
  int *Mem = static_cast<int *>(P.dptr);
  int Count = N, Base = 100;
  void *FillArgs[] = {&Mem, &Count, &Base};
  kernelNode(G, reinterpret_cast<void *>(fill), FillArgs, {Alloc});
  cudaGraphExec_t Exec;
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreate(&S));

  expectCode(cudaFreeAsync(Mem, S), cudaErrorInvalidValue, "freeing a graph allocation no launch made");
  cuuint64_t UsedBefore = graphMem(cudaGraphMemAttrUsedMemCurrent);
  E2E_CHECK(cudaGraphLaunch(Exec, S));
  expect(graphMem(cudaGraphMemAttrUsedMemCurrent) >= UsedBefore + Bytes, "the launch's allocation counts as used");
  expect(graphMem(cudaGraphMemAttrUsedMemHigh) >= Bytes, "and in the high watermark");
  std::vector<int> Host(N);
  E2E_CHECK(cudaMemcpyAsync(Host.data(), Mem, Bytes, cudaMemcpyDeviceToHost, S)); // stream work after the graph
  E2E_CHECK(cudaStreamSynchronize(S));
  checkFilled(Host, 100, 1, "the allocation read after the graph");
  cudaPointerAttributes A{};
  E2E_CHECK(cudaPointerGetAttributes(&A, Mem));
  expect(A.type == cudaMemoryTypeDevice && A.device == 0, "pointer attributes: device memory of device 0");

  expectCode(cudaGraphLaunch(Exec, S), cudaErrorInvalidValue, "relaunch while the last launch's allocation is live");
  E2E_CHECK(cudaFreeAsync(Mem, S));
  expectCode(cudaFreeAsync(Mem, S), cudaErrorInvalidValue, "freeing it twice");
  E2E_CHECK(cudaGraphLaunch(Exec, S)); // freed: the graph may allocate again
  E2E_CHECK(cudaStreamSynchronize(S));
  E2E_CHECK(cudaFree(Mem)); // the synchronous free of a graph allocation

  // With cudaGraphInstantiateFlagAutoFreeOnLaunch each launch frees the previous launch's allocation.
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, cudaGraphInstantiateFlagAutoFreeOnLaunch));
  for (int I = 0; I < 3; ++I)
    E2E_CHECK(cudaGraphLaunch(Exec, S));
  E2E_CHECK(cudaMemcpyAsync(Host.data(), Mem, Bytes, cudaMemcpyDeviceToHost, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  checkFilled(Host, 100, 1, "auto-free on launch: relaunches allowed, the memory filled");
  // The graph goes away first; its last allocation lives on until freed.
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaMemcpy(Host.data(), Mem, Bytes, cudaMemcpyDeviceToHost));
  checkFilled(Host, 100, 1, "the allocation outlives its destroyed graph");
  E2E_CHECK(cudaFreeAsync(Mem, S));
  E2E_CHECK(cudaStreamSynchronize(S));
  expect(graphMem(cudaGraphMemAttrUsedMemCurrent) == UsedBefore, "no graph memory in use after the frees");
  E2E_CHECK(cudaDeviceGraphMemTrim(0));
  cuuint64_t Zero = 0;
  E2E_CHECK(cudaDeviceSetGraphMemAttribute(0, cudaGraphMemAttrUsedMemHigh, &Zero));
  expect(graphMem(cudaGraphMemAttrUsedMemHigh) == UsedBefore, "the used high watermark resets");
  cuuint64_t One = 1;
  expectCode(cudaDeviceSetGraphMemAttribute(0, cudaGraphMemAttrUsedMemCurrent, &One), cudaErrorInvalidValue,
             "only high watermarks can be set");
  E2E_CHECK(cudaStreamDestroy(S));
}

// ---- 3. Stream-ordered allocation during capture ---------------------------------------------------------------
static void captured() {
  std::printf("cudaMallocAsync / cudaFreeAsync captured into memory nodes\n");
  cudaStream_t S;
  E2E_CHECK(cudaStreamCreateWithFlags(&S, cudaStreamNonBlocking));
  int *Host;
  E2E_CHECK(cudaMallocHost(&Host, Bytes));
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  int *Tmp = nullptr;
  E2E_CHECK(cudaMallocAsync(&Tmp, Bytes, S));
  fill<<<(N + 127) / 128, 128, 0, S>>>(Tmp, N, 5);
  E2E_CHECK(cudaMemcpyAsync(Host, Tmp, Bytes, cudaMemcpyDeviceToHost, S));
  E2E_CHECK(cudaFreeAsync(Tmp, S));
  cudaGraph_t G;
  E2E_CHECK(cudaStreamEndCapture(S, &G));
  size_t Count = 0;
  E2E_CHECK(cudaGraphGetNodes(G, nullptr, &Count));
  std::vector<cudaGraphNode_t> Nodes(Count);
  E2E_CHECK(cudaGraphGetNodes(G, Nodes.data(), &Count));
  int Allocs = 0, Frees = 0;
  for (cudaGraphNode_t Node : Nodes) {
    cudaGraphNodeType T;
    E2E_CHECK(cudaGraphNodeGetType(Node, &T));
    if (T == cudaGraphNodeTypeMemAlloc) {
      ++Allocs;
      cudaMemAllocNodeParams P{};
      E2E_CHECK(cudaGraphMemAllocNodeGetParams(Node, &P));
      expect(P.dptr == Tmp && P.bytesize == Bytes, "the captured allocation node holds cudaMallocAsync's address");
    }
    Frees += T == cudaGraphNodeTypeMemFree;
  }
  expect(Count == 4 && Allocs == 1 && Frees == 1, "the capture made 4 nodes: allocation, kernel, copy, free");
  cudaGraphExec_t Exec;
  E2E_CHECK(cudaGraphInstantiate(&Exec, G, 0));
  for (int I = 0; I < 3; ++I) {
    std::fill(Host, Host + N, -1);
    E2E_CHECK(cudaGraphLaunch(Exec, S));
    E2E_CHECK(cudaStreamSynchronize(S));
  }
  checkFilled(std::vector<int>(Host, Host + N), 5, 1, "captured graph output (third launch)");
  E2E_CHECK(cudaGraphExecDestroy(Exec));
  E2E_CHECK(cudaGraphDestroy(G));

  // A free during capture of memory no allocation node returned is refused.
  int *Plain;
  E2E_CHECK(cudaMalloc(&Plain, Bytes));
  E2E_CHECK(cudaStreamBeginCapture(S, cudaStreamCaptureModeGlobal));
  expectCode(cudaFreeAsync(Plain, S), cudaErrorInvalidValue, "capturing a free of memory from cudaMalloc");
  cudaGraph_t Dropped = nullptr;
  (void)cudaStreamEndCapture(S, &Dropped);
  if (Dropped)
    E2E_CHECK(cudaGraphDestroy(Dropped));
  (void)cudaGetLastError();
  E2E_CHECK(cudaFree(Plain));
  E2E_CHECK(cudaFreeHost(Host));
  E2E_CHECK(cudaStreamDestroy(S));
}

// ---- 4. The driver API on the same objects ---------------------------------------------------------------------
static void driverApi() {
  std::printf("driver API: cuGraphAddMemAllocNode / cuGraphAddMemFreeNode\n");
  CUgraph G;
  expect(cuGraphCreate(&G, 0) == CUDA_SUCCESS, "cuGraphCreate");
  CUDA_MEM_ALLOC_NODE_PARAMS P{};
  P.poolProps.allocType = CU_MEM_ALLOCATION_TYPE_PINNED;
  P.poolProps.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  P.poolProps.location.id = 0;
  P.bytesize = 0;
  CUgraphNode Alloc, Free;
  expect(cuGraphAddMemAllocNode(&Alloc, G, nullptr, 0, &P) == CUDA_ERROR_INVALID_VALUE, "0 bytes: invalid value");
  P.bytesize = Bytes;
  expect(cuGraphAddMemAllocNode(&Alloc, G, nullptr, 0, &P) == CUDA_SUCCESS && P.dptr != 0, "cuGraphAddMemAllocNode");
  expect(cuGraphAddMemFreeNode(&Free, G, &Alloc, 1, P.dptr) == CUDA_SUCCESS, "cuGraphAddMemFreeNode");
  CUdeviceptr Ptr = 0;
  expect(cuGraphMemFreeNodeGetParams(Free, &Ptr) == CUDA_SUCCESS && Ptr == P.dptr, "cuGraphMemFreeNodeGetParams");
  CUgraphExec Exec;
  expect(cuGraphInstantiate(&Exec, G, 0) == CUDA_SUCCESS, "cuGraphInstantiate");
  expect(cuGraphLaunch(Exec, nullptr) == CUDA_SUCCESS && cuGraphLaunch(Exec, nullptr) == CUDA_SUCCESS,
         "cuGraphLaunch twice (allocation freed in the graph)");
  expect(cuCtxSynchronize() == CUDA_SUCCESS, "cuCtxSynchronize");
  cuuint64_t Reserved = 0;
  expect(cuDeviceGetGraphMemAttribute(0, CU_GRAPH_MEM_ATTR_RESERVED_MEM_HIGH, &Reserved) == CUDA_SUCCESS &&
             Reserved >= Bytes,
         "cuDeviceGetGraphMemAttribute: reserved high watermark");
  expect(cuGraphExecDestroy(Exec) == CUDA_SUCCESS && cuGraphDestroy(G) == CUDA_SUCCESS, "destroyed");
  expect(cuDeviceGraphMemTrim(0) == CUDA_SUCCESS, "cuDeviceGraphMemTrim");
}

int main() {
  E2E_CHECK(cudaFree(nullptr)); // the primary context, current for the driver API part too
  allocUseFree();
  outlivesGraph();
  captured();
  driverApi();
  E2E_CHECK(cudaDeviceSynchronize());
  return e2e::finish("graph_memory", e2e::Failures);
}
