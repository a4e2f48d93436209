// Fatbinary reader: the registration wrapper nvcc emits, the fatbin container and its PTX/ELF entries.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cushim::fatbin {

constexpr uint32_t WrapperMagic = 0x466243B1;   // __fatBinC_Wrapper_t::magic
constexpr uint32_t ContainerMagic = 0xBA55ED50; // fatbin container header

enum class EntryKind { Ptx, Elf, Other };

struct Entry {
  EntryKind Kind = EntryKind::Other;
  uint32_t Arch = 0;          // compute capability as major*10+minor (sm_80 / compute_80 -> 80)
  bool Empty = false;         // code-less entry (registered but carries no code)
  std::string Payload;        // decompressed bytes (PTX text without trailing NULs, or the ELF image)
  std::string Options;        // compile options recorded in the entry, if any
  std::string Identifier;     // the entry's identifier string (source file name), if any
};

struct Image {
  std::vector<Entry> Entries;
};

// What a pointer handed to cuModuleLoadData and friends points at.
enum class ImageKind { Wrapper, Container, Elf, PtxText, Unknown };
ImageKind detectImageKind(const void *Data);

// Parses a registration wrapper (versions 1 and 2). The container size is read from its header.
Expected<Image> parseWrapper(const void *Wrapper);
// Parses a container (one or several concatenated containers up to MaxSize; MaxSize 0 = trust the header).
Expected<Image> parseContainer(const void *Data, size_t MaxSize = 0);

// The PTX entry with the highest architecture not above DeviceArch, or nullptr.
const Entry *selectPtx(const Image &I, uint32_t DeviceArch);
// True when the image carries code (non-empty entries) but no PTX at all.
bool hasOnlySass(const Image &I);

} // namespace cushim::fatbin
