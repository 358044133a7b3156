#include "app/bench_core.h"

#include <fmt/format.h>

#include <chrono>
#include <queue>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/credit_engine.h"
#include "workload/workload_generator.h"

namespace creditwatch::app {
namespace {

struct Wake {
  int64_t at_ms;
  uint32_t slot;
  bool operator>(const Wake& o) const { return at_ms > o.at_ms; }
};

struct RoundResult {
  double seconds = 0;
  uint64_t outputs = 0;
  uint64_t ticks = 0;
  uint64_t rejected = 0;
  uint64_t state_bytes = 0;  // serialized size of all customer states at the end
  uint64_t customers = 0;
};

// Feeds the events through the engine in event-time order, firing due timers first,
// like the streaming loop does in event-time mode. Each event's customer comes resolved
// to its state's slot (`slots`, made before the clock starts), as the loop's cache hands
// the core a state: what is timed is the core's step and the wakes' order, not a lookup.
template <typename GetEvent>
RoundResult RunRound(const core::CreditEngine& engine, const std::vector<uint32_t>& slots, size_t customers,
                     GetEvent&& get_event) {
  struct Slot {
    v1::CustomerState state;
    int64_t wake = 0;  // the one scheduled wake of this customer, like the timer index
  };
  std::vector<Slot> states(customers);
  std::priority_queue<Wake, std::vector<Wake>, std::greater<>> wakes;
  core::StepOutputs out;
  RoundResult r;
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < slots.size(); ++i) {
    const v1::Envelope& e = get_event(i);
    const int64_t now = e.event_time_ms();
    while (!wakes.empty() && wakes.top().at_ms <= now) {
      const Wake w = wakes.top();
      wakes.pop();
      Slot& slot = states[w.slot];
      if (slot.wake != w.at_ms) continue;  // superseded
      const core::StepResult t = engine.Tick(slot.state, w.at_ms, out);
      ++r.ticks;
      slot.wake = t.next_wake_ms;
      if (t.next_wake_ms != 0) wakes.push({t.next_wake_ms, w.slot});
    }
    Slot& slot = states[slots[i]];
    const core::StepResult res = engine.Apply(slot.state, e, now, out);
    if (res.kind == core::StepKind::kRejected) ++r.rejected;
    if (res.next_wake_ms != slot.wake) {
      slot.wake = res.next_wake_ms;
      if (res.next_wake_ms != 0) wakes.push({res.next_wake_ms, slots[i]});
    }
    r.outputs += out.size();
    out.Clear();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const Slot& slot : states) {
    if (slot.state.customer_id().empty()) continue;
    r.state_bytes += slot.state.ByteSizeLong();
    ++r.customers;
  }
  return r;
}

void Print(const char* name, double value, const char* unit, const CoreBenchOptions& o, const RoundResult& r) {
  fmt::print(
      "{{\"bench\":\"core\",\"name\":\"{}\",\"value\":{:.0f},\"unit\":\"{}\",\"events\":{},\"customers\":{},"
      "\"outputs\":{},\"ticks\":{},\"rejected\":{},\"seconds\":{:.3f},\"state_bytes_avg\":{}}}\n",
      name, value, unit, o.events, o.customers, r.outputs, r.ticks, r.rejected, r.seconds,
      r.customers > 0 ? r.state_bytes / r.customers : 0);
  std::fflush(stdout);
}

}  // namespace

int RunCoreBench(const CoreBenchOptions& o) {
  workload::WorkloadOptions wo;
  wo.seed = o.seed;
  wo.customers = o.customers;
  workload::WorkloadGenerator gen(wo);
  std::vector<v1::Envelope> events(static_cast<size_t>(o.events));
  std::vector<std::string> bytes(static_cast<size_t>(o.events));
  std::vector<uint32_t> slots(static_cast<size_t>(o.events));
  std::unordered_map<std::string, uint32_t> slot_of;
  for (size_t i = 0; i < events.size(); ++i) {
    gen.Next(&events[i]);
    bytes[i] = events[i].SerializeAsString();
    slots[i] = slot_of.try_emplace(events[i].customer_id(), static_cast<uint32_t>(slot_of.size())).first->second;
  }
  const core::CreditEngine engine{core::RulesConfig()};

  for (int round = 0; round < o.rounds; ++round) {
    const RoundResult r =
        RunRound(engine, slots, slot_of.size(), [&](size_t i) -> const v1::Envelope& { return events[i]; });
    Print("apply_evaluate_throughput", static_cast<double>(o.events) / r.seconds, "events/s", o, r);
  }
  v1::Envelope scratch;
  for (int round = 0; round < o.rounds; ++round) {
    const RoundResult r = RunRound(engine, slots, slot_of.size(), [&](size_t i) -> const v1::Envelope& {
      scratch.ParseFromString(bytes[i]);
      return scratch;
    });
    Print("decode_apply_evaluate_throughput", static_cast<double>(o.events) / r.seconds, "events/s", o, r);
  }
  return 0;
}

}  // namespace creditwatch::app
