// Every metric the engine exports, declared in one place. Names follow Prometheus
// conventions; labels are low-cardinality (never a customer id). Thread-safe: the
// prometheus-cpp metric objects are atomic.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace creditwatch::obs {

class EngineMetrics {
 private:
  // Declared first: initialized before the metric references that register into it.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  EngineMetrics();

  prometheus::Registry& registry() { return *registry_; }
  std::shared_ptr<prometheus::Registry> shared_registry() { return registry_; }
  // Prometheus text exposition of all metrics.
  std::string Serialize() const;
  // Sum of a family's samples (counters, gauges; histograms: the count) whose labels
  // include `label`=`value` (all samples when `label` is empty).
  double Sum(const std::string& family, const std::string& label = "", const std::string& value = "") const;
  // The samples whose labels match every (name, value) given.
  double Sum(const std::string& family, const std::vector<std::pair<std::string, std::string>>& labels) const;

  prometheus::Counter& EventsConsumed(const std::string& topic, const std::string& type);
  prometheus::Counter& Rejected(const std::string& reason);
  prometheus::Counter& DeadLettered(const std::string& reason);
  // `regrade`: a firing alert's severity changed (label transition="regrade"), not a
  // new alert (transition="new").
  prometheus::Counter& AlertsFired(const std::string& rule, const std::string& severity, bool regrade);
  prometheus::Counter& AlertsResolved(const std::string& rule);
  prometheus::Counter& Orders(const std::string& decision);
  prometheus::Counter& OutputsProduced(const std::string& kind);
  prometheus::Histogram& EndToEndLatency(const std::string& kind);
  prometheus::Gauge& ConsumerLag(const std::string& topic, int partition);
  // Drops a partition's lag series (revoked: another instance reports it now).
  void RemoveConsumerLag(const std::string& topic, int partition);
  prometheus::Gauge& AlertsActive(const std::string& rule);

  prometheus::Counter& duplicates;
  prometheus::Counter& batches;
  prometheus::Histogram& batch_duration;
  prometheus::Histogram& batch_records;
  prometheus::Gauge& outbox_depth;
  prometheus::Gauge& outbox_oldest_age_seconds;
  prometheus::Gauge& customers_on_hold;
  prometheus::Gauge& timers_pending;
  prometheus::Gauge& status_board_customers;
  prometheus::Counter& timers_fired;
  prometheus::Counter& state_checkpoints;
  prometheus::Counter& state_steps_logged;
  prometheus::Counter& state_steps_replayed;
  prometheus::Gauge& rocksdb_live_bytes;
  prometheus::Gauge& rocksdb_pending_compaction_bytes;
  prometheus::Gauge& rocksdb_block_cache_usage_bytes;
  prometheus::Gauge& rocksdb_block_cache_capacity_bytes;
  prometheus::Counter& rebalances;
  prometheus::Counter& offsets_lost;
  prometheus::Counter& produce_errors;
  // Time the engine loop waited instead of working: for input (a poll that found no
  // record ready) and for the commit of the batch before (storage behind the loop).
  prometheus::Counter& loop_wait_input_seconds;
  prometheus::Counter& loop_wait_commit_seconds;
  prometheus::Counter& consume_errors;
  prometheus::Gauge& partitions_assigned;
  prometheus::Gauge& ready;
  prometheus::Gauge& last_event_time_seconds;

 private:
  // A family's children by label values, resolved once: the per-event path pays one
  // hash probe instead of prometheus-cpp's label-map build and lookup.
  template <typename M>
  struct Children {
    std::mutex mu;
    std::unordered_map<std::string, M*> by_key;
  };
  template <typename M, typename Make>
  static M& Child(Children<M>& children, std::string_view a, std::string_view b, Make&& make);

  Children<prometheus::Counter> events_consumed_children_, rejected_children_, dead_lettered_children_,
      alerts_fired_children_, alerts_resolved_children_, orders_children_, outputs_produced_children_;
  Children<prometheus::Histogram> e2e_latency_children_;
  Children<prometheus::Gauge> consumer_lag_children_, alerts_active_children_;

  prometheus::Family<prometheus::Counter>* events_consumed_;
  prometheus::Family<prometheus::Counter>* rejected_;
  prometheus::Family<prometheus::Counter>* dead_lettered_;
  prometheus::Family<prometheus::Counter>* alerts_fired_;
  prometheus::Family<prometheus::Counter>* alerts_resolved_;
  prometheus::Family<prometheus::Counter>* orders_;
  prometheus::Family<prometheus::Counter>* outputs_produced_;
  prometheus::Family<prometheus::Histogram>* e2e_latency_;
  prometheus::Family<prometheus::Gauge>* consumer_lag_;
  prometheus::Family<prometheus::Gauge>* alerts_active_;
};

}  // namespace creditwatch::obs
