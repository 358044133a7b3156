#include "app/demo_command.h"

#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "api/api_server.h"
#include "api/customer_view.h"
#include "app/commands.h"
#include "app/gen_command.h"
#include "config/app_config.h"
#include "core/credit_engine.h"
#include "obs/engine_metrics.h"
#include "store/credit_store.h"
#include "stream/embedded_broker.h"
#include "stream/stream_engine.h"

namespace creditwatch::app {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// Counts error-level log lines, so the demo can say whether anything went wrong.
class ErrorCounter : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::atomic<int> errors{0};

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (msg.level >= spdlog::level::err) ++errors;
  }
  void flush_() override {}
};

std::string Thousands(double v) {
  std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && i % 3 == lead) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// What the view shows of the output topics: the latest alerts and hold transitions.
class OutputWatch {
 public:
  Status Start(const std::string& bootstrap, const config::AppConfig& cfg, int partitions) {
    std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
    std::string err;
    conf->set("bootstrap.servers", bootstrap, err);
    conf->set("group.id", "creditwatch-demo-view", err);
    conf->set("enable.auto.commit", "false", err);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) return Status::Error(err);
    alerts_topic_ = cfg.stream.topics.alerts;
    std::vector<RdKafka::TopicPartition*> tps;
    for (const auto* t : {&cfg.stream.topics.alerts, &cfg.stream.topics.block_status}) {
      for (int p = 0; p < partitions; ++p) {
        tps.push_back(RdKafka::TopicPartition::create(*t, p, RdKafka::Topic::OFFSET_BEGINNING));
      }
    }
    consumer_->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (consumer_) consumer_->close();
  }
  std::vector<std::string> TakeNew(size_t max) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    while (!fresh_.empty() && out.size() < max) {
      out.push_back(fresh_.front());
      fresh_.pop_front();
    }
    fresh_.clear();
    return out;
  }
  std::vector<std::string> Latest() {
    std::lock_guard<std::mutex> lock(mu_);
    return {latest_.begin(), latest_.end()};
  }
  std::atomic<int64_t> holds_placed{0};
  std::atomic<int64_t> holds_released{0};

 private:
  void Loop() {
    while (!stop_.load()) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      if (m->topic_name() == alerts_topic_) {
        v1::Alert a;
        if (!a.ParseFromArray(m->payload(), static_cast<int>(m->len()))) continue;
        std::lock_guard<std::mutex> lock(mu_);
        latest_.push_back(a.summary());
        fresh_.push_back(a.summary());
        if (latest_.size() > 8) latest_.pop_front();
        if (fresh_.size() > 50) fresh_.pop_front();
      } else {
        v1::BlockStatus b;
        if (!b.ParseFromArray(m->payload(), static_cast<int>(m->len()))) continue;
        // A change between clear and hold counts; a held customer's reasons changing
        // sends a status too.
        const bool hold = b.status() == v1::BlockStatus::HOLD;
        bool& was = on_hold_[b.customer_id()];
        if (hold && !was) ++holds_placed;
        if (!hold && was) ++holds_released;
        was = hold;
      }
    }
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::string alerts_topic_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::deque<std::string> latest_;
  std::deque<std::string> fresh_;
  std::unordered_map<std::string, bool> on_hold_;  // by customer; the consuming thread's own
};

const std::vector<std::string>& RuleNames() {
  static const std::vector<std::string> kRules = [] {
    std::vector<std::string> r;
    for (int i = 1; i <= v1::Rule_MAX; ++i) r.push_back(v1::Rule_Name(static_cast<v1::Rule>(i)));
    return r;
  }();
  return kRules;
}

}  // namespace

int RunDemo(const DemoOptions& o, const std::atomic<bool>& stop) {
  auto counter = std::make_shared<ErrorCounter>();
  auto console = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  console->set_level(spdlog::level::warn);
  auto logger = std::make_shared<spdlog::logger>("creditwatch", spdlog::sinks_init_list{console, counter});
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::warn);

  const bool tty = !o.plain && isatty(STDOUT_FILENO) != 0;
  std::string data_dir = o.data_dir;
  bool remove_dir = false;
  if (data_dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "creditwatch-demo-XXXXXX").string();
    data_dir = mkdtemp(tmpl.data());
    remove_dir = true;
  }

  config::AppConfig cfg;
  if (Status st = config::ParseConfig("", &cfg); !st.ok()) return 2;
  cfg.broker.partitions = o.partitions;
  std::unique_ptr<stream::EmbeddedBroker> broker;
  if (Status st = stream::EmbeddedBroker::Start(cfg.broker, &broker); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  stream::ConnectToEmbeddedBroker(*broker, &cfg.stream);
  cfg.stream.time_mode = stream::TimeMode::kEventTime;
  cfg.stream.max_future_skew_ms = 100 * 365 * kDayMs;  // simulated time runs ahead of the clock
  cfg.store.data_dir = data_dir;
  cfg.store.block_cache_bytes = 64ull << 20;

  auto store = std::make_unique<std::unique_ptr<store::CreditStore>>();
  if (Status st = store::CreditStore::Open(cfg.store, store.get()); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  const core::CreditEngine engine(cfg.rules);
  obs::EngineMetrics metrics;
  stream::StreamEngine loop(cfg.stream, engine, **store, metrics, WallMs);
  if (Status st = loop.Start(); !st.ok()) {
    spdlog::error("{}", st.message());
    return 2;
  }
  const api::ApiDeps deps = EngineApiDeps(**store, engine, metrics, loop, cfg.stream.kafka);
  std::unique_ptr<api::ApiServer> http;
  api::HttpOptions http_opts = cfg.http;
  http_opts.listen = o.http;
  if (!api::ApiServer::Start(http_opts, deps, &http).ok()) {
    http_opts.listen = o.http.substr(0, o.http.rfind(':')) + ":0";
    if (Status st = api::ApiServer::Start(http_opts, deps, &http); !st.ok()) {
      spdlog::error("{}", st.message());
      return 2;
    }
  }
  const std::string base_url = fmt::format("http://{}:{}", o.http.substr(0, o.http.rfind(':')), http->port());

  std::atomic<bool> stop_engine{false};
  Status engine_status;
  std::thread engine_thread([&] { engine_status = loop.Run(stop_engine); });

  // The generator: history as fast as possible, then a steady rate.
  std::atomic<bool> stop_gen{false};
  std::atomic<int64_t> produced{0};
  std::atomic<bool> history_done{false};
  const int64_t now0 = WallMs();
  std::thread gen_thread([&] {
    KafkaPublisher pub;
    if (Status st = pub.Open(broker->bootstraps()); !st.ok()) {
      spdlog::error("demo generator: {}", st.message());
      return;
    }
    workload::WorkloadOptions wo;
    wo.seed = o.seed;
    wo.customers = o.customers;
    wo.id_prefix = "ACME";
    wo.start_ms = now0 - int64_t{o.history_days} * kDayMs;
    workload::WorkloadGenerator gen(wo);
    v1::Envelope e;
    std::chrono::steady_clock::time_point live_start;
    int64_t live_n = 0;
    while (!stop_gen.load()) {
      if (!history_done.load() && gen.PeekTime() >= now0) {
        history_done = true;
        live_start = std::chrono::steady_clock::now();
      }
      if (history_done.load() && o.rate > 0) {
        std::this_thread::sleep_until(
            live_start + std::chrono::microseconds(static_cast<int64_t>(static_cast<double>(live_n++) * 1e6 / o.rate)));
      }
      gen.Next(&e);
      if (Status st = pub.Publish(cfg.stream.topics.inputs.front(), e); !st.ok()) {
        spdlog::error("demo generator: {}", st.message());
        return;
      }
      ++produced;
    }
    (void)pub.Flush(5000);
  });

  OutputWatch watch;
  if (Status st = watch.Start(broker->bootstraps(), cfg, o.partitions); !st.ok()) spdlog::error("{}", st.message());

  if (!tty) {
    fmt::print("creditwatch demo: {} customers, {} days of history, then {} events/s of simulated time\n", o.customers,
               o.history_days, o.rate);
    fmt::print("metrics: {}/metrics  API: {}/v1/customers/ACME-000001  broker: {}\n", base_url, base_url,
               broker->bootstraps());
  }
  const auto t0 = std::chrono::steady_clock::now();
  double last_in = 0;
  double last_out = 0;
  auto render = [&](bool final_view) {
    const double in = metrics.Sum("creditwatch_events_consumed_total");
    const double out = metrics.Sum("creditwatch_outputs_produced_total");
    const double in_rate = in - last_in;
    const double out_rate = out - last_out;
    last_in = in;
    last_out = out;
    // Every record read counts as consumed but an undecodable one (dead-lettered only).
    const double lag = static_cast<double>(produced.load()) - in -
                       metrics.Sum("creditwatch_dead_letters_total", "reason", "UNDECODABLE");
    const auto sim_ms = static_cast<int64_t>(metrics.Sum("creditwatch_last_event_timestamp_seconds") * 1000);
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - t0);
    const double held = metrics.Sum("creditwatch_orders_total", "decision", "HELD");
    const double released = metrics.Sum("creditwatch_orders_total", "decision", "RELEASED");
    const double approved = metrics.Sum("creditwatch_orders_total", "decision", "APPROVED");
    const double on_hold = metrics.Sum("creditwatch_customers_on_hold");
    if (!tty && !final_view) {
      fmt::print("t={}s in={}/s out={}/s lag={} sim={} alerts={} on_hold={} orders approved={} held={} released={}\n",
                 elapsed.count(), Thousands(in_rate), Thousands(out_rate), Thousands(std::max(lag, 0.0)),
                 api::IsoTime(sim_ms).substr(0, 10),
                 Thousands(metrics.Sum("creditwatch_alerts_fired_total", "transition", "new")), Thousands(on_hold),
                 Thousands(approved), Thousands(held), Thousands(released));
      for (const auto& line : watch.TakeNew(5)) fmt::print("  alert: {}\n", line);
      std::fflush(stdout);
      return;
    }
    std::string s;
    if (tty && !final_view) s += "\033[H\033[2J";
    s += fmt::format("creditwatch demo  {:02}:{:02}  simulated date {}  ({})\n\n", elapsed.count() / 60,
                     elapsed.count() % 60, api::IsoTime(sim_ms).substr(0, 10),
                     !history_done.load() ? fmt::format("replaying {} days of history", o.history_days)
                     // Live once the engine, not only the generator, has reached the present.
                     : lag > o.rate ? fmt::format("catching up with the present: {} events behind", Thousands(lag))
                                    : fmt::format("live at {} events/s", o.rate));
    s += fmt::format("  events in   {:>10}/s   total {:>12}   consumer lag {:>8}\n", Thousands(in_rate), Thousands(in),
                     Thousands(std::max(lag, 0.0)));
    s += fmt::format("  outputs out {:>10}/s   total {:>12}\n\n", Thousands(out_rate), Thousands(out));
    s += fmt::format("  {:<18} {:>9} {:>9}\n", "alerts by rule", "fired", "resolved");
    for (const auto& rule : RuleNames()) {
      s +=
          fmt::format("  {:<18} {:>9} {:>9}\n", rule,
                      Thousands(metrics.Sum("creditwatch_alerts_fired_total", {{"rule", rule}, {"transition", "new"}})),
                      Thousands(metrics.Sum("creditwatch_alerts_resolved_total", "rule", rule)));
    }
    s += fmt::format("\n  customers on hold {:>7}   holds placed {:>7}   released {:>7}\n", Thousands(on_hold),
                     Thousands(static_cast<double>(watch.holds_placed.load())),
                     Thousands(static_cast<double>(watch.holds_released.load())));
    s += fmt::format("  orders approved {:>9}   held {:>7}   released {:>7}\n\n", Thousands(approved), Thousands(held),
                     Thousands(released));
    s += "  latest alerts:\n";
    for (const auto& line : watch.Latest()) s += "    " + line + "\n";
    s += fmt::format("\n  metrics {}/metrics   API {}/v1/customers/ACME-000001\n", base_url, base_url);
    if (!final_view) s += "  Ctrl-C to stop\n";
    fmt::print("{}", s);
    std::fflush(stdout);
  };

  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    if (stop.load()) break;
    render(false);
    if (o.duration_s > 0 && std::chrono::steady_clock::now() - t0 >= std::chrono::seconds(o.duration_s)) break;
  }
  stop_gen = true;
  gen_thread.join();
  stop_engine = true;
  engine_thread.join();
  watch.Stop();
  http->Stop();
  render(true);
  // Machine-readable summary (the demo test reads it).
  for (const auto& rule : RuleNames()) {
    fmt::print("summary: rule={} fired={:.0f} resolved={:.0f}\n", rule,
               metrics.Sum("creditwatch_alerts_fired_total", {{"rule", rule}, {"transition", "new"}}),
               metrics.Sum("creditwatch_alerts_resolved_total", "rule", rule));
  }
  fmt::print(
      "summary: events={:.0f} holds_placed={} holds_released={} orders_held={:.0f} orders_released={:.0f} "
      "errors={}\n",
      metrics.Sum("creditwatch_events_consumed_total"), watch.holds_placed.load(), watch.holds_released.load(),
      metrics.Sum("creditwatch_orders_total", "decision", "HELD"),
      metrics.Sum("creditwatch_orders_total", "decision", "RELEASED"), counter->errors.load());
  std::fflush(stdout);
  http.reset();
  store->reset();
  if (remove_dir) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
  if (!engine_status.ok()) {
    fmt::print(stderr, "engine: {}\n", engine_status.message());
    return 1;
  }
  return counter->errors.load() == 0 ? 0 : 1;
}

}  // namespace creditwatch::app
