#include <google/protobuf/util/message_differencer.h>
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "creditwatch/v1/events.pb.h"
#include "creditwatch/v1/outputs.pb.h"
#include "creditwatch/v1/state.pb.h"
#include "support/events.h"

namespace v1 = creditwatch::v1;
using google::protobuf::util::MessageDifferencer;

TEST_CASE("every payload kind survives a serialize/parse round trip", "[unit][proto]") {
  cwtest::Events ev("C-1");
  std::set<int> covered;
  for (const v1::Envelope& e : ev.OneOfEach(cwtest::kT0)) {
    const std::string bytes = e.SerializeAsString();
    REQUIRE_FALSE(bytes.empty());
    v1::Envelope back;
    REQUIRE(back.ParseFromString(bytes));
    CHECK(MessageDifferencer::Equals(e, back));
    CHECK(back.payload_case() == e.payload_case());
    covered.insert(static_cast<int>(e.payload_case()));
  }
  // A payload added to the schema without a sample here fails this test.
  const auto* oneof = v1::Envelope::descriptor()->FindOneofByName("payload");
  REQUIRE(oneof != nullptr);
  CHECK(covered.size() == static_cast<size_t>(oneof->field_count()));
}

TEST_CASE("output messages round-trip", "[unit][proto]") {
  v1::Alert a;
  a.set_output_id("C-1/OVER_LIMIT//1/firing-4-0");
  a.set_rule(v1::OVER_LIMIT);
  a.set_status(v1::Alert::FIRING);
  auto* ev = a.add_evidence();
  ev->set_name("exposure");
  ev->mutable_money()->set_minor(12'530'000);
  ev->mutable_money()->set_currency("EUR");
  v1::BlockStatus b;
  b.set_status(v1::BlockStatus::HOLD);
  b.add_reasons(v1::BLOCK_OVERDUE);
  v1::OrderDecision d;
  d.set_decision(v1::OrderDecision::RELEASED);
  d.mutable_amount()->set_minor(5);
  v1::CustomerState s;
  s.set_customer_id("C-1");
  s.add_invoices()->set_invoice_id("I1");
  s.add_recent_event_ids(0xFFFFFFFFFFFFFFFFULL);

  const google::protobuf::Message* msgs[] = {&a, &b, &d, &s};
  for (const auto* m : msgs) {
    std::unique_ptr<google::protobuf::Message> back(m->New());
    REQUIRE(back->ParseFromString(m->SerializeAsString()));
    CHECK(MessageDifferencer::Equals(*m, *back));
  }
}

TEST_CASE("malformed bytes are rejected with an error, not a crash", "[unit][proto]") {
  cwtest::Events ev("C-1");
  const std::string good = ev.Invoice(cwtest::kT0, "I1", 100, cwtest::kT0 + cwtest::kDay).SerializeAsString();
  v1::Envelope e;
  SECTION("truncated") { CHECK_FALSE(e.ParseFromString(good.substr(0, good.size() - 3))); }
  SECTION("invalid wire type") { CHECK_FALSE(e.ParseFromString(std::string("\x0f\xff\xff", 3))); }
  SECTION("length beyond the buffer") {
    CHECK_FALSE(
        e.ParseFromString(std::string("\x0a\x7f"
                                      "abc",
                                      5)));
  }
  SECTION("random garbage does not crash") {
    uint32_t x = 12345;
    for (int i = 0; i < 2000; ++i) {
      std::string junk(static_cast<size_t>(i % 64 + 1), '\0');
      for (auto& c : junk) {
        x = x * 1664525u + 1013904223u;
        c = static_cast<char>(x >> 24);
      }
      v1::Envelope out;
      (void)out.ParseFromString(junk);  // either outcome is fine; it must not crash
    }
    SUCCEED();
  }
}
