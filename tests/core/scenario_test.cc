// One scenario per user story, told from the user's side.
#include <catch2/catch.hpp>

#include "support/harness.h"

using namespace cwtest;

TEST_CASE(
    "story: the customer pays the overdue invoice: the alert resolves, the hold lifts and "
    "held orders are released in the same step",
    "[unit][core][scenario]") {
  Harness h;
  Events ev("ACME-0042");
  h.Apply(ev.Customer(kT0, 10'000'000));
  const int64_t due = kT0 + 30 * kDay;
  h.Apply(ev.Invoice(kT0, "INV-1", 4'000'000, due));
  h.RunTimersUntil(due + 35 * kDay);
  REQUIRE(h.state.block_status() == v1::BlockStatus::HOLD);

  h.Apply(ev.Order(due + 36 * kDay, "SO-9", 2'000'000));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::HELD);
  CHECK(h.out.decisions[0].reasons(0) == v1::CUSTOMER_ON_HOLD);

  const auto pay = ev.Payment(due + 37 * kDay, "PAY-1", 4'000'000, {{"INV-1", 4'000'000}});
  h.Apply(pay);
  auto overdue = h.Alerts(v1::INVOICE_OVERDUE);
  REQUIRE(overdue.size() == 1);
  CHECK(overdue[0].status() == v1::Alert::RESOLVED);
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::CLEAR);
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::RELEASED);
  CHECK(h.out.decisions[0].order_id() == "SO-9");
  // All three are explained by the same cause.
  CHECK(overdue[0].cause_event_id() == pay.event_id());
  CHECK(h.out.blocks[0].cause_event_id() == pay.event_id());
  CHECK(h.out.decisions[0].cause_event_id() == pay.event_id());
}

TEST_CASE("story: a bounced payment puts an order on hold the moment it arrives", "[unit][core][scenario]") {
  Harness h;
  Events ev("C-7");
  h.Apply(ev.Customer(kT0, 10'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 9'000'000, kT0 + 30 * kDay));
  h.Apply(ev.Payment(kT0 + 10 * kDay, "P1", 9'000'000, {{"I1", 9'000'000}}));
  h.Apply(ev.Reversal(kT0 + 11 * kDay, "P1"));
  CHECK(h.Alerts(v1::PAYMENT_BOUNCED).size() == 1);
  // Exposure is back at 90%: an order of 20% waits.
  h.Apply(ev.Order(kT0 + 11 * kDay + 1, "O1", 2'000'000));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::HELD);
  CHECK(h.out.decisions[0].reasons(0) == v1::WOULD_EXCEED_LIMIT);
}

TEST_CASE("story: a credit manager puts a customer on hold and releases it", "[unit][core][scenario]") {
  Harness h;
  Events ev("C-8");
  h.Apply(ev.Customer(kT0, 10'000'000));
  h.Apply(ev.Hold(kT0 + 1));
  h.Apply(ev.Order(kT0 + 2, "O1", 1'000));
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::HELD);
  h.Apply(ev.Release(kT0 + 3));
  CHECK(h.out.blocks.at(0).status() == v1::BlockStatus::CLEAR);
  CHECK(h.out.decisions.at(0).decision() == v1::OrderDecision::RELEASED);
}

TEST_CASE("story: thresholds differ by segment and risk class", "[unit][core][scenario]") {
  core::RuleThresholds defaults;
  core::RuleThresholds strict = defaults;
  strict.utilization_warning_bp = 5000;
  std::map<std::string, core::RuleThresholds, std::less<>> table;
  table.emplace(core::RulesConfig::Key("", ""), defaults);
  table.emplace(core::RulesConfig::Key("", "high"), strict);
  Harness h{core::RulesConfig(defaults, table)};
  Events a("LOW-1");
  Events b("HIGH-1");
  h.Apply(a.Customer(kT0, 1'000'000, 30, "smb", "low"));
  h.Apply(a.Invoice(kT0, "I1", 600'000, kT0 + 30 * kDay));
  CHECK_FALSE(h.Active(v1::UTILIZATION_HIGH));

  Harness h2{core::RulesConfig(defaults, table)};
  h2.Apply(b.Customer(kT0, 1'000'000, 30, "smb", "high"));
  h2.Apply(b.Invoice(kT0, "I1", 600'000, kT0 + 30 * kDay));
  CHECK(h2.Active(v1::UTILIZATION_HIGH));
}
