#include "core/alert_tracker.h"

#include "core/enum_names.h"
#include "core/id_path.h"

namespace creditwatch::core {

AlertTracker::AlertTracker(v1::CustomerState& state, int64_t now_ms, std::string_view cause_event_id,
                           OutputList<v1::Alert>* out)
    : s_(state), now_ms_(now_ms), cause_(cause_event_id), out_(out) {
  for (const auto& a : s_.alerts()) ++active_[Bucket(a.rule())];
}

int AlertTracker::IndexOf(v1::Rule rule, std::string_view subject) const {
  if (Count(rule) == 0) return -1;
  for (int i = 0; i < s_.alerts_size(); ++i) {
    const auto& a = s_.alerts(i);
    if (a.rule() == rule && a.subject() == subject) return i;
  }
  return -1;
}

const v1::AlertState* AlertTracker::Active(v1::Rule rule, std::string_view subject) const {
  const int idx = IndexOf(rule, subject);
  return idx < 0 ? nullptr : &s_.alerts(idx);
}

v1::AlertState* AlertTracker::FindMutable(v1::Rule rule, std::string_view subject) {
  const int idx = IndexOf(rule, subject);
  return idx < 0 ? nullptr : s_.mutable_alerts(idx);
}

v1::AlertState* AlertTracker::Open(v1::Rule rule, std::string_view subject, int32_t baseline) {
  auto* a = s_.add_alerts();
  ++active_[Bucket(rule)];
  a->set_rule(rule);
  a->set_subject(std::string(subject));
  s_.set_alert_seq(s_.alert_seq() + 1);
  a->set_episode(s_.alert_seq());
  a->set_since_ms(now_ms_);
  a->set_baseline(baseline);
  return a;
}

v1::Alert& AlertTracker::Emit(v1::AlertState& a, v1::Alert::Status status) {
  a.set_transitions(a.transitions() + 1);
  v1::Alert& out = out_->Add();  // cleared: its strings keep their capacity
  // Stable id of an episode: "<customer>/<RULE>/<subject>/<episode>". A transition's
  // output id appends its number within the episode and its kind.
  std::string& alert_id = *out.mutable_alert_id();
  AppendPath(alert_id, s_.customer_id(), RuleName(a.rule()), a.subject(), a.episode());
  std::string& output_id = *out.mutable_output_id();
  AppendPath(output_id, alert_id, a.transitions());
  output_id.append(status == v1::Alert::RESOLVED ? "-resolved" : "-firing");
  out.set_customer_id(s_.customer_id());
  out.set_rule(a.rule());
  out.set_subject(a.subject());
  out.set_episode(a.episode());
  out.set_status(status);
  out.set_severity(a.severity());
  out.set_level(a.level());
  out.set_at_ms(now_ms_);
  out.mutable_cause_event_id()->assign(cause_);
  return out;
}

namespace {
v1::Evidence* Add(v1::Alert& a, std::string_view name) {
  auto* e = a.add_evidence();
  e->mutable_name()->assign(name);
  return e;
}
}  // namespace

void AddInt(v1::Alert& a, std::string_view name, int64_t v) { Add(a, name)->set_int_value(v); }
void AddMoney(v1::Alert& a, std::string_view name, int64_t minor, std::string_view currency) {
  SetMoney(*Add(a, name)->mutable_money(), minor, currency);
}
void AddBasisPoints(v1::Alert& a, std::string_view name, int64_t bp) { Add(a, name)->set_basis_points(bp); }
void AddTenths(v1::Alert& a, std::string_view name, int64_t tenths) { Add(a, name)->set_tenths(tenths); }
void AddText(v1::Alert& a, std::string_view name, std::string_view text) { Add(a, name)->mutable_text()->assign(text); }

const char* SeverityName(v1::Severity s) {
  switch (s) {
    case v1::INFO: return "info";
    case v1::WARNING: return "warning";
    case v1::MAJOR: return "major";
    case v1::CRITICAL: return "critical";
    default: return "unspecified";
  }
}

}  // namespace creditwatch::core
