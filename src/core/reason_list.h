// ReasonList: block reasons in the order the core gives them, inline. Each reason occurs
// at most once, so a fixed array holds them all: the core's block policy allocates
// nothing per step, and a lookup board entry (two lists for each of up to a million
// customers) needs no heap block of its own.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "creditwatch/v1/state.pb.h"

namespace creditwatch::core {

class ReasonList {
 public:
  static constexpr size_t kCapacity = 7;
  void push_back(v1::BlockReason r) {
    if (n_ < kCapacity) r_[n_++] = static_cast<uint8_t>(r);
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  v1::BlockReason operator[](size_t i) const { return static_cast<v1::BlockReason>(r_[i]); }
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < n_; ++i) f((*this)[i]);
  }
  bool operator==(const ReasonList&) const = default;

 private:
  std::array<uint8_t, kCapacity> r_{};
  uint8_t n_ = 0;
};
static_assert(v1::BlockReason_ARRAYSIZE - 1 <= static_cast<int>(ReasonList::kCapacity),
              "every block reason fits in a ReasonList");

}  // namespace creditwatch::core
