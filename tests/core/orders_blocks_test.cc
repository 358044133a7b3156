#include <catch2/catch.hpp>

#include "support/harness.h"

using namespace cwtest;

namespace {
std::vector<v1::BlockReason> Reasons(const v1::BlockStatus& b) {
  std::vector<v1::BlockReason> r;
  for (int x : b.reasons()) r.push_back(static_cast<v1::BlockReason>(x));
  return r;
}
}  // namespace

TEST_CASE("an order within the limit is approved and counts in exposure", "[unit][core][orders]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Order(kT0, "O1", 600'000));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::APPROVED);
  CHECK(h.out.decisions[0].exposure_after().minor() == 600'000);
  CHECK(h.out.decisions[0].output_id() == "C-1/order/O1/1/APPROVED");
  CHECK(h.state.approved_orders() == 600'000);
}

TEST_CASE("an order that would exceed the limit is held, then released by a payment", "[unit][core][orders]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 700'000, kT0 + 30 * kDay));
  h.Apply(ev.Order(kT0 + 1, "O1", 400'000));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::HELD);
  CHECK(h.out.decisions[0].reasons(0) == v1::WOULD_EXCEED_LIMIT);
  CHECK(h.state.approved_orders() == 0);

  h.Apply(ev.Payment(kT0 + 2, "P1", 300'000, {{"I1", 300'000}}));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::RELEASED);
  CHECK(h.out.decisions[0].cause_event_id() == "C-1-e4");
  CHECK(h.state.approved_orders() == 400'000);
}

TEST_CASE("raising the limit releases held orders in the same step", "[unit][core][orders]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000));
  h.Apply(ev.Order(kT0, "O1", 150'000));
  h.Apply(ev.Order(kT0, "O2", 50'000));
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::APPROVED);
  h.Apply(ev.Limit(kT0 + 1, 300'000));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].order_id() == "O1");
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::RELEASED);
}

TEST_CASE("without a known credit limit orders are held unless a default is configured", "[unit][core][orders]") {
  SECTION("held") {
    Harness h;
    Events ev("C-1");
    h.Apply(ev.Order(kT0, "O1", 100));
    REQUIRE(h.out.decisions.size() == 1);
    CHECK(h.out.decisions[0].reasons(0) == v1::NO_CREDIT_LIMIT);
  }
  SECTION("default limit") {
    core::RuleThresholds t;
    t.has_default_credit_limit = true;
    t.default_credit_limit = 1'000;
    Harness h{core::RulesConfig(t, {})};
    Events ev("C-1");
    h.Apply(ev.Order(kT0, "O1", 100));
    CHECK(h.out.decisions[0].decision() == v1::OrderDecision::APPROVED);
    h.Apply(ev.Order(kT0, "O2", 1'000));
    CHECK(h.out.decisions[0].reasons(0) == v1::WOULD_EXCEED_LIMIT);
  }
}

TEST_CASE("an invoice 30 days past due places an OVERDUE hold that lifts on payment", "[unit][core][blocks]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  const int64_t due = kT0 + 30 * kDay;
  h.Apply(ev.Invoice(kT0, "I1", 500'000, due));
  h.RunTimersUntil(due + 29 * kDay);
  CHECK(h.out.blocks.empty());
  h.RunTimersUntil(due + 30 * kDay);
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::HOLD);
  CHECK(Reasons(h.out.blocks[0]) == std::vector<v1::BlockReason>{v1::BLOCK_OVERDUE});
  CHECK(h.out.blocks[0].since_ms() == due + 30 * kDay);
  CHECK(h.out.blocks[0].version() == 1);

  h.Apply(ev.Payment(due + 31 * kDay, "P1", 500'000, {{"I1", 500'000}}));
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::CLEAR);
  CHECK(h.out.blocks[0].version() == 2);
}

TEST_CASE("two bounces in 90 days place a BOUNCED hold that expires with the window", "[unit][core][blocks]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  h.Apply(ev.Payment(kT0, "P1", 1'000, {}));
  h.Apply(ev.Payment(kT0, "P2", 1'000, {}));
  h.Apply(ev.Reversal(kT0 + kDay, "P1"));
  CHECK(h.out.blocks.empty());
  h.Apply(ev.Reversal(kT0 + 2 * kDay, "P2"));
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(Reasons(h.out.blocks[0]) == std::vector<v1::BlockReason>{v1::BLOCK_BOUNCED});
  h.RunTimersUntil(kT0 + 92 * kDay);
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::CLEAR);
}

TEST_CASE("a manual hold is never lifted by automation, only by a release", "[unit][core][blocks]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Hold(kT0));
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(Reasons(h.out.blocks[0]) == std::vector<v1::BlockReason>{v1::BLOCK_MANUAL});
  h.Apply(ev.Order(kT0 + 1, "O1", 10));
  CHECK(h.out.decisions[0].reasons(0) == v1::CUSTOMER_ON_HOLD);
  h.Apply(ev.Payment(kT0 + 2, "P1", 5'000, {}));
  h.RunTimersUntil(kT0 + 400 * kDay);
  CHECK(h.state.block_status() == v1::BlockStatus::HOLD);
  h.Apply(ev.Release(kT0 + 400 * kDay));
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::CLEAR);
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::RELEASED);
}

TEST_CASE("a manual hold with an expiry ends by itself", "[unit][core][blocks]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Hold(kT0, kT0 + 5 * kDay));
  CHECK(h.last.next_wake_ms == kT0 + 5 * kDay);
  h.RunTimersUntil(kT0 + 5 * kDay);
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::CLEAR);
}

TEST_CASE("a manual release with an expiry overrides automatic holds until then", "[unit][core][blocks]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 1'200'000, kT0 + 30 * kDay));  // over limit: HOLD
  REQUIRE(h.state.block_status() == v1::BlockStatus::HOLD);
  h.Apply(ev.Order(kT0 + 1, "O1", 100'000));
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::HELD);

  h.Apply(ev.Release(kT0 + 2, kT0 + 10 * kDay));
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::CLEAR);
  CHECK(h.out.blocks[0].overridden(0) == v1::BLOCK_OVER_LIMIT);
  CHECK(h.out.blocks[0].override_until_ms() == kT0 + 10 * kDay);
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::RELEASED);
  CHECK(h.Active(v1::OVER_LIMIT));  // alerts still fire

  h.RunTimersUntil(kT0 + 10 * kDay);
  REQUIRE(h.out.blocks.size() == 1);
  CHECK(h.out.blocks[0].status() == v1::BlockStatus::HOLD);
  CHECK(h.out.blocks[0].reasons(0) == v1::BLOCK_OVER_LIMIT);
}
