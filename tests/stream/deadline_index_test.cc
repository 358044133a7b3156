#include "stream/deadline_index.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>

namespace creditwatch::stream {
namespace {

std::pair<int64_t, std::string> Top(DeadlineIndex& index) {
  int64_t fire_ms = 0;
  const std::string* customer = nullptr;
  if (!index.EarliestDue(std::numeric_limits<int64_t>::max(), &fire_ms, &customer)) return {0, ""};
  return {fire_ms, *customer};
}

TEST_CASE("deadline index: earliest first, ties in customer id order", "[unit]") {
  DeadlineIndex index;
  CHECK(Top(index) == std::pair<int64_t, std::string>{0, ""});
  index.Arm("c-2", 200);
  index.Arm("c-3", 100);
  index.Arm("c-1", 200);
  CHECK(index.size() == 3);
  CHECK(Top(index) == std::pair<int64_t, std::string>{100, "c-3"});
  index.Disarm("c-3");
  CHECK(Top(index) == std::pair<int64_t, std::string>{200, "c-1"});
  index.Disarm("c-1");
  CHECK(Top(index) == std::pair<int64_t, std::string>{200, "c-2"});
  CHECK(index.ArmedAt("c-2") == 200);
  CHECK(index.ArmedAt("c-1") == 0);
}

TEST_CASE("deadline index: only a deadline due by now is returned", "[unit]") {
  DeadlineIndex index;
  index.Arm("a", 100);
  index.Arm("b", 300);
  CHECK(index.Arm("a", 200) == 100);  // the entry at 100 is stale now
  int64_t fire_ms = 0;
  const std::string* customer = nullptr;
  CHECK_FALSE(index.EarliestDue(150, &fire_ms, &customer));
  REQUIRE(index.EarliestDue(250, &fire_ms, &customer));
  CHECK(fire_ms == 200);
  CHECK(*customer == "a");
  CHECK(index.Disarm("a") == 200);
  CHECK_FALSE(index.EarliestDue(250, &fire_ms, &customer));
  CHECK(index.Disarm("a") == 0);
}

TEST_CASE("deadline index: a moved deadline surfaces only at its new time", "[unit]") {
  DeadlineIndex index;
  index.Arm("a", 100);
  index.Arm("b", 150);
  CHECK(index.Arm("a", 300) == 100);  // later: its entry at 100 is stale
  CHECK(index.ArmedAt("a") == 300);
  CHECK(Top(index) == std::pair<int64_t, std::string>{150, "b"});
  index.Arm("b", 50);  // earlier
  CHECK(Top(index) == std::pair<int64_t, std::string>{50, "b"});
  index.Disarm("b");
  CHECK(Top(index) == std::pair<int64_t, std::string>{300, "a"});
  CHECK(index.size() == 1);
}

TEST_CASE("deadline index: re-armed at its old time, a customer is due once", "[unit]") {
  DeadlineIndex index;
  index.Arm("a", 100);
  index.Arm("a", 200);
  index.Arm("a", 100);  // two entries at 100 now, both matching the armed time
  CHECK(Top(index) == std::pair<int64_t, std::string>{100, "a"});
  // Firing moves the deadline on (as the engine does): the twin entry is then stale.
  index.Arm("a", 400);
  CHECK(Top(index) == std::pair<int64_t, std::string>{400, "a"});
  index.Disarm("a");
  CHECK(Top(index) == std::pair<int64_t, std::string>{0, ""});
}

TEST_CASE("deadline index: customers armed once and disarmed leave neither entries nor nodes behind", "[unit]") {
  DeadlineIndex index;
  for (int i = 0; i < 10'000; ++i) index.Arm("c-" + std::to_string(i), 1'000 + i);
  CHECK(index.heap_entries() == 10'000);
  for (int i = 0; i < 10'000; i += 2) CHECK(index.Disarm("c-" + std::to_string(i)) == 1'000 + i);
  CHECK(index.size() == 5'000);
  for (int i = 1; i < 10'000; i += 2) index.Disarm("c-" + std::to_string(i));
  CHECK(index.size() == 0);
  CHECK(index.heap_entries() <= 64);  // rebuilt as the disarmed outnumbered the armed
  CHECK(index.nodes() <= 64);
  index.Arm("c-1", 5);
  CHECK(Top(index) == std::pair<int64_t, std::string>{5, "c-1"});
}

TEST_CASE(
    "deadline index: random moves agree with an ordered set of the armed deadlines, and stale entries stay bounded",
    "[unit]") {
  std::mt19937_64 rng(7);
  DeadlineIndex index;
  std::map<std::string, int64_t> armed;               // the reference: customer -> deadline
  std::set<std::pair<int64_t, std::string>> by_time;  // and its order
  size_t most_entries = 0;
  for (int step = 0; step < 200'000; ++step) {
    const std::string customer = "c-" + std::to_string(rng() % 500);
    const uint64_t op = rng() % 10;
    if (const auto it = armed.find(customer); it != armed.end() && op < 9) by_time.erase({it->second, customer});
    if (op < 7) {
      const auto fire_ms = static_cast<int64_t>(1 + rng() % 1000);  // ties are common
      armed[customer] = fire_ms;
      by_time.insert({fire_ms, customer});
      index.Arm(customer, fire_ms);
    } else if (op < 9) {
      armed.erase(customer);
      index.Disarm(customer);
    } else if (!by_time.empty()) {
      // Fire the earliest: it moves on, or is dropped.
      const auto [fire_ms, first] = *by_time.begin();
      REQUIRE(Top(index) == std::pair<int64_t, std::string>{fire_ms, first});
      by_time.erase(by_time.begin());
      if (rng() % 2 == 0) {
        armed[first] = fire_ms + 1 + static_cast<int64_t>(rng() % 100);
        by_time.insert({armed[first], first});
        index.Arm(first, armed[first]);
      } else {
        armed.erase(first);
        index.Disarm(first);
      }
    }
    REQUIRE(index.size() == armed.size());
    const auto expected = by_time.empty() ? std::pair<int64_t, std::string>{0, ""} : *by_time.begin();
    REQUIRE(Top(index) == expected);
    REQUIRE(index.ArmedAt(customer) == (armed.count(customer) ? armed[customer] : 0));
    most_entries = std::max(most_entries, index.heap_entries());
  }
  // 500 customers: without the rebuilds the heap would hold every move ever made.
  CHECK(most_entries <= 2 * 500 + 64 + 1);
  CHECK(index.nodes() <= 500);
}

}  // namespace
}  // namespace creditwatch::stream
