#include <cuda/barrier>
#include <cuda/ptx>
__global__ void __launch_bounds__(128) tmaLike(float *out) {
  __shared__ alignas(16) float buf[256];
  __shared__ uint64_t bar;
  if (threadIdx.x == 0) {
    asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"((unsigned)__cvta_generic_to_shared(&bar)), "r"(128));
  }
  __syncthreads();
  unsigned long long state;
  asm volatile("mbarrier.arrive.shared::cta.b64 %0, [%1];" : "=l"(state) : "r"((unsigned)__cvta_generic_to_shared(&bar)));
  asm volatile("{\n .reg .pred p;\n LAB_WAIT:\n mbarrier.try_wait.shared::cta.b64 p, [%0], %1;\n @!p bra LAB_WAIT;\n}" :: "r"((unsigned)__cvta_generic_to_shared(&bar)), "l"(state));
  asm volatile("wgmma.fence.sync.aligned;");
  asm volatile("fence.proxy.async.shared::cta;");
  asm volatile("setmaxnreg.inc.sync.aligned.u32 240;");
  buf[threadIdx.x] = threadIdx.x;
  asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" :: "l"(out), "r"((unsigned)__cvta_generic_to_shared(buf)), "r"(512) : "memory");
  asm volatile("cp.async.bulk.commit_group;");
  asm volatile("cp.async.bulk.wait_group.read 0;");
  float r;
  asm volatile("red.async.relaxed.cluster.shared::cluster.mbarrier::complete_tx::bytes.add.u32 [%0], %1, [%2];" :: "r"(0u), "r"(1u), "r"(0u));
  asm volatile("{ .reg .pred ep; .reg .b32 er; elect.sync er|ep, -1; }" ::: "memory");
  r = buf[(threadIdx.x + 1) & 127];
  out[threadIdx.x + 512] = r;
}
