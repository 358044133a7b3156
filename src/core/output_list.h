// OutputList: a list of output messages that keeps its messages when cleared. The next
// step's Add() clears one and reuses it, so its strings keep their capacity and a step's
// outputs cost few allocations once the list has grown to a step's usual size.
//
// The messages live on a protobuf arena. A generated Clear() deletes a message's
// sub-messages (an order decision's amounts, an alert's money evidence) when the message
// is on the heap, and the next step allocates them again: on the arena, Clear() only lets
// go of them, and a new one is a pointer bump. What they leave behind is freed when the
// arena is reset, after kResetAfterAdds messages.
// Not thread-safe.
#pragma once

#include <google/protobuf/arena.h>

#include <cstddef>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace creditwatch::core {

template <typename T>
class OutputList {
  template <typename V>
  class Iter {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::remove_const_t<V>;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;
    explicit Iter(T* const* p) : p_(p) {}
    V& operator*() const { return **p_; }
    V* operator->() const { return *p_; }
    Iter& operator++() {
      ++p_;
      return *this;
    }
    Iter operator++(int) {
      Iter before = *this;
      ++p_;
      return before;
    }
    bool operator==(const Iter& o) const { return p_ == o.p_; }
    bool operator!=(const Iter& o) const { return p_ != o.p_; }

   private:
    T* const* p_;
  };

 public:
  using iterator = Iter<T>;
  using const_iterator = Iter<const T>;

  // Messages added between arena resets: bounds what dropped sub-messages hold (a few
  // hundred KiB), and a reset's cost (the kept messages' strings are allocated again).
  static constexpr size_t kResetAfterAdds = 4096;

  OutputList() = default;
  OutputList(const OutputList& other) { Append(other); }
  OutputList& operator=(const OutputList& other) {
    if (this != &other) {
      clear();
      Append(other);
    }
    return *this;
  }
  // The moved-from list is empty, with no arena: its next Add makes one.
  OutputList(OutputList&& other) noexcept { *this = std::move(other); }
  OutputList& operator=(OutputList&& other) noexcept {
    if (this != &other) {
      items_.clear();
      arena_ = std::move(other.arena_);
      items_ = std::move(other.items_);
      size_ = std::exchange(other.size_, 0);
      adds_ = std::exchange(other.adds_, 0);
      other.items_.clear();
    }
    return *this;
  }

  // A cleared message at the end of the list. Unlike std::vector::emplace_back, it never
  // moves the messages before it.
  T& Add() {
    ++adds_;
    if (size_ == items_.size()) {
      if (!arena_) arena_ = std::make_unique<google::protobuf::Arena>(ArenaOptions());
      items_.push_back(google::protobuf::Arena::CreateMessage<T>(arena_.get()));
    } else {
      items_[size_]->Clear();
    }
    return *items_[size_++];
  }
  // Like Add(), but a reused message is not cleared: it holds what it held in an earlier
  // step, for a caller that sets every field. On the arena Clear() lets go of the
  // sub-messages (an order decision's amounts), and setting them again allocates them
  // and their strings anew: kept, they and their strings are written in place.
  T& AddToOverwrite() {
    if (size_ < items_.size()) {
      ++adds_;
      return *items_[size_++];
    }
    return Add();
  }
  // Copies `other`'s messages to the end (by index: Add may grow the list when other is this).
  void Append(const OutputList& other) {
    const size_t n = other.size_;
    for (size_t i = 0; i < n; ++i) {
      T& to = Add();
      to.CopyFrom(*other.items_[i]);
    }
  }
  void clear() {
    size_ = 0;
    if (adds_ >= kResetAfterAdds) {
      items_.clear();
      arena_->Reset();
      adds_ = 0;
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return *items_[i]; }
  const T& operator[](size_t i) const { return *items_[i]; }
  const T& at(size_t i) const {
    if (i >= size_) throw std::out_of_range("OutputList::at");
    return *items_[i];
  }
  iterator begin() { return iterator(items_.data()); }
  iterator end() { return iterator(items_.data() + size_); }
  const_iterator begin() const { return const_iterator(items_.data()); }
  const_iterator end() const { return const_iterator(items_.data() + size_); }

 private:
  static google::protobuf::ArenaOptions ArenaOptions() {
    google::protobuf::ArenaOptions o;
    o.start_block_size = 4096;
    o.max_block_size = 64 * 1024;
    return o;
  }

  std::unique_ptr<google::protobuf::Arena> arena_;  // created with the first message
  std::vector<T*> items_;                           // on arena_; the first size_ are the list
  size_t size_ = 0;
  size_t adds_ = 0;  // since the arena was last reset
};

}  // namespace creditwatch::core
