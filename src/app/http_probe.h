// HttpProbe: one keep-alive HTTP/1.1 connection that sends GET requests and reads their
// answers with plain blocking socket calls, for the benchmark's lookup load. The load
// shares the machine's cores with the server it measures, so what the client spends is
// taken from the server: a request here costs a send and, usually, one recv, where
// httplib's client polls before each read and write and builds header maps.
// Not thread-safe: one thread per probe.
#pragma once

#include <string>
#include <string_view>

namespace creditwatch::app {

class HttpProbe {
 public:
  HttpProbe(std::string host, int port);
  ~HttpProbe();
  HttpProbe(const HttpProbe&) = delete;
  HttpProbe& operator=(const HttpProbe&) = delete;

  // Sends GET `path` and reads the whole answer. Returns its status code and sets *body
  // when given; -1 when the connection failed or the answer could not be read (the
  // connection is closed and the next call opens a new one). Answers with a
  // Content-Length are understood; chunked ones are not (-1).
  int Get(std::string_view path, std::string* body = nullptr);

  // How many connections this probe has opened.
  int connects() const { return connects_; }

 private:
  bool Connect();
  void Close();

  std::string host_;
  int port_;
  int fd_ = -1;
  int connects_ = 0;
  std::string request_;
  std::string in_;  // bytes read and not yet consumed
};

}  // namespace creditwatch::app
