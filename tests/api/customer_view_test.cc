#include <catch2/catch.hpp>

#include <string>

#include "api/customer_view.h"

using namespace creditwatch;

TEST_CASE("ISO times format and parse in UTC", "[unit][api]") {
  CHECK(api::IsoTime(1'767'225'600'123) == "2026-01-01T00:00:00.123Z");
  CHECK(api::IsoTime(0).empty());
  int64_t ms = 0;
  REQUIRE(api::ParseIsoTime("2026-01-01T00:00:00Z", &ms));
  CHECK(ms == 1'767'225'600'000);
  REQUIRE(api::ParseIsoTime("2026-01-01T00:00:00.5Z", &ms));
  CHECK(ms == 1'767'225'600'500);
  CHECK_FALSE(api::ParseIsoTime("2026-01-01 00:00:00", &ms));
  CHECK_FALSE(api::ParseIsoTime("2026-01-01T00:00:00+02:00", &ms));
  // Dates that do not exist, and anything after the Z, are refused rather than normalized.
  CHECK_FALSE(api::ParseIsoTime("2026-02-31T00:00:00Z", &ms));
  CHECK_FALSE(api::ParseIsoTime("2026-12-31T23:59:60Z", &ms));
  CHECK_FALSE(api::ParseIsoTime(std::string("2026-01-01T00:00:00Z\0junk", 25), &ms));
  CHECK_FALSE(api::ParseIsoTime("2026-01-01T00:00:00ZZ", &ms));
  REQUIRE(api::ParseIsoTime("2028-02-29T12:00:00Z", &ms));  // a leap day exists
  CHECK(api::IsoTime(ms) == "2028-02-29T12:00:00.000Z");
}
