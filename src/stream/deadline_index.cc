#include "stream/deadline_index.h"

#include <algorithm>
#include <utility>

namespace creditwatch::stream {

namespace {
// Stale entries tolerated beyond the armed ones before a rebuild: a small index is not
// rebuilt every few moves.
constexpr size_t kCompactSlack = 64;
}  // namespace

int64_t DeadlineIndex::Arm(std::string_view customer, int64_t fire_ms) {
  auto it = armed_.find(customer);
  int64_t before = 0;
  if (it == armed_.end()) {
    it = armed_.emplace(std::string(customer), fire_ms).first;
  } else if (it->second == fire_ms) {
    return fire_ms;  // its entry is in the heap already
  } else {
    before = std::exchange(it->second, fire_ms);
  }
  heap_.push_back({fire_ms, it->first});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  if (heap_.size() > 2 * armed_.size() + kCompactSlack) Compact();
  return before;
}

int64_t DeadlineIndex::Disarm(std::string_view customer) {
  const auto it = armed_.find(customer);
  if (it == armed_.end()) return 0;
  const int64_t before = it->second;
  armed_.erase(it);
  if (armed_.empty()) heap_.clear();
  return before;
}

int64_t DeadlineIndex::ArmedAt(std::string_view customer) const {
  const auto it = armed_.find(customer);
  return it == armed_.end() ? 0 : it->second;
}

bool DeadlineIndex::EarliestDue(int64_t now_ms, int64_t* fire_ms, const std::string** customer) {
  // An entry re-armed at its old time after a move is in the heap twice, both current:
  // the second is skipped once the first has fired and moved the deadline.
  while (!heap_.empty() && heap_.front().fire_ms <= now_ms && Stale(heap_.front())) {
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    heap_.pop_back();
  }
  if (heap_.empty() || heap_.front().fire_ms > now_ms) return false;
  *fire_ms = heap_.front().fire_ms;
  *customer = &heap_.front().customer;
  return true;
}

void DeadlineIndex::Compact() {
  heap_.clear();
  heap_.reserve(armed_.size());
  for (const auto& [customer, fire_ms] : armed_) heap_.push_back({fire_ms, customer});
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

}  // namespace creditwatch::stream
