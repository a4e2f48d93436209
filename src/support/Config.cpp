// Parses the environment once into a Config.
#include "support/Config.h"

#include <cstdlib>
#include <initializer_list>
#include <sstream>

namespace cushim {

static bool parseBool(const char *V) { return V && (std::string(V) == "1" || std::string(V) == "true"); }

// A variable that takes one of a few words: Field gets it when set to one of Choices, else a problem names them
// (Expected: how to say so, e.g. "t0, t1 or t2").
static void parseChoice(Config &C, const char *(*GetEnv)(const char *), const char *Name,
                        std::initializer_list<const char *> Choices, const char *Expected, std::string &Field) {
  const char *V = GetEnv(Name);
  if (!V || !*V)
    return;
  for (const char *Choice : Choices)
    if (std::string(V) == Choice) {
      Field = V;
      return;
    }
  C.Problems.push_back(std::string("ignoring ") + Name + "=" + V + " (expected " + Expected + ")");
}

Config parseConfig(const char *(*GetEnv)(const char *Name)) {
  Config C;
  if (const char *V = GetEnv("CUSHIM_LOG"); V && *V)
    C.LogLevel = V;
  if (const char *V = GetEnv("CUSHIM_LOG_FILE"))
    C.LogFile = V;
  C.Trace = parseBool(GetEnv("CUSHIM_TRACE"));
  if (const char *V = GetEnv("CUSHIM_DUMP_DIR"))
    C.DumpDir = V;
  if (const char *V = GetEnv("CUSHIM_CACHE_PATH"); V && *V)
    C.CachePath = V;
  else if (const char *Home = GetEnv("HOME"); Home && *Home)
    C.CachePath = std::string(Home) + "/.cache/cuda_shim";
  C.CacheDisabled = parseBool(GetEnv("CUDA_CACHE_DISABLE"));
  if (const char *V = GetEnv("CUDA_CACHE_MAXSIZE"); V && *V)
    C.CacheMaxSize = std::strtoull(V, nullptr, 10);
  if (const char *V = GetEnv("CUSHIM_DEVICES"); V && *V) {
    int N = std::atoi(V);
    if (N >= 1 && N <= 64)
      C.Devices = N;
    else
      C.Problems.push_back(std::string("ignoring CUSHIM_DEVICES=") + V + " (expected 1..64)");
  }
  if (const char *V = GetEnv("CUSHIM_CC"); V && *V) {
    std::string S = V;
    int Major = -1, Minor = -1;
    if (auto Dot = S.find('.'); Dot != std::string::npos) {
      Major = std::atoi(S.substr(0, Dot).c_str());
      Minor = std::atoi(S.substr(Dot + 1).c_str());
    } else if (S.size() >= 2) {
      Major = std::atoi(S.substr(0, S.size() - 1).c_str());
      Minor = S.back() - '0';
    }
    if (Major >= 5 && Major <= 12 && Minor >= 0 && Minor <= 9) {
      C.CcMajor = Major;
      C.CcMinor = Minor;
    } else {
      C.Problems.push_back("ignoring CUSHIM_CC=" + S + " (expected e.g. 8.0 or 86)");
    }
  }
  parseChoice(C, GetEnv, "CUSHIM_ENGINE", {"t0", "t1", "t2"}, "t0, t1 or t2", C.Engine);
  parseChoice(C, GetEnv, "CUSHIM_SPECIALISE", {"auto", "async", "sync", "off"}, "auto, sync, async or off",
              C.Specialise);
  parseChoice(C, GetEnv, "CUSHIM_STREAM_STORES", {"auto", "always", "never"}, "auto, always or never",
              C.StreamStores);
  if (const char *V = GetEnv("CUSHIM_WORKERS"); V && *V)
    C.Workers = std::max(0, std::atoi(V));
  if (const char *V = GetEnv("CUSHIM_STACK_SIZE"); V && *V) {
    char *End = nullptr;
    unsigned long long Value = std::strtoull(V, &End, 10);
    if (End && (*End == 'k' || *End == 'K'))
      Value *= 1024;
    else if (End && (*End == 'm' || *End == 'M'))
      Value *= 1024 * 1024;
    if (Value >= 16 * 1024)
      C.StackSize = static_cast<size_t>(Value);
    else
      C.Problems.push_back(std::string("ignoring CUSHIM_STACK_SIZE=") + V + " (expected a size of at least 16K)");
  }
  if (const char *V = GetEnv("CUSHIM_WATCHDOG_MS"); V && *V) {
    char *End = nullptr;
    unsigned long Value = std::strtoul(V, &End, 10);
    if (End && *End == '\0' && Value <= 24ul * 3600 * 1000)
      C.WatchdogMs = static_cast<unsigned>(Value);
    else
      C.Problems.push_back(std::string("ignoring CUSHIM_WATCHDOG_MS=") + V + " (expected milliseconds, 0: off)");
  }
  C.LaunchBlocking = parseBool(GetEnv("CUDA_LAUNCH_BLOCKING"));
  if (const char *V = GetEnv("CUDA_VISIBLE_DEVICES")) {
    std::vector<int> Ids;
    std::stringstream SS(V);
    std::string Item;
    while (std::getline(SS, Item, ',')) {
      if (Item.empty())
        break;
      char *End = nullptr;
      long Id = std::strtol(Item.c_str(), &End, 10);
      if (*End != '\0' || Id < 0)
        break; // CUDA stops at the first invalid entry
      Ids.push_back(static_cast<int>(Id));
    }
    C.VisibleDevices = Ids;
    std::vector<std::string> Entries;
    std::stringstream All(V);
    while (std::getline(All, Item, ',') && !Item.empty())
      Entries.push_back(Item);
    C.VisibleDeviceEntries = Entries;
  }
  if (const char *V = GetEnv("CUSHIM_NVIDIA_NVRTC"))
    C.NvidiaNvrtc = V;
  if (const char *V = GetEnv("CUSHIM_NVIDIA_NVJITLINK"))
    C.NvidiaNvJitLink = V;
  if (const char *V = GetEnv("CUDA_MODULE_LOADING")) {
    C.ModuleLoading = V;
    if (C.ModuleLoading != "LAZY" && C.ModuleLoading != "EAGER")
      C.Problems.push_back("CUDA_MODULE_LOADING=" + C.ModuleLoading + ": expected LAZY or EAGER, using LAZY");
  }
  return C;
}

const Config &config() {
  static const Config C = parseConfig([](const char *Name) -> const char * { return std::getenv(Name); });
  return C;
}

} // namespace cushim
