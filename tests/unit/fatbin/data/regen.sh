#!/bin/sh
# Regenerates the fatbin test data with the local CUDA toolkit (made with CUDA 13.0). Run from this folder.
set -e
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
NVCC=${NVCC:-nvcc}
FATBINARY=${FATBINARY:-fatbinary}
for A in 75 80 90; do $NVCC -ptx -arch=compute_$A kernel.cu -o "$T/k$A.ptx"; done
$NVCC -cubin -arch=sm_75 kernel.cu -o "$T/k75.cubin"
# One PTX entry, in each of the three payload encodings: zstd (the default), LZ4 (mode "speed") and stored.
$FATBINARY --64 --create=ptx80_zstd.fatbin --image3=kind=ptx,sm=80,file="$T/k80.ptx"
$FATBINARY --64 --create=ptx80_lz4.fatbin --compress-mode=speed --image3=kind=ptx,sm=80,file="$T/k80.ptx"
$FATBINARY --64 --create=ptx80_none.fatbin --compress-mode=none --image3=kind=ptx,sm=80,file="$T/k80.ptx"
# Identifier and options strings in the entry header.
$FATBINARY --64 --create=ptx80_ident.fatbin --ident=kernel.cu --cmdline="-O1 -lineinfo" \
  --image3=kind=ptx,sm=80,file="$T/k80.ptx"
# Several PTX architectures in one container.
$NVCC -fatbin -gencode arch=compute_75,code=compute_75 -gencode arch=compute_90,code=compute_90 \
  -gencode arch=compute_80,code=compute_80 kernel.cu -o multi_arch.fatbin
# SASS only: a stored cubin, and an LZ4-compressed one.
$NVCC -fatbin -gencode arch=compute_75,code=sm_75 kernel.cu -o elf75.fatbin
$FATBINARY --64 --create=elf75_lz4.fatbin --compress-all --compress-mode=speed --image3=kind=elf,sm=75,file="$T/k75.cubin"
# A translation unit without device code: code-less PTX and cubin entries.
$NVCC -fatbin -gencode arch=compute_80,code=sm_80 -gencode arch=compute_80,code=compute_80 empty.cu -o empty.fatbin
# Relocatable device code: zstd-compressed cubin plus PTX with "--compile-only" options; and the device-linked
# container that a version 2 wrapper points at.
( cd "$T" && cp "$OLDPWD/kernel.cu" . && \
  echo 'int main() { return 0; }' > main.cu && \
  $NVCC -cudart shared -rdc=true -gencode arch=compute_80,code=sm_80 -gencode arch=compute_80,code=compute_80 \
    kernel.cu main.cu -keep -o prog >/dev/null )
cp "$T/kernel.fatbin" rdc.fatbin
cp "$T/prog_dlink.fatbin" dlink.fatbin
