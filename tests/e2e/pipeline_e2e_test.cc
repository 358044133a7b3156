// End-to-end: the broker and the engine each in their own process, driven through Kafka.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <random>
#include <regex>
#include <set>
#include <thread>
#include <tuple>

#include "obs/metrics_text.h"
#include "store/credit_store.h"
#include "store/state_log.h"
#include "support/e2e_cluster.h"
#include "support/engine_http.h"
#include "support/events.h"
#include "workload/workload_generator.h"

using namespace cwtest;
namespace v1 = creditwatch::v1;

namespace {

constexpr const char* kInput = "creditwatch.events";

bool Covers(const std::vector<OutRecord>& recs, const ReferenceResult& ref) {
  std::set<std::string> got;
  for (const auto& r : recs) {
    auto it = r.headers.find("creditwatch.output_id");
    if (it != r.headers.end()) got.insert(it->second);
  }
  for (const auto& [id, _] : ref.outputs) {
    if (!got.count(id)) return false;
  }
  return true;
}

// Every expected output is there, nothing else is, and a repeated id always carries the
// same bytes (re-sends after a crash are recognisably the same output).
void CheckOutputs(const std::vector<OutRecord>& recs, const ReferenceResult& ref) {
  std::map<std::string, std::string> value_of;
  size_t repeats = 0;
  for (const auto& r : recs) {
    const std::string id = r.headers.at("creditwatch.output_id");
    auto [it, inserted] = value_of.emplace(id, r.value);
    if (!inserted) {
      ++repeats;
      INFO("output id " << id);
      CHECK(it->second == r.value);
    }
  }
  std::set<std::string> got;
  for (const auto& [id, _] : value_of) got.insert(id);
  std::set<std::string> expected;
  for (const auto& [id, _] : ref.outputs) expected.insert(id);
  std::vector<std::string> missing;
  std::vector<std::string> unexpected;
  std::set_difference(expected.begin(), expected.end(), got.begin(), got.end(), std::back_inserter(missing));
  std::set_difference(got.begin(), got.end(), expected.begin(), expected.end(), std::back_inserter(unexpected));
  INFO("missing " << missing.size() << (missing.empty() ? "" : " e.g. " + missing.front()));
  INFO("unexpected " << unexpected.size() << (unexpected.empty() ? "" : " e.g. " + unexpected.front()));
  CHECK(missing.empty());
  CHECK(unexpected.empty());
  // Alerts, blocks and decisions carry exactly the expected bytes.
  for (const auto& [id, bytes] : ref.outputs) {
    if (bytes.empty() || !value_of.count(id)) continue;
    INFO("output id " << id);
    CHECK(value_of.at(id) == bytes);
  }
  UNSCOPED_INFO("outputs " << got.size() << ", repeated deliveries " << repeats);
}

// `logged_steps`: some customers must have steps logged after their checkpoint (a
// backlog folds many steps of a customer into one batch, which then checkpoints it).
std::unique_ptr<creditwatch::store::CreditStore> OpenStore(const std::string& data_dir) {
  creditwatch::store::StoreOptions o;
  o.data_dir = data_dir;
  std::unique_ptr<creditwatch::store::CreditStore> store;
  REQUIRE(creditwatch::store::CreditStore::Open(o, &store).ok());
  return store;
}

void CheckStates(const std::string& data_dir, const ReferenceResult& ref, bool logged_steps = true) {
  auto store = OpenStore(data_dir);
  size_t n = 0;
  size_t mismatched = 0;
  // A stored state is a checkpoint: the steps logged since are replayed on top of it.
  const creditwatch::core::CreditEngine engine{creditwatch::core::RulesConfig{}};
  std::vector<std::string> ids;
  REQUIRE(store->ForEachCustomer([&](const v1::CustomerState& s) { ids.push_back(s.customer_id()); }).ok());
  // The durable deadline index holds exactly each customer's one scheduled wake.
  std::set<std::tuple<int32_t, int64_t, std::string>> wakes;
  for (const std::string& id : ids) {
    v1::CustomerState s;
    bool found = false;
    REQUIRE(creditwatch::store::ReadCustomer(*store, engine, id, &s, &found).ok());
    REQUIRE(found);
    ++n;
    if (s.timer_ms() != 0) wakes.emplace(s.partition(), s.timer_ms(), s.customer_id());
    s.set_partition(0);
    s.set_step_seq(0);
    auto it = ref.states.find(s.customer_id());
    if (it == ref.states.end() || it->second.SerializeAsString() != s.SerializeAsString()) ++mismatched;
  }
  if (logged_steps) CHECK(store->CountSteps() > 0);
  CHECK(n == ref.states.size());
  CHECK(mismatched == 0);
  std::set<std::tuple<int32_t, int64_t, std::string>> stored;
  std::set<int32_t> partitions;
  for (const auto& w : wakes) partitions.insert(std::get<0>(w));
  for (int32_t p : partitions) {
    std::vector<creditwatch::store::DueTimer> timers;
    REQUIRE(store->AllTimers(p, &timers).ok());
    for (const auto& t : timers) stored.emplace(p, t.fire_ms, t.customer_id);
  }
  CHECK(stored == wakes);
  CHECK(store->CountTimers() == wakes.size());
  CHECK(store->CountOutbox() == 0);  // everything was acknowledged before the clean stop
  // The stored counters behind the gauges agree with the states, across every restart.
  int64_t on_hold = 0;
  std::map<int, int64_t> active;
  for (const auto& [id, s] : ref.states) {
    on_hold += s.block_status() == v1::BlockStatus::HOLD;
    for (const auto& a : s.alerts()) ++active[a.rule()];
  }
  CHECK(store->GetCounter("customers_on_hold") == on_hold);
  CHECK(store->GetCounter("timers_pending") == static_cast<int64_t>(wakes.size()));
  for (int rule = 1; rule <= v1::Rule_MAX; ++rule) {
    if (!v1::Rule_IsValid(rule)) continue;
    const std::string name = v1::Rule_Name(static_cast<v1::Rule>(rule));
    INFO(name);
    CHECK(store->GetCounter("active/" + name) == active[rule]);
  }
}

void ProduceWorkload(TestProducer& producer, creditwatch::workload::WorkloadGenerator& gen, int n) {
  v1::Envelope e;
  for (int i = 0; i < n; ++i) {
    gen.Next(&e);
    producer.Produce(e.customer_id(), e.SerializeAsString());
  }
  producer.Flush();
}

std::set<int> RulesOf(const ReferenceResult& ref) {
  std::set<int> rules;
  for (const auto& [id, bytes] : ref.outputs) {
    v1::Alert a;
    if (id.find("/order/") == std::string::npos && id.find("/block/") == std::string::npos && !bytes.empty() &&
        a.ParseFromString(bytes) && a.rule() != v1::RULE_UNSPECIFIED) {
      rules.insert(a.rule());
    }
  }
  return rules;
}

// Produces `events` of a workload over `customers`, waits until the engine's outputs
// cover an independent reference run's, and checks them exactly. Returns the reference.
ReferenceResult ProduceAndCheckOutputs(E2eCluster& cluster, TestProducer& producer, int customers, int events) {
  creditwatch::workload::WorkloadOptions wo;
  wo.customers = customers;
  creditwatch::workload::WorkloadGenerator gen(wo);
  ProduceWorkload(producer, gen, events);
  REQUIRE(producer.failed() == 0);
  ReferenceResult ref = ReferenceRun(producer.Records(), kInput);
  const auto outs = ReadOutputs(
      cluster.bootstrap(), cluster.partitions(), [&](const auto& recs) { return Covers(recs, ref); },
      std::chrono::seconds(90));
  CheckOutputs(outs, ref);
  return ref;
}

}  // namespace

TEST_CASE("e2e: a history covering every rule yields exactly the expected outputs and states", "[e2e][pipeline]") {
  E2eCluster cluster(4);
  REQUIRE_FALSE(cluster.bootstrap().empty());
  // Batches of at most 500 records: each customer's events span many batches, so most
  // end with steps logged after their last checkpoint (whole backlogs in a few large
  // batches would checkpoint every customer in each).
  const std::string cfg = cluster.WriteConfig("engine", "event_time", "  max_batch: 500\n");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");

  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  const ReferenceResult ref = ProduceAndCheckOutputs(cluster, producer, 200, 12000);
  REQUIRE(RulesOf(ref).size() == 7);  // the history exercises every rule
  INFO(engine.Log());
  REQUIRE(engine.Kill(SIGTERM) == 0);
  CheckStates(cluster.DataDir("engine"), ref);
}

TEST_CASE("e2e: a customer cache smaller than the customers reloads evicted states exactly", "[e2e][pipeline]") {
  E2eCluster cluster(4);
  // Batches of at most 50 records and room for 20 customers: customers leave the cache
  // batch after batch and come back from RocksDB (checkpoint and logged steps).
  const std::string cfg = cluster.WriteConfig("engine", "event_time", "  max_batch: 50\n  cache_customers: 20\n");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  const ReferenceResult ref = ProduceAndCheckOutputs(cluster, producer, 200, 6000);
  // Evicted customers were read back with steps logged after their checkpoint.
  auto http = HttpClientOf(engine);
  auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  std::smatch m;
  REQUIRE(std::regex_search(metrics->body, m, std::regex(R"(creditwatch_state_steps_replayed_total (\d+))")));
  CHECK(std::stoll(m[1]) > 0);
  INFO(engine.Log());
  REQUIRE(engine.Kill(SIGTERM) == 0);
  CheckStates(cluster.DataDir("engine"), ref);
}

TEST_CASE("e2e: stopping and starting the engine mid-stream loses nothing and applies nothing twice",
          "[e2e][pipeline]") {
  E2eCluster cluster(4);
  // Checkpoints every 3 steps: states are read back as checkpoints with steps across restarts.
  const std::string cfg = cluster.WriteConfig("engine", "event_time", "  checkpoint_steps: 3\n");
  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  creditwatch::workload::WorkloadOptions wo;
  wo.customers = 150;
  creditwatch::workload::WorkloadGenerator gen(wo);
  for (int round = 0; round < 3; ++round) {
    Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
    ProduceWorkload(producer, gen, 3000);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    INFO(engine.Log());
    REQUIRE(engine.Kill(SIGTERM) == 0);
  }
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  const ReferenceResult ref = ReferenceRun(producer.Records(), kInput);
  const auto outs = ReadOutputs(
      cluster.bootstrap(), cluster.partitions(), [&](const auto& recs) { return Covers(recs, ref); },
      std::chrono::seconds(90));
  CheckOutputs(outs, ref);
  REQUIRE(engine.Kill(SIGTERM) == 0);
  CheckStates(cluster.DataDir("engine"), ref, /*logged_steps=*/false);
}

TEST_CASE("e2e: 20 kill -9 at random moments while events flow lose no effect and double none",
          "[e2e][pipeline][crash]") {
  E2eCluster cluster(4);
  const std::string cfg = cluster.WriteConfig("engine", "event_time", "  max_batch: 200\n");
  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  creditwatch::workload::WorkloadOptions wo;
  wo.customers = 300;
  wo.start_ms = kT0 - 6 * 365 * kDay;  // years of history fit before the wall clock
  creditwatch::workload::WorkloadGenerator gen(wo);
  std::mt19937 rng(20261125);
  // Events flow at about 500/s from another thread for the whole test.
  std::atomic<bool> stop{false};
  std::thread flow([&] {
    v1::Envelope e;
    while (!stop.load()) {
      for (int i = 0; i < 25; ++i) {
        gen.Next(&e);
        producer.Produce(e.customer_id(), e.SerializeAsString());
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    producer.Flush();
  });
  int crashes = 0;
  for (int loop = 0; loop < 20; ++loop) {
    Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
    // The group join takes about 3 s; then the engine dies at a random moment of its work.
    std::this_thread::sleep_for(std::chrono::milliseconds(3000 + rng() % 2500));
    if (engine.Kill(SIGKILL) == 128 + SIGKILL) ++crashes;
  }
  stop = true;
  flow.join();
  REQUIRE(producer.failed() == 0);
  CHECK(crashes == 20);
  // A log of its own: the HTTP port is read from the first listening line.
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine-final.log");
  const ReferenceResult ref = ReferenceRun(producer.Records(), kInput);
  const auto outs = ReadOutputs(
      cluster.bootstrap(), cluster.partitions(), [&](const auto& recs) { return Covers(recs, ref); },
      std::chrono::seconds(120));
  CheckOutputs(outs, ref);
  INFO(engine.Log());
  // The last engine took up customers whose steps after their checkpoint were logged
  // by the engines before it, and replayed them (its outputs matched the reference).
  httplib::Client http = HttpClientOf(engine);
  const auto metrics = http.Get("/metrics");
  REQUIRE(metrics);
  const std::string family = "\ncreditwatch_state_steps_replayed_total ";
  const size_t at = metrics->body.find(family);
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(metrics->body.substr(at + family.size())) > 0);
  REQUIRE(engine.Kill(SIGTERM) == 0);
  CheckStates(cluster.DataDir("engine"), ref);
}

TEST_CASE("e2e: poison and duplicate input go to the dead-letter topic while the partition keeps moving",
          "[e2e][pipeline]") {
  E2eCluster cluster(2);
  const std::string cfg = cluster.WriteConfig("engine", "event_time");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  Events ev("C-POISON");
  const auto customer = ev.Customer(kT0, 1'000'000);
  const auto order1 = ev.Order(kT0 + 1000, "O1", 100'000);
  auto bad_amount = ev.Order(kT0 + 2000, "O2", -5);
  const auto mismatched = ev.Order(kT0 + 3000, "O3", 100);
  const auto order4 = ev.Order(kT0 + 4000, "O4", 200'000);
  producer.Produce("C-POISON", customer.SerializeAsString(), 0);
  producer.Produce("C-POISON", order1.SerializeAsString(), 0);
  producer.Produce("C-POISON", std::string("\xff\x01garbage", 9), 0);
  producer.Produce("C-POISON", bad_amount.SerializeAsString(), 0);
  producer.Produce("SOMEONE-ELSE", mismatched.SerializeAsString(), 0);
  producer.Produce("C-POISON", order1.SerializeAsString(), 0);  // re-published
  producer.Produce("C-POISON", order4.SerializeAsString(), 0);
  producer.Flush();

  const ReferenceResult ref = ReferenceRun(producer.Records(), kInput);
  REQUIRE(ref.dead_letter_reasons.at("UNDECODABLE") == 1);
  REQUIRE(ref.dead_letter_reasons.at("NON_POSITIVE_AMOUNT") == 1);
  REQUIRE(ref.dead_letter_reasons.at("KEY_MISMATCH") == 1);
  const auto outs = ReadOutputs(
      cluster.bootstrap(), cluster.partitions(), [&](const auto& recs) { return Covers(recs, ref); },
      std::chrono::seconds(60));
  CheckOutputs(outs, ref);

  std::map<std::string, OutRecord> dead;
  for (const auto& r : outs) {
    if (r.topic == "creditwatch.dead-letter") dead[r.headers.at("creditwatch.reason")] = r;
  }
  REQUIRE(dead.size() == 3);
  CHECK(dead.at("UNDECODABLE").value == std::string("\xff\x01garbage", 9));
  CHECK(dead.at("UNDECODABLE").headers.at("creditwatch.source.topic") == kInput);
  CHECK(dead.at("UNDECODABLE").headers.at("creditwatch.source.offset") == "2");
  CHECK(dead.at("NON_POSITIVE_AMOUNT").value == bad_amount.SerializeAsString());
  CHECK_THAT(dead.at("NON_POSITIVE_AMOUNT").headers.at("creditwatch.detail"), Catch::Contains("amount"));
  CHECK(dead.at("KEY_MISMATCH").key == "SOMEONE-ELSE");
  // The partition kept moving: the order after the poison was decided, the re-published
  // one changed nothing (one APPROVED decision for O1).
  int o1 = 0;
  bool o4 = false;
  for (const auto& r : outs) {
    if (r.topic != "creditwatch.order-decisions") continue;
    v1::OrderDecision d;
    REQUIRE(d.ParseFromString(r.value));
    o1 += d.order_id() == "O1";
    o4 = o4 || (d.order_id() == "O4" && d.decision() == v1::OrderDecision::APPROVED);
  }
  CHECK(o1 == 1);
  CHECK(o4);
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

TEST_CASE("e2e: an event re-delivered after it left the customer's recent ids changes nothing", "[e2e][pipeline]") {
  // A credit limit change has no entity id of its own to catch a re-delivery, and 40
  // events later it has left the customer's ring of recent ids: only the ids RocksDB
  // remembers stop the old limit from coming back. (The engine asks RocksDB only about
  // events not later than the customer's dedup floor and not in its ring.)
  E2eCluster cluster(2);
  const std::string cfg = cluster.WriteConfig("engine", "event_time");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  httplib::Client http = HttpClientOf(engine);
  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  Events ev("C-REDELIVER");
  producer.Produce("C-REDELIVER", ev.Customer(kT0, 10'000'000).SerializeAsString(), 0);
  const auto lowered = ev.Limit(kT0 + 1000, 5'000'000);
  producer.Produce("C-REDELIVER", lowered.SerializeAsString(), 0);
  for (int i = 1; i <= 40; ++i) {
    producer.Produce("C-REDELIVER", ev.Order(kT0 + 1000 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString(),
                     0);
  }
  producer.Produce("C-REDELIVER", ev.Limit(kT0 + 50'000, 20'000'000).SerializeAsString(), 0);
  // The same for a second customer, re-delivered at once: the engine finds the id in the
  // batches it has not yet written to RocksDB, or in RocksDB if they were written by then.
  Events soon("C-REDELIVER-SOON");
  producer.Produce("C-REDELIVER-SOON", soon.Customer(kT0, 10'000'000).SerializeAsString(), 1);
  const auto soon_lowered = soon.Limit(kT0 + 1000, 5'000'000);
  producer.Produce("C-REDELIVER-SOON", soon_lowered.SerializeAsString(), 1);
  for (int i = 1; i <= 40; ++i) {
    producer.Produce("C-REDELIVER-SOON",
                     soon.Order(kT0 + 1000 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString(), 1);
  }
  producer.Produce("C-REDELIVER-SOON", soon.Limit(kT0 + 50'000, 20'000'000).SerializeAsString(), 1);
  producer.Produce("C-REDELIVER-SOON", soon_lowered.SerializeAsString(), 1);  // re-delivered
  producer.Flush();
  // Committed, and out of the batches the engine keeps in memory, before the re-delivery.
  const auto raised = PollGet(http, "/v1/customers/C-REDELIVER", [](const auto& r) {
    return r.status == 200 && nlohmann::json::parse(r.body)["credit_limit"]["minor"] == 20'000'000;
  });
  {
    INFO(engine.Log());  // on failure: what the engine did until then
    REQUIRE(raised);
    REQUIRE(raised->status == 200);
    REQUIRE(nlohmann::json::parse(raised->body)["credit_limit"]["minor"] == 20'000'000);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  producer.Produce("C-REDELIVER", lowered.SerializeAsString(), 0);  // re-delivered
  producer.Produce("C-REDELIVER", ev.Order(kT0 + 60'000, "O-LAST", 1000).SerializeAsString(), 0);
  producer.Flush();

  const ReferenceResult ref = ReferenceRun(producer.Records(), kInput);
  const auto outs = ReadOutputs(
      cluster.bootstrap(), cluster.partitions(), [&](const auto& recs) { return Covers(recs, ref); },
      std::chrono::seconds(60));
  INFO(engine.Log());
  CheckOutputs(outs, ref);
  auto view = PollGet(http, "/v1/customers/C-REDELIVER", [](const auto& r) {
    return r.status == 200 && nlohmann::json::parse(r.body)["held_orders"].empty() &&
           nlohmann::json::parse(r.body)["approved_orders"]["minor"] == 41 * 1000;
  });
  REQUIRE(view);
  CHECK(nlohmann::json::parse(view->body)["credit_limit"]["minor"] == 20'000'000);
  auto soon_view = PollGet(http, "/v1/customers/C-REDELIVER-SOON", [](const auto& r) {
    return r.status == 200 && nlohmann::json::parse(r.body)["approved_orders"]["minor"] == 40 * 1000;
  });
  REQUIRE(soon_view);
  CHECK(nlohmann::json::parse(soon_view->body)["credit_limit"]["minor"] == 20'000'000);
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

namespace {
// What the archive tests read: the customer's view once it shows the limit, or the
// approved orders' total, asked for.
auto LimitIs(int64_t minor) {
  return [minor](const auto& r) {
    return r.status == 200 && nlohmann::json::parse(r.body)["credit_limit"]["minor"] == minor;
  };
}
auto ApprovedIs(int64_t minor) {
  return [minor](const auto& r) {
    return r.status == 200 && nlohmann::json::parse(r.body)["approved_orders"]["minor"] == minor;
  };
}
// Raises the customer's limit to 20,000,000 at `at` and waits until that is committed.
void RaiseLimitAndWait(TestProducer& producer, httplib::Client& http, Process& engine, Events& ev,
                       const std::string& id, int64_t at) {
  producer.Produce(id, ev.Limit(at, 20'000'000).SerializeAsString());
  producer.Flush();
  const auto raised = PollGet(http, "/v1/customers/" + id, LimitIs(20'000'000));
  INFO(engine.Log());
  REQUIRE(raised);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // and out of the batch in flight
}
// Re-delivers the lowered limit, then one more order at `at`: once that order is
// approved (`orders` approved in all, 1,000 each), the limit must still be 20,000,000.
void CheckLoweredLimitIgnored(TestProducer& producer, httplib::Client& http, Process& engine, Events& ev,
                              const creditwatch::v1::Envelope& lowered, int64_t at, int orders) {
  const std::string& id = lowered.customer_id();
  producer.Produce(id, lowered.SerializeAsString());  // re-delivered
  producer.Produce(id, ev.Order(at, "O-LAST", 1000).SerializeAsString());
  producer.Flush();
  const auto view = PollGet(http, "/v1/customers/" + id, ApprovedIs(int64_t{orders} * 1000));
  INFO(engine.Log());
  REQUIRE(view);
  CHECK(nlohmann::json::parse(view->body)["credit_limit"]["minor"] == 20'000'000);
}
}  // namespace

TEST_CASE("e2e: an event logged after the checkpoint, re-delivered after a restart and 41 more events, changes nothing",
          "[e2e][pipeline]") {
  // The engine archives a customer's event ids with its checkpoints. The lowered limit is
  // a step logged after the checkpoint when the engine stops: the next engine replays it,
  // and must archive its id too before the ring of recent ids forgets it.
  E2eCluster cluster(1);
  TestProducer producer(cluster.bootstrap(), kInput, 1);
  Events ev("C-ARCHIVE");
  const auto lowered = ev.Limit(kT0 + 1000, 5'000'000);
  {
    Process engine({CREDITWATCH_BIN, "run", "-c", cluster.WriteConfig("engine", "event_time")},
                   cluster.dir() / "engine1.log");
    httplib::Client http = HttpClientOf(engine);
    producer.Produce("C-ARCHIVE", ev.Customer(kT0, 10'000'000).SerializeAsString());
    producer.Flush();
    REQUIRE(PollGet(http, "/v1/customers/C-ARCHIVE", LimitIs(10'000'000)));
    producer.Produce("C-ARCHIVE", lowered.SerializeAsString());
    producer.Flush();
    const auto applied = PollGet(http, "/v1/customers/C-ARCHIVE", LimitIs(5'000'000));
    INFO(engine.Log());
    REQUIRE(applied);
    REQUIRE(engine.Kill(SIGTERM) == 0);
  }
  REQUIRE(OpenStore(cluster.DataDir("engine"))->CountSteps() == 1);  // the lowered limit
  Process engine({CREDITWATCH_BIN, "run", "-c", cluster.WriteConfig("engine", "event_time")},
                 cluster.dir() / "engine2.log");
  httplib::Client http = HttpClientOf(engine);
  for (int i = 1; i <= 40; ++i) {
    producer.Produce("C-ARCHIVE", ev.Order(kT0 + 1000 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString());
  }
  RaiseLimitAndWait(producer, http, engine, ev, "C-ARCHIVE", kT0 + 50'000);
  CheckLoweredLimitIgnored(producer, http, engine, ev, lowered, kT0 + 60'000, 41);
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

TEST_CASE("e2e: an event re-delivered in the batch that archives its id changes nothing", "[e2e][pipeline]") {
  // The lowered limit is applied in one batch and archived in a later one, with 32 more
  // events that push it out of the ring; re-delivered in that batch, before RocksDB has
  // it, only the batch's own list of archived ids tells.
  E2eCluster cluster(1);
  TestProducer producer(cluster.bootstrap(), kInput, 1);
  Process engine({CREDITWATCH_BIN, "run", "-c", cluster.WriteConfig("engine", "event_time")},
                 cluster.dir() / "engine.log");
  httplib::Client http = HttpClientOf(engine);
  Events ev("C-BURST");
  producer.Produce("C-BURST", ev.Customer(kT0, 10'000'000).SerializeAsString());
  producer.Flush();
  REQUIRE(PollGet(http, "/v1/customers/C-BURST", LimitIs(10'000'000)));
  const auto lowered = ev.Limit(kT0 + 1000, 5'000'000);
  producer.Produce("C-BURST", lowered.SerializeAsString());
  producer.Produce("C-BURST", ev.Order(kT0 + 1500, "O-0", 1000).SerializeAsString());
  producer.Flush();
  REQUIRE(PollGet(http, "/v1/customers/C-BURST", ApprovedIs(1000)));
  // The order's decision is acknowledged and its outbox entry deleted by a later batch:
  // the batch of the lowered limit is no longer the one in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  for (int i = 1; i <= 31; ++i) {
    producer.Produce("C-BURST", ev.Order(kT0 + 2000 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString());
  }
  producer.Produce("C-BURST", ev.Limit(kT0 + 50'000, 20'000'000).SerializeAsString());
  CheckLoweredLimitIgnored(producer, http, engine, ev, lowered, kT0 + 60'000, 33);
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

TEST_CASE("e2e: with more logged steps than the ring holds, a restart archives their ids before it forgets one",
          "[e2e][pipeline]") {
  // checkpoint_steps 100: 38 steps are logged after the checkpoint when the engine stops,
  // the lowered limit among the last 6 not archived. The next engine replays all 38.
  E2eCluster cluster(1);
  TestProducer producer(cluster.bootstrap(), kInput, 1);
  const std::string cfg = cluster.WriteConfig("engine", "event_time", "  checkpoint_steps: 100\n");
  Events ev("C-LONG");
  const auto lowered = ev.Limit(kT0 + 40'000, 5'000'000);
  {
    Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine1.log");
    httplib::Client http = HttpClientOf(engine);
    producer.Produce("C-LONG", ev.Customer(kT0, 10'000'000).SerializeAsString());
    producer.Flush();
    REQUIRE(PollGet(http, "/v1/customers/C-LONG", LimitIs(10'000'000)));
    for (int i = 1; i <= 32; ++i) {
      producer.Produce("C-LONG", ev.Order(kT0 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString());
    }
    producer.Produce("C-LONG", lowered.SerializeAsString());
    for (int i = 33; i <= 37; ++i) {
      producer.Produce("C-LONG", ev.Order(kT0 + 10'000 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString());
    }
    producer.Flush();
    const auto applied = PollGet(http, "/v1/customers/C-LONG", ApprovedIs(37 * 1000));
    INFO(engine.Log());
    REQUIRE(applied);
    REQUIRE(nlohmann::json::parse(applied->body)["credit_limit"]["minor"] == 5'000'000);
    REQUIRE(engine.Kill(SIGTERM) == 0);
  }
  REQUIRE(OpenStore(cluster.DataDir("engine"))->CountSteps() == 38);
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine2.log");
  httplib::Client http = HttpClientOf(engine);
  for (int i = 38; i <= 77; ++i) {
    producer.Produce("C-LONG", ev.Order(kT0 + 10'000 + i * 1000, "O-" + std::to_string(i), 1000).SerializeAsString());
  }
  RaiseLimitAndWait(producer, http, engine, ev, "C-LONG", kT0 + 100'000);
  CheckLoweredLimitIgnored(producer, http, engine, ev, lowered, kT0 + 110'000, 78);
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

TEST_CASE("e2e: an invoice becomes overdue on the wall clock with no further events", "[e2e][pipeline]") {
  E2eCluster cluster(2);
  const std::string cfg = cluster.WriteConfig("engine", "live");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  // Start the clock only once the engine has its partitions, so the deadline below is
  // reached by the timer and not already passed when the invoice arrives.
  httplib::Client http = HttpClientOf(engine);
  REQUIRE(PollGet(http, "/readyz", [](const auto& r) { return r.status == 200; })->status == 200);
  TestProducer producer(cluster.bootstrap(), kInput, cluster.partitions());
  const int64_t now =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  Events ev("C-CLOCK");
  // Due yesterday plus 4 s: one day past due (dunning level 1) 4 s from now.
  const int64_t due = now - kDay + 4000;
  producer.Produce("C-CLOCK", ev.Customer(now - 40 * kDay, 100'000'000).SerializeAsString());
  producer.Produce("C-CLOCK", ev.Invoice(now - 40 * kDay, "INV-9", 50'000, due).SerializeAsString());
  producer.Flush();

  v1::Alert overdue;
  const auto outs = ReadOutputs(
      cluster.bootstrap(), cluster.partitions(),
      [&](const auto& recs) {
        for (const auto& r : recs) {
          v1::Alert a;
          if (r.topic == "creditwatch.alerts" && a.ParseFromString(r.value) && a.rule() == v1::INVOICE_OVERDUE) {
            overdue = a;
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(40), {"creditwatch.alerts"});
  INFO(engine.Log());
  REQUIRE(overdue.rule() == v1::INVOICE_OVERDUE);
  CHECK(overdue.level() == 1);
  CHECK(overdue.subject() == "INV-9");
  CHECK(overdue.at_ms() == due + kDay);     // fired at the deadline itself
  CHECK(overdue.cause_event_id().empty());  // a timer, not an event, caused it
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

using creditwatch::obs::SumOfFamily;

TEST_CASE("e2e: input deleted by the broker before it was read is counted once, never skipped silently",
          "[e2e][pipeline]") {
  E2eCluster cluster(1);
  TestProducer producer(cluster.bootstrap(), kInput, 1);
  creditwatch::workload::WorkloadOptions wo;
  wo.customers = 2000;
  wo.start_ms = kT0 - 6 * 365 * kDay;
  creditwatch::workload::WorkloadGenerator gen(wo);
  const std::string cfg = cluster.WriteConfig("engine", "event_time");
  // A first run reads the first 1,000 records and stores its position.
  ProduceWorkload(producer, gen, 1000);
  {
    Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine-1.log");
    httplib::Client c = HttpClientOf(engine);
    auto read = PollGet(c, "/metrics", [](const auto& r) {
      return r.status == 200 && SumOfFamily(r.body, "creditwatch_events_consumed_total") >= 1000;
    });
    REQUIRE(SumOfFamily(read->body, "creditwatch_events_consumed_total") == 1000);
    REQUIRE(engine.Kill(SIGTERM) == 0);
  }
  // While it is stopped, the embedded broker (about 5 MiB per partition) drops records
  // past that position.
  ProduceWorkload(producer, gen, 90000);
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine-2.log");
  httplib::Client c = HttpClientOf(engine);
  // Every record after the stored position is either applied or counted lost, once:
  // not again when the old position is refused and the consumer resets, nor when the
  // first record after the gap arrives.
  auto done = PollGet(
      c, "/metrics",
      [](const auto& r) {
        return r.status == 200 && SumOfFamily(r.body, "creditwatch_events_consumed_total") +
                                          SumOfFamily(r.body, "creditwatch_offsets_lost_total") >=
                                      90000;
      },
      60000);
  INFO(engine.Log());
  REQUIRE(done);
  std::this_thread::sleep_for(std::chrono::seconds(2));  // anything counted late shows now
  auto m = c.Get("/metrics");
  REQUIRE(m);
  const double lost = SumOfFamily(m->body, "creditwatch_offsets_lost_total");
  CHECK(lost > 0);
  CHECK(SumOfFamily(m->body, "creditwatch_events_consumed_total") + lost == 90000);
  CHECK_THAT(engine.Log(), Catch::Contains("were deleted by the broker before they were consumed"));
  REQUIRE(engine.Kill(SIGTERM) == 0);
}

TEST_CASE("e2e: a record whose customer cannot be read stops the engine, and its position is not stored past it",
          "[e2e][pipeline]") {
  E2eCluster cluster(1);
  TestProducer producer(cluster.bootstrap(), kInput, 1);
  Events ev("C-BAD");
  producer.Produce("C-BAD", ev.Customer(kT0, 1'000'000).SerializeAsString());
  producer.Produce("C-BAD", ev.Order(kT0, "O1", 5'000).SerializeAsString());
  producer.Flush();
  const std::string cfg = cluster.WriteConfig("engine", "event_time");
  {
    Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine1.log");
    // The order's decision.
    const auto outs = ReadOutputs(
        cluster.bootstrap(), cluster.partitions(), [](const auto& recs) { return !recs.empty(); },
        std::chrono::seconds(60));
    REQUIRE_FALSE(outs.empty());
    REQUIRE(engine.Kill(SIGTERM) == 0);
  }
  // The customer's next logged step is unreadable.
  v1::PartitionPosition before;
  {
    auto store = OpenStore(cluster.DataDir("engine"));
    v1::CustomerState s;
    bool found = false;
    REQUIRE(store->GetCustomer("C-BAD", &s, &found).ok());
    REQUIRE(found);
    creditwatch::store::StoreBatch batch(*store);
    batch.PutStep("C-BAD", s.step_seq(), "\xff\xff not a step");
    REQUIRE(store->Commit(batch).ok());
    REQUIRE(store->GetPosition(kInput, 0, &before, &found).ok());
    REQUIRE(found);
  }
  // A record before it for another customer, then one for it, in the same batch.
  producer.Produce("C-OK", Events("C-OK").Customer(kT0, 1'000'000).SerializeAsString());
  producer.Produce("C-BAD", ev.Invoice(kT0, "I1", 5'000, kT0 + 30 * kDay).SerializeAsString());
  producer.Flush();
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine2.log");
  const int code = engine.WaitFor(std::chrono::seconds(60));
  INFO(engine.Log());
  CHECK(code != 0);
  CHECK(code != -1);
  CHECK(engine.Log().find("does not parse") != std::string::npos);
  if (code == -1) engine.Kill(SIGKILL);
  auto store = OpenStore(cluster.DataDir("engine"));
  v1::PartitionPosition after;
  bool found = false;
  REQUIRE(store->GetPosition(kInput, 0, &after, &found).ok());
  // The unreadable customer's record (the second) is not behind the stored position: it
  // is read again after a restart. C-OK's may be, if it came in a batch of its own.
  v1::CustomerState ok;
  REQUIRE(store->GetCustomer("C-OK", &ok, &found).ok());
  CHECK(after.next_offset() == before.next_offset() + (found ? 1 : 0));
}

TEST_CASE("e2e: a wake moved by changed rules still fires after a restart", "[e2e][pipeline]") {
  E2eCluster cluster(1);
  TestProducer producer(cluster.bootstrap(), kInput, 1);
  std::map<std::string, Events> ev;
  for (const char* id : {"C-X", "C-Y", "C-Z"}) ev.emplace(id, Events(id));
  const int64_t promised = kT0 + 10 * kDay;
  auto has_outputs = [](std::vector<std::string> fragments) {
    return [fragments](const std::vector<OutRecord>& recs) {
      return std::all_of(fragments.begin(), fragments.end(), [&](const std::string& f) {
        return std::any_of(recs.begin(), recs.end(), [&](const OutRecord& r) {
          const auto it = r.headers.find("creditwatch.output_id");
          return it != r.headers.end() && it->second.find(f) != std::string::npos;
        });
      });
    };
  };
  {
    // Default rules: a promise is judged a day after its date. The second order comes
    // in a batch of its own, so it is a step logged after the customer's checkpoint.
    Process engine({CREDITWATCH_BIN, "run", "-c", cluster.WriteConfig("engine", "event_time")},
                   cluster.dir() / "engine1.log");
    for (const std::string id : {"C-X", "C-Z"}) {
      producer.Produce(id, ev.at(id).Customer(kT0, 1'000'000).SerializeAsString());
      producer.Produce(id, ev.at(id).Promise(kT0, "PR1", 5'000, promised).SerializeAsString());
      producer.Produce(id, ev.at(id).Order(kT0, "O1", 1'000).SerializeAsString());
    }
    producer.Flush();
    REQUIRE(has_outputs({"C-X/order/O1", "C-Z/order/O1"})(
        ReadOutputs(cluster.bootstrap(), 1, has_outputs({"C-X/order/O1", "C-Z/order/O1"}), std::chrono::seconds(60))));
    for (const std::string id : {"C-X", "C-Z"}) {
      producer.Produce(id, ev.at(id).Order(kT0 + kDay, "O2", 1'000).SerializeAsString());
    }
    producer.Flush();
    REQUIRE(has_outputs({"C-X/order/O2", "C-Z/order/O2"})(
        ReadOutputs(cluster.bootstrap(), 1, has_outputs({"C-X/order/O2", "C-Z/order/O2"}), std::chrono::seconds(60))));
    REQUIRE(engine.Kill(SIGTERM) == 0);
  }
  const int64_t planted = promised + 5 * kDay;
  {
    auto store = OpenStore(cluster.DataDir("engine"));
    REQUIRE(store->CountSteps() >= 2);  // each customer is a checkpoint and a logged step
    // A second stored deadline for C-X, later than its own, as an earlier version could
    // leave: the index keeps one per customer and deletes the other when it loads.
    creditwatch::store::StoreBatch b(*store);
    b.PutTimer(0, planted, "C-X");
    REQUIRE(store->Commit(b).ok());
  }
  // Three days of grace now: replaying the logged step moves the deadline from the date
  // + 1 day to the date + 3 days. C-Z is read for an event before its old deadline, C-X
  // when the old deadline comes due.
  Process engine({CREDITWATCH_BIN, "run", "-c",
                  cluster.WriteConfig("engine", "event_time", "rules:\n  defaults:\n    promise_grace_days: 3\n")},
                 cluster.dir() / "engine2.log");
  producer.Produce("C-Z", ev.at("C-Z").Order(promised, "O3", 1'000).SerializeAsString());
  producer.Produce("C-Y", ev.at("C-Y").Customer(promised + 2 * kDay, 1'000'000).SerializeAsString());
  producer.Produce("C-Y", ev.at("C-Y").Order(promised + 4 * kDay, "O1", 1'000).SerializeAsString());
  producer.Flush();
  const std::vector<std::string> broken = {"C-X/PROMISE_BROKEN/PR1", "C-Z/PROMISE_BROKEN/PR1"};
  const auto outs = ReadOutputs(cluster.bootstrap(), 1, has_outputs(broken), std::chrono::seconds(30));
  INFO(engine.Log());
  CHECK(has_outputs(broken)(outs));
  REQUIRE(engine.Kill(SIGTERM) == 0);
  // The stored index holds each customer's deadline, not the old ones, and the stored
  // count of customers with a deadline agrees with it.
  auto store = OpenStore(cluster.DataDir("engine"));
  std::vector<creditwatch::store::DueTimer> timers;
  REQUIRE(store->AllTimers(0, &timers).ok());
  std::set<std::string> with_deadline;
  for (const auto& t : timers) {
    CHECK(t.fire_ms != promised + kDay);
    CHECK(t.fire_ms != planted);
    CHECK(with_deadline.insert(t.customer_id).second);  // one each
  }
  CHECK(store->GetCounter("timers_pending") == static_cast<int64_t>(store->CountTimers()));
  CHECK(engine.Log().find("stored deadline " + std::to_string(planted)) != std::string::npos);
}
