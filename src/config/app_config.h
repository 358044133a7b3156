// The service configuration: one YAML file, validated as a whole at start-up. A bad
// file fails naming the key and the reason. Loaded once; read-only afterwards.
#pragma once

#include <string>

#include "core/rules_config.h"
#include "core/status.h"

namespace creditwatch::config {

struct AppConfig {
  core::RulesConfig rules;  // `rules:` section; defaults when absent
};

// Parses YAML text. On error, `out` is untouched and the status names the key.
Status ParseConfig(const std::string& yaml_text, AppConfig* out);
// Reads and parses a file.
Status LoadConfigFile(const std::string& path, AppConfig* out);

}  // namespace creditwatch::config
