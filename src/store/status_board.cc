#include "store/status_board.h"

#include <mutex>

namespace creditwatch::store {

BlockView BlockView::Of(const v1::CustomerState& s) {
  BlockView v;
  v.hold = s.block_status() == v1::BlockStatus::HOLD;
  for (int r : s.block_reasons()) v.reasons.push_back(static_cast<v1::BlockReason>(r));
  for (int r : s.block_overridden()) v.overridden.push_back(static_cast<v1::BlockReason>(r));
  v.since_ms = s.block_since_ms();
  v.version = s.block_version();
  v.release_until_ms = s.release_until_ms();
  v.partition = s.partition();
  return v;
}

StatusBoard::Shard& StatusBoard::ShardOf(const std::string& customer_id) const {
  // The maps use the low bits of the same hash for their buckets: shard by the high ones.
  return shards_[(std::hash<std::string>{}(customer_id) >> 58) % kShards];
}

void StatusBoard::Put(const std::string& customer_id, const BlockView& view, bool bounded, bool replace_equal) {
  Shard& shard = ShardOf(customer_id);
  std::unique_lock lock(shard.mu);
  auto it = shard.entries.find(customer_id);
  if (it == shard.entries.end()) {
    if (bounded && size_.load(std::memory_order_relaxed) >= max_entries_) return;
    shard.entries.emplace(customer_id, view);
    size_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A release override can end without a new version: the engine's word then stands.
  if (view.version > it->second.version || (replace_equal && view.version == it->second.version)) it->second = view;
}

void StatusBoard::Publish(const std::string& customer_id, const BlockView& view) {
  Put(customer_id, view, /*bounded=*/false, /*replace_equal=*/true);
}

void StatusBoard::Offer(const std::string& customer_id, const BlockView& view) {
  Put(customer_id, view, /*bounded=*/true, /*replace_equal=*/true);
}

void StatusBoard::Fill(const std::string& customer_id, const BlockView& view) {
  Put(customer_id, view, /*bounded=*/true, /*replace_equal=*/false);
}

bool StatusBoard::Find(const std::string& customer_id, BlockView* out) const {
  Shard& shard = ShardOf(customer_id);
  std::shared_lock lock(shard.mu);
  const auto it = shard.entries.find(customer_id);
  if (it == shard.entries.end()) return false;
  *out = it->second;
  return true;
}

void StatusBoard::ForgetPartitions(const std::function<bool(int32_t)>& gone) {
  for (Shard& shard : shards_) {
    std::unique_lock lock(shard.mu);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      if (gone(it->second.partition)) {
        it = shard.entries.erase(it);
        size_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace creditwatch::store
