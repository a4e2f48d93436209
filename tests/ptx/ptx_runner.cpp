// PTX execution test runner: loads one hand-written .ptx test case through the CUDA driver API (our libcuda.so.1),
// launches it with the buffers and scalars its header describes, and compares the output buffers with the expected
// values (bit-exact, or within N ulp for floating-point buffers that ask for it). The spec format is in
// docs/TESTING.md; in short, comment lines of the .ptx file:
//   // @kernel NAME                      // @grid X [Y [Z]]      // @block X [Y [Z]]      // @shared BYTES
//   // @buffer NAME TYPE COUNT INIT      INIT: zero | fill V | iota START STEP | random SEED | values
//   // @values NAME V...                 (appends initial values of a `values` buffer)
//   // @scalar TYPE VALUE
//   // @expect NAME [ulp=N] V...         (appends expected values; may repeat)
//   // @reference NAME MODEL IN...       (expected values of NAME from a CPU model of reference_models.h applied to
//                                        the initial values of the IN buffers, element by element)
// @buffer and @scalar lines are the kernel's parameters, in order.
#include "reference_models.h"

#include <cuda.h>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

enum class Kind { Unsigned, Signed, Float };

struct ElemType {
  std::string Name;
  Kind K = Kind::Unsigned;
  unsigned Size = 4;
};

std::optional<ElemType> parseType(const std::string &Name) {
  static const std::map<std::string, std::pair<Kind, unsigned>> Types = {
      {"u8", {Kind::Unsigned, 1}},  {"s8", {Kind::Signed, 1}},   {"b8", {Kind::Unsigned, 1}},
      {"u16", {Kind::Unsigned, 2}}, {"s16", {Kind::Signed, 2}},  {"b16", {Kind::Unsigned, 2}},
      {"u32", {Kind::Unsigned, 4}}, {"s32", {Kind::Signed, 4}},  {"b32", {Kind::Unsigned, 4}},
      {"u64", {Kind::Unsigned, 8}}, {"s64", {Kind::Signed, 8}},  {"b64", {Kind::Unsigned, 8}},
      {"f32", {Kind::Float, 4}},    {"f64", {Kind::Float, 8}}};
  auto It = Types.find(Name);
  if (It == Types.end())
    return std::nullopt;
  return ElemType{Name, It->second.first, It->second.second};
}

// Encodes one textual value as the raw little-endian bits of an element. Floats accept decimal, nan, inf, -inf and
// #HEX for raw bits; integers accept anything strtoll/strtoull does (decimal, 0x hex, negative).
std::optional<uint64_t> encodeValue(const ElemType &T, const std::string &Text) {
  if (!Text.empty() && Text[0] == '#')
    return std::strtoull(Text.c_str() + 1, nullptr, 16);
  char *End = nullptr;
  if (T.K == Kind::Float) {
    double D;
    if (Text == "nan")
      D = NAN;
    else if (Text == "inf")
      D = INFINITY;
    else if (Text == "-inf")
      D = -INFINITY;
    else {
      D = std::strtod(Text.c_str(), &End);
      if (*End)
        return std::nullopt;
    }
    if (T.Size == 4) {
      float F = static_cast<float>(D);
      uint32_t Bits;
      std::memcpy(&Bits, &F, 4);
      return Bits;
    }
    uint64_t Bits;
    std::memcpy(&Bits, &D, 8);
    return Bits;
  }
  uint64_t V = Text[0] == '-' ? static_cast<uint64_t>(std::strtoll(Text.c_str(), &End, 0))
                              : std::strtoull(Text.c_str(), &End, 0);
  if (*End)
    return std::nullopt;
  if (T.Size < 8)
    V &= (uint64_t(1) << (8 * T.Size)) - 1;
  return V;
}

std::string formatValue(const ElemType &T, uint64_t Bits) {
  char Buf[96];
  if (T.K == Kind::Float) {
    double D;
    if (T.Size == 4) {
      float F;
      uint32_t B32 = static_cast<uint32_t>(Bits);
      std::memcpy(&F, &B32, 4);
      D = F;
      std::snprintf(Buf, sizeof(Buf), "%.9g (#%08" PRIx32 ")", D, B32);
    } else {
      std::memcpy(&D, &Bits, 8);
      std::snprintf(Buf, sizeof(Buf), "%.17g (#%016" PRIx64 ")", D, Bits);
    }
  } else if (T.K == Kind::Signed) {
    int64_t S = static_cast<int64_t>(Bits << (64 - 8 * T.Size)) >> (64 - 8 * T.Size);
    std::snprintf(Buf, sizeof(Buf), "%" PRId64 " (0x%" PRIx64 ")", S, Bits);
  } else {
    std::snprintf(Buf, sizeof(Buf), "%" PRIu64 " (0x%" PRIx64 ")", Bits, Bits);
  }
  return Buf;
}

// Distance in representable values between two floats of the same width; NaNs are handled by the caller.
uint64_t ulpDistance(const ElemType &T, uint64_t A, uint64_t B) {
  auto Ordered = [&](uint64_t Bits) -> int64_t {
    if (T.Size == 4) {
      int32_t S = static_cast<int32_t>(static_cast<uint32_t>(Bits));
      return S < 0 ? int64_t(INT32_MIN) - S : S;
    }
    int64_t S = static_cast<int64_t>(Bits);
    return S < 0 ? INT64_MIN - S : S;
  };
  int64_t X = Ordered(A), Y = Ordered(B);
  return X > Y ? uint64_t(X) - uint64_t(Y) : uint64_t(Y) - uint64_t(X);
}

bool isNaN(const ElemType &T, uint64_t Bits) {
  if (T.Size == 4)
    return (Bits & 0x7f800000u) == 0x7f800000u && (Bits & 0x007fffffu) != 0;
  return (Bits & 0x7ff0000000000000ull) == 0x7ff0000000000000ull && (Bits & 0x000fffffffffffffull) != 0;
}

struct Buffer {
  std::string Name;
  ElemType Type;
  size_t Count = 0;
  std::vector<uint64_t> Init;
  std::vector<uint64_t> Expected;
  bool HasExpect = false;
  uint64_t Ulp = 0;
  const ptxref::Model *Reference = nullptr; // results compared with ptxref::sameResult
  CUdeviceptr Dev = 0;
};

struct Param {
  int BufferIndex = -1; // >= 0: pointer to that buffer
  ElemType Type;        // scalar otherwise
  uint64_t Bits = 0;
};

struct Spec {
  std::string Kernel;
  unsigned Grid[3] = {1, 1, 1};
  unsigned Block[3] = {1, 1, 1};
  unsigned Shared = 0;
  std::vector<Buffer> Buffers;
  std::vector<Param> Params;
};

int findBuffer(const Spec &S, const std::string &Name) {
  for (size_t I = 0; I < S.Buffers.size(); ++I)
    if (S.Buffers[I].Name == Name)
      return static_cast<int>(I);
  return -1;
}

// Parses the `// @...` lines; returns an error message or an empty string.
std::string parseSpec(const std::string &Path, const std::string &Text, Spec &S) {
  std::istringstream In(Text);
  std::string Line;
  int LineNo = 0;
  std::map<int, bool> ValuesInit;
  while (std::getline(In, Line)) {
    ++LineNo;
    size_t At = Line.find("// @");
    if (At == std::string::npos)
      continue;
    std::istringstream Words(Line.substr(At + 4));
    std::string Directive;
    Words >> Directive;
    std::vector<std::string> Args;
    for (std::string W; Words >> W;)
      Args.push_back(W);
    auto Err = [&](const std::string &Msg) { return Path + ":" + std::to_string(LineNo) + ": " + Msg; };

    if (Directive == "kernel") {
      if (Args.size() != 1)
        return Err("@kernel takes one name");
      S.Kernel = Args[0];
    } else if (Directive == "grid" || Directive == "block") {
      unsigned *Dims = Directive == "grid" ? S.Grid : S.Block;
      if (Args.empty() || Args.size() > 3)
        return Err("@" + Directive + " takes 1 to 3 numbers");
      for (size_t I = 0; I < Args.size(); ++I)
        Dims[I] = static_cast<unsigned>(std::strtoul(Args[I].c_str(), nullptr, 0));
    } else if (Directive == "shared") {
      if (Args.size() != 1)
        return Err("@shared takes a byte count");
      S.Shared = static_cast<unsigned>(std::strtoul(Args[0].c_str(), nullptr, 0));
    } else if (Directive == "buffer") {
      if (Args.size() < 4)
        return Err("@buffer NAME TYPE COUNT INIT...");
      Buffer B;
      B.Name = Args[0];
      auto T = parseType(Args[1]);
      if (!T)
        return Err("unknown type " + Args[1]);
      B.Type = *T;
      B.Count = std::strtoull(Args[2].c_str(), nullptr, 0);
      const std::string &Init = Args[3];
      if (Init == "zero") {
        B.Init.assign(B.Count, 0);
      } else if (Init == "fill" && Args.size() == 5) {
        auto V = encodeValue(B.Type, Args[4]);
        if (!V)
          return Err("bad value " + Args[4]);
        B.Init.assign(B.Count, *V);
      } else if (Init == "iota" && Args.size() == 6) {
        // Computed in double for floats and in 64-bit integers otherwise, then encoded.
        for (size_t I = 0; I < B.Count; ++I) {
          std::string V;
          if (B.Type.K == Kind::Float)
            V = std::to_string(std::strtod(Args[4].c_str(), nullptr) + double(I) * std::strtod(Args[5].c_str(), nullptr));
          else
            V = std::to_string(std::strtoll(Args[4].c_str(), nullptr, 0) +
                               int64_t(I) * std::strtoll(Args[5].c_str(), nullptr, 0));
          B.Init.push_back(*encodeValue(B.Type, V));
        }
      } else if (Init == "random" && Args.size() == 5) {
        // xorshift32: integers get the raw (truncated) bits, floats a uniform value in [-1, 1).
        uint32_t X = static_cast<uint32_t>(std::strtoul(Args[4].c_str(), nullptr, 0)) | 1u;
        for (size_t I = 0; I < B.Count; ++I) {
          X ^= X << 13;
          X ^= X >> 17;
          X ^= X << 5;
          if (B.Type.K == Kind::Float)
            B.Init.push_back(*encodeValue(B.Type, std::to_string(double(X >> 8) / double(1u << 23) - 1.0)));
          else
            B.Init.push_back(*encodeValue(B.Type, std::to_string(X)));
        }
      } else if (Init == "values" && Args.size() == 4) {
        ValuesInit[static_cast<int>(S.Buffers.size())] = true;
      } else {
        return Err("bad INIT: zero | fill V | iota START STEP | random SEED | values");
      }
      S.Params.push_back(Param{static_cast<int>(S.Buffers.size()), B.Type, 0});
      S.Buffers.push_back(std::move(B));
    } else if (Directive == "values" || Directive == "expect") {
      if (Args.empty())
        return Err("@" + Directive + " NAME V...");
      int Index = findBuffer(S, Args[0]);
      if (Index < 0)
        return Err("unknown buffer " + Args[0]);
      Buffer &B = S.Buffers[Index];
      if (Directive == "values" && !ValuesInit.count(Index))
        return Err("@values for a buffer whose INIT is not `values`");
      std::vector<uint64_t> &Dst = Directive == "values" ? B.Init : B.Expected;
      if (Directive == "expect")
        B.HasExpect = true;
      for (size_t I = 1; I < Args.size(); ++I) {
        if (Directive == "expect" && Args[I].rfind("ulp=", 0) == 0) {
          B.Ulp = std::strtoull(Args[I].c_str() + 4, nullptr, 0);
          continue;
        }
        auto V = encodeValue(B.Type, Args[I]);
        if (!V)
          return Err("bad value " + Args[I]);
        Dst.push_back(*V);
      }
    } else if (Directive == "reference") {
      if (Args.size() < 3 || Args.size() > 5)
        return Err("@reference NAME MODEL IN [IN [IN]]");
      int Index = findBuffer(S, Args[0]);
      const ptxref::Model *M = ptxref::findModel(Args[1]);
      if (Index < 0 || !M)
        return Err(Index < 0 ? "unknown buffer " + Args[0] : "unknown reference model " + Args[1]);
      std::vector<const Buffer *> Ins;
      for (size_t A = 2; A < Args.size(); ++A) {
        int In = findBuffer(S, Args[A]);
        if (In < 0 || S.Buffers[In].Init.size() != S.Buffers[Index].Count)
          return Err("reference input " + Args[A] + " is not a buffer of " + std::to_string(S.Buffers[Index].Count) +
                     " initialised elements (declare and fill it first)");
        Ins.push_back(&S.Buffers[In]);
      }
      Buffer &Out = S.Buffers[Index];
      for (size_t E = 0; E < Out.Count; ++E) {
        uint64_t V[3] = {0, 0, 0};
        for (size_t K = 0; K < Ins.size(); ++K)
          V[K] = Ins[K]->Init[E];
        Out.Expected.push_back(M->Fn(V[0], V[1], V[2]) & (Out.Type.Size < 8 ? (1ull << 8 * Out.Type.Size) - 1 : ~0ull));
      }
      Out.HasExpect = true;
      Out.Reference = M;
    } else if (Directive == "scalar") {
      if (Args.size() != 2)
        return Err("@scalar TYPE VALUE");
      auto T = parseType(Args[0]);
      if (!T)
        return Err("unknown type " + Args[0]);
      auto V = encodeValue(*T, Args[1]);
      if (!V)
        return Err("bad value " + Args[1]);
      S.Params.push_back(Param{-1, *T, *V});
    } else {
      return Err("unknown directive @" + Directive);
    }
  }
  if (S.Kernel.empty())
    return Path + ": no @kernel line";
  for (const Buffer &B : S.Buffers) {
    if (B.Init.size() != B.Count)
      return Path + ": buffer " + B.Name + " has " + std::to_string(B.Init.size()) + " initial values, wants " +
             std::to_string(B.Count);
    if (B.HasExpect && B.Expected.size() != B.Count)
      return Path + ": buffer " + B.Name + " has " + std::to_string(B.Expected.size()) + " expected values, wants " +
             std::to_string(B.Count);
  }
  return "";
}

std::string cuErrorText(CUresult R) {
  const char *Name = nullptr;
  cuGetErrorName(R, &Name);
  return Name ? Name : ("CUresult " + std::to_string(int(R)));
}

#define PTX_CHECK(Call)                                                                                                \
  do {                                                                                                                 \
    CUresult PtxErr = (Call);                                                                                          \
    if (PtxErr != CUDA_SUCCESS) {                                                                                      \
      std::fprintf(stderr, "FAIL %s: %s returned %s\n", Path, #Call, cuErrorText(PtxErr).c_str());                   \
      return 1;                                                                                                        \
    }                                                                                                                  \
  } while (0)

// Parses and checks a case's spec without touching the driver (`ptx_runner --parse-only`): catches spec mistakes
// on machines where no libcuda.so.1 can run.
int checkSpecOnly(const char *Path) {
  std::ifstream File(Path);
  std::stringstream Ss;
  Ss << File.rdbuf();
  Spec S;
  if (std::string Err = parseSpec(Path, Ss.str(), S); !File || !Err.empty()) {
    std::fprintf(stderr, "FAIL bad spec: %s\n", File ? Err.c_str() : Path);
    return 1;
  }
  size_t Expected = 0;
  for (const Buffer &B : S.Buffers)
    Expected += B.HasExpect;
  std::printf("spec ok %s: kernel %s, %zu parameter(s), %zu checked buffer(s)\n", Path, S.Kernel.c_str(),
              S.Params.size(), Expected);
  return Expected ? 0 : 1;
}

int runCase(const char *Path) {
  std::ifstream File(Path);
  if (!File) {
    std::fprintf(stderr, "FAIL cannot read %s\n", Path);
    return 1;
  }
  std::stringstream Ss;
  Ss << File.rdbuf();
  std::string Ptx = Ss.str();
  Spec S;
  if (std::string Err = parseSpec(Path, Ptx, S); !Err.empty()) {
    std::fprintf(stderr, "FAIL bad spec: %s\n", Err.c_str());
    return 1;
  }

  PTX_CHECK(cuInit(0));
  CUdevice Dev;
  PTX_CHECK(cuDeviceGet(&Dev, 0));
  CUcontext Ctx;
  PTX_CHECK(cuDevicePrimaryCtxRetain(&Ctx, Dev));
  PTX_CHECK(cuCtxSetCurrent(Ctx));
  CUmodule Mod;
  PTX_CHECK(cuModuleLoadData(&Mod, Ptx.c_str()));
  CUfunction Fn;
  PTX_CHECK(cuModuleGetFunction(&Fn, Mod, S.Kernel.c_str()));

  // Host images of the buffers: elements packed at their natural size.
  std::vector<std::vector<unsigned char>> Host(S.Buffers.size());
  for (size_t I = 0; I < S.Buffers.size(); ++I) {
    Buffer &B = S.Buffers[I];
    Host[I].resize(std::max<size_t>(B.Count * B.Type.Size, 1));
    for (size_t E = 0; E < B.Count; ++E)
      std::memcpy(Host[I].data() + E * B.Type.Size, &B.Init[E], B.Type.Size); // little-endian host
    PTX_CHECK(cuMemAlloc(&B.Dev, Host[I].size()));
    PTX_CHECK(cuMemcpyHtoD(B.Dev, Host[I].data(), Host[I].size()));
  }

  std::vector<void *> Args;
  std::vector<uint64_t> ScalarStore(S.Params.size());
  for (size_t P = 0; P < S.Params.size(); ++P) {
    const Param &Prm = S.Params[P];
    if (Prm.BufferIndex >= 0) {
      Args.push_back(&S.Buffers[Prm.BufferIndex].Dev);
    } else {
      ScalarStore[P] = Prm.Bits; // the low bytes hold the value on a little-endian host
      Args.push_back(&ScalarStore[P]);
    }
  }
  PTX_CHECK(cuLaunchKernel(Fn, S.Grid[0], S.Grid[1], S.Grid[2], S.Block[0], S.Block[1], S.Block[2], S.Shared, nullptr,
                           Args.data(), nullptr));
  PTX_CHECK(cuCtxSynchronize());

  int Mismatches = 0, Checked = 0;
  for (size_t I = 0; I < S.Buffers.size(); ++I) {
    Buffer &B = S.Buffers[I];
    if (!B.HasExpect)
      continue;
    ++Checked;
    PTX_CHECK(cuMemcpyDtoH(Host[I].data(), B.Dev, Host[I].size()));
    int Bad = 0;
    for (size_t E = 0; E < B.Count; ++E) {
      uint64_t Got = 0;
      std::memcpy(&Got, Host[I].data() + E * B.Type.Size, B.Type.Size);
      uint64_t Want = B.Expected[E];
      bool Ok = B.Reference ? ptxref::sameResult(B.Reference->L, Got, Want, B.Type.Size) : Got == Want;
      if (!Ok && B.Type.K == Kind::Float && B.Ulp > 0)
        Ok = (isNaN(B.Type, Got) && isNaN(B.Type, Want)) ||
             (!isNaN(B.Type, Got) && !isNaN(B.Type, Want) && ulpDistance(B.Type, Got, Want) <= B.Ulp);
      if (!Ok && Bad++ < 8)
        std::printf("  MISMATCH %s[%zu] (%s): got %s, want %s\n", B.Name.c_str(), E, B.Type.Name.c_str(),
                    formatValue(B.Type, Got).c_str(), formatValue(B.Type, Want).c_str());
    }
    if (Bad)
      std::printf("  %s: %d of %zu elements differ\n", B.Name.c_str(), Bad, B.Count);
    Mismatches += Bad;
  }
  for (Buffer &B : S.Buffers)
    cuMemFree(B.Dev);
  cuModuleUnload(Mod);
  cuDevicePrimaryCtxRelease(Dev);

  if (Checked == 0) {
    std::fprintf(stderr, "FAIL %s: no @expect line, the test could not fail\n", Path);
    return 1;
  }
  std::printf("%s %s: kernel %s, %d buffer(s) checked\n", Mismatches ? "FAIL" : "PASS", Path, S.Kernel.c_str(),
              Checked);
  return Mismatches ? 1 : 0;
}

} // namespace

int main(int Argc, char **Argv) {
  if (Argc < 2) {
    std::fprintf(stderr, "usage: %s [--parse-only] CASE.ptx...\n", Argv[0]);
    return 2;
  }
  bool ParseOnly = std::strcmp(Argv[1], "--parse-only") == 0;
  int Failed = 0;
  for (int I = ParseOnly ? 2 : 1; I < Argc; ++I)
    Failed += ParseOnly ? checkSpecOnly(Argv[I]) : runCase(Argv[I]);
  return Failed ? 1 : 0;
}
