#include <catch2/catch.hpp>

#include "core/money.h"

using namespace creditwatch::core;

TEST_CASE("money formats with grouping and the currency's minor digits", "[unit][core]") {
  CHECK(FormatMoney(12'530'000, "EUR") == "125,300.00 EUR");
  CHECK(FormatMoney(5, "EUR") == "0.05 EUR");
  CHECK(FormatMoney(-123'456'789, "USD") == "-1,234,567.89 USD");
  CHECK(FormatMoney(1500, "JPY") == "1,500 JPY");
  CHECK(FormatMoney(1234, "KWD") == "1.234 KWD");
  CHECK(FormatMoney(100, "EUR") == "1.00 EUR");
  CHECK(FormatMoney(INT64_MIN, "EUR") == "-92,233,720,368,547,758.08 EUR");
}

TEST_CASE("currency codes are three upper-case letters", "[unit][core]") {
  CHECK(IsCurrencyCode("EUR"));
  CHECK_FALSE(IsCurrencyCode("eur"));
  CHECK_FALSE(IsCurrencyCode("EURO"));
  CHECK_FALSE(IsCurrencyCode(""));
}

TEST_CASE("basis points format as percentages", "[unit][core]") {
  CHECK(FormatBasisPoints(12500) == "125%");
  CHECK(FormatBasisPoints(8050) == "80.5%");
  CHECK(FormatBasisPoints(0) == "0%");
}
