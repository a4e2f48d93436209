// End-to-end: block scans on tier T1 region entries, whose thread loops the JIT vectorises (docs/HOST_BACKEND.md).
// Each kernel keeps several values per thread across barriers (each in its own array of the region's arena, told
// apart by alias scopes), runs a barrier loop whose exit test every thread repeats (unswitched thread loops), and
// reads shared memory at `Tmp[In * n + tid - s]` under `tid >= s`, where the 32-bit offset is negative for the
// threads that skip the read (sign-extended shared addresses). Shapes: power-of-two and other block sizes, 2D
// blocks, one thread; results are checked against CPU code, and the same runs repeat on the oracle tier.
#include "simt_common.h"

#include <cstdint>
#include <vector>

namespace {

using simt::toDevice;
using simt::checkInts;
using simt::toHost;

constexpr int PerThread = 4;

// Exclusive scan of one value per thread (Hillis-Steele, double-buffered in Tmp[2 * threads]); Total receives the
// block's sum.
__device__ int blockExclusiveScan(int V, int *Tmp, int &Total) {
  int Tid = threadIdx.y * blockDim.x + threadIdx.x, B = blockDim.x * blockDim.y, Out = 0;
  Tmp[Tid] = V;
  __syncthreads();
  for (int Offset = 1; Offset < B; Offset <<= 1) {
    int In = Out;
    Out = 1 - Out;
    int X = Tmp[In * B + Tid];
    if (Tid >= Offset)
      X += Tmp[In * B + Tid - Offset];
    Tmp[Out * B + Tid] = X;
    __syncthreads();
  }
  Total = Tmp[Out * B + B - 1];
  int Result = Tmp[Out * B + Tid] - V;
  __syncthreads();
  return Result;
}

// Each thread scans PerThread consecutive elements; the four partial sums live across every barrier.
__global__ void scanTiles(const int *In, int *Out, int *Sums) {
  extern __shared__ int Tmp[];
  int Threads = blockDim.x * blockDim.y, Tid = threadIdx.y * blockDim.x + threadIdx.x;
  int Base = (blockIdx.x * Threads + Tid) * PerThread;
  int V[PerThread], Sum = 0;
  for (int K = 0; K < PerThread; ++K) {
    V[K] = Sum;
    Sum += In[Base + K];
  }
  int Total;
  int Offset = blockExclusiveScan(Sum, Tmp, Total);
  for (int K = 0; K < PerThread; ++K)
    Out[Base + K] = V[K] + Offset;
  if (Tid == 0)
    Sums[blockIdx.x] = Total;
}

// Three values rotate through each other at every step of a barrier loop, so a value read from the wrong array (or
// a store forwarded past a store to the same array) changes the result.
__global__ void rotateAcrossBarriers(const int *In, int *Out, int Steps) {
  extern __shared__ int Tmp[];
  int Threads = blockDim.x * blockDim.y, Tid = threadIdx.y * blockDim.x + threadIdx.x;
  int G = blockIdx.x * Threads + Tid;
  int A = In[G], B = A * 3 + 1, C = A ^ 0x55;
  for (int S = 0; S < Steps; ++S) {
    Tmp[Tid] = A + B;
    __syncthreads();
    int Left = Tmp[(Tid + Threads - 1) % Threads];
    __syncthreads();
    int NewA = B + Left, NewB = C - S, NewC = A * 5;
    A = NewA;
    B = NewB;
    C = NewC;
  }
  Out[3 * G] = A;
  Out[3 * G + 1] = B;
  Out[3 * G + 2] = C;
}

// A shared address whose 32-bit register wraps and comes back into the window through the immediate offset:
// [reg + 8] with reg = &Tmp[1] - 8 (below zero when Tmp starts at offset 0).
__global__ void wrappedSharedAddress(int *Out) {
  __shared__ int Tmp[4];
  Tmp[threadIdx.x] = 100 + threadIdx.x;
  __syncthreads();
  unsigned Reg = static_cast<unsigned>(__cvta_generic_to_shared(&Tmp[1])) - 8u;
  int V;
  asm volatile("ld.shared.u32 %0, [%1+8];" : "=r"(V) : "r"(Reg));
  Out[threadIdx.x] = V;
}

void checkScan(int Blocks, dim3 Block) {
  int Threads = static_cast<int>(Block.x * Block.y), N = Blocks * Threads * PerThread;
  e2e::Rng R(static_cast<uint32_t>(N + Threads));
  std::vector<int> In(N);
  for (int &V : In)
    V = static_cast<int>(R.next() % 1000) - 300;
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(N, -1)), *DSums = toDevice(std::vector<int>(Blocks, -1));
  scanTiles<<<Blocks, Block, 2 * Threads * sizeof(int)>>>(DIn, DOut, DSums);
  E2E_CHECK_LAUNCH();
  std::vector<int> WantOut(N), WantSums(Blocks);
  for (int B = 0; B < Blocks; ++B) {
    int Acc = 0;
    for (int I = 0; I < Threads * PerThread; ++I) {
      WantOut[B * Threads * PerThread + I] = Acc;
      Acc += In[B * Threads * PerThread + I];
    }
    WantSums[B] = Acc;
  }
  char Name[96];
  std::snprintf(Name, sizeof(Name), "scan tiles <<<%d, %ux%u>>>", Blocks, Block.x, Block.y);
  checkInts(Name, toHost(DOut, N), WantOut);
  std::snprintf(Name, sizeof(Name), "scan tile sums <<<%d, %ux%u>>>", Blocks, Block.x, Block.y);
  checkInts(Name, toHost(DSums, Blocks), WantSums);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
  E2E_CHECK(cudaFree(DSums));
}

void checkRotate(int Blocks, dim3 Block, int Steps) {
  int Threads = static_cast<int>(Block.x * Block.y), N = Blocks * Threads;
  e2e::Rng R(static_cast<uint32_t>(N * 7 + Steps));
  std::vector<int> In(N);
  for (int &V : In)
    V = static_cast<int>(R.next() % 2000) - 1000;
  int *DIn = toDevice(In), *DOut = toDevice(std::vector<int>(3 * N, 0));
  rotateAcrossBarriers<<<Blocks, Block, Threads * sizeof(int)>>>(DIn, DOut, Steps);
  E2E_CHECK_LAUNCH();
  std::vector<int> Want(3 * N);
  for (int Blk = 0; Blk < Blocks; ++Blk) {
    std::vector<unsigned> A(Threads), B(Threads), C(Threads); // unsigned: wrapping as on the device
    for (int T = 0; T < Threads; ++T) {
      A[T] = static_cast<unsigned>(In[Blk * Threads + T]);
      B[T] = A[T] * 3u + 1u;
      C[T] = A[T] ^ 0x55u;
    }
    for (int S = 0; S < Steps; ++S) {
      std::vector<unsigned> Sum(Threads);
      for (int T = 0; T < Threads; ++T)
        Sum[T] = A[T] + B[T];
      for (int T = 0; T < Threads; ++T) {
        unsigned Left = Sum[(T + Threads - 1) % Threads];
        unsigned NewA = B[T] + Left, NewB = C[T] - static_cast<unsigned>(S), NewC = A[T] * 5u;
        A[T] = NewA;
        B[T] = NewB;
        C[T] = NewC;
      }
    }
    for (int T = 0; T < Threads; ++T) {
      int G = Blk * Threads + T;
      Want[3 * G] = static_cast<int>(A[T]);
      Want[3 * G + 1] = static_cast<int>(B[T]);
      Want[3 * G + 2] = static_cast<int>(C[T]);
    }
  }
  char Name[96];
  std::snprintf(Name, sizeof(Name), "values rotating across barriers <<<%d, %ux%u>>>, %d steps", Blocks, Block.x,
                Block.y, Steps);
  checkInts(Name, toHost(DOut, 3 * N), Want);
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

void checkWrappedSharedAddress() {
  int *DOut = toDevice(std::vector<int>(4, -1));
  wrappedSharedAddress<<<1, 4>>>(DOut);
  E2E_CHECK_LAUNCH();
  checkInts("shared address wrapping in its 32-bit register", toHost(DOut, 4), {101, 101, 101, 101});
  E2E_CHECK(cudaFree(DOut));
}

} // namespace

int main() {
  checkScan(64, dim3(256));
  checkScan(7, dim3(96));  // the barrier loop runs 7 steps; not a multiple of the vector width
  checkScan(5, dim3(1000)); // not a power of two, above 512
  checkScan(9, dim3(16, 8));
  checkScan(3, dim3(5, 3));
  checkScan(4, dim3(1));
  checkRotate(8, dim3(256), 5);
  checkRotate(3, dim3(77), 9);
  checkRotate(4, dim3(8, 12), 2);
  checkRotate(2, dim3(1), 3);
  checkWrappedSharedAddress();
  return e2e::finish("region_scan", e2e::Failures);
}
