// Test helpers for end-to-end tests: the embedded broker in its own process, engine
// processes, a producer that records offsets, and a reader of the output topics.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/process.h"
#include "support/reference.h"

#ifndef CREDITWATCH_BIN
#error "CREDITWATCH_BIN must point at the creditwatch executable"
#endif

namespace cwtest {

inline const std::vector<std::string> kOutputTopics = {"creditwatch.alerts", "creditwatch.block-status",
                                                       "creditwatch.order-decisions", "creditwatch.dead-letter"};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cw-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The broker in its own process, so it survives kill -9 of an engine.
class E2eCluster {
 public:
  explicit E2eCluster(int partitions = 4) : partitions_(partitions) {
    broker_.Start(
        {CREDITWATCH_BIN, "broker", "--partitions", std::to_string(partitions), "--bootstrap-file", dir_ / "bootstrap"},
        dir_ / "broker.log");
    for (int i = 0; i < 200 && bootstrap_.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
      std::ifstream in(dir_ / "bootstrap");
      std::getline(in, bootstrap_);
    }
  }
  const std::string& bootstrap() const { return bootstrap_; }
  int partitions() const { return partitions_; }
  // Kills the broker process (an outage; it does not come back).
  void KillBroker() { broker_.Kill(SIGKILL); }
  const TempDir& dir() const { return dir_; }

  // An engine config on this cluster. `extra` is appended to the engine section.
  std::string WriteConfig(const std::string& name, const std::string& time_mode, const std::string& extra = "") const {
    const std::string path = dir_ / (name + ".yaml");
    std::ofstream out(path);
    out << "log_level: info\n"
        << "kafka:\n  bootstrap.servers: \"" << bootstrap_ << "\"\n"
        << "kafka_consumer:\n  session.timeout.ms: 6000\n  heartbeat.interval.ms: 500\n"
        << "engine:\n  data_dir: \"" << (dir_ / (name + "-data")) << "\"\n  time_mode: " << time_mode
        << "\n  shutdown_drain_ms: 5000\n"
        << extra << "http:\n  listen: \"127.0.0.1:0\"\n  token: \"test-token\"\n";
    return path;
  }
  std::string DataDir(const std::string& name) const { return dir_ / (name + "-data"); }

 private:
  int partitions_;
  TempDir dir_;
  Process broker_;
  std::string bootstrap_;
};

// Produces to explicit partitions (a stable hash of the key) and records offsets.
class TestProducer : public RdKafka::DeliveryReportCb {
 public:
  TestProducer(const std::string& bootstrap, std::string topic, int partitions)
      : topic_(std::move(topic)), partitions_(partitions) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", bootstrap, err);
    conf->set("enable.idempotence", "true", err);
    conf->set("linger.ms", "2", err);
    conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(this), err);
    producer_.reset(RdKafka::Producer::create(conf.get(), err));
  }
  int32_t PartitionOf(const std::string& key) const {
    uint32_t h = 2166136261u;
    for (unsigned char c : key) h = (h ^ c) * 16777619u;
    return static_cast<int32_t>(h % static_cast<uint32_t>(partitions_));
  }
  void Produce(const std::string& key, const std::string& bytes, int32_t partition = -1) {
    auto* rec = new InputRecord{partition >= 0 ? partition : PartitionOf(key), -1, key, bytes};
    while (producer_->produce(topic_, rec->partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(bytes.data()),
                              bytes.size(), key.data(), key.size(), 0, nullptr, rec) == RdKafka::ERR__QUEUE_FULL) {
      producer_->poll(10);
    }
    producer_->poll(0);
  }
  void Flush() { producer_->flush(30000); }
  void dr_cb(RdKafka::Message& m) override {
    std::unique_ptr<InputRecord> rec(static_cast<InputRecord*>(m.msg_opaque()));
    if (m.err() != RdKafka::ERR_NO_ERROR) {
      ++failed_;
      return;
    }
    rec->offset = m.offset();
    records_.push_back(*rec);
  }
  // Delivered records, sorted by (partition, offset): each partition in its log order.
  std::vector<InputRecord> Records() const {
    auto r = records_;
    std::stable_sort(r.begin(), r.end(), [](const auto& a, const auto& b) {
      return a.partition != b.partition ? a.partition < b.partition : a.offset < b.offset;
    });
    return r;
  }
  int failed() const { return failed_; }

 private:
  std::string topic_;
  int partitions_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::vector<InputRecord> records_;
  int failed_ = 0;
};

struct OutRecord {
  std::string topic;
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Reads the output topics from the beginning until `done(records)` or the timeout.
inline std::vector<OutRecord> ReadOutputs(const std::string& bootstrap, int partitions,
                                          const std::function<bool(const std::vector<OutRecord>&)>& done,
                                          std::chrono::milliseconds timeout,
                                          const std::vector<std::string>& topics = kOutputTopics) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", bootstrap, err);
  conf->set("group.id", "cw-test-reader", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  std::vector<RdKafka::TopicPartition*> tps;
  for (const auto& t : topics) {
    for (int p = 0; p < partitions; ++p) {
      tps.push_back(RdKafka::TopicPartition::create(t, p, RdKafka::Topic::OFFSET_BEGINNING));
    }
  }
  c->assign(tps);
  RdKafka::TopicPartition::destroy(tps);
  std::vector<OutRecord> out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() == RdKafka::ERR_NO_ERROR) {
      OutRecord r;
      r.topic = m->topic_name();
      if (m->key() != nullptr) r.key = *m->key();
      r.value.assign(static_cast<const char*>(m->payload()), m->len());
      if (RdKafka::Headers* h = m->headers(); h != nullptr) {
        for (const auto& hdr : h->get_all()) {
          r.headers[hdr.key()] = std::string(static_cast<const char*>(hdr.value()), hdr.value_size());
        }
      }
      out.push_back(std::move(r));
      continue;
    }
    if (done(out)) break;
  }
  c->close();
  return out;
}

}  // namespace cwtest
