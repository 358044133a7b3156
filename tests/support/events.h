// Test helpers: builds input envelopes for one customer with sequential event ids.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "creditwatch/v1/events.pb.h"

namespace cwtest {

namespace v1 = creditwatch::v1;

inline constexpr int64_t kDay = 86'400'000;
inline constexpr int64_t kT0 = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

class Events {
 public:
  explicit Events(std::string customer, std::string currency = "EUR")
      : customer_(std::move(customer)), currency_(std::move(currency)) {}

  v1::Money Money(int64_t minor) const {
    v1::Money m;
    m.set_minor(minor);
    m.set_currency(currency_);
    return m;
  }

  v1::Envelope Customer(int64_t at, int64_t limit, int terms = 30, std::string segment = "", std::string risk = "") {
    auto e = Base(at);
    auto* p = e.mutable_customer_upserted();
    p->set_name(customer_ + " Ltd");
    p->set_segment(std::move(segment));
    p->set_risk_class(std::move(risk));
    *p->mutable_credit_limit() = Money(limit);
    p->set_payment_terms_days(terms);
    p->set_credit_manager("cm-1");
    return e;
  }
  v1::Envelope Limit(int64_t at, int64_t limit) {
    auto e = Base(at);
    *e.mutable_credit_limit_changed()->mutable_credit_limit() = Money(limit);
    return e;
  }
  v1::Envelope Invoice(int64_t at, const std::string& id, int64_t amount, int64_t due,
                       const std::string& order_id = "") {
    auto e = Base(at);
    auto* p = e.mutable_invoice_issued();
    p->set_invoice_id(id);
    *p->mutable_amount() = Money(amount);
    p->set_issue_date_ms(at);
    p->set_due_date_ms(due);
    p->set_order_id(order_id);
    return e;
  }
  v1::Envelope Cancel(int64_t at, const std::string& id, int64_t credit = 0) {
    auto e = Base(at);
    auto* p = e.mutable_invoice_cancelled();
    p->set_invoice_id(id);
    if (credit > 0) *p->mutable_credit_note_amount() = Money(credit);
    return e;
  }
  v1::Envelope Payment(int64_t at, const std::string& id, int64_t amount,
                       const std::vector<std::pair<std::string, int64_t>>& allocations) {
    auto e = Base(at);
    auto* p = e.mutable_payment_received();
    p->set_payment_id(id);
    *p->mutable_amount() = Money(amount);
    for (const auto& [inv, a] : allocations) {
      auto* al = p->add_allocations();
      al->set_invoice_id(inv);
      *al->mutable_amount() = Money(a);
    }
    return e;
  }
  v1::Envelope Reversal(int64_t at, const std::string& payment_id) {
    auto e = Base(at);
    e.mutable_payment_reversed()->set_payment_id(payment_id);
    e.mutable_payment_reversed()->set_reason(v1::PaymentReversed::BOUNCED);
    return e;
  }
  v1::Envelope Order(int64_t at, const std::string& id, int64_t amount) {
    auto e = Base(at);
    e.mutable_order_placed()->set_order_id(id);
    *e.mutable_order_placed()->mutable_amount() = Money(amount);
    return e;
  }
  v1::Envelope OrderInvoiced(int64_t at, const std::string& id, const std::string& invoice) {
    auto e = Base(at);
    e.mutable_order_invoiced()->set_order_id(id);
    e.mutable_order_invoiced()->set_invoice_id(invoice);
    return e;
  }
  v1::Envelope OrderCancelled(int64_t at, const std::string& id) {
    auto e = Base(at);
    e.mutable_order_cancelled()->set_order_id(id);
    return e;
  }
  v1::Envelope Dispute(int64_t at, const std::string& id, const std::string& invoice, int64_t amount) {
    auto e = Base(at);
    auto* p = e.mutable_dispute_opened();
    p->set_dispute_id(id);
    p->set_invoice_id(invoice);
    *p->mutable_amount() = Money(amount);
    return e;
  }
  v1::Envelope DisputeResolved(int64_t at, const std::string& id, v1::DisputeResolved::Outcome outcome) {
    auto e = Base(at);
    e.mutable_dispute_resolved()->set_dispute_id(id);
    e.mutable_dispute_resolved()->set_outcome(outcome);
    return e;
  }
  v1::Envelope Promise(int64_t at, const std::string& id, int64_t amount, int64_t date) {
    auto e = Base(at);
    auto* p = e.mutable_promise_to_pay();
    p->set_promise_id(id);
    *p->mutable_amount() = Money(amount);
    p->set_promised_date_ms(date);
    return e;
  }
  v1::Envelope Hold(int64_t at, int64_t until = 0) {
    auto e = Base(at);
    e.mutable_manual_hold()->set_by("cm-1");
    e.mutable_manual_hold()->set_reason("fraud check");
    e.mutable_manual_hold()->set_until_ms(until);
    return e;
  }
  v1::Envelope Release(int64_t at, int64_t until = 0) {
    auto e = Base(at);
    e.mutable_manual_release()->set_by("cm-1");
    e.mutable_manual_release()->set_reason("guarantee received");
    e.mutable_manual_release()->set_until_ms(until);
    return e;
  }

  // One sample of every payload kind, in a coherent order.
  std::vector<v1::Envelope> OneOfEach(int64_t at) {
    return {Customer(at, 100'000),
            Limit(at, 200'000),
            Invoice(at, "I1", 50'000, at + 30 * kDay),
            Cancel(at, "I1", 1'000),
            Payment(at, "P1", 10'000, {{"I1", 10'000}}),
            Reversal(at, "P1"),
            Order(at, "O1", 5'000),
            OrderInvoiced(at, "O1", "I1"),
            OrderCancelled(at, "O1"),
            Dispute(at, "D1", "I1", 2'000),
            DisputeResolved(at, "D1", v1::DisputeResolved::CREDITED),
            Promise(at, "PR1", 3'000, at + 5 * kDay),
            Hold(at),
            Release(at)};
  }

 private:
  v1::Envelope Base(int64_t at) {
    v1::Envelope e;
    e.set_event_id(customer_ + "-e" + std::to_string(++seq_));
    e.set_customer_id(customer_);
    e.set_event_time_ms(at);
    e.set_source("test");
    return e;
  }

  std::string customer_;
  std::string currency_;
  int seq_ = 0;
};

}  // namespace cwtest
