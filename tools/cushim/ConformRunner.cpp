// cushim conform: runs a corpus. Each program runs as a child process in its own process group (so a timeout kills
// everything it started), with /dev/null as stdin, stdout and stderr in log files, and our library folder first on
// LD_LIBRARY_PATH. Builds shared between programs run once. Workers pull programs from a shared index.
#include "tools/cushim/ConformRunner.h"

#include "tools/cushim/ConformCompare.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

extern char **environ;

namespace cushim::conform {

namespace fs = std::filesystem;

const char *statusName(Status S) {
  switch (S) {
  case Status::Pass:
    return "pass";
  case Status::Fail:
    return "fail";
  case Status::Crash:
    return "crash";
  case Status::Timeout:
    return "timeout";
  case Status::BuildError:
    return "build-error";
  case Status::Skipped:
    return "skipped";
  }
  return "fail";
}

std::optional<Status> parseStatus(const std::string &Name) {
  for (Status S : {Status::Pass, Status::Fail, Status::Crash, Status::Timeout, Status::BuildError, Status::Skipped})
    if (Name == statusName(S))
      return S;
  return std::nullopt;
}

int severity(Status S) {
  switch (S) {
  case Status::Skipped:
    return 0;
  case Status::Pass:
    return 1;
  case Status::Fail:
    return 2;
  case Status::Timeout:
    return 3;
  case Status::Crash:
    return 4;
  case Status::BuildError:
    return 5;
  }
  return 2;
}

std::string defaultLibDir() {
  char Path[PATH_MAX];
  ssize_t N = readlink("/proc/self/exe", Path, sizeof(Path) - 1);
  if (N <= 0)
    return {};
  Path[N] = '\0';
  std::string Exe(Path);
  std::string Bin = Exe.substr(0, Exe.rfind('/'));
  return Bin.substr(0, Bin.rfind('/')) + "/lib";
}

namespace {

// Set by SIGINT/SIGTERM: running children are killed and nothing new starts.
std::atomic<bool> Interrupted{false};
extern "C" void onInterrupt(int) { Interrupted = true; }

constexpr size_t MaxCapturedBytes = 16u << 20;

std::string readCapped(const std::string &Path) {
  std::ifstream In(Path, std::ios::binary);
  if (!In)
    return {};
  std::error_code Ec;
  uintmax_t Size = fs::file_size(Path, Ec);
  std::string Data(Ec ? MaxCapturedBytes : std::min<uintmax_t>(Size, MaxCapturedBytes), '\0');
  In.read(Data.data(), static_cast<std::streamsize>(Data.size()));
  Data.resize(static_cast<size_t>(In.gcount()));
  if (!Ec && Size > MaxCapturedBytes)
    Data += "\n[cushim conform: output truncated at 16 MiB for checking]\n";
  return Data;
}

std::string shellQuote(const std::vector<std::string> &Argv) {
  std::string Out;
  for (const std::string &A : Argv) {
    if (!Out.empty())
      Out += ' ';
    bool Plain = !A.empty() && A.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                                                   "_-./=:,+@%") == std::string::npos;
    if (Plain) {
      Out += A;
      continue;
    }
    Out += '\'';
    for (char C : A)
      Out += C == '\'' ? std::string("'\\''") : std::string(1, C);
    Out += '\'';
  }
  return Out;
}

// File-system-safe, unique folder names for program names such as "vector_add/engine_t2".
std::string safeName(const std::string &Name, std::set<std::string> &Used) {
  std::string S;
  for (char C : Name)
    S += (std::isalnum(static_cast<unsigned char>(C)) || C == '-' || C == '.' || C == '_') ? C : '_';
  if (S.empty() || S[0] == '.')
    S = "_" + S;
  std::string Unique = S;
  for (int I = 2; !Used.insert(Unique).second; ++I)
    Unique = S + "~" + std::to_string(I);
  return Unique;
}

using EnvMap = std::map<std::string, std::string>;

EnvMap processEnvironment() {
  EnvMap Env;
  for (char **E = environ; *E; ++E) {
    std::string KV = *E;
    size_t Eq = KV.find('=');
    if (Eq != std::string::npos)
      Env[KV.substr(0, Eq)] = KV.substr(Eq + 1);
  }
  return Env;
}

std::string withoutDir(const std::string &PathList, const std::string &Dir) {
  std::string Out;
  std::error_code Ec;
  fs::path Canon = fs::weakly_canonical(Dir, Ec);
  std::istringstream In(PathList);
  std::string Item;
  while (std::getline(In, Item, ':')) {
    if (Item.empty() || fs::weakly_canonical(Item, Ec) == Canon)
      continue;
    Out += (Out.empty() ? "" : ":") + Item;
  }
  return Out;
}

// Looks a bare program name up in the child's PATH, as execvp would with the child's environment.
std::string resolveProgram(const std::string &Name, const EnvMap &Env) {
  if (Name.find('/') != std::string::npos)
    return Name;
  auto It = Env.find("PATH");
  std::istringstream In(It == Env.end() ? "/usr/local/bin:/usr/bin:/bin" : It->second);
  std::string Dir;
  while (std::getline(In, Dir, ':')) {
    std::string Candidate = (Dir.empty() ? "." : Dir) + "/" + Name;
    if (access(Candidate.c_str(), X_OK) == 0)
      return Candidate;
  }
  return Name;
}

struct ProcessSpec {
  std::vector<std::string> Argv;
  std::string WorkDir;
  EnvMap Env;
  std::string StdoutPath, StderrPath; // equal: one combined log
  double TimeoutS = 60;
};

struct ProcessOutcome {
  std::string SpawnError; // non-empty: the program never ran
  bool TimedOut = false;
  bool Interrupted = false;
  int ExitCode = -1;
  int Signal = 0;
  double Seconds = 0;
};

// fork + execve with everything prepared beforehand: a multi-threaded parent may only call async-signal-safe
// functions in the child. A close-on-exec pipe reports exec failures.
ProcessOutcome runProcess(const ProcessSpec &S) {
  ProcessOutcome Out;
  std::string Exe = resolveProgram(S.Argv[0], S.Env);
  std::vector<char *> Argv, Envp;
  for (const std::string &A : S.Argv)
    Argv.push_back(const_cast<char *>(A.c_str()));
  Argv.push_back(nullptr);
  std::vector<std::string> EnvStrings;
  for (const auto &[K, V] : S.Env)
    EnvStrings.push_back(K + "=" + V);
  for (std::string &E : EnvStrings)
    Envp.push_back(E.data());
  Envp.push_back(nullptr);

  int OutFd = open(S.StdoutPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int ErrFd =
      S.StderrPath == S.StdoutPath ? OutFd : open(S.StderrPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int NullFd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int Pipe[2] = {-1, -1};
  if (OutFd < 0 || ErrFd < 0 || NullFd < 0 || pipe2(Pipe, O_CLOEXEC) != 0) {
    Out.SpawnError = std::string("cannot create the log files or pipes: ") + std::strerror(errno);
    for (int Fd : {OutFd, ErrFd == OutFd ? -1 : ErrFd, NullFd, Pipe[0], Pipe[1]})
      if (Fd >= 0)
        close(Fd);
    return Out;
  }

  auto Start = std::chrono::steady_clock::now();
  pid_t Pid = fork();
  if (Pid == 0) {
    setpgid(0, 0);
    sigset_t None;
    sigemptyset(&None);
    sigprocmask(SIG_SETMASK, &None, nullptr);
    // Caught signals reset at exec by themselves; an ignored SIGPIPE (Python parents) would stay ignored.
    struct sigaction Dfl = {};
    Dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &Dfl, nullptr);
    int Err = 0, Stage = 0;
    if (chdir(S.WorkDir.c_str()) != 0)
      Err = errno, Stage = 1;
    if (!Err && (dup2(NullFd, 0) < 0 || dup2(OutFd, 1) < 0 || dup2(ErrFd, 2) < 0))
      Err = errno, Stage = 2;
    if (!Err) {
      execve(Exe.c_str(), Argv.data(), Envp.data());
      Err = errno;
    }
    int Msg[2] = {Stage, Err};
    ssize_t Ignored = write(Pipe[1], Msg, sizeof(Msg));
    (void)Ignored;
    _exit(127);
  }
  close(Pipe[1]);
  close(NullFd);
  close(OutFd);
  if (ErrFd != OutFd)
    close(ErrFd);
  if (Pid < 0) {
    close(Pipe[0]);
    Out.SpawnError = std::string("fork failed: ") + std::strerror(errno);
    return Out;
  }
  // The parent sets the group too, so that a kill right after fork cannot miss it.
  setpgid(Pid, Pid);

  int Msg[2];
  ssize_t N = read(Pipe[0], Msg, sizeof(Msg));
  close(Pipe[0]);
  if (N == static_cast<ssize_t>(sizeof(Msg))) {
    waitpid(Pid, nullptr, 0);
    Out.SpawnError = Msg[0] == 1   ? "cannot enter working folder " + S.WorkDir + ": " + std::strerror(Msg[1])
                     : Msg[0] == 2 ? std::string("cannot redirect standard streams: ") + std::strerror(Msg[1])
                                   : "cannot run '" + S.Argv[0] + "': " + std::strerror(Msg[1]);
    return Out;
  }

  auto Deadline = Start + std::chrono::duration<double>(S.TimeoutS);
  int WaitStatus = 0;
  for (;;) {
    pid_t R = waitpid(Pid, &WaitStatus, WNOHANG);
    if (R == Pid)
      break;
    if (R < 0 && errno != EINTR)
      break;
    bool Late = std::chrono::steady_clock::now() >= Deadline;
    if (Late || Interrupted) {
      Out.TimedOut = Late;
      Out.Interrupted = !Late;
      kill(-Pid, SIGKILL);
      waitpid(Pid, &WaitStatus, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Whatever the program left running in its group goes too.
  kill(-Pid, SIGKILL);
  Out.Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  if (WIFEXITED(WaitStatus))
    Out.ExitCode = WEXITSTATUS(WaitStatus);
  else if (WIFSIGNALED(WaitStatus))
    Out.Signal = WTERMSIG(WaitStatus);
  return Out;
}

std::string signalText(int Sig) {
  const char *Abbrev = sigabbrev_np(Sig);
  std::string Out = Abbrev ? std::string("SIG") + Abbrev : "signal " + std::to_string(Sig);
  if (const char *Desc = sigdescr_np(Sig))
    Out += std::string(" (") + Desc + ")";
  return Out;
}

const std::string &pick(const RunResult &R, OutputPattern::Stream S, std::string &Both) {
  if (S == OutputPattern::Stream::Stdout)
    return R.Stdout;
  if (S == OutputPattern::Stream::Stderr)
    return R.Stderr;
  Both = R.Stdout + "\n" + R.Stderr;
  return Both;
}

// One build, shared by every program naming the same command.
struct BuildState {
  bool Done = false, Ok = false;
  std::string Reason, LogPath;
};

struct Runner {
  const Corpus &C;
  const RunOptions &O;
  const ProgressSink &Progress;
  DriverProbe Driver;
  EnvMap BaseEnv;

  std::mutex Mu;
  std::condition_variable BuildCv;
  std::map<std::string, BuildState> Builds;
  std::atomic<bool> Stop{false};

  Runner(const Corpus &C, const RunOptions &O, const ProgressSink &P) : C(C), O(O), Progress(P) {}

  // Runs the build once; concurrent callers wait for the first.
  BuildState build(const BuildStep &B) {
    std::string Key = B.key();
    std::unique_lock<std::mutex> L(Mu);
    auto [It, Inserted] = Builds.try_emplace(Key);
    if (!Inserted) {
      BuildCv.wait(L, [&] { return It->second.Done; });
      return It->second;
    }
    std::string LogPath = O.OutDir + "/builds/build-" + std::to_string(Builds.size()) + ".log";
    L.unlock();

    ProcessSpec S;
    S.Argv = B.Argv;
    S.WorkDir = B.WorkDir;
    S.Env = BaseEnv;
    for (const auto &[K, V] : B.Env)
      S.Env[K] = V;
    S.StdoutPath = S.StderrPath = LogPath;
    S.TimeoutS = B.TimeoutS;
    std::error_code Ec;
    fs::create_directories(O.OutDir + "/builds", Ec);
    ProcessOutcome P = runProcess(S);
    BuildState St;
    St.LogPath = LogPath;
    if (!P.SpawnError.empty())
      St.Reason = "build: " + P.SpawnError;
    else if (P.TimedOut)
      St.Reason = "build timed out after " + std::to_string(static_cast<int>(B.TimeoutS)) + " s";
    else if (P.Signal)
      St.Reason = "build killed by " + signalText(P.Signal);
    else if (P.ExitCode != 0)
      St.Reason = "build exited with " + std::to_string(P.ExitCode);
    St.Ok = St.Reason.empty();
    St.Done = true;

    L.lock();
    It->second = St;
    BuildCv.notify_all();
    return St;
  }

  EnvMap programEnv(const Program &P, bool Nvidia) {
    EnvMap Env = BaseEnv;
    for (const auto &[K, V] : P.Env)
      Env[K] = V;
    std::string Old = withoutDir(Env["LD_LIBRARY_PATH"], O.LibDir);
    std::string First = Nvidia ? Driver.LibDirPath : O.LibDir;
    std::string Path = First;
    if (!Old.empty())
      Path += (Path.empty() ? "" : ":") + Old;
    if (Path.empty())
      Env.erase("LD_LIBRARY_PATH");
    else
      Env["LD_LIBRARY_PATH"] = Path;
    return Env;
  }

  // One execution, classified by the program's success rule.
  RunResult execute(const Program &P, const std::string &Safe, unsigned Index, bool Nvidia) {
    RunResult R;
    std::string LogDir = O.OutDir + "/logs/" + Safe;
    std::string Prefix =
        LogDir + "/" + (Nvidia ? "nvidia." : "") + (Index ? "run" + std::to_string(Index + 1) + "." : "");
    R.StdoutPath = Prefix + "stdout.txt";
    R.StderrPath = Prefix + "stderr.txt";
    std::error_code Ec;
    fs::create_directories(LogDir, Ec);

    ProcessSpec S;
    S.Argv = P.Argv;
    S.Env = programEnv(P, Nvidia);
    S.StdoutPath = R.StdoutPath;
    S.StderrPath = R.StderrPath;
    S.TimeoutS = O.TimeoutS ? *O.TimeoutS : P.TimeoutS;
    std::string Scratch;
    if (P.WorkDir) {
      S.WorkDir = *P.WorkDir;
    } else {
      // A fresh folder per run: programs that write files cannot see each other's (or an earlier run's) output.
      Scratch = O.OutDir + "/work/" + Safe + "/" + (Nvidia ? "nvidia" : "run" + std::to_string(Index + 1));
      fs::remove_all(Scratch, Ec);
      fs::create_directories(Scratch, Ec);
      for (const std::string &F : P.CopyFiles) {
        fs::copy(F, Scratch + "/" + fs::path(F).filename().string(),
                 fs::copy_options::recursive | fs::copy_options::overwrite_existing, Ec);
        if (Ec) {
          R.St = Status::Fail;
          R.Reasons.push_back("cannot copy " + F + " into the working folder: " + Ec.message());
          return R;
        }
      }
      S.WorkDir = Scratch;
    }

    ProcessOutcome Out = runProcess(S);
    R.Seconds = Out.Seconds;
    R.ExitCode = Out.ExitCode;
    R.Signal = Out.Signal;
    R.Stdout = readCapped(R.StdoutPath);
    R.Stderr = readCapped(R.StderrPath);
    if (auto It = S.Env.find("CUSHIM_LOG_FILE"); It != S.Env.end() && !It->second.empty()) {
      // The program sent cuda_shim's log to a file: read it too, so that its first error is reported.
      std::string LogFile = It->second[0] == '/' ? It->second : S.WorkDir + "/" + It->second;
      R.Stderr += readCapped(LogFile);
    }

    if (!Out.SpawnError.empty()) {
      R.St = Status::Fail;
      R.Reasons.push_back(Out.SpawnError);
    } else if (Out.Interrupted) {
      R.St = Status::Skipped;
      R.Reasons.push_back("interrupted");
    } else if (Out.TimedOut) {
      R.St = Status::Timeout;
      char Buf[64];
      std::snprintf(Buf, sizeof(Buf), "timed out after %g s", S.TimeoutS);
      R.Reasons.push_back(Buf);
    } else if (Out.Signal) {
      R.St = Status::Crash;
      R.Reasons.push_back("killed by " + signalText(Out.Signal));
    } else if (!Nvidia) {
      judge(P, R);
    }
    if (!Scratch.empty() && R.St == Status::Pass)
      fs::remove_all(Scratch, Ec);
    return R;
  }

  // The success rule: exit code, required and forbidden patterns, expected output.
  void judge(const Program &P, RunResult &R) {
    if (R.ExitCode != P.ExpectedExitCode)
      R.Reasons.push_back("exit code " + std::to_string(R.ExitCode) + ", expected " +
                          std::to_string(P.ExpectedExitCode));
    std::string Both;
    for (const OutputPattern &Pat : P.Required) {
      Expected<Regex> Re = Regex::compile(Pat.Regex);
      if (Re && !Re->search(pick(R, Pat.Where, Both)))
        R.Reasons.push_back(std::string("required ") + streamName(Pat.Where) + " /" + Pat.Regex + "/ not found");
    }
    for (const OutputPattern &Pat : P.Forbidden) {
      Expected<Regex> Re = Regex::compile(Pat.Regex);
      if (Re && Re->search(pick(R, Pat.Where, Both)))
        R.Reasons.push_back(std::string("forbidden ") + streamName(Pat.Where) + " /" + Pat.Regex + "/ found");
    }
    if (P.ExpectedOutputFile) {
      std::ifstream In(*P.ExpectedOutputFile, std::ios::binary);
      if (!In) {
        R.Reasons.push_back("cannot read expected output " + *P.ExpectedOutputFile);
      } else {
        std::stringstream Want;
        Want << In.rdbuf();
        if (auto Diff =
                compareOutputs(pick(R, P.ExpectedOutputStream, Both), Want.str(), P.Tol, P.ExpectedOutputSorted))
          R.Reasons.push_back(std::string(streamName(P.ExpectedOutputStream)) + " differs from " +
                              fs::path(*P.ExpectedOutputFile).filename().string() + ": " + *Diff);
      }
    }
    R.St = R.Reasons.empty() ? Status::Pass : Status::Fail;
  }

  // Compares our run with the run on NVIDIA's driver, as the program's differential rule asks.
  DifferentialResult differential(const Program &P, const std::string &Safe, const RunResult &Ours) {
    DifferentialResult D;
    if (P.Differential.What == DifferentialRule::Compare::None) {
      D.Verdict = "not compared";
      D.Detail = "the manifest turns the comparison off";
      return D;
    }
    D.Nvidia = execute(P, Safe, 0, /*Nvidia=*/true);
    std::vector<std::string> Diffs;
    if (D.Nvidia.St == Status::Timeout || D.Nvidia.St == Status::Skipped || !D.Nvidia.Reasons.empty())
      Diffs.push_back("NVIDIA run: " +
                      (D.Nvidia.Reasons.empty() ? std::string(statusName(D.Nvidia.St)) : D.Nvidia.Reasons.front()));
    if (Ours.ExitCode != D.Nvidia.ExitCode || Ours.Signal != D.Nvidia.Signal)
      Diffs.push_back("exit code " + std::to_string(Ours.ExitCode) + " (signal " + std::to_string(Ours.Signal) +
                      ") vs NVIDIA's " + std::to_string(D.Nvidia.ExitCode) + " (signal " +
                      std::to_string(D.Nvidia.Signal) + ")");
    if (P.Differential.What == DifferentialRule::Compare::Output) {
      std::vector<Regex> Ignore;
      for (const std::string &Pat : P.Differential.IgnoreLines)
        if (Expected<Regex> Re = Regex::compile(Pat))
          Ignore.push_back(*Re);
      std::string A = dropLines(Ours.Stdout, Ignore), B = dropLines(D.Nvidia.Stdout, Ignore);
      if (P.Tol) {
        if (auto Diff = compareOutputs(A, B, P.Tol, P.ExpectedOutputSorted))
          Diffs.push_back("stdout differs (ours vs NVIDIA's): " + *Diff);
      } else if (A != B) {
        auto Diff = compareOutputs(A, B, std::nullopt, P.ExpectedOutputSorted);
        Diffs.push_back("stdout differs (ours vs NVIDIA's)" + (Diff ? ": " + *Diff : std::string(": whitespace")));
      }
    }
    D.Verdict = Diffs.empty() ? "match" : "mismatch";
    for (const std::string &S : Diffs)
      D.Detail += (D.Detail.empty() ? "" : "; ") + S;
    return D;
  }

  ProgramResult runProgram(const Program &P, const std::string &Safe) {
    ProgramResult PR;
    PR.Name = P.Name;
    PR.Tags = P.Tags;
    PR.Command = shellQuote(P.Argv);
    if (!P.SkipReason.empty()) {
      PR.St = Status::Skipped;
      PR.Reason = P.SkipReason;
      return PR;
    }
    if (Stop || Interrupted) {
      PR.St = Status::Skipped;
      PR.Reason = Interrupted ? "not run: interrupted" : "not run: an earlier program failed (--fail-fast)";
      return PR;
    }
    auto Start = std::chrono::steady_clock::now();
    for (const BuildStep &Step : P.Builds) {
      BuildState B = build(Step);
      PR.BuildLog = B.LogPath;
      if (!B.Ok) {
        PR.St = Status::BuildError;
        PR.Reason = B.Reason;
        std::string Log = readCapped(B.LogPath);
        PR.OutputTail = lastLines(Log, O.TailLines);
        PR.FirstShimDiagnostic = firstShimDiagnostic(Log);
        return PR;
      }
    }
    for (unsigned I = 0; I < O.Repeat && (I == 0 || !Interrupted); ++I)
      PR.Runs.push_back(execute(P, Safe, I, /*Nvidia=*/false));
    PR.Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();

    // The worst run is reported; a status that changes between runs makes the program flaky.
    size_t Worst = 0;
    for (size_t I = 0; I < PR.Runs.size(); ++I) {
      if (PR.Runs[I].St != PR.Runs[0].St)
        PR.Flaky = true;
      if (severity(PR.Runs[I].St) > severity(PR.Runs[Worst].St))
        Worst = I;
    }
    RunResult &W = PR.Runs[Worst];
    PR.St = W.St;
    for (const std::string &R : W.Reasons)
      PR.Reason += (PR.Reason.empty() ? "" : "; ") + R;

    if (O.Differential && Driver.Found && !Interrupted) {
      PR.Diff = differential(P, Safe, PR.Runs.front());
      if (PR.Diff->Verdict == "mismatch" && PR.St == Status::Pass) {
        PR.St = Status::Fail;
        PR.Reason = "differs from NVIDIA's driver: " + PR.Diff->Detail;
      }
    }
    if (PR.Flaky) {
      std::string Seq;
      for (const RunResult &R : PR.Runs)
        Seq += (Seq.empty() ? "" : ", ") + std::string(statusName(R.St));
      PR.Reason = "flaky (" + Seq + ")" + (PR.Reason.empty() ? "" : ": " + PR.Reason);
    }
    PR.FirstShimDiagnostic = firstShimDiagnostic(W.Stderr);
    if (PR.FirstShimDiagnostic.empty())
      PR.FirstShimDiagnostic = firstShimDiagnostic(W.Stdout);
    PR.OutputTail = lastLines(W.Stdout, O.TailLines);
    for (const std::string &L : lastLines(W.Stderr, O.TailLines))
      PR.OutputTail.push_back(L);
    if (PR.OutputTail.size() > O.TailLines)
      PR.OutputTail.erase(PR.OutputTail.begin(), PR.OutputTail.end() - O.TailLines);
    for (RunResult &R : PR.Runs)
      R.Stdout.clear(), R.Stderr.clear(); // the logs keep them; reports need only the excerpts
    return PR;
  }
};

std::string utcNow() {
  std::time_t T = std::time(nullptr);
  std::tm Tm;
  gmtime_r(&T, &Tm);
  char Buf[32];
  std::strftime(Buf, sizeof(Buf), "%Y-%m-%dT%H:%M:%SZ", &Tm);
  return Buf;
}

} // namespace

DriverProbe findNvidiaDriver(const std::string &OurLibDir, const std::string &ExplicitDir) {
  DriverProbe D;
  std::error_code Ec;
  fs::path Ours = fs::weakly_canonical(OurLibDir, Ec);
  // Ours if it lives in our lib folder or carries our log prefix (an installed cuda_shim registered with ldconfig).
  auto isOurs = [&](const std::string &Path) {
    std::error_code E;
    if (fs::weakly_canonical(fs::path(Path).parent_path(), E) == Ours)
      return true;
    std::ifstream In(Path, std::ios::binary);
    const std::string Marker = "[cuda_shim %l]";
    std::string Buf(1 << 20, '\0'), Carry;
    while (In) {
      In.read(Buf.data(), static_cast<std::streamsize>(Buf.size()));
      std::string Chunk = Carry + Buf.substr(0, static_cast<size_t>(In.gcount()));
      if (Chunk.find(Marker) != std::string::npos)
        return true;
      Carry = Chunk.size() >= Marker.size() ? Chunk.substr(Chunk.size() - Marker.size()) : Chunk;
    }
    return false;
  };

  std::vector<std::string> Candidates;
  if (!ExplicitDir.empty()) {
    D.LibDirPath = ExplicitDir;
    Candidates.push_back(ExplicitDir + "/libcuda.so.1");
  } else {
    // The loader cache lists the libraries a program finds without LD_LIBRARY_PATH.
    for (const char *Ldconfig : {"/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"}) {
      std::string Cmd = std::string(Ldconfig) + " -p 2>/dev/null";
      FILE *P = popen(Cmd.c_str(), "r");
      if (!P)
        continue;
      char Line[4096];
      bool Any = false;
      while (std::fgets(Line, sizeof(Line), P)) {
        Any = true;
        std::string L = Line;
        size_t Arrow = L.find("=> ");
        if (L.find("libcuda.so.1 ") == std::string::npos || Arrow == std::string::npos)
          continue;
        std::string Path = L.substr(Arrow + 3);
        while (!Path.empty() && (Path.back() == '\n' || Path.back() == ' '))
          Path.pop_back();
        Candidates.push_back(Path);
      }
      pclose(P);
      if (Any)
        break;
    }
  }
  for (const std::string &Path : Candidates) {
    if (access(Path.c_str(), R_OK) != 0 || isOurs(Path))
      continue;
    D.Found = true;
    D.LibCuda = Path;
    D.Message = "NVIDIA driver found: " + Path;
    return D;
  }
  D.Message = ExplicitDir.empty()
                  ? "NVIDIA driver not found, differential mode unavailable (no libcuda.so.1 other "
                    "than cuda_shim's in the loader cache, ldconfig -p)"
                  : "NVIDIA driver not found in " + ExplicitDir +
                        ", differential mode unavailable (no libcuda.so.1 there that is not cuda_shim's)";
  return D;
}

Expected<std::vector<const Program *>> selectPrograms(const Corpus &C, const RunOptions &O) {
  std::optional<Regex> Filter;
  if (!O.Filter.empty()) {
    Expected<Regex> R = Regex::compile(O.Filter);
    if (!R)
      return manifestError("--filter: " + R.error().message());
    Filter = *R;
  }
  std::vector<const Program *> Out;
  for (const Program &P : C.Programs) {
    if (Filter && !Filter->search(P.Name))
      continue;
    if (!O.Tags.empty() && std::none_of(O.Tags.begin(), O.Tags.end(), [&](const std::string &T) {
          return std::find(P.Tags.begin(), P.Tags.end(), T) != P.Tags.end();
        }))
      continue;
    Out.push_back(&P);
  }
  return Out;
}

Expected<RunSummary> runCorpus(const Corpus &C, const RunOptions &O, const ProgressSink &Progress) {
  // Bad regexes are manifest errors, reported before anything runs.
  for (const Program &P : C.Programs) {
    for (const auto *List : {&P.Required, &P.Forbidden})
      for (const OutputPattern &Pat : *List)
        if (Expected<Regex> R = Regex::compile(Pat.Regex); !R)
          return manifestError("program " + P.Name + ": " + R.error().message());
    for (const std::string &Pat : P.Differential.IgnoreLines)
      if (Expected<Regex> R = Regex::compile(Pat); !R)
        return manifestError("program " + P.Name + ": " + R.error().message());
  }
  Expected<std::vector<const Program *>> Selected = selectPrograms(C, O);
  if (!Selected)
    return Selected.takeError();

  Runner R(C, O, Progress);
  R.BaseEnv = processEnvironment();
  for (const auto &[K, V] : O.ExtraEnv)
    R.BaseEnv[K] = V;
  RunSummary Sum;
  Sum.CorpusName = C.Name;
  Sum.ManifestPath = C.ManifestPath;
  Sum.StartedUtc = utcNow();
  Sum.Jobs = O.Jobs;
  Sum.Repeat = O.Repeat;
  Sum.DifferentialRequested = O.Differential;
  if (O.Differential)
    R.Driver = Sum.Driver = findNvidiaDriver(O.LibDir, O.NvidiaLibDir);

  struct sigaction Sa = {}, OldInt, OldTerm;
  Sa.sa_handler = onInterrupt;
  sigaction(SIGINT, &Sa, &OldInt);
  sigaction(SIGTERM, &Sa, &OldTerm);
  Interrupted = false;

  std::vector<std::string> Safe;
  std::set<std::string> Used;
  for (const Program *P : *Selected)
    Safe.push_back(safeName(P->Name, Used));
  Sum.Programs.resize(Selected->size());
  std::atomic<size_t> Next{0};
  size_t Done = 0;
  auto Start = std::chrono::steady_clock::now();
  auto worker = [&] {
    for (size_t I; (I = Next++) < Selected->size();) {
      const Program &P = *(*Selected)[I];
      if (Progress.Started && P.SkipReason.empty()) {
        std::lock_guard<std::mutex> L(R.Mu);
        Progress.Started(P.Name);
      }
      ProgramResult PR = R.runProgram(P, Safe[I]);
      if (!O.KeepGoing && PR.St != Status::Pass && PR.St != Status::Skipped)
        R.Stop = true;
      std::lock_guard<std::mutex> L(R.Mu);
      Sum.Programs[I] = std::move(PR);
      ++Done;
      if (Progress.Finished)
        Progress.Finished(Sum.Programs[I], Done, Selected->size());
    }
  };
  std::vector<std::thread> Workers;
  unsigned N = std::max(1u, std::min<unsigned>(O.Jobs, static_cast<unsigned>(Selected->size())));
  for (unsigned I = 0; I < N; ++I)
    Workers.emplace_back(worker);
  for (std::thread &T : Workers)
    T.join();
  Sum.Seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - Start).count();
  Sum.Interrupted = Interrupted;
  sigaction(SIGINT, &OldInt, nullptr);
  sigaction(SIGTERM, &OldTerm, nullptr);
  return Sum;
}

} // namespace cushim::conform
