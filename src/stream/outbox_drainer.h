// OutboxDrainer: produces committed outbox records with an idempotent producer and
// reports which the broker acknowledged, so the engine deletes them in its next batch.
// A record whose delivery fails is read back from the outbox and produced again; only
// its kind and cause time stay in memory while it is in flight. Every record carries
// the headers creditwatch.output_id and creditwatch.kind. Not thread-safe: used by the
// engine loop only, except ProduceCommitted; delivery reports are served on the loop's
// thread (Poll, a full queue's wait in Send, Drain, the destructor's flush).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "creditwatch/v1/engine.pb.h"
#include "obs/engine_metrics.h"
#include "store/credit_store.h"
#include "stream/stream_options.h"

namespace creditwatch::stream {

class OutboxDrainer : public RdKafka::DeliveryReportCb {
 public:
  // `store` holds the outbox the records come from (read back for retries).
  static Status Create(const StreamOptions& options, obs::EngineMetrics* metrics, std::function<int64_t()> wall_ms,
                       const store::CreditStore* store, std::unique_ptr<OutboxDrainer>* out);
  ~OutboxDrainer() override;

  // Produces a record that is durably in the outbox under `seq`.
  void Send(uint64_t seq, const v1::OutboxRecord& record);
  // The committing thread's half of Send: hands the record to the producer as soon as its
  // batch is durable, without waiting for the engine loop. Touches only the producer (and
  // the fixed topic names), so it may run beside the loop's calls: it must never block
  // in or poll the producer (no RK_MSG_BLOCK, no flush), which would serve delivery
  // reports on this thread. False when the producer did not take it (a full queue, an
  // error): the loop then Sends it. Track() must follow for each record taken.
  bool ProduceCommitted(uint64_t seq, const v1::OutboxRecord& record);
  // The loop's half: the record, taken by ProduceCommitted, is in flight. A delivery
  // report that Poll() served before this is applied now.
  void Track(uint64_t seq, const v1::OutboxRecord& record);
  // Serves delivery reports and re-sends failed records.
  void Poll();
  // Sequence numbers acknowledged since the last call.
  std::vector<uint64_t> TakeAcked();
  size_t InFlight() const { return pending_.size(); }
  // When the oldest record not yet acknowledged was committed to the outbox or first
  // handed to the producer, whichever is earlier (wall ms, as of the Poll before), or -1
  // when none is in flight. O(records in flight).
  int64_t OldestInFlightSinceMs() const;
  // Polls until nothing is in flight or the timeout passes. True when drained.
  bool Drain(int timeout_ms);

  RdKafka::Producer* producer() { return producer_.get(); }
  void dr_cb(RdKafka::Message& message) override;

 private:
  struct Unacked {
    v1::OutboxRecord::Kind kind;
    int64_t event_time_ms;
    int64_t since_ms;  // committed, or first handed to the producer
    // A dead letter too large for the producer or the topic goes without the input's
    // bytes and headers (its own headers name the source offset), so it is delivered,
    // not retried forever.
    bool omit_value = false;
    int size_refusals = 0;  // by the broker, whose limit is on the whole record batch
  };
  // A delivery report, as dr_cb was served it.
  struct Report {
    RdKafka::ErrorCode err;
    size_t len;
    int64_t at_ms;       // when it was served: the end of the output's latency
    std::string errstr;  // the broker's detail, on a failure
  };
  OutboxDrainer(const StreamOptions& options, obs::EngineMetrics* metrics, std::function<int64_t()> wall_ms,
                const store::CreditStore* store)
      : options_(options), metrics_(metrics), wall_ms_(std::move(wall_ms)), store_(store) {}
  // Produces a record in flight (`u` is its entry). False when the producer refused it
  // (it is then in failed_).
  bool Produce(uint64_t seq, const v1::OutboxRecord& record, Unacked& u);
  // One produce call with the record's headers (the value and the input's headers left
  // out when `omit`); the producer takes over the headers only on success.
  RdKafka::ErrorCode ProduceOnce(uint64_t seq, const v1::OutboxRecord& r, bool omit);
  using PendingMap = std::unordered_map<uint64_t, Unacked>;  // by seq
  // Registers a record in flight; its entry.
  PendingMap::iterator Pending(uint64_t seq, const v1::OutboxRecord& record);
  // Applies a delivery report to a record in flight (`it`, erased when acknowledged).
  void Delivered(PendingMap::iterator it, const Report& r);
  // Marks a dead letter refused for its size to go without its value; false otherwise.
  bool OmitValue(uint64_t seq, Unacked& u, size_t value_size);
  const std::string& TopicOf(v1::OutboxRecord::Kind kind) const;

  StreamOptions options_;
  obs::EngineMetrics* metrics_;
  std::function<int64_t()> wall_ms_;
  const store::CreditStore* store_;
  std::unique_ptr<RdKafka::Producer> producer_;
  PendingMap pending_;
  // Delivery reports served before their record was tracked (ProduceCommitted ran on the
  // committing thread, Track has not yet on the loop's), by seq.
  std::unordered_map<uint64_t, Report> early_;
  std::vector<uint64_t> acked_;
  std::vector<uint64_t> failed_;
  int64_t poll_ms_ = 0;  // the wall clock at the last Poll: one read per batch, not per record
};

// "alert", "block_status", "order_decision", "dead_letter".
const char* OutputKindName(v1::OutboxRecord::Kind kind);

}  // namespace creditwatch::stream
