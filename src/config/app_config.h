// The service configuration: one YAML file, validated as a whole at start-up. A bad
// file fails naming the key and the reason. Loaded once; read-only afterwards.
#pragma once

#include <string>

#include "api/api_server.h"
#include "core/rules_config.h"
#include "core/status.h"
#include "store/credit_store.h"
#include "stream/embedded_broker.h"
#include "stream/stream_options.h"

namespace creditwatch::config {

struct AppConfig {
  std::string log_level = "info";  // Default: info
  core::RulesConfig rules;         // `rules:` section; defaults when absent
  stream::StreamOptions stream;    // `kafka*`, `topics` and `engine` sections
  store::StoreOptions store;       // `engine.data_dir`, `engine.block_cache_mb`, ...
  stream::BrokerOptions broker;    // `broker`: the embedded broker when no bootstrap.servers
  api::HttpOptions http;           // `http`: lookups, actions, metrics and health
  bool embedded_broker() const { return stream.kafka.count("bootstrap.servers") == 0; }
};

// Parses YAML text. On error, `out` is untouched and the status names the key.
Status ParseConfig(const std::string& yaml_text, AppConfig* out);
// Reads and parses a file.
Status LoadConfigFile(const std::string& path, AppConfig* out);

}  // namespace creditwatch::config
