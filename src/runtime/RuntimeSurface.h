// The generated side of libcudart.so.13's surface (scripts/gen_runtime_surface.py): stubs for the runtime entry
// points cuda_shim does not implement. Deliberately free of CUDA headers: the generated file defines
// `extern "C" StubResult name()` for names whose real prototypes cuda_runtime_api.h declares.
#pragma once

namespace cushim::runtime {

// ABI-identical to cudaError_t (an int-sized enum returned in a register).
using StubResult = int;

// Logs "NAME is not implemented" once per name, makes cudaErrorNotSupported the thread's last error and returns it.
StubResult notImplemented(const char *Name);

} // namespace cushim::runtime
