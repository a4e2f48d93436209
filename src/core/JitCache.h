// The on-disk JIT cache: compiled modules (object code plus the kernel and variable descriptions the lowering
// produced) persist across processes, keyed by the PTX, the backend's target, the options and our build.
#pragma once

#include "cuda_shim/hal.h"
#include "ptx_translate/Lowering.h"
#include "support/Export.h"

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cushim {
struct Config;
} // namespace cushim

namespace cushim::core {

// What module loading needs from a translation, and what a cache entry holds.
struct CompiledModule {
  std::string Object; // relocatable object for the backend's module_load
  std::vector<ptx::KernelInfo> Kernels;
  std::vector<ptx::GlobalInfo> Globals;
};

// Encodes a compiled module into a cache payload and back (nullopt for malformed bytes).
CUSHIM_API std::string serializeModule(const CompiledModule &M);
CUSHIM_API std::optional<CompiledModule> deserializeModule(std::string_view Bytes);

// A directory of entries <Dir>/<64 hex digits>.jit, each a header (magic, format, payload size, checksum, key) and
// a payload. Writes go to a temporary file renamed into place, so concurrent processes never see a partial entry;
// a truncated or corrupt entry fails its checksum, is removed and reported as a miss. After each store the oldest
// entries (by modification time, which a hit refreshes) are evicted until the directory fits MaxBytes.
class CUSHIM_API JitCache {
public:
  struct Settings {
    std::string Dir;           // empty: disabled
    bool Enabled = true;       // CUDA_CACHE_DISABLE=1 turns it off
    uint64_t MaxBytes = 0;     // 0: DefaultMaxBytes
  };
  static constexpr uint64_t DefaultMaxBytes = 256ull << 20; // CUDA's documented default for CUDA_CACHE_MAXSIZE
  static constexpr uint64_t LimitMaxBytes = 4ull << 30;     // and its maximum

  struct Stats {
    std::atomic<uint64_t> Hits{0}, Misses{0}, Corrupt{0}, Stores{0}, Evictions{0};
  };

  explicit JitCache(Settings S);
  // The process-wide cache configured from CUSHIM_CACHE_PATH, CUDA_CACHE_DISABLE and CUDA_CACHE_MAXSIZE.
  static JitCache &process();
  static Settings settingsFrom(const Config &C);

  bool enabled() const { return Enabled; }
  const std::string &directory() const { return Dir; }
  uint64_t maxBytes() const { return MaxBytes; }
  const Stats &stats() const { return Counters; }

  // The key of a translation: a BLAKE3 hash (hex) of our build identity, the cache format, the lowering's data
  // structures, the target description, the options and the PTX text.
  static std::string key(std::string_view Ptx, const cushim_hal_target &Target, std::string_view Options);

  // The payload stored under Key, verified; nullopt on a miss (absent, unreadable or corrupt: corrupt entries are
  // deleted and logged).
  std::optional<std::string> load(const std::string &Key);
  // Stores Payload under Key (atomic rename), then evicts. Failures are logged and otherwise ignored: the cache is
  // an optimisation and a read-only or full disk must not fail module loading.
  void store(const std::string &Key, std::string_view Payload);

  std::optional<CompiledModule> loadModule(const std::string &Key);
  void storeModule(const std::string &Key, const CompiledModule &M);

  // Removes the oldest entries until the directory holds at most MaxBytes, and stale temporary files.
  void evict();
  // The path of an entry (tests corrupt entries through it).
  std::string entryPath(const std::string &Key) const;

private:
  std::string Dir;
  bool Enabled = false;
  uint64_t MaxBytes = DefaultMaxBytes;
  Stats Counters;
};

} // namespace cushim::core
