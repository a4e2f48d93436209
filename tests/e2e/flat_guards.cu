// End-to-end: barrier-free kernels whose threads are guarded by their index (`if (i < n)`, early returns, boundary
// tests, `!=`), run on tier T0. The host JIT versions such thread loops (a copy without the guards runs when every
// thread of the block takes the same direction), so each kernel is launched on shapes where blocks are full, partial,
// entirely outside the range, and where the 32-bit index wraps inside a block; results are checked against CPU code.
#include "simt_common.h"

#include <climits>
#include <vector>

namespace {

using simt::toDevice;
using simt::toHost;

__global__ void guardedAxpy(int N, float A, const float *X, float *Y) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Y[I] = A * X[I] + Y[I];
}

__global__ void guardedUnsigned(unsigned N, unsigned *Out) {
  unsigned I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I >= N)
    return;
  Out[I] = I * 3u + 1u;
}

// Index counting down: the guard's value decreases along the thread loop.
__global__ void reversedIndex(int N, int *Out) {
  int J = N - 1 - static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (J >= 0)
    Out[J] = J * 2 + 1;
}

// A signed guard on an index that wraps past INT_MAX inside a block (unsigned arithmetic, then converted).
__global__ void wrappingIndex(unsigned Base, int *Out) {
  unsigned Global = blockIdx.x * blockDim.x + threadIdx.x;
  int I = static_cast<int>(Base + Global);
  if (I > 0) // a branch (only one side stores), not a select
    Out[Global] = 1;
}

// An unsigned guard on an index that wraps past UINT_MAX inside a block.
__global__ void wrappingUnsigned(unsigned Base, unsigned Limit, int *Out) {
  unsigned Global = blockIdx.x * blockDim.x + threadIdx.x;
  if (Base + Global < Limit)
    Out[Global] = 1;
}
__global__ void wrappingUnsignedAbove(unsigned Base, unsigned Limit, int *Out) {
  unsigned Global = blockIdx.x * blockDim.x + threadIdx.x;
  if (Base + Global > Limit) // both ends of block 0 pass in 64-bit arithmetic; the wrapped threads do not
    Out[Global] = 1;
}

// 2D five-point stencil with an early return outside the grid and a boundary branch (equalities).
__global__ void stencil(int N, const float *In, float *Out) {
  int X = blockIdx.x * blockDim.x + threadIdx.x, Y = blockIdx.y * blockDim.y + threadIdx.y;
  if (X >= N || Y >= N)
    return;
  int I = Y * N + X;
  if (X == 0 || Y == 0 || X == N - 1 || Y == N - 1) {
    Out[I] = In[I];
    return;
  }
  Out[I] = 0.5f * In[I] + 0.125f * (In[I - 1] + In[I + 1] + In[I - N] + In[I + N]);
}

// `!=` against a value that may or may not fall inside a block's range.
__global__ void notEqual(int Skip, int *Out) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I != Skip)
    Out[I] = I;
}

void checkAxpy(int N, int Block, int Grid) {
  e2e::Rng R(7 + N);
  std::vector<float> X(N + 64), Y(N + 64);
  for (size_t I = 0; I < X.size(); ++I) {
    X[I] = R.unit();
    Y[I] = R.unit();
  }
  float *DX = toDevice(X), *DY = toDevice(Y);
  guardedAxpy<<<Grid, Block>>>(N, 2.5f, DX, DY);
  E2E_CHECK_LAUNCH();
  std::vector<float> Got = toHost(DY, Y.size());
  char Name[96];
  std::snprintf(Name, sizeof(Name), "axpy n=%d <<<%d, %d>>> (untouched past n)", N, Grid, Block);
  e2e::Mismatches M(Name);
  for (size_t I = 0; I < Y.size(); ++I)
    M.realAt(static_cast<long>(I), Got[I], static_cast<int>(I) < N ? std::fma(2.5f, X[I], Y[I]) : Y[I], 1e-6, 1e-6);
  if (!M.report())
    ++e2e::Failures;
  E2E_CHECK(cudaFree(DX));
  E2E_CHECK(cudaFree(DY));
}

template <typename Launch, typename Want>
void checkInts(const char *What, size_t Size, int Fill, Launch L, Want W) {
  std::vector<int> Init(Size, Fill);
  int *D = toDevice(Init);
  L(D);
  E2E_CHECK_LAUNCH();
  std::vector<int> Got = toHost(D, Size);
  e2e::Mismatches M(What);
  for (size_t I = 0; I < Size; ++I)
    M.intAt(static_cast<long>(I), Got[I], W(static_cast<long>(I)));
  if (!M.report())
    ++e2e::Failures;
  E2E_CHECK(cudaFree(D));
}

void checkStencil(int N, dim3 Block) {
  e2e::Rng R(11 + N);
  std::vector<float> In(static_cast<size_t>(N) * N), Out(In.size(), -7.0f);
  for (float &V : In)
    V = R.unit();
  float *DIn = toDevice(In), *DOut = toDevice(Out);
  dim3 Grid((N + Block.x - 1) / Block.x, (N + Block.y - 1) / Block.y);
  stencil<<<Grid, Block>>>(N, DIn, DOut);
  E2E_CHECK_LAUNCH();
  std::vector<float> Got = toHost(DOut, Out.size());
  char Name[96];
  std::snprintf(Name, sizeof(Name), "stencil %dx%d, blocks %ux%u", N, N, Block.x, Block.y);
  e2e::Mismatches M(Name);
  for (int Y = 0; Y < N; ++Y)
    for (int X = 0; X < N; ++X) {
      int I = Y * N + X;
      float Want = X == 0 || Y == 0 || X == N - 1 || Y == N - 1
                       ? In[I]
                       : 0.5f * In[I] + 0.125f * (In[I - 1] + In[I + 1] + In[I - N] + In[I + N]);
      M.realAt(I, Got[I], Want, 1e-6, 1e-6);
    }
  if (!M.report())
    ++e2e::Failures;
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DOut));
}

} // namespace

int main() {
  // Full blocks only, a partial last block, blocks entirely past n, a block size that is not a multiple of 8.
  checkAxpy(4096, 256, 16);
  checkAxpy(1000, 256, 4);
  checkAxpy(1000, 256, 9);
  checkAxpy(777, 100, 8);
  checkAxpy(5, 1024, 1);

  const unsigned UN = 3000;
  checkInts("unsigned early return", 4096, -5,
            [&](int *D) { guardedUnsigned<<<16, 256>>>(UN, reinterpret_cast<unsigned *>(D)); },
            [&](long I) { return I < static_cast<long>(UN) ? static_cast<int>(I * 3 + 1) : -5; });
  checkInts("reversed index", 2048, -3, [](int *D) { reversedIndex<<<9, 224>>>(1500, D); },
            [](long I) { return I < 1500 ? static_cast<int>(I * 2 + 1) : -3; });
  // Base + Global passes INT_MAX at thread 100 of block 0 and again nowhere else; then a block that wraps at its end.
  const unsigned Base = static_cast<unsigned>(INT_MAX) - 100u;
  checkInts("index wrapping past INT_MAX", 512, 2, [&](int *D) { wrappingIndex<<<2, 256>>>(Base, D); },
            [&](long I) { return static_cast<int>(Base + static_cast<unsigned>(I)) > 0 ? 1 : 2; });
  const unsigned Base2 = 0u - 300u; // negative until thread 300, then positive
  checkInts("index crossing zero", 512, 2, [&](int *D) { wrappingIndex<<<2, 256>>>(Base2, D); },
            [&](long I) { return static_cast<int>(Base2 + static_cast<unsigned>(I)) > 0 ? 1 : 2; });
  const unsigned Base3 = 0u - 200u; // wraps to 0 at thread 200 of block 0
  for (unsigned Limit : {100u, 0u - 100u})
    checkInts("unsigned index wrapping past UINT_MAX", 512, 2,
              [&](int *D) { wrappingUnsigned<<<2, 256>>>(Base3, Limit, D); },
              [&](long I) { return Base3 + static_cast<unsigned>(I) < Limit ? 1 : 2; });
  checkInts("unsigned index wrapping past UINT_MAX, >", 512, 2,
            [&](int *D) { wrappingUnsignedAbove<<<2, 256>>>(Base3, 1000u, D); },
            [&](long I) { return Base3 + static_cast<unsigned>(I) > 1000u ? 1 : 2; });
  for (int Skip : {-1, 0, 37, 255, 256, 700, 100000})
    checkInts("not equal", 768, -1, [&](int *D) { notEqual<<<3, 256>>>(Skip, D); },
              [&](long I) { return I != Skip ? static_cast<int>(I) : -1; });

  checkStencil(64, dim3(32, 8));
  checkStencil(100, dim3(32, 8));
  checkStencil(37, dim3(16, 16));
  checkStencil(3, dim3(8, 8));
  return e2e::finish("flat_guards", e2e::Failures);
}
