// EventIdSet: the event ids of one poll batch, checked for duplicates until the batch is
// in RocksDB. Open addressing over 64-bit hashes, with the ids themselves in one buffer
// (a hash match is confirmed on the id): once the set has grown to its batch size, an
// insert allocates nothing, and Clear costs the entries, not the capacity.
// Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace creditwatch::stream {

template <typename Hash = std::hash<std::string_view>>
class BasicEventIdSet {
 public:
  bool Contains(std::string_view id) const {
    if (slots_.empty()) return false;
    const uint64_t h = HashOf(id);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) return false;
      if (s.hash == h && IdAt(s) == id) return true;
    }
  }

  // Adds id; false when it was there already.
  bool Insert(std::string_view id) {
    if ((used_.size() + 1) * 2 > slots_.size()) Grow();
    const uint64_t h = HashOf(id);
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.hash == 0) break;
      if (s.hash == h && IdAt(s) == id) return false;
    }
    slots_[i] = Slot{h, static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(id.size())};
    ids_.append(id);
    used_.push_back(i);
    return true;
  }

  void Clear() {
    if (used_.size() * 8 < slots_.size()) {
      for (size_t i : used_) slots_[i] = Slot{};
    } else {
      std::fill(slots_.begin(), slots_.end(), Slot{});
    }
    used_.clear();
    ids_.clear();
  }

  size_t size() const { return used_.size(); }
  bool empty() const { return used_.empty(); }

 private:
  struct Slot {
    uint64_t hash = 0;  // 0: empty
    uint32_t offset = 0;
    uint32_t length = 0;
  };

  static uint64_t HashOf(std::string_view id) {
    const uint64_t h = static_cast<uint64_t>(Hash{}(id));
    return h == 0 ? 1 : h;
  }
  std::string_view IdAt(const Slot& s) const { return std::string_view(ids_).substr(s.offset, s.length); }

  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    used_.clear();
    for (const Slot& s : old) {
      if (s.hash == 0) continue;
      size_t i = s.hash & mask_;
      while (slots_[i].hash != 0) i = (i + 1) & mask_;
      slots_[i] = s;
      used_.push_back(i);
    }
  }

  std::vector<Slot> slots_;  // a power of two, at most half full
  size_t mask_ = 0;
  std::vector<size_t> used_;  // the filled slots, one per id
  std::string ids_;
};

using EventIdSet = BasicEventIdSet<>;

}  // namespace creditwatch::stream
