// Every environment setting cuda_shim honours, parsed in one place and logged once at start-up.
#pragma once

#include "support/Export.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace cushim {

struct Config {
  std::string LogLevel = "warn";   // CUSHIM_LOG
  std::string LogFile;             // CUSHIM_LOG_FILE
  bool Trace = false;              // CUSHIM_TRACE=1
  std::string DumpDir;             // CUSHIM_DUMP_DIR
  std::string CachePath;           // CUSHIM_CACHE_PATH (default ~/.cache/cuda_shim)
  bool CacheDisabled = false;      // CUDA_CACHE_DISABLE=1
  unsigned long long CacheMaxSize = 0; // CUDA_CACHE_MAXSIZE (0: default)
  int Devices = 1;                 // CUSHIM_DEVICES
  int CcMajor = 8, CcMinor = 0;    // CUSHIM_CC, e.g. "8.0" or "86"
  std::string Engine;              // CUSHIM_ENGINE: "t0", "t1", "t2" or empty for automatic
  // CUSHIM_SPECIALISE: when kernels get code compiled for their launch shape: "auto" (default: by the launching
  // thread, at the launch after a kernel's third without one), "sync" (at the first launch of each shape), "async"
  // (in the background, on idle cores) or "off".
  std::string Specialise = "auto";
  int Workers = 0;                 // CUSHIM_WORKERS: worker threads of the host backend (0: one per core)
  size_t StackSize = 256 * 1024;   // CUSHIM_STACK_SIZE: bytes per GPU-thread fiber stack ("512K", "1M")
  // CUSHIM_STREAM_STORES: whether kernels write large outputs past the caches (kernel_abi.h, stream_store_kib):
  // "auto" (default: launches that write more than the last-level cache holds), "always" or "never".
  std::string StreamStores = "auto";
  unsigned WatchdogMs = 60000;     // CUSHIM_WATCHDOG_MS: a block that only spins this long fails its launch (0: off)
  bool LaunchBlocking = false;     // CUDA_LAUNCH_BLOCKING=1
  std::optional<std::vector<int>> VisibleDevices; // CUDA_VISIBLE_DEVICES: the leading decimal indices
  // CUDA_VISIBLE_DEVICES as written: its entries up to the first empty one (indices, GPU-<uuid> or a unique prefix
  // of one), resolved against the devices by core/Device.cpp.
  std::optional<std::vector<std::string>> VisibleDeviceEntries;
  std::string ModuleLoading;       // CUDA_MODULE_LOADING
  std::string NvidiaNvrtc;         // CUSHIM_NVIDIA_NVRTC: NVIDIA's libnvrtc.so.13 our libnvrtc forwards to
  std::string NvidiaNvJitLink;     // CUSHIM_NVIDIA_NVJITLINK: NVIDIA's libnvJitLink.so.13 ours forwards to

  // Warnings produced while parsing, logged once the logger exists.
  std::vector<std::string> Problems;
};

// The configuration of this process, read from the environment on first use.
CUSHIM_API const Config &config();

// Parses a configuration from an explicit environment lookup; used by config() and by tests.
CUSHIM_API Config parseConfig(const char *(*GetEnv)(const char *Name));

} // namespace cushim
