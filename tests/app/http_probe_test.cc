// The benchmark's lean HTTP client against a real httplib server over loopback.
#include "app/http_probe.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <string>
#include <thread>

using creditwatch::app::HttpProbe;

namespace {

struct Server {
  httplib::Server http;
  std::thread thread;
  int port = 0;

  Server() {
    http.set_keep_alive_max_count(1000);  // httplib closes a connection after 5 requests by default
    http.set_tcp_nodelay(true);           // as the engine's server: no delayed ACK per answer
    http.Get("/hello", [](const httplib::Request&, httplib::Response& res) { res.set_content("hi", "text/plain"); });
    http.Get("/big", [](const httplib::Request&, httplib::Response& res) {
      std::string body(100000, 'x');
      body.back() = 'y';
      res.set_content(body, "text/plain");
    });
    http.Get("/bye", [](const httplib::Request&, httplib::Response& res) {
      res.set_header("Connection", "close");
      res.set_content("bye", "text/plain");
    });
    http.Get("/chunked", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/plain", [](size_t, httplib::DataSink& sink) {
        sink.write("abc", 3);
        sink.done();
        return true;
      });
    });
    http.Get("/echo-host", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.get_header_value("Host"), "text/plain");
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { http.listen_after_bind(); });
  }
  ~Server() {
    http.stop();
    thread.join();
  }
};

}  // namespace

TEST_CASE("HttpProbe reads status and body over one kept-alive connection", "[integration][app]") {
  Server server;
  REQUIRE(server.port > 0);
  HttpProbe probe("127.0.0.1", server.port);
  std::string body;
  for (int i = 0; i < 50; ++i) {
    REQUIRE(probe.Get("/hello", &body) == 200);
    REQUIRE(body == "hi");
    REQUIRE(probe.Get("/missing", &body) == 404);
  }
  REQUIRE(probe.Get("/echo-host", &body) == 200);
  CHECK(body == "127.0.0.1");
  CHECK(probe.connects() == 1);
}

TEST_CASE("HttpProbe reads a body that takes several reads", "[integration][app]") {
  Server server;
  HttpProbe probe("127.0.0.1", server.port);
  std::string body;
  REQUIRE(probe.Get("/big", &body) == 200);
  REQUIRE(body.size() == 100000);
  CHECK(body.back() == 'y');
  REQUIRE(probe.Get("/hello", &body) == 200);  // nothing of the large answer is left over
  CHECK(body == "hi");
  CHECK(probe.connects() == 1);
}

TEST_CASE("HttpProbe opens a new connection after the server closes one", "[integration][app]") {
  Server server;
  HttpProbe probe("127.0.0.1", server.port);
  std::string body;
  REQUIRE(probe.Get("/bye", &body) == 200);
  CHECK(body == "bye");
  REQUIRE(probe.Get("/hello", &body) == 200);
  CHECK(body == "hi");
  CHECK(probe.connects() == 2);
}

TEST_CASE("HttpProbe reports what it cannot read as a failure, not a crash", "[integration][app]") {
  int port = 0;
  {
    Server server;
    port = server.port;
    HttpProbe probe("127.0.0.1", port);
    CHECK(probe.Get("/chunked") == -1);  // chunked answers are not understood
    CHECK(probe.Get("/hello") == 200);   // and the next request works on a new connection
    CHECK(probe.connects() == 2);
  }
  HttpProbe probe("127.0.0.1", port);  // nothing listens there any more
  CHECK(probe.Get("/hello") == -1);
  CHECK(probe.connects() == 0);
}
