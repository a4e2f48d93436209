#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
extern "C" __device__ int vprintf(const char *, void *);
struct S { float a; double b; int c[3]; };
__device__ __attribute__((noinline)) S make(int x) { S s; s.a = x; s.b = x * 0.5; s.c[0] = s.c[1] = s.c[2] = x; return s; }
__device__ int table[4] = {1, 2, 3, 4};
__device__ int *ptab = &table[2];
__global__ void __attribute__((launch_bounds(128, 2))) kern(float *out, const float *__restrict__ in, int n) {
  __shared__ float sh[128];
  unsigned tid = __nvvm_read_ptx_sreg_tid_x();
  sh[tid] = in[tid] * 2.0f;
  __syncthreads();
  float v = sh[127 - tid];
  v += __nvvm_shfl_sync_bfly_f32(0xffffffff, v, 1, 31);
  S s = make(n);
  atomicAdd:;
  __nvvm_atom_add_gen_i((int *)out, 1);
  out[tid] = v + s.a + (float)s.b + *ptab + __builtin_fabsf(v) + __nvvm_fmin_f(v, 1.0f);
  if (tid == 0) { int args[1] = {n}; vprintf("n=%d\n", args); }
}
