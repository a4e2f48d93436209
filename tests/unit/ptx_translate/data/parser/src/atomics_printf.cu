#include <cstdio>
__device__ unsigned int gCounter;
__device__ float gTable[4] = {1.0f, 2.5f, -3.0f, 1e-3f};
__constant__ int cCoeffs[8] = {1, 2, 3, 4, 5, 6, 7, 8};
__device__ int *gPtrs[2] = {nullptr, nullptr};
__managed__ int mValue;

__global__ void __launch_bounds__(256, 2) histogram(const int *in, int n, unsigned *bins) {
  __shared__ unsigned local[64];
  for (int i = threadIdx.x; i < 64; i += blockDim.x) local[i] = 0;
  __syncthreads();
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)
    atomicAdd(&local[in[i] & 63], 1u);
  __syncthreads();
  for (int i = threadIdx.x; i < 64; i += blockDim.x) atomicAdd(&bins[i], local[i]);
  if (threadIdx.x == 0) {
    unsigned t = atomicInc(&gCounter, 1000);
    printf("block %d done (%u) coeff %d %f\n", blockIdx.x, t, cCoeffs[blockIdx.x & 7], (double)gTable[1]);
  }
}

__global__ void casLoop(double *acc, const double *v, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  unsigned long long *a = (unsigned long long *)acc;
  unsigned long long old = *a, assumed;
  do {
    assumed = old;
    old = atomicCAS(a, assumed, __double_as_longlong(v[i] + __longlong_as_double(assumed)));
  } while (assumed != old);
  atomicMax((int *)&acc[1], i);
  atomicExch((float *)&acc[2], 1.5f);
  atomicAdd(&mValue, 1);
}

extern __shared__ float dyn[];
__global__ void dynShared(float *out, float s) {
  dyn[threadIdx.x] = threadIdx.x * s;
  __syncthreads();
  out[threadIdx.x] = dyn[blockDim.x - 1 - threadIdx.x] + __ldg(&out[threadIdx.x]);
}
