// The backtest: generated history to a file, replayed twice with the same report; and
// the generator's live mode, whose files such a backtest also reads.
#include <catch2/catch.hpp>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "creditwatch/v1/events.pb.h"

#include "support/e2e_cluster.h"

using namespace cwtest;

namespace {
std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}
std::string Run(const TempDir& dir, const std::vector<std::string>& args, const std::string& out, int* code) {
  Process p(args, dir / out);
  *code = p.WaitFor(std::chrono::seconds(120));
  return Read(dir / out);
}
}  // namespace

TEST_CASE("replay: a backtest over a generated file reports every rule, the same twice", "[integration][replay]") {
  TempDir dir;
  int code = -1;
  for (const char* f : {"a.bin", "b.bin"}) {
    Run(dir, {CREDITWATCH_BIN, "gen", "--out", dir / f, "--events", "40000", "--customers", "300", "--seed", "7"},
        std::string(f) + ".log", &code);
    REQUIRE(code == 0);
  }
  const std::string a = Read(dir / "a.bin");
  REQUIRE(a.size() > 1'000'000);
  CHECK(a == Read(dir / "b.bin"));  // same seed, same bytes

  const std::string r1 = Run(dir, {CREDITWATCH_BIN, "replay", "--in", dir / "a.bin", "--json"}, "r1.json", &code);
  REQUIRE(code == 0);
  const std::string r2 = Run(dir, {CREDITWATCH_BIN, "replay", "--in", dir / "b.bin", "--json"}, "r2.json", &code);
  REQUIRE(code == 0);
  CHECK(r1 == r2);
  const auto j = nlohmann::json::parse(r1);
  CHECK(j["events"] == 40000);
  REQUIRE(j["rules"].size() == 7);
  for (const auto& [rule, counts] : j["rules"].items()) {
    INFO(rule);
    CHECK(counts["fired"].get<int>() > 0);
  }
  CHECK(j["orders"]["HELD"].get<int>() > 0);
  CHECK(j["holds_placed"].get<int>() > 0);
  // The generator writes valid events only: each is read on its own (a parse that merged
  // into the last event piled up a payment's allocations past its amount).
  CHECK(j["rejected"] == 0);
  CHECK(j["rejected_by_reason"].empty());
  // Holds count changes between clear and hold: every customer starts clear.
  CHECK(j["holds_placed"].get<int>() - j["holds_lifted"].get<int>() == j["on_hold_at_end"].get<int>());
  // Overdue alerts are regraded up the dunning levels: severities above the first show.
  CHECK(j["rules"]["INVOICE_OVERDUE"]["reached"]["warning"].get<int>() > 0);
  CHECK(j["rules"]["INVOICE_OVERDUE"]["reached"]["info"] == j["rules"]["INVOICE_OVERDUE"]["fired"]);

  // Stricter thresholds fire more: the report is what a credit manager tunes with.
  std::ofstream(dir / "strict.yaml") << "rules:\n  defaults:\n    utilization_warning_pct: 50\n";
  const std::string r3 = Run(
      dir, {CREDITWATCH_BIN, "replay", "--in", dir / "a.bin", "--json", "-c", dir / "strict.yaml"}, "r3.json", &code);
  REQUIRE(code == 0);
  CHECK(nlohmann::json::parse(r3)["rules"]["UTILIZATION_HIGH"]["fired"].get<int>() >
        j["rules"]["UTILIZATION_HIGH"]["fired"].get<int>());

  // A truncated file is an error, not a silent partial report.
  std::ofstream(dir / "cut.bin", std::ios::binary) << a.substr(0, a.size() / 2 + 3);
  const std::string r4 = Run(dir, {CREDITWATCH_BIN, "replay", "--in", dir / "cut.bin"}, "r4.txt", &code);
  CHECK(code == 1);
  CHECK_THAT(r4, Catch::Contains("truncated"));
}

TEST_CASE("gen --live: history up to now, and no event before its time", "[integration][app]") {
  TempDir dir;
  const auto wall_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  const int64_t started = wall_ms();
  Process gen({CREDITWATCH_BIN, "gen", "--live", "--history-days", "20", "--customers", "300", "--events", "0", "--out",
               dir / "live.bin"},
              dir / "gen.log");
  std::this_thread::sleep_for(std::chrono::seconds(4));
  const int64_t stopped = wall_ms();
  REQUIRE(gen.Kill(SIGINT) == 0);  // a live generator runs until stopped, then exits cleanly

  std::ifstream in(dir / "live.bin", std::ios::binary);
  google::protobuf::io::IstreamInputStream zin(&in);
  creditwatch::v1::Envelope e;
  std::vector<int64_t> times;
  bool clean_eof = false;
  for (;;) {
    e.Clear();  // the parse merges into the message
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&e, &zin, &clean_eof)) break;
    times.push_back(e.event_time_ms());
  }
  REQUIRE(times.size() > 1000);  // 20 days of 300 customers
  constexpr int64_t kDayMs = 86'400'000;
  CHECK(times.front() >= started - 20 * kDayMs);
  CHECK(times.front() < started - 19 * kDayMs);
  CHECK(*std::max_element(times.begin(), times.end()) <= stopped);  // none from the future
  CHECK(times.back() > started - kDayMs);                           // the history reached today
}
