// The on-disk JIT cache (src/core/JitCache.*): keys, round trips, corrupt and truncated entries, eviction by size
// and age of use, concurrent writers (threads and processes), and the module payload encoding.
#include "core/JitCache.h"

#include "support/Config.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

using namespace cushim;
using namespace cushim::core;
namespace fs = std::filesystem;

namespace {

// A fresh directory per test, removed afterwards.
struct TempDir {
  fs::path Path;
  TempDir() {
    char Template[] = "/tmp/cushim-jitcache-XXXXXX";
    Path = mkdtemp(Template);
  }
  ~TempDir() {
    std::error_code Ec;
    fs::remove_all(Path, Ec);
  }
  std::string str() const { return Path.string(); }
};

JitCache makeCache(const TempDir &D, uint64_t MaxBytes = 0, bool Enabled = true) {
  JitCache::Settings S;
  S.Dir = D.str();
  S.Enabled = Enabled;
  S.MaxBytes = MaxBytes;
  return JitCache(S);
}

cushim_hal_target target(const char *Cpu = "znver3", const char *Features = "+avx2") {
  return cushim_hal_target{"x86_64-pc-linux-gnu", Cpu, Features, ""};
}

size_t countFiles(const TempDir &D, const std::string &Ext) {
  size_t N = 0;
  for (const auto &E : fs::directory_iterator(D.Path))
    N += E.path().extension() == Ext;
  return N;
}

std::string payload(size_t Bytes, char Seed) {
  std::string S(Bytes, '\0');
  for (size_t I = 0; I < Bytes; ++I)
    S[I] = static_cast<char>(Seed + I * 31);
  return S;
}

} // namespace

TEST_CASE("JitCache keys depend on PTX, target, options and nothing else") {
  std::string K = JitCache::key(".entry a {}", target(), "O2");
  CHECK(K.size() == 64);
  CHECK(K == JitCache::key(".entry a {}", target(), "O2"));
  CHECK(K != JitCache::key(".entry b {}", target(), "O2"));
  CHECK(K != JitCache::key(".entry a {}", target("skylake"), "O2"));
  CHECK(K != JitCache::key(".entry a {}", target("znver3", "+avx2,+avx512f"), "O2"));
  CHECK(K != JitCache::key(".entry a {}", target(), "O3"));
  // Field boundaries are length-prefixed: moving a character from one field to the next changes the key.
  CHECK(JitCache::key("ab", target(), "c") != JitCache::key("a", target(), "bc"));
}

TEST_CASE("JitCache stores and loads payloads, and counts hits and misses") {
  TempDir D;
  JitCache C = makeCache(D);
  REQUIRE(C.enabled());
  std::string K = JitCache::key("ptx", target(), "O2");
  CHECK_FALSE(C.load(K).has_value());
  CHECK(C.stats().Misses == 1);
  std::string P = payload(10000, 7);
  C.store(K, P);
  CHECK(C.stats().Stores == 1);
  auto Got = C.load(K);
  REQUIRE(Got.has_value());
  CHECK(*Got == P);
  CHECK(C.stats().Hits == 1);
  // A second cache object on the same directory (another process, in effect) sees the entry.
  JitCache Other = makeCache(D);
  CHECK(Other.load(K) == P);
  // An empty payload is a valid entry too.
  std::string K2 = JitCache::key("ptx2", target(), "O2");
  C.store(K2, "");
  CHECK(C.load(K2) == std::string());
  CHECK(countFiles(D, ".part") == 0);
}

TEST_CASE("JitCache disabled by CUDA_CACHE_DISABLE or without a directory reads and writes nothing") {
  TempDir D;
  JitCache C = makeCache(D, 0, /*Enabled=*/false);
  CHECK_FALSE(C.enabled());
  std::string K = JitCache::key("ptx", target(), "O2");
  C.store(K, "data");
  CHECK_FALSE(C.load(K).has_value());
  CHECK(fs::is_empty(D.Path));
  JitCache::Settings S;
  JitCache NoDir(S);
  CHECK_FALSE(NoDir.enabled());
}

TEST_CASE("JitCache settings come from CUSHIM_CACHE_PATH, CUDA_CACHE_DISABLE and CUDA_CACHE_MAXSIZE") {
  static std::map<std::string, std::string> Env;
  auto GetEnv = [](const char *Name) -> const char * {
    auto It = Env.find(Name);
    return It == Env.end() ? nullptr : It->second.c_str();
  };
  Env = {{"HOME", "/home/u"}};
  JitCache Default(JitCache::settingsFrom(parseConfig(GetEnv)));
  CHECK(Default.enabled());
  CHECK(Default.directory() == "/home/u/.cache/cuda_shim");
  CHECK(Default.maxBytes() == JitCache::DefaultMaxBytes);
  Env = {{"HOME", "/home/u"}, {"CUSHIM_CACHE_PATH", "/tmp/x"}, {"CUDA_CACHE_MAXSIZE", "1048576"}};
  JitCache Custom(JitCache::settingsFrom(parseConfig(GetEnv)));
  CHECK(Custom.directory() == "/tmp/x");
  CHECK(Custom.maxBytes() == 1048576);
  Env = {{"HOME", "/home/u"}, {"CUDA_CACHE_MAXSIZE", "99999999999999"}};
  CHECK(JitCache(JitCache::settingsFrom(parseConfig(GetEnv))).maxBytes() == JitCache::LimitMaxBytes);
  Env = {{"HOME", "/home/u"}, {"CUDA_CACHE_DISABLE", "1"}};
  CHECK_FALSE(JitCache(JitCache::settingsFrom(parseConfig(GetEnv))).enabled());
}

TEST_CASE("JitCache detects corrupt, truncated and misplaced entries and recovers") {
  TempDir D;
  JitCache C = makeCache(D);
  std::string K = JitCache::key("ptx", target(), "O2"), P = payload(4096, 3);

  SECTION("a flipped payload byte fails the checksum") {
    C.store(K, P);
    {
      std::fstream F(C.entryPath(K), std::ios::in | std::ios::out | std::ios::binary);
      F.seekp(96 + 1000);
      F.put('\x5a' ^ P[1000]);
    }
    CHECK_FALSE(C.load(K).has_value());
    CHECK(C.stats().Corrupt == 1);
    CHECK_FALSE(fs::exists(C.entryPath(K))); // removed, so the next store replaces it
  }
  SECTION("a truncated entry (a writer killed mid-way without our rename, or a full disk)") {
    C.store(K, P);
    fs::resize_file(C.entryPath(K), 96 + 100);
    CHECK_FALSE(C.load(K).has_value());
    CHECK(C.stats().Corrupt == 1);
    CHECK_FALSE(fs::exists(C.entryPath(K)));
  }
  SECTION("an empty file and a garbage file") {
    std::ofstream(C.entryPath(K)).close();
    CHECK_FALSE(C.load(K).has_value());
    std::ofstream(C.entryPath(K)) << std::string(500, 'x');
    CHECK_FALSE(C.load(K).has_value());
    CHECK(C.stats().Corrupt == 2);
  }
  SECTION("an entry copied under another key") {
    std::string K2 = JitCache::key("other", target(), "O2");
    C.store(K2, P);
    fs::copy_file(C.entryPath(K2), C.entryPath(K));
    CHECK_FALSE(C.load(K).has_value());
    CHECK(C.load(K2) == P);
  }
  // Whatever happened, storing again gives a good entry.
  C.store(K, P);
  CHECK(C.load(K) == P);
}

TEST_CASE("JitCache evicts the least recently used entries beyond CUDA_CACHE_MAXSIZE") {
  TempDir D;
  // Room for three entries of 1000 + 96 bytes.
  JitCache C = makeCache(D, 3500);
  std::vector<std::string> Keys;
  auto T0 = fs::file_time_type::clock::now() - std::chrono::hours(10);
  for (int I = 0; I < 3; ++I) {
    Keys.push_back(JitCache::key("ptx" + std::to_string(I), target(), "O2"));
    C.store(Keys.back(), payload(1000, static_cast<char>(I)));
    fs::last_write_time(C.entryPath(Keys.back()), T0 + std::chrono::minutes(I)); // entry 0 is the oldest
  }
  CHECK(C.stats().Evictions == 0);
  // Using entry 0 makes entry 1 the least recently used.
  REQUIRE(C.load(Keys[0]).has_value());
  // A file that is not ours is never evicted, whatever its age.
  std::ofstream(D.Path / "user-notes.txt") << "keep me";
  fs::last_write_time(D.Path / "user-notes.txt", T0 - std::chrono::hours(100));
  Keys.push_back(JitCache::key("ptx3", target(), "O2"));
  C.store(Keys.back(), payload(1000, 3));
  CHECK(C.stats().Evictions >= 1);
  CHECK_FALSE(fs::exists(C.entryPath(Keys[1])));
  CHECK(fs::exists(C.entryPath(Keys[0])));
  CHECK(fs::exists(C.entryPath(Keys[3])));
  CHECK(fs::exists(D.Path / "user-notes.txt"));
  uint64_t Total = 0;
  for (const auto &E : fs::directory_iterator(D.Path))
    if (E.path().extension() == ".jit")
      Total += E.file_size();
  CHECK(Total <= 3500);
  // An entry larger than the whole cache is not stored (as CUDA does with CUDA_CACHE_MAXSIZE).
  std::string Big = JitCache::key("big", target(), "O2");
  C.store(Big, payload(5000, 9));
  CHECK_FALSE(fs::exists(C.entryPath(Big)));
  // Stale temporary files of writers that died are cleaned up; fresh ones (live writers) are not.
  std::ofstream(D.Path / "dead.1.2.3.part") << "x";
  fs::last_write_time(D.Path / "dead.1.2.3.part", T0);
  std::ofstream(D.Path / "live.1.2.3.part") << "x";
  C.evict();
  CHECK_FALSE(fs::exists(D.Path / "dead.1.2.3.part"));
  CHECK(fs::exists(D.Path / "live.1.2.3.part"));
}

TEST_CASE("JitCache entries written concurrently by threads and processes are never seen partially") {
  TempDir D;
  const int Keys = 4, Rounds = 40;
  auto keyOf = [](int I) { return JitCache::key("concurrent" + std::to_string(I), target(), "O2"); };
  auto payloadOf = [](int I) { return payload(200000 + I * 1000, static_cast<char>(I)); };
  // Two child processes and four threads here all store and load the same keys.
  std::vector<pid_t> Children;
  for (int P = 0; P < 2; ++P) {
    pid_t Pid = fork();
    REQUIRE(Pid >= 0);
    if (Pid == 0) {
      JitCache C = makeCache(D);
      int Bad = 0;
      for (int R = 0; R < Rounds; ++R)
        for (int I = 0; I < Keys; ++I) {
          C.store(keyOf(I), payloadOf(I));
          auto Got = C.load(keyOf((I + 1) % Keys));
          Bad += Got && *Got != payloadOf((I + 1) % Keys);
        }
      _exit(Bad == 0 && C.stats().Corrupt == 0 ? 0 : 1);
    }
    Children.push_back(Pid);
  }
  std::atomic<int> Bad{0};
  JitCache C = makeCache(D);
  std::vector<std::thread> Threads;
  for (int T = 0; T < 4; ++T)
    Threads.emplace_back([&, T] {
      for (int R = 0; R < Rounds; ++R)
        for (int I = 0; I < Keys; ++I) {
          int J = (I + T) % Keys;
          if (auto Got = C.load(keyOf(J)); Got && *Got != payloadOf(J))
            ++Bad;
          C.store(keyOf(J), payloadOf(J));
        }
    });
  for (auto &T : Threads)
    T.join();
  for (pid_t Pid : Children) {
    int Status = 0;
    REQUIRE(waitpid(Pid, &Status, 0) == Pid);
    CHECK((WIFEXITED(Status) && WEXITSTATUS(Status) == 0));
  }
  CHECK(Bad == 0);
  CHECK(C.stats().Corrupt == 0);
  CHECK(countFiles(D, ".part") == 0);
  for (int I = 0; I < Keys; ++I)
    CHECK(C.load(keyOf(I)) == payloadOf(I));
}

TEST_CASE("JitCache module payloads round-trip every field") {
  CompiledModule M;
  M.Object = payload(3000, 1);
  ptx::KernelInfo K;
  K.Name = "kernel_a";
  K.Params = {{0, 8, 8}, {8, 4, 4}};
  K.ParamSize = 12;
  K.StaticSharedSize = 1024;
  K.LocalSize = 64;
  K.Flags = 5;
  K.MaxThreads = 256;
  K.ReqNTid = std::vector<uint32_t>{16, 16, 1};
  M.Kernels.push_back(K);
  ptx::KernelInfo K2;
  K2.Name = "kernel_b";
  M.Kernels.push_back(K2);
  ptx::GlobalInfo G;
  G.Name = "table";
  G.Space = ptx::StateSpace::Const;
  G.Size = 4096;
  G.Managed = true;
  M.Globals.push_back(G);

  std::string Bytes = serializeModule(M);
  auto Back = deserializeModule(Bytes);
  REQUIRE(Back.has_value());
  CHECK(Back->Object == M.Object);
  REQUIRE(Back->Kernels.size() == 2);
  const ptx::KernelInfo &A = Back->Kernels[0];
  CHECK(A.Name == "kernel_a");
  REQUIRE(A.Params.size() == 2);
  CHECK((A.Params[1].Offset == 8 && A.Params[1].Size == 4 && A.Params[1].Align == 4));
  CHECK((A.ParamSize == 12 && A.StaticSharedSize == 1024 && A.LocalSize == 64 && A.Flags == 5 &&
         A.MaxThreads == 256));
  REQUIRE(A.ReqNTid.has_value());
  CHECK(*A.ReqNTid == std::vector<uint32_t>{16, 16, 1});
  CHECK_FALSE(Back->Kernels[1].ReqNTid.has_value());
  REQUIRE(Back->Globals.size() == 1);
  CHECK((Back->Globals[0].Name == "table" && Back->Globals[0].Space == ptx::StateSpace::Const &&
         Back->Globals[0].Size == 4096 && Back->Globals[0].Managed));
  // Every truncation is rejected, never read past the end.
  for (size_t N = 0; N < Bytes.size(); N += 97)
    CHECK_FALSE(deserializeModule(std::string_view(Bytes).substr(0, N)).has_value());
  CHECK_FALSE(deserializeModule(Bytes + "x").has_value());

  TempDir D;
  JitCache C = makeCache(D);
  std::string Key = JitCache::key("module", target(), "O2");
  C.storeModule(Key, M);
  auto Loaded = C.loadModule(Key);
  REQUIRE(Loaded.has_value());
  CHECK(Loaded->Kernels[0].Name == "kernel_a");
}

TEST_CASE("JitCache knows the lowering's structures") {
  // When this fails, ptx::KernelInfo, GlobalInfo or ParamInfo gained a field: encode it in serializeModule /
  // deserializeModule (src/core/JitCache.cpp), update the Known*Size constants there and the round-trip test above.
  // Until then the cache switches itself off rather than drop the field.
  CHECK(sizeof(ptx::KernelInfo) == 112);
  CHECK(sizeof(ptx::GlobalInfo) == 56);
  CHECK(sizeof(ptx::ParamInfo) == 12);
}
