// ApiServer: the HTTP interface for order systems, credit managers and SRE: block-status
// and customer lookups (read from the engine's committed state in RocksDB while it
// consumes), manual hold/release (written as events to the actions topic, so the log
// stays the source of truth), /metrics, /healthz and /readyz. Thread-safe: requests
// are served on the server's own threads.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/credit_engine.h"
#include "core/rules_config.h"
#include "core/status.h"
#include "obs/engine_metrics.h"
#include "store/credit_store.h"
#include "store/status_board.h"

namespace creditwatch::api {

struct HttpOptions {
  std::string listen = "0.0.0.0:8080";  // Default: all interfaces, port 8080 (port 0 = any free port)
  std::string token;                    // bearer token for POST actions; empty = actions disabled
  std::string actions_topic;            // Default: the first input topic
};

struct ApiDeps {
  const store::CreditStore* store = nullptr;
  store::StatusBoard* board = nullptr;  // block statuses in memory; null: read RocksDB
  const core::RulesConfig* rules = nullptr;
  const core::CreditEngine* engine = nullptr;  // replays a stored state's logged steps
  obs::EngineMetrics* metrics = nullptr;
  std::function<bool()> ready;             // partitions assigned and state ready
  std::function<bool()> broker_reachable;  // the brokers answer
  std::function<int64_t()> wall_ms;
  std::map<std::string, std::string> kafka;  // producer properties for actions
};

class ApiServer {
 public:
  // Binds and starts serving on a background thread.
  static Status Start(const HttpOptions& options, ApiDeps deps, std::unique_ptr<ApiServer>* out);
  ~ApiServer();
  int port() const { return port_; }
  void Stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace creditwatch::api
