#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "store/status_board.h"

using namespace creditwatch;

namespace {

store::BlockView View(uint64_t version, bool hold, int32_t partition = 0, int64_t release_until_ms = 0) {
  store::BlockView v;
  v.hold = hold;
  if (hold) v.reasons.push_back(v1::BLOCK_OVER_LIMIT);
  v.since_ms = 1000 * static_cast<int64_t>(version);
  v.version = version;
  v.release_until_ms = release_until_ms;
  v.partition = partition;
  return v;
}

}  // namespace

TEST_CASE("the board holds the newest published status of each customer", "[unit][store]") {
  store::StatusBoard board;
  store::BlockView got;
  CHECK_FALSE(board.Find("C-1", &got));

  board.Publish("C-1", View(2, true));
  REQUIRE(board.Find("C-1", &got));
  CHECK(got == View(2, true));

  board.Publish("C-1", View(1, false));  // older: ignored
  REQUIRE(board.Find("C-1", &got));
  CHECK(got.version == 2);
  CHECK(got.hold);

  // The release override can end without a new version: an equal-version publish lands.
  board.Publish("C-1", View(2, true, 0, 5000));
  REQUIRE(board.Find("C-1", &got));
  CHECK(got.release_until_ms == 5000);

  board.Publish("C-1", View(3, false));
  REQUIRE(board.Find("C-1", &got));
  CHECK(got == View(3, false));
  CHECK(board.size() == 1);
}

TEST_CASE("a lookup's fill never replaces what the engine published", "[unit][store]") {
  store::StatusBoard board;
  store::BlockView got;
  board.Fill("C-1", View(1, false));  // absent: filled
  REQUIRE(board.Find("C-1", &got));
  CHECK(got.version == 1);

  board.Publish("C-1", View(2, true, 0, 0));
  board.Fill("C-1", View(1, false));        // read before the publish: older
  board.Fill("C-1", View(2, true, 0, 99));  // same version as a publish: the publish stands
  REQUIRE(board.Find("C-1", &got));
  CHECK(got == View(2, true));

  board.Fill("C-1", View(4, false));  // newer than the board (published elsewhere first)
  REQUIRE(board.Find("C-1", &got));
  CHECK(got.version == 4);
}

TEST_CASE("offers and fills stop at the board's bound, status changes do not", "[unit][store]") {
  store::StatusBoard board(2);
  board.Fill("A", View(1, false));
  board.Offer("B", View(1, false));
  board.Fill("C", View(1, false));
  board.Offer("D", View(1, false));
  store::BlockView got;
  CHECK(board.size() == 2);
  CHECK_FALSE(board.Find("C", &got));
  CHECK_FALSE(board.Find("D", &got));
  board.Publish("E", View(1, true));
  CHECK(board.Find("E", &got));
  CHECK(board.size() == 3);
  // A full board still takes newer statuses of the customers it holds.
  board.Offer("B", View(2, true));
  REQUIRE(board.Find("B", &got));
  CHECK(got.version == 2);
}

TEST_CASE("the engine's offer replaces a fill of the same version", "[unit][store]") {
  store::StatusBoard board;
  board.Fill("C-1", View(3, false, 0, 7000));  // read while a release override was still on
  board.Offer("C-1", View(3, false, 0, 0));    // the engine: it has ended since
  store::BlockView got;
  REQUIRE(board.Find("C-1", &got));
  CHECK(got.release_until_ms == 0);
  board.Offer("C-1", View(2, true));  // never back to an older version
  REQUIRE(board.Find("C-1", &got));
  CHECK(got.version == 3);
}

TEST_CASE("the board forgets the customers of revoked partitions", "[unit][store]") {
  store::StatusBoard board;
  for (int i = 0; i < 100; ++i) board.Publish("C-" + std::to_string(i), View(1, i % 2 == 0, i % 4));
  board.ForgetPartitions([](int32_t p) { return p == 1 || p == 3; });
  CHECK(board.size() == 50);
  store::BlockView got;
  for (int i = 0; i < 100; ++i) {
    const bool kept = i % 4 == 0 || i % 4 == 2;
    CHECK(board.Find("C-" + std::to_string(i), &got) == kept);
  }
}

TEST_CASE("readers never see a customer's status go back while the engine publishes", "[unit][store]") {
  store::StatusBoard board;
  constexpr int kCustomers = 64;
  constexpr uint64_t kVersions = 2000;
  std::atomic<bool> done{false};
  std::atomic<int> regressions{0};
  std::atomic<int64_t> reads{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::vector<uint64_t> last(kCustomers, 0);
      store::BlockView got;
      while (!done.load()) {
        for (int c = 0; c < kCustomers; ++c) {
          if (!board.Find("C-" + std::to_string(c), &got)) continue;
          if (got.version < last[static_cast<size_t>(c)] || got.hold != (got.version % 2 == 1)) ++regressions;
          last[static_cast<size_t>(c)] = got.version;
          ++reads;
        }
      }
    });
  }
  for (uint64_t v = 1; v <= kVersions; ++v) {
    for (int c = 0; c < kCustomers; ++c) board.Publish("C-" + std::to_string(c), View(v, v % 2 == 1));
  }
  done = true;
  for (auto& t : readers) t.join();
  CHECK(regressions.load() == 0);
  CHECK(reads.load() > 0);
  store::BlockView got;
  REQUIRE(board.Find("C-7", &got));
  CHECK(got.version == kVersions);
}

TEST_CASE("a reason list keeps the core's order", "[unit][store]") {
  core::ReasonList l;
  l.push_back(v1::BLOCK_OVERDUE);
  l.push_back(v1::BLOCK_OVER_LIMIT);
  l.push_back(v1::BLOCK_MANUAL);
  REQUIRE(l.size() == 3);
  CHECK(l[0] == v1::BLOCK_OVERDUE);
  CHECK(l[1] == v1::BLOCK_OVER_LIMIT);
  CHECK(l[2] == v1::BLOCK_MANUAL);
  core::ReasonList other;
  other.push_back(v1::BLOCK_OVER_LIMIT);
  other.push_back(v1::BLOCK_OVERDUE);
  other.push_back(v1::BLOCK_MANUAL);
  CHECK_FALSE(l == other);
  const auto s = v1::CustomerState();
  CHECK(store::BlockView::Of(s).reasons.size() == 0);
}
