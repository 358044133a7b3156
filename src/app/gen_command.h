// `creditwatch gen`: writes the synthetic workload to a Kafka topic or to a file of
// length-delimited Envelopes. Same seed, same bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <librdkafka/rdkafkacpp.h>

#include <memory>

#include "core/status.h"
#include "workload/workload_generator.h"

namespace creditwatch::app {

struct GenOptions {
  workload::WorkloadOptions workload;
  int64_t events = 100'000;  // Default: 100,000 (0 = until stopped)
  double rate = 0;           // Default: 0 = as fast as possible (events per second otherwise)
  std::string bootstrap;     // Kafka target, or
  std::string topic = "creditwatch.events";
  std::string out_file;  // file target
  // Event times follow the wall clock, for an engine in live mode: the first event is
  // history_days before now, the history is written as fast as possible, and then each
  // event when its time comes (at the workload's own pace; `rate` must be 0).
  bool live = false;     // Default: false (event times from workload.start_ms on)
  int history_days = 0;  // Default: 0
};

int RunGen(const GenOptions& options, const std::atomic<bool>& stop);

// Publishes Envelopes to Kafka keyed by customer id (murmur2 partitioner, like Java
// clients, so topics stay co-partitioned). Not thread-safe.
class KafkaPublisher {
 public:
  Status Open(const std::string& bootstrap);
  Status Publish(const std::string& topic, const v1::Envelope& e);
  // Waits for every record to be acknowledged.
  Status Flush(int timeout_ms);

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
  std::string bytes_;
};

}  // namespace creditwatch::app
