// fmt formatters for MoneyText and BasisPointsText, so a summary writes its amounts and
// percentages straight into its buffer: the same text as FormatMoney and
// FormatBasisPoints, without a string for each. They take no format spec ("{}").
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/money.h"

template <>
struct fmt::formatter<creditwatch::core::MoneyText> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename FormatContext>
  auto format(const creditwatch::core::MoneyText& m, FormatContext& ctx) const {
    const creditwatch::core::AmountText amount(m.minor, m.currency);
    auto out = std::copy(amount.view().begin(), amount.view().end(), ctx.out());
    *out++ = ' ';
    return std::copy(m.currency.begin(), m.currency.end(), out);
  }
};

template <>
struct fmt::formatter<creditwatch::core::BasisPointsText> {
  constexpr auto parse(format_parse_context& ctx) { return ctx.begin(); }
  template <typename FormatContext>
  auto format(const creditwatch::core::BasisPointsText& p, FormatContext& ctx) const {
    const int64_t whole = p.bp / 100;
    const int64_t tenth = std::abs(p.bp % 100) / 10;  // the remainder first: |INT64_MIN| overflows
    auto out = ctx.out();
    // -50 bp is "-0.5%": the whole part alone would lose the sign.
    if (p.bp < 0 && whole == 0 && tenth != 0) *out++ = '-';
    const fmt::format_int digits(whole);
    out = std::copy(digits.data(), digits.data() + digits.size(), out);
    if (tenth != 0) {
      *out++ = '.';
      *out++ = static_cast<char>('0' + tenth);
    }
    *out++ = '%';
    return out;
  }
};
