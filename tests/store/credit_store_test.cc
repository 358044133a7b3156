#include <fmt/format.h>
#include <sched.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <numeric>
#include <random>
#include <thread>

#include <rocksdb/db.h>

#include "core/ledger.h"
#include "store/async_committer.h"
#include "store/credit_store.h"
#include "store/scheduling.h"
#include "support/kernel.h"
#include "support/temp_store.h"

using namespace creditwatch;

namespace {
using testing::TempStore;

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
// Outbox records 1..n with output ids "o1".."on".
void PutOutboxRecords(store::StoreBatch& b, uint64_t n) {
  for (uint64_t i = 1; i <= n; ++i) {
    v1::OutboxRecord r;
    r.set_output_id("o" + std::to_string(i));
    b.PutOutbox(i, r);
  }
}
}  // namespace

TEST_CASE("a batch commits states, timers, positions, outbox and counters together", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  v1::CustomerState s;
  s.set_customer_id("C-1");
  s.set_credit_limit(500);
  b.PutCustomer("C-1", s);
  b.PutTimer(3, 2000, "C-1");
  v1::PartitionPosition pos;
  pos.set_next_offset(42);
  pos.set_watermark_ms(99);
  b.PutPosition("in", 3, pos);
  v1::OutboxRecord rec;
  rec.set_output_id("x");
  b.PutOutbox(7, rec);
  b.PutCounter("n", -3);
  const uint64_t e1[] = {core::StableHash("E-1")};
  b.PutEventIds("C-1", 1, 5000, e1, 1);

  // Nothing is visible before the commit.
  bool found = true;
  v1::CustomerState got;
  REQUIRE(t.db->GetCustomer("C-1", &got, &found).ok());
  CHECK_FALSE(found);
  REQUIRE(t.db->Commit(b).ok());
  CHECK(b.Count() == 0);

  REQUIRE(t.db->GetCustomer("C-1", &got, &found).ok());
  CHECK(found);
  CHECK(got.credit_limit() == 500);
  v1::PartitionPosition p2;
  REQUIRE(t.db->GetPosition("in", 3, &p2, &found).ok());
  CHECK(p2.next_offset() == 42);
  CHECK(p2.watermark_ms() == 99);
  CHECK(t.db->GetCounter("n") == -3);
  CHECK(t.db->NextOutboxSeq() == 8);
  bool seen = false;
  REQUIRE(t.db->SeenEvent("C-1", "E-1", 5000, &seen).ok());
  CHECK_FALSE(seen);  // stored at wall time 1 ms: long expired
}

TEST_CASE("positions and counters rewritten in every batch stay one memtable entry each", "[integration][store]") {
  TempStore t;
  for (int i = 1; i <= 300; ++i) {
    store::StoreBatch b(*t.db);
    v1::PartitionPosition pos;
    pos.set_next_offset(1000 + i);
    pos.set_watermark_ms(2000 + i);
    b.PutPosition("in", 3, pos);
    b.PutCounter("n", i);
    b.PutTimer(3, 5000 + i, "C-1");  // a family that keeps every write, for contrast
    REQUIRE(t.db->Commit(b).ok());
  }
  CHECK(t.db->ActiveMemtableEntries("positions") == 1);
  CHECK(t.db->ActiveMemtableEntries("default") == 1);
  CHECK(t.db->ActiveMemtableEntries("timers") == 300);
  CHECK(t.db->ActiveMemtableEntries("no-such-family") == 0);
  v1::PartitionPosition got;
  bool found = false;
  REQUIRE(t.db->GetPosition("in", 3, &got, &found).ok());
  REQUIRE(found);
  CHECK(got.next_offset() == 1300);
  CHECK(got.watermark_ms() == 2300);
  CHECK(t.db->GetCounter("n") == 300);
}

TEST_CASE("due timers come per partition in time order and only when due", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  b.PutTimer(1, 5000, "B");
  b.PutTimer(1, 1000, "A");
  b.PutTimer(1, 1000, "Z");
  b.PutTimer(2, 10, "OTHER");
  b.PutTimer(1, 1LL << 42, "FAR");
  REQUIRE(t.db->Commit(b).ok());
  std::vector<store::DueTimer> due;
  REQUIRE(t.db->DueTimers(1, 5000, 100, &due).ok());
  REQUIRE(due.size() == 3);
  CHECK(due[0].customer_id == "A");
  CHECK(due[1].customer_id == "Z");
  CHECK(due[2].fire_ms == 5000);
  REQUIRE(t.db->DueTimers(1, 999, 100, &due).ok());
  CHECK(due.empty());
  b.DeleteTimer(1, 1000, "A");
  REQUIRE(t.db->Commit(b).ok());
  REQUIRE(t.db->DueTimers(1, 5000, 1, &due).ok());
  REQUIRE(due.size() == 1);
  CHECK(due[0].customer_id == "Z");
  CHECK(t.db->CountTimers() == 4);
}

TEST_CASE("archived event ids are seen for their customer, from their event time on, within the retention",
          "[integration][store]") {
  TempStore t;
  const int64_t now = WallNowMs();
  store::StoreBatch b(*t.db);
  const std::vector<uint64_t> first = {core::StableHash("E-1"), core::StableHash("E-2")};
  b.PutEventIds("C-1", 16, now - 1000, first, now);
  // Another customer whose id extends the first one's, and a record stored long ago.
  const std::vector<uint64_t> other = {core::StableHash("E-9")};
  b.PutEventIds("C-10", 16, now - 1000, other, now);
  const std::vector<uint64_t> expired = {core::StableHash("E-OLD")};
  b.PutEventIds("C-1", 3, now - 9000, expired, now - 31ll * 86'400'000);
  b.PutEventIds("C-1", 40, now, {}, now);  // no ids: no record
  CHECK(b.Count() == 3);
  REQUIRE(t.db->Commit(b).ok());
  auto seen = [&](std::string_view customer, std::string_view id, int64_t at) {
    bool found = false;
    REQUIRE(t.db->SeenEvent(customer, id, at, &found).ok());
    return found;
  };
  CHECK(seen("C-1", "E-1", now - 5000));
  CHECK(seen("C-1", "E-2", now - 1000));
  CHECK_FALSE(seen("C-1", "E-3", now - 5000));
  CHECK_FALSE(seen("C-2", "E-1", now - 5000));  // another customer's
  CHECK_FALSE(seen("C-1", "E-9", now - 5000));  // C-10's
  CHECK(seen("C-10", "E-9", now - 5000));
  // Later than every id of the record: a re-sent event carries its original time.
  CHECK_FALSE(seen("C-1", "E-1", now - 500));
  CHECK_FALSE(seen("C-1", "E-OLD", now - 9000));  // past the retention (30 days)

  // A cleared batch writes nothing at its next commit.
  const std::vector<uint64_t> dropped = {core::StableHash("E-DROPPED")};
  b.PutEventIds("C-1", 17, now, dropped, now);
  b.Clear();
  REQUIRE(t.db->Commit(b).ok());
  CHECK_FALSE(seen("C-1", "E-DROPPED", now));
}

TEST_CASE("archived event ids are still seen after a reopen, from each of the customer's records",
          "[integration][store]") {
  TempStore t;
  const int64_t now = WallNowMs();
  {
    store::StoreBatch b(*t.db);
    const std::vector<uint64_t> older = {core::StableHash("E-OLD")};
    const std::vector<uint64_t> newer = {core::StableHash("E-NEW")};
    b.PutEventIds("C-1", 16, now - 9000, older, now);
    b.PutEventIds("C-1", 32, now - 1000, newer, now);
    REQUIRE(t.db->Commit(b).ok());
  }
  t.db.reset();
  REQUIRE(store::CreditStore::Open(t.options, &t.db).ok());
  bool seen = false;
  REQUIRE(t.db->SeenEvent("C-1", "E-NEW", now - 1000, &seen).ok());
  CHECK(seen);
  REQUIRE(t.db->SeenEvent("C-1", "E-OLD", now - 9000, &seen).ok());
  CHECK(seen);
  REQUIRE(t.db->SeenEvent("C-1", "E-LATER", now - 500, &seen).ok());
  CHECK_FALSE(seen);
}

TEST_CASE("event ids remembered one key each by earlier versions are still seen", "[integration][store]") {
  TempStore t;
  const int64_t now = WallNowMs();
  t.db.reset();
  {
    // As versions before the archive wrote them: in "dedup", the event time (big-endian)
    // then the id, valued with the wall time when stored.
    auto be64 = [](uint64_t v) {
      std::string s(8, '\0');
      for (int i = 7; i >= 0; --i, v >>= 8) s[static_cast<size_t>(i)] = static_cast<char>(v & 0xFF);
      return s;
    };
    std::vector<std::string> names;
    REQUIRE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), t.options.data_dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const auto& n : names) cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), t.options.data_dir, cfs, &handles, &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    const auto dedup = std::find(names.begin(), names.end(), "dedup");
    REQUIRE(dedup != names.end());
    REQUIRE(db->Put(rocksdb::WriteOptions(), handles[static_cast<size_t>(dedup - names.begin())],
                    be64(static_cast<uint64_t>(now - 5000)) + "E-LEGACY", be64(static_cast<uint64_t>(now)))
                .ok());
    for (auto* h : handles) REQUIRE(db->DestroyColumnFamilyHandle(h).ok());
    REQUIRE(db->Close().ok());
  }
  REQUIRE(store::CreditStore::Open(t.options, &t.db).ok());
  bool seen = false;
  REQUIRE(t.db->SeenEvent("C-ANY", "E-LEGACY", now - 5000, &seen).ok());
  CHECK(seen);
  REQUIRE(t.db->SeenEvent("C-ANY", "E-OTHER", now - 5000, &seen).ok());
  CHECK_FALSE(seen);
}

TEST_CASE("the outbox scans in sequence order and shrinks on delete", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  PutOutboxRecords(b, 5);
  REQUIRE(t.db->Commit(b).ok());
  b.DeleteOutbox(2);
  REQUIRE(t.db->Commit(b).ok());
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  REQUIRE(t.db->ScanOutbox(0, 10, &page).ok());
  REQUIRE(page.size() == 4);
  CHECK(page[1].first == 3);
  CHECK(page[1].second.output_id() == "o3");
  CHECK(t.db->CountOutbox() == 4);
}

TEST_CASE("outbox records handed over for the commit are written by it, with the batch", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  store::OutboxList records;
  for (uint64_t seq : {11, 12, 13}) records.Add(seq).set_output_id("o" + std::to_string(seq));
  b.PutOutboxDeferred(&records);
  b.PutCounter("n", 1);
  CHECK(b.Count() == 4);
  CHECK(t.db->CountOutbox() == 0);
  REQUIRE(t.db->Commit(b).ok());
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  REQUIRE(t.db->ScanOutbox(0, 10, &page).ok());
  REQUIRE(page.size() == 3);
  CHECK(page[2].first == 13);
  CHECK(page[2].second.output_id() == "o13");
  // The next commit of the same batch object does not write them again.
  b.DeleteOutbox(12);
  REQUIRE(t.db->Commit(b).ok());
  CHECK(t.db->CountOutbox() == 2);
}

TEST_CASE("an outbox list reused after clear() holds only the new records, each as if new", "[unit][store]") {
  store::OutboxList list;
  v1::OutboxRecord& first = list.Add(1);
  first.set_output_id("o1");
  first.set_value(std::string(100'000, 'x'));  // a dead letter's input, say
  first.add_headers()->set_key("creditwatch.reason");
  list.Add(2).set_output_id("o2");  // (may move the first)
  REQUIRE(list.size() == 2);
  const v1::OutboxRecord* slot = &list[0].second;
  list.clear();
  CHECK(list.empty());
  CHECK(list.begin() == list.end());
  v1::OutboxRecord& again = list.Add(7);
  CHECK(&again == slot);                      // the same record, reused
  CHECK(again.SerializeAsString().empty());   // nothing left of the one before
  CHECK(again.value().capacity() < 100'000);  // nor its large buffer
  again.set_output_id("o7");
  REQUIRE(list.size() == 1);
  CHECK(list[0].first == 7);
  size_t seen = 0;
  for (const auto& [seq, rec] : list) seen += seq == 7 && rec.output_id() == "o7" ? 1 : 0;
  CHECK(seen == 1);
  store::OutboxList other;
  other.Add(9);
  other.swap(list);
  CHECK(other.size() == 1);
  CHECK(other[0].first == 7);
  CHECK(list.size() == 1);
  CHECK(list[0].first == 9);
}

TEST_CASE("a range delete removes exactly its outbox records, also across a reopen", "[integration][store]") {
  TempStore t;
  {
    store::StoreBatch b(*t.db);
    PutOutboxRecords(b, 40);
    REQUIRE(t.db->Commit(b).ok());
    b.DeleteOutboxRange(3, 38);  // 3..37
    REQUIRE(t.db->Commit(b).ok());
  }
  auto seqs = [&] {
    std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
    REQUIRE(t.db->ScanOutbox(0, 100, &page).ok());
    std::vector<uint64_t> out;
    for (const auto& [seq, rec] : page) out.push_back(seq);
    return out;
  };
  CHECK(seqs() == std::vector<uint64_t>{1, 2, 38, 39, 40});
  CHECK(t.db->CountOutbox() == 5);
  CHECK(t.db->NextOutboxSeq() == 41);
  t.db.reset();  // a clean close flushes: the tombstone now lives in a table file
  REQUIRE(store::CreditStore::Open(t.options, &t.db).ok());
  CHECK(seqs() == std::vector<uint64_t>{1, 2, 38, 39, 40});
}

TEST_CASE("a second instance on the same data directory fails with a clear error", "[integration][store]") {
  TempStore t;
  std::unique_ptr<store::CreditStore> second;
  const Status st = store::CreditStore::Open(t.options, &second);
  REQUIRE_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("locked") && Catch::Contains(t.dir));
}

TEST_CASE("state survives close and reopen", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  v1::CustomerState s;
  s.set_customer_id("C-9");
  b.PutCustomer("C-9", s);
  REQUIRE(t.db->Commit(b).ok());
  t.db.reset();
  REQUIRE(store::CreditStore::Open(t.options, &t.db).ok());
  CHECK(t.db->CountCustomers() == 1);
}

TEST_CASE("a clean close leaves nothing in the WAL to replay at the next start", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  for (int i = 0; i < 1000; ++i) {
    v1::CustomerState s;
    s.set_customer_id("C-" + std::to_string(i));
    b.PutCustomer(s.customer_id(), s);
  }
  REQUIRE(t.db->Commit(b).ok());
  auto wal_bytes = [&t] {
    uintmax_t n = 0;
    for (const auto& f : std::filesystem::directory_iterator(t.dir)) {
      if (f.path().extension() == ".log") n += f.file_size();
    }
    return n;
  };
  CHECK(wal_bytes() > 0);  // written, not flushed yet
  t.db.reset();
  CHECK(wal_bytes() == 0);
  REQUIRE(store::CreditStore::Open(t.options, &t.db).ok());
  CHECK(t.db->CountCustomers() == 1000);
}

TEST_CASE("the async committer writes a batch in the background and reports when it is durable",
          "[integration][store]") {
  TempStore t;
  store::AsyncCommitter committer(*t.db);
  CHECK_FALSE(committer.InFlight());
  CHECK(committer.Done());
  CHECK(committer.Wait().ok());  // nothing in flight

  store::StoreBatch b(*t.db);
  v1::CustomerState s;
  s.set_customer_id("C-9");
  s.set_credit_limit(900);
  b.PutCustomer("C-9", s);
  committer.Submit(&b);
  CHECK(committer.InFlight());
  REQUIRE(committer.Wait().ok());
  CHECK_FALSE(committer.InFlight());
  CHECK(b.Count() == 0);  // the store clears a committed batch
  bool found = false;
  v1::CustomerState got;
  REQUIRE(t.db->GetCustomer("C-9", &got, &found).ok());
  CHECK(found);
  CHECK(got.credit_limit() == 900);

  // Batches one after another, each visible once its Wait returns.
  for (int i = 0; i < 50; ++i) {
    s.set_credit_limit(1000 + i);
    b.PutCustomer("C-9", s);
    committer.Submit(&b);
    while (!committer.Done()) std::this_thread::yield();
    REQUIRE(committer.Wait().ok());
    REQUIRE(t.db->GetCustomer("C-9", &got, &found).ok());
    CHECK(got.credit_limit() == 1000 + i);
  }
}

TEST_CASE("batch work runs as SCHED_BATCH, other threads keep their policy", "[unit][store]") {
  int batch_policy = -1;
  bool marked = false;
  std::thread worker([&] {
    marked = store::RunAsBatchWork();
    batch_policy = sched_getscheduler(0);
  });
  worker.join();
  CHECK(marked);
  CHECK(batch_policy == SCHED_BATCH);
  CHECK(sched_getscheduler(0) == SCHED_OTHER);
}

TEST_CASE("latency work asks for the short slice, other threads keep theirs", "[unit][store]") {
  const uint64_t before = store::CurrentSliceNs();
  bool marked = false;
  uint64_t slice = 0;
  int policy = -1;
  std::thread worker([&] {
    marked = store::RunAsLatencyWork();
    slice = store::CurrentSliceNs();
    policy = sched_getscheduler(0);
  });
  worker.join();
  CHECK(policy == SCHED_OTHER);  // the fair class: its share of the CPU is unchanged
  CHECK(store::CurrentSliceNs() == before);
  if (!cwtest::KernelHasCustomSlices()) {
    WARN("this kernel keeps the default slice (custom slices need Linux 6.12)");
    return;
  }
  CHECK(marked);
  CHECK(slice == store::kLatencySliceNs);
  CHECK(before != store::kLatencySliceNs);
}

TEST_CASE("a deferred state is written as it was when handed off, whoever serializes it", "[integration][store]") {
  TempStore t;
  store::StoreBatch b(*t.db);
  auto stored_limit = [&](const std::string& id) {
    bool found = false;
    v1::CustomerState got;
    REQUIRE(t.db->GetCustomer(id, &got, &found).ok());
    REQUIRE(found);
    return got.credit_limit();
  };
  v1::CustomerState a;
  a.set_credit_limit(100);
  v1::CustomerState c;
  c.set_credit_limit(300);
  store::StateHandoff ha;
  store::StateHandoff hc;
  b.PutCustomerDeferred("C-A", a, ha);
  b.PutCustomerDeferred("C-C", c, hc);
  CHECK(b.Count() == 2);
  // The loop changes C-A before the commit: it settles first, so the batch keeps 100.
  ha.Settle();
  a.set_credit_limit(111);
  REQUIRE(t.db->Commit(b).ok());  // C-C is serialized by the commit
  CHECK(b.Count() == 0);
  CHECK(stored_limit("C-A") == 100);
  CHECK(stored_limit("C-C") == 300);
  // Settled handoffs pass straight through until handed off again.
  ha.Settle();
  hc.Help();

  // A batch dropped unwritten releases its handoffs and writes nothing.
  b.PutCustomerDeferred("C-A", a, ha);
  b.Clear();
  ha.Settle();
  REQUIRE(t.db->Commit(b).ok());
  CHECK(stored_limit("C-A") == 100);
}

TEST_CASE("deferred states committed on the committing thread while the loop settles, helps and changes them",
          "[integration][store]") {
  TempStore t;
  store::AsyncCommitter committer(*t.db);
  store::StoreBatch b(*t.db);
  constexpr int kCustomers = 2000;
  std::vector<std::string> ids;
  std::vector<v1::CustomerState> states(kCustomers);
  std::vector<store::StateHandoff> handoffs(kCustomers);
  for (int i = 0; i < kCustomers; ++i) ids.push_back(fmt::format("C-{:05d}", i));
  std::mt19937 rng(7);
  for (int round = 1; round <= 20; ++round) {
    for (int i = 0; i < kCustomers; ++i) {
      states[i].set_credit_limit(round * 100000 + i);
      states[i].set_customer_id(ids[i]);
      b.PutCustomerDeferred(ids[i], states[i], handoffs[i]);
    }
    committer.Submit(&b);
    // As the engine does: change some states (settling first) while the commit runs,
    // then serialize what is left from the back while waiting.
    std::vector<int> order(kCustomers);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    for (int k = 0; k < kCustomers / 4; ++k) {
      const int i = order[k];
      handoffs[i].Settle();
      states[i].set_credit_limit(-1);
    }
    for (int i = kCustomers - 1; i >= 0; --i) handoffs[i].Help();
    REQUIRE(committer.Wait().ok());
    for (int i = 0; i < kCustomers; i += 97) {
      bool found = false;
      v1::CustomerState got;
      REQUIRE(t.db->GetCustomer(ids[i], &got, &found).ok());
      REQUIRE(found);
      CHECK(got.credit_limit() == round * 100000 + i);
    }
  }
}
