// Test oracle: an independent recomputation of what the engine must output, running the
// core in-process over the same input records with the engine's event-time semantics
// (per-partition watermark; due timers fire before the event; event ids applied once).
#pragma once

#include <map>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "core/credit_engine.h"
#include "creditwatch/v1/events.pb.h"

namespace cwtest {

struct InputRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string bytes;
};

struct ReferenceResult {
  std::map<std::string, std::string> outputs;  // output id -> serialized output (empty for dead letters)
  std::map<std::string, creditwatch::v1::CustomerState> states;
  std::map<std::string, int> dead_letter_reasons;  // reject reason name -> count
};

// `records` in production order (per partition, that is offset order).
inline ReferenceResult ReferenceRun(const std::vector<InputRecord>& records, const std::string& topic,
                                    const creditwatch::core::RulesConfig& rules = {}) {
  namespace v1 = creditwatch::v1;
  namespace core = creditwatch::core;
  const core::CreditEngine engine(rules);
  ReferenceResult r;
  std::map<int32_t, int64_t> watermark;
  std::map<int32_t, std::set<std::pair<int64_t, std::string>>> timers;
  std::map<std::string, int64_t> wake;
  std::set<std::string> seen;
  core::StepOutputs out;
  auto collect = [&] {
    for (const auto& a : out.alerts) r.outputs[a.output_id()] = a.SerializeAsString();
    for (const auto& b : out.blocks) r.outputs[b.output_id()] = b.SerializeAsString();
    for (const auto& d : out.decisions) r.outputs[d.output_id()] = d.SerializeAsString();
    out.Clear();
  };
  auto reschedule = [&](int32_t p, const std::string& id, int64_t next) {
    auto& w = wake[id];
    if (w != 0) timers[p].erase({w, id});
    w = next;
    if (next != 0) timers[p].insert({next, id});
  };
  auto dead = [&](const InputRecord& rec, v1::RejectReason reason) {
    r.outputs[topic.empty() ? ""
                            : "dead-letter/" + topic + "/" + std::to_string(rec.partition) + "/" +
                                  std::to_string(rec.offset)] = "";
    r.dead_letter_reasons[v1::RejectReason_Name(reason)]++;
  };
  for (const auto& rec : records) {
    v1::Envelope e;
    if (!e.ParseFromString(rec.bytes)) {
      dead(rec, v1::UNDECODABLE);
      continue;
    }
    if (!rec.key.empty() && !e.customer_id().empty() && rec.key != e.customer_id()) {
      dead(rec, v1::KEY_MISMATCH);
      continue;
    }
    int64_t& wm = watermark[rec.partition];
    wm = std::max(wm, e.event_time_ms());
    auto& due = timers[rec.partition];
    while (!due.empty() && due.begin()->first <= wm) {
      const auto [at, id] = *due.begin();
      due.erase(due.begin());
      wake[id] = 0;
      auto& s = r.states[id];
      const auto res = engine.Tick(s, at, out);
      collect();
      reschedule(rec.partition, id, res.next_wake_ms);
    }
    if (seen.count(e.event_id())) continue;
    auto& s = r.states[e.customer_id()];
    const auto res = engine.Apply(s, e, wm, out);
    if (res.kind == core::StepKind::kRejected) {
      dead(rec, res.rejection.reason);
      if (s.customer_id().empty()) r.states.erase(e.customer_id());
      continue;
    }
    if (res.kind == core::StepKind::kDuplicate) continue;
    seen.insert(e.event_id());
    collect();
    reschedule(rec.partition, e.customer_id(), res.next_wake_ms);
  }
  for (auto& [id, s] : r.states) s.set_timer_ms(wake[id]);
  return r;
}

}  // namespace cwtest
