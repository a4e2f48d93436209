/* A stand-in for a CUDA program in the runner's own test corpus: one binary whose first argument picks a behaviour
   (pass, exit code, crash, hang, cuda_shim diagnostics, numbers for tolerance checks, environment, working folder). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "pass";
  if (!strcmp(mode, "pass")) {
    printf("hello conform\nresult: 42\n");
    return 0;
  }
  if (!strcmp(mode, "exit")) {
    int code = argc > 2 ? atoi(argv[2]) : 1;
    printf("exiting with %d\n", code);
    fprintf(stderr, "something went wrong on purpose\n");
    return code;
  }
  if (!strcmp(mode, "segv")) {
    printf("about to crash\n");
    fflush(stdout);
    raise(SIGSEGV);
    return 0;
  }
  if (!strcmp(mode, "abort")) {
    fprintf(stderr, "[cuda_shim error] cuLaunchKernel: simulated fatal error\n");
    abort();
  }
  if (!strcmp(mode, "sleep")) {
    /* A child in the same process group: the runner must kill both. */
    if (fork() == 0)
      sleep(60);
    printf("sleeping\n");
    fflush(stdout);
    sleep(argc > 2 ? atoi(argv[2]) : 60);
    return 0;
  }
  if (!strcmp(mode, "shimerror")) {
    fprintf(stderr, "[cuda_shim warning] CUSHIM_CC=9.9 is not a supported compute capability\n");
    fprintf(stderr, "[cuda_shim error] ptx: unsupported instruction 'tcgen05.mma' at line 12\n");
    fprintf(stderr, "[cuda_shim error] a second error that is not the first\n");
    printf("result: 42\n");
    return 0;
  }
  if (!strcmp(mode, "numbers")) {
    /* Compared to expected files with and without enough tolerance. */
    printf("x = 1.0000001 y = 2.5e3, z=-7\n");
    printf("checksum 0.33333334 over 1024 elements\n");
    return 0;
  }
  if (!strcmp(mode, "lines")) {
    printf("thread 2\nthread 0\nthread 1\n");
    return 0;
  }
  if (!strcmp(mode, "env")) {
    const char *v = getenv("CONFORM_VAR");
    const char *ld = getenv("LD_LIBRARY_PATH");
    char buf[16];
    ssize_t n = read(0, buf, sizeof(buf));
    printf("CONFORM_VAR=%s\n", v ? v : "(unset)");
    printf("LD_LIBRARY_PATH=%s\n", ld ? ld : "(unset)");
    printf("stdin: %s\n", n == 0 ? "eof" : "data");
    return 0;
  }
  if (!strcmp(mode, "cwd")) {
    /* The scratch folder is fresh: the marker never exists yet, and the copied data file does. */
    FILE *f = fopen("marker.txt", "r");
    printf("marker: %s\n", f ? "stale" : "fresh");
    if (f)
      fclose(f);
    f = fopen("marker.txt", "w");
    if (f)
      fclose(f);
    char line[64] = "(missing)";
    f = fopen("data.txt", "r");
    if (f) {
      if (!fgets(line, sizeof(line), f))
        strcpy(line, "(empty)");
      fclose(f);
      line[strcspn(line, "\n")] = 0;
    }
    printf("data: %s\n", line);
    return 0;
  }
  if (!strcmp(mode, "flaky")) {
    /* Alternates between success and failure through a counter file outside the scratch folder. */
    int count = 0;
    FILE *f = fopen(argv[2], "r");
    if (f) {
      if (fscanf(f, "%d", &count) != 1)
        count = 0;
      fclose(f);
    }
    f = fopen(argv[2], "w");
    if (f) {
      fprintf(f, "%d\n", count + 1);
      fclose(f);
    }
    printf("run %d\n", count);
    return count % 2;
  }
  fprintf(stderr, "unknown mode %s\n", mode);
  return 2;
}
