// Live-handle registry: every handle given to an application is checked here before use, so a stale or
// foreign handle yields CUDA_ERROR_INVALID_HANDLE instead of a crash.
#pragma once

#include <mutex>
#include <unordered_set>

namespace cushim::core {

template <typename T> class HandleRegistry {
public:
  void add(T *Object) {
    std::lock_guard<std::mutex> G(Mutex);
    Live.insert(Object);
  }
  void remove(T *Object) {
    std::lock_guard<std::mutex> G(Mutex);
    Live.erase(Object);
  }
  // The object if the pointer is a live handle of this type, else nullptr.
  T *lookup(const void *Handle) const {
    std::lock_guard<std::mutex> G(Mutex);
    auto It = Live.find(static_cast<T *>(const_cast<void *>(Handle)));
    return It == Live.end() ? nullptr : *It;
  }

private:
  mutable std::mutex Mutex;
  std::unordered_set<T *> Live;
};

} // namespace cushim::core
