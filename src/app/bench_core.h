// `creditwatch bench core`: throughput of the decision core (apply + evaluate, timers
// included) on the generated workload, state in memory, one thread. Prints JSON lines.
#pragma once

#include <cstdint>

namespace creditwatch::app {

struct CoreBenchOptions {
  int customers = 20'000;      // Default: 20,000
  int64_t events = 2'000'000;  // Default: 2,000,000
  uint64_t seed = 42;          // Default: 42
  int rounds = 3;              // Default: 3 (best round reported, all printed)
};

int RunCoreBench(const CoreBenchOptions& options);

}  // namespace creditwatch::app
