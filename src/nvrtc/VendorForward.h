// What our libnvrtc.so.13 and libnvJitLink.so.13 share: opening NVIDIA's library they forward to, and wrapping
// device code in a fatbinary cuda_shim's loader accepts (docs/EXPORT_TABLES.md, "NVRTC" and "nvJitLink").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cushim::vendor {

// NVIDIA's library, opened once by absolute path with RTLD_DEEPBIND: ours carries the same name on the loader path,
// and NVIDIA's internal calls must bind to its own definitions rather than to our forwarders. A missing library is
// logged once (Setting names the variable that overrides Path).
class VendorLibrary {
public:
  VendorLibrary(const char *What, std::string Path, const char *Setting);
  // The symbol, or NULL (logged) when the library or the symbol is missing.
  void *symbol(const char *Name) const;

private:
  const char *What;
  std::string Path;
  void *Handle = nullptr;
};

// A fatbin container (magic 0xba55ed50, docs/FATBIN.md) entry; kind 1 PTX, 2 ELF (cubin).
struct FatbinEntry {
  uint16_t Kind;
  uint32_t Arch;
  std::string Payload;
};
inline constexpr uint16_t FatbinPtx = 1, FatbinElf = 2;

std::string makeFatbin(const std::vector<FatbinEntry> &Entries);

// "sm_80" / "sm_90a" -> 80 / 90.
unsigned archNumber(const std::string &Arch);

} // namespace cushim::vendor
