# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.
# Math library through nvcc's own PTX (docs/PTX_LOWERING.md): every function of the CUDA Math API in float, double,
# half and bfloat16 against host references within NVIDIA's documented ulp bounds. Label: math.

# Like e2e_build, with the host side compiled with -frounding-math (the host
# references of the directed-rounding intrinsics switch the rounding mode).
function(math_e2e_build Name Source)
  add_test(NAME e2e/build/${Name}
           COMMAND ${E2E_RUNNER} build --nvcc ${CUSHIM_NVCC} --src ${Source} --out ${E2E_BIN}/${Name}
                   ${E2E_DEPS}
                   -- -cudart shared -O3 -I${E2E_SRC} -Xcompiler -frounding-math ${ARGN})
  set_tests_properties(e2e/build/${Name} PROPERTIES FIXTURES_SETUP e2e_bin_${Name} LABELS "e2e;e2e-build;math"
                                                    TIMEOUT 900)
endfunction()

# compute_75 PTX for float (approximate instructions with .ftz, no native bf16), compute_90 for double.
math_e2e_build(math_float ${E2E_SRC}/math_float.cu -gencode arch=compute_75,code=compute_75)
e2e_run(math_float BINARY math_float LABELS math)
math_e2e_build(math_double ${E2E_SRC}/math_double.cu -gencode arch=compute_90,code=compute_90)
e2e_run(math_double BINARY math_double ENV CUSHIM_CC=9.0 LABELS math)
# Half and bfloat16: bf16 arithmetic is emulated in f32 on compute_75; the compute_90 build (-DMATH_HALF_SM80) uses
# the native bf16 instructions (fma.rn.bf16, cvt.rn.bf16.f32, min/max.bf16 ...).
math_e2e_build(math_half_sm75 ${E2E_SRC}/math_half.cu -gencode arch=compute_75,code=compute_75)
e2e_run(math_half_sm75 BINARY math_half_sm75 LABELS math)
math_e2e_build(math_half_sm90 ${E2E_SRC}/math_half.cu -gencode arch=compute_90,code=compute_90 -DMATH_HALF_SM80)
e2e_run(math_half_sm90 BINARY math_half_sm90 ENV CUSHIM_CC=9.0 LABELS math)
