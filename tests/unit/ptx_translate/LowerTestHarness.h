// Test harness for the lowering: parses PTX, lowers it, JIT-compiles it with ORC and runs kernels on host threads
// with simple test doubles of the kernel_abi.h runtime (a std::barrier per block; warp ops for one-warp blocks).
#pragma once

#include "cuda_shim/hal.h"
#include "cuda_shim/kernel_abi.h"
#include "ptx_translate/Lowering.h"
#include "ptx_translate/Parser.h"

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/ExecutionEngine/Orc/ThreadSafeModule.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>

#include <array>
#include <atomic>
#include <barrier>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace lowertest {

using KernelFn = void (*)(const void *, cushim_thread_ctx *);

// Per-block state of the runtime test doubles.
struct BlockState {
  explicit BlockState(unsigned Threads) : Bar(Threads) {}
  std::barrier<> Bar;
  std::array<uint64_t, 1024> Slots{};
  std::array<uint32_t, 1024> Flags{};
  std::atomic<uint32_t> RedAcc{0};
};

inline BlockState &block(cushim_thread_ctx *C) { return *static_cast<BlockState *>(C->engine); }
inline unsigned linearTid(cushim_thread_ctx *C) {
  return C->tid[0] + C->ntid[0] * (C->tid[1] + C->ntid[1] * C->tid[2]);
}

extern "C" inline void testBarSync(cushim_thread_ctx *C, uint32_t, uint32_t) { block(C).Bar.arrive_and_wait(); }
extern "C" inline void testBarArrive(cushim_thread_ctx *C, uint32_t, uint32_t) { block(C).Bar.arrive_and_wait(); }
extern "C" inline uint32_t testBarRed(cushim_thread_ctx *C, uint32_t, uint32_t, uint32_t Op, uint32_t Pred) {
  auto &S = block(C);
  unsigned T = linearTid(C);
  S.Flags[T] = Pred;
  S.Bar.arrive_and_wait();
  unsigned N = C->ntid[0] * C->ntid[1] * C->ntid[2];
  uint32_t Count = 0;
  for (unsigned K = 0; K < N; ++K)
    Count += S.Flags[K] != 0;
  S.Bar.arrive_and_wait();
  return Op == 0 ? Count : Op == 1 ? (Count == N) : (Count != 0);
}
// Warp operations assume the whole block is one full warp.
extern "C" inline uint32_t testShfl(cushim_thread_ctx *C, uint32_t Mode, uint32_t Value, uint32_t Bv, uint32_t Cv,
                                    uint32_t, uint32_t *InRange) {
  auto &S = block(C);
  uint32_t Lane = C->laneid;
  S.Slots[Lane] = Value;
  S.Bar.arrive_and_wait();
  uint32_t BVal = Bv & 31, CVal = Cv & 31, Seg = (Cv >> 8) & 31;
  uint32_t MaxLane = (Lane & Seg) | (CVal & ~Seg), MinLane = Lane & Seg;
  int J = 0;
  bool P = false;
  switch (Mode) {
  case CUSHIM_SHFL_UP:
    J = int(Lane) - int(BVal);
    P = J >= int(MaxLane);
    break;
  case CUSHIM_SHFL_DOWN:
    J = int(Lane + BVal);
    P = J <= int(MaxLane);
    break;
  case CUSHIM_SHFL_BFLY:
    J = int(Lane ^ BVal);
    P = J <= int(MaxLane);
    break;
  default:
    J = int(MinLane | (BVal & ~Seg));
    P = J <= int(MaxLane);
  }
  if (!P)
    J = int(Lane);
  uint32_t R = static_cast<uint32_t>(S.Slots[J]);
  S.Bar.arrive_and_wait();
  *InRange = P;
  return R;
}
extern "C" inline uint32_t testVote(cushim_thread_ctx *C, uint32_t Mode, uint32_t Pred, uint32_t) {
  auto &S = block(C);
  S.Flags[C->laneid] = Pred;
  S.Bar.arrive_and_wait();
  uint32_t Ballot = 0;
  for (unsigned K = 0; K < 32; ++K)
    Ballot |= (S.Flags[K] != 0) << K;
  S.Bar.arrive_and_wait();
  switch (Mode) {
  case CUSHIM_VOTE_ALL:
    return Ballot == 0xffffffffu;
  case CUSHIM_VOTE_ANY:
    return Ballot != 0;
  case CUSHIM_VOTE_UNI:
    return Ballot == 0 || Ballot == 0xffffffffu;
  default:
    return Ballot;
  }
}
extern "C" inline uint32_t testMatch(cushim_thread_ctx *C, uint32_t Mode, uint64_t V, uint32_t, uint32_t *AllEq) {
  auto &S = block(C);
  S.Slots[C->laneid] = V;
  S.Bar.arrive_and_wait();
  uint32_t M = 0;
  for (unsigned K = 0; K < 32; ++K)
    M |= (S.Slots[K] == V) << K;
  S.Bar.arrive_and_wait();
  if (Mode == 1) {
    *AllEq = M == 0xffffffffu;
    return *AllEq ? M : 0;
  }
  return M;
}
extern "C" inline uint32_t testRedux(cushim_thread_ctx *C, uint32_t Op, uint32_t V, uint32_t) {
  auto &S = block(C);
  S.Slots[C->laneid] = V;
  S.Bar.arrive_and_wait();
  uint32_t R = static_cast<uint32_t>(S.Slots[0]);
  for (unsigned K = 1; K < 32; ++K) {
    uint32_t X = static_cast<uint32_t>(S.Slots[K]);
    switch (Op) {
    case 0:
      R += X;
      break;
    case 1:
      R = uint32_t(std::min(int32_t(R), int32_t(X)));
      break;
    case 2:
      R = uint32_t(std::max(int32_t(R), int32_t(X)));
      break;
    case 3:
      R = std::min(R, X);
      break;
    case 4:
      R = std::max(R, X);
      break;
    case 5:
      R &= X;
      break;
    case 6:
      R |= X;
      break;
    default:
      R ^= X;
    }
  }
  S.Bar.arrive_and_wait();
  return R;
}
extern "C" inline uint32_t testActivemask(cushim_thread_ctx *) { return 0xffffffffu; }
extern "C" inline void testWarpSync(cushim_thread_ctx *, uint32_t) {}
extern "C" inline uint64_t testClock(cushim_thread_ctx *) { return 12345; }
extern "C" inline void testNanosleep(cushim_thread_ctx *, uint32_t) {}
// Each test thread is an OS thread here, so a spin loop's yield point needs no scheduling; %envreg reads as 0.
extern "C" inline void testYield(cushim_thread_ctx *) {}
extern "C" inline uint32_t testEnvreg(cushim_thread_ctx *, uint32_t) { return 0; }
extern "C" inline void testNoReturn(cushim_thread_ctx *) { std::abort(); }
extern "C" inline void testUnsupported(cushim_thread_ctx *, const char *) { std::abort(); }
// .extern .func vprintf(ret, fmt, args): counts calls.
inline std::atomic<int> PrintfCalls{0};
extern "C" inline void testVprintf(cushim_thread_ctx *, void *Ret, void *Fmt, void *) {
  ++PrintfCalls;
  int32_t Zero = 0;
  std::memcpy(Ret, &Zero, 4);
  (void)Fmt;
}

// A lowered and JIT-compiled PTX module.
class Jit {
public:
  static std::string lowerError(const std::string &Ptx) {
    auto M = cushim::ptx::parsePtx(Ptx, "test.ptx");
    if (!M)
      return "parse: " + M.error().message();
    llvm::LLVMContext Ctx;
    cushim::ptx::LoweringOptions O;
    O.ModuleName = "test.ptx";
    auto L = cushim::ptx::lowerModule(*M, Ctx, O);
    if (L)
      return {};
    return L.error().message();
  }

  std::string load(const std::string &Ptx) {
    static bool Init = [] {
      llvm::InitializeNativeTarget();
      llvm::InitializeNativeTargetAsmPrinter();
      return true;
    }();
    (void)Init;
    auto M = cushim::ptx::parsePtx(Ptx, "test.ptx");
    if (!M)
      return "parse: " + M.error().message();
    llvm::orc::ThreadSafeContext TSC(std::make_unique<llvm::LLVMContext>());
    cushim::ptx::LoweringOptions O;
    O.ModuleName = "test.ptx";
    O.TierEntries = false; // the IR goes to LLJIT unoptimised: no coroutine lowering there
    auto L = cushim::ptx::lowerModule(*M, *TSC.getContext(), O);
    if (!L)
      return "lower: " + L.error().message();
    Kernels = L->Kernels;
    Globals = L->Globals;
    llvm::raw_string_ostream OS(IR);
    L->IR->print(OS, nullptr);
    auto J = llvm::orc::LLJITBuilder().create();
    if (!J)
      return "jit: " + llvm::toString(J.takeError());
    Engine = std::move(*J);
    auto &JD = Engine->getMainJITDylib();
    llvm::orc::SymbolMap Syms;
    auto def = [&](const char *Name, auto *Fn) {
      Syms[Engine->mangleAndIntern(Name)] = {llvm::orc::ExecutorAddr::fromPtr(reinterpret_cast<void *>(Fn)),
                                             llvm::JITSymbolFlags::Exported};
    };
    def("__cushim_bar_sync", &testBarSync);
    def("__cushim_bar_arrive", &testBarArrive);
    def("__cushim_bar_red", &testBarRed);
    def("__cushim_shfl_sync", &testShfl);
    def("__cushim_vote_sync", &testVote);
    def("__cushim_match_sync", &testMatch);
    def("__cushim_redux_sync", &testRedux);
    def("__cushim_activemask", &testActivemask);
    def("__cushim_warp_sync", &testWarpSync);
    def("__cushim_clock64", &testClock);
    def("__cushim_globaltimer", &testClock);
    def("__cushim_nanosleep", &testNanosleep);
    def("__cushim_yield", &testYield);
    def("__cushim_envreg", &testEnvreg);
    def("__cushim_exit", &testNoReturn);
    def("__cushim_trap", &testNoReturn);
    def("__cushim_unsupported", &testUnsupported);
    def("__cushim_extern_vprintf", &testVprintf);
    if (auto E = JD.define(llvm::orc::absoluteSymbols(std::move(Syms))))
      return "jit: " + llvm::toString(std::move(E));
    auto Gen =
        llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(Engine->getDataLayout().getGlobalPrefix());
    if (!Gen)
      return "jit: " + llvm::toString(Gen.takeError());
    JD.addGenerator(std::move(*Gen));
    if (auto E = Engine->addIRModule(llvm::orc::ThreadSafeModule(std::move(L->IR), TSC)))
      return "jit: " + llvm::toString(std::move(E));
    return {};
  }

  const cushim::ptx::KernelInfo *kernel(const std::string &Name) const {
    for (const auto &K : Kernels)
      if (K.Name == Name)
        return &K;
    return nullptr;
  }

  void *symbol(const std::string &Name) {
    auto A = Engine->lookup(Name);
    if (!A) {
      llvm::consumeError(A.takeError());
      return nullptr;
    }
    return A->toPtr<void *>();
  }

  // Runs a grid; threads of a block run concurrently on OS threads when the kernel synchronises.
  bool run(const std::string &Name, std::array<uint32_t, 3> Grid, std::array<uint32_t, 3> Blk, const void *Params,
           uint32_t DynShared = 0) {
    const auto *KI = kernel(Name);
    auto Fn = reinterpret_cast<KernelFn>(symbol(Name));
    if (!KI || !Fn)
      return false;
    unsigned N = Blk[0] * Blk[1] * Blk[2];
    bool Threads = KI->Flags & (CUSHIM_HAL_KERNEL_USES_BARRIERS | CUSHIM_HAL_KERNEL_USES_WARP_OPS);
    for (uint32_t BZ = 0; BZ < Grid[2]; ++BZ)
      for (uint32_t BY = 0; BY < Grid[1]; ++BY)
        for (uint32_t BX = 0; BX < Grid[0]; ++BX) {
          std::vector<char> Shared(KI->StaticSharedSize + DynShared + 16, 0x5a);
          BlockState State(N);
          std::vector<cushim_thread_ctx> Ctxs(N);
          for (unsigned T = 0; T < N; ++T) {
            cushim_thread_ctx &C = Ctxs[T];
            std::memset(&C, 0, sizeof C);
            C.tid[0] = T % Blk[0];
            C.tid[1] = (T / Blk[0]) % Blk[1];
            C.tid[2] = T / (Blk[0] * Blk[1]);
            for (int D = 0; D < 3; ++D) {
              C.ntid[D] = Blk[D];
              C.nctaid[D] = Grid[D];
            }
            C.ctaid[0] = BX;
            C.ctaid[1] = BY;
            C.ctaid[2] = BZ;
            C.laneid = T % 32;
            C.warpid = T / 32;
            C.nwarpid = (N + 31) / 32;
            C.dynamic_shared_size = DynShared;
            C.total_shared_size = KI->StaticSharedSize + DynShared;
            C.shared_base = Shared.data();
            C.engine = &State;
          }
          if (Threads) {
            std::vector<std::thread> Ts;
            for (unsigned T = 0; T < N; ++T)
              Ts.emplace_back([&, T] { Fn(Params, &Ctxs[T]); });
            for (auto &T : Ts)
              T.join();
          } else {
            for (unsigned T = 0; T < N; ++T)
              Fn(Params, &Ctxs[T]);
          }
        }
    return true;
  }

  std::vector<cushim::ptx::KernelInfo> Kernels;
  std::vector<cushim::ptx::GlobalInfo> Globals;
  std::string IR;

private:
  std::unique_ptr<llvm::orc::LLJIT> Engine;
};

// Packs kernel parameters at their natural alignment (CUDA's layout).
class ParamBuffer {
public:
  template <typename T> ParamBuffer &add(T V) {
    size_t Off = (Bytes.size() + alignof(T) - 1) / alignof(T) * alignof(T);
    Bytes.resize(Off + sizeof(T));
    std::memcpy(Bytes.data() + Off, &V, sizeof(T));
    return *this;
  }
  const void *data() const { return Bytes.data(); }

private:
  std::vector<char> Bytes;
};

inline const std::string PtxHeader = ".version 8.0\n.target sm_80\n.address_size 64\n";

} // namespace lowertest
