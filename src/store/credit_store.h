// CreditStore: the engine's durable state in RocksDB, one column family per kind of
// record (customer state checkpoints, the steps logged since, deadline index, archived
// event ids, input positions, outbox) and one bounded block cache shared by all. A poll
// batch is written with one atomic StoreBatch. Thread-safe: RocksDB serializes writers;
// the engine loop is the only writer of customer states and positions.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "creditwatch/v1/engine.pb.h"
#include "creditwatch/v1/state.pb.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace creditwatch::store {

struct StoreOptions {
  std::string data_dir;                            // REQUIRED
  size_t block_cache_bytes = 256ull << 20;         // Default: 256 MiB, shared by all column families
  int64_t dedup_retention_ms = 30ll * 86'400'000;  // Default: 30 days
  bool sync_writes = false;                        // Default: false (WAL survives process crashes)
};

struct DueTimer {
  int64_t fire_ms;
  std::string customer_id;
};

struct StoreStats {
  uint64_t live_data_bytes = 0;
  uint64_t pending_compaction_bytes = 0;
  uint64_t block_cache_usage_bytes = 0;
  uint64_t block_cache_capacity_bytes = 0;
};

class CreditStore;
struct DeferredState;

// Who serializes a changed customer state for a batch in flight: the committing thread
// when it writes the batch, or the engine loop when it is about to change that state
// again first, whichever claims it first. Serializing the changed states was a sixth of
// the loop's time; the committing thread has time to spare. Lives with the state (it
// must outlive the batch's commit) and is used by one loop thread and one committer.
// The rules that make it safe:
// - a flag stands for one batch at a time: the loop hands a state off again only after
//   the commit of the batch it was last handed to has returned;
// - the loop writes a batch's slot only after claiming it, and `ready` is its last
//   write there; the committer lets go of the slot only after seeing `ready`;
// - the committer reads the state only after claiming it, and the loop changes the
//   state only after Settle() returned.
class StateHandoff {
 public:
  StateHandoff() = default;
  StateHandoff(const StateHandoff&) = delete;
  StateHandoff& operator=(const StateHandoff&) = delete;

  // Engine loop, before changing the state: returns once the batch in flight holds its
  // bytes (serializing them here when the committer has not claimed them yet).
  void Settle();
  // Engine loop, waiting for the commit: serializes the state when nobody has claimed
  // it yet (the committer works front to back; a helper best goes back to front).
  void Help();

 private:
  friend class StoreBatch;
  enum : uint8_t { kIdle, kPending, kLoop, kCommitter };
  bool Claim(uint8_t by);  // pending -> `by`; false when not pending
  bool TryFill();          // claims and serializes a pending state; false when not pending
  std::atomic<uint8_t> flag_{kIdle};
  DeferredState* slot_ = nullptr;  // while pending: where the bytes go
};

// A customer state to serialize into its batch at commit (see StateHandoff).
struct DeferredState {
  DeferredState(std::string_view k, const v1::CustomerState* s, StateHandoff* h) : key(k), state(s), handoff(h) {}
  std::string_view key;  // outlives the commit (e.g. the key of a cache node)
  const v1::CustomerState* state;
  StateHandoff* handoff;
  std::string bytes;
  std::atomic<bool> ready{false};
};

// A batch's outbox records by sequence number. Kept for reuse: clear() keeps the
// records, and with them their strings' buffers, so once the list has held as many
// records, adding one allocates nothing (a record is a handful of heap strings).
class OutboxList {
 public:
  using Entry = std::pair<uint64_t, v1::OutboxRecord>;
  // A cleared record for `seq`, at the end.
  v1::OutboxRecord& Add(uint64_t seq);
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const Entry& operator[](size_t i) const { return entries_[i]; }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.begin() + static_cast<std::ptrdiff_t>(size_); }
  void clear() { size_ = 0; }
  void swap(OutboxList& other) noexcept {
    entries_.swap(other.entries_);
    std::swap(size_, other.size_);
  }

 private:
  std::vector<Entry> entries_;
  size_t size_ = 0;
};

// The writes of one poll batch, applied atomically by CreditStore::Commit.
class StoreBatch {
 public:
  explicit StoreBatch(const CreditStore& store);
  ~StoreBatch();
  StoreBatch(StoreBatch&&) noexcept;
  StoreBatch& operator=(StoreBatch&&) = delete;

  void PutCustomer(std::string_view customer_id, const v1::CustomerState& state);
  // Leaves the state's serialization to the commit, or to `handoff.Settle()` before the
  // state changes. The id and state must stay in place until the commit has returned.
  void PutCustomerDeferred(std::string_view customer_id, const v1::CustomerState& state, StateHandoff& handoff);
  // A step of a customer's state logged since its last checkpoint (see LoggedStep).
  void PutStep(std::string_view customer_id, uint32_t seq, std::string_view step);
  void DeleteStep(std::string_view customer_id, uint32_t seq);
  // Step writes made at commit (on the committing thread): a put with its encoding, or a
  // delete. The ids and encodings must stay in place until the commit has returned.
  struct StepWrite {
    std::string_view customer_id;
    uint32_t seq;
    bool put;
    std::string_view step;  // when put
  };
  using StepWrites = std::vector<StepWrite>;
  void PutStepsDeferred(const StepWrites* writes) { deferred_steps_ = writes; }
  void PutTimer(int32_t partition, int64_t fire_ms, std::string_view customer_id);
  void DeleteTimer(int32_t partition, int64_t fire_ms, std::string_view customer_id);
  // Archives ids of a customer's applied events (their core::StableHash) as one record,
  // at wall time now_ms: they are kept for the retention from then. `latest_event_ms` is
  // not earlier than any of their event times; `seq` (the customer's step number) tells
  // the customer's records apart. Nothing when `id_hashes` is empty.
  void PutEventIds(std::string_view customer_id, uint32_t seq, int64_t latest_event_ms,
                   std::span<const uint64_t> id_hashes, int64_t now_ms);
  void PutPosition(std::string_view topic, int32_t partition, const v1::PartitionPosition& pos);
  void PutOutbox(uint64_t seq, const v1::OutboxRecord& record);
  // Outbox records serialized at commit (on the committing thread). `records` must stay
  // unchanged until the commit has returned; one list per batch.
  void PutOutboxDeferred(const OutboxList* records) { deferred_outbox_ = records; }
  void DeleteOutbox(uint64_t seq);
  // Deletes the records from `from_seq` up to, not including, `to_seq` with one range
  // tombstone: one memtable insert instead of one per record.
  void DeleteOutboxRange(uint64_t from_seq, uint64_t to_seq);
  // Engine counters kept with the state they count (e.g. customers on hold).
  void PutCounter(std::string_view name, int64_t value);
  size_t Count() const;
  void Clear();

 private:
  friend class CreditStore;
  // Serializes (or collects) the deferred states and writes them, in the order given.
  void WriteDeferredStates();
  void WriteDeferredOutbox();
  void WriteDeferredSteps();

  const CreditStore& store_;
  std::unique_ptr<rocksdb::WriteBatch> wb_;
  std::string scratch_;
  std::string event_ids_value_;
  std::deque<DeferredState> deferred_;  // stable addresses: handoffs point at them
  const OutboxList* deferred_outbox_ = nullptr;
  const StepWrites* deferred_steps_ = nullptr;
};

class CreditStore {
 public:
  // Opens or creates the store. Fails with a clear message when the directory cannot be
  // created, or is locked by another running instance.
  static Status Open(const StoreOptions& options, std::unique_ptr<CreditStore>* out);
  ~CreditStore();
  CreditStore(const CreditStore&) = delete;
  CreditStore& operator=(const CreditStore&) = delete;

  Status Commit(StoreBatch& batch);

  // The customer's stored state: its last checkpoint. With `steps`, also the steps
  // logged since then, from the same snapshot (store/state_log.h replays them).
  Status GetCustomer(std::string_view customer_id, v1::CustomerState* state, bool* found,
                     std::vector<std::string>* steps = nullptr) const;
  // The customer's logged steps numbered from_seq on, in order. Fails on a gap.
  Status GetSteps(std::string_view customer_id, uint32_t from_seq, std::vector<std::string>* out) const;
  // True when an event of this customer with this id (its StableHash) was archived within
  // the retention in a record not older than event_time_ms: a re-sent event carries its
  // original event time. Reads the archive records from that time on, then the per-id
  // keys older versions wrote.
  Status SeenEvent(std::string_view customer_id, std::string_view event_id, int64_t event_time_ms, bool* seen) const;
  Status GetPosition(std::string_view topic, int32_t partition, v1::PartitionPosition* pos, bool* found) const;
  // Timers of `partition` due at or before `now_ms`, earliest first, at most `limit`.
  Status DueTimers(int32_t partition, int64_t now_ms, size_t limit, std::vector<DueTimer>* out) const;
  // Every timer of `partition` (loading the in-memory index on assignment).
  Status AllTimers(int32_t partition, std::vector<DueTimer>* out) const;
  // Outbox records with seq >= from_seq in order, at most `limit`.
  Status ScanOutbox(uint64_t from_seq, size_t limit, std::vector<std::pair<uint64_t, v1::OutboxRecord>>* out) const;
  // A counter written with PutCounter; 0 when absent.
  int64_t GetCounter(std::string_view name) const;
  // The next free outbox sequence number (1 + the largest stored).
  uint64_t NextOutboxSeq() const;
  // Counts (full scans: for tests, start-up and occasional metrics only).
  uint64_t CountOutbox() const;
  uint64_t CountTimers() const;
  uint64_t CountCustomers() const;
  uint64_t CountSteps() const;
  // Calls fn for every stored customer state: the checkpoints, without their logged
  // steps (start-up checks, tests).
  Status ForEachCustomer(const std::function<void(const v1::CustomerState&)>& fn) const;

  StoreStats Stats() const;
  // Entries in the mutable memtable of column family `name` ("positions", "steps", ...;
  // 0 for an unknown name): what the last flush has not yet written out.
  uint64_t ActiveMemtableEntries(std::string_view name) const;
  const StoreOptions& options() const { return options_; }

 private:
  friend class StoreBatch;
  explicit CreditStore(StoreOptions options);

  StoreOptions options_;
  std::shared_ptr<void> cache_;  // rocksdb::Cache, type-erased to keep RocksDB out of this header
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> cfs_;  // indexed by the kCf* constants in the .cc
};

}  // namespace creditwatch::store
