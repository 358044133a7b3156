// The credit-risk decision core: a pure, deterministic function of
// (customer state, event or due timer, now) -> (new state, outputs, next wake time).
// No I/O and no clock reads: time comes in as an argument. A CreditEngine holds only
// immutable configuration, so one instance may be shared by threads that work on
// different customers' states.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/output_list.h"
#include "core/rules_config.h"
#include "core/validation.h"
#include "creditwatch/v1/events.pb.h"
#include "creditwatch/v1/outputs.pb.h"
#include "creditwatch/v1/state.pb.h"

namespace creditwatch::core {

// Outputs of one or more steps, appended in the order they happened.
struct StepOutputs {
  OutputList<v1::Alert> alerts;
  OutputList<v1::BlockStatus> blocks;
  OutputList<v1::OrderDecision> decisions;

  void Clear() {
    alerts.clear();
    blocks.clear();
    decisions.clear();
  }
  void Append(const StepOutputs& other) {
    alerts.Append(other.alerts);
    blocks.Append(other.blocks);
    decisions.Append(other.decisions);
  }
  size_t size() const { return alerts.size() + blocks.size() + decisions.size(); }
};

enum class StepKind { kApplied, kDuplicate, kRejected };

struct StepResult {
  StepKind kind = StepKind::kApplied;
  Rejection rejection;          // when kRejected: the state is unchanged
  int unknown_allocations = 0;  // payment parts kept as unapplied cash (a warning)
  // When the customer next needs a Tick (a deadline or a window edge); 0 = never.
  int64_t next_wake_ms = 0;
};

class CreditEngine {
 public:
  explicit CreditEngine(RulesConfig config) : config_(std::move(config)) {}

  // Applies one input event. `state` must belong to e.customer_id() (an empty state is a
  // new customer). Validation failures and duplicates leave `state` unchanged.
  StepResult Apply(v1::CustomerState& state, const v1::Envelope& e, int64_t now_ms, StepOutputs& out) const;

  // Fires what is due at `now_ms` (dunning levels, broken promises, hold expiries,
  // window edges). Harmless when nothing is due.
  StepResult Tick(v1::CustomerState& state, int64_t now_ms, StepOutputs& out) const;

  // The earliest future time at which Tick would change something; 0 = none.
  int64_t NextWake(const v1::CustomerState& state, int64_t now_ms) const;

  const RulesConfig& config() const { return config_; }

 private:
  // NextWake with the thresholds the caller has resolved for the state already.
  int64_t NextWake(const v1::CustomerState& state, int64_t now_ms, const RuleThresholds& t) const;
  void Evaluate(v1::CustomerState& s, int64_t now_ms, const std::string& cause, StepOutputs& out) const;

  RulesConfig config_;
};

// Starts fetching from memory what a step on `state` reads first and the message does
// not hold itself: its text fields, its ring of recent ids, the packed index of its open
// invoices, and the arrays of its orders, payments and alerts. Reads only the message.
void PrefetchState(const v1::CustomerState& state);

// Whether the event may re-deliver one of the customer's events that the state no
// longer tells apart: it is not later than the dedup floor and not in the ring of recent
// ids. Only such an event needs the caller's longer memory of applied ids; Apply itself
// reports one in the ring as a duplicate.
bool MayRedeliverForgotten(const v1::CustomerState& state, const v1::Envelope& e);

// How many of a customer's latest applied event ids its state holds (the ring).
inline constexpr int kRecentEventIds = 32;

// Appends the ids (StableHash) of the customer's latest `n` applied events to `out`,
// oldest first: of those the ring holds, so at most kRecentEventIds. A caller that keeps
// the ids longer (the engine's archive) takes them from here before the ring forgets them.
void AppendLatestEventIds(const v1::CustomerState& state, int n, std::vector<uint64_t>& out);

}  // namespace creditwatch::core
