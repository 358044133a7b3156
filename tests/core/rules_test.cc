#include <catch2/catch.hpp>

#include "support/harness.h"

using namespace cwtest;

namespace {
int64_t EvidenceInt(const v1::Alert& a, const std::string& name) {
  for (const auto& e : a.evidence()) {
    if (e.name() != name) continue;
    switch (e.value_case()) {
      case v1::Evidence::kIntValue: return e.int_value();
      case v1::Evidence::kMoney: return e.money().minor();
      case v1::Evidence::kBasisPoints: return e.basis_points();
      case v1::Evidence::kTenths: return e.tenths();
      default: break;
    }
  }
  FAIL("no evidence named " << name);
  return 0;
}
// A promise of `promised_amount` made on day 1 for day 10, then a payment of 100,000 on
// day 5 against a 500,000 invoice. Returns the promised date.
// A customer with a 1,000,000.00 limit owing invoice I1 of 5,000.00, due on day 30.
void CustomerOwing(Harness& h, Events& ev) {
  h.Apply(ev.Customer(kT0, 100'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 500'000, kT0 + 30 * kDay));
}

int64_t PromiseThenPayment(Harness& h, Events& ev, int64_t promised_amount) {
  CustomerOwing(h, ev);
  const int64_t promised = kT0 + 10 * kDay;
  h.Apply(ev.Promise(kT0 + kDay, "PR1", promised_amount, promised));
  h.Apply(ev.Payment(kT0 + 5 * kDay, "P1", 100'000, {{"I1", 100'000}}));
  return promised;
}
}  // namespace

TEST_CASE("utilization and over-limit alerts fire, escalate and resolve with hysteresis", "[unit][core][rules]") {
  Harness h;
  Events ev("ACME-0042");
  h.Apply(ev.Customer(kT0, 10'000'000));  // 100,000.00 EUR

  h.Apply(ev.Invoice(kT0, "I1", 7'900'000, kT0 + 30 * kDay));
  CHECK(h.Alerts(v1::UTILIZATION_HIGH).empty());

  h.Apply(ev.Invoice(kT0, "I2", 200'000, kT0 + 30 * kDay));  // 81%
  auto fired = h.Alerts(v1::UTILIZATION_HIGH);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].status() == v1::Alert::FIRING);
  CHECK(fired[0].severity() == v1::WARNING);
  CHECK(EvidenceInt(fired[0], "utilization") == 8100);
  CHECK(EvidenceInt(fired[0], "exposure") == 8'100'000);

  // Still above: nothing is re-emitted.
  h.Apply(ev.Invoice(kT0, "I3", 100'000, kT0 + 30 * kDay));
  CHECK(h.Alerts(v1::UTILIZATION_HIGH).empty());

  h.Apply(ev.Invoice(kT0, "I4", 4'330'000, kT0 + 30 * kDay));  // 125.3%
  auto over = h.Alerts(v1::OVER_LIMIT);
  REQUIRE(over.size() == 1);
  CHECK(over[0].severity() == v1::CRITICAL);
  CHECK(over[0].summary() == "ACME-0042 OVER_LIMIT critical: exposure 125,300.00 EUR vs limit 100,000.00 EUR (125.3%)");

  // Down to 97%: below the threshold but inside the hysteresis band: still firing.
  h.Apply(ev.Payment(kT0 + kDay, "P1", 2'830'000, {{"I4", 2'830'000}}));
  CHECK(h.Alerts(v1::OVER_LIMIT).empty());
  CHECK(h.Active(v1::OVER_LIMIT));

  // Back over 100% does not open a new episode either.
  h.Apply(ev.Invoice(kT0 + kDay, "I5", 400'000, kT0 + 30 * kDay));
  CHECK(h.Alerts(v1::OVER_LIMIT).empty());

  // Below 95%: resolved, with the numbers.
  h.Apply(ev.Payment(kT0 + 2 * kDay, "P2", 1'000'000, {{"I5", 400'000}, {"I4", 600'000}}));
  auto resolved = h.Alerts(v1::OVER_LIMIT);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].status() == v1::Alert::RESOLVED);
  CHECK(resolved[0].alert_id() == over[0].alert_id());
  CHECK(h.Active(v1::UTILIZATION_HIGH));

  // A new episode gets a new id.
  h.Apply(ev.Invoice(kT0 + 3 * kDay, "I6", 2'000'000, kT0 + 30 * kDay));
  auto again = h.Alerts(v1::OVER_LIMIT);
  REQUIRE(again.size() == 1);
  CHECK(again[0].alert_id() != over[0].alert_id());
}

TEST_CASE("an unpaid invoice goes overdue by timer through the dunning levels", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  const int64_t due = kT0 + 30 * kDay;
  auto r = h.Apply(ev.Invoice(kT0, "I1", 500'000, due));
  CHECK(r.next_wake_ms == due + kDay);

  h.RunTimersUntil(due + kDay - 1);
  CHECK(h.Alerts(v1::INVOICE_OVERDUE).empty());

  h.RunTimersUntil(due + 95 * kDay);
  auto fired = h.Alerts(v1::INVOICE_OVERDUE);
  REQUIRE(fired.size() == 5);
  const int levels[] = {1, 15, 30, 60, 90};
  const v1::Severity sev[] = {v1::INFO, v1::WARNING, v1::MAJOR, v1::CRITICAL, v1::CRITICAL};
  for (size_t i = 0; i < 5; ++i) {
    CHECK(fired[i].status() == v1::Alert::FIRING);
    CHECK(fired[i].level() == levels[i]);
    CHECK(fired[i].severity() == sev[i]);
    CHECK(fired[i].at_ms() == due + levels[i] * kDay);
    CHECK(fired[i].subject() == "I1");
    CHECK(fired[i].alert_id() == fired[0].alert_id());
  }
  // Output ids differ per transition, alert id is stable.
  CHECK(fired[0].output_id() != fired[1].output_id());
}

TEST_CASE("a disputed invoice does not go overdue for the disputed part", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  const int64_t due = kT0 + 30 * kDay;
  h.Apply(ev.Invoice(kT0, "I1", 500'000, due));
  h.Apply(ev.Dispute(kT0 + kDay, "D1", "I1", 500'000));
  h.RunTimersUntil(due + 40 * kDay);
  CHECK(h.Alerts(v1::INVOICE_OVERDUE).empty());
  CHECK(h.state.block_status() != v1::BlockStatus::HOLD);

  // The customer must pay after all: it goes overdue at once at its real age.
  h.Apply(ev.DisputeResolved(due + 40 * kDay, "D1", v1::DisputeResolved::CUSTOMER_PAYS));
  auto fired = h.Alerts(v1::INVOICE_OVERDUE);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].level() == 30);
}

TEST_CASE("paying the overdue invoice resolves its alert", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  const int64_t due = kT0 + 30 * kDay;
  h.Apply(ev.Invoice(kT0, "I1", 500'000, due));
  h.RunTimersUntil(due + 2 * kDay);
  REQUIRE(h.Active(v1::INVOICE_OVERDUE, "I1"));
  h.Apply(ev.Payment(due + 3 * kDay, "P1", 200'000, {{"I1", 200'000}}));
  CHECK(h.Alerts(v1::INVOICE_OVERDUE).empty());  // partial: still overdue
  h.Apply(ev.Payment(due + 4 * kDay, "P2", 300'000, {{"I1", 300'000}}));
  auto resolved = h.Alerts(v1::INVOICE_OVERDUE);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].status() == v1::Alert::RESOLVED);
  CHECK_FALSE(h.Active(v1::INVOICE_OVERDUE, "I1"));
}

TEST_CASE("a promise not met by its date plus grace is broken, and resolves when paid", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  const int64_t promised = PromiseThenPayment(h, ev, 300'000);
  h.RunTimersUntil(promised + kDay - 1);
  CHECK(h.Alerts(v1::PROMISE_BROKEN).empty());
  h.RunTimersUntil(promised + kDay);
  auto broken = h.Alerts(v1::PROMISE_BROKEN);
  REQUIRE(broken.size() == 1);
  CHECK(broken[0].severity() == v1::MAJOR);
  CHECK(EvidenceInt(broken[0], "received") == 100'000);
  CHECK(EvidenceInt(broken[0], "promised") == 300'000);

  h.Apply(ev.Payment(promised + 3 * kDay, "P2", 200'000, {{"I1", 200'000}}));
  auto resolved = h.Alerts(v1::PROMISE_BROKEN);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].status() == v1::Alert::RESOLVED);
}

TEST_CASE("a promise met in time raises nothing", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 500'000, kT0 + 30 * kDay));
  h.Apply(ev.Promise(kT0 + kDay, "PR1", 300'000, kT0 + 10 * kDay));
  h.Apply(ev.Payment(kT0 + 10 * kDay, "P1", 300'000, {{"I1", 300'000}}));
  h.RunTimersUntil(kT0 + 20 * kDay);
  CHECK(h.Alerts(v1::PROMISE_BROKEN).empty());
  CHECK(h.state.promises_size() == 0);
}

TEST_CASE("payments drifting later raise DETERIORATING and timely ones resolve it", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000'000));
  int64_t t = kT0;
  int n = 0;
  auto pay_late = [&](int days_late) {
    const std::string inv = "I" + std::to_string(++n);
    const int64_t due = t + 30 * kDay;
    h.Apply(ev.Invoice(t, inv, 100'000, due));
    h.Apply(ev.Payment(due + days_late * kDay, "P" + std::to_string(n), 100'000, {{inv, 100'000}}));
    t += 7 * kDay;
  };
  for (int i = 0; i < 6; ++i) pay_late(0);
  CHECK_FALSE(h.Active(v1::DETERIORATING));
  // Drifting later: 10, 20, 30 days beyond terms.
  std::vector<v1::Alert> fired;
  for (int late : {10, 20, 30}) {
    pay_late(late);
    for (const auto& a : h.Alerts(v1::DETERIORATING)) fired.push_back(a);
  }
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].status() == v1::Alert::FIRING);
  CHECK(EvidenceInt(fired[0], "dbt_gap") >= 100);
  CHECK(EvidenceInt(fired[0], "dbt_short_avg") > EvidenceInt(fired[0], "dbt_long_avg"));
  // Back to paying on time: the gap closes and the late share falls.
  for (int i = 0; i < 6; ++i) pay_late(0);
  CHECK_FALSE(h.Active(v1::DETERIORATING));
}

namespace {
// Three payments three days late each: DETERIORATING on the late share (100% of 3).
void PayThreeLate(Harness& h, Events& ev) {
  h.Apply(ev.Customer(kT0, 1'000'000'000));
  for (int i = 0; i < 3; ++i) {
    const std::string inv = "I" + std::to_string(i);
    const int64_t at = kT0 + i * kDay;
    h.Apply(ev.Invoice(at, inv, 100'000, at + 30 * kDay));
    h.Apply(ev.Payment(at + 33 * kDay, "P" + std::to_string(i), 100'000, {{inv, 100'000}}));
  }
}
}  // namespace

TEST_CASE("a mostly-late payer raises DETERIORATING on the late share", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  PayThreeLate(h, ev);
  REQUIRE(h.Active(v1::DETERIORATING));
}

TEST_CASE("the late share resolves when the first late payment leaves the 90-day window", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  PayThreeLate(h, ev);
  REQUIRE(h.Active(v1::DETERIORATING));
  REQUIRE(h.state.observed_ms_size() == 3);
  // Two payments left in the window are fewer than the 3 the share needs.
  const int64_t leaves = kT0 + 33 * kDay + 90 * kDay;
  h.RunTimersUntil(leaves - 1);
  CHECK(h.Active(v1::DETERIORATING));
  h.RunTimersUntil(leaves + kDay / 2);
  CHECK_FALSE(h.Active(v1::DETERIORATING));
  const auto resolved = h.Alerts(v1::DETERIORATING);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].at_ms() == leaves);
  CHECK(EvidenceInt(resolved[0], "payments_in_window") == 2);
  CHECK(h.state.observed_ms_size() == 2);
  CHECK(h.state.observed_days_beyond_terms_size() == 2);
}

TEST_CASE("a state holding payment observations as messages is moved to the packed arrays on its next step",
          "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  PayThreeLate(h, ev);
  REQUIRE(h.Active(v1::DETERIORATING));
  // The layout an earlier version wrote: one message per observation.
  for (int i = 0; i < h.state.observed_ms_size(); ++i) {
    auto* o = h.state.add_observations();
    o->set_at_ms(h.state.observed_ms(i));
    o->set_days_beyond_terms(h.state.observed_days_beyond_terms(i));
  }
  const std::vector<int64_t> at(h.state.observed_ms().begin(), h.state.observed_ms().end());
  h.state.clear_observed_ms();
  h.state.clear_observed_days_beyond_terms();
  // An on-time payment: four in the window, three late (75% > 50%), so still firing.
  h.Apply(ev.Invoice(kT0 + 40 * kDay, "I9", 100'000, kT0 + 70 * kDay));
  CHECK(h.state.observations_size() == 0);
  CHECK(std::vector<int64_t>(h.state.observed_ms().begin(), h.state.observed_ms().end()) == at);
  h.Apply(ev.Payment(kT0 + 60 * kDay, "P9", 100'000, {{"I9", 100'000}}));
  CHECK(h.state.observed_ms_size() == 4);
  CHECK(h.Active(v1::DETERIORATING));
  // The wake still comes when the first late payment leaves the window: 3 left, 2 late.
  h.RunTimersUntil(kT0 + 123 * kDay + kDay / 2);
  CHECK(h.state.observed_ms_size() == 3);
  CHECK(h.Active(v1::DETERIORATING));  // 2 of 3 late: 67% > 50%
  const int64_t second_leaves = kT0 + 34 * kDay + 90 * kDay;
  h.RunTimersUntil(second_leaves);
  CHECK_FALSE(h.Active(v1::DETERIORATING));  // 1 of 2 late, fewer than 3 in the window
}

TEST_CASE("a bounced payment raises PAYMENT_BOUNCED at once and reopens the amount", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 500'000, kT0 + 30 * kDay));
  h.Apply(ev.Payment(kT0 + 5 * kDay, "P1", 500'000, {{"I1", 500'000}}));
  h.Apply(ev.Reversal(kT0 + 6 * kDay, "P1"));
  auto bounced = h.Alerts(v1::PAYMENT_BOUNCED);
  REQUIRE(bounced.size() == 1);
  CHECK(bounced[0].severity() == v1::CRITICAL);
  CHECK(bounced[0].subject() == "P1");
  CHECK(EvidenceInt(bounced[0], "reopened") == 500'000);
  CHECK(h.state.open_receivables() == 500'000);

  h.Apply(ev.Payment(kT0 + 8 * kDay, "P2", 500'000, {{"I1", 500'000}}));
  auto resolved = h.Alerts(v1::PAYMENT_BOUNCED);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].status() == v1::Alert::RESOLVED);
}

TEST_CASE("the risk score bands drop with risk and SCORE_DOWNGRADE explains each factor", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  CHECK(h.state.band() == 0);
  // 150% utilization (30 points) and the whole balance overdue 61 days (25 points).
  h.Apply(ev.Invoice(kT0, "I1", 1'500'000, kT0 + 30 * kDay));
  h.RunTimersUntil(kT0 + 91 * kDay);
  CHECK(h.state.score() >= 55);
  CHECK(h.state.band() >= 2);
  auto downs = h.Alerts(v1::SCORE_DOWNGRADE);
  REQUIRE_FALSE(downs.empty());
  const auto& last = downs.back();
  CHECK(last.status() == v1::Alert::FIRING);
  CHECK(EvidenceInt(last, "utilization") == 30);
  CHECK(EvidenceInt(last, "overdue_share") == 25);

  // Paid in full but 62 days late: utilization and overdue points go, the days beyond
  // terms stay in the long average; the alert steps down to band B, not resolved.
  h.Apply(ev.Payment(kT0 + 92 * kDay, "P1", 1'500'000, {{"I1", 1'500'000}}));
  CHECK(h.state.band() == 1);
  auto stepped = h.Alerts(v1::SCORE_DOWNGRADE);
  REQUIRE(stepped.size() == 1);
  CHECK(stepped[0].status() == v1::Alert::FIRING);
  CHECK(stepped[0].level() == 1);
  CHECK(EvidenceInt(stepped[0], "days_beyond_terms") == 20);
}

TEST_CASE("SCORE_DOWNGRADE resolves when the band returns to where it was", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 1'000'000, kT0 + 30 * kDay));  // 100%: 20 points, band B
  auto fired = h.Alerts(v1::SCORE_DOWNGRADE);
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].severity() == v1::INFO);
  h.Apply(ev.Payment(kT0 + 10 * kDay, "P1", 1'000'000, {{"I1", 1'000'000}}));
  CHECK(h.state.band() == 0);
  auto resolved = h.Alerts(v1::SCORE_DOWNGRADE);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].status() == v1::Alert::RESOLVED);
  CHECK(resolved[0].alert_id() == fired[0].alert_id());
}

TEST_CASE("a customer hovering at a threshold does not flap", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 800'000, kT0 + 30 * kDay));  // 80%
  int transitions = static_cast<int>(h.Alerts(v1::UTILIZATION_HIGH).size());
  for (int i = 0; i < 20; ++i) {
    // Oscillate between 79% and 80%.
    h.Apply(ev.Payment(kT0 + i * 1000 + 1, "P" + std::to_string(i), 10'000, {{"I1", 10'000}}));
    transitions += static_cast<int>(h.Alerts(v1::UTILIZATION_HIGH).size());
    h.Apply(ev.Invoice(kT0 + i * 1000 + 2, "J" + std::to_string(i), 10'000, kT0 + 30 * kDay));
    transitions += static_cast<int>(h.Alerts(v1::UTILIZATION_HIGH).size());
  }
  CHECK(transitions == 1);
}

TEST_CASE("an order released by a manual release is scored in the same step, once", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 700'000, kT0 + 30 * kDay));  // 70%: 14 points, band A
  h.Apply(ev.Order(kT0 + 1, "O1", 900'000));
  REQUIRE(h.out.decisions.size() == 1);
  REQUIRE(h.out.decisions[0].decision() == v1::OrderDecision::HELD);
  CHECK(h.state.band() == 0);

  // The release approves the order: 160% utilization is 30 points, band B.
  h.Apply(ev.Release(kT0 + 2, kT0 + 5 * kDay));
  REQUIRE(h.out.decisions.size() == 1);
  CHECK(h.out.decisions[0].decision() == v1::OrderDecision::RELEASED);
  CHECK(h.state.score() == 30);
  CHECK(h.state.band() == 1);
  const auto downs = h.Alerts(v1::SCORE_DOWNGRADE);
  REQUIRE(downs.size() == 1);
  CHECK(downs[0].status() == v1::Alert::FIRING);
  CHECK(EvidenceInt(downs[0], "utilization") == 30);
}

TEST_CASE("a payment that bounces before the promise's date no longer counts towards it", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  const int64_t promised = PromiseThenPayment(h, ev, 100'000);
  REQUIRE(h.state.promises_size() == 1);  // met, judged at its date
  h.Apply(ev.Reversal(kT0 + 7 * kDay, "P1"));
  CHECK(h.state.promises(0).paid() == 0);
  h.RunTimersUntil(promised + 2 * kDay);
  auto broken = h.Alerts(v1::PROMISE_BROKEN);
  REQUIRE(broken.size() == 1);
  CHECK(broken[0].status() == v1::Alert::FIRING);
  CHECK(broken[0].at_ms() == promised + kDay);  // the date plus a day of grace
  CHECK(EvidenceInt(broken[0], "received") == 0);
}

TEST_CASE("a promise met and not reversed leaves the state at its date", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  const int64_t promised = PromiseThenPayment(h, ev, 100'000);
  CHECK(h.engine.NextWake(h.state, kT0 + 5 * kDay) == promised + kDay);
  h.RunTimersUntil(promised + kDay);
  CHECK(h.state.promises_size() == 0);
  CHECK(h.Alerts(v1::PROMISE_BROKEN).empty());
}

TEST_CASE("OVER_LIMIT compares exposure with the limit exactly", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 10'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 10'000'000, kT0 + 30 * kDay));  // exactly at the limit
  CHECK_FALSE(h.Active(v1::OVER_LIMIT));
  h.Apply(ev.Invoice(kT0, "I2", 999, kT0 + 30 * kDay));  // 100.00999%: whole basis points read 100%
  CHECK(h.Active(v1::OVER_LIMIT));
  CHECK(h.state.block_status() == v1::BlockStatus::HOLD);
}

TEST_CASE("a bounced payment never paid again resolves when it leaves the payment history", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 100'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 500'000, kT0 + 30 * kDay));
  h.Apply(ev.Payment(kT0 + kDay, "P1", 100'000, {{"I1", 100'000}}));
  h.Apply(ev.Reversal(kT0 + 2 * kDay, "P1"));
  REQUIRE(h.Active(v1::PAYMENT_BOUNCED, "P1"));
  const int64_t leaves = kT0 + kDay + 180 * kDay;  // received + the default 180-day history
  h.RunTimersUntil(leaves - 1);
  CHECK(h.Active(v1::PAYMENT_BOUNCED, "P1"));
  h.RunTimersUntil(leaves + kDay);
  CHECK_FALSE(h.Active(v1::PAYMENT_BOUNCED, "P1"));
  auto resolved = h.Alerts(v1::PAYMENT_BOUNCED);
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].status() == v1::Alert::RESOLVED);
  CHECK(resolved[0].at_ms() == leaves);
  CHECK(resolved[0].summary().find("left the 180-day payment history") != std::string::npos);
}

TEST_CASE("a promise id used again after the first promise was met is a new promise", "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  const int64_t promised = PromiseThenPayment(h, ev, 100'000);  // met on day 5, judged on day 11
  const auto r = h.Apply(ev.Promise(kT0 + 6 * kDay, "PR1", 200'000, kT0 + 20 * kDay));
  CHECK(r.kind == core::StepKind::kApplied);
  REQUIRE(h.state.promises_size() == 2);
  h.RunTimersUntil(kT0 + 22 * kDay);
  auto broken = h.Alerts(v1::PROMISE_BROKEN);
  REQUIRE(broken.size() == 1);  // the second, never paid; the first was met
  CHECK(broken[0].at_ms() == kT0 + 21 * kDay);
  CHECK(EvidenceInt(broken[0], "promised") == 200'000);
  CHECK(promised < kT0 + 21 * kDay);
}

TEST_CASE("a reversal takes back each promise's credit in states stored before promises were numbered",
          "[unit][core][rules]") {
  Harness h;
  Events ev("C-1");
  CustomerOwing(h, ev);
  h.Apply(ev.Promise(kT0, "PR1", 100'000, kT0 + 10 * kDay));
  h.Apply(ev.Promise(kT0, "PR2", 100'000, kT0 + 11 * kDay));
  for (auto& p : *h.state.mutable_promises()) p.set_seq(0);  // as an earlier version stored them
  h.Apply(ev.Payment(kT0 + kDay, "P1", 150'000, {{"I1", 150'000}}));
  REQUIRE(h.state.promises(0).paid() == 100'000);
  REQUIRE(h.state.promises(1).paid() == 50'000);
  h.Apply(ev.Reversal(kT0 + 2 * kDay, "P1"));
  CHECK(h.state.promises(0).paid() == 0);
  CHECK(h.state.promises(1).paid() == 0);
}
