// The executable's start-up contract: clear errors and exit codes.
#include <catch2/catch.hpp>

#include <fstream>

#include "store/credit_store.h"
#include "support/e2e_cluster.h"

using namespace cwtest;

namespace {
std::string Write(const TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return dir / name;
}
}  // namespace

TEST_CASE("version and help answer", "[integration][app]") {
  TempDir dir;
  Process p({CREDITWATCH_BIN, "version"}, dir / "out");
  CHECK(p.Wait() == 0);
  CHECK_THAT(p.Log(), Catch::StartsWith("creditwatch "));
}

#ifdef CREDITWATCH_JEMALLOC  // sanitizer builds bring their own allocator
TEST_CASE("the executable carries its allocator settings", "[integration][app]") {
  // jemalloc reports where each setting came from: the built-in one must be read.
  TempDir dir;
  Process p({"/usr/bin/env", "MALLOC_CONF=confirm_conf:true", CREDITWATCH_BIN, "version"}, dir / "out");
  CHECK(p.Wait() == 0);
  CHECK_THAT(p.Log(), Catch::Contains("Set conf value: tcache_max:1048576"));
}
#endif

TEST_CASE("a bad config fails at start-up naming the key", "[integration][app]") {
  TempDir dir;
  const auto cfg = Write(dir, "bad.yaml", "engine:\n  time_mode: sometimes\n");
  Process check({CREDITWATCH_BIN, "check-config", "-c", cfg}, dir / "check.log");
  CHECK(check.Wait() == 2);
  CHECK_THAT(check.Log(), Catch::Contains("engine.time_mode"));
  Process run({CREDITWATCH_BIN, "run", "-c", cfg}, dir / "run.log");
  CHECK(run.Wait() == 2);
  CHECK_THAT(run.Log(), Catch::Contains("engine.time_mode"));
}

TEST_CASE("unreachable brokers fail after a bounded wait", "[integration][app]") {
  TempDir dir;
  const auto cfg = Write(dir, "cfg.yaml",
                         "kafka:\n  bootstrap.servers: \"127.0.0.1:1\"\nengine:\n  data_dir: \"" + (dir / "data") +
                             "\"\n  broker_wait_ms: 1500\nhttp:\n  listen: \"127.0.0.1:0\"\n");
  Process run({CREDITWATCH_BIN, "run", "-c", cfg}, dir / "run.log");
  CHECK(run.WaitFor(std::chrono::seconds(20)) == 2);
  CHECK_THAT(run.Log(), Catch::Contains("cannot reach the Kafka brokers at '127.0.0.1:1'"));
}

TEST_CASE("a data directory in use by another instance is refused", "[integration][app]") {
  TempDir dir;
  creditwatch::store::StoreOptions o;
  o.data_dir = dir / "data";
  std::unique_ptr<creditwatch::store::CreditStore> holder;
  REQUIRE(creditwatch::store::CreditStore::Open(o, &holder).ok());
  const auto cfg =
      Write(dir, "cfg.yaml", "engine:\n  data_dir: \"" + o.data_dir + "\"\nhttp:\n  listen: \"127.0.0.1:0\"\n");
  Process run({CREDITWATCH_BIN, "run", "-c", cfg}, dir / "run.log");
  CHECK(run.WaitFor(std::chrono::seconds(20)) == 2);
  CHECK_THAT(run.Log(), Catch::Contains("locked"));
}

TEST_CASE("run without bootstrap servers starts an embedded broker and says so", "[integration][app]") {
  TempDir dir;
  const auto cfg =
      Write(dir, "cfg.yaml", "engine:\n  data_dir: \"" + (dir / "data") + "\"\nhttp:\n  listen: \"127.0.0.1:0\"\n");
  Process run({CREDITWATCH_BIN, "run", "-c", cfg}, dir / "run.log");
  bool assigned = false;
  for (int i = 0; i < 200 && !assigned; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    assigned = run.Log().find("assigned creditwatch.events") != std::string::npos;
  }
  CHECK_THAT(run.Log(), Catch::Contains("started an embedded broker at 127.0.0.1:"));
  CHECK(assigned);
  CHECK(run.Kill(SIGTERM) == 0);
  CHECK_THAT(run.Log(), Catch::Contains("stopped cleanly"));
}
