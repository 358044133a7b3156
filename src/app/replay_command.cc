#include "app/replay_command.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <unistd.h>

#include <map>
#include <set>
#include <unordered_map>

#include "core/alert_tracker.h"
#include "core/credit_engine.h"
#include "core/enum_names.h"

namespace creditwatch::app {

int RunReplay(const ReplayOptions& o, const config::AppConfig& cfg) {
  const int fd = open(o.in_file.c_str(), O_RDONLY);
  if (fd < 0) {
    fmt::print(stderr, "replay: cannot read {}\n", o.in_file);
    return 2;
  }
  google::protobuf::io::FileInputStream in(fd);
  in.SetCloseOnDelete(true);
  const core::CreditEngine engine(cfg.rules);
  std::unordered_map<std::string, v1::CustomerState> states;
  std::set<std::pair<int64_t, std::string>> timers;  // (fire time, customer): the deadline index
  std::unordered_map<std::string, int64_t> wake;
  core::StepOutputs out;
  std::map<std::string, std::map<std::string, int64_t>> by_rule;  // rule -> fired/resolved/...
  std::map<std::string, int64_t> orders;
  std::map<std::string, int64_t> rejected;
  int64_t events = 0;
  int64_t holds = 0;
  int64_t releases = 0;
  int64_t duplicates = 0;
  int64_t watermark = 0;
  int64_t first = 0;

  // One step's outputs. Holds count changes between CLEAR and HOLD only: a block-status
  // output also goes out when a held customer's reasons change.
  auto account = [&](bool was_hold, const v1::CustomerState& s) {
    for (const auto& a : out.alerts) {
      auto& r = by_rule[core::RuleName(a.rule())];
      if (a.status() == v1::Alert::RESOLVED) {
        ++r["resolved"];
        continue;
      }
      ++r[a.output_id().ends_with("/1-firing") ? "fired" : "regraded"];
      // Every severity an alert reached, on firing or on a regrade: an overdue invoice
      // fires at info and is regraded up its dunning levels.
      ++r[std::string("reached_") + core::SeverityName(a.severity())];
    }
    const bool now_hold = s.block_status() == v1::BlockStatus::HOLD;
    if (!was_hold && now_hold) ++holds;
    if (was_hold && !now_hold) ++releases;
    for (const auto& d : out.decisions) ++orders[core::DecisionName(d.decision())];
    out.Clear();
  };
  auto reschedule = [&](const std::string& id, int64_t next) {
    auto& w = wake[id];
    if (w != 0) timers.erase({w, id});
    w = next;
    if (next != 0) timers.insert({next, id});
  };

  v1::Envelope e;
  bool clean_eof = false;
  for (;;) {
    e.Clear();  // the parse merges into the message: repeated fields would pile up
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&e, &in, &clean_eof)) break;
    ++events;
    if (first == 0) first = e.event_time_ms();
    watermark = std::max(watermark, e.event_time_ms());
    while (!timers.empty() && timers.begin()->first <= watermark) {
      const auto [at, id] = *timers.begin();
      timers.erase(timers.begin());
      wake[id] = 0;
      v1::CustomerState& ticked = states[id];
      const bool was_hold = ticked.block_status() == v1::BlockStatus::HOLD;
      const auto r = engine.Tick(ticked, at, out);
      account(was_hold, ticked);
      reschedule(id, r.next_wake_ms);
    }
    auto& s = states[e.customer_id()];
    const bool was_hold = s.block_status() == v1::BlockStatus::HOLD;
    const auto r = engine.Apply(s, e, watermark, out);
    if (r.kind == core::StepKind::kRejected) {
      ++rejected[v1::RejectReason_Name(r.rejection.reason)];
      if (s.customer_id().empty()) states.erase(e.customer_id());
      continue;
    }
    if (r.kind == core::StepKind::kDuplicate) {
      ++duplicates;
      continue;
    }
    account(was_hold, s);
    reschedule(e.customer_id(), r.next_wake_ms);
  }
  if (!clean_eof) {
    fmt::print(stderr, "replay: {} is truncated or not length-delimited Envelopes (after {} events)\n", o.in_file,
               events);
    return 1;
  }

  int64_t on_hold = 0;
  for (const auto& [id, s] : states) on_hold += s.block_status() == v1::BlockStatus::HOLD;
  const double days = static_cast<double>(watermark - first) / static_cast<double>(core::kMsPerDay);
  if (o.json) {
    std::string rules;
    for (int i = 1; i <= v1::Rule_MAX; ++i) {
      const std::string name = v1::Rule_Name(static_cast<v1::Rule>(i));
      auto& r = by_rule[name];
      rules += fmt::format(
          R"({}"{}":{{"fired":{},"resolved":{},"regraded":{},"reached":{{"info":{},"warning":{},"major":{},"critical":{}}}}})",
          rules.empty() ? "" : ",", name, r["fired"], r["resolved"], r["regraded"], r["reached_info"],
          r["reached_warning"], r["reached_major"], r["reached_critical"]);
    }
    std::string rejected_json;
    int64_t rejected_total = 0;
    for (const auto& [k, v] : rejected) {
      rejected_json += fmt::format(R"({}"{}":{})", rejected_json.empty() ? "" : ",", k, v);
      rejected_total += v;
    }
    fmt::print(
        R"({{"events":{},"customers":{},"days":{:.1f},"duplicates":{},"rejected":{},"rejected_by_reason":{{{}}},"rules":{{{}}},"orders":{{"APPROVED":{},"HELD":{},"RELEASED":{}}},"holds_placed":{},"holds_lifted":{},"on_hold_at_end":{}}})"
        "\n",
        events, states.size(), days, duplicates, rejected_total, rejected_json, rules, orders["APPROVED"],
        orders["HELD"], orders["RELEASED"], holds, releases, on_hold);
    return 0;
  }
  fmt::print("backtest of {}: {} events, {} customers, {:.1f} days of history\n\n", o.in_file, events, states.size(),
             days);
  fmt::print("  {:<18} {:>8} {:>9} {:>9}   {:<33}\n", "", "", "", "", "alerts reaching each severity");
  fmt::print("  {:<18} {:>8} {:>9} {:>9}   {:>6} {:>8} {:>6} {:>9}\n", "rule", "fired", "resolved", "regraded", "info",
             "warning", "major", "critical");
  for (int i = 1; i <= v1::Rule_MAX; ++i) {
    const std::string name = v1::Rule_Name(static_cast<v1::Rule>(i));
    auto& r = by_rule[name];
    fmt::print("  {:<18} {:>8} {:>9} {:>9}   {:>6} {:>8} {:>6} {:>9}\n", name, r["fired"], r["resolved"], r["regraded"],
               r["reached_info"], r["reached_warning"], r["reached_major"], r["reached_critical"]);
  }
  fmt::print("\n  orders: {} approved, {} would have been held, {} released later\n", orders["APPROVED"],
             orders["HELD"], orders["RELEASED"]);
  fmt::print("  holds: {} placed, {} lifted (changes between clear and hold), {} customers on hold at the end\n", holds,
             releases, on_hold);
  fmt::print("  input: {} duplicates ignored", duplicates);
  for (const auto& [k, v] : rejected) fmt::print(", {} rejected {}", v, k);
  fmt::print("\n");
  return 0;
}

}  // namespace creditwatch::app
