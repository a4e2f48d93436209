// Instruction coverage of a PTX module, decided by lowering it (see Coverage.h).
#include "ptx_translate/Coverage.h"

#include "ptx_translate/Lowering.h"
#include "ptx_translate/Parser.h"

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include <cstdlib>
#include <functional>
#include <map>

namespace cushim::ptx {

static std::string formOf(const Instruction &I) {
  std::string S = I.Opcode;
  for (const auto &M : I.Mods)
    S += "." + M;
  return S;
}

static void forEachInstruction(const Block &Blk, const std::function<void(const Instruction &)> &Fn) {
  for (const Statement &S : Blk.Body) {
    if (S.is<Instruction>())
      Fn(S.as<Instruction>());
    else if (S.is<Block>())
      forEachInstruction(S.as<Block>(), Fn);
  }
}

// Removes the instructions of form Form on line Line; returns how many went.
static unsigned removeInstructions(Block &Blk, unsigned Line, const std::string &Form) {
  unsigned Removed = 0;
  for (size_t K = 0; K < Blk.Body.size();) {
    Statement &S = Blk.Body[K];
    if (S.is<Block>()) {
      Removed += removeInstructions(std::get<Block>(S.Value), Line, Form);
    } else if (S.is<Instruction>() && S.as<Instruction>().Loc.Line == Line && formOf(S.as<Instruction>()) == Form) {
      Blk.Body.erase(Blk.Body.begin() + K);
      ++Removed;
      continue;
    }
    ++K;
  }
  return Removed;
}

// The lowering's messages read "SOURCE:LINE: unsupported PTX instruction 'FORM'" (or "invalid PTX instruction").
static bool parseLoweringError(const std::string &Msg, const std::string &Source, unsigned &Line, std::string &Form) {
  if (Msg.compare(0, Source.size() + 1, Source + ":") != 0)
    return false;
  char *End = nullptr;
  Line = static_cast<unsigned>(std::strtoul(Msg.c_str() + Source.size() + 1, &End, 10));
  size_t Open = Msg.find('\'');
  size_t Close = Open == std::string::npos ? Open : Msg.find('\'', Open + 1);
  if (Line == 0 || Close == std::string::npos)
    return false;
  Form = Msg.substr(Open + 1, Close - Open - 1);
  return true;
}

Expected<CoverageReport> coverage(std::string_view Ptx, std::string_view SourceName) {
  Expected<Module> Parsed = parsePtx(Ptx, SourceName);
  if (!Parsed)
    return Parsed.takeError();
  Module Ast = std::move(*Parsed);
  std::map<std::string, CoverageForm> Forms;
  for (const Function &F : Ast.Functions)
    if (F.Body)
      forEachInstruction(*F.Body, [&](const Instruction &I) {
        CoverageForm &C = Forms[formOf(I)];
        if (C.Count++ == 0)
          C.FirstLine = I.Loc.Line;
      });

  CoverageReport Report;
  const std::string Source(SourceName);
  for (size_t Round = 0; Round <= Forms.size() * 4 + 16; ++Round) {
    llvm::LLVMContext Ctx;
    LoweringOptions Options;
    Options.ModuleName = Source;
    Expected<LoweredModule> Lowered = lowerModule(Ast, Ctx, Options);
    if (Lowered)
      break;
    std::string Msg = Lowered.takeError().message();
    unsigned Line = 0;
    std::string Form;
    unsigned Removed = 0;
    if (parseLoweringError(Msg, Source, Line, Form) && Forms.count(Form))
      for (Function &F : Ast.Functions)
        if (F.Body)
          Removed += removeInstructions(*F.Body, Line, Form);
    if (!Removed) {
      Report.ModuleError = Msg;
      break;
    }
    CoverageForm &C = Forms[Form];
    if (C.Supported) {
      C.Supported = false;
      C.Why = Msg;
    }
  }
  for (auto &[Name, C] : Forms) {
    C.Form = Name;
    Report.Forms.push_back(std::move(C));
  }
  return Report;
}

} // namespace cushim::ptx
