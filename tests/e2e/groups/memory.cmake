# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.
# Memory kinds (docs/MEMORY.md): pinned, registered, managed (__managed__ and cudaMallocManaged), stream-ordered pools,
# memory info, pointer attributes and misuse through the runtime; virtual memory, address ranges and pointer attributes
# through the driver.
e2e_build(memory_kinds SOURCE ${E2E_SRC}/memory_kinds.cu)
e2e_run(memory_kinds BINARY memory_kinds LABELS memory)
# The same program on one engine worker: stream-ordered frees run as stream callbacks on the backend's queues.
e2e_run(memory_kinds/one_worker BINARY memory_kinds ENV CUSHIM_WORKERS=1 LABELS memory)

# Driver API only (the toolkit's libcuda stub for linking, ours at run time); the kernels come from driver_kernels.ptx.
e2e_build(vmm SOURCE ${E2E_SRC}/vmm.cpp
          FLAGS -O2 -cudart none -L${CUDAToolkit_ROOT}/lib64/stubs -L${CUDAToolkit_ROOT}/lib64 -lcuda)
e2e_run(vmm BINARY vmm NEED libcuda.so.1 ARGS ${E2E_BIN}/driver_kernels.ptx LABELS memory)
set_property(TEST e2e/vmm APPEND PROPERTY FIXTURES_REQUIRED e2e_bin_driver_kernels.ptx)

# libcudart.so.13 exports every cuda* function the toolkit's runtime headers declare (plain and _ptds/_ptsz): the
# ones cuda_shim does not implement as generated stubs returning cudaErrorNotSupported (scripts/gen_runtime_surface.py).
add_test(NAME e2e/runtime_exports_every_cudart_name
         COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/scripts/gen_runtime_surface.py --check
                 ${CUSHIM_RUNTIME_NAMES} $<TARGET_FILE:cushim_runtime>)
set_tests_properties(e2e/runtime_exports_every_cudart_name PROPERTIES LABELS "e2e;memory")

# Device limits and configuration: limits, cudaLaunchKernelEx attributes, cache config, flags, PCI ids, peers.
e2e_build(device_limits SOURCE ${E2E_SRC}/device_limits.cu)
e2e_run(device_limits BINARY device_limits LABELS memory)
