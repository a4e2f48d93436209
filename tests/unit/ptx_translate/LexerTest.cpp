// Unit tests of the PTX lexer: token kinds, dotted words with "::", number forms, comments and lexical errors.
#include "ptx_translate/Lexer.h"

#include <catch2/catch.hpp>

#include <string>

using namespace cushim::ptx;

namespace {

struct Lexed {
  std::string Text;
  std::vector<Token> Toks;
  std::string_view text(size_t I) const { return std::string_view(Text).substr(Toks[I].Offset, Toks[I].Length); }
};

Lexed lexOk(std::string Text) {
  Lexed L;
  L.Text = std::move(Text);
  auto R = lexPtx(L.Text, "t.ptx");
  INFO((R ? std::string() : R.error().message()));
  REQUIRE(R);
  L.Toks = std::move(*R);
  return L;
}

} // namespace

TEST_CASE("lexer splits an instruction into opcode, dotted modifiers and operands", "[ptx][lexer]") {
  Lexed L = lexOk("ld.global.L2::128B.v2.f32 {%f1, %f2}, [%rd1+-8];");
  std::vector<TokenKind> Kinds;
  for (const Token &T : L.Toks)
    Kinds.push_back(T.Kind);
  std::vector<TokenKind> Want = {
      TokenKind::Identifier, TokenKind::DotWord,    TokenKind::DotWord,    TokenKind::DotWord,    TokenKind::DotWord,
      TokenKind::LBrace,     TokenKind::Identifier, TokenKind::Comma,      TokenKind::Identifier, TokenKind::RBrace,
      TokenKind::Comma,      TokenKind::LBracket,   TokenKind::Identifier, TokenKind::Plus,       TokenKind::Minus,
      TokenKind::Integer,    TokenKind::RBracket,   TokenKind::Semicolon,  TokenKind::Eof};
  CHECK(Kinds == Want);
  CHECK(L.text(0) == "ld");
  CHECK(L.text(2) == ".L2::128B");
  CHECK(L.text(6) == "%f1");
  CHECK(L.text(15) == "8");
}

TEST_CASE("lexer identifiers follow the PTX rules", "[ptx][lexer]") {
  Lexed L = lexOk("$L__BB0_2 __local_depot0 %SP _Z5saxpyifPKfPf_param_0 _ %r<10> a$b");
  CHECK(L.Toks[0].Kind == TokenKind::Identifier);
  CHECK(L.text(0) == "$L__BB0_2");
  CHECK(L.text(1) == "__local_depot0");
  CHECK(L.text(2) == "%SP");
  CHECK(L.text(3) == "_Z5saxpyifPKfPf_param_0");
  CHECK(L.Toks[4].Kind == TokenKind::Sink);
  CHECK(L.text(5) == "%r");
  CHECK(L.Toks[6].Kind == TokenKind::Less);
  CHECK(L.Toks[7].Kind == TokenKind::Integer);
  CHECK(L.Toks[8].Kind == TokenKind::Greater);
  CHECK(L.text(9) == "a$b");
}

TEST_CASE("lexer number forms", "[ptx][lexer]") {
  Lexed L = lexOk("42 0x1F 017 0b101 7U 1.5 1e-3 2.5E+4 0f3F800000 0d3FF0000000000000 9.0");
  std::vector<TokenKind> Want = {TokenKind::Integer, TokenKind::Integer, TokenKind::Integer, TokenKind::Integer,
                                 TokenKind::Integer, TokenKind::Float,   TokenKind::Float,   TokenKind::Float,
                                 TokenKind::Float,   TokenKind::Float,   TokenKind::Float,   TokenKind::Eof};
  REQUIRE(L.Toks.size() == Want.size());
  for (size_t I = 0; I < Want.size(); ++I)
    CHECK(L.Toks[I].Kind == Want[I]);
  CHECK(L.text(4) == "7U");
  CHECK(L.text(8) == "0f3F800000");
}

TEST_CASE("lexer tracks lines and columns across comments", "[ptx][lexer]") {
  Lexed L = lexOk("// header\n  .version 9.0 /* multi\nline */ .target\tsm_80\n");
  REQUIRE(L.Toks.size() == 5);
  CHECK(L.Toks[0].Line == 2);
  CHECK(L.Toks[0].Column == 3);
  CHECK(L.Toks[2].Line == 3);
  CHECK(L.Toks[2].Column == 9);
  CHECK(L.text(3) == "sm_80");
  CHECK(L.Toks[3].Column == 17);
}

TEST_CASE("lexer dotted words keep :: chains and digit-first modifiers", "[ptx][lexer]") {
  Lexed L = lexOk("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes");
  REQUIRE(L.Toks.size() == 9);
  CHECK(L.text(4) == ".2d");
  CHECK(L.text(5) == ".shared::cluster");
  CHECK(L.text(7) == ".mbarrier::complete_tx::bytes");
}

TEST_CASE("lexer strings", "[ptx][lexer]") {
  Lexed L = lexOk(".pragma \"nounroll\";\n.file 1 \"/tmp/a b\\\".cu\"");
  CHECK(L.Toks[1].Kind == TokenKind::String);
  CHECK(L.text(1) == "\"nounroll\"");
  CHECK(L.text(5) == "\"/tmp/a b\\\".cu\"");
}

TEST_CASE("lexer reports errors with a location", "[ptx][lexer]") {
  auto Check = [](const char *Src, const char *Where, const char *What) {
    auto R = lexPtx(Src, "bad.ptx");
    REQUIRE_FALSE(R);
    CHECK(R.error().code() == CUDA_ERROR_INVALID_PTX);
    CHECK_THAT(R.error().message(), Catch::Contains(Where) && Catch::Contains(What));
  };
  Check("add.s32 %r1, %r2, 12abc;", "bad.ptx:1:19", "malformed number");
  Check("\n  /* never closed", "bad.ptx:2:3", "unterminated /* comment");
  Check(".pragma \"open\n", "bad.ptx:1:9", "unterminated string");
  Check("mov.u32 %r1, `;", "bad.ptx:1:14", "unexpected character '`'");
  Check("mov.f32 %f1, 0f3F80;", "bad.ptx:1:14", "exactly 8 hex digits");
  Check("mov.u32 % r1;", "bad.ptx:1:9", "identifier after '%'");
  Check("x\x01", "bad.ptx:1:2", "unexpected byte 0x01");
  Check("#include <x>", "bad.ptx:1:1", "preprocessor");
}

TEST_CASE("lexer ignores trailing NUL padding, a UTF-8 BOM and CRLF line ends", "[ptx][lexer]") {
  std::string Text("\xEF\xBB\xBF.version 9.0\r\n.target sm_80\r\n\0\0\0", 35);
  auto R = lexPtx(Text, "t.ptx");
  INFO((R ? std::string() : R.error().message()));
  REQUIRE(R);
  REQUIRE(R->size() == 5);
  CHECK((*R)[0].Kind == TokenKind::DotWord);
  CHECK((*R)[0].Column == 1);
  CHECK((*R)[2].Line == 2);
  CHECK((*R)[3].Column == 9);
  CHECK((*R)[4].Kind == TokenKind::Eof);
  // A NUL inside the text is still an error.
  std::string Mid("mov\0.u32", 8);
  CHECK_FALSE(lexPtx(Mid, "t.ptx"));
}
