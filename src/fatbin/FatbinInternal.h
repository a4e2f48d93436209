// Private helpers of the fatbinary reader: payload decompression and the checks that tell a code-less entry.
#pragma once

#include "support/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace cushim::fatbin::detail {

// Entry flags seen in real fatbins (see docs/FATBIN.md).
constexpr uint64_t Flag64Bit = 0x1;
constexpr uint64_t FlagDebug = 0x2;
constexpr uint64_t FlagLinuxHost = 0x10;
constexpr uint64_t FlagCompressLz4 = 0x2000;
constexpr uint64_t FlagCompressZstd = 0x8000;

// Largest decompressed payload we agree to allocate; a corrupt header must not make us allocate gigabytes.
constexpr uint64_t MaxDecompressedSize = uint64_t(1) << 30;

// Decompresses a raw LZ4 block (no frame) that must expand to exactly ExpectedSize bytes.
Expected<std::string> decompressLz4(std::string_view Compressed, uint64_t ExpectedSize);
// Decompresses one zstd frame that must expand to exactly ExpectedSize bytes.
Expected<std::string> decompressZstd(std::string_view Compressed, uint64_t ExpectedSize);

// True when a cubin carries nothing to load: no allocated section (code, globals, constants) of nonzero size.
// A payload that is not a well-formed ELF64 is reported as not empty (the loader will report the real problem).
bool isCodelessElf(std::string_view Image);
// True when PTX text holds only the module directives (.version, .target, .address_size) and comments.
bool isCodelessPtx(std::string_view Text);

} // namespace cushim::fatbin::detail
