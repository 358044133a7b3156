#include "stream/deadline_index.h"

#include <algorithm>
#include <utility>

namespace creditwatch::stream {

int64_t DeadlineIndex::Arm(std::string_view customer, int64_t fire_ms) {
  if (fire_ms == 0) return Disarm(customer);
  auto it = armed_.find(customer);
  if (it == armed_.end()) it = armed_.emplace(std::string(customer), 0).first;
  const int64_t before = it->second;
  if (before == fire_ms) return before;  // its entry is in the heap already
  if (before == 0) ++armed_count_;
  it->second = fire_ms;
  heap_.push_back({fire_ms, &*it});
  std::push_heap(heap_.begin(), heap_.end(), Later{});
  CompactIfSparse();
  return before;
}

int64_t DeadlineIndex::Disarm(std::string_view customer) {
  const auto it = armed_.find(customer);
  if (it == armed_.end() || it->second == 0) return 0;
  const int64_t before = std::exchange(it->second, 0);  // entries may still point here
  --armed_count_;
  CompactIfSparse();
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
  *customer = &heap_.front().node->first;
  return true;
}

void DeadlineIndex::Compact() {
  heap_.clear();
  std::erase_if(armed_, [](const Armed::value_type& n) { return n.second == 0; });
  heap_.reserve(armed_.size());
  for (const auto& node : armed_) heap_.push_back({node.second, &node});
  std::make_heap(heap_.begin(), heap_.end(), Later{});
}

}  // namespace creditwatch::stream
