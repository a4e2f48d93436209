// The subcommands of the cushim tool.
#pragma once

namespace cushim::tools {

// cushim run -- PROGRAM ARGS...: execs PROGRAM with our libraries first on the library path.
int runCommand(int Argc, char **Argv, const char *Self);
// cushim info: prints every device and its main properties through the driver API.
int infoCommand(int Argc, char **Argv);
// cushim ptx --coverage FILE.ptx...: the instruction forms of PTX files and whether the translator supports them.
int ptxCommand(int Argc, char **Argv);

} // namespace cushim::tools
