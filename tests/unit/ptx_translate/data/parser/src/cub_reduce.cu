#include <cub/cub.cuh>
template <int BLOCK> __global__ void blockSum(const int *in, int *out) {
  typedef cub::BlockReduce<int, BLOCK> BR;
  typedef cub::BlockScan<int, BLOCK> BS;
  __shared__ union { typename BR::TempStorage r; typename BS::TempStorage s; } tmp;
  int v = in[blockIdx.x * BLOCK + threadIdx.x];
  int total = BR(tmp.r).Sum(v);
  __syncthreads();
  int prefix;
  BS(tmp.s).ExclusiveSum(v, prefix);
  out[blockIdx.x * BLOCK + threadIdx.x] = prefix;
  if (threadIdx.x == 0) out[gridDim.x * BLOCK + blockIdx.x] = total;
}
template __global__ void blockSum<128>(const int *, int *);
