// Graph memcpy nodes with CUDA arrays (cudaMemcpy3DParms with srcArray/dstArray, CUDA_MEMCPY3D with
// CU_MEMORYTYPE_ARRAY), symbol and 1D copy nodes, checked against host copies of the same regions (docs/GRAPHS.md).
#include "e2e_common.h"

#include <cuda.h>

#include <vector>

using e2e::expect;

constexpr int W = 40, H = 24, D = 3; // the 3D array: W x H x D floats

__device__ int Table[64];

static float valueAt(int X, int Y, int Z) { return static_cast<float>(Z * 10000 + Y * 100 + X); }

static cudaGraphNode_t copyNode(cudaGraph_t G, const cudaMemcpy3DParms &P, std::vector<cudaGraphNode_t> Deps) {
  cudaGraphNode_t N;
  E2E_CHECK(cudaGraphAddMemcpyNode(&N, G, Deps.data(), Deps.size(), &P));
  return N;
}

static void runtimeArrays() {
  std::printf("memcpy nodes to, between and from CUDA arrays\n");
  std::vector<float> Host(W * H * D), Out(W * H * D, -1.0f);
  for (int Z = 0; Z < D; ++Z)
    for (int Y = 0; Y < H; ++Y)
      for (int X = 0; X < W; ++X)
        Host[(Z * H + Y) * W + X] = valueAt(X, Y, Z);
  cudaChannelFormatDesc Desc = cudaCreateChannelDesc<float>();
  cudaArray_t A, B;
  E2E_CHECK(cudaMalloc3DArray(&A, &Desc, make_cudaExtent(W, H, D)));
  E2E_CHECK(cudaMalloc3DArray(&B, &Desc, make_cudaExtent(W, H, D)));
  float *Linear;
  size_t Pitch = 64 * sizeof(float); // a pitched destination wider than the rows
  E2E_CHECK(cudaMalloc(&Linear, Pitch * H * D));
  E2E_CHECK(cudaMemset(Linear, 0, Pitch * H * D));

  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  // Host -> A, the whole array.
  cudaMemcpy3DParms P{};
  P.srcPtr = make_cudaPitchedPtr(Host.data(), W * sizeof(float), W, H);
  P.dstArray = A;
  P.extent = make_cudaExtent(W, H, D);
  P.kind = cudaMemcpyHostToDevice;
  cudaGraphNode_t ToA = copyNode(G, P, {});
  // A -> B: a sub-box of 10 x 5 x 2 elements from (3, 4, 1) to (20, 10, 0).
  cudaMemcpy3DParms Q{};
  Q.srcArray = A;
  Q.srcPos = make_cudaPos(3, 4, 1);
  Q.dstArray = B;
  Q.dstPos = make_cudaPos(20, 10, 0);
  Q.extent = make_cudaExtent(10, 5, 2);
  Q.kind = cudaMemcpyDeviceToDevice;
  cudaGraphNode_t AToB = copyNode(G, Q, {ToA});
  // B -> pitched linear memory, whole array.
  cudaMemcpy3DParms R{};
  R.srcArray = B;
  R.dstPtr = make_cudaPitchedPtr(Linear, Pitch, W, H);
  R.extent = make_cudaExtent(W, H, D);
  R.kind = cudaMemcpyDeviceToDevice;
  cudaGraphNode_t BToLinear = copyNode(G, R, {AToB});
  // Linear -> host, as a 1D node of the whole pitched block.
  std::vector<float> Pitched(Pitch / sizeof(float) * H * D);
  cudaGraphNode_t Back;
  E2E_CHECK(cudaGraphAddMemcpyNode1D(&Back, G, &BToLinear, 1, Pitched.data(), Linear, Pitch * H * D,
                                     cudaMemcpyDeviceToHost));

  cudaMemcpy3DParms Got{};
  E2E_CHECK(cudaGraphMemcpyNodeGetParams(AToB, &Got));
  expect(Got.srcArray == A && Got.dstArray == B && Got.srcPos.x == 3 && Got.srcPos.y == 4 && Got.srcPos.z == 1 &&
             Got.dstPos.x == 20 && Got.extent.width == 10 && Got.extent.height == 5 && Got.extent.depth == 2,
         "cudaGraphMemcpyNodeGetParams reports the arrays, positions and extent in elements");
  cudaMemcpy3DParms TooBig = Q;
  TooBig.dstPos = make_cudaPos(35, 10, 0); // 35 + 10 > W
  cudaGraphNode_t Bad;
  expect(cudaGraphAddMemcpyNode(&Bad, G, nullptr, 0, &TooBig) == cudaErrorInvalidValue,
         "a region beyond the array is refused (cudaErrorInvalidValue)");

  // B starts zeroed, so everything outside the box copies zeros.
  std::vector<float> Zeros(W * H * D, 0.0f);
  cudaMemcpy3DParms Clear{};
  Clear.srcPtr = make_cudaPitchedPtr(Zeros.data(), W * sizeof(float), W, H);
  Clear.dstArray = B;
  Clear.extent = make_cudaExtent(W, H, D);
  Clear.kind = cudaMemcpyHostToDevice;
  E2E_CHECK(cudaMemcpy3D(&Clear));

  cudaGraphExec_t E;
  E2E_CHECK(cudaGraphInstantiate(&E, G, 0));
  E2E_CHECK(cudaGraphLaunch(E, 0));
  E2E_CHECK(cudaStreamSynchronize(0));
  e2e::Mismatches M("array -> array box -> pitched -> host");
  for (int Z = 0; Z < D; ++Z)
    for (int Y = 0; Y < H; ++Y)
      for (int X = 0; X < W; ++X) {
        bool InBox = X >= 20 && X < 30 && Y >= 10 && Y < 15 && Z < 2;
        float Want = InBox ? valueAt(X - 20 + 3, Y - 10 + 4, Z + 1) : 0.0f;
        M.intAt((Z * H + Y) * W + X, static_cast<long long>(Pitched[(Z * H + Y) * (Pitch / sizeof(float)) + X]),
                static_cast<long long>(Want));
      }
  expect(M.report(), "the copies between arrays, pitched memory and the host match the host model");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(G));
  E2E_CHECK(cudaFreeArray(A));
  E2E_CHECK(cudaFreeArray(B));
  E2E_CHECK(cudaFree(Linear));
}

static void symbols() {
  std::printf("memcpy nodes to and from a __device__ symbol\n");
  int In[64], Out[64] = {};
  for (int I = 0; I < 64; ++I)
    In[I] = I * I - 7;
  cudaGraph_t G;
  E2E_CHECK(cudaGraphCreate(&G, 0));
  cudaGraphNode_t To, From;
  // Elements 8..39 of the symbol written, then elements 8..39 read back.
  E2E_CHECK(cudaGraphAddMemcpyNodeToSymbol(&To, G, nullptr, 0, Table, In + 8, 32 * sizeof(int), 8 * sizeof(int),
                                           cudaMemcpyHostToDevice));
  E2E_CHECK(cudaGraphAddMemcpyNodeFromSymbol(&From, G, &To, 1, Out + 8, Table, 32 * sizeof(int), 8 * sizeof(int),
                                             cudaMemcpyDeviceToHost));
  cudaGraphExec_t E;
  E2E_CHECK(cudaGraphInstantiate(&E, G, 0));
  E2E_CHECK(cudaGraphLaunch(E, 0));
  E2E_CHECK(cudaStreamSynchronize(0));
  e2e::Mismatches M("symbol round trip");
  for (int I = 0; I < 64; ++I)
    M.intAt(I, Out[I], I >= 8 && I < 40 ? In[I] : 0);
  expect(M.report(), "symbol copy nodes wrote and read the variable at the offset");
  E2E_CHECK(cudaGraphExecDestroy(E));
  E2E_CHECK(cudaGraphDestroy(G));
}

static void driverArrays() {
  std::printf("driver API: CUDA_MEMCPY3D memcpy nodes with CU_MEMORYTYPE_ARRAY\n");
  CUDA_ARRAY3D_DESCRIPTOR Desc{};
  Desc.Width = W, Desc.Height = H, Desc.Depth = 0, Desc.Format = CU_AD_FORMAT_UNSIGNED_INT32, Desc.NumChannels = 1;
  CUarray Arr;
  expect(cuArray3DCreate(&Arr, &Desc) == CUDA_SUCCESS, "cuArray3DCreate (2D)");
  std::vector<unsigned> In(W * H), Out(W * H, 0);
  for (int I = 0; I < W * H; ++I)
    In[I] = 3u * I + 1;
  CUgraph G;
  expect(cuGraphCreate(&G, 0) == CUDA_SUCCESS, "cuGraphCreate");
  CUcontext Ctx;
  expect(cuCtxGetCurrent(&Ctx) == CUDA_SUCCESS, "cuCtxGetCurrent");
  CUDA_MEMCPY3D Up{};
  Up.srcMemoryType = CU_MEMORYTYPE_HOST, Up.srcHost = In.data(), Up.srcPitch = W * 4;
  Up.dstMemoryType = CU_MEMORYTYPE_ARRAY, Up.dstArray = Arr;
  Up.WidthInBytes = W * 4, Up.Height = H, Up.Depth = 1;
  CUDA_MEMCPY3D Down{};
  Down.srcMemoryType = CU_MEMORYTYPE_ARRAY, Down.srcArray = Arr;
  Down.dstMemoryType = CU_MEMORYTYPE_HOST, Down.dstHost = Out.data(), Down.dstPitch = W * 4;
  Down.WidthInBytes = W * 4, Down.Height = H, Down.Depth = 1;
  CUgraphNode NUp, NDown;
  expect(cuGraphAddMemcpyNode(&NUp, G, nullptr, 0, &Up, Ctx) == CUDA_SUCCESS, "cuGraphAddMemcpyNode host -> array");
  expect(cuGraphAddMemcpyNode(&NDown, G, &NUp, 1, &Down, Ctx) == CUDA_SUCCESS, "cuGraphAddMemcpyNode array -> host");
  CUDA_MEMCPY3D Got{};
  expect(cuGraphMemcpyNodeGetParams(NDown, &Got) == CUDA_SUCCESS && Got.srcMemoryType == CU_MEMORYTYPE_ARRAY &&
             Got.srcArray == Arr,
         "cuGraphMemcpyNodeGetParams reports the array");
  CUgraphExec E;
  expect(cuGraphInstantiate(&E, G, 0) == CUDA_SUCCESS, "cuGraphInstantiate");
  expect(cuGraphLaunch(E, nullptr) == CUDA_SUCCESS && cuCtxSynchronize() == CUDA_SUCCESS, "cuGraphLaunch");
  e2e::Mismatches M("driver array round trip");
  for (int I = 0; I < W * H; ++I)
    M.intAt(I, Out[I], In[I]);
  expect(M.report(), "the array round trip through the graph is exact");
  expect(cuGraphExecDestroy(E) == CUDA_SUCCESS && cuGraphDestroy(G) == CUDA_SUCCESS && cuArrayDestroy(Arr) ==
                                                                                          CUDA_SUCCESS,
         "destroyed");
}

int main() {
  E2E_CHECK(cudaFree(nullptr));
  runtimeArrays();
  symbols();
  driverArrays();
  E2E_CHECK(cudaDeviceSynchronize());
  return e2e::finish("graph_arrays", e2e::Failures);
}
