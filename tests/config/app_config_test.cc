#include <catch2/catch.hpp>

#include "config/app_config.h"

using creditwatch::config::AppConfig;
using creditwatch::config::ParseConfig;

TEST_CASE("an empty config gives the documented defaults", "[unit][config]") {
  AppConfig cfg;
  REQUIRE(ParseConfig("", &cfg).ok());
  const auto& t = cfg.rules.defaults();
  CHECK(t.utilization_warning_bp == 8000);
  CHECK(t.over_limit_bp == 10000);
  CHECK(t.overdue_hold_days == 30);
  CHECK(t.dunning.size() == 5);
  CHECK(cfg.stream.checkpoint_steps == 16);
}

TEST_CASE("segment and risk class overrides layer on the defaults", "[unit][config]") {
  AppConfig cfg;
  const char* yaml = R"(
rules:
  defaults:
    utilization_warning_pct: 85
  segments:
    enterprise: { overdue_hold_days: 45 }
  risk_classes:
    high: { utilization_warning_pct: 70, bounce_hold_count: 1 }
)";
  auto st = ParseConfig(yaml, &cfg);
  REQUIRE(st.ok());
  CHECK(cfg.rules.For("smb", "low").utilization_warning_bp == 8500);
  CHECK(cfg.rules.For("enterprise", "low").overdue_hold_days == 45);
  CHECK(cfg.rules.For("enterprise", "high").overdue_hold_days == 45);
  CHECK(cfg.rules.For("enterprise", "high").utilization_warning_bp == 7000);
  CHECK(cfg.rules.For("unknown", "high").bounce_hold_count == 1);
  CHECK(cfg.rules.For("unknown", "unknown").overdue_hold_days == 30);
}

TEST_CASE("a bad config fails naming the key and why", "[unit][config]") {
  AppConfig cfg;
  auto fails = [&](const char* yaml, const char* fragment) {
    auto st = ParseConfig(yaml, &cfg);
    CHECK_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(fragment));
  };
  fails("rules: {defaults: {utilization_warning_pct: abc}}", "rules.defaults.utilization_warning_pct");
  fails("rules: {defaults: {utilisation_warning_pct: 80}}", "rules.defaults.utilisation_warning_pct: unknown key");
  fails("rules: {defaults: {utilization_warning_pct: 120}}", "must not exceed over_limit_pct");
  fails("rules: {segments: {smb: {overdue_hold_days: 0}}}", "overdue_hold_days: must be >= 1");
  fails("rules: {defaults: {dunning_levels: [{days: 10, severity: info}, {days: 5, severity: major}]}}",
        "strictly ascending");
  fails("kafkaa: {}", "kafkaa: unknown key");
  fails("rules: [1, 2", "YAML error");
  fails("rules: {defaults: {dunning_levels: [{severity: info}]}}", "rules.defaults.dunning_levels[0].days: is missing");
  fails("engine: {max_future_skew_seconds: 9223372036854775}", "engine.max_future_skew_seconds: must be at most");
  fails("engine: {dedup_retention_days: 200000000000}", "engine.dedup_retention_days: must be at most");
  fails("rules: {defaults: {max_future_skew_seconds: 9223372036854775}}", "must be at most 100 years");
  fails("http: {actions_topic: creditwatch.actions}", "http.actions_topic: 'creditwatch.actions' is not one of");
}

TEST_CASE("engine, kafka and topic sections parse and validate", "[unit][config]") {
  AppConfig cfg;
  const char* yaml = R"(
kafka:
  bootstrap.servers: "k1:9092,k2:9092"
  security.protocol: SASL_SSL
kafka_consumer: { fetch.min.bytes: 1000 }
topics:
  inputs: [erp.events, bank.events]
engine:
  data_dir: /var/lib/creditwatch
  time_mode: event_time
  block_cache_mb: 64
)";
  REQUIRE(ParseConfig(yaml, &cfg).ok());
  CHECK_FALSE(cfg.embedded_broker());
  CHECK(cfg.stream.kafka.at("security.protocol") == "SASL_SSL");
  CHECK(cfg.stream.kafka_consumer.at("fetch.min.bytes") == "1000");
  CHECK(cfg.stream.topics.inputs.size() == 2);
  CHECK(cfg.stream.time_mode == creditwatch::stream::TimeMode::kEventTime);
  CHECK(cfg.store.block_cache_bytes == (64u << 20));
  CHECK(cfg.store.data_dir == "/var/lib/creditwatch");

  AppConfig defaults;
  REQUIRE(ParseConfig("", &defaults).ok());
  CHECK(defaults.embedded_broker());
  CHECK(defaults.broker.topics.size() == 5);

  auto fails = [&](const char* text, const char* fragment) {
    AppConfig c;
    auto st = ParseConfig(text, &c);
    CHECK_FALSE(st.ok());
    CHECK_THAT(st.message(), Catch::Contains(fragment));
  };
  fails("engine: {max_batch: 0}", "engine.max_batch: must be > 0");
  fails("engine: {max_batch_ms: -5}", "engine.max_batch_ms: must be > 0");
  fails("engine: {checkpoint_steps: 0}", "engine.checkpoint_steps: must be > 0");
  fails("engine: {checkpoint_steps: 5000}", "engine.checkpoint_steps: must be at most 1000");
  fails("engine: {colour: blue}", "engine.colour: unknown key");
  fails("topics: {inputs: []}", "topics.inputs: expected a non-empty list");
  fails("kafka: {group.id: x}", "engine.group_id");
  // librdkafka's own checks, at start-up and in check-config.
  fails("kafka: {linger.mss: 5}", "kafka.linger.mss: No such configuration property");
  fails("kafka_producer: {linger.ms: soon}", "kafka_producer.linger.ms: Invalid value");
  fails("kafka_consumer: {auto.offset.reset: sometimes}", "kafka_consumer.auto.offset.reset: Invalid value");
  // A bootstrap list for one client only would leave the other on an embedded broker.
  fails("kafka_consumer: {bootstrap.servers: \"k1:9092\"}", "kafka_consumer.bootstrap.servers: set kafka.bootstrap");
  fails("kafka_producer: {metadata.broker.list: \"k1:9092\"}", "kafka_producer.metadata.broker.list: set kafka");
  fails("kafka: {metadata.broker.list: \"k1:9092\"}", "kafka.metadata.broker.list: write kafka.bootstrap.servers");
  // A reset to the end would skip records without counting them.
  fails("kafka_consumer: {auto.offset.reset: latest}", "kafka_consumer.auto.offset.reset: 'latest' would skip");
  fails("kafka: {auto.offset.reset: end}", "kafka.auto.offset.reset: 'end' would skip");
}
