// libnvrtc.so.13: forwards every NVRTC call to NVIDIA's NVRTC (it compiles on any CPU) and makes the CUBIN of a
// program compiled for a real architecture (sm_XX) loadable by cuda_shim: a fatbinary holding NVIDIA's cubin and the
// same program's PTX for compute_XX, which our loader translates (docs/EXPORT_TABLES.md, "NVRTC").
#include "VendorForward.h"

#include "support/Config.h"
#include "support/Log.h"

#include <nvrtc.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#define CUSHIM_NVRTC_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

// --- NVIDIA's library ------------------------------------------------------------------------------------------------
const cushim::vendor::VendorLibrary &nvidiaNvrtc() {
  static const cushim::vendor::VendorLibrary Lib("NVRTC",
                                                 cushim::config().NvidiaNvrtc.empty() ? CUSHIM_DEFAULT_NVIDIA_NVRTC
                                                                                      : cushim::config().NvidiaNvrtc,
                                                 "CUSHIM_NVIDIA_NVRTC");
  return Lib;
}

template <typename Fn> Fn real(const char *Name) { return reinterpret_cast<Fn>(nvidiaNvrtc().symbol(Name)); }

// Calls NVIDIA's Name with Args, or answers NVRTC_ERROR_INTERNAL_ERROR when its library is missing.
#define FORWARD(Name, ...)                                                                                             \
  do {                                                                                                                 \
    static const auto Fn = real<decltype(&Name)>(#Name);                                                               \
    if (!Fn)                                                                                                           \
      return NVRTC_ERROR_INTERNAL_ERROR;                                                                               \
    return Fn(__VA_ARGS__);                                                                                            \
  } while (0)

// --- What a real-architecture compilation needs kept ------------------------------------------------------------------
struct ProgramRecord {
  std::string Source, Name;
  std::vector<std::string> Headers, IncludeNames;
  std::vector<std::string> NameExpressions;
  std::optional<std::string> Image; // the fatbinary nvrtcGetCUBIN returns, after an sm_XX compilation
};

std::mutex ProgramMutex;
std::map<nvrtcProgram, ProgramRecord> &programs() {
  static auto *M = new std::map<nvrtcProgram, ProgramRecord>;
  return *M;
}

// The real architecture an option list compiles for ("sm_80", "sm_90a"), or "" for a virtual one (compute_XX, the
// default). Index receives the option's position and whether the value is the next option.
struct ArchOption {
  std::string Real;
  int Index = -1;
  bool Separate = false;
};

ArchOption findArch(int NumOptions, const char *const *Options) {
  ArchOption A;
  for (int I = 0; I < NumOptions; ++I) {
    std::string_view O = Options[I] ? Options[I] : "";
    std::string_view Value;
    bool Separate = false;
    for (std::string_view Prefix : {"--gpu-architecture=", "-arch=", "--gpu-architecture", "-arch"}) {
      if (O.substr(0, Prefix.size()) != Prefix)
        continue;
      if (Prefix.back() == '=') {
        Value = O.substr(Prefix.size());
      } else if (O.size() == Prefix.size() && I + 1 < NumOptions && Options[I + 1]) {
        Value = Options[I + 1];
        Separate = true;
      } else {
        continue;
      }
      break;
    }
    if (Value.empty())
      continue;
    // The last -arch wins, as NVRTC's command line parsing does.
    A.Real = Value.substr(0, 3) == "sm_" ? std::string(Value) : std::string();
    A.Index = I;
    A.Separate = Separate;
  }
  return A;
}

bool hasOption(int NumOptions, const char *const *Options, std::initializer_list<std::string_view> Names) {
  for (int I = 0; I < NumOptions; ++I)
    for (std::string_view N : Names)
      if (Options[I] && std::string_view(Options[I]).substr(0, N.size()) == N)
        return true;
  return false;
}

// Compiles the recorded program again for compute_XX and returns its PTX (nullopt, logged, on failure).
std::optional<std::string> ptxForVirtualArch(const ProgramRecord &Rec, int NumOptions, const char *const *Options,
                                             const ArchOption &Arch) {
  static const auto Create = real<decltype(&nvrtcCreateProgram)>("nvrtcCreateProgram");
  static const auto AddName = real<decltype(&nvrtcAddNameExpression)>("nvrtcAddNameExpression");
  static const auto Compile = real<decltype(&nvrtcCompileProgram)>("nvrtcCompileProgram");
  static const auto PtxSize = real<decltype(&nvrtcGetPTXSize)>("nvrtcGetPTXSize");
  static const auto GetPtx = real<decltype(&nvrtcGetPTX)>("nvrtcGetPTX");
  static const auto Destroy = real<decltype(&nvrtcDestroyProgram)>("nvrtcDestroyProgram");
  if (!Create || !AddName || !Compile || !PtxSize || !GetPtx || !Destroy)
    return std::nullopt;
  std::vector<const char *> Headers, Includes;
  for (size_t I = 0; I < Rec.Headers.size(); ++I) {
    Headers.push_back(Rec.Headers[I].c_str());
    Includes.push_back(Rec.IncludeNames[I].c_str());
  }
  nvrtcProgram Shadow = nullptr;
  if (Create(&Shadow, Rec.Source.c_str(), Rec.Name.empty() ? nullptr : Rec.Name.c_str(),
             static_cast<int>(Headers.size()), Headers.data(), Includes.data()) != NVRTC_SUCCESS)
    return std::nullopt;
  for (const std::string &N : Rec.NameExpressions)
    AddName(Shadow, N.c_str());
  const std::string Virtual = "compute_" + Arch.Real.substr(3);
  const std::string Joined = "--gpu-architecture=" + Virtual;
  std::vector<const char *> Opts;
  for (int I = 0; I < NumOptions; ++I) {
    if (I == Arch.Index) {
      Opts.push_back(Joined.c_str());
      if (Arch.Separate)
        ++I;
      continue;
    }
    Opts.push_back(Options[I]);
  }
  std::optional<std::string> Ptx;
  nvrtcResult R = Compile(Shadow, static_cast<int>(Opts.size()), Opts.data());
  size_t Size = 0;
  if (R == NVRTC_SUCCESS && PtxSize(Shadow, &Size) == NVRTC_SUCCESS && Size > 0) {
    std::string Text(Size, '\0');
    if (GetPtx(Shadow, Text.data()) == NVRTC_SUCCESS) {
      Text.resize(std::strlen(Text.c_str()));
      Ptx = std::move(Text);
    }
  }
  if (!Ptx)
    CUSHIM_LOG_WARN("NVRTC: compiling '{}' again for {} failed ({}); its CUBIN stays NVIDIA machine code only",
                    Rec.Name, Virtual, static_cast<int>(R));
  Destroy(&Shadow);
  return Ptx;
}

} // namespace

CUSHIM_NVRTC_EXPORT const char *nvrtcGetErrorString(nvrtcResult Result) {
  static const auto Fn = real<decltype(&nvrtcGetErrorString)>("nvrtcGetErrorString");
  return Fn ? Fn(Result) : "NVRTC_ERROR_INTERNAL_ERROR (cuda_shim could not load NVIDIA's NVRTC)";
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcVersion(int *Major, int *Minor) { FORWARD(nvrtcVersion, Major, Minor); }

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetNumSupportedArchs(int *NumArchs) {
  FORWARD(nvrtcGetNumSupportedArchs, NumArchs);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetSupportedArchs(int *SupportedArchs) {
  FORWARD(nvrtcGetSupportedArchs, SupportedArchs);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcCreateProgram(nvrtcProgram *Prog, const char *Src, const char *Name,
                                                   int NumHeaders, const char *const *Headers,
                                                   const char *const *IncludeNames) {
  static const auto Fn = real<decltype(&nvrtcCreateProgram)>("nvrtcCreateProgram");
  if (!Fn)
    return NVRTC_ERROR_INTERNAL_ERROR;
  nvrtcResult R = Fn(Prog, Src, Name, NumHeaders, Headers, IncludeNames);
  if (R != NVRTC_SUCCESS || !Prog || !Src)
    return R;
  ProgramRecord Rec;
  Rec.Source = Src;
  Rec.Name = Name ? Name : "";
  for (int I = 0; I < NumHeaders && Headers && IncludeNames; ++I) {
    Rec.Headers.push_back(Headers[I] ? Headers[I] : "");
    Rec.IncludeNames.push_back(IncludeNames[I] ? IncludeNames[I] : "");
  }
  std::lock_guard<std::mutex> G(ProgramMutex);
  programs()[*Prog] = std::move(Rec);
  return R;
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcDestroyProgram(nvrtcProgram *Prog) {
  if (Prog) {
    std::lock_guard<std::mutex> G(ProgramMutex);
    programs().erase(*Prog);
  }
  FORWARD(nvrtcDestroyProgram, Prog);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcAddNameExpression(nvrtcProgram Prog, const char *const NameExpression) {
  static const auto Fn = real<decltype(&nvrtcAddNameExpression)>("nvrtcAddNameExpression");
  if (!Fn)
    return NVRTC_ERROR_INTERNAL_ERROR;
  nvrtcResult R = Fn(Prog, NameExpression);
  if (R == NVRTC_SUCCESS && NameExpression) {
    std::lock_guard<std::mutex> G(ProgramMutex);
    auto It = programs().find(Prog);
    if (It != programs().end())
      It->second.NameExpressions.push_back(NameExpression);
  }
  return R;
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcCompileProgram(nvrtcProgram Prog, int NumOptions, const char *const *Options) {
  static const auto Fn = real<decltype(&nvrtcCompileProgram)>("nvrtcCompileProgram");
  if (!Fn)
    return NVRTC_ERROR_INTERNAL_ERROR;
  // NVIDIA's compilation is the one the program sees: its log, lowered names, PTX and errors.
  nvrtcResult R = Fn(Prog, NumOptions, Options);
  if (R != NVRTC_SUCCESS || NumOptions < 0 || (NumOptions > 0 && !Options))
    return R;
  ArchOption Arch = findArch(NumOptions, Options);
  // LTO IR (-dlto) has no CUBIN to stand in for.
  if (Arch.Real.empty() || hasOption(NumOptions, Options, {"-dlto", "--dlink-time-opt"}))
    return R;
  ProgramRecord Rec;
  {
    std::lock_guard<std::mutex> G(ProgramMutex);
    auto It = programs().find(Prog);
    if (It == programs().end())
      return R;
    Rec = It->second;
  }
  std::optional<std::string> Ptx = ptxForVirtualArch(Rec, NumOptions, Options, Arch);
  if (!Ptx)
    return R;
  std::vector<cushim::vendor::FatbinEntry> Entries;
  static const auto CubinSize = real<decltype(&nvrtcGetCUBINSize)>("nvrtcGetCUBINSize");
  static const auto GetCubin = real<decltype(&nvrtcGetCUBIN)>("nvrtcGetCUBIN");
  size_t Size = 0;
  if (CubinSize && GetCubin && CubinSize(Prog, &Size) == NVRTC_SUCCESS && Size > 0) {
    std::string Cubin(Size, '\0');
    if (GetCubin(Prog, Cubin.data()) == NVRTC_SUCCESS)
      Entries.push_back({cushim::vendor::FatbinElf, cushim::vendor::archNumber(Arch.Real), std::move(Cubin)});
  }
  Entries.push_back({cushim::vendor::FatbinPtx, cushim::vendor::archNumber(Arch.Real), std::move(*Ptx)});
  std::string Image = cushim::vendor::makeFatbin(Entries);
  CUSHIM_LOG_DEBUG("NVRTC: '{}' compiled for {}: CUBIN is a {}-byte fatbinary with the {} cubin and compute_{} PTX",
                   Rec.Name, Arch.Real, Image.size(), Arch.Real, cushim::vendor::archNumber(Arch.Real));
  std::lock_guard<std::mutex> G(ProgramMutex);
  auto It = programs().find(Prog);
  if (It != programs().end())
    It->second.Image = std::move(Image);
  return R;
}

// The fatbinary of an sm_XX compilation when there is one, else NVIDIA's answer.
static const std::string *shimImage(nvrtcProgram Prog) {
  std::lock_guard<std::mutex> G(ProgramMutex);
  auto It = programs().find(Prog);
  return It != programs().end() && It->second.Image ? &*It->second.Image : nullptr;
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetCUBINSize(nvrtcProgram Prog, size_t *CubinSizeRet) {
  if (const std::string *Image = shimImage(Prog)) {
    if (!CubinSizeRet)
      return NVRTC_ERROR_INVALID_INPUT;
    *CubinSizeRet = Image->size();
    return NVRTC_SUCCESS;
  }
  FORWARD(nvrtcGetCUBINSize, Prog, CubinSizeRet);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetCUBIN(nvrtcProgram Prog, char *Cubin) {
  if (const std::string *Image = shimImage(Prog)) {
    if (!Cubin)
      return NVRTC_ERROR_INVALID_INPUT;
    std::memcpy(Cubin, Image->data(), Image->size());
    return NVRTC_SUCCESS;
  }
  FORWARD(nvrtcGetCUBIN, Prog, Cubin);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetPTXSize(nvrtcProgram Prog, size_t *PtxSizeRet) {
  FORWARD(nvrtcGetPTXSize, Prog, PtxSizeRet);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetPTX(nvrtcProgram Prog, char *Ptx) { FORWARD(nvrtcGetPTX, Prog, Ptx); }

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetLTOIRSize(nvrtcProgram Prog, size_t *LtoirSizeRet) {
  FORWARD(nvrtcGetLTOIRSize, Prog, LtoirSizeRet);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetLTOIR(nvrtcProgram Prog, char *Ltoir) { FORWARD(nvrtcGetLTOIR, Prog, Ltoir); }

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetOptiXIRSize(nvrtcProgram Prog, size_t *OptixirSizeRet) {
  FORWARD(nvrtcGetOptiXIRSize, Prog, OptixirSizeRet);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetOptiXIR(nvrtcProgram Prog, char *Optixir) {
  FORWARD(nvrtcGetOptiXIR, Prog, Optixir);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram Prog, size_t *LogSizeRet) {
  FORWARD(nvrtcGetProgramLogSize, Prog, LogSizeRet);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetProgramLog(nvrtcProgram Prog, char *Log) {
  FORWARD(nvrtcGetProgramLog, Prog, Log);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetLoweredName(nvrtcProgram Prog, const char *const NameExpression,
                                                    const char **LoweredName) {
  FORWARD(nvrtcGetLoweredName, Prog, NameExpression, LoweredName);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetPCHHeapSize(size_t *Ret) { FORWARD(nvrtcGetPCHHeapSize, Ret); }

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcSetPCHHeapSize(size_t Size) { FORWARD(nvrtcSetPCHHeapSize, Size); }

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetPCHCreateStatus(nvrtcProgram Prog) { FORWARD(nvrtcGetPCHCreateStatus, Prog); }

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcGetPCHHeapSizeRequired(nvrtcProgram Prog, size_t *Size) {
  FORWARD(nvrtcGetPCHHeapSizeRequired, Prog, Size);
}

CUSHIM_NVRTC_EXPORT nvrtcResult nvrtcSetFlowCallback(nvrtcProgram Prog, int (*Callback)(void *, void *),
                                                     void *Payload) {
  FORWARD(nvrtcSetFlowCallback, Prog, Callback, Payload);
}
