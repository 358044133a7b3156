// Options of the streaming pipeline, one struct with the default beside each field.
// Filled from the `kafka`, `kafka_consumer`, `kafka_producer`, `topics` and `engine`
// sections of the YAML configuration.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace creditwatch::stream {

enum class TimeMode {
  kLive,       // now = wall clock; deadlines fire on time with no further events
  kEventTime,  // now = each partition's watermark (largest event time seen): replays
};

struct TopicNames {
  std::vector<std::string> inputs = {"creditwatch.events"};  // Default: one input topic
  std::string alerts = "creditwatch.alerts";
  std::string block_status = "creditwatch.block-status";
  std::string order_decisions = "creditwatch.order-decisions";
  std::string dead_letter = "creditwatch.dead-letter";
};

struct StreamOptions {
  // librdkafka properties passed through unchanged (bootstrap.servers, security.*, ...).
  std::map<std::string, std::string> kafka;           // both clients
  std::map<std::string, std::string> kafka_consumer;  // consumer only
  std::map<std::string, std::string> kafka_producer;  // producer only
  std::string group_id = "creditwatch";               // Default: creditwatch
  TopicNames topics;
  TimeMode time_mode = TimeMode::kLive;  // Default: live
  int max_batch = 50000;                 // Default: 50,000 records per poll batch at most
  int max_batch_ms = 10;                 // Default: a batch stops taking records 10 ms after its first
  int max_backlog_batch_ms = 400;        // Default: 400 ms, the time cap doubles up to it while behind
  int poll_timeout_ms = 20;              // Default: 20 ms wait for the first record of a batch
  int max_timers_per_batch = 5000;       // Default: 5000 deadline timers fired per batch
  int broker_wait_ms = 15000;            // Default: 15 s to reach the brokers at start-up
  int shutdown_drain_ms = 10000;         // Default: 10 s to drain the outbox on shutdown
  size_t cache_customers = 200000;       // Default: 200,000 customer states kept hot
  // A changed customer's whole state is written once this many steps were logged since
  // its last checkpoint; 1 writes it in every batch that changes it. Default: 16
  uint32_t checkpoint_steps = 16;
  int64_t max_future_skew_ms = 300000;  // Default: 5 min (event-time mode watermark guard)
};

}  // namespace creditwatch::stream
