#include "api/action_producer.h"

#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>

namespace creditwatch::api {

Status ActionProducer::Create(const std::map<std::string, std::string>& props, std::unique_ptr<ActionProducer>* out) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  // Defaults first, then the user's properties, so that an alias (delivery.timeout.ms
  // for message.timeout.ms) overrides its default too. A credit manager waits for the
  // answer: 10 s, not librdkafka's 300 s.
  const std::map<std::string, std::string> defaults = {
      {"enable.idempotence", "true"}, {"partitioner", "murmur2_random"}, {"message.timeout.ms", "10000"}};
  for (const auto* layer : {&defaults, &props}) {
    for (const auto& [k, v] : *layer) {
      if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) return Status::Error(fmt::format("kafka {}: {}", k, err));
    }
  }
  std::string timeout;
  conf->get("message.timeout.ms", timeout);
  // The answer must be definite while the caller waits: an unbounded timeout (0) or
  // one over a minute would report "unknown" and apply the action much later.
  if (const int64_t ms = std::stoll(timeout); ms == 0 || ms > 60000) {
    spdlog::warn("actions producer: message.timeout.ms {} capped at 60000 so that a manual action is answered", ms);
    conf->set("message.timeout.ms", "60000", err);
    timeout = "60000";
  }
  std::unique_ptr<ActionProducer> p(new ActionProducer());
  p->wait_ms_ = std::stoll(timeout) + 5000;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(p.get()), err) != RdKafka::Conf::CONF_OK) {
    return Status::Error(err);
  }
  p->producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!p->producer_) return Status::Error(fmt::format("creating the actions producer: {}", err));
  p->poller_ = std::thread([raw = p.get()] {
    pthread_setname_np(pthread_self(), "cw-actions");
    while (!raw->stop_.load()) raw->producer_->poll(50);
  });
  *out = std::move(p);
  return Status::Ok();
}

ActionProducer::~ActionProducer() {
  stop_ = true;
  if (poller_.joinable()) poller_.join();
  if (producer_) producer_->flush(2000);
}

ActionDelivery ActionProducer::Send(const std::string& topic, const std::string& key, const std::string& value) {
  // The delivery report owns the promise; this thread keeps only the future, so a
  // report that comes after the wait below gives up is still safe.
  auto* promise = new std::promise<ActionDelivery>();
  std::future<ActionDelivery> done = promise->get_future();
  const RdKafka::ErrorCode err =
      producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                         const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0, nullptr, promise);
  if (err != RdKafka::ERR_NO_ERROR) {
    delete promise;  // refused: no delivery report will come
    return {ActionDelivery::Outcome::kNotWritten, err};
  }
  if (done.wait_for(std::chrono::milliseconds(wait_ms_)) != std::future_status::ready) {
    return {ActionDelivery::Outcome::kUnknown, RdKafka::ERR__TIMED_OUT};
  }
  return done.get();
}

void ActionProducer::dr_cb(RdKafka::Message& m) {
  std::unique_ptr<std::promise<ActionDelivery>> promise(static_cast<std::promise<ActionDelivery>*>(m.msg_opaque()));
  ActionDelivery d{ActionDelivery::Outcome::kWritten, m.err()};
  if (m.err() != RdKafka::ERR_NO_ERROR) {
    d.outcome = m.status() == RdKafka::Message::MSG_STATUS_NOT_PERSISTED ? ActionDelivery::Outcome::kNotWritten
                                                                         : ActionDelivery::Outcome::kUnknown;
  }
  promise->set_value(d);
}

}  // namespace creditwatch::api
