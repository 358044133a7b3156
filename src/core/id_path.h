// Output ids are paths: "<customer>/order/<order>/<seq>/APPROVED". Every output has one,
// so they are built by plain appends rather than a format string, whose parsing costs
// more than the id itself.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <type_traits>

namespace creditwatch::core {

inline void AppendPathPart(std::string& to, std::string_view text) { to.append(text); }

template <typename Int, typename = std::enable_if_t<std::is_integral_v<Int>>>
void AppendPathPart(std::string& to, Int value) {
  const fmt::format_int digits(value);
  to.append(digits.data(), digits.size());
}

// Appends the parts to `to`, separated by '/': text as it is, integers in decimal.
template <typename First, typename... Rest>
void AppendPath(std::string& to, const First& first, const Rest&... rest) {
  AppendPathPart(to, first);
  ((to.push_back('/'), AppendPathPart(to, rest)), ...);
}

}  // namespace creditwatch::core
