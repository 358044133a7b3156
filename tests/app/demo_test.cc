// The main job, headless and bounded: every rule fires and resolves, holds are placed
// and released, and nothing is logged as an error.
#include <catch2/catch.hpp>

#include <regex>

#include "support/e2e_cluster.h"

using namespace cwtest;

TEST_CASE("demo: headless for a bounded time shows every rule, holds and releases, no errors", "[e2e][demo]") {
  TempDir dir;
  Process demo({CREDITWATCH_BIN, "demo", "--duration", "40", "--plain", "--http", "127.0.0.1:0"}, dir / "demo.out");
  REQUIRE(demo.WaitFor(std::chrono::seconds(150)) == 0);
  const std::string out = demo.Log();
  INFO(out.substr(out.size() > 6000 ? out.size() - 6000 : 0));

  static const std::regex kRule(R"(summary: rule=(\w+) fired=(\d+) resolved=(\d+))");
  int rules = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), kRule); it != std::sregex_iterator(); ++it) {
    ++rules;
    INFO((*it)[1].str());
    CHECK(std::stol((*it)[2]) > 0);
    CHECK(std::stol((*it)[3]) > 0);
  }
  CHECK(rules == 7);
  std::smatch m;
  REQUIRE(std::regex_search(out, m,
                            std::regex(R"(summary: events=(\d+) holds_placed=(\d+) holds_released=(\d+) )"
                                       R"(orders_held=(\d+) orders_released=(\d+) errors=(\d+))")));
  CHECK(std::stol(m[1]) > 10000);
  CHECK(std::stol(m[2]) > 0);
  CHECK(std::stol(m[3]) > 0);
  CHECK(std::stol(m[4]) > 0);
  CHECK(std::stol(m[5]) > 0);
  CHECK(m[6] == "0");
  CHECK_THAT(out, Catch::Contains("metrics: http://127.0.0.1:"));
  CHECK_THAT(out, Catch::Contains("alert: ACME-"));
}
