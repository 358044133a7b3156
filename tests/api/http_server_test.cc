// The engine's HTTP server (its settings and its own connection loop), on a real server
// over loopback.
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "api/http_server.h"
#include "store/scheduling.h"
#include "support/kernel.h"

using namespace creditwatch;

namespace {

// A server on a free loopback port, serving until destroyed (or stopped).
struct Served {
  api::HttpServer server;
  int port = 0;
  std::thread thread;
  Served() {
    server.Get("/v1/customers/([^/]+)/block-status", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(R"({"customer_id":")" + req.matches[1].str() + R"(","status":"CLEAR"})", "application/json");
    });
    server.Post("/echo",
                [](const httplib::Request& req, httplib::Response& res) { res.set_content(req.body, "text/plain"); });
    port = server.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~Served() {
    server.stop();
    thread.join();
  }
};

// A plain client socket, to see what goes over the wire.
struct RawClient {
  int fd = -1;
  explicit RawClient(int port) {
    fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawClient() { close(fd); }
  void Send(const std::string& s) const {
    REQUIRE(send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()));
  }
  // Reads until `marker` has arrived (and `extra` bytes after it), or `timeout_ms` passes.
  std::string ReadUntil(const std::string& marker, size_t extra, int timeout_ms) const {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      const size_t at = got.find(marker);
      if (at != std::string::npos && got.size() >= at + marker.size() + extra) return got;
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      pollfd p{fd, POLLIN, 0};
      if (left <= 0 || poll(&p, 1, static_cast<int>(left)) <= 0) return got;
      char buf[4096];
      const ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return got;
      got.append(buf, static_cast<size_t>(n));
    }
  }
  // Segments with data this socket has received: Linux's TCP_INFO, whose fields past
  // glibc's struct tcp_info (the kernel only ever appends) are laid out here.
  uint32_t DataSegmentsIn() const {
    struct {
      tcp_info base;
      uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
      uint32_t segs_out, segs_in, notsent_bytes, min_rtt, data_segs_in;
    } info{};
    socklen_t len = sizeof info;
    REQUIRE(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0);
    REQUIRE(len >= sizeof info);
    return info.data_segs_in;
  }
};

}  // namespace

TEST_CASE("the HTTP server sends each response in one piece over a kept-alive connection", "[integration][api]") {
  Served s;
  RawClient c(s.port);
  const std::string request = "GET /v1/customers/C-1/block-status HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    const uint32_t before = c.DataSegmentsIn();
    c.Send(request);
    const std::string response = c.ReadUntil(R"("status":"CLEAR"})", 0, 5000);
    REQUIRE(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
    CHECK(response.find(R"({"customer_id":"C-1","status":"CLEAR"})") != std::string::npos);
    // Headers and body in one send: one segment on loopback. httplib's own connection
    // loop sent them in two.
    CHECK(c.DataSegmentsIn() - before == 1);
  }
}

TEST_CASE("the HTTP server answers Expect: 100-continue before the body is sent", "[integration][api]") {
  Served s;
  RawClient c(s.port);
  c.Send(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
      "Expect: 100-continue\r\n\r\n");
  // The interim answer must not wait in the server for the response it precedes.
  CHECK(c.ReadUntil("HTTP/1.1 100 Continue\r\n\r\n", 0, 2000).rfind("HTTP/1.1 100 Continue", 0) == 0);
  c.Send("hello");
  const std::string response = c.ReadUntil("\r\n\r\n", 5, 5000);
  CHECK(response.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(response.substr(response.size() - 5) == "hello");
}

TEST_CASE("the HTTP server stops promptly while a kept-alive connection waits", "[integration][api]") {
  auto s = std::make_unique<Served>();
  RawClient c(s->port);
  c.Send("GET /v1/customers/C-2/block-status HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(c.ReadUntil(R"("status":"CLEAR"})", 0, 5000).find("C-2") != std::string::npos);
  // The connection now waits for its next request (up to the 5 s keep-alive timeout);
  // stopping must not wait that long.
  const auto t0 = std::chrono::steady_clock::now();
  s.reset();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
  CHECK(c.ReadUntil("x", 0, 1000).empty());  // closed by the server
}

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

  api::HttpServer server;
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
