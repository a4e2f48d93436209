// cushim conform: terminal output and the Markdown, JUnit XML and JSON report files; --compare of two JSON reports.
#include "tools/cushim/ConformReport.h"

#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

namespace cushim::conform {

using Json = nlohmann::json;

namespace {

constexpr Status AllStatuses[] = {Status::Pass,    Status::Fail,       Status::Crash,
                                  Status::Timeout, Status::BuildError, Status::Skipped};

std::string fmtSeconds(double S) {
  char Buf[32];
  std::snprintf(Buf, sizeof(Buf), "%.2f", S);
  return Buf;
}

std::string upper(const char *S) {
  std::string Out = S;
  std::transform(Out.begin(), Out.end(), Out.begin(), [](unsigned char C) { return std::toupper(C); });
  return Out;
}

bool isFailure(Status S) { return S != Status::Pass && S != Status::Skipped; }

std::map<Status, size_t> countStatuses(const RunSummary &S, size_t &Flaky, size_t &Mismatch) {
  std::map<Status, size_t> C;
  Flaky = Mismatch = 0;
  for (const ProgramResult &P : S.Programs) {
    ++C[P.St];
    Flaky += P.Flaky;
    Mismatch += P.Diff && P.Diff->Verdict == "mismatch";
  }
  return C;
}

std::string countsLine(const RunSummary &S) {
  size_t Flaky, Mismatch;
  auto C = countStatuses(S, Flaky, Mismatch);
  std::string Out = std::to_string(S.Programs.size()) + (S.Programs.size() == 1 ? " program:" : " programs:");
  for (Status St : AllStatuses)
    Out += " " + std::to_string(C[St]) + " " + statusName(St) + ",";
  Out += " " + std::to_string(Flaky) + " flaky";
  if (S.DifferentialRequested && S.Driver.Found)
    Out += ", " + std::to_string(Mismatch) + " differ from NVIDIA";
  return Out;
}

// Markdown table cells cannot hold '|' or newlines.
std::string cell(const std::string &Text) {
  std::string Out;
  for (char C : Text)
    Out += C == '|' ? std::string("\\|") : C == '\n' ? std::string(" ") : std::string(1, C);
  return Out;
}

std::string joinLines(const std::vector<std::string> &Lines) {
  std::string Out;
  for (const std::string &L : Lines)
    Out += L + "\n";
  return Out;
}

} // namespace

TerminalProgress::TerminalProgress(FILE *Out, size_t Total) : Out(Out), Tty(isatty(fileno(Out))), Total(Total) {}

ProgressSink TerminalProgress::sink() {
  ProgressSink S;
  S.Started = [this](const std::string &Name) { started(Name); };
  S.Finished = [this](const ProgramResult &R, size_t D, size_t T) { finished(R, D, T); };
  return S;
}

void TerminalProgress::drawStatus() {
  if (!Tty)
    return;
  std::string Line = "[" + std::to_string(Done) + "/" + std::to_string(Total) + "]";
  for (Status St : AllStatuses)
    if (Counts[static_cast<int>(St)])
      Line += " " + std::to_string(Counts[static_cast<int>(St)]) + " " + statusName(St);
  if (!Running.empty()) {
    Line += "  running:";
    for (const std::string &N : Running)
      Line += " " + N;
  }
  if (Line.size() > 118)
    Line = Line.substr(0, 115) + "...";
  std::fprintf(Out, "\r\033[K%s", Line.c_str());
  std::fflush(Out);
}

void TerminalProgress::started(const std::string &Name) {
  Running.push_back(Name);
  drawStatus();
}

void TerminalProgress::finished(const ProgramResult &R, size_t D, size_t T) {
  Done = D;
  ++Counts[static_cast<int>(R.St)];
  Running.erase(std::remove(Running.begin(), Running.end(), R.Name), Running.end());
  // A TTY shows only problems above the status line; a log gets every program.
  if (!Tty || isFailure(R.St) || R.Flaky) {
    int Width = static_cast<int>(std::to_string(T).size());
    std::fprintf(Out, "%s[%*zu/%zu] %-11s %s (%s s)%s%s\n", Tty ? "\r\033[K" : "", Width, D, T,
                 upper(statusName(R.St)).c_str(), R.Name.c_str(), fmtSeconds(R.Seconds).c_str(),
                 R.Reason.empty() ? "" : ": ", R.Reason.c_str());
  }
  drawStatus();
  if (Tty && D == T)
    std::fprintf(Out, "\r\033[K"), std::fflush(Out);
}

void printSummary(const RunSummary &S, FILE *Out) {
  size_t NameW = 7;
  for (const ProgramResult &P : S.Programs)
    NameW = std::max(NameW, P.Name.size());
  NameW = std::min<size_t>(NameW, 48);
  std::fprintf(Out, "\n%-*s  %-11s  %8s  %s\n", static_cast<int>(NameW), "program", "status", "time(s)", "detail");
  std::fprintf(Out, "%s\n", std::string(NameW + 2 + 11 + 2 + 8 + 2 + 40, '-').c_str());
  for (const ProgramResult &P : S.Programs) {
    std::string Detail = P.Reason;
    if (P.Diff)
      Detail += (Detail.empty() ? "" : "; ") + std::string("NVIDIA: ") + P.Diff->Verdict;
    if (Detail.size() > 100)
      Detail = Detail.substr(0, 97) + "...";
    std::fprintf(Out, "%-*s  %-11s  %8s  %s\n", static_cast<int>(NameW), P.Name.c_str(),
                 (std::string(statusName(P.St)) + (P.Flaky ? "*" : "")).c_str(), fmtSeconds(P.Seconds).c_str(),
                 Detail.c_str());
  }
  for (const ProgramResult &P : S.Programs) {
    if (!isFailure(P.St))
      continue;
    std::fprintf(Out, "\n=== %s: %s\n", upper(statusName(P.St)).c_str(), P.Name.c_str());
    std::fprintf(Out, "    command: %s\n", P.Command.c_str());
    std::fprintf(Out, "    reason:  %s\n", P.Reason.c_str());
    if (!P.FirstShimDiagnostic.empty())
      std::fprintf(Out, "    first cuda_shim diagnostic: %s\n", P.FirstShimDiagnostic.c_str());
    if (!P.Runs.empty())
      std::fprintf(Out, "    logs: %s, %s\n", P.Runs.front().StdoutPath.c_str(), P.Runs.front().StderrPath.c_str());
    if (!P.BuildLog.empty() && P.St == Status::BuildError)
      std::fprintf(Out, "    build log: %s\n", P.BuildLog.c_str());
    if (!P.OutputTail.empty()) {
      std::fprintf(Out, "    last lines of output:\n");
      for (const std::string &L : P.OutputTail)
        std::fprintf(Out, "      | %s\n", L.c_str());
    }
  }
  std::fprintf(Out, "\n%s (%s s, -j %u%s)\n", countsLine(S).c_str(), fmtSeconds(S.Seconds).c_str(), S.Jobs,
               S.Repeat > 1 ? (", --repeat " + std::to_string(S.Repeat)).c_str() : "");
  if (S.DifferentialRequested)
    std::fprintf(Out, "differential: %s\n", S.Driver.Message.c_str());
  if (S.Interrupted)
    std::fprintf(Out, "interrupted: the remaining programs were not run\n");
}

std::string markdownReport(const RunSummary &S) {
  std::ostringstream M;
  M << "# Conformance report: " << S.CorpusName << "\n\n";
  M << "- manifest: `" << S.ManifestPath << "`\n- started: " << S.StartedUtc << ", " << fmtSeconds(S.Seconds)
    << " s, -j " << S.Jobs << ", repeat " << S.Repeat << "\n";
  if (S.DifferentialRequested)
    M << "- differential: " << S.Driver.Message << "\n";
  M << "- " << countsLine(S) << "\n\n";
  M << "| program | status | time (s) | detail |\n| --- | --- | ---: | --- |\n";
  for (const ProgramResult &P : S.Programs) {
    std::string Detail = P.Reason;
    if (P.Diff)
      Detail += (Detail.empty() ? "" : "; ") + std::string("NVIDIA: ") + P.Diff->Verdict;
    M << "| " << cell(P.Name) << " | " << statusName(P.St) << (P.Flaky ? " (flaky)" : "") << " | "
      << fmtSeconds(P.Seconds) << " | " << cell(Detail) << " |\n";
  }
  bool Header = false;
  for (const ProgramResult &P : S.Programs) {
    if (!isFailure(P.St))
      continue;
    if (!Header)
      M << "\n## Failures\n";
    Header = true;
    M << "\n### " << P.Name << ": " << statusName(P.St) << "\n\n";
    M << "- command: `" << P.Command << "`\n- reason: " << P.Reason << "\n";
    if (!P.FirstShimDiagnostic.empty())
      M << "- first cuda_shim diagnostic: `" << P.FirstShimDiagnostic << "`\n";
    if (!P.Runs.empty())
      M << "- logs: `" << P.Runs.front().StdoutPath << "`, `" << P.Runs.front().StderrPath << "`\n";
    if (!P.BuildLog.empty())
      M << "- build log: `" << P.BuildLog << "`\n";
    if (P.Diff) {
      M << "- NVIDIA run: " << P.Diff->Verdict << (P.Diff->Detail.empty() ? "" : ": " + P.Diff->Detail) << "\n";
      if (!P.Diff->Nvidia.StdoutPath.empty())
        M << "- NVIDIA logs: `" << P.Diff->Nvidia.StdoutPath << "`, `" << P.Diff->Nvidia.StderrPath << "`\n";
    }
    if (!P.OutputTail.empty())
      M << "\nLast lines of output:\n\n```\n" << joinLines(P.OutputTail) << "```\n";
  }
  return M.str();
}

// Length of the well-formed UTF-8 sequence at S[I], or 0 when the bytes there are not valid UTF-8.
static size_t utf8Length(const std::string &S, size_t I) {
  unsigned char C = static_cast<unsigned char>(S[I]);
  size_t N = C < 0x80 ? 1 : (C >> 5) == 0x6 ? 2 : (C >> 4) == 0xE ? 3 : (C >> 3) == 0x1E ? 4 : 0;
  if (N == 0 || I + N > S.size())
    return 0;
  for (size_t K = 1; K < N; ++K)
    if ((static_cast<unsigned char>(S[I + K]) & 0xC0) != 0x80)
      return 0;
  return N;
}

std::string xmlEscape(const std::string &Text) {
  std::string Out;
  for (size_t I = 0; I < Text.size();) {
    unsigned char C = static_cast<unsigned char>(Text[I]);
    size_t N = utf8Length(Text, I);
    if (N == 0) {
      Out += '?'; // program output need not be UTF-8; the XML file must be
      ++I;
      continue;
    }
    if (N > 1) {
      Out.append(Text, I, N);
      I += N;
      continue;
    }
    ++I;
    switch (C) {
    case '&':
      Out += "&amp;";
      break;
    case '<':
      Out += "&lt;";
      break;
    case '>':
      Out += "&gt;";
      break;
    case '"':
      Out += "&quot;";
      break;
    case '\'':
      Out += "&apos;";
      break;
    default:
      // XML 1.0 allows no control characters but tab, newline and carriage return, even escaped.
      if (C < 0x20 && C != '\t' && C != '\n' && C != '\r')
        Out += '?';
      else
        Out += static_cast<char>(C);
    }
  }
  return Out;
}

std::string junitReport(const RunSummary &S) {
  size_t Failures = 0, Errors = 0, Skipped = 0;
  for (const ProgramResult &P : S.Programs) {
    Failures += P.St == Status::Fail;
    Errors += P.St == Status::Crash || P.St == Status::Timeout || P.St == Status::BuildError;
    Skipped += P.St == Status::Skipped;
  }
  std::ostringstream X;
  X << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  X << "<testsuites name=\"" << xmlEscape(S.CorpusName) << "\" tests=\"" << S.Programs.size() << "\" failures=\""
    << Failures << "\" errors=\"" << Errors << "\" skipped=\"" << Skipped << "\" time=\"" << fmtSeconds(S.Seconds)
    << "\">\n";
  X << "  <testsuite name=\"" << xmlEscape(S.CorpusName) << "\" tests=\"" << S.Programs.size() << "\" failures=\""
    << Failures << "\" errors=\"" << Errors << "\" skipped=\"" << Skipped << "\" time=\"" << fmtSeconds(S.Seconds)
    << "\" timestamp=\"" << S.StartedUtc << "\">\n";
  for (const ProgramResult &P : S.Programs) {
    X << "    <testcase classname=\"" << xmlEscape(S.CorpusName) << "\" name=\"" << xmlEscape(P.Name) << "\" time=\""
      << fmtSeconds(P.Seconds) << "\">\n";
    std::string Body = "command: " + P.Command + "\n";
    if (!P.FirstShimDiagnostic.empty())
      Body += "first cuda_shim diagnostic: " + P.FirstShimDiagnostic + "\n";
    if (P.Diff)
      Body += "NVIDIA run: " + P.Diff->Verdict + (P.Diff->Detail.empty() ? "" : ": " + P.Diff->Detail) + "\n";
    if (!P.OutputTail.empty())
      Body += "last lines of output:\n" + joinLines(P.OutputTail);
    // JUnit's vocabulary: a failure is a wrong answer, an error is a program that did not finish normally.
    if (P.St == Status::Skipped)
      X << "      <skipped message=\"" << xmlEscape(P.Reason) << "\"/>\n";
    else if (P.St == Status::Fail)
      X << "      <failure type=\"fail\" message=\"" << xmlEscape(P.Reason) << "\">" << xmlEscape(Body)
        << "</failure>\n";
    else if (isFailure(P.St))
      X << "      <error type=\"" << statusName(P.St) << "\" message=\"" << xmlEscape(P.Reason) << "\">"
        << xmlEscape(Body) << "</error>\n";
    if (isFailure(P.St) && !P.OutputTail.empty())
      X << "      <system-out>" << xmlEscape(joinLines(P.OutputTail)) << "</system-out>\n";
    X << "    </testcase>\n";
  }
  X << "  </testsuite>\n</testsuites>\n";
  return X.str();
}

namespace {

Json runJson(const RunResult &R) {
  Json J = {{"status", statusName(R.St)}, {"exit_code", R.ExitCode}, {"signal", R.Signal},
            {"seconds", R.Seconds},       {"reasons", R.Reasons},    {"stdout_log", R.StdoutPath},
            {"stderr_log", R.StderrPath}};
  return J;
}

} // namespace

std::string jsonReport(const RunSummary &S) {
  size_t Flaky, Mismatch;
  auto C = countStatuses(S, Flaky, Mismatch);
  Json Summary = {{"total", S.Programs.size()}, {"flaky", Flaky}, {"differential_mismatch", Mismatch}};
  for (Status St : AllStatuses)
    Summary[statusName(St)] = C[St];
  Json Programs = Json::array();
  for (const ProgramResult &P : S.Programs) {
    Json J = {{"name", P.Name},
              {"status", statusName(P.St)},
              {"reason", P.Reason},
              {"flaky", P.Flaky},
              {"seconds", P.Seconds},
              {"tags", P.Tags},
              {"command", P.Command},
              {"first_cuda_shim_diagnostic", P.FirstShimDiagnostic},
              {"output_tail", P.OutputTail},
              {"build_log", P.BuildLog}};
    Json Runs = Json::array();
    for (const RunResult &R : P.Runs)
      Runs.push_back(runJson(R));
    J["runs"] = Runs;
    if (P.Diff)
      J["differential"] = {
          {"verdict", P.Diff->Verdict}, {"detail", P.Diff->Detail}, {"nvidia", runJson(P.Diff->Nvidia)}};
    Programs.push_back(J);
  }
  Json Root = {{"schema", "cushim-conform-report/1"},
               {"corpus", S.CorpusName},
               {"manifest", S.ManifestPath},
               {"started", S.StartedUtc},
               {"seconds", S.Seconds},
               {"jobs", S.Jobs},
               {"repeat", S.Repeat},
               {"interrupted", S.Interrupted},
               {"differential",
                {{"requested", S.DifferentialRequested},
                 {"available", S.Driver.Found},
                 {"nvidia_libcuda", S.Driver.LibCuda},
                 {"message", S.DifferentialRequested ? S.Driver.Message : std::string()}}},
               {"summary", Summary},
               {"programs", Programs}};
  // Program output may hold invalid UTF-8: replace it rather than throw.
  return Root.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

Error writeReports(const RunSummary &S, const std::string &Dir) {
  const std::pair<const char *, std::string> Files[] = {
      {"report.md", markdownReport(S)}, {"junit.xml", junitReport(S)}, {"report.json", jsonReport(S)}};
  for (const auto &[Name, Text] : Files) {
    std::string Path = Dir + "/" + Name;
    std::ofstream Out(Path, std::ios::binary);
    Out << Text;
    if (!Out)
      return manifestError("cannot write " + Path);
  }
  return Error::success();
}

Expected<ReportChanges> compareReports(const std::string &BeforePath, const std::string &AfterPath) {
  auto load = [](const std::string &Path) -> Expected<std::vector<std::pair<std::string, std::string>>> {
    std::ifstream In(Path);
    if (!In)
      return manifestError("cannot open report '" + Path + "'");
    Json J;
    try {
      J = Json::parse(In);
    } catch (const Json::exception &E) {
      return manifestError(Path + ": invalid JSON: " + E.what());
    }
    if (!J.is_object() || !J.contains("programs") || !J["programs"].is_array())
      return manifestError(Path + ": not a cushim conform JSON report (no \"programs\" list)");
    std::vector<std::pair<std::string, std::string>> Out;
    for (const Json &P : J["programs"]) {
      if (!P.is_object() || !P.contains("name") || !P["name"].is_string() || !P.contains("status") ||
          !P["status"].is_string())
        return manifestError(Path + ": a program entry lacks \"name\" or \"status\"");
      Out.emplace_back(P["name"].get<std::string>(), P["status"].get<std::string>());
    }
    return Out;
  };
  auto Before = load(BeforePath);
  if (!Before)
    return Before.takeError();
  auto After = load(AfterPath);
  if (!After)
    return After.takeError();

  ReportChanges C;
  std::map<std::string, std::string> Old(Before->begin(), Before->end()), New(After->begin(), After->end());
  C.BeforeTotal = Before->size();
  C.AfterTotal = After->size();
  for (const auto &[Name, St] : *Before)
    C.BeforePass += St == "pass";
  for (const auto &[Name, St] : *After) {
    C.AfterPass += St == "pass";
    auto It = Old.find(Name);
    if (It == Old.end()) {
      C.Added.push_back(Name + " (" + St + ")");
      continue;
    }
    const std::string &Was = It->second;
    if (Was == St || St == "skipped" || Was == "skipped")
      continue;
    if (St == "pass")
      C.NewlyPassing.push_back(Name + " (was " + Was + ")");
    else if (Was == "pass")
      C.NewlyFailing.push_back(Name + " (now " + St + ")");
    else
      C.OtherChanges.push_back(Name + " (" + Was + " -> " + St + ")");
  }
  for (const auto &[Name, St] : *Before)
    if (!New.count(Name))
      C.Removed.push_back(Name + " (was " + St + ")");
  return C;
}

void printChanges(const ReportChanges &C, FILE *Out) {
  auto section = [&](const char *Title, const std::vector<std::string> &Items) {
    std::fprintf(Out, "%s: %zu\n", Title, Items.size());
    for (const std::string &I : Items)
      std::fprintf(Out, "  %s\n", I.c_str());
  };
  section("newly passing", C.NewlyPassing);
  section("newly failing", C.NewlyFailing);
  if (!C.OtherChanges.empty())
    section("failing differently", C.OtherChanges);
  if (!C.Added.empty())
    section("only in the new report", C.Added);
  if (!C.Removed.empty())
    section("only in the old report", C.Removed);
  std::fprintf(Out, "passing: %zu/%zu before, %zu/%zu after\n", C.BeforePass, C.BeforeTotal, C.AfterPass, C.AfterTotal);
}

} // namespace cushim::conform
