/* cuda_shim vendor HAL: the C ABI a chip vendor implements to run CUDA programs through cuda_shim.
 * A backend fills one cushim_hal_ops table; optional entries may be NULL (the API then returns
 * CUDA_ERROR_NOT_SUPPORTED). Every function returns a CUresult value (0 = success). */
#ifndef CUDA_SHIM_HAL_H
#define CUDA_SHIM_HAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CUSHIM_HAL_ABI_VERSION 1u

typedef int cushim_hal_result; /* a CUresult value */

typedef struct cushim_hal_context_s *cushim_hal_context;
typedef struct cushim_hal_queue_s *cushim_hal_queue;
typedef struct cushim_hal_event_s *cushim_hal_event;
typedef struct cushim_hal_module_s *cushim_hal_module;
typedef struct cushim_hal_kernel_s *cushim_hal_kernel;

/* What a device reports about itself; the core derives the rest of the CUDA attributes
 * from the compute capability it is asked to report. */
typedef struct cushim_hal_device_info {
  char name[256];
  uint8_t uuid[16];
  uint64_t total_memory;
  int multiprocessor_count;
  int clock_rate_khz;
  int memory_clock_rate_khz;
  int memory_bus_width;
  int l2_cache_size;
  int integrated;               /* 1 when device memory is host memory */
  int can_map_host_memory;
  int unified_addressing;
  int concurrent_managed_access;
  int pci_domain, pci_bus, pci_device;
} cushim_hal_device_info;

/* The code generation target of a device: what the core compiles lowered PTX for. */
typedef struct cushim_hal_target {
  const char *triple;      /* LLVM target triple */
  const char *cpu;         /* LLVM CPU name */
  const char *features;    /* LLVM feature string */
  const char *data_layout; /* may be empty: the target machine's default */
} cushim_hal_target;

enum cushim_hal_memory_kind {
  CUSHIM_HAL_MEMORY_DEVICE = 0,
  CUSHIM_HAL_MEMORY_PINNED_HOST = 1,
  CUSHIM_HAL_MEMORY_MANAGED = 2,
};

/* Per-kernel facts the translator knows and a backend may need to run the kernel. */
enum cushim_hal_kernel_flags {
  CUSHIM_HAL_KERNEL_USES_BARRIERS = 1u << 0,   /* bar/barrier instructions may execute */
  CUSHIM_HAL_KERNEL_USES_WARP_OPS = 1u << 1,   /* shfl/vote/match/redux/activemask/bar.warp */
  CUSHIM_HAL_KERNEL_USES_GRID_SYNC = 1u << 2,  /* needs all blocks resident (cooperative launch) */
  CUSHIM_HAL_KERNEL_MAY_SPIN = 1u << 3,        /* has loops that may wait for other threads (calls __cushim_yield) */
  CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY = 1u << 4,  /* __cushim_flat_NAME runs a whole block (kernel_abi.h, tier T0) */
  CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY = 1u << 5, /* __cushim_coro_NAME: a thread as a coroutine (tier T1) */
  CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY = 1u << 6, /* __cushim_region_NAME runs a whole block, barriers included (tier T1) */
  CUSHIM_HAL_KERNEL_REGION_NEEDS_WARP_ROWS = 1u << 7, /* the region entry runs warp collectives: only for blocks whose
                                                          x dimension is a multiple of 32 (other shapes: tier T1's
                                                          coroutine entry, or fibers) */
};

typedef struct cushim_hal_kernel_desc {
  const char *name;          /* symbol of the lowered kernel in the object */
  uint32_t flags;            /* cushim_hal_kernel_flags */
  uint32_t param_size;       /* bytes of the kernel parameter buffer */
  uint32_t static_shared_size;
  uint32_t local_size;       /* per-thread local memory estimate (bytes) */
  uint32_t max_threads;      /* from .maxntid/.reqntid, 0 if none */
} cushim_hal_kernel_desc;

typedef struct cushim_hal_launch {
  uint32_t grid[3];
  uint32_t block[3];
  uint32_t dynamic_shared_size;
  uint32_t flags;            /* reserved (cooperative launch later) */
  const void *params;        /* packed parameter buffer; the backend copies it before returning */
  size_t params_size;
} cushim_hal_launch;

typedef void (*cushim_hal_host_fn)(void *user_data);

typedef struct cushim_hal_ops {
  uint32_t abi_version;  /* CUSHIM_HAL_ABI_VERSION */
  uint32_t struct_size;  /* sizeof(cushim_hal_ops) as compiled by the backend */
  const char *name;      /* short backend name, e.g. "host" */

  /* Devices */
  cushim_hal_result (*device_count)(int *count);
  cushim_hal_result (*device_info)(int device, cushim_hal_device_info *info);
  cushim_hal_result (*mem_info)(int device, uint64_t *free_bytes, uint64_t *total_bytes);
  cushim_hal_result (*target_describe)(int device, cushim_hal_target *target);

  /* Contexts */
  cushim_hal_result (*context_create)(int device, cushim_hal_context *context);
  cushim_hal_result (*context_destroy)(cushim_hal_context context);

  /* Memory: device pointers returned here are what kernels and copies address. */
  cushim_hal_result (*mem_alloc)(cushim_hal_context context, size_t bytes, int kind, void **ptr);
  cushim_hal_result (*mem_free)(cushim_hal_context context, void *ptr, int kind);
  cushim_hal_result (*host_register)(cushim_hal_context context, void *ptr, size_t bytes, unsigned flags,
                                     void **device_ptr); /* optional */
  cushim_hal_result (*host_unregister)(cushim_hal_context context, void *ptr); /* optional */

  /* Queues: every enqueue returns at once; the work runs in order on the queue. Errors of
   * asynchronous work (a kernel fault) are returned by later synchronising calls. */
  cushim_hal_result (*queue_create)(cushim_hal_context context, unsigned flags, int priority, cushim_hal_queue *queue);
  cushim_hal_result (*queue_destroy)(cushim_hal_queue queue);
  cushim_hal_result (*queue_query)(cushim_hal_queue queue); /* CUDA_ERROR_NOT_READY while busy */
  cushim_hal_result (*queue_synchronize)(cushim_hal_queue queue);
  cushim_hal_result (*enqueue_copy)(cushim_hal_queue queue, void *dst, const void *src, size_t bytes);
  cushim_hal_result (*enqueue_copy_2d)(cushim_hal_queue queue, void *dst, size_t dst_pitch, const void *src,
                                       size_t src_pitch, size_t width_bytes, size_t height); /* optional */
  cushim_hal_result (*enqueue_fill)(cushim_hal_queue queue, void *dst, uint32_t value, unsigned element_size,
                                    size_t count); /* element_size 1, 2 or 4 */
  cushim_hal_result (*enqueue_launch)(cushim_hal_queue queue, cushim_hal_kernel kernel,
                                      const cushim_hal_launch *launch);
  cushim_hal_result (*enqueue_host_func)(cushim_hal_queue queue, cushim_hal_host_fn fn, void *user_data);

  /* Events */
  cushim_hal_result (*event_create)(cushim_hal_context context, unsigned flags, cushim_hal_event *event);
  cushim_hal_result (*event_destroy)(cushim_hal_event event);
  cushim_hal_result (*event_record)(cushim_hal_event event, cushim_hal_queue queue);
  cushim_hal_result (*queue_wait_event)(cushim_hal_queue queue, cushim_hal_event event);
  cushim_hal_result (*event_query)(cushim_hal_event event); /* CUDA_ERROR_NOT_READY until reached */
  cushim_hal_result (*event_synchronize)(cushim_hal_event event);
  cushim_hal_result (*event_elapsed_ms)(float *ms, cushim_hal_event start, cushim_hal_event end);

  /* Code: a module is an object file compiled by the core for target_describe's target. */
  cushim_hal_result (*module_load)(cushim_hal_context context, const void *object, size_t object_size,
                                   const cushim_hal_kernel_desc *kernels, size_t kernel_count,
                                   cushim_hal_module *module);
  cushim_hal_result (*module_unload)(cushim_hal_module module);
  cushim_hal_result (*kernel_get)(cushim_hal_module module, const char *name, cushim_hal_kernel *kernel);
  cushim_hal_result (*global_get)(cushim_hal_module module, const char *name, void **address, size_t *size);
  /* Optional: adds an object holding one more kernel (a variant of one of the module's kernels, specialised for a
   * launch shape) to a loaded module. The object's undefined symbols resolve to the module's variables first; it
   * defines no symbol the module has. The kernel lives as long as the module. */
  cushim_hal_result (*module_add_variant)(cushim_hal_module module, const void *object, size_t object_size,
                                          const cushim_hal_kernel_desc *kernel, cushim_hal_kernel *out);
} cushim_hal_ops;

/* The reference host backend, always built in. */
const cushim_hal_ops *cushim_hal_host_backend(void);

/* Entry point a vendor backend shared library exports (loaded by name later). */
typedef const cushim_hal_ops *(*cushim_hal_get_ops_fn)(void);
#define CUSHIM_HAL_ENTRY_POINT "cushim_hal_get_ops"

#ifdef __cplusplus
}
#endif

#endif /* CUDA_SHIM_HAL_H */
