// ActionProducer: writes credit managers' manual holds and releases to the actions topic
// and waits for the broker's answer, so the API can tell the caller what happened.
// Every send ends in a definite outcome within the producer's message.timeout.ms
// (Default: 10 s): written, not written, or unknown (the request reached the broker but
// no answer came in time, so the action may still be applied). Thread-safe.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"

namespace creditwatch::api {

struct ActionDelivery {
  enum class Outcome {
    kWritten,     // acknowledged by the broker
    kNotWritten,  // refused before or by the broker: nothing changed
    kUnknown,     // timed out after it was sent: the broker may have kept it
  };
  Outcome outcome = Outcome::kNotWritten;
  RdKafka::ErrorCode error = RdKafka::ERR_NO_ERROR;
};

class ActionProducer : public RdKafka::DeliveryReportCb {
 public:
  // `props` are librdkafka properties (bootstrap.servers, security.*, ...); they override
  // the defaults (idempotence on, 10 s message timeout).
  static Status Create(const std::map<std::string, std::string>& props, std::unique_ptr<ActionProducer>* out);
  ~ActionProducer() override;

  // Produces one record and blocks until its delivery report.
  ActionDelivery Send(const std::string& topic, const std::string& key, const std::string& value);

  void dr_cb(RdKafka::Message& m) override;

 private:
  ActionProducer() = default;

  std::unique_ptr<RdKafka::Producer> producer_;
  int64_t wait_ms_ = 0;  // message.timeout.ms plus a margin: the report comes by then
  std::thread poller_;
  std::atomic<bool> stop_{false};
};

}  // namespace creditwatch::api
