#include "config/app_config.h"

#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string_view>

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
  if (!n.IsDefined()) Fail(key, "is missing");  // before IsScalar(), which throws on a missing key's node
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
       [](auto& n, auto& k, auto& t) {
         const auto s = Scalar<int64_t>(n, k);
         if (s > int64_t{36500} * 86400) Fail(k, "must be at most 100 years");
         t.max_future_skew_ms = s * 1000;
       }},
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

// Reads one map section, rejecting keys it does not know.
class Section {
 public:
  Section(const YAML::Node& node, std::string path) : node_(node), path_(std::move(path)) {
    if (node_ && !node_.IsNull() && !node_.IsMap()) Fail(path_, "expected a map");
  }
  template <typename T>
  void Get(const char* key, T* out) {
    known_.insert(key);
    if (!node_ || !node_.IsMap() || !node_[key]) return;
    *out = Scalar<T>(node_[key], path_ + "." + key);
  }
  template <typename T>
  void GetPositive(const char* key, T* out) {
    Get(key, out);
    if (*out <= 0) Fail(path_ + "." + key, "must be > 0");
  }
  void GetList(const char* key, std::vector<std::string>* out) {
    known_.insert(key);
    if (!node_ || !node_.IsMap() || !node_[key]) return;
    const YAML::Node n = node_[key];
    if (!n.IsSequence() || n.size() == 0) Fail(path_ + "." + key, "expected a non-empty list");
    out->clear();
    for (size_t i = 0; i < n.size(); ++i)
      out->push_back(Scalar<std::string>(n[i], fmt::format("{}.{}[{}]", path_, key, i)));
  }
  void Finish() const {
    if (!node_ || !node_.IsMap()) return;
    for (const auto& kv : node_) {
      const auto k = kv.first.as<std::string>();
      if (known_.count(k) == 0) Fail(path_ + "." + k, "unknown key");
    }
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::set<std::string> known_;
};

std::map<std::string, std::string> Properties(const YAML::Node& node, const std::string& path) {
  std::map<std::string, std::string> out;
  if (!node || node.IsNull()) return out;
  if (!node.IsMap()) Fail(path, "expected a map of librdkafka properties");
  for (const auto& kv : node) {
    const auto k = kv.first.as<std::string>();
    out[k] = Scalar<std::string>(kv.second, path + "." + k);
  }
  return out;
}

void ParseEngine(const YAML::Node& root, AppConfig& cfg) {
  cfg.stream.kafka = Properties(root["kafka"], "kafka");
  cfg.stream.kafka_consumer = Properties(root["kafka_consumer"], "kafka_consumer");
  cfg.stream.kafka_producer = Properties(root["kafka_producer"], "kafka_producer");
  if (cfg.stream.kafka.count("group.id")) Fail("kafka.group.id", "set engine.group_id instead");
  // Each client's properties as the engine builds them (kafka, then its own section),
  // checked by librdkafka now rather than when `run` creates the clients, so check-config
  // passes only what will start (plugins' properties included).
  const std::pair<std::string_view, const std::map<std::string, std::string>*> clients[] = {
      {"kafka_consumer", &cfg.stream.kafka_consumer}, {"kafka_producer", &cfg.stream.kafka_producer}};
  for (const auto& [section, own] : clients) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    for (const auto& [from, props] :
         {std::pair<std::string_view, const std::map<std::string, std::string>*>{"kafka", &cfg.stream.kafka},
          {section, own}}) {
      for (const auto& [k, v] : *props) {
        if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) Fail(fmt::format("{}.{}", from, k), err);
      }
    }
    // Without kafka.bootstrap.servers `run` starts an embedded broker: one client on the
    // real cluster and one on a broker of its own would look healthy and do nothing.
    // (metadata.broker.list is its alias.)
    for (const char* key : {"bootstrap.servers", "metadata.broker.list"}) {
      if (own->count(key)) {
        Fail(fmt::format("{}.{}", section, key), "set kafka.bootstrap.servers instead: both clients use it");
      }
    }
    // Every record is read: a reset to the end would skip records that still exist
    // without counting them (records lost to retention are counted).
    std::string reset;
    if (section == "kafka_consumer" && conf->get("auto.offset.reset", reset) == RdKafka::Conf::CONF_OK &&
        (own->count("auto.offset.reset") || cfg.stream.kafka.count("auto.offset.reset")) && reset != "smallest" &&
        reset != "earliest" && reset != "beginning") {
      const bool here = own->count("auto.offset.reset") > 0;
      Fail(here ? "kafka_consumer.auto.offset.reset" : "kafka.auto.offset.reset",
           fmt::format("'{}' would skip records; creditwatch reads from the earliest",
                       (here ? *own : cfg.stream.kafka).at("auto.offset.reset")));
    }
  }
  if (cfg.stream.kafka.count("metadata.broker.list")) {
    Fail("kafka.metadata.broker.list", "write kafka.bootstrap.servers (its other name) instead");
  }

  Section topics(root["topics"], "topics");
  topics.GetList("inputs", &cfg.stream.topics.inputs);
  topics.Get("alerts", &cfg.stream.topics.alerts);
  topics.Get("block_status", &cfg.stream.topics.block_status);
  topics.Get("order_decisions", &cfg.stream.topics.order_decisions);
  topics.Get("dead_letter", &cfg.stream.topics.dead_letter);
  topics.Finish();

  Section engine(root["engine"], "engine");
  std::string time_mode = "live";
  int64_t block_cache_mb = static_cast<int64_t>(cfg.store.block_cache_bytes >> 20);
  int64_t dedup_days = cfg.store.dedup_retention_ms / core::kMsPerDay;
  int64_t skew_s = cfg.stream.max_future_skew_ms / 1000;
  int64_t cache_customers = static_cast<int64_t>(cfg.stream.cache_customers);
  int64_t checkpoint_steps = cfg.stream.checkpoint_steps;
  engine.Get("group_id", &cfg.stream.group_id);
  engine.Get("data_dir", &cfg.store.data_dir);
  engine.Get("time_mode", &time_mode);
  engine.GetPositive("max_batch", &cfg.stream.max_batch);
  engine.GetPositive("max_batch_ms", &cfg.stream.max_batch_ms);
  engine.GetPositive("max_backlog_batch_ms", &cfg.stream.max_backlog_batch_ms);
  engine.GetPositive("poll_timeout_ms", &cfg.stream.poll_timeout_ms);
  engine.GetPositive("max_timers_per_batch", &cfg.stream.max_timers_per_batch);
  engine.GetPositive("broker_wait_ms", &cfg.stream.broker_wait_ms);
  engine.GetPositive("shutdown_drain_ms", &cfg.stream.shutdown_drain_ms);
  engine.GetPositive("cache_customers", &cache_customers);
  engine.GetPositive("checkpoint_steps", &checkpoint_steps);
  engine.GetPositive("block_cache_mb", &block_cache_mb);
  engine.GetPositive("dedup_retention_days", &dedup_days);
  engine.GetPositive("max_future_skew_seconds", &skew_s);
  engine.Get("sync_writes", &cfg.store.sync_writes);
  engine.Finish();
  if (time_mode == "live") {
    cfg.stream.time_mode = stream::TimeMode::kLive;
  } else if (time_mode == "event_time") {
    cfg.stream.time_mode = stream::TimeMode::kEventTime;
  } else {
    Fail("engine.time_mode", fmt::format("'{}' is not one of live, event_time", time_mode));
  }
  if (cfg.stream.group_id.empty()) Fail("engine.group_id", "must not be empty");
  if (cfg.store.data_dir.empty()) Fail("engine.data_dir", "must not be empty");
  // Bounds that keep the times computed from them far from overflow.
  if (dedup_days > 36500) Fail("engine.dedup_retention_days", "must be at most 36500 (100 years)");
  if (skew_s > int64_t{36500} * 86400) Fail("engine.max_future_skew_seconds", "must be at most 100 years");
  if (block_cache_mb > (int64_t{1} << 30)) Fail("engine.block_cache_mb", "must be at most 2^30");
  cfg.store.block_cache_bytes = static_cast<size_t>(block_cache_mb) << 20;
  cfg.store.dedup_retention_ms = dedup_days * core::kMsPerDay;
  cfg.stream.max_future_skew_ms = skew_s * 1000;
  cfg.stream.cache_customers = static_cast<size_t>(cache_customers);
  if (checkpoint_steps > 1000) Fail("engine.checkpoint_steps", "must be at most 1000 (steps replayed per load)");
  cfg.stream.checkpoint_steps = static_cast<uint32_t>(checkpoint_steps);

  Section http(root["http"], "http");
  std::string token_env;
  http.Get("listen", &cfg.http.listen);
  http.Get("token", &cfg.http.token);
  http.Get("token_env", &token_env);
  http.Get("actions_topic", &cfg.http.actions_topic);
  http.Finish();
  if (!token_env.empty()) {
    const char* v = std::getenv(token_env.c_str());
    if (v == nullptr || *v == '\0')
      Fail("http.token_env", fmt::format("environment variable {} is not set", token_env));
    cfg.http.token = v;
  }
  if (cfg.http.actions_topic.empty()) cfg.http.actions_topic = cfg.stream.topics.inputs.front();
  // The actions are applied when the engine consumes them: a topic it does not read would
  // accept every hold and release and apply none.
  const auto& inputs = cfg.stream.topics.inputs;
  if (std::find(inputs.begin(), inputs.end(), cfg.http.actions_topic) == inputs.end()) {
    Fail("http.actions_topic", fmt::format("'{}' is not one of topics.inputs", cfg.http.actions_topic));
  }

  Section broker(root["broker"], "broker");
  broker.GetPositive("partitions", &cfg.broker.partitions);
  broker.GetPositive("brokers", &cfg.broker.brokers);
  broker.Finish();
  cfg.broker.topics = cfg.stream.topics.inputs;
  cfg.broker.topics.insert(cfg.broker.topics.end(), {cfg.stream.topics.alerts, cfg.stream.topics.block_status,
                                                     cfg.stream.topics.order_decisions, cfg.stream.topics.dead_letter});
}

}  // namespace

Status ParseConfig(const std::string& yaml_text, AppConfig* out) {
  try {
    const YAML::Node root = YAML::Load(yaml_text);
    if (root && !root.IsNull() && !root.IsMap()) return Status::Error("config: expected a map at the top level");
    static const std::set<std::string> kKnown = {
        "rules", "kafka", "kafka_consumer", "kafka_producer", "topics", "engine", "broker", "log_level", "http"};
    if (root && root.IsMap()) {
      for (const auto& kv : root) {
        const auto key = kv.first.as<std::string>();
        if (kKnown.count(key) == 0) return Status::Error(key + ": unknown key");
      }
    }
    AppConfig cfg;
    cfg.store.data_dir = "var/data";
    if (root && root.IsMap()) {
      cfg.rules = ParseRules(root["rules"]);
      if (root["log_level"]) cfg.log_level = Scalar<std::string>(root["log_level"], "log_level");
    }
    ParseEngine(root && root.IsMap() ? root : YAML::Node(YAML::NodeType::Map), cfg);
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
