// cushim conform: reports: the progress line and summary on the terminal, and Markdown, JUnit XML and JSON files;
// plus the comparison of two JSON reports (--compare).
#pragma once

#include "tools/cushim/ConformRunner.h"

#include <cstdio>
#include <string>
#include <vector>

namespace cushim::conform {

// Progress on a terminal: one rewritten status line on a TTY, one line per finished program otherwise.
class TerminalProgress {
public:
  TerminalProgress(FILE *Out, size_t Total);
  ProgressSink sink();

private:
  void started(const std::string &Name);
  void finished(const ProgramResult &R, size_t Done, size_t Total);
  void drawStatus();

  FILE *Out;
  bool Tty;
  size_t Total, Done = 0;
  size_t Counts[6] = {};
  std::vector<std::string> Running;
};

// The final table and the failure details on the terminal.
void printSummary(const RunSummary &S, FILE *Out);

std::string markdownReport(const RunSummary &S);
std::string junitReport(const RunSummary &S);
std::string jsonReport(const RunSummary &S);

// Writes report.md, junit.xml and report.json into Dir.
Error writeReports(const RunSummary &S, const std::string &Dir);

// XML text with the five special characters escaped and characters XML 1.0 forbids replaced.
std::string xmlEscape(const std::string &Text);

struct ReportChanges {
  std::vector<std::string> NewlyPassing;   // "name (was fail)"
  std::vector<std::string> NewlyFailing;   // "name (now crash)"
  std::vector<std::string> OtherChanges;   // a failure of another kind: fail -> crash
  std::vector<std::string> Added, Removed; // programs in only one report
  size_t BeforePass = 0, AfterPass = 0, BeforeTotal = 0, AfterTotal = 0;
};

// Compares two JSON reports written by cushim conform.
Expected<ReportChanges> compareReports(const std::string &BeforePath, const std::string &AfterPath);
void printChanges(const ReportChanges &C, FILE *Out);

} // namespace cushim::conform
