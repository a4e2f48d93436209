#include <cooperative_groups.h>
namespace cg = cooperative_groups;
__global__ void __cluster_dims__(2, 1, 1) __launch_bounds__(128) clusterKernel(int *out) {
  __shared__ int smem[128];
  cg::cluster_group cluster = cg::this_cluster();
  unsigned rank = cluster.block_rank();
  smem[threadIdx.x] = rank * 1000 + threadIdx.x;
  cluster.sync();
  int *peer = cluster.map_shared_rank(smem, (rank + 1) % 2);
  out[blockIdx.x * 128 + threadIdx.x] = peer[threadIdx.x];
  cluster.sync();
}
