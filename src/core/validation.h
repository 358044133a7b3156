// Structural validation of an input event, before it touches any state.
// Pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "creditwatch/v1/events.pb.h"
#include "creditwatch/v1/outputs.pb.h"

namespace creditwatch::core {

struct Rejection {
  v1::RejectReason reason = v1::REJECT_REASON_UNSPECIFIED;
  std::string detail;  // names the field and why
  bool ok() const { return reason == v1::REJECT_REASON_UNSPECIFIED; }
};

// Checks ids, amounts, currency codes, dates and the payload kind. `now_ms` bounds the
// event time from above by `max_future_skew_ms`. Currency agreement with the customer
// is checked by the ledger, which knows the customer's currency.
Rejection ValidateEnvelope(const v1::Envelope& e, int64_t now_ms, int64_t max_future_skew_ms);

// Short lower-case name of the payload kind ("invoice_issued"); "none" when unset.
const char* PayloadName(const v1::Envelope& e);

}  // namespace creditwatch::core
