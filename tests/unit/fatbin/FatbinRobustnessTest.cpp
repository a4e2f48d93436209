// Fatbin reader robustness: targeted header corruptions must fail with CUDA_ERROR_INVALID_IMAGE, and truncating or
// corrupting real containers at every offset must never crash or read out of bounds (run under ASan to see the latter).
#include "TestData.h"
#include "fatbin/Fatbin.h"

#include <catch2/catch.hpp>

#include <memory>
#include <random>

using namespace cushim::fatbin;
using namespace fatbin_test;
using cushim::Expected;

namespace {

// Parses from an exactly-sized heap copy so that any read past MaxSize is a heap overflow ASan reports.
Expected<Image> parseExact(const std::string &Bytes) {
  std::unique_ptr<char[]> Copy(new char[Bytes.size() ? Bytes.size() : 1]);
  std::memcpy(Copy.get(), Bytes.data(), Bytes.size());
  return parseContainer(Copy.get(), Bytes.size());
}

void requireInvalid(const std::string &Bytes, const char *MessagePart) {
  Expected<Image> I = parseExact(Bytes);
  REQUIRE_FALSE(I);
  INFO(I.error().message());
  CHECK(I.error().code() == CUDA_ERROR_INVALID_IMAGE);
  CHECK(I.error().message().find(MessagePart) != std::string::npos);
}

const char *const AllFiles[] = {"ptx80_zstd.fatbin", "ptx80_lz4.fatbin", "ptx80_none.fatbin", "ptx80_ident.fatbin",
                                "multi_arch.fatbin", "elf75.fatbin",     "elf75_lz4.fatbin",  "empty.fatbin",
                                "rdc.fatbin",        "dlink.fatbin"};

} // namespace

TEST_CASE("Corrupt container headers are rejected", "[fatbin]") {
  std::string Good = loadData("ptx80_zstd.fatbin");
  REQUIRE(parseExact(Good));

  std::string Bad = Good;
  setAt<uint32_t>(Bad, 0, 0xBA55ED51);
  requireInvalid(Bad, "magic");

  Bad = Good;
  setAt<uint16_t>(Bad, 6, 8); // container header size below 16
  requireInvalid(Bad, "header size");

  Bad = Good;
  setAt<uint64_t>(Bad, 8, getAt<uint64_t>(Good, 8) + 8); // fat_size past MaxSize
  requireInvalid(Bad, "run past");

  Bad = Good;
  setAt<uint64_t>(Bad, 8, ~uint64_t(0)); // absurd fat_size must not overflow the bounds checks
  requireInvalid(Bad, "run past");

  requireInvalid(Good.substr(0, 10), "truncated");
  CHECK(parseContainer(nullptr, 0).error().code() == CUDA_ERROR_INVALID_IMAGE);
}

TEST_CASE("Corrupt entry headers are rejected", "[fatbin]") {
  std::string Good = loadData("ptx80_zstd.fatbin");
  const size_t E = FirstEntry;

  std::string Bad = Good;
  setAt<uint32_t>(Bad, E + 4, 0x20); // entry header size too small
  requireInvalid(Bad, "below the minimum");

  Bad = Good;
  setAt<uint64_t>(Bad, E + 8, getAt<uint64_t>(Good, E + 8) + 8); // payload past the container's fat_size
  requireInvalid(Bad, "run past the end of the container");

  Bad = Good;
  setAt<uint32_t>(Bad, E + 0x10, 0x10000); // compressed size larger than the payload
  requireInvalid(Bad, "compressed size");

  Bad = Good;
  setAt<uint64_t>(Bad, E + 0x38, getAt<uint64_t>(Good, E + 0x38) + 1); // declared size disagrees with the frame
  requireInvalid(Bad, "declares");

  Bad = Good;
  Bad[E + getAt<uint32_t>(Good, E + 4) + 20] ^= 0x5a; // damaged zstd data
  requireInvalid(Bad, "zstd");

  Bad = Good;
  setAt<uint64_t>(Bad, E + 0x28, getAt<uint64_t>(Good, E + 0x28) | 0x2000); // LZ4 and zstd at once
  requireInvalid(Bad, "both");

  Bad = Good;
  setAt<uint32_t>(Bad, E + 0x24, 0x1000); // identifier past the header
  requireInvalid(Bad, "identifier");

  Bad = Good;
  setAt<uint32_t>(Bad, E + 0x14, 0x4c); // options record straddling the header end
  requireInvalid(Bad, "options record");

  std::string Lz4 = loadData("ptx80_lz4.fatbin");
  Bad = Lz4;
  setAt<uint64_t>(Bad, E + 0x38, getAt<uint64_t>(Lz4, E + 0x38) + 16); // LZ4 output shorter than declared
  requireInvalid(Bad, "LZ4");
  Bad = Lz4;
  setAt<uint64_t>(Bad, E + 0x38, uint64_t(1) << 40); // huge declared size is refused before allocating
  requireInvalid(Bad, "LZ4");
  Bad = Lz4;
  setAt<uint64_t>(Bad, E + 0x38, 0x100); // LZ4 output longer than declared
  requireInvalid(Bad, "LZ4");

  // A trailing non-zero fragment shorter than an entry header inside the container.
  Bad = Good + std::string(8, '\x01');
  setAt<uint64_t>(Bad, 8, getAt<uint64_t>(Good, 8) + 8);
  requireInvalid(Bad, "entry header needs");
}

TEST_CASE("Truncation at every offset fails cleanly", "[fatbin]") {
  for (const char *Name : AllFiles) {
    std::string Bytes = loadData(Name);
    INFO(Name);
    REQUIRE(parseExact(Bytes));
    // Length 0 is left out: MaxSize 0 means "trust the header", which a zero-length buffer cannot hold.
    for (size_t Len = 1; Len < Bytes.size(); ++Len) {
      Expected<Image> I = parseExact(Bytes.substr(0, Len));
      INFO("length " << Len);
      // Every real container fills its declared size, so any cut leaves it short.
      REQUIRE_FALSE(I);
      REQUIRE(I.error().code() == CUDA_ERROR_INVALID_IMAGE);
    }
  }
}

TEST_CASE("Corrupting bytes at every offset never crashes", "[fatbin]") {
  std::mt19937 Rng(12345);
  size_t Failures = 0, Parses = 0;
  for (const char *Name : AllFiles) {
    std::string Bytes = loadData(Name);
    INFO(Name);
    // Headers get every byte flipped in several ways; payload bytes are sampled.
    for (size_t Off = 0; Off < Bytes.size(); ++Off) {
      bool InHeaders = Off < 0x80;
      if (!InHeaders && Rng() % 8 != 0)
        continue;
      for (unsigned char Pattern : {0xff, 0x80, 0x01, 0x00}) {
        std::string Bad = Bytes;
        Bad[Off] = Pattern == 0 ? char(0) : char(Bad[Off] ^ Pattern);
        Expected<Image> I = parseExact(Bad);
        ++Parses;
        if (!I) {
          ++Failures;
          REQUIRE((I.error().code() == CUDA_ERROR_INVALID_IMAGE || I.error().code() == CUDA_ERROR_OUT_OF_MEMORY));
          REQUIRE_FALSE(I.error().message().empty());
        } else {
          // Whatever parsed must still be usable by the selection helpers.
          (void)selectPtx(*I, 86);
          (void)hasOnlySass(*I);
        }
      }
    }
  }
  // Corrupting magics and sizes must be caught at least sometimes; a parser that accepts everything is broken.
  CHECK(Failures > Parses / 10);
}

TEST_CASE("Random garbage never crashes the parser or detection", "[fatbin]") {
  std::mt19937 Rng(777);
  for (int Round = 0; Round < 2000; ++Round) {
    std::string Bytes(1 + Rng() % 300, '\0'); // never 0: MaxSize 0 would mean "trust the header"
    for (char &C : Bytes)
      C = char(Rng());
    if (Round % 2 == 0 && Bytes.size() >= 16) {
      setAt<uint32_t>(Bytes, 0, ContainerMagic);
      setAt<uint16_t>(Bytes, 6, 16);
      setAt<uint64_t>(Bytes, 8, Bytes.size() - 16);
    }
    Expected<Image> I = parseExact(Bytes);
    if (!I)
      REQUIRE(I.error().code() == CUDA_ERROR_INVALID_IMAGE);
    std::string Text = Bytes + '\0';
    (void)detectImageKind(Text.c_str());
  }
}
