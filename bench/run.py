#!/usr/bin/env python3
"""cuda_shim benchmark suite: builds and runs every kernel three ways on the same inputs (CUDA under cuda_shim,
C++/OpenMP, OpenCL on PoCL), cross-checks the outputs, and writes the table (Markdown, CSV) and a bar chart (PNG).

    bench/run [--quick] [--rounds N] [--build-dir build] [--results-dir bench/results] [--only saxpy,sgemm] [--no-build]

The three programs run one after another, in a rotating order, for several rounds: on a shared machine the speed
of memory drifts from minute to minute (OpenMP's reductions took 0.9 ms in one process and 1.8 ms in the next), and
a ratio taken within one round, then the median over the rounds, cancels that drift where one run of each could not.

Exit status: 0 when every kernel ran and all three implementations agree, 1 on a mismatch or a failed run,
77 when a prerequisite is missing (nvcc, an OpenCL ICD/headers): the CTest reports that as skipped.
"""
import argparse
import array
import csv
import datetime
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
KERNELS = ["saxpy", "reduce_shared", "reduce_shuffle", "sgemm", "stencil2d",
           "nbody", "histogram", "black_scholes", "spmv_csr", "scan"]
IMPLS = ["cuda_shim", "openmp", "pocl"]
# Element type of each kernel's output and the tolerance of the cross-check: max |a - b| over the output divided by
# max |openmp| (0: bit-exact). Integer kernels are exact; float ones differ by summation order, fma contraction,
# rsqrt approximation and libm ulps.
OUTPUT = {
    "saxpy": ("f", 1e-6), "reduce_shared": ("i", 0), "reduce_shuffle": ("f", 1e-4), "sgemm": ("f", 1e-5),
    "stencil2d": ("f", 1e-6), "nbody": ("f", 1e-4), "histogram": ("I", 0), "black_scholes": ("f", 1e-5),
    "spmv_csr": ("f", 1e-5), "scan": ("i", 0),
}
# What bounds each kernel, for the table (details in docs/PERFORMANCE.md).
LIMIT = {
    "saxpy": "memory (12 B/elem)", "reduce_shared": "memory + barriers", "reduce_shuffle": "memory + warp ops",
    "sgemm": "flops + barriers", "stencil2d": "memory", "nbody": "flops (rsqrt)", "histogram": "shared atomics",
    "black_scholes": "transcendentals", "spmv_csr": "gather (memory)", "scan": "memory + barriers",
}
TARGETS = {"launch_sync_latency": "< 5 us", "async_launch_rate": "> 300000 /s", "module_load_warm": "< 5 ms",
           "module_load_cold": "< 200 ms"}


def log(msg):
    print(f"[bench] {msg}", flush=True)


def find_nvcc():
    for c in [os.environ.get("NVCC"), "/usr/local/cuda/bin/nvcc", shutil.which("nvcc")]:
        if c and os.access(c, os.X_OK):
            return c
    return None


def stale(out, deps):
    if not os.path.exists(out):
        return True
    t = os.path.getmtime(out)
    return any(os.path.getmtime(d) > t for d in deps)


def compile_all(work, nvcc, quick):
    """Builds the four programs and the PTX module into work/bin (only what is older than its sources)."""
    b = os.path.join(work, "bin")
    os.makedirs(b, exist_ok=True)
    common = os.path.join(HERE, "common", "bench_common.h")
    check = os.path.join(HERE, "cuda", "cuda_check.h")
    cxx = os.environ.get("CXX", "g++")
    cuda_root = os.path.dirname(os.path.dirname(nvcc))
    nv_flags = ["-cudart", "shared", "-gencode", "arch=compute_80,code=compute_80", "-O3", "-std=c++17"]
    jobs = [
        (os.path.join(b, "cuda_kernels"), [os.path.join(HERE, "cuda", "kernels.cu"), os.path.join(HERE, "cuda", "sgemm.cuh"), check, common],
         [nvcc, *nv_flags, os.path.join(HERE, "cuda", "kernels.cu"), "-o", os.path.join(b, "cuda_kernels")]),
        (os.path.join(b, "cuda_micro"), [os.path.join(HERE, "cuda", "micro.cu"), check, common],
         [nvcc, *nv_flags, os.path.join(HERE, "cuda", "micro.cu"), "-L" + os.path.join(cuda_root, "lib64", "stubs"),
          "-lcuda", "-o", os.path.join(b, "cuda_micro")]),
        (os.path.join(b, "sgemm.ptx"), [os.path.join(HERE, "cuda", "sgemm_module.cu"), os.path.join(HERE, "cuda", "sgemm.cuh")],
         [nvcc, "-ptx", "-arch=compute_80", "-O3", os.path.join(HERE, "cuda", "sgemm_module.cu"), "-o", os.path.join(b, "sgemm.ptx")]),
        (os.path.join(b, "omp_kernels"), [os.path.join(HERE, "omp", "kernels.cpp"), common],
         [cxx, "-O3", "-march=native", "-fopenmp", "-std=c++17", os.path.join(HERE, "omp", "kernels.cpp"),
          "-o", os.path.join(b, "omp_kernels")]),
        (os.path.join(b, "ocl_host"), [os.path.join(HERE, "opencl", "host.cpp"), common],
         [cxx, "-O3", "-march=native", "-std=c++17", os.path.join(HERE, "opencl", "host.cpp"), "-lOpenCL",
          "-o", os.path.join(b, "ocl_host")]),
    ]
    procs = []
    for out, deps, cmd in jobs:
        if not stale(out, deps):
            continue
        log("building " + os.path.basename(out))
        tmp = out + ".tmp"
        cmd = [tmp if c == out else c for c in cmd]
        procs.append((out, tmp, cmd, subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
        if len(procs) >= 2:  # two at a time: the machine may have only two cores
            _finish(procs.pop(0))
    for p in procs:
        _finish(p)
    return b


def _finish(job):
    out, tmp, cmd, p = job
    text, _ = p.communicate()
    if p.returncode != 0:
        sys.stderr.write(text)
        raise SystemExit(f"[bench] build failed: {' '.join(cmd)}")
    os.replace(tmp, out)


def run_program(name, cmd, env, timeout):
    log(f"running {name}: {' '.join(cmd)}")
    t0 = time.time()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
    if p.returncode != 0:
        sys.stderr.write(p.stdout + p.stderr)
        log(f"{name} FAILED (exit {p.returncode})")
        return None
    results, micro, sizes = {}, {}, {}
    for line in p.stdout.splitlines():
        f = line.split()
        if f[:1] == ["RESULT"]:
            results[f[1]] = (float(f[2]), float(f[3]), int(f[4]))
        elif f[:1] == ["MICRO"]:
            micro[f[1]] = float(f[2])
        elif f[:1] == ["SIZE"]:
            sizes[f[1]] = " ".join(f[2:])
    log(f"{name} done in {time.time() - t0:.1f} s")
    return results, micro, sizes


def load_output(path, kind):
    a = array.array(kind)
    with open(path, "rb") as f:
        a.frombytes(f.read())
    return a


def compare(ref_path, got_path, kind, tol):
    """Returns (ok, normalised max error) of got against ref."""
    if not os.path.exists(got_path) or not os.path.exists(ref_path):
        return False, float("inf")
    try:
        import numpy as np
        dt = {"f": np.float32, "i": np.int32, "I": np.uint32}[kind]
        r = np.fromfile(ref_path, dtype=dt).astype(np.float64)
        g = np.fromfile(got_path, dtype=dt).astype(np.float64)
        if r.shape != g.shape:
            return False, float("inf")
        if not np.all(np.isfinite(g)):
            return False, float("inf")
        err = float(np.max(np.abs(r - g))) if r.size else 0.0
        scale = float(np.max(np.abs(r))) if r.size else 1.0
    except ImportError:
        r, g = load_output(ref_path, kind), load_output(got_path, kind)
        if len(r) != len(g):
            return False, float("inf")
        err = max((abs(a - b) for a, b in zip(r, g)), default=0.0)
        scale = max((abs(a) for a in r), default=1.0)
        if any(math.isnan(x) or math.isinf(x) for x in g):
            return False, float("inf")
    rel = err / scale if scale > 0 else err
    return (err == 0 if tol == 0 else rel <= tol), rel


def median(xs):
    xs = sorted(x for x in xs if x)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_rev():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def fmt(x, digits=3):
    if x is None:
        return "-"
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.{digits}f}"


def write_results(rdir, rows, micro_rows, meta, quick):
    os.makedirs(rdir, exist_ok=True)
    md = [f"# cuda_shim benchmark results{' (--quick)' if quick else ''}", "",
          f"- date: {meta['date']}, commit {meta['rev']}",
          f"- machine: {meta['cpu']}, {meta['cores']} hardware threads, {meta['os']}",
          f"- load average (1 min) before / after the run: {meta['load_before']:.2f} / {meta['load_after']:.2f}",
          f"- times: median wall time per run in ms (launches + synchronisation, inputs already on the device), after "
          f"one untimed warm-up, then the median over {meta['rounds']} round(s) (each round runs the three programs one "
          f"after another, in a rotating order); ratios: time / OpenMP time (PoCL time / cuda_shim time for 'vs PoCL') "
          f"within each round, then the median over the rounds (lower is better)", "",
          "| kernel | size | OpenMP ms | cuda_shim ms | PoCL ms | cuda_shim / OpenMP | PoCL / OpenMP "
          "| cuda_shim vs PoCL | bound by | check |",
          "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for r in rows:
        vs = r["vs_pocl"]
        md.append(f"| {r['kernel']} | {r['size']} | {fmt(r['openmp'])} | {fmt(r['cuda_shim'])} | {fmt(r['pocl'])} "
                  f"| {fmt(r['shim_ratio'], 2)} | {fmt(r['pocl_ratio'], 2)} | "
                  f"{'-' if vs is None else ('%.2fx faster' % vs if vs >= 1 else '%.2fx slower' % (1 / vs))} "
                  f"| {LIMIT[r['kernel']]} | {r['check']} |")
    gs, gp = geomean([r["shim_ratio"] for r in rows]), geomean([r["pocl_ratio"] for r in rows])
    gv = geomean([r["vs_pocl"] for r in rows])
    md.append(f"| **geometric mean** | | | | | **{fmt(gs, 2)}** | **{fmt(gp, 2)}** | "
              f"{'-' if not gv else ('%.2f' % gv)} | | |")
    md += ["", "Micro-benchmarks (cuda_shim: an nvcc-built program under our libraries; OpenMP: an empty parallel "
           "region; PoCL: an empty kernel + clFinish):", "",
           "| metric | cuda_shim | OpenMP | PoCL | unit | issue target |", "| --- | ---: | ---: | ---: | --- | --- |"]
    for m in micro_rows:
        md.append(f"| {m['metric']} | {fmt(m['cuda_shim'])} | {fmt(m['openmp'])} | {fmt(m['pocl'])} | {m['unit']} "
                  f"| {TARGETS.get(m['metric'], '')} |")
    md.append("")
    with open(os.path.join(rdir, "latest.md"), "w") as f:
        f.write("\n".join(md))
    with open(os.path.join(rdir, "latest.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["kind", "name", "size", "unit", "cuda_shim", "openmp", "pocl", "cuda_shim_over_openmp",
                    "pocl_over_openmp", "check", "load_before", "load_after", "commit", "date"])
        for r in rows:
            w.writerow(["kernel", r["kernel"], r["size"], "ms", r["cuda_shim"], r["openmp"], r["pocl"],
                        r["shim_ratio"], r["pocl_ratio"], r["check"], meta["load_before"], meta["load_after"],
                        meta["rev"], meta["date"]])
        for m in micro_rows:
            w.writerow(["micro", m["metric"], "", m["unit"], m["cuda_shim"], m["openmp"], m["pocl"], "", "", "",
                        meta["load_before"], meta["load_after"], meta["rev"], meta["date"]])
    print("\n".join(md))
    return plot(rdir, rows, meta)


def plot(rdir, rows, meta):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("WARNING: matplotlib not available (apt-get install python3-matplotlib, or run scripts/bootstrap): "
            "no chart written")
        return False
    names = [r["kernel"] for r in rows]
    x = range(len(names))
    fig, ax = plt.subplots(figsize=(11, 4.8))
    w = 0.27
    series = [("OpenMP (C++ -O3 -march=native)", [1.0 if r["openmp"] else 0 for r in rows], "#4c72b0"),
              ("CUDA on cuda_shim", [r["shim_ratio"] or 0 for r in rows], "#55a868"),
              ("OpenCL on PoCL", [r["pocl_ratio"] or 0 for r in rows], "#c44e52")]
    for i, (label, vals, color) in enumerate(series):
        ax.bar([p + (i - 1) * w for p in x], vals, w, label=label, color=color)
    ax.set_yscale("log")
    ax.axhline(1.0, color="black", linewidth=0.6)
    ax.set_xticks(list(x))
    ax.set_xticklabels(names, rotation=25, ha="right")
    ax.set_ylabel("time / OpenMP time (log, lower is better)")
    ax.set_title(f"cuda_shim benchmarks, {meta['cores']} threads, load {meta['load_before']:.1f}, {meta['date']}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(rdir, "latest.png"), dpi=110)
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one repetition: a smoke test of the suite")
    ap.add_argument("--build-dir", default=os.environ.get("CUSHIM_BENCH_BUILD", os.path.join(ROOT, "build")),
                    help="cuda_shim build directory whose lib/ holds libcuda.so.1 and libcudart.so.13")
    ap.add_argument("--no-build", action="store_true", help="do not run ninja for the libraries")
    ap.add_argument("--lib-dir", default=None, help="take libcuda.so.1/libcudart.so.13 from here (default BUILD/lib)")
    ap.add_argument("--results-dir", default=None, help="default bench/results (full) or BUILD/bench/results-quick")
    ap.add_argument("--only", default="", help="comma-separated kernels")
    ap.add_argument("--no-micro", action="store_true", help="skip the launch and module-load micro-benchmarks")
    ap.add_argument("--rounds", type=int, default=None, help="rounds of the three programs (default 5; 1 with --quick)")
    args = ap.parse_args()

    build = os.path.abspath(args.build_dir)
    nvcc = find_nvcc()
    if not nvcc:
        print("SKIPPED: nvcc not found (NVCC, /usr/local/cuda/bin, PATH)", file=sys.stderr)
        return 77
    if not os.path.exists("/usr/include/CL/cl.h") or not (
            os.path.isdir("/etc/OpenCL/vendors") and os.listdir("/etc/OpenCL/vendors")):
        print("SKIPPED: OpenCL headers or ICD missing (apt-get install pocl-opencl-icd ocl-icd-opencl-dev "
              "opencl-c-headers, or run scripts/bootstrap)", file=sys.stderr)
        return 77
    if not args.no_build:
        log(f"building cuda_shim's libraries in {build}")
        subprocess.run(["ninja", "-C", build, "cushim_driver", "cushim_runtime"], check=True)
    libdir = os.path.abspath(args.lib_dir) if args.lib_dir else os.path.join(build, "lib")
    for lib in ["libcuda.so.1", "libcudart.so.13"]:
        if not os.path.exists(os.path.join(libdir, lib)):
            raise SystemExit(f"[bench] {libdir}/{lib} is missing: build the cushim_driver and cushim_runtime targets")

    work = os.path.join(build, "bench")
    bindir = compile_all(work, nvcc, args.quick)
    rdir = args.results_dir or (os.path.join(work, "results-quick") if args.quick else os.path.join(HERE, "results"))
    extra = ["--quick"] if args.quick else []
    if args.only:
        extra += ["--only", args.only]
    timeout = 600 if args.quick else 1800

    outs = {i: os.path.join(work, "out", i) for i in IMPLS}
    for d in outs.values():
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    env_shim = dict(os.environ, LD_LIBRARY_PATH=libdir + ":" + os.environ.get("LD_LIBRARY_PATH", ""),
                    CUSHIM_CACHE_PATH=os.path.join(work, "jit-cache"))
    load_before = os.getloadavg()[0]
    t_start = time.time()
    commands = {
        "openmp": ([os.path.join(bindir, "omp_kernels"), *extra, "--out", outs["openmp"]], dict(os.environ)),
        "cuda_shim": ([os.path.join(bindir, "cuda_kernels"), *extra, "--out", outs["cuda_shim"]], env_shim),
        "pocl": ([os.path.join(bindir, "ocl_host"), os.path.join(HERE, "opencl", "kernels.cl"), *extra, "--out",
                  outs["pocl"]], dict(os.environ)),
    }
    rounds = max(1, args.rounds if args.rounds is not None else (1 if args.quick else 5))
    by_round = []  # one {impl: run_program result} per round
    for r in range(rounds):
        order = IMPLS[r % len(IMPLS):] + IMPLS[:r % len(IMPLS)]
        if rounds > 1:
            log(f"round {r + 1} of {rounds}: {', '.join(order)}")
        by_round.append({i: run_program(i, commands[i][0], commands[i][1], timeout) for i in order})
    # A program that failed in any round fails the suite; the first round's micro-benchmarks are kept.
    runs = {i: (None if any(br[i] is None for br in by_round) else by_round[0][i]) for i in IMPLS}
    micro = {i: (runs[i][1] if runs[i] else {}) for i in IMPLS}
    if not args.no_micro:
        cold_cache = tempfile.mkdtemp(prefix="cushim-bench-cache-")
        try:
            r = run_program("cuda_shim micro", [os.path.join(bindir, "cuda_micro"), *(["--quick"] if args.quick else []),
                                                "--ptx", os.path.join(bindir, "sgemm.ptx")],
                            dict(env_shim, CUSHIM_CACHE_PATH=cold_cache), timeout)
        finally:
            shutil.rmtree(cold_cache, ignore_errors=True)
        micro["cuda_shim"] = r[1] if r else {}
        if not r:
            runs["cuda_shim micro"] = None
        # The same module loads with the cache off: every load translates and compiles again.
        r = run_program("cuda_shim micro, cache disabled",
                        [os.path.join(bindir, "cuda_micro"), "--quick", "--ptx", os.path.join(bindir, "sgemm.ptx")],
                        dict(env_shim, CUDA_CACHE_DISABLE="1"), timeout)
        if r and "module_load_warm" in r[1]:
            micro["cuda_shim"]["module_load_nocache"] = r[1]["module_load_warm"]
        elif not r:
            runs["cuda_shim micro, cache disabled"] = None
    load_after = os.getloadavg()[0]
    log(f"all runs took {time.time() - t_start:.0f} s")

    failed = [k for k, v in runs.items() if v is None]
    wanted = [k for k in KERNELS if not args.only or k in args.only.split(",")]
    rows, bad = [], list(failed)
    def paired(k, num, den):
        """The median over the rounds of num's time / den's time within each round."""
        ratios = []
        for br in by_round:
            a, b = (br[i][0].get(k, (None,))[0] if br[i] else None for i in (num, den))
            if a and b:
                ratios.append(a / b)
        return median(ratios)

    for k in wanted:
        t = {i: (median([br[i][0].get(k, (None,))[0] for br in by_round]) if runs[i] else None) for i in IMPLS}
        size = next((runs[i][2][k] for i in IMPLS if runs[i] and k in runs[i][2]), "?")
        kind, tol = OUTPUT[k]
        ref = os.path.join(outs["openmp"], k + ".bin")
        checks = []
        for i in ["cuda_shim", "pocl"]:
            ok, err = compare(ref, os.path.join(outs[i], k + ".bin"), kind, tol)
            if not ok:
                checks.append(f"{i} MISMATCH ({err:.2g})")
                bad.append(f"{k}/{i}")
        check = "agree" if not checks else "; ".join(checks)
        rows.append({"kernel": k, "size": size, **t, "check": check,
                     "shim_ratio": paired(k, "cuda_shim", "openmp"), "pocl_ratio": paired(k, "pocl", "openmp"),
                     "vs_pocl": paired(k, "pocl", "cuda_shim")})
    units = {"launch_sync_latency": "us", "event_sync_latency": "us", "async_launch_rate": "launches/s", "module_load_cold": "ms",
             "module_load_warm": "ms", "module_load_nocache": "ms"}
    micro_rows = [{"metric": m, "unit": u, **{i: micro[i].get(m) for i in IMPLS}} for m, u in units.items()]
    meta = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "rev": git_rev(),
            "cpu": cpu_model(), "cores": os.cpu_count(), "os": platform.platform(terse=True),
            "load_before": load_before, "load_after": load_after, "rounds": rounds}
    write_results(rdir, rows, micro_rows, meta, args.quick)
    log(f"results written to {rdir}")
    if bad:
        log("FAILED: " + ", ".join(bad))
        return 1
    log("all implementations agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
