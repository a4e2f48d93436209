// Unit tests of cushim conform's library: manifest parsing, variable expansion, output comparison with tolerance,
// diagnostics extraction, XML escaping and the comparison of two JSON reports.
#include "tools/cushim/ConformCompare.h"
#include "tools/cushim/ConformManifest.h"
#include "tools/cushim/ConformReport.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace cushim::conform;

namespace {

ManifestContext context() {
  ManifestContext Ctx;
  Ctx.OutDir = "/out";
  Ctx.LibDir = "/shim/lib";
  return Ctx;
}

std::string parseError(const std::string &Text) {
  auto C = parseCorpus(Text, "/corpus/m.json", context());
  REQUIRE_FALSE(C);
  return C.error().message();
}

bool contains(const std::string &S, const std::string &Part) { return S.find(Part) != std::string::npos; }

} // namespace

TEST_CASE("variables expand from the map, then the environment; unknown names are errors", "[conform]") {
  std::map<std::string, std::string> Vars = {{"A", "x"}, {"BIN", "/b"}};
  CHECK(*expandVariables("${BIN}/prog ${A}${A}", Vars) == "/b/prog xx");
  CHECK(*expandVariables("cost $$5 and $HOME stays", Vars) == "cost $5 and $HOME stays");
  setenv("CONFORM_TEST_ENV_VAR", "from-env", 1);
  CHECK(*expandVariables("${CONFORM_TEST_ENV_VAR}", Vars) == "from-env");
  auto Missing = expandVariables("${NOPE_NOT_DEFINED_ANYWHERE}", Vars);
  REQUIRE_FALSE(Missing);
  CHECK(contains(Missing.error().message(), "--var NOPE_NOT_DEFINED_ANYWHERE=VALUE"));
  CHECK_FALSE(expandVariables("${A", Vars));
}

TEST_CASE("a manifest merges defaults into programs and resolves paths against its folder", "[conform]") {
  const char *Text = R"({
    "name": "demo",
    "variables": {"BIN": "${CORPUS_DIR}/bin", "PROG": "${BIN}/p"},
    "defaults": {"timeout": 7, "env": {"A": "1", "B": "2"}, "tags": ["t"],
                 "expect": {"forbidden": ["^\\[cuda_shim error\\]"]}},
    "programs": [
      {"name": "one", "command": ["${PROG}", "--n", "${OUT_DIR}"], "env": {"B": "3"},
       "expect": {"exit_code": 4, "required": ["ok", {"regex": "warn", "stream": "stderr"}],
                  "output": {"file": "one.expected", "sorted": true, "tolerance": {"abs": 0.5}}},
       "build": ["nvcc", "-o", "${BUILD_DIR}/one", "one.cu"], "differential": "exit_code"},
      {"name": "two", "command": ["./rel/two"], "workdir": ".", "timeout": 3, "skip": "why",
       "differential": {"compare": "output", "ignore_lines": ["^Device"]}},
      {"name": "three", "command": ["sh"], "copy": ["data/in.txt"], "expect": {"forbidden": []},
       "build": [["a", "1"], {"command": ["b"], "workdir": "sub", "timeout": 9}]}
    ]})";
  auto C = parseCorpus(Text, "/corpus/m.json", context());
  REQUIRE(C);
  CHECK(C->Name == "demo");
  CHECK(C->Dir == "/corpus");
  REQUIRE(C->Programs.size() == 3);

  const Program &One = C->Programs[0];
  CHECK(One.Argv == std::vector<std::string>{"/corpus/bin/p", "--n", "/out"});
  CHECK(One.Env == std::map<std::string, std::string>{{"A", "1"}, {"B", "3"}});
  CHECK(One.TimeoutS == 7);
  CHECK(One.Tags == std::vector<std::string>{"t"});
  CHECK_FALSE(One.WorkDir);
  CHECK(One.ExpectedExitCode == 4);
  REQUIRE(One.Required.size() == 2);
  CHECK(One.Required[0].Where == OutputPattern::Stream::Both);
  CHECK(One.Required[1].Where == OutputPattern::Stream::Stderr);
  REQUIRE(One.Forbidden.size() == 1); // from the defaults: "expect" merges key by key
  CHECK(*One.ExpectedOutputFile == "/corpus/one.expected");
  CHECK(One.ExpectedOutputSorted);
  CHECK(One.Tol->Abs == 0.5);
  REQUIRE(One.Builds.size() == 1);
  CHECK(One.Builds[0].Argv == std::vector<std::string>{"nvcc", "-o", "/out/build/one", "one.cu"});
  CHECK(One.Builds[0].WorkDir == "/corpus");
  CHECK(One.Differential.What == DifferentialRule::Compare::ExitCode);

  const Program &Two = C->Programs[1];
  CHECK(Two.Argv[0] == "/corpus/rel/two");
  CHECK(*Two.WorkDir == "/corpus");
  CHECK(Two.TimeoutS == 3);
  CHECK(Two.SkipReason == "why");
  CHECK(Two.Differential.IgnoreLines == std::vector<std::string>{"^Device"});

  const Program &Three = C->Programs[2];
  CHECK(Three.Argv[0] == "sh"); // a bare name is looked up in PATH when run
  CHECK(Three.CopyFiles == std::vector<std::string>{"/corpus/data/in.txt"});
  CHECK(Three.Forbidden.empty()); // a program's list replaces the default's
  REQUIRE(Three.Builds.size() == 2);
  CHECK(Three.Builds[0].Argv == std::vector<std::string>{"a", "1"});
  CHECK(Three.Builds[1].WorkDir == "/corpus/sub");
  CHECK(Three.Builds[1].TimeoutS == 9);
}

TEST_CASE("command-line variables override the manifest's", "[conform]") {
  ManifestContext Ctx = context();
  Ctx.Vars["BIN"] = "/elsewhere";
  auto C = parseCorpus(R"({"variables": {"BIN": "/default"}, "programs": [{"name": "a", "command": ["${BIN}/a"]}]})",
                       "/c/m.json", Ctx);
  REQUIRE(C);
  CHECK(C->Programs[0].Argv[0] == "/elsewhere/a");
  CHECK(C->Name == "c");
}

TEST_CASE("manifest mistakes are reported with their place", "[conform]") {
  CHECK(contains(parseError("{"), "invalid JSON"));
  CHECK(contains(parseError(R"({"programs": [{"name": "a", "command": ["x"], "timeuot": 3}]})"),
                 "programs[0] (a): unknown key \"timeuot\""));
  CHECK(contains(parseError(R"({"programs": [{"name": "a"}]})"), "\"command\" is required"));
  CHECK(contains(parseError(R"({"programs": [{"command": ["x"]}]})"), "non-empty \"name\""));
  CHECK(contains(parseError(R"({"programs": [{"name": "a", "command": ["x"]}, {"name": "a", "command": ["y"]}]})"),
                 "two programs are named \"a\""));
  CHECK(contains(parseError(R"({"programs": [{"name": "a", "command": []}]})"), "must not be empty"));
  CHECK(contains(parseError(R"({"programs": [{"name": "a", "command": ["x"], "timeout": -1}]})"), "positive"));
  CHECK(contains(parseError(R"({"programs": [{"name": "a", "command": ["${UNDEFINED_CONFORM_X}"]}]})"),
                 "undefined variable ${UNDEFINED_CONFORM_X}"));
  CHECK(
      contains(parseError(R"({"programs": [{"name": "a", "command": ["x"], "expect": {"output": {"sorted": true}}}]})"),
               "\"file\" is required"));
  CHECK(contains(parseError(R"({"programs": [{"name": "a", "command": ["x"], "differential": "maybe"}]})"),
                 "\"output\", \"exit_code\" or \"none\""));
  CHECK(contains(parseError(R"({"programz": []})"), "unknown top-level key"));
}

TEST_CASE("regexes are POSIX extended and multi-line", "[conform]") {
  auto R = Regex::compile("^result: [0-9]+$");
  REQUIRE(R);
  CHECK(R->search("hello\nresult: 42\nbye\n"));
  CHECK_FALSE(R->search("hello result: 42\n"));
  CHECK_FALSE(R->search("result: 42x\n"));
  auto Nul = Regex::compile("after");
  CHECK(Nul->search(std::string("before\0after", 12)));
  auto Bad = Regex::compile("a(b");
  REQUIRE_FALSE(Bad);
  CHECK(contains(Bad.error().message(), "invalid regex /a(b/"));
}

TEST_CASE("outputs compare token by token with a numeric tolerance", "[conform]") {
  Tolerance T{1e-6, 1e-6};
  CHECK(compareOutputs("x = 1.0000001, y=2.5e3\n", "x = 1, y=2500\n", T, false) == std::nullopt);
  // Numbers are split out of words, so punctuation glued to a number compares as its own token.
  CHECK(compareOutputs("x = 1.0000001, y=2.5e3\n", "x = 1 , y= 2500\n", T, false) == std::nullopt);
  CHECK(compareOutputs("a   b\n\n c 3\n", "a b c 3", std::nullopt, false) == std::nullopt);
  auto Far = compareOutputs("sum 0.33\n", "sum 0.3\n", T, false);
  REQUIRE(Far);
  CHECK(contains(*Far, "line 1: got '0.33', expected '0.3'"));
  // Without a tolerance numbers must be written the same way.
  auto Exact = compareOutputs("n 2.5e3\n", "n 2500\n", std::nullopt, false);
  REQUIRE(Exact);
  CHECK(contains(*Exact, "same value written differently"));
  // Relative tolerance scales with the magnitude; absolute does not.
  CHECK(compareOutputs("1000001\n", "1000000\n", Tolerance{0, 1e-5}, false) == std::nullopt);
  CHECK(compareOutputs("1.1\n", "1.0\n", Tolerance{0, 1e-5}, false));
  // Digits inside names are text: sm_80 never equals sm_86, whatever the tolerance.
  CHECK(compareOutputs("arch sm_80\n", "arch sm_86\n", Tolerance{100, 1}, false));
  auto Short = compareOutputs("a b\n", "a b c\n", std::nullopt, false);
  REQUIRE(Short);
  CHECK(contains(*Short, "first missing: 'c'"));
  CHECK(compareOutputs("t 2\nt 0\nt 1\n", "t 0\nt 1\nt 2\n", std::nullopt, true) == std::nullopt);
  CHECK(compareOutputs("t 2\nt 0\nt 1\n", "t 0\nt 1\nt 2\n", std::nullopt, false));
}

TEST_CASE("the first cuda_shim error is found, a warning only when there is no error", "[conform]") {
  std::string Log = "app line\n[cuda_shim warning] config problem\n[cuda_shim error] ptx: unsupported "
                    "instruction 'foo'\n[cuda_shim error] later\n";
  CHECK(firstShimDiagnostic(Log) == "[cuda_shim error] ptx: unsupported instruction 'foo'");
  CHECK(firstShimDiagnostic("x\n[cuda_shim warning] w1\n[cuda_shim warning] w2\n") == "[cuda_shim warning] w1");
  CHECK(firstShimDiagnostic("no diagnostics [cuda_shim error] not at line start\n").empty());
  CHECK(lastLines("1\n2\n3\n4\n", 2) == std::vector<std::string>{"3", "4"});
}

TEST_CASE("XML escaping handles markup and control characters", "[conform]") {
  CHECK(xmlEscape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
  CHECK(xmlEscape(std::string("bell\x07 tab\t") + "\x1b[0m") == "bell? tab\t?[0m");
  CHECK(xmlEscape("caf\xc3\xa9 \xff\xfe ok") == "caf\xc3\xa9 ?? ok"); // UTF-8 kept, invalid bytes replaced
}

TEST_CASE("two reports compare into newly passing and newly failing programs", "[conform]") {
  char Dir[] = "/tmp/conform-unit-XXXXXX";
  REQUIRE(mkdtemp(Dir));
  std::string Before = std::string(Dir) + "/before.json", After = std::string(Dir) + "/after.json";
  std::ofstream(Before) << R"({"programs": [{"name": "a", "status": "fail"}, {"name": "b", "status": "pass"},
    {"name": "c", "status": "fail"}, {"name": "gone", "status": "pass"}, {"name": "same", "status": "pass"}]})";
  std::ofstream(After) << R"({"programs": [{"name": "a", "status": "pass"}, {"name": "b", "status": "crash"},
    {"name": "c", "status": "timeout"}, {"name": "new", "status": "pass"}, {"name": "same", "status": "pass"}]})";
  auto C = compareReports(Before, After);
  REQUIRE(C);
  CHECK(C->NewlyPassing == std::vector<std::string>{"a (was fail)"});
  CHECK(C->NewlyFailing == std::vector<std::string>{"b (now crash)"});
  CHECK(C->OtherChanges == std::vector<std::string>{"c (fail -> timeout)"});
  CHECK(C->Added == std::vector<std::string>{"new (pass)"});
  CHECK(C->Removed == std::vector<std::string>{"gone (was pass)"});
  CHECK(C->BeforePass == 3);
  CHECK(C->AfterPass == 3);
  std::ofstream(After) << "not json";
  CHECK_FALSE(compareReports(Before, After));
  std::remove(Before.c_str());
  std::remove(After.c_str());
  rmdir(Dir);
}

TEST_CASE("status names round-trip and order by severity", "[conform]") {
  for (Status S : {Status::Pass, Status::Fail, Status::Crash, Status::Timeout, Status::BuildError, Status::Skipped})
    CHECK(parseStatus(statusName(S)) == S);
  CHECK_FALSE(parseStatus("passed"));
  CHECK(severity(Status::Crash) > severity(Status::Fail));
  CHECK(severity(Status::Fail) > severity(Status::Pass));
}

TEST_CASE("the NVIDIA driver probe ignores our own library", "[conform]") {
  char Dir[] = "/tmp/conform-probe-XXXXXX";
  REQUIRE(mkdtemp(Dir));
  std::string D = Dir;
  DriverProbe Empty = findNvidiaDriver("/nonexistent-shim-lib", D);
  CHECK_FALSE(Empty.Found);
  CHECK(contains(Empty.Message, "NVIDIA driver not found in " + D + ", differential mode unavailable"));
  // A library carrying cuda_shim's log pattern is ours even outside our lib folder.
  std::ofstream(D + "/libcuda.so.1") << "ELF... [cuda_shim %l] %v ...";
  CHECK_FALSE(findNvidiaDriver("/nonexistent-shim-lib", D).Found);
  // Our lib folder itself never counts.
  std::ofstream(D + "/libcuda.so.1") << "some other vendor's driver";
  CHECK_FALSE(findNvidiaDriver(D, D).Found);
  DriverProbe Other = findNvidiaDriver("/nonexistent-shim-lib", D);
  CHECK(Other.Found);
  CHECK(Other.LibCuda == D + "/libcuda.so.1");
  std::remove((D + "/libcuda.so.1").c_str());
  rmdir(Dir);
}
