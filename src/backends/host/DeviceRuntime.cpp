// The device runtime the host backend provides to JIT-loaded kernels: the __cushim_* functions of kernel_abi.h and
// the extern device functions (vprintf, malloc, free, __assertfail) under their __cushim_extern_* symbols.
#include "Engine.h"
#include "HostJit.h"
#include "TextureSampling.h"

#include "support/Log.h"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

using namespace cushim::host;

namespace {

ThreadRec *threadOf(cushim_thread_ctx *Ctx) { return static_cast<ThreadRec *>(Ctx->engine); }

std::mutex PrintMutex;
std::atomic<bool> PrintPending{false};

// Formats CUDA's device printf: the argument buffer holds each argument at an offset aligned to its size; integer
// types narrower than int arrive as int, float as double (C's default promotions, applied by nvcc).
// Returns the number of arguments consumed, or -1 for a null format.
int formatDevicePrintf(const char *Format, const char *Args, std::string &Out) {
  if (!Format)
    return -1;
  size_t Offset = 0;
  int Consumed = 0;
  auto Take = [&](size_t Size) -> const char * {
    Offset = (Offset + Size - 1) / Size * Size;
    const char *P = Args + Offset;
    Offset += Size;
    return P;
  };
  auto TakeInt = [&]() -> int {
    int V;
    std::memcpy(&V, Take(4), 4);
    return V;
  };
  char Piece[512];
  for (const char *P = Format; *P;) {
    if (*P != '%') {
      const char *Next = std::strchr(P, '%');
      size_t Len = Next ? static_cast<size_t>(Next - P) : std::strlen(P);
      Out.append(P, Len);
      P += Len;
      continue;
    }
    if (P[1] == '%') {
      Out += '%';
      P += 2;
      continue;
    }
    const char *Start = P++;
    std::string Spec = "%";
    while (*P && std::strchr("-+ #0'", *P))
      Spec += *P++;
    int Stars[2];
    int NumStars = 0;
    if (*P == '*') {
      Spec += *P++;
      if (Args)
        Stars[NumStars++] = TakeInt();
    } else {
      while (*P >= '0' && *P <= '9')
        Spec += *P++;
    }
    if (*P == '.') {
      Spec += *P++;
      if (*P == '*') {
        Spec += *P++;
        if (Args)
          Stars[NumStars++] = TakeInt();
      } else {
        while (*P >= '0' && *P <= '9')
          Spec += *P++;
      }
    }
    int Longs = 0;
    bool Wide = false; // z, j, t: 64-bit on every target we run
    for (;;) {
      if (*P == 'l') {
        ++Longs;
        ++P;
      } else if (*P == 'h' || *P == 'L') {
        ++P;
      } else if (*P == 'z' || *P == 'j' || *P == 't' || *P == 'q') {
        Wide = true;
        ++P;
      } else {
        break;
      }
    }
    char Conv = *P;
    if (!Conv || !Args) {
      // A conversion without arguments (or a truncated one) is printed as written.
      Out.append(Start, Conv ? static_cast<size_t>(P + 1 - Start) : std::strlen(Start));
      if (!Conv)
        break;
      ++P;
      continue;
    }
    ++P;
    auto Emit = [&](auto Value) {
      std::string F = Spec;
      int N;
      if (NumStars == 2)
        N = std::snprintf(Piece, sizeof(Piece), F.c_str(), Stars[0], Stars[1], Value);
      else if (NumStars == 1)
        N = std::snprintf(Piece, sizeof(Piece), F.c_str(), Stars[0], Value);
      else
        N = std::snprintf(Piece, sizeof(Piece), F.c_str(), Value);
      if (N < 0)
        return;
      if (static_cast<size_t>(N) < sizeof(Piece)) {
        Out.append(Piece, static_cast<size_t>(N));
        return;
      }
      std::string Big(static_cast<size_t>(N) + 1, '\0');
      if (NumStars == 2)
        std::snprintf(Big.data(), Big.size(), F.c_str(), Stars[0], Stars[1], Value);
      else if (NumStars == 1)
        std::snprintf(Big.data(), Big.size(), F.c_str(), Stars[0], Value);
      else
        std::snprintf(Big.data(), Big.size(), F.c_str(), Value);
      Out.append(Big.data(), static_cast<size_t>(N));
    };
    ++Consumed;
    switch (Conv) {
    case 'd':
    case 'i':
      if (Longs || Wide) {
        long long V;
        std::memcpy(&V, Take(8), 8);
        Spec += "ll";
        Spec += Conv;
        Emit(V);
      } else {
        Spec += Conv;
        Emit(TakeInt());
      }
      break;
    case 'u':
    case 'o':
    case 'x':
    case 'X':
      if (Longs || Wide) {
        unsigned long long V;
        std::memcpy(&V, Take(8), 8);
        Spec += "ll";
        Spec += Conv;
        Emit(V);
      } else {
        unsigned V;
        std::memcpy(&V, Take(4), 4);
        Spec += Conv;
        Emit(V);
      }
      break;
    case 'c':
      Spec += Conv;
      Emit(TakeInt());
      break;
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G':
    case 'a':
    case 'A': {
      double V;
      std::memcpy(&V, Take(8), 8);
      Spec += Conv;
      Emit(V);
      break;
    }
    case 's': {
      const char *S;
      std::memcpy(&S, Take(8), 8);
      Spec += 's';
      Emit(S ? S : "(null)");
      break;
    }
    case 'p': {
      void *V;
      std::memcpy(&V, Take(8), 8);
      Spec += 'p';
      Emit(V);
      break;
    }
    case 'n':
      Take(8); // not supported by CUDA either: the pointer is skipped
      break;
    default:
      --Consumed;
      Out.append(Start, static_cast<size_t>(P - Start));
      break;
    }
  }
  return Consumed;
}

} // namespace

namespace cushim::host {

void flushDevicePrintf() {
  if (PrintPending.exchange(false, std::memory_order_acq_rel)) {
    std::lock_guard<std::mutex> Lock(PrintMutex);
    std::fflush(stdout);
  }
}

} // namespace cushim::host

// ---- kernel_abi.h runtime functions ---------------------------------------------------------------------------

extern "C" {

void __cushim_bar_sync(cushim_thread_ctx *ctx, uint32_t id, uint32_t count) {
  engineBarrier(threadOf(ctx), BarrierOp::Sync, id, count, 0, 0);
}

void __cushim_bar_arrive(cushim_thread_ctx *ctx, uint32_t id, uint32_t count) {
  engineBarrier(threadOf(ctx), BarrierOp::Arrive, id, count, 0, 0);
}

uint32_t __cushim_bar_red(cushim_thread_ctx *ctx, uint32_t id, uint32_t count, uint32_t op, uint32_t pred) {
  ThreadRec *T = threadOf(ctx);
  engineBarrier(T, BarrierOp::Red, id, count, op, pred);
  return T->BarrierResult;
}

uint32_t __cushim_shfl_sync(cushim_thread_ctx *ctx, uint32_t mode, uint32_t value, uint32_t b, uint32_t c,
                            uint32_t mask, uint32_t *in_range) {
  CollectiveInput In{CollectiveKind::Shfl, mode, mask, value, b, c};
  CollectiveOutput Out = engineCollective(threadOf(ctx), In);
  if (in_range)
    *in_range = Out.Pred;
  return Out.Value;
}

uint32_t __cushim_vote_sync(cushim_thread_ctx *ctx, uint32_t mode, uint32_t pred, uint32_t mask) {
  CollectiveInput In{CollectiveKind::Vote, mode, mask, pred != 0, 0, 0};
  return engineCollective(threadOf(ctx), In).Value;
}

uint32_t __cushim_match_sync(cushim_thread_ctx *ctx, uint32_t mode, uint64_t value, uint32_t mask,
                             uint32_t *all_equal) {
  CollectiveInput In{CollectiveKind::Match, mode, mask, value, 0, 0};
  CollectiveOutput Out = engineCollective(threadOf(ctx), In);
  if (all_equal)
    *all_equal = Out.Pred;
  return Out.Value;
}

uint32_t __cushim_redux_sync(cushim_thread_ctx *ctx, uint32_t op, uint32_t value, uint32_t mask) {
  CollectiveInput In{CollectiveKind::Redux, op, mask, value, 0, 0};
  return engineCollective(threadOf(ctx), In).Value;
}

uint32_t __cushim_activemask(cushim_thread_ctx *ctx) {
  CollectiveInput In{CollectiveKind::ActiveMask, 0, ~0u, 0, 0, 0};
  return engineCollective(threadOf(ctx), In).Value;
}

void __cushim_warp_sync(cushim_thread_ctx *ctx, uint32_t mask) {
  CollectiveInput In{CollectiveKind::WarpSync, 0, mask, 0, 0, 0};
  engineCollective(threadOf(ctx), In);
}

void __cushim_warp_step(cushim_thread_ctx *ctx) { engineWarpStep(threadOf(ctx)); }

// Tier T1: the same waits, split so that the coroutine suspends itself (suspend() only records the request).
static_assert(static_cast<int>(CollectiveKind::Shfl) == CUSHIM_COLLECTIVE_SHFL &&
              static_cast<int>(CollectiveKind::Vote) == CUSHIM_COLLECTIVE_VOTE &&
              static_cast<int>(CollectiveKind::Match) == CUSHIM_COLLECTIVE_MATCH &&
              static_cast<int>(CollectiveKind::Redux) == CUSHIM_COLLECTIVE_REDUX &&
              static_cast<int>(CollectiveKind::ActiveMask) == CUSHIM_COLLECTIVE_ACTIVEMASK &&
              static_cast<int>(CollectiveKind::WarpSync) == CUSHIM_COLLECTIVE_WARPSYNC);

void *__cushim_coro_frame(cushim_thread_ctx *ctx, uint64_t size) {
  ThreadRec *T = threadOf(ctx);
  void *Frame = engineCoroutineFrame(T, size);
  if (!Frame)
    engineAbort(ctx, CUDA_ERROR_OUT_OF_MEMORY, fmt::format("cannot allocate coroutine frames of {} bytes", size));
  return Frame;
}

void *__cushim_block_scratch(cushim_thread_ctx *ctx, uint64_t size) {
  void *Scratch = engineBlockScratch(threadOf(ctx), size);
  if (!Scratch)
    engineAbort(ctx, CUDA_ERROR_OUT_OF_MEMORY, fmt::format("cannot allocate {} bytes of block scratch memory", size));
  return Scratch;
}

uint32_t __cushim_coro_bar(cushim_thread_ctx *ctx, uint32_t op, uint32_t id, uint32_t count, uint32_t red_op,
                           uint32_t pred) {
  ThreadRec *T = threadOf(ctx);
  T->MustSuspend = false;
  T->WaitedOnBarrier = true;
  BarrierOp Op = op == CUSHIM_CORO_BAR_ARRIVE ? BarrierOp::Arrive
                 : op == CUSHIM_CORO_BAR_RED  ? BarrierOp::Red
                                              : BarrierOp::Sync;
  engineBarrier(T, Op, id, count, red_op, pred);
  return T->MustSuspend;
}

uint32_t __cushim_coro_coll(cushim_thread_ctx *ctx, uint32_t kind, uint32_t mode, uint64_t value, uint32_t b,
                            uint32_t c, uint32_t mask) {
  ThreadRec *T = threadOf(ctx);
  T->MustSuspend = false;
  T->WaitedOnBarrier = false;
  if (kind == CUSHIM_COLLECTIVE_WARPSTEP) {
    engineWarpStep(T);
    return T->MustSuspend;
  }
  auto Kind = static_cast<CollectiveKind>(kind);
  CollectiveInput In{Kind, mode, mask, Kind == CollectiveKind::Vote ? uint64_t(value != 0) : value, b, c};
  if (Kind == CollectiveKind::ActiveMask)
    In.Mask = ~0u;
  T->CollOut = engineCollective(T, In);
  return T->MustSuspend;
}

uint32_t __cushim_coro_result(cushim_thread_ctx *ctx, uint32_t *pred) {
  ThreadRec *T = threadOf(ctx);
  if (T->WaitedOnBarrier)
    return T->BarrierResult;
  if (pred)
    *pred = T->CollOut.Pred;
  return T->CollOut.Value;
}

uint64_t __cushim_clock64(cushim_thread_ctx *ctx) {
#if defined(__x86_64__) || defined(__i386__)
  return __rdtsc();
#else
  return static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
#endif
}

uint64_t __cushim_globaltimer(cushim_thread_ctx *ctx) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

void __cushim_nanosleep(cushim_thread_ctx *ctx, uint32_t ns) {
  // Threads that sleep usually wait for another thread: in fiber mode let the block's other threads run (sleeping
  // there would serialise the sleeps of the whole block); alone on the stack, sleep for real (PTX caps it at 1 ms).
  if (engineYield(threadOf(ctx)))
    return;
  if (ns >= 2000)
    std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<uint32_t>(ns, 1000000)));
  else
    std::this_thread::yield();
}

void __cushim_yield(cushim_thread_ctx *ctx) { engineSpinYield(threadOf(ctx)); }

uint32_t __cushim_envreg(cushim_thread_ctx *ctx, uint32_t index) {
  // %envreg1:%envreg2 = the grid workspace of cooperative_groups (grid.sync() traps when it is null).
  auto *L = static_cast<LaunchState *>(ctx->launch);
  uint64_t Workspace = reinterpret_cast<uintptr_t>(L->GridWorkspace);
  if (index == 1)
    return static_cast<uint32_t>(Workspace >> 32);
  if (index == 2)
    return static_cast<uint32_t>(Workspace);
  return 0;
}

void __cushim_exit(cushim_thread_ctx *ctx) { engineExit(threadOf(ctx)); }

void __cushim_trap(cushim_thread_ctx *ctx) {
  engineAbort(ctx, CUDA_ERROR_LAUNCH_FAILED, "trap instruction executed");
}

void __cushim_unsupported(cushim_thread_ctx *ctx, const char *what) {
  engineAbort(ctx, CUDA_ERROR_LAUNCH_FAILED,
              fmt::format("unsupported instruction '{}' executed", what ? what : "?"));
}

// ---- Extern device functions (calling convention of kernel_abi.h: ctx, return slots, parameter slots) --------

void __cushim_extern_vprintf(cushim_thread_ctx *ctx, void *ret, void *format_param, void *args_param) {
  const char *Format;
  const char *Args;
  std::memcpy(&Format, format_param, sizeof(Format));
  std::memcpy(&Args, args_param, sizeof(Args));
  std::string Line;
  int Result = formatDevicePrintf(Format, Args, Line);
  if (!Line.empty()) {
    // One fwrite per call: lines of different threads never interleave.
    std::lock_guard<std::mutex> Lock(PrintMutex);
    std::fwrite(Line.data(), 1, Line.size(), stdout);
    PrintPending.store(true, std::memory_order_release);
  }
  if (ret)
    std::memcpy(ret, &Result, sizeof(Result));
}

void __cushim_extern_malloc(cushim_thread_ctx *ctx, void *ret, void *size_param) {
  uint64_t Size;
  std::memcpy(&Size, size_param, sizeof(Size));
  // CUDA's device heap hands out 16-byte aligned blocks.
  void *P = nullptr;
  if (posix_memalign(&P, 16, Size ? Size : 1) != 0)
    P = nullptr;
  std::memcpy(ret, &P, sizeof(P));
}

void __cushim_extern_free(cushim_thread_ctx *ctx, void *ptr_param) {
  void *P;
  std::memcpy(&P, ptr_param, sizeof(P));
  std::free(P);
}

void __cushim_extern___assertfail(cushim_thread_ctx *ctx, void *message_param, void *file_param, void *line_param,
                                  void *function_param, void *char_size_param) {
  const char *Message, *File, *Function;
  uint32_t Line;
  std::memcpy(&Message, message_param, sizeof(Message));
  std::memcpy(&File, file_param, sizeof(File));
  std::memcpy(&Line, line_param, sizeof(Line));
  std::memcpy(&Function, function_param, sizeof(Function));
  std::string Text = fmt::format("{}:{}: {}: block: [{},{},{}], thread: [{},{},{}] Assertion `{}` failed.\n",
                                 File ? File : "?", Line, Function ? Function : "?", ctx->ctaid[0], ctx->ctaid[1],
                                 ctx->ctaid[2], ctx->tid[0], ctx->tid[1], ctx->tid[2], Message ? Message : "?");
  {
    std::lock_guard<std::mutex> Lock(PrintMutex);
    std::fflush(stdout);
    std::fwrite(Text.data(), 1, Text.size(), stderr);
    std::fflush(stderr);
  }
  engineAbort(ctx, CUDA_ERROR_ASSERT, "device-side assertion failed");
}

} // extern "C"

namespace cushim::host {

const RuntimeSymbol *runtimeSymbols(size_t &Count) {
  static const RuntimeSymbol Table[] = {
      {"__cushim_bar_sync", reinterpret_cast<void *>(&__cushim_bar_sync)},
      {"__cushim_bar_arrive", reinterpret_cast<void *>(&__cushim_bar_arrive)},
      {"__cushim_bar_red", reinterpret_cast<void *>(&__cushim_bar_red)},
      {"__cushim_shfl_sync", reinterpret_cast<void *>(&__cushim_shfl_sync)},
      {"__cushim_vote_sync", reinterpret_cast<void *>(&__cushim_vote_sync)},
      {"__cushim_match_sync", reinterpret_cast<void *>(&__cushim_match_sync)},
      {"__cushim_redux_sync", reinterpret_cast<void *>(&__cushim_redux_sync)},
      {"__cushim_activemask", reinterpret_cast<void *>(&__cushim_activemask)},
      {"__cushim_warp_sync", reinterpret_cast<void *>(&__cushim_warp_sync)},
      {"__cushim_warp_step", reinterpret_cast<void *>(&__cushim_warp_step)},
      {"__cushim_coro_frame", reinterpret_cast<void *>(&__cushim_coro_frame)},
      {"__cushim_block_scratch", reinterpret_cast<void *>(&__cushim_block_scratch)},
      {"__cushim_coro_bar", reinterpret_cast<void *>(&__cushim_coro_bar)},
      {"__cushim_coro_coll", reinterpret_cast<void *>(&__cushim_coro_coll)},
      {"__cushim_coro_result", reinterpret_cast<void *>(&__cushim_coro_result)},
      {"__cushim_clock64", reinterpret_cast<void *>(&__cushim_clock64)},
      {"__cushim_globaltimer", reinterpret_cast<void *>(&__cushim_globaltimer)},
      {"__cushim_nanosleep", reinterpret_cast<void *>(&__cushim_nanosleep)},
      {"__cushim_yield", reinterpret_cast<void *>(&__cushim_yield)},
      {"__cushim_envreg", reinterpret_cast<void *>(&__cushim_envreg)},
      {"__cushim_exit", reinterpret_cast<void *>(&__cushim_exit)},
      {"__cushim_trap", reinterpret_cast<void *>(&__cushim_trap)},
      {"__cushim_unsupported", reinterpret_cast<void *>(&__cushim_unsupported)},
      {"__cushim_extern_vprintf", reinterpret_cast<void *>(&__cushim_extern_vprintf)},
      {"__cushim_extern_malloc", reinterpret_cast<void *>(&__cushim_extern_malloc)},
      {"__cushim_extern_free", reinterpret_cast<void *>(&__cushim_extern_free)},
      {"__cushim_extern___assertfail", reinterpret_cast<void *>(&__cushim_extern___assertfail)},
      // Textures and surfaces (TextureSampling.cpp).
      {"__cushim_tex", reinterpret_cast<void *>(&__cushim_tex)},
      {"__cushim_suld", reinterpret_cast<void *>(&__cushim_suld)},
      {"__cushim_sust", reinterpret_cast<void *>(&__cushim_sust)},
      {"__cushim_txq", reinterpret_cast<void *>(&__cushim_txq)},
      {"__cushim_istypep", reinterpret_cast<void *>(&__cushim_istypep)},
  };
  Count = sizeof(Table) / sizeof(Table[0]);
  return Table;
}

} // namespace cushim::host
