#include "config/app_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>

namespace creditwatch::config {
namespace {

using core::RuleThresholds;

// Thrown inside this file only, turned into a Status at the boundary.
struct ConfigError {
  std::string message;
};

[[noreturn]] void Fail(const std::string& key, const std::string& why) { throw ConfigError{key + ": " + why}; }

template <typename T>
T Scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) Fail(key, "expected a scalar");
  try {
    return n.as<T>();
  } catch (const YAML::Exception&) {
    Fail(key, fmt::format("'{}' is not a valid value", n.Scalar()));
  }
}

int64_t PercentToBp(const YAML::Node& n, const std::string& key) {
  const double pct = Scalar<double>(n, key);
  if (!std::isfinite(pct)) Fail(key, "must be a finite number");
  return std::llround(pct * 100.0);
}

v1::Severity ParseSeverity(const YAML::Node& n, const std::string& key) {
  const auto s = Scalar<std::string>(n, key);
  if (s == "info") return v1::INFO;
  if (s == "warning") return v1::WARNING;
  if (s == "major") return v1::MAJOR;
  if (s == "critical") return v1::CRITICAL;
  Fail(key, fmt::format("'{}' is not one of info, warning, major, critical", s));
}

using Setter = std::function<void(const YAML::Node&, const std::string&, RuleThresholds&)>;

const std::map<std::string, Setter>& Setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"utilization_warning_pct", [](auto& n, auto& k, auto& t) { t.utilization_warning_bp = PercentToBp(n, k); }},
      {"over_limit_pct", [](auto& n, auto& k, auto& t) { t.over_limit_bp = PercentToBp(n, k); }},
      {"resolve_ratio_pct", [](auto& n, auto& k, auto& t) { t.resolve_ratio_bp = PercentToBp(n, k); }},
      {"dunning_levels",
       [](auto& n, auto& k, auto& t) {
         if (!n.IsSequence()) Fail(k, "expected a list of {days, severity}");
         t.dunning.clear();
         for (size_t i = 0; i < n.size(); ++i) {
           const std::string ik = fmt::format("{}[{}]", k, i);
           if (!n[i].IsMap()) Fail(ik, "expected {days, severity}");
           t.dunning.push_back(
               {Scalar<int32_t>(n[i]["days"], ik + ".days"), ParseSeverity(n[i]["severity"], ik + ".severity")});
         }
       }},
      {"promise_grace_days", [](auto& n, auto& k, auto& t) { t.promise_grace_days = Scalar<int32_t>(n, k); }},
      {"dbt_short_decay", [](auto& n, auto& k, auto& t) { t.dbt_short_decay = Scalar<double>(n, k); }},
      {"dbt_long_decay", [](auto& n, auto& k, auto& t) { t.dbt_long_decay = Scalar<double>(n, k); }},
      {"deteriorating_gap_days", [](auto& n, auto& k, auto& t) { t.deteriorating_gap_days = Scalar<int32_t>(n, k); }},
      {"deteriorating_min_payments",
       [](auto& n, auto& k, auto& t) { t.deteriorating_min_payments = Scalar<int32_t>(n, k); }},
      {"late_window_days", [](auto& n, auto& k, auto& t) { t.late_window_days = Scalar<int32_t>(n, k); }},
      {"late_share_pct", [](auto& n, auto& k, auto& t) { t.late_share_bp = PercentToBp(n, k); }},
      {"late_min_payments", [](auto& n, auto& k, auto& t) { t.late_min_payments = Scalar<int32_t>(n, k); }},
      {"late_after_days", [](auto& n, auto& k, auto& t) { t.late_after_days = Scalar<int32_t>(n, k); }},
      {"overdue_hold_days", [](auto& n, auto& k, auto& t) { t.overdue_hold_days = Scalar<int32_t>(n, k); }},
      {"bounce_window_days", [](auto& n, auto& k, auto& t) { t.bounce_window_days = Scalar<int32_t>(n, k); }},
      {"bounce_hold_count", [](auto& n, auto& k, auto& t) { t.bounce_hold_count = Scalar<int32_t>(n, k); }},
      {"score_window_days", [](auto& n, auto& k, auto& t) { t.score_window_days = Scalar<int32_t>(n, k); }},
      {"score_hysteresis_points", [](auto& n, auto& k, auto& t) { t.score_hysteresis_points = Scalar<int32_t>(n, k); }},
      {"default_credit_limit",
       [](auto& n, auto& k, auto& t) {
         if (n.IsNull()) {
           t.has_default_credit_limit = false;
           return;
         }
         t.has_default_credit_limit = true;
         t.default_credit_limit = Scalar<int64_t>(n, k);
       }},
      {"max_future_skew_seconds",
       [](auto& n, auto& k, auto& t) { t.max_future_skew_ms = Scalar<int64_t>(n, k) * 1000; }},
      {"payment_history_days", [](auto& n, auto& k, auto& t) { t.payment_history_days = Scalar<int32_t>(n, k); }},
  };
  return kSetters;
}

void ApplyThresholds(const YAML::Node& node, const std::string& path, RuleThresholds& t) {
  if (!node || node.IsNull()) return;
  if (!node.IsMap()) Fail(path, "expected a map of thresholds");
  for (const auto& kv : node) {
    const auto name = kv.first.as<std::string>();
    const auto it = Setters().find(name);
    const std::string key = path + "." + name;
    if (it == Setters().end()) Fail(key, "unknown key");
    it->second(kv.second, key, t);
  }
}

std::map<std::string, YAML::Node> Named(const YAML::Node& node, const std::string& path) {
  std::map<std::string, YAML::Node> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) Fail(path, "expected a map of name -> thresholds");
  for (const auto& kv : node) out[kv.first.as<std::string>()] = kv.second;
  return out;
}

core::RulesConfig ParseRules(const YAML::Node& rules) {
  if (!rules || rules.IsNull()) return core::RulesConfig();
  if (!rules.IsMap()) Fail("rules", "expected a map");
  static const std::set<std::string> kKnown = {"defaults", "segments", "risk_classes"};
  if (rules && rules.IsMap()) {
    for (const auto& kv : rules) {
      if (kKnown.count(kv.first.as<std::string>()) == 0) Fail("rules." + kv.first.as<std::string>(), "unknown key");
    }
  }
  RuleThresholds defaults;
  ApplyThresholds(rules["defaults"], "rules.defaults", defaults);
  if (auto why = defaults.Validate(); !why.empty())
    Fail("rules.defaults." + why.substr(0, why.find(':')), why.substr(why.find(':') + 2));

  auto segments = Named(rules["segments"], "rules.segments");
  auto classes = Named(rules["risk_classes"], "rules.risk_classes");
  segments.emplace("", YAML::Node());
  classes.emplace("", YAML::Node());
  std::map<std::string, RuleThresholds, std::less<>> table;
  for (const auto& [seg, seg_node] : segments) {
    for (const auto& [cls, cls_node] : classes) {
      RuleThresholds t = defaults;
      ApplyThresholds(seg_node, "rules.segments." + seg, t);
      ApplyThresholds(cls_node, "rules.risk_classes." + cls, t);
      if (auto why = t.Validate(); !why.empty()) {
        Fail(fmt::format("rules (segment '{}', risk class '{}')", seg, cls), why);
      }
      table.emplace(core::RulesConfig::Key(seg, cls), std::move(t));
    }
  }
  if (table.size() == 1) return core::RulesConfig(std::move(defaults), {});
  return core::RulesConfig(std::move(defaults), std::move(table));
}

}  // namespace

Status ParseConfig(const std::string& yaml_text, AppConfig* out) {
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (root && !root.IsNull() && !root.IsMap()) return Status::Error("config: expected a map at the top level");
    static const std::set<std::string> kKnown = {"rules"};
    if (root && root.IsMap()) {
      for (const auto& kv : root) {
        const auto key = kv.first.as<std::string>();
        if (kKnown.count(key) == 0) return Status::Error(key + ": unknown key");
      }
    }
    AppConfig cfg;
    if (root && root.IsMap()) cfg.rules = ParseRules(root["rules"]);
    *out = std::move(cfg);
    return Status::Ok();
  } catch (const ConfigError& e) {
    return Status::Error(e.message);
  } catch (const YAML::Exception& e) {
    return Status::Error(
        fmt::format("config: YAML error at line {}, column {}: {}", e.mark.line + 1, e.mark.column + 1, e.msg));
  }
}

Status LoadConfigFile(const std::string& path, AppConfig* out) {
  std::ifstream in(path);
  if (!in) return Status::Error(fmt::format("config: cannot read '{}'", path));
  std::stringstream buf;
  buf << in.rdbuf();
  Status st = ParseConfig(buf.str(), out);
  if (!st.ok()) return Status::Error(fmt::format("{}: {}", path, st.message()));
  return st;
}

}  // namespace creditwatch::config
