#include "core/money.h"

#include <fmt/format.h>

#include <cstdlib>

namespace creditwatch::core {

int MinorDigits(std::string_view currency) {
  // ISO 4217 exponents other than 2, for the codes a credit department meets.
  static constexpr std::string_view kZero[] = {"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "HUF"};
  static constexpr std::string_view kThree[] = {"BHD", "KWD", "OMR", "TND", "JOD", "IQD", "LYD"};
  for (auto c : kZero) {
    if (c == currency) return 0;
  }
  for (auto c : kThree) {
    if (c == currency) return 3;
  }
  return 2;
}

int64_t RatioBp(int64_t num, int64_t den, int64_t cap) {
  // Amounts below 922 trillion minor units multiply in 64 bits; a 128-bit division is a
  // library call several times slower, and the rules take ratios on every event.
  constexpr int64_t kNarrow = INT64_MAX / 10000;
  if (num <= kNarrow && num >= -kNarrow) {
    const int64_t bp = num * 10000 / den;
    if (bp > cap) return cap;
    if (bp < -cap) return -cap;
    return bp;
  }
  __extension__ using Wide = __int128;
  const Wide bp = static_cast<Wide>(num) * 10000 / den;
  if (bp > cap) return cap;
  if (bp < -static_cast<Wide>(cap)) return -cap;
  return static_cast<int64_t>(bp);
}

std::string FormatMoney(int64_t minor, std::string_view currency) {
  const int digits = MinorDigits(currency);
  int64_t scale = 1;
  for (int i = 0; i < digits; ++i) scale *= 10;
  // Work in unsigned magnitude so INT64_MIN formats correctly.
  const uint64_t mag = minor < 0 ? uint64_t{0} - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  const uint64_t whole = mag / static_cast<uint64_t>(scale);
  const uint64_t frac = mag % static_cast<uint64_t>(scale);

  std::string digits_str = std::to_string(whole);
  std::string grouped;
  grouped.reserve(digits_str.size() + digits_str.size() / 3 + 1);
  const size_t lead = digits_str.size() % 3;
  for (size_t i = 0; i < digits_str.size(); ++i) {
    if (i != 0 && i % 3 == lead) grouped.push_back(',');
    grouped.push_back(digits_str[i]);
  }
  std::string out = minor < 0 ? "-" : "";
  out += grouped;
  if (digits > 0) out += fmt::format(".{:0{}}", frac, digits);
  out += ' ';
  out += currency;
  return out;
}

bool IsCurrencyCode(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

std::string FormatBasisPoints(int64_t bp) {
  const int64_t whole = bp / 100;
  const int64_t tenth = (std::llabs(bp) % 100) / 10;
  if (tenth == 0) return fmt::format("{}%", whole);
  return fmt::format("{}.{}%", whole, tenth);
}

}  // namespace creditwatch::core
