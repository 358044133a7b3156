// librdkafka helpers: building a configuration from property maps, and sorting error
// codes into retriable and fatal with one exhaustive switch.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <map>
#include <memory>
#include <string>

#include "core/status.h"

namespace creditwatch::stream {

// Later maps override earlier ones. Fails naming the property librdkafka rejected.
Status MakeKafkaConf(const std::map<std::string, std::string>& base, const std::map<std::string, std::string>& extra,
                     std::unique_ptr<RdKafka::Conf>* out);

enum class ErrorClass {
  kNone,        // not an error
  kBenign,      // informational (EOF, timed out)
  kRetriable,   // transient: the client retries or the loop goes on
  kOffsetLost,  // the stored position is gone from the broker (retention)
  kFatal,       // cannot continue: stop the engine
};
ErrorClass Classify(RdKafka::ErrorCode code);

}  // namespace creditwatch::stream
