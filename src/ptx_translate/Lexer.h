// The PTX lexer: turns module text into a flat token array that views the source (no per-token string copies).
// Dotted words (".global", ".L2::128B", ".2d") are single tokens; the parser decides what they mean by position.
#pragma once

#include "support/Error.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace cushim::ptx {

enum class TokenKind : uint8_t {
  Eof,
  Identifier, // "add", "%r1", "$L__BB0_2", "_Z3fooi", "__local_depot0"
  DotWord,    // ".global", ".v4", ".L2::128B", ".shared::cta", ".2d", ".x"
  Integer,    // "42", "0x1F", "017", "0b101", "7U" (the sign is a separate token)
  Float,      // "1.5", "1e-3", "0f3F800000", "0d3FF0000000000000"
  String,     // "\"nounroll\"" (including the quotes)
  Sink,       // "_"
  Comma,
  Semicolon,
  Colon,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Less,
  Greater,
  Plus,
  Minus,
  Bang,
  At,
  Pipe,
  Equal,
  Star,
};

// A token points into the source; Line and Column are 1-based.
struct Token {
  TokenKind Kind = TokenKind::Eof;
  uint32_t Offset = 0;
  uint32_t Length = 0;
  uint32_t Line = 0;
  uint32_t Column = 0;

  uint32_t end() const { return Offset + Length; }
};

// A human-readable name of a token kind for "expected X, found Y" messages.
const char *tokenKindName(TokenKind K);

// Splits Text into tokens, ending with one Eof token. Comments and whitespace are dropped.
// Errors (an unknown character, an unterminated string or comment, a malformed number) are
// CUDA_ERROR_INVALID_PTX with "SOURCE:LINE:COL: message".
Expected<std::vector<Token>> lexPtx(std::string_view Text, std::string_view SourceName);

} // namespace cushim::ptx
