#include "core/risk_score.h"

#include <algorithm>

#include "core/ledger.h"
#include "core/money.h"

namespace creditwatch::core {
namespace {

int32_t Scale(int64_t value, int64_t full, int32_t max_points) {
  if (value <= 0 || full <= 0) return 0;
  if (value >= full) return max_points;
  return static_cast<int32_t>(value * max_points / full);
}

}  // namespace

RiskScore ComputeRiskScore(const v1::CustomerState& s, const RuleThresholds& t, int64_t now_ms) {
  RiskScore r;
  // Utilization, in basis points, saturating at 150%.
  int64_t util_bp = 0;
  const int64_t exposure = Exposure(s);
  if (s.has_limit() && exposure > 0) {
    util_bp = s.credit_limit() > 0 ? RatioBp(exposure, s.credit_limit(), 15000) : 15000;
  }
  r.factors[0] = {"utilization", Scale(util_bp, 15000, 30), 30};

  int64_t overdue = 0;
  int64_t collectible = 0;
  const InvoiceIndex index(s);
  for (int i = 0; i < index.size(); ++i) {
    const int64_t c = std::max<int64_t>(index.collectible(i), 0);
    collectible += c;
    if (now_ms >= index.due_ms(i) + kMsPerDay) overdue += c;
  }
  const int64_t overdue_bp = collectible > 0 ? RatioBp(overdue, collectible) : 0;
  r.factors[1] = {"overdue_share", Scale(overdue_bp, 10000, 25), 25};

  const int64_t dbt_tenths =
      s.dbt_long_weight() > 0 ? static_cast<int64_t>(s.dbt_long_sum() / s.dbt_long_weight() * 10.0) : 0;
  r.factors[2] = {"days_beyond_terms", Scale(dbt_tenths, 600, 20), 20};

  const int64_t window_start = now_ms - int64_t{t.score_window_days} * kMsPerDay;
  const auto bounces =
      std::count_if(s.bounces_ms().begin(), s.bounces_ms().end(), [&](int64_t at) { return at > window_start; });
  r.factors[3] = {"bounces", static_cast<int32_t>(std::min<int64_t>(bounces * 8, 15)), 15};
  const auto broken = std::count_if(s.broken_promises_ms().begin(), s.broken_promises_ms().end(),
                                    [&](int64_t at) { return at > window_start; });
  r.factors[4] = {"broken_promises", static_cast<int32_t>(std::min<int64_t>(broken * 5, 10)), 10};

  for (const auto& f : r.factors) r.score += f.points;
  r.band = BandOfScore(r.score);
  return r;
}

int32_t BandOfScore(int32_t score) { return std::clamp(score / 20, 0, 4); }

char BandLetter(int32_t band) { return static_cast<char>('A' + std::clamp(band, 0, 4)); }

int32_t SettleBand(int32_t current_band, int32_t score, int32_t hysteresis) {
  const int32_t raw = BandOfScore(score);
  if (raw >= current_band) return raw;
  // Improve to the best band whose upper edge the score sits `hysteresis` below.
  int32_t band = current_band;
  while (band > raw && score < band * 20 - hysteresis) --band;
  return band;
}

}  // namespace creditwatch::core
