#include "app/bench_pipeline.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <librdkafka/rdkafkacpp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <numeric>
#include <random>
#include <regex>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "api/api_server.h"
#include "api/customer_view.h"
#include "api/http_server.h"
#include "app/http_probe.h"
#include "core/credit_engine.h"
#include "obs/metrics_text.h"
#include "store/credit_store.h"
#include "store/scheduling.h"
#include "store/status_board.h"
#include "stream/embedded_broker.h"
#include "workload/workload_generator.h"

extern char** environ;

namespace creditwatch::app {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kInput = "creditwatch.events";
// The raw ceiling and the engine's backlog are each measured this many times, in turns.
constexpr int kBacklogRuns = 3;

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }
int64_t WallMsNow() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MicrosSince(Clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
}

struct Figure {
  std::string name;
  double value;
  std::string unit;
  double ratio = -1;  // to the raw ceiling, when it applies
  std::string note;
};

class Report {
 public:
  void Add(std::string name, double value, std::string unit, double ratio = -1, std::string note = "") {
    Add(Figure{std::move(name), value, std::move(unit), ratio, std::move(note)});
  }
  void Add(Figure f) {
    std::string line =
        fmt::format(R"({{"bench":"pipeline","name":"{}","value":{:.6g},"unit":"{}")", f.name, f.value, f.unit);
    if (f.ratio >= 0) line += fmt::format(R"(,"ratio_to_raw_ceiling":{:.3f})", f.ratio);
    if (!f.note.empty()) line += fmt::format(R"(,"note":"{}")", f.note);
    fmt::print("{}}}\n", line);
    std::fflush(stdout);
    figures_.push_back(std::move(f));
  }
  void WriteMarkdown(const std::string& path, const std::string& machine) const {
    std::ofstream out(path);
    out << "| figure | value | unit | ratio to raw ceiling | note |\n|---|---|---|---|---|\n";
    for (const auto& f : figures_) {
      out << fmt::format("| {} | {:.6g} | {} | {} | {} |\n", f.name, f.value, f.unit,
                         f.ratio >= 0 ? fmt::format("{:.2f}", f.ratio) : "", f.note);
    }
    out << "\nMachine: " << machine << "\n";
  }

 private:
  std::vector<Figure> figures_;
};

std::string Machine() {
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown cpu";
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  std::string key;
  long kb = 0;
  mem >> key >> kb;
  return fmt::format("{} cores ({}), {:.0f} GiB RAM", std::thread::hardware_concurrency(), model,
                     static_cast<double>(kb) / 1024 / 1024);
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  const size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

// Block-status lookups at a fixed rate, like an order system's pool of keep-alive
// connections (wrk2 style): each connection at its share of the rate, timed from its
// scheduled send time, so a slow answer counts for the requests it delays. Connected
// before the clock starts (the first request on a connection pays for the connect and
// the server's accept).
class LookupLoad {
 public:
  static constexpr int kConnections = 8;

  LookupLoad(int port, double rate, std::string id_prefix, int customers)
      : rate_(rate), id_prefix_(std::move(id_prefix)), customers_(customers) {
    for (int w = 0; w < kConnections; ++w) {
      clients_.emplace_back(std::make_unique<HttpProbe>("127.0.0.1", port))->Get("/healthz");
    }
  }

  void Start(Clock::time_point t0) {
    for (int w = 0; w < kConnections; ++w) threads_.emplace_back([this, t0, w] { Run(t0, w); });
  }
  void Stop() {
    done_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  std::vector<double> latency_ms;
  // Lookups answered with neither 200 nor 404, or not answered (connection failed).
  int64_t failures() const { return failures_.load(); }
  // The client threads' CPU per lookup, in microseconds (after Stop).
  double CpuMicrosPerLookup() const {
    return latency_ms.empty() ? 0 : cpu_seconds_ * 1e6 / static_cast<double>(latency_ms.size());
  }
  // How late the client threads woke for their scheduled sends: every lookup figure
  // includes it. A stall of the whole machine shows here as well as in the latency.
  std::vector<double> wakeup_ms;

 private:
  void Run(Clock::time_point t0, int w) {
    // The client stands in for an order system on another host. Here it shares the two
    // cores with the engine and the broker, and its own late wake-ups would count as the
    // server's latency: it asks for the short slice the server's workers have.
    store::RunAsLatencyWork();
    HttpProbe& c = *clients_[static_cast<size_t>(w)];
    std::mt19937 rng(static_cast<unsigned>(w + 1));
    const double per = rate_ / kConnections;
    std::vector<double> local;
    std::vector<double> local_wakeup;
    for (int64_t i = 0; !done_.load(); ++i) {
      // Staggered starts: the connections do not fire in lockstep.
      const auto due = t0 + std::chrono::microseconds(static_cast<int64_t>(
                                (static_cast<double>(i) + static_cast<double>(w) / kConnections) * 1e6 / per));
      // Wake-up lateness counts only when the thread slept: behind schedule after a slow
      // answer is queueing, which the latency already counts.
      if (Clock::now() < due) {
        std::this_thread::sleep_until(due);
        local_wakeup.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
      }
      const std::string path =
          fmt::format("/v1/customers/{}-{:06d}/block-status", id_prefix_, rng() % static_cast<unsigned>(customers_));
      const int status = c.Get(path);
      local.push_back(std::chrono::duration<double, std::milli>(Clock::now() - due).count());
      if (status != 200 && status != 404) failures_.fetch_add(1, std::memory_order_relaxed);
    }
    timespec cpu{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu);
    std::lock_guard<std::mutex> lock(mu_);
    cpu_seconds_ += static_cast<double>(cpu.tv_sec) + static_cast<double>(cpu.tv_nsec) / 1e9;
    latency_ms.insert(latency_ms.end(), local.begin(), local.end());
    wakeup_ms.insert(wakeup_ms.end(), local_wakeup.begin(), local_wakeup.end());
  }

  double rate_;
  std::string id_prefix_;
  int customers_;
  std::vector<std::unique_ptr<HttpProbe>> clients_;
  std::atomic<int64_t> failures_{0};
  double cpu_seconds_ = 0;
  std::vector<std::thread> threads_;
  std::atomic<bool> done_{false};
  std::mutex mu_;
};

std::unique_ptr<RdKafka::Conf> Conf(const std::map<std::string, std::string>& props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto& [k, v] : props) conf->set(k, v, err);
  return conf;
}

// The engine's producer settings (OutboxDrainer), so the ceiling and the engine use the
// same client. The workload's producer (the upstream systems) batches for the usual
// 5 ms and queues a whole backlog.
std::map<std::string, std::string> ProducerProps(const std::string& bootstrap, bool workload = false) {
  std::map<std::string, std::string> props = {
      {"bootstrap.servers", bootstrap},  {"enable.idempotence", "true"}, {"acks", "all"}, {"linger.ms", "1"},
      {"partitioner", "murmur2_random"}, {"compression.type", "lz4"}};
  if (workload) {
    props["linger.ms"] = "5";
    props["queue.buffering.max.messages"] = "1000000";
  }
  return props;
}

void Produce(RdKafka::Producer& p, const std::string& topic, int32_t partition, const std::string& key,
             const std::string& value) {
  while (p.produce(topic, partition, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(value.data()), value.size(),
                   key.data(), key.size(), 0, nullptr, nullptr) == RdKafka::ERR__QUEUE_FULL) {
    p.poll(5);
  }
  p.poll(0);
}

// Consume the input and re-produce the same bytes: no decoding, no state.
double RawCeiling(const std::string& bootstrap, int64_t n, int run) {
  auto cconf = Conf({{"bootstrap.servers", bootstrap},
                     {"group.id", fmt::format("bench-raw-ceiling-{}", run)},
                     {"auto.offset.reset", "earliest"},
                     {"enable.auto.commit", "false"},
                     {"fetch.wait.max.ms", stream::kEmbeddedFetchWaitMs}});  // as the engine's consumer
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(cconf.get(), err));
  auto pconf = Conf(ProducerProps(bootstrap));
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(pconf.get(), err));
  c->subscribe({kInput});
  int64_t got = 0;
  Clock::time_point start;
  while (got < n) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (m->err() != RdKafka::ERR_NO_ERROR) continue;
    if (got == 0) start = Clock::now();
    ++got;
    while (p->produce("bench.raw-out", RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, m->payload(),
                      m->len(), m->key_pointer(), m->key_len(), 0, nullptr, nullptr) == RdKafka::ERR__QUEUE_FULL) {
      p->poll(5);
    }
    p->poll(0);
  }
  p->flush(60000);
  const double secs = Seconds(start, Clock::now());
  c->close();
  return static_cast<double>(n) / secs;
}

// User plus system CPU seconds from a /proc .../stat file (a process or a thread).
double StatCpuSeconds(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  if (paren == std::string::npos || paren + 2 > text.size()) return 0;
  std::istringstream fields(text.substr(paren + 2));
  std::string f;
  std::vector<std::string> v;
  while (fields >> f) v.push_back(f);
  if (v.size() < 13) return 0;
  return static_cast<double>(std::stoll(v[11]) + std::stoll(v[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds the hypervisor took from this machine's cores ("steal" in /proc/stat, all
// cores together). A virtual machine's cores can stop for milliseconds at a time; a stop
// delays every lookup and event in flight, and no process here can prevent it. Reported
// beside the latency figures so a tail can be read against it.
double StolenSeconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  int64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu") return 0;
  return static_cast<double>(steal) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// CPU seconds of this process's embedded broker thread. The mock cluster serves every
// client from that one thread, and it finds a fetch's offset by walking the partition's
// log from its oldest message set: a fetch costs in proportion to the partition's
// history, and logs of small message sets (live loads, 5 ms lingers) have it take
// half a core or more. Reported beside the latency figures, which it inflates.
double BrokerThreadCpuSeconds() {
  double total = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    std::getline(comm, name);
    if (name == "rdk:mock") total += StatCpuSeconds((task.path() / "stat").string());
  }
  return total;
}

class EngineProcess {
 public:
  EngineProcess(const std::string& bin, const std::string& config, const std::string& log) : log_(log) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    std::vector<std::string> argv = {bin, "run", "-c", config};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
  }
  ~EngineProcess() { Stop(SIGKILL); }
  int Stop(int sig) {
    if (pid_ <= 0) return 0;
    kill(pid_, sig);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  int Port() {
    static const std::regex kLine(R"(http: listening on [^:\s]+:(\d+))");
    for (int i = 0; i < 600; ++i) {
      std::ifstream in(log_);
      std::stringstream ss;
      ss << in.rdbuf();
      const std::string text = ss.str();
      std::smatch m;
      if (std::regex_search(text, m, kLine)) return std::stoi(m[1]);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }
  double CpuSeconds() const { return StatCpuSeconds(fmt::format("/proc/{}/stat", pid_)); }
  // The engine loop runs on the process's main thread; the commits on "cw-commit".
  double LoopCpuSeconds() const { return StatCpuSeconds(fmt::format("/proc/{}/task/{}/stat", pid_, pid_)); }
  double CommitCpuSeconds() const {
    double total = 0;
    std::error_code ec;
    for (const auto& task : std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid_), ec)) {
      std::ifstream comm(task.path() / "comm");
      std::string name;
      std::getline(comm, name);
      if (name == "cw-commit") total += StatCpuSeconds((task.path() / "stat").string());
    }
    return total;
  }
  double MemoryMiB(const char* key) const {  // VmRSS or VmHWM
    std::ifstream in(fmt::format("/proc/{}/status", pid_));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind(key, 0) == 0) return std::stod(line.substr(line.find(':') + 1)) / 1024.0;
    }
    return 0;
  }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

double MetricSum(httplib::Client& c, const std::string& family) {
  auto r = c.Get("/metrics");
  if (!r || r->status != 200) return -1;
  return obs::SumOfFamily(r->body, family);
}

// Seconds the engine loop has waited for input records and for commits (its metric),
// from one scrape.
std::pair<double, double> LoopWaits(httplib::Client& c) {
  auto r = c.Get("/metrics");
  if (!r || r->status != 200) return {-1, -1};
  constexpr const char* kFamily = "creditwatch_loop_wait_seconds_total";
  return {obs::SumOfFamily(r->body, kFamily, {"for=\"input\""}),
          obs::SumOfFamily(r->body, kFamily, {"for=\"commit\""})};
}

// The output topics of an engine run that must not add to the history of the ones the
// latency phases read (the embedded broker's fetches walk a partition's history).
std::vector<std::string> OutputTopics(const std::string& prefix) {
  return {prefix + ".alerts", prefix + ".block-status", prefix + ".order-decisions", prefix + ".dead-letter"};
}

// `output_prefix`: empty for the usual output topics, else the run's own (OutputTopics).
std::string WriteConfig(const std::string& dir, const std::string& name, const std::string& bootstrap,
                        const std::string& data_dir, const std::string& group, const std::string& output_prefix = "") {
  const std::string path = dir + "/" + name + ".yaml";
  std::ofstream out(path);
  out << "log_level: info\nkafka:\n  bootstrap.servers: \"" << bootstrap << "\"\n"
      << "engine:\n  data_dir: \"" << data_dir << "\"\n  time_mode: event_time\n"
      << "  group_id: " << group << "\n  max_future_skew_seconds: 3153600000\n"
      << "http:\n  listen: \"127.0.0.1:0\"\n"
      // See kEmbeddedFetchWaitMs: a short wait keeps the latency honest.
      << "kafka_consumer:\n  fetch.wait.max.ms: \"" << stream::kEmbeddedFetchWaitMs << "\"\n";
  if (!output_prefix.empty()) {
    const std::vector<std::string> t = OutputTopics(output_prefix);
    out << "topics:\n  inputs: [" << kInput << "]\n  alerts: " << t[0] << "\n  block_status: " << t[1]
        << "\n  order_decisions: " << t[2] << "\n  dead_letter: " << t[3] << "\n";
  }
  return path;
}

// What one engine run over the backlog measured.
struct BacklogRun {
  double rate = 0;         // events/s
  double cpu = 0;          // CPU-seconds per million events: the process
  double loop_cpu = 0;     // its loop thread
  double commit_cpu = 0;   // its committing thread
  double wait_input = 0;   // seconds per million events the loop waited for input records
  double wait_commit = 0;  // ... and for the commit of the batch before
  double broker_cpu = 0;   // cores: the embedded broker's thread meanwhile
  double peak_rss = 0;     // MiB
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Measures an engine process working through a backlog of `events` records from its
// first consumed record until its last batch is committed and its outputs are delivered
// (a later commit, with the outbox then empty), as the ceiling's window ends after its
// producer's flush. Consumed is counted as each record is read.
BacklogRun MeasureBacklog(const EngineProcess& engine, httplib::Client& http, int64_t events) {
  while (MetricSum(http, "creditwatch_events_consumed_total") <= 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  const auto t_first = Clock::now();
  const double cpu0 = engine.CpuSeconds();
  const double loop_cpu0 = engine.LoopCpuSeconds();
  const double commit_cpu0 = engine.CommitCpuSeconds();
  const double broker_cpu0 = BrokerThreadCpuSeconds();
  const auto [wait_input0, wait_commit0] = LoopWaits(http);
  // Each look at the engine's progress is a scrape of /metrics, which costs the engine
  // CPU: look again after about half the time the rest should take at the rate so far
  // (at most 250 ms, at least 20 ms), about 30 scrapes a run instead of one every 20 ms.
  const auto total = static_cast<double>(events);
  for (double consumed = 0; (consumed = MetricSum(http, "creditwatch_events_consumed_total")) < total;) {
    const double rate = consumed / std::max(Seconds(t_first, Clock::now()), 1e-3);
    const double rest_s = rate > 0 ? (total - consumed) / rate : 0.02;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::clamp(rest_s / 2, 0.02, 0.25)));
  }
  const double batches_read = MetricSum(http, "creditwatch_batches_total");
  for (int i = 0; i < 6000 && (MetricSum(http, "creditwatch_batches_total") <= batches_read ||
                               MetricSum(http, "creditwatch_outbox_depth") > 0);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double secs = Seconds(t_first, Clock::now());
  const double per_million = 1e6 / static_cast<double>(events);
  BacklogRun r;
  r.rate = static_cast<double>(events) / secs;
  r.cpu = (engine.CpuSeconds() - cpu0) * per_million;
  r.loop_cpu = (engine.LoopCpuSeconds() - loop_cpu0) * per_million;
  r.commit_cpu = (engine.CommitCpuSeconds() - commit_cpu0) * per_million;
  const auto [wait_input1, wait_commit1] = LoopWaits(http);
  r.wait_input = (wait_input1 - wait_input0) * per_million;
  r.wait_commit = (wait_commit1 - wait_commit0) * per_million;
  r.broker_cpu = (BrokerThreadCpuSeconds() - broker_cpu0) / secs;
  r.peak_rss = engine.MemoryMiB("VmHWM");
  return r;
}

uint32_t Fnv(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) h = (h ^ c) * 16777619u;
  return h;
}

}  // namespace

int RunPipelineBench(const PipelineBenchOptions& o) {
  Report report;
  const std::string machine = Machine();
  std::string dir = o.work_dir;
  if (!dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      fmt::print(stderr, "work directory '{}': {}\n", dir, ec.message());
      return 2;
    }
  }
  if (dir.empty()) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "creditwatch-bench-XXXXXX").string();
    dir = mkdtemp(tmpl.data());
  }
  stream::BrokerOptions bo;
  bo.partitions = o.partitions;
  bo.topics = {kInput,
               "bench.raw-out",
               "creditwatch.alerts",
               "creditwatch.block-status",
               "creditwatch.order-decisions",
               "creditwatch.dead-letter"};
  // The backlog runs before the last write to topics of their own.
  for (int run = 0; run + 1 < kBacklogRuns; ++run) {
    for (const std::string& t : OutputTopics(fmt::format("bench.backlog{}", run))) bo.topics.push_back(t);
  }
  std::unique_ptr<stream::EmbeddedBroker> broker;
  if (Status st = stream::EmbeddedBroker::Start(bo, &broker); !st.ok()) {
    fmt::print(stderr, "{}\n", st.message());
    return 2;
  }
  const std::string bootstrap = broker->bootstraps();
  std::string err;
  auto pconf = Conf(ProducerProps(bootstrap, /*workload=*/true));
  std::unique_ptr<RdKafka::Producer> producer(RdKafka::Producer::create(pconf.get(), err));

  // Phase 0: the workload, produced once; both consumers read the same records.
  workload::WorkloadOptions wo;
  wo.customers = o.customers;
  wo.start_ms = 1'767'225'600'000 - 3 * 365 * 86'400'000LL;
  workload::WorkloadGenerator gen(wo);
  v1::Envelope e;
  std::string bytes;
  for (int64_t i = 0; i < o.events; ++i) {
    gen.Next(&e);
    bytes.clear();
    e.SerializeToString(&bytes);
    Produce(*producer, kInput, RdKafka::Topic::PARTITION_UA, e.customer_id(), bytes);
  }
  producer->flush(120000);

  // Phases 1 and 2: the raw ceiling and the engine over the same records, in turns
  // (ceiling, engine, ceiling, ...), three runs each. Single runs on this machine vary by
  // up to a factor of two, and a slow spell spoils a ratio of runs far apart: the ratio
  // reported is the median of the three pairs' ratios. Each engine run starts cold, with
  // its own data and consumer group; the last one goes on to the later phases, and the
  // ones before it write to output topics of their own.
  std::vector<double> ceilings;
  std::vector<BacklogRun> runs;
  std::unique_ptr<EngineProcess> engine_ptr;
  int port = 0;
  for (int run = 0; run < kBacklogRuns; ++run) {
    fmt::print(stderr, "raw ceiling, run {}: consume + re-produce {} events\n", run + 1, o.events);
    ceilings.push_back(RawCeiling(bootstrap, o.events, run));
    fmt::print(stderr, "engine, run {}: {} events from a cold start\n", run + 1, o.events);
    const bool last = run + 1 == kBacklogRuns;
    const std::string name = last ? "engine" : fmt::format("engine-backlog{}", run);
    const std::string cfg = last ? WriteConfig(dir, name, bootstrap, dir + "/data", "creditwatch")
                                 : WriteConfig(dir, name, bootstrap, dir + "/" + name, "creditwatch-" + name,
                                               fmt::format("bench.backlog{}", run));
    auto proc = std::make_unique<EngineProcess>(o.bin, cfg, dir + "/" + name + ".log");
    port = proc->Port();
    if (port == 0) {
      fmt::print(stderr, "engine did not start; see {}/{}.log\n", dir, name);
      return 1;
    }
    httplib::Client c("127.0.0.1", port);
    runs.push_back(MeasureBacklog(*proc, c, o.events));
    if (last) {
      engine_ptr = std::move(proc);
    } else {
      proc->Stop(SIGKILL);  // its data is not used again
      std::error_code ec;
      std::filesystem::remove_all(dir + "/" + name, ec);
    }
  }
  EngineProcess& engine = *engine_ptr;
  httplib::Client http("127.0.0.1", port);
  auto each = [&](double BacklogRun::*field) {
    std::vector<double> v;
    for (const BacklogRun& r : runs) v.push_back(r.*field);
    return v;
  };
  auto list = [](const std::vector<double>& v, const char* format) {
    std::string text;
    for (double x : v) text += fmt::format(fmt::runtime(format), x) + " ";
    if (!text.empty()) text.pop_back();
    return text;
  };
  const double ceiling = Median(ceilings);
  std::vector<double> ratios;
  for (size_t i = 0; i < runs.size(); ++i) ratios.push_back(runs[i].rate / ceilings[i]);
  report.Add("raw_ceiling_throughput", ceiling, "events/s", 1.0,
             fmt::format("consume + re-produce the same bytes; median of {}", list(ceilings, "{:.0f}")));
  const std::vector<double> rates = each(&BacklogRun::rate);
  const double engine_rate = Median(rates);  // the backlog maximum the later phases scale by
  report.Add("engine_throughput", engine_rate, "events/s", Median(ratios),
             fmt::format("{} customers, realistic mix, event-time mode; median of {}; ratio: median of the "
                         "pairs' {}",
                         o.customers, list(rates, "{:.0f}"), list(ratios, "{:.2f}")));
  // The CPU figures come from one run, the one of median rate, so its parts add up.
  std::vector<size_t> by_rate(runs.size());
  std::iota(by_rate.begin(), by_rate.end(), 0);
  std::sort(by_rate.begin(), by_rate.end(), [&](size_t a, size_t b) { return runs[a].rate < runs[b].rate; });
  const BacklogRun& mid = runs[by_rate[by_rate.size() / 2]];
  report.Add("engine_cpu_per_million_events", mid.cpu, "cpu-seconds", -1,
             fmt::format("the run of median rate; all runs {}", list(each(&BacklogRun::cpu), "{:.2f}")));
  // The loop's share bounds the backlog rate (one thread): the figure to compare builds by.
  report.Add("engine_loop_cpu_per_million_events", mid.loop_cpu, "cpu-seconds", -1,
             fmt::format("the engine loop's thread; all runs {}", list(each(&BacklogRun::loop_cpu), "{:.2f}")));
  report.Add("engine_commit_cpu_per_million_events", mid.commit_cpu, "cpu-seconds", -1,
             fmt::format("the committing thread; all runs {}", list(each(&BacklogRun::commit_cpu), "{:.2f}")));
  // Where the loop's thread was not working: it waited for records, or for the batch
  // before to be committed (storage behind the loop).
  report.Add(
      "engine_loop_wait_input_per_million_events", mid.wait_input, "seconds", -1,
      fmt::format("the loop waited for input records; all runs {}", list(each(&BacklogRun::wait_input), "{:.2f}")));
  report.Add("engine_loop_wait_commit_per_million_events", mid.wait_commit, "seconds", -1,
             fmt::format("the loop waited for the commit of the batch before; all runs {}",
                         list(each(&BacklogRun::wait_commit), "{:.2f}")));
  report.Add("engine_broker_cpu", mid.broker_cpu, "cores", -1,
             "the embedded broker's one thread, beside the engine on the same cores");
  const std::vector<double> rss = each(&BacklogRun::peak_rss);
  report.Add("engine_peak_rss", *std::max_element(rss.begin(), rss.end()), "MiB", -1, "the largest of the runs");
  // Let the outbox drain before the latency phase.
  for (int i = 0; i < 300 && MetricSum(http, "creditwatch_outbox_depth") > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }

  // Phase 3: latency at a fixed offered load (optionally with block-status lookups at a
  // fixed rate), once at 50% of the raw ceiling and once at 50% of the engine's maximum.
  int64_t total_produced = o.events;
  // Returns the rate the engine consumed at while the load was offered.
  // With figures=false only the rate consumed is measured (a probe of the maximum).
  auto latency_phase = [&](double rate, const std::string& tag, bool with_lookups, bool figures = true) -> double {
    // The load is generated and serialized before the phase: the generator shares the
    // machine with the engine and must not take its CPU while the load is offered.
    const auto planned = static_cast<size_t>(rate * static_cast<double>(o.latency_seconds)) + 1;
    std::vector<std::string> keys(planned);
    std::vector<std::string> payloads(planned);
    std::unordered_map<std::string, size_t> index;  // event id -> position in the load
    index.reserve(planned);
    std::vector<uint8_t> is_order(planned);
    for (size_t i = 0; i < planned; ++i) {
      gen.Next(&e);
      keys[i] = e.customer_id();
      e.SerializeToString(&payloads[i]);
      index.emplace(e.event_id(), i);
      is_order[i] = e.payload_case() == v1::Envelope::kOrderPlaced;
    }
    // Orders whose decision the reader has seen: the phase waits for them, and those
    // still missing when it stops count at their age then (lower bounds), so a slow tail
    // is never left out of the percentiles.
    std::unique_ptr<std::atomic<uint8_t>[]> decided(new std::atomic<uint8_t>[planned]());
    std::atomic<int64_t> orders_decided{0};
    // Produce time (us since t0) of each event, 0 until produced; read by the reader.
    std::unique_ptr<std::atomic<int64_t>[]> sent(new std::atomic<int64_t>[planned]());
    std::unique_ptr<LookupLoad> lookups;
    if (with_lookups && o.lookup_rate > 0)
      lookups = std::make_unique<LookupLoad>(port, o.lookup_rate, wo.id_prefix, o.customers);
    const auto t0 = Clock::now();
    const int64_t t0_wall_ms = WallMsNow();
    std::atomic<bool> done{false};
    std::vector<double> order_lat;
    std::vector<double> all_lat;
    // An order decision's path in two legs, split at the decision record's create time
    // (set when the engine hands it to its producer; wall clock, ms): input and engine,
    // then delivery through the broker to the reader.
    std::vector<double> engine_leg;
    std::vector<double> delivery_leg;
    // The reader starts at the current end of the output topics.
    auto cconf = Conf({{"bootstrap.servers", bootstrap},
                       {"group.id", "bench-latency"},
                       {"fetch.wait.max.ms", stream::kEmbeddedFetchWaitMs}});
    std::unique_ptr<RdKafka::KafkaConsumer> reader(RdKafka::KafkaConsumer::create(cconf.get(), err));
    std::vector<RdKafka::TopicPartition*> tps;
    for (const char* t : {"creditwatch.alerts", "creditwatch.block-status", "creditwatch.order-decisions"}) {
      for (int p = 0; p < o.partitions; ++p) {
        int64_t lo = 0;
        int64_t hi = 0;
        reader->query_watermark_offsets(t, p, &lo, &hi, 5000);
        tps.push_back(RdKafka::TopicPartition::create(t, p, hi));
      }
    }
    reader->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    std::thread read([&] {
      while (!done.load()) {
        std::unique_ptr<RdKafka::Message> m(reader->consume(50));
        if (m->err() != RdKafka::ERR_NO_ERROR) continue;
        const int64_t now = MicrosSince(t0);
        std::string cause;
        const bool is_decision = m->topic_name() == "creditwatch.order-decisions";
        if (is_decision) {
          v1::OrderDecision d;
          if (d.ParseFromArray(m->payload(), static_cast<int>(m->len()))) cause = d.cause_event_id();
        } else if (m->topic_name() == "creditwatch.alerts") {
          v1::Alert a;
          if (a.ParseFromArray(m->payload(), static_cast<int>(m->len()))) cause = a.cause_event_id();
        } else {
          v1::BlockStatus b;
          if (b.ParseFromArray(m->payload(), static_cast<int>(m->len()))) cause = b.cause_event_id();
        }
        if (cause.empty()) continue;
        auto it = index.find(cause);
        if (it == index.end()) continue;
        const int64_t at = sent[it->second].load(std::memory_order_acquire);
        if (at == 0) continue;
        const double ms = static_cast<double>(now - at) / 1000.0;
        all_lat.push_back(ms);
        if (is_decision) {
          if (is_order[it->second] != 0 && decided[it->second].exchange(1) == 0) ++orders_decided;
          order_lat.push_back(ms);
          const RdKafka::MessageTimestamp ts = m->timestamp();
          if (ts.type == RdKafka::MessageTimestamp::MSG_TIMESTAMP_CREATE_TIME) {
            const auto handed = static_cast<double>(ts.timestamp - t0_wall_ms);  // ms since t0
            engine_leg.push_back(handed - static_cast<double>(at) / 1000.0);
            delivery_leg.push_back(static_cast<double>(now) / 1000.0 - handed);
          }
        }
      }
    });
    const double in_before = MetricSum(http, "creditwatch_events_consumed_total");
    const double cpu_before = engine.CpuSeconds();
    const double broker_cpu_before = BrokerThreadCpuSeconds();
    const double stolen_before = StolenSeconds();
    fmt::print(stderr, "{}: offering {:.0f} events/s for {} s{}\n", tag.substr(0, tag.size() - 1), rate,
               o.latency_seconds, lookups ? fmt::format(" with {:.0f} lookups/s", o.lookup_rate) : "");
    // The load and the lookups are scheduled from here, after the reader is set up. From
    // t0, before it, the reader's offset queries (one per output partition) made the
    // phase's first lookups late by up to 80 ms, counted as the server's latency, and
    // its first events went out in one burst.
    const auto start = Clock::now();
    if (lookups) lookups->Start(start);
    int64_t n = 0;
    const auto end = start + std::chrono::seconds(o.latency_seconds);
    // Paced in 1 ms ticks: every event due by now goes out, then the loop sleeps. A sleep
    // per event (tens of thousands of timer wake-ups a second) took a whole core.
    for (auto now = Clock::now(); now < end && static_cast<size_t>(n) < planned; now = Clock::now()) {
      const auto due_by_now =
          std::min(planned, static_cast<size_t>(std::chrono::duration<double>(now - start).count() * rate) + 1);
      const int64_t at = std::max<int64_t>(MicrosSince(t0), 1);
      for (auto i = static_cast<size_t>(n); i < due_by_now; ++i, ++n) {
        sent[i].store(at, std::memory_order_release);
        Produce(*producer, kInput, RdKafka::Topic::PARTITION_UA, keys[i], payloads[i]);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    total_produced += n;
    if (lookups) lookups->Stop();  // lookups are timed only while the load is offered
    producer->flush(30000);
    // Consumed while the load was offered (the backlog drained afterwards does not count).
    const double window = Seconds(start, Clock::now());
    const double consumed_in_window = MetricSum(http, "creditwatch_events_consumed_total") - in_before;
    const double consumed_rate = consumed_in_window / window;
    const double cpu_in_window = engine.CpuSeconds() - cpu_before;
    const double broker_cpu_in_window = BrokerThreadCpuSeconds() - broker_cpu_before;
    const double stolen_in_window = StolenSeconds() - stolen_before;
    int64_t orders_sent = 0;
    for (int64_t i = 0; i < n; ++i) orders_sent += is_order[static_cast<size_t>(i)];
    // Every decision read, or 60 s after the load stopped (probes: 3 s).
    const auto read_until = Clock::now() + std::chrono::seconds(figures ? 60 : 3);
    while (orders_decided.load() < orders_sent && Clock::now() < read_until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // outputs of the same steps
    done = true;
    read.join();
    reader->close();
    const int64_t stopped_us = MicrosSince(t0);
    int64_t unread = 0;
    for (int64_t i = 0; i < n; ++i) {
      const auto k = static_cast<size_t>(i);
      if (!is_order[k] || decided[k].load() != 0) continue;
      ++unread;
      order_lat.push_back(static_cast<double>(stopped_us - sent[k].load()) / 1000.0);
    }
    if (!figures) return consumed_rate;
    const double offered = static_cast<double>(n) / static_cast<double>(o.latency_seconds);
    report.Add(tag + "offered_load", offered, "events/s", offered / ceiling,
               tag == "ceil50_" ? "50% of the raw ceiling"
               : tag == "light_"
                   ? fmt::format("{:.0f}% of the engine's backlog maximum", o.light_load * 100)
                   : fmt::format("{:.0f}% of the highest load the engine sustained with lookups", o.engine_load * 100));
    report.Add(tag + "engine_consumed", consumed_rate, "events/s", consumed_rate / ceiling);
    report.Add(tag + "engine_cpu", cpu_in_window / window, "cores", -1,
               lookups ? "the engine process while the load was offered, its HTTP workers included"
                       : "the engine process while the load was offered");
    report.Add(tag + "engine_cpu_per_million_events", cpu_in_window / std::max(consumed_in_window, 1.0) * 1e6,
               "cpu-seconds");
    report.Add(tag + "broker_cpu", broker_cpu_in_window / window, "cores", -1,
               "the embedded broker's one thread while the load was offered (of the machine's cores)");
    report.Add(tag + "machine_steal", stolen_in_window * 1000, "ms", -1,
               fmt::format("CPU time the hypervisor took from the machine's cores while the load was offered ({:.1f} "
                           "s), all cores together",
                           window));
    report.Add(tag + "order_decision_latency_p50", Percentile(order_lat, 0.50), "ms", -1,
               fmt::format("order placed produced -> decision readable; n={}, of which {} not read within 60 s "
                           "after the load stopped, counted at their age then (lower bounds)",
                           order_lat.size(), unread));
    report.Add(tag + "order_decision_latency_p99", Percentile(order_lat, 0.99), "ms");
    report.Add(tag + "order_decision_latency_p999", Percentile(order_lat, 0.999), "ms");
    report.Add(tag + "order_decisions_unread", static_cast<double>(unread), "orders", -1,
               "offered, their decision not read within 60 s after the load stopped");
    if (!engine_leg.empty()) {  // the decisions read (no lower bounds here)
      report.Add(tag + "order_decision_engine_leg_p50", Percentile(engine_leg, 0.50), "ms", -1,
                 fmt::format("order placed produced -> decision handed to the engine's producer (ms clock); n={}",
                             engine_leg.size()));
      report.Add(tag + "order_decision_engine_leg_p99", Percentile(engine_leg, 0.99), "ms");
      report.Add(tag + "order_decision_delivery_leg_p50", Percentile(delivery_leg, 0.50), "ms", -1,
                 "decision handed to the producer -> readable by a consumer (ms clock)");
      report.Add(tag + "order_decision_delivery_leg_p99", Percentile(delivery_leg, 0.99), "ms");
    }
    report.Add(tag + "output_latency_p50", Percentile(all_lat, 0.50), "ms", -1,
               fmt::format("any event-caused output; n={}", all_lat.size()));
    report.Add(tag + "output_latency_p99", Percentile(all_lat, 0.99), "ms");
    report.Add(tag + "output_latency_p999", Percentile(all_lat, 0.999), "ms");
    if (lookups) {
      report.Add(
          tag + "block_status_lookup_p50", Percentile(lookups->latency_ms, 0.50), "ms", -1,
          fmt::format("{:.0f} lookups/s on loopback while consuming; n={}", o.lookup_rate, lookups->latency_ms.size()));
      report.Add(tag + "block_status_lookup_p99", Percentile(lookups->latency_ms, 0.99), "ms");
      report.Add(tag + "lookup_client_wakeup_p99", Percentile(lookups->wakeup_ms, 0.99), "ms", -1,
                 "how late the load client's threads woke for their scheduled sends (included in the lookup figures)");
      report.Add(tag + "block_status_lookup_failures", static_cast<double>(lookups->failures()), "lookups", -1,
                 "answered with neither 200 nor 404, or not answered");
    }
    return consumed_rate;
  };
  // The next phase starts with no backlog: every input consumed, every output sent and
  // RocksDB's compactions done (after an overload they take a core for a while).
  auto catch_up = [&] {
    int i = 0;
    for (; i < 3000; ++i) {
      // Records the broker dropped before they were read count as done (and are reported).
      if (MetricSum(http, "creditwatch_events_consumed_total") + MetricSum(http, "creditwatch_offsets_lost_total") >=
              static_cast<double>(total_produced) &&
          MetricSum(http, "creditwatch_outbox_depth") <= 0) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (; i < 3000 && MetricSum(http, "creditwatch_rocksdb_pending_compaction_bytes") > 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));  // and the gauges' last refresh
  };
  // In order, each with no backlog: the lookup floor; light load with lookups (5% of the
  // backlog maximum by default); a search for the highest load the engine sustains with
  // lookups; a fraction of that (50% by default) with lookups; half the raw ceiling,
  // where what an overloaded engine consumes is its live maximum (with the load
  // generator and the broker beside it, where the backlog maximum above had the machine
  // to itself). The overload comes last: the same load runs slower after it (README).
  catch_up();
  // The floor under the lookup figures: the same client at the same rate against a
  // minimal server (the engine's HTTP library and settings, a fixed answer of the same
  // size), on this machine, with the engine idle.
  if (o.lookup_rate > 0) {
    api::HttpServer floor;
    floor.Get(R"(/v1/customers/([^/]+)/block-status)", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(api::BlockStatusJson(req.matches[1], store::BlockView{}).dump(), "application/json");
    });
    floor.Get("/healthz",
              [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
    const int floor_port = floor.bind_to_any_port("127.0.0.1");
    std::thread serve([&floor] { floor.listen_after_bind(); });
    fmt::print(stderr, "lookup floor: {:.0f} lookups/s against a minimal server for {} s\n", o.lookup_rate,
               o.latency_seconds);
    LookupLoad load(floor_port, o.lookup_rate, wo.id_prefix, o.customers);
    const double stolen_before = StolenSeconds();
    load.Start(Clock::now());
    std::this_thread::sleep_for(std::chrono::seconds(o.latency_seconds));
    load.Stop();
    const double stolen = StolenSeconds() - stolen_before;
    floor.stop();
    serve.join();
    report.Add(
        "lookup_floor_p50", Percentile(load.latency_ms, 0.50), "ms", -1,
        fmt::format("the same lookup load against a minimal server with a fixed answer; n={}", load.latency_ms.size()));
    report.Add("lookup_floor_p99", Percentile(load.latency_ms, 0.99), "ms");
    report.Add("lookup_floor_client_wakeup_p99", Percentile(load.wakeup_ms, 0.99), "ms");
    report.Add("lookup_floor_failures", static_cast<double>(load.failures()), "lookups");
    report.Add("lookup_client_cpu_per_lookup", load.CpuMicrosPerLookup(), "us", -1,
               "the load client's threads, on the same cores as the server they measure");
    report.Add("lookup_floor_machine_steal", stolen * 1000, "ms", -1,
               "CPU time the hypervisor took from the machine's cores meanwhile, all cores together");
  }
  const double light_rate = engine_rate * o.light_load;
  latency_phase(light_rate, "light_", true);
  // A bisection in log scale between the light load, which the engine kept up with, and
  // its backlog maximum. A trial passes when the engine consumed at least 95% of the load
  // while it was offered. The maximum under overload overstates this: behind, the engine
  // runs large batches that cost little per event; keeping up, it runs small ones.
  constexpr int kSustainTrials = 4;
  double kept = light_rate;
  double failed = std::max(engine_rate, light_rate * 2);
  for (int trial = 0; trial < kSustainTrials; ++trial) {
    catch_up();
    const double rate = std::sqrt(kept * failed);
    const double took = latency_phase(rate, "sustain_", true, false);
    fmt::print(stderr, "sustain: {:.0f} of {:.0f} events/s consumed\n", took, rate);
    (took >= 0.95 * rate ? kept : failed) = rate;
  }
  report.Add("engine_sustained_with_lookups_throughput", kept, "events/s", kept / ceiling,
             fmt::format("the highest load consumed in full (95%) with {:.0f} lookups/s, in {} trials", o.lookup_rate,
                         kSustainTrials));
  catch_up();
  latency_phase(kept * o.engine_load, fmt::format("engine{:.0f}_", o.engine_load * 100), true);
  catch_up();
  const double live_max = latency_phase(ceiling * 0.5, "ceil50_", false);
  report.Add("engine_live_max_throughput", live_max, "events/s", live_max / ceiling,
             "consumed while 50% of the raw ceiling was offered (at least this when it kept up)");
  // The engine learns of a record the broker dropped only when it reaches its offset:
  // counted once it has caught up with everything produced.
  catch_up();
  report.Add("events_lost_to_retention", MetricSum(http, "creditwatch_offsets_lost_total"), "events", -1,
             "dropped by the broker before the engine read them (overload phase), counted after it caught up");
  engine.Stop(SIGTERM);

  // Phase 4: start-up with many customers in RocksDB, and memory once all are touched.
  {
    fmt::print(stderr, "start-up: {} customers in RocksDB\n", o.startup_customers);
    const std::string data = dir + "/data-startup";
    std::vector<int64_t> high(static_cast<size_t>(o.partitions), 0);
    {
      auto cconf = Conf({{"bootstrap.servers", bootstrap}, {"group.id", "bench-startup-probe"}});
      std::unique_ptr<RdKafka::KafkaConsumer> probe(RdKafka::KafkaConsumer::create(cconf.get(), err));
      for (int p = 0; p < o.partitions; ++p) {
        int64_t lo = 0;
        probe->query_watermark_offsets(kInput, p, &lo, &high[static_cast<size_t>(p)], 5000);
      }
      probe->close();
    }
    {
      store::StoreOptions so;
      so.data_dir = data;
      std::unique_ptr<store::CreditStore> db;
      if (Status st = store::CreditStore::Open(so, &db); !st.ok()) {
        fmt::print(stderr, "{}\n", st.message());
        return 1;
      }
      store::StoreBatch batch(*db);
      const core::CreditEngine core_engine{core::RulesConfig()};
      core::StepOutputs out;
      for (int64_t i = 0; i < o.startup_customers; ++i) {
        // A realistic state: the customer and two open invoices, folded by the core.
        v1::CustomerState s;
        const std::string id = fmt::format("S-{:07d}", i);
        v1::Envelope ev;
        ev.set_customer_id(id);
        ev.set_event_time_ms(wo.start_ms);
        ev.set_event_id(id + "-1");
        auto* cu = ev.mutable_customer_upserted();
        cu->set_segment("smb");
        cu->mutable_credit_limit()->set_minor(5'000'000);
        cu->mutable_credit_limit()->set_currency("EUR");
        cu->set_payment_terms_days(30);
        (void)core_engine.Apply(s, ev, wo.start_ms, out);
        for (int k = 0; k < 2; ++k) {
          ev.set_event_id(fmt::format("{}-inv{}", id, k));
          auto* inv = ev.mutable_invoice_issued();
          inv->set_invoice_id(fmt::format("INV-{}-{}", id, k));
          inv->mutable_amount()->set_minor(100'000 + k);
          inv->mutable_amount()->set_currency("EUR");
          inv->set_issue_date_ms(wo.start_ms);
          inv->set_due_date_ms(wo.start_ms + 30 * 86'400'000LL);
          const auto r = core_engine.Apply(s, ev, wo.start_ms, out);
          s.set_timer_ms(r.next_wake_ms);
        }
        out.Clear();
        const auto partition = static_cast<int32_t>(Fnv(id) % static_cast<uint32_t>(o.partitions));
        s.set_partition(partition);
        batch.PutCustomer(id, s);
        if (s.timer_ms() != 0) batch.PutTimer(partition, s.timer_ms(), id);
        if (batch.Count() >= 20000) (void)db->Commit(batch);
      }
      for (int p = 0; p < o.partitions; ++p) {
        v1::PartitionPosition pos;
        pos.set_next_offset(high[static_cast<size_t>(p)]);
        batch.PutPosition(kInput, p, pos);
      }
      (void)db->Commit(batch);
    }
    const std::string cfg2 = WriteConfig(dir, "startup", bootstrap, data, "creditwatch-startup");
    const auto spawn = Clock::now();
    EngineProcess e2(o.bin, cfg2, dir + "/startup.log");
    const int port2 = e2.Port();
    httplib::Client h2("127.0.0.1", port2);
    for (;;) {
      auto r = h2.Get("/readyz");
      if (r && r->status == 200) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    report.Add("startup_to_ready", Seconds(spawn, Clock::now()), "s", -1,
               fmt::format("{} customers in RocksDB (incl. group join)", o.startup_customers));
    report.Add("rss_at_ready", e2.MemoryMiB("VmRSS"), "MiB", -1, fmt::format("{} customers", o.startup_customers));
    // Touch every customer once: a limit change each, so all states pass through the engine.
    const double before = MetricSum(h2, "creditwatch_events_consumed_total");
    const auto t_touch = Clock::now();
    for (int64_t i = 0; i < o.startup_customers; ++i) {
      const std::string id = fmt::format("S-{:07d}", i);
      v1::Envelope ev;
      ev.set_customer_id(id);
      ev.set_event_id(id + "-limit");
      ev.set_event_time_ms(wo.start_ms + 86'400'000);
      auto* lc = ev.mutable_credit_limit_changed();
      lc->mutable_credit_limit()->set_minor(6'000'000);
      lc->mutable_credit_limit()->set_currency("EUR");
      bytes.clear();
      ev.SerializeToString(&bytes);
      Produce(*producer, kInput, static_cast<int32_t>(Fnv(id) % static_cast<uint32_t>(o.partitions)), id, bytes);
    }
    producer->flush(120000);
    while (MetricSum(h2, "creditwatch_events_consumed_total") - before < static_cast<double>(o.startup_customers)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const double touch_secs = Seconds(t_touch, Clock::now());
    report.Add("touch_all_customers_throughput", static_cast<double>(o.startup_customers) / touch_secs, "events/s", -1,
               "one event per stored customer: every state read from RocksDB");
    report.Add(
        {"rss_after_touching_all", e2.MemoryMiB("VmRSS"), "MiB", -1,
         fmt::format("{} customers; cache bounded at 200,000 states + 256 MiB block cache", o.startup_customers)});
    report.Add("peak_rss_after_touching_all", e2.MemoryMiB("VmHWM"), "MiB");
    e2.Stop(SIGTERM);
  }
  report.WriteMarkdown(o.markdown_out, machine);
  fmt::print(stderr, "results table written to {} ({})\n", o.markdown_out, machine);
  if (o.work_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  return 0;
}

}  // namespace creditwatch::app
