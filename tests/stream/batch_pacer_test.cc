#include "stream/batch_pacer.h"

#include <catch2/catch.hpp>

namespace creditwatch::stream {
namespace {

using End = BatchPacer::End;

TEST_CASE("pacer: a batch that drains the queue keeps the base cap", "[unit]") {
  BatchPacer p(10, 100);
  CHECK(p.cap_ms() == 10);
  p.BatchEnded(End::kQueueDry);
  CHECK(p.cap_ms() == 10);
}

TEST_CASE("pacer: while behind, the cap doubles up to the backlog cap", "[unit]") {
  BatchPacer p(10, 100);
  p.BatchEnded(End::kCap);
  CHECK(p.cap_ms() == 20);
  p.BatchEnded(End::kCap);
  CHECK(p.cap_ms() == 40);
  p.BatchEnded(End::kCap);
  CHECK(p.cap_ms() == 80);
  p.BatchEnded(End::kCap);
  CHECK(p.cap_ms() == 100);
  p.BatchEnded(End::kCap);
  CHECK(p.cap_ms() == 100);
}

TEST_CASE("pacer: the first batch that drains the queue resets the cap", "[unit]") {
  BatchPacer p(10, 100);
  for (int i = 0; i < 5; ++i) p.BatchEnded(End::kCap);
  REQUIRE(p.cap_ms() == 100);
  p.BatchEnded(End::kQueueDry);
  CHECK(p.cap_ms() == 10);
}

TEST_CASE("pacer: equal base and backlog caps never grow", "[unit]") {
  BatchPacer p(10, 10);
  p.BatchEnded(End::kCap);
  CHECK(p.cap_ms() == 10);
}

TEST_CASE("pacer: only while behind does a batch wait when the queue runs dry", "[unit]") {
  BatchPacer p(10, 100);
  CHECK(p.dry_waits() == 0);
  p.BatchEnded(End::kCap);
  CHECK(p.dry_waits() > 0);
  p.BatchEnded(End::kQueueDry);
  CHECK(p.dry_waits() == 0);
  BatchPacer fixed(10, 10);
  fixed.BatchEnded(End::kCap);
  CHECK(fixed.dry_waits() == 0);
}

}  // namespace
}  // namespace creditwatch::stream
