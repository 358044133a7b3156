#include "store/state_log.h"

#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "store/credit_store.h"
#include "support/temp_store.h"
#include "workload/workload_generator.h"

using namespace creditwatch;

namespace {
using testing::TempStore;

// One customer's history as the engine runs it in event-time mode: due timers fire
// before each event; every applied step is logged. `states[i]` is the state after i steps.
struct History {
  std::vector<std::string> steps;
  std::vector<v1::CustomerState> states;
};

History RunHistory(const core::CreditEngine& engine, const std::vector<v1::Envelope>& events) {
  History h;
  v1::CustomerState s;
  h.states.push_back(s);
  core::StepOutputs out;
  for (const v1::Envelope& e : events) {
    while (s.timer_ms() != 0 && s.timer_ms() <= e.event_time_ms()) {
      const int64_t fire = s.timer_ms();
      out.Clear();
      const core::StepResult r = engine.Tick(s, fire, out);
      REQUIRE(r.kind == core::StepKind::kApplied);
      store::FinishStep(s, r.next_wake_ms);
      store::AppendTickStep(fire, s.timer_ms(), h.steps.emplace_back());
      h.states.push_back(s);
    }
    out.Clear();
    const core::StepResult r = engine.Apply(s, e, e.event_time_ms(), out);
    if (r.kind != core::StepKind::kApplied) continue;
    store::FinishStep(s, r.next_wake_ms);
    store::AppendEventStep(e.SerializeAsString(), e.event_time_ms(), s.timer_ms(), h.steps.emplace_back());
    h.states.push_back(s);
  }
  return h;
}

// The events of the generator's busiest customer among the first `n`.
std::vector<v1::Envelope> BusiestCustomer(int n) {
  workload::WorkloadOptions wo;
  wo.customers = 20;
  workload::WorkloadGenerator gen(wo);
  std::map<std::string, std::vector<v1::Envelope>> by_customer;
  v1::Envelope e;
  for (int i = 0; i < n; ++i) {
    gen.Next(&e);
    by_customer[e.customer_id()].push_back(e);
  }
  std::vector<v1::Envelope> best;
  for (auto& [id, events] : by_customer) {
    if (events.size() > best.size()) best = std::move(events);
  }
  return best;
}

}  // namespace

TEST_CASE("a checkpoint with the steps logged after it reads back as the state the engine held",
          "[integration][store]") {
  const core::CreditEngine engine{core::RulesConfig{}};
  const History h = RunHistory(engine, BusiestCustomer(4000));
  REQUIRE(h.steps.size() > 50);
  bool ticked = false;
  for (const std::string& bytes : h.steps) {
    v1::LoggedStep step;
    REQUIRE(step.ParseFromString(bytes));
    ticked |= step.step_case() == v1::LoggedStep::kTickMs;
  }
  REQUIRE(ticked);  // the history fires deadline timers too
  const std::string id = h.states.back().customer_id();

  // Checkpoints at several points, each followed by the rest of the history as steps.
  for (size_t k : {size_t{1}, size_t{7}, h.steps.size() / 2, h.steps.size() - 1, h.steps.size()}) {
    TempStore t;
    store::StoreBatch b(*t.db);
    b.PutCustomer(id, h.states[k]);
    for (size_t i = k; i < h.steps.size(); ++i) b.PutStep(id, static_cast<uint32_t>(i), h.steps[i]);
    REQUIRE(t.db->Commit(b).ok());
    v1::CustomerState got;
    bool found = false;
    REQUIRE(store::ReadCustomer(*t.db, engine, id, &got, &found).ok());
    INFO("checkpoint after step " << k << " of " << h.steps.size());
    REQUIRE(found);
    CHECK(got.step_seq() == h.steps.size());
    CHECK(got.SerializeAsString() == h.states.back().SerializeAsString());
  }
}

TEST_CASE("a checkpoint replaces the steps it folds in, and another customer's steps stay apart",
          "[integration][store]") {
  const core::CreditEngine engine{core::RulesConfig{}};
  const History h = RunHistory(engine, BusiestCustomer(2000));
  REQUIRE(h.steps.size() > 10);
  const std::string id = h.states.back().customer_id();
  TempStore t;
  store::StoreBatch b(*t.db);
  b.PutCustomer(id, h.states[0]);
  for (uint32_t i = 0; i < 6; ++i) b.PutStep(id, i, h.steps[i]);
  // An id that extends this one by four bytes: its keys share this customer's key bytes.
  const std::string longer = id + std::string("\0\0\0\1", 4);
  b.PutStep(longer, 0, "not a step of " + id);
  REQUIRE(t.db->Commit(b).ok());
  std::vector<std::string> steps;
  v1::CustomerState got;
  bool found = false;
  REQUIRE(t.db->GetCustomer(id, &got, &found, &steps).ok());
  CHECK(steps.size() == 6);
  CHECK(steps == std::vector<std::string>(h.steps.begin(), h.steps.begin() + 6));

  // The engine's checkpoint: the whole state after step 6, and the six logged steps deleted.
  b.PutCustomer(id, h.states[6]);
  for (uint32_t i = 0; i < 6; ++i) b.DeleteStep(id, i);
  REQUIRE(t.db->Commit(b).ok());
  REQUIRE(t.db->GetCustomer(id, &got, &found, &steps).ok());
  CHECK(got.step_seq() == 6);
  CHECK(steps.empty());
  CHECK(t.db->CountSteps() == 1);  // the other customer's
  REQUIRE(t.db->GetSteps(longer, 0, &steps).ok());
  CHECK(steps.size() == 1);
}

TEST_CASE("a gap or an undecodable step is an error naming the customer", "[integration][store]") {
  const core::CreditEngine engine{core::RulesConfig{}};
  const History h = RunHistory(engine, BusiestCustomer(2000));
  const std::string id = h.states.back().customer_id();
  TempStore t;
  store::StoreBatch b(*t.db);
  b.PutCustomer(id, h.states[0]);
  b.PutStep(id, 0, h.steps[0]);
  b.PutStep(id, 2, h.steps[2]);
  REQUIRE(t.db->Commit(b).ok());
  v1::CustomerState got;
  bool found = false;
  Status st = store::ReadCustomer(*t.db, engine, id, &got, &found);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains(id) && Catch::Contains("step 1 is missing (found step 2)"));

  // A checkpoint at step 5 whose steps start at 6.
  v1::CustomerState ahead = h.states[5];
  b.PutCustomer("other", ahead);
  b.PutStep("other", 6, h.steps[6]);
  REQUIRE(t.db->Commit(b).ok());
  st = store::ReadCustomer(*t.db, engine, "other", &got, &found);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains("'other'") && Catch::Contains("step 5 is missing (found step 6)"));

  b.PutStep(id, 1, "\xff\xff garbage");
  REQUIRE(t.db->Commit(b).ok());
  st = store::ReadCustomer(*t.db, engine, id, &got, &found);
  CHECK_FALSE(st.ok());
  CHECK_THAT(st.message(), Catch::Contains(id) && Catch::Contains("does not parse"));
}

TEST_CASE("a logged step's encoding parses as the LoggedStep it stands for", "[unit][store]") {
  std::string bytes;
  const std::string record = std::string("an envelope's bytes\0with a zero", 31);
  store::AppendEventStep(record, -5, 1'767'312'000'000, bytes);
  v1::LoggedStep step;
  REQUIRE(step.ParseFromString(bytes));
  CHECK(step.now_ms() == -5);
  REQUIRE(step.step_case() == v1::LoggedStep::kEvent);
  CHECK(step.event() == record);
  REQUIRE(step.has_wake_ms());
  CHECK(step.wake_ms() == 1'767'312'000'000);

  bytes.clear();
  store::AppendTickStep(1'767'225'600'000, 0, bytes);
  REQUIRE(step.ParseFromString(bytes));
  CHECK(step.now_ms() == 1'767'225'600'000);
  REQUIRE(step.step_case() == v1::LoggedStep::kTickMs);
  CHECK(step.tick_ms() == 1'767'225'600'000);
  REQUIRE(step.has_wake_ms());  // none, and said so
  CHECK(step.wake_ms() == 0);

  // A record longer than 127 bytes takes a two-byte length.
  bytes.clear();
  const std::string long_record(300, 'x');
  store::AppendEventStep(long_record, 7, 0, bytes);
  REQUIRE(step.ParseFromString(bytes));
  CHECK(step.event() == long_record);
}
