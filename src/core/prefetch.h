// PrefetchBytes: starts fetching [p, p + n) from memory into the caches, every cache
// line it touches. A hint: it never faults, whatever the address.
#pragma once

#include <cstddef>
#include <cstdint>

namespace creditwatch::core {

inline void PrefetchBytes(const void* p, size_t n) {
  constexpr uintptr_t kLine = 64;
  const auto from = reinterpret_cast<uintptr_t>(p);
  for (uintptr_t line = from & ~(kLine - 1); line < from + n; line += kLine) {
    __builtin_prefetch(reinterpret_cast<const void*>(line));
  }
}

}  // namespace creditwatch::core
