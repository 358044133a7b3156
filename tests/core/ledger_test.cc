#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/credit_engine.h"
#include "core/ledger.h"
#include "support/harness.h"

using namespace cwtest;
using creditwatch::core::Exposure;
using creditwatch::core::InvoiceIndex;
using creditwatch::core::RecomputeExposure;
using creditwatch::core::StableHash;
using creditwatch::core::StepKind;

namespace {
// A customer with a 100,000.00 limit owing invoice I1 of 1,000.00, due on day 30.
void CustomerOwing(Harness& h, Events& ev) {
  h.Apply(ev.Customer(kT0, 10'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 100'000, kT0 + 30 * kDay));
}
}  // namespace

TEST_CASE("exposure is receivables plus approved orders less unapplied cash", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 300'000, kT0 + 30 * kDay));
  h.Apply(ev.Order(kT0, "O1", 200'000));
  CHECK(Exposure(h.state) == 500'000);
  h.Apply(ev.Payment(kT0 + kDay, "P1", 350'000, {{"I1", 300'000}}));  // 50,000 unapplied
  CHECK(h.state.invoices_size() == 0);
  CHECK(h.state.unapplied_cash() == 50'000);
  CHECK(Exposure(h.state) == 150'000);
  CHECK(RecomputeExposure(h.state) == Exposure(h.state));
}

TEST_CASE("invoicing an approved order moves it from orders to receivables", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Order(kT0, "O1", 200'000));
  CHECK(h.state.approved_orders() == 200'000);
  h.Apply(ev.Invoice(kT0 + kDay, "I1", 200'000, kT0 + 31 * kDay, "O1"));
  CHECK(h.state.approved_orders() == 0);
  CHECK(h.state.open_receivables() == 200'000);
  CHECK(h.state.orders_size() == 0);
}

TEST_CASE("credit notes, disputes and cancellations adjust the open amount", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 100'000, kT0 + 30 * kDay));
  h.Apply(ev.Cancel(kT0, "I1", 10'000));
  CHECK(h.state.open_receivables() == 90'000);
  h.Apply(ev.Dispute(kT0, "D1", "I1", 40'000));
  CHECK(h.state.invoices(0).disputed() == 40'000);
  h.Apply(ev.DisputeResolved(kT0, "D1", v1::DisputeResolved::CREDITED));
  CHECK(h.state.open_receivables() == 50'000);
  CHECK(h.state.invoices(0).disputed() == 0);
  h.Apply(ev.Cancel(kT0, "I1"));
  CHECK(h.state.invoices_size() == 0);
  CHECK(Exposure(h.state) == 0);
}

TEST_CASE("a payment to an unknown invoice is kept as unapplied cash with a warning", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  auto r = h.Apply(ev.Payment(kT0, "P1", 5'000, {{"NOPE", 5'000}}));
  CHECK(r.kind == StepKind::kApplied);
  CHECK(r.unknown_allocations == 1);
  CHECK(h.state.unapplied_cash() == 5'000);
}

TEST_CASE("a reversal reopens a settled invoice with its original due date", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  h.Apply(ev.Invoice(kT0, "I1", 100'000, kT0 + 30 * kDay));
  h.Apply(ev.Payment(kT0 + 10 * kDay, "P1", 100'000, {{"I1", 100'000}}));
  REQUIRE(h.state.invoices_size() == 0);
  h.Apply(ev.Reversal(kT0 + 12 * kDay, "P1"));
  REQUIRE(h.state.invoices_size() == 1);
  CHECK(h.state.invoices(0).due_ms() == kT0 + 30 * kDay);
  CHECK(Exposure(h.state) == 100'000);
  // The same reversal again changes nothing.
  auto again = ev.Reversal(kT0 + 13 * kDay, "P1");
  CHECK(h.Apply(again).kind == StepKind::kDuplicate);
  CHECK(Exposure(h.state) == 100'000);
}

TEST_CASE("validation rejects bad events with reason codes and leaves state unchanged", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  const std::string before = h.state.SerializeAsString();

  auto expect = [&](v1::Envelope e, v1::RejectReason reason) {
    auto r = h.Apply(e, kT0);
    CHECK(r.kind == StepKind::kRejected);
    CHECK(r.rejection.reason == reason);
    CHECK_FALSE(r.rejection.detail.empty());
    CHECK(h.state.SerializeAsString() == before);
    CHECK(h.out.size() == 0);
  };
  auto e = ev.Invoice(kT0, "I1", 100, kT0 + kDay);
  e.clear_event_id();
  expect(e, v1::MISSING_EVENT_ID);
  e = ev.Invoice(kT0, "I1", 100, kT0 + kDay);
  e.clear_customer_id();
  expect(e, v1::MISSING_CUSTOMER_ID);
  expect(ev.Invoice(kT0, "", 100, kT0 + kDay), v1::MISSING_ENTITY_ID);
  expect(ev.Invoice(kT0, "I1", 0, kT0 + kDay), v1::NON_POSITIVE_AMOUNT);
  expect(ev.Invoice(kT0, "I1", -5, kT0 + kDay), v1::NON_POSITIVE_AMOUNT);
  e = Events("C-1", "USD").Invoice(kT0, "I9", 100, kT0 + kDay);
  e.set_event_id("usd-1");
  expect(e, v1::CURRENCY_MISMATCH);
  expect(ev.Invoice(kT0 + kDay, "I1", 100, kT0 + 2 * kDay), v1::EVENT_TIME_IN_FUTURE);
  e = ev.Invoice(kT0, "I1", 100, kT0 + kDay);
  e.clear_payload();
  expect(e, v1::UNKNOWN_PAYLOAD);
  expect(ev.Reversal(kT0, "NEVER"), v1::UNKNOWN_REFERENCE);
  expect(ev.Payment(kT0, "P1", 100, {{"I1", 200}}), v1::INVALID_FIELD);
  expect(ev.Invoice(kT0, "I1", 100, kT0 - kDay), v1::INVALID_FIELD);
  // "Never" markers would overflow the deadlines computed from them.
  expect(ev.Invoice(kT0, "I1", 100, INT64_MAX), v1::INVALID_FIELD);
  expect(ev.Promise(kT0, "PR1", 100, INT64_MAX), v1::INVALID_FIELD);
  expect(ev.Hold(kT0, INT64_MAX), v1::INVALID_FIELD);
  expect(ev.Release(kT0, INT64_MAX), v1::INVALID_FIELD);
  e = ev.Invoice(kT0, "I1", 100, kT0 + kDay);
  e.set_customer_id("C-2");
  expect(e, v1::KEY_MISMATCH);
}

TEST_CASE("the same event id twice changes nothing", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  h.Apply(ev.Customer(kT0, 1'000'000));
  auto limit = ev.Limit(kT0, 50);
  CHECK(h.Apply(limit).kind == StepKind::kApplied);
  const std::string once = h.state.SerializeAsString();
  CHECK(h.Apply(limit).kind == StepKind::kDuplicate);
  CHECK(h.state.SerializeAsString() == once);
  CHECK(h.out.size() == 0);
}

TEST_CASE("the state tells which events may re-deliver an id it no longer holds", "[unit][core][ledger]") {
  using creditwatch::core::MayRedeliverForgotten;
  Harness h;
  Events ev("C-1");
  const auto first = ev.Customer(kT0, 1'000'000);
  h.Apply(first);
  // 40 more events, one a second: the first 9 have left the ring of the latest 32 ids.
  std::vector<creditwatch::v1::Envelope> applied{first};
  for (int i = 1; i <= 40; ++i) {
    applied.push_back(ev.Order(kT0 + i * 1000, "O-" + std::to_string(i), 10));
    REQUIRE(h.Apply(applied.back()).kind == StepKind::kApplied);
  }
  // The ring came round after the 32nd event (at kT0 + 31 s): no forgotten id is later.
  CHECK(h.state.dedup_floor_ms() == kT0 + 31'000);
  CHECK(MayRedeliverForgotten(h.state, applied[0]));  // forgotten, not later than the floor
  CHECK(MayRedeliverForgotten(h.state, applied[8]));
  CHECK_FALSE(MayRedeliverForgotten(h.state, applied[20]));  // in the ring: Apply tells
  CHECK(h.Apply(applied[20]).kind == StepKind::kDuplicate);
  // Later than the floor and not in the ring: never applied, though older than the latest.
  const auto late = ev.Order(kT0 + 35'500, "O-LATE", 10);
  CHECK_FALSE(MayRedeliverForgotten(h.state, late));
  CHECK_FALSE(MayRedeliverForgotten(h.state, ev.Order(kT0 + 60'000, "O-NEW", 10)));
  // A state written before the floor existed: anything not later than the latest may be.
  h.state.clear_dedup_floor_ms();
  CHECK(MayRedeliverForgotten(h.state, late));
  CHECK_FALSE(MayRedeliverForgotten(h.state, ev.Order(kT0 + 60'000, "O-NEW2", 10)));
  // A new customer has forgotten nothing.
  Harness fresh;
  Events other("C-2");
  fresh.Apply(other.Customer(kT0 + 5000, 1'000'000));
  CHECK(fresh.state.has_dedup_floor_ms());
  CHECK_FALSE(MayRedeliverForgotten(fresh.state, other.Limit(kT0, 50)));
}

TEST_CASE("the latest applied event ids come from the ring oldest first, before and after it comes round",
          "[unit][core][ledger]") {
  using creditwatch::core::AppendLatestEventIds;
  using creditwatch::core::StableHash;
  Harness h;
  Events ev("C-1");
  std::vector<uint64_t> ids;
  AppendLatestEventIds(h.state, 5, ids);
  CHECK(ids.empty());  // nothing applied
  std::vector<uint64_t> applied;
  auto apply = [&](const creditwatch::v1::Envelope& e) {
    REQUIRE(h.Apply(e).kind == StepKind::kApplied);
    applied.push_back(StableHash(e.event_id()));
  };
  apply(ev.Customer(kT0, 1'000'000));
  for (int i = 1; i <= 9; ++i) apply(ev.Order(kT0 + i * 1000, "O-" + std::to_string(i), 10));
  // A rejected event is not among them.
  REQUIRE(h.Apply(ev.Order(kT0 + 9500, "O-BAD", -5)).kind == StepKind::kRejected);
  AppendLatestEventIds(h.state, 3, ids);
  CHECK(ids == std::vector<uint64_t>(applied.end() - 3, applied.end()));
  ids.clear();
  AppendLatestEventIds(h.state, 50, ids);  // more than were applied: all of them
  CHECK(ids == applied);
  // 33 more: the ring came round, and holds the latest 32.
  for (int i = 10; i <= 42; ++i) apply(ev.Order(kT0 + i * 1000, "O-" + std::to_string(i), 10));
  for (int n : {1, 7, 31, 32, 40}) {
    ids.clear();
    AppendLatestEventIds(h.state, n, ids);
    const auto from = applied.end() - std::min(n, creditwatch::core::kRecentEventIds);
    CHECK(ids == std::vector<uint64_t>(from, applied.end()));
  }
}

TEST_CASE("an invoice's disputed amount follows its open disputes through payments, reversals and resolutions",
          "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  CustomerOwing(h, ev);

  SECTION("a reversal disputes again what the payment had capped") {
    h.Apply(ev.Dispute(kT0, "D1", "I1", 100'000));
    h.Apply(ev.Payment(kT0 + kDay, "P1", 60'000, {{"I1", 60'000}}));
    CHECK(h.state.invoices(0).disputed() == 40'000);  // no more than is open
    h.Apply(ev.Reversal(kT0 + 2 * kDay, "P1"));
    REQUIRE(h.state.invoices_size() == 1);
    CHECK(h.state.invoices(0).paid() == 0);
    CHECK(h.state.invoices(0).disputed() == 100'000);
    CHECK(creditwatch::core::CollectibleAmount(h.state.invoices(0)) == 0);
  }
  SECTION("resolving one of two disputes leaves what the other covers") {
    h.Apply(ev.Dispute(kT0, "D1", "I1", 50'000));
    h.Apply(ev.Dispute(kT0, "D2", "I1", 50'000));
    h.Apply(ev.Payment(kT0 + kDay, "P1", 50'000, {{"I1", 50'000}}));
    CHECK(h.state.invoices(0).disputed() == 50'000);
    h.Apply(ev.DisputeResolved(kT0 + 2 * kDay, "D1", v1::DisputeResolved::CUSTOMER_PAYS));
    CHECK(h.state.invoices(0).disputed() == 50'000);  // D2 still disputes all that is open
    CHECK(creditwatch::core::CollectibleAmount(h.state.invoices(0)) == 0);
  }
  CHECK(RecomputeExposure(h.state) == Exposure(h.state));
}

TEST_CASE("a credited dispute the customer had paid meanwhile becomes the customer's credit", "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  CustomerOwing(h, ev);
  h.Apply(ev.Dispute(kT0, "D1", "I1", 50'000));
  h.Apply(ev.Payment(kT0 + kDay, "P1", 80'000, {{"I1", 80'000}}));
  h.Apply(ev.DisputeResolved(kT0 + 2 * kDay, "D1", v1::DisputeResolved::CREDITED));
  // The invoice is now 50,000 and 80,000 was paid: 30,000 is the customer's.
  CHECK(h.state.invoices_size() == 0);
  CHECK(h.state.unapplied_cash() == 30'000);
  CHECK(Exposure(h.state) == -30'000);
  CHECK(RecomputeExposure(h.state) == Exposure(h.state));
  // The same as a 50,000 credit note at that point.
  Harness note;
  note.Apply(ev.Customer(kT0, 10'000'000));
  note.Apply(ev.Invoice(kT0, "I1", 100'000, kT0 + 30 * kDay));
  note.Apply(ev.Payment(kT0 + kDay, "P1", 80'000, {{"I1", 80'000}}));
  note.Apply(ev.Cancel(kT0 + 2 * kDay, "I1", 50'000));
  CHECK(Exposure(note.state) == Exposure(h.state));
}

TEST_CASE(
    "a dispute credited after its invoice was paid in full becomes the customer's credit, after a cancel it is gone",
    "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  CustomerOwing(h, ev);
  h.Apply(ev.Dispute(kT0, "D1", "I1", 30'000));
  h.Apply(ev.Payment(kT0 + kDay, "P1", 100'000, {{"I1", 100'000}}));
  CHECK(h.state.invoices_size() == 0);
  CHECK(h.Apply(ev.DisputeResolved(kT0 + 2 * kDay, "D1", v1::DisputeResolved::CREDITED)).kind == StepKind::kApplied);
  CHECK(h.state.unapplied_cash() == 30'000);
  CHECK(h.state.disputes_size() == 0);
  CHECK(RecomputeExposure(h.state) == Exposure(h.state));

  h.Apply(ev.Invoice(kT0, "I2", 100'000, kT0 + 30 * kDay));
  h.Apply(ev.Dispute(kT0, "D2", "I2", 30'000));
  h.Apply(ev.Cancel(kT0 + kDay, "I2"));  // nothing is owed: the dispute is moot
  CHECK(h.state.disputes_size() == 0);
  CHECK(h.Apply(ev.DisputeResolved(kT0 + 2 * kDay, "D2", v1::DisputeResolved::CREDITED)).kind == StepKind::kRejected);
  CHECK(h.state.unapplied_cash() == 30'000);
}

TEST_CASE("a state without the payments' packed index gets it on its next step, and payments still match",
          "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  CustomerOwing(h, ev);
  h.Apply(ev.Payment(kT0 + kDay, "P1", 40'000, {{"I1", 40'000}}));
  h.Apply(ev.Payment(kT0 + 2 * kDay, "P2", 10'000, {{"I1", 10'000}}));
  h.Apply(ev.Reversal(kT0 + 3 * kDay, "P1"));
  REQUIRE(h.state.payment_unrepaid_size() == 2);
  CHECK(h.state.payment_unrepaid(0) == 40'000);
  CHECK(h.state.payment_unrepaid(1) == 0);
  // As an earlier version wrote it: the payments alone.
  h.state.clear_payment_id_hashes();
  h.state.clear_payment_received_ms();
  h.state.clear_payment_unrepaid();
  // A re-sent P2 under a new event id is still the same payment.
  CHECK(h.Apply(ev.Payment(kT0 + 4 * kDay, "P2", 10'000, {{"I1", 10'000}})).kind == StepKind::kDuplicate);
  REQUIRE(h.state.payment_id_hashes_size() == 2);
  CHECK(h.state.payment_received_ms(0) == kT0 + kDay);
  CHECK(h.state.payment_unrepaid(0) == 40'000);
  // New cash makes good the reversed P1 first: 25,000 of its 40,000.
  h.Apply(ev.Payment(kT0 + 5 * kDay, "P3", 25'000, {{"I1", 25'000}}));
  CHECK(h.state.payments(0).repaid() == 25'000);
  CHECK(h.state.payment_unrepaid(0) == 15'000);
  CHECK(h.state.payment_unrepaid(2) == 0);
  CHECK(h.Apply(ev.Reversal(kT0 + 6 * kDay, "P1")).kind == StepKind::kDuplicate);
  CHECK(h.Apply(ev.Reversal(kT0 + 6 * kDay, "P2")).kind == StepKind::kApplied);
  CHECK(h.state.payment_unrepaid(1) == 10'000);
}

TEST_CASE("a state without the invoices' packed index gets it on its next step, and invoices still match",
          "[unit][core][ledger]") {
  Harness h;
  Events ev("C-1");
  CustomerOwing(h, ev);
  h.Apply(ev.Invoice(kT0, "I2", 50'000, kT0 + 30 * kDay));
  h.Apply(ev.Dispute(kT0 + kDay, "D1", "I2", 20'000));
  REQUIRE(h.state.invoice_index_size() == 2 * InvoiceIndex::kStride);
  CHECK(InvoiceIndex(h.state).collectible(1) == 30'000);
  // As an earlier version wrote it: the invoices alone.
  h.state.clear_invoice_index();
  // A re-sent I2 under a new event id is still the same invoice.
  CHECK(h.Apply(ev.Invoice(kT0 + 2 * kDay, "I2", 50'000, kT0 + 30 * kDay)).kind == StepKind::kDuplicate);
  REQUIRE(h.state.invoice_index_size() == 2 * InvoiceIndex::kStride);
  const InvoiceIndex index(h.state);
  CHECK(index.id_hash(1) == StableHash("I2"));
  CHECK(index.due_ms(1) == kT0 + 30 * kDay);
  CHECK(index.collectible(1) == 30'000);
  // Payments find their invoices through it: I1 settles and leaves, I2 moves up.
  h.Apply(ev.Payment(kT0 + 3 * kDay, "P1", 100'000, {{"I1", 100'000}}));
  REQUIRE(h.state.invoices_size() == 1);
  REQUIRE(h.state.invoice_index_size() == InvoiceIndex::kStride);
  CHECK(InvoiceIndex(h.state).id_hash(0) == StableHash("I2"));
  // Past due and unpaid, I2 is overdue on its collectible part, read from the index.
  h.Tick(kT0 + 31 * kDay);
  int overdue = 0;
  for (const v1::Alert& a : h.out.alerts) {
    if (a.rule() != v1::INVOICE_OVERDUE) continue;
    ++overdue;
    CHECK(a.subject() == "I2");
    CHECK(a.summary().find("invoice I2 300.00 EUR unpaid") != std::string::npos);
  }
  CHECK(overdue == 1);
  CHECK(InvoiceIndex(h.state).alerted_level(0) == 1);
  CHECK(h.state.invoices(0).alerted_level() == 1);
}
