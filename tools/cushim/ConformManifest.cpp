// cushim conform: reads a corpus manifest (JSON, nlohmann/json) into Corpus/Program structs, merging the manifest's
// defaults into each program, expanding ${NAME} references and resolving paths against the manifest's folder.
#include "tools/cushim/ConformManifest.h"

#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cushim::conform {

using Json = nlohmann::json;

Error manifestError(std::string Message) { return Error(CUDA_ERROR_INVALID_VALUE, std::move(Message)); }

const char *streamName(OutputPattern::Stream S) {
  switch (S) {
  case OutputPattern::Stream::Stdout:
    return "stdout";
  case OutputPattern::Stream::Stderr:
    return "stderr";
  case OutputPattern::Stream::Both:
    return "output";
  }
  return "output";
}

std::string BuildStep::key() const {
  std::string K = WorkDir;
  for (const std::string &A : Argv)
    K += '\x1f' + A;
  for (const auto &[Name, Value] : Env)
    K += '\x1e' + Name + '=' + Value;
  return K;
}

Expected<std::string> expandVariables(const std::string &Text, const std::map<std::string, std::string> &Vars) {
  std::string Out;
  for (size_t I = 0; I < Text.size(); ++I) {
    if (Text[I] != '$' || I + 1 >= Text.size()) {
      Out += Text[I];
      continue;
    }
    if (Text[I + 1] == '$') {
      Out += '$';
      ++I;
      continue;
    }
    if (Text[I + 1] != '{') {
      Out += Text[I];
      continue;
    }
    size_t End = Text.find('}', I + 2);
    if (End == std::string::npos)
      return manifestError("unterminated ${ in \"" + Text + "\"");
    std::string Name = Text.substr(I + 2, End - I - 2);
    if (auto It = Vars.find(Name); It != Vars.end()) {
      Out += It->second;
    } else if (const char *Env = std::getenv(Name.c_str())) {
      Out += Env;
    } else {
      return manifestError("undefined variable ${" + Name + "} in \"" + Text +
                           "\" (define it in the manifest's \"variables\" or with --var " + Name + "=VALUE)");
    }
    I = End;
  }
  return Out;
}

namespace {

// Parsing state for one manifest: the variables and the folder relative paths start from.
struct Reader {
  std::map<std::string, std::string> Vars;
  std::string Dir;

  Expected<std::string> str(const Json &J, const std::string &What) {
    if (!J.is_string())
      return manifestError(What + ": expected a string, got " + J.dump());
    return expandVariables(J.get<std::string>(), Vars);
  }

  // Relative paths are relative to the manifest's folder.
  std::string path(const std::string &P) {
    if (P.empty())
      return P;
    std::filesystem::path Full = P[0] == '/' ? std::filesystem::path(P) : std::filesystem::path(Dir) / P;
    std::string Out = Full.lexically_normal().string();
    if (Out.size() > 1 && Out.back() == '/')
      Out.pop_back();
    return Out;
  }

  Expected<std::vector<std::string>> strList(const Json &J, const std::string &What, bool Expand = true) {
    if (!J.is_array())
      return manifestError(What + ": expected a list of strings, got " + J.dump());
    std::vector<std::string> Out;
    for (const Json &E : J) {
      if (!E.is_string())
        return manifestError(What + ": expected strings, got " + E.dump());
      if (!Expand) {
        Out.push_back(E.get<std::string>());
        continue;
      }
      Expected<std::string> S = expandVariables(E.get<std::string>(), Vars);
      if (!S)
        return S.takeError();
      Out.push_back(*S);
    }
    return Out;
  }

  // argv[0] with a slash is a path (relative to the manifest's folder); a bare name is looked up in PATH later.
  Expected<std::vector<std::string>> command(const Json &J, const std::string &What) {
    Expected<std::vector<std::string>> Argv = strList(J, What);
    if (!Argv)
      return Argv;
    if (Argv->empty() || (*Argv)[0].empty())
      return manifestError(What + ": the command must not be empty");
    if ((*Argv)[0].find('/') != std::string::npos)
      (*Argv)[0] = path((*Argv)[0]);
    return Argv;
  }

  Expected<std::map<std::string, std::string>> env(const Json &J, const std::string &What) {
    if (!J.is_object())
      return manifestError(What + ": expected an object of NAME: value strings");
    std::map<std::string, std::string> Out;
    for (const auto &[K, V] : J.items()) {
      Expected<std::string> S = str(V, What + "." + K);
      if (!S)
        return S.takeError();
      Out[K] = *S;
    }
    return Out;
  }

  Expected<double> seconds(const Json &J, const std::string &What) {
    if (!J.is_number() || J.get<double>() <= 0)
      return manifestError(What + ": expected a positive number of seconds, got " + J.dump());
    return J.get<double>();
  }

  Expected<OutputPattern::Stream> stream(const Json &J, const std::string &What) {
    Expected<std::string> S = str(J, What);
    if (!S)
      return S.takeError();
    if (*S == "stdout")
      return OutputPattern::Stream::Stdout;
    if (*S == "stderr")
      return OutputPattern::Stream::Stderr;
    if (*S == "output" || *S == "both")
      return OutputPattern::Stream::Both;
    return manifestError(What + ": expected \"stdout\", \"stderr\" or \"output\", got \"" + *S + "\"");
  }

  // A pattern is a string (matched against stdout and stderr) or {"regex": ..., "stream": ...}.
  Expected<std::vector<OutputPattern>> patterns(const Json &J, const std::string &What) {
    if (!J.is_array())
      return manifestError(What + ": expected a list of regexes");
    std::vector<OutputPattern> Out;
    for (const Json &E : J) {
      OutputPattern P;
      if (E.is_string()) {
        P.Regex = E.get<std::string>();
      } else if (E.is_object() && E.contains("regex") && E["regex"].is_string()) {
        P.Regex = E["regex"].get<std::string>();
        for (const auto &[K, V] : E.items()) {
          if (K == "stream") {
            Expected<OutputPattern::Stream> S = stream(V, What + ".stream");
            if (!S)
              return S.takeError();
            P.Where = *S;
          } else if (K != "regex") {
            return manifestError(What + ": unknown key \"" + K + "\" in a pattern");
          }
        }
      } else {
        return manifestError(What + ": a pattern is a string or {\"regex\": ..., \"stream\": ...}, got " + E.dump());
      }
      Out.push_back(std::move(P));
    }
    return Out;
  }

  Expected<Tolerance> tolerance(const Json &J, const std::string &What) {
    if (!J.is_object())
      return manifestError(What + ": expected {\"abs\": number, \"rel\": number}");
    Tolerance T;
    for (const auto &[K, V] : J.items()) {
      if (!V.is_number() || V.get<double>() < 0)
        return manifestError(What + "." + K + ": expected a non-negative number");
      if (K == "abs")
        T.Abs = V.get<double>();
      else if (K == "rel")
        T.Rel = V.get<double>();
      else
        return manifestError(What + ": unknown key \"" + K + "\"");
    }
    return T;
  }

  Error build(const Json &J, const std::string &What, Program &P) {
    BuildStep B;
    B.WorkDir = Dir;
    const Json *Cmd = &J;
    if (J.is_object()) {
      if (!J.contains("command"))
        return manifestError(What + ": a build needs a \"command\"");
      Cmd = &J["command"];
      for (const auto &[K, V] : J.items()) {
        if (K == "command")
          continue;
        if (K == "workdir") {
          Expected<std::string> S = str(V, What + ".workdir");
          if (!S)
            return S.takeError();
          B.WorkDir = path(*S);
        } else if (K == "env") {
          auto E = env(V, What + ".env");
          if (!E)
            return E.takeError();
          B.Env = *E;
        } else if (K == "timeout") {
          Expected<double> S = seconds(V, What + ".timeout");
          if (!S)
            return S.takeError();
          B.TimeoutS = *S;
        } else {
          return manifestError(What + ": unknown key \"" + K + "\"");
        }
      }
    }
    auto Argv = command(*Cmd, What + ".command");
    if (!Argv)
      return Argv.takeError();
    B.Argv = *Argv;
    P.Builds.push_back(std::move(B));
    return Error::success();
  }

  // "build" is one step (a command list or an object) or a list of steps.
  Error builds(const Json &J, const std::string &What, Program &P) {
    if (J.is_array() && !J.empty() && (J[0].is_array() || J[0].is_object())) {
      for (size_t I = 0; I < J.size(); ++I)
        CUSHIM_TRY(build(J[I], What + "[" + std::to_string(I) + "]", P));
      return Error::success();
    }
    return build(J, What, P);
  }

  Error expect(const Json &J, const std::string &What, Program &P) {
    if (!J.is_object())
      return manifestError(What + ": expected an object");
    for (const auto &[K, V] : J.items()) {
      std::string Here = What + "." + K;
      if (K == "exit_code") {
        if (!V.is_number_integer())
          return manifestError(Here + ": expected an integer");
        P.ExpectedExitCode = V.get<int>();
      } else if (K == "required" || K == "forbidden") {
        auto Ps = patterns(V, Here);
        if (!Ps)
          return Ps.takeError();
        (K == "required" ? P.Required : P.Forbidden) = *Ps;
      } else if (K == "output") {
        // A bare string is the file name.
        const Json Output = V.is_string() ? Json{{"file", V}} : V;
        if (!Output.is_object())
          return manifestError(Here + ": expected a file name or {\"file\": ..., \"sorted\": ..., \"stream\": ...}");
        for (const auto &[OK, OV] : Output.items()) {
          if (OK == "file") {
            Expected<std::string> S = str(OV, Here + ".file");
            if (!S)
              return S.takeError();
            P.ExpectedOutputFile = path(*S);
          } else if (OK == "sorted") {
            if (!OV.is_boolean())
              return manifestError(Here + ".sorted: expected true or false");
            P.ExpectedOutputSorted = OV.get<bool>();
          } else if (OK == "stream") {
            auto S = stream(OV, Here + ".stream");
            if (!S)
              return S.takeError();
            P.ExpectedOutputStream = *S;
          } else if (OK == "tolerance") {
            auto T = tolerance(OV, Here + ".tolerance");
            if (!T)
              return T.takeError();
            P.Tol = *T;
          } else {
            return manifestError(Here + ": unknown key \"" + OK + "\"");
          }
        }
        if (!P.ExpectedOutputFile)
          return manifestError(Here + ": \"file\" is required");
      } else if (K == "tolerance") {
        auto T = tolerance(V, Here);
        if (!T)
          return T.takeError();
        P.Tol = *T;
      } else {
        return manifestError(What + ": unknown key \"" + K + "\"");
      }
    }
    return Error::success();
  }

  Error differential(const Json &J, const std::string &What, DifferentialRule &D) {
    auto compare = [&](const Json &V) -> Error {
      Expected<std::string> S = str(V, What);
      if (!S)
        return S.takeError();
      if (*S == "output")
        D.What = DifferentialRule::Compare::Output;
      else if (*S == "exit_code")
        D.What = DifferentialRule::Compare::ExitCode;
      else if (*S == "none")
        D.What = DifferentialRule::Compare::None;
      else
        return manifestError(What + ": expected \"output\", \"exit_code\" or \"none\", got \"" + *S + "\"");
      return Error::success();
    };
    if (J.is_string())
      return compare(J);
    if (!J.is_object())
      return manifestError(What + ": expected a string or {\"compare\": ..., \"ignore_lines\": [...]}");
    for (const auto &[K, V] : J.items()) {
      if (K == "compare") {
        CUSHIM_TRY(compare(V));
      } else if (K == "ignore_lines") {
        auto L = strList(V, What + ".ignore_lines", /*Expand=*/false);
        if (!L)
          return L.takeError();
        D.IgnoreLines = *L;
      } else {
        return manifestError(What + ": unknown key \"" + K + "\"");
      }
    }
    return Error::success();
  }

  Expected<Program> program(const Json &J, const std::string &What) {
    Program P;
    P.Name = J["name"].get<std::string>();
    if (!J.contains("command"))
      return manifestError(What + ": \"command\" is required");
    for (const auto &[K, V] : J.items()) {
      std::string Here = What + "." + K;
      Error E;
      if (K == "name") {
        continue;
      } else if (K == "command") {
        auto Argv = command(V, Here);
        if (!Argv)
          return Argv.takeError();
        P.Argv = *Argv;
      } else if (K == "workdir") {
        Expected<std::string> S = str(V, Here);
        if (!S)
          return S.takeError();
        P.WorkDir = path(*S);
      } else if (K == "copy") {
        auto L = strList(V, Here);
        if (!L)
          return L.takeError();
        for (const std::string &F : *L)
          P.CopyFiles.push_back(path(F));
      } else if (K == "env") {
        auto Env = env(V, Here);
        if (!Env)
          return Env.takeError();
        P.Env = *Env;
      } else if (K == "timeout") {
        Expected<double> S = seconds(V, Here);
        if (!S)
          return S.takeError();
        P.TimeoutS = *S;
      } else if (K == "tags") {
        auto L = strList(V, Here, /*Expand=*/false);
        if (!L)
          return L.takeError();
        P.Tags = *L;
      } else if (K == "build") {
        E = builds(V, Here, P);
      } else if (K == "skip") {
        Expected<std::string> S = str(V, Here);
        if (!S)
          return S.takeError();
        P.SkipReason = S->empty() ? "skipped by the manifest" : *S;
      } else if (K == "expect") {
        E = expect(V, Here, P);
      } else if (K == "differential") {
        E = differential(V, Here, P.Differential);
      } else {
        return manifestError(What + ": unknown key \"" + K + "\"");
      }
      if (E)
        return E;
    }
    if (P.WorkDir && !P.CopyFiles.empty())
      return manifestError(What + ": \"copy\" only applies to scratch folders (no \"workdir\")");
    return P;
  }
};

// Program entries start from the manifest's "defaults"; "env" and "expect" merge key by key, other keys replace.
Json mergeDefaults(const Json &Defaults, const Json &Entry) {
  Json Merged = Defaults;
  for (const auto &[K, V] : Entry.items()) {
    if ((K == "env" || K == "expect") && V.is_object() && Merged.contains(K) && Merged[K].is_object())
      Merged[K].update(V);
    else
      Merged[K] = V;
  }
  return Merged;
}

std::string dirName(const std::string &Path) {
  size_t Slash = Path.rfind('/');
  if (Slash == std::string::npos)
    return ".";
  return Slash == 0 ? "/" : Path.substr(0, Slash);
}

std::string absolute(const std::string &Path) {
  if (!Path.empty() && Path[0] == '/')
    return Path;
  char *Cwd = getcwd(nullptr, 0);
  std::string Out = Cwd ? std::string(Cwd) + "/" + Path : Path;
  std::free(Cwd);
  return Out;
}

} // namespace

Expected<Corpus> parseCorpus(const std::string &Text, const std::string &ManifestPath, const ManifestContext &Ctx) {
  Json Root;
  try {
    Root = Json::parse(Text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const Json::exception &E) {
    return manifestError(ManifestPath + ": invalid JSON: " + E.what());
  }
  if (!Root.is_object())
    return manifestError(ManifestPath + ": the manifest must be a JSON object");

  Corpus C;
  C.ManifestPath = absolute(ManifestPath);
  C.Dir = dirName(C.ManifestPath);
  Reader R;
  R.Dir = C.Dir;
  R.Vars = {{"CORPUS_DIR", C.Dir},
            {"OUT_DIR", Ctx.OutDir},
            {"BUILD_DIR", Ctx.OutDir.empty() ? std::string() : Ctx.OutDir + "/build"},
            {"CUSHIM_LIB_DIR", Ctx.LibDir}};
  for (const auto &[K, V] : Ctx.Vars)
    R.Vars[K] = V;

  Json Defaults = Json::object();
  const Json *Programs = nullptr;
  for (const auto &[K, V] : Root.items()) {
    if (K == "name") {
      if (!V.is_string())
        return manifestError(ManifestPath + ": \"name\" must be a string");
      C.Name = V.get<std::string>();
    } else if (K == "variables") {
      if (!V.is_object())
        return manifestError(ManifestPath + ": \"variables\" must be an object");
      // In file order; a --var of the same name wins, and later variables may use earlier ones.
      for (const auto &[VK, VV] : V.items()) {
        if (Ctx.Vars.count(VK))
          continue;
        Expected<std::string> S = R.str(VV, "variables." + VK);
        if (!S)
          return manifestError(ManifestPath + ": " + S.error().message());
        R.Vars[VK] = *S;
      }
    } else if (K == "defaults") {
      if (!V.is_object())
        return manifestError(ManifestPath + ": \"defaults\" must be an object");
      Defaults = V;
    } else if (K == "programs") {
      Programs = &V;
    } else if (K != "description" && K != "version") {
      return manifestError(ManifestPath + ": unknown top-level key \"" + K + "\"");
    }
  }
  if (!Programs || !Programs->is_array())
    return manifestError(ManifestPath + ": \"programs\" (a list) is required");
  if (C.Name.empty())
    C.Name = C.Dir.substr(C.Dir.rfind('/') + 1);

  std::set<std::string> Seen;
  for (size_t I = 0; I < Programs->size(); ++I) {
    const Json &Entry = (*Programs)[I];
    std::string What = "programs[" + std::to_string(I) + "]";
    if (!Entry.is_object() || !Entry.contains("name") || !Entry["name"].is_string() ||
        Entry["name"].get<std::string>().empty())
      return manifestError(ManifestPath + ": " + What + ": each program needs a non-empty \"name\"");
    What += " (" + Entry["name"].get<std::string>() + ")";
    Expected<Program> P = R.program(mergeDefaults(Defaults, Entry), What);
    if (!P)
      return manifestError(ManifestPath + ": " + P.error().message());
    if (!Seen.insert(P->Name).second)
      return manifestError(ManifestPath + ": two programs are named \"" + P->Name + "\"");
    C.Programs.push_back(std::move(*P));
  }
  return C;
}

Expected<Corpus> loadCorpus(const std::string &PathOrDir, const ManifestContext &Ctx) {
  std::string Path = PathOrDir;
  struct stat St;
  if (stat(Path.c_str(), &St) != 0)
    return manifestError("cannot read corpus '" + Path + "': no such file or folder");
  if (S_ISDIR(St.st_mode)) {
    std::string Found;
    for (const char *Name : {"corpus.json", "manifest.json"}) {
      std::string Candidate = Path + "/" + Name;
      if (stat(Candidate.c_str(), &St) == 0 && S_ISREG(St.st_mode)) {
        Found = Candidate;
        break;
      }
    }
    if (Found.empty())
      return manifestError("folder '" + Path + "' holds no corpus.json or manifest.json");
    Path = Found;
  }
  std::ifstream In(Path);
  if (!In)
    return manifestError("cannot open manifest '" + Path + "'");
  std::stringstream Buffer;
  Buffer << In.rdbuf();
  return parseCorpus(Buffer.str(), Path, Ctx);
}

} // namespace cushim::conform
