#include "stream/event_id_set.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace creditwatch::stream {
namespace {

// Every id in one probe chain: matches must be confirmed on the id itself.
struct CollidingHash {
  size_t operator()(std::string_view) const { return 42; }
};

TEST_CASE("event id set: an added id is found, others are not", "[unit]") {
  EventIdSet s;
  CHECK_FALSE(s.Contains("e-1"));
  s.Add("e-1");
  CHECK(s.Contains("e-1"));
  CHECK_FALSE(s.Contains("e-2"));
  CHECK_FALSE(s.Contains("e-"));
  s.Add("e-2");  // after a lookup: found by the next one
  CHECK(s.Contains("e-2"));
  s.Add("e-1");
  CHECK(s.Contains("e-1"));
  CHECK(s.size() == 3);  // adds, not distinct ids
}

TEST_CASE("event id set: colliding hashes are told apart by the id", "[unit]") {
  BasicEventIdSet<CollidingHash> s;
  for (int i = 0; i < 20; ++i) s.Add("id-" + std::to_string(i));
  s.Add("id-7");
  for (int i = 0; i < 20; ++i) CHECK(s.Contains("id-" + std::to_string(i)));
  CHECK_FALSE(s.Contains("id-20"));
}

TEST_CASE("event id set: agrees with std::set through growth, lookups between adds and clears", "[unit]") {
  EventIdSet s;
  std::set<std::string> ref;
  uint64_t x = 12345;
  for (int round = 0; round < 4; ++round) {
    // Rounds of different sizes: Clear after a small round resets only the used slots.
    const int n = round % 2 == 0 ? 5000 : 30;
    for (int i = 0; i < n; ++i) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      const std::string id = "ev-" + std::to_string(x % 4000);
      s.Add(id);
      ref.insert(id);
      if (i % 97 == 0) {  // a lookup now and then indexes what was added before it
        const std::string probe = "ev-" + std::to_string((x >> 20) % 4000);
        REQUIRE(s.Contains(probe) == (ref.count(probe) > 0));
      }
    }
    CHECK(s.size() == static_cast<size_t>(n));
    for (int i = 0; i < 4000; ++i) {
      const std::string id = "ev-" + std::to_string(i);
      CHECK(s.Contains(id) == (ref.count(id) > 0));
    }
    s.Clear();
    ref.clear();
    CHECK(s.empty());
    CHECK_FALSE(s.Contains("ev-1"));
  }
}

}  // namespace
}  // namespace creditwatch::stream
