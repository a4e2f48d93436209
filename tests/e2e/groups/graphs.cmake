# e2e programs of one area, registered with e2e_build/e2e_run (tests/e2e/CMakeLists.txt); included from there.

# --- CUDA graphs (docs/GRAPHS.md) ------------------------------------------------------------------------------------
# Capture (fork/join, replays), an explicit graph with every node type, exec update, clone, DOT, misuse, driver API.
# The program also calls the driver API (the toolkit's libcuda stub for linking, ours at run time).
e2e_build(graphs SOURCE ${E2E_SRC}/graphs.cu FLAGS ${E2E_FLAGS_STREAMS})
e2e_run(graphs BINARY graphs LABELS graphs)
# Again with nvcc's default static cudart: NVIDIA's runtime maps cudaGraph*/cudaStream*Capture* onto our cuGraph* and
# cuStream*Capture* (through cuGetProcAddress), which checks the driver half on its own.
e2e_static(graphs EXTRA ${E2E_STUB_LIBCUDA})
set_property(TEST e2e/graphs/static_cudart APPEND PROPERTY LABELS graphs)
# Independent branches run concurrently: host nodes that rendezvous, a host node waiting for a kernel on another
# branch, child-graph and captured branches; edges and launch order checked by results.
e2e_build(graph_concurrency SOURCE ${E2E_SRC}/graph_concurrency.cu)
e2e_run(graph_concurrency BINARY graph_concurrency LABELS graphs)
# Kernels synchronous with their enqueue, and a single worker thread: branches still meet (queues have threads of their
# own, and an enqueue waits only for its own lane).
e2e_run(graph_concurrency/launch_blocking BINARY graph_concurrency ENV CUDA_LAUNCH_BLOCKING=1 LABELS graphs)
e2e_run(graph_concurrency/one_worker BINARY graph_concurrency ENV CUSHIM_WORKERS=1 LABELS graphs)
# Memory allocation and free nodes: explicit, captured from cudaMallocAsync/cudaFreeAsync, freed outside the graph,
# auto-free on launch, the documented errors, graph memory attributes; runtime and driver API.
e2e_build(graph_memory SOURCE ${E2E_SRC}/graph_memory.cu FLAGS ${E2E_FLAGS_STREAMS})
e2e_run(graph_memory BINARY graph_memory LABELS graphs)
# Memcpy nodes with CUDA arrays (runtime and driver), symbol and 1D copy nodes.
e2e_build(graph_arrays SOURCE ${E2E_SRC}/graph_arrays.cu FLAGS ${E2E_FLAGS_STREAMS})
e2e_run(graph_arrays BINARY graph_arrays LABELS graphs)
# The same three with nvcc's default static cudart: NVIDIA's runtime reaches our cuGraph*, cuMemAllocAsync in capture
# and CU_MEMORYTYPE_ARRAY copies through cuGetProcAddress.
foreach(Prog graph_concurrency graph_memory graph_arrays)
  e2e_static(${Prog} EXTRA ${E2E_STUB_LIBCUDA})
  set_property(TEST e2e/${Prog}/static_cudart APPEND PROPERTY LABELS graphs)
endforeach()
