// DeadlineIndex: the deadlines armed in one partition, earliest first, in (fire time,
// customer id) order. Each customer has at most one armed deadline, kept in a map node.
// Moving it pushes a new entry (the time and the node) onto a binary heap and leaves the
// old one there, skipped when it reaches the top (it no longer matches the node's time).
// A move thus costs one hash lookup and one push of 16 bytes instead of two searches of
// a tree of nodes, which at a live load were mostly cache misses. A disarmed customer's
// node stays (at 0) while entries may point to it; the heap is rebuilt, and such nodes
// dropped, when stale entries or disarmed nodes outnumber the armed deadlines.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace creditwatch::stream {

class DeadlineIndex {
 public:
  // Arms `customer` at `fire_ms`, replacing the deadline it had, if any; 0 disarms it.
  // Returns the deadline it had; 0 when it had none.
  int64_t Arm(std::string_view customer, int64_t fire_ms);
  // Removes the customer's deadline, if any. Returns it; 0 when it had none.
  int64_t Disarm(std::string_view customer);
  // The customer's armed deadline; 0 when it has none.
  int64_t ArmedAt(std::string_view customer) const;
  // The earliest armed deadline and its customer, ties broken by customer id, when it is
  // due by `now_ms`; false otherwise. `customer` stays valid until the index is next
  // changed. Only entries due are checked against the armed deadlines: a stale entry on
  // top that is not due yet hides nothing that is.
  bool EarliestDue(int64_t now_ms, int64_t* fire_ms, const std::string** customer);
  // Customers with a deadline.
  size_t size() const { return armed_count_; }
  // Entries in the heap, stale ones included, and customers' nodes, disarmed ones
  // included (for tests).
  size_t heap_entries() const { return heap_.size(); }
  size_t nodes() const { return armed_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Customer id -> armed deadline (0: none). Nodes do not move while others come and go.
  using Armed = std::unordered_map<std::string, int64_t, Hash, std::equal_to<>>;
  struct Entry {
    int64_t fire_ms;
    const Armed::value_type* node;
  };
  // For the standard heap functions, which keep the greatest on top: "later" is greater.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.fire_ms != b.fire_ms ? a.fire_ms > b.fire_ms : a.node->first > b.node->first;
    }
  };
  static bool Stale(const Entry& e) { return e.node->second != e.fire_ms; }
  // Rebuilds the heap from the armed deadlines alone, and drops the disarmed nodes.
  void Compact();
  void CompactIfSparse() {
    if (heap_.size() > 2 * armed_count_ + kSlack || armed_.size() > 2 * armed_count_ + kSlack) Compact();
  }
  // Stale entries or disarmed nodes tolerated beyond the armed deadlines: a small index
  // is not rebuilt every few moves.
  static constexpr size_t kSlack = 64;

  std::vector<Entry> heap_;
  Armed armed_;
  size_t armed_count_ = 0;
};

}  // namespace creditwatch::stream
