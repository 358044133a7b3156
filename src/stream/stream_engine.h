// StreamEngine: the engine loop. Consumes the input topics as one consumer group, folds
// each event into its customer's state through the CreditEngine, fires due deadline
// timers through the same path, and commits each poll batch (the steps applied, or a
// changed state's checkpoint every few steps; timers, event ids, input positions,
// outbox) in one atomic RocksDB write before producing the outputs; the write of one
// batch overlaps the folding of the next.
// Positions come from RocksDB, never from the group's committed offsets, so a restart
// or crash applies every input exactly once. Not thread-safe: Start and Run belong to
// one thread; Ready() may be read from any thread.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/credit_engine.h"
#include "core/status.h"
#include "obs/engine_metrics.h"
#include "store/async_committer.h"
#include "store/credit_store.h"
#include "store/status_board.h"
#include "stream/batch_pacer.h"
#include "stream/deadline_index.h"
#include "stream/node_index.h"
#include "stream/outbox_drainer.h"
#include "stream/stream_options.h"

namespace creditwatch::stream {

class StreamEngine : public RdKafka::RebalanceCb {
 public:
  // `wall_ms` is the clock (a seam for tests); the engine reads no other clock.
  StreamEngine(StreamOptions options, const core::CreditEngine& engine, store::CreditStore& store,
               obs::EngineMetrics& metrics, std::function<int64_t()> wall_ms);
  ~StreamEngine() override;

  // Creates the clients, checks the brokers and topics within options.broker_wait_ms,
  // re-sends what the outbox still holds, and subscribes.
  Status Start();
  // Runs until `stop` is set, then finishes the batch, drains the outbox (bounded wait)
  // and closes the consumer. Returns an error only for a fatal condition.
  Status Run(const std::atomic<bool>& stop);

  bool Ready() const { return ready_.load(); }
  // The committed block status of the customers this instance owns, for lookups.
  store::StatusBoard& board() { return board_; }
  // Whether the brokers answer now: a metadata request (at most 2 s) on the outputs'
  // producer, sent at most once a second; callers meanwhile get the last answer. For
  // /readyz. Thread-safe; REQUIRES: Start succeeded.
  bool BrokerReachable();

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

 private:
  struct Cached {
    const std::string* id = nullptr;  // the cache key (in the same node: stable until erased)
    v1::CustomerState state;
    bool dirty = false;
    uint64_t touched = 0;         // batch number of the last use
    int64_t stored_timer_ms = 0;  // the deadline-index entry as last written to RocksDB
    // The block status as last published to the board (or as loaded).
    uint64_t published_block_version = 0;
    int64_t published_release_until_ms = 0;
    bool on_board = false;  // offered to the board since it was loaded
    bool stored = false;    // a checkpoint of it is in RocksDB (or in a batch on its way)
    // Steps are numbered by the state's step_seq. Below checkpoint_seq they are in the
    // stored checkpoint; from there to logged_seq, logged in RocksDB; from logged_seq
    // on, this batch's, in steps_ from first_step.
    uint32_t checkpoint_seq = 0;
    uint32_t logged_seq = 0;
    int32_t first_step = -1;
    int32_t last_step = -1;
    // Applied events whose ids are not archived yet (the latest ones in the state's ring).
    uint8_t unarchived = 0;
    // Settled before the state changes: the batch in flight may not have its bytes yet.
    store::StateHandoff handoff;
  };
  struct Cursor {
    v1::PartitionPosition pos;
    bool dirty = false;
  };
  using TopicPartitionKey = std::pair<std::string, int32_t>;

  // An input topic's consumed-events counters, by payload kind, resolved on first use.
  struct InputTopic {
    std::string name;
    std::array<prometheus::Counter*, 32> consumed{};
    prometheus::Counter& Consumed(obs::EngineMetrics& metrics, const v1::Envelope& e);
  };
  // The partition of the last record, resolved once per run of records from it.
  struct Input {
    InputTopic* topic = nullptr;
    int32_t partition = -1;
    Cursor* cursor = nullptr;  // nullptr: not assigned here
    int64_t* watermark = nullptr;
    DeadlineIndex* timers = nullptr;
  };
  const Input& InputOf(RdKafka::Message& msg);
  Status ProcessMessage(RdKafka::Message& msg);
  // The next record or consumer event, waiting up to timeout_ms when none was read
  // ahead. After a record, reads up to kReadAhead more without waiting and starts
  // fetching their customers' cache entries from memory.
  std::unique_ptr<RdKafka::Message> NextMessage(int timeout_ms);
  // Fires the deadlines of `partition` (its index: `index`) due by now_ms.
  Status FireTimers(int32_t partition, DeadlineIndex& index, int64_t now_ms, bool exhaustive);
  Status LoadTimers(int32_t partition);
  Status Load(const std::string& customer_id, int32_t partition, Cached** out);
  void Reschedule(Cached& c, int64_t next_wake_ms);
  // Deletes a stored deadline of `c` its state does not hold (logs it), at the next commit,
  // where the state's own deadline is put again.
  void DropStoredDeadline(Cached& c, int32_t partition, int64_t fire_ms);
  void MarkDirty(Cached& c);
  // Writes the ids of c's unarchived events to the batch, from its ring of recent ids.
  void ArchiveEventIds(Cached& c, int64_t now_ms);
  // Logs the step just applied to `c`: its encoding is step_bytes_ from `step_start` on.
  void LogStep(Cached& c, size_t step_start);
  void WriteDirty();
  void Emit(const core::StepOutputs& out, bool was_hold, const v1::CustomerState& after, int64_t cause_time_ms);
  // A new output of this batch, its value still to set. The reference is valid until
  // the next Enqueue.
  v1::OutboxRecord& Enqueue(v1::OutboxRecord::Kind kind, const std::string& key, const std::string& output_id,
                            int64_t cause_time_ms);
  void DeadLetter(RdKafka::Message& msg, v1::RejectReason reason, const std::string& detail);
  void DeleteAcked(std::vector<uint64_t>& acked);  // sorts `acked`
  Status CommitBatch();
  Status RunLoop(const std::atomic<bool>& stop);
  void EvictCustomers();
  // Waits for the batch in flight; of its outputs, tracks those the committing thread
  // handed to the producer and sends the rest.
  Status FinishInFlight();
  void Periodic();
  void OnAssign(std::vector<RdKafka::TopicPartition*>& partitions);
  void OnRevoke(std::vector<RdKafka::TopicPartition*>& partitions);
  int64_t Watermark(int32_t partition) const;

  StreamOptions options_;
  const core::CreditEngine& engine_;
  store::CreditStore& store_;
  obs::EngineMetrics& metrics_;
  std::function<int64_t()> wall_ms_;

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::unique_ptr<OutboxDrainer> drainer_;
  // Records read ahead of their turn (declared after the consumer: destroyed before it),
  // with the hash of their key, so each customer's cache entry is on its way from memory
  // while the records before it are handled.
  struct Ahead {
    std::unique_ptr<RdKafka::Message> msg;
    uint64_t key_hash;
  };
  static constexpr size_t kReadAhead = 3;
  std::deque<Ahead> ahead_;

  using CustomerCache = NodeIndex<Cached>;
  CustomerCache cache_;
  // A changed customer and the first 16 bytes of its id, big-endian: sorting by them
  // reads each id only on a tie (an id lives in its map node: a cache miss).
  __extension__ using KeyPrefix = unsigned __int128;
  struct Dirty {
    KeyPrefix prefix;  // see MarkDirty
    Cached* c;
  };
  std::vector<Dirty> dirty_;  // entries are not evicted before the batch is committed
  // The changed customers of the batch in flight, in key order: while it waits for the
  // commit, the loop serializes their states from the back (the committer starts at the
  // front), so the commit it waits for ends sooner.
  std::vector<Cached*> inflight_dirty_;
  struct TimerMove {
    int32_t partition;
    int64_t fire_ms;
    const std::string* customer;
    bool put;  // else a delete
  };
  std::vector<TimerMove> timer_moves_;  // scratch for WriteDirty
  // Stored deadlines no customer's state holds any more (steps logged before the wake was
  // logged with them, replayed under changed rules): deleted by the next WriteDirty.
  std::vector<TimerMove> stale_timers_;
  // This batch's steps, chained per customer, their encodings in step_bytes_.
  struct PendingStep {
    uint32_t offset;
    uint32_t size;
    int32_t next = -1;
  };
  std::vector<PendingStep> steps_;
  // The step writes of the batch being folded and of the one in flight (written by the
  // committing thread), with the step encodings they point into. The encodings are
  // swapped by pointer: swapping strings copies short ones, under the views.
  std::unique_ptr<std::string> step_bytes_ = std::make_unique<std::string>();
  std::unique_ptr<std::string> inflight_step_bytes_ = std::make_unique<std::string>();
  store::StoreBatch::StepWrites step_writes_;
  store::StoreBatch::StepWrites inflight_step_writes_;
  std::vector<std::string> loaded_steps_;  // scratch for Load
  std::map<TopicPartitionKey, Cursor> cursors_;
  std::map<std::string, InputTopic> input_topics_;  // nodes stay put
  Input input_;                                     // reset when the assignment changes
  std::map<int32_t, int64_t> watermarks_;           // event-time mode, per partition
  // The deadline index of the assigned partitions, in memory; RocksDB holds the durable
  // copy (written in the same batch as the states) and is read once per assignment.
  std::map<int32_t, DeadlineIndex> timers_;
  store::StatusBoard board_;
  // The batch being folded, and the one RocksDB is writing meanwhile (pipelined: its
  // outputs go to the producer only once it is durable; the ids it archives still count).
  std::unique_ptr<store::StoreBatch> batch_;
  store::OutboxList batch_outbox_;
  // The event ids (StableHash) archived in the batch; applied in it or in an earlier one.
  std::vector<uint64_t> batch_archived_ids_;
  struct BoardUpdate {
    std::string customer_id;
    store::BlockView view;
    bool changed;  // else the first offer of an unchanged status
  };
  std::vector<BoardUpdate> batch_views_;  // published once durable
  std::unique_ptr<store::StoreBatch> inflight_batch_;
  store::OutboxList inflight_outbox_;
  // How many of inflight_outbox_ the committing thread handed to the producer (written by
  // it before Wait returns, read by the loop after).
  size_t inflight_produced_ = 0;
  std::vector<uint64_t> inflight_archived_ids_;
  std::vector<BoardUpdate> inflight_views_;
  std::unique_ptr<store::AsyncCommitter> committer_;  // after the batches: joined first
  BatchPacer pacer_;
  size_t batch_ops_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t batch_no_ = 0;
  int64_t on_hold_ = 0;
  std::map<int, int64_t> active_alerts_;  // by rule
  // The counters' values as last put into a batch (or as loaded): only changes are written.
  int64_t stored_on_hold_ = 0;
  std::map<int, int64_t> stored_active_alerts_;  // by rule
  int64_t stored_timers_pending_ = 0;
  int64_t timers_pending_ = 0;
  int64_t outbox_depth_ = 0;
  int64_t last_periodic_ms_ = 0;
  // The first error that stops the engine. Once set, nothing more is committed: the
  // batch in progress may be half applied (its positions ahead of its states), and is
  // read again after a restart.
  Status fatal_;
  core::StepOutputs out_;
  v1::Envelope envelope_;
  std::atomic<bool> ready_{false};
  std::mutex probe_mu_;
  std::chrono::steady_clock::time_point probe_at_;  // guarded by probe_mu_
  bool broker_ok_ = false;                          // guarded by probe_mu_
};

}  // namespace creditwatch::stream
