// The customer ledger: folds one validated event into a customer's credit state
// (invoices, orders, cash, disputes, promises, payment behaviour). No rule evaluation
// and no outputs here; the CreditEngine does that. Pure functions, no shared state.
#pragma once

#include <cstdint>
#include <string>

#include "core/rules_config.h"
#include "core/validation.h"
#include "creditwatch/v1/events.pb.h"
#include "creditwatch/v1/state.pb.h"

namespace creditwatch::core {

enum class FoldOutcome { kApplied, kDuplicate, kRejected };

struct FoldResult {
  FoldOutcome outcome = FoldOutcome::kApplied;
  Rejection rejection;            // set when kRejected; state is then unchanged
  int unknown_allocations = 0;    // allocations to invoices not open here: kept as unapplied cash
  bool payment_reversed = false;  // a PaymentReversed was applied (engine raises PAYMENT_BOUNCED)
  int64_t reopened_amount = 0;    // what the reversal put back into exposure
};

// REQUIRES: ValidateEnvelope(e) passed. Checks currency agreement and references.
FoldResult FoldEvent(v1::CustomerState& s, const v1::Envelope& e, const RuleThresholds& t);

// Open amount of an invoice, net of payments: amount - paid.
inline int64_t OpenAmount(const v1::InvoiceState& inv) { return inv.amount() - inv.paid(); }
// What the customer can be chased for: open amount less open disputes.
inline int64_t CollectibleAmount(const v1::InvoiceState& inv) { return inv.amount() - inv.paid() - inv.disputed(); }

// exposure = open receivables + approved open orders - unapplied cash (maintained).
inline int64_t Exposure(const v1::CustomerState& s) {
  return s.open_receivables() + s.approved_orders() - s.unapplied_cash();
}
// The same, recomputed from the parts; equals Exposure() whenever the ledger is sound.
int64_t RecomputeExposure(const v1::CustomerState& s);

// Stable 64-bit FNV-1a hash: the ring of recent event ids and the payments' and
// invoices' indexes keep it in the state, so it must not change.
uint64_t StableHash(std::string_view s);

// The packed index of a state's open invoices (CustomerState.invoice_index), read
// entry by entry in the order of `invoices`. Valid until the state's invoices change.
class InvoiceIndex {
 public:
  static constexpr int kStride = 4;  // id hash, due time, collectible, alerted level

  explicit InvoiceIndex(const v1::CustomerState& s)
      : d_(s.invoice_index().data()), n_(s.invoice_index_size() / kStride) {}

  int size() const { return n_; }
  uint64_t id_hash(int i) const { return static_cast<uint64_t>(d_[i * kStride]); }
  int64_t due_ms(int i) const { return d_[i * kStride + 1]; }
  int64_t collectible(int i) const { return d_[i * kStride + 2]; }
  int32_t alerted_level(int i) const { return static_cast<int32_t>(d_[i * kStride + 3]); }

 private:
  const int64_t* d_;
  int n_;
};

// Records the dunning level of the active INVOICE_OVERDUE alert of invoice `index`, in
// the invoice and in the index.
void SetAlertedLevel(v1::CustomerState& s, int index, int32_t level);

// Brings a state written by an earlier version to the current layout (payment
// observations into their packed arrays; the payments' and invoices' packed indexes
// built from the messages when missing or out of step). Idempotent and cheap when there is nothing to do:
// CreditEngine runs it at the start of every step.
void UpgradeState(v1::CustomerState& s);

// Drops observations, bounces, broken promises and payment records older than their
// windows. Deterministic in now_ms.
void PruneWindows(v1::CustomerState& s, const RuleThresholds& t, int64_t now_ms);

// Lookups by id (linear: open items per customer are few). -1 or nullptr when absent.
int IndexOfInvoice(const v1::CustomerState& s, std::string_view id);
v1::OrderState* FindOrder(v1::CustomerState& s, std::string_view id);

}  // namespace creditwatch::core
