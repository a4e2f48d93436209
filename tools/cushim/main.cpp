// cushim: the command-line front end. Thin: each subcommand parses its flags and calls the libraries.
#include "tools/cushim/Commands.h"
#include "tools/cushim/ConformCommand.h"

#include <cstdio>
#include <cstring>
#include <string>

static void usage(FILE *Out) {
  std::fprintf(Out, "usage: cushim <command> [args]\n"
                    "\n"
                    "commands:\n"
                    "  run [--trace] [--log LEVEL] -- PROGRAM [ARGS...]\n"
                    "                 run an unmodified CUDA program on cuda_shim's libraries\n"
                    "  info           list the devices cuda_shim shows (like deviceQuery); alias: smi\n"
                    "  conform [options] CORPUS\n"
                    "                 run a corpus of CUDA programs and report what passes (conform --help)\n"
                    "  ptx --coverage [--markdown] FILE.ptx...\n"
                    "                 which instruction forms of the files cuda_shim translates (ptx --help)\n"
                    "  help           this text\n");
}

int main(int Argc, char **Argv) {
  if (Argc < 2) {
    usage(stderr);
    return 2;
  }
  std::string Command = Argv[1];
  if (Command == "run")
    return cushim::tools::runCommand(Argc - 2, Argv + 2, Argv[0]);
  if (Command == "conform")
    return cushim::tools::conformCommand(Argc - 2, Argv + 2);
  if (Command == "ptx")
    return cushim::tools::ptxCommand(Argc - 2, Argv + 2);
  if (Command == "info" || Command == "smi")
    return cushim::tools::infoCommand(Argc - 2, Argv + 2);
  if (Command == "help" || Command == "--help" || Command == "-h") {
    usage(stdout);
    return 0;
  }
  std::fprintf(stderr, "cushim: unknown command '%s'\n", Command.c_str());
  usage(stderr);
  return 2;
}
