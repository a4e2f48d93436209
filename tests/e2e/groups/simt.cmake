# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.

# --- SIMT hard cases (docs/SIMT.md): block-level and warp-level micro-kernels with CPU references ------------------
foreach(Prog simt_blocks simt_warps simt_deadlock)
  e2e_build(${Prog} SOURCE ${E2E_SRC}/${Prog}.cu)
endforeach()
e2e_run(simt_blocks BINARY simt_blocks LABELS simt)
e2e_run(simt_warps BINARY simt_warps LABELS simt)
# One worker: look-back tiles and grid.sync() only progress because spinning blocks park (the 64-block cooperative
# launch is refused there with cudaErrorCooperativeLaunchTooLarge, which the program checks).
e2e_run(simt_blocks/one_worker BINARY simt_blocks ENV CUSHIM_WORKERS=1 LABELS simt)
e2e_run(simt_warps/one_worker BINARY simt_warps ENV CUSHIM_WORKERS=1 LABELS simt)
# The same kernels on fibers (tier T2, the oracle); the runs above take tier T1 (coroutines) wherever it applies.
e2e_run(simt_blocks/engine_t2 BINARY simt_blocks ENV CUSHIM_ENGINE=t2 LABELS "simt;engine")
e2e_run(simt_warps/engine_t2 BINARY simt_warps ENV CUSHIM_ENGINE=t2 LABELS "simt;engine")

# elect.sync as nvcc emits it for cooperative_groups::invoke_one on sm_90: compute_90 PTX on a device reporting 9.0.
e2e_build(simt_elect SOURCE ${E2E_SRC}/simt_elect.cu
          FLAGS -cudart shared -gencode arch=compute_90,code=compute_90 -O3 -I${E2E_SRC})
e2e_run(simt_elect BINARY simt_elect ENV CUSHIM_CC=9.0 LABELS simt)

# Kernels that never finish fail with cudaErrorLaunchFailure (sticky until cudaDeviceReset), deadlocks at once and
# livelocks after the watchdog limit; the log names the kernel, the block and the barrier.
e2e_run(simt_deadlock BINARY simt_deadlock ENV CUSHIM_WATCHDOG_MS=1500 LABELS simt
        CHECKS --stderr-regex "unreachedSyncthreads.*deadlock in block .*barrier 0 \\(__syncthreads\\).*barrier 1"
               --stderr-regex "countNeverMet.*deadlock in block .*barrier 1 \\(count 64\\): 32 threads arrived"
               --stderr-regex "spinBeforeSyncthreads.*watchdog: no progress for 1500 ms.*barrier 0 .*64 threads spinning"
               --stderr-regex "gridSyncMissingBlock.*watchdog: no progress"
               --stderr-regex "lockNeverReleased.*watchdog: no progress.*31 threads spinning")

# Every SIMT program 20 times: each run must pass and print exactly what the first printed (docs/SIMT.md).
foreach(Prog warp_ops barriers its atomics cooperative simt_blocks simt_warps)
  e2e_run(${Prog}/repeat20 BINARY ${Prog} LABELS "simt;simt-repeat" CHECKS --repeat 20)
endforeach()

# Tier T0 thread loops with index guards (versioned by the JIT's GuardVersioningPass): full, partial and empty blocks,
# indices that wrap inside a block; again on the oracle tier.
e2e_build(flat_guards SOURCE ${E2E_SRC}/flat_guards.cu)
e2e_run(flat_guards BINARY flat_guards LABELS engine)
e2e_run(flat_guards/engine_t2 BINARY flat_guards ENV CUSHIM_ENGINE=t2 LABELS engine)

# Thread loops around inner loops that every thread runs alike (n-body tiles, column-major dot products, per-step
# stores, nested loops), run block by block by the JIT's ThreadLoopInterchangePass and vectorised across threads;
# results bit for bit as CPU code; again on the oracle tier.
e2e_build(thread_interchange SOURCE ${E2E_SRC}/thread_interchange.cu)
e2e_run(thread_interchange BINARY thread_interchange LABELS engine)
e2e_run(thread_interchange/engine_t2 BINARY thread_interchange ENV CUSHIM_ENGINE=t2 LABELS engine)
# Loops nvcc unrolls by 4 after a remainder loop, merged back into one by RuntimeUnrollMergePass (and the same on T2).
e2e_build(unrolled_loops SOURCE ${E2E_SRC}/unrolled_loops.cu)
e2e_run(unrolled_loops BINARY unrolled_loops LABELS engine)
e2e_run(unrolled_loops/engine_t2 BINARY unrolled_loops ENV CUSHIM_ENGINE=t2 LABELS engine)

# Tier T1 block scans whose region thread loops are vectorised (arena alias scopes, unswitched uniform branches,
# sign-extended shared addresses); again on the oracle tier.
e2e_build(region_scan SOURCE ${E2E_SRC}/region_scan.cu)
e2e_run(region_scan BINARY region_scan LABELS engine)
e2e_run(region_scan/engine_t2 BINARY region_scan ENV CUSHIM_ENGINE=t2 LABELS engine)

# Warp-synchronous code (volatile shared memory, no __syncwarp): the lanes of a warp step together at each volatile
# access, on every tier.
e2e_build(simt_warp_lockstep SOURCE ${E2E_SRC}/simt_warp_lockstep.cu)
e2e_run(simt_warp_lockstep BINARY simt_warp_lockstep LABELS simt)
e2e_run(simt_warp_lockstep/engine_t1 BINARY simt_warp_lockstep ENV CUSHIM_ENGINE=t1 LABELS "simt;engine")
e2e_run(simt_warp_lockstep/engine_t2 BINARY simt_warp_lockstep ENV CUSHIM_ENGINE=t2 LABELS "simt;engine")
# Warp collectives between barriers where T1 runs only the regions after warp cuts warp by warp.
e2e_build(simt_warp_regions SOURCE ${E2E_SRC}/simt_warp_regions.cu)
e2e_run(simt_warp_regions BINARY simt_warp_regions LABELS simt)
e2e_run(simt_warp_regions/engine_t2 BINARY simt_warp_regions ENV CUSHIM_ENGINE=t2 LABELS "simt;engine")

# The tree reductions of CUDA courses on tier T1 region entries (tree steps strided by ThreadLoopStride, split by
# ThreadLoopSplit); again on the oracle tier.
e2e_build(region_reductions SOURCE ${E2E_SRC}/region_reductions.cu)
e2e_run(region_reductions BINARY region_reductions LABELS engine)
e2e_run(region_reductions/engine_t2 BINARY region_reductions ENV CUSHIM_ENGINE=t2 LABELS engine)
