// The benchmarks themselves: a small run prints every figure, so the README's table and
// the issues' goals keep a working command behind them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "support/e2e_cluster.h"

using namespace cwtest;

namespace {
// The JSON lines of a run's output (progress lines on stderr share the file).
std::map<std::string, nlohmann::json> Figures(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, nlohmann::json> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line);
    out[j["name"].get<std::string>()] = j;
  }
  return out;
}
}  // namespace

TEST_CASE("bench core: prints its throughput as JSON lines", "[integration][bench]") {
  TempDir dir;
  Process p({CREDITWATCH_BIN, "bench", "core", "--events", "20000", "--customers", "200", "--rounds", "1"},
            dir / "core.log");
  REQUIRE(p.WaitFor(std::chrono::seconds(120)) == 0);
  const auto f = Figures(dir / "core.log");
  for (const char* name : {"apply_evaluate_throughput", "decode_apply_evaluate_throughput"}) {
    INFO(name);
    REQUIRE(f.count(name) == 1);
    CHECK(f.at(name)["value"].get<double>() > 0);
    CHECK(f.at(name)["events"] == 20000);
    CHECK(f.at(name)["outputs"].get<int>() > 0);
  }
}

TEST_CASE("bench pipeline: a small run prints every figure and the markdown table", "[e2e][bench]") {
  TempDir dir;
  Process p({CREDITWATCH_BIN, "bench", "pipeline", "--events", "20000", "--customers", "2000", "--latency-seconds", "1",
             "--lookup-rate", "200", "--startup-customers", "2000", "--work-dir", dir / "work", "--markdown",
             dir / "table.md"},
            dir / "pipeline.log");
  REQUIRE(p.WaitFor(std::chrono::seconds(600)) == 0);
  const auto f = Figures(dir / "pipeline.log");
  for (const char* name : {"raw_ceiling_throughput",
                           "engine_throughput",
                           "engine_cpu_per_million_events",
                           "engine_loop_cpu_per_million_events",
                           "engine_commit_cpu_per_million_events",
                           "engine_loop_wait_input_per_million_events",
                           "engine_loop_wait_commit_per_million_events",
                           "engine_peak_rss",
                           "lookup_floor_p99",
                           "light_order_decision_latency_p99",
                           "light_block_status_lookup_p99",
                           "light_lookup_client_wakeup_p99",
                           "light_engine_cpu",
                           "light_engine_cpu_per_million_events",
                           "lookup_floor_machine_steal",
                           "light_machine_steal",
                           "engine50_machine_steal",
                           "ceil50_machine_steal",
                           "engine_broker_cpu",
                           "light_broker_cpu",
                           "ceil50_broker_cpu",
                           "ceil50_engine_consumed",
                           "engine_live_max_throughput",
                           "engine_sustained_with_lookups_throughput",
                           "engine50_order_decision_latency_p99",
                           "engine50_block_status_lookup_p99",
                           "events_lost_to_retention",
                           "startup_to_ready",
                           "rss_at_ready",
                           "rss_after_touching_all"}) {
    INFO(name);
    REQUIRE(f.count(name) == 1);
    CHECK(f.at(name)["value"].get<double>() >= 0);
  }
  // Throughput comes with its ratio to the ceiling measured in the same run: the ceiling
  // and the engine run in turns, and the ratio is the median of the pairs' ratios.
  const std::string ceiling_note = f.at("raw_ceiling_throughput")["note"];
  const std::string engine_note = f.at("engine_throughput")["note"];
  std::smatch c;
  std::smatch e;
  REQUIRE(std::regex_search(ceiling_note, c, std::regex(R"(median of (\d+) (\d+) (\d+))")));
  REQUIRE(std::regex_search(
      engine_note, e,
      std::regex(R"(median of (\d+) (\d+) (\d+); ratio: median of the pairs' ([\d.]+) ([\d.]+) ([\d.]+))")));
  std::vector<double> rates;
  std::vector<double> ratios;
  for (size_t i = 1; i <= 3; ++i) {
    const double ceiling_run = std::stod(c[i]);
    rates.push_back(std::stod(e[i]));
    ratios.push_back(std::stod(e[i + 3]));
    CHECK(ratios.back() == Approx(rates.back() / ceiling_run).margin(0.01));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[1];
  };
  const double engine = f.at("engine_throughput")["value"].get<double>();
  CHECK(engine > 0);
  CHECK(engine == Approx(median(rates)).margin(1));
  CHECK(f.at("engine_throughput")["ratio_to_raw_ceiling"].get<double>() == Approx(median(ratios)).margin(0.006));
  // The loop's and the committing thread's CPU are parts of the process's (within two
  // clock ticks of slack over the 20,000 events): another thread counted in would break it.
  const double loop = f.at("engine_loop_cpu_per_million_events")["value"].get<double>();
  const double commit = f.at("engine_commit_cpu_per_million_events")["value"].get<double>();
  CHECK(loop > 0);
  CHECK(loop + commit <= f.at("engine_cpu_per_million_events")["value"].get<double>() + 1.0);
  // The loop waited for the commits of its batches: the pipeline has one batch in flight,
  // and a backlog's last batch is always waited for.
  CHECK(f.at("engine_loop_wait_commit_per_million_events")["value"].get<double>() > 0);
  // Decisions were measured: latencies are positive, and the engine became ready.
  CHECK(f.at("light_order_decision_latency_p99")["value"].get<double>() > 0);
  // Every order offered at the light load had its decision read (none counted at a lower bound).
  REQUIRE(f.count("light_order_decisions_unread") == 1);
  CHECK(f.at("light_order_decisions_unread")["value"].get<double>() == 0);
  CHECK(f.at("startup_to_ready")["value"].get<double>() > 0);
  // The last lookup phase offers half the highest load the engine sustained with lookups,
  // which is at least the light load it kept up with.
  const double sustained = f.at("engine_sustained_with_lookups_throughput")["value"].get<double>();
  CHECK(sustained >= f.at("light_offered_load")["value"].get<double>() * 0.9);
  CHECK(f.at("engine50_offered_load")["value"].get<double>() == Approx(sustained * 0.5).epsilon(0.15));
  // The engine used CPU while it consumed the light load (at most the machine's cores).
  CHECK(f.at("light_engine_cpu")["value"].get<double>() > 0);
  CHECK(f.at("light_engine_cpu")["value"].get<double>() <= std::thread::hardware_concurrency() + 0.5);
  // The embedded broker's thread: busy while half the ceiling was offered, and one
  // thread (other threads of the bench counted in would exceed a core).
  CHECK(f.at("ceil50_broker_cpu")["value"].get<double>() > 0);
  for (const char* name : {"engine_broker_cpu", "light_broker_cpu", "ceil50_broker_cpu"}) {
    INFO(name);
    CHECK(f.at(name)["value"].get<double>() <= 1.05);
  }
  std::ifstream md(dir / "table.md");
  std::stringstream table;
  table << md.rdbuf();
  CHECK(table.str().find("| engine_throughput |") != std::string::npos);
  CHECK(table.str().find("Machine:") != std::string::npos);
}
