// Helpers shared by the fatbin tests: loading the checked-in data files and editing header fields.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace fatbin_test {

inline std::string loadData(const std::string &Name) {
  std::ifstream In(std::string(CUSHIM_FATBIN_TEST_DATA) + "/" + Name, std::ios::binary);
  if (!In)
    throw std::runtime_error("missing test data file " + Name);
  return std::string(std::istreambuf_iterator<char>(In), std::istreambuf_iterator<char>());
}

template <typename T> T getAt(const std::string &Bytes, size_t Offset) {
  T V;
  std::memcpy(&V, Bytes.data() + Offset, sizeof(T));
  return V;
}

template <typename T> void setAt(std::string &Bytes, size_t Offset, T V) { std::memcpy(&Bytes[Offset], &V, sizeof(T)); }

// Layout of the registration wrapper nvcc emits (fatbinary_section.h).
struct Wrapper {
  int Magic;
  int Version;
  const unsigned long long *Data;
  void *FilenameOrFatbins;
};

// Offsets used by the tests: the first entry of a single-container file starts after the 16-byte container header.
constexpr size_t FirstEntry = 16;

} // namespace fatbin_test
