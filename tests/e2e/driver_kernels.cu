// Kernels for driver_api: compiled to a .ptx file with `nvcc -ptx` at test time and loaded from disk with cuModuleLoad.
// extern "C" keeps the names unmangled so the driver test can look them up by plain name.

extern "C" __device__ int Base = 1000;

extern "C" __global__ void iotaPlusBase(int *Out, int N, int Step) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    Out[I] = Base + I * Step;
}

// Block-wide sum through static shared memory; the block size is fixed at 128.
extern "C" __global__ void blockSum128(const unsigned *In, unsigned *Out) {
  __shared__ unsigned S[128];
  unsigned T = threadIdx.x;
  S[T] = In[blockIdx.x * 128 + T];
  __syncthreads();
  for (unsigned Half = 64; Half > 0; Half >>= 1) {
    if (T < Half)
      S[T] += S[T + Half];
    __syncthreads();
  }
  if (T == 0)
    Out[blockIdx.x] = S[0];
}
