#!/usr/bin/env python3
"""Generates libcuda.so.1's complete entry-point surface from the toolkit headers.

Outputs (both C++ sources compiled into libcuda.so.1):
  * a stub for every function the toolkit's driver headers declare (cuda.h and the GL/EGL/VDPAU/profiler interop
    headers, preprocessed with __CUDA_API_VERSION_INTERNAL so that every versioned and per-thread variant is
    declared) that src/driver/*.cpp does not implement yet: it logs once and returns CUDA_ERROR_NOT_SUPPORTED;
  * the cuGetProcAddress table: for each API name, the symbol behind each version it was revised in (taken from the
    PFN_<name>_v<version>[_ptds|_ptsz] typedefs of cudaTypedefs.h and friends) and its per-thread variant.

The stub file deliberately does not include cuda.h: every stub is `extern "C" CUresult name()`, which ignores its
arguments. That is ABI-safe on x86-64 SysV and AArch64 (arguments are caller-cleaned registers/stack), and it keeps
the generated file independent of the exact prototypes.

Usage: gen_driver_surface.py <cuda include dir> <driver source dir> <preprocessor (c++)> <out stubs.cpp> <out table.inc>
"""
import os
import re
import subprocess
import sys
import tempfile

HEADERS = ["cuda.h", "cudaGL.h", "cudaEGL.h", "cudaVDPAU.h", "cudaProfiler.h"]
TYPEDEF_HEADERS = ["cudaTypedefs.h", "cudaGLTypedefs.h", "cudaEGLTypedefs.h", "cudaVDPAUTypedefs.h",
                   "cudaProfilerTypedefs.h"]
# Window-system headers the interop headers include; only their presence matters to the preprocessor.
FAKE_SYSTEM_HEADERS = ["GL/gl.h", "EGL/egl.h", "EGL/eglext.h", "vdpau/vdpau.h"]

# Names whose newest meaning is another function, as cuda.h's own #defines say (cuGraphInstantiate became
# cuGraphInstantiateWithFlags in CUDA 12.0): (name, version, symbol) added to the versions the typedefs give.
ALIASES = [("cuGraphInstantiate", 12000, "cuGraphInstantiateWithFlags")]

IMPLEMENTED_RE = re.compile(r"CUSHIM_EXPORT\s+CUresult\s+(?:CUDAAPI\s+)?(cu\w+)\s*\(")
DECL_RE = re.compile(r"\bCUresult\s+(cu\w+)\s*\(")
PFN_RE = re.compile(r"\bPFN_(cu\w+?)_v(\d{4,5})(_ptds|_ptsz)?\)")
SUFFIX_RE = re.compile(r"^(cu\w+?)(?:_v(\d+))?(_ptds|_ptsz)?$")


def preprocess(cxx, include, headers, fake_dir):
    source = "".join(f"#include <{h}>\n" for h in headers if os.path.exists(os.path.join(include, h)))
    result = subprocess.run([cxx, "-E", "-P", "-x", "c++", "-D__CUDA_API_VERSION_INTERNAL", f"-I{fake_dir}",
                             f"-I{include}", "-"], input=source, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"gen_driver_surface: preprocessing the toolkit headers failed:\n{result.stderr}")
    return result.stdout


def implemented_names(source_dir):
    names = set()
    for entry in sorted(os.listdir(source_dir)):
        if entry.endswith(".cpp"):
            with open(os.path.join(source_dir, entry), encoding="utf-8") as f:
                names.update(IMPLEMENTED_RE.findall(f.read()))
    return names


def split_symbol(symbol):
    """cuMemcpyHtoD_v2_ptds -> ('cuMemcpyHtoD', 2, '_ptds'); the plain name is revision 1."""
    m = SUFFIX_RE.match(symbol)
    return m.group(1), int(m.group(2) or 1), m.group(3) or ""


def version_table(typedef_text, declared):
    """Maps each API name to [(version, symbol, per-thread symbol or None, per-thread version)]."""
    regular, per_thread = {}, {}
    for base, version, pt in PFN_RE.findall(typedef_text):
        (per_thread if pt else regular).setdefault(base, set()).add(int(version))
    revisions = {}  # base -> {revision: symbol}, per_thread_revisions the same for _ptds/_ptsz symbols
    pt_revisions = {}
    for symbol in declared:
        base, rev, pt = split_symbol(symbol)
        (pt_revisions if pt else revisions).setdefault(base, {})[rev] = symbol
    table, problems = {}, []
    for base, versions in sorted(regular.items()):
        versions = sorted(versions)
        symbols = [revisions.get(base, {})[r] for r in sorted(revisions.get(base, {}))]
        if len(symbols) != len(versions):
            problems.append(f"{base}: versions {versions} vs symbols {symbols}")
            continue
        pt_versions = sorted(per_thread.get(base, ()))
        pt_symbols = [pt_revisions.get(base, {})[r] for r in sorted(pt_revisions.get(base, {}))]
        pt_by_symbol = {}
        if pt_versions:
            if len(pt_versions) != len(pt_symbols):
                problems.append(f"{base}: per-thread versions {pt_versions} vs symbols {pt_symbols}")
            else:
                for v, s in zip(pt_versions, pt_symbols):
                    pt_by_symbol[s.rsplit("_", 1)[0]] = (s, v)
        rows = []
        for v, s in zip(versions, symbols):
            pt = pt_by_symbol.get(s)
            rows.append((v, s, pt[0] if pt else None, pt[1] if pt else 0))
        table[base] = rows
    for base, version, symbol in ALIASES:
        if base in table and symbol in declared:
            pt = next((r for r in table.get(symbol, []) if r[1] == symbol), None)
            table[base].append((version, symbol, pt[2] if pt else None, pt[3] if pt else 0))
    # Declared API names without any typedef (new or interop functions): available at every version.
    for symbol in declared:
        base, rev, pt = split_symbol(symbol)
        if not pt and rev == 1 and base not in table:
            table[base] = [(0, symbol, None, 0)]
    return table, problems


def write_if_changed(path, text):
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    include, source_dir, cxx, out_stubs, out_table = sys.argv[1:6]
    with tempfile.TemporaryDirectory() as fake_dir:
        for h in FAKE_SYSTEM_HEADERS:
            os.makedirs(os.path.dirname(os.path.join(fake_dir, h)), exist_ok=True)
            open(os.path.join(fake_dir, h), "w").close()
        decl_text = preprocess(cxx, include, HEADERS, fake_dir)
        typedef_text = preprocess(cxx, include, TYPEDEF_HEADERS, fake_dir)
    declared = sorted(set(DECL_RE.findall(decl_text)))
    implemented = implemented_names(source_dir)
    stubs = [n for n in declared if n not in implemented]
    table, problems = version_table(typedef_text, set(declared))
    for p in problems:
        print(f"gen_driver_surface: warning: cannot pair versions with symbols for {p}", file=sys.stderr)

    head = "// Generated by scripts/gen_driver_surface.py from the CUDA toolkit headers. Do not edit.\n"
    lines = [head, "// Driver entry points the toolkit declares and src/driver/*.cpp does not implement yet.\n",
             '#include "driver/DriverSurface.h"\n\n',
             "#define CUSHIM_STUB(Name) \\\n"
             "  extern \"C\" __attribute__((visibility(\"default\"))) ::cushim::driver::StubResult Name() { \\\n"
             "    return ::cushim::driver::notImplemented(#Name); \\\n  }\n\n"]
    lines += [f"CUSHIM_STUB({n})\n" for n in stubs]
    write_if_changed(out_stubs, "".join(lines))

    lines = [head, f"// {len(declared)} declared entry points, {len(stubs)} of them stubs; "
             f"{len(table)} names for cuGetProcAddress.\n",
             '#include "driver/DriverSurface.h"\n\n']
    lines += [f'extern "C" ::cushim::driver::StubResult {n}();\n' for n in declared]
    lines.append("\nnamespace cushim::driver {\n\n")
    lines.append("// Sorted by name, then by version: what cuGetProcAddress searches.\n")
    lines.append("const ProcEntry ProcTable[] = {\n")
    for base in sorted(table):
        for version, symbol, pt_symbol, pt_version in sorted(table[base]):
            pt = f"reinterpret_cast<void *>(&{pt_symbol})" if pt_symbol else "nullptr"
            lines.append(f'    {{"{base}", {version}, "{symbol}", reinterpret_cast<void *>(&{symbol}), {pt}, '
                         f'{pt_version}}},\n')
    lines.append("};\n\nconst unsigned ProcTableSize = sizeof(ProcTable) / sizeof(ProcTable[0]);\n\n")
    lines.append("const char *const DeclaredEntryPoints[] = {\n")
    lines += [f'    "{n}",\n' for n in declared]
    lines.append("};\nconst unsigned DeclaredEntryPointCount = sizeof(DeclaredEntryPoints) / sizeof(char *);\n\n")
    lines.append("} // namespace cushim::driver\n")
    write_if_changed(out_table, "".join(lines))


if __name__ == "__main__":
    main()
