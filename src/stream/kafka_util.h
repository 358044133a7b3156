// librdkafka helpers: building a configuration from property maps, sorting error codes
// into retriable and fatal with one exhaustive switch, and telling skipped offsets lost
// to retention from offsets that never held a record.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <cstdint>
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

// How many of the offsets a consumer skipped, from `next` (the one it expected) to
// `offset` (the record it got), were deleted by the broker before they were read: those
// below the log start `low`. The rest held no record for it: transaction markers, records
// of aborted transactions or compacted away. A negative `low` (not known) counts them all.
inline int64_t OffsetsLostToRetention(int64_t next, int64_t offset, int64_t low) {
  if (offset <= next) return 0;
  return low < 0 ? offset - next : std::max<int64_t>(0, std::min(offset, low) - next);
}

}  // namespace creditwatch::stream
