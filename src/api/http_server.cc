#include "api/http_server.h"

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>

#include "store/scheduling.h"

namespace creditwatch::api {
namespace {

constexpr size_t kMaxRequestBytes = 64 * 1024;
// How often a connection waiting for its next request looks whether the server stops.
constexpr int kStopCheckMs = 100;

// httplib's pool, its workers marked as latency work: a lookup that arrives while the
// engine's threads hold both cores is answered at once, not after a busy thread's slice.
class LatencyThreadPool : public httplib::ThreadPool {
 public:
  using httplib::ThreadPool::ThreadPool;
  void enqueue(std::function<void()> fn) override {
    httplib::ThreadPool::enqueue([fn = std::move(fn)] {
      thread_local const bool marked = [] {
        pthread_setname_np(pthread_self(), "cw-http");  // as top -H and perf show it
        return store::RunAsLatencyWork();
      }();
      static_cast<void>(marked);
      fn();
    });
  }
};

// An end of a connection, asked of the kernel once: httplib asks for both on every
// request.
class Endpoint {
 public:
  explicit Endpoint(bool peer) : peer_(peer) {}
  void Get(int sock, std::string& ip, int& port) {
    if (!known_) Look(sock);
    ip = ip_;
    port = port_;
  }

 private:
  void Look(int sock) {
    known_ = true;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    auto* a = reinterpret_cast<sockaddr*>(&addr);
    if ((peer_ ? getpeername(sock, a, &len) : getsockname(sock, a, &len)) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
      inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
      port_ = ntohs(in->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      const auto* in = reinterpret_cast<const sockaddr_in6*>(&addr);
      inet_ntop(AF_INET6, &in->sin6_addr, text, sizeof text);
      port_ = ntohs(in->sin6_port);
    }
    ip_ = text;
  }

  bool peer_;
  bool known_ = false;
  std::string ip_;
  int port_ = 0;
};

// One connection, for httplib's request parser and response writer. Reads go through a
// buffer (the parser takes a request line a byte at a time); a response's writes are
// gathered and sent by Flush(), or before the next read that has to wait for the client
// (an interim "100 Continue" goes out before its body is read).
class ConnectionStream final : public httplib::Stream {
 public:
  explicit ConnectionStream(int sock) : sock_(sock) {}

  bool is_readable() const override {
    if (in_pos_ < in_len_) return true;
    pollfd p{sock_, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  }
  bool is_writable() const override { return ok_; }

  ssize_t read(char* ptr, size_t size) override {
    if (in_pos_ == in_len_) {
      if (!out_.empty() && !Flush()) return -1;
      in_pos_ = in_len_ = 0;
      ssize_t n;
      do {
        n = ::recv(sock_, in_, sizeof in_, 0);  // the receive timeout set at accept bounds the wait
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      in_len_ = static_cast<size_t>(n);
    }
    const size_t n = std::min(size, in_len_ - in_pos_);
    std::memcpy(ptr, in_ + in_pos_, n);
    in_pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!ok_) return -1;
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { peer_.Get(sock_, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { local_.Get(sock_, ip, port); }
  socket_t socket() const override { return sock_; }

  // Sends what the response wrote, in one call unless the socket takes less. False when
  // the connection failed (the send timeout set at accept bounds a stalled client).
  bool Flush() {
    size_t sent = 0;
    while (ok_ && sent < out_.size()) {
      const ssize_t n = ::send(sock_, out_.data() + sent, out_.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) ok_ = false;
      if (n > 0) sent += static_cast<size_t>(n);
    }
    out_.clear();
    return ok_;
  }

  // Waits until the next request's bytes arrive, the client closes (readable too, then
  // read() says so), `timeout_ms` passes or `stop()` turns true. True when readable.
  template <typename Stop>
  bool AwaitRequest(int timeout_ms, Stop stop) {
    if (in_pos_ < in_len_) return true;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!stop()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{sock_, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), kStopCheckMs)));
      if (rc > 0) return true;
      if (rc < 0 && errno != EINTR) return false;
    }
    return false;
  }

 private:
  int sock_;
  char in_[CPPHTTPLIB_RECV_BUFSIZ];
  size_t in_pos_ = 0;
  size_t in_len_ = 0;
  std::string out_;
  bool ok_ = true;
  mutable Endpoint peer_{true};
  mutable Endpoint local_{false};
};

}  // namespace

HttpServer::HttpServer() {
  // A keep-alive connection holds a worker while open: room for an order system's
  // connection pool, Prometheus and operators at once.
  new_task_queue = [] { return new LatencyThreadPool(32); };
  // httplib closes a keep-alive connection after 5 requests by default: at thousands of
  // lookups/s the reconnects overflow its listen backlog and SYN retries cost a second.
  set_keep_alive_max_count(100000);
  set_tcp_nodelay(true);  // small responses on keep-alive connections: no delayed-ACK stalls
  // A hold or release is a few hundred bytes: anything far larger is refused (413) before
  // it is read, and cannot fill the engine's memory.
  set_payload_max_length(kMaxRequestBytes);
}

bool HttpServer::process_and_close_socket(socket_t sock) {
  ConnectionStream stream(sock);
  bool ok = false;
  const int idle_ms = static_cast<int>(keep_alive_timeout_sec_ * 1000);
  auto stopped = [this] { return svr_sock_ == INVALID_SOCKET; };
  for (size_t left = keep_alive_max_count_; left > 0 && !stopped(); --left) {
    if (!stream.AwaitRequest(idle_ms, stopped)) break;
    bool closed = false;
    ok = process_request(stream, /*close_connection=*/left == 1, closed, nullptr);
    ok = stream.Flush() && ok;
    if (!ok || closed) break;
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace creditwatch::api
