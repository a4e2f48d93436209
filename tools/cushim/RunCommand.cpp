// cushim run: puts cuda_shim's libcudart.so.13 and libcuda.so.1 first on the dynamic loader's path, then execs.
#include "tools/cushim/Commands.h"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace cushim::tools {

// The lib folder next to our bin folder (build/bin/cushim -> build/lib), found from /proc/self/exe.
static std::string libraryDir() {
  char Path[PATH_MAX];
  ssize_t N = readlink("/proc/self/exe", Path, sizeof(Path) - 1);
  if (N <= 0)
    return {};
  Path[N] = '\0';
  std::string Exe(Path);
  std::string Bin = Exe.substr(0, Exe.rfind('/'));
  return Bin.substr(0, Bin.rfind('/')) + "/lib";
}

int runCommand(int Argc, char **Argv, const char *Self) {
  int I = 0;
  for (; I < Argc; ++I) {
    std::string A = Argv[I];
    if (A == "--") {
      ++I;
      break;
    }
    if (A == "--trace") {
      setenv("CUSHIM_TRACE", "1", 1);
    } else if (A == "--log" && I + 1 < Argc) {
      setenv("CUSHIM_LOG", Argv[++I], 1);
    } else {
      break; // the program itself (the "--" is optional)
    }
  }
  if (I >= Argc) {
    std::fprintf(stderr, "usage: cushim run [--trace] [--log LEVEL] -- PROGRAM [ARGS...]\n");
    return 2;
  }
  std::string Lib = libraryDir();
  if (Lib.empty() || access((Lib + "/libcudart.so.13").c_str(), R_OK) != 0) {
    std::fprintf(stderr, "cushim: cannot find cuda_shim's libraries next to %s (looked in '%s')\n", Self,
                 Lib.c_str());
    return 127;
  }
  std::string Path = Lib;
  if (const char *Old = std::getenv("LD_LIBRARY_PATH"); Old && *Old)
    Path += std::string(":") + Old;
  setenv("LD_LIBRARY_PATH", Path.c_str(), 1);
  execvp(Argv[I], Argv + I);
  std::fprintf(stderr, "cushim: cannot run '%s': %s\n", Argv[I], std::strerror(errno));
  return 127;
}

} // namespace cushim::tools
