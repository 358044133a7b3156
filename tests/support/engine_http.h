// Test helpers: the HTTP port an engine process reports in its log, and a client on it.
#pragma once

#include <httplib.h>
#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "support/process.h"

namespace cwtest {

// Waits for "http: listening on HOST:PORT" in the engine's log; 0 on timeout.
inline int WaitForHttpPort(const Process& engine, int timeout_ms = 20000) {
  static const std::regex kLine(R"(http: listening on [^:\s]+:(\d+))");
  for (int waited = 0; waited < timeout_ms; waited += 50) {
    std::smatch m;
    const std::string log = engine.Log();
    if (std::regex_search(log, m, kLine)) return std::stoi(m[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// A client for the engine's HTTP API, once the engine reports its port; the test fails
// when it reports none in time.
inline httplib::Client HttpClientOf(const Process& engine) {
  const int port = WaitForHttpPort(engine);
  REQUIRE(port > 0);
  return httplib::Client("127.0.0.1", port);
}

// Polls `path` until `ok(response)` or the timeout.
template <typename Ok>
inline httplib::Result PollGet(httplib::Client& c, const std::string& path, Ok ok, int timeout_ms = 30000) {
  for (int waited = 0;; waited += 100) {
    auto r = c.Get(path.c_str());
    if ((r && ok(*r)) || waited >= timeout_ms) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace cwtest
