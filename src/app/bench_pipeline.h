// `creditwatch bench pipeline`: the engine against the Kafka ceiling, in one run on one
// embedded broker with the same client settings. Prints one JSON line per figure and
// writes a markdown table. See RunPipelineBench for the phases.
#pragma once

#include <cstdint>
#include <string>

namespace creditwatch::app {

struct PipelineBenchOptions {
  std::string bin;                        // the creditwatch executable (the engine runs as a child process)
  int64_t events = 1'000'000;             // Default: 1,000,000 workload events
  int customers = 100'000;                // Default: 100,000
  int partitions = 64;                    // Default: 64 (the embedded broker keeps ~5 MiB per partition)
  int latency_seconds = 10;               // Default: 10 s at 50% of the raw ceiling
  double lookup_rate = 5000;              // Default: 5,000 block-status lookups/s during the latency phase
  double engine_load = 0.5;               // Default: 50% of the highest load sustained with lookups
  double light_load = 0.05;               // Default: 5% of the engine's backlog maximum, before the overload
  int64_t startup_customers = 1'000'000;  // Default: 1,000,000 customers in RocksDB for the start-up phase
  std::string markdown_out = "bench-results.md";
  std::string work_dir;  // Default: a temporary directory
};

int RunPipelineBench(const PipelineBenchOptions& options);

}  // namespace creditwatch::app
