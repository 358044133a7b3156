#include "stream/embedded_broker.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace creditwatch::stream {

Status EmbeddedBroker::Start(const BrokerOptions& options, std::unique_ptr<EmbeddedBroker>* out) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Status::Error(err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) return Status::Error(fmt::format("embedded broker: {}", err));
  rd_kafka_mock_cluster_t* mc = rd_kafka_mock_cluster_new(rk, options.brokers);
  if (mc == nullptr) {
    rd_kafka_destroy(rk);
    return Status::Error("embedded broker: could not start the mock cluster");
  }
  std::unique_ptr<EmbeddedBroker> b(new EmbeddedBroker());
  b->rk_ = rk;
  b->mcluster_ = mc;
  b->bootstraps_ = rd_kafka_mock_cluster_bootstraps(mc);
  for (const auto& t : options.topics) {
    const rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, t.c_str(), options.partitions, 1);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Error(fmt::format("embedded broker: creating topic {}: {}", t, rd_kafka_err2str(e)));
    }
  }
  *out = std::move(b);
  return Status::Ok();
}

EmbeddedBroker::~EmbeddedBroker() {
  if (mcluster_ != nullptr) rd_kafka_mock_cluster_destroy(static_cast<rd_kafka_mock_cluster_t*>(mcluster_));
  if (rk_ != nullptr) rd_kafka_destroy(static_cast<rd_kafka_t*>(rk_));
}

void ConnectToEmbeddedBroker(const EmbeddedBroker& broker, StreamOptions* options) {
  options->kafka["bootstrap.servers"] = broker.bootstraps();
  options->kafka_consumer.try_emplace("fetch.wait.max.ms", kEmbeddedFetchWaitMs);
}

}  // namespace creditwatch::stream
