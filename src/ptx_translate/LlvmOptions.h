// Setting one of LLVM's command-line options from our code: the LLVM linked into our libraries is our own, so its
// options are ours to set (once per process, before the first compile).
#pragma once

#include "support/Log.h"

#include <llvm/ADT/StringRef.h>
#include <llvm/Support/CommandLine.h>

namespace cushim::ptx {

// Sets option Name (of type T) to Value; false (and a debug line) when this LLVM has no such option.
template <typename T> bool setLlvmOption(llvm::StringRef Name, T Value) {
  auto &Options = llvm::cl::getRegisteredOptions();
  auto It = Options.find(Name);
  if (It == Options.end()) {
    CUSHIM_LOG_DEBUG("LLVM has no '{}' option; it keeps its default", Name.str());
    return false;
  }
  static_cast<llvm::cl::opt<T> *>(It->second)->setValue(Value);
  return true;
}

} // namespace cushim::ptx
