// JSON views of a customer's credit state for people and order systems. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "core/rules_config.h"
#include "creditwatch/v1/state.pb.h"
#include "store/status_board.h"

namespace creditwatch::api {

// {customer_id, status, reasons, overridden, override_until, since, since_ms, version}
nlohmann::json BlockStatusJson(const v1::CustomerState& s);
nlohmann::json BlockStatusJson(const std::string& customer_id, const store::BlockView& v);

// The explained credit state: limit, exposure and its parts, utilization, overdue items,
// score and band with each factor's contribution, active alerts, held orders.
nlohmann::json CustomerJson(const v1::CustomerState& s, const core::RuleThresholds& t, int64_t now_ms);

// "2026-11-25T10:00:00.000Z"; empty for 0.
std::string IsoTime(int64_t ms);
// Parses "2026-11-25T10:00:00Z" (fractional seconds allowed); false when malformed.
bool ParseIsoTime(const std::string& text, int64_t* ms);

}  // namespace creditwatch::api
