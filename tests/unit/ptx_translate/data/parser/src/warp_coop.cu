#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>
namespace cg = cooperative_groups;

__global__ void warpReduce(const float *in, float *out, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = i < n ? in[i] : 0.f;
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  unsigned b = __ballot_sync(__activemask(), v > 0.f);
  int up = __shfl_up_sync(0xffffffff, (int)b, 1);
  int down = __shfl_down_sync(0xffffffff, up, 2, 16);
  if ((threadIdx.x & 31) == 0) out[i / 32] = v + down + __popc(b) + __reduce_add_sync(0xffffffff, (unsigned)i);
  if (__any_sync(0xffffffff, v < 0.f) && __all_sync(0xffffffff, i > 3)) out[0] = __match_any_sync(0xffffffff, i);
  unsigned lane;
  asm volatile("mov.u32 %0, %%laneid;" : "=r"(lane));
  if (lane == 5) out[1] = clock64();
}

__global__ void coopReduce(const int *in, int *out, int n) {
  cg::thread_block block = cg::this_thread_block();
  cg::thread_block_tile<32> tile = cg::tiled_partition<32>(block);
  int i = block.group_index().x * block.size() + block.thread_rank();
  int v = i < n ? in[i] : 0;
  int s = cg::reduce(tile, v, cg::plus<int>());
  block.sync();
  if (tile.thread_rank() == 0) atomicAdd(out, s);
}

__global__ void gridSync(int *data, int n) {
  cg::grid_group g = cg::this_grid();
  int i = g.thread_rank();
  if (i < n) data[i] += 1;
  g.sync();
  if (i < n) data[i] *= data[(i + 1) % n];
}
