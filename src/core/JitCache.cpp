// The on-disk JIT cache (see JitCache.h): entry format, atomic stores, verification and size-bounded eviction.
#include "core/JitCache.h"

#include "support/Config.h"
#include "support/Log.h"

#include <llvm/Support/BLAKE3.h>
#include <llvm/Support/xxhash.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace cushim::core {

namespace fs = std::filesystem;

namespace {

constexpr char Magic[8] = {'C', 'U', 'S', 'H', 'I', 'M', 'J', 'C'};
constexpr uint32_t FormatVersion = 1;
constexpr const char *EntrySuffix = ".jit";
constexpr const char *TempSuffix = ".part";

// The serializer below writes every field of these structures. When one of them grows, the cache switches itself
// off (with a warning) instead of silently dropping the new field; update serializeModule/deserializeModule and
// these sizes together (the unit test "JitCache knows the lowering's structures" checks them).
constexpr size_t KnownKernelInfoSize = 112, KnownGlobalInfoSize = 56, KnownParamInfoSize = 12;
bool layoutsKnown() {
  return sizeof(ptx::KernelInfo) == KnownKernelInfoSize && sizeof(ptx::GlobalInfo) == KnownGlobalInfoSize &&
         sizeof(ptx::ParamInfo) == KnownParamInfoSize;
}

struct Header {
  char Magic[8];
  uint32_t Format;
  uint32_t Reserved;
  uint64_t PayloadSize;
  uint64_t PayloadHash; // xxh3-64 of the payload
  char Key[64];         // the entry's own key: a file renamed or copied under another name is not trusted
};
static_assert(sizeof(Header) == 96, "cache entry header layout");

// Identity of the cuda_shim build that runs: the shared object (or executable) holding this code, by size,
// modification time and inode. Every rebuild changes it, so a cache never serves objects translated by older code.
const std::string &buildIdentity() {
  static const std::string Identity = [] {
    std::string Id = "cuda_shim";
    Dl_info Info;
    struct stat St;
    if (dladdr(reinterpret_cast<void *>(&buildIdentity), &Info) && Info.dli_fname &&
        stat(Info.dli_fname, &St) == 0) {
      Id += fmt::format(" {} {} {}.{} {}", Info.dli_fname, static_cast<unsigned long long>(St.st_size),
                        static_cast<long long>(St.st_mtim.tv_sec), static_cast<long>(St.st_mtim.tv_nsec),
                        static_cast<unsigned long long>(St.st_ino));
    } else {
      Id += " " __DATE__ " " __TIME__;
    }
    return Id;
  }();
  return Identity;
}

// ---- Payload encoding: little-endian integers, length-prefixed strings ----------------------------------------

class Writer {
public:
  void u32(uint32_t V) { raw(&V, 4); }
  void u64(uint64_t V) { raw(&V, 8); }
  void str(std::string_view S) {
    u64(S.size());
    raw(S.data(), S.size());
  }
  std::string take() { return std::move(Out); }

private:
  void raw(const void *P, size_t N) { Out.append(static_cast<const char *>(P), N); }
  std::string Out;
};

class Reader {
public:
  explicit Reader(std::string_view In) : In(In) {}
  bool u32(uint32_t &V) { return raw(&V, 4); }
  bool u64(uint64_t &V) { return raw(&V, 8); }
  bool str(std::string &S) {
    uint64_t N;
    if (!u64(N) || N > In.size() - Pos)
      return false;
    S.assign(In.data() + Pos, N);
    Pos += N;
    return true;
  }
  bool done() const { return Pos == In.size(); }

private:
  bool raw(void *P, size_t N) {
    if (In.size() - Pos < N)
      return false;
    std::memcpy(P, In.data() + Pos, N);
    Pos += N;
    return true;
  }
  std::string_view In;
  size_t Pos = 0;
};

std::string hex(const uint8_t *Bytes, size_t N) {
  static const char Digits[] = "0123456789abcdef";
  std::string S;
  for (size_t I = 0; I < N; ++I) {
    S += Digits[Bytes[I] >> 4];
    S += Digits[Bytes[I] & 15];
  }
  return S;
}

bool readFile(const std::string &Path, std::string &Out) {
  int Fd = ::open(Path.c_str(), O_RDONLY | O_CLOEXEC);
  if (Fd < 0)
    return false;
  struct stat St;
  bool Ok = fstat(Fd, &St) == 0;
  if (Ok) {
    Out.resize(static_cast<size_t>(St.st_size));
    size_t Done = 0;
    while (Done < Out.size()) {
      ssize_t N = ::read(Fd, Out.data() + Done, Out.size() - Done);
      if (N <= 0)
        break;
      Done += static_cast<size_t>(N);
    }
    Out.resize(Done);
  }
  ::close(Fd);
  return Ok;
}

} // namespace

// ---- Module payloads ---------------------------------------------------------------------------------------------

std::string serializeModule(const CompiledModule &M) {
  Writer W;
  W.u32(static_cast<uint32_t>(M.Kernels.size()));
  for (const ptx::KernelInfo &K : M.Kernels) {
    W.str(K.Name);
    W.u32(static_cast<uint32_t>(K.Params.size()));
    for (const ptx::ParamInfo &P : K.Params) {
      W.u32(P.Offset);
      W.u32(P.Size);
      W.u32(P.Align);
    }
    W.u32(K.ParamSize);
    W.u32(K.StaticSharedSize);
    W.u32(K.LocalSize);
    W.u32(K.Flags);
    W.u32(K.MaxThreads);
    W.u32(K.ReqNTid ? static_cast<uint32_t>(K.ReqNTid->size()) + 1 : 0);
    if (K.ReqNTid)
      for (uint32_t D : *K.ReqNTid)
        W.u32(D);
  }
  W.u32(static_cast<uint32_t>(M.Globals.size()));
  for (const ptx::GlobalInfo &G : M.Globals) {
    W.str(G.Name);
    W.u32(static_cast<uint32_t>(G.Space));
    W.u64(G.Size);
    W.u32(G.Managed ? 1 : 0);
  }
  W.str(M.Object);
  return W.take();
}

std::optional<CompiledModule> deserializeModule(std::string_view Bytes) {
  Reader R(Bytes);
  CompiledModule M;
  uint32_t Count;
  if (!R.u32(Count) || Count > Bytes.size())
    return std::nullopt;
  M.Kernels.resize(Count);
  for (ptx::KernelInfo &K : M.Kernels) {
    uint32_t Params, ReqDims;
    if (!R.str(K.Name) || !R.u32(Params) || Params > Bytes.size())
      return std::nullopt;
    K.Params.resize(Params);
    for (ptx::ParamInfo &P : K.Params)
      if (!R.u32(P.Offset) || !R.u32(P.Size) || !R.u32(P.Align))
        return std::nullopt;
    if (!R.u32(K.ParamSize) || !R.u32(K.StaticSharedSize) || !R.u32(K.LocalSize) || !R.u32(K.Flags) ||
        !R.u32(K.MaxThreads) || !R.u32(ReqDims) || ReqDims > 4)
      return std::nullopt;
    if (ReqDims) {
      K.ReqNTid.emplace(ReqDims - 1);
      for (uint32_t &D : *K.ReqNTid)
        if (!R.u32(D))
          return std::nullopt;
    }
  }
  if (!R.u32(Count) || Count > Bytes.size())
    return std::nullopt;
  M.Globals.resize(Count);
  for (ptx::GlobalInfo &G : M.Globals) {
    uint32_t Space, Managed;
    if (!R.str(G.Name) || !R.u32(Space) || !R.u64(G.Size) || !R.u32(Managed))
      return std::nullopt;
    G.Space = static_cast<ptx::StateSpace>(Space);
    G.Managed = Managed != 0;
  }
  if (!R.str(M.Object) || !R.done())
    return std::nullopt;
  return M;
}

// ---- The cache ---------------------------------------------------------------------------------------------------

JitCache::Settings JitCache::settingsFrom(const Config &C) {
  Settings S;
  S.Dir = C.CachePath;
  S.Enabled = !C.CacheDisabled;
  S.MaxBytes = C.CacheMaxSize;
  return S;
}

JitCache::JitCache(Settings S) : Dir(std::move(S.Dir)) {
  MaxBytes = S.MaxBytes ? std::min<uint64_t>(S.MaxBytes, LimitMaxBytes) : DefaultMaxBytes;
  Enabled = S.Enabled && !Dir.empty();
  if (Enabled && !layoutsKnown()) {
    CUSHIM_LOG_WARN("JIT cache disabled: the lowering's KernelInfo/GlobalInfo changed and the cache serializer "
                    "(src/core/JitCache.cpp) does not know the new fields yet");
    Enabled = false;
  }
}

JitCache &JitCache::process() {
  static JitCache *Cache = [] {
    auto *C = new JitCache(settingsFrom(config())); // leaked: used until the process exits
    if (C->enabled())
      CUSHIM_LOG_DEBUG("JIT cache: {} (at most {} bytes)", C->directory(), C->maxBytes());
    else
      CUSHIM_LOG_DEBUG("JIT cache: disabled");
    return C;
  }();
  return *Cache;
}

std::string JitCache::key(std::string_view Ptx, const cushim_hal_target &Target, std::string_view Options) {
  llvm::BLAKE3 H;
  auto Field = [&H](std::string_view S) {
    uint64_t N = S.size();
    H.update(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(&N), sizeof(N)));
    H.update(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(S.data()), S.size()));
  };
  Field(buildIdentity());
  Field(fmt::format("format {} kernel {} global {} param {}", FormatVersion, sizeof(ptx::KernelInfo),
                    sizeof(ptx::GlobalInfo), sizeof(ptx::ParamInfo)));
  Field(Target.triple ? Target.triple : "");
  Field(Target.cpu ? Target.cpu : "");
  Field(Target.features ? Target.features : "");
  Field(Target.data_layout ? Target.data_layout : "");
  Field(Options);
  Field(Ptx);
  auto Digest = H.final();
  return hex(Digest.data(), Digest.size());
}

std::string JitCache::entryPath(const std::string &Key) const { return Dir + "/" + Key + EntrySuffix; }

std::optional<std::string> JitCache::load(const std::string &Key) {
  if (!Enabled)
    return std::nullopt;
  std::string Path = entryPath(Key), Bytes;
  if (!readFile(Path, Bytes)) {
    ++Counters.Misses;
    return std::nullopt;
  }
  Header H;
  const char *Why = nullptr;
  if (Bytes.size() < sizeof(Header)) {
    Why = "shorter than its header";
  } else {
    std::memcpy(&H, Bytes.data(), sizeof(Header));
    if (std::memcmp(H.Magic, Magic, sizeof(Magic)) != 0)
      Why = "bad magic";
    else if (H.Format != FormatVersion)
      Why = "other format version";
    else if (H.PayloadSize != Bytes.size() - sizeof(Header))
      Why = "truncated or padded";
    else if (Key.size() != sizeof(H.Key) || std::memcmp(H.Key, Key.data(), sizeof(H.Key)) != 0)
      Why = "key mismatch";
    else if (llvm::xxh3_64bits(llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(Bytes.data()) +
                                                           sizeof(Header),
                                                       H.PayloadSize)) != H.PayloadHash)
      Why = "checksum mismatch";
  }
  if (Why) {
    CUSHIM_LOG_WARN("JIT cache: discarding corrupt entry {} ({}); the module is translated again", Path, Why);
    ::unlink(Path.c_str());
    ++Counters.Corrupt;
    ++Counters.Misses;
    return std::nullopt;
  }
  // Refresh the modification time: eviction removes the least recently used entries first.
  ::utimensat(AT_FDCWD, Path.c_str(), nullptr, 0);
  ++Counters.Hits;
  return Bytes.substr(sizeof(Header));
}

void JitCache::store(const std::string &Key, std::string_view Payload) {
  if (!Enabled || Key.size() != 64)
    return;
  if (Payload.size() + sizeof(Header) > MaxBytes) {
    CUSHIM_LOG_DEBUG("JIT cache: entry of {} bytes exceeds the cache size {}; not cached", Payload.size(), MaxBytes);
    return;
  }
  std::error_code Ec;
  fs::create_directories(Dir, Ec);
  Header H{};
  std::memcpy(H.Magic, Magic, sizeof(Magic));
  H.Format = FormatVersion;
  H.PayloadSize = Payload.size();
  H.PayloadHash = llvm::xxh3_64bits(
      llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(Payload.data()), Payload.size()));
  std::memcpy(H.Key, Key.data(), sizeof(H.Key));

  // A name no other thread or process uses; the rename publishes the complete entry atomically.
  static std::atomic<uint64_t> Counter{0};
  std::string Temp = fmt::format("{}/{}.{}.{}.{}{}", Dir, Key.substr(0, 16), getpid(),
                                 std::hash<std::thread::id>()(std::this_thread::get_id()) & 0xffffff, ++Counter,
                                 TempSuffix);
  FILE *F = std::fopen(Temp.c_str(), "wbx");
  if (!F) {
    CUSHIM_LOG_DEBUG("JIT cache: cannot create {}: {}", Temp, std::strerror(errno));
    return;
  }
  bool Ok = std::fwrite(&H, sizeof(H), 1, F) == 1 &&
            (Payload.empty() || std::fwrite(Payload.data(), Payload.size(), 1, F) == 1);
  Ok = (std::fclose(F) == 0) && Ok;
  if (!Ok || std::rename(Temp.c_str(), entryPath(Key).c_str()) != 0) {
    CUSHIM_LOG_DEBUG("JIT cache: cannot write {}: {}", entryPath(Key), std::strerror(errno));
    ::unlink(Temp.c_str());
    return;
  }
  ++Counters.Stores;
  evict();
}

std::optional<CompiledModule> JitCache::loadModule(const std::string &Key) {
  std::optional<std::string> Payload = load(Key);
  if (!Payload)
    return std::nullopt;
  std::optional<CompiledModule> M = deserializeModule(*Payload);
  if (!M) {
    // The checksum matched, so the writer produced this: a serializer bug, not disk corruption. Still recover.
    CUSHIM_LOG_WARN("JIT cache: entry {} does not decode; the module is translated again", entryPath(Key));
    ::unlink(entryPath(Key).c_str());
    ++Counters.Corrupt;
  }
  return M;
}

void JitCache::storeModule(const std::string &Key, const CompiledModule &M) {
  if (Enabled)
    store(Key, serializeModule(M));
}

void JitCache::evict() {
  if (!Enabled)
    return;
  // One evicting thread per process at a time; other processes may evict concurrently (removals are idempotent).
  static std::mutex Mutex;
  std::lock_guard<std::mutex> Lock(Mutex);
  struct Entry {
    fs::path Path;
    uint64_t Size;
    fs::file_time_type Time;
  };
  std::vector<Entry> Entries;
  uint64_t Total = 0;
  auto Now = fs::file_time_type::clock::now();
  std::error_code Ec;
  for (fs::directory_iterator It(Dir, Ec), End; !Ec && It != End; It.increment(Ec)) {
    std::error_code E2;
    const fs::path &P = It->path();
    std::string Ext = P.extension().string();
    if (Ext != EntrySuffix && Ext != TempSuffix)
      continue; // never touch files that are not ours
    uint64_t Size = It->file_size(E2);
    fs::file_time_type Time = It->last_write_time(E2);
    if (E2)
      continue;
    if (Ext == TempSuffix) {
      // A writer that died between create and rename; live writers finish within seconds.
      if (Now - Time > std::chrono::hours(1))
        fs::remove(P, E2);
      continue;
    }
    Entries.push_back({P, Size, Time});
    Total += Size;
  }
  if (Total <= MaxBytes)
    return;
  std::sort(Entries.begin(), Entries.end(), [](const Entry &A, const Entry &B) { return A.Time < B.Time; });
  // Down to 90% so that the next few stores do not each trigger another scan-and-delete.
  uint64_t Target = MaxBytes - MaxBytes / 10;
  for (const Entry &E : Entries) {
    if (Total <= Target)
      break;
    if (fs::remove(E.Path, Ec))
      ++Counters.Evictions;
    Total -= E.Size;
  }
  CUSHIM_LOG_DEBUG("JIT cache: evicted down to {} bytes", Total);
}

} // namespace cushim::core
