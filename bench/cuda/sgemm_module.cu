// A real nvcc-produced module for the module-load micro-benchmark: bench/run.py compiles it with `nvcc -ptx` and
// micro.cu loads the PTX with cuModuleLoadData (cold JIT with an empty cache, then cache hits).
#include "sgemm.cuh"
