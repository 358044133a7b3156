#include "core/money.h"

#include <fmt/format.h>

#include <cstdlib>

#include "core/money_format.h"

namespace creditwatch::core {

int MinorDigits(std::string_view currency) {
  // ISO 4217 exponents other than 2, for the codes a credit department meets. Most
  // amounts are in a 2-digit currency, so the common answer comes after one comparison
  // per code, on the code packed into an integer.
  static constexpr std::string_view kZero[] = {"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "HUF"};
  static constexpr std::string_view kThree[] = {"BHD", "KWD", "OMR", "TND", "JOD", "IQD", "LYD"};
  if (currency.size() != 3) return 2;
  auto packed = [](std::string_view c) {
    return static_cast<uint32_t>(static_cast<unsigned char>(c[0])) << 16 |
           static_cast<uint32_t>(static_cast<unsigned char>(c[1])) << 8 | static_cast<unsigned char>(c[2]);
  };
  const uint32_t code = packed(currency);
  for (auto c : kZero) {
    if (packed(c) == code) return 0;
  }
  for (auto c : kThree) {
    if (packed(c) == code) return 3;
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

bool RatioAboveBp(int64_t num, int64_t den, int64_t bp) {
  __extension__ using Wide = __int128;
  return static_cast<Wide>(num) * 10000 > static_cast<Wide>(bp) * den;
}

AmountText::AmountText(int64_t minor, std::string_view currency) {
  const int digits = MinorDigits(currency);
  // Work in unsigned magnitude so INT64_MIN formats correctly.
  const uint64_t mag = minor < 0 ? uint64_t{0} - static_cast<uint64_t>(minor) : static_cast<uint64_t>(minor);
  // Written backwards: the fraction, the point, the whole part grouped by threes.
  char* p = buf_ + sizeof(buf_);
  uint64_t rest = mag;
  for (int i = 0; i < digits; ++i) {
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
  }
  if (digits > 0) *--p = '.';
  int in_group = 0;
  do {
    if (in_group == 3) {
      *--p = ',';
      in_group = 0;
    }
    *--p = static_cast<char>('0' + rest % 10);
    rest /= 10;
    ++in_group;
  } while (rest != 0);
  if (minor < 0) *--p = '-';
  begin_ = p;
}

std::string FormatMoney(int64_t minor, std::string_view currency) {
  const AmountText amount(minor, currency);
  std::string out;
  out.reserve(amount.view().size() + 1 + currency.size());
  out.append(amount.view());
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

std::string FormatBasisPoints(int64_t bp) { return fmt::format("{}", BasisPointsText{bp}); }

}  // namespace creditwatch::core
