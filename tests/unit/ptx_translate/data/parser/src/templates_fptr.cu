typedef float (*BinOp)(float, float);
__device__ __noinline__ float addOp(float a, float b) { return a + b; }
__device__ __noinline__ float mulOp(float a, float b) { return a * b; }
__device__ BinOp ops[2] = {addOp, mulOp};

__device__ __noinline__ int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

struct Big { double a[3]; int b; };
__device__ __noinline__ Big makeBig(int x) { Big r; r.a[0] = x; r.a[1] = x * 2.0; r.a[2] = x / 3.0; r.b = -x; return r; }

template <typename T, int N> __global__ void applyN(T *data, int which) {
  T acc = data[threadIdx.x];
#pragma unroll 1
  for (int k = 0; k < N; ++k) acc = (T)ops[which & 1]((float)acc, (float)k);
  data[threadIdx.x] = acc;
}
template __global__ void applyN<float, 4>(float *, int);
template __global__ void applyN<int, 8>(int *, int);

__global__ void recurse(int *out, int n) {
  out[threadIdx.x] = fib(n + threadIdx.x);
  Big b = makeBig(n);
  out[64] = b.b + (int)b.a[2];
}

extern __device__ int externalHelper(int);
__global__ void callsExternal(int *p) { p[0] = externalHelper(p[1]); }
