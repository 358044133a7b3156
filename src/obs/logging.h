// Process-wide logging setup (spdlog to stderr). Call once from main.
#pragma once

#include <string>

namespace creditwatch::obs {

// level: trace, debug, info, warn, error. Unknown names mean info.
void SetupLogging(const std::string& level);

}  // namespace creditwatch::obs
