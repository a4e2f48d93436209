// libnvJitLink.so.13: forwards every nvJitLink call to NVIDIA's nvJitLink (it links on any CPU) and makes the cubin
// of a link for a real architecture loadable by cuda_shim: a fatbinary holding NVIDIA's cubin and the linked
// program's PTX, which our loader translates (docs/EXPORT_TABLES.md, "nvJitLink"). The PTX comes from a second link
// of the same inputs with -ptx (LTO links) or is the one PTX input itself (plain links).
#include "VendorForward.h"

#include "support/Config.h"
#include "support/Log.h"

#include <fmt/format.h>

#define NVJITLINK_NO_INLINE // we define the plain names ourselves, as exported functions
#include <nvJitLink.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#define CUSHIM_NVJITLINK_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using cushim::vendor::FatbinEntry;

const cushim::vendor::VendorLibrary &nvidiaNvJitLink() {
  static const cushim::vendor::VendorLibrary Lib("nvJitLink",
                                                 cushim::config().NvidiaNvJitLink.empty()
                                                     ? CUSHIM_DEFAULT_NVIDIA_NVJITLINK
                                                     : cushim::config().NvidiaNvJitLink,
                                                 "CUSHIM_NVIDIA_NVJITLINK");
  return Lib;
}

template <typename Fn> Fn real(const char *Name) { return reinterpret_cast<Fn>(nvidiaNvJitLink().symbol(Name)); }

// NVIDIA's functions by their versioned names (what the header's inline wrappers call).
#define REAL(Name) real<decltype(&__##Name##_13_0)>("__" #Name "_13_0")

// Calls NVIDIA's Name with Args, or answers NVJITLINK_ERROR_INTERNAL when its library is missing.
#define FORWARD(Name, ...)                                                                                             \
  do {                                                                                                                 \
    static const auto Fn = REAL(Name);                                                                                 \
    if (!Fn)                                                                                                           \
      return NVJITLINK_ERROR_INTERNAL;                                                                                 \
    return Fn(__VA_ARGS__);                                                                                            \
  } while (0)

// --- What a link needs kept to produce PTX as well --------------------------------------------------------------------
struct Input {
  nvJitLinkInputType Type;
  std::string Data, Name;
};

struct LinkRecord {
  std::vector<std::string> Options;
  std::string Arch; // "sm_80"; empty for a virtual architecture
  bool Lto = false, PtxOutput = false;
  std::vector<Input> Inputs;
  std::optional<std::string> Image; // what nvJitLinkGetLinkedCubin returns, after a successful link
};

std::mutex LinkMutex;
std::map<nvJitLinkHandle, LinkRecord> &links() {
  static auto *M = new std::map<nvJitLinkHandle, LinkRecord>;
  return *M;
}

LinkRecord recordFor(uint32_t NumOptions, const char *const *Options) {
  LinkRecord R;
  for (uint32_t I = 0; I < NumOptions; ++I) {
    std::string O = Options[I] ? Options[I] : "";
    if (O.rfind("-arch=", 0) == 0)
      R.Arch = O.substr(6).rfind("sm_", 0) == 0 ? O.substr(6) : std::string();
    R.Lto |= O == "-lto";
    R.PtxOutput |= O == "-ptx";
    R.Options.push_back(std::move(O));
  }
  return R;
}

// NVJITLINK_INPUT_ANY resolved by content, as nvJitLink does for the kinds that can carry device code.
nvJitLinkInputType resolvedType(const Input &In) {
  if (In.Type != NVJITLINK_INPUT_ANY)
    return In.Type;
  const std::string &D = In.Data;
  uint32_t Magic = 0;
  if (D.size() >= 4)
    std::memcpy(&Magic, D.data(), 4);
  if (Magic == 0x464C457Fu) // "\x7fELF"
    return NVJITLINK_INPUT_CUBIN;
  if (Magic == 0xBA55ED50u)
    return NVJITLINK_INPUT_FATBIN;
  if (D.find(".version") != std::string::npos && D.find(".target") != std::string::npos)
    return NVJITLINK_INPUT_PTX;
  return NVJITLINK_INPUT_LTOIR;
}

const char *typeName(nvJitLinkInputType T) {
  switch (T) {
  case NVJITLINK_INPUT_CUBIN: return "cubin";
  case NVJITLINK_INPUT_PTX: return "PTX";
  case NVJITLINK_INPUT_LTOIR: return "LTO-IR";
  case NVJITLINK_INPUT_FATBIN: return "fatbin";
  case NVJITLINK_INPUT_OBJECT: return "host object";
  case NVJITLINK_INPUT_LIBRARY: return "host library";
  case NVJITLINK_INPUT_INDEX: return "index file";
  default: return "input";
  }
}

// The error log of a link, for our own messages.
std::string errorLog(nvJitLinkHandle H) {
  static const auto Size = REAL(nvJitLinkGetErrorLogSize);
  static const auto Get = REAL(nvJitLinkGetErrorLog);
  size_t N = 0;
  if (!Size || !Get || Size(H, &N) != NVJITLINK_SUCCESS || N == 0)
    return {};
  std::string Log(N, '\0');
  if (Get(H, Log.data()) != NVJITLINK_SUCCESS)
    return {};
  Log.resize(std::strlen(Log.c_str()));
  return Log;
}

// LTO links: the same inputs and options linked again with -ptx give the whole program as PTX.
std::optional<std::string> ltoPtx(const LinkRecord &Rec) {
  static const auto Create = REAL(nvJitLinkCreate);
  static const auto AddData = REAL(nvJitLinkAddData);
  static const auto Complete = REAL(nvJitLinkComplete);
  static const auto PtxSize = REAL(nvJitLinkGetLinkedPtxSize);
  static const auto GetPtx = REAL(nvJitLinkGetLinkedPtx);
  static const auto Destroy = REAL(nvJitLinkDestroy);
  if (!Create || !AddData || !Complete || !PtxSize || !GetPtx || !Destroy)
    return std::nullopt;
  std::vector<const char *> Opts;
  for (const std::string &O : Rec.Options)
    Opts.push_back(O.c_str());
  Opts.push_back("-ptx");
  nvJitLinkHandle Shadow = nullptr;
  nvJitLinkResult R = Create(&Shadow, static_cast<uint32_t>(Opts.size()), Opts.data());
  if (R != NVJITLINK_SUCCESS) {
    CUSHIM_LOG_WARN("nvJitLink: creating the -ptx link failed ({})", static_cast<int>(R));
    return std::nullopt;
  }
  for (const Input &In : Rec.Inputs)
    if (R == NVJITLINK_SUCCESS)
      R = AddData(Shadow, In.Type, In.Data.data(), In.Data.size(), In.Name.c_str());
  if (R == NVJITLINK_SUCCESS)
    R = Complete(Shadow);
  std::optional<std::string> Ptx;
  size_t Size = 0;
  if (R == NVJITLINK_SUCCESS && (R = PtxSize(Shadow, &Size)) == NVJITLINK_SUCCESS && Size > 0) {
    std::string Text(Size, '\0');
    if ((R = GetPtx(Shadow, Text.data())) == NVJITLINK_SUCCESS) {
      Text.resize(std::strlen(Text.c_str()));
      Ptx = std::move(Text);
    }
  }
  if (!Ptx)
    CUSHIM_LOG_WARN("nvJitLink: linking the same inputs with -ptx failed ({}): {}", static_cast<int>(R),
                    errorLog(Shadow));
  Destroy(&Shadow);
  return Ptx;
}

// Several PTX inputs of a plain link as one PTX module, which our loader translates as a whole: the inputs' texts
// one after another under a single header (the newest .version), each `.extern .func` that another input defines
// turned into a forward declaration of it (once, and only ahead of the definition). Inputs that share module variables (`.extern .global/.const/
// .shared`) or define the same name are not merged; WhyNot says why.
std::optional<std::string> mergePtx(const std::vector<const Input *> &Ptx, std::string &WhyNot) {
  static const std::regex Header(R"(^[ \t]*\.(version|target|address_size)[ \t]+([^\n]*))");
  static const std::regex Function(R"(((?:\.(?:extern|visible|weak)\s+)?)\.(?:func|entry)\s*(?:\([^)]*\)\s*)?([\w$]+)\s*(?:\([^)]*\))?[^;{]*([{;]))");
  static const std::regex ExternVariable(R"(\.extern\s+\.(?:global|const|shared)\b)");
  std::set<std::string> Defined;
  std::string Version = "0.0", Target, AddressSize;
  for (const Input *In : Ptx) {
    if (std::regex_search(In->Data, ExternVariable)) {
      WhyNot = fmt::format("input '{}' declares an .extern variable (module variables shared between PTX inputs are "
                           "not merged)", In->Name);
      return std::nullopt;
    }
    for (std::sregex_iterator It(In->Data.begin(), In->Data.end(), Function), End; It != End; ++It)
      if ((*It)[3] == "{" && !Defined.insert((*It)[2]).second) {
        WhyNot = fmt::format("'{}' is defined by more than one PTX input", (*It)[2].str());
        return std::nullopt;
      }
  }
  std::string Body;
  std::set<std::string> Declared;
  for (const Input *In : Ptx) {
    const std::string Data(In->Data.c_str()); // without the NUL that ends NVRTC's PTX
    std::string Text;
    std::string::const_iterator Last = Data.begin();
    for (std::sregex_iterator It(Data.begin(), Data.end(), Function), End; It != End; ++It) {
      const std::smatch &M = *It;
      bool Extern = M[1].str().find(".extern") != std::string::npos;
      Text.append(Last, M[0].first);
      Last = M[0].second;
      if (!Extern || !Defined.count(M[2])) {
        if (M[3] == "{")
          Declared.insert(M[2]);
        Text.append(M[0].first, M[0].second);
        continue;
      }
      // Declared once, ahead of a later input's definition; dropped when the definition came first.
      if (Declared.insert(M[2]).second)
        Text += ".visible " + std::string(M[1].second, M[0].second);
    }
    Text.append(Last, Data.cend());
    std::istringstream Lines(Text);
    for (std::string Line; std::getline(Lines, Line);) {
      std::smatch M;
      if (!std::regex_search(Line, M, Header)) {
        Body += Line + "\n";
        continue;
      }
      if (M[1] == "version" && std::stod(M[2].str()) > std::stod(Version))
        Version = M[2].str();
      else if (M[1] == "target" && Target.empty())
        Target = M[2].str();
      else if (M[1] == "address_size" && AddressSize.empty())
        AddressSize = M[2].str();
    }
  }
  return fmt::format(".version {}\n.target {}\n.address_size {}\n\n{}", Version, Target,
                     AddressSize.empty() ? "64" : AddressSize, Body);
}

// Plain links: the PTX inputs stand for the whole program (NVIDIA's link of them only runs ptxas); several are merged
// into one module. Cubins are NVIDIA machine code, and other inputs carry no PTX we use. Says why not otherwise.
std::optional<std::string> plainPtx(const LinkRecord &Rec, std::string &WhyNot) {
  std::vector<const Input *> Ptx;
  for (const Input &In : Rec.Inputs) {
    nvJitLinkInputType T = resolvedType(In);
    if (T == NVJITLINK_INPUT_PTX) {
      Ptx.push_back(&In);
      continue;
    }
    WhyNot = fmt::format("input '{}' is a {}, which carries no PTX cuda_shim can use", In.Name, typeName(T));
    return std::nullopt;
  }
  if (Ptx.empty()) {
    WhyNot = "it has no PTX input";
    return std::nullopt;
  }
  if (Ptx.size() == 1)
    return Ptx[0]->Data;
  return mergePtx(Ptx, WhyNot);
}

// After NVIDIA's link succeeded: the fatbinary GetLinkedCubin will return, or nothing (logged) when the link cannot
// carry PTX, in which case the program gets NVIDIA's cubin and cuModuleLoadData refuses it with
// CUDA_ERROR_NO_BINARY_FOR_GPU.
void makeLoadable(nvJitLinkHandle H, LinkRecord &Rec) {
  if (Rec.Arch.empty() || Rec.PtxOutput)
    return;
  std::string WhyNot;
  std::optional<std::string> Ptx = Rec.Lto ? ltoPtx(Rec) : plainPtx(Rec, WhyNot);
  if (!Ptx) {
    CUSHIM_LOG_WARN("nvJitLink: the cubin of this {} link is NVIDIA machine code only, which cuda_shim cannot "
                    "load{}{}",
                    Rec.Lto ? "LTO" : "plain", WhyNot.empty() ? "" : ": ", WhyNot);
    return;
  }
  static const auto CubinSize = REAL(nvJitLinkGetLinkedCubinSize);
  static const auto GetCubin = REAL(nvJitLinkGetLinkedCubin);
  unsigned Arch = cushim::vendor::archNumber(Rec.Arch);
  std::vector<FatbinEntry> Entries;
  size_t Size = 0;
  if (CubinSize && GetCubin && CubinSize(H, &Size) == NVJITLINK_SUCCESS && Size > 0) {
    std::string Cubin(Size, '\0');
    if (GetCubin(H, Cubin.data()) == NVJITLINK_SUCCESS)
      Entries.push_back({cushim::vendor::FatbinElf, Arch, std::move(Cubin)});
  }
  Entries.push_back({cushim::vendor::FatbinPtx, Arch, std::move(*Ptx)});
  Rec.Image = cushim::vendor::makeFatbin(Entries);
  CUSHIM_LOG_DEBUG("nvJitLink: {} link for {}: the linked cubin is a {}-byte fatbinary with NVIDIA's cubin and PTX",
                   Rec.Lto ? "LTO" : "plain", Rec.Arch, Rec.Image->size());
}

const std::string *shimImage(nvJitLinkHandle H) {
  std::lock_guard<std::mutex> G(LinkMutex);
  auto It = links().find(H);
  return It != links().end() && It->second.Image ? &*It->second.Image : nullptr;
}

void noteInput(nvJitLinkHandle H, nvJitLinkInputType Type, std::string Data, const char *Name) {
  std::lock_guard<std::mutex> G(LinkMutex);
  auto It = links().find(H);
  if (It != links().end())
    It->second.Inputs.push_back({Type, std::move(Data), Name ? Name : ""});
}

// --- The entry points, under both names: the versioned one the header's inline wrappers call, and the plain one ------
nvJitLinkResult create(nvJitLinkHandle *Handle, uint32_t NumOptions, const char *const *Options) {
  static const auto Fn = REAL(nvJitLinkCreate);
  if (!Fn)
    return NVJITLINK_ERROR_INTERNAL;
  nvJitLinkResult R = Fn(Handle, NumOptions, const_cast<const char **>(Options));
  if (R != NVJITLINK_SUCCESS || !Handle || (NumOptions && !Options))
    return R;
  std::lock_guard<std::mutex> G(LinkMutex);
  links()[*Handle] = recordFor(NumOptions, Options);
  return R;
}

nvJitLinkResult destroy(nvJitLinkHandle *Handle) {
  if (Handle) {
    std::lock_guard<std::mutex> G(LinkMutex);
    links().erase(*Handle);
  }
  FORWARD(nvJitLinkDestroy, Handle);
}

nvJitLinkResult addData(nvJitLinkHandle H, nvJitLinkInputType Type, const void *Data, size_t Size, const char *Name) {
  static const auto Fn = REAL(nvJitLinkAddData);
  if (!Fn)
    return NVJITLINK_ERROR_INTERNAL;
  nvJitLinkResult R = Fn(H, Type, Data, Size, Name);
  if (R == NVJITLINK_SUCCESS && Data)
    noteInput(H, Type, std::string(static_cast<const char *>(Data), Size), Name);
  return R;
}

nvJitLinkResult addFile(nvJitLinkHandle H, nvJitLinkInputType Type, const char *FileName) {
  static const auto Fn = REAL(nvJitLinkAddFile);
  if (!Fn)
    return NVJITLINK_ERROR_INTERNAL;
  nvJitLinkResult R = Fn(H, Type, FileName);
  if (R != NVJITLINK_SUCCESS || !FileName)
    return R;
  std::ifstream In(FileName, std::ios::binary);
  std::ostringstream Data;
  Data << In.rdbuf();
  if (!In)
    CUSHIM_LOG_WARN("nvJitLink: cannot read '{}' again; its link will give NVIDIA's cubin only", FileName);
  noteInput(H, Type, Data.str(), FileName);
  return R;
}

nvJitLinkResult complete(nvJitLinkHandle H) {
  static const auto Fn = REAL(nvJitLinkComplete);
  if (!Fn)
    return NVJITLINK_ERROR_INTERNAL;
  // NVIDIA's link is the one the program sees: its logs, errors and results.
  nvJitLinkResult R = Fn(H);
  if (R != NVJITLINK_SUCCESS)
    return R;
  LinkRecord Rec;
  {
    std::lock_guard<std::mutex> G(LinkMutex);
    auto It = links().find(H);
    if (It == links().end())
      return R;
    Rec = It->second;
  }
  makeLoadable(H, Rec);
  std::lock_guard<std::mutex> G(LinkMutex);
  auto It = links().find(H);
  if (It != links().end())
    It->second.Image = std::move(Rec.Image);
  return R;
}

nvJitLinkResult linkedCubinSize(nvJitLinkHandle H, size_t *Size) {
  if (const std::string *Image = shimImage(H)) {
    if (!Size)
      return NVJITLINK_ERROR_NULL_INPUT;
    *Size = Image->size();
    return NVJITLINK_SUCCESS;
  }
  FORWARD(nvJitLinkGetLinkedCubinSize, H, Size);
}

nvJitLinkResult linkedCubin(nvJitLinkHandle H, void *Cubin) {
  if (const std::string *Image = shimImage(H)) {
    if (!Cubin)
      return NVJITLINK_ERROR_NULL_INPUT;
    std::memcpy(Cubin, Image->data(), Image->size());
    return NVJITLINK_SUCCESS;
  }
  FORWARD(nvJitLinkGetLinkedCubin, H, Cubin);
}

} // namespace

// clang-format off
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkCreate_13_0(nvJitLinkHandle *H, uint32_t N, const char *const *O) { return create(H, N, O); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkCreate(nvJitLinkHandle *H, uint32_t N, const char **O) { return create(H, N, O); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkDestroy_13_0(nvJitLinkHandle *H) { return destroy(H); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkDestroy(nvJitLinkHandle *H) { return destroy(H); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkAddData_13_0(nvJitLinkHandle H, nvJitLinkInputType T, const void *D, size_t S, const char *N) { return addData(H, T, D, S, N); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkAddData(nvJitLinkHandle H, nvJitLinkInputType T, const void *D, size_t S, const char *N) { return addData(H, T, D, S, N); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkAddFile_13_0(nvJitLinkHandle H, nvJitLinkInputType T, const char *F) { return addFile(H, T, F); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkAddFile(nvJitLinkHandle H, nvJitLinkInputType T, const char *F) { return addFile(H, T, F); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkComplete_13_0(nvJitLinkHandle H) { return complete(H); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkComplete(nvJitLinkHandle H) { return complete(H); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkGetLinkedCubinSize_13_0(nvJitLinkHandle H, size_t *S) { return linkedCubinSize(H, S); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkGetLinkedCubinSize(nvJitLinkHandle H, size_t *S) { return linkedCubinSize(H, S); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __nvJitLinkGetLinkedCubin_13_0(nvJitLinkHandle H, void *C) { return linkedCubin(H, C); }
CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkGetLinkedCubin(nvJitLinkHandle H, void *C) { return linkedCubin(H, C); }
// clang-format on

// Everything else is NVIDIA's answer.
#define PASS_THROUGH(Name, Params, ...)                                                                                \
  CUSHIM_NVJITLINK_EXPORT nvJitLinkResult __##Name##_13_0 Params { FORWARD(Name, __VA_ARGS__); }                      \
  CUSHIM_NVJITLINK_EXPORT nvJitLinkResult Name Params { FORWARD(Name, __VA_ARGS__); }

PASS_THROUGH(nvJitLinkGetLinkedPtxSize, (nvJitLinkHandle H, size_t *S), H, S)
PASS_THROUGH(nvJitLinkGetLinkedPtx, (nvJitLinkHandle H, char *P), H, P)
PASS_THROUGH(nvJitLinkGetErrorLogSize, (nvJitLinkHandle H, size_t *S), H, S)
PASS_THROUGH(nvJitLinkGetErrorLog, (nvJitLinkHandle H, char *L), H, L)
PASS_THROUGH(nvJitLinkGetInfoLogSize, (nvJitLinkHandle H, size_t *S), H, S)
PASS_THROUGH(nvJitLinkGetInfoLog, (nvJitLinkHandle H, char *L), H, L)

CUSHIM_NVJITLINK_EXPORT nvJitLinkResult nvJitLinkVersion(unsigned int *Major, unsigned int *Minor) {
  static const auto Fn = real<decltype(&nvJitLinkVersion)>("nvJitLinkVersion");
  if (!Fn)
    return NVJITLINK_ERROR_INTERNAL;
  return Fn(Major, Minor);
}
