#include "core/ledger.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/repeated.h"

namespace creditwatch::core {
namespace {

template <typename Repeated, typename Pred>
auto* FindIf(Repeated& items, Pred pred) {
  for (auto& item : items) {
    if (pred(item)) return &item;
  }
  return static_cast<typename Repeated::value_type*>(nullptr);
}

// For repeated scalars; repeated messages use RemoveIf.
template <typename Repeated, typename Pred>
void EraseIf(Repeated& items, Pred pred) {
  items.erase(std::remove_if(items.begin(), items.end(), pred), items.end());
}

FoldResult Duplicate() { return {FoldOutcome::kDuplicate, {}, 0, false, 0}; }
FoldResult Reject(v1::RejectReason reason, std::string detail) {
  return {FoldOutcome::kRejected, {reason, std::move(detail)}, 0, false, 0};
}

// The currency of the payload's money, or nullptr when it carries none.
const std::string* PayloadCurrency(const v1::Envelope& e) {
  switch (e.payload_case()) {
    case v1::Envelope::kCustomerUpserted:
      return e.customer_upserted().has_credit_limit() ? &e.customer_upserted().credit_limit().currency() : nullptr;
    case v1::Envelope::kCreditLimitChanged: return &e.credit_limit_changed().credit_limit().currency();
    case v1::Envelope::kInvoiceIssued: return &e.invoice_issued().amount().currency();
    case v1::Envelope::kInvoiceCancelled:
      return e.invoice_cancelled().has_credit_note_amount() ? &e.invoice_cancelled().credit_note_amount().currency()
                                                            : nullptr;
    case v1::Envelope::kPaymentReceived: return &e.payment_received().amount().currency();
    case v1::Envelope::kOrderPlaced: return &e.order_placed().amount().currency();
    case v1::Envelope::kDisputeOpened: return &e.dispute_opened().amount().currency();
    case v1::Envelope::kPromiseToPay: return &e.promise_to_pay().amount().currency();
    default: return nullptr;
  }
}

// The invoice with this id (its StableHash `id_hash`), or -1.
int IndexOfInvoiceHashed(const v1::CustomerState& s, std::string_view id, uint64_t id_hash) {
  const InvoiceIndex index(s);
  for (int i = 0; i < index.size(); ++i) {
    if (index.id_hash(i) == id_hash && s.invoices(i).invoice_id() == id) return i;
  }
  return -1;
}

// Appends the packed index's entry of `inv`, the last invoice (its id's StableHash `id_hash`).
void AppendInvoiceIndex(v1::CustomerState& s, const v1::InvoiceState& inv, uint64_t id_hash) {
  auto& packed = *s.mutable_invoice_index();
  packed.Add(static_cast<int64_t>(id_hash));
  packed.Add(inv.due_ms());
  packed.Add(CollectibleAmount(inv));
  packed.Add(inv.alerted_level());
}

// Writes invoice `index`'s entry of the packed index again, after a change to it.
void ReindexInvoice(v1::CustomerState& s, int index) {
  const v1::InvoiceState& inv = s.invoices(index);
  auto& packed = *s.mutable_invoice_index();
  const int at = index * InvoiceIndex::kStride;
  packed.Set(at + 1, inv.due_ms());
  packed.Set(at + 2, CollectibleAmount(inv));
  packed.Set(at + 3, inv.alerted_level());
}

void RemoveInvoice(v1::CustomerState& s, int index) {
  RemoveAt(*s.mutable_invoices(), index);
  auto& packed = *s.mutable_invoice_index();
  const int at = index * InvoiceIndex::kStride;
  packed.erase(packed.begin() + at, packed.begin() + at + InvoiceIndex::kStride);
}

// Removes a settled invoice. Its disputes stay: a dispute resolved as credited later is
// the customer's credit. Returns true when removed.
bool CloseIfSettled(v1::CustomerState& s, int index) {
  const auto& inv = s.invoices(index);
  if (inv.paid() < inv.amount()) return false;
  // Overpayment beyond the amount (after a credit note) becomes unapplied cash.
  s.set_unapplied_cash(s.unapplied_cash() + (inv.paid() - inv.amount()));
  s.set_open_receivables(s.open_receivables() - OpenAmount(inv));
  RemoveInvoice(s, index);
  return true;
}

// What a payment's reversal left to be paid again: its entry in payment_unrepaid.
int64_t UnrepaidAmount(const v1::PaymentRecord& r) {
  return r.reversed() ? std::max<int64_t>(r.amount() - r.repaid(), 0) : 0;
}

// The payment in the history with this id (its StableHash `id_hash`), or -1.
int IndexOfPayment(const v1::CustomerState& s, std::string_view id, uint64_t id_hash) {
  const auto& hashes = s.payment_id_hashes();
  for (int i = 0; i < hashes.size(); ++i) {
    if (hashes.Get(i) == id_hash && s.payments(i).payment_id() == id) return i;
  }
  return -1;
}

// An invoice's disputed amount is its open disputes' amounts, capped at what is still
// open. Derived again after every change to either, so payments, reversals, credit
// notes and resolutions in any order leave it equal to what the disputes cover.
void SyncDisputed(v1::CustomerState& s, int index) {
  v1::InvoiceState& inv = *s.mutable_invoices(index);
  int64_t sum = 0;
  for (const auto& d : s.disputes()) {
    if (d.invoice_id() == inv.invoice_id()) sum += d.amount();
  }
  inv.set_disputed(std::clamp<int64_t>(sum, 0, std::max<int64_t>(OpenAmount(inv), 0)));
  ReindexInvoice(s, index);
}

void RemoveOrder(v1::CustomerState& s, std::string_view order_id) {
  auto* orders = s.mutable_orders();
  for (int i = 0; i < orders->size(); ++i) {
    if (orders->Get(i).order_id() != order_id) continue;
    if (orders->Get(i).status() == v1::OrderState::APPROVED) {
      s.set_approved_orders(s.approved_orders() - orders->Get(i).amount());
    }
    RemoveAt(*orders, i);
    return;
  }
}

int32_t DaysBeyondTerms(int64_t paid_ms, int64_t due_ms) {
  if (paid_ms <= due_ms) return 0;
  return static_cast<int32_t>((paid_ms - due_ms) / kMsPerDay);
}

// Payment towards promises: the oldest promised date first. Each credit is kept with the
// payment, so a reversal takes back exactly what the payment counted.
void CreditPromises(v1::CustomerState& s, int64_t amount, v1::PaymentRecord& rec) {
  std::vector<v1::PromiseState*> open;
  for (auto& p : *s.mutable_promises()) {
    if (p.paid() < p.amount()) open.push_back(&p);
  }
  std::stable_sort(open.begin(), open.end(),
                   [](const auto* a, const auto* b) { return a->promised_ms() < b->promised_ms(); });
  for (auto* p : open) {
    if (amount <= 0) break;
    const int64_t take = std::min(amount, p->amount() - p->paid());
    p->set_paid(p->paid() + take);
    amount -= take;
    auto* credit = rec.add_promise_credits();
    credit->set_promise_id(p->promise_id());
    credit->set_amount(take);
    credit->set_promise_seq(p->seq());
  }
}

FoldResult ApplyCustomer(v1::CustomerState& s, const v1::CustomerUpserted& p) {
  // An upsert mostly repeats what the state holds: comparing is inline, setting is a
  // call into the library that copies (and allocates for a field set the first time).
  if (s.name() != p.name()) s.set_name(p.name());
  if (s.segment() != p.segment()) s.set_segment(p.segment());
  if (s.risk_class() != p.risk_class()) s.set_risk_class(p.risk_class());
  s.set_payment_terms_days(p.payment_terms_days());
  if (s.credit_manager() != p.credit_manager()) s.set_credit_manager(p.credit_manager());
  if (p.has_credit_limit()) {
    s.set_has_limit(true);
    s.set_credit_limit(p.credit_limit().minor());
  }
  return {};
}

FoldResult ApplyInvoice(v1::CustomerState& s, const v1::InvoiceIssued& p) {
  const uint64_t id_hash = StableHash(p.invoice_id());
  if (IndexOfInvoiceHashed(s, p.invoice_id(), id_hash) >= 0) return Duplicate();
  // Disputes kept from a paid invoice of the same id were about that one.
  RemoveIf(*s.mutable_disputes(), [&](const v1::DisputeState& d) { return d.invoice_id() == p.invoice_id(); });
  auto* inv = s.add_invoices();
  inv->set_invoice_id(p.invoice_id());
  inv->set_amount(p.amount().minor());
  inv->set_issue_ms(p.issue_date_ms());
  inv->set_due_ms(p.due_date_ms() != 0 ? p.due_date_ms()
                                       : p.issue_date_ms() + int64_t{s.payment_terms_days()} * kMsPerDay);
  s.set_open_receivables(s.open_receivables() + p.amount().minor());
  if (!p.order_id().empty()) {  // a new invoice's order id is empty: setting "" would allocate
    inv->set_order_id(p.order_id());
    RemoveOrder(s, p.order_id());
  }
  AppendInvoiceIndex(s, *inv, id_hash);
  return {};
}

FoldResult ApplyCancel(v1::CustomerState& s, const v1::InvoiceCancelled& p) {
  const int idx = IndexOfInvoice(s, p.invoice_id());
  if (idx < 0) return Reject(v1::UNKNOWN_REFERENCE, fmt::format("invoice {} is not open", p.invoice_id()));
  auto* inv = s.mutable_invoices(idx);
  const int64_t open = OpenAmount(*inv);
  const int64_t credit =
      p.has_credit_note_amount() && p.credit_note_amount().minor() > 0 ? p.credit_note_amount().minor() : open;
  const int64_t applied = std::min(credit, open);
  inv->set_amount(inv->amount() - applied);
  s.set_open_receivables(s.open_receivables() - applied);
  // A credit note larger than what is open becomes the customer's credit.
  s.set_unapplied_cash(s.unapplied_cash() + (credit - applied));
  SyncDisputed(s, idx);
  const std::string id = inv->invoice_id();
  // Cancelled, nothing is owed: its disputes end with it.
  if (CloseIfSettled(s, idx))
    RemoveIf(*s.mutable_disputes(), [&](const v1::DisputeState& d) { return d.invoice_id() == id; });
  return {};
}

FoldResult ApplyPayment(v1::CustomerState& s, const v1::Envelope& e, const v1::PaymentReceived& p,
                        const RuleThresholds& t) {
  const uint64_t id_hash = StableHash(p.payment_id());
  if (IndexOfPayment(s, p.payment_id(), id_hash) >= 0) return Duplicate();
  // Cash after a reversal first makes good the reversed payments, oldest first.
  int64_t make_good = p.amount().minor();
  auto& unrepaid = *s.mutable_payment_unrepaid();
  for (int i = 0; i < unrepaid.size() && make_good > 0; ++i) {
    if (unrepaid.Get(i) <= 0) continue;
    const int64_t take = std::min(make_good, unrepaid.Get(i));
    v1::PaymentRecord& reversed = *s.mutable_payments(i);
    reversed.set_repaid(reversed.repaid() + take);
    unrepaid.Set(i, unrepaid.Get(i) - take);
    make_good -= take;
  }
  FoldResult result;
  auto* rec = s.add_payments();
  rec->set_payment_id(p.payment_id());
  rec->set_amount(p.amount().minor());
  rec->set_received_ms(e.event_time_ms());
  s.add_payment_id_hashes(id_hash);
  s.add_payment_received_ms(e.event_time_ms());
  s.add_payment_unrepaid(0);

  int64_t unapplied = p.amount().minor();
  double weighted_days = 0;
  int64_t weighted_amount = 0;
  for (const auto& a : p.allocations()) {
    const int idx = IndexOfInvoice(s, a.invoice_id());
    if (idx < 0) {
      ++result.unknown_allocations;
      continue;
    }
    auto* inv = s.mutable_invoices(idx);
    const int64_t take = std::min(a.amount().minor(), OpenAmount(*inv));
    if (take <= 0) continue;
    inv->set_paid(inv->paid() + take);
    s.set_open_receivables(s.open_receivables() - take);
    unapplied -= take;
    auto* alloc = rec->add_allocations();
    alloc->set_invoice_id(inv->invoice_id());
    alloc->set_amount(take);
    alloc->set_due_ms(inv->due_ms());
    alloc->set_issue_ms(inv->issue_ms());
    weighted_days += static_cast<double>(take) * DaysBeyondTerms(e.event_time_ms(), inv->due_ms());
    weighted_amount += take;
    SyncDisputed(s, idx);
    CloseIfSettled(s, idx);
  }
  rec->set_unapplied(unapplied);
  s.set_unapplied_cash(s.unapplied_cash() + unapplied);
  CreditPromises(s, p.amount().minor(), *rec);

  if (weighted_amount > 0) {
    // Payment behaviour: this payment's amount-weighted days beyond terms, folded into
    // two amount-weighted exponential averages (short and long memory).
    const double days = weighted_days / static_cast<double>(weighted_amount);
    const auto amount = static_cast<double>(weighted_amount);
    s.set_dbt_short_sum(s.dbt_short_sum() * t.dbt_short_decay + amount * days);
    s.set_dbt_short_weight(s.dbt_short_weight() * t.dbt_short_decay + amount);
    s.set_dbt_long_sum(s.dbt_long_sum() * t.dbt_long_decay + amount * days);
    s.set_dbt_long_weight(s.dbt_long_weight() * t.dbt_long_decay + amount);
    s.set_dbt_payments(s.dbt_payments() + 1);
    s.add_observed_ms(e.event_time_ms());
    s.add_observed_days_beyond_terms(static_cast<int32_t>(days));
  }
  return result;
}

FoldResult ApplyReversal(v1::CustomerState& s, const v1::Envelope& e, const v1::PaymentReversed& p) {
  const int index = IndexOfPayment(s, p.payment_id(), StableHash(p.payment_id()));
  if (index < 0) {
    return Reject(v1::UNKNOWN_REFERENCE,
                  fmt::format("payment {} is unknown or older than the history", p.payment_id()));
  }
  v1::PaymentRecord* rec = s.mutable_payments(index);
  if (rec->reversed()) return Duplicate();
  rec->set_reversed(true);
  rec->set_reversed_ms(e.event_time_ms());
  s.set_payment_unrepaid(index, UnrepaidAmount(*rec));
  int64_t reopened = 0;
  for (const auto& a : rec->allocations()) {
    const uint64_t id_hash = StableHash(a.invoice_id());
    int idx = IndexOfInvoiceHashed(s, a.invoice_id(), id_hash);
    if (idx >= 0) {
      v1::InvoiceState* inv = s.mutable_invoices(idx);
      inv->set_paid(inv->paid() - a.amount());
    } else {
      // The payment had settled the invoice: reopen the reversed part with its dates.
      v1::InvoiceState* inv = s.add_invoices();
      inv->set_invoice_id(a.invoice_id());
      inv->set_amount(a.amount());
      inv->set_issue_ms(a.issue_ms());
      inv->set_due_ms(a.due_ms());
      AppendInvoiceIndex(s, *inv, id_hash);
      idx = s.invoices_size() - 1;
    }
    SyncDisputed(s, idx);  // what the payment had capped, or the disputes kept, count again
    s.set_open_receivables(s.open_receivables() + a.amount());
    reopened += a.amount();
  }
  s.set_unapplied_cash(s.unapplied_cash() - rec->unapplied());
  reopened += rec->unapplied();
  // The bounced cash no longer counts towards promises: one still open (before its
  // deadline, or broken and not yet made good) owes again what this payment counted.
  for (const auto& credit : rec->promise_credits()) {
    v1::PromiseState* pr = FindIf(*s.mutable_promises(), [&](const v1::PromiseState& x) {
      // Both: promises stored before they were numbered all have seq 0.
      return x.seq() == credit.promise_seq() && x.promise_id() == credit.promise_id();
    });
    if (pr != nullptr) pr->set_paid(std::max<int64_t>(pr->paid() - credit.amount(), 0));
  }
  FoldResult result;
  result.payment_reversed = true;
  result.reopened_amount = reopened;
  return result;
}

FoldResult ApplyOrderPlaced(v1::CustomerState& s, const v1::Envelope& e, const v1::OrderPlaced& p) {
  if (FindOrder(s, p.order_id()) != nullptr) return Duplicate();
  auto* o = s.add_orders();
  o->set_order_id(p.order_id());
  o->set_amount(p.amount().minor());
  o->set_placed_ms(e.event_time_ms());
  s.set_order_seq(s.order_seq() + 1);
  o->set_seq(s.order_seq());
  o->set_status(v1::OrderState::STATUS_UNSPECIFIED);  // decided by the engine in this step
  return {};
}

FoldResult ApplyDisputeOpened(v1::CustomerState& s, const v1::DisputeOpened& p) {
  for (const auto& d : s.disputes()) {
    if (d.dispute_id() == p.dispute_id()) return Duplicate();
  }
  const int idx = IndexOfInvoice(s, p.invoice_id());
  if (idx < 0) return Reject(v1::UNKNOWN_REFERENCE, fmt::format("invoice {} is not open", p.invoice_id()));
  const v1::InvoiceState* inv = &s.invoices(idx);
  // A dispute covers at most what is open and not disputed already.
  const int64_t amount = std::min(p.amount().minor(), OpenAmount(*inv) - inv->disputed());
  auto* d = s.add_disputes();
  d->set_dispute_id(p.dispute_id());
  d->set_invoice_id(p.invoice_id());
  d->set_amount(std::max<int64_t>(amount, 0));
  SyncDisputed(s, idx);
  return {};
}

FoldResult ApplyDisputeResolved(v1::CustomerState& s, const v1::DisputeResolved& p) {
  int di = -1;
  for (int i = 0; i < s.disputes_size(); ++i) {
    if (s.disputes(i).dispute_id() == p.dispute_id()) di = i;
  }
  if (di < 0) return Reject(v1::UNKNOWN_REFERENCE, fmt::format("dispute {} is not open", p.dispute_id()));
  const v1::DisputeState d = s.disputes(di);
  RemoveAt(*s.mutable_disputes(), di);
  const int idx = IndexOfInvoice(s, d.invoice_id());
  if (idx < 0) {
    // The invoice was paid in full meanwhile: a credit is the customer's.
    if (p.outcome() == v1::DisputeResolved::CREDITED) s.set_unapplied_cash(s.unapplied_cash() + d.amount());
    return {};
  }
  auto* inv = s.mutable_invoices(idx);
  if (p.outcome() == v1::DisputeResolved::CREDITED) {
    // As a credit note: what exceeds the open amount (the customer paid the disputed part
    // meanwhile) becomes the customer's credit.
    const int64_t applied = std::clamp<int64_t>(d.amount(), 0, std::max<int64_t>(OpenAmount(*inv), 0));
    inv->set_amount(inv->amount() - applied);
    s.set_open_receivables(s.open_receivables() - applied);
    s.set_unapplied_cash(s.unapplied_cash() + (d.amount() - applied));
  }
  SyncDisputed(s, idx);
  CloseIfSettled(s, idx);
  return {};
}

FoldResult ApplyPromise(v1::CustomerState& s, const v1::Envelope& e, const v1::PromiseToPay& p) {
  // A promise met and waiting for its date is done with: its id may be promised again.
  for (const auto& existing : s.promises()) {
    if (existing.promise_id() == p.promise_id() && (existing.broken() || existing.paid() < existing.amount())) {
      return Duplicate();
    }
  }
  auto* pr = s.add_promises();
  pr->set_promise_id(p.promise_id());
  pr->set_amount(p.amount().minor());
  pr->set_promised_ms(p.promised_date_ms());
  pr->set_made_ms(e.event_time_ms());
  s.set_promise_seq(s.promise_seq() + 1);
  pr->set_seq(s.promise_seq());
  return {};
}

FoldResult FoldPayload(v1::CustomerState& s, const v1::Envelope& e, const RuleThresholds& t) {
  switch (e.payload_case()) {
    case v1::Envelope::kCustomerUpserted: return ApplyCustomer(s, e.customer_upserted());
    case v1::Envelope::kCreditLimitChanged:
      s.set_has_limit(true);
      s.set_credit_limit(e.credit_limit_changed().credit_limit().minor());
      return {};
    case v1::Envelope::kInvoiceIssued: return ApplyInvoice(s, e.invoice_issued());
    case v1::Envelope::kInvoiceCancelled: return ApplyCancel(s, e.invoice_cancelled());
    case v1::Envelope::kPaymentReceived: return ApplyPayment(s, e, e.payment_received(), t);
    case v1::Envelope::kPaymentReversed: return ApplyReversal(s, e, e.payment_reversed());
    case v1::Envelope::kOrderPlaced: return ApplyOrderPlaced(s, e, e.order_placed());
    case v1::Envelope::kOrderInvoiced: RemoveOrder(s, e.order_invoiced().order_id()); return {};
    case v1::Envelope::kOrderCancelled: RemoveOrder(s, e.order_cancelled().order_id()); return {};
    case v1::Envelope::kDisputeOpened: return ApplyDisputeOpened(s, e.dispute_opened());
    case v1::Envelope::kDisputeResolved: return ApplyDisputeResolved(s, e.dispute_resolved());
    case v1::Envelope::kPromiseToPay: return ApplyPromise(s, e, e.promise_to_pay());
    case v1::Envelope::kManualHold:
      s.set_manual_hold(true);
      s.set_manual_hold_until_ms(e.manual_hold().until_ms());
      s.set_manual_hold_reason(e.manual_hold().reason());
      s.set_release_until_ms(0);  // a new hold ends any release override
      return {};
    case v1::Envelope::kManualRelease:
      s.set_manual_hold(false);
      s.set_manual_hold_until_ms(0);
      s.set_manual_hold_reason("");
      s.set_release_until_ms(e.manual_release().until_ms());
      return {};
    case v1::Envelope::PAYLOAD_NOT_SET: break;
  }
  return Reject(v1::UNKNOWN_PAYLOAD, "payload is not set");
}

}  // namespace

int IndexOfInvoice(const v1::CustomerState& s, std::string_view id) {
  return IndexOfInvoiceHashed(s, id, StableHash(id));
}

void SetAlertedLevel(v1::CustomerState& s, int index, int32_t level) {
  s.mutable_invoices(index)->set_alerted_level(level);
  s.set_invoice_index(index * InvoiceIndex::kStride + 3, level);
}

v1::OrderState* FindOrder(v1::CustomerState& s, std::string_view id) {
  return FindIf(*s.mutable_orders(), [&](const v1::OrderState& o) { return o.order_id() == id; });
}

FoldResult FoldEvent(v1::CustomerState& s, const v1::Envelope& e, const RuleThresholds& t) {
  const std::string* cur = PayloadCurrency(e);
  if (cur != nullptr && !s.currency().empty() && *cur != s.currency()) {
    return Reject(v1::CURRENCY_MISMATCH,
                  fmt::format("{} amount in {} but the customer's currency is {}", PayloadName(e), *cur, s.currency()));
  }
  FoldResult result = FoldPayload(s, e, t);
  // The first amount seen fixes the customer's currency.
  if (result.outcome == FoldOutcome::kApplied && cur != nullptr && s.currency().empty()) s.set_currency(*cur);
  return result;
}

int64_t RecomputeExposure(const v1::CustomerState& s) {
  int64_t receivables = 0;
  for (const auto& inv : s.invoices()) receivables += OpenAmount(inv);
  int64_t orders = 0;
  for (const auto& o : s.orders()) {
    if (o.status() == v1::OrderState::APPROVED) orders += o.amount();
  }
  return receivables + orders - s.unapplied_cash();
}

uint64_t StableHash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

void UpgradeState(v1::CustomerState& s) {
  auto& at = *s.mutable_observed_ms();
  auto& days = *s.mutable_observed_days_beyond_terms();
  if (s.observations_size() > 0) {
    for (const auto& o : s.observations()) {
      at.Add(o.at_ms());
      days.Add(o.days_beyond_terms());
    }
    s.clear_observations();
  }
  // The arrays go in step; a state that says otherwise keeps what both hold.
  if (at.size() != days.size()) {
    const int n = std::min(at.size(), days.size());
    at.Truncate(n);
    days.Truncate(n);
  }
  // The invoices' packed index, likewise.
  if (s.invoice_index_size() != s.invoices_size() * InvoiceIndex::kStride) {
    s.clear_invoice_index();
    for (const auto& inv : s.invoices()) AppendInvoiceIndex(s, inv, StableHash(inv.invoice_id()));
  }
  // The payments' packed index, for states from before it (or any that disagrees).
  const int paid = s.payments_size();
  if (s.payment_id_hashes_size() != paid || s.payment_received_ms_size() != paid || s.payment_unrepaid_size() != paid) {
    s.clear_payment_id_hashes();
    s.clear_payment_received_ms();
    s.clear_payment_unrepaid();
    for (const auto& r : s.payments()) {
      s.add_payment_id_hashes(StableHash(r.payment_id()));
      s.add_payment_received_ms(r.received_ms());
      s.add_payment_unrepaid(UnrepaidAmount(r));
    }
  }
}

void PruneWindows(v1::CustomerState& s, const RuleThresholds& t, int64_t now_ms) {
  const int64_t late_cut = now_ms - int64_t{t.late_window_days} * kMsPerDay;
  auto& seen = *s.mutable_observed_ms();
  KeepEntries(
      seen.size(), [&](int i) { return seen.Get(i) > late_cut; }, seen, *s.mutable_observed_days_beyond_terms());
  const int64_t bounce_cut = now_ms - int64_t{std::max(t.bounce_window_days, t.score_window_days)} * kMsPerDay;
  EraseIf(*s.mutable_bounces_ms(), [&](int64_t at) { return at <= bounce_cut; });
  const int64_t score_cut = now_ms - int64_t{t.score_window_days} * kMsPerDay;
  EraseIf(*s.mutable_broken_promises_ms(), [&](int64_t at) { return at <= score_cut; });
  const int64_t history_cut = now_ms - int64_t{t.payment_history_days} * kMsPerDay;
  // Decided on the packed times: a payment's message is touched only to move it.
  auto& received = *s.mutable_payment_received_ms();
  KeepEntries(
      received.size(), [&](int i) { return received.Get(i) > history_cut; }, *s.mutable_payments(),
      *s.mutable_payment_id_hashes(), received, *s.mutable_payment_unrepaid());
}

}  // namespace creditwatch::core
