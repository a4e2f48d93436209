#!/usr/bin/env python3
"""Runs `cushim conform` on the runner's own tiny corpus (tests/conform/corpus) and checks what it reports.

  check_conform.py --cushim PATH --corpus DIR --out DIR [--cc CC]

Checks: every program's classification (pass, fail, crash, timeout, build-error, skipped), the first cuda_shim
diagnostic and output tail of failures, valid JUnit XML and JSON reports that agree with each other, the child
environment (our lib folder first on LD_LIBRARY_PATH, stdin at EOF), the timeout killing the whole process group,
--filter/--tag/--list/--fail-fast/--timeout, --repeat flagging a flaky program, --compare, the differential mode (unavailable, and against a
stand-in "NVIDIA" library folder) and manifest errors. Exit status 0 when everything holds.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

FAILURES = []

EXPECTED = {
    "pass": "pass",
    "wrong-exit": "fail",
    "expected-exit": "pass",
    "missing-output": "fail",
    "segv": "crash",
    "abort": "crash",
    "timeout": "timeout",
    "forbidden": "fail",
    "tolerance-pass": "pass",
    "tolerance-fail": "fail",
    "exact-fail": "fail",
    "sorted-lines": "pass",
    "skipped": "skipped",
    "build-error": "build-error",
    "not-found": "fail",
    "env-and-stdin": "pass",
    "scratch-folder": "pass",
}


def check(cond, what):
    print(f"{'ok  ' if cond else 'FAIL'} {what}", flush=True)
    if not cond:
        FAILURES.append(what)


def conform(args, *extra, expect_rc=None):
    cmd = [args.cushim, "conform", "--var", f"CC={args.cc}"] + list(extra)
    print("$ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=240)
    elapsed = time.monotonic() - start
    sys.stdout.write(proc.stdout)
    sys.stdout.write(proc.stderr)
    if expect_rc is not None:
        check(proc.returncode == expect_rc, f"exit status {proc.returncode}, expected {expect_rc}")
    return proc, elapsed


def by_name(report):
    return {p["name"]: p for p in report["programs"]}


def main_run(args, libdir):
    out = os.path.join(args.out, "main")
    proc, elapsed = conform(args, "-j", "4", "--out", out, args.corpus, expect_rc=1)
    report = json.load(open(os.path.join(out, "report.json")))
    check(report["schema"] == "cushim-conform-report/1", "JSON report has its schema tag")
    progs = by_name(report)
    check(set(progs) == set(EXPECTED), f"report lists every program ({sorted(progs)})")
    for name, want in EXPECTED.items():
        got = progs.get(name, {}).get("status")
        check(got == want, f"{name}: classified {got}, expected {want}")
    counts = report["summary"]
    for status in ("pass", "fail", "crash", "timeout", "build-error", "skipped"):
        want = sum(1 for s in EXPECTED.values() if s == status)
        check(counts[status] == want, f"summary counts {counts[status]} {status}, expected {want}")

    # Failure details: reasons, cuda_shim's first error, the output tail.
    check("exit code 3, expected 0" in progs["wrong-exit"]["reason"], "wrong-exit: reason names the exit codes")
    check(progs["wrong-exit"]["output_tail"][-1] == "something went wrong on purpose", "wrong-exit: output tail")
    check(progs["forbidden"]["first_cuda_shim_diagnostic"] ==
          "[cuda_shim error] ptx: unsupported instruction 'tcgen05.mma' at line 12",
          "forbidden: the first cuda_shim error is reported (not the earlier warning, not the later error)")
    check("SIGSEGV" in progs["segv"]["reason"], "segv: reason names SIGSEGV")
    check("SIGABRT" in progs["abort"]["reason"], "abort: reason names SIGABRT")
    check(progs["abort"]["first_cuda_shim_diagnostic"].startswith("[cuda_shim error] cuLaunchKernel"),
          "abort: cuda_shim error found in its log")
    check("0.33333334" in progs["tolerance-fail"]["reason"] and "'0.3'" in progs["tolerance-fail"]["reason"],
          "tolerance-fail: reason shows the differing numbers")
    check("cannot run" in progs["not-found"]["reason"], "not-found: reason says the program cannot run")
    check(any("error" in l for l in progs["build-error"]["output_tail"]), "build-error: compiler output shown")
    check(progs["skipped"]["reason"] == "not on this platform", "skipped: reason from the manifest")
    check(progs["timeout"]["seconds"] < 15, f"timeout: killed after ~1 s ({progs['timeout']['seconds']:.1f} s)")
    check(elapsed < 60, f"whole run took {elapsed:.1f} s (the 60 s sleeper and its child were killed)")
    leftovers = subprocess.run(["pgrep", "-f", os.path.join(out, "build", "prog") + " sleep"], capture_output=True)
    check(leftovers.returncode != 0, "no process of the timed-out program group survives")

    # The child environment: our lib folder first, manifest env, stdin at EOF.
    env_out = open(os.path.join(out, "logs", "env-and-stdin", "stdout.txt")).read()
    ld = [l for l in env_out.splitlines() if l.startswith("LD_LIBRARY_PATH=")][0][len("LD_LIBRARY_PATH="):]
    check(os.path.realpath(ld.split(":")[0]) == os.path.realpath(libdir),
          f"LD_LIBRARY_PATH starts with our lib folder ({ld.split(':')[0]})")

    # JUnit XML: well-formed and consistent with the JSON report.
    root = ET.parse(os.path.join(out, "junit.xml")).getroot()
    suite = root.find("testsuite")
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    check(set(cases) == set(EXPECTED), "JUnit lists every program")
    check(int(suite.get("tests")) == len(EXPECTED), "JUnit tests count")
    check(int(suite.get("failures")) == counts["fail"], "JUnit failures = fail count")
    check(int(suite.get("errors")) == counts["crash"] + counts["timeout"] + counts["build-error"],
          "JUnit errors = crash + timeout + build-error")
    check(int(suite.get("skipped")) == counts["skipped"], "JUnit skipped count")
    check(cases["pass"].find("failure") is None and cases["pass"].find("error") is None, "JUnit: pass is clean")
    check(cases["wrong-exit"].find("failure") is not None, "JUnit: fail is a <failure>")
    check(cases["segv"].find("error").get("type") == "crash", "JUnit: crash is an <error type=crash>")
    check(cases["timeout"].find("error").get("type") == "timeout", "JUnit: timeout is an <error type=timeout>")
    check(cases["skipped"].find("skipped") is not None, "JUnit: skipped is <skipped>")
    check("tcgen05.mma" in cases["forbidden"].find("failure").text, "JUnit: failure text holds the cuda_shim error")

    md = open(os.path.join(out, "report.md")).read()
    check("## Failures" in md and "### segv: crash" in md, "Markdown report has the failure sections")
    check("17 programs" in proc.stdout and "6 pass" in proc.stdout, "terminal summary line")
    return os.path.join(out, "report.json")


def selection(args):
    proc, _ = conform(args, "--tag", "crash", "--list", args.corpus, expect_rc=0)
    names = [l.split()[0] for l in proc.stdout.splitlines() if l.strip()]
    check(names == ["segv", "abort"], f"--tag crash selects segv and abort ({names})")
    proc, _ = conform(args, "--filter", "^tolerance-", "--list", args.corpus, expect_rc=0)
    names = [l.split()[0] for l in proc.stdout.splitlines() if l.strip()]
    check(names == ["tolerance-pass", "tolerance-fail"], f"--filter selects by name ({names})")
    out = os.path.join(args.out, "passing")
    conform(args, "--filter", "^(pass|expected-exit|sorted-lines)$", "--out", out, args.corpus, expect_rc=0)
    out = os.path.join(args.out, "fail-fast")
    conform(args, "--fail-fast", "--filter", "^(wrong-exit|expected-exit)$", "--out", out, args.corpus, expect_rc=1)
    progs = by_name(json.load(open(os.path.join(out, "report.json"))))
    check(progs["wrong-exit"]["status"] == "fail" and progs["expected-exit"]["status"] == "skipped"
          and "--fail-fast" in progs["expected-exit"]["reason"], "--fail-fast: nothing starts after a failure")
    out = os.path.join(args.out, "override")
    # The "timeout" program sleeps 60 s under a 1 s manifest limit; the override must cut it at 0.2 s instead.
    # (A fast program cannot show this: it may finish before any timer fires.)
    conform(args, "--filter", "^timeout$", "--timeout", "0.2", "--out", out, args.corpus, expect_rc=1)
    prog = by_name(json.load(open(os.path.join(out, "report.json"))))["timeout"]
    check(prog["status"] == "timeout" and "0.2 s" in prog["reason"],
          f"--timeout overrides the manifest ({prog['status']}: {prog['reason']})")


def flaky(args):
    out = os.path.join(args.out, "flaky")
    conform(args, "--repeat", "3", "--out", out, os.path.join(args.corpus, "flaky.json"), expect_rc=1)
    progs = by_name(json.load(open(os.path.join(out, "report.json"))))
    check(progs["flaky"]["flaky"] and progs["flaky"]["status"] == "fail", "--repeat 3: flaky program flagged")
    check([r["status"] for r in progs["flaky"]["runs"]] == ["pass", "fail", "pass"], "flaky: runs pass, fail, pass")
    check(not progs["steady"]["flaky"] and progs["steady"]["status"] == "pass", "steady program is not flaky")


def compare(args, after):
    before_report = json.load(open(after))
    for p in before_report["programs"]:
        if p["name"] == "pass":
            p["status"] = "fail"  # so that "pass" is newly passing
        if p["name"] == "wrong-exit":
            p["status"] = "pass"  # so that "wrong-exit" is newly failing
    before = os.path.join(args.out, "before.json")
    json.dump(before_report, open(before, "w"))
    proc, _ = conform(args, "--compare", before, after, expect_rc=1)
    check("newly passing: 1\n  pass (was fail)" in proc.stdout, "--compare lists the newly passing program")
    check("newly failing: 1\n  wrong-exit (now fail)" in proc.stdout, "--compare lists the newly failing program")
    proc, _ = conform(args, "--compare", after, after, expect_rc=0)


def differential(args):
    out = os.path.join(args.out, "diff-auto")
    proc, _ = conform(args, "--differential", "--filter", "^pass$", "--out", out, args.corpus)
    if "NVIDIA driver found" in proc.stdout:
        print("note: a real NVIDIA driver is installed here; skipping the 'unavailable' check")
    else:
        check("NVIDIA driver not found, differential mode unavailable" in proc.stdout,
              "--differential without a driver says it is unavailable")
        check(proc.returncode == 0, "--differential without a driver still runs the corpus")
    empty = os.path.join(args.out, "no-driver")
    os.makedirs(empty, exist_ok=True)
    proc, _ = conform(args, "--differential", "--nvidia-libdir", empty, "--filter", "^pass$", "--out",
                      os.path.join(args.out, "diff-empty"), args.corpus, expect_rc=0)
    check(f"NVIDIA driver not found in {empty}, differential mode unavailable" in proc.stdout,
          "--nvidia-libdir without libcuda.so.1: unavailable")

    # A stand-in vendor library folder: the NVIDIA runs happen (with that folder on LD_LIBRARY_PATH instead of
    # ours), programs printing the same output match, the one printing LD_LIBRARY_PATH differs.
    fake = os.path.join(args.out, "fake-nvidia")
    os.makedirs(fake, exist_ok=True)
    open(os.path.join(fake, "libcuda.so.1"), "w").write("not a real driver\n")
    out = os.path.join(args.out, "diff-fake")
    proc, _ = conform(args, "--differential", "--nvidia-libdir", fake, "--filter", "^(pass|env-and-stdin)$", "--out",
                      out, args.corpus, expect_rc=1)
    progs = by_name(json.load(open(os.path.join(out, "report.json"))))
    check(progs["pass"]["differential"]["verdict"] == "match", "differential: same output matches")
    check(progs["env-and-stdin"]["differential"]["verdict"] == "mismatch", "differential: different output found")
    check(progs["env-and-stdin"]["status"] == "fail" and "NVIDIA" in progs["env-and-stdin"]["reason"],
          "differential: a mismatch fails the program")
    nv_out = open(progs["env-and-stdin"]["differential"]["nvidia"]["stdout_log"]).read()
    check(f"LD_LIBRARY_PATH={fake}" in nv_out, "differential: NVIDIA run uses the vendor folder, not ours")


def manifest_errors(args):
    bad = os.path.join(args.out, "bad.json")
    open(bad, "w").write('{"programs": [{"name": "a", "command": ["true"], "timeuot": 3}]}')
    proc, _ = conform(args, bad, expect_rc=2)
    check('unknown key "timeuot"' in proc.stderr, "a misspelt manifest key is a clear error")
    proc, _ = conform(args, os.path.join(args.out, "missing-dir"), expect_rc=2)
    check("no such file or folder" in proc.stderr, "a missing corpus is a clear error")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cushim", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--cc", default="cc")
    args = p.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    os.makedirs(args.out)
    libdir = os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(args.cushim))), "lib")

    after = main_run(args, libdir)
    selection(args)
    flaky(args)
    compare(args, after)
    differential(args)
    manifest_errors(args)
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:")
        for f in FAILURES:
            print(f"  {f}")
        return 1
    print("\nall checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
