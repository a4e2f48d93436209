// End-to-end: device printf from several threads and blocks with the common conversions (%d %u %x %lld %f %e %s %c,
// width and precision). Output order between threads is unspecified: the runner compares stdout with printf.expected
// after sorting both by line.
#include "e2e_common.h"

__global__ void greet(int Base, double Scale) {
  int T = threadIdx.x, B = blockIdx.x;
  printf("block %d thread %d: id=%u hex=%x big=%lld f=%.3f e=%.2e s=%s c=%c |%5d|%-4d|\n", B, T,
         static_cast<unsigned>(B * blockDim.x + T), Base + T * 17, (1ll << 40) + B * 1000 + T, Scale * (T + 1),
         Scale * 1000.0 * (B + 1), (T & 1) ? "odd" : "even", 'a' + T, -T, B);
}

__global__ void single() {
  if (threadIdx.x == 0 && blockIdx.x == 0)
    printf("single line from block 0 with no arguments\n");
}

int main() {
  greet<<<2, 4>>>(250, 0.5);
  E2E_CHECK_LAUNCH();
  single<<<3, 32>>>();
  E2E_CHECK_LAUNCH();
  // Host output after the synchronisation: device lines must have been flushed by then.
  std::printf("printf: host line after cudaDeviceSynchronize\n");
  return 0;
}
