// OutputList: a list of output messages that keeps its messages when cleared. The next
// step's Add() clears one and reuses it, so its strings keep their capacity and a step's
// outputs cost few allocations once the list has grown to a step's usual size.
// Not thread-safe.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <vector>

namespace creditwatch::core {

template <typename T>
class OutputList {
 public:
  // A cleared message at the end of the list. Like std::vector::emplace_back, it may
  // move the messages before it.
  T& Add() {
    if (size_ == items_.size()) {
      items_.emplace_back();
    } else {
      items_[size_].Clear();
    }
    return items_[size_++];
  }
  // Copies `other`'s messages to the end (by index: Add may move them when other is this).
  void Append(const OutputList& other) {
    const size_t n = other.size_;
    for (size_t i = 0; i < n; ++i) {
      T& to = Add();
      to.CopyFrom(other.items_[i]);
    }
  }
  void clear() { size_ = 0; }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return items_[i]; }
  const T& operator[](size_t i) const { return items_[i]; }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("OutputList::at");
    return items_[i];
  }
  T* begin() { return items_.data(); }
  T* end() { return items_.data() + size_; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }

 private:
  std::vector<T> items_;  // the first size_ are the list; the rest wait for reuse
  size_t size_ = 0;
};

}  // namespace creditwatch::core
