// Error checks shared by the CUDA benchmark programs: any failing runtime call ends the program (exit 3), naming it.
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

#define CHECK(Call)                                                                                                    \
  do {                                                                                                                 \
    cudaError_t Err = (Call);                                                                                          \
    if (Err != cudaSuccess) {                                                                                          \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #Call, cudaGetErrorString(Err));                   \
      std::exit(3);                                                                                                    \
    }                                                                                                                  \
  } while (0)
#define CHECK_LAUNCH()                                                                                                 \
  do {                                                                                                                 \
    CHECK(cudaGetLastError());                                                                                         \
    CHECK(cudaDeviceSynchronize());                                                                                    \
  } while (0)
