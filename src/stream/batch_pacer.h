// BatchPacer: how long the engine loop keeps taking records into one poll batch.
// While the engine keeps up, a batch ends when the local queue runs dry, or after the
// short base time: every record of a batch waits for the batch's commit. While it is
// behind (a batch ends on its time or record cap, not on an empty queue), waiting is
// queueing anyway, so the cap doubles up to the backlog time: fewer, larger batches
// cost RocksDB less per record (sorted keys land closer together in the memtable) and
// spread the per-batch work. The first batch that drains the queue resets the cap.
// Not thread-safe: belongs to the engine loop.
#pragma once

#include <algorithm>

namespace creditwatch::stream {

class BatchPacer {
 public:
  enum class End {
    kQueueDry,  // the consumer had no record ready
    kCap,       // the batch reached its time or record cap
  };

  // REQUIRES: 0 < base_ms. A backlog time below the base time means the base time.
  BatchPacer(int base_ms, int backlog_ms)
      : base_ms_(base_ms), backlog_ms_(std::max(base_ms, backlog_ms)), cap_ms_(base_ms) {}

  // The time cap of the next batch.
  int cap_ms() const { return cap_ms_; }
  // How often a batch waits (1 ms each) for more records when the local queue runs dry
  // before its cap. While behind, a dry queue is mostly the next fetch still on its way,
  // not the end of the backlog: ending the batch there reset the cap and made the next
  // batches small (measured: a dry queue every 1-2 s of a backlog, then 4-5 batches
  // of 10-160 ms). While caught up, none: the batch ends at once.
  int dry_waits() const { return cap_ms_ > base_ms_ ? 2 : 0; }

  void BatchEnded(End end) { cap_ms_ = end == End::kQueueDry ? base_ms_ : std::min(cap_ms_ * 2, backlog_ms_); }

 private:
  int base_ms_;
  int backlog_ms_;
  int cap_ms_;
};

}  // namespace creditwatch::stream
