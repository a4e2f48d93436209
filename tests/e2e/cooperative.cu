// End-to-end: cooperative launches. cudaDevAttrCooperativeLaunch, the occupancy API, cudaLaunchCooperativeKernel
// with cooperative_groups::this_grid().sync() between phases (all blocks co-resident), the largest allowed grid, and
// cudaErrorCooperativeLaunchTooLarge one block beyond it.
#include "e2e_common.h"

#include <cooperative_groups.h>

#include <vector>

namespace cg = cooperative_groups;

// Phase 1: each thread writes its value; grid.sync(); phase 2: each thread reads its mirror element (written by
// another block); grid.sync(); phase 3: block 0 sums everything while the others wait at the final sync.
__global__ void phases(const int *In, int *Mirror, long long *Total, int N, int Rounds) {
  cg::grid_group Grid = cg::this_grid();
  int I = static_cast<int>(Grid.thread_rank());
  int Stride = static_cast<int>(Grid.size());
  for (int R = 0; R < Rounds; ++R) {
    for (int J = I; J < N; J += Stride)
      Mirror[J] = In[J] * (R + 1);
    Grid.sync();
    int Acc = 0;
    for (int J = I; J < N; J += Stride)
      Acc += Mirror[N - 1 - J];
    Grid.sync();
    for (int J = I; J < N; J += Stride)
      Mirror[J] = Acc; // overwritten below by the next round, read by the block-0 sum first
    atomicAdd(reinterpret_cast<unsigned long long *>(Total), static_cast<unsigned long long>(Acc));
    Grid.sync();
  }
  if (Grid.is_valid() && I == 0)
    Total[1] = Grid.num_blocks();
}

int main() {
  int Failures = 0;
  int Coop = 0, Sms = 0;
  E2E_CHECK(cudaDeviceGetAttribute(&Coop, cudaDevAttrCooperativeLaunch, 0));
  E2E_CHECK(cudaDeviceGetAttribute(&Sms, cudaDevAttrMultiProcessorCount, 0));
  e2e::Mismatches MA("cudaDevAttrCooperativeLaunch");
  MA.intAt(0, Coop, 1);
  Failures += !MA.report();

  const int Threads = 128;
  int PerSm = 0;
  E2E_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&PerSm, phases, Threads, 0));
  int PerSmFlags = 0;
  E2E_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&PerSmFlags, phases, Threads, 0,
                                                                   cudaOccupancyDisableCachingOverride));
  e2e::Mismatches MO("occupancy of 128-thread blocks");
  MO.intAt(0, PerSm, 16); // cc 8.0: 2048 threads per SM / 128
  MO.intAt(1, PerSmFlags, PerSm);
  int Big = 0;
  E2E_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&Big, phases, 1024, 0));
  MO.intAt(2, Big, 2);
  Failures += !MO.report();

  const int N = 5000, Rounds = 3;
  std::vector<int> In(N);
  e2e::Rng R(5);
  for (int &V : In)
    V = R.range(-100, 100);
  int *DIn, *DMirror;
  long long *DTotal;
  E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DMirror, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DTotal, 2 * sizeof(long long)));
  E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));

  // Reference: Acc of thread I in round R is the sum over its elements J of In[N-1-J] * (R+1).
  long long Want = 0;
  for (int Rd = 0; Rd < Rounds; ++Rd)
    for (int J = 0; J < N; ++J)
      Want += static_cast<long long>(In[N - 1 - J]) * (Rd + 1);

  int MaxBlocks = PerSm * Sms;
  for (int Blocks : {1, 3, MaxBlocks}) {
    int NArg = N, RoundsArg = Rounds;
    void *Args[] = {&DIn, &DMirror, &DTotal, &NArg, &RoundsArg};
    E2E_CHECK(cudaMemset(DTotal, 0, 2 * sizeof(long long)));
    E2E_CHECK(cudaLaunchCooperativeKernel(reinterpret_cast<const void *>(phases), dim3(Blocks), dim3(Threads), Args, 0,
                                          nullptr));
    E2E_CHECK(cudaDeviceSynchronize());
    long long Got[2];
    E2E_CHECK(cudaMemcpy(Got, DTotal, sizeof(Got), cudaMemcpyDeviceToHost));
    char Name[96];
    std::snprintf(Name, sizeof(Name), "grid.sync() phases with %d blocks", Blocks);
    e2e::Mismatches M(Name);
    M.intAt(0, Got[0], Want);
    M.intAt(1, Got[1], Blocks);
    Failures += !M.report();
  }

  { // one block too many
    int NArg = N, RoundsArg = Rounds;
    void *Args[] = {&DIn, &DMirror, &DTotal, &NArg, &RoundsArg};
    cudaError_t E = cudaLaunchCooperativeKernel(reinterpret_cast<const void *>(phases), dim3(MaxBlocks + 1),
                                                dim3(Threads), Args, 0, nullptr);
    e2e::Mismatches M("cudaErrorCooperativeLaunchTooLarge beyond the resident limit");
    M.intAt(0, E, cudaErrorCooperativeLaunchTooLarge);
    M.intAt(1, cudaGetLastError(), cudaErrorCooperativeLaunchTooLarge);
    M.intAt(2, cudaGetLastError(), cudaSuccess);
    Failures += !M.report();
  }
  E2E_CHECK(cudaFree(DIn));
  E2E_CHECK(cudaFree(DMirror));
  E2E_CHECK(cudaFree(DTotal));
  return e2e::finish("cooperative", Failures);
}
