#include "core/credit_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/alert_tracker.h"
#include "core/enum_names.h"
#include "core/id_path.h"
#include "core/ledger.h"
#include "core/money.h"
#include "core/money_format.h"
#include "core/prefetch.h"
#include "core/reason_list.h"
#include "core/repeated.h"
#include "core/risk_score.h"

namespace creditwatch::core {
namespace {

constexpr int64_t kUnboundedUtilizationBp = 1'000'000;  // exposure against a zero limit

bool SeenRecently(const v1::CustomerState& s, uint64_t h) {
  return std::find(s.recent_event_ids().begin(), s.recent_event_ids().end(), h) != s.recent_event_ids().end();
}

void Remember(v1::CustomerState& s, uint64_t h) {
  if (s.recent_event_ids_size() < kRecentEventIds) {
    s.add_recent_event_ids(h);
  } else {
    s.set_recent_event_ids(static_cast<int>(s.recent_event_pos() % kRecentEventIds), h);
  }
  s.set_recent_event_pos((s.recent_event_pos() + 1) % kRecentEventIds);
}

int64_t UtilizationBp(const v1::CustomerState& s) {
  const int64_t exposure = Exposure(s);
  if (exposure <= 0) return 0;
  if (s.credit_limit() <= 0) return kUnboundedUtilizationBp;
  return RatioBp(exposure, s.credit_limit(), kUnboundedUtilizationBp);
}

int64_t ResolveBelow(int64_t threshold, const RuleThresholds& t) { return threshold * t.resolve_ratio_bp / 10000; }

int64_t DaysPastDue(int64_t due_ms, int64_t now_ms) { return now_ms > due_ms ? (now_ms - due_ms) / kMsPerDay : 0; }

// An amount in the customer's currency, written in place by the summaries' formats.
MoneyText Amount(const v1::CustomerState& s, int64_t minor) { return {minor, s.currency()}; }

// Rule groups, so an event evaluates only what it can change. A Tick evaluates all.
enum RuleGroup : unsigned {
  kPrune = 1u << 0,
  kLimit = 1u << 1,
  kOverdue = 1u << 2,
  kPromises = 1u << 3,
  kBehaviour = 1u << 4,
  kBounces = 1u << 5,
  kScore = 1u << 6,
  kAllGroups = 0x7Fu,
};

// What an event of this kind can change. Time-driven changes (deadlines, window edges)
// come through Tick, which the caller runs for every due wake before applying an event.
unsigned GroupsFor(v1::Envelope::PayloadCase kind) {
  switch (kind) {
    case v1::Envelope::kCreditLimitChanged:
    case v1::Envelope::kOrderPlaced:
    case v1::Envelope::kOrderInvoiced:
    case v1::Envelope::kOrderCancelled: return kLimit | kScore;
    case v1::Envelope::kInvoiceIssued:
    case v1::Envelope::kInvoiceCancelled:
    case v1::Envelope::kDisputeOpened:
    case v1::Envelope::kDisputeResolved: return kLimit | kOverdue | kScore;
    case v1::Envelope::kPromiseToPay: return kPromises | kScore;
    case v1::Envelope::kManualHold:
    case v1::Envelope::kManualRelease: return 0;
    default: return kAllGroups & ~kPrune;  // upserts (thresholds may change), payments, reversals
  }
}

// The evaluation of the rules for one customer at one instant.
class RuleRun {
 public:
  RuleRun(v1::CustomerState& s, const RuleThresholds& t, int64_t now_ms, const std::string& cause, StepOutputs& out)
      : s_(s), t_(t), now_(now_ms), cause_(cause), out_(out), alerts_(s, now_ms, cause, &out.alerts) {}

  AlertTracker& alerts() { return alerts_; }

  // Evaluates the rule groups in `mask`; block status and orders always.
  void Run(unsigned mask) {
    if (mask & kPrune) PruneWindows(s_, t_, now_);
    if (mask & kLimit) Limit();
    if (mask & kOverdue) Overdue();
    if (mask & kPromises) Promises();
    if (mask & kBehaviour) Behaviour();
    if (mask & kBounces) Bounces();
    Block();
    const bool raised = DecideOrders();
    if (raised) {
      // Approvals raised exposure: re-evaluate what depends on it.
      Limit();
      Block();
    }
    // The score depends on the step's outcome, and nothing above depends on the score.
    if ((mask & kScore) || raised) Score();
  }

  void Bounced(const v1::PaymentReversed& p, int64_t reopened) {
    const int64_t bounces = BouncesInWindow();
    alerts_.Fire(v1::PAYMENT_BOUNCED, p.payment_id(), v1::CRITICAL, 0, [&](v1::Alert& a) {
      SetSummary(
          a, FMT_COMPILE("{} PAYMENT_BOUNCED critical: payment {} reversed ({}), {} reopened; {} bounce(s) in {} days"),
          s_.customer_id(), p.payment_id(), v1::PaymentReversed::Reason_Name(p.reason()), Amount(s_, reopened), bounces,
          t_.bounce_window_days);
      AddMoney(a, "reopened", reopened, s_.currency());
      AddText(a, "reason", v1::PaymentReversed::Reason_Name(p.reason()));
      AddInt(a, "bounces_in_window", bounces);
      AddMoney(a, "exposure", Exposure(s_), s_.currency());
    });
  }

 private:
  void ExplainLimit(v1::Alert& a, int64_t util_bp) {
    const bool firing = a.status() == v1::Alert::FIRING;
    SetSummary(a, FMT_COMPILE("{} {} {}: exposure {} vs limit {} ({})"), s_.customer_id(), RuleName(a.rule()),
               firing ? SeverityName(a.severity()) : "resolved", Amount(s_, Exposure(s_)),
               Amount(s_, s_.credit_limit()), BasisPointsText{util_bp});
    AddMoney(a, "exposure", Exposure(s_), s_.currency());
    AddMoney(a, "credit_limit", s_.credit_limit(), s_.currency());
    AddBasisPoints(a, "utilization", util_bp);
    AddMoney(a, "open_receivables", s_.open_receivables(), s_.currency());
    AddMoney(a, "approved_orders", s_.approved_orders(), s_.currency());
    AddMoney(a, "unapplied_cash", s_.unapplied_cash(), s_.currency());
  }

  void Limit() {
    if (!s_.has_limit()) {
      alerts_.Resolve(v1::UTILIZATION_HIGH, "");
      alerts_.Resolve(v1::OVER_LIMIT, "");
      return;
    }
    const int64_t util = UtilizationBp(s_);
    auto explain = [&](v1::Alert& a) { ExplainLimit(a, util); };
    if (util >= t_.utilization_warning_bp) {
      alerts_.Fire(v1::UTILIZATION_HIGH, "", v1::WARNING, 0, explain);
    } else if (util < ResolveBelow(t_.utilization_warning_bp, t_)) {
      alerts_.Resolve(v1::UTILIZATION_HIGH, "", explain);
    }
    // Compared exactly: the utilization in whole basis points reads 100.009% as 100%.
    const int64_t exposure = Exposure(s_);
    const bool over =
        exposure > 0 && (s_.credit_limit() <= 0 || RatioAboveBp(exposure, s_.credit_limit(), t_.over_limit_bp));
    if (over) {
      alerts_.Fire(v1::OVER_LIMIT, "", v1::CRITICAL, 0, explain);
    } else if (util < ResolveBelow(t_.over_limit_bp, t_)) {
      alerts_.Resolve(v1::OVER_LIMIT, "", explain);
    }
  }

  void Overdue() {
    int alerted = 0;  // open invoices whose alert is active after this pass
    // Decided on the packed index: an invoice's message is read only for a transition.
    const InvoiceIndex index(s_);
    for (int i = 0; i < index.size(); ++i) {
      const int64_t dpd = DaysPastDue(index.due_ms(i), now_);
      const int64_t collectible = index.collectible(i);
      const DunningStep* step = nullptr;
      for (const auto& d : t_.dunning) {  // ascending (validated)
        if (dpd < d.days_past_due) break;
        step = &d;
      }
      const int32_t level = collectible > 0 && step != nullptr ? step->days_past_due : 0;
      if (level > 0) ++alerted;
      if (level == index.alerted_level(i)) continue;
      const v1::InvoiceState& inv = s_.invoices(i);
      auto explain = [&](v1::Alert& a) {
        const bool firing = a.status() == v1::Alert::FIRING;
        if (firing) {
          SetSummary(a, FMT_COMPILE("{} INVOICE_OVERDUE {}: invoice {} {} unpaid, {} days past due (level {})"),
                     s_.customer_id(), SeverityName(a.severity()), inv.invoice_id(), Amount(s_, collectible), dpd,
                     a.level());
        } else {
          SetSummary(a, FMT_COMPILE("{} INVOICE_OVERDUE resolved: invoice {} collectible {}"), s_.customer_id(),
                     inv.invoice_id(), Amount(s_, std::max<int64_t>(collectible, 0)));
        }
        AddMoney(a, "collectible", collectible, s_.currency());
        AddMoney(a, "invoice_amount", inv.amount(), s_.currency());
        AddMoney(a, "disputed", inv.disputed(), s_.currency());
        AddInt(a, "days_past_due", dpd);
        AddInt(a, "due_ms", inv.due_ms());
      };
      if (level > 0) {
        alerts_.Fire(v1::INVOICE_OVERDUE, inv.invoice_id(), step->severity, level, explain);
      } else {
        alerts_.Resolve(v1::INVOICE_OVERDUE, inv.invoice_id(), explain);
      }
      SetAlertedLevel(s_, i, level);
    }
    // Invoices settled or cancelled since: their alerts resolve. An open invoice has an
    // active alert exactly when its alerted level is above 0, so when those are all the
    // active alerts of the rule, no other invoice's alert is left to look for.
    if (alerts_.Count(v1::INVOICE_OVERDUE) == alerted) return;
    std::vector<std::string> gone;
    for (const auto& a : s_.alerts()) {
      if (a.rule() == v1::INVOICE_OVERDUE && IndexOfInvoice(s_, a.subject()) < 0) gone.push_back(a.subject());
    }
    for (const auto& id : gone) {
      alerts_.Resolve(v1::INVOICE_OVERDUE, id, [&](v1::Alert& a) {
        SetSummary(a, FMT_COMPILE("{} INVOICE_OVERDUE resolved: invoice {} settled"), s_.customer_id(), id);
        AddMoney(a, "collectible", 0, s_.currency());
      });
    }
  }

  void Promises() {
    auto* promises = s_.mutable_promises();
    for (int i = 0; i < promises->size();) {
      v1::PromiseState& p = *promises->Mutable(i);
      auto explain = [&](v1::Alert& a) {
        const bool firing = a.status() == v1::Alert::FIRING;
        SetSummary(a, FMT_COMPILE("{} PROMISE_BROKEN {}: promised {} by {} days ago, received {}"), s_.customer_id(),
                   firing ? SeverityName(a.severity()) : "resolved", Amount(s_, p.amount()),
                   (now_ - p.promised_ms()) / kMsPerDay, Amount(s_, p.paid()));
        AddMoney(a, "promised", p.amount(), s_.currency());
        AddMoney(a, "received", p.paid(), s_.currency());
        AddInt(a, "promised_ms", p.promised_ms());
      };
      const bool met = p.paid() >= p.amount();
      if (!p.broken()) {
        // Judged at its deadline: until then a payment that counted towards it can still
        // bounce, and the reversal takes its credit back.
        if (now_ < p.promised_ms() + int64_t{t_.promise_grace_days} * kMsPerDay) {
          ++i;
          continue;
        }
        if (met) {
          RemoveAt(*promises, i);
          continue;
        }
        p.set_broken(true);
        s_.add_broken_promises_ms(now_);
        alerts_.Fire(v1::PROMISE_BROKEN, p.promise_id(), v1::MAJOR, 0, explain);
      } else if (met) {
        alerts_.Resolve(v1::PROMISE_BROKEN, p.promise_id(), explain);
        RemoveAt(*promises, i);
        continue;
      }
      ++i;
    }
  }

  void Behaviour() {
    const double shortd = s_.dbt_short_weight() > 0 ? s_.dbt_short_sum() / s_.dbt_short_weight() : 0.0;
    const double longd = s_.dbt_long_weight() > 0 ? s_.dbt_long_sum() / s_.dbt_long_weight() : 0.0;
    const auto gap_tenths = static_cast<int64_t>((shortd - longd) * 10.0);
    const auto& days = s_.observed_days_beyond_terms();
    const int64_t n = days.size();
    const int64_t late = std::count_if(days.begin(), days.end(), [&](int32_t d) { return d > t_.late_after_days; });
    const int64_t share_bp = n > 0 ? late * 10000 / n : 0;
    const int64_t gap_limit = int64_t{t_.deteriorating_gap_days} * 10;
    const bool trend = s_.dbt_payments() >= t_.deteriorating_min_payments && gap_tenths >= gap_limit;
    const bool share = n >= t_.late_min_payments && share_bp > t_.late_share_bp;
    auto explain = [&](v1::Alert& a) {
      const bool firing = a.status() == v1::Alert::FIRING;
      SetSummary(
          a,
          FMT_COMPILE("{} DETERIORATING {}: days beyond terms short avg {:.1f} vs long avg {:.1f}; {} of {} payments "
                      "late in {} days"),
          s_.customer_id(), firing ? SeverityName(a.severity()) : "resolved", shortd, longd, late, n,
          t_.late_window_days);
      AddTenths(a, "dbt_short_avg", static_cast<int64_t>(shortd * 10.0));
      AddTenths(a, "dbt_long_avg", static_cast<int64_t>(longd * 10.0));
      AddTenths(a, "dbt_gap", gap_tenths);
      AddInt(a, "payments", s_.dbt_payments());
      AddBasisPoints(a, "late_share", share_bp);
      AddInt(a, "payments_in_window", n);
    };
    if (trend || share) {
      alerts_.Fire(v1::DETERIORATING, "", trend && share ? v1::MAJOR : v1::WARNING, 0, explain);
    } else {
      const bool trend_clear = gap_tenths < ResolveBelow(gap_limit, t_);
      const bool share_clear = n < t_.late_min_payments || share_bp <= ResolveBelow(t_.late_share_bp, t_);
      if (trend_clear && share_clear) alerts_.Resolve(v1::DETERIORATING, "", explain);
    }
  }

  int64_t BouncesInWindow() const {
    const int64_t start = now_ - int64_t{t_.bounce_window_days} * kMsPerDay;
    return std::count_if(s_.bounces_ms().begin(), s_.bounces_ms().end(), [&](int64_t at) { return at > start; });
  }

  void Bounces() {
    if (!alerts_.Any(v1::PAYMENT_BOUNCED)) return;
    // Resolved once the reversed amount has been paid again, or when the payment leaves
    // the payment history (NextWake wakes the customer then) without that.
    std::vector<std::pair<std::string, bool>> cleared;  // payment id, paid again
    for (const auto& a : s_.alerts()) {
      if (a.rule() != v1::PAYMENT_BOUNCED) continue;
      const v1::PaymentRecord* rec = nullptr;
      for (const auto& p : s_.payments()) {
        if (p.payment_id() == a.subject()) rec = &p;
      }
      if (rec == nullptr) {
        cleared.emplace_back(a.subject(), false);
      } else if (rec->repaid() >= rec->amount()) {
        cleared.emplace_back(a.subject(), true);
      }
    }
    for (const auto& [id, paid_again] : cleared) {
      alerts_.Resolve(v1::PAYMENT_BOUNCED, id, [&](v1::Alert& a) {
        if (paid_again) {
          SetSummary(a, FMT_COMPILE("{} PAYMENT_BOUNCED resolved: the amount of payment {} was paid again"),
                     s_.customer_id(), id);
        } else {
          SetSummary(a,
                     FMT_COMPILE("{} PAYMENT_BOUNCED resolved: payment {} left the {}-day payment history "
                                 "without being paid again"),
                     s_.customer_id(), id, t_.payment_history_days);
        }
        AddText(a, "resolution", paid_again ? "paid_again" : "aged_out");
        AddMoney(a, "exposure", Exposure(s_), s_.currency());
      });
    }
  }

  void Score() {
    const RiskScore r = ComputeRiskScore(s_, t_, now_);
    const int32_t before = s_.band();
    const int32_t band = SettleBand(before, r.score, t_.score_hysteresis_points);
    s_.set_score(r.score);
    s_.set_band(band);
    if (band == before) return;
    auto explain = [&](v1::Alert& a) {
      const bool firing = a.status() == v1::Alert::FIRING;
      SetSummary(a, FMT_COMPILE("{} SCORE_DOWNGRADE {}: risk score {} band {} (was {})"), s_.customer_id(),
                 firing ? SeverityName(a.severity()) : "resolved", r.score, BandLetter(band), BandLetter(before));
      AddInt(a, "score", r.score);
      AddText(a, "band", std::string(1, BandLetter(band)));
      AddText(a, "previous_band", std::string(1, BandLetter(before)));
      for (const auto& f : r.factors) AddInt(a, f.name, f.points);
    };
    static constexpr v1::Severity kBandSeverity[] = {v1::INFO, v1::INFO, v1::WARNING, v1::MAJOR, v1::CRITICAL};
    const v1::AlertState* active = alerts_.Active(v1::SCORE_DOWNGRADE, "");
    const int32_t baseline = active != nullptr ? active->baseline() : before;
    if (band <= baseline) {
      alerts_.Resolve(v1::SCORE_DOWNGRADE, "", explain);
    } else {
      alerts_.Fire(v1::SCORE_DOWNGRADE, "", kBandSeverity[band], band, explain, baseline);
    }
  }

  void Block() {
    ReasonList automatic;
    if (alerts_.Active(v1::OVER_LIMIT, "") != nullptr) automatic.push_back(v1::BLOCK_OVER_LIMIT);
    const InvoiceIndex index(s_);
    for (int i = 0; i < index.size(); ++i) {
      if (index.collectible(i) > 0 && DaysPastDue(index.due_ms(i), now_) >= t_.overdue_hold_days) {
        automatic.push_back(v1::BLOCK_OVERDUE);
        break;
      }
    }
    if (BouncesInWindow() >= t_.bounce_hold_count) automatic.push_back(v1::BLOCK_BOUNCED);

    if (s_.manual_hold() && s_.manual_hold_until_ms() > 0 && now_ >= s_.manual_hold_until_ms()) {
      s_.set_manual_hold(false);
      s_.set_manual_hold_until_ms(0);
      s_.set_manual_hold_reason("");
    }
    if (s_.release_until_ms() > 0 && now_ >= s_.release_until_ms()) s_.set_release_until_ms(0);
    const bool override_active = s_.release_until_ms() > now_;

    ReasonList reasons = override_active ? ReasonList{} : automatic;
    const ReasonList overridden = override_active ? automatic : ReasonList{};
    if (s_.manual_hold()) reasons.push_back(v1::BLOCK_MANUAL);
    const auto status = reasons.empty() ? v1::BlockStatus::CLEAR : v1::BlockStatus::HOLD;
    const auto current =
        s_.block_status() == v1::BlockStatus::STATUS_UNSPECIFIED ? v1::BlockStatus::CLEAR : s_.block_status();
    auto same = [](const auto& repeated, const ReasonList& v) {
      if (repeated.size() != static_cast<int>(v.size())) return false;
      for (int i = 0; i < repeated.size(); ++i) {
        if (repeated.Get(i) != v[static_cast<size_t>(i)]) return false;
      }
      return true;
    };
    if (status == current && same(s_.block_reasons(), reasons) && same(s_.block_overridden(), overridden)) return;
    if (status != current || s_.block_version() == 0) s_.set_block_since_ms(now_);
    s_.set_block_status(status);
    s_.clear_block_reasons();
    reasons.ForEach([&](v1::BlockReason r) { s_.add_block_reasons(r); });
    s_.clear_block_overridden();
    overridden.ForEach([&](v1::BlockReason r) { s_.add_block_overridden(r); });
    s_.set_block_version(s_.block_version() + 1);

    v1::BlockStatus& b = out_.blocks.Add();
    AppendPath(*b.mutable_output_id(), s_.customer_id(), "block", s_.block_version());
    b.set_customer_id(s_.customer_id());
    b.set_status(status);
    reasons.ForEach([&](v1::BlockReason r) { b.add_reasons(r); });
    overridden.ForEach([&](v1::BlockReason r) { b.add_overridden(r); });
    b.set_override_until_ms(override_active ? s_.release_until_ms() : 0);
    b.set_since_ms(s_.block_since_ms());
    b.set_version(s_.block_version());
    b.set_cause_event_id(cause_);
  }

  // Decides new orders and re-checks held ones, oldest first. Returns true when any
  // order was approved or released (exposure rose).
  bool DecideOrders() {
    if (s_.orders_size() == 0) return false;
    const bool override_active = s_.release_until_ms() > now_;
    const bool on_hold = s_.block_status() == v1::BlockStatus::HOLD;
    const bool limit_known = s_.has_limit() || t_.has_default_credit_limit;
    const int64_t limit = s_.has_limit() ? s_.credit_limit() : t_.default_credit_limit;
    int64_t exposure = Exposure(s_);
    bool raised = false;
    for (auto& o : *s_.mutable_orders()) {
      if (o.status() == v1::OrderState::APPROVED) continue;
      std::vector<v1::OrderHoldReason> reasons;
      if (!override_active) {
        if (on_hold) reasons.push_back(v1::CUSTOMER_ON_HOLD);
        if (!limit_known) {
          reasons.push_back(v1::NO_CREDIT_LIMIT);
        } else if (exposure + o.amount() > limit) {
          reasons.push_back(v1::WOULD_EXCEED_LIMIT);
        }
      }
      const bool was_held = o.status() == v1::OrderState::HELD;
      if (reasons.empty()) {
        o.set_status(v1::OrderState::APPROVED);
        o.clear_reasons();
        s_.set_approved_orders(s_.approved_orders() + o.amount());
        exposure += o.amount();
        raised = true;
        EmitDecision(o, was_held ? v1::OrderDecision::RELEASED : v1::OrderDecision::APPROVED, exposure, limit,
                     limit_known);
        continue;
      }
      o.clear_reasons();
      for (auto r : reasons) o.add_reasons(r);
      if (!was_held) {
        o.set_status(v1::OrderState::HELD);
        EmitDecision(o, v1::OrderDecision::HELD, exposure + o.amount(), limit, limit_known);
      }
    }
    return raised;
  }

  void EmitDecision(const v1::OrderState& o, v1::OrderDecision::Decision d, int64_t exposure_after, int64_t limit,
                    bool limit_known) {
    // Every field is set: a reused decision's amounts and strings are written in place.
    v1::OrderDecision& out = out_.decisions.AddToOverwrite();
    std::string& output_id = *out.mutable_output_id();
    output_id.clear();
    AppendPath(output_id, s_.customer_id(), "order", o.order_id(), o.seq(), DecisionName(d));
    out.set_customer_id(s_.customer_id());
    out.set_order_id(o.order_id());
    SetMoney(*out.mutable_amount(), o.amount(), s_.currency());
    out.set_decision(d);
    out.clear_reasons();
    for (auto r : o.reasons()) out.add_reasons(static_cast<v1::OrderHoldReason>(r));
    SetMoney(*out.mutable_exposure_after(), exposure_after, s_.currency());
    if (limit_known) {
      SetMoney(*out.mutable_credit_limit(), limit, s_.currency());
    } else {
      out.clear_credit_limit();
    }
    out.set_at_ms(now_);
    out.set_cause_event_id(cause_);
  }

  v1::CustomerState& s_;
  const RuleThresholds& t_;
  int64_t now_;
  const std::string& cause_;
  StepOutputs& out_;
  AlertTracker alerts_;
};

}  // namespace

void PrefetchState(const v1::CustomerState& s) {
  __builtin_prefetch(&s.customer_id());
  __builtin_prefetch(&s.segment());
  __builtin_prefetch(&s.risk_class());
  __builtin_prefetch(&s.currency());
  auto packed = [](const auto& entries, int max) {  // the first `max` entries
    if (!entries.empty())
      PrefetchBytes(entries.data(), sizeof(entries.Get(0)) * static_cast<size_t>(std::min(entries.size(), max)));
  };
  auto array_of = [](const auto& items) {  // the array of pointers to the items
    if (!items.empty()) __builtin_prefetch(items.data());
  };
  packed(s.recent_event_ids(), kRecentEventIds);
  packed(s.invoice_index(), 16 * InvoiceIndex::kStride);  // read whole by the rules
  array_of(s.orders());
  array_of(s.payments());
  array_of(s.alerts());
}

bool MayRedeliverForgotten(const v1::CustomerState& state, const v1::Envelope& e) {
  const int64_t floor = state.has_dedup_floor_ms() ? state.dedup_floor_ms() : state.last_event_ms();
  return e.event_time_ms() <= floor && !SeenRecently(state, StableHash(e.event_id()));
}

void AppendLatestEventIds(const v1::CustomerState& state, int n, std::vector<uint64_t>& out) {
  const auto& ring = state.recent_event_ids();
  const int size = ring.size();
  n = std::min(n, size);
  // Not full, the ring holds the ids in order and the next position is its size; full,
  // the next position holds the oldest.
  const int next = static_cast<int>(state.recent_event_pos() % kRecentEventIds);
  for (int k = 0; k < n; ++k) out.push_back(ring.Get(((next - n + k) % size + size) % size));
}

StepResult CreditEngine::Apply(v1::CustomerState& s, const v1::Envelope& e, int64_t now_ms, StepOutputs& out) const {
  StepResult result;
  UpgradeState(s);
  const RuleThresholds& t0 = config_.For(s.segment(), s.risk_class());
  result.rejection = ValidateEnvelope(e, now_ms, t0.max_future_skew_ms);
  if (result.rejection.ok() && !s.customer_id().empty() && s.customer_id() != e.customer_id()) {
    result.rejection = {v1::KEY_MISMATCH, "event customer_id differs from the state's customer"};
  }
  if (!result.rejection.ok()) {
    result.kind = StepKind::kRejected;
    result.next_wake_ms = NextWake(s, now_ms);
    return result;
  }
  const uint64_t h = StableHash(e.event_id());
  if (SeenRecently(s, h)) {
    result.kind = StepKind::kDuplicate;
    result.next_wake_ms = NextWake(s, now_ms);
    return result;
  }
  const bool new_customer = s.customer_id().empty();
  if (new_customer) s.set_customer_id(e.customer_id());
  const FoldResult f = FoldEvent(s, e, t0);
  if (f.outcome != FoldOutcome::kApplied) {
    if (new_customer) s.clear_customer_id();
    result.kind = f.outcome == FoldOutcome::kDuplicate ? StepKind::kDuplicate : StepKind::kRejected;
    result.rejection = f.rejection;
    result.next_wake_ms = NextWake(s, now_ms);
    return result;
  }
  Remember(s, h);
  s.set_last_event_ms(std::max(s.last_event_ms(), e.event_time_ms()));
  // The ring forgets an id 32 events after it was applied: every id forgotten in the
  // coming round was applied by now. A new customer has forgotten none.
  if (new_customer) s.set_dedup_floor_ms(0);
  if (s.recent_event_pos() == 0) s.set_dedup_floor_ms(s.last_event_ms());
  result.unknown_allocations = f.unknown_allocations;

  const RuleThresholds& t = config_.For(s.segment(), s.risk_class());
  RuleRun run(s, t, now_ms, e.event_id(), out);
  if (f.payment_reversed) {
    s.add_bounces_ms(e.event_time_ms());
    run.Bounced(e.payment_reversed(), f.reopened_amount);
  }
  run.Run(GroupsFor(e.payload_case()));
  result.next_wake_ms = NextWake(s, now_ms, t);
  return result;
}

StepResult CreditEngine::Tick(v1::CustomerState& s, int64_t now_ms, StepOutputs& out) const {
  StepResult result;
  if (s.customer_id().empty()) return result;
  UpgradeState(s);
  static const std::string kNoCause;
  const RuleThresholds& t = config_.For(s.segment(), s.risk_class());
  RuleRun run(s, t, now_ms, kNoCause, out);
  run.Run(kAllGroups);
  result.next_wake_ms = NextWake(s, now_ms, t);
  return result;
}

int64_t CreditEngine::NextWake(const v1::CustomerState& s, int64_t now_ms) const {
  return NextWake(s, now_ms, config_.For(s.segment(), s.risk_class()));
}

int64_t CreditEngine::NextWake(const v1::CustomerState& s, int64_t now_ms, const RuleThresholds& t) const {
  int64_t best = std::numeric_limits<int64_t>::max();
  auto consider = [&](int64_t at) {
    if (at > now_ms && at < best) best = at;
  };
  const InvoiceIndex index(s);
  for (int i = 0; i < index.size(); ++i) {
    if (index.collectible(i) <= 0) continue;
    const int64_t due = index.due_ms(i);
    consider(due + kMsPerDay);  // overdue share of the score
    // Dunning levels ascend (validated): the first one still ahead is this invoice's next.
    for (const auto& d : t.dunning) {
      const int64_t at = due + int64_t{d.days_past_due} * kMsPerDay;
      if (at > now_ms) {
        consider(at);
        break;
      }
    }
    consider(due + int64_t{t.overdue_hold_days} * kMsPerDay);
  }
  // Every promise not judged yet: at its deadline it breaks, or, met, leaves the state.
  for (const auto& p : s.promises()) {
    if (!p.broken()) consider(p.promised_ms() + int64_t{t.promise_grace_days} * kMsPerDay);
  }
  if (s.manual_hold() && s.manual_hold_until_ms() > 0) consider(s.manual_hold_until_ms());
  if (s.release_until_ms() > 0) consider(s.release_until_ms());
  for (int64_t at : s.bounces_ms()) {
    consider(at + int64_t{t.bounce_window_days} * kMsPerDay);
    consider(at + int64_t{t.score_window_days} * kMsPerDay);
  }
  // A bounced payment not paid again: its alert resolves when it leaves the history.
  for (int i = 0; i < s.payment_unrepaid_size(); ++i) {
    if (s.payment_unrepaid(i) > 0) consider(s.payment_received_ms(i) + int64_t{t.payment_history_days} * kMsPerDay);
  }
  for (int64_t at : s.broken_promises_ms()) consider(at + int64_t{t.score_window_days} * kMsPerDay);
  for (int64_t at : s.observed_ms()) consider(at + int64_t{t.late_window_days} * kMsPerDay);
  return best == std::numeric_limits<int64_t>::max() ? 0 : best;
}

}  // namespace creditwatch::core
