// DeadlineIndex: the deadlines armed in one partition, earliest first, in (fire time,
// customer id) order. Each customer has at most one armed deadline. Moving it pushes a
// new entry onto a binary heap and leaves the old one there, skipped when it reaches the
// top (it no longer matches the customer's armed time). A move thus costs one hash
// lookup and one heap push instead of two searches of a tree of nodes, which at a live
// load were mostly cache misses. Stale entries are dropped when the heap holds twice as
// many entries as customers with a deadline.
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
  // Arms `customer` at `fire_ms` (> 0), replacing the deadline it had, if any. Returns
  // that deadline; 0 when it had none.
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
  size_t size() const { return armed_.size(); }
  // Entries in the heap, stale ones included (for tests).
  size_t heap_entries() const { return heap_.size(); }

 private:
  struct Entry {
    int64_t fire_ms;
    std::string customer;
  };
  // For the standard heap functions, which keep the greatest on top: "later" is greater.
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.fire_ms != b.fire_ms ? a.fire_ms > b.fire_ms : a.customer > b.customer;
    }
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  bool Stale(const Entry& e) const { return ArmedAt(e.customer) != e.fire_ms; }
  // Rebuilds the heap from the armed deadlines alone.
  void Compact();

  std::vector<Entry> heap_;
  std::unordered_map<std::string, int64_t, Hash, std::equal_to<>> armed_;
};

}  // namespace creditwatch::stream
