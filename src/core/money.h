// Money formatting for people. Amounts are integer minor units with an ISO 4217 code;
// this header never converts them to floating point. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace creditwatch::core {

// Digits after the decimal point for a currency (2 unless the code is known otherwise).
int MinorDigits(std::string_view currency);

// num * 10000 / den in basis points, exact (128-bit intermediate), saturating at
// `cap`. REQUIRES: den > 0.
int64_t RatioBp(int64_t num, int64_t den, int64_t cap = INT64_MAX);

// Whether num / den > bp / 10000, exactly (RatioBp truncates: 100.009% reads 10000 bp,
// which is not above 10000). REQUIRES: den > 0.
bool RatioAboveBp(int64_t num, int64_t den, int64_t bp);

// "125,300.00 EUR"; negative amounts get a leading '-'.
std::string FormatMoney(int64_t minor, std::string_view currency);

// The amount of FormatMoney without its currency ("-125,300.00"), in a fixed buffer: for
// writing money into a larger text with no temporary string.
class AmountText {
 public:
  AmountText(int64_t minor, std::string_view currency);
  AmountText(const AmountText&) = delete;  // view() points into this object
  AmountText& operator=(const AmountText&) = delete;
  std::string_view view() const { return {begin_, static_cast<size_t>(buf_ + sizeof(buf_) - begin_)}; }

 private:
  char buf_[32];  // 20 digits, 6 commas, a point and a sign
  const char* begin_;
};

// True for three upper-case ASCII letters.
bool IsCurrencyCode(std::string_view code);

// 12500 basis points -> "125%", 8050 -> "80.5%", -50 -> "-0.5%".
std::string FormatBasisPoints(int64_t bp);

// Arguments for fmt that write the texts above in place: fmt::format("{}", MoneyText{m, c})
// equals FormatMoney(m, c). The formatters are in core/money_format.h.
struct MoneyText {
  int64_t minor;
  std::string_view currency;
};
struct BasisPointsText {
  int64_t bp;
};

}  // namespace creditwatch::core
