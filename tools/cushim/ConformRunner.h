// cushim conform: running a corpus: builds, child processes (own process group, timeout, /dev/null stdin, logs to
// files), parallel scheduling, classification of each program, repeats (flakiness) and the differential mode.
#pragma once

#include "tools/cushim/ConformManifest.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cushim::conform {

enum class Status { Pass, Fail, Crash, Timeout, BuildError, Skipped };

const char *statusName(Status S); // "pass", "fail", "crash", "timeout", "build-error", "skipped"
std::optional<Status> parseStatus(const std::string &Name);
// Orders statuses by severity so that the worst of several repeats is reported.
int severity(Status S);

// One execution of a program.
struct RunResult {
  Status St = Status::Pass;
  std::vector<std::string> Reasons;
  int ExitCode = -1; // -1 when killed by a signal or never started
  int Signal = 0;
  double Seconds = 0;
  std::string StdoutPath, StderrPath;
  std::string Stdout, Stderr; // contents (capped); not written to reports
};

struct DifferentialResult {
  std::string Verdict; // "match", "mismatch", "not compared"
  std::string Detail;
  RunResult Nvidia;
};

struct ProgramResult {
  std::string Name;
  std::vector<std::string> Tags;
  std::string Command; // shell-quoted, for display
  Status St = Status::Skipped;
  std::string Reason;
  bool Flaky = false;
  double Seconds = 0;
  std::vector<RunResult> Runs;
  std::string BuildLog;
  std::string FirstShimDiagnostic;
  std::vector<std::string> OutputTail; // last lines of stdout then stderr of the reported run
  std::optional<DifferentialResult> Diff;
};

// Where NVIDIA's driver is, for the differential mode.
struct DriverProbe {
  bool Found = false;
  std::string LibCuda;    // path of NVIDIA's libcuda.so.1
  std::string LibDirPath; // set when --nvidia-libdir was given: prepended to the NVIDIA runs' LD_LIBRARY_PATH
  std::string Message;
};

// Looks for a libcuda.so.1 that is not ours: in ExplicitDir when given, else in the loader cache (ldconfig -p).
// A library in OurLibDir, or whose file carries cuda_shim's log prefix, is ours and does not count.
DriverProbe findNvidiaDriver(const std::string &OurLibDir, const std::string &ExplicitDir);

struct RunOptions {
  unsigned Jobs = 1;
  std::string Filter;            // POSIX regex on program names
  std::vector<std::string> Tags; // a program runs when it has any of them
  unsigned Repeat = 1;
  std::string OutDir; // absolute; must exist
  std::optional<double> TimeoutS;
  bool KeepGoing = true;
  bool Differential = false;
  std::string NvidiaLibDir;
  std::string LibDir; // our libcudart.so.13 / libcuda.so.1
  std::map<std::string, std::string> ExtraEnv;
  size_t TailLines = 15;
};

struct RunSummary {
  std::string CorpusName, ManifestPath, StartedUtc;
  double Seconds = 0;
  unsigned Jobs = 1, Repeat = 1;
  bool DifferentialRequested = false;
  DriverProbe Driver;
  bool Interrupted = false;
  std::vector<ProgramResult> Programs; // in manifest order
};

// Progress callbacks, called from worker threads under a lock (never concurrently).
struct ProgressSink {
  std::function<void(const std::string &Name)> Started;
  std::function<void(const ProgramResult &R, size_t Done, size_t Total)> Finished;
};

// Which programs the options select, in manifest order.
Expected<std::vector<const Program *>> selectPrograms(const Corpus &C, const RunOptions &O);

// Runs the selected programs of C and classifies each.
Expected<RunSummary> runCorpus(const Corpus &C, const RunOptions &O, const ProgressSink &Progress);

// The folder holding our libraries: build/bin/cushim -> build/lib (as `cushim run` does).
std::string defaultLibDir();

} // namespace cushim::conform
