// The long-running subcommands. Each returns the process exit code:
// 0 clean stop, 1 runtime failure, 2 bad configuration or start-up failure.
#pragma once

#include <atomic>
#include <string>

#include "api/api_server.h"
#include "config/app_config.h"
#include "core/credit_engine.h"
#include "obs/engine_metrics.h"
#include "store/credit_store.h"
#include "stream/stream_engine.h"

namespace creditwatch::app {

// The wall clock in epoch milliseconds: the one clock the engine and the API are given.
int64_t WallMs();

// What the HTTP API needs from an engine running in this process.
api::ApiDeps EngineApiDeps(const store::CreditStore& store, const core::CreditEngine& engine,
                           obs::EngineMetrics& metrics, stream::StreamEngine& loop,
                           const std::map<std::string, std::string>& kafka);

// Sets `flag` on SIGINT and SIGTERM.
void StopOnSignals(std::atomic<bool>* flag);

// `creditwatch run`: the engine. Starts an embedded broker in-process when the config
// names no bootstrap.servers.
int RunEngine(const config::AppConfig& cfg, const std::atomic<bool>& stop);

// `creditwatch broker`: hosts the embedded broker until signalled; prints the bootstrap
// string to stdout and, when `bootstrap_file` is set, writes it there.
int RunBroker(const config::AppConfig& cfg, const std::string& bootstrap_file, const std::atomic<bool>& stop);

}  // namespace creditwatch::app
