// PTX text to AST: the lexer and parser for the PTX 9.0 module grammar.
#pragma once

#include "ptx_translate/Ast.h"
#include "support/Error.h"

#include <string_view>

namespace cushim::ptx {

// Parses a whole PTX module. Errors are CUDA_ERROR_INVALID_PTX with "SOURCE:LINE:COL: message".
Expected<Module> parsePtx(std::string_view Text, std::string_view SourceName = "<ptx>");

} // namespace cushim::ptx
