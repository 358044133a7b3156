// Alert lifecycle for one customer within one step. An alert is identified by
// (customer, rule, subject) and an episode number drawn from a per-customer sequence
// that is never reused, so ids derived from it are unique and reproducible. Emits only
// transitions: FIRING (new episode, or a new grade = severity or level) and RESOLVED.
// Not thread-safe; lives for one step.
#pragma once

#include <fmt/compile.h>
#include <fmt/format.h>

#include <iterator>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/output_list.h"
#include "core/repeated.h"
#include "creditwatch/v1/outputs.pb.h"
#include "creditwatch/v1/state.pb.h"

namespace creditwatch::core {

class AlertTracker {
 public:
  AlertTracker(v1::CustomerState& state, int64_t now_ms, std::string_view cause_event_id, OutputList<v1::Alert>* out);

  // Whether any alert of `rule` is active. Most rules have none most of the time, so
  // the lookups below answer from a count per rule before they scan.
  bool Any(v1::Rule rule) const { return Count(rule) > 0; }
  // How many alerts of `rule` are active.
  int Count(v1::Rule rule) const {
    const int b = Bucket(rule);
    return b == kBuckets - 1 ? s_.alerts_size() : active_[b];
  }

  // The active alert for (rule, subject), or nullptr.
  const v1::AlertState* Active(v1::Rule rule, std::string_view subject) const;

  // Raises the alert or keeps it; emits FIRING when it is new or its grade changed.
  // `explain(v1::Alert&)` fills summary and evidence, and runs only when emitting.
  // `baseline` is stored with a new episode (SCORE_DOWNGRADE keeps the band before).
  template <typename Explain>
  void Fire(v1::Rule rule, std::string_view subject, v1::Severity severity, int32_t level, Explain&& explain,
            int32_t baseline = 0) {
    v1::AlertState* a = FindMutable(rule, subject);
    if (a != nullptr && a->severity() == severity && a->level() == level) return;
    if (a == nullptr) a = Open(rule, subject, baseline);
    a->set_severity(severity);
    a->set_level(level);
    v1::Alert& alert = Emit(*a, v1::Alert::FIRING);
    explain(alert);
  }

  // Resolves the alert if it is active; emits RESOLVED.
  template <typename Explain>
  void Resolve(v1::Rule rule, std::string_view subject, Explain&& explain) {
    const int idx = IndexOf(rule, subject);
    if (idx < 0) return;
    v1::Alert& alert = Emit(*s_.mutable_alerts(idx), v1::Alert::RESOLVED);
    explain(alert);
    RemoveAt(*s_.mutable_alerts(), idx);
    --active_[Bucket(rule)];
  }
  void Resolve(v1::Rule rule, std::string_view subject) {
    Resolve(rule, subject, [](v1::Alert&) {});
  }

 private:
  // Rules past the known ones share the last bucket, which is never trusted to be empty.
  static constexpr int kBuckets = v1::Rule_ARRAYSIZE + 1;
  static int Bucket(v1::Rule rule) { return rule >= 0 && rule < v1::Rule_ARRAYSIZE ? rule : kBuckets - 1; }
  int IndexOf(v1::Rule rule, std::string_view subject) const;
  v1::AlertState* FindMutable(v1::Rule rule, std::string_view subject);
  v1::AlertState* Open(v1::Rule rule, std::string_view subject, int32_t baseline);
  v1::Alert& Emit(v1::AlertState& a, v1::Alert::Status status);

  v1::CustomerState& s_;
  int64_t now_ms_;
  std::string_view cause_;
  OutputList<v1::Alert>* out_;
  int active_[kBuckets] = {};  // active alerts per rule
};

// Writes the alert's summary in place: a reused output keeps the string's capacity.
// `format` is a FMT_COMPILE string, parsed at compile time: summaries are written for
// every alert transition, and parsing their formats at run time was most of their cost.
template <typename Format, typename... Args>
void SetSummary(v1::Alert& a, const Format& format, Args&&... args) {
  std::string& text = *a.mutable_summary();
  text.clear();
  fmt::format_to(std::back_inserter(text), format, std::forward<Args>(args)...);
}

// Evidence helpers.
void AddInt(v1::Alert& a, std::string_view name, int64_t v);
void AddMoney(v1::Alert& a, std::string_view name, int64_t minor, std::string_view currency);
// Writes an amount into a (possibly reused) money message. A reused message mostly holds
// the currency already: comparing is inline, setting is a call into the library that
// copies.
inline void SetMoney(v1::Money& m, int64_t minor, std::string_view currency) {
  m.set_minor(minor);
  if (m.currency() != currency) m.mutable_currency()->assign(currency);
}
void AddBasisPoints(v1::Alert& a, std::string_view name, int64_t bp);
void AddTenths(v1::Alert& a, std::string_view name, int64_t tenths);
void AddText(v1::Alert& a, std::string_view name, std::string_view text);

// "warning", "critical", ...
const char* SeverityName(v1::Severity s);

}  // namespace creditwatch::core
