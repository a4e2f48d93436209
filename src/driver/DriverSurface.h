// The generated side of libcuda.so.1's surface (scripts/gen_driver_surface.py): the stubs for declared but
// unimplemented entry points and the cuGetProcAddress table. Deliberately free of cuda.h: the generated stub file
// defines `extern "C" StubResult name()` for names whose real prototypes cuda.h declares.
#pragma once

namespace cushim::driver {

// ABI-identical to CUresult (an int-sized enum returned in a register).
using StubResult = int;

// Logs "NAME is not implemented" once per name and returns CUDA_ERROR_NOT_SUPPORTED.
StubResult notImplemented(const char *Name);

// One revision of a driver API name: cuGetProcAddress(Name, V) returns the Fn of the newest entry with
// Version <= V; with CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, PerThreadFn when V >= PerThreadVersion.
struct ProcEntry {
  const char *Name;
  int Version;
  const char *Symbol;
  void *Fn;
  void *PerThreadFn;
  int PerThreadVersion;
};

// Sorted by Name, then Version.
extern const ProcEntry ProcTable[];
extern const unsigned ProcTableSize;
// Every entry-point name the toolkit headers declare (each is exported by libcuda.so.1), sorted.
extern const char *const DeclaredEntryPoints[];
extern const unsigned DeclaredEntryPointCount;

struct ProcLookup {
  const ProcEntry *Entry = nullptr; // the revision chosen, nullptr when none
  void *Fn = nullptr;
  bool NameKnown = false; // false: SYMBOL_NOT_FOUND; true with Fn == nullptr: VERSION_NOT_SUFFICIENT
};

// The resolution cuGetProcAddress performs (exposed for the unit tests through cuGetProcAddress itself).
ProcLookup lookupProc(const char *Name, int CudaVersion, bool PerThread);

} // namespace cushim::driver
