#include "core/rules_config.h"

#include <fmt/format.h>

#include <algorithm>

namespace creditwatch::core {

std::string RuleThresholds::Validate() const {
  auto bad = [](std::string_view key, std::string_view why) { return fmt::format("{}: {}", key, why); };
  if (utilization_warning_bp <= 0) return bad("utilization_warning_pct", "must be > 0");
  if (over_limit_bp <= 0) return bad("over_limit_pct", "must be > 0");
  if (utilization_warning_bp > over_limit_bp) {
    return bad("utilization_warning_pct", "must not exceed over_limit_pct");
  }
  if (resolve_ratio_bp <= 0 || resolve_ratio_bp > 10000) return bad("resolve_ratio_pct", "must be in (0, 100]");
  if (dunning.empty()) return bad("dunning_levels", "needs at least one level");
  for (size_t i = 0; i < dunning.size(); ++i) {
    if (dunning[i].days_past_due < 1) return bad("dunning_levels", "days must be >= 1");
    if (i > 0 && dunning[i].days_past_due <= dunning[i - 1].days_past_due) {
      return bad("dunning_levels", "days must be strictly ascending");
    }
    if (i > 0 && dunning[i].severity < dunning[i - 1].severity) {
      return bad("dunning_levels", "severity must not fall as days rise");
    }
    if (dunning[i].severity == v1::SEVERITY_UNSPECIFIED) return bad("dunning_levels", "severity missing");
  }
  if (promise_grace_days < 0) return bad("promise_grace_days", "must be >= 0");
  if (!(dbt_short_decay > 0.0 && dbt_short_decay < 1.0)) return bad("dbt_short_decay", "must be in (0, 1)");
  if (!(dbt_long_decay > 0.0 && dbt_long_decay < 1.0)) return bad("dbt_long_decay", "must be in (0, 1)");
  if (dbt_short_decay >= dbt_long_decay) return bad("dbt_short_decay", "must be below dbt_long_decay");
  if (deteriorating_gap_days < 1) return bad("deteriorating_gap_days", "must be >= 1");
  if (deteriorating_min_payments < 1) return bad("deteriorating_min_payments", "must be >= 1");
  if (late_window_days < 1) return bad("late_window_days", "must be >= 1");
  if (late_share_bp <= 0 || late_share_bp > 10000) return bad("late_share_pct", "must be in (0, 100]");
  if (late_min_payments < 1) return bad("late_min_payments", "must be >= 1");
  if (late_after_days < 0) return bad("late_after_days", "must be >= 0");
  if (overdue_hold_days < 1) return bad("overdue_hold_days", "must be >= 1");
  if (bounce_window_days < 1) return bad("bounce_window_days", "must be >= 1");
  if (bounce_hold_count < 1) return bad("bounce_hold_count", "must be >= 1");
  if (score_window_days < 1) return bad("score_window_days", "must be >= 1");
  if (score_hysteresis_points < 0 || score_hysteresis_points > 19) {
    return bad("score_hysteresis_points", "must be in [0, 19]");
  }
  if (has_default_credit_limit && default_credit_limit < 0) return bad("default_credit_limit", "must be >= 0");
  if (max_future_skew_ms < 0) return bad("max_future_skew_seconds", "must be >= 0");
  if (payment_history_days < 1) return bad("payment_history_days", "must be >= 1");
  return "";
}

RulesConfig::RulesConfig() = default;

RulesConfig::RulesConfig(RuleThresholds defaults,
                         std::map<std::string, RuleThresholds, std::less<>> by_segment_and_class)
    : defaults_(std::move(defaults)) {
  for (const auto& [key, _] : by_segment_and_class) {
    const auto sep = key.find('\x1f');
    const std::string seg = key.substr(0, sep);
    const std::string cls = key.substr(sep + 1);
    if (!seg.empty() && std::find(segments_.begin(), segments_.end(), seg) == segments_.end()) {
      segments_.push_back(seg);
    }
    if (!cls.empty() && std::find(classes_.begin(), classes_.end(), cls) == classes_.end()) {
      classes_.push_back(cls);
    }
  }
  if (by_segment_and_class.empty()) return;
  // Every (segment, class) pair resolved once: For() runs a few times per event.
  grid_.reserve((segments_.size() + 1) * (classes_.size() + 1));
  for (size_t si = 0; si <= segments_.size(); ++si) {
    for (size_t ci = 0; ci <= classes_.size(); ++ci) {
      const auto it = by_segment_and_class.find(Key(si == 0 ? "" : segments_[si - 1], ci == 0 ? "" : classes_[ci - 1]));
      grid_.push_back(it == by_segment_and_class.end() ? defaults_ : it->second);
    }
  }
}

namespace {
// 0 for a name not in `names` (the default row), else its position + 1.
size_t RowOf(const std::vector<std::string>& names, std::string_view name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return i + 1;
  }
  return 0;
}
}  // namespace

std::string RulesConfig::Key(std::string_view segment, std::string_view risk_class) {
  std::string key(segment);
  key.push_back('\x1f');
  key.append(risk_class);
  return key;
}

const RuleThresholds& RulesConfig::For(std::string_view segment, std::string_view risk_class) const {
  if (grid_.empty()) return defaults_;
  // Unknown names fall back to the default ("") row of their dimension.
  return grid_[RowOf(segments_, segment) * (classes_.size() + 1) + RowOf(classes_, risk_class)];
}

}  // namespace creditwatch::core
