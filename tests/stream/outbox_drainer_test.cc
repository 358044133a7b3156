#include <librdkafka/rdkafka.h>
// clang-format off: the mock API must follow rdkafka.h
#include <librdkafka/rdkafka_mock.h>
// clang-format on
#include <librdkafka/rdkafkacpp.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "obs/engine_metrics.h"
#include "obs/metrics_text.h"
#include "store/credit_store.h"
#include "stream/embedded_broker.h"
#include "stream/outbox_drainer.h"
#include "support/temp_store.h"

using namespace creditwatch;

namespace {

using testing::TempStore;

v1::OutboxRecord Alert(const std::string& customer, const std::string& output_id) {
  v1::OutboxRecord r;
  r.set_kind(v1::OutboxRecord::ALERT);
  r.set_key(customer);
  r.set_value("alert bytes of " + output_id);
  r.set_output_id(output_id);
  r.set_event_time_ms(1);
  return r;
}

// Every record on `topic`: output id header -> (kind header, value).
// `header_keys`, when given, receives each record's header keys by output id.
std::map<std::string, std::pair<std::string, std::string>> ReadAll(
    const std::string& bootstrap, const std::string& topic, size_t want,
    std::map<std::string, std::set<std::string>>* header_keys = nullptr) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "drainer-test-reader", err);
  conf->set("auto.offset.reset", "earliest", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  c->subscribe({topic});
  std::map<std::string, std::pair<std::string, std::string>> out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out.size() < want && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c->consume(200));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    std::string id;
    std::string kind;
    std::set<std::string> keys;
    if (RdKafka::Headers* h = m->headers(); h != nullptr) {
      for (const auto& hdr : h->get_all()) {
        const std::string v(static_cast<const char*>(hdr.value()), hdr.value_size());
        if (hdr.key() == "creditwatch.output_id") id = v;
        if (hdr.key() == "creditwatch.kind") kind = v;
        keys.insert(hdr.key());
      }
    }
    if (header_keys != nullptr) (*header_keys)[id] = keys;
    out[id] = {kind, std::string(static_cast<const char*>(m->payload()), m->len())};
  }
  c->close();
  return out;
}

// An embedded broker with the output topics, `so` pointed at it.
std::unique_ptr<stream::EmbeddedBroker> StartBroker(int partitions, stream::StreamOptions& so) {
  stream::BrokerOptions bo;
  bo.partitions = partitions;
  bo.topics = {so.topics.alerts, so.topics.block_status, so.topics.order_decisions, so.topics.dead_letter};
  std::unique_ptr<stream::EmbeddedBroker> broker;
  REQUIRE(stream::EmbeddedBroker::Start(bo, &broker).ok());
  so.kafka = {{"bootstrap.servers", broker->bootstraps()}};
  return broker;
}

std::unique_ptr<stream::OutboxDrainer> MakeDrainer(
    const stream::StreamOptions& so, obs::EngineMetrics& metrics, const store::CreditStore& db,
    std::function<int64_t()> wall_ms = [] { return int64_t{1000}; }) {
  std::unique_ptr<stream::OutboxDrainer> drainer;
  REQUIRE(stream::OutboxDrainer::Create(so, &metrics, std::move(wall_ms), &db, &drainer).ok());
  return drainer;
}

// Polls `drainer` until `want` records are acknowledged in all (or the timeout passes);
// the acknowledged ones are added to `acked`.
void AwaitAcked(stream::OutboxDrainer& drainer, std::set<uint64_t>& acked, size_t want, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (acked.size() < want && std::chrono::steady_clock::now() < deadline) {
    drainer.Poll();
    for (uint64_t seq : drainer.TakeAcked()) acked.insert(seq);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

TEST_CASE("a delivery that fails is read back from the outbox and sent again", "[integration][stream]") {
  stream::StreamOptions so;
  const auto broker = StartBroker(2, so);
  so.kafka_producer = {{"message.timeout.ms", "1500"}};

  TempStore t;
  const std::vector<std::string> ids = {"C-1/OVER_LIMIT/1-firing", "C-2/OVER_LIMIT/1-firing",
                                        "C-3/PAYMENT_BOUNCED/1-firing"};
  store::StoreBatch b(*t.db);
  for (size_t i = 0; i < ids.size(); ++i) {
    v1::OutboxRecord r = Alert("C-" + std::to_string(i + 1), ids[i]);
    if (i == 1) r.set_created_ms(400);  // committed before a restart: its age goes on
    b.PutOutbox(i + 1, r);
  }
  REQUIRE(t.db->Commit(b).ok());

  obs::EngineMetrics metrics;
  int64_t clock_ms = 1000;
  const auto drainer = MakeDrainer(so, metrics, *t.db, [&clock_ms] { return clock_ms; });
  CHECK(drainer->OldestInFlightSinceMs() == -1);

  // The broker goes away before anything is delivered: every delivery times out.
  auto* mcluster = static_cast<rd_kafka_mock_cluster_t*>(broker->mock_cluster());
  REQUIRE(rd_kafka_mock_broker_set_down(mcluster, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  REQUIRE(t.db->ScanOutbox(0, 10, &page).ok());
  REQUIRE(page.size() == ids.size());
  for (const auto& [seq, rec] : page) drainer->Send(seq, rec);
  clock_ms = 61'000;  // a minute on: the retries below do not make the records younger
  const auto fail_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (metrics.produce_errors.Value() < static_cast<double>(ids.size()) &&
         std::chrono::steady_clock::now() < fail_deadline) {
    drainer->Poll();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(metrics.produce_errors.Value() >= static_cast<double>(ids.size()));
  CHECK(drainer->TakeAcked().empty());
  CHECK(drainer->InFlight() == ids.size());
  CHECK(drainer->OldestInFlightSinceMs() == 400);

  // Back up: the retries (read back from RocksDB) are delivered and acknowledged.
  REQUIRE(rd_kafka_mock_broker_set_up(mcluster, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  std::set<uint64_t> acked;
  AwaitAcked(*drainer, acked, ids.size(), std::chrono::seconds(30));
  CHECK(acked == std::set<uint64_t>{1, 2, 3});
  CHECK(drainer->InFlight() == 0);
  CHECK(drainer->OldestInFlightSinceMs() == -1);
  CHECK(metrics.Sum("creditwatch_outputs_produced_total", "kind", "alert") == 3);

  const auto got = ReadAll(broker->bootstraps(), so.topics.alerts, ids.size());
  REQUIRE(got.size() == ids.size());
  for (const auto& id : ids) {
    REQUIRE(got.count(id) == 1);
    CHECK(got.at(id).first == "alert");
    CHECK(got.at(id).second == "alert bytes of " + id);
  }
}

TEST_CASE("a dead letter too large to produce is delivered without the input's bytes", "[integration][stream]") {
  stream::StreamOptions so;
  const auto broker = StartBroker(1, so);
  so.kafka_producer = {{"message.max.bytes", "20000"}};

  TempStore t;
  v1::OutboxRecord big;
  big.set_kind(v1::OutboxRecord::DEAD_LETTER);
  big.set_key("C-1");
  big.set_value(std::string(50'000, 'x'));  // over the producer's limit
  big.set_output_id("dead-letter/creditwatch.events/0/7");
  auto* h = big.add_headers();
  h->set_key("creditwatch.source.offset");
  h->set_value("7");
  h = big.add_headers();
  h->set_key("trace-id");  // copied from the input
  h->set_value("abc");
  store::StoreBatch b(*t.db);
  b.PutOutbox(1, big);
  b.PutOutbox(2, Alert("C-2", "C-2/OVER_LIMIT/1-firing"));
  REQUIRE(t.db->Commit(b).ok());

  obs::EngineMetrics metrics;
  const auto drainer = MakeDrainer(so, metrics, *t.db);
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  REQUIRE(t.db->ScanOutbox(0, 10, &page).ok());
  for (const auto& [seq, rec] : page) drainer->Send(seq, rec);
  std::set<uint64_t> acked;
  AwaitAcked(*drainer, acked, 2, std::chrono::seconds(20));
  CHECK(acked == std::set<uint64_t>{1, 2});
  CHECK(drainer->InFlight() == 0);
  CHECK(metrics.produce_errors.Value() >= 1);
  std::map<std::string, std::set<std::string>> keys;
  const auto got = ReadAll(broker->bootstraps(), so.topics.dead_letter, 1, &keys);
  REQUIRE(got.count(big.output_id()) == 1);
  CHECK(got.at(big.output_id()).first == "dead_letter");
  CHECK(got.at(big.output_id()).second.empty());
  // Its own headers still find the input; the input's own ones are left out too.
  CHECK(keys[big.output_id()] == std::set<std::string>{"creditwatch.output_id", "creditwatch.kind",
                                                       "creditwatch.source.offset", "creditwatch.value_omitted"});
}

TEST_CASE("a record the committing thread produced is settled whether its report comes before or after it is tracked",
          "[integration][stream]") {
  stream::StreamOptions so;
  const auto broker = StartBroker(1, so);
  so.kafka_producer = {{"message.timeout.ms", "1500"}};
  TempStore t;
  store::StoreBatch b(*t.db);
  for (uint64_t seq = 1; seq <= 3; ++seq) {
    b.PutOutbox(seq, Alert("C-" + std::to_string(seq), "C-" + std::to_string(seq) + "/OVER_LIMIT/1-firing"));
  }
  REQUIRE(t.db->Commit(b).ok());
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  REQUIRE(t.db->ScanOutbox(0, 10, &page).ok());
  REQUIRE(page.size() == 3);

  obs::EngineMetrics metrics;
  int64_t clock_ms = 1000;
  const auto drainer = MakeDrainer(so, metrics, *t.db, [&clock_ms] { return clock_ms; });

  // Delivered and reported before the loop tracks it: nothing is acknowledged until then.
  REQUIRE(drainer->ProduceCommitted(page[0].first, page[0].second));
  REQUIRE(drainer->producer()->flush(10'000) == RdKafka::ERR_NO_ERROR);  // serves the report
  CHECK(drainer->TakeAcked().empty());
  CHECK(drainer->InFlight() == 0);
  clock_ms = 5000;  // the loop tracks it later: its latency still ends at the report
  drainer->Track(page[0].first, page[0].second);
  CHECK(drainer->TakeAcked() == std::vector<uint64_t>{1});
  CHECK(drainer->InFlight() == 0);
  CHECK(obs::SumOfFamily(metrics.Serialize(), "creditwatch_end_to_end_latency_seconds_sum") ==
        Approx(0.999));  // 1000 - 1 ms

  // Tracked before its report.
  REQUIRE(drainer->ProduceCommitted(page[1].first, page[1].second));
  drainer->Track(page[1].first, page[1].second);
  CHECK(drainer->InFlight() == 1);
  std::set<uint64_t> acked;
  AwaitAcked(*drainer, acked, 1, std::chrono::seconds(20));
  CHECK(acked == std::set<uint64_t>{2});

  // A failure reported before it is tracked: applied then, and the record is read back
  // from the outbox and delivered once the broker is back.
  auto* mcluster = static_cast<rd_kafka_mock_cluster_t*>(broker->mock_cluster());
  REQUIRE(rd_kafka_mock_broker_set_down(mcluster, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  REQUIRE(drainer->ProduceCommitted(page[2].first, page[2].second));
  CHECK(drainer->producer()->flush(10'000) == RdKafka::ERR_NO_ERROR);  // until its delivery times out
  const double errors_before = metrics.produce_errors.Value();
  drainer->Track(page[2].first, page[2].second);
  CHECK(metrics.produce_errors.Value() == errors_before + 1);
  CHECK(drainer->InFlight() == 1);
  REQUIRE(rd_kafka_mock_broker_set_up(mcluster, 1) == RD_KAFKA_RESP_ERR_NO_ERROR);
  acked.clear();
  AwaitAcked(*drainer, acked, 1, std::chrono::seconds(20));
  CHECK(acked == std::set<uint64_t>{3});
  CHECK(drainer->InFlight() == 0);
  CHECK(metrics.Sum("creditwatch_outputs_produced_total", "kind", "alert") == 3);
  CHECK(ReadAll(broker->bootstraps(), so.topics.alerts, 3).size() == 3);
}
