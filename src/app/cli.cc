#include "app/cli.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/bench_core.h"
#include "app/version.h"
#include "config/app_config.h"

namespace creditwatch::app {

int RunCli(int argc, char** argv) {
  CLI::App cli{"creditwatch: real-time credit-risk alerting on Kafka event streams"};
  cli.require_subcommand(1);

  auto* version = cli.add_subcommand("version", "Print the version");
  version->callback([] { fmt::print("creditwatch {}\n", CREDITWATCH_VERSION); });

  auto* help = cli.add_subcommand("help", "Show the commands");
  help->callback([&cli] { std::cout << cli.help(); });

  std::string config_path;
  auto* check = cli.add_subcommand("check-config", "Validate a configuration file and exit");
  check->add_option("--config,-c", config_path, "YAML configuration file")->required();
  int exit_code = 0;
  check->callback([&] {
    config::AppConfig cfg;
    if (Status st = config::LoadConfigFile(config_path, &cfg); !st.ok()) {
      fmt::print(stderr, "creditwatch: bad configuration: {}\n", st.message());
      exit_code = 2;
      return;
    }
    fmt::print("{}: ok\n", config_path);
  });

  auto* bench = cli.add_subcommand("bench", "Benchmarks; print JSON lines");
  bench->require_subcommand(1);
  CoreBenchOptions core_bench;
  auto* bench_core = bench->add_subcommand("core", "Decision core throughput, state in memory, one thread");
  bench_core->add_option("--customers", core_bench.customers, "Customers in the workload")->capture_default_str();
  bench_core->add_option("--events", core_bench.events, "Events per round")->capture_default_str();
  bench_core->add_option("--seed", core_bench.seed, "Workload seed")->capture_default_str();
  bench_core->add_option("--rounds", core_bench.rounds, "Rounds")->capture_default_str();
  bench_core->callback([&] { exit_code = RunCoreBench(core_bench); });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  return exit_code;
}

}  // namespace creditwatch::app
