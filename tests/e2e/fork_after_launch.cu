// End-to-end: a process that has launched kernels (so that block-shape variants were asked for and the background
// compile thread exists) forks; the child exits at once through exit() and the parent goes on launching. The child
// has no compile thread: its exit must neither wait for one nor take the locks another thread may have held at the
// fork. The parent's results must stay right.
#include "e2e_common.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <ctime>
#include <vector>

__global__ void scale(float *X, float A, int N) {
  int I = blockIdx.x * blockDim.x + threadIdx.x;
  if (I < N)
    X[I] *= A;
}

int main() {
  const int N = 10000;
  std::vector<float> H(N);
  for (int I = 0; I < N; ++I)
    H[I] = static_cast<float>(I % 97);
  float *D;
  E2E_CHECK(cudaMalloc(&D, N * sizeof(float)));
  E2E_CHECK(cudaMemcpy(D, H.data(), N * sizeof(float), cudaMemcpyHostToDevice));
  // Enough launches of one shape that a variant is asked for (CUSHIM_SPECIALISE=async asks after the third).
  for (int R = 0; R < 6; ++R) {
    scale<<<(N + 127) / 128, 128>>>(D, 2.0f, N);
    E2E_CHECK_LAUNCH();
  }
  // The compile thread has had time to finish the variant and wait for more work: the fork then copies a
  // condition variable with a waiter that the child does not have (its exit hung on it).
  timespec Settle{0, 300000000};
  nanosleep(&Settle, nullptr);
  pid_t Child = fork();
  if (Child < 0) {
    std::perror("fork");
    return 1;
  }
  if (Child == 0)
    std::exit(0); // runs this thread's thread_local destructors and the static destructors, as any exit does
  for (int R = 0; R < 2; ++R) {
    scale<<<(N + 127) / 128, 128>>>(D, 0.5f, N);
    E2E_CHECK_LAUNCH();
  }
  // The child gets 60 s to end (the test's own timeout is longer, so a hang shows here as a failure).
  int Status = 0;
  bool Ended = false;
  for (int Waited = 0; Waited < 600 && !Ended; ++Waited) {
    pid_t R = waitpid(Child, &Status, WNOHANG);
    if (R == Child)
      Ended = true;
    else {
      timespec Tenth{0, 100000000};
      nanosleep(&Tenth, nullptr);
    }
  }
  int Failures = 0;
  if (!Ended) {
    std::printf("FAILED: the forked child did not exit within 60 s\n");
    kill(Child, SIGKILL);
    waitpid(Child, &Status, 0);
    ++Failures;
  } else if (!WIFEXITED(Status) || WEXITSTATUS(Status) != 0) {
    std::printf("FAILED: the forked child ended with status %d\n", Status);
    ++Failures;
  }
  std::vector<float> Out(N);
  E2E_CHECK(cudaMemcpy(Out.data(), D, N * sizeof(float), cudaMemcpyDeviceToHost));
  e2e::Mismatches M("scale x2^6 x0.5^2");
  for (int I = 0; I < N; ++I)
    M.realAt(I, Out[I], H[I] * 16.0f, 0.0, 0.0); // powers of two: exact
  Failures += M.report() ? 0 : 1;
  E2E_CHECK(cudaFree(D));
  return e2e::finish("fork_after_launch", Failures);
}
