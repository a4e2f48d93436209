# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.
# Area: nvcc's default static cudart and the complete libcuda.so.1 (docs/EXPORT_TABLES.md), label static-cudart.

# --- Every e2e program again as nvcc builds it by default -------------------------------------------------------------
# NVIDIA's runtime linked into the binary, SASS plus PTX for sm_80: the runtime dlopens libcuda.so.1 (ours, through
# LD_LIBRARY_PATH) and reaches it only through cuGetProcAddress and the export tables. One run per binary: the
# launch modes, engine tiers and environment variants are covered by the -cudart shared builds. vector_add,
# reduction and symbols have their static builds (PTX only, also preloaded) in tests/e2e/CMakeLists.txt.
set(E2E_FLAGS_NVCC_DEFAULT -cudart static "-gencode=arch=compute_80,code=[sm_80,compute_80]" -O3 -I${E2E_SRC})
set(E2E_STUB_LIBCUDA -L${CUDAToolkit_ROOT}/lib64/stubs -lcuda)

# e2e_static(<program> [SOURCE <file>] [NAME <test name>] [ARCH <XX>] [EXTRA <nvcc flags...>] [ENV K=V...]
#            [CHECKS ...] [ARGS ...] [LABELS ...]): <name>_nvcc_default, SASS plus PTX for sm_<XX> (default 80).
function(e2e_static Prog)
  cmake_parse_arguments(ARG "" "SOURCE;NAME;ARCH" "EXTRA;ENV;CHECKS;ARGS;LABELS" ${ARGN})
  if(NOT ARG_SOURCE)
    set(ARG_SOURCE ${E2E_SRC}/${Prog}.cu)
  endif()
  if(NOT ARG_NAME)
    set(ARG_NAME ${Prog})
  endif()
  if(NOT EXISTS ${ARG_SOURCE})
    return() # a program another area renamed or removed
  endif()
  set(Flags ${E2E_FLAGS_NVCC_DEFAULT})
  if(ARG_ARCH)
    list(REMOVE_ITEM Flags "-gencode=arch=compute_80,code=[sm_80,compute_80]")
    list(APPEND Flags "-gencode=arch=compute_${ARG_ARCH},code=[sm_${ARG_ARCH},compute_${ARG_ARCH}]")
  endif()
  e2e_build(${ARG_NAME}_nvcc_default SOURCE ${ARG_SOURCE} FLAGS ${Flags} ${ARG_EXTRA})
  e2e_run(${ARG_NAME}/static_cudart BINARY ${ARG_NAME}_nvcc_default NEED libcuda.so.1 ENV ${ARG_ENV} ARGS ${ARG_ARGS}
          CHECKS --expect-loaded libcuda.so.1 ${ARG_CHECKS} LABELS static-cudart ${ARG_LABELS})
  set_property(TEST e2e/build/${ARG_NAME}_nvcc_default APPEND PROPERTY LABELS static-cudart)
endfunction()

foreach(Prog matmul errors device_query warp_ops barriers its atomics cooperative)
  e2e_static(${Prog})
endforeach()
e2e_static(printf CHECKS --expect-sorted ${E2E_SRC}/printf.expected)
# Programs that also call the driver API link the toolkit's libcuda stub (SONAME libcuda.so.1, ours at run time).
foreach(Prog events stream_callbacks)
  e2e_static(${Prog} EXTRA ${E2E_STUB_LIBCUDA})
endforeach()
# --default-stream per-thread: the runtime calls the _ptsz/_ptds driver entry points (cuLaunchKernel_ptsz ...).
e2e_static(events NAME events_per_thread EXTRA ${E2E_STUB_LIBCUDA} --default-stream per-thread)

# --- Driver API reached through dlopen + dlsym: legacy launches, context usage counts, the library API --------------
# Nothing from CUDA is linked; the kernels are driver_kernels.ptx (tests/e2e/CMakeLists.txt). Run in both module
# loading modes (cuModuleGetLoadingMode must follow CUDA_MODULE_LOADING).
e2e_build(driver_legacy SOURCE ${E2E_SRC}/driver_legacy.cpp FLAGS -O2 -cudart none)
e2e_run(driver_legacy BINARY driver_legacy NEED libcuda.so.1 ARGS ${E2E_BIN}/driver_kernels.ptx
        CHECKS --expect-loaded libcuda.so.1 LABELS static-cudart)
e2e_run(driver_legacy/eager BINARY driver_legacy NEED libcuda.so.1 ENV CUDA_MODULE_LOADING=EAGER
        ARGS ${E2E_BIN}/driver_kernels.ptx LABELS static-cudart)
set_property(TEST e2e/driver_legacy e2e/driver_legacy/eager APPEND PROPERTY FIXTURES_REQUIRED
                                                                   e2e_bin_driver_kernels.ptx)

# --- NVRTC compiling for a real architecture: our libnvrtc.so.13 makes nvrtcGetCUBIN's output loadable ------------
e2e_build(nvrtc_cubin SOURCE ${E2E_SRC}/nvrtc_cubin.cpp
          FLAGS -O2 -cudart none -L${CUDAToolkit_ROOT}/lib64/stubs -L${CUDAToolkit_ROOT}/lib64 -lcuda -lnvrtc)
# NVIDIA's libnvrtc.so.13 is loaded too (ours forwards to it), so --expect-loaded cannot check ours; the launch can:
# our loader refuses NVIDIA's cubin, so the kernel only runs when nvrtcGetCUBIN's image came from ours.
e2e_run(nvrtc_cubin BINARY nvrtc_cubin NEED libcuda.so.1 libnvrtc.so.13 CHECKS --expect-loaded libcuda.so.1
        LABELS static-cudart)

# --- nvJitLink linking for a real architecture: our libnvJitLink.so.13 makes the linked cubin loadable -------------
# An LTO link of two NVRTC -dlto programs, a plain link of one PTX input and plain links of two PTX inputs (merged
# into one module) run. As with NVRTC, only the launches prove ours answered (NVIDIA's cubin is refused).
e2e_build(nvjitlink_cubin SOURCE ${E2E_SRC}/nvjitlink_cubin.cpp
          FLAGS -O2 -cudart none -L${CUDAToolkit_ROOT}/lib64/stubs -L${CUDAToolkit_ROOT}/lib64 -lcuda -lnvrtc
                -lnvJitLink)
e2e_run(nvjitlink_cubin BINARY nvjitlink_cubin NEED libcuda.so.1 libnvrtc.so.13 libnvJitLink.so.13
        CHECKS --expect-loaded libcuda.so.1 LABELS static-cudart)

# --- A CMake project with enable_language(CUDA), configured, built and run under cushim run --------------------------
# No architecture is given, as in most projects: CMake takes nvcc's default (SASS plus PTX). With CMake 3.25 the
# configure step only compiles its probes (newer versions may run one, hence cushim run there too); the program
# checks that it ran the PTX of the architecture CMake chose.
set(E2E_CMAKE_PROJECT ${CMAKE_CURRENT_BINARY_DIR}/cmake_project)
get_filename_component(E2E_CMAKE_PROJECT_SRC ${E2E_SRC}/../cmake_project ABSOLUTE)
add_test(NAME e2e/cmake_project
         COMMAND sh -c "rm -rf '${E2E_CMAKE_PROJECT}' && \
'${E2E_CUSHIM}' run -- '${CMAKE_COMMAND}' -S '${E2E_CMAKE_PROJECT_SRC}' -B '${E2E_CMAKE_PROJECT}' \
-DCMAKE_CUDA_COMPILER='${CUSHIM_NVCC}' -DCMAKE_BUILD_TYPE=Release && \
'${E2E_CUSHIM}' run -- '${CMAKE_COMMAND}' --build '${E2E_CMAKE_PROJECT}' && \
'${E2E_CUSHIM}' run -- '${E2E_CMAKE_PROJECT}/cmake_saxpy'")
set_tests_properties(e2e/cmake_project PROPERTIES LABELS "e2e;static-cudart" TIMEOUT 600
                     ENVIRONMENT "CUSHIM_CACHE_PATH=${E2E_CACHE}"
                     PASS_REGULAR_EXPRESSION "ok   kernel compiled for __CUDA_ARCH__.*cmake_saxpy: PASSED")

# --- NVIDIA's own static-cudart tool: nvcc -arch=native asks it for the device's architecture ------------------------
get_filename_component(E2E_NVCC_DIR ${CUSHIM_NVCC} DIRECTORY)
if(EXISTS ${E2E_NVCC_DIR}/__nvcc_device_query)
  add_test(NAME e2e/nvcc_device_query COMMAND ${E2E_CUSHIM} run -- ${E2E_NVCC_DIR}/__nvcc_device_query)
  set_tests_properties(e2e/nvcc_device_query PROPERTIES LABELS "e2e;static-cudart" ENVIRONMENT "CUSHIM_CC=8.6"
                       PASS_REGULAR_EXPRESSION "^86[^0-9]*$")
endif()

# --- The areas' programs with nvcc's defaults, each at the architecture of its -cudart shared build ----------------
foreach(Prog simt_blocks simt_warps)
  e2e_static(${Prog} LABELS simt)
endforeach()
e2e_static(simt_elect ARCH 90 ENV CUSHIM_CC=9.0 LABELS simt)
e2e_static(memory_kinds LABELS memory)
# NVIDIA's runtime dereferences cudaLaunchKernelExC's config before checking it (a crash on a GPU too), so the
# program leaves that one check to our runtime's build (E2E_NVIDIA_RUNTIME).
e2e_static(device_limits EXTRA -DE2E_NVIDIA_RUNTIME LABELS memory)
e2e_static(pitched EXTRA ${E2E_STUB_LIBCUDA} LABELS textures)
e2e_static(textures LABELS textures)
e2e_static(surfaces EXTRA ${E2E_STUB_LIBCUDA} LABELS textures)
e2e_static(streams EXTRA ${E2E_STUB_LIBCUDA} LABELS streams)
# One build per math program (the half/bf16 one with the native bf16 instructions); the host references need
# -frounding-math as in tests/e2e/groups/math.cmake.
e2e_static(math_float ARCH 75 EXTRA -Xcompiler -frounding-math LABELS math)
e2e_static(math_double ARCH 90 EXTRA -Xcompiler -frounding-math ENV CUSHIM_CC=9.0 LABELS math)
e2e_static(math_half ARCH 90 EXTRA -Xcompiler -frounding-math -DMATH_HALF_SM80 ENV CUSHIM_CC=9.0 LABELS math)

# --- Several devices: the runtime loads its library once and launches its CUkernels in every device's primary
# context; each context gets its own copy of the library on first use (src/driver/LibraryContexts.cpp).
e2e_static(device_kernels ENV CUSHIM_DEVICES=4 LABELS devices)
# Devices used again after cudaDeviceReset: NVIDIA's runtime keeps the primary context's handle and its CUlibrary /
# CUkernel handles across the reset (core keeps them: docs/EXPORT_TABLES.md, "A device reset"). multi_device resets
# device 1 midway (and runs its CUDA_VISIBLE_DEVICES children, static too); device_reset resets device 0 four times;
# simt_deadlock resets the device after each kernel that never finishes.
e2e_static(multi_device EXTRA ${E2E_STUB_LIBCUDA} ENV CUSHIM_DEVICES=4 LABELS devices)
e2e_static(device_reset EXTRA ${E2E_STUB_LIBCUDA} LABELS devices)
e2e_static(simt_deadlock ENV CUSHIM_WATCHDOG_MS=1500 LABELS simt
           CHECKS --stderr-regex "unreachedSyncthreads.*deadlock in block .*barrier 0 \\(__syncthreads\\).*barrier 1"
                  --stderr-regex "countNeverMet.*deadlock in block .*barrier 1 \\(count 64\\): 32 threads arrived"
                  --stderr-regex "spinBeforeSyncthreads.*watchdog: no progress for 1500 ms.*barrier 0 .*64 threads spinning"
                  --stderr-regex "gridSyncMissingBlock.*watchdog: no progress"
                  --stderr-regex "lockNeverReleased.*watchdog: no progress.*31 threads spinning")

# --- Launches with attributes: cudaLaunchKernelEx (NVIDIA's static runtime calls cuLaunchKernelEx, its
# --default-stream per-thread build cuLaunchKernelEx_ptsz), cooperative configuration errors, and cuLaunchKernelEx on
# a module of driver_kernels.ptx. Built for our libcudart.so.13 too.
e2e_build(launch_ex SOURCE ${E2E_SRC}/launch_ex.cu FLAGS ${E2E_FLAGS_DEFAULT} ${E2E_STUB_LIBCUDA})
e2e_run(launch_ex BINARY launch_ex ARGS ${E2E_BIN}/driver_kernels.ptx)
e2e_static(launch_ex EXTRA ${E2E_STUB_LIBCUDA} ARGS ${E2E_BIN}/driver_kernels.ptx)
e2e_static(launch_ex NAME launch_ex_per_thread EXTRA ${E2E_STUB_LIBCUDA} --default-stream per-thread
           ARGS ${E2E_BIN}/driver_kernels.ptx)
set_property(TEST e2e/launch_ex e2e/launch_ex/static_cudart e2e/launch_ex_per_thread/static_cudart APPEND
             PROPERTY FIXTURES_REQUIRED e2e_bin_driver_kernels.ptx)
