#include "store/credit_store.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <limits>
#include <thread>

#include "core/ledger.h"

namespace creditwatch::store {
namespace {

// "dedup" holds one key per event id, as versions before the event-id archive wrote them:
// read until they expire, no longer written.
enum Cf : size_t {
  kCfDefault = 0,
  kCfCustomers,
  kCfTimers,
  kCfDedup,
  kCfPositions,
  kCfOutbox,
  kCfSteps,
  kCfEventIds,
  kCfCount
};
constexpr const char* kCfNames[] = {"default",   "customers", "timers", "dedup",
                                    "positions", "outbox",    "steps",  "event_ids"};

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

template <int N>
void AppendBE(std::string& s, uint64_t v) {
  char b[N];
  for (int i = N - 1; i >= 0; --i, v >>= 8) b[i] = static_cast<char>(v & 0xFF);
  s.append(b, N);
}
void AppendBE32(std::string& s, uint32_t v) { AppendBE<4>(s, v); }
void AppendBE64(std::string& s, uint64_t v) { AppendBE<8>(s, v); }
uint64_t ReadBE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}
// Fire times are non-negative epoch ms, so big-endian order is time order.
std::string TimerKey(int32_t partition, int64_t fire_ms, std::string_view customer) {
  std::string k;
  k.reserve(12 + customer.size());
  AppendBE32(k, static_cast<uint32_t>(partition));
  AppendBE64(k, static_cast<uint64_t>(fire_ms));
  k.append(customer);
  return k;
}
std::string PositionKey(std::string_view topic, int32_t partition) {
  std::string k(topic);
  k.push_back('\0');
  AppendBE32(k, static_cast<uint32_t>(partition));
  return k;
}
// The key of an event id in "dedup" (no longer written): its event time, then the id.
void AppendEventIdKey(std::string& k, std::string_view event_id, int64_t event_time_ms) {
  AppendBE64(k, static_cast<uint64_t>(std::max<int64_t>(event_time_ms, 0)));
  k.append(event_id);
}
std::string EventIdKey(std::string_view event_id, int64_t event_time_ms) {
  std::string k;
  k.reserve(8 + event_id.size());
  AppendEventIdKey(k, event_id, event_time_ms);
  return k;
}
// The customer part of a per-customer key: the id's length, then the id. The length
// makes it prefix-free, so each customer's keys sort together and in order, as RocksDB's
// prefix seeks (CustomerPrefix) require: with the bare id, the keys of an id that
// extends another would fall among the other's.
void AppendCustomerPrefix(std::string& k, std::string_view customer) {
  AppendBE32(k, static_cast<uint32_t>(customer.size()));
  k.append(customer);
}
// A customer's logged steps: the customer part, then the step number (big-endian).
constexpr size_t kStepKeySuffix = 4;
void AppendStepKey(std::string& k, std::string_view customer, uint32_t seq) {
  AppendCustomerPrefix(k, customer);
  AppendBE32(k, seq);
}
// A customer's archived event ids: the customer part, the latest event time among them,
// then the checkpoint's step number. Every id in a record has an event time at or before
// the record's, so a look-up for an event seeks from that event's time.
constexpr size_t kEventIdsKeySuffix = 12;
void AppendEventIdsKey(std::string& k, std::string_view customer, int64_t latest_event_ms, uint32_t seq) {
  AppendCustomerPrefix(k, customer);
  AppendBE64(k, static_cast<uint64_t>(std::max<int64_t>(latest_event_ms, 0)));
  AppendBE32(k, seq);
}
std::string OutboxKey(uint64_t seq) {
  std::string k;
  AppendBE64(k, seq);
  return k;
}

// Outbox keys only grow: one insert hint for all of them, so the memtable appends. Keys
// of any other length are outside its domain: RocksDB 7.8 keeps one hint per prefix for
// both a memtable's point entries and its range tombstones, and fails an assertion when
// a range tombstone's insert is handed a hint from the point entries.
class OutboxHint : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "creditwatch.OutboxHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), 0}; }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() == 8; }
};

// Maps every key to one insert hint: a batch written in key order then inserts each key
// next to the previous one in the memtable.
class OneHint : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "creditwatch.OneHint"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), 0}; }
  bool InDomain(const rocksdb::Slice&) const override { return true; }
};

// A per-customer key's customer part (the key without its fixed-size suffix): one prefix
// per customer, so the blooms answer "nothing stored for this customer" without reading
// a block (no steps logged: the common case when a customer is loaded; no archive).
class CustomerPrefix : public rocksdb::SliceTransform {
 public:
  CustomerPrefix(const char* name, size_t suffix) : name_(name), suffix_(suffix) {}
  const char* Name() const override { return name_; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override { return {key.data(), key.size() - suffix_}; }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() >= suffix_; }

 private:
  const char* name_;  // as stored in the SST files' properties: unchanged across versions
  size_t suffix_;
};

Status ToStatus(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return Status::Error(fmt::format("{}: {}", what, s.ToString()));
}

// Whether remembered event ids are within the retention: their value starts with the
// wall ms when they were stored, not before oldest_ms.
bool StoredSince(const rocksdb::Slice& value, int64_t oldest_ms) {
  return value.size() >= 8 && static_cast<int64_t>(ReadBE(value.data(), 8)) >= oldest_ms;
}

// Drops remembered event ids older than the retention.
class DedupExpiry : public rocksdb::CompactionFilter {
 public:
  explicit DedupExpiry(int64_t retention_ms) : retention_ms_(retention_ms) {}
  bool Filter(int, const rocksdb::Slice&, const rocksdb::Slice& value, std::string*, bool*) const override {
    return !StoredSince(value, WallMs() - retention_ms_);
  }
  const char* Name() const override { return "creditwatch.DedupExpiry"; }

 private:
  int64_t retention_ms_;
};

}  // namespace

StoreBatch::StoreBatch(const CreditStore& store) : store_(store), wb_(std::make_unique<rocksdb::WriteBatch>()) {}
StoreBatch::~StoreBatch() = default;
StoreBatch::StoreBatch(StoreBatch&&) noexcept = default;

void StoreBatch::PutCustomer(std::string_view customer_id, const v1::CustomerState& state) {
  scratch_.clear();
  state.SerializeToString(&scratch_);
  wb_->Put(store_.cfs_[kCfCustomers], rocksdb::Slice(customer_id.data(), customer_id.size()), scratch_)
      .PermitUncheckedError();
}
void StoreBatch::PutCustomerDeferred(std::string_view customer_id, const v1::CustomerState& state,
                                     StateHandoff& handoff) {
  DeferredState& d = deferred_.emplace_back(customer_id, &state, &handoff);
  handoff.slot_ = &d;
  handoff.flag_.store(StateHandoff::kPending, std::memory_order_relaxed);  // published by the submit
}
void StoreBatch::WriteDeferredStates() {
  for (DeferredState& d : deferred_) {
    const std::string* bytes = &d.bytes;
    if (d.handoff->Claim(StateHandoff::kCommitter)) {
      scratch_.clear();
      d.state->SerializeToString(&scratch_);
      d.handoff->flag_.store(StateHandoff::kIdle, std::memory_order_release);
      bytes = &scratch_;
    } else {
      // The loop claimed it: its bytes are ready or about to be.
      while (!d.ready.load(std::memory_order_acquire)) std::this_thread::yield();
    }
    wb_->Put(store_.cfs_[kCfCustomers], rocksdb::Slice(d.key.data(), d.key.size()), *bytes).PermitUncheckedError();
  }
  deferred_.clear();
}
bool StateHandoff::Claim(uint8_t by) {
  uint8_t expected = kPending;
  return flag_.compare_exchange_strong(expected, by, std::memory_order_acq_rel);
}
bool StateHandoff::TryFill() {
  if (!Claim(kLoop)) return false;
  // Claimed: the committer waits for `ready` and only then lets go of the slot.
  DeferredState* d = slot_;
  d->state->SerializeToString(&d->bytes);
  d->ready.store(true, std::memory_order_release);  // the slot's last use here
  flag_.store(kIdle, std::memory_order_release);
  return true;
}
void StateHandoff::Settle() {
  if (flag_.load(std::memory_order_acquire) == kIdle || TryFill()) return;
  // The committer is serializing it now: one state's worth of waiting.
  while (flag_.load(std::memory_order_acquire) != kIdle) std::this_thread::yield();
}
void StateHandoff::Help() {
  if (flag_.load(std::memory_order_relaxed) == kPending) TryFill();
}
void StoreBatch::PutStep(std::string_view customer_id, uint32_t seq, std::string_view step) {
  scratch_.clear();
  AppendStepKey(scratch_, customer_id, seq);
  wb_->Put(store_.cfs_[kCfSteps], scratch_, rocksdb::Slice(step.data(), step.size())).PermitUncheckedError();
}
void StoreBatch::DeleteStep(std::string_view customer_id, uint32_t seq) {
  scratch_.clear();
  AppendStepKey(scratch_, customer_id, seq);
  wb_->Delete(store_.cfs_[kCfSteps], scratch_).PermitUncheckedError();
}
void StoreBatch::PutTimer(int32_t partition, int64_t fire_ms, std::string_view customer_id) {
  wb_->Put(store_.cfs_[kCfTimers], TimerKey(partition, fire_ms, customer_id), "").PermitUncheckedError();
}
void StoreBatch::DeleteTimer(int32_t partition, int64_t fire_ms, std::string_view customer_id) {
  wb_->Delete(store_.cfs_[kCfTimers], TimerKey(partition, fire_ms, customer_id)).PermitUncheckedError();
}
void StoreBatch::PutEventIds(std::string_view customer_id, uint32_t seq, int64_t latest_event_ms,
                             std::span<const uint64_t> id_hashes, int64_t now_ms) {
  if (id_hashes.empty()) return;
  scratch_.clear();
  AppendEventIdsKey(scratch_, customer_id, latest_event_ms, seq);
  std::string& value = event_ids_value_;
  value.clear();
  AppendBE64(value, static_cast<uint64_t>(now_ms));
  for (uint64_t h : id_hashes) AppendBE64(value, h);
  wb_->Put(store_.cfs_[kCfEventIds], scratch_, value).PermitUncheckedError();
}
void StoreBatch::PutPosition(std::string_view topic, int32_t partition, const v1::PartitionPosition& pos) {
  wb_->Put(store_.cfs_[kCfPositions], PositionKey(topic, partition), pos.SerializeAsString()).PermitUncheckedError();
}
v1::OutboxRecord& OutboxList::Add(uint64_t seq) {
  if (size_ == entries_.size()) {
    entries_.emplace_back(seq, v1::OutboxRecord());
  } else {
    entries_[size_].first = seq;
    v1::OutboxRecord& r = entries_[size_].second;
    r.Clear();
    // A large value (a dead letter's input) does not keep its buffer for the records after.
    constexpr size_t kKeptValueBytes = 16 * 1024;
    if (r.value().capacity() > kKeptValueBytes) r.mutable_value()->shrink_to_fit();
  }
  return entries_[size_++].second;
}

void StoreBatch::PutOutbox(uint64_t seq, const v1::OutboxRecord& record) {
  scratch_.clear();
  record.SerializeToString(&scratch_);
  wb_->Put(store_.cfs_[kCfOutbox], OutboxKey(seq), scratch_).PermitUncheckedError();
}
void StoreBatch::WriteDeferredOutbox() {
  if (deferred_outbox_ == nullptr) return;
  for (const auto& [seq, record] : *deferred_outbox_) PutOutbox(seq, record);
  deferred_outbox_ = nullptr;
}
void StoreBatch::WriteDeferredSteps() {
  if (deferred_steps_ == nullptr) return;
  for (const StepWrite& w : *deferred_steps_) {
    if (w.put) {
      PutStep(w.customer_id, w.seq, w.step);
    } else {
      DeleteStep(w.customer_id, w.seq);
    }
  }
  deferred_steps_ = nullptr;
}
void StoreBatch::DeleteOutbox(uint64_t seq) {
  wb_->Delete(store_.cfs_[kCfOutbox], OutboxKey(seq)).PermitUncheckedError();
}
void StoreBatch::DeleteOutboxRange(uint64_t from_seq, uint64_t to_seq) {
  if (from_seq >= to_seq) return;
  // The range starts just after from_seq's key, which is deleted alone: a 9-byte start
  // key is outside the insert-hint domain (OutboxHint), as range tombstones must be.
  wb_->Delete(store_.cfs_[kCfOutbox], OutboxKey(from_seq)).PermitUncheckedError();
  wb_->DeleteRange(store_.cfs_[kCfOutbox], OutboxKey(from_seq).append(1, '\0'), OutboxKey(to_seq))
      .PermitUncheckedError();
}
void StoreBatch::PutCounter(std::string_view name, int64_t value) {
  std::string v;
  AppendBE64(v, static_cast<uint64_t>(value));
  wb_->Put(store_.cfs_[kCfDefault], std::string("counter/").append(name), v).PermitUncheckedError();
}
size_t StoreBatch::Count() const {
  return static_cast<size_t>(wb_->Count()) + deferred_.size() +
         (deferred_outbox_ != nullptr ? deferred_outbox_->size() : 0) +
         (deferred_steps_ != nullptr ? deferred_steps_->size() : 0);
}
void StoreBatch::Clear() {
  // Dropped unwritten: their handoffs are released (the states stay as they are).
  for (DeferredState& d : deferred_) {
    if (!d.handoff->Claim(StateHandoff::kIdle)) {
      while (d.handoff->flag_.load(std::memory_order_acquire) != StateHandoff::kIdle) std::this_thread::yield();
    }
  }
  deferred_.clear();
  deferred_outbox_ = nullptr;
  deferred_steps_ = nullptr;
  wb_->Clear();
}

Status CreditStore::Open(const StoreOptions& options, std::unique_ptr<CreditStore>* out) {
  if (options.data_dir.empty()) return Status::Error("engine.data_dir: must be set");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) return Status::Error(fmt::format("data directory '{}': {}", options.data_dir, ec.message()));

  std::unique_ptr<CreditStore> store(new CreditStore(options));
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  store->cache_ = cache;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;  // index and filters count against the one budget
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.format_version = 5;

  rocksdb::ColumnFamilyOptions cf_base;
  cf_base.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf_base.write_buffer_size = 32ull << 20;
  cf_base.compression = rocksdb::kLZ4Compression;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  static DedupExpiry* dedup_filter = nullptr;  // one per process; options outlive the DB
  if (dedup_filter == nullptr) dedup_filter = new DedupExpiry(options.dedup_retention_ms);
  for (size_t i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cf = cf_base;
    if (i == kCfDedup || i == kCfEventIds) cf.compaction_filter = dedup_filter;
    if (i == kCfEventIds) {
      // Read by prefix seeks only: a memtable bloom of the customers answers most of them.
      cf.prefix_extractor = std::make_shared<CustomerPrefix>("creditwatch.EventIdsPrefix", kEventIdsKeySuffix);
      cf.memtable_prefix_bloom_size_ratio = 0.05;
    }
    if (i == kCfOutbox || i == kCfTimers) cf.compression = rocksdb::kNoCompression;
    if (i == kCfSteps) {
      cf.prefix_extractor = std::make_shared<CustomerPrefix>("creditwatch.StepPrefix", kStepKeySuffix);
      cf.memtable_prefix_bloom_size_ratio = 0.05;
      cf.compression = rocksdb::kNoCompression;  // short-lived: most are deleted at the next checkpoint
      // At live load a batch holds a few events whose steps land all over the key space,
      // so a skiplist insert searches from the top: one small skiplist per customer keeps
      // that search short (committing thread 15.9 -> 12.5-13.1 CPU-us/event at 15k/s).
      cf.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(1 << 18));
    }
    if (i == kCfCustomers) {
      // Most look-ups miss: a memtable bloom filter answers them without a search.
      cf.memtable_whole_key_filtering = true;
      cf.memtable_prefix_bloom_size_ratio = 0.05;
      // Written in key order per batch: each insert lands next to the previous one.
      cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<OneHint>();
    }
    // A few keys, each rewritten in most batches (the partitions' positions; the counters)
    // with a value of the same size: updated in place, the memtable stays that small
    // instead of searching a skiplist of every version since the last flush. An in-place
    // value is visible before the rest of its batch: both are read only with no batch in
    // flight (start-up; OnAssign finishes the batch first), never under a snapshot.
    if (i == kCfPositions || i == kCfDefault) cf.inplace_update_support = true;
    // Outbox keys only grow: with an insert hint the memtable appends instead of searching.
    if (i == kCfOutbox) cf.memtable_insert_with_hint_prefix_extractor = std::make_shared<OutboxHint>();
    // Timers are written in key order per batch and partition.
    if (i == kCfTimers) cf.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(4));
    descriptors.emplace_back(kCfNames[i], cf);
  }
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.allow_concurrent_memtable_write = false;  // hash memtables need it; writes come from one thread
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.max_total_wal_size = 128ull << 20;
  db_options.keep_log_file_num = 3;

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.data_dir, descriptors, &store->cfs_, &raw);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return Status::Error(fmt::format("data directory '{}' is locked: another creditwatch instance is using it ({})",
                                       options.data_dir, s.ToString()));
    }
    return ToStatus(s, fmt::format("opening RocksDB in '{}'", options.data_dir));
  }
  store->db_.reset(raw);
  *out = std::move(store);
  return Status::Ok();
}

CreditStore::CreditStore(StoreOptions options) : options_(std::move(options)) {}

CreditStore::~CreditStore() {
  if (db_ != nullptr) {
    // A clean stop leaves nothing in the WAL, so the next start has nothing to replay
    // (up to max_total_wal_size, about a second at 128 MiB).
    db_->Flush(rocksdb::FlushOptions(), cfs_).PermitUncheckedError();
    for (auto* cf : cfs_) db_->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }
}

Status CreditStore::Commit(StoreBatch& batch) {
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync_writes;
  batch.WriteDeferredStates();
  batch.WriteDeferredOutbox();
  batch.WriteDeferredSteps();
  Status st = ToStatus(db_->Write(wo, batch.wb_.get()), "committing a batch");
  batch.Clear();
  return st;
}

namespace {
Status ReadSteps(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const rocksdb::Snapshot* snapshot,
                 std::string_view customer_id, uint32_t from_seq, std::vector<std::string>* out) {
  out->clear();
  std::string start;
  AppendStepKey(start, customer_id, from_seq);
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  ro.prefix_same_as_start = true;  // this customer's keys only
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  for (it->Seek(start); it->Valid(); it->Next()) {
    const rocksdb::Slice k = it->key();
    if (k.size() != customer_id.size() + 8) break;
    const auto seq = static_cast<uint32_t>(ReadBE(k.data() + 4 + customer_id.size(), 4));
    if (seq != from_seq + out->size()) {
      return Status::Error(fmt::format("customer '{}': logged step {} is missing (found step {})", customer_id,
                                       from_seq + out->size(), seq));
    }
    out->emplace_back(it->value().data(), it->value().size());
  }
  return ToStatus(it->status(), "reading logged steps");
}
}  // namespace

Status CreditStore::GetCustomer(std::string_view customer_id, v1::CustomerState* state, bool* found,
                                std::vector<std::string>* steps) const {
  // With the steps: both reads from one snapshot, so a checkpoint committed in between
  // cannot pair an old state with the steps after a newer one.
  const rocksdb::Snapshot* snapshot = steps != nullptr ? db_->GetSnapshot() : nullptr;
  struct Release {
    rocksdb::DB* db;
    const rocksdb::Snapshot* s;
    ~Release() {
      if (s != nullptr) db->ReleaseSnapshot(s);
    }
  } release{db_.get(), snapshot};
  if (steps != nullptr) steps->clear();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  std::string value;
  rocksdb::Status s = db_->Get(ro, cfs_[kCfCustomers], rocksdb::Slice(customer_id.data(), customer_id.size()), &value);
  if (s.IsNotFound()) {
    *found = false;
    return Status::Ok();
  }
  if (!s.ok()) return ToStatus(s, "reading a customer");
  if (!state->ParseFromString(value)) {
    return Status::Error(fmt::format("customer '{}': stored state does not parse", customer_id));
  }
  *found = true;
  if (steps == nullptr) return Status::Ok();
  return ReadSteps(db_.get(), cfs_[kCfSteps], snapshot, customer_id, state->step_seq(), steps);
}

Status CreditStore::GetSteps(std::string_view customer_id, uint32_t from_seq, std::vector<std::string>* out) const {
  return ReadSteps(db_.get(), cfs_[kCfSteps], nullptr, customer_id, from_seq, out);
}

Status CreditStore::SeenEvent(std::string_view customer_id, std::string_view event_id, int64_t event_time_ms,
                              bool* seen) const {
  *seen = false;
  const int64_t oldest_ms = WallMs() - options_.dedup_retention_ms;
  const uint64_t hash = core::StableHash(event_id);
  std::string start;
  AppendEventIdsKey(start, customer_id, event_time_ms, 0);
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;  // this customer's records only
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfEventIds]));
  for (it->Seek(start); it->Valid() && !*seen; it->Next()) {
    const rocksdb::Slice v = it->value();
    if (!StoredSince(v, oldest_ms)) continue;
    for (size_t at = 8; at + 8 <= v.size(); at += 8) {
      if (ReadBE(v.data() + at, 8) == hash) {
        *seen = true;
        break;
      }
    }
  }
  if (!it->status().ok()) return ToStatus(it->status(), "reading archived event ids");
  if (*seen) return Status::Ok();
  // Ids remembered one key each, before the archive: read until they expire.
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kCfDedup], EventIdKey(event_id, event_time_ms), &value);
  if (s.IsNotFound()) return Status::Ok();
  if (!s.ok()) return ToStatus(s, "reading an event id");
  *seen = value.size() == 8 && StoredSince(value, oldest_ms);
  return Status::Ok();
}

Status CreditStore::GetPosition(std::string_view topic, int32_t partition, v1::PartitionPosition* pos,
                                bool* found) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cfs_[kCfPositions], PositionKey(topic, partition), &value);
  if (s.IsNotFound()) {
    *found = false;
    return Status::Ok();
  }
  if (!s.ok()) return ToStatus(s, "reading a position");
  *found = pos->ParseFromString(value);
  if (!*found) return Status::Error("stored position does not parse");
  return Status::Ok();
}

Status CreditStore::DueTimers(int32_t partition, int64_t now_ms, size_t limit, std::vector<DueTimer>* out) const {
  out->clear();
  std::string prefix;
  AppendBE32(prefix, static_cast<uint32_t>(partition));
  std::string upper = TimerKey(partition, now_ms + 1, "");
  rocksdb::ReadOptions ro;
  rocksdb::Slice upper_slice(upper);
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfTimers]));
  for (it->Seek(prefix); it->Valid() && out->size() < limit; it->Next()) {
    const rocksdb::Slice k = it->key();
    if (k.size() < 12) continue;
    out->push_back({static_cast<int64_t>(ReadBE(k.data() + 4, 8)), std::string(k.data() + 12, k.size() - 12)});
  }
  return ToStatus(it->status(), "scanning timers");
}

Status CreditStore::AllTimers(int32_t partition, std::vector<DueTimer>* out) const {
  return DueTimers(partition, std::numeric_limits<int64_t>::max() - 1, std::numeric_limits<size_t>::max(), out);
}

Status CreditStore::ScanOutbox(uint64_t from_seq, size_t limit,
                               std::vector<std::pair<uint64_t, v1::OutboxRecord>>* out) const {
  out->clear();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCfOutbox]));
  for (it->Seek(OutboxKey(from_seq)); it->Valid() && out->size() < limit; it->Next()) {
    if (it->key().size() != 8) continue;
    v1::OutboxRecord rec;
    if (!rec.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Error("an outbox record does not parse");
    }
    out->emplace_back(ReadBE(it->key().data(), 8), std::move(rec));
  }
  return ToStatus(it->status(), "scanning the outbox");
}

int64_t CreditStore::GetCounter(std::string_view name) const {
  std::string value;
  const rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cfs_[kCfDefault], std::string("counter/").append(name), &value);
  if (!s.ok() || value.size() != 8) return 0;
  return static_cast<int64_t>(ReadBE(value.data(), 8));
}

uint64_t CreditStore::NextOutboxSeq() const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCfOutbox]));
  it->SeekToLast();
  if (!it->Valid() || it->key().size() != 8) return 1;
  return ReadBE(it->key().data(), 8) + 1;
}

namespace {
uint64_t CountCf(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
  uint64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}
}  // namespace

uint64_t CreditStore::CountOutbox() const { return CountCf(db_.get(), cfs_[kCfOutbox]); }
uint64_t CreditStore::CountTimers() const { return CountCf(db_.get(), cfs_[kCfTimers]); }
uint64_t CreditStore::CountCustomers() const { return CountCf(db_.get(), cfs_[kCfCustomers]); }
uint64_t CreditStore::CountSteps() const {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;  // across customers
  uint64_t n = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cfs_[kCfSteps]));
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  return n;
}

Status CreditStore::ForEachCustomer(const std::function<void(const v1::CustomerState&)>& fn) const {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cfs_[kCfCustomers]));
  v1::CustomerState s;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!s.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Status::Error("a stored customer state does not parse");
    }
    fn(s);
  }
  return ToStatus(it->status(), "scanning customers");
}

uint64_t CreditStore::ActiveMemtableEntries(std::string_view name) const {
  for (size_t i = 0; i < kCfCount; ++i) {
    uint64_t v = 0;
    if (name == kCfNames[i] && db_->GetIntProperty(cfs_[i], rocksdb::DB::Properties::kNumEntriesActiveMemTable, &v)) {
      return v;
    }
  }
  return 0;
}

StoreStats CreditStore::Stats() const {
  StoreStats st;
  for (auto* cf : cfs_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kLiveSstFilesSize, &v)) st.live_data_bytes += v;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kCurSizeAllMemTables, &v)) st.live_data_bytes += v;
    if (db_->GetIntProperty(cf, rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &v)) {
      st.pending_compaction_bytes += v;
    }
  }
  const auto* cache = static_cast<const rocksdb::Cache*>(cache_.get());
  st.block_cache_usage_bytes = cache->GetUsage();
  st.block_cache_capacity_bytes = cache->GetCapacity();
  return st;
}

}  // namespace creditwatch::store
