#include "obs/engine_metrics.h"

#include <algorithm>

#include <prometheus/text_serializer.h>

namespace creditwatch::obs {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

prometheus::Counter& Counter(prometheus::Registry& r, const char* name, const char* help) {
  return BuildCounter().Name(name).Help(help).Register(r).Add({});
}
prometheus::Gauge& Gauge(prometheus::Registry& r, const char* name, const char* help) {
  return BuildGauge().Name(name).Help(help).Register(r).Add({});
}

prometheus::Counter& LoopWait(prometheus::Registry& r, const char* what) {
  return BuildCounter()
      .Name("creditwatch_loop_wait_seconds_total")
      .Help("Time the engine loop waited: for input records, or for the commit of the batch before")
      .Register(r)
      .Add({{"for", what}});
}

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                   0.25,   0.5,   1,      2.5,   5,    10,    30,   60};
  return kBuckets;
}

}  // namespace

EngineMetrics::EngineMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      duplicates(Counter(*registry_, "creditwatch_duplicate_events_total",
                         "Input events ignored because their event id was already applied")),
      batches(Counter(*registry_, "creditwatch_batches_total", "Poll batches committed")),
      batch_duration(BuildHistogram()
                         .Name("creditwatch_batch_duration_seconds")
                         .Help("Time to process and commit one poll batch")
                         .Register(*registry_)
                         .Add({}, LatencyBuckets())),
      batch_records(BuildHistogram()
                        .Name("creditwatch_batch_records")
                        .Help("Input records per committed poll batch (grows while the engine is behind)")
                        .Register(*registry_)
                        .Add({}, prometheus::Histogram::BucketBoundaries{1, 10, 50, 100, 250, 500, 1000, 2500, 5000,
                                                                         10000, 20000, 50000})),
      outbox_depth(Gauge(*registry_, "creditwatch_outbox_depth", "Outputs written but not yet acknowledged")),
      outbox_oldest_age_seconds(Gauge(*registry_, "creditwatch_outbox_oldest_age_seconds",
                                      "How long the oldest output not yet acknowledged has waited (0: none)")),
      customers_on_hold(Gauge(*registry_, "creditwatch_customers_on_hold", "Customers whose block status is HOLD")),
      timers_pending(Gauge(*registry_, "creditwatch_timers_pending", "Customers with a scheduled deadline timer")),
      status_board_customers(Gauge(*registry_, "creditwatch_status_board_customers",
                                   "Customers whose block status is held in memory for lookups")),
      timers_fired(Counter(*registry_, "creditwatch_timers_fired_total", "Deadline timers fired")),
      state_checkpoints(Counter(*registry_, "creditwatch_state_checkpoints_total",
                                "Customer states written whole (a checkpoint replaces the steps logged before it)")),
      state_steps_logged(Counter(*registry_, "creditwatch_state_steps_logged_total",
                                 "Steps (applied events, fired timers) written instead of the whole state")),
      state_steps_replayed(Counter(*registry_, "creditwatch_state_steps_replayed_total",
                                   "Logged steps replayed onto their checkpoint when a customer was loaded")),
      rocksdb_live_bytes(Gauge(*registry_, "creditwatch_rocksdb_live_data_bytes", "RocksDB SST and memtable bytes")),
      rocksdb_pending_compaction_bytes(Gauge(*registry_, "creditwatch_rocksdb_pending_compaction_bytes",
                                             "RocksDB estimated bytes pending compaction")),
      rocksdb_block_cache_usage_bytes(
          Gauge(*registry_, "creditwatch_rocksdb_block_cache_usage_bytes", "RocksDB block cache usage")),
      rocksdb_block_cache_capacity_bytes(
          Gauge(*registry_, "creditwatch_rocksdb_block_cache_capacity_bytes", "RocksDB block cache capacity")),
      rebalances(Counter(*registry_, "creditwatch_rebalances_total", "Consumer group rebalances (assign + revoke)")),
      offsets_lost(Counter(*registry_, "creditwatch_offsets_lost_total",
                           "Input records lost to broker retention before they were consumed")),
      produce_errors(Counter(*registry_, "creditwatch_produce_errors_total", "Output deliveries that failed")),
      loop_wait_input_seconds(LoopWait(*registry_, "input")),
      loop_wait_commit_seconds(LoopWait(*registry_, "commit")),
      consume_errors(Counter(*registry_, "creditwatch_consume_errors_total", "Consumer errors reported")),
      partitions_assigned(Gauge(*registry_, "creditwatch_partitions_assigned", "Input partitions assigned")),
      ready(Gauge(*registry_, "creditwatch_ready", "1 when partitions are assigned and state is ready")),
      last_event_time_seconds(
          Gauge(*registry_, "creditwatch_last_event_timestamp_seconds", "Event time of the last applied input event")) {
  events_consumed_ = &BuildCounter()
                          .Name("creditwatch_events_consumed_total")
                          .Help("Input events consumed, by topic and payload type")
                          .Register(*registry_);
  rejected_ = &BuildCounter()
                   .Name("creditwatch_events_rejected_total")
                   .Help("Input events rejected by validation, by reason")
                   .Register(*registry_);
  dead_lettered_ = &BuildCounter()
                        .Name("creditwatch_dead_letters_total")
                        .Help("Records sent to the dead-letter topic, by reason")
                        .Register(*registry_);
  alerts_fired_ = &BuildCounter()
                       .Name("creditwatch_alerts_fired_total")
                       .Help(
                           "Alerts firing, by rule, severity and transition: new (an alert fires) or "
                           "regrade (a firing alert's severity changes)")
                       .Register(*registry_);
  alerts_resolved_ = &BuildCounter()
                          .Name("creditwatch_alerts_resolved_total")
                          .Help("Alert RESOLVED transitions, by rule")
                          .Register(*registry_);
  orders_ = &BuildCounter().Name("creditwatch_orders_total").Help("Order decisions, by decision").Register(*registry_);
  outputs_produced_ = &BuildCounter()
                           .Name("creditwatch_outputs_produced_total")
                           .Help("Outputs acknowledged by the broker, by kind")
                           .Register(*registry_);
  e2e_latency_ = &BuildHistogram()
                      .Name("creditwatch_end_to_end_latency_seconds")
                      .Help("From the input's event time (or the timer's fire time) to the output's delivery")
                      .Register(*registry_);
  alerts_active_ = &BuildGauge()
                        .Name("creditwatch_alerts_active")
                        .Help("Alerts currently firing, by rule (OVER_LIMIT = customers over their limit)")
                        .Register(*registry_);
  consumer_lag_ = &BuildGauge()
                       .Name("creditwatch_consumer_lag")
                       .Help("Records behind the partition's high watermark")
                       .Register(*registry_);
}

std::string EngineMetrics::Serialize() const {
  prometheus::TextSerializer s;
  return s.Serialize(registry_->Collect());
}

double EngineMetrics::Sum(const std::string& family, const std::string& label, const std::string& value) const {
  if (label.empty()) return Sum(family, std::vector<std::pair<std::string, std::string>>{});
  return Sum(family, {{label, value}});
}

double EngineMetrics::Sum(const std::string& family,
                          const std::vector<std::pair<std::string, std::string>>& labels) const {
  double total = 0;
  for (const auto& f : registry_->Collect()) {
    if (f.name != family) continue;
    for (const auto& m : f.metric) {
      const bool match = std::all_of(labels.begin(), labels.end(), [&m](const auto& want) {
        return std::any_of(m.label.begin(), m.label.end(),
                           [&want](const auto& l) { return l.name == want.first && l.value == want.second; });
      });
      if (!match) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter: total += m.counter.value; break;
        case prometheus::MetricType::Gauge: total += m.gauge.value; break;
        case prometheus::MetricType::Histogram: total += static_cast<double>(m.histogram.sample_count); break;
        default: break;
      }
    }
  }
  return total;
}

template <typename M, typename Make>
M& EngineMetrics::Child(Children<M>& children, std::string_view a, std::string_view b, Make&& make) {
  thread_local std::string key;
  key.assign(a);
  key.push_back('\x1f');
  key.append(b);
  std::lock_guard<std::mutex> lock(children.mu);
  auto it = children.by_key.find(key);
  if (it == children.by_key.end()) it = children.by_key.emplace(key, &make()).first;
  return *it->second;
}

prometheus::Counter& EngineMetrics::EventsConsumed(const std::string& topic, const std::string& type) {
  return Child(
      events_consumed_children_, topic, type, [&]() -> auto& {
        return events_consumed_->Add({{"topic", topic}, {"type", type}});
      });
}
prometheus::Counter& EngineMetrics::Rejected(const std::string& reason) {
  return Child(
      rejected_children_, reason, "", [&]() -> auto& {
        return rejected_->Add({{"reason", reason}});
      });
}
prometheus::Counter& EngineMetrics::DeadLettered(const std::string& reason) {
  return Child(
      dead_lettered_children_, reason, "", [&]() -> auto& {
        return dead_lettered_->Add({{"reason", reason}});
      });
}
prometheus::Counter& EngineMetrics::AlertsFired(const std::string& rule, const std::string& severity, bool regrade) {
  const char* transition = regrade ? "regrade" : "new";
  thread_local std::string sub;
  sub.assign(severity);
  sub.push_back('/');
  sub.append(transition);
  return Child(
      alerts_fired_children_, rule, sub, [&]() -> auto& {
        return alerts_fired_->Add({{"rule", rule}, {"severity", severity}, {"transition", transition}});
      });
}
prometheus::Counter& EngineMetrics::AlertsResolved(const std::string& rule) {
  return Child(
      alerts_resolved_children_, rule, "", [&]() -> auto& {
        return alerts_resolved_->Add({{"rule", rule}});
      });
}
prometheus::Counter& EngineMetrics::Orders(const std::string& decision) {
  return Child(
      orders_children_, decision, "", [&]() -> auto& {
        return orders_->Add({{"decision", decision}});
      });
}
prometheus::Counter& EngineMetrics::OutputsProduced(const std::string& kind) {
  return Child(
      outputs_produced_children_, kind, "", [&]() -> auto& {
        return outputs_produced_->Add({{"kind", kind}});
      });
}
prometheus::Histogram& EngineMetrics::EndToEndLatency(const std::string& kind) {
  return Child(
      e2e_latency_children_, kind, "", [&]() -> auto& {
        return e2e_latency_->Add({{"kind", kind}}, LatencyBuckets());
      });
}
prometheus::Gauge& EngineMetrics::AlertsActive(const std::string& rule) {
  return Child(
      alerts_active_children_, rule, "", [&]() -> auto& {
        return alerts_active_->Add({{"rule", rule}});
      });
}
prometheus::Gauge& EngineMetrics::ConsumerLag(const std::string& topic, int partition) {
  const std::string p = std::to_string(partition);
  return Child(
      consumer_lag_children_, topic, p, [&]() -> auto& {
        return consumer_lag_->Add({{"topic", topic}, {"partition", p}});
      });
}

void EngineMetrics::RemoveConsumerLag(const std::string& topic, int partition) {
  const std::string key = topic + '\x1f' + std::to_string(partition);
  std::lock_guard<std::mutex> lock(consumer_lag_children_.mu);
  const auto it = consumer_lag_children_.by_key.find(key);
  if (it == consumer_lag_children_.by_key.end()) return;
  consumer_lag_->Remove(it->second);
  consumer_lag_children_.by_key.erase(it);
}

}  // namespace creditwatch::obs
