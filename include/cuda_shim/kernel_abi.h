/* cuda_shim kernel ABI: the contract between PTX lowered to LLVM IR (src/ptx_translate) and the
 * engine that runs it (a backend). Lowered code is per-thread: it reads its coordinates from a
 * cushim_thread_ctx and calls the runtime functions below for everything that needs other threads.
 *
 * Functions emitted by the lowering:
 *   kernel (.entry NAME):  void NAME(const void *params, cushim_thread_ctx *ctx)
 *                          params is the packed parameter buffer (CUDA's layout: each parameter at
 *                          its natural alignment, in declaration order).
 *   device function (.func NAME):
 *                          void __cushim_func_NAME(cushim_thread_ctx *ctx, void *ret0, ..., void *param0, ...)
 *                          every .param is passed as a pointer to caller-owned memory of its size
 *                          (returns first, then parameters).
 *   flat entry (kernels flagged CUSHIM_HAL_KERNEL_HAS_FLAT_ENTRY, engine tier T0):
 *                          void __cushim_flat_NAME(const void *params, cushim_thread_ctx *ctx)
 *                          runs every thread of one block in a loop; ctx carries the block's fields (tid,
 *                          laneid and warpid are ignored). Such kernels never call __cushim_exit or
 *                          __cushim_yield, and never execute barriers or warp collectives.
 *   region entry (kernels flagged CUSHIM_HAL_KERNEL_HAS_REGION_ENTRY, engine tier T1):
 *                          void __cushim_region_NAME(const void *params, cushim_thread_ctx *ctx)
 *                          runs every thread of one block, as a flat entry does, for kernels whose only waits are
 *                          barriers of the whole block that all its threads reach together; values that live
 *                          across a barrier are kept in __cushim_block_scratch memory.
 *   coroutine entry (kernels flagged CUSHIM_HAL_KERNEL_HAS_COROUTINE_ENTRY, engine tier T1):
 *                          void *__cushim_coro_NAME(const void *params, cushim_thread_ctx *ctx)
 *                          one GPU thread as a stackless coroutine (LLVM switch-resumed ABI: the frame starts
 *                          with its resume function pointer). Returns its frame at the first wait; every wait
 *                          is a __cushim_coro_bar/__cushim_coro_coll call that returned nonzero. A call of the
 *                          ramp or of a resume that returns without such a request means the thread finished.
 *   extern device function (.extern .func NAME, e.g. vprintf, malloc, free, __assertfail):
 *                          same convention, symbol __cushim_extern_NAME, provided by the backend.
 *
 * Address spaces as the lowering sees them:
 *   global, const, generic: host virtual addresses (cvta to/from these is the identity);
 *   shared: 32-bit offsets into the block's shared window, generic = ctx->shared_base + offset;
 *   local: host addresses of per-thread storage (allocas), cvta is the identity;
 *   param (kernel): offsets into the parameter buffer. */
#ifndef CUDA_SHIM_KERNEL_ABI_H
#define CUDA_SHIM_KERNEL_ABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CUSHIM_KERNEL_ABI_VERSION 1u

/* One per GPU thread; the engine owns it and keeps it alive while the thread runs.
 * Field order and types are ABI: the lowering addresses fields by offsetof(). */
typedef struct cushim_thread_ctx {
  uint32_t tid[4];    /* %tid.x/y/z (index 3 unused) */
  uint32_t ntid[4];   /* %ntid */
  uint32_t ctaid[4];  /* %ctaid */
  uint32_t nctaid[4]; /* %nctaid */
  uint32_t laneid;    /* %laneid: linear thread index in block % 32 */
  uint32_t warpid;    /* %warpid: linear thread index in block / 32 */
  uint32_t nwarpid;   /* %nwarpid */
  uint32_t smid;      /* %smid: the worker running the block */
  uint32_t nsmid;     /* %nsmid */
  uint32_t dynamic_shared_size; /* %dynamic_smem_size */
  uint32_t total_shared_size;   /* %total_smem_size (static + dynamic) */
  /* Flat and region entries write their full-line vector stores past the caches (non-temporal) when the launch
   * stores at least this many KiB with them (its thread count times the bytes each thread stores so): data that
   * outgrows the last-level cache would only evict what is worth keeping. 0: always; UINT32_MAX: never. */
  uint32_t stream_store_kib;
  uint64_t gridid;    /* %gridid */
  char *shared_base;  /* the block's shared window: static variables, then dynamic shared memory */
  void *engine;       /* engine-private state (block, warp, fiber) */
  void *launch;       /* engine-private launch state */
} cushim_thread_ctx;

/* Runtime functions the lowering calls (all provided by the backend, resolved at load time). */

/* bar.sync / barrier.sync: wait until `count` threads (0: all threads of the block) arrived at barrier `id`.
 * Exited threads count as arrived. */
void __cushim_bar_sync(cushim_thread_ctx *ctx, uint32_t id, uint32_t count);
/* bar.arrive: arrive without waiting. */
void __cushim_bar_arrive(cushim_thread_ctx *ctx, uint32_t id, uint32_t count);
/* bar.red.{popc,and,or}: op 0 = popc (returns count), 1 = and, 2 = or (return 0/1). */
uint32_t __cushim_bar_red(cushim_thread_ctx *ctx, uint32_t id, uint32_t count, uint32_t op, uint32_t pred);

/* Warp collectives (CUDA semantics, `mask` = member mask). */
enum cushim_shfl_mode { CUSHIM_SHFL_UP = 0, CUSHIM_SHFL_DOWN = 1, CUSHIM_SHFL_BFLY = 2, CUSHIM_SHFL_IDX = 3 };
/* Returns the value read; *in_range receives the |p predicate (1 if the source lane was in range). */
uint32_t __cushim_shfl_sync(cushim_thread_ctx *ctx, uint32_t mode, uint32_t value, uint32_t b, uint32_t c,
                            uint32_t mask, uint32_t *in_range);
enum cushim_vote_mode { CUSHIM_VOTE_ALL = 0, CUSHIM_VOTE_ANY = 1, CUSHIM_VOTE_UNI = 2, CUSHIM_VOTE_BALLOT = 3 };
uint32_t __cushim_vote_sync(cushim_thread_ctx *ctx, uint32_t mode, uint32_t pred, uint32_t mask);
/* match.any/all.sync on a 64-bit value (32-bit values zero-extended); mode 0 = any, 1 = all.
 * For all, *all_equal receives the predicate. */
uint32_t __cushim_match_sync(cushim_thread_ctx *ctx, uint32_t mode, uint64_t value, uint32_t mask,
                             uint32_t *all_equal);
/* redux.sync: op 0 add, 1 min, 2 max, 3 umin, 4 umax, 5 and, 6 or, 7 xor. */
uint32_t __cushim_redux_sync(cushim_thread_ctx *ctx, uint32_t op, uint32_t value, uint32_t mask);
uint32_t __cushim_activemask(cushim_thread_ctx *ctx);
void __cushim_warp_sync(cushim_thread_ctx *ctx, uint32_t mask);
/* Called before each volatile ld/st that may reach shared memory: the other lanes of the warp that are running run
 * up to their own next such access first (a scheduling point, not a barrier: lanes elsewhere or exited are not
 * waited for), so warp-synchronous code sees its warp execute each access in lockstep, as on a GPU. */
void __cushim_warp_step(cushim_thread_ctx *ctx);

/* Tier T1 (coroutine entries): the waits above split into a post, a suspension when the post returns nonzero,
 * and the result. Kinds and operations: */
enum cushim_collective_kind {
  CUSHIM_COLLECTIVE_SHFL = 0,
  CUSHIM_COLLECTIVE_VOTE = 1,
  CUSHIM_COLLECTIVE_MATCH = 2,
  CUSHIM_COLLECTIVE_REDUX = 3,
  CUSHIM_COLLECTIVE_ACTIVEMASK = 4,
  CUSHIM_COLLECTIVE_WARPSYNC = 5,
  CUSHIM_COLLECTIVE_WARPSTEP = 6 /* __cushim_warp_step */
};
enum cushim_coro_bar_op { CUSHIM_CORO_BAR_SYNC = 0, CUSHIM_CORO_BAR_ARRIVE = 1, CUSHIM_CORO_BAR_RED = 2 };
/* The calling thread's coroutine frame (size bytes, 16-byte aligned), valid until its block finishes. */
void *__cushim_coro_frame(cushim_thread_ctx *ctx, uint64_t size);
/* bar.sync/arrive/red as __cushim_bar_*; returns 1 when the thread must suspend until the barrier completes. */
uint32_t __cushim_coro_bar(cushim_thread_ctx *ctx, uint32_t op, uint32_t id, uint32_t count, uint32_t red_op,
                           uint32_t pred);
/* A warp collective (kind, mode or op, value zero-extended, shfl's b and c, member mask); 1: suspend. */
uint32_t __cushim_coro_coll(cushim_thread_ctx *ctx, uint32_t kind, uint32_t mode, uint64_t value, uint32_t b,
                            uint32_t c, uint32_t mask);
/* The result of the last wait (collective value or bar.red result); *pred (if not null) gets the predicate. */
uint32_t __cushim_coro_result(cushim_thread_ctx *ctx, uint32_t *pred);

/* Tier T1 (region entries): Size bytes (64-byte aligned) of scratch memory for the block ctx belongs to, valid
 * until the block finishes. */
void *__cushim_block_scratch(cushim_thread_ctx *ctx, uint64_t size);

/* Timers */
uint64_t __cushim_clock64(cushim_thread_ctx *ctx);
uint64_t __cushim_globaltimer(cushim_thread_ctx *ctx);
void __cushim_nanosleep(cushim_thread_ctx *ctx, uint32_t ns);

/* Independent thread scheduling: called on the back-edge of every loop that may wait for another thread (a
 * spin-wait on memory, a lock taken with atom.cas, a grid barrier). An engine that runs one thread at a time lets
 * the other threads (and blocks) make progress; an engine with real parallel threads may return at once. */
void __cushim_yield(cushim_thread_ctx *ctx);
/* %envreg0..31 (values the driver hands to a launch). %envreg1:%envreg2 is the address of the grid workspace
 * (struct { uint32_t size; uint32_t barrier; }) that cooperative_groups' grid.sync() counts arrivals in. */
uint32_t __cushim_envreg(cushim_thread_ctx *ctx, uint32_t index);

/* Thread termination from anywhere (exit inside a device function); never returns. */
void __cushim_exit(cushim_thread_ctx *ctx);
/* trap / brkpt: abort the whole launch with a kernel fault; never returns. */
void __cushim_trap(cushim_thread_ctx *ctx);
/* An instruction the translator accepted but cannot execute here; aborts the launch, naming it. */
void __cushim_unsupported(cushim_thread_ctx *ctx, const char *what);

#ifdef __cplusplus
}
#endif

#endif /* CUDA_SHIM_KERNEL_ABI_H */
