// Risk score 0 (no risk) to 100 and band A (0) to E (4), with the contribution of each
// factor so an alert can show why. Pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>

#include "core/rules_config.h"
#include "creditwatch/v1/state.pb.h"

namespace creditwatch::core {

struct ScoreFactor {
  const char* name;
  int32_t points;  // contribution to the score
  int32_t max_points;
};

struct RiskScore {
  int32_t score = 0;
  int32_t band = 0;  // raw band of `score`, before hysteresis
  std::array<ScoreFactor, 5> factors{};
};

// Factors (max points): utilization 30 (at 150%), overdue share of receivables 25,
// long-term days beyond terms 20 (at 60 days), bounces in the window 15, broken
// promises in the window 10.
RiskScore ComputeRiskScore(const v1::CustomerState& s, const RuleThresholds& t, int64_t now_ms);

int32_t BandOfScore(int32_t score);  // 0..19 A, 20..39 B, 40..59 C, 60..79 D, 80..100 E
char BandLetter(int32_t band);

// The band after hysteresis: worsens at once, improves only when the score is
// `hysteresis` points inside the better band.
int32_t SettleBand(int32_t current_band, int32_t score, int32_t hysteresis);

}  // namespace creditwatch::core
