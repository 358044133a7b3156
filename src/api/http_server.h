// HttpServer: cpp-httplib's server with the engine's settings, and a leaner way of
// serving each connection. httplib's own connection loop made eleven system calls per
// keep-alive request: a poll before every read and every write, the response's headers
// and body in two sends (two segments for the client to take), the peer's and the
// local address looked up again for every request, and between requests a 10 ms poll
// followed by a 1 ms sleep, over and over, for every idle connection. On loopback most
// of a lookup's CPU time is those calls. This server's connections read straight from
// the socket (its receive timeout is set at accept), send a response in one call, look
// the addresses up once, and wait for the next request in one poll. Requests are still
// parsed, routed and answered by httplib. Thread-safe as httplib::Server.
#pragma once

#include <httplib.h>

namespace creditwatch::api {

class HttpServer : public httplib::Server {
 public:
  // Workers marked as latency work, keep-alive for order systems' connection pools, no
  // Nagle delay, a bound on request bodies.
  HttpServer();

 private:
  bool process_and_close_socket(socket_t sock) override;
};

}  // namespace creditwatch::api
