// Logging through spdlog: one logger for the whole process, configured from CUSHIM_LOG / CUSHIM_LOG_FILE.
#pragma once

#include "support/Export.h"

#include <spdlog/spdlog.h>

namespace cushim {

// The process-wide logger; created on first use from the environment configuration.
CUSHIM_API spdlog::logger &logger();

// Logs a message once per process for a given key (e.g. an unimplemented API name).
CUSHIM_API bool logOnce(const char *Key);

} // namespace cushim

#define CUSHIM_LOG_TRACE(...) ::cushim::logger().trace(__VA_ARGS__)
#define CUSHIM_LOG_DEBUG(...) ::cushim::logger().debug(__VA_ARGS__)
#define CUSHIM_LOG_INFO(...) ::cushim::logger().info(__VA_ARGS__)
#define CUSHIM_LOG_WARN(...) ::cushim::logger().warn(__VA_ARGS__)
#define CUSHIM_LOG_ERROR(...) ::cushim::logger().error(__VA_ARGS__)
