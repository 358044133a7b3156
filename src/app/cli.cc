#include "app/cli.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/bench_core.h"
#include "app/bench_pipeline.h"
#include "app/commands.h"
#include "app/demo_command.h"
#include "app/gen_command.h"
#include "app/replay_command.h"
#include "app/version.h"
#include "config/app_config.h"
#include "obs/logging.h"

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

  auto load = [&](config::AppConfig* cfg) {
    Status st = config_path.empty() ? config::ParseConfig("", cfg) : config::LoadConfigFile(config_path, cfg);
    if (!st.ok()) {
      fmt::print(stderr, "creditwatch: bad configuration: {}\n", st.message());
      exit_code = 2;
      return false;
    }
    return true;
  };
  static std::atomic<bool> stop{false};

  auto* run = cli.add_subcommand("run", "Run the engine (an embedded broker when no bootstrap.servers)");
  run->add_option("--config,-c", config_path, "YAML configuration file");
  run->callback([&] {
    config::AppConfig cfg;
    if (!load(&cfg)) return;
    obs::SetupLogging(cfg.log_level);
    StopOnSignals(&stop);
    exit_code = RunEngine(cfg, stop);
  });

  std::string bootstrap_file;
  int partitions = 0;
  auto* broker = cli.add_subcommand("broker", "Host the embedded Kafka-protocol broker until signalled");
  broker->add_option("--config,-c", config_path, "YAML configuration file (topics, broker.partitions)");
  broker->add_option("--bootstrap-file", bootstrap_file, "Also write the bootstrap string to this file");
  broker->add_option("--partitions", partitions, "Partitions per topic (overrides the config)");
  broker->callback([&] {
    config::AppConfig cfg;
    if (!load(&cfg)) return;
    if (partitions > 0) cfg.broker.partitions = partitions;
    obs::SetupLogging(cfg.log_level);
    StopOnSignals(&stop);
    exit_code = RunBroker(cfg, bootstrap_file, stop);
  });

  GenOptions gen_opts;
  auto* gen = cli.add_subcommand("gen", "Write the synthetic accounts-receivable workload to Kafka or a file");
  gen->add_option("--bootstrap", gen_opts.bootstrap, "Kafka bootstrap servers");
  gen->add_option("--topic", gen_opts.topic, "Input topic")->capture_default_str();
  gen->add_option("--out", gen_opts.out_file, "Write length-delimited Envelopes to this file instead");
  gen->add_option("--events", gen_opts.events, "Events to write (0 = until stopped)")->capture_default_str();
  gen->add_option("--rate", gen_opts.rate, "Events per second (0 = as fast as possible)")->capture_default_str();
  gen->add_option("--customers", gen_opts.workload.customers, "Customers")->capture_default_str();
  gen->add_option("--seed", gen_opts.workload.seed, "Seed")->capture_default_str();
  auto* start_ms =
      gen->add_option("--start-ms", gen_opts.workload.start_ms, "Event time of the first event (epoch ms)");
  gen->add_option("--id-prefix", gen_opts.workload.id_prefix, "Customer id prefix")->capture_default_str();
  auto* live = gen->add_flag("--live", gen_opts.live,
                             "Event times follow the wall clock (for an engine in live mode): history first, then "
                             "each event when its time comes");
  live->excludes(start_ms);
  gen->add_option("--history-days", gen_opts.history_days, "With --live: days of history before now")
      ->capture_default_str()
      ->needs(live);
  gen->callback([&] {
    obs::SetupLogging("info");
    StopOnSignals(&stop);
    exit_code = RunGen(gen_opts, stop);
  });

  ReplayOptions replay_opts;
  auto* replay = cli.add_subcommand("replay", "Backtest the rules over a recorded history (gen --out FILE)");
  replay->add_option("--in", replay_opts.in_file, "Length-delimited Envelopes")->required();
  replay->add_option("--config,-c", config_path, "YAML configuration (the rules section is used)");
  replay->add_flag("--json", replay_opts.json, "One JSON object instead of the table");
  replay->callback([&] {
    config::AppConfig cfg;
    if (!load(&cfg)) return;
    exit_code = RunReplay(replay_opts, cfg);
  });

  DemoOptions demo_opts;
  auto* demo = cli.add_subcommand("demo", "Broker, engine and generator in one process, with a live view");
  demo->add_option("--duration", demo_opts.duration_s, "Seconds to run (0 = until Ctrl-C)")->capture_default_str();
  demo->add_option("--customers", demo_opts.customers, "Customers")->capture_default_str();
  demo->add_option("--rate", demo_opts.rate, "Events per second after the history")->capture_default_str();
  demo->add_option("--history-days", demo_opts.history_days, "Days of history replayed first")->capture_default_str();
  demo->add_option("--seed", demo_opts.seed, "Workload seed")->capture_default_str();
  demo->add_option("--http", demo_opts.http, "HTTP listen address")->capture_default_str();
  demo->add_option("--data-dir", demo_opts.data_dir, "Keep the state here (default: a temporary directory)");
  demo->add_flag("--plain", demo_opts.plain, "Plain lines even on a terminal");
  demo->callback([&] {
    StopOnSignals(&stop);
    exit_code = RunDemo(demo_opts, stop);
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
  PipelineBenchOptions pipe_bench;
  pipe_bench.bin = argv[0];
  auto* bench_pipe = bench->add_subcommand("pipeline", "Engine vs the raw Kafka ceiling, latency, start-up, memory");
  bench_pipe->add_option("--events", pipe_bench.events, "Workload events")->capture_default_str();
  bench_pipe->add_option("--customers", pipe_bench.customers, "Workload customers")->capture_default_str();
  bench_pipe->add_option("--partitions", pipe_bench.partitions, "Partitions per topic")->capture_default_str();
  bench_pipe->add_option("--latency-seconds", pipe_bench.latency_seconds, "Latency phase length")
      ->capture_default_str();
  bench_pipe
      ->add_option("--engine-load", pipe_bench.engine_load,
                   "Fraction of the highest load the engine sustains with lookups, offered in the last lookup phase")
      ->capture_default_str();
  bench_pipe
      ->add_option("--light-load", pipe_bench.light_load,
                   "Fraction of the engine's backlog maximum offered in the first lookup phase")
      ->capture_default_str();
  bench_pipe
      ->add_option("--lookup-rate", pipe_bench.lookup_rate, "Block-status lookups/s in the lookup phases (0: none)")
      ->capture_default_str();
  bench_pipe->add_option("--startup-customers", pipe_bench.startup_customers, "Customers in RocksDB at start-up")
      ->capture_default_str();
  bench_pipe->add_option("--markdown", pipe_bench.markdown_out, "Write the results table here")->capture_default_str();
  bench_pipe->add_option("--work-dir", pipe_bench.work_dir, "Keep data and logs here");
  bench_pipe->callback([&] { exit_code = RunPipelineBench(pipe_bench); });

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  return exit_code;
}

}  // namespace creditwatch::app
