// Live-handle registry: every handle given to an application is checked here before use, so a stale or
// foreign handle yields CUDA_ERROR_INVALID_HANDLE instead of a crash. Every API call looks its handles up, from any
// number of host threads: lookups share the lock, only creation and destruction take it alone.
#pragma once

#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace cushim::core {

template <typename T> class HandleRegistry {
public:
  void add(T *Object) {
    std::lock_guard<std::shared_mutex> G(Mutex);
    Live.insert(Object);
  }
  void remove(T *Object) {
    std::lock_guard<std::shared_mutex> G(Mutex);
    Live.erase(Object);
  }
  // The object if the pointer is a live handle of this type, else nullptr.
  T *lookup(const void *Handle) const {
    std::shared_lock<std::shared_mutex> G(Mutex);
    auto It = Live.find(static_cast<T *>(const_cast<void *>(Handle)));
    return It == Live.end() ? nullptr : *It;
  }

private:
  mutable std::shared_mutex Mutex;
  std::unordered_set<T *> Live;
};

} // namespace cushim::core
