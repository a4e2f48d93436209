// cushim conform: output checks: regex search, tolerant token comparison of outputs, failure excerpts.
#include "tools/cushim/ConformCompare.h"

#include <regex.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace cushim::conform {

struct Regex::Impl {
  regex_t R;
  bool Compiled = true;
  ~Impl() {
    if (Compiled)
      regfree(&R);
  }
};

Expected<Regex> Regex::compile(const std::string &Pattern) {
  auto I = std::make_shared<Impl>();
  int Rc = regcomp(&I->R, Pattern.c_str(), REG_EXTENDED | REG_NEWLINE | REG_NOSUB);
  if (Rc != 0) {
    char Buf[256];
    regerror(Rc, &I->R, Buf, sizeof(Buf));
    I->Compiled = false;
    return manifestError("invalid regex /" + Pattern + "/: " + Buf);
  }
  Regex Out;
  Out.P = std::move(I);
  Out.Pattern = Pattern;
  return Out;
}

bool Regex::search(const std::string &Text) const {
  // regexec stops at a NUL byte; programs may print some, so match on a copy without them.
  if (Text.find('\0') != std::string::npos) {
    std::string Copy = Text;
    std::replace(Copy.begin(), Copy.end(), '\0', ' ');
    return regexec(&P->R, Copy.c_str(), 0, nullptr, 0) == 0;
  }
  return regexec(&P->R, Text.c_str(), 0, nullptr, 0) == 0;
}

namespace {

std::vector<std::string> splitLines(const std::string &Text) {
  std::vector<std::string> Lines;
  std::string Line;
  std::istringstream In(Text);
  while (std::getline(In, Line)) {
    if (!Line.empty() && Line.back() == '\r')
      Line.pop_back();
    Lines.push_back(Line);
  }
  return Lines;
}

// A piece of output: a decimal number or a run of other non-space characters, with its line for messages.
struct Token {
  std::string Text;
  bool IsNumber = false;
  double Value = 0;
  size_t Line = 0;
};

// Length of a decimal floating-point literal at S[I] (sign, digits, fraction, exponent), or 0.
size_t numberLength(const std::string &S, size_t I) {
  size_t J = I;
  if (J < S.size() && (S[J] == '+' || S[J] == '-'))
    ++J;
  size_t Digits = 0;
  while (J < S.size() && std::isdigit(static_cast<unsigned char>(S[J])))
    ++J, ++Digits;
  if (J < S.size() && S[J] == '.') {
    ++J;
    while (J < S.size() && std::isdigit(static_cast<unsigned char>(S[J])))
      ++J, ++Digits;
  }
  if (Digits == 0)
    return 0;
  if (J < S.size() && (S[J] == 'e' || S[J] == 'E')) {
    size_t K = J + 1;
    if (K < S.size() && (S[K] == '+' || S[K] == '-'))
      ++K;
    if (K < S.size() && std::isdigit(static_cast<unsigned char>(S[K]))) {
      while (K < S.size() && std::isdigit(static_cast<unsigned char>(S[K])))
        ++K;
      J = K;
    }
  }
  return J - I;
}

std::vector<Token> tokenize(const std::vector<std::string> &Lines) {
  std::vector<Token> Out;
  for (size_t L = 0; L < Lines.size(); ++L) {
    std::istringstream In(Lines[L]);
    std::string Word;
    while (In >> Word) {
      std::string Text;
      auto flushText = [&] {
        if (!Text.empty())
          Out.push_back({Text, false, 0, L + 1});
        Text.clear();
      };
      for (size_t I = 0; I < Word.size();) {
        // A number starts only after a non-alphanumeric: digits glued to a name ("sm_80", "x86") stay text.
        char Prev = I ? Word[I - 1] : ' ';
        bool AfterWord = std::isalnum(static_cast<unsigned char>(Prev)) || Prev == '_';
        size_t N = AfterWord ? 0 : numberLength(Word, I);
        if (N == 0) {
          Text += Word[I++];
          continue;
        }
        flushText();
        std::string Num = Word.substr(I, N);
        Out.push_back({Num, true, std::strtod(Num.c_str(), nullptr), L + 1});
        I += N;
      }
      flushText();
    }
  }
  return Out;
}

bool numbersMatch(double A, double B, const Tolerance &T) {
  if (A == B)
    return true;
  double D = std::fabs(A - B);
  return D <= T.Abs || D <= T.Rel * std::max(std::fabs(A), std::fabs(B));
}

} // namespace

std::optional<std::string> compareOutputs(const std::string &Got, const std::string &Want,
                                          const std::optional<Tolerance> &Tol, bool Sorted) {
  std::vector<std::string> GotLines = splitLines(Got), WantLines = splitLines(Want);
  if (Sorted) {
    std::sort(GotLines.begin(), GotLines.end());
    std::sort(WantLines.begin(), WantLines.end());
  }
  std::vector<Token> G = tokenize(GotLines), W = tokenize(WantLines);
  std::ostringstream Msg;
  int Shown = 0;
  const char *LineWord = Sorted ? "sorted line" : "line";
  for (size_t I = 0; I < std::min(G.size(), W.size()) && Shown < 5; ++I) {
    const Token &A = G[I], &B = W[I];
    bool Same = A.Text == B.Text || (Tol && A.IsNumber && B.IsNumber && numbersMatch(A.Value, B.Value, *Tol));
    if (Same)
      continue;
    if (Shown++)
      Msg << "; ";
    Msg << LineWord << " " << A.Line << ": got '" << A.Text << "', expected '" << B.Text << "'";
    if (A.IsNumber && B.IsNumber && A.Value == B.Value)
      Msg << " (same value written differently; a tolerance compares values)";
    else if (A.IsNumber && B.IsNumber)
      Msg << " (difference " << std::fabs(A.Value - B.Value) << ")";
    else if (!A.IsNumber || !B.IsNumber)
      break; // later tokens are probably shifted: one message is clearer than a cascade
  }
  if (Shown == 0 && G.size() == W.size())
    return std::nullopt;
  if (G.size() != W.size()) {
    if (Shown)
      Msg << "; ";
    Msg << "output has " << G.size() << " tokens, expected " << W.size();
    const std::vector<Token> &Longer = G.size() > W.size() ? G : W;
    size_t Common = std::min(G.size(), W.size());
    Msg << (G.size() > W.size() ? " (first extra: '" : " (first missing: '") << Longer[Common].Text << "' at "
        << LineWord << " " << Longer[Common].Line << ")";
  }
  return Msg.str();
}

std::string dropLines(const std::string &Text, const std::vector<Regex> &Ignore) {
  if (Ignore.empty())
    return Text;
  std::string Out;
  for (const std::string &L : splitLines(Text)) {
    bool Drop = std::any_of(Ignore.begin(), Ignore.end(), [&](const Regex &R) { return R.search(L); });
    if (!Drop)
      Out += L + "\n";
  }
  return Out;
}

std::string firstShimDiagnostic(const std::string &Log) {
  // src/support/Log.cpp prints "[cuda_shim <spdlog level>] message".
  std::string Warning;
  for (const std::string &L : splitLines(Log)) {
    if (L.rfind("[cuda_shim error]", 0) == 0 || L.rfind("[cuda_shim critical]", 0) == 0)
      return L;
    if (Warning.empty() && L.rfind("[cuda_shim warning]", 0) == 0)
      Warning = L;
  }
  return Warning;
}

std::vector<std::string> lastLines(const std::string &Text, size_t N) {
  std::vector<std::string> Lines = splitLines(Text);
  if (Lines.size() > N)
    Lines.erase(Lines.begin(), Lines.end() - N);
  return Lines;
}

} // namespace cushim::conform
