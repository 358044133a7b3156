// `creditwatch demo`: the embedded broker, the engine and the workload generator in one
// process, with a live terminal view. Replays a compressed history (default 120 days) as
// fast as it can, then runs simulated time on at a steady event rate. The engine runs in
// event-time mode, so rules measured in days behave as they would over real months.
#pragma once

#include <atomic>
#include <string>

namespace creditwatch::app {

struct DemoOptions {
  int duration_s = 0;                   // Default: 0 = until Ctrl-C
  int customers = 1000;                 // Default: 1000
  double rate = 2000;                   // Default: 2000 events/s after the history
  int history_days = 120;               // Default: 120
  uint64_t seed = 42;                   // Default: 42
  int partitions = 8;                   // Default: 8
  std::string http = "127.0.0.1:8080";  // Default: 127.0.0.1:8080 (any free port if taken)
  std::string data_dir;                 // Default: a temporary directory, removed at exit
  bool plain = false;                   // plain lines even on a terminal
};

int RunDemo(const DemoOptions& options, const std::atomic<bool>& stop);

}  // namespace creditwatch::app
