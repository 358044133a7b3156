#include "stream/kafka_util.h"

#include <catch2/catch.hpp>

using creditwatch::stream::OffsetsLostToRetention;

TEST_CASE("skipped offsets count as lost only below the broker's log start", "[unit][stream]") {
  // Next expected 100, got 150, the log now starts at 140: 100..139 were deleted unread;
  // 140..149 were never records for a consumer (transaction markers, compaction).
  CHECK(OffsetsLostToRetention(100, 150, 140) == 40);
  // All skipped offsets below the log start.
  CHECK(OffsetsLostToRetention(100, 150, 200) == 50);
  // The log start is behind what was read: a gap of markers or compacted records, no loss.
  CHECK(OffsetsLostToRetention(100, 101, 0) == 0);
  CHECK(OffsetsLostToRetention(100, 150, 100) == 0);
  // The log start is not known: every skipped offset counts (reported, never hidden).
  CHECK(OffsetsLostToRetention(100, 150, -1) == 50);
  // No gap.
  CHECK(OffsetsLostToRetention(100, 100, 500) == 0);
}
