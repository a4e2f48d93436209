// Test kernel for the fatbin reader's data files (see regen.sh).
__global__ void add(float *A, const float *B, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    A[I] += B[I];
}
