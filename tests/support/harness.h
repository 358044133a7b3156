// Test helper: drives a CreditEngine over one customer's state with explicit time.
#pragma once

#include <string>
#include <vector>

#include "core/credit_engine.h"
#include "support/events.h"

namespace cwtest {

namespace core = creditwatch::core;

struct Harness {
  explicit Harness(core::RulesConfig cfg = core::RulesConfig()) : engine(std::move(cfg)) {}

  // Applies at the event's own time unless `now` is given. Keeps only this step's outputs.
  core::StepResult Apply(const v1::Envelope& e, int64_t now = -1) {
    out.Clear();
    last = engine.Apply(state, e, now < 0 ? e.event_time_ms() : now, out);
    return last;
  }
  core::StepResult Tick(int64_t now) {
    out.Clear();
    last = engine.Tick(state, now, out);
    return last;
  }
  // Ticks at every wake time up to `until`, then at `until`; collects all outputs.
  core::StepOutputs RunTimersUntil(int64_t until) {
    core::StepOutputs all;
    int64_t wake = engine.NextWake(state, now_hint);
    while (wake != 0 && wake <= until) {
      Tick(wake);
      Append(all);
      now_hint = wake;
      wake = last.next_wake_ms;
    }
    Tick(until);
    Append(all);
    now_hint = until;
    out = all;
    return all;
  }

  std::vector<v1::Alert> Alerts(v1::Rule rule) const {
    std::vector<v1::Alert> r;
    for (const auto& a : out.alerts) {
      if (a.rule() == rule) r.push_back(a);
    }
    return r;
  }
  bool Active(v1::Rule rule, const std::string& subject = "") const {
    for (const auto& a : state.alerts()) {
      if (a.rule() == rule && a.subject() == subject) return true;
    }
    return false;
  }

  core::CreditEngine engine;
  v1::CustomerState state;
  core::StepOutputs out;
  core::StepResult last;
  int64_t now_hint = 0;

 private:
  void Append(core::StepOutputs& all) const { all.Append(out); }
};

}  // namespace cwtest
