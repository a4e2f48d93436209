// cushim conform: the corpus manifest (a JSON file describing CUDA programs and how each one must behave), parsed
// into plain structs. The format is documented in docs/CONFORMANCE.md.
#pragma once

#include "support/Error.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cushim::conform {

// A regular expression (POSIX extended, multi-line: ^ and $ match at line ends) and the stream it applies to.
struct OutputPattern {
  enum class Stream { Stdout, Stderr, Both };
  std::string Regex;
  Stream Where = Stream::Both;
};

// Numbers in compared outputs match when within Abs or within Rel of the larger magnitude.
struct Tolerance {
  double Abs = 0.0;
  double Rel = 0.0;
};

// A command run once before the programs that name it; identical build commands are shared between programs.
struct BuildStep {
  std::vector<std::string> Argv;
  std::string WorkDir; // absolute
  std::map<std::string, std::string> Env;
  double TimeoutS = 600;
  // Identity used to share one build between programs.
  std::string key() const;
};

// What the differential mode compares between our run and the run on NVIDIA's driver.
struct DifferentialRule {
  enum class Compare { Output, ExitCode, None };
  Compare What = Compare::Output;
  std::vector<std::string> IgnoreLines; // regexes: lines dropped from both outputs before comparing
};

// One program of a corpus and its success rule.
struct Program {
  std::string Name;
  std::vector<std::string> Argv;      // Argv[0] resolved: absolute, or a bare name looked up in PATH
  std::optional<std::string> WorkDir; // absolute; empty: a fresh scratch folder per run
  std::vector<std::string> CopyFiles; // absolute paths copied into the scratch folder
  std::map<std::string, std::string> Env;
  double TimeoutS = 120;
  std::vector<std::string> Tags;
  std::vector<BuildStep> Builds; // run in order before the first run
  std::string SkipReason;        // non-empty: reported as skipped, never run

  int ExpectedExitCode = 0;
  std::vector<OutputPattern> Required;
  std::vector<OutputPattern> Forbidden;
  std::optional<std::string> ExpectedOutputFile; // absolute
  OutputPattern::Stream ExpectedOutputStream = OutputPattern::Stream::Stdout;
  bool ExpectedOutputSorted = false; // compare lines as a multiset (device printf order is unspecified)
  std::optional<Tolerance> Tol;      // also used by the differential comparison
  DifferentialRule Differential;
};

struct Corpus {
  std::string Name;
  std::string ManifestPath; // absolute
  std::string Dir;          // the manifest's folder, absolute
  std::vector<Program> Programs;
};

// Values for ${NAME} references in the manifest: command-line --var settings and the built-in names.
struct ManifestContext {
  std::map<std::string, std::string> Vars; // highest priority: --var NAME=VALUE
  std::string OutDir;                      // ${OUT_DIR}; ${BUILD_DIR} is OUT_DIR/build
  std::string LibDir;                      // ${CUSHIM_LIB_DIR}
};

// Reads a corpus from a manifest file, or from a folder holding corpus.json (or manifest.json).
Expected<Corpus> loadCorpus(const std::string &PathOrDir, const ManifestContext &Ctx);

// Parses manifest text; ManifestPath locates relative paths. Exposed for the unit tests.
Expected<Corpus> parseCorpus(const std::string &Text, const std::string &ManifestPath, const ManifestContext &Ctx);

// Expands ${NAME} in Text: Vars first, then the process environment; "$$" is a literal "$". Unknown names are errors.
Expected<std::string> expandVariables(const std::string &Text, const std::map<std::string, std::string> &Vars);

const char *streamName(OutputPattern::Stream S);

// Manifest and usage problems all carry this code; the tool only prints the message.
Error manifestError(std::string Message);

} // namespace cushim::conform
