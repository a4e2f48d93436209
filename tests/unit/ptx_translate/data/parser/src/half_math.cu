#include <cuda_fp16.h>
#include <cuda_bf16.h>
__global__ void halfOps(const __half *a, const __half2 *b, __half *c, __nv_bfloat16 *d, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  __half2 v = __hmul2(b[i], __floats2half2_rn(1.5f, -2.0f));
  __half h = __hadd(a[i], __low2half(v));
  h = __hfma(h, __float2half(0.5f), __high2half(v));
  c[i] = hsqrt(h);
  d[i] = __float2bfloat16(__bfloat162float(d[i]) * 3.0f + __half2float(h));
}
__global__ void mathFuncs(float *f, double *d) {
  int i = threadIdx.x;
  f[i] = sinf(f[i]) + expf(f[i]) * __logf(f[i] + 2.f) + powf(f[i], 2.5f) + erff(f[i]);
  d[i] = sin(d[i]) + exp(d[i]) / log1p(d[i]) + rsqrt(d[i] + 1.0) + fma(d[i], 2.0, 1.0);
  f[i + 64] = __fdividef(f[i], 3.f) + __saturatef(f[i]) + rintf(f[i]) + (float)__double2int_rn(d[i]);
}
