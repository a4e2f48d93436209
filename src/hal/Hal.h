// The C++ side of the vendor HAL: which backend is in use, and result checking.
#pragma once

#include "cuda_shim/hal.h"
#include "support/Error.h"
#include "support/Export.h"

namespace cushim::hal {

// The backend this process uses. Today always the built-in host backend; validated once (ABI version, struct size).
CUSHIM_API const cushim_hal_ops &ops();

// Converts a HAL result into an Error that names the failed operation.
CUSHIM_API Error check(cushim_hal_result Result, const char *Operation);

} // namespace cushim::hal

// Calls an optional HAL entry, or fails with CUDA_ERROR_NOT_SUPPORTED naming it when the backend leaves it null.
#define CUSHIM_HAL_CALL(Entry, ...)                                                                                    \
  (::cushim::hal::ops().Entry ? ::cushim::hal::check(::cushim::hal::ops().Entry(__VA_ARGS__), #Entry)                  \
                              : ::cushim::makeError(CUDA_ERROR_NOT_SUPPORTED,                                          \
                                                    std::string("backend does not implement ") + #Entry))
