// The engine's HTTP server settings, on a real server over loopback.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

#include "api/api_server.h"
#include "store/scheduling.h"

using namespace creditwatch;

TEST_CASE("the HTTP server's workers answer with the short slice of latency work", "[integration][api]") {
  uint64_t probe_slice = 0;
  std::thread probe([&] {
    if (store::RunAsLatencyWork()) probe_slice = store::CurrentSliceNs();
  });
  probe.join();
  if (probe_slice == 0) {
    WARN("this kernel keeps the default slice (custom slices need Linux 6.12): nothing to check");
    return;
  }
  const uint64_t default_slice = store::CurrentSliceNs();
  REQUIRE(default_slice != store::kLatencySliceNs);

  httplib::Server server;
  api::ConfigureHttpServer(server);
  server.Get("/slice", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::to_string(store::CurrentSliceNs()), "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread serve([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  httplib::Client c("127.0.0.1", port);
  for (int i = 0; i < 3; ++i) {  // the same keep-alive connection, then new ones
    c.set_keep_alive(i == 0);
    auto r = c.Get("/slice");
    REQUIRE(r);
    CHECK(std::stoull(r->body) == store::kLatencySliceNs);
  }
  server.stop();
  serve.join();
  CHECK(store::CurrentSliceNs() == default_slice);  // the caller's thread is left as it was
}
