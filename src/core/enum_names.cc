#include "core/enum_names.h"

#include <array>

namespace creditwatch::core {
namespace {

template <int kSize, typename Valid, typename Name>
std::array<std::string, kSize> Table(Valid valid, Name name) {
  std::array<std::string, kSize> names;
  for (int i = 0; i < kSize; ++i) {
    if (valid(i)) names[static_cast<size_t>(i)] = name(i);
  }
  return names;
}

const std::string kUndefined;

}  // namespace

const std::string& RuleName(v1::Rule rule) {
  static const auto names =
      Table<v1::Rule_ARRAYSIZE>(v1::Rule_IsValid, [](int i) { return v1::Rule_Name(static_cast<v1::Rule>(i)); });
  return rule >= 0 && rule < v1::Rule_ARRAYSIZE ? names[static_cast<size_t>(rule)] : kUndefined;
}

const std::string& DecisionName(v1::OrderDecision::Decision decision) {
  using D = v1::OrderDecision;
  static const auto names = Table<D::Decision_ARRAYSIZE>(
      D::Decision_IsValid, [](int i) { return D::Decision_Name(static_cast<D::Decision>(i)); });
  return decision >= 0 && decision < D::Decision_ARRAYSIZE ? names[static_cast<size_t>(decision)] : kUndefined;
}

}  // namespace creditwatch::core
