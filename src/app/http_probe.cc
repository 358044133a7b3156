#include "app/http_probe.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>

namespace creditwatch::app {
namespace {

bool EqualsNoCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

struct Head {
  int status = -1;
  size_t content_length = 0;
  bool close = false;
  bool chunked = false;
};

// The status line and the headers this probe needs; status -1 when malformed.
Head ParseHead(std::string_view head) {
  Head h;
  const size_t eol = head.find("\r\n");
  const std::string_view status_line = head.substr(0, eol);
  if (status_line.size() < 12 || status_line.substr(0, 5) != "HTTP/") return h;
  const size_t sp = status_line.find(' ');
  if (sp == std::string_view::npos) return h;
  int status = 0;
  const char* digits = status_line.data() + sp + 1;
  if (std::from_chars(digits, status_line.data() + status_line.size(), status).ec != std::errc{}) return h;
  for (size_t pos = eol == std::string_view::npos ? head.size() : eol + 2; pos < head.size();) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string_view::npos) end = head.size();
    const std::string_view line = head.substr(pos, end - pos);
    pos = end + 2;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = Trim(line.substr(colon + 1));
    if (EqualsNoCase(name, "content-length")) {
      if (std::from_chars(value.data(), value.data() + value.size(), h.content_length).ec != std::errc{}) return h;
    } else if (EqualsNoCase(name, "connection")) {
      h.close = EqualsNoCase(value, "close");
    } else if (EqualsNoCase(name, "transfer-encoding")) {
      h.chunked = !EqualsNoCase(value, "identity");
    }
  }
  h.status = status;
  return h;
}

}  // namespace

HttpProbe::HttpProbe(std::string host, int port) : host_(std::move(host)), port_(port) {}

HttpProbe::~HttpProbe() { Close(); }

bool HttpProbe::Connect() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host_.c_str(), std::to_string(port_).c_str(), &hints, &found) != 0) return false;
  for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
    fd_ = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_ < 0) continue;
    if (connect(fd_, a->ai_addr, a->ai_addrlen) != 0) Close();
  }
  freeaddrinfo(found);
  if (fd_ < 0) return false;
  const int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  in_.clear();
  ++connects_;
  return true;
}

void HttpProbe::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int HttpProbe::Get(std::string_view path, std::string* body) {
  if (fd_ < 0 && !Connect()) return -1;
  request_.assign("GET ").append(path).append(" HTTP/1.1\r\nHost: ").append(host_).append("\r\n\r\n");
  for (size_t sent = 0; sent < request_.size();) {
    const ssize_t n = ::send(fd_, request_.data() + sent, request_.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      Close();
      return -1;
    }
    sent += static_cast<size_t>(n);
  }
  // Read until the head is complete, then until the body is.
  size_t head_end = std::string::npos;
  Head head;
  char chunk[16384];
  while (true) {
    if (head_end == std::string::npos) {
      head_end = in_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        head = ParseHead(std::string_view(in_).substr(0, head_end));
        if (head.status < 0 || head.chunked) {
          Close();
          return -1;
        }
      }
    }
    if (head_end != std::string::npos && in_.size() >= head_end + 4 + head.content_length) break;
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      Close();
      return -1;
    }
    in_.append(chunk, static_cast<size_t>(n));
  }
  const size_t end = head_end + 4 + head.content_length;
  if (body != nullptr) body->assign(in_, head_end + 4, head.content_length);
  in_.erase(0, end);
  if (head.close) Close();
  return head.status;
}

}  // namespace creditwatch::app
