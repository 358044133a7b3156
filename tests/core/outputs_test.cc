#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/credit_engine.h"
#include "core/enum_names.h"
#include "core/id_path.h"
#include "core/output_list.h"
#include "creditwatch/v1/outputs.pb.h"

using namespace creditwatch;
using namespace creditwatch::core;

TEST_CASE("an output list reuses its messages cleared", "[unit][core]") {
  OutputList<v1::OrderDecision> list;
  v1::OrderDecision& first = list.Add();
  first.set_output_id("C1/order/SO-1/1/HELD");
  first.add_reasons(v1::WOULD_EXCEED_LIMIT);
  first.mutable_credit_limit()->set_minor(100);
  list.Add().set_order_id("SO-2");
  REQUIRE(list.size() == 2);

  list.clear();
  CHECK(list.empty());
  CHECK(list.begin() == list.end());
  v1::OrderDecision& again = list.Add();
  CHECK(&again == &list[0]);  // the same message, not a new one
  CHECK(again.output_id().empty());
  CHECK(again.reasons().empty());
  CHECK_FALSE(again.has_credit_limit());
  CHECK(list.size() == 1);
  CHECK_THROWS_AS(list.at(1), std::out_of_range);  // kept for reuse, but not in the list
}

TEST_CASE("an output list stays sound across the resets of its arena", "[unit][core]") {
  OutputList<v1::OrderDecision> list;
  // Steps of two decisions with amounts, past several resets: each step sees cleared
  // messages, whether reused or new after a reset, and what it wrote.
  const size_t steps = OutputList<v1::OrderDecision>::kResetAfterAdds * 3 / 2 + 7;
  for (size_t step = 0; step < steps; ++step) {
    list.clear();
    for (int i = 0; i < 2; ++i) {
      v1::OrderDecision& d = list.Add();
      REQUIRE_FALSE(d.has_amount());
      REQUIRE(d.order_id().empty());
      d.set_order_id("SO-" + std::to_string(step) + "-" + std::to_string(i));
      d.mutable_amount()->set_minor(static_cast<int64_t>(step));
      d.mutable_amount()->set_currency("EUR");
    }
    REQUIRE(list.size() == 2);
    REQUIRE(list[1].order_id() == "SO-" + std::to_string(step) + "-1");
    REQUIRE(list[1].amount().minor() == static_cast<int64_t>(step));
  }
  StepOutputs copy;
  copy.decisions = list;  // a deep copy, on the copy's own arena
  for (size_t i = 0; i < OutputList<v1::OrderDecision>::kResetAfterAdds; ++i) {
    list.clear();  // past the source's next reset
    list.Add().mutable_amount()->set_currency("USD");
  }
  CHECK(copy.decisions.at(0).amount().currency() == "EUR");
  CHECK(copy.decisions.at(1).amount().minor() == static_cast<int64_t>(steps - 1));

  OutputList<v1::OrderDecision> moved = std::move(copy.decisions);
  CHECK(moved.size() == 2);
  CHECK(copy.decisions.empty());  // NOLINT(bugprone-use-after-move): a moved-from list is empty and usable
  copy.decisions.clear();
  copy.decisions.Add().set_order_id("SO-after-move");
  CHECK(copy.decisions.at(0).order_id() == "SO-after-move");
}

TEST_CASE("output lists append copies in order", "[unit][core]") {
  StepOutputs a;
  StepOutputs b;
  a.decisions.Add().set_order_id("SO-1");
  b.decisions.Add().set_order_id("SO-2");
  b.alerts.Add().set_rule(v1::OVER_LIMIT);
  b.blocks.Add().set_version(3);
  a.Append(b);
  REQUIRE(a.size() == 4);
  CHECK(a.decisions.at(0).order_id() == "SO-1");
  CHECK(a.decisions.at(1).order_id() == "SO-2");
  CHECK(a.alerts.at(0).rule() == v1::OVER_LIMIT);
  CHECK(a.blocks.at(0).version() == 3);
  b.Clear();
  CHECK(a.decisions.at(1).order_id() == "SO-2");  // a copy, not a reference

  a.decisions.Append(a.decisions);  // onto itself: the list doubles, in order
  REQUIRE(a.decisions.size() == 4);
  CHECK(a.decisions.at(2).order_id() == "SO-1");
  CHECK(a.decisions.at(3).order_id() == "SO-2");
}

TEST_CASE("enum names match the schema's", "[unit][core]") {
  for (int r = 0; r <= v1::Rule_MAX; ++r) {
    if (v1::Rule_IsValid(r)) CHECK(RuleName(static_cast<v1::Rule>(r)) == v1::Rule_Name(static_cast<v1::Rule>(r)));
  }
  using D = v1::OrderDecision;
  for (int d = 0; d <= D::Decision_MAX; ++d) {
    if (D::Decision_IsValid(d)) CHECK(DecisionName(static_cast<D::Decision>(d)) == D::Decision_Name(d));
  }
  CHECK(RuleName(static_cast<v1::Rule>(v1::Rule_MAX + 1)).empty());
  CHECK(RuleName(static_cast<v1::Rule>(-1)).empty());
  CHECK(DecisionName(static_cast<D::Decision>(D::Decision_MAX + 7)).empty());
}

TEST_CASE("id paths join text and decimal integers with slashes", "[unit][core]") {
  std::string id = "x:";
  AppendPath(id, std::string("C-1"), "order", std::string_view("SO-9"), uint64_t{42}, int32_t{-3});
  CHECK(id == "x:C-1/order/SO-9/42/-3");
  std::string one;
  AppendPath(one, std::numeric_limits<int64_t>::min());
  CHECK(one == "-9223372036854775808");
}
