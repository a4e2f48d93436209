#include <cstdio>
__device__ int sq(int x) { return x * x; }
__global__ void k(int *a, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) a[i] = sq(a[i]);
  if (i == 0) printf("n=%d\n", n);
}
