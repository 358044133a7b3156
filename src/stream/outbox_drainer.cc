#include "stream/outbox_drainer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "stream/kafka_util.h"

namespace creditwatch::stream {
namespace {
const std::string kEmpty;
}  // namespace

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
                             std::function<int64_t()> wall_ms, const store::CreditStore* store,
                             std::unique_ptr<OutboxDrainer>* out) {
  std::unique_ptr<OutboxDrainer> d(new OutboxDrainer(options, metrics, std::move(wall_ms), store));
  d->pending_.reserve(1 << 14);
  d->early_.reserve(1 << 14);
  d->poll_ms_ = d->wall_ms_();
  // Defaults first; the user's properties override them.
  const std::map<std::string, std::string> defaults = {{"enable.idempotence", "true"},
                                                       {"acks", "all"},
                                                       // Decisions are waited for: a lone
                                                       // output waits the whole linger
                                                       // (5 ms by default). Measured: no
                                                       // throughput cost at 1 ms.
                                                       {"linger.ms", "1"},
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

OutboxDrainer::PendingMap::iterator OutboxDrainer::Pending(uint64_t seq, const v1::OutboxRecord& record) {
  // A record written before a restart keeps its age (created_ms is when it was committed).
  const int64_t since = record.created_ms() > 0 ? std::min(record.created_ms(), poll_ms_) : poll_ms_;
  return pending_.insert_or_assign(seq, Unacked{record.kind(), record.event_time_ms(), since}).first;
}

void OutboxDrainer::Send(uint64_t seq, const v1::OutboxRecord& record) {
  Produce(seq, record, Pending(seq, record)->second);
}

bool OutboxDrainer::ProduceCommitted(uint64_t seq, const v1::OutboxRecord& record) {
  return ProduceOnce(seq, record, /*omit=*/false) == RdKafka::ERR_NO_ERROR;
}

void OutboxDrainer::Track(uint64_t seq, const v1::OutboxRecord& record) {
  const auto it = Pending(seq, record);
  const auto early = early_.find(seq);
  if (early == early_.end()) return;
  const Report r = std::move(early->second);
  early_.erase(early);
  Delivered(it, r);
}

bool OutboxDrainer::OmitValue(uint64_t seq, Unacked& u, size_t value_size) {
  if (u.kind != v1::OutboxRecord::DEAD_LETTER || u.omit_value || value_size == 0) return false;
  u.omit_value = true;
  spdlog::warn("outbox record {}: the dead letter's {} bytes are too large to produce; sent without them", seq,
               value_size);
  return true;
}

RdKafka::ErrorCode OutboxDrainer::ProduceOnce(uint64_t seq, const v1::OutboxRecord& r, bool omit) {
  const std::string& value = omit ? kEmpty : r.value();
  RdKafka::Headers* headers = RdKafka::Headers::create();
  headers->add("creditwatch.output_id", r.output_id());
  headers->add("creditwatch.kind", OutputKindName(r.kind()));
  for (const auto& h : r.headers()) {
    if (omit && h.key().rfind("creditwatch.", 0) != 0) continue;  // the input's own headers
    headers->add(h.key(), h.value().data(), h.value().size());
  }
  if (omit) headers->add("creditwatch.value_omitted", std::to_string(r.value().size()) + " bytes, too large");
  const RdKafka::ErrorCode err = producer_->produce(
      TopicOf(r.kind()), RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()),
      value.size(), r.key().data(), r.key().size(), 0, headers, reinterpret_cast<void*>(static_cast<uintptr_t>(seq)));
  if (err != RdKafka::ERR_NO_ERROR) delete headers;  // not taken over on failure
  return err;
}

bool OutboxDrainer::Produce(uint64_t seq, const v1::OutboxRecord& r, Unacked& u) {
  for (;;) {
    const RdKafka::ErrorCode err = ProduceOnce(seq, r, u.omit_value);
    if (err == RdKafka::ERR_NO_ERROR) return true;
    if (err == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);
      continue;
    }
    metrics_->produce_errors.Increment();
    if (err == RdKafka::ERR_MSG_SIZE_TOO_LARGE && OmitValue(seq, u, r.value().size())) continue;
    spdlog::error("producing output {} to {}: {}", r.output_id(), TopicOf(r.kind()), RdKafka::err2str(err));
    failed_.push_back(seq);
    return false;
  }
}

void OutboxDrainer::dr_cb(RdKafka::Message& message) {
  const auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(message.msg_opaque()));
  const Report r{message.err(), message.len(), wall_ms_(),
                 message.err() == RdKafka::ERR_NO_ERROR ? std::string() : message.errstr()};
  auto it = pending_.find(seq);
  if (it == pending_.end()) {
    // Taken by ProduceCommitted, not tracked yet: kept until Track.
    early_.emplace(seq, r);
    return;
  }
  Delivered(it, r);
}

void OutboxDrainer::Delivered(PendingMap::iterator it, const Report& r) {
  const uint64_t seq = it->first;
  Unacked& u = it->second;
  if (r.err != RdKafka::ERR_NO_ERROR) {
    metrics_->produce_errors.Increment();
    // The topic's size limit, on the record batch: a record refused twice (sent again in
    // another batch) goes without the input's bytes.
    if (r.err == RdKafka::ERR_MSG_SIZE_TOO_LARGE && ++u.size_refusals >= 2) OmitValue(seq, u, r.len);
    spdlog::warn("delivery of outbox record {} to {} failed ({}); it will be sent again", seq, TopicOf(u.kind),
                 r.errstr);
    failed_.push_back(seq);
    return;
  }
  const char* kind = OutputKindName(u.kind);
  metrics_->OutputsProduced(kind).Increment();
  if (u.event_time_ms > 0) {
    const int64_t latency_ms = r.at_ms - u.event_time_ms;
    if (latency_ms >= 0) metrics_->EndToEndLatency(kind).Observe(static_cast<double>(latency_ms) / 1000.0);
  }
  acked_.push_back(seq);
  pending_.erase(it);
}

int64_t OutboxDrainer::OldestInFlightSinceMs() const {
  int64_t oldest = -1;
  for (const auto& [seq, u] : pending_) {
    if (oldest < 0 || u.since_ms < oldest) oldest = u.since_ms;
  }
  return oldest;
}

void OutboxDrainer::Poll() {
  poll_ms_ = wall_ms_();
  producer_->poll(0);
  if (failed_.empty()) return;
  std::vector<uint64_t> retry;
  retry.swap(failed_);
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  for (uint64_t seq : retry) {
    const auto it = pending_.find(seq);
    if (it == pending_.end()) continue;
    if (Status st = store_->ScanOutbox(seq, 1, &page); !st.ok() || page.empty() || page[0].first != seq) {
      spdlog::error("outbox record {} cannot be read back for a retry: {}", seq, st.ok() ? "it is gone" : st.message());
      pending_.erase(it);
      continue;
    }
    Produce(seq, page[0].second, it->second);
  }
}

std::vector<uint64_t> OutboxDrainer::TakeAcked() {
  std::vector<uint64_t> out;
  out.swap(acked_);
  acked_.reserve(out.capacity());
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
