#include "stream/outbox_drainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "stream/kafka_util.h"

namespace creditwatch::stream {

const char* OutputKindName(v1::OutboxRecord::Kind kind) {
  switch (kind) {
    case v1::OutboxRecord::ALERT: return "alert";
    case v1::OutboxRecord::BLOCK_STATUS: return "block_status";
    case v1::OutboxRecord::ORDER_DECISION: return "order_decision";
    case v1::OutboxRecord::DEAD_LETTER: return "dead_letter";
    default: return "unknown";
  }
}

Status OutboxDrainer::Create(const StreamOptions& options, obs::EngineMetrics* metrics,
                             std::function<int64_t()> wall_ms, std::unique_ptr<OutboxDrainer>* out) {
  std::unique_ptr<OutboxDrainer> d(new OutboxDrainer(options, metrics, std::move(wall_ms)));
  // Defaults first; the user's properties override them.
  const std::map<std::string, std::string> defaults = {{"enable.idempotence", "true"},
                                                       {"acks", "all"},
                                                       {"linger.ms", "5"},
                                                       {"partitioner", "murmur2_random"},
                                                       {"compression.type", "lz4"}};
  std::map<std::string, std::string> props = defaults;
  for (const auto& [k, v] : options.kafka) props[k] = v;
  std::unique_ptr<RdKafka::Conf> conf;
  if (Status st = MakeKafkaConf(props, options.kafka_producer, &conf); !st.ok()) return st;
  std::string err;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(d.get()), err) != RdKafka::Conf::CONF_OK) {
    return Status::Error(err);
  }
  d->producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!d->producer_) return Status::Error(fmt::format("creating the producer: {}", err));
  *out = std::move(d);
  return Status::Ok();
}

OutboxDrainer::~OutboxDrainer() {
  if (producer_) producer_->flush(1000);
}

const std::string& OutboxDrainer::TopicOf(v1::OutboxRecord::Kind kind) const {
  switch (kind) {
    case v1::OutboxRecord::ALERT: return options_.topics.alerts;
    case v1::OutboxRecord::BLOCK_STATUS: return options_.topics.block_status;
    case v1::OutboxRecord::ORDER_DECISION: return options_.topics.order_decisions;
    default: return options_.topics.dead_letter;
  }
}

void OutboxDrainer::Send(uint64_t seq, v1::OutboxRecord record) {
  auto [it, inserted] = pending_.insert_or_assign(seq, std::move(record));
  Produce(seq, it->second);
}

void OutboxDrainer::Produce(uint64_t seq, const v1::OutboxRecord& r) {
  for (;;) {
    RdKafka::Headers* headers = RdKafka::Headers::create();
    for (const auto& h : r.headers()) headers->add(h.key(), h.value().data(), h.value().size());
    const RdKafka::ErrorCode err =
        producer_->produce(TopicOf(r.kind()), RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char*>(r.value().data()), r.value().size(), r.key().data(), r.key().size(), 0,
                           headers, reinterpret_cast<void*>(static_cast<uintptr_t>(seq)));
    if (err == RdKafka::ERR_NO_ERROR) return;
    delete headers;  // not taken over on failure
    if (err == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);
      continue;
    }
    metrics_->produce_errors.Increment();
    spdlog::error("producing output {} to {}: {}", r.output_id(), TopicOf(r.kind()), RdKafka::err2str(err));
    failed_.push_back(seq);
    return;
  }
}

void OutboxDrainer::dr_cb(RdKafka::Message& message) {
  const auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message.msg_opaque()));
  auto it = pending_.find(seq);
  if (it == pending_.end()) return;
  if (message.err() != RdKafka::ERR_NO_ERROR) {
    metrics_->produce_errors.Increment();
    spdlog::warn("delivery of output {} failed ({}); it will be sent again", it->second.output_id(), message.errstr());
    failed_.push_back(seq);
    return;
  }
  const char* kind = OutputKindName(it->second.kind());
  metrics_->OutputsProduced(kind).Increment();
  if (it->second.event_time_ms() > 0) {
    const int64_t latency_ms = wall_ms_() - it->second.event_time_ms();
    if (latency_ms >= 0) metrics_->EndToEndLatency(kind).Observe(static_cast<double>(latency_ms) / 1000.0);
  }
  acked_.push_back(seq);
  pending_.erase(it);
}

void OutboxDrainer::Poll() {
  producer_->poll(0);
  if (failed_.empty()) return;
  std::vector<uint64_t> retry;
  retry.swap(failed_);
  for (uint64_t seq : retry) {
    auto it = pending_.find(seq);
    if (it != pending_.end()) Produce(seq, it->second);
  }
}

std::vector<uint64_t> OutboxDrainer::TakeAcked() {
  std::vector<uint64_t> out;
  out.swap(acked_);
  return out;
}

bool OutboxDrainer::Drain(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pending_.empty() && std::chrono::steady_clock::now() < deadline) {
    Poll();
    producer_->poll(20);
  }
  return pending_.empty();
}

}  // namespace creditwatch::stream
