#include "obs/engine_metrics.h"

#include <catch2/catch.hpp>

using creditwatch::obs::EngineMetrics;

TEST_CASE("metrics: a revoked partition's lag series is dropped, the others stay", "[unit][metrics]") {
  EngineMetrics m;
  m.ConsumerLag("creditwatch.events", 0).Set(5);
  m.ConsumerLag("creditwatch.events", 1).Set(7);
  m.RemoveConsumerLag("creditwatch.events", 1);
  m.RemoveConsumerLag("creditwatch.events", 9);  // never reported: nothing to drop
  const std::string text = m.Serialize();
  CHECK(text.find("creditwatch_consumer_lag{partition=\"0\",topic=\"creditwatch.events\"} 5") != std::string::npos);
  CHECK(text.find("partition=\"1\"") == std::string::npos);
  // Reported again after a new assignment: a fresh series.
  m.ConsumerLag("creditwatch.events", 1).Set(2);
  CHECK(m.Serialize().find("creditwatch_consumer_lag{partition=\"1\",topic=\"creditwatch.events\"} 2") !=
        std::string::npos);
}
