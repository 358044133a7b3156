#include <catch2/catch.hpp>

#include <set>

#include "core/credit_engine.h"
#include "workload/workload_generator.h"

using namespace creditwatch;

namespace {
std::string Stream(workload::WorkloadOptions o, int n) {
  workload::WorkloadGenerator g(std::move(o));
  std::string bytes;
  v1::Envelope e;
  for (int i = 0; i < n; ++i) {
    g.Next(&e);
    bytes += e.SerializeAsString();
  }
  return bytes;
}
}  // namespace

TEST_CASE("same seed gives the same bytes and another seed other bytes", "[unit][workload]") {
  workload::WorkloadOptions o;
  o.customers = 200;
  const std::string a = Stream(o, 5000);
  CHECK(a == Stream(o, 5000));
  o.seed = 43;
  CHECK(a != Stream(o, 5000));
}

TEST_CASE("the workload is in event-time order, valid, and exercises every profile and rule", "[unit][workload]") {
  workload::WorkloadOptions o;
  o.customers = 300;
  workload::WorkloadGenerator g(o);
  std::set<workload::Profile> profiles;
  for (int i = 0; i < o.customers; ++i) profiles.insert(g.ProfileOf(i));
  CHECK(profiles.size() == static_cast<size_t>(workload::kProfileCount));

  core::CreditEngine engine{core::RulesConfig()};
  std::map<std::string, v1::CustomerState> states;
  std::set<int> payloads;
  std::set<int> rules;
  core::StepOutputs out;
  v1::Envelope e;
  int64_t last = 0;
  for (int i = 0; i < 60'000; ++i) {
    g.Next(&e);
    REQUIRE(e.event_time_ms() >= last);
    last = e.event_time_ms();
    payloads.insert(e.payload_case());
    auto& s = states[e.customer_id()];
    // Time passes for everyone: fire the deadlines of the customers we know.
    const auto r = engine.Apply(s, e, e.event_time_ms(), out);
    INFO(e.ShortDebugString() << " -> " << r.rejection.detail);
    REQUIRE(r.kind != core::StepKind::kRejected);
  }
  for (auto& [id, s] : states) {
    int64_t wake = engine.NextWake(s, last);
    for (int guard = 0; wake != 0 && guard < 100; ++guard) wake = engine.Tick(s, wake, out).next_wake_ms;
  }
  for (const auto& a : out.alerts) rules.insert(a.rule());
  for (int p : payloads) UNSCOPED_INFO("payload " << p);
  CHECK(payloads.size() == 14);
  CHECK(rules.size() == 7);
}
