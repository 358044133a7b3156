// `creditwatch replay`: a backtest. Runs the rules over a recorded history (a file of
// length-delimited Envelopes, as `creditwatch gen --out` writes) with time taken from
// the events, and reports per rule how many alerts fired and resolved and how many
// orders would have been held. Same input and rules, same report.
#pragma once

#include <string>

#include "config/app_config.h"

namespace creditwatch::app {

struct ReplayOptions {
  std::string in_file;
  bool json = false;  // one JSON object instead of the table
};

int RunReplay(const ReplayOptions& options, const config::AppConfig& cfg);

}  // namespace creditwatch::app
