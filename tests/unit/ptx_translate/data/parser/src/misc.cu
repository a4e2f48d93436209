#include <cassert>
#include <cstdio>
#include <cuda/atomic>
#include <cuda_fp8.h>
__device__ __noinline__ void child_hint(int *p) { p[0] = 1; }
__global__ void childK(int *p) { p[threadIdx.x] += 1; }
__global__ void parentK(int *p, int n) {
  if (threadIdx.x == 0) childK<<<1, n>>>(p);
  int *m = (int *)malloc(64);
  m[threadIdx.x & 15] = n;
  assert(n > 0);
  cuda::atomic_ref<int, cuda::thread_scope_device> a(p[0]);
  a.fetch_add(m[0], cuda::memory_order_relaxed);
  cuda::atomic_ref<int, cuda::thread_scope_system> s(p[1]);
  s.store(5, cuda::memory_order_release);
  free(m);
  if (n == 1234) __trap();
  __int128 big = (__int128)p[2] * p[3];
  p[4] = (int)(big >> 70);
  __nv_fp8_e4m3 f8(1.5f * n);
  p[5] = (int)(float)f8;
  __nanosleep(100);
  __threadfence_system();
}
