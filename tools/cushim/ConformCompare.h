// cushim conform: judging outputs: POSIX regexes over program output, token-by-token comparison with a numeric
// tolerance, and picking the lines a failure report shows (output tail, first cuda_shim diagnostic).
#pragma once

#include "tools/cushim/ConformManifest.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cushim::conform {

// A compiled POSIX extended regex in multi-line mode (^ and $ match at every line, . does not cross lines).
// POSIX rather than std::regex: libstdc++'s std::regex recurses per character and overflows the stack on
// megabyte outputs.
class Regex {
public:
  static Expected<Regex> compile(const std::string &Pattern);
  bool search(const std::string &Text) const;
  const std::string &pattern() const { return Pattern; }

private:
  struct Impl;
  std::shared_ptr<Impl> P;
  std::string Pattern;
};

// Compares Got to Want token by token (whitespace-separated; numbers inside tokens are split out). Numbers match
// when |a-b| <= Abs or |a-b| <= Rel * max(|a|,|b|); other text must be equal. With no tolerance, numbers must be
// textually equal. Sorted compares the lines as multisets. Returns nothing on a match, else a description of the
// first differences.
std::optional<std::string> compareOutputs(const std::string &Got, const std::string &Want,
                                          const std::optional<Tolerance> &Tol, bool Sorted);

// Drops the lines matching any of the regexes (differential mode's "ignore_lines").
std::string dropLines(const std::string &Text, const std::vector<Regex> &Ignore);

// The first "[cuda_shim error]" (or critical) line of a log, else the first "[cuda_shim warning]" line, else "".
std::string firstShimDiagnostic(const std::string &Log);

// The last N lines of Text (without a trailing empty line).
std::vector<std::string> lastLines(const std::string &Text, size_t N);

} // namespace cushim::conform
