// A translation unit without device code: nvcc still emits a code-less PTX and cubin (see regen.sh).
int emptyHostOnly() { return 0; }
