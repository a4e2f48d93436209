// cushim ptx --coverage: which instruction forms of PTX files the translator supports (ptx_translate/Coverage.h).
#include "tools/cushim/Commands.h"

#include "ptx_translate/Coverage.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace cushim::tools {

static void ptxUsage(FILE *Out) {
  std::fprintf(Out, "usage: cushim ptx --coverage [--markdown] FILE.ptx...\n"
                    "  lists every opcode with its modifiers in the files and whether cuda_shim translates it;\n"
                    "  --markdown prints one table over all files. Exit status: 0 all supported, 1 some not,\n"
                    "  2 a file cannot be read or parsed.\n");
}

int ptxCommand(int Argc, char **Argv) {
  bool Coverage = false, Markdown = false;
  std::vector<std::string> Files;
  for (int I = 0; I < Argc; ++I) {
    if (std::strcmp(Argv[I], "--coverage") == 0)
      Coverage = true;
    else if (std::strcmp(Argv[I], "--markdown") == 0)
      Markdown = true;
    else if (std::strcmp(Argv[I], "--help") == 0 || std::strcmp(Argv[I], "-h") == 0) {
      ptxUsage(stdout);
      return 0;
    } else if (Argv[I][0] == '-') {
      std::fprintf(stderr, "cushim ptx: unknown option '%s'\n", Argv[I]);
      ptxUsage(stderr);
      return 2;
    } else
      Files.push_back(Argv[I]);
  }
  if (!Coverage || Files.empty()) {
    ptxUsage(stderr);
    return 2;
  }
  int Status = 0;
  struct Row {
    unsigned Count = 0;
    bool Supported = true;
    std::set<std::string> Files;
  };
  std::map<std::string, Row> Table;
  for (const std::string &Path : Files) {
    std::ifstream In(Path, std::ios::binary);
    std::stringstream Text;
    Text << In.rdbuf();
    if (!In) {
      std::fprintf(stderr, "cushim ptx: cannot read %s\n", Path.c_str());
      return 2;
    }
    Expected<ptx::CoverageReport> R = ptx::coverage(Text.str(), Path);
    if (!R) {
      std::fprintf(stderr, "cushim ptx: %s\n", R.takeError().message().c_str());
      return 2;
    }
    unsigned Unsupported = 0;
    for (const ptx::CoverageForm &F : R->Forms) {
      Unsupported += !F.Supported;
      Row &Rw = Table[F.Form];
      Rw.Count += F.Count;
      Rw.Supported &= F.Supported;
      Rw.Files.insert(Path);
    }
    if (Unsupported || !R->ModuleError.empty())
      Status = 1;
    if (Markdown)
      continue;
    std::printf("%s: %zu instruction forms, %zu supported, %u not\n", Path.c_str(), R->Forms.size(),
                R->Forms.size() - Unsupported, Unsupported);
    for (const ptx::CoverageForm &F : R->Forms)
      std::printf("  %-11s %6u  %-40s line %u%s%s\n", F.Supported ? "supported" : "UNSUPPORTED", F.Count,
                  F.Form.c_str(), F.FirstLine, F.Supported ? "" : "  ", F.Why.c_str());
    if (!R->ModuleError.empty())
      std::printf("  module not lowered (report partial): %s\n", R->ModuleError.c_str());
  }
  if (Markdown) {
    std::printf("| Instruction form | Translated | Occurrences | Files |\n|---|---|---|---|\n");
    for (const auto &[Form, Rw] : Table)
      std::printf("| `%s` | %s | %u | %zu |\n", Form.c_str(), Rw.Supported ? "yes" : "**no**", Rw.Count,
                  Rw.Files.size());
  }
  return Status;
}

} // namespace cushim::tools
