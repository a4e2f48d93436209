// The pitched copy engine: 2D/3D copies and fills decomposed into the HAL's copies (enqueue_copy_2d per slice when
// the backend has it, else one enqueue_copy per row), with CUDA's host-synchronisation rules.
#include "core/Copy3D.h"

#include "core/MemoryMap.h"
#include "core/Stream.h"
#include "hal/Hal.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

namespace cushim::core {

namespace {

enum class Memory { Device, PinnedHost, PageableHost };

Memory classify(const void *P) {
  std::optional<Allocation> A = memory_map::find(P);
  if (!A)
    return Memory::PageableHost;
  return A->Kind == CUSHIM_HAL_MEMORY_PINNED_HOST ? Memory::PinnedHost : Memory::Device;
}

void freeStaging(void *P) { std::free(P); }

// Enqueues every row of the region on the stream's queue (one command per slice where the HAL copies 2D).
Error enqueueRegion(Stream &S, const Copy3DParams &P) {
  const cushim_hal_ops &Ops = hal::ops();
  cushim_hal_queue Q = S.hal();
  return S.submit([&]() -> Error {
    uint8_t *D = P.Dst.start();
    const uint8_t *Sp = P.Src.start();
    size_t Total = P.WidthBytes * P.Height * P.Depth;
    bool Packed = P.Src.Pitch == P.WidthBytes && P.Dst.Pitch == P.WidthBytes &&
                  (P.Depth == 1 || (P.Src.Rows == P.Height && P.Dst.Rows == P.Height));
    if (Packed)
      return hal::check(Ops.enqueue_copy(Q, D, Sp, Total), "enqueue_copy");
    for (size_t Z = 0; Z < P.Depth; ++Z) {
      uint8_t *DS = D + Z * P.Dst.Rows * P.Dst.Pitch;
      const uint8_t *SS = Sp + Z * P.Src.Rows * P.Src.Pitch;
      if (Ops.enqueue_copy_2d) {
        CUSHIM_TRY(hal::check(Ops.enqueue_copy_2d(Q, DS, P.Dst.Pitch, SS, P.Src.Pitch, P.WidthBytes, P.Height),
                              "enqueue_copy_2d"));
        continue;
      }
      for (size_t Y = 0; Y < P.Height; ++Y)
        CUSHIM_TRY(hal::check(Ops.enqueue_copy(Q, DS + Y * P.Dst.Pitch, SS + Y * P.Src.Pitch, P.WidthBytes),
                              "enqueue_copy"));
    }
    return Error::success();
  });
}

} // namespace

bool isDeviceMemory(const void *P) { return classify(P) == Memory::Device; }

Error checkCopyRange(const char *Api, const Copy3DParams &P) {
  auto check = [&](const CopyOperand &O, const char *Which) -> Error {
    size_t Span = O.span(P.WidthBytes, P.Height, P.Depth);
    if (Span == 0 || !memory_map::find(O.start()))
      return Error::success(); // host memory: nothing to check
    if (!memory_map::containsRange(O.start(), Span))
      return makeError(CUDA_ERROR_INVALID_VALUE,
                       fmt::format("{}: the {} region ({} bytes x {} rows x {} slices, pitch {}) starting at {} runs "
                                   "past the end of its allocation",
                                   Api, Which, P.WidthBytes, P.Height, P.Depth, O.Pitch,
                                   static_cast<void *>(O.start())));
    return Error::success();
  };
  CUSHIM_TRY(check(P.Src, "source"));
  return check(P.Dst, "destination");
}

Error copy3D(Stream &S, const Copy3DParams &P, bool Async) {
  if (P.WidthBytes == 0 || P.Height == 0 || P.Depth == 0)
    return Error::success();
  Memory To = classify(P.Dst.start()), From = classify(P.Src.start());
  bool HostToHost = To != Memory::Device && From != Memory::Device;
  if (!Async || HostToHost || To == Memory::PageableHost) {
    CUSHIM_TRY(enqueueRegion(S, P));
    // CUDA: synchronous copies return when done except device-to-device ones; async copies into pageable memory
    // and host-to-host copies are synchronous too.
    if (!Async && To == Memory::Device && From == Memory::Device)
      return Error::success();
    return S.synchronize();
  }
  if (From != Memory::PageableHost)
    return enqueueRegion(S, P);
  // The application may reuse a pageable source as soon as we return: pack it into a staging buffer now.
  size_t Bytes = P.WidthBytes * P.Height * P.Depth;
  auto *Staging = static_cast<uint8_t *>(std::malloc(Bytes));
  if (!Staging)
    return makeError(CUDA_ERROR_OUT_OF_MEMORY, fmt::format("no host memory to stage a {}-byte copy", Bytes));
  const uint8_t *Src = P.Src.start();
  for (size_t Z = 0; Z < P.Depth; ++Z)
    for (size_t Y = 0; Y < P.Height; ++Y)
      std::memcpy(Staging + (Z * P.Height + Y) * P.WidthBytes, Src + (Z * P.Src.Rows + Y) * P.Src.Pitch,
                  P.WidthBytes);
  Copy3DParams Staged = P;
  Staged.Src = CopyOperand{Staging, P.WidthBytes, P.Height, 0, 0, 0};
  if (Error E = enqueueRegion(S, Staged); E.isError()) {
    std::free(Staging);
    return E;
  }
  if (Error E = S.hostFunction(freeStaging, Staging); E.isError()) {
    (void)S.synchronize();
    std::free(Staging);
  }
  return Error::success();
}

Error fill3D(Stream &S, const Fill3DParams &P) {
  if (P.WidthElements == 0 || P.Height == 0 || P.Depth == 0)
    return Error::success();
  const cushim_hal_ops &Ops = hal::ops();
  cushim_hal_queue Q = S.hal();
  size_t RowBytes = P.WidthElements * P.ElementSize;
  return S.submit([&]() -> Error {
    auto *Base = static_cast<uint8_t *>(P.Base);
    if (P.Pitch == RowBytes && (P.Depth == 1 || P.Rows == P.Height))
      return hal::check(Ops.enqueue_fill(Q, Base, P.Value, P.ElementSize, P.WidthElements * P.Height * P.Depth),
                        "enqueue_fill");
    for (size_t Z = 0; Z < P.Depth; ++Z)
      for (size_t Y = 0; Y < P.Height; ++Y)
        CUSHIM_TRY(hal::check(Ops.enqueue_fill(Q, Base + (Z * P.Rows + Y) * P.Pitch, P.Value, P.ElementSize,
                                               P.WidthElements),
                              "enqueue_fill"));
    return Error::success();
  });
}

} // namespace cushim::core
