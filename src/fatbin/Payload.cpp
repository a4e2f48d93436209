// Entry payloads: LZ4 and zstd decompression, and the checks that tell a code-less ELF or PTX entry.
#include "fatbin/FatbinInternal.h"

#include <lz4.h>
#include <zstd.h>

#include <climits>
#include <cstring>
#include <fmt/format.h>
#include <new>

namespace cushim::fatbin::detail {

namespace {

Error invalidImage(std::string Message) { return makeError(CUDA_ERROR_INVALID_IMAGE, std::move(Message)); }

// Allocation of the output buffer; bad_alloc must not escape the library.
Expected<std::string> allocate(uint64_t Size) {
  if (Size > MaxDecompressedSize)
    return invalidImage(
        fmt::format("fatbin: declared decompressed size {} exceeds the {} byte limit", Size, MaxDecompressedSize));
  try {
    return std::string(size_t(Size), '\0');
  } catch (const std::bad_alloc &) {
    return makeError(CUDA_ERROR_OUT_OF_MEMORY, fmt::format("fatbin: cannot allocate {} bytes for a payload", Size));
  }
}

template <typename T> bool readAt(std::string_view Bytes, uint64_t Offset, T &Out) {
  if (Offset > Bytes.size() || Bytes.size() - Offset < sizeof(T))
    return false;
  std::memcpy(&Out, Bytes.data() + Offset, sizeof(T));
  return true;
}

} // namespace

Expected<std::string> decompressLz4(std::string_view Compressed, uint64_t ExpectedSize) {
  if (Compressed.empty() || ExpectedSize == 0)
    return invalidImage("fatbin: LZ4 payload with zero compressed or decompressed size");
  if (Compressed.size() > size_t(INT_MAX) || ExpectedSize > uint64_t(INT_MAX))
    return invalidImage("fatbin: LZ4 payload too large");
  // A raw LZ4 block expands at most ~255x; a larger declared size is corrupt and not worth allocating.
  if (ExpectedSize > uint64_t(Compressed.size()) * 255 + 64)
    return invalidImage(fmt::format("fatbin: LZ4 payload of {} bytes cannot expand to the declared {} bytes",
                                    Compressed.size(), ExpectedSize));
  Expected<std::string> Out = allocate(ExpectedSize);
  if (!Out)
    return Out;
  int Got = LZ4_decompress_safe(Compressed.data(), Out->data(), int(Compressed.size()), int(ExpectedSize));
  if (Got < 0)
    return invalidImage(fmt::format("fatbin: LZ4 decompression failed (code {})", Got));
  if (uint64_t(Got) != ExpectedSize)
    return invalidImage(
        fmt::format("fatbin: LZ4 payload decompressed to {} bytes, header declares {}", Got, ExpectedSize));
  return Out;
}

Expected<std::string> decompressZstd(std::string_view Compressed, uint64_t ExpectedSize) {
  if (Compressed.empty() || ExpectedSize == 0)
    return invalidImage("fatbin: zstd payload with zero compressed or decompressed size");
  // The frame usually records its content size; check it before allocating from the entry header's word.
  unsigned long long FrameSize = ZSTD_getFrameContentSize(Compressed.data(), Compressed.size());
  if (FrameSize == ZSTD_CONTENTSIZE_ERROR)
    return invalidImage("fatbin: zstd payload is not a valid zstd frame");
  if (FrameSize != ZSTD_CONTENTSIZE_UNKNOWN && FrameSize != ExpectedSize)
    return invalidImage(fmt::format("fatbin: zstd frame holds {} bytes, header declares {}", FrameSize, ExpectedSize));
  Expected<std::string> Out = allocate(ExpectedSize);
  if (!Out)
    return Out;
  size_t Got = ZSTD_decompress(Out->data(), Out->size(), Compressed.data(), Compressed.size());
  if (ZSTD_isError(Got))
    return invalidImage(fmt::format("fatbin: zstd decompression failed: {}", ZSTD_getErrorName(Got)));
  if (Got != ExpectedSize)
    return invalidImage(
        fmt::format("fatbin: zstd payload decompressed to {} bytes, header declares {}", Got, ExpectedSize));
  return Out;
}

bool isCodelessElf(std::string_view Image) {
  // ELF64 little-endian only: that is what nvcc emits for 64-bit hosts.
  if (Image.size() < 64 ||
      std::memcmp(Image.data(),
                  "\x7f"
                  "ELF",
                  4) != 0 ||
      Image[4] != 2 || Image[5] != 1)
    return false;
  uint64_t ShOff = 0;
  uint16_t ShEntSize = 0, ShNum = 0;
  if (!readAt(Image, 0x28, ShOff) || !readAt(Image, 0x3a, ShEntSize) || !readAt(Image, 0x3c, ShNum))
    return false;
  if (ShEntSize < 64 || ShNum == 0)
    return false;
  for (uint16_t I = 0; I < ShNum; ++I) {
    uint64_t Base = ShOff + uint64_t(I) * ShEntSize;
    if (Base < ShOff) // overflow
      return false;
    uint64_t Flags = 0, Size = 0;
    if (!readAt(Image, Base + 0x08, Flags) || !readAt(Image, Base + 0x20, Size))
      return false;
    constexpr uint64_t ShfAlloc = 0x2;
    // Code (.text.*), globals (.nv.global, NOBITS) and constant banks are all allocated sections.
    if ((Flags & ShfAlloc) && Size != 0)
      return false;
  }
  return true;
}

bool isCodelessPtx(std::string_view Text) {
  size_t I = 0, N = Text.size();
  auto SkipLine = [&] {
    while (I < N && Text[I] != '\n')
      ++I;
  };
  while (I < N) {
    char C = Text[I];
    if (C == ' ' || C == '\t' || C == '\r' || C == '\n' || C == '\0') {
      ++I;
      continue;
    }
    if (Text.compare(I, 2, "//") == 0) {
      SkipLine();
      continue;
    }
    if (Text.compare(I, 2, "/*") == 0) {
      size_t End = Text.find("*/", I + 2);
      if (End == std::string_view::npos)
        return false;
      I = End + 2;
      continue;
    }
    // Module directives take the rest of their line; anything else is content.
    if (Text.compare(I, 8, ".version") == 0 || Text.compare(I, 7, ".target") == 0 ||
        Text.compare(I, 13, ".address_size") == 0) {
      SkipLine();
      continue;
    }
    return false;
  }
  return true;
}

} // namespace cushim::fatbin::detail
