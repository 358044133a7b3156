#include "api/api_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <pthread.h>

#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "api/action_producer.h"
#include "api/customer_view.h"
#include "api/http_server.h"
#include "creditwatch/v1/events.pb.h"
#include "store/scheduling.h"
#include "store/state_log.h"

namespace creditwatch::api {
namespace {

using nlohmann::json;

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // Ids and parse errors may carry bytes that are not UTF-8: replaced, never a throw.
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void Error(httplib::Response& res, int status, const std::string& message) {
  Reply(res, status, json{{"error", message}});
}

std::string NewEventId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("api-{:016x}{:016x}", rng(), rng());
}

}  // namespace

struct ApiServer::Impl {
  HttpOptions options;
  ApiDeps deps;
  HttpServer server;
  std::unique_ptr<ActionProducer> actions;
  std::thread thread;

  bool Load(const std::string& id, v1::CustomerState* s, httplib::Response& res) {
    bool found = false;
    if (Status st = store::ReadCustomer(*deps.store, *deps.engine, id, s, &found); !st.ok()) {
      Error(res, 500, st.message());
      return false;
    }
    if (!found) {
      Error(res, 404, fmt::format("unknown customer '{}'", id));
      return false;
    }
    return true;
  }

  void Action(const httplib::Request& req, httplib::Response& res, bool hold) {
    if (options.token.empty()) return Error(res, 503, "manual actions are disabled: set http.token");
    if (req.get_header_value("Authorization") != "Bearer " + options.token) {
      res.set_header("WWW-Authenticate", "Bearer");
      return Error(res, 401, "missing or wrong bearer token");
    }
    const std::string id = req.matches[1];
    json body;
    try {
      body = req.body.empty() ? json::object() : json::parse(req.body);
    } catch (const json::parse_error& e) {
      return Error(res, 400, fmt::format("body is not JSON: {}", e.what()));
    }
    if (!body.is_object()) return Error(res, 400, "body must be a JSON object");
    for (const auto& [k, v] : body.items()) {
      if (k != "reason" && k != "until" && k != "by") return Error(res, 400, fmt::format("unknown field '{}'", k));
    }
    if (!body.contains("reason") || !body["reason"].is_string() || body["reason"].get<std::string>().empty()) {
      return Error(res, 400, "field 'reason' (non-empty string) is required");
    }
    if (body.contains("by") && !body["by"].is_string()) return Error(res, 400, "field 'by' must be a string");
    int64_t until = 0;
    const int64_t now = deps.wall_ms();
    if (body.contains("until")) {
      if (!body["until"].is_string() || !ParseIsoTime(body["until"].get<std::string>(), &until)) {
        return Error(res, 400, "field 'until' must be a UTC time like 2026-12-01T00:00:00Z");
      }
      if (until <= now) return Error(res, 400, "field 'until' must be in the future");
    }
    v1::Envelope e;
    e.set_event_id(NewEventId());
    e.set_customer_id(id);
    e.set_event_time_ms(now);
    e.set_source("creditwatch-api");
    const std::string by = body.value("by", "api");
    const std::string reason = body["reason"].get<std::string>();
    if (hold) {
      e.mutable_manual_hold()->set_by(by);
      e.mutable_manual_hold()->set_reason(reason);
      e.mutable_manual_hold()->set_until_ms(until);
    } else {
      e.mutable_manual_release()->set_by(by);
      e.mutable_manual_release()->set_reason(reason);
      e.mutable_manual_release()->set_until_ms(until);
    }
    const ActionDelivery d = actions->Send(options.actions_topic, id, e.SerializeAsString());
    switch (d.outcome) {
      case ActionDelivery::Outcome::kWritten: break;
      case ActionDelivery::Outcome::kNotWritten:
        return Reply(res, 503,
                     json{{"error", fmt::format("the action was not written to {}: {}; nothing changed, retry later",
                                                options.actions_topic, RdKafka::err2str(d.error))},
                          {"written", "no"}});
      case ActionDelivery::Outcome::kUnknown:
        // A hold or release sets the customer's manual state: applying it twice is
        // applying it once, so the caller may retry without asking which case it was.
        spdlog::warn("manual {} for {}: no answer from the broker ({}); it may still be applied",
                     hold ? "hold" : "release", id, RdKafka::err2str(d.error));
        return Reply(
            res, 503,
            json{{"error", fmt::format("no answer from the broker writing the action to {}: {}; it may "
                                       "still be applied. A retry is safe: a repeated {} changes nothing",
                                       options.actions_topic, RdKafka::err2str(d.error), hold ? "hold" : "release")},
                 {"written", "unknown"},
                 {"event_id", e.event_id()}});
    }
    spdlog::info("manual {} for {} by {}: {}", hold ? "hold" : "release", id, by, reason);
    Reply(res, 202,
          json{{"event_id", e.event_id()},
               {"topic", options.actions_topic},
               {"customer_id", id},
               {"action", hold ? "hold" : "release"},
               {"until", IsoTime(until)}});
  }

  void Routes() {
    server.Get(R"(/v1/customers/([^/]+)/block-status)", [this](const httplib::Request& req, httplib::Response& res) {
      const std::string id = req.matches[1];
      store::BlockView view;
      if (deps.board == nullptr || !deps.board->Find(id, &view)) {
        v1::CustomerState s;
        if (!Load(id, &s, res)) return;
        view = store::BlockView::Of(s);
        if (deps.board != nullptr) deps.board->Fill(id, view);
      }
      Reply(res, 200, BlockStatusJson(id, view));
    });
    server.Get(R"(/v1/customers/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
      v1::CustomerState s;
      if (!Load(req.matches[1], &s, res)) return;
      Reply(res, 200, CustomerJson(s, deps.rules->For(s.segment(), s.risk_class()), deps.wall_ms()));
    });
    server.Post(R"(/v1/customers/([^/]+)/hold)",
                [this](const httplib::Request& req, httplib::Response& res) { Action(req, res, true); });
    server.Post(R"(/v1/customers/([^/]+)/release)",
                [this](const httplib::Request& req, httplib::Response& res) { Action(req, res, false); });
    server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(deps.metrics->Serialize(), "text/plain; version=0.0.4");
    });
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      Reply(res, 200, {{"status", "ok"}});
    });
    server.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
      const bool ready = deps.ready();
      const bool broker = deps.broker_reachable();
      Reply(res, ready && broker ? 200 : 503,
            json{{"ready", ready && broker}, {"partitions_assigned", ready}, {"broker_reachable", broker}});
    });
    server.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (res.body.empty()) Error(res, res.status, res.status == 404 ? "no such endpoint" : "request failed");
    });
  }
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ApiServer::~ApiServer() { Stop(); }

void ApiServer::Stop() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Status ApiServer::Start(const HttpOptions& options, ApiDeps deps, std::unique_ptr<ApiServer>* out) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->deps = std::move(deps);
  if (Status st = ActionProducer::Create(impl->deps.kafka, &impl->actions); !st.ok()) return st;
  const auto colon = options.listen.rfind(':');
  if (colon == std::string::npos)
    return Status::Error(fmt::format("http.listen '{}': expected host:port", options.listen));
  const std::string host = options.listen.substr(0, colon);
  int port = 0;
  try {
    port = std::stoi(options.listen.substr(colon + 1));
  } catch (const std::exception&) {
    return Status::Error(fmt::format("http.listen '{}': bad port", options.listen));
  }
  impl->Routes();
  if (port == 0) {
    port = impl->server.bind_to_any_port(host);
  } else if (!impl->server.bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) return Status::Error(fmt::format("http.listen '{}': cannot bind", options.listen));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), "cw-http-accept");
    if (!store::RunAsLatencyWork()) {
      spdlog::info(
          "http: the kernel keeps the default time slice (short slices need Linux 6.12); lookups "
          "wait longer while the engine's threads hold the cores");
    }
    raw->server.listen_after_bind();
  });
  std::unique_ptr<ApiServer> s(new ApiServer(std::move(impl)));
  s->port_ = port;
  *out = std::move(s);
  return Status::Ok();
}

}  // namespace creditwatch::api
