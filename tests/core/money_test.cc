#include <catch2/catch.hpp>

#include <cstdint>

#include <fmt/compile.h>
#include <fmt/format.h>

#include <iterator>
#include <string>

#include "core/money.h"
#include "core/money_format.h"

using namespace creditwatch::core;

TEST_CASE("money formats with grouping and the currency's minor digits", "[unit][core]") {
  CHECK(FormatMoney(12'530'000, "EUR") == "125,300.00 EUR");
  CHECK(FormatMoney(5, "EUR") == "0.05 EUR");
  CHECK(FormatMoney(-123'456'789, "USD") == "-1,234,567.89 USD");
  CHECK(FormatMoney(1500, "JPY") == "1,500 JPY");
  CHECK(FormatMoney(1234, "KWD") == "1.234 KWD");
  CHECK(FormatMoney(100, "EUR") == "1.00 EUR");
  CHECK(FormatMoney(INT64_MIN, "EUR") == "-92,233,720,368,547,758.08 EUR");
  CHECK(FormatMoney(INT64_MAX, "JPY") == "9,223,372,036,854,775,807 JPY");
  CHECK(FormatMoney(0, "EUR") == "0.00 EUR");
  CHECK(FormatMoney(0, "JPY") == "0 JPY");
  CHECK(FormatMoney(-5, "KWD") == "-0.005 KWD");
  CHECK(FormatMoney(99'999, "EUR") == "999.99 EUR");
  CHECK(FormatMoney(100'000, "EUR") == "1,000.00 EUR");
  CHECK(FormatMoney(100'000'000, "EUR") == "1,000,000.00 EUR");
  CHECK(FormatMoney(123'456, "HUF") == "123,456 HUF");
}

TEST_CASE("minor digits follow ISO 4217 for known codes and default to 2", "[unit][core]") {
  CHECK(MinorDigits("EUR") == 2);
  CHECK(MinorDigits("JPY") == 0);
  CHECK(MinorDigits("XOF") == 0);
  CHECK(MinorDigits("BHD") == 3);
  CHECK(MinorDigits("LYD") == 3);
  CHECK(MinorDigits("jpy") == 2);  // codes are upper case; anything else is not a known code
  CHECK(MinorDigits("JPYX") == 2);
  CHECK(MinorDigits("") == 2);
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
  CHECK(FormatBasisPoints(-12550) == "-125.5%");
  CHECK(FormatBasisPoints(-50) == "-0.5%");  // below one percent the sign stays
  CHECK(FormatBasisPoints(-5) == "0%");
  CHECK(FormatBasisPoints(9) == "0%");
  CHECK(FormatBasisPoints(INT64_MIN) == "-92233720368547758%");
  CHECK(FormatBasisPoints(INT64_MAX) == "92233720368547758%");
}

TEST_CASE("money and percentages written in place equal their texts", "[unit][core]") {
  for (int64_t minor : {int64_t{0}, int64_t{5}, int64_t{-5}, int64_t{999}, int64_t{1000}, int64_t{12'530'000},
                        int64_t{-123'456'789}, INT64_MIN, INT64_MAX}) {
    for (const char* currency : {"EUR", "JPY", "KWD"}) {
      CAPTURE(minor, currency);
      CHECK(fmt::format("{}", MoneyText{minor, currency}) == FormatMoney(minor, currency));
    }
  }
  // Inside a compiled format, between other arguments, as the alert summaries use them.
  std::string text = "stale";
  text.clear();
  fmt::format_to(std::back_inserter(text), FMT_COMPILE("{} owes {} ({}); {}"), "C-1", MoneyText{-123'456, "EUR"},
                 BasisPointsText{8050}, 7);
  CHECK(text == "C-1 owes -1,234.56 EUR (80.5%); 7");
}

TEST_CASE("ratios in basis points are exact, truncate toward zero and saturate at the cap", "[unit][core]") {
  CHECK(RatioBp(80, 100) == 8000);
  CHECK(RatioBp(1, 3) == 3333);
  CHECK(RatioBp(-1, 3) == -3333);
  CHECK(RatioBp(250, 100, 15000) == 15000);
  CHECK(RatioBp(-250, 100, 15000) == -15000);
  // At the edge of 64-bit products and past it, where the product needs 128 bits.
  constexpr int64_t kNarrow = INT64_MAX / 10000;
  CHECK(RatioBp(kNarrow, kNarrow) == 10000);
  CHECK(RatioBp(kNarrow + 1, kNarrow + 1) == 10000);
  CHECK(RatioBp(-(kNarrow + 1), kNarrow + 1) == -10000);
  CHECK(RatioBp(INT64_MAX, INT64_MAX / 2) == 20000);
  CHECK(RatioBp(INT64_MAX, 1) == INT64_MAX);
  CHECK(RatioBp(INT64_MIN + 1, 1) == -INT64_MAX);
  CHECK(RatioBp(kNarrow, 1) == kNarrow * 10000);
}
