// Detection thresholds and block/order policy. One validated struct with the default
// beside each field; overrides per customer segment and per risk class are resolved
// once at load time into immutable tables. Thread-safe after construction.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "creditwatch/v1/outputs.pb.h"

namespace creditwatch::core {

inline constexpr int64_t kMsPerDay = 86'400'000;

struct DunningStep {
  int32_t days_past_due;
  v1::Severity severity;
};

struct RuleThresholds {
  // Credit limit. Utilization in basis points (10000 = 100%).
  int64_t utilization_warning_bp = 8000;  // Default: 80%: UTILIZATION_HIGH (warning)
  int64_t over_limit_bp = 10000;          // Default: above 100%: OVER_LIMIT (critical)
  // An alert on a ratio resolves below this share of its threshold (hysteresis).
  int64_t resolve_ratio_bp = 9500;  // Default: 95%

  // Missed deadlines: dunning levels, ascending.
  std::vector<DunningStep> dunning = {
      {1, v1::INFO}, {15, v1::WARNING}, {30, v1::MAJOR}, {60, v1::CRITICAL}, {90, v1::CRITICAL}};

  // Promises to pay: broken when not met in full by the date plus grace.
  int32_t promise_grace_days = 1;  // Default: 1

  // Deteriorating behaviour: amount-weighted EWMAs of days beyond terms.
  double dbt_short_decay = 0.5;            // Default: 0.5 (weight kept per payment)
  double dbt_long_decay = 0.9;             // Default: 0.9
  int32_t deteriorating_gap_days = 10;     // Default: short - long >= 10 days
  int32_t deteriorating_min_payments = 3;  // Default: 3 payments of history
  int32_t late_window_days = 90;           // Default: trailing window for the late share
  int64_t late_share_bp = 5000;            // Default: more than 50% of payments late
  int32_t late_min_payments = 3;           // Default: 3 payments in the window
  int32_t late_after_days = 0;             // Default: late = more than 0 days beyond terms

  // Block policy.
  int32_t overdue_hold_days = 30;   // Default: oldest item >= 30 days past due
  int32_t bounce_window_days = 90;  // Default: 90
  int32_t bounce_hold_count = 2;    // Default: >= 2 bounces in the window

  // Risk score.
  int32_t score_window_days = 90;       // Default: 90 (bounces, broken promises)
  int32_t score_hysteresis_points = 5;  // Default: 5 points below a band to improve

  // Orders when no credit limit is known: held (NO_CREDIT_LIMIT) unless a default is set.
  bool has_default_credit_limit = false;  // Default: false
  int64_t default_credit_limit = 0;       // Default: 0 (minor units, customer currency)

  // Validation and retention.
  int64_t max_future_skew_ms = 300'000;  // Default: 5 minutes
  int32_t payment_history_days = 180;    // Default: reversals accepted for 180 days

  // Returns "" when valid, else "<key>: <why>" naming the first bad field.
  std::string Validate() const;
};

// Per-segment and per-risk-class thresholds, already merged with the defaults.
// Risk-class overrides apply on top of segment overrides.
class RulesConfig {
 public:
  RulesConfig();  // defaults only
  // REQUIRES: every table entry passed Validate().
  RulesConfig(RuleThresholds defaults, std::map<std::string, RuleThresholds, std::less<>> by_segment_and_class);

  const RuleThresholds& For(std::string_view segment, std::string_view risk_class) const;
  const RuleThresholds& defaults() const { return defaults_; }

  // Key used in the table passed to the constructor.
  static std::string Key(std::string_view segment, std::string_view risk_class);

 private:
  RuleThresholds defaults_;
  std::vector<std::string> segments_;
  std::vector<std::string> classes_;
  // The thresholds of every (segment, class) pair, the default ("") row first in each
  // dimension: row (segment position + 1) * (classes + 1) + (class position + 1).
  std::vector<RuleThresholds> grid_;
};

}  // namespace creditwatch::core
