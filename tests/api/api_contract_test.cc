// Contract tests of the HTTP API against a running engine process.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "support/e2e_cluster.h"
#include "support/engine_http.h"
#include "support/events.h"

using namespace cwtest;
using nlohmann::json;

TEST_CASE("api: lookups, manual actions, auth, bad input and health", "[integration][api]") {
  E2eCluster cluster(2);
  const std::string cfg = cluster.WriteConfig("engine", "live");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  httplib::Client c = HttpClientOf(engine);

  CHECK(c.Get("/healthz")->status == 200);
  auto ready = PollGet(c, "/readyz", [](const auto& r) { return r.status == 200; });
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(json::parse(ready->body)["partitions_assigned"] == true);

  SECTION("unknown customer and unknown endpoint") {
    auto r = c.Get("/v1/customers/NOBODY/block-status");
    CHECK(r->status == 404);
    CHECK(json::parse(r->body)["error"].get<std::string>().find("NOBODY") != std::string::npos);
    CHECK(c.Get("/v1/customers/NOBODY")->status == 404);
    CHECK(c.Get("/nope")->status == 404);
  }

  SECTION("block status and the explained customer view") {
    TestProducer producer(cluster.bootstrap(), "creditwatch.events", cluster.partitions());
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    Events ev("ACME-1");
    producer.Produce("ACME-1", ev.Customer(now - 60 * kDay, 10'000'000).SerializeAsString());
    producer.Produce("ACME-1",
                     ev.Invoice(now - 60 * kDay, "INV-1", 12'000'000, now - 30 * kDay - 1000).SerializeAsString());
    producer.Produce("ACME-1", ev.Order(now - 1000, "SO-1", 100'000).SerializeAsString());
    producer.Flush();
    auto r = PollGet(c, "/v1/customers/ACME-1/block-status",
                     [](const auto& res) { return res.status == 200 && json::parse(res.body)["status"] == "HOLD"; });
    REQUIRE(r->status == 200);
    const json b = json::parse(r->body);
    CHECK(b["customer_id"] == "ACME-1");
    CHECK(b["reasons"] == json::array({"OVER_LIMIT", "OVERDUE"}));
    CHECK(b["version"].get<int>() >= 1);
    CHECK(b["since"].get<std::string>().back() == 'Z');

    auto v = PollGet(c, "/v1/customers/ACME-1", [](const auto& res) {
      return res.status == 200 && !json::parse(res.body)["held_orders"].empty();
    });
    const json j = json::parse(v->body);
    CHECK(j["credit_limit"]["minor"] == 10'000'000);
    CHECK(j["exposure"]["minor"] == 12'000'000);
    CHECK(j["exposure"]["text"] == "120,000.00 EUR");
    CHECK(j["utilization"]["basis_points"] == 12000);
    REQUIRE(j["overdue_items"].size() == 1);
    CHECK(j["overdue_items"][0]["days_past_due"] == 30);
    CHECK(j["risk"]["factors"].size() == 5);
    CHECK(j["risk"]["band"].is_string());
    CHECK(j["active_alerts"].size() >= 3);  // utilization, over limit, overdue (and the score)
    REQUIRE(j["held_orders"].size() == 1);
    CHECK(j["held_orders"][0]["order_id"] == "SO-1");
  }

  SECTION("manual hold and release need the token and valid input, and go through the log") {
    TestProducer producer(cluster.bootstrap(), "creditwatch.events", cluster.partitions());
    const int64_t now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count();
    Events ev("HOLD-1");
    producer.Produce("HOLD-1", ev.Customer(now - 1000, 10'000'000).SerializeAsString());
    producer.Flush();
    REQUIRE(PollGet(c, "/v1/customers/HOLD-1", [](const auto& res) { return res.status == 200; })->status == 200);

    const std::string body = R"({"reason":"fraud check","by":"cm-7"})";
    CHECK(c.Post("/v1/customers/HOLD-1/hold", body, "application/json")->status == 401);
    httplib::Headers wrong = {{"Authorization", "Bearer nope"}};
    CHECK(c.Post("/v1/customers/HOLD-1/hold", wrong, body, "application/json")->status == 401);

    httplib::Headers auth = {{"Authorization", "Bearer test-token"}};
    auto bad = [&](const std::string& b, const std::string& fragment) {
      auto r = c.Post("/v1/customers/HOLD-1/hold", auth, b, "application/json");
      REQUIRE(r);
      CHECK(r->status == 400);
      CHECK_THAT(json::parse(r->body)["error"].get<std::string>(), Catch::Contains(fragment));
    };
    bad("{not json", "not JSON");
    bad("[1]", "JSON object");
    bad("{}", "reason");
    bad(R"({"reason":"x","until":"tomorrow"})", "until");
    bad(R"({"reason":"x","until":"2001-01-01T00:00:00Z"})", "future");
    bad(R"({"reason":"x","colour":"red"})", "colour");
    bad("{\"reason\":\"\xff\"}", "not JSON");  // not UTF-8: a 400 whose text says so, not a 500
    // Not UTF-8 in the path: a 404 for an unknown customer, not a 500.
    CHECK(c.Get("/v1/customers/%FF/block-status")->status == 404);
    // Far larger than an action: refused before it is read.
    CHECK(c.Post("/v1/customers/HOLD-1/hold", auth, std::string(1 << 20, ' '), "application/json")->status == 413);

    auto ok = c.Post("/v1/customers/HOLD-1/hold", auth, body, "application/json");
    REQUIRE(ok->status == 202);
    CHECK(json::parse(ok->body)["topic"] == "creditwatch.events");
    auto held = PollGet(c, "/v1/customers/HOLD-1/block-status",
                        [](const auto& r) { return r.status == 200 && json::parse(r.body)["status"] == "HOLD"; });
    CHECK(json::parse(held->body)["reasons"] == json::array({"MANUAL"}));

    REQUIRE(c.Post("/v1/customers/HOLD-1/release", auth, R"({"reason":"cleared"})", "application/json")->status == 202);
    auto clear = PollGet(c, "/v1/customers/HOLD-1/block-status",
                         [](const auto& r) { return r.status == 200 && json::parse(r.body)["status"] == "CLEAR"; });
    CHECK(json::parse(clear->body)["status"] == "CLEAR");
  }
  CHECK(engine.Kill(SIGTERM) == 0);
}

TEST_CASE("api: /readyz turns 503 when the brokers stop answering", "[integration][api]") {
  E2eCluster cluster(1);
  const std::string cfg = cluster.WriteConfig("engine", "live");
  Process engine({CREDITWATCH_BIN, "run", "-c", cfg}, cluster.dir() / "engine.log");
  httplib::Client c = HttpClientOf(engine);
  REQUIRE(PollGet(c, "/readyz", [](const auto& r) { return r.status == 200; })->status == 200);

  cluster.KillBroker();
  auto down = PollGet(c, "/readyz", [](const auto& r) { return r.status == 503; });
  INFO(engine.Log());
  REQUIRE(down->status == 503);
  const json j = json::parse(down->body);
  CHECK(j["broker_reachable"] == false);
  CHECK(j["ready"] == false);
  CHECK(c.Get("/healthz")->status == 200);  // alive all the same: no restart for an outage
  engine.Kill(SIGKILL);
}
