// Helpers shared by the SIMT end-to-end programs (docs/SIMT.md): host<->device vector copies and the look-back step
// of a single-pass (decoupled look-back) scan.
#pragma once

#include "e2e_common.h"

#include <vector>

namespace simt {

template <typename T> T *toDevice(const std::vector<T> &H) {
  T *D;
  E2E_CHECK(cudaMalloc(&D, H.size() * sizeof(T)));
  E2E_CHECK(cudaMemcpy(D, H.data(), H.size() * sizeof(T), cudaMemcpyHostToDevice));
  return D;
}

template <typename T> std::vector<T> toHost(const T *D, size_t Count) {
  std::vector<T> H(Count);
  E2E_CHECK(cudaMemcpy(H.data(), D, Count * sizeof(T), cudaMemcpyDeviceToHost));
  return H;
}

// Compares integer results with their CPU reference; a mismatch prints the first few and counts one failed check.
template <typename Int> void checkInts(const char *What, const std::vector<Int> &Got, const std::vector<Int> &Want) {
  e2e::Mismatches M(What);
  for (size_t I = 0; I < Want.size(); ++I)
    M.intAt(static_cast<long>(I), Got[I], Want[I]);
  if (!M.report())
    ++e2e::Failures;
}

// Called by one thread of tile Tile with the tile's aggregate: publishes it, waits for its predecessors' status
// words (flag in the high 32 bits: 1 aggregate, 2 inclusive prefix; value in the low 32 bits), publishes the tile's
// inclusive prefix and returns its exclusive prefix. Tiles must be numbered in start order (an atomic ticket), so a
// tile only waits for tiles that already run.
__device__ inline int lookbackPrefix(volatile unsigned long long *Status, unsigned Tile, int Aggregate) {
  if (Tile == 0) {
    Status[0] = (2ull << 32) | static_cast<unsigned>(Aggregate);
    return 0;
  }
  Status[Tile] = (1ull << 32) | static_cast<unsigned>(Aggregate);
  __threadfence();
  int Prefix = 0;
  for (int J = static_cast<int>(Tile) - 1; J >= 0; --J) {
    unsigned long long S;
    do {
      S = Status[J];
    } while ((S >> 32) == 0);
    Prefix += static_cast<int>(S & 0xffffffffu);
    if ((S >> 32) == 2)
      break;
  }
  __threadfence();
  Status[Tile] = (2ull << 32) | static_cast<unsigned>(Prefix + Aggregate);
  return Prefix;
}

} // namespace simt
