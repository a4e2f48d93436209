// Fatbin reader tests on real containers made by CUDA 13's nvcc and fatbinary: encodings, arches, selection, wrappers.
#include "fatbin/Fatbin.h"
#include "TestData.h"

#include <catch2/catch.hpp>

#include <lz4.h>

using namespace cushim::fatbin;
using namespace fatbin_test;
using cushim::Expected;

namespace {

Image parseOk(const std::string &Bytes, size_t MaxSize) {
  Expected<Image> I = parseContainer(Bytes.data(), MaxSize);
  INFO((I ? std::string() : I.error().message()));
  REQUIRE(I);
  return std::move(*I);
}

Image parseFile(const std::string &Name) {
  std::string Bytes = loadData(Name);
  return parseOk(Bytes, Bytes.size());
}

} // namespace

TEST_CASE("PTX entries decode the same from zstd, LZ4 and stored payloads", "[fatbin]") {
  Image Zstd = parseFile("ptx80_zstd.fatbin");
  Image Lz4 = parseFile("ptx80_lz4.fatbin");
  Image Stored = parseFile("ptx80_none.fatbin");
  for (const Image *I : {&Zstd, &Lz4, &Stored}) {
    REQUIRE(I->Entries.size() == 1);
    const Entry &E = I->Entries[0];
    CHECK(E.Kind == EntryKind::Ptx);
    CHECK(E.Arch == 80);
    CHECK_FALSE(E.Empty);
    CHECK(E.Payload.find(".version 9.0") != std::string::npos);
    CHECK(E.Payload.find(".target sm_80") != std::string::npos);
    CHECK(E.Payload.find(".visible .entry _Z3addPfPKfi") != std::string::npos);
    REQUIRE_FALSE(E.Payload.empty());
    CHECK(E.Payload.back() != '\0'); // trailing NULs stripped
    CHECK(E.Identifier.empty());
    CHECK(E.Options.empty());
  }
  CHECK(Zstd.Entries[0].Payload == Stored.Entries[0].Payload);
  CHECK(Lz4.Entries[0].Payload == Stored.Entries[0].Payload);
  // The declared decompressed size is 0x322 bytes, one of them a NUL terminator.
  CHECK(Zstd.Entries[0].Payload.size() == 0x321);
}

TEST_CASE("Identifier and options strings are read from the entry header", "[fatbin]") {
  Image I = parseFile("ptx80_ident.fatbin");
  REQUIRE(I.Entries.size() == 1);
  CHECK(I.Entries[0].Identifier == "kernel.cu");
  CHECK(I.Entries[0].Options == "-O1 -lineinfo");
  CHECK(I.Entries[0].Payload == parseFile("ptx80_none.fatbin").Entries[0].Payload);
}

TEST_CASE("Several PTX architectures: selection takes the highest not above the device", "[fatbin]") {
  Image I = parseFile("multi_arch.fatbin");
  REQUIRE(I.Entries.size() == 3);
  // nvcc keeps the -gencode order: 75, 90, 80.
  CHECK(I.Entries[0].Arch == 75);
  CHECK(I.Entries[1].Arch == 90);
  CHECK(I.Entries[2].Arch == 80);
  CHECK(I.Entries[1].Payload.find(".target sm_90") != std::string::npos);

  const Entry *E = selectPtx(I, 86);
  REQUIRE(E);
  CHECK(E->Arch == 80);
  CHECK(E->Payload.find(".target sm_80") != std::string::npos);
  CHECK(selectPtx(I, 80)->Arch == 80);
  CHECK(selectPtx(I, 79)->Arch == 75);
  CHECK(selectPtx(I, 75)->Arch == 75);
  CHECK(selectPtx(I, 90)->Arch == 90);
  CHECK(selectPtx(I, 120)->Arch == 90);
  CHECK(selectPtx(I, 70) == nullptr);
  CHECK_FALSE(hasOnlySass(I));
}

TEST_CASE("A cubin-only image has no PTX to select", "[fatbin]") {
  Image Stored = parseFile("elf75.fatbin");
  Image Lz4 = parseFile("elf75_lz4.fatbin");
  for (const Image *I : {&Stored, &Lz4}) {
    REQUIRE(I->Entries.size() == 1);
    const Entry &E = I->Entries[0];
    CHECK(E.Kind == EntryKind::Elf);
    CHECK(E.Arch == 75);
    CHECK_FALSE(E.Empty);
    CHECK(E.Payload.compare(0, 4,
                            "\x7f"
                            "ELF") == 0);
    CHECK(hasOnlySass(*I));
    CHECK(selectPtx(*I, 90) == nullptr);
  }
  CHECK(Lz4.Entries[0].Payload == Stored.Entries[0].Payload);
}

TEST_CASE("Code-less PTX and cubin entries are marked empty", "[fatbin]") {
  Image I = parseFile("empty.fatbin");
  REQUIRE(I.Entries.size() == 2);
  CHECK(I.Entries[0].Kind == EntryKind::Ptx);
  CHECK(I.Entries[0].Empty);
  CHECK(I.Entries[0].Payload.find(".target sm_80") != std::string::npos);
  CHECK(I.Entries[1].Kind == EntryKind::Elf);
  CHECK(I.Entries[1].Empty);
  CHECK(I.Entries[1].Payload.compare(0, 4,
                                     "\x7f"
                                     "ELF") == 0);
  CHECK(selectPtx(I, 80) == nullptr);
  CHECK_FALSE(hasOnlySass(I));
}

TEST_CASE("Relocatable device code: zstd cubin and PTX with options", "[fatbin]") {
  Image I = parseFile("rdc.fatbin");
  REQUIRE(I.Entries.size() == 2);
  CHECK(I.Entries[0].Kind == EntryKind::Ptx);
  CHECK(I.Entries[0].Options == "--compile-only");
  CHECK_FALSE(I.Entries[0].Empty);
  CHECK(I.Entries[1].Kind == EntryKind::Elf);
  CHECK(I.Entries[1].Arch == 80);
  CHECK(I.Entries[1].Payload.size() == 0xc00);
  CHECK(I.Entries[1].Payload.compare(0, 4,
                                     "\x7f"
                                     "ELF") == 0);
  CHECK_FALSE(I.Entries[1].Empty);
  CHECK(selectPtx(I, 86) == &I.Entries[0]);
}

TEST_CASE("Concatenated containers are all read when the size is known", "[fatbin]") {
  std::string A = loadData("multi_arch.fatbin"), B = loadData("elf75.fatbin"), C = loadData("empty.fatbin");
  std::string All = A + B + std::string(16, '\0') + C + std::string(8, '\0');
  Image I = parseOk(All, All.size());
  REQUIRE(I.Entries.size() == 6);
  CHECK(I.Entries[3].Kind == EntryKind::Elf);
  CHECK(I.Entries[4].Empty);
  CHECK(selectPtx(I, 86)->Arch == 80);
  // Without a size only the first container's header is trusted.
  Image First = parseOk(All, 0);
  CHECK(First.Entries.size() == 3);
}

TEST_CASE("MaxSize 0 trusts the header size", "[fatbin]") {
  std::string Bytes = loadData("ptx80_lz4.fatbin");
  Image I = parseOk(Bytes, 0);
  REQUIRE(I.Entries.size() == 1);
  CHECK(I.Entries[0].Payload == parseFile("ptx80_none.fatbin").Entries[0].Payload);
}

TEST_CASE("Registration wrappers version 1 and 2", "[fatbin]") {
  std::string Multi = loadData("multi_arch.fatbin");
  Wrapper W1{int(WrapperMagic), 1, reinterpret_cast<const unsigned long long *>(Multi.data()), nullptr};
  Expected<Image> I1 = parseWrapper(&W1);
  REQUIRE(I1);
  CHECK(I1->Entries.size() == 3);
  CHECK(selectPtx(*I1, 86)->Arch == 80);

  // Version 2 is what an -rdc device link registers: data is the linked container, the last field the prelinked list.
  std::string Dlink = loadData("dlink.fatbin");
  void *Prelinked[] = {nullptr};
  Wrapper W2{int(WrapperMagic), 2, reinterpret_cast<const unsigned long long *>(Dlink.data()), Prelinked};
  Expected<Image> I2 = parseWrapper(&W2);
  REQUIRE(I2);
  REQUIRE(I2->Entries.size() == 1);
  CHECK(I2->Entries[0].Kind == EntryKind::Elf);
  CHECK(I2->Entries[0].Arch == 80);
  CHECK(hasOnlySass(*I2));

  Wrapper Bad = W1;
  Bad.Magic = 0x12345678;
  CHECK(parseWrapper(&Bad).error().code() == CUDA_ERROR_INVALID_IMAGE);
  Bad = W1;
  Bad.Version = 3;
  CHECK(parseWrapper(&Bad).error().message().find("version 3") != std::string::npos);
  Bad = W1;
  Bad.Data = nullptr;
  CHECK(parseWrapper(&Bad).error().code() == CUDA_ERROR_INVALID_IMAGE);
  CHECK(parseWrapper(nullptr).error().code() == CUDA_ERROR_INVALID_IMAGE);

  std::string Corrupt = Multi;
  setAt<uint32_t>(Corrupt, 0, 0xdeadbeef);
  Wrapper W3{int(WrapperMagic), 1, reinterpret_cast<const unsigned long long *>(Corrupt.data()), nullptr};
  Expected<Image> I3 = parseWrapper(&W3);
  REQUIRE_FALSE(I3);
  CHECK(I3.error().code() == CUDA_ERROR_INVALID_IMAGE);
  CHECK(I3.error().message().find("magic") != std::string::npos);
}

TEST_CASE("detectImageKind tells wrappers, containers, ELF and PTX text apart", "[fatbin]") {
  std::string Multi = loadData("multi_arch.fatbin");
  Wrapper W{int(WrapperMagic), 1, reinterpret_cast<const unsigned long long *>(Multi.data()), nullptr};
  CHECK(detectImageKind(&W) == ImageKind::Wrapper);
  CHECK(detectImageKind(Multi.data()) == ImageKind::Container);
  Image Elf = parseFile("elf75.fatbin");
  CHECK(detectImageKind(Elf.Entries[0].Payload.c_str()) == ImageKind::Elf);
  // The PTX stored in a fatbin starts with blank lines where nvcc's comment header was.
  Image Ptx = parseFile("ptx80_none.fatbin");
  CHECK(Ptx.Entries[0].Payload.front() == '\n');
  CHECK(detectImageKind(Ptx.Entries[0].Payload.c_str()) == ImageKind::PtxText);
  CHECK(detectImageKind("//\n// Generated by NVIDIA NVVM Compiler\n\n.version 8.0\n") == ImageKind::PtxText);
  CHECK(detectImageKind("  \t/* block\n comment */ .version 7.8\n.target sm_80\n") == ImageKind::PtxText);
  CHECK(detectImageKind(".version 9.0\n") == ImageKind::PtxText);
  CHECK(detectImageKind("hello world") == ImageKind::Unknown);
  CHECK(detectImageKind("") == ImageKind::Unknown);
  CHECK(detectImageKind("  \n") == ImageKind::Unknown);
  CHECK(detectImageKind("/* unterminated") == ImageKind::Unknown);
  CHECK(detectImageKind("// binary \x01\x02 junk\n.version") == ImageKind::Unknown);
  CHECK(detectImageKind("\x7f"
                        "EL") == ImageKind::Unknown);
  CHECK(detectImageKind("\x50\xed\x55") == ImageKind::Unknown);
  CHECK(detectImageKind(nullptr) == ImageKind::Unknown);
}

TEST_CASE("A hand-made LZ4 container with liblz4 parses like nvcc's", "[fatbin]") {
  // Re-encode the stored PTX with LZ4_compress_default in the same layout, to cover liblz4's own output too.
  std::string Stored = loadData("ptx80_none.fatbin");
  std::string Ptx = parseOk(Stored, Stored.size()).Entries[0].Payload;
  std::string Src = Ptx + '\0';
  std::string Compressed(size_t(LZ4_compressBound(int(Src.size()))), '\0');
  int CSize = LZ4_compress_default(Src.data(), Compressed.data(), int(Src.size()), int(Compressed.size()));
  REQUIRE(CSize > 0);
  Compressed.resize(size_t(CSize));
  uint32_t HeaderSize = getAt<uint32_t>(Stored, FirstEntry + 4);
  std::string Header = Stored.substr(FirstEntry, HeaderSize);
  uint64_t Padded = (uint64_t(CSize) + 7) & ~uint64_t(7);
  setAt<uint64_t>(Header, 0x08, Padded);
  setAt<uint32_t>(Header, 0x10, uint32_t(CSize));
  setAt<uint64_t>(Header, 0x28, getAt<uint64_t>(Header, 0x28) | 0x2000);
  setAt<uint64_t>(Header, 0x38, Src.size());
  std::string Container = Stored.substr(0, FirstEntry) + Header + Compressed + std::string(Padded - CSize, '\0');
  setAt<uint64_t>(Container, 8, Container.size() - FirstEntry);
  Image I = parseOk(Container, Container.size());
  REQUIRE(I.Entries.size() == 1);
  CHECK(I.Entries[0].Payload == Ptx);
}
