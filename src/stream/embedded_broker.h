// EmbeddedBroker: a librdkafka mock cluster speaking the Kafka protocol on 127.0.0.1,
// for the demo and the tests. Ports are random: publish bootstraps(). Holds about 5 MiB
// per partition (older records are dropped), no transactions, no compaction.
// Thread-safe after Start (the mock cluster runs its own threads).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "stream/stream_options.h"

namespace creditwatch::stream {

struct BrokerOptions {
  int brokers = 1;                  // Default: 1
  int partitions = 8;               // Default: 8 per topic
  std::vector<std::string> topics;  // created at start
};

// The embedded broker answers an empty fetch only after the consumer's full
// fetch.wait.max.ms, even when records arrive meanwhile (a real broker answers at once;
// librdkafka's default wait is 500 ms). Its consumers wait 1 ms unless configured
// otherwise: an event then waits at most 1 ms for the next fetch, and an idle engine
// spends about 6% of a core more on empty fetches than at 5 ms.
inline constexpr const char* kEmbeddedFetchWaitMs = "1";

class EmbeddedBroker {
 public:
  static Status Start(const BrokerOptions& options, std::unique_ptr<EmbeddedBroker>* out);
  ~EmbeddedBroker();
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  const std::string& bootstraps() const { return bootstraps_; }
  // The mock cluster handle (rd_kafka_mock_cluster_t*) for fault injection in tests.
  void* mock_cluster() const { return mcluster_; }

 private:
  EmbeddedBroker() = default;
  void* rk_ = nullptr;        // rd_kafka_t*
  void* mcluster_ = nullptr;  // rd_kafka_mock_cluster_t*
  std::string bootstraps_;
};

// Points the engine's clients at `broker`, with its fetch wait (kEmbeddedFetchWaitMs)
// unless the configuration sets one.
void ConnectToEmbeddedBroker(const EmbeddedBroker& broker, StreamOptions* options);

}  // namespace creditwatch::stream
