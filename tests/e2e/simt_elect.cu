// End-to-end (compute_90 PTX, run with CUSHIM_CC=9.0): elect.sync as nvcc emits it for cooperative_groups::invoke_one
// and invoke_one_broadcast on sm_90, on whole warps and on coalesced groups in divergent code, and written directly.
#include "e2e_common.h"

#include <cooperative_groups.h>

#include <vector>

namespace cg = cooperative_groups;

__device__ __forceinline__ unsigned electLeader(unsigned Mask, unsigned &IsLeader) {
  unsigned Leader;
  asm volatile("{\n\t.reg .pred p;\n\telect.sync %0|p, %2;\n\tselp.u32 %1, 1, 0, p;\n\t}"
               : "=r"(Leader), "=r"(IsLeader)
               : "r"(Mask));
  return Leader;
}

__global__ void elect(const int *In, int *Out, int *Counters) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  int Lane = threadIdx.x % 32;
  int V = In[I];
  int *O = Out + I * 5;
  cg::thread_block_tile<32> Warp = cg::tiled_partition<32>(cg::this_thread_block());
  // One lane per warp counts the warp; every lane gets the value the elected lane computed.
  cg::invoke_one(Warp, [&] { atomicAdd(&Counters[0], 1); });
  O[0] = cg::invoke_one_broadcast(Warp, [&] { return V * 10 + Lane; });
  O[1] = O[2] = O[3] = O[4] = -1;
  if (V % 3 != 0) {
    cg::coalesced_group Active = cg::coalesced_threads();
    O[1] = cg::invoke_one_broadcast(Active, [&] { return atomicAdd(&Counters[1], 1) * 100 + Lane; });
    unsigned IsLeader;
    O[2] = static_cast<int>(electLeader(__activemask(), IsLeader)); // the lane mask of Active
    O[3] = static_cast<int>(IsLeader);
  }
  if (Lane >= 7) {
    unsigned IsLeader;
    O[4] = static_cast<int>(electLeader(0xffffff80u, IsLeader)) * 2 + static_cast<int>(IsLeader);
  }
}

int main() {
  int Failures = 0;
  const int Blocks = 3, Threads = 96, N = Blocks * Threads, Warps = N / 32;
  e2e::Rng R(90);
  std::vector<int> In(N);
  for (int &V : In)
    V = R.range(0, 100000);
  int *DIn, *DOut, *DCounters;
  E2E_CHECK(cudaMalloc(&DIn, N * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DOut, N * 5 * sizeof(int)));
  E2E_CHECK(cudaMalloc(&DCounters, 2 * sizeof(int)));
  E2E_CHECK(cudaMemcpy(DIn, In.data(), N * sizeof(int), cudaMemcpyHostToDevice));
  E2E_CHECK(cudaMemset(DCounters, 0, 2 * sizeof(int)));
  elect<<<Blocks, Threads>>>(DIn, DOut, DCounters);
  E2E_CHECK_LAUNCH();
  std::vector<int> Out(N * 5), Counters(2);
  E2E_CHECK(cudaMemcpy(Out.data(), DOut, Out.size() * sizeof(int), cudaMemcpyDeviceToHost));
  E2E_CHECK(cudaMemcpy(Counters.data(), DCounters, 2 * sizeof(int), cudaMemcpyDeviceToHost));

  e2e::Mismatches M("elect.sync: invoke_one / invoke_one_broadcast on warps and coalesced groups, direct asm");
  int Groups = 0;
  std::vector<int> Ticket(Warps, -1); // the counter value each warp's coalesced leader drew (order between warps varies)
  for (int W = 0; W < Warps; ++W) {
    const int *Vs = &In[W * 32];
    unsigned Active = 0;
    for (int L = 0; L < 32; ++L)
      if (Vs[L] % 3 != 0)
        Active |= 1u << L;
    int First = Active ? __builtin_ctz(Active) : -1;
    if (Active)
      ++Groups;
    for (int L = 0; L < 32; ++L) {
      int I = W * 32 + L;
      const int *O = &Out[I * 5];
      M.intAt(I * 5, O[0], Vs[0] * 10 + 0);
      if (Active & (1u << L)) {
        if (Ticket[W] < 0)
          Ticket[W] = O[1] / 100;
        M.intAt(I * 5 + 1, O[1], Ticket[W] * 100 + First);
        M.intAt(I * 5 + 2, O[2], First);
        M.intAt(I * 5 + 3, O[3], L == First);
      } else {
        M.intAt(I * 5 + 1, O[1], -1);
        M.intAt(I * 5 + 2, O[2], -1);
        M.intAt(I * 5 + 3, O[3], -1);
      }
      M.intAt(I * 5 + 4, O[4], L >= 7 ? 7 * 2 + (L == 7) : -1);
    }
  }
  M.intAt(-1, Counters[0], Warps);
  M.intAt(-2, Counters[1], Groups);
  // The coalesced leaders drew the tickets 0..Groups-1, each exactly once.
  std::vector<int> Seen(Groups, 0);
  for (int W = 0; W < Warps; ++W)
    if (Ticket[W] >= 0 && Ticket[W] < Groups)
      ++Seen[Ticket[W]];
  for (int K = 0; K < Groups; ++K)
    M.intAt(-3 - K, Seen[K], 1);
  Failures += !M.report();
  return e2e::finish("simt_elect", Failures);
}
