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
}
