// State of libcudart.so.13: what nvcc's host code registered (fatbinaries, kernels, variables), the per-thread
// current device and last error, and the context runtime calls run in.
#pragma once

#include "core/Context.h"
#include "core/Module.h"
#include "support/ApiTrace.h"
#include "support/Error.h"

#include <cuda_runtime_api.h>

#include <map>
#include <set>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

namespace cushim::runtime {

struct FatbinRecord {
  const void *Wrapper = nullptr;        // the __fatBinC_Wrapper_t nvcc passed
  std::map<core::Context *, core::Module *> Modules; // loaded lazily, per context (guarded by Registry::Mutex)
  std::mutex LoadMutex; // one translation of this fatbinary at a time; held without the registry lock
};

struct KernelRecord {
  FatbinRecord *Fatbin = nullptr;
  const void *HostFun = nullptr; // the host stub's address: what cudaLaunchKernel receives
  std::string DeviceName;        // mangled PTX entry name
};

struct VarRecord {
  FatbinRecord *Fatbin = nullptr;
  const void *HostVar = nullptr; // the host shadow variable: what cudaMemcpyToSymbol receives
  std::string DeviceName;
  size_t Size = 0;
  bool Constant = false;
  void **ManagedPointer = nullptr; // __managed__: where the host code reads the variable's address
};

// All registrations. Registration happens at start-up and takes the lock exclusively; the lookups every launch makes
// share it, so host threads launching at once do not queue behind each other.
struct Registry {
  std::shared_mutex Mutex;
  std::vector<FatbinRecord *> Fatbins;
  std::map<const void *, KernelRecord *> Kernels;
  std::set<const KernelRecord *> KernelHandles; // live records, for validating cudaKernel_t handles
  std::map<const void *, VarRecord *> Vars;
};
Registry &registry();

// The context runtime calls use: the thread's current driver context if there is one, else the primary context of
// the thread's current device (retained on first use and made current).
Expected<core::Context *> context();
// A device by ordinal (initialising the driver first); cudaErrorInvalidDevice when there is none.
Expected<core::Device *> runtimeDevice(int Ordinal);
// The primary context of a device as the runtime uses it (retained on first use), without making it current.
Expected<core::Context *> primaryContext(int Ordinal);
// The runtime's current device ordinal for this thread (0 until cudaSetDevice).
int &currentDevice();

// The module of a registered fatbinary in a context, loaded on first use.
Expected<core::Module *> moduleFor(FatbinRecord &Fatbin, core::Context &Ctx);
Expected<core::Function *> functionFor(const void *HostFun);
// Address and size of a registered variable (by its host shadow) in the current context.
Expected<std::pair<void *, size_t>> variableFor(const void *HostVar);

// Forgets everything loaded in a context that is going away (cudaDeviceReset).
void forgetContext(core::Context *Ctx);

// Per-thread last error (cudaGetLastError / cudaPeekAtLastError).
cudaError_t &lastError();

// An error only the runtime API has (cudaErrorInvalidSymbol, cudaErrorInvalidConfiguration ...), carried through
// cushim::Error with a tag bit that finish() removes.
constexpr unsigned RuntimeOnlyTag = 0x40000000u;
Error runtimeError(cudaError_t Code, std::string Message);

// Maps a core error to the runtime's code, records it as the last error, logs it, traces the call.
cudaError_t finish(ApiTrace &Trace, const Error &E);
cudaError_t finish(ApiTrace &Trace, cudaError_t Code, const std::string &Message = {});

} // namespace cushim::runtime

// Runs Body (a block returning cudaError_t-convertible cushim::Error) as a traced runtime entry point.
#define CUSHIM_RUNTIME_BODY(Trace, ...) return ::cushim::runtime::finish(Trace, [&]() -> ::cushim::Error __VA_ARGS__())
#define CUSHIM_RUNTIME_EXPORT CUSHIM_EXPORT
