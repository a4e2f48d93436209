// Opening NVIDIA's NVRTC / nvJitLink for our forwarders, and the fatbinary images their CUBIN answers become.
#include "VendorForward.h"

#include "support/Log.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>

namespace cushim::vendor {

VendorLibrary::VendorLibrary(const char *What, std::string Path, const char *Setting) : What(What), Path(std::move(Path)) {
  Handle = dlopen(this->Path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!Handle) {
    const char *E = dlerror();
    CUSHIM_LOG_ERROR("{}: cannot load NVIDIA's library from {} ({}); set {} to its path", What, this->Path,
                     E ? E : "unknown error", Setting);
  } else {
    CUSHIM_LOG_DEBUG("{}: forwarding to {}", What, this->Path);
  }
}

void *VendorLibrary::symbol(const char *Name) const {
  if (!Handle)
    return nullptr;
  void *P = dlsym(Handle, Name);
  if (!P)
    CUSHIM_LOG_ERROR("{}: {} has no {}", What, Path, Name);
  return P;
}

template <typename T> static void put(std::string &Out, size_t At, T V) { std::memcpy(Out.data() + At, &V, sizeof(T)); }

std::string makeFatbin(const std::vector<FatbinEntry> &Entries) {
  constexpr size_t HeaderSize = 0x40;
  std::string Body;
  for (const FatbinEntry &E : Entries) {
    std::string Payload = E.Payload;
    if (E.Kind == FatbinPtx)
      Payload.push_back('\0');
    Payload.resize((Payload.size() + 7) & ~size_t(7), '\0');
    std::string Header(HeaderSize, '\0');
    put<uint16_t>(Header, 0x00, E.Kind);
    put<uint16_t>(Header, 0x02, 0x0101);
    put<uint32_t>(Header, 0x04, HeaderSize);
    put<uint64_t>(Header, 0x08, Payload.size());
    put<uint32_t>(Header, 0x1c, E.Arch);
    put<uint64_t>(Header, 0x28, 0x11); // 64-bit, Linux host
    Body += Header;
    Body += Payload;
  }
  std::string Out(16, '\0');
  put<uint32_t>(Out, 0, 0xBA55ED50u);
  put<uint16_t>(Out, 4, 1);
  put<uint16_t>(Out, 6, 16);
  put<uint64_t>(Out, 8, Body.size());
  return Out + Body;
}

unsigned archNumber(const std::string &Arch) {
  return Arch.size() > 3 ? static_cast<unsigned>(std::atoi(Arch.c_str() + 3)) : 0;
}

} // namespace cushim::vendor
