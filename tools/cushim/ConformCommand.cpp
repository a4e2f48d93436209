// cushim conform: parses the flags, loads the corpus, runs it and writes the reports. The work is in Conform*.cpp.
#include "tools/cushim/ConformCommand.h"

#include "tools/cushim/ConformReport.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace cushim::tools {

using namespace cushim::conform;

static const char *const ConformUsage =
    "usage: cushim conform [options] CORPUS_DIR_OR_MANIFEST\n"
    "       cushim conform --compare BEFORE.json AFTER.json\n"
    "\n"
    "Runs every program of a corpus under cuda_shim and classifies each one: pass, fail, crash, timeout,\n"
    "build-error or skipped (see docs/CONFORMANCE.md).\n"
    "\n"
    "options:\n"
    "  -j, --jobs N          run N programs in parallel (default 1)\n"
    "  --filter REGEX        only programs whose name matches (POSIX extended regex)\n"
    "  --tag TAG             only programs with this tag (repeatable: any of them)\n"
    "  --repeat N            run each program N times; a status that changes is reported as flaky\n"
    "  --out DIR             logs, scratch folders and report.md/junit.xml/report.json (default: a new /tmp folder)\n"
    "  --timeout SECONDS     per-run timeout for every program, overriding the manifest\n"
    "  --keep-going          run every program whatever happens (the default)\n"
    "  --fail-fast           start no new program after the first failure\n"
    "  --differential        also run each program on NVIDIA's driver and compare\n"
    "  --nvidia-libdir DIR   NVIDIA's libcuda.so.1 is in DIR (default: found with ldconfig -p)\n"
    "  --lib-dir DIR         cuda_shim's libraries (default: ../lib next to this cushim)\n"
    "  --var NAME=VALUE      define ${NAME} for the manifest (repeatable)\n"
    "  --env NAME=VALUE      add to every program's environment (repeatable)\n"
    "  --list                print the selected programs and exit\n"
    "  --compare OLD NEW     list programs newly passing and newly failing between two report.json files\n"
    "\n"
    "exit status: 0 when every program that ran passed, 1 otherwise, 2 for usage or manifest errors;\n"
    "with --compare, 1 when a program newly fails.\n";

static int usageError(const std::string &Message) {
  std::fprintf(stderr, "cushim conform: %s\n\n%s", Message.c_str(), ConformUsage);
  return 2;
}

static bool parseUnsigned(const char *Text, unsigned &Out) {
  char *End = nullptr;
  long V = std::strtol(Text, &End, 10);
  if (!*Text || *End || V < 1 || V > 100000)
    return false;
  Out = static_cast<unsigned>(V);
  return true;
}

static bool splitAssignment(const std::string &Text, std::map<std::string, std::string> &Into) {
  size_t Eq = Text.find('=');
  if (Eq == 0 || Eq == std::string::npos)
    return false;
  Into[Text.substr(0, Eq)] = Text.substr(Eq + 1);
  return true;
}

int conformCommand(int Argc, char **Argv) {
  RunOptions O;
  ManifestContext Ctx;
  std::string Corpus;
  bool List = false;
  for (int I = 0; I < Argc; ++I) {
    std::string A = Argv[I];
    auto value = [&](const char *Flag) -> const char * {
      if (I + 1 >= Argc) {
        usageError(std::string(Flag) + " needs a value");
        return nullptr;
      }
      return Argv[++I];
    };
    if (A == "-h" || A == "--help") {
      std::fputs(ConformUsage, stdout);
      return 0;
    } else if (A == "--compare") {
      if (I + 2 >= Argc)
        return usageError("--compare needs BEFORE.json and AFTER.json");
      Expected<ReportChanges> C = compareReports(Argv[I + 1], Argv[I + 2]);
      if (!C) {
        std::fprintf(stderr, "cushim conform: %s\n", C.error().message().c_str());
        return 2;
      }
      printChanges(*C, stdout);
      return C->NewlyFailing.empty() ? 0 : 1;
    } else if (A == "-j" || A == "--jobs" || A.rfind("-j", 0) == 0) {
      const char *V = A.size() > 2 && A[1] == 'j' ? A.c_str() + 2 : value(A.c_str());
      if (!V)
        return 2;
      if (!parseUnsigned(V, O.Jobs))
        return usageError("-j needs a positive number");
    } else if (A == "--filter") {
      const char *V = value("--filter");
      if (!V)
        return 2;
      O.Filter = V;
    } else if (A == "--tag") {
      const char *V = value("--tag");
      if (!V)
        return 2;
      O.Tags.push_back(V);
    } else if (A == "--repeat") {
      const char *V = value("--repeat");
      if (!V)
        return 2;
      if (!parseUnsigned(V, O.Repeat))
        return usageError("--repeat needs a positive number");
    } else if (A == "--out") {
      const char *V = value("--out");
      if (!V)
        return 2;
      O.OutDir = V;
    } else if (A == "--timeout") {
      const char *V = value("--timeout");
      if (!V)
        return 2;
      char *End = nullptr;
      double T = std::strtod(V, &End);
      if (*End || T <= 0)
        return usageError("--timeout needs a positive number of seconds");
      O.TimeoutS = T;
    } else if (A == "--keep-going") {
      O.KeepGoing = true;
    } else if (A == "--fail-fast") {
      O.KeepGoing = false;
    } else if (A == "--differential") {
      O.Differential = true;
    } else if (A == "--nvidia-libdir") {
      const char *V = value("--nvidia-libdir");
      if (!V)
        return 2;
      O.NvidiaLibDir = std::filesystem::absolute(V).string();
    } else if (A == "--lib-dir") {
      const char *V = value("--lib-dir");
      if (!V)
        return 2;
      O.LibDir = std::filesystem::absolute(V).string();
    } else if (A == "--var" || A == "--env") {
      const char *V = value(A.c_str());
      if (!V)
        return 2;
      if (!splitAssignment(V, A == "--var" ? Ctx.Vars : O.ExtraEnv))
        return usageError(A + " needs NAME=VALUE");
    } else if (A == "--list") {
      List = true;
    } else if (!A.empty() && A[0] == '-') {
      return usageError("unknown option " + A);
    } else if (Corpus.empty()) {
      Corpus = A;
    } else {
      return usageError("one corpus at a time (got '" + Corpus + "' and '" + A + "')");
    }
  }
  if (Corpus.empty())
    return usageError("no corpus given");

  if (O.LibDir.empty())
    O.LibDir = defaultLibDir();
  if (access((O.LibDir + "/libcuda.so.1").c_str(), R_OK) != 0)
    std::fprintf(stderr, "cushim conform: warning: no libcuda.so.1 in '%s'; programs may not run on cuda_shim\n",
                 O.LibDir.c_str());
  if (O.OutDir.empty()) {
    char Template[] = "/tmp/cushim-conform-XXXXXX";
    if (!mkdtemp(Template)) {
      std::perror("cushim conform: mkdtemp");
      return 2;
    }
    O.OutDir = Template;
  }
  std::error_code Ec;
  std::filesystem::create_directories(O.OutDir, Ec);
  O.OutDir = std::filesystem::absolute(O.OutDir).string();
  if (Ec) {
    std::fprintf(stderr, "cushim conform: cannot create %s: %s\n", O.OutDir.c_str(), Ec.message().c_str());
    return 2;
  }
  Ctx.OutDir = O.OutDir;
  Ctx.LibDir = O.LibDir;
  std::filesystem::create_directories(O.OutDir + "/build", Ec);

  Expected<conform::Corpus> C = loadCorpus(Corpus, Ctx);
  if (!C) {
    std::fprintf(stderr, "cushim conform: %s\n", C.error().message().c_str());
    return 2;
  }
  Expected<std::vector<const Program *>> Selected = selectPrograms(*C, O);
  if (!Selected) {
    std::fprintf(stderr, "cushim conform: %s\n", Selected.error().message().c_str());
    return 2;
  }
  if (List) {
    for (const Program *P : *Selected) {
      std::string Tags;
      for (const std::string &T : P->Tags)
        Tags += (Tags.empty() ? " [" : ", ") + T;
      std::printf("%s%s%s\n", P->Name.c_str(), Tags.c_str(), Tags.empty() ? "" : "]");
    }
    return 0;
  }

  std::printf("cushim conform: %s: %zu of %zu programs, -j %u, output in %s\n", C->Name.c_str(), Selected->size(),
              C->Programs.size(), O.Jobs, O.OutDir.c_str());
  if (O.Differential) {
    DriverProbe D = findNvidiaDriver(O.LibDir, O.NvidiaLibDir);
    std::printf("cushim conform: %s\n", D.Message.c_str());
  }
  std::fflush(stdout);
  TerminalProgress Progress(stdout, Selected->size());
  Expected<RunSummary> S = runCorpus(*C, O, Progress.sink());
  if (!S) {
    std::fprintf(stderr, "cushim conform: %s\n", S.error().message().c_str());
    return 2;
  }
  printSummary(*S, stdout);
  if (Error E = writeReports(*S, O.OutDir)) {
    std::fprintf(stderr, "cushim conform: %s\n", E.message().c_str());
    return 2;
  }
  std::printf("reports: %s/report.md, %s/junit.xml, %s/report.json\n", O.OutDir.c_str(), O.OutDir.c_str(),
              O.OutDir.c_str());
  for (const ProgramResult &P : S->Programs)
    if (P.St != Status::Pass && P.St != Status::Skipped)
      return 1;
  return S->Interrupted ? 1 : 0;
}

} // namespace cushim::tools
