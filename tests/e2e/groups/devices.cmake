# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.
# Area: several virtual devices, CUDA_VISIBLE_DEVICES and host-thread concurrency (docs/DEVICES.md).

# --- Several devices: identities, per-device memory and kernels, peer access and copies, reset, visibility --------
# The program also calls the driver API (the toolkit's libcuda stub for linking, ours at run time). The full check
# runs itself again as child processes with other CUDA_VISIBLE_DEVICES values (indices, UUIDs, prefixes, truncation).
e2e_build(multi_device SOURCE ${E2E_SRC}/multi_device.cu FLAGS ${E2E_FLAGS_STREAMS})
e2e_run(multi_device BINARY multi_device ENV CUSHIM_DEVICES=4 LABELS devices)
# The host backend's devices are on PCI buses 1, 2, ... in their physical order; CUDA_VISIBLE_DEVICES reorders them.
e2e_run(multi_device/visible_2_0 BINARY multi_device ENV CUSHIM_DEVICES=4 CUDA_VISIBLE_DEVICES=2,0
        ARGS --expect-bus 3,1 LABELS devices)
e2e_run(multi_device/visible_truncated BINARY multi_device ENV CUSHIM_DEVICES=4 CUDA_VISIBLE_DEVICES=3,4,0
        ARGS --expect-bus 4 LABELS devices)
e2e_run(multi_device/visible_none BINARY multi_device ENV CUSHIM_DEVICES=4 CUDA_VISIBLE_DEVICES=-1
        ARGS --expect-count 0 LABELS devices)
e2e_run(multi_device/default_one BINARY multi_device ARGS --expect-count 1 LABELS devices)
# cudaDeviceReset mid-program, four times, then allocations, kernels and module variables again; the primary
# context's handle, state and the driver's primary-context calls around the reset (static build in static.cmake).
e2e_build(device_reset SOURCE ${E2E_SRC}/device_reset.cu FLAGS ${E2E_FLAGS_STREAMS})
e2e_run(device_reset BINARY device_reset LABELS devices)
# Every device runs its own copy of a kernel, with its own __device__ variables and streams (static build below).
e2e_build(device_kernels SOURCE ${E2E_SRC}/device_kernels.cu)
e2e_run(device_kernels BINARY device_kernels ENV CUSHIM_DEVICES=4 LABELS devices)

# --- Host threads: 16 threads with their own streams, 1,000 launch + copy rounds each, exact results; the program
# also prints how launch+sync and table lookups scale with host threads (docs/PERFORMANCE.md, "Host threads").
e2e_build(threads SOURCE ${E2E_SRC}/threads.cu)
e2e_run(threads BINARY threads LABELS devices)
# Again through NVIDIA's static cudart, which takes its own locks before reaching our driver entry points.
e2e_static(threads)
set_property(TEST e2e/threads/static_cudart APPEND PROPERTY LABELS devices)
