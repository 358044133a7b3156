// Status: the result of an operation that can fail at an I/O or configuration boundary.
// Must be checked ([[nodiscard]]). A value type; thread-compatible.
#pragma once

#include <string>
#include <utility>

namespace creditwatch {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status Ok() { return Status(); }
  static Status Error(std::string message) { return Status(std::move(message)); }

  bool ok() const { return message_.empty(); }
  const std::string& message() const { return message_; }

 private:
  explicit Status(std::string message) : message_(message.empty() ? "unknown error" : std::move(message)) {}
  std::string message_;
};

}  // namespace creditwatch
