// StatusBoard: every known customer's committed block status, in memory, so order
// systems' lookups are answered without a RocksDB read. The engine publishes a status
// once the batch that changed it is durable; a lookup of a customer the board does not
// hold yet reads RocksDB once and fills the entry in. An entry never goes back to an
// older version, so a fill from a read made before a publish cannot undo it.
// Thread-safe: one publisher (the engine loop) and any number of readers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "core/reason_list.h"
#include "creditwatch/v1/state.pb.h"

namespace creditwatch::store {

// What a block-status lookup answers.
struct BlockView {
  bool hold = false;
  core::ReasonList reasons;
  core::ReasonList overridden;  // automatic holds a manual release overrides
  int64_t since_ms = 0;
  uint64_t version = 0;
  int64_t release_until_ms = 0;
  int32_t partition = 0;

  static BlockView Of(const v1::CustomerState& s);
  bool operator==(const BlockView&) const = default;
};

class StatusBoard {
 public:
  // `max_entries`: offers and fills stop adding customers at this many entries (status
  // changes are always published). Default: 1,000,000 (about 120 MiB).
  explicit StatusBoard(size_t max_entries = 1000000) : max_entries_(max_entries) {}
  StatusBoard(const StatusBoard&) = delete;
  StatusBoard& operator=(const StatusBoard&) = delete;

  // The engine's publish of a durable status change. Ignored when the board holds a newer
  // version.
  void Publish(const std::string& customer_id, const BlockView& view);
  // The engine's durable status of a customer it has just taken up: like Publish, but a
  // customer new to the board is added only while the board has room.
  void Offer(const std::string& customer_id, const BlockView& view);
  // A lookup's fill from RocksDB: added only while the board has room, and it replaces
  // only an older version (the read may predate an equal-version publish).
  void Fill(const std::string& customer_id, const BlockView& view);
  // True and *out set when the board holds the customer.
  bool Find(const std::string& customer_id, BlockView* out) const;
  // Drops the customers of partitions this instance no longer owns.
  void ForgetPartitions(const std::function<bool(int32_t)>& gone);
  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, BlockView> entries;
  };
  Shard& ShardOf(const std::string& customer_id) const;
  void Put(const std::string& customer_id, const BlockView& view, bool bounded, bool replace_equal);

  const size_t max_entries_;
  mutable std::array<Shard, kShards> shards_;
  std::atomic<size_t> size_{0};
};

}  // namespace creditwatch::store
