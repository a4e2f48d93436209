// Parser tests on real PTX (data/parser/*.ptx: nvcc 13, clang 19, CUDA header inline asm; debug info included),
// plus robustness (truncated and corrupted modules must give an error, never a crash) and speed.
#include "ptx_translate/Parser.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

using namespace cushim::ptx;
namespace fs = std::filesystem;

namespace {

const fs::path DataDir = fs::path(CUSHIM_PTX_TEST_DATA) / "parser";

std::string readFile(const fs::path &P) {
  std::ifstream In(P, std::ios::binary);
  REQUIRE(In);
  std::stringstream SS;
  SS << In.rdbuf();
  return SS.str();
}

Module parseFile(const std::string &Name) {
  std::string Text = readFile(DataDir / Name);
  auto R = parsePtx(Text, Name);
  INFO((R ? std::string() : R.error().message()));
  REQUIRE(R);
  return std::move(*R);
}

void forEachStatement(const std::vector<Statement> &Body, const std::function<void(const Statement &)> &Fn) {
  for (const Statement &S : Body) {
    Fn(S);
    if (S.is<Block>())
      forEachStatement(S.as<Block>().Body, Fn);
  }
}

std::vector<const Instruction *> instructions(const Module &M, std::string_view Opcode) {
  std::vector<const Instruction *> Out;
  for (const Function &F : M.Functions)
    if (F.Body)
      forEachStatement(F.Body->Body, [&](const Statement &S) {
        if (S.is<Instruction>() && S.as<Instruction>().Opcode == Opcode)
          Out.push_back(&S.as<Instruction>());
      });
  return Out;
}

const Function *findFunction(const Module &M, std::string_view Name) {
  for (const Function &F : M.Functions)
    if (F.Name == Name)
      return &F;
  return nullptr;
}

size_t countEntries(const Module &M) {
  return std::count_if(M.Functions.begin(), M.Functions.end(), [](const Function &F) { return F.IsEntry; });
}

} // namespace

TEST_CASE("every PTX file in data/parser parses", "[ptx][parser][realworld]") {
  size_t Files = 0;
  for (const auto &E : fs::directory_iterator(DataDir)) {
    if (E.path().extension() != ".ptx")
      continue;
    ++Files;
    INFO(E.path().filename().string());
    Module M = parseFile(E.path().filename().string());
    CHECK(M.VersionMajor >= 8); // nvcc 13 writes 9.0, LLVM 19's NVPTX back end 8.5
    CHECK(M.AddressSize == 64);
    CHECK_FALSE(M.Target.empty());
    CHECK(countEntries(M) >= 1);
    CHECK(M.Order.size() == M.Functions.size() + M.Globals.size());
    // Locations point at the statement's text, and the opcode and modifiers spell the mnemonic as written.
    std::string Text = readFile(E.path());
    std::vector<size_t> LineStart = {0, 0};
    for (size_t I = 0; I < Text.size(); ++I)
      if (Text[I] == '\n')
        LineStart.push_back(I + 1);
    auto At = [&](SourceLoc L) {
      REQUIRE(L.Line < LineStart.size());
      return std::string_view(Text).substr(LineStart[L.Line] + L.Column - 1);
    };
    size_t Mismatches = 0;
    for (const Function &F : M.Functions) {
      CHECK(At(F.Loc).substr(0, 1) == ".");
      if (F.Body)
        forEachStatement(F.Body->Body, [&](const Statement &S) {
          if (S.is<Instruction>()) {
            const Instruction &I = S.as<Instruction>();
            std::string Mnemonic = I.Opcode;
            for (const std::string &Mod : I.Mods)
              Mnemonic += "." + Mod;
            std::string_view Src = At(I.Loc);
            if (I.Guard) {
              size_t Space = Src.find_first_of(" \t");
              Src = Src.substr(Src.find_first_not_of(" \t", Space));
            }
            Mismatches += Src.substr(0, Mnemonic.size()) != Mnemonic;
          } else if (S.is<Label>()) {
            Mismatches += At(S.as<Label>().Loc).substr(0, S.as<Label>().Name.size()) != S.as<Label>().Name;
          } else if (S.is<VariableDecl>()) {
            Mismatches += At(S.as<VariableDecl>().Loc).substr(0, 1) != ".";
          }
        });
    }
    CHECK(Mismatches == 0);
  }
  CHECK(Files >= 10);
}

TEST_CASE("atomics and printf module structure", "[ptx][parser][realworld]") {
  Module M = parseFile("atomics_printf.ptx");
  CHECK(countEntries(M) == 3);
  const Function *Vprintf = findFunction(M, "vprintf");
  REQUIRE(Vprintf);
  CHECK(Vprintf->Link == Linkage::Extern);
  CHECK_FALSE(Vprintf->Body);
  CHECK(Vprintf->Returns.size() == 1);
  const Function *Hist = findFunction(M, "_Z9histogramPKiiPj");
  REQUIRE(Hist);
  CHECK(Hist->Directives.MaxNTid == std::vector<uint32_t>{256, 1, 1});
  CHECK(Hist->Directives.MinNCtaPerSm == 2u);
  bool SawCas = false;
  for (const Instruction *I : instructions(M, "atom"))
    if (I->hasMod("cas")) {
      SawCas = true;
      CHECK(I->Operands.size() == 4);
      CHECK(I->Operands[1].is<AddressOperand>());
    }
  CHECK(SawCas);
  auto Calls = instructions(M, "call");
  REQUIRE_FALSE(Calls.empty());
  CHECK(Calls[0]->Operands[1].as<SymbolOperand>().Name == "vprintf");
  CHECK(Calls[0]->Operands[2].as<ListOperand>().Elements.size() == 2);
  bool SawManaged = false, SawConstInit = false;
  for (const VariableDecl &G : M.Globals) {
    SawManaged |= G.Managed;
    if (G.Space == StateSpace::Const && G.Init && G.Init->K == Initializer::List)
      // nvcc drops trailing zero bytes of the initializer; the declared size stays 32.
      SawConstInit = G.Init->Elements.size() == 29 && G.sizeInBytes() == 32;
  }
  CHECK(SawManaged);
  CHECK(SawConstInit);
}

TEST_CASE("function pointers, prototypes and rdc externs", "[ptx][parser][realworld]") {
  Module M = parseFile("templates_fptr_rdc.ptx");
  bool SawPrototype = false;
  for (const Function &F : M.Functions)
    if (F.Body)
      forEachStatement(F.Body->Body, [&](const Statement &S) {
        if (S.is<CallPrototype>()) {
          SawPrototype = true;
          CHECK(S.as<CallPrototype>().Params.size() == 2);
          CHECK(S.as<CallPrototype>().Returns.size() == 1);
        }
      });
  CHECK(SawPrototype);
  bool SawIndirect = false;
  for (const Instruction *I : instructions(M, "call"))
    if (I->Operands[1].is<RegOperand>()) {
      SawIndirect = true;
      REQUIRE(I->Operands.size() == 4);
      CHECK(I->Operands[3].is<SymbolOperand>());
    }
  CHECK(SawIndirect);
  const Function *Ext = findFunction(M, "_Z14externalHelperi");
  REQUIRE(Ext);
  CHECK(Ext->Link == Linkage::Extern);
  // The function-pointer table initializer names the functions.
  bool SawOps = false;
  for (const VariableDecl &G : M.Globals)
    if (G.Name == "ops") {
      SawOps = true;
      REQUIRE(G.Init);
      REQUIRE(G.Init->Elements.size() == 2);
      CHECK(G.Init->Elements[0].SymbolValue.Name == "_Z5addOpff");
    }
  CHECK(SawOps);
}

TEST_CASE("texture and surface instructions", "[ptx][parser][realworld]") {
  Module M = parseFile("texture_surf.ptx");
  auto Tex = instructions(M, "tex");
  REQUIRE(Tex.size() >= 2);
  for (const Instruction *I : Tex) {
    REQUIRE(I->Operands.size() >= 3);
    CHECK(I->Operands[0].is<VectorOperand>());
    CHECK(I->Operands[1].is<AddressOperand>());
    CHECK(I->Operands[2].is<VectorOperand>());
  }
  CHECK_FALSE(instructions(M, "suld").empty());
  CHECK_FALSE(instructions(M, "sust").empty());
  CHECK_FALSE(instructions(M, "tld4").empty());
}

TEST_CASE("sm_90 cluster directives", "[ptx][parser][realworld]") {
  Module M = parseFile("cluster90_sm90.ptx");
  REQUIRE(M.Functions.size() == 1);
  const FunctionDirectives &D = M.Functions[0].Directives;
  CHECK(D.ExplicitCluster);
  CHECK(D.ReqNCtaPerCluster == std::vector<uint32_t>{2, 1, 1});
  CHECK(D.MaxNTid == std::vector<uint32_t>{128, 1, 1});
  CHECK_FALSE(instructions(M, "mapa").empty());
}

TEST_CASE("tensor core and async copy instructions", "[ptx][parser][realworld]") {
  Module M = parseFile("tensor_async.ptx");
  auto Mma = instructions(M, "mma");
  REQUIRE(Mma.size() == 1);
  CHECK(Mma[0]->Operands.size() == 4);
  CHECK(Mma[0]->Operands[1].as<VectorOperand>().Elements.size() == 4);
  CHECK_FALSE(instructions(M, "wmma").empty());
  bool SawL2 = false;
  for (const Instruction *I : instructions(M, "ld"))
    SawL2 |= I->hasMod("L2::128B") && I->hasMod("nc");
  CHECK(SawL2);
  CHECK_FALSE(instructions(M, "cp").empty());
}

TEST_CASE("debug (-G) and -lineinfo PTX", "[ptx][parser][realworld]") {
  Module G = parseFile("dbg_G.ptx");
  CHECK(std::find(G.Target.begin(), G.Target.end(), "debug") != G.Target.end());
  REQUIRE(G.Files.size() == 1);
  CHECK(G.Files[0].Path == "/tmp/ptxgen/dbg.cu");
  size_t Locs = 0;
  for (const Function &F : G.Functions)
    if (F.Body)
      forEachStatement(F.Body->Body, [&](const Statement &S) {
        if (S.is<OtherDirective>() && S.as<OtherDirective>().Name == "loc")
          ++Locs;
      });
  CHECK(Locs > 5);
  CHECK(countEntries(G) == 1);
  CHECK(findFunction(G, "_Z2sqi"));

  Module BigG = parseFile("warp_coop_G.ptx");
  CHECK(countEntries(BigG) == 3);
  Module CallsG = parseFile("templates_fptr_G.ptx");
  CHECK(std::find(CallsG.Target.begin(), CallsG.Target.end(), "debug") != CallsG.Target.end());
  CHECK_FALSE(instructions(CallsG, "call").empty());

  Module Plain = parseFile("atomics_printf.ptx");
  Module Line = parseFile("atomics_printf_lineinfo.ptx");
  CHECK(countEntries(Line) == countEntries(Plain));
  CHECK(instructions(Line, "atom").size() == instructions(Plain, "atom").size());
  CHECK_FALSE(Line.Files.empty());
}

TEST_CASE("dynamic parallelism, device malloc, scoped atomics (rdc, sm_90)", "[ptx][parser][realworld]") {
  Module M = parseFile("misc_rdc_sm90.ptx");
  const Function *Free = findFunction(M, "free");
  REQUIRE(Free);
  CHECK(Free->Returns.empty());
  CHECK(Free->Params.size() == 1);
  CHECK(findFunction(M, "__cudaCDP2LaunchDeviceV2"));
  bool SawScoped = false;
  for (const Instruction *I : instructions(M, "atom"))
    SawScoped |= I->hasMod("relaxed") && I->hasMod("gpu");
  CHECK(SawScoped);
  CHECK_FALSE(instructions(M, "trap").empty());
  CHECK_FALSE(instructions(M, "nanosleep").empty());
}

TEST_CASE("hopper inline asm: mbarrier, bulk copies, bare registers", "[ptx][parser][realworld]") {
  Module M = parseFile("hopper_sm90a.ptx");
  CHECK(M.Target == std::vector<std::string>{"sm_90a"});
  auto Elect = instructions(M, "elect");
  REQUIRE(Elect.size() == 1);
  const Operand &D = Elect[0]->Operands[0];
  REQUIRE(D.is<RegOperand>());
  CHECK(D.as<RegOperand>().Name == "er");
  REQUIRE(D.PairSecond);
  CHECK(D.PairSecond->Name == "ep");
  bool SawGuardedBra = false;
  for (const Instruction *I : instructions(M, "bra"))
    if (I->Guard && I->Guard->Name == "p" && I->Guard->Negated)
      SawGuardedBra = true;
  CHECK(SawGuardedBra);
  bool SawTryWait = false;
  for (const Instruction *I : instructions(M, "mbarrier"))
    if (I->hasMod("try_wait")) {
      SawTryWait = true;
      CHECK(I->Operands[0].is<RegOperand>());
    }
  CHECK(SawTryWait);
  auto Red = instructions(M, "red");
  REQUIRE(Red.size() == 1);
  CHECK(Red[0]->hasMod("mbarrier::complete_tx::bytes"));
}

TEST_CASE("thrust and CUB kernels", "[ptx][parser][realworld]") {
  Module T = parseFile("thrust_reduce.ptx");
  CHECK(countEntries(T) >= 3);
  Module C = parseFile("cub_reduce.ptx");
  CHECK(countEntries(C) == 2); // blockSum<128> and cub's EmptyKernel
  auto Shfl = instructions(C, "shfl");
  REQUIRE_FALSE(Shfl.empty());
  // CUB's inline asm declares "r0" and "p" in a nested block: bare names that are registers.
  CHECK(Shfl[0]->Operands[0].as<RegOperand>().Name == "r0");
  CHECK(Shfl[0]->Operands[0].PairSecond->Name == "p");
}

TEST_CASE("every inline-asm statement of the CUDA headers", "[ptx][parser][realworld]") {
  Module M = parseFile("cuda_headers_inline_asm.ptx");
  REQUIRE(M.Functions.size() == 1);
  const auto &Body = M.Functions[0].Body->Body;
  CHECK(Body.size() == 3129);
  CHECK(std::all_of(Body.begin(), Body.end(), [](const Statement &S) { return S.is<Block>(); }));
  bool SawTcgen05Mma = false, SawTensorMap = false;
  for (const Instruction *I : instructions(M, "tcgen05"))
    if (I->hasMod("mma") && I->hasMod("kind::f16") && I->hasMod("cta_group::1"))
      SawTcgen05Mma = true;
  for (const Instruction *I : instructions(M, "tensormap"))
    SawTensorMap |= I->hasMod("tensormap::generic");
  CHECK(SawTcgen05Mma);
  CHECK(SawTensorMap);
  CHECK(instructions(M, "multimem").size() > 10);
}

TEST_CASE("PTX from LLVM's NVPTX back end (clang CUDA)", "[ptx][parser][realworld]") {
  Module M = parseFile("clang_k_sm80.ptx");
  CHECK(M.VersionMajor == 8);
  CHECK(M.VersionMinor == 5);
  bool SawPtab = false;
  for (const VariableDecl &G : M.Globals)
    if (G.Name == "ptab") {
      SawPtab = true;
      REQUIRE(G.Init);
      CHECK(G.Init->K == Initializer::Symbol);
      CHECK(G.Init->GenericSymbol);
      CHECK(G.Init->SymbolValue.Name == "table");
      CHECK(G.Init->SymbolValue.Offset == 8);
    }
  CHECK(SawPtab);
  const Function *Make = findFunction(M, "_Z4makei");
  REQUIRE(Make);
  REQUIRE(Make->Returns.size() == 1);
  CHECK(Make->Returns[0].sizeInBytes() == 32);
  CHECK(Make->Returns[0].Align == 8);
  Module G = parseFile("clang_k_g.ptx");
  CHECK(G.Functions.size() == M.Functions.size());
  CHECK_FALSE(G.Files.empty());
}

TEST_CASE("CRLF line ends and NUL padding from a fatbinary give the same module", "[ptx][parser][realworld]") {
  std::string Text = readFile(DataDir / "dbg_G.ptx");
  std::string Crlf;
  for (char C : Text) {
    if (C == '\n')
      Crlf += '\r';
    Crlf += C;
  }
  Crlf.append(7, '\0');
  auto A = parsePtx(Text, "a.ptx");
  auto B = parsePtx(Crlf, "b.ptx");
  INFO((B ? std::string() : B.error().message()));
  REQUIRE(A);
  REQUIRE(B);
  REQUIRE(A->Functions.size() == B->Functions.size());
  const auto &BA = A->Functions.back().Body->Body;
  const auto &BB = B->Functions.back().Body->Body;
  REQUIRE(BA.size() == BB.size());
  for (size_t I = 0; I < BA.size(); ++I)
    if (BA[I].is<OtherDirective>()) {
      CHECK(BA[I].as<OtherDirective>().Text == BB[I].as<OtherDirective>().Text);
      CHECK(BB[I].as<OtherDirective>().Text.find('\r') == std::string::npos);
    }
}

TEST_CASE("truncated and corrupted PTX never crashes the parser", "[ptx][parser][robustness]") {
  std::string Text = readFile(DataDir / "templates_fptr_rdc.ptx");
  size_t Ok = 0, Failed = 0;
  auto Try = [&](std::string_view S) {
    auto R = parsePtx(S, "fuzz.ptx");
    if (R) {
      ++Ok;
    } else {
      ++Failed;
      CHECK(R.error().code() == CUDA_ERROR_INVALID_PTX);
      CHECK(R.error().message().rfind("fuzz.ptx:", 0) == 0);
    }
  };
  // Cut at many offsets.
  for (size_t Cut = 0; Cut < Text.size(); Cut += 7)
    Try(std::string_view(Text).substr(0, Cut));
  // Random byte flips, insertions of structural characters and deletions.
  std::mt19937 Rng(12345);
  const char Specials[] = "{}[]();,.%@!|<>-+_\"/*0fx\n ";
  for (int Round = 0; Round < 1500; ++Round) {
    std::string Copy = Text;
    int Edits = 1 + Rng() % 4;
    for (int K = 0; K < Edits; ++K) {
      size_t Pos = Rng() % Copy.size();
      switch (Rng() % 3) {
      case 0:
        Copy[Pos] = static_cast<char>(Rng() % 256);
        break;
      case 1:
        Copy.insert(Copy.begin() + Pos, Specials[Rng() % (sizeof(Specials) - 1)]);
        break;
      default:
        Copy.erase(Pos, 1 + Rng() % 8);
        break;
      }
    }
    Try(Copy);
  }
  // Pathological nesting must be rejected, not overflow the stack.
  std::string Deep = ".version 9.0\n.target sm_80\n.entry k() " + std::string(100000, '{');
  Try(Deep);
  Try(".version 9.0\n.target sm_80\n.global .u32 x[1] = " + std::string(100000, '{'));
  Try(".version 9.0\n.target sm_80\n.entry k() { mov.b32 " + std::string(100000, '{'));
  CHECK(Failed > 100);
  CHECK(Ok > 0); // cutting right after a closing brace yields a valid module
}

TEST_CASE("a 5 MB module parses quickly", "[ptx][parser][perf]") {
  std::string Src = readFile(DataDir / "half_math.ptx");
  size_t FirstFn = Src.find(".visible .entry");
  REQUIRE(FirstFn != std::string::npos);
  std::string Header = Src.substr(0, FirstFn), Fns = Src.substr(FirstFn);
  std::string Big = Header;
  while (Big.size() < 5 * 1024 * 1024)
    Big += Fns;
  // CPU time rather than wall time: the build machines are shared and often oversubscribed.
  std::clock_t CpuStart = std::clock();
  auto Start = std::chrono::steady_clock::now();
  auto R = parsePtx(Big, "big.ptx");
  double Wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  double Cpu = double(std::clock() - CpuStart) / CLOCKS_PER_SEC;
  REQUIRE(R);
  WARN("parsed " << Big.size() / 1024 << " KiB in " << Cpu * 1000 << " ms CPU, " << Wall * 1000 << " ms wall");
  CHECK(R->Functions.size() > 100);
#ifdef NDEBUG
  CHECK(Cpu < 1.0);
#else
  CHECK(Cpu < 10.0); // unoptimized or sanitizer builds: only catch pathological (quadratic) behaviour
#endif
}
