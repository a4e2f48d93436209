// Fatbinary reader: the nvcc registration wrapper, fatbin containers and their entries, and PTX selection.
// The layout was verified on files made by CUDA 13's nvcc and fatbinary; docs/FATBIN.md describes it.
#include "fatbin/Fatbin.h"

#include "fatbin/FatbinInternal.h"
#include "support/Log.h"

#include <cstring>
#include <fmt/format.h>
#include <string_view>

namespace cushim::fatbin {

using namespace detail;

namespace {

// Offsets inside the 16-byte container header.
constexpr uint64_t ContainerHeaderSize = 16;

// Offsets inside an entry header (relative to the entry's start). Every entry header seen is at least 0x40 bytes.
constexpr uint64_t EntryKindOff = 0x00;         // u16: 1 PTX, 2 ELF
constexpr uint64_t EntryHeaderSizeOff = 0x04;   // u32: header bytes before the payload
constexpr uint64_t EntryPayloadSizeOff = 0x08;  // u64: payload bytes (padded to 8)
constexpr uint64_t EntryCompressedOff = 0x10;   // u32: compressed bytes inside the payload (0 when stored)
constexpr uint64_t EntryOptionsOff = 0x14;      // u32: offset of an {u32 offset, u32 size} options record, 0 = none
constexpr uint64_t EntryArchOff = 0x1c;         // u32: sm / compute number (80)
constexpr uint64_t EntryIdentOff = 0x20;        // u32 offset, u32 size of the identifier string
constexpr uint64_t EntryFlagsOff = 0x28;        // u64 flags
constexpr uint64_t EntryUncompressedOff = 0x38; // u64: decompressed bytes when compressed
constexpr uint64_t MinEntryHeaderSize = 0x40;

constexpr uint16_t KindPtx = 1;
constexpr uint16_t KindElf = 2;

Error invalidImage(std::string Message) { return makeError(CUDA_ERROR_INVALID_IMAGE, std::move(Message)); }

// A bounded view over the input: every read is checked against the known size.
class Reader {
public:
  Reader(const unsigned char *Base, uint64_t Size) : Base(Base), Size(Size) {}

  template <typename T> bool read(uint64_t Offset, T &Out) const {
    if (Offset > Size || Size - Offset < sizeof(T))
      return false;
    std::memcpy(&Out, Base + Offset, sizeof(T));
    return true;
  }
  bool contains(uint64_t Offset, uint64_t Length) const { return Offset <= Size && Size - Offset >= Length; }
  std::string_view view(uint64_t Offset, uint64_t Length) const {
    return {reinterpret_cast<const char *>(Base + Offset), size_t(Length)};
  }
  uint64_t size() const { return Size; }

private:
  const unsigned char *Base;
  uint64_t Size;
};

std::string_view trimTrailing(std::string_view S, bool Spaces) {
  while (!S.empty() && (S.back() == '\0' || (Spaces && (S.back() == ' ' || S.back() == '\n'))))
    S.remove_suffix(1);
  return S;
}

bool isPrintableText(std::string_view S) {
  for (char C : S) {
    auto U = static_cast<unsigned char>(C);
    if (U < 0x20 && C != '\t' && C != '\n' && C != '\r')
      return false;
    if (U == 0x7f)
      return false;
  }
  return true;
}

// Reads a string stored inside the entry header as (offset, size) relative to the entry start.
Error readHeaderString(const Reader &Header, uint32_t Offset, uint32_t Length, const char *What, uint64_t EntryAt,
                       std::string_view &Out) {
  if (Length == 0) {
    Out = {};
    return Error::success();
  }
  if (!Header.contains(Offset, Length))
    return invalidImage(
        fmt::format("fatbin: entry at offset {:#x}: {} ({:#x}+{:#x}) lies outside its {:#x}-byte header", EntryAt, What,
                    Offset, Length, Header.size()));
  Out = Header.view(Offset, Length);
  return Error::success();
}

// Parses one entry whose header starts at At; Limit is the end of its container. Advances At past the entry.
Error parseEntry(const Reader &R, uint64_t &At, uint64_t Limit, Image &Out) {
  const uint64_t EntryAt = At;
  uint16_t Kind = 0;
  uint32_t HeaderSize = 0, Compressed = 0, OptionsRecord = 0, Arch = 0, IdentOffset = 0, IdentLength = 0;
  uint64_t PayloadSize = 0, Flags = 0, Uncompressed = 0;
  if (Limit - At < MinEntryHeaderSize)
    return invalidImage(fmt::format("fatbin: entry at offset {:#x}: only {} bytes left in the container, an entry "
                                    "header needs {}",
                                    EntryAt, Limit - At, MinEntryHeaderSize));
  if (!R.read(At + EntryKindOff, Kind) || !R.read(At + EntryHeaderSizeOff, HeaderSize) ||
      !R.read(At + EntryPayloadSizeOff, PayloadSize))
    return invalidImage(fmt::format("fatbin: entry at offset {:#x} is truncated", EntryAt));
  if (HeaderSize < MinEntryHeaderSize)
    return invalidImage(fmt::format("fatbin: entry at offset {:#x}: header size {:#x} is below the minimum {:#x}",
                                    EntryAt, HeaderSize, MinEntryHeaderSize));
  if (Limit - At < HeaderSize || Limit - At - HeaderSize < PayloadSize)
    return invalidImage(fmt::format("fatbin: entry at offset {:#x}: header {:#x} + payload {:#x} bytes run past the "
                                    "end of the container ({:#x} bytes left)",
                                    EntryAt, HeaderSize, PayloadSize, Limit - At));

  // The whole header is inside the container now; read its fields through a reader bounded to it.
  Reader Header(reinterpret_cast<const unsigned char *>(R.view(At, HeaderSize).data()), HeaderSize);
  (void)Header.read(EntryCompressedOff, Compressed);
  (void)Header.read(EntryOptionsOff, OptionsRecord);
  (void)Header.read(EntryArchOff, Arch);
  (void)Header.read(EntryIdentOff, IdentOffset);
  (void)Header.read(EntryIdentOff + 4, IdentLength);
  (void)Header.read(EntryFlagsOff, Flags);
  (void)Header.read(EntryUncompressedOff, Uncompressed);

  Entry E;
  E.Kind = Kind == KindPtx ? EntryKind::Ptx : Kind == KindElf ? EntryKind::Elf : EntryKind::Other;
  E.Arch = Arch;

  std::string_view Ident;
  CUSHIM_TRY(readHeaderString(Header, IdentOffset, IdentLength, "identifier", EntryAt, Ident));
  E.Identifier = std::string(trimTrailing(Ident, false));

  if (OptionsRecord != 0) {
    uint32_t OptOffset = 0, OptLength = 0;
    if (!Header.read(OptionsRecord, OptOffset) || !Header.read(uint64_t(OptionsRecord) + 4, OptLength))
      return invalidImage(fmt::format("fatbin: entry at offset {:#x}: options record at {:#x} lies outside its "
                                      "{:#x}-byte header",
                                      EntryAt, OptionsRecord, HeaderSize));
    std::string_view Options;
    CUSHIM_TRY(readHeaderString(Header, OptOffset, OptLength, "options", EntryAt, Options));
    Options = trimTrailing(Options, true);
    // Arch-family cubins (sm_100f) keep a binary record here rather than a command line; it is not ours to show.
    if (isPrintableText(Options))
      E.Options = std::string(Options);
    else
      CUSHIM_LOG_DEBUG("fatbin: entry at offset {:#x} has a non-text options record; ignored", EntryAt);
  }

  std::string_view Payload = R.view(At + HeaderSize, PayloadSize);
  const bool Lz4 = Flags & FlagCompressLz4, Zstd = Flags & FlagCompressZstd;
  if (Lz4 && Zstd)
    return invalidImage(fmt::format("fatbin: entry at offset {:#x} claims both LZ4 and zstd compression (flags {:#x})",
                                    EntryAt, Flags));
  if (Lz4 || Zstd) {
    if (Compressed == 0 || Compressed > PayloadSize)
      return invalidImage(
          fmt::format("fatbin: entry at offset {:#x}: compressed size {:#x} does not fit the {:#x}-byte "
                      "payload",
                      EntryAt, Compressed, PayloadSize));
    Expected<std::string> Data = Lz4 ? decompressLz4(Payload.substr(0, Compressed), Uncompressed)
                                     : decompressZstd(Payload.substr(0, Compressed), Uncompressed);
    if (!Data)
      return invalidImage(fmt::format("{} (entry at offset {:#x}, sm_{})", Data.error().message(), EntryAt, Arch));
    E.Payload = std::move(*Data);
  } else {
    E.Payload = std::string(Payload);
  }

  if (E.Kind == EntryKind::Ptx) {
    size_t End = E.Payload.find_last_not_of('\0');
    E.Payload.resize(End == std::string::npos ? 0 : End + 1);
    E.Empty = isCodelessPtx(E.Payload);
  } else if (E.Kind == EntryKind::Elf) {
    E.Empty = PayloadSize == 0 || isCodelessElf(E.Payload);
  } else {
    E.Empty = PayloadSize == 0;
    CUSHIM_LOG_DEBUG("fatbin: entry at offset {:#x} has unknown kind {} (sm_{}); kept as raw bytes", EntryAt, Kind,
                     Arch);
  }

  Out.Entries.push_back(std::move(E));
  At += HeaderSize + PayloadSize;
  return Error::success();
}

// Parses one container at At and advances At past it.
Error parseOneContainer(const Reader &R, uint64_t &At, Image &Out) {
  const uint64_t ContainerAt = At;
  uint32_t Magic = 0;
  uint16_t Version = 0, HeaderSize = 0;
  uint64_t FatSize = 0;
  if (!R.read(At, Magic) || !R.read(At + 4, Version) || !R.read(At + 6, HeaderSize) || !R.read(At + 8, FatSize))
    return invalidImage(fmt::format("fatbin: container at offset {:#x} is truncated (need {} header bytes, have {})",
                                    ContainerAt, ContainerHeaderSize, R.size() - At));
  if (Magic != ContainerMagic)
    return invalidImage(fmt::format("fatbin: bad container magic {:#010x} at offset {:#x} (expected {:#010x})", Magic,
                                    ContainerAt, ContainerMagic));
  if (HeaderSize < ContainerHeaderSize)
    return invalidImage(fmt::format("fatbin: container at offset {:#x}: header size {} is below {}", ContainerAt,
                                    HeaderSize, ContainerHeaderSize));
  if (Version != 1)
    CUSHIM_LOG_DEBUG("fatbin: container at offset {:#x} has version {}, only 1 has been seen", ContainerAt, Version);
  if (!R.contains(At, HeaderSize) || R.size() - At - HeaderSize < FatSize)
    return invalidImage(fmt::format("fatbin: container at offset {:#x}: header {} + {:#x} entry bytes run past the "
                                    "{:#x} bytes available",
                                    ContainerAt, HeaderSize, FatSize, R.size() - At));
  uint64_t Entry = At + HeaderSize;
  const uint64_t End = Entry + FatSize;
  while (Entry < End) {
    // Zero padding after the last entry is harmless (no entry kind is 0).
    if (R.view(Entry, 1)[0] == '\0' && R.view(Entry, End - Entry).find_first_not_of('\0') == std::string_view::npos)
      break;
    CUSHIM_TRY(parseEntry(R, Entry, End, Out));
  }
  At = End;
  return Error::success();
}

// Compares the bytes at P with Pattern one at a time, so a shorter NUL-terminated string is never read past its end.
bool startsWithBytes(const unsigned char *P, const unsigned char *Pattern, size_t Length) {
  for (size_t I = 0; I < Length; ++I)
    if (P[I] != Pattern[I])
      return false;
  return true;
}

bool looksLikePtxText(const char *P) {
  // Skip whitespace and comments; then a directive (".version", ".target", ...) must start. Only text is accepted.
  constexpr size_t ScanLimit = size_t(1) << 20;
  size_t I = 0;
  bool SawComment = false;
  while (I < ScanLimit) {
    unsigned char C = static_cast<unsigned char>(P[I]);
    if (C == 0)
      return SawComment; // only comments: still text, the PTX parser will say what is missing
    if (C == ' ' || C == '\t' || C == '\n' || C == '\r') {
      ++I;
      continue;
    }
    if (C == '/' && P[I + 1] == '/') {
      SawComment = true;
      for (I += 2; P[I] != 0 && P[I] != '\n'; ++I)
        if (static_cast<unsigned char>(P[I]) < 0x20 && P[I] != '\t' && P[I] != '\r')
          return false;
      continue;
    }
    if (C == '/' && P[I + 1] == '*') {
      SawComment = true;
      for (I += 2; P[I] != 0 && !(P[I] == '*' && P[I + 1] == '/'); ++I)
        if (static_cast<unsigned char>(P[I]) < 0x20 && P[I] != '\t' && P[I] != '\r' && P[I] != '\n')
          return false;
      if (P[I] == 0)
        return false;
      I += 2;
      continue;
    }
    if (C == '.') {
      unsigned char D = static_cast<unsigned char>(P[I + 1]);
      return (D >= 'a' && D <= 'z') || (D >= 'A' && D <= 'Z') || D == '_';
    }
    return false;
  }
  return false;
}

} // namespace

ImageKind detectImageKind(const void *Data) {
  if (!Data)
    return ImageKind::Unknown;
  const auto *P = static_cast<const unsigned char *>(Data);
  // Magics compared little-endian byte by byte; none contains a zero byte, so a short C string stops the compare.
  static constexpr unsigned char WrapperBytes[] = {0xB1, 0x43, 0x62, 0x46};
  static constexpr unsigned char ContainerBytes[] = {0x50, 0xED, 0x55, 0xBA};
  static constexpr unsigned char ElfBytes[] = {0x7F, 'E', 'L', 'F'};
  if (startsWithBytes(P, WrapperBytes, 4))
    return ImageKind::Wrapper;
  if (startsWithBytes(P, ContainerBytes, 4))
    return ImageKind::Container;
  if (startsWithBytes(P, ElfBytes, 4))
    return ImageKind::Elf;
  if (looksLikePtxText(static_cast<const char *>(Data)))
    return ImageKind::PtxText;
  return ImageKind::Unknown;
}

Expected<Image> parseContainer(const void *Data, size_t MaxSize) {
  if (!Data)
    return invalidImage("fatbin: null container pointer");
  const auto *Base = static_cast<const unsigned char *>(Data);
  Image Out;
  if (MaxSize == 0) {
    // No size known: trust the one container header we find (its 16 bytes must be readable).
    uint32_t Magic = 0;
    uint16_t HeaderSize = 0;
    uint64_t FatSize = 0;
    std::memcpy(&Magic, Base, 4);
    std::memcpy(&HeaderSize, Base + 6, 2);
    std::memcpy(&FatSize, Base + 8, 8);
    if (Magic != ContainerMagic)
      return invalidImage(
          fmt::format("fatbin: bad container magic {:#010x} (expected {:#010x})", Magic, ContainerMagic));
    if (FatSize > UINT64_MAX - HeaderSize)
      return invalidImage(fmt::format("fatbin: container size {:#x} overflows", FatSize));
    Reader R(Base, uint64_t(HeaderSize) + FatSize);
    uint64_t At = 0;
    CUSHIM_TRY(parseOneContainer(R, At, Out));
    return Out;
  }

  Reader R(Base, MaxSize);
  uint64_t At = 0;
  while (At < R.size()) {
    // Containers sit back to back in .nv_fatbin; alignment padding between or after them is zero.
    uint64_t Word = 0;
    if (At > 0 && (!R.read(At, Word) || Word == 0)) {
      std::string_view Rest = R.view(At, R.size() - At);
      size_t NonZero = Rest.find_first_not_of('\0');
      if (NonZero == std::string_view::npos)
        break;
      At += NonZero;
    }
    CUSHIM_TRY(parseOneContainer(R, At, Out));
  }
  return Out;
}

Expected<Image> parseWrapper(const void *Wrapper) {
  if (!Wrapper)
    return invalidImage("fatbin: null registration wrapper");
  // __fatBinC_Wrapper_t: int magic; int version; const unsigned long long *data; void *filename_or_fatbins.
  int32_t Magic = 0, Version = 0;
  const void *Data = nullptr;
  const auto *P = static_cast<const unsigned char *>(Wrapper);
  std::memcpy(&Magic, P, 4);
  if (uint32_t(Magic) != WrapperMagic)
    return invalidImage(
        fmt::format("fatbin: bad wrapper magic {:#010x} (expected {:#010x})", uint32_t(Magic), WrapperMagic));
  std::memcpy(&Version, P + 4, 4);
  std::memcpy(&Data, P + 8, sizeof(Data));
  // Version 1 is an ordinary module; version 2 (-rdc device link) points at the linked container too, and its
  // fourth field lists the prelinked fatbins already folded into that container.
  if (Version != 1 && Version != 2)
    return invalidImage(fmt::format("fatbin: unsupported wrapper version {} (expected 1 or 2)", Version));
  if (!Data)
    return invalidImage("fatbin: wrapper has a null data pointer");
  Expected<Image> Result = parseContainer(Data, 0);
  if (!Result)
    return invalidImage(fmt::format("{} (in a version {} wrapper)", Result.error().message(), Version));
  return Result;
}

const Entry *selectPtx(const Image &I, uint32_t DeviceArch) {
  const Entry *Best = nullptr;
  for (const Entry &E : I.Entries) {
    if (E.Kind != EntryKind::Ptx || E.Empty || E.Arch > DeviceArch)
      continue;
    // Ties keep the first entry, matching the order nvcc wrote them.
    if (!Best || E.Arch > Best->Arch)
      Best = &E;
  }
  return Best;
}

bool hasOnlySass(const Image &I) {
  bool HasElfCode = false;
  for (const Entry &E : I.Entries) {
    if (E.Empty)
      continue;
    if (E.Kind == EntryKind::Ptx)
      return false;
    if (E.Kind == EntryKind::Elf)
      HasElfCode = true;
  }
  return HasElfCode;
}

} // namespace cushim::fatbin
