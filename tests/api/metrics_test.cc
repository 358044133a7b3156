// After a scenario run, /metrics holds every family with values that match the scenario.
#include <catch2/catch.hpp>

#include <regex>

#include "obs/metrics_text.h"
#include "support/e2e_cluster.h"
#include "support/engine_http.h"
#include "workload/workload_generator.h"

using namespace cwtest;
namespace v1 = creditwatch::v1;

namespace {
// Sum of the samples of `family` whose labels contain every `needle`.
double Sum(const std::string& text, const std::string& family, const std::vector<std::string>& needles = {}) {
  return creditwatch::obs::SumOfFamily(text, family, needles);
}
}  // namespace

TEST_CASE("metrics: every family is exported and matches the scenario", "[integration][metrics]") {
  E2eCluster cluster(4);
  const std::string cfg = cluster.WriteConfig("engine", "event_time");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  httplib::Client c = HttpClientOf(engine);

  TestProducer producer(cluster.bootstrap(), "creditwatch.events", cluster.partitions());
  creditwatch::workload::WorkloadOptions wo;
  wo.customers = 150;
  creditwatch::workload::WorkloadGenerator gen(wo);
  v1::Envelope e;
  for (int i = 0; i < 8000; ++i) {
    gen.Next(&e);
    producer.Produce(e.customer_id(), e.SerializeAsString());
  }
  producer.Produce("C-X", "garbage");
  producer.Flush();
  const ReferenceResult ref = ReferenceRun(producer.Records(), "creditwatch.events");

  const double expected_events = static_cast<double>(producer.Records().size() - 1);
  auto r = PollGet(
      c, "/metrics",
      [&](const auto& res) {
        return res.status == 200 && Sum(res.body, "creditwatch_outputs_produced_total") >= ref.outputs.size() &&
               Sum(res.body, "creditwatch_events_consumed_total") >= expected_events;
      },
      60000);
  REQUIRE(r);
  // Periodic gauges (lag, RocksDB) refresh every second.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  r = c.Get("/metrics");
  REQUIRE(r->status == 200);
  const std::string m = r->body;

  for (const char* family : {"creditwatch_events_consumed_total",
                             "creditwatch_events_rejected_total",
                             "creditwatch_dead_letters_total",
                             "creditwatch_duplicate_events_total",
                             "creditwatch_batch_duration_seconds_bucket",
                             "creditwatch_batch_records_bucket",
                             "creditwatch_end_to_end_latency_seconds_bucket",
                             "creditwatch_consumer_lag",
                             "creditwatch_outbox_depth",
                             "creditwatch_outbox_oldest_age_seconds",
                             "creditwatch_alerts_fired_total",
                             "creditwatch_alerts_resolved_total",
                             "creditwatch_customers_on_hold",
                             "creditwatch_orders_total",
                             "creditwatch_timers_pending",
                             "creditwatch_status_board_customers",
                             "creditwatch_timers_fired_total",
                             "creditwatch_state_checkpoints_total",
                             "creditwatch_state_steps_logged_total",
                             "creditwatch_state_steps_replayed_total",
                             "creditwatch_rocksdb_live_data_bytes",
                             "creditwatch_rocksdb_pending_compaction_bytes",
                             "creditwatch_rocksdb_block_cache_usage_bytes",
                             "creditwatch_rebalances_total",
                             "creditwatch_offsets_lost_total",
                             "creditwatch_outputs_produced_total",
                             "creditwatch_loop_wait_seconds_total",
                             "creditwatch_ready"}) {
    INFO(family);
    CHECK(m.find(std::string("\n") + family) != std::string::npos);
  }
  CHECK(m.find("customer_id") == std::string::npos);  // never a customer id as a label

  // Values match the scenario's independent recomputation.
  std::map<std::string, double> fired;
  std::map<std::string, double> regraded;
  std::map<std::string, double> resolved;
  std::map<std::string, double> decisions;
  for (const auto& [id, bytes] : ref.outputs) {
    if (bytes.empty()) continue;
    if (id.find("/order/") != std::string::npos) {
      v1::OrderDecision d;
      d.ParseFromString(bytes);
      decisions[v1::OrderDecision::Decision_Name(d.decision())]++;
    } else if (id.find("/block/") == std::string::npos) {
      v1::Alert a;
      a.ParseFromString(bytes);
      if (a.status() == v1::Alert::RESOLVED) {
        resolved[v1::Rule_Name(a.rule())]++;
      } else {
        (id.ends_with("/1-firing") ? fired : regraded)[v1::Rule_Name(a.rule())]++;
      }
    }
  }
  REQUIRE(fired.size() == 7);
  for (const auto& [rule, n] : fired) {
    INFO(rule);
    CHECK(Sum(m, "creditwatch_alerts_fired_total", {"rule=\"" + rule + "\"", "transition=\"new\""}) == n);
  }
  REQUIRE(regraded.count("INVOICE_OVERDUE") == 1);  // the dunning levels
  for (const auto& [rule, n] : regraded) {
    INFO(rule);
    CHECK(Sum(m, "creditwatch_alerts_fired_total", {"rule=\"" + rule + "\"", "transition=\"regrade\""}) == n);
  }
  for (const auto& [rule, n] : resolved) {
    INFO(rule);
    CHECK(Sum(m, "creditwatch_alerts_resolved_total", {"rule=\"" + rule + "\""}) == n);
  }
  for (const auto& [d, n] : decisions) {
    INFO(d);
    CHECK(Sum(m, "creditwatch_orders_total", {"decision=\"" + d + "\""}) == n);
  }
  double on_hold = 0;
  for (const auto& [id, s] : ref.states) on_hold += s.block_status() == v1::BlockStatus::HOLD;
  CHECK(Sum(m, "creditwatch_customers_on_hold") == on_hold);
  // Every customer the engine wrote is on the lookup board (no lookups were made).
  CHECK(Sum(m, "creditwatch_status_board_customers") == static_cast<double>(ref.states.size()));
  double over_limit = 0;
  for (const auto& [id, s] : ref.states) {
    for (const auto& a : s.alerts()) over_limit += a.rule() == v1::OVER_LIMIT;
  }
  CHECK(Sum(m, "creditwatch_alerts_active", {"rule=\"OVER_LIMIT\""}) == over_limit);
  CHECK(Sum(m, "creditwatch_dead_letters_total", {"reason=\"UNDECODABLE\""}) == 1);
  CHECK(Sum(m, "creditwatch_events_rejected_total", {"reason=\"UNDECODABLE\""}) == 1);
  CHECK(Sum(m, "creditwatch_events_consumed_total") == expected_events);
  // Every record read went through exactly one committed batch, the undecodable one too.
  CHECK(Sum(m, "creditwatch_batch_records_sum") == expected_events + 1);
  CHECK(Sum(m, "creditwatch_consumer_lag") == 0);
  CHECK(Sum(m, "creditwatch_outbox_depth") == 0);
  CHECK(Sum(m, "creditwatch_outbox_oldest_age_seconds") == 0);  // everything delivered
  CHECK(Sum(m, "creditwatch_ready") == 1);
  // Caught up, the loop has been waiting for input (1.5 s passed between the scrapes).
  CHECK(Sum(m, "creditwatch_loop_wait_seconds_total", {"for=\"input\""}) > 1.0);
  CHECK(Sum(m, "creditwatch_rocksdb_block_cache_usage_bytes") >= 0);
  // Each customer's first batch writes its whole state; a later one writes it or logs
  // its steps, so the two together are at most one per step. Nothing was reloaded.
  const double checkpoints = Sum(m, "creditwatch_state_checkpoints_total");
  CHECK(checkpoints >= static_cast<double>(ref.states.size()));
  CHECK(checkpoints + Sum(m, "creditwatch_state_steps_logged_total") <=
        expected_events + Sum(m, "creditwatch_timers_fired_total"));
  CHECK(Sum(m, "creditwatch_state_steps_replayed_total") == 0);
  CHECK(Sum(m, "creditwatch_end_to_end_latency_seconds_count", {"kind=\"alert\""}) >=
        static_cast<double>(fired.size()));
  CHECK(engine.Kill(SIGTERM) == 0);
}
