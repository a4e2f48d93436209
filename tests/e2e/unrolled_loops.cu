// End-to-end: per-thread loops whose trip count is known only at run time, which nvcc unrolls by 4 after a remainder
// loop, and which the host JIT's RuntimeUnrollMergePass folds back into one loop where it proves that the two loops
// run the source's iterations in order. Every result depends on the order of the iterations (fma chains compared bit
// for bit with std::fma, integer hashes h = h * 31 + x) and on running each exactly once: ranges of every length from
// 0 to 40, ranges that end at INT_MAX or UINT_MAX or start at INT_MIN, signed ranges across zero, unsigned ranges
// across 2^31, a bound passed as a parameter, and a loop that stores (which the pass leaves alone).
#include "simt_common.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

namespace {

using simt::toDevice;
using simt::toHost;

// CSR SpMV, one row per thread.
__global__ void spmvRows(int Rows, const int *RowPtr, const int *Col, const float *Val, const float *X, float *Y) {
  int R = blockIdx.x * blockDim.x + threadIdx.x;
  if (R >= Rows)
    return;
  float Sum = 0.0f;
  for (int K = RowPtr[R]; K < RowPtr[R + 1]; ++K)
    Sum = __fmaf_rn(Val[K], X[Col[K]], Sum);
  Y[R] = Sum;
}

// Thread T hashes Data[K - Base[T]] for K from Starts[T] to Ends[T] - 1. Index is int (the ranges may touch INT_MIN
// and INT_MAX, where K + 1 must not be assumed to wrap or not) or unsigned (ranges up to UINT_MAX and across 2^31).
template <typename Index>
__global__ void hashRanges(int Count, const Index *Starts, const Index *Ends, const long long *Base,
                           const unsigned *Data, unsigned *Out) {
  int T = blockIdx.x * blockDim.x + threadIdx.x;
  if (T >= Count)
    return;
  unsigned H = 7u;
  for (Index K = Starts[T]; K < Ends[T]; ++K)
    H = H * 31u + Data[static_cast<long long>(K) - Base[T]];
  Out[T] = H;
}

// A trip count from a kernel parameter: row T of an N-column matrix, hashed.
__global__ void paramRows(int Count, int N, const unsigned *A, unsigned *Out) {
  int T = blockIdx.x * blockDim.x + threadIdx.x;
  if (T >= Count)
    return;
  unsigned H = 7u;
  for (int K = 0; K < N; ++K)
    H = H * 31u + A[T * N + K];
  Out[T] = H;
}

// Running sums stored at every step (a loop with stores: left unrolled).
__global__ void prefixRows(int Rows, const int *RowPtr, const unsigned *Data, unsigned *Out) {
  int R = blockIdx.x * blockDim.x + threadIdx.x;
  if (R >= Rows)
    return;
  unsigned Acc = 0;
  for (int K = RowPtr[R]; K < RowPtr[R + 1]; ++K) {
    Acc = Acc * 3u + Data[K];
    Out[K] = Acc;
  }
}

// Count words of random bits.
std::vector<unsigned> randomWords(size_t Count, e2e::Rng &R) {
  std::vector<unsigned> Words(Count);
  for (unsigned &W : Words)
    W = R.next();
  return Words;
}

// Rows of every length from 0 to 40, then Extra rows of random lengths from 0 to 24.
std::vector<int> rowPointers(int Extra, e2e::Rng &R) {
  std::vector<int> RowPtr{0};
  for (int I = 0; I <= 40 + Extra; ++I)
    RowPtr.push_back(RowPtr.back() + (I <= 40 ? I : R.range(0, 24)));
  return RowPtr;
}

void checkSpmv(int Block) {
  e2e::Rng R(11 + Block);
  std::vector<int> RowPtr = rowPointers(3000, R);
  int Rows = static_cast<int>(RowPtr.size()) - 1, Nnz = RowPtr.back(), Cols = 4096;
  std::vector<int> Col(Nnz);
  std::vector<float> Val(Nnz), X(Cols);
  for (int K = 0; K < Nnz; ++K) {
    Col[K] = R.range(0, Cols - 1);
    Val[K] = R.unit();
  }
  for (float &V : X)
    V = R.unit();
  int *DRowPtr = toDevice(RowPtr), *DCol = toDevice(Col);
  float *DVal = toDevice(Val), *DX = toDevice(X), *DY;
  E2E_CHECK(cudaMalloc(&DY, Rows * sizeof(float)));
  spmvRows<<<(Rows + Block - 1) / Block, Block>>>(Rows, DRowPtr, DCol, DVal, DX, DY);
  E2E_CHECK_LAUNCH();
  std::vector<float> Y = toHost(DY, Rows);
  e2e::Mismatches M(Block == 256 ? "spmv rows of 0 to 40 elements (blocks of 256), bits"
                                 : "spmv rows of 0 to 40 elements (blocks of 33), bits");
  for (int Row = 0; Row < Rows; ++Row) {
    float Sum = 0.0f;
    for (int K = RowPtr[Row]; K < RowPtr[Row + 1]; ++K)
      Sum = std::fma(Val[K], X[Col[K]], Sum);
    uint32_t Got, Want;
    std::memcpy(&Got, &Y[Row], 4);
    std::memcpy(&Want, &Sum, 4);
    M.intAt(Row, Got, Want);
  }
  if (!M.report())
    ++e2e::Failures;
  for (void *P : {(void *)DRowPtr, (void *)DCol, (void *)DVal, (void *)DX, (void *)DY})
    E2E_CHECK(cudaFree(P));
}

// Ranges [Start, Start + Length) of every length from 0 to 40 at the given start (clamped so that they end by Max),
// each thread reading its range through its own base.
template <typename Index> void checkRanges(const char *What, std::vector<long long> Starts, long long Max) {
  std::vector<Index> S, E;
  std::vector<long long> Base;
  long long Offset = 0;
  for (long long Start : Starts)
    for (long long Length = 0; Length <= 40; ++Length) {
      long long First = std::min(Start, Max - Length);
      S.push_back(static_cast<Index>(First));
      E.push_back(static_cast<Index>(First + Length));
      Base.push_back(First - Offset);
      Offset += Length;
    }
  int Count = static_cast<int>(S.size());
  e2e::Rng R(5);
  std::vector<unsigned> Data = randomWords(Offset + 1, R);
  Index *DS = toDevice(S), *DE = toDevice(E);
  long long *DBase = toDevice(Base);
  unsigned *DData = toDevice(Data), *DOut;
  E2E_CHECK(cudaMalloc(&DOut, Count * sizeof(unsigned)));
  hashRanges<Index><<<(Count + 63) / 64, 64>>>(Count, DS, DE, DBase, DData, DOut);
  E2E_CHECK_LAUNCH();
  std::vector<unsigned> Want(Count);
  for (int T = 0; T < Count; ++T) {
    unsigned H = 7u;
    for (long long Idx = static_cast<long long>(S[T]); Idx < static_cast<long long>(E[T]); ++Idx)
      H = H * 31u + Data[Idx - Base[T]];
    Want[T] = H;
  }
  simt::checkInts(What, toHost(DOut, Count), Want);
  for (void *P : {(void *)DS, (void *)DE, (void *)DBase, (void *)DData, (void *)DOut})
    E2E_CHECK(cudaFree(P));
}

void checkParamRows(int N) {
  int Count = 300;
  e2e::Rng R(17 + N);
  std::vector<unsigned> A = randomWords(static_cast<size_t>(Count) * N + 1, R);
  unsigned *DA = toDevice(A), *DOut;
  E2E_CHECK(cudaMalloc(&DOut, Count * sizeof(unsigned)));
  paramRows<<<(Count + 127) / 128, 128>>>(Count, N, DA, DOut);
  E2E_CHECK_LAUNCH();
  std::vector<unsigned> Want(Count);
  for (int T = 0; T < Count; ++T) {
    unsigned H = 7u;
    for (int K = 0; K < N; ++K)
      H = H * 31u + A[static_cast<size_t>(T) * N + K];
    Want[T] = H;
  }
  std::string What = "rows of a parameter's " + std::to_string(N) + " columns, hashed";
  simt::checkInts(What.c_str(), toHost(DOut, Count), Want);
  E2E_CHECK(cudaFree(DA));
  E2E_CHECK(cudaFree(DOut));
}

void checkPrefixRows() {
  e2e::Rng R(23);
  std::vector<int> RowPtr = rowPointers(500, R);
  int Rows = static_cast<int>(RowPtr.size()) - 1, Nnz = RowPtr.back();
  std::vector<unsigned> Data = randomWords(Nnz, R);
  int *DRowPtr = toDevice(RowPtr);
  unsigned *DData = toDevice(Data), *DOut;
  E2E_CHECK(cudaMalloc(&DOut, Nnz * sizeof(unsigned)));
  prefixRows<<<(Rows + 255) / 256, 256>>>(Rows, DRowPtr, DData, DOut);
  E2E_CHECK_LAUNCH();
  std::vector<unsigned> Want(Nnz);
  for (int Row = 0; Row < Rows; ++Row) {
    unsigned Acc = 0;
    for (int K = RowPtr[Row]; K < RowPtr[Row + 1]; ++K)
      Want[K] = Acc = Acc * 3u + Data[K];
  }
  simt::checkInts("running values stored at every step", toHost(DOut, Nnz), Want);
  E2E_CHECK(cudaFree(DRowPtr));
  E2E_CHECK(cudaFree(DData));
  E2E_CHECK(cudaFree(DOut));
}

} // namespace

int main() {
  checkSpmv(256);
  checkSpmv(33);
  checkRanges<int>("int ranges at INT_MIN, across 0 and up to INT_MAX, hashed",
                   {INT_MIN, -20, 0, 1000, INT_MAX - 41, INT_MAX}, INT_MAX);
  checkRanges<unsigned>("unsigned ranges from 0, across 2^31 and up to UINT_MAX, hashed",
                        {0, 0x7ffffff0ll, 0x80000000ll, 0xffffffffll}, 0xffffffffll);
  for (int N : {0, 1, 2, 3, 4, 5, 7, 8, 37})
    checkParamRows(N);
  checkPrefixRows();
  return e2e::finish("unrolled_loops", e2e::Failures);
}
