#!/usr/bin/env python3
# Builds cuda_headers_inline_asm.ptx: every PTX inline-asm statement found in the CUDA toolkit headers, operands
# %N renamed %aN, each in its own { } scope inside one kernel. A parser stress test, not meant for ptxas.
# Usage: extract_header_asm.py [/usr/local/cuda/include] > cuda_headers_inline_asm.ptx
import os, re, sys

root_dir = sys.argv[1] if len(sys.argv) > 1 else '/usr/local/cuda/include'
strlit = re.compile(r'\s*(?:(?://[^\n]*\n|/\*.*?\*/|\\\n)\s*)*"((?:[^"\\]|\\.)*)"', re.S)
NOT_PTX = {'clock32', 'yield', 'pause'}  # host (x86/arm) asm in the same headers
seen, out = set(), []
for root, _, files in sorted(os.walk(root_dir)):
    for fn in sorted(files):
        if not fn.endswith(('.h', '.hpp', '.cuh', '.inl')) and '.' in fn:
            continue
        try:
            src = open(os.path.join(root, fn), errors='replace').read()
        except OSError:
            continue
        for m in re.finditer(r'\basm\s*(?:volatile\s*|__volatile__\s*)?\(', src):
            i, parts = m.end(), []
            while True:
                mm = strlit.match(src, i)
                if not mm:
                    break
                parts.append(mm.group(1))
                i = mm.end()
            nxt = src[i:i + 40].lstrip()
            if not parts or not nxt or nxt[0] not in ':)':
                continue  # the asm text is built from macros; skip it
            try:
                s = bytes(''.join(parts), 'utf-8').decode('unicode_escape')
            except Exception:
                continue
            if re.search(r'%\[', s) or s.strip() in NOT_PTX or s in seen:
                continue
            seen.add(s)
            s = re.sub(r'%(\d+)', lambda g: '%%a%s' % g.group(1), s).replace('%%', '%')
            lines = [l.split('//')[0].rstrip() for l in s.split('\n')]
            out.append('{\n' + '\n'.join(l for l in lines if l.strip()) + '\n}')
print('// Every inline-asm statement of the CUDA 13 toolkit headers (cuda_fp16, cuda_bf16, cuda_fp8, sm_*_intrinsics,\n'
      '// CCCL cuda::ptx and cuda::std atomics, ...), operands %N renamed %aN, each in its own { } scope.\n'
      '// A syntax stress test for the parser: not meant to pass ptxas (registers are undeclared).\n'
      '.version 9.0\n.target sm_100a\n.address_size 64\n.visible .entry cuda_header_inline_asm()\n{')
print('\n'.join(out))
print('}')
