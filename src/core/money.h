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

// "125,300.00 EUR"; negative amounts get a leading '-'.
std::string FormatMoney(int64_t minor, std::string_view currency);

// True for three upper-case ASCII letters.
bool IsCurrencyCode(std::string_view code);

// 12500 basis points -> "125%", 8050 -> "80.5%".
std::string FormatBasisPoints(int64_t bp);

}  // namespace creditwatch::core
