#include "workload/workload_generator.h"

#include <fmt/format.h>

#include <algorithm>

namespace creditwatch::workload {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kHour = 3'600'000;

}  // namespace

const char* ProfileName(Profile p) {
  switch (p) {
    case Profile::kGood: return "good";
    case Profile::kSlow: return "slow";
    case Profile::kDeteriorating: return "deteriorating";
    case Profile::kBouncer: return "bouncer";
    case Profile::kOverLimit: return "over_limit";
    case Profile::kDisputer: return "disputer";
    case Profile::kPromiseBreaker: return "promise_breaker";
    case Profile::kCount: break;
  }
  return "unknown";
}

WorkloadGenerator::WorkloadGenerator(WorkloadOptions options) : options_(std::move(options)), rng_(options_.seed) {
  int total_weight = 0;
  for (int w : options_.mix) total_weight += std::max(w, 0);
  if (total_weight <= 0) total_weight = 1;
  customers_.reserve(static_cast<size_t>(options_.customers));
  for (int i = 0; i < options_.customers; ++i) {
    Customer c;
    c.id = fmt::format("{}-{:06d}", options_.id_prefix, i);
    // Deterministic spread of profiles by weight.
    int pick = static_cast<int>(Uniform(0, total_weight - 1));
    int p = 0;
    while (p < kProfileCount - 1 && pick >= std::max(options_.mix[static_cast<size_t>(p)], 0)) {
      pick -= std::max(options_.mix[static_cast<size_t>(p)], 0);
      ++p;
    }
    c.profile = static_cast<Profile>(p);
    const int64_t segment_roll = Uniform(0, 99);
    c.limit = segment_roll < 60   ? Uniform(20'000, 100'000) * 100
              : segment_roll < 90 ? Uniform(100'000, 500'000) * 100
                                  : Uniform(500'000, 2'000'000) * 100;
    if (c.profile == Profile::kOverLimit) c.limit = Uniform(10'000, 40'000) * 100;
    static constexpr int kTerms[] = {30, 30, 45, 60};
    c.terms_days = kTerms[Uniform(0, 3)];
    customers_.push_back(std::move(c));
    Schedule(options_.start_ms + Uniform(0, kHour), i, Action::kUpsert);
    if (Uniform(0, 999) < options_.manual_hold_per_mille) {
      Schedule(options_.start_ms + Uniform(1, 20) * kDay, i, Action::kHold);
    }
  }
}

uint64_t WorkloadGenerator::Rand() {
  // splitmix64: tiny, fast and the same on every platform.
  uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

int64_t WorkloadGenerator::Uniform(int64_t lo, int64_t hi) {
  const auto span = static_cast<uint64_t>(hi - lo) + 1;
  return lo + static_cast<int64_t>(Rand() % span);
}

void WorkloadGenerator::Schedule(int64_t at, int customer, Action a, int64_t amount, int ref) {
  queue_.push(Task{at, seq_++, customer, a, amount, ref});
}

void WorkloadGenerator::SetMoney(v1::Money* m, int64_t minor) const {
  m->set_minor(minor);
  m->set_currency(options_.currency);
}

int WorkloadGenerator::PayDelayDays(const Customer& c) {
  switch (c.profile) {
    case Profile::kGood: return static_cast<int>(Uniform(-3, 0));
    case Profile::kSlow: return static_cast<int>(Uniform(5, 20));
    case Profile::kDeteriorating: return std::min(c.payments * 4, 45) + static_cast<int>(Uniform(0, 4));
    case Profile::kBouncer: return static_cast<int>(Uniform(0, 3));
    case Profile::kOverLimit: return static_cast<int>(Uniform(0, 10));
    case Profile::kDisputer: return static_cast<int>(Uniform(0, 5));
    case Profile::kPromiseBreaker: return static_cast<int>(Uniform(20, 45));
    case Profile::kCount: break;
  }
  return 0;
}

void WorkloadGenerator::Next(v1::Envelope* out) {
  const Task t = queue_.top();
  queue_.pop();
  out->Clear();
  Fill(t, out);
}

void WorkloadGenerator::Fill(const Task& t, v1::Envelope* e) {
  Customer& c = customers_[static_cast<size_t>(t.customer)];
  e->set_event_id(fmt::format("{}-{}", c.id, ++c.events));
  e->set_customer_id(c.id);
  e->set_event_time_ms(t.at_ms);
  const auto interval = int64_t{std::max(options_.order_interval_days, 1)};

  switch (t.action) {
    case Action::kUpsert: {
      e->set_source("crm");
      auto* p = e->mutable_customer_upserted();
      p->set_name(fmt::format("Customer {} ({})", c.id, ProfileName(c.profile)));
      p->set_segment(c.limit >= 50'000'000 ? "enterprise" : c.limit >= 10'000'000 ? "midmarket" : "smb");
      switch (c.profile) {
        case Profile::kGood:
        case Profile::kDisputer: p->set_risk_class("low"); break;
        case Profile::kSlow:
        case Profile::kDeteriorating: p->set_risk_class("medium"); break;
        default: p->set_risk_class("high"); break;
      }
      SetMoney(p->mutable_credit_limit(), c.limit);
      p->set_payment_terms_days(c.terms_days);
      p->set_credit_manager(fmt::format("cm-{}", t.customer % 7));
      Schedule(t.at_ms + Uniform(kHour, interval * kDay), t.customer, Action::kOrder);
      Schedule(t.at_ms + Uniform(1, 2 * std::max(options_.limit_review_days, 1)) * kDay, t.customer,
               Action::kLimitReview);
      return;
    }
    case Action::kOrder: {
      e->set_source("orders");
      const int n = ++c.orders;
      const int64_t amount =
          c.profile == Profile::kOverLimit ? c.limit * Uniform(30, 70) / 100 : c.limit * Uniform(3, 12) / 100;
      auto* p = e->mutable_order_placed();
      p->set_order_id(fmt::format("SO-{}-{}", c.id, n));
      SetMoney(p->mutable_amount(), std::max<int64_t>(amount, 100));
      if (c.profile == Profile::kOverLimit && Uniform(0, 99) < 30) {
        Schedule(t.at_ms + Uniform(kHour, 2 * kDay), t.customer, Action::kCancelOrder, 0, n);
      } else {
        Schedule(t.at_ms + Uniform(kDay, 3 * kDay), t.customer, Action::kInvoice, std::max<int64_t>(amount, 100), n);
      }
      Schedule(t.at_ms + Uniform(interval * kDay / 2, interval * kDay * 3 / 2), t.customer, Action::kOrder);
      return;
    }
    case Action::kInvoice: {
      e->set_source("erp");
      if (t.ref > 0 && Uniform(0, 1) == 0) {
        // Half the ERPs report the shipment first; the invoice follows without the order.
        auto* p = e->mutable_order_invoiced();
        p->set_order_id(fmt::format("SO-{}-{}", c.id, t.ref));
        p->set_invoice_id(fmt::format("INV-{}-{}", c.id, c.invoices + 1));
        Schedule(t.at_ms, t.customer, Action::kInvoice, t.amount, 0);
        return;
      }
      const int n = ++c.invoices;
      auto* p = e->mutable_invoice_issued();
      p->set_invoice_id(fmt::format("INV-{}-{}", c.id, n));
      SetMoney(p->mutable_amount(), t.amount);
      p->set_issue_date_ms(t.at_ms);
      const int64_t due = t.at_ms + int64_t{c.terms_days} * kDay;
      p->set_due_date_ms(due);
      if (t.ref > 0) p->set_order_id(fmt::format("SO-{}-{}", c.id, t.ref));
      if (Uniform(0, 99) < 3) {
        Schedule(t.at_ms + Uniform(2, 10) * kDay, t.customer, Action::kCreditNote, t.amount * Uniform(5, 20) / 100, n);
      }
      if (c.profile == Profile::kDisputer && Uniform(0, 99) < 40) {
        const int64_t disputed = t.amount * Uniform(20, 50) / 100;
        Schedule(t.at_ms + Uniform(5, 15) * kDay, t.customer, Action::kDispute, disputed, n);
        Schedule(due + Uniform(0, 5) * kDay, t.customer, Action::kPay, t.amount - disputed, n);
      } else if (c.profile == Profile::kPromiseBreaker) {
        const int64_t promised = due + 12 * kDay;
        Schedule(due + 5 * kDay, t.customer, Action::kPromise, t.amount, n);
        const bool breaks = Uniform(0, 99) < 60;
        Schedule(breaks ? due + Uniform(20, 45) * kDay : promised - Uniform(0, 2) * kDay, t.customer, Action::kPay,
                 t.amount, n);
      } else {
        Schedule(due + int64_t{PayDelayDays(c)} * kDay + Uniform(0, kHour), t.customer, Action::kPay, t.amount, n);
      }
      return;
    }
    case Action::kPay:
    case Action::kRepay: {
      e->set_source("bank");
      const int n = ++c.payments;
      auto* p = e->mutable_payment_received();
      p->set_payment_id(fmt::format("PAY-{}-{}", c.id, n));
      SetMoney(p->mutable_amount(), t.amount);
      auto* a = p->add_allocations();
      a->set_invoice_id(fmt::format("INV-{}-{}", c.id, t.ref));
      SetMoney(a->mutable_amount(), t.amount);
      if (t.action == Action::kPay && c.profile == Profile::kBouncer && Uniform(0, 99) < 35) {
        Schedule(t.at_ms + Uniform(2, 4) * kDay, t.customer, Action::kReverse, t.amount, n);
        Schedule(t.at_ms + Uniform(6, 10) * kDay, t.customer, Action::kRepay, t.amount, t.ref);
      }
      return;
    }
    case Action::kReverse: {
      e->set_source("bank");
      auto* p = e->mutable_payment_reversed();
      p->set_payment_id(fmt::format("PAY-{}-{}", c.id, t.ref));
      p->set_reason(v1::PaymentReversed::BOUNCED);
      p->set_detail("returned by the payer's bank");
      return;
    }
    case Action::kDispute: {
      e->set_source("collections");
      const int n = ++c.disputes;
      auto* p = e->mutable_dispute_opened();
      p->set_dispute_id(fmt::format("DSP-{}-{}", c.id, n));
      p->set_invoice_id(fmt::format("INV-{}-{}", c.id, t.ref));
      SetMoney(p->mutable_amount(), t.amount);
      p->set_reason("quantity short");
      Schedule(t.at_ms + Uniform(15, 30) * kDay, t.customer, Action::kResolveDispute, 0, n);
      return;
    }
    case Action::kResolveDispute: {
      e->set_source("collections");
      auto* p = e->mutable_dispute_resolved();
      p->set_dispute_id(fmt::format("DSP-{}-{}", c.id, t.ref));
      p->set_outcome(v1::DisputeResolved::CREDITED);
      return;
    }
    case Action::kPromise: {
      e->set_source("collections");
      const int n = ++c.promises;
      auto* p = e->mutable_promise_to_pay();
      p->set_promise_id(fmt::format("PTP-{}-{}", c.id, n));
      SetMoney(p->mutable_amount(), t.amount);
      p->set_promised_date_ms(t.at_ms + 7 * kDay);
      p->set_collector(fmt::format("collector-{}", t.customer % 5));
      return;
    }
    case Action::kHold: {
      e->set_source("credit-desk");
      auto* p = e->mutable_manual_hold();
      p->set_by(fmt::format("cm-{}", t.customer % 7));
      p->set_reason("pending review of financial statements");
      Schedule(t.at_ms + Uniform(2, 5) * kDay, t.customer, Action::kRelease);
      return;
    }
    case Action::kLimitReview: {
      e->set_source("credit-desk");
      // Over-limit orderers get raises (which release held orders); others drift.
      const int64_t pct = c.profile == Profile::kOverLimit ? Uniform(110, 140) : Uniform(85, 125);
      c.limit = std::max<int64_t>(c.limit * pct / 100 / 100 * 100, 100'000);
      auto* p = e->mutable_credit_limit_changed();
      SetMoney(p->mutable_credit_limit(), c.limit);
      p->set_changed_by(fmt::format("cm-{}", t.customer % 7));
      p->set_reason("periodic review");
      Schedule(t.at_ms + Uniform(options_.limit_review_days / 2 + 1, options_.limit_review_days * 3 / 2 + 1) * kDay,
               t.customer, Action::kLimitReview);
      return;
    }
    case Action::kCreditNote: {
      e->set_source("erp");
      auto* p = e->mutable_invoice_cancelled();
      p->set_invoice_id(fmt::format("INV-{}-{}", c.id, t.ref));
      SetMoney(p->mutable_credit_note_amount(), std::max<int64_t>(t.amount, 1));
      p->set_reason("price correction");
      return;
    }
    case Action::kCancelOrder: {
      e->set_source("orders");
      auto* p = e->mutable_order_cancelled();
      p->set_order_id(fmt::format("SO-{}-{}", c.id, t.ref));
      p->set_reason("customer withdrew the order");
      return;
    }
    case Action::kRelease: {
      e->set_source("credit-desk");
      auto* p = e->mutable_manual_release();
      p->set_by(fmt::format("cm-{}", t.customer % 7));
      p->set_reason("review passed");
      return;
    }
  }
}

}  // namespace creditwatch::workload
