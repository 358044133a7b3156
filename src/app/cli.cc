#include "app/cli.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <iostream>

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

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cli.exit(e);
  }
  return exit_code;
}

}  // namespace creditwatch::app
