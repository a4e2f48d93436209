#!/usr/bin/env python3
"""Generates libcudart.so.13's complete entry-point surface from the toolkit headers.

Generate mode (run by src/runtime/CMakeLists.txt at build time):
  gen_runtime_surface.py <cuda include dir> <runtime source dir> <preprocessor (c++)> <out stubs.cpp> <out names.txt>

  * the stubs: every `cuda*` function that cuda_runtime_api.h (and the profiler and GL/EGL/VDPAU interop headers)
    declares, in its plain and its per-thread-default-stream (_ptds/_ptsz) spelling, and that src/runtime/*.cpp does
    not define (scanned for `CUSHIM_EXPORT <type> cudaXxx(`), gets a definition that logs its name once and returns
    cudaErrorNotSupported (also the thread's last error). An nvcc-built program calling an API cuda_shim does not
    implement thus gets an error code instead of a symbol-lookup failure at load time.
  * the names: every declared name, one a line, for the export check below.

  Stubs of functions returning cudaError_t are `extern "C" int name()`, which ignores the arguments: ABI-safe on x86-64
  SysV and AArch64 (caller-cleaned arguments, an int-sized enum returned in a register), and free of the real
  prototypes, so the file includes no CUDA runtime header. Other return types are listed in OTHER_RETURNS with the
  value a stub returns; an unknown one stops the build, so that nobody gets a silently wrong ABI.

Check mode (a test): gen_runtime_surface.py --check <names.txt> <libcudart.so>
  fails, listing them, when the library does not export some declared name.
"""
import os
import re
import subprocess
import sys
import tempfile

HEADERS = ["cuda_runtime_api.h", "cuda_profiler_api.h", "cuda_gl_interop.h", "cuda_egl_interop.h",
           "cuda_vdpau_interop.h"]
# Window-system headers the interop headers include; only their presence matters to the preprocessor.
FAKE_SYSTEM_HEADERS = ["GL/gl.h", "EGL/egl.h", "EGL/eglext.h", "vdpau/vdpau.h"]

# Non-cudaError_t return types: (the type as the stub spells it, the value it returns, the header defining the type).
OTHER_RETURNS = {
    "const char*": ("const char *", '"cuda_shim: not implemented"', None),
    "struct cudaChannelFormatDesc": ("struct cudaChannelFormatDesc", "{0, 0, 0, 0, cudaChannelFormatKindNone}",
                                     "driver_types.h"),
}

DECL_RE = re.compile(r'^extern\s+(?:"C"\s+)?(?:__attribute__\(\((?:[^()]|\([^()]*\))*\)\)\s*)*'
                     r'(?P<ret>(?:const\s+)?(?:struct\s+|enum\s+)?\w+\s*\**)\s*(?P<name>cuda\w+)\s*\(', re.M)
IMPLEMENTED_RE = re.compile(r"CUSHIM_(?:RUNTIME_)?EXPORT\s+[^;{()]*?\b(cuda\w+)\s*\(")


def preprocess(cxx, include, fake_dir, per_thread):
    source = "".join(f"#include <{h}>\n" for h in HEADERS if os.path.exists(os.path.join(include, h)))
    defines = ["-DCUDA_API_PER_THREAD_DEFAULT_STREAM=1"] if per_thread else []
    result = subprocess.run([cxx, "-E", "-P", "-x", "c++", *defines, f"-I{fake_dir}", f"-I{include}", "-"],
                            input=source, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"gen_runtime_surface: preprocessing the toolkit headers failed:\n{result.stderr}")
    return result.stdout


def declared_functions(cxx, include):
    """Maps every declared runtime function (plain and per-thread spellings) to its return type."""
    with tempfile.TemporaryDirectory() as fake_dir:
        for h in FAKE_SYSTEM_HEADERS:
            os.makedirs(os.path.dirname(os.path.join(fake_dir, h)), exist_ok=True)
            open(os.path.join(fake_dir, h), "w").close()
        functions = {}
        for per_thread in (False, True):
            for m in DECL_RE.finditer(preprocess(cxx, include, fake_dir, per_thread)):
                functions[m.group("name")] = re.sub(r"\s+", " ", m.group("ret")).replace(" *", "*").strip()
    return functions


def implemented_names(source_dir):
    names = set()
    for entry in sorted(os.listdir(source_dir)):
        if entry.endswith(".cpp"):
            with open(os.path.join(source_dir, entry), encoding="utf-8") as f:
                names.update(IMPLEMENTED_RE.findall(f.read()))
    return names


def write_if_changed(path, text):
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def generate(include, source_dir, cxx, out_stubs, out_names):
    functions = declared_functions(cxx, include)
    if len(functions) < 200:
        sys.exit(f"gen_runtime_surface: only {len(functions)} declarations found in {include}: wrong headers?")
    implemented = implemented_names(source_dir)
    stubs = sorted(n for n in functions if n not in implemented)
    unknown = sorted({functions[n] for n in stubs} - {"cudaError_t"} - set(OTHER_RETURNS))
    if unknown:
        sys.exit(f"gen_runtime_surface: no stub ABI for return type(s) {unknown}: implement those functions or "
                 f"add the type to OTHER_RETURNS")
    headers = sorted({OTHER_RETURNS[functions[n]][2] for n in stubs if functions[n] in OTHER_RETURNS} - {None})
    lines = ["// Generated by scripts/gen_runtime_surface.py from the CUDA toolkit headers. Do not edit.\n",
             f"// {len(functions)} declared runtime entry points; these {len(stubs)} are not implemented by "
             "src/runtime/*.cpp.\n",
             '#include "runtime/RuntimeSurface.h"\n']
    lines += [f"#include <{h}>\n" for h in headers]
    lines.append("\n#define CUSHIM_STUB(Name) \\\n"
                 "  extern \"C\" __attribute__((visibility(\"default\"))) ::cushim::runtime::StubResult Name() { \\\n"
                 "    return ::cushim::runtime::notImplemented(#Name); \\\n  }\n\n")
    for n in stubs:
        ret = functions[n]
        if ret == "cudaError_t":
            lines.append(f"CUSHIM_STUB({n})\n")
        else:
            spelled, value, _ = OTHER_RETURNS[ret]
            lines.append(f'extern "C" __attribute__((visibility("default"))) {spelled} {n}() {{\n'
                         f'  (void)::cushim::runtime::notImplemented("{n}");\n  return {value};\n}}\n')
    write_if_changed(out_stubs, "".join(lines))
    write_if_changed(out_names, "".join(f"{n}\n" for n in sorted(functions)))


def check(names_file, library):
    with open(names_file, encoding="utf-8") as f:
        declared = [line.strip() for line in f if line.strip()]
    result = subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"gen_runtime_surface --check: nm failed on {library}:\n{result.stderr}")
    exported = {line.split()[-1].split("@")[0] for line in result.stdout.splitlines() if line.strip()}
    missing = [n for n in declared if n not in exported]
    print(f"{len(declared)} declared runtime entry points, {len(declared) - len(missing)} exported by {library}")
    if missing:
        print("missing: " + " ".join(missing))
        sys.exit(1)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6:
        generate(*sys.argv[1:6])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
