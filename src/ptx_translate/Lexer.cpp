// The PTX lexer: one pass over the text with a hand-written scanner (no regex), producing views into the source.
#include "ptx_translate/Lexer.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

namespace cushim::ptx {

const char *tokenKindName(TokenKind K) {
  switch (K) {
  case TokenKind::Eof:
    return "end of input";
  case TokenKind::Identifier:
    return "identifier";
  case TokenKind::DotWord:
    return "directive or modifier";
  case TokenKind::Integer:
    return "integer";
  case TokenKind::Float:
    return "floating-point literal";
  case TokenKind::String:
    return "string";
  case TokenKind::Sink:
    return "'_'";
  case TokenKind::Comma:
    return "','";
  case TokenKind::Semicolon:
    return "';'";
  case TokenKind::Colon:
    return "':'";
  case TokenKind::LParen:
    return "'('";
  case TokenKind::RParen:
    return "')'";
  case TokenKind::LBracket:
    return "'['";
  case TokenKind::RBracket:
    return "']'";
  case TokenKind::LBrace:
    return "'{'";
  case TokenKind::RBrace:
    return "'}'";
  case TokenKind::Less:
    return "'<'";
  case TokenKind::Greater:
    return "'>'";
  case TokenKind::Plus:
    return "'+'";
  case TokenKind::Minus:
    return "'-'";
  case TokenKind::Bang:
    return "'!'";
  case TokenKind::At:
    return "'@'";
  case TokenKind::Pipe:
    return "'|'";
  case TokenKind::Equal:
    return "'='";
  case TokenKind::Star:
    return "'*'";
  }
  return "token";
}

namespace {

bool isDigit(char C) { return C >= '0' && C <= '9'; }
bool isHexDigit(char C) { return isDigit(C) || (C >= 'a' && C <= 'f') || (C >= 'A' && C <= 'F'); }
bool isAlpha(char C) { return (C >= 'a' && C <= 'z') || (C >= 'A' && C <= 'Z'); }
// Characters that may follow the first one of an identifier: [a-zA-Z0-9_$].
bool isIdentChar(char C) { return isAlpha(C) || isDigit(C) || C == '_' || C == '$'; }

class Lexer {
public:
  Lexer(std::string_view Text, std::string_view SourceName) : Text(Text), SourceName(SourceName) {
    // PTX taken from a fatbinary is NUL-terminated and often NUL-padded; text editors may add a UTF-8 BOM.
    while (!this->Text.empty() && this->Text.back() == '\0')
      this->Text.remove_suffix(1);
    if (this->Text.substr(0, 3) == "\xEF\xBB\xBF")
      Pos = LineStart = 3;
  }

  Expected<std::vector<Token>> run() {
    if (Text.size() >= std::numeric_limits<uint32_t>::max())
      return makeError(CUDA_ERROR_INVALID_PTX, std::string(SourceName) + ": PTX text is larger than 4 GiB");
    std::vector<Token> Tokens;
    // Roughly one token per 4 bytes of typical compiler output; avoids most regrowth.
    Tokens.reserve(std::min<size_t>(Text.size() / 4, size_t(1) << 24) + 16);
    while (true) {
      if (Error E = skipSpaceAndComments(); E.isError())
        return E;
      if (Pos >= Text.size())
        break;
      Token T;
      T.Offset = static_cast<uint32_t>(Pos);
      T.Line = Line;
      T.Column = static_cast<uint32_t>(Pos - LineStart + 1);
      if (Error E = lexOne(T); E.isError())
        return E;
      T.Length = static_cast<uint32_t>(Pos - T.Offset);
      Tokens.push_back(T);
    }
    Token EofTok;
    EofTok.Kind = TokenKind::Eof;
    EofTok.Offset = static_cast<uint32_t>(Text.size());
    EofTok.Line = Line;
    EofTok.Column = static_cast<uint32_t>(Pos - LineStart + 1);
    Tokens.push_back(EofTok);
    return Tokens;
  }

private:
  std::string_view Text;
  std::string_view SourceName;
  size_t Pos = 0;
  uint32_t Line = 1;
  size_t LineStart = 0;

  char peek(size_t Ahead = 0) const { return Pos + Ahead < Text.size() ? Text[Pos + Ahead] : '\0'; }

  Error errorAt(uint32_t L, uint32_t C, const std::string &Msg) const {
    return makeError(CUDA_ERROR_INVALID_PTX,
                     std::string(SourceName) + ":" + std::to_string(L) + ":" + std::to_string(C) + ": " + Msg);
  }
  Error errorHere(const std::string &Msg) const {
    return errorAt(Line, static_cast<uint32_t>(Pos - LineStart + 1), Msg);
  }

  void newline() {
    ++Line;
    LineStart = Pos;
  }

  Error skipSpaceAndComments() {
    while (Pos < Text.size()) {
      char C = Text[Pos];
      if (C == '\n') {
        ++Pos;
        newline();
      } else if (C == ' ' || C == '\t' || C == '\r' || C == '\f' || C == '\v') {
        ++Pos;
      } else if (C == '/' && peek(1) == '/') {
        while (Pos < Text.size() && Text[Pos] != '\n')
          ++Pos;
      } else if (C == '/' && peek(1) == '*') {
        uint32_t StartLine = Line;
        uint32_t StartCol = static_cast<uint32_t>(Pos - LineStart + 1);
        Pos += 2;
        bool Closed = false;
        while (Pos < Text.size()) {
          if (Text[Pos] == '*' && peek(1) == '/') {
            Pos += 2;
            Closed = true;
            break;
          }
          ++Pos;
          if (Text[Pos - 1] == '\n')
            newline();
        }
        if (!Closed)
          return errorAt(StartLine, StartCol, "unterminated /* comment");
      } else {
        break;
      }
    }
    return Error::success();
  }

  Error lexOne(Token &T) {
    char C = Text[Pos];
    if (isAlpha(C)) {
      ++Pos;
      while (Pos < Text.size() && isIdentChar(Text[Pos]))
        ++Pos;
      T.Kind = TokenKind::Identifier;
      return Error::success();
    }
    if (C == '_' || C == '$' || C == '%') {
      if (!isIdentChar(peek(1))) {
        if (C == '_') {
          ++Pos;
          T.Kind = TokenKind::Sink;
          return Error::success();
        }
        return errorHere(std::string("expected an identifier after '") + C + "'");
      }
      ++Pos;
      while (Pos < Text.size() && isIdentChar(Text[Pos]))
        ++Pos;
      T.Kind = TokenKind::Identifier;
      return Error::success();
    }
    if (C == '.') {
      if (!isIdentChar(peek(1))) {
        if (isDigit(peek(1)))
          return lexNumber(T);
        return errorHere("expected a directive or modifier name after '.'");
      }
      ++Pos;
      while (true) {
        while (Pos < Text.size() && isIdentChar(Text[Pos]))
          ++Pos;
        // "::" continues a modifier: ".L2::128B", ".shared::cluster", ".mbarrier::complete_tx::bytes".
        if (peek() == ':' && peek(1) == ':' && isIdentChar(peek(2))) {
          Pos += 2;
          continue;
        }
        break;
      }
      T.Kind = TokenKind::DotWord;
      return Error::success();
    }
    if (isDigit(C))
      return lexNumber(T);
    if (C == '"') {
      ++Pos;
      while (Pos < Text.size() && Text[Pos] != '"' && Text[Pos] != '\n') {
        if (Text[Pos] == '\\' && Pos + 1 < Text.size() && Text[Pos + 1] != '\n')
          ++Pos;
        ++Pos;
      }
      if (Pos >= Text.size() || Text[Pos] != '"')
        return errorAt(T.Line, T.Column, "unterminated string literal");
      ++Pos;
      T.Kind = TokenKind::String;
      return Error::success();
    }
    TokenKind K;
    switch (C) {
    case ',':
      K = TokenKind::Comma;
      break;
    case ';':
      K = TokenKind::Semicolon;
      break;
    case ':':
      K = TokenKind::Colon;
      break;
    case '(':
      K = TokenKind::LParen;
      break;
    case ')':
      K = TokenKind::RParen;
      break;
    case '[':
      K = TokenKind::LBracket;
      break;
    case ']':
      K = TokenKind::RBracket;
      break;
    case '{':
      K = TokenKind::LBrace;
      break;
    case '}':
      K = TokenKind::RBrace;
      break;
    case '<':
      K = TokenKind::Less;
      break;
    case '>':
      K = TokenKind::Greater;
      break;
    case '+':
      K = TokenKind::Plus;
      break;
    case '-':
      K = TokenKind::Minus;
      break;
    case '!':
      K = TokenKind::Bang;
      break;
    case '@':
      K = TokenKind::At;
      break;
    case '|':
      K = TokenKind::Pipe;
      break;
    case '=':
      K = TokenKind::Equal;
      break;
    case '*':
      K = TokenKind::Star;
      break;
    case '#':
      return errorHere("preprocessor directives ('#') are not supported in PTX given to the driver");
    default: {
      char Buf[64];
      unsigned char U = static_cast<unsigned char>(C);
      if (U >= 0x20 && U < 0x7f)
        std::snprintf(Buf, sizeof(Buf), "unexpected character '%c'", C);
      else
        std::snprintf(Buf, sizeof(Buf), "unexpected byte 0x%02x", U);
      return errorHere(Buf);
    }
    }
    ++Pos;
    T.Kind = K;
    return Error::success();
  }

  // Numbers: the parser converts the text; here we only find where the literal ends and what kind it is.
  Error lexNumber(Token &T) {
    size_t Start = Pos;
    char C = Text[Pos];
    if (C == '0' && (peek(1) == 'f' || peek(1) == 'F' || peek(1) == 'd' || peek(1) == 'D')) {
      size_t Want = (peek(1) == 'f' || peek(1) == 'F') ? 8 : 16;
      size_t I = 0;
      while (I < Want && isHexDigit(peek(2 + I)))
        ++I;
      if (I != Want || isIdentChar(peek(2 + Want)))
        return errorHere(std::string("malformed hexadecimal floating-point literal (0") + peek(1) + " needs exactly " +
                         std::to_string(Want) + " hex digits)");
      Pos += 2 + Want;
      T.Kind = TokenKind::Float;
      return Error::success();
    }
    T.Kind = TokenKind::Integer;
    if (C == '0' && (peek(1) == 'x' || peek(1) == 'X')) {
      Pos += 2;
      if (!isHexDigit(peek()))
        return errorHere("malformed hexadecimal literal");
      while (isHexDigit(peek()))
        ++Pos;
    } else if (C == '0' && (peek(1) == 'b' || peek(1) == 'B') && (peek(2) == '0' || peek(2) == '1')) {
      Pos += 2;
      while (peek() == '0' || peek() == '1')
        ++Pos;
    } else {
      while (isDigit(peek()))
        ++Pos;
      if (peek() == '.' && (isDigit(peek(1)) || !isIdentChar(peek(1)))) {
        ++Pos;
        while (isDigit(peek()))
          ++Pos;
        T.Kind = TokenKind::Float;
      }
      if ((peek() == 'e' || peek() == 'E') &&
          (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
        Pos += 2;
        while (isDigit(peek()))
          ++Pos;
        T.Kind = TokenKind::Float;
      }
    }
    if (T.Kind == TokenKind::Integer && (peek() == 'U' || peek() == 'u'))
      ++Pos;
    if (isIdentChar(peek())) {
      size_t End = Pos;
      while (End < Text.size() && End - Start < 32 && (isIdentChar(Text[End]) || Text[End] == '.'))
        ++End;
      Pos = Start;
      return errorHere("malformed number '" + std::string(Text.substr(Start, End - Start)) + "'");
    }
    return Error::success();
  }
};

} // namespace

Expected<std::vector<Token>> lexPtx(std::string_view Text, std::string_view SourceName) {
  return Lexer(Text, SourceName).run();
}

} // namespace cushim::ptx
