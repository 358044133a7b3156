#include "stream/kafka_util.h"

#include <fmt/format.h>

namespace creditwatch::stream {

Status MakeKafkaConf(const std::map<std::string, std::string>& base, const std::map<std::string, std::string>& extra,
                     std::unique_ptr<RdKafka::Conf>* out) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto* props : {&base, &extra}) {
    for (const auto& [k, v] : *props) {
      if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) {
        return Status::Error(fmt::format("kafka property '{}': {}", k, err));
      }
    }
  }
  *out = std::move(conf);
  return Status::Ok();
}

ErrorClass Classify(RdKafka::ErrorCode code) {
  switch (code) {
    case RdKafka::ERR_NO_ERROR: return ErrorClass::kNone;
    case RdKafka::ERR__PARTITION_EOF:
    case RdKafka::ERR__TIMED_OUT:
    case RdKafka::ERR__NO_OFFSET: return ErrorClass::kBenign;
    case RdKafka::ERR_OFFSET_OUT_OF_RANGE:
    case RdKafka::ERR__AUTO_OFFSET_RESET: return ErrorClass::kOffsetLost;
    case RdKafka::ERR__FATAL:
    case RdKafka::ERR__AUTHENTICATION:
    case RdKafka::ERR_TOPIC_AUTHORIZATION_FAILED:
    case RdKafka::ERR_GROUP_AUTHORIZATION_FAILED:
    case RdKafka::ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RdKafka::ERR__INVALID_ARG:
    case RdKafka::ERR__UNKNOWN_TOPIC:
    case RdKafka::ERR_UNKNOWN_TOPIC_OR_PART:
    case RdKafka::ERR__SSL:
    case RdKafka::ERR_SASL_AUTHENTICATION_FAILED:
    case RdKafka::ERR_INVALID_CONFIG:
    case RdKafka::ERR_UNSUPPORTED_VERSION:
    case RdKafka::ERR__UNSUPPORTED_FEATURE: return ErrorClass::kFatal;
    case RdKafka::ERR__TRANSPORT:
    case RdKafka::ERR__ALL_BROKERS_DOWN:
    case RdKafka::ERR__RESOLVE:
    case RdKafka::ERR__MSG_TIMED_OUT:
    case RdKafka::ERR__QUEUE_FULL:
    case RdKafka::ERR_REQUEST_TIMED_OUT:
    case RdKafka::ERR_NOT_LEADER_FOR_PARTITION:
    case RdKafka::ERR_LEADER_NOT_AVAILABLE:
    case RdKafka::ERR_NOT_COORDINATOR:
    case RdKafka::ERR_COORDINATOR_NOT_AVAILABLE:
    case RdKafka::ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS:
    case RdKafka::ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RdKafka::ERR_NETWORK_EXCEPTION:
    case RdKafka::ERR_REBALANCE_IN_PROGRESS:
    case RdKafka::ERR__WAIT_COORD:
    case RdKafka::ERR__IN_PROGRESS:
    case RdKafka::ERR__PREV_IN_PROGRESS:
    case RdKafka::ERR__STATE:
    case RdKafka::ERR__DESTROY: return ErrorClass::kRetriable;
    default: return ErrorClass::kRetriable;  // unknown codes: log, count and go on
  }
}

}  // namespace creditwatch::stream
