# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.
# Pitched/3D memory and CUDA arrays (the copy engine), textures and surfaces (docs/TEXTURES.md). Label: textures.
set(E2E_FLAGS_TEXTURES ${E2E_FLAGS_DEFAULT} -L${CUDAToolkit_ROOT}/lib64/stubs -lcuda)
e2e_build(pitched SOURCE ${E2E_SRC}/pitched.cu FLAGS ${E2E_FLAGS_TEXTURES})
e2e_run(pitched BINARY pitched LABELS textures)
# --default-stream per-thread: the same program through the _ptds/_ptsz entry points.
e2e_build(pitched_per_thread SOURCE ${E2E_SRC}/pitched.cu FLAGS ${E2E_FLAGS_TEXTURES} --default-stream per-thread)
e2e_run(pitched_per_thread BINARY pitched_per_thread LABELS textures)
foreach(Prog textures surfaces)
  e2e_build(${Prog} SOURCE ${E2E_SRC}/${Prog}.cu FLAGS ${E2E_FLAGS_TEXTURES})
  e2e_run(${Prog} BINARY ${Prog} LABELS textures)
endforeach()
# The legacy texture/surface references of the driver API, with hand-written PTX (nvcc no longer emits .texref).
e2e_build(texref SOURCE ${E2E_SRC}/texref.cpp
          FLAGS -O2 -cudart none -I${E2E_SRC} -L${CUDAToolkit_ROOT}/lib64/stubs -lcuda)
e2e_run(texref BINARY texref NEED libcuda.so.1 LABELS textures)
