// Which instruction forms of a PTX module the translator supports, as `cushim ptx --coverage` reports it.
#pragma once

#include "support/Error.h"

#include <string>
#include <string_view>
#include <vector>

namespace cushim::ptx {

// One opcode with its modifiers and types as written ("ld.global.v4.f32"), across the module.
struct CoverageForm {
  std::string Form;
  unsigned Count = 0;     // occurrences
  unsigned FirstLine = 0; // line of the first occurrence
  bool Supported = true;
  std::string Why;        // the lowering's error for an unsupported form ("SOURCE:LINE: unsupported PTX ...")
};

struct CoverageReport {
  std::vector<CoverageForm> Forms; // sorted by form
  std::string ModuleError;         // a lowering error not tied to one instruction (the report is then partial)
};

// Support is decided by the lowering itself, not by a list: the module is lowered, and every instruction the
// lowering rejects is recorded and taken out before the next try, until the rest lowers. Parse errors are returned.
Expected<CoverageReport> coverage(std::string_view Ptx, std::string_view SourceName);

} // namespace cushim::ptx
