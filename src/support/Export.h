// Symbol visibility: everything is hidden by default; CUSHIM_API marks the internal C++ interface that
// libcuda.so.1 exports for libcudart.so.13 and the tools (one core per process), CUSHIM_EXPORT the C entry points.
#pragma once

#define CUSHIM_API __attribute__((visibility("default")))
#define CUSHIM_EXPORT extern "C" __attribute__((visibility("default")))
