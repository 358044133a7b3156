#include "api/customer_view.h"

#include <fmt/format.h>

#include <ctime>

#include "core/ledger.h"
#include "core/money.h"
#include "core/risk_score.h"

namespace creditwatch::api {
namespace {

using nlohmann::json;

json Money(int64_t minor, const std::string& currency) {
  return {{"minor", minor}, {"currency", currency}, {"text", core::FormatMoney(minor, currency)}};
}

json Reasons(const core::ReasonList& reasons) {
  json out = json::array();
  for (size_t i = 0; i < reasons.size(); ++i) {
    const std::string& name = v1::BlockReason_Name(reasons[i]);
    out.push_back(name.rfind("BLOCK_", 0) == 0 ? name.substr(6) : name);
  }
  return out;
}

}  // namespace

std::string IsoTime(int64_t ms) {
  if (ms == 0) return "";
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

bool ParseIsoTime(const std::string& text, int64_t* ms) {
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) return false;
  int64_t frac = 0;
  if (*rest == '.') {
    ++rest;
    int digits = 0;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 3) frac = frac * 10 + (*rest - '0');
      ++digits;
      ++rest;
    }
    for (; digits < 3; ++digits) frac *= 10;
  }
  // Exactly one 'Z' left (a NUL inside the text ends c_str() early: not accepted).
  if (*rest != 'Z' || rest + 1 != text.c_str() + text.size()) return false;
  const std::tm given = tm;
  const time_t secs = timegm(&tm);
  // A date that does not exist (2026-02-31, 23:59:60) is normalized by timegm: refused.
  std::tm back{};
  gmtime_r(&secs, &back);
  if (back.tm_year != given.tm_year || back.tm_mon != given.tm_mon || back.tm_mday != given.tm_mday ||
      back.tm_hour != given.tm_hour || back.tm_min != given.tm_min || back.tm_sec != given.tm_sec) {
    return false;
  }
  *ms = static_cast<int64_t>(secs) * 1000 + frac;
  return true;
}

json BlockStatusJson(const v1::CustomerState& s) { return BlockStatusJson(s.customer_id(), store::BlockView::Of(s)); }

json BlockStatusJson(const std::string& customer_id, const store::BlockView& v) {
  json j = {{"customer_id", customer_id},    {"status", v.hold ? "HOLD" : "CLEAR"},
            {"reasons", Reasons(v.reasons)}, {"overridden", Reasons(v.overridden)},
            {"since", IsoTime(v.since_ms)},  {"since_ms", v.since_ms},
            {"version", v.version}};
  if (v.release_until_ms > 0) j["override_until"] = IsoTime(v.release_until_ms);
  return j;
}

json CustomerJson(const v1::CustomerState& s, const core::RuleThresholds& t, int64_t now_ms) {
  const std::string& cur = s.currency();
  const int64_t exposure = core::Exposure(s);
  json j = {{"customer_id", s.customer_id()},
            {"name", s.name()},
            {"segment", s.segment()},
            {"risk_class", s.risk_class()},
            {"credit_manager", s.credit_manager()},
            {"currency", cur},
            {"payment_terms_days", s.payment_terms_days()},
            {"exposure", Money(exposure, cur)},
            {"open_receivables", Money(s.open_receivables(), cur)},
            {"approved_orders", Money(s.approved_orders(), cur)},
            {"unapplied_cash", Money(s.unapplied_cash(), cur)},
            {"block", BlockStatusJson(s)}};
  if (s.has_limit()) {
    j["credit_limit"] = Money(s.credit_limit(), cur);
    if (s.credit_limit() > 0) {
      const int64_t bp = core::RatioBp(exposure, s.credit_limit());
      j["utilization"] = {{"basis_points", bp}, {"text", core::FormatBasisPoints(bp)}};
    }
  } else {
    j["credit_limit"] = nullptr;
  }
  json overdue = json::array();
  for (const auto& inv : s.invoices()) {
    const int64_t collectible = core::CollectibleAmount(inv);
    if (collectible <= 0 || now_ms < inv.due_ms() + core::kMsPerDay) continue;
    overdue.push_back({{"invoice_id", inv.invoice_id()},
                       {"collectible", Money(collectible, cur)},
                       {"disputed", Money(inv.disputed(), cur)},
                       {"due", IsoTime(inv.due_ms())},
                       {"days_past_due", (now_ms - inv.due_ms()) / core::kMsPerDay}});
  }
  j["overdue_items"] = overdue;
  const core::RiskScore r = core::ComputeRiskScore(s, t, now_ms);
  json factors = json::array();
  for (const auto& f : r.factors) {
    factors.push_back({{"factor", f.name}, {"points", f.points}, {"max_points", f.max_points}});
  }
  j["risk"] = {{"score", r.score}, {"band", std::string(1, core::BandLetter(s.band()))}, {"factors", factors}};
  json alerts = json::array();
  for (const auto& a : s.alerts()) {
    alerts.push_back({{"rule", v1::Rule_Name(a.rule())},
                      {"subject", a.subject()},
                      {"severity", v1::Severity_Name(a.severity())},
                      {"level", a.level()},
                      {"episode", a.episode()},
                      {"since", IsoTime(a.since_ms())}});
  }
  j["active_alerts"] = alerts;
  json held = json::array();
  for (const auto& o : s.orders()) {
    if (o.status() != v1::OrderState::HELD) continue;
    json reasons = json::array();
    for (int r2 : o.reasons()) reasons.push_back(v1::OrderHoldReason_Name(static_cast<v1::OrderHoldReason>(r2)));
    held.push_back({{"order_id", o.order_id()},
                    {"amount", Money(o.amount(), cur)},
                    {"placed", IsoTime(o.placed_ms())},
                    {"reasons", reasons}});
  }
  j["held_orders"] = held;
  return j;
}

}  // namespace creditwatch::api
