#include "app/commands.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "api/api_server.h"
#include "core/credit_engine.h"
#include "obs/engine_metrics.h"
#include "store/credit_store.h"
#include "stream/embedded_broker.h"
#include "stream/stream_engine.h"

namespace creditwatch::app {
namespace {

std::atomic<bool>* g_stop_flag = nullptr;
extern "C" void OnStopSignal(int) {
  if (g_stop_flag != nullptr) g_stop_flag->store(true);
}

}  // namespace

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

api::ApiDeps EngineApiDeps(const store::CreditStore& store, const core::CreditEngine& engine,
                           obs::EngineMetrics& metrics, stream::StreamEngine& loop,
                           const std::map<std::string, std::string>& kafka) {
  api::ApiDeps deps;
  deps.store = &store;
  deps.board = &loop.board();
  deps.rules = &engine.config();
  deps.engine = &engine;
  deps.metrics = &metrics;
  deps.ready = [&loop] { return loop.Ready(); };
  deps.broker_reachable = [&loop] { return loop.BrokerReachable(); };
  deps.wall_ms = WallMs;
  deps.kafka = kafka;
  return deps;
}

void StopOnSignals(std::atomic<bool>* flag) {
  g_stop_flag = flag;
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int RunEngine(const config::AppConfig& cfg_in, const std::atomic<bool>& stop) {
  config::AppConfig cfg = cfg_in;
  std::unique_ptr<stream::EmbeddedBroker> broker;
  if (cfg.embedded_broker()) {
    if (Status st = stream::EmbeddedBroker::Start(cfg.broker, &broker); !st.ok()) {
      spdlog::error("{}", st.message());
      return 2;
    }
    stream::ConnectToEmbeddedBroker(*broker, &cfg.stream);
    spdlog::warn(
        "no kafka.bootstrap.servers configured: started an embedded broker at {} ({} partitions per topic, about "
        "5 MiB each, in memory only): for trials, not for production",
        broker->bootstraps(), cfg.broker.partitions);
  }
  std::unique_ptr<store::CreditStore> store;
  if (Status st = store::CreditStore::Open(cfg.store, &store); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  const core::CreditEngine engine(cfg.rules);
  obs::EngineMetrics metrics;
  stream::StreamEngine loop(cfg.stream, engine, *store, metrics, WallMs);
  if (Status st = loop.Start(); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  const api::ApiDeps deps = EngineApiDeps(*store, engine, metrics, loop, cfg.stream.kafka);
  std::unique_ptr<api::ApiServer> http;
  if (Status st = api::ApiServer::Start(cfg.http, deps, &http); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  const std::string host = cfg.http.listen.substr(0, cfg.http.listen.rfind(':'));
  spdlog::info("http: listening on {}:{} (/v1/customers/{{id}}/block-status, /metrics, /healthz, /readyz)", host,
               http->port());
  spdlog::info("engine started: data in {}", cfg.store.data_dir);
  Status st = loop.Run(stop);
  http->Stop();
  if (!st.ok()) {
    spdlog::error("engine stopped: {}", st.message());
    return 1;
  }
  return 0;
}

int RunBroker(const config::AppConfig& cfg, const std::string& bootstrap_file, const std::atomic<bool>& stop) {
  std::unique_ptr<stream::EmbeddedBroker> broker;
  if (Status st = stream::EmbeddedBroker::Start(cfg.broker, &broker); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  if (!bootstrap_file.empty()) {
    // Write then rename, so a reader never sees a partial line.
    const std::string tmp = bootstrap_file + ".tmp";
    {
      std::ofstream out(tmp);
      out << broker->bootstraps() << "\n";
      if (!out) {
        spdlog::error("cannot write {}", tmp);
        return 2;
      }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, bootstrap_file, ec);
    if (ec) {
      spdlog::error("cannot write {}: {}", bootstrap_file, ec.message());
      return 2;
    }
  }
  fmt::print("{}\n", broker->bootstraps());
  std::fflush(stdout);
  spdlog::info("embedded broker at {}: topics {} with {} partitions each", broker->bootstraps(),
               fmt::join(cfg.broker.topics, ", "), cfg.broker.partitions);
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  spdlog::info("embedded broker stopping");
  return 0;
}

}  // namespace creditwatch::app
