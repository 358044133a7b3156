// EventIdSet: the event ids of one poll batch, checked for duplicates until the batch is
// in RocksDB. Open addressing over 64-bit hashes, with the ids themselves in one buffer
// (a hash match is confirmed on the id): once the set has grown to its batch size, an
// add allocates nothing, and Clear costs the entries, not the capacity.
//
// Adding only appends. The hash table is built when a lookup comes, from the ids added
// since the last one: most events are later than their customer's dedup floor and are
// never looked up (core::MayRedeliverForgotten), so most batches see few lookups or
// none. Built at once, the table's inserts are fetched ahead and their cache misses
// overlap; one insert per event, each waiting for its own miss, was about 3% of the
// engine loop in a backlog.
//
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
  bool Contains(std::string_view id) {
    IndexAdded();
    if (slots_.empty()) return false;
    const uint64_t h = HashOf(id);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Entry& s = slots_[i];
      if (s.hash == 0) return false;
      if (s.hash == h && IdAt(s) == id) return true;
    }
  }

  // Adds id (adding one again changes nothing that Contains sees).
  void Add(std::string_view id) {
    added_.push_back(Entry{HashOf(id), static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(id.size())});
    ids_.append(id);
  }

  void Clear() {
    if (used_.size() * 8 < slots_.size()) {
      for (size_t i : used_) slots_[i] = Entry{};
    } else {
      std::fill(slots_.begin(), slots_.end(), Entry{});
    }
    used_.clear();
    added_.clear();
    indexed_ = 0;
    ids_.clear();
  }

  // The ids added, counting each add.
  size_t size() const { return added_.size(); }
  bool empty() const { return added_.empty(); }

 private:
  struct Entry {
    uint64_t hash = 0;  // 0: an empty slot
    uint32_t offset = 0;
    uint32_t length = 0;
  };

  static uint64_t HashOf(std::string_view id) {
    const uint64_t h = static_cast<uint64_t>(Hash{}(id));
    return h == 0 ? 1 : h;
  }
  std::string_view IdAt(const Entry& s) const { return std::string_view(ids_).substr(s.offset, s.length); }

  // Puts the ids added since the last lookup into the table, a group at a time: the
  // group's slots are fetched first, so their misses overlap.
  void IndexAdded() {
    if (indexed_ == added_.size()) return;
    size_t need = slots_.empty() ? 64 : slots_.size();
    while (added_.size() * 2 > need) need *= 2;
    if (need != slots_.size()) Grow(need);
    constexpr size_t kGroup = 16;
    for (size_t at = indexed_; at < added_.size(); at += kGroup) {
      const size_t end = std::min(at + kGroup, added_.size());
      for (size_t k = at; k < end; ++k) __builtin_prefetch(&slots_[added_[k].hash & mask_]);
      for (size_t k = at; k < end; ++k) Place(added_[k]);
    }
    indexed_ = added_.size();
  }

  void Place(const Entry& e) {
    size_t i = e.hash & mask_;
    for (;; i = (i + 1) & mask_) {
      const Entry& s = slots_[i];
      if (s.hash == 0) break;
      if (s.hash == e.hash && IdAt(s) == IdAt(e)) return;  // added before
    }
    slots_[i] = e;
    used_.push_back(i);
  }

  void Grow(size_t size) {
    std::vector<Entry> old;
    old.swap(slots_);
    slots_.assign(size, Entry{});
    mask_ = slots_.size() - 1;
    used_.clear();
    for (const Entry& s : old) {
      if (s.hash != 0) Place(s);
    }
  }

  std::vector<Entry> slots_;  // a power of two, at most half full
  size_t mask_ = 0;
  std::vector<size_t> used_;  // the filled slots
  std::vector<Entry> added_;  // every id added, in order
  size_t indexed_ = 0;        // how many of added_ are in slots_
  std::string ids_;
};

using EventIdSet = BasicEventIdSet<>;

}  // namespace creditwatch::stream
