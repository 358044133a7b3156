// The engine's HTTP server settings, on a real server over loopback.
#include <httplib.h>
#include <pthread.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "api/api_server.h"
#include "store/scheduling.h"
#include "support/kernel.h"

using namespace creditwatch;

TEST_CASE("the HTTP server's workers are named and answer with the short slice of latency work", "[integration][api]") {
  uint64_t probe_slice = 0;
  std::thread probe([&] {
    if (store::RunAsLatencyWork()) probe_slice = store::CurrentSliceNs();
  });
  probe.join();
  const bool slices = cwtest::KernelHasCustomSlices();
  if (slices) {
    REQUIRE(probe_slice == store::kLatencySliceNs);
  } else {
    WARN("this kernel keeps the default slice (custom slices need Linux 6.12): slices not checked");
  }
  const uint64_t default_slice = store::CurrentSliceNs();

  httplib::Server server;
  api::ConfigureHttpServer(server);
  server.Get("/slice", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::to_string(store::CurrentSliceNs()), "text/plain");
  });
  server.Get("/name", [](const httplib::Request&, httplib::Response& res) {
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    res.set_content(name, "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serve([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  httplib::Client c("127.0.0.1", port);

  auto named = c.Get("/name");  // as top -H and perf show the workers
  REQUIRE(named);
  CHECK(named->body == "cw-http");
  if (slices) {
    REQUIRE(default_slice != store::kLatencySliceNs);
    for (int i = 0; i < 3; ++i) {  // the same keep-alive connection, then new ones
      c.set_keep_alive(i == 0);
      auto r = c.Get("/slice");
      REQUIRE(r);
      CHECK(std::stoull(r->body) == store::kLatencySliceNs);
    }
  }
  server.stop();
  serve.join();
  CHECK(store::CurrentSliceNs() == default_slice);  // the caller's thread is left as it was
}
