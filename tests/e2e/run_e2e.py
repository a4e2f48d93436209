#!/usr/bin/env python3
"""Driver for the end-to-end tests: builds a CUDA program with nvcc at test time and runs it under cuda_shim.

  run_e2e.py build --nvcc NVCC --src FILE --out BIN [--dep FILE ...] -- NVCC_FLAGS...
  run_e2e.py run --libdir DIR [--mode ldpath|preload|cushim] [checks...] -- PROGRAM ARGS...
  run_e2e.py needed --lib SONAME BINARY

`build` recompiles only when the binary is missing, older than its sources, or was built with other flags, and
replaces it atomically, so parallel ctest runs never see a half-written binary. `run` makes the program pick up our
libraries (LD_LIBRARY_PATH, LD_PRELOAD or `cushim run`), enforces a timeout and applies output checks. Exit status
is the program's, or 1 when a check failed.
"""
import argparse
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile


def log(msg):
    print(f"[run_e2e] {msg}", flush=True)


def local_includes(src):
    """Headers next to the source that it includes with quotes (e2e_common.h, simt_common.h): they rebuild it too."""
    folder = os.path.dirname(os.path.abspath(src))
    with open(src, errors="replace") as f:
        names = re.findall(r'^\s*#\s*include\s+"([^"]+)"', f.read(), re.MULTILINE)
    return [os.path.join(folder, n) for n in names if os.path.exists(os.path.join(folder, n))]


def cmd_build(args, flags):
    sources = [args.src] + (args.dep or []) + local_includes(args.src)
    stamp = args.out + ".flags"
    want_stamp = shlex.join([args.nvcc] + flags + [os.path.abspath(args.src)])
    fresh = os.path.exists(args.out) and os.path.exists(stamp)
    if fresh:
        out_time = os.path.getmtime(args.out)
        fresh = all(os.path.getmtime(s) <= out_time for s in sources)
        with open(stamp) as f:
            fresh = fresh and f.read() == want_stamp
    if fresh:
        log(f"up to date: {args.out}")
        return 0
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    # A temporary name in the same folder, then rename: atomic for concurrent readers.
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(args.out) + ".", suffix=".tmp",
                               dir=os.path.dirname(os.path.abspath(args.out)))
    os.close(fd)
    cmd = [args.nvcc] + flags + [args.src, "-o", tmp]
    log("compiling: " + shlex.join(cmd))
    try:
        proc = subprocess.run(cmd, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        log(f"FAILED: nvcc did not finish within {args.timeout} s")
        os.unlink(tmp)
        return 1
    if proc.returncode != 0:
        log(f"FAILED: nvcc exited with {proc.returncode}")
        if os.path.exists(tmp):
            os.unlink(tmp)
        return 1
    os.chmod(tmp, 0o755)
    os.replace(tmp, args.out)
    with open(stamp, "w") as f:
        f.write(want_stamp)
    log(f"built {args.out}")
    return 0


def needed_libs(binary):
    """DT_NEEDED entries of an ELF file, read with readelf (binutils) or objdump as a fallback."""
    for tool, pattern in (("readelf", r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]"),
                          ("objdump", r"^\s*NEEDED\s+(\S+)")):
        exe = shutil.which(tool)
        if not exe:
            continue
        flags = ["-d", binary] if tool == "readelf" else ["-p", binary]
        out = subprocess.run([exe] + flags, capture_output=True, text=True)
        if out.returncode == 0:
            return re.findall(pattern, out.stdout, re.MULTILINE)
    raise RuntimeError("neither readelf nor objdump is available")


def cmd_needed(args):
    libs = needed_libs(args.binary)
    log(f"{args.binary} needs: {', '.join(libs)}")
    missing = [l for l in args.lib if l not in libs]
    for lib in args.lib:
        log(f"{'ok  ' if lib in libs else 'FAIL'} {lib} is a DT_NEEDED entry")
    for lib in args.not_lib or []:
        log(f"{'ok  ' if lib not in libs else 'FAIL'} {lib} is not a DT_NEEDED entry")
    bad = missing + [l for l in (args.not_lib or []) if l in libs]
    return 1 if bad else 0


def loaded_objects(debug_prefix):
    """Paths the dynamic loader initialised, from LD_DEBUG=libs output files (one per process)."""
    paths = []
    for name in glob.glob(debug_prefix + ".*"):
        with open(name, errors="replace") as f:
            for line in f:
                m = re.search(r"calling init: (\S+)", line)
                if m:
                    paths.append(m.group(1))
        os.unlink(name)
    return paths


def run_once(cmd, env, timeout):
    """Runs the program in its own session; returns (process, stdout, stderr), process None after a timeout (the
    whole session is killed and what it printed is passed through)."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            errors="replace", start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        sys.stdout.write(out)
        sys.stderr.write(err)
        return None, out, err
    return proc, out, err


def repeat_runs(cmd, env, args):
    """Runs the program args.repeat times: every run must exit 0 and print exactly what the first run printed."""
    if args.expect_sorted or args.stdout_regex or args.stderr_regex or args.expect_loaded:
        log("FAILED: --repeat takes no other output checks")
        return 2
    first = None
    for k in range(1, args.repeat + 1):
        proc, out, err = run_once(cmd, env, args.timeout)
        if proc is None:
            log(f"FAILED: run {k}/{args.repeat} timed out after {args.timeout} s")
            return 1
        if first is None:
            first = out
            sys.stdout.write(out)
            sys.stdout.flush()
        if proc.returncode != 0 or out != first:
            if out != first:
                sys.stdout.write(out)
            sys.stderr.write(err)
            why = f"exited with {proc.returncode}" if proc.returncode != 0 else "printed something else than run 1"
            log(f"FAILED: run {k}/{args.repeat} {why}")
            return proc.returncode if proc.returncode > 0 else 1
    log(f"ok   {args.repeat} runs, all passed with identical output")
    return 0


def cmd_run(args, program):
    if not program:
        log("no program given")
        return 2
    libdir = os.path.abspath(args.libdir)
    for lib in args.need:
        if not os.path.exists(os.path.join(libdir, lib)):
            log(f"FAILED: {lib} not found in {libdir}: build the cuda_shim libraries first")
            return 1
    env = dict(os.environ)
    for kv in args.env or []:
        key, _, value = kv.partition("=")
        env[key] = value
    if args.cache_dir:
        env.setdefault("CUSHIM_CACHE_PATH", args.cache_dir)

    cmd = list(program)
    if args.mode == "ldpath":
        env["LD_LIBRARY_PATH"] = libdir + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    elif args.mode == "preload":
        # Only the preload: the loader must satisfy DT_NEEDED libcudart.so.13 with the already loaded object.
        env.pop("LD_LIBRARY_PATH", None)
        env["LD_PRELOAD"] = os.path.join(libdir, "libcudart.so.13")
    elif args.mode == "cushim":
        env.pop("LD_LIBRARY_PATH", None)
        if not args.cushim or not os.path.exists(args.cushim):
            log(f"FAILED: cushim tool not found at {args.cushim}")
            return 1
        cmd = [args.cushim, "run", "--"] + cmd

    debug_dir = None
    if args.expect_loaded:
        debug_dir = tempfile.mkdtemp(prefix="cushim-lddebug-")
        env["LD_DEBUG"] = "libs"
        env["LD_DEBUG_OUTPUT"] = os.path.join(debug_dir, "ld")

    shown = " ".join(f"{k}={env[k]}" for k in ("LD_LIBRARY_PATH", "LD_PRELOAD", "CUSHIM_CC", "CUSHIM_TRACE",
                                                "CUSHIM_ENGINE") if k in env)
    log(f"running: {shown} {shlex.join(cmd)}")
    if args.repeat > 1:
        return repeat_runs(cmd, env, args)
    proc, out, err = run_once(cmd, env, args.timeout)
    if proc is None:
        log(f"FAILED: timed out after {args.timeout} s")
        return 1
    sys.stdout.write(out)
    sys.stdout.flush()
    sys.stderr.write(err)
    sys.stderr.flush()

    failed = False
    if proc.returncode != 0:
        what = f"signal {-proc.returncode}" if proc.returncode < 0 else f"status {proc.returncode}"
        log(f"FAILED: program exited with {what}")
        failed = True

    if args.expect_sorted:
        with open(args.expect_sorted) as f:
            want = sorted(f.read().splitlines())
        got = sorted(out.splitlines())
        if got != want:
            failed = True
            log(f"FAILED: stdout (sorted by line) differs from {args.expect_sorted}")
            missing = [l for l in want if l not in got]
            extra = [l for l in got if l not in want]
            for l in missing[:10]:
                log(f"  missing: {l!r}")
            for l in extra[:10]:
                log(f"  unexpected: {l!r}")
            if not missing and not extra:
                log("  same lines, different multiplicities")
        else:
            log(f"ok   stdout matches {os.path.basename(args.expect_sorted)} ({len(got)} lines, order ignored)")

    for pattern in args.stdout_regex or []:
        if re.search(pattern, out, re.MULTILINE):
            log(f"ok   stdout matches /{pattern}/")
        else:
            failed = True
            log(f"FAILED: stdout does not match /{pattern}/")
    for pattern in args.stderr_regex or []:
        if re.search(pattern, err, re.MULTILINE):
            log(f"ok   stderr matches /{pattern}/")
        else:
            failed = True
            log(f"FAILED: stderr does not match /{pattern}/")

    if debug_dir:
        paths = loaded_objects(os.path.join(debug_dir, "ld"))
        shutil.rmtree(debug_dir, ignore_errors=True)
        for lib in args.expect_loaded:
            hits = sorted({p for p in paths if os.path.basename(p) == lib})
            ours = [p for p in hits if os.path.dirname(os.path.realpath(p)) == os.path.realpath(libdir)]
            if ours and len(hits) == len(ours):
                log(f"ok   {lib} was loaded from {libdir}")
            else:
                failed = True
                log(f"FAILED: {lib} loaded from {hits or 'nowhere'}, expected only {libdir}")

    if failed:
        return proc.returncode if proc.returncode > 0 else 1
    return 0


def main():
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="compile a program with nvcc (cached)")
    b.add_argument("--nvcc", required=True)
    b.add_argument("--src", required=True)
    b.add_argument("--out", required=True)
    b.add_argument("--dep", action="append", help="another input whose change forces a rebuild")
    b.add_argument("--timeout", type=int, default=600)

    r = sub.add_parser("run", help="run a program under cuda_shim")
    r.add_argument("--libdir", required=True, help="folder holding our libcudart.so.13 and libcuda.so.1")
    r.add_argument("--mode", choices=["ldpath", "preload", "cushim"], default="ldpath")
    r.add_argument("--cushim", help="path of the cushim tool (mode cushim)")
    r.add_argument("--need", action="append", default=None, help="library that must exist in --libdir")
    r.add_argument("--timeout", type=int, default=120)
    r.add_argument("--env", action="append", help="KEY=VALUE added to the environment")
    r.add_argument("--cache-dir", help="default CUSHIM_CACHE_PATH, so tests do not fill the user's cache")
    r.add_argument("--expect-sorted", help="file whose lines must equal stdout's, order ignored")
    r.add_argument("--stdout-regex", action="append")
    r.add_argument("--stderr-regex", action="append")
    r.add_argument("--expect-loaded", action="append", help="library (file name) that must be loaded from --libdir")
    r.add_argument("--repeat", type=int, default=1,
                   help="run N times; every run must pass and print the same stdout (no other checks apply)")

    n = sub.add_parser("needed", help="check DT_NEEDED entries of a binary")
    n.add_argument("--lib", action="append", default=[], required=True)
    n.add_argument("--not-lib", action="append")
    n.add_argument("binary")

    args = parser.parse_args(argv)
    if args.command == "build":
        return cmd_build(args, rest)
    if args.command == "run":
        if args.need is None:
            args.need = ["libcudart.so.13"]
        return cmd_run(args, rest)
    return cmd_needed(args)


if __name__ == "__main__":
    sys.exit(main())
