#include "core/validation.h"

#include <fmt/format.h>

#include "core/money.h"

namespace creditwatch::core {
namespace {

Rejection Reject(v1::RejectReason reason, std::string detail) { return {reason, std::move(detail)}; }

Rejection CheckId(const std::string& id, const char* field) {
  if (id.empty()) return Reject(v1::MISSING_ENTITY_ID, fmt::format("{} is empty", field));
  return {};
}

Rejection CheckMoney(const v1::Money& m, const char* field, bool allow_zero = false) {
  if (!IsCurrencyCode(m.currency())) {
    return Reject(v1::INVALID_FIELD, fmt::format("{}.currency '{}' is not an ISO 4217 code", field, m.currency()));
  }
  if (m.minor() < 0 || (m.minor() == 0 && !allow_zero)) {
    return Reject(v1::NON_POSITIVE_AMOUNT, fmt::format("{} must be > 0, got {}", field, m.minor()));
  }
  return {};
}

// Dates after 9999-12-31T23:59:59.999Z are rejected: deadlines are dates plus days, and
// a "never" marker such as INT64_MAX would overflow them.
constexpr int64_t kMaxTimeMs = 253'402'300'799'999;

Rejection CheckTime(int64_t ms, const char* field) {
  if (ms > kMaxTimeMs) return Reject(v1::INVALID_FIELD, fmt::format("{} {} is after 9999-12-31", field, ms));
  return {};
}

#define CW_CHECK(expr)       \
  do {                       \
    Rejection r_ = (expr);   \
    if (!r_.ok()) return r_; \
  } while (false)

Rejection ValidatePayload(const v1::Envelope& e) {
  switch (e.payload_case()) {
    case v1::Envelope::kCustomerUpserted: {
      const auto& p = e.customer_upserted();
      if (p.has_credit_limit()) CW_CHECK(CheckMoney(p.credit_limit(), "credit_limit", /*allow_zero=*/true));
      if (p.payment_terms_days() < 0) return Reject(v1::INVALID_FIELD, "payment_terms_days must be >= 0");
      return {};
    }
    case v1::Envelope::kCreditLimitChanged:
      if (!e.credit_limit_changed().has_credit_limit()) return Reject(v1::INVALID_FIELD, "credit_limit is missing");
      return CheckMoney(e.credit_limit_changed().credit_limit(), "credit_limit", /*allow_zero=*/true);
    case v1::Envelope::kInvoiceIssued: {
      const auto& p = e.invoice_issued();
      CW_CHECK(CheckId(p.invoice_id(), "invoice_id"));
      CW_CHECK(CheckMoney(p.amount(), "amount"));
      if (p.issue_date_ms() <= 0) return Reject(v1::INVALID_FIELD, "issue_date_ms is missing");
      CW_CHECK(CheckTime(p.issue_date_ms(), "issue_date_ms"));
      CW_CHECK(CheckTime(p.due_date_ms(), "due_date_ms"));
      if (p.due_date_ms() != 0 && p.due_date_ms() < p.issue_date_ms()) {
        return Reject(v1::INVALID_FIELD, "due_date_ms is before issue_date_ms");
      }
      return {};
    }
    case v1::Envelope::kInvoiceCancelled: {
      const auto& p = e.invoice_cancelled();
      CW_CHECK(CheckId(p.invoice_id(), "invoice_id"));
      if (p.has_credit_note_amount()) {
        CW_CHECK(CheckMoney(p.credit_note_amount(), "credit_note_amount", /*allow_zero=*/true));
      }
      return {};
    }
    case v1::Envelope::kPaymentReceived: {
      const auto& p = e.payment_received();
      CW_CHECK(CheckId(p.payment_id(), "payment_id"));
      CW_CHECK(CheckMoney(p.amount(), "amount"));
      int64_t allocated = 0;
      for (const auto& a : p.allocations()) {
        CW_CHECK(CheckId(a.invoice_id(), "allocations.invoice_id"));
        CW_CHECK(CheckMoney(a.amount(), "allocations.amount"));
        if (a.amount().currency() != p.amount().currency()) {
          return Reject(v1::CURRENCY_MISMATCH, "allocations.amount currency differs from amount");
        }
        if (__builtin_add_overflow(allocated, a.amount().minor(), &allocated)) {
          return Reject(v1::INVALID_FIELD, "allocations overflow");
        }
      }
      if (allocated > p.amount().minor()) {
        return Reject(v1::INVALID_FIELD,
                      fmt::format("allocations sum {} exceeds amount {}", allocated, p.amount().minor()));
      }
      if (p.has_unapplied()) {
        CW_CHECK(CheckMoney(p.unapplied(), "unapplied", /*allow_zero=*/true));
        if (p.unapplied().minor() != p.amount().minor() - allocated) {
          return Reject(v1::INVALID_FIELD, "unapplied differs from amount - sum(allocations)");
        }
      }
      return {};
    }
    case v1::Envelope::kPaymentReversed: return CheckId(e.payment_reversed().payment_id(), "payment_id");
    case v1::Envelope::kOrderPlaced:
      CW_CHECK(CheckId(e.order_placed().order_id(), "order_id"));
      return CheckMoney(e.order_placed().amount(), "amount");
    case v1::Envelope::kOrderInvoiced: return CheckId(e.order_invoiced().order_id(), "order_id");
    case v1::Envelope::kOrderCancelled: return CheckId(e.order_cancelled().order_id(), "order_id");
    case v1::Envelope::kDisputeOpened: {
      const auto& p = e.dispute_opened();
      CW_CHECK(CheckId(p.dispute_id(), "dispute_id"));
      CW_CHECK(CheckId(p.invoice_id(), "invoice_id"));
      return CheckMoney(p.amount(), "amount");
    }
    case v1::Envelope::kDisputeResolved: return CheckId(e.dispute_resolved().dispute_id(), "dispute_id");
    case v1::Envelope::kPromiseToPay: {
      const auto& p = e.promise_to_pay();
      CW_CHECK(CheckId(p.promise_id(), "promise_id"));
      CW_CHECK(CheckMoney(p.amount(), "amount"));
      if (p.promised_date_ms() <= 0) return Reject(v1::INVALID_FIELD, "promised_date_ms is missing");
      return CheckTime(p.promised_date_ms(), "promised_date_ms");
    }
    case v1::Envelope::kManualHold:
      if (e.manual_hold().until_ms() < 0) return Reject(v1::INVALID_FIELD, "until_ms must be >= 0");
      return CheckTime(e.manual_hold().until_ms(), "until_ms");
    case v1::Envelope::kManualRelease:
      if (e.manual_release().until_ms() < 0) return Reject(v1::INVALID_FIELD, "until_ms must be >= 0");
      return CheckTime(e.manual_release().until_ms(), "until_ms");
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  return Reject(v1::UNKNOWN_PAYLOAD, "payload is not set or not known to this version");
}

#undef CW_CHECK

}  // namespace

Rejection ValidateEnvelope(const v1::Envelope& e, int64_t now_ms, int64_t max_future_skew_ms) {
  if (e.event_id().empty()) return Reject(v1::MISSING_EVENT_ID, "event_id is empty");
  if (e.customer_id().empty()) return Reject(v1::MISSING_CUSTOMER_ID, "customer_id is empty");
  if (e.event_time_ms() <= 0) return Reject(v1::INVALID_FIELD, "event_time_ms is missing");
  if (e.event_time_ms() > now_ms + max_future_skew_ms) {
    return Reject(v1::EVENT_TIME_IN_FUTURE,
                  fmt::format("event_time_ms {} is {} ms ahead of now", e.event_time_ms(), e.event_time_ms() - now_ms));
  }
  return ValidatePayload(e);
}

const char* PayloadName(const v1::Envelope& e) {
  switch (e.payload_case()) {
    case v1::Envelope::kCustomerUpserted: return "customer_upserted";
    case v1::Envelope::kCreditLimitChanged: return "credit_limit_changed";
    case v1::Envelope::kInvoiceIssued: return "invoice_issued";
    case v1::Envelope::kInvoiceCancelled: return "invoice_cancelled";
    case v1::Envelope::kPaymentReceived: return "payment_received";
    case v1::Envelope::kPaymentReversed: return "payment_reversed";
    case v1::Envelope::kOrderPlaced: return "order_placed";
    case v1::Envelope::kOrderInvoiced: return "order_invoiced";
    case v1::Envelope::kOrderCancelled: return "order_cancelled";
    case v1::Envelope::kDisputeOpened: return "dispute_opened";
    case v1::Envelope::kDisputeResolved: return "dispute_resolved";
    case v1::Envelope::kPromiseToPay: return "promise_to_pay";
    case v1::Envelope::kManualHold: return "manual_hold";
    case v1::Envelope::kManualRelease: return "manual_release";
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  return "none";
}

}  // namespace creditwatch::core
