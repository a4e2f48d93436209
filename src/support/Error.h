// Recoverable errors as values: a CUresult plus a message, carried through Expected<T> up to the API edge.
#pragma once

#include "support/Export.h"

#include <cuda.h>

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace cushim {

// An error (or success) carrying the CUDA driver code that the API edge will return.
class [[nodiscard]] Error {
public:
  Error() = default;
  Error(CUresult Code, std::string Message) : Code(Code), Message(std::move(Message)) {}

  static Error success() { return Error(); }

  bool isError() const { return Code != CUDA_SUCCESS; }
  explicit operator bool() const { return isError(); }
  CUresult code() const { return Code; }
  const std::string &message() const { return Message; }

private:
  CUresult Code = CUDA_SUCCESS;
  std::string Message;
};

// Builds an Error with a formatted message; the message should say what failed and why.
CUSHIM_API Error makeError(CUresult Code, std::string Message);

// Either a value or an Error. Accessing the value of a failed Expected is a programmer error.
template <typename T> class [[nodiscard]] Expected {
public:
  Expected(T Value) : Storage(std::in_place_index<0>, std::move(Value)) {}
  Expected(Error E) : Storage(std::in_place_index<1>, std::move(E)) { assert(std::get<1>(Storage).isError()); }

  explicit operator bool() const { return Storage.index() == 0; }
  bool hasValue() const { return Storage.index() == 0; }

  T &operator*() { return std::get<0>(Storage); }
  const T &operator*() const { return std::get<0>(Storage); }
  T *operator->() { return &std::get<0>(Storage); }
  const T *operator->() const { return &std::get<0>(Storage); }
  T &get() { return std::get<0>(Storage); }

  const Error &error() const { return std::get<1>(Storage); }
  Error takeError() { return hasValue() ? Error() : std::move(std::get<1>(Storage)); }

private:
  std::variant<T, Error> Storage;
};

} // namespace cushim

// Early-return helpers that keep call sites flat.
#define CUSHIM_TRY(Expr)                                                                                               \
  do {                                                                                                                 \
    if (::cushim::Error CushimErr_ = (Expr); CushimErr_.isError())                                                     \
      return CushimErr_;                                                                                               \
  } while (0)
