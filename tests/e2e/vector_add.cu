// End-to-end: grid-stride vector add and saxpy, with sizes that are not multiples of the block size and more
// elements than launched threads, checked against a CPU reference.
#include "e2e_common.h"

#include <vector>

__global__ void vectorAdd(const float *A, const float *B, float *C, int N) {
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += blockDim.x * gridDim.x)
    C[I] = A[I] + B[I];
}

__global__ void saxpy(int N, float Alpha, const float *X, float *Y) {
  for (int I = blockIdx.x * blockDim.x + threadIdx.x; I < N; I += blockDim.x * gridDim.x)
    Y[I] = Alpha * X[I] + Y[I];
}

// One thread per element with a bounds check (the most common CUDA idiom), integer data so the check is exact.
__global__ void addInts(const int *A, const int *B, int *C, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    C[I] = A[I] + B[I] * 3 - (I & 7);
}

static int testVectorAdd(int N, int Grid, int Block) {
  e2e::Rng R(1234 + N);
  std::vector<float> A(N), B(N), C(N, -1.0f);
  for (int I = 0; I < N; ++I) {
    A[I] = R.unit() * 100.0f;
    B[I] = R.unit();
  }
  float *DA, *DB, *DC;
  size_t Bytes = N * sizeof(float);
  E2E_CHECK(cudaMalloc(&DA, Bytes));
  E2E_CHECK(cudaMalloc(&DB, Bytes));
  E2E_CHECK(cudaMalloc(&DC, Bytes));
  E2E_CHECK(cudaMemcpy(DA, A.data(), Bytes, cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemcpy(DB, B.data(), Bytes, cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemset(DC, 0xFF, Bytes));
  vectorAdd<<<Grid, Block>>>(DA, DB, DC, N);
  E2E_CHECK_LAUNCH();
  E2E_CHECK(cudaMemcpy(C.data(), DC, Bytes, cudaMemcpyDeviceToHost));
  char Name[96];
  std::snprintf(Name, sizeof(Name), "vectorAdd n=%d grid=%d block=%d", N, Grid, Block);
  e2e::Mismatches M(Name);
  for (int I = 0; I < N; ++I)
    M.realAt(I, C[I], A[I] + B[I], 0.0, 0.0); // one IEEE add: must be bit-exact
  E2E_CHECK(cudaFree(DA));
  E2E_CHECK(cudaFree(DB));
  E2E_CHECK(cudaFree(DC));
  return M.report() ? 0 : 1;
}

static int testSaxpy(int N, float Alpha, int Grid, int Block) {
  e2e::Rng R(99 + N);
  std::vector<float> X(N), Y(N), Out(N);
  for (int I = 0; I < N; ++I) {
    X[I] = R.unit() * 10.0f;
    Y[I] = R.unit() * 10.0f;
  }
  float *DX, *DY;
  E2E_CHECK(cudaMalloc(&DX, N * sizeof(float)));
  E2E_CHECK(cudaMalloc(&DY, N * sizeof(float)));
  E2E_CHECK(cudaMemcpy(DX, X.data(), N * sizeof(float), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemcpy(DY, Y.data(), N * sizeof(float), cudaMemcpyHostToDevice));
  saxpy<<<Grid, Block>>>(N, Alpha, DX, DY);
  E2E_CHECK_LAUNCH();
  E2E_CHECK(cudaMemcpy(Out.data(), DY, N * sizeof(float), cudaMemcpyDeviceToHost));
  char Name[96];
  std::snprintf(Name, sizeof(Name), "saxpy n=%d alpha=%g grid=%d block=%d", N, Alpha, Grid, Block);
  e2e::Mismatches M(Name);
  // nvcc contracts a*x+y into fma.rn.f32; fmaf gives the same bits, the tolerance covers an unfused evaluation.
  for (int I = 0; I < N; ++I)
    M.realAt(I, Out[I], std::fmaf(Alpha, X[I], Y[I]), 1e-6, 1e-6);
  E2E_CHECK(cudaFree(DX));
  E2E_CHECK(cudaFree(DY));
  return M.report() ? 0 : 1;
}

static int testAddInts(int N, int Block) {
  std::vector<int> A(N), B(N), C(N);
  for (int I = 0; I < N; ++I) {
    A[I] = I * 7 - 1000;
    B[I] = (I % 13) - 6;
  }
  int *DA, *DB, *DC;
  E2E_CHECK(cudaMalloc(&DA, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DB, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DC, (N + 1) * sizeof(int)));
  E2E_CHECK(cudaMemcpy(DA, A.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemcpy(DB, B.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  // A sentinel just past the end catches threads that ignore the bounds check.
  int Sentinel = 0x5A5A5A5A;
  E2E_CHECK(cudaMemcpy(DC + N, &Sentinel, sizeof(int), cudaMemcpyHostToDevice));
  addInts<<<(N + Block - 1) / Block, Block>>>(DA, DB, DC, N);
  E2E_CHECK_LAUNCH();
  E2E_CHECK(cudaMemcpy(C.data(), DC, N * sizeof(int), cudaMemcpyDeviceToHost));
  int After = 0;
  E2E_CHECK(cudaMemcpy(&After, DC + N, sizeof(int), cudaMemcpyDeviceToHost));
  char Name[96];
  std::snprintf(Name, sizeof(Name), "addInts n=%d block=%d", N, Block);
  e2e::Mismatches M(Name);
  for (int I = 0; I < N; ++I)
    M.intAt(I, C[I], A[I] + B[I] * 3 - (I & 7));
  M.intAt(N, After, Sentinel);
  E2E_CHECK(cudaFree(DA));
  E2E_CHECK(cudaFree(DB));
  E2E_CHECK(cudaFree(DC));
  return M.report() ? 0 : 1;
}

int main() {
  int Failures = 0;
  Failures += testVectorAdd(100003, 64, 256); // 16384 threads, ~6 elements each, ragged tail
  Failures += testVectorAdd(1000, 3, 100);    // block size not a multiple of the warp size
  Failures += testVectorAdd(1, 1, 32);
  Failures += testSaxpy(77777, 2.5f, 40, 192);
  Failures += testSaxpy(4097, -0.75f, 1, 1024);
  Failures += testAddInts(10007, 128);
  Failures += testAddInts(33, 32);
  return e2e::finish("vector_add", Failures);
}
