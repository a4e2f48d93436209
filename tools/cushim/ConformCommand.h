// cushim conform: the subcommand's entry point (flag parsing lives in ConformCommand.cpp).
#pragma once

namespace cushim::tools {

// cushim conform [options] CORPUS_DIR_OR_MANIFEST, or cushim conform --compare BEFORE.json AFTER.json.
int conformCommand(int Argc, char **Argv);

} // namespace cushim::tools
