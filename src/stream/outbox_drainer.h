// OutboxDrainer: produces committed outbox records with an idempotent producer and
// reports which the broker acknowledged, so the engine deletes them in its next batch.
// A record whose delivery fails is produced again. Not thread-safe: used by the engine
// loop only; delivery reports are served by Poll().
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "core/status.h"
#include "creditwatch/v1/engine.pb.h"
#include "obs/engine_metrics.h"
#include "stream/stream_options.h"

namespace creditwatch::stream {

class OutboxDrainer : public RdKafka::DeliveryReportCb {
 public:
  static Status Create(const StreamOptions& options, obs::EngineMetrics* metrics, std::function<int64_t()> wall_ms,
                       std::unique_ptr<OutboxDrainer>* out);
  ~OutboxDrainer() override;

  // Produces a record that is durably in the outbox under `seq`.
  void Send(uint64_t seq, v1::OutboxRecord record);
  // Serves delivery reports and re-sends failed records.
  void Poll();
  // Sequence numbers acknowledged since the last call.
  std::vector<uint64_t> TakeAcked();
  size_t InFlight() const { return pending_.size(); }
  // Polls until nothing is in flight or the timeout passes. True when drained.
  bool Drain(int timeout_ms);

  RdKafka::Producer* producer() { return producer_.get(); }
  void dr_cb(RdKafka::Message& message) override;

 private:
  OutboxDrainer(const StreamOptions& options, obs::EngineMetrics* metrics, std::function<int64_t()> wall_ms)
      : options_(options), metrics_(metrics), wall_ms_(std::move(wall_ms)) {}
  void Produce(uint64_t seq, const v1::OutboxRecord& record);
  const std::string& TopicOf(v1::OutboxRecord::Kind kind) const;

  StreamOptions options_;
  obs::EngineMetrics* metrics_;
  std::function<int64_t()> wall_ms_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::map<uint64_t, v1::OutboxRecord> pending_;  // in flight, by seq
  std::vector<uint64_t> acked_;
  std::vector<uint64_t> failed_;
};

// "alert", "block_status", "order_decision", "dead_letter".
const char* OutputKindName(v1::OutboxRecord::Kind kind);

}  // namespace creditwatch::stream
