// The PTX parser: a recursive-descent parser over the lexer's tokens that builds the AST of Ast.h.
//
// Representation choices for what Ast.h leaves open (the lowering relies on these):
// - Calls: Operands are always [ListOperand returns (empty if none), callee, ListOperand args (empty if none)]
//   followed by the prototype or .calltargets label as a SymbolOperand when written. "call foo;" gives
//   [List{}, Symbol foo, List{}].
// - Bracketed operand groups with commas (textures, surfaces, tensor maps): "[tex, smp, {%f1, %f2}]" is flattened
//   into consecutive operands: an AddressOperand holding the first element (BaseReg or BaseSymbol, Offset 0),
//   then each further element as its own operand (SymbolOperand/RegOperand sampler, VectorOperand coordinates).
//   So "tex.2d.v4.f32.f32 {%f1,%f2,%f3,%f4}, [t, {%f5,%f6}];" has operands Vector, Address(t), Vector.
// - Registers declared without '%' ("r1" after ".reg .b32 r<4>;") are RegOperands; other bare names are symbols.
// - Components ".x/.y/.z/.w" and their synonyms ".r/.g/.b/.a" set RegOperand::Component 0..3.
// - Negative literals are folded: "-1" is IntOperand{Value = 2^64-1}; "-0f3F800000" flips the sign bit in Bits.
// - Parameter lists: an unsized last array parameter (".param .align 8 .b8 p[]") sets VarArgs; it stays in Params.
// - Unsized arrays with a brace initializer get their outermost dimension from the number of elements.
// - ".pragma" inside a body is an OtherDirective at its position and is also appended to Directives.Pragmas;
//   ".pragma" between the parameter list and the body goes to Directives.Pragmas only.
// - ".calltargets" is an OtherDirective{Name "calltargets", Text "label: f1, f2"} (no dedicated node yet).
// - Byte-mask initializers "0xFF00(sym+4)" (LLVM emits them for pointers in packed byte arrays) are Symbol
//   initializers with the mask in IntValue.Value (0 for an ordinary symbol initializer); "0xFF00(1000+546)" on
//   an integer expression is folded to an Int initializer holding the selected byte.
// - Samplerref initializers "{addr_mode_0 = clamp, filter_mode = linear}" are a List of Symbol initializers whose
//   Name is "field=value".
// - Accepted but not stored (no AST field): .blocksareclusters, .abi_preserve N, .abi_preserve_control N,
//   .attribute(...) on functions, .section bodies (DWARF data), module-scope .loc.
#include "ptx_translate/Parser.h"

#include "ptx_translate/Lexer.h"

#include <charconv>
#include <cstring>
#include <unordered_map>

namespace cushim::ptx {

namespace {

// Deeper nesting than this (blocks, braces, vectors) is garbage input, not PTX; bounding it keeps the stack safe.
constexpr unsigned MaxNesting = 256;

class Parser {
public:
  Parser(std::string_view Text, std::string_view SourceName, std::vector<Token> Tokens)
      : Text(Text), SourceName(SourceName), Toks(std::move(Tokens)) {}

  Expected<Module> run() {
    if (Error E = parseModule(); E.isError())
      return E;
    return std::move(M);
  }

private:
  std::string_view Text;
  std::string_view SourceName;
  std::vector<Token> Toks;
  size_t Idx = 0;
  Module M;
  // Registers of the current function whose names lack '%' (so they cannot be told from symbols by spelling).
  // Name (or range prefix) -> declarations in scope, innermost last; keys view the source text.
  struct BareReg {
    bool IsRange;
    uint32_t Count;
  };
  std::unordered_map<std::string_view, std::vector<BareReg>> BareRegs;
  std::vector<std::string_view> BareRegLog; // declaration order, so a block's names go out of scope at its '}'
  FunctionDirectives *CurDirectives = nullptr;
  size_t LastDeclNameTok = 0; // token of the most recent declarator's name

  // ---------------------------------------------------------------------------------------------------------
  // Token helpers

  const Token &cur() const { return Toks[Idx]; }
  const Token &peekTok(size_t Ahead = 1) const {
    size_t J = Idx + Ahead;
    return J < Toks.size() ? Toks[J] : Toks.back();
  }
  std::string_view text(const Token &T) const { return Text.substr(T.Offset, T.Length); }
  std::string_view curText() const { return text(cur()); }
  bool at(TokenKind K) const { return cur().Kind == K; }
  bool atDot(std::string_view W) const { return cur().Kind == TokenKind::DotWord && curText() == W; }
  void advance() {
    if (Idx + 1 < Toks.size())
      ++Idx;
  }
  bool consume(TokenKind K) {
    if (!at(K))
      return false;
    advance();
    return true;
  }
  static SourceLoc locOf(const Token &T) { return SourceLoc{T.Line, T.Column}; }
  SourceLoc loc() const { return locOf(cur()); }

  Error errorAt(SourceLoc L, const std::string &Msg) const {
    return makeError(CUDA_ERROR_INVALID_PTX, std::string(SourceName) + ":" + std::to_string(L.Line) + ":" +
                                                 std::to_string(L.Column) + ": " + Msg);
  }
  Error errorAt(const Token &T, const std::string &Msg) const { return errorAt(locOf(T), Msg); }
  std::string describe(const Token &T) const {
    if (T.Kind == TokenKind::Eof)
      return "end of input";
    std::string_view S = text(T);
    if (S.size() > 40)
      S = S.substr(0, 40);
    switch (T.Kind) {
    case TokenKind::Identifier:
      return "identifier '" + std::string(S) + "'";
    case TokenKind::DotWord:
      return "'" + std::string(S) + "'";
    case TokenKind::Integer:
    case TokenKind::Float:
      return "number '" + std::string(S) + "'";
    case TokenKind::String:
      return "string " + std::string(S);
    default:
      return tokenKindName(T.Kind);
    }
  }
  Error expected(const std::string &What) const {
    return errorAt(cur(), "expected " + What + ", found " + describe(cur()));
  }
  Error expect(TokenKind K, const char *Context = nullptr) {
    if (consume(K))
      return Error::success();
    std::string What = tokenKindName(K);
    if (Context)
      What += std::string(" ") + Context;
    return expected(What);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Literals

  Error parseUnsigned(const Token &T, uint64_t &Out, bool *IsUnsigned = nullptr) {
    std::string_view S = text(T);
    bool U = false;
    if (!S.empty() && (S.back() == 'U' || S.back() == 'u')) {
      U = true;
      S.remove_suffix(1);
    }
    if (IsUnsigned)
      *IsUnsigned = U;
    unsigned Base = 10;
    if (S.size() > 2 && S[0] == '0' && (S[1] == 'x' || S[1] == 'X')) {
      Base = 16;
      S.remove_prefix(2);
    } else if (S.size() > 2 && S[0] == '0' && (S[1] == 'b' || S[1] == 'B')) {
      Base = 2;
      S.remove_prefix(2);
    } else if (S.size() > 1 && S[0] == '0') {
      Base = 8;
      S.remove_prefix(1);
    }
    uint64_t V = 0;
    for (char C : S) {
      unsigned D;
      if (C >= '0' && C <= '9')
        D = C - '0';
      else if (C >= 'a' && C <= 'f')
        D = C - 'a' + 10;
      else if (C >= 'A' && C <= 'F')
        D = C - 'A' + 10;
      else
        D = 99;
      if (D >= Base)
        return errorAt(T,
                       "invalid digit '" + std::string(1, C) + "' in integer literal '" + std::string(text(T)) + "'");
      if (V > (UINT64_MAX - D) / Base)
        return errorAt(T, "integer literal '" + std::string(text(T)) + "' does not fit in 64 bits");
      V = V * Base + D;
    }
    Out = V;
    return Error::success();
  }

  Error parseFloatToken(const Token &T, FloatOperand &Out) {
    std::string_view S = text(T);
    if (S.size() >= 2 && S[0] == '0' && (S[1] == 'f' || S[1] == 'F' || S[1] == 'd' || S[1] == 'D')) {
      uint64_t Bits = 0;
      for (char C : S.substr(2)) {
        unsigned D = (C >= '0' && C <= '9') ? C - '0' : (C >= 'a' && C <= 'f') ? C - 'a' + 10 : C - 'A' + 10;
        Bits = (Bits << 4) | D;
      }
      Out.Bits = Bits;
      if (S[1] == 'f' || S[1] == 'F') {
        Out.Fmt = FloatOperand::HexF32;
        uint32_t B32 = static_cast<uint32_t>(Bits);
        float F;
        std::memcpy(&F, &B32, sizeof(F));
        Out.Value = F;
      } else {
        Out.Fmt = FloatOperand::HexF64;
        double D;
        std::memcpy(&D, &Bits, sizeof(D));
        Out.Value = D;
      }
      return Error::success();
    }
    Out.Fmt = FloatOperand::Decimal;
    double D = 0;
    auto [Ptr, Ec] = std::from_chars(S.data(), S.data() + S.size(), D);
    if (Ec == std::errc::result_out_of_range) {
      // Overflow/underflow: follow strtod (inf or 0) rather than rejecting the literal.
      std::string Copy(S);
      D = std::strtod(Copy.c_str(), nullptr);
    } else if (Ec != std::errc() || Ptr != S.data() + S.size()) {
      return errorAt(T, "malformed floating-point literal '" + std::string(S) + "'");
    }
    Out.Value = D;
    Out.Bits = 0;
    return Error::success();
  }

  static void negateFloat(FloatOperand &F) {
    F.Value = -F.Value;
    if (F.Fmt == FloatOperand::HexF32)
      F.Bits ^= 0x80000000ull;
    else if (F.Fmt == FloatOperand::HexF64)
      F.Bits ^= 0x8000000000000000ull;
  }

  // A plain unsigned integer where the grammar needs a count (".align 8", "[16]", "<10>", ".maxntid 128").
  Error parseCount(uint64_t &Out, const char *What) {
    if (!at(TokenKind::Integer))
      return expected(std::string("an integer ") + What);
    CUSHIM_TRY(parseUnsigned(cur(), Out));
    advance();
    return Error::success();
  }
  Error parseCount32(uint32_t &Out, const char *What) {
    const Token &T = cur();
    uint64_t V = 0;
    CUSHIM_TRY(parseCount(V, What));
    if (V > UINT32_MAX)
      return errorAt(T, std::string("value of ") + What + " is too large");
    Out = static_cast<uint32_t>(V);
    return Error::success();
  }

  // "(-)? integer" for address and symbol offsets.
  Error parseSignedOffset(int64_t &Out, bool Negative) {
    if (consume(TokenKind::Minus))
      Negative = !Negative;
    else
      consume(TokenKind::Plus);
    uint64_t V = 0;
    CUSHIM_TRY(parseCount(V, "offset"));
    Out = Negative ? static_cast<int64_t>(0 - V) : static_cast<int64_t>(V);
    return Error::success();
  }

  static std::string unquote(std::string_view S) {
    if (S.size() >= 2 && S.front() == '"' && S.back() == '"')
      S = S.substr(1, S.size() - 2);
    return std::string(S);
  }

  // The rest of a line-based directive (.loc, .file): no terminating ';', it ends with the line.
  std::string consumeRestOfLine(uint32_t Line) {
    size_t Begin = cur().Offset, End = Begin;
    // Braces and ';' never belong to .loc/.file; stopping there keeps "{ .loc 1 2 3 }" intact.
    while (!at(TokenKind::Eof) && cur().Line == Line && !at(TokenKind::LBrace) && !at(TokenKind::RBrace) &&
           !at(TokenKind::Semicolon)) {
      End = cur().end();
      advance();
    }
    return std::string(Text.substr(Begin, End - Begin));
  }

  // ---------------------------------------------------------------------------------------------------------
  // Module scope

  Error parseModule() {
    // ptxas insists on .version first; text without it is almost certainly not PTX (or was cut short).
    if (!atDot(".version"))
      return expected("'.version' at the start of the PTX module");
    while (!at(TokenKind::Eof)) {
      if (!at(TokenKind::DotWord))
        return expected("a directive at module scope");
      std::string_view W = curText();
      const Token &DirTok = cur();
      if (W == ".version") {
        advance();
        CUSHIM_TRY(parseVersion());
      } else if (W == ".target") {
        advance();
        CUSHIM_TRY(parseTarget());
      } else if (W == ".address_size") {
        advance();
        CUSHIM_TRY(parseCount32(M.AddressSize, "after .address_size"));
        if (M.AddressSize != 32 && M.AddressSize != 64)
          return errorAt(DirTok, ".address_size must be 32 or 64");
      } else if (W == ".file") {
        advance();
        CUSHIM_TRY(parseFileDirective(DirTok));
      } else if (W == ".loc") {
        advance();
        (void)consumeRestOfLine(DirTok.Line);
      } else if (W == ".section") {
        advance();
        CUSHIM_TRY(skipSection());
      } else if (W == ".pragma") {
        advance();
        CUSHIM_TRY(parsePragmaStrings(M.Pragmas));
      } else if (W == ".alias") {
        return errorAt(DirTok, "the .alias directive is not supported");
      } else {
        CUSHIM_TRY(parseModuleDeclaration());
      }
    }
    return Error::success();
  }

  Error parseVersion() {
    const Token &T = cur();
    if (!at(TokenKind::Float) && !at(TokenKind::Integer))
      return expected("a version number 'MAJOR.MINOR' after .version");
    std::string_view S = text(T);
    size_t Dot = S.find('.');
    if (Dot == std::string_view::npos || Dot == 0 || Dot + 1 >= S.size())
      return errorAt(T, "malformed .version '" + std::string(S) + "' (expected MAJOR.MINOR)");
    auto Num = [](std::string_view P, uint32_t &Out) {
      if (P.empty() || P.size() > 6)
        return false;
      Out = 0;
      for (char C : P) {
        if (C < '0' || C > '9')
          return false;
        Out = Out * 10 + (C - '0');
      }
      return true;
    };
    if (!Num(S.substr(0, Dot), M.VersionMajor) || !Num(S.substr(Dot + 1), M.VersionMinor))
      return errorAt(T, "malformed .version '" + std::string(S) + "' (expected MAJOR.MINOR)");
    advance();
    return Error::success();
  }

  Error parseTarget() {
    M.Target.clear();
    do {
      if (!at(TokenKind::Identifier))
        return expected("a target name (such as sm_80) after .target");
      M.Target.emplace_back(curText());
      advance();
    } while (consume(TokenKind::Comma));
    return Error::success();
  }

  // ".file 1 "path"" optionally followed by ", timestamp, size".
  Error parseFileDirective(const Token &DirTok) {
    FileDirective F;
    CUSHIM_TRY(parseCount32(F.Index, "file index after .file"));
    if (!at(TokenKind::String))
      return expected("a file name string after .file");
    F.Path = unquote(curText());
    advance();
    while (at(TokenKind::Comma) && peekTok().Kind == TokenKind::Integer) {
      advance();
      advance();
    }
    M.Files.push_back(std::move(F));
    return Error::success();
  }

  // ".section .debug_info { ... }": DWARF bytes for the debugger, skipped with brace matching.
  Error skipSection() {
    if (!at(TokenKind::DotWord) && !at(TokenKind::Identifier))
      return expected("a section name after .section");
    // A dotted name such as ".nv.info" lexes as several adjacent words.
    uint32_t NameEnd = cur().end();
    advance();
    while ((at(TokenKind::DotWord) || at(TokenKind::Identifier)) && cur().Offset == NameEnd) {
      NameEnd = cur().end();
      advance();
    }
    if (!at(TokenKind::LBrace))
      return Error::success();
    const Token &Open = cur();
    advance();
    unsigned Depth = 1;
    while (Depth) {
      if (at(TokenKind::Eof))
        return errorAt(Open, "unterminated .section body: expected '}', found end of input");
      if (at(TokenKind::LBrace))
        ++Depth;
      else if (at(TokenKind::RBrace))
        --Depth;
      advance();
    }
    return Error::success();
  }

  Error parsePragmaStrings(std::vector<std::string> &Out) {
    do {
      if (!at(TokenKind::String))
        return expected("a string after .pragma");
      Out.push_back(unquote(curText()));
      advance();
    } while (consume(TokenKind::Comma));
    return expect(TokenKind::Semicolon, "after .pragma");
  }

  static std::optional<Linkage> linkageOf(std::string_view W) {
    if (W == ".extern")
      return Linkage::Extern;
    if (W == ".visible")
      return Linkage::Visible;
    if (W == ".weak")
      return Linkage::Weak;
    if (W == ".common")
      return Linkage::Common;
    return std::nullopt;
  }

  static std::optional<StateSpace> stateSpaceOf(std::string_view W) {
    if (W == ".reg")
      return StateSpace::Reg;
    if (W == ".sreg")
      return StateSpace::SReg;
    if (W == ".const")
      return StateSpace::Const;
    if (W == ".global")
      return StateSpace::Global;
    if (W == ".local")
      return StateSpace::Local;
    if (W == ".param")
      return StateSpace::Param;
    if (W == ".shared" || W == ".shared::cta")
      return StateSpace::Shared;
    if (W == ".shared::cluster")
      return StateSpace::SharedCluster;
    if (W == ".tex")
      return StateSpace::Tex;
    return std::nullopt;
  }

  // "[.extern|.visible|.weak|.common] (.entry|.func|variable declaration)".
  Error parseModuleDeclaration() {
    const Token &Start = cur();
    Linkage Link = Linkage::None;
    if (auto L = linkageOf(curText())) {
      Link = *L;
      advance();
      if (at(TokenKind::DotWord) && linkageOf(curText()))
        return errorAt(cur(), "more than one linkage directive (" + std::string(text(Start)) + " and " +
                                  std::string(curText()) + ")");
    }
    if (atDot(".entry") || atDot(".func")) {
      bool IsEntry = atDot(".entry");
      advance();
      Function F;
      F.IsEntry = IsEntry;
      F.Link = Link;
      F.Loc = locOf(Start);
      CUSHIM_TRY(parseFunction(F));
      M.Order.emplace_back(true, M.Functions.size());
      M.Functions.push_back(std::move(F));
      return Error::success();
    }
    if (!at(TokenKind::DotWord) || !stateSpaceOf(curText())) {
      if (at(TokenKind::DotWord))
        return errorAt(cur(), "unknown directive '" + std::string(curText()) + "' at module scope");
      return expected("'.entry', '.func' or a variable declaration");
    }
    std::vector<VariableDecl> Decls;
    CUSHIM_TRY(parseVariableStatement(Decls, locOf(Start), Link, /*AllowInit=*/true));
    for (VariableDecl &D : Decls) {
      if (D.Space == StateSpace::Reg || D.Space == StateSpace::Param)
        return errorAt(Start, std::string("a ") + (D.Space == StateSpace::Reg ? ".reg" : ".param") +
                                  " variable cannot be declared at module scope");
      // ".global .texref t" names a texture/surface/sampler reference, not memory: file it under the reference's own
      // space, as the older ".tex .u32 t" form is (LowerTexture.cpp gives references their slots).
      if (D.Space == StateSpace::Global && D.Type == ScalarType::TexRef)
        D.Space = StateSpace::Tex;
      else if (D.Space == StateSpace::Global && D.Type == ScalarType::SurfRef)
        D.Space = StateSpace::Surf;
      else if (D.Space == StateSpace::Global && D.Type == ScalarType::SamplerRef)
        D.Space = StateSpace::Sampler;
      M.Order.emplace_back(false, M.Globals.size());
      M.Globals.push_back(std::move(D));
    }
    return Error::success();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Variable declarations

  // The qualifiers before the name: state space, .align, .attribute, .vN, type, and .ptr attributes.
  Error parseDeclPrefix(VariableDecl &D) {
    bool AfterPtr = false;
    while (at(TokenKind::DotWord)) {
      const Token &T = cur();
      std::string_view W = curText();
      if (auto S = stateSpaceOf(W)) {
        advance();
        if (AfterPtr) {
          D.PtrSpace = *S;
        } else {
          if (D.Space != StateSpace::None)
            return errorAt(T, "more than one state space in a declaration ('" + std::string(W) + "')");
          D.Space = *S;
        }
      } else if (W == ".align") {
        advance();
        uint32_t A = 0;
        CUSHIM_TRY(parseCount32(A, "after .align"));
        if (A == 0 || (A & (A - 1)))
          return errorAt(T, ".align must be a power of two, found " + std::to_string(A));
        (AfterPtr ? D.PtrAlign : D.Align) = A;
      } else if (W == ".ptr") {
        advance();
        AfterPtr = true;
      } else if (W == ".attribute") {
        advance();
        CUSHIM_TRY(parseVarAttribute(D));
      } else if (W == ".v2" || W == ".v4" || W == ".v8") {
        advance();
        D.VectorWidth = W[2] - '0';
      } else if (auto Ty = parseScalarType(W.substr(1))) {
        advance();
        if (D.Type != ScalarType::None)
          return errorAt(T, "more than one type in a declaration ('" + std::string(W) + "')");
        D.Type = *Ty;
      } else if (auto L = linkageOf(W)) {
        advance();
        D.Link = *L;
      } else {
        return errorAt(T, "unexpected '" + std::string(W) + "' in a variable declaration");
      }
    }
    if (D.Type == ScalarType::None)
      return expected("a type (such as .u32) in the declaration");
    return Error::success();
  }

  // ".attribute(.managed)" / ".attribute(.unified(0x1234, 0x5678))".
  Error parseVarAttribute(VariableDecl &D) {
    CUSHIM_TRY(expect(TokenKind::LParen, "after .attribute"));
    do {
      if (atDot(".managed")) {
        D.Managed = true;
        advance();
      } else if (atDot(".unified")) {
        D.Unified = true;
        advance();
        if (consume(TokenKind::LParen)) {
          do {
            uint64_t Ignored = 0;
            CUSHIM_TRY(parseCount(Ignored, "in .unified(...)"));
          } while (consume(TokenKind::Comma));
          CUSHIM_TRY(expect(TokenKind::RParen, "closing .unified("));
        }
      } else {
        return expected("'.managed' or '.unified' in .attribute(...)");
      }
    } while (consume(TokenKind::Comma));
    return expect(TokenKind::RParen, "closing .attribute(");
  }

  // After the prefix: "name", "name<10>", "name[4][8]", "name[]", "name = init".
  Error parseDeclarator(VariableDecl &D, bool AllowInit) {
    D.Loc = loc();
    if (at(TokenKind::Identifier) || at(TokenKind::Sink)) {
      LastDeclNameTok = Idx;
      D.Name = std::string(curText());
      advance();
    } else {
      return expected("a variable name");
    }
    if (consume(TokenKind::Less)) {
      uint32_t N = 0;
      CUSHIM_TRY(parseCount32(N, "register count in <N>"));
      D.RangeCount = N;
      CUSHIM_TRY(expect(TokenKind::Greater, "closing the register range"));
    }
    while (at(TokenKind::LBracket)) {
      advance();
      if (consume(TokenKind::RBracket)) {
        D.Dims.push_back(std::nullopt);
        continue;
      }
      uint64_t N = 0;
      CUSHIM_TRY(parseCount(N, "array dimension"));
      D.Dims.push_back(N);
      CUSHIM_TRY(expect(TokenKind::RBracket, "closing the array dimension"));
    }
    if (at(TokenKind::Equal)) {
      if (!AllowInit)
        return errorAt(cur(), "an initializer is not allowed here");
      advance();
      Initializer Init;
      CUSHIM_TRY(parseInitializer(Init, 0));
      if (!D.Dims.empty() && !D.Dims.front() && Init.K == Initializer::List)
        D.Dims.front() = Init.Elements.size();
      D.Init = std::move(Init);
    }
    return Error::success();
  }

  // "prefix declarator (, declarator)* ;" producing one VariableDecl per declarator.
  Error parseVariableStatement(std::vector<VariableDecl> &Out, SourceLoc Loc, Linkage Link, bool AllowInit) {
    VariableDecl Proto;
    Proto.Link = Link;
    CUSHIM_TRY(parseDeclPrefix(Proto));
    if (Proto.Space == StateSpace::None)
      return errorAt(Toks[Idx > 0 ? Idx - 1 : 0], "missing state space (.reg, .global, .shared, ...) in declaration");
    do {
      VariableDecl D = Proto;
      CUSHIM_TRY(parseDeclarator(D, AllowInit));
      D.Loc = Loc; // the statement's start, so every declarator of "a, b" points at the declaration
      noteRegister(D);
      Out.push_back(std::move(D));
    } while (consume(TokenKind::Comma));
    return expect(TokenKind::Semicolon, "at the end of the declaration");
  }

  void noteRegister(const VariableDecl &D) {
    if (D.Space != StateSpace::Reg || D.Name.empty() || D.Name[0] == '%')
      return;
    std::string_view Src = text(Toks[LastDeclNameTok]);
    BareRegs[Src].push_back(BareReg{D.RangeCount.has_value(), D.RangeCount.value_or(1)});
    BareRegLog.push_back(Src);
  }

  void popBareRegisters(size_t LogSize) {
    while (BareRegLog.size() > LogSize) {
      auto It = BareRegs.find(BareRegLog.back());
      It->second.pop_back();
      if (It->second.empty())
        BareRegs.erase(It);
      BareRegLog.pop_back();
    }
  }

  bool isBareRegister(std::string_view Name) const {
    if (BareRegs.empty())
      return false;
    auto It = BareRegs.find(Name);
    if (It != BareRegs.end() && !It->second.back().IsRange)
      return true;
    size_t E = Name.size();
    while (E > 0 && Name[E - 1] >= '0' && Name[E - 1] <= '9')
      --E;
    if (E == Name.size() || E == 0 || Name.size() - E > 9 || (Name.size() - E > 1 && Name[E] == '0'))
      return false;
    It = BareRegs.find(Name.substr(0, E));
    if (It == BareRegs.end() || !It->second.back().IsRange)
      return false;
    uint64_t N = 0;
    for (char C : Name.substr(E))
      N = N * 10 + (C - '0');
    return N < It->second.back().Count;
  }

  // Scalars, symbols, generic(sym), sym+off and nested brace lists.
  Error parseInitializer(Initializer &Init, unsigned Depth) {
    if (Depth > MaxNesting)
      return errorAt(cur(), "initializer nesting is too deep");
    if (consume(TokenKind::LBrace)) {
      Init.K = Initializer::List;
      if (consume(TokenKind::RBrace))
        return Error::success();
      do {
        Initializer E;
        CUSHIM_TRY(parseInitializer(E, Depth + 1));
        Init.Elements.push_back(std::move(E));
      } while (consume(TokenKind::Comma));
      return expect(TokenKind::RBrace, "closing the initializer list");
    }
    bool Neg = false;
    if (consume(TokenKind::Minus))
      Neg = true;
    else
      consume(TokenKind::Plus);
    if (at(TokenKind::Integer)) {
      if (!Neg && peekTok().Kind == TokenKind::LParen)
        return parseMaskInitializer(Init);
      Init.K = Initializer::Int;
      CUSHIM_TRY(parseUnsigned(cur(), Init.IntValue.Value, &Init.IntValue.IsUnsigned));
      if (Neg)
        Init.IntValue.Value = 0 - Init.IntValue.Value;
      advance();
      return Error::success();
    }
    if (at(TokenKind::Float)) {
      Init.K = Initializer::Float;
      CUSHIM_TRY(parseFloatToken(cur(), Init.FloatValue));
      if (Neg)
        negateFloat(Init.FloatValue);
      advance();
      return Error::success();
    }
    if (Neg)
      return expected("a number after '-' in the initializer");
    if (at(TokenKind::Identifier)) {
      Init.K = Initializer::Symbol;
      if (curText() == "generic" && peekTok().Kind == TokenKind::LParen) {
        advance();
        advance();
        if (!at(TokenKind::Identifier))
          return expected("a symbol in generic(...)");
        Init.SymbolValue.Name = std::string(curText());
        Init.GenericSymbol = true;
        advance();
        CUSHIM_TRY(expect(TokenKind::RParen, "closing generic("));
      } else {
        Init.SymbolValue.Name = std::string(curText());
        advance();
        // Samplerref field initializers: "filter_mode = nearest".
        if (consume(TokenKind::Equal)) {
          if (!at(TokenKind::Identifier) && !at(TokenKind::Integer))
            return expected("a value for the sampler field '" + Init.SymbolValue.Name + "'");
          Init.SymbolValue.Name += "=";
          Init.SymbolValue.Name += curText();
          advance();
          return Error::success();
        }
      }
      if (at(TokenKind::Plus) || at(TokenKind::Minus)) {
        bool OffNeg = at(TokenKind::Minus);
        advance();
        CUSHIM_TRY(parseSignedOffset(Init.SymbolValue.Offset, OffNeg));
      }
      return Error::success();
    }
    return expected("an initializer value (number, symbol or '{')");
  }

  // "0xFF00(sym+4)", "0xFF(generic(sym))", "0xFF0000(1000 + 546)": one byte of an address or constant, as LLVM
  // emits for pointers inside packed byte arrays. A symbol keeps the mask in IntValue.Value (see the top comment);
  // an integer expression is folded to the selected byte.
  Error parseMaskInitializer(Initializer &Init) {
    const Token &MaskTok = cur();
    uint64_t Mask = 0;
    CUSHIM_TRY(parseUnsigned(MaskTok, Mask));
    unsigned Shift = 0;
    while (Shift < 64 && (0xFFull << Shift) != Mask)
      Shift += 8;
    if (Shift >= 64)
      return errorAt(MaskTok, "a mask() initializer needs 0xFF, 0xFF00, ... 0xFF00000000000000, found '" +
                                  std::string(text(MaskTok)) + "'");
    advance(); // mask
    advance(); // '('
    if (at(TokenKind::Identifier)) {
      Init.K = Initializer::Symbol;
      Init.IntValue.Value = Mask;
      if (curText() == "generic" && peekTok().Kind == TokenKind::LParen) {
        advance();
        advance();
        if (!at(TokenKind::Identifier))
          return expected("a symbol in generic(...)");
        Init.GenericSymbol = true;
        Init.SymbolValue.Name = std::string(curText());
        advance();
        CUSHIM_TRY(expect(TokenKind::RParen, "closing generic("));
      } else {
        Init.SymbolValue.Name = std::string(curText());
        advance();
      }
      if (at(TokenKind::Plus) || at(TokenKind::Minus)) {
        bool Neg = at(TokenKind::Minus);
        advance();
        CUSHIM_TRY(parseSignedOffset(Init.SymbolValue.Offset, Neg));
      }
    } else {
      // An integer constant expression of literals joined by '+' and '-'.
      uint64_t Sum = 0;
      bool Neg = consume(TokenKind::Minus);
      while (true) {
        uint64_t V = 0;
        CUSHIM_TRY(parseCount(V, "in the mask() initializer"));
        Sum = Neg ? Sum - V : Sum + V;
        if (at(TokenKind::Plus) || at(TokenKind::Minus)) {
          Neg = at(TokenKind::Minus);
          advance();
          continue;
        }
        break;
      }
      Init.K = Initializer::Int;
      Init.IntValue.Value = (Sum & Mask) >> Shift;
    }
    return expect(TokenKind::RParen, "closing the mask() initializer");
  }

  // ---------------------------------------------------------------------------------------------------------
  // Functions

  // ".param .u64 name" (entry) or ".param .b32 name" / ".reg .u32 name" (func) ... separated by commas.
  Error parseParamList(std::vector<VariableDecl> &Out, bool &VarArgs, const char *What) {
    CUSHIM_TRY(expect(TokenKind::LParen, What));
    if (consume(TokenKind::RParen))
      return Error::success();
    do {
      if (VarArgs)
        return errorAt(cur(), "the unsized variadic parameter must be the last parameter");
      const Token &Start = cur();
      VariableDecl D;
      CUSHIM_TRY(parseDeclPrefix(D));
      if (D.Space != StateSpace::Param && D.Space != StateSpace::Reg)
        return errorAt(Start, "a parameter must be declared .param or .reg");
      CUSHIM_TRY(parseDeclarator(D, /*AllowInit=*/false));
      D.Loc = locOf(Start);
      if (!D.Dims.empty() && !D.Dims.back())
        VarArgs = true;
      noteRegister(D);
      Out.push_back(std::move(D));
    } while (consume(TokenKind::Comma));
    return expect(TokenKind::RParen, "closing the parameter list");
  }

  Error parseFunction(Function &F) {
    BareRegs.clear();
    BareRegLog.clear();
    CurDirectives = &F.Directives;
    if (!F.IsEntry && atDot(".attribute")) {
      advance();
      CUSHIM_TRY(skipParenthesized("after .attribute"));
    }
    if (!F.IsEntry && at(TokenKind::LParen)) {
      bool RetVarArgs = false;
      CUSHIM_TRY(parseParamList(F.Returns, RetVarArgs, "opening the return parameter list"));
    }
    if (!at(TokenKind::Identifier))
      return expected(std::string("a function name after ") + (F.IsEntry ? ".entry" : ".func"));
    F.Name = std::string(curText());
    advance();
    if (at(TokenKind::LParen))
      CUSHIM_TRY(parseParamList(F.Params, F.VarArgs, "opening the parameter list"));
    CUSHIM_TRY(parseFunctionDirectives(F.Directives));
    if (consume(TokenKind::Semicolon))
      return Error::success();
    if (!at(TokenKind::LBrace))
      return expected("'{' starting the body of '" + F.Name + "' or ';'");
    Block B;
    Error E = parseBlock(B, 0);
    CurDirectives = nullptr;
    CUSHIM_TRY(std::move(E));
    F.Body = std::move(B);
    return Error::success();
  }

  Error skipParenthesized(const char *What) {
    const Token &Open = cur();
    CUSHIM_TRY(expect(TokenKind::LParen, What));
    unsigned Depth = 1;
    while (Depth) {
      if (at(TokenKind::Eof))
        return errorAt(Open, "expected ')' closing '(', found end of input");
      if (at(TokenKind::LParen))
        ++Depth;
      else if (at(TokenKind::RParen))
        --Depth;
      advance();
    }
    return Error::success();
  }

  Error parseDims(std::optional<std::vector<uint32_t>> &Out, const char *Name) {
    std::vector<uint32_t> V;
    do {
      uint32_t N = 0;
      CUSHIM_TRY(parseCount32(N, Name));
      V.push_back(N);
    } while (V.size() < 3 && consume(TokenKind::Comma));
    Out = std::move(V);
    return Error::success();
  }

  // Performance-tuning directives between the parameter list and the body (or ';').
  Error parseFunctionDirectives(FunctionDirectives &D) {
    while (at(TokenKind::DotWord)) {
      const Token &T = cur();
      std::string_view W = curText();
      advance();
      if (W == ".maxntid") {
        CUSHIM_TRY(parseDims(D.MaxNTid, "after .maxntid"));
      } else if (W == ".reqntid") {
        CUSHIM_TRY(parseDims(D.ReqNTid, "after .reqntid"));
      } else if (W == ".reqnctapercluster") {
        CUSHIM_TRY(parseDims(D.ReqNCtaPerCluster, "after .reqnctapercluster"));
      } else if (W == ".minnctapersm") {
        uint32_t N = 0;
        CUSHIM_TRY(parseCount32(N, "after .minnctapersm"));
        D.MinNCtaPerSm = N;
      } else if (W == ".maxnctapersm") {
        uint32_t N = 0;
        CUSHIM_TRY(parseCount32(N, "after .maxnctapersm"));
        D.MaxNCtaPerSm = N;
      } else if (W == ".maxnreg") {
        uint32_t N = 0;
        CUSHIM_TRY(parseCount32(N, "after .maxnreg"));
        D.MaxNReg = N;
      } else if (W == ".maxclusterrank") {
        uint32_t N = 0;
        CUSHIM_TRY(parseCount32(N, "after .maxclusterrank"));
        D.MaxClusterRank = N;
      } else if (W == ".explicitcluster") {
        D.ExplicitCluster = true;
      } else if (W == ".noreturn") {
        D.NoReturn = true;
      } else if (W == ".blocksareclusters") {
        // Accepted; nothing in the AST records it yet.
      } else if (W == ".abi_preserve" || W == ".abi_preserve_control") {
        uint32_t Ignored = 0;
        CUSHIM_TRY(parseCount32(Ignored, W == ".abi_preserve" ? "after .abi_preserve" : "after .abi_preserve_control"));
      } else if (W == ".pragma") {
        CUSHIM_TRY(parsePragmaStrings(D.Pragmas));
      } else {
        return errorAt(T, "unknown function directive '" + std::string(W) + "'");
      }
    }
    return Error::success();
  }

  // ---------------------------------------------------------------------------------------------------------
  // Bodies

  Error parseBlock(Block &B, unsigned Depth) {
    if (Depth > MaxNesting)
      return errorAt(cur(), "blocks are nested too deeply");
    const Token &Open = cur();
    B.Loc = locOf(Open);
    CUSHIM_TRY(expect(TokenKind::LBrace));
    size_t ScopeStart = BareRegLog.size();
    while (!at(TokenKind::RBrace)) {
      if (at(TokenKind::Eof))
        return errorAt(cur(), "expected '}' closing the block opened at line " + std::to_string(Open.Line) +
                                  ", found end of input");
      CUSHIM_TRY(parseStatement(B.Body, Depth));
    }
    advance();
    popBareRegisters(ScopeStart);
    return Error::success();
  }

  Error parseStatement(std::vector<Statement> &Body, unsigned Depth) {
    const Token &T = cur();
    switch (T.Kind) {
    case TokenKind::LBrace: {
      Block Inner;
      CUSHIM_TRY(parseBlock(Inner, Depth + 1));
      Body.push_back(Statement{std::move(Inner)});
      return Error::success();
    }
    case TokenKind::Identifier:
      if (peekTok().Kind == TokenKind::Colon)
        return parseLabel(Body);
      [[fallthrough]];
    case TokenKind::At: {
      Instruction I;
      CUSHIM_TRY(parseInstruction(I));
      Body.push_back(Statement{std::move(I)});
      return Error::success();
    }
    case TokenKind::DotWord:
      return parseBodyDirective(Body);
    default:
      return expected("an instruction, label, declaration or '}'");
    }
  }

  Error parseLabel(std::vector<Statement> &Body) {
    const Token &NameTok = cur();
    advance(); // name
    advance(); // ':'
    if (atDot(".callprototype"))
      return parseCallPrototype(Body, NameTok);
    if (atDot(".branchtargets") || atDot(".calltargets"))
      return parseTargets(Body, NameTok);
    Body.push_back(Statement{Label{std::string(text(NameTok)), locOf(NameTok)}});
    return Error::success();
  }

  // "proto: .callprototype (.param .b32 _) _ (.param .b64 _, .param .b32 _);"
  Error parseCallPrototype(std::vector<Statement> &Body, const Token &NameTok) {
    advance(); // .callprototype
    CallPrototype P;
    P.Label = std::string(text(NameTok));
    P.Loc = locOf(NameTok);
    if (at(TokenKind::LParen)) {
      bool Ignored = false;
      CUSHIM_TRY(parseParamList(P.Returns, Ignored, "opening the prototype's return list"));
    }
    if (!consume(TokenKind::Sink))
      return expected("'_' in place of the function name in .callprototype");
    if (at(TokenKind::LParen))
      CUSHIM_TRY(parseParamList(P.Params, P.VarArgs, "opening the prototype's parameter list"));
    FunctionDirectives Ignored;
    CUSHIM_TRY(parseFunctionDirectives(Ignored));
    CUSHIM_TRY(expect(TokenKind::Semicolon, "at the end of .callprototype"));
    Body.push_back(Statement{std::move(P)});
    return Error::success();
  }

  Error parseTargets(std::vector<Statement> &Body, const Token &NameTok) {
    bool IsBranch = atDot(".branchtargets");
    const Token &Dir = cur();
    advance();
    std::vector<std::string> Targets;
    do {
      if (!at(TokenKind::Identifier))
        return expected(std::string("a label name in ") + (IsBranch ? ".branchtargets" : ".calltargets"));
      Targets.emplace_back(curText());
      advance();
    } while (consume(TokenKind::Comma));
    CUSHIM_TRY(expect(TokenKind::Semicolon, IsBranch ? "at the end of .branchtargets" : "at the end of .calltargets"));
    if (IsBranch) {
      Body.push_back(Statement{BranchTargets{std::string(text(NameTok)), std::move(Targets), locOf(NameTok)}});
      return Error::success();
    }
    OtherDirective O;
    O.Name = "calltargets";
    O.Text = std::string(text(NameTok)) + ":";
    for (size_t K = 0; K < Targets.size(); ++K)
      O.Text += (K ? ", " : " ") + Targets[K];
    O.Loc = locOf(Dir);
    Body.push_back(Statement{std::move(O)});
    return Error::success();
  }

  Error parseBodyDirective(std::vector<Statement> &Body) {
    const Token &T = cur();
    std::string_view W = curText();
    if (W == ".loc" || W == ".file") {
      advance();
      OtherDirective O;
      O.Name = std::string(W.substr(1));
      O.Loc = locOf(T);
      O.Text = consumeRestOfLine(T.Line);
      Body.push_back(Statement{std::move(O)});
      return Error::success();
    }
    if (W == ".pragma") {
      advance();
      size_t Begin = cur().Offset;
      std::vector<std::string> Strings;
      CUSHIM_TRY(parsePragmaStrings(Strings));
      OtherDirective O;
      O.Name = "pragma";
      O.Loc = locOf(T);
      O.Text = std::string(Text.substr(Begin, Toks[Idx - 1].Offset - Begin));
      while (!O.Text.empty() && (O.Text.back() == ' ' || O.Text.back() == '\t'))
        O.Text.pop_back();
      if (CurDirectives)
        for (std::string &S : Strings)
          CurDirectives->Pragmas.push_back(std::move(S));
      Body.push_back(Statement{std::move(O)});
      return Error::success();
    }
    if (stateSpaceOf(W) || linkageOf(W)) {
      Linkage Link = Linkage::None;
      if (auto L = linkageOf(W)) {
        Link = *L;
        advance();
      }
      std::vector<VariableDecl> Decls;
      CUSHIM_TRY(parseVariableStatement(Decls, locOf(T), Link, /*AllowInit=*/true));
      for (VariableDecl &D : Decls)
        Body.push_back(Statement{std::move(D)});
      return Error::success();
    }
    return errorAt(T, "unexpected directive '" + std::string(W) + "' in a function body");
  }

  // ---------------------------------------------------------------------------------------------------------
  // Instructions

  Error parseGuard(Instruction &I) {
    advance(); // '@'
    RegOperand G;
    if (consume(TokenKind::Bang))
      G.Negated = true;
    if (!at(TokenKind::Identifier))
      return expected("a predicate register after '@'");
    G.Name = std::string(curText());
    advance();
    I.Guard = std::move(G);
    return Error::success();
  }

  Error parseInstruction(Instruction &I) {
    I.Loc = loc();
    if (at(TokenKind::At))
      CUSHIM_TRY(parseGuard(I));
    if (!at(TokenKind::Identifier) || curText()[0] == '%')
      return expected("an instruction opcode");
    I.Opcode = std::string(curText());
    advance();
    while (at(TokenKind::DotWord)) {
      I.Mods.emplace_back(curText().substr(1));
      advance();
    }
    if (!consume(TokenKind::Semicolon)) {
      do {
        CUSHIM_TRY(parseOperand(I.Operands, 0));
      } while (consume(TokenKind::Comma));
      CUSHIM_TRY(expect(TokenKind::Semicolon, "at the end of the instruction"));
    }
    if (I.Opcode == "call")
      return normalizeCall(I);
    return Error::success();
  }

  // Brings call operands to [returns list, callee, args list, (prototype)] (see the comment at the top).
  Error normalizeCall(Instruction &I) {
    std::vector<Operand> In = std::move(I.Operands);
    std::vector<Operand> Out;
    size_t K = 0;
    auto emptyList = [&I]() {
      Operand O;
      O.Value = ListOperand{};
      O.Loc = I.Loc;
      return O;
    };
    if (K < In.size() && In[K].is<ListOperand>())
      Out.push_back(std::move(In[K++]));
    else
      Out.push_back(emptyList());
    if (K >= In.size() || !(In[K].is<SymbolOperand>() || In[K].is<RegOperand>()))
      return errorAt(I.Loc, "expected a function name or register as the call target");
    Out.push_back(std::move(In[K++]));
    if (K < In.size() && In[K].is<ListOperand>())
      Out.push_back(std::move(In[K++]));
    else
      Out.push_back(emptyList());
    if (K < In.size()) {
      if (!In[K].is<SymbolOperand>())
        return errorAt(In[K].Loc, "expected a prototype or .calltargets label in the call");
      Out.push_back(std::move(In[K++]));
    }
    if (K < In.size())
      return errorAt(In[K].Loc, "too many operands in the call instruction");
    I.Operands = std::move(Out);
    return Error::success();
  }

  static int componentIndex(std::string_view W) {
    if (W.size() != 2)
      return -1;
    switch (W[1]) {
    case 'x':
    case 'r':
      return 0;
    case 'y':
    case 'g':
      return 1;
    case 'z':
    case 'b':
      return 2;
    case 'w':
    case 'a':
      return 3;
    default:
      return -1;
    }
  }

  // A register name (with an optional ".x" component) at the current Identifier token.
  Error parseRegister(RegOperand &R) {
    R.Name = std::string(curText());
    advance();
    if (at(TokenKind::DotWord)) {
      int C = componentIndex(curText());
      if (C < 0)
        return errorAt(cur(), "expected a vector component (.x, .y, .z, .w) after register '" + R.Name + "', found '" +
                                  std::string(curText()) + "'");
      R.Component = C;
      advance();
    }
    return Error::success();
  }

  bool isRegisterName(std::string_view Name) const { return Name[0] == '%' || isBareRegister(Name); }

  // One operand as written; bracket groups with commas append several (see the comment at the top).
  Error parseOperand(std::vector<Operand> &Out, unsigned Depth) {
    if (Depth > MaxNesting)
      return errorAt(cur(), "operands are nested too deeply");
    Operand O;
    O.Loc = loc();
    switch (cur().Kind) {
    case TokenKind::Bang: {
      advance();
      if (!at(TokenKind::Identifier))
        return expected("a predicate register after '!'");
      RegOperand R;
      CUSHIM_TRY(parseRegister(R));
      R.Negated = true;
      O.Value = std::move(R);
      break;
    }
    case TokenKind::Minus:
    case TokenKind::Plus: {
      bool Neg = at(TokenKind::Minus);
      advance();
      if (at(TokenKind::Integer)) {
        IntOperand V;
        CUSHIM_TRY(parseUnsigned(cur(), V.Value, &V.IsUnsigned));
        if (Neg)
          V.Value = 0 - V.Value;
        O.Value = V;
      } else if (at(TokenKind::Float)) {
        FloatOperand F;
        CUSHIM_TRY(parseFloatToken(cur(), F));
        if (Neg)
          negateFloat(F);
        O.Value = F;
      } else {
        return expected(std::string("a number after '") + (Neg ? "-" : "+") + "'");
      }
      advance();
      break;
    }
    case TokenKind::Integer: {
      IntOperand V;
      CUSHIM_TRY(parseUnsigned(cur(), V.Value, &V.IsUnsigned));
      O.Value = V;
      advance();
      break;
    }
    case TokenKind::Float: {
      FloatOperand F;
      CUSHIM_TRY(parseFloatToken(cur(), F));
      O.Value = F;
      advance();
      break;
    }
    case TokenKind::Identifier: {
      if (isRegisterName(curText())) {
        RegOperand R;
        CUSHIM_TRY(parseRegister(R));
        O.Value = std::move(R);
        break;
      }
      SymbolOperand S;
      S.Name = std::string(curText());
      advance();
      if (at(TokenKind::LBracket))
        return errorAt(cur(), "array-indexing operands ('" + S.Name +
                                  "[...]') are not supported; use an address such as [" + S.Name + "+offset]");
      if ((at(TokenKind::Plus) || at(TokenKind::Minus)) &&
          (peekTok().Kind == TokenKind::Integer || peekTok().Kind == TokenKind::Minus)) {
        bool Neg = at(TokenKind::Minus);
        advance();
        CUSHIM_TRY(parseSignedOffset(S.Offset, Neg));
      }
      O.Value = std::move(S);
      break;
    }
    case TokenKind::Sink:
      advance();
      O.Value = SinkOperand{};
      break;
    case TokenKind::LBrace: {
      advance();
      VectorOperand V;
      if (!at(TokenKind::RBrace)) {
        do {
          CUSHIM_TRY(parseOperand(V.Elements, Depth + 1));
        } while (consume(TokenKind::Comma));
      }
      CUSHIM_TRY(expect(TokenKind::RBrace, "closing the vector operand"));
      O.Value = std::move(V);
      break;
    }
    case TokenKind::LParen: {
      advance();
      ListOperand L;
      if (!at(TokenKind::RParen)) {
        do {
          CUSHIM_TRY(parseOperand(L.Elements, Depth + 1));
        } while (consume(TokenKind::Comma));
      }
      CUSHIM_TRY(expect(TokenKind::RParen, "closing the operand list"));
      O.Value = std::move(L);
      break;
    }
    case TokenKind::LBracket:
      return parseAddress(Out, Depth);
    default:
      return expected("an operand");
    }
    if (at(TokenKind::Pipe)) {
      advance();
      if (!at(TokenKind::Identifier))
        return expected("a predicate register after '|'");
      RegOperand Second;
      CUSHIM_TRY(parseRegister(Second));
      O.PairSecond = std::move(Second);
    }
    Out.push_back(std::move(O));
    return Error::success();
  }

  // "[%rd1]", "[%rd1+8]", "[%r2+-4]", "[sym]", "[sym+16]", "[12]", and "[tex, smp, {..}]" groups.
  Error parseAddress(std::vector<Operand> &Out, unsigned Depth) {
    Operand O;
    O.Loc = loc();
    advance(); // '['
    AddressOperand A;
    if (at(TokenKind::Identifier)) {
      if (isRegisterName(curText())) {
        RegOperand R;
        CUSHIM_TRY(parseRegister(R));
        A.BaseReg = std::move(R);
      } else {
        A.BaseSymbol = std::string(curText());
        advance();
      }
      if (at(TokenKind::Plus) || at(TokenKind::Minus)) {
        bool Neg = at(TokenKind::Minus);
        advance();
        CUSHIM_TRY(parseSignedOffset(A.Offset, Neg));
      }
    } else if (at(TokenKind::Integer)) {
      uint64_t V = 0;
      CUSHIM_TRY(parseUnsigned(cur(), V));
      A.Offset = static_cast<int64_t>(V);
      advance();
    } else {
      return expected("a register, symbol or integer address after '['");
    }
    O.Value = std::move(A);
    Out.push_back(std::move(O));
    while (consume(TokenKind::Comma))
      CUSHIM_TRY(parseOperand(Out, Depth + 1));
    return expect(TokenKind::RBracket, "closing the address");
  }
};

} // namespace

Expected<Module> parsePtx(std::string_view Text, std::string_view SourceName) {
  Expected<std::vector<Token>> Toks = lexPtx(Text, SourceName);
  if (!Toks)
    return Toks.takeError();
  return Parser(Text, SourceName, std::move(*Toks)).run();
}

} // namespace cushim::ptx
