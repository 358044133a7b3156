#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "core/credit_engine.h"
#include "core/enum_names.h"
#include "core/id_path.h"
#include "core/output_list.h"
#include "core/repeated.h"
#include "creditwatch/v1/outputs.pb.h"
#include "creditwatch/v1/state.pb.h"
#include "support/harness.h"

using namespace creditwatch;
using namespace creditwatch::core;
using namespace cwtest;

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

namespace {
std::string OrderIds(const v1::CustomerState& s) {
  std::string ids;
  for (const auto& o : s.orders()) ids += o.order_id() + " ";
  return ids;
}
}  // namespace

TEST_CASE("removing from a state's repeated messages keeps the order and the removed message", "[unit][core]") {
  v1::CustomerState s;
  for (const char* id : {"SO-1", "SO-2", "SO-3", "SO-4", "SO-5"}) {
    auto* o = s.add_orders();
    o->set_order_id(std::string(id) + "-with-a-long-id-beyond-the-small-string");
    o->set_amount(7);
  }
  const v1::OrderState* second = &s.orders(1);
  RemoveAt(*s.mutable_orders(), 1);
  CHECK(OrderIds(s) ==
        "SO-1-with-a-long-id-beyond-the-small-string SO-3-with-a-long-id-beyond-the-small-string "
        "SO-4-with-a-long-id-beyond-the-small-string SO-5-with-a-long-id-beyond-the-small-string ");
  // The next add gets the removed message back, cleared.
  v1::OrderState* added = s.add_orders();
  CHECK(added == second);
  CHECK(added->order_id().empty());
  CHECK(added->amount() == 0);
  // with its string's capacity: a new message's string would have the small-string size
  CHECK(added->mutable_order_id()->capacity() >= 40);
  added->set_order_id("SO-6");

  RemoveIf(*s.mutable_orders(),
           [](const v1::OrderState& o) { return o.order_id().rfind("SO-3", 0) == 0 || o.order_id() == "SO-6"; });
  CHECK(OrderIds(s) ==
        "SO-1-with-a-long-id-beyond-the-small-string SO-4-with-a-long-id-beyond-the-small-string "
        "SO-5-with-a-long-id-beyond-the-small-string ");
  RemoveIf(*s.mutable_orders(), [](const v1::OrderState&) { return true; });
  CHECK(s.orders().empty());
  CHECK(s.ByteSizeLong() == 0);  // what is kept for reuse is not part of the state
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

TEST_CASE("a message added to overwrite keeps what it held, until the arena is reset", "[unit][core]") {
  OutputList<v1::OrderDecision> list;
  v1::OrderDecision& first = list.AddToOverwrite();
  CHECK_FALSE(first.has_amount());  // new: empty
  first.mutable_amount()->set_currency("EUR");
  const v1::Money* amount = &first.amount();
  list.clear();
  v1::OrderDecision& again = list.AddToOverwrite();
  CHECK(&again == &first);
  CHECK(&again.amount() == amount);  // the same sub-message, to be written in place
  CHECK(again.amount().currency() == "EUR");
  CHECK(list.size() == 1);
}

TEST_CASE("an order decision written over a reused one equals one written fresh", "[unit][core]") {
  // Two customers' steps through one output list, against a fresh list per step: a
  // field the decision did not set would carry the previous decision's value.
  Harness reused;
  Harness fresh_a;
  Harness fresh_b;
  Events a("C-A");
  Events b("C-B");
  const auto limit_a = a.Customer(kT0, 100'000);
  auto no_limit_b = b.Customer(kT0, 0);
  no_limit_b.mutable_customer_upserted()->clear_credit_limit();
  const auto held_a = a.Order(kT0 + 1000, "O-A", 500'000);  // over the limit: held, with reasons
  const auto order_b = b.Order(kT0 + 1000, "O-B", 700);     // no limit known
  StepOutputs out;
  v1::CustomerState sa;
  v1::CustomerState sb;
  const CreditEngine& engine = reused.engine;
  engine.Apply(sa, limit_a, kT0, out);
  engine.Apply(sb, no_limit_b, kT0, out);
  out.Clear();
  engine.Apply(sa, held_a, kT0 + 1000, out);
  REQUIRE(out.decisions.size() == 1);
  const std::string first = out.decisions.at(0).SerializeAsString();
  out.Clear();
  engine.Apply(sb, order_b, kT0 + 1000, out);
  REQUIRE(out.decisions.size() == 1);
  const std::string second = out.decisions.at(0).SerializeAsString();

  fresh_a.Apply(limit_a);
  fresh_a.Apply(held_a);
  fresh_b.Apply(no_limit_b);
  fresh_b.Apply(order_b);
  REQUIRE(fresh_a.out.decisions.size() == 1);
  REQUIRE(fresh_b.out.decisions.size() == 1);
  CHECK(fresh_a.out.decisions.at(0).reasons_size() > 0);
  CHECK(fresh_a.out.decisions.at(0).has_credit_limit());
  CHECK(first == fresh_a.out.decisions.at(0).SerializeAsString());
  CHECK_FALSE(fresh_b.out.decisions.at(0).has_credit_limit());
  CHECK(second == fresh_b.out.decisions.at(0).SerializeAsString());
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
