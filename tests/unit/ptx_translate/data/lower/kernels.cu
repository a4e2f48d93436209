__global__ void saxpy(int n, float a, const float *x, float *y) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}
__global__ void reduce(const float *in, float *out, int n) {
  __shared__ float s[256];
  unsigned t = threadIdx.x;
  unsigned i = blockIdx.x * blockDim.x * 2 + t;
  float v = 0;
  if (i < n) v = in[i];
  if (i + blockDim.x < n) v += in[i + blockDim.x];
  s[t] = v;
  __syncthreads();
  for (unsigned st = blockDim.x / 2; st > 0; st >>= 1) {
    if (t < st) s[t] += s[t + st];
    __syncthreads();
  }
  if (t == 0) atomicAdd(out, s[0]);
}
#define T 16
__global__ void matmul(const float *A, const float *B, float *C, int N) {
  __shared__ float As[T][T], Bs[T][T];
  int r = blockIdx.y * T + threadIdx.y, c = blockIdx.x * T + threadIdx.x;
  float acc = 0;
  for (int k = 0; k < N; k += T) {
    As[threadIdx.y][threadIdx.x] = (r < N && k + threadIdx.x < N) ? A[r * N + k + threadIdx.x] : 0;
    Bs[threadIdx.y][threadIdx.x] = (c < N && k + threadIdx.y < N) ? B[(k + threadIdx.y) * N + c] : 0;
    __syncthreads();
    for (int j = 0; j < T; ++j) acc += As[threadIdx.y][j] * Bs[j][threadIdx.x];
    __syncthreads();
  }
  if (r < N && c < N) C[r * N + c] = acc;
}
__device__ __noinline__ int helper(int a, int b) { return a / b + __shfl_down_sync(0xffffffff, a, 1); }
__global__ void calls(int *o, int a, int b) { o[threadIdx.x] = helper(a + threadIdx.x, b); if (a == 99) printf("x %d\n", a); }
