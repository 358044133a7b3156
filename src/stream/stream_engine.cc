#include "stream/stream_engine.h"

#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <span>
#include <tuple>

#include "core/alert_tracker.h"
#include "core/enum_names.h"
#include "core/ledger.h"
#include "core/prefetch.h"
#include "core/validation.h"
#include "store/scheduling.h"
#include "store/state_log.h"
#include "stream/kafka_util.h"

namespace creditwatch::stream {
namespace {

constexpr const char* kOnHoldCounter = "customers_on_hold";
constexpr const char* kTimersCounter = "timers_pending";

// The stored count of a rule's active alerts.
const std::string& ActiveCounter(int rule) {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v(v1::Rule_MAX + 1);
    for (int r = 0; r <= v1::Rule_MAX; ++r) {
      if (v1::Rule_IsValid(r)) v[static_cast<size_t>(r)] = "active/" + v1::Rule_Name(static_cast<v1::Rule>(r));
    }
    return v;
  }();
  return names.at(static_cast<size_t>(rule));
}

}  // namespace

StreamEngine::StreamEngine(StreamOptions options, const core::CreditEngine& engine, store::CreditStore& store,
                           obs::EngineMetrics& metrics, std::function<int64_t()> wall_ms)
    : options_(std::move(options)),
      engine_(engine),
      store_(store),
      metrics_(metrics),
      wall_ms_(std::move(wall_ms)),
      batch_(std::make_unique<store::StoreBatch>(store)),
      inflight_batch_(std::make_unique<store::StoreBatch>(store)),
      committer_(std::make_unique<store::AsyncCommitter>(store)),
      pacer_(options_.max_batch_ms, options_.max_backlog_batch_ms) {
  // Every labelled series exists from the start, so dashboards and alert rules see zeros
  // rather than no data.
  for (int r = 1; r <= v1::RejectReason_MAX; ++r) {
    if (!v1::RejectReason_IsValid(r)) continue;
    metrics_.Rejected(v1::RejectReason_Name(static_cast<v1::RejectReason>(r)));
    metrics_.DeadLettered(v1::RejectReason_Name(static_cast<v1::RejectReason>(r)));
  }
  for (int rule = 1; rule <= v1::Rule_MAX; ++rule) {
    const std::string name = v1::Rule_Name(static_cast<v1::Rule>(rule));
    metrics_.AlertsResolved(name);
    for (int sev = 1; sev <= v1::Severity_MAX; ++sev) {
      for (const bool regrade : {false, true}) {
        metrics_.AlertsFired(name, core::SeverityName(static_cast<v1::Severity>(sev)), regrade);
      }
    }
  }
  for (const char* d : {"APPROVED", "HELD", "RELEASED"}) metrics_.Orders(d);
  for (auto kind : {v1::OutboxRecord::ALERT, v1::OutboxRecord::BLOCK_STATUS, v1::OutboxRecord::ORDER_DECISION,
                    v1::OutboxRecord::DEAD_LETTER}) {
    metrics_.OutputsProduced(OutputKindName(kind));
    metrics_.EndToEndLatency(OutputKindName(kind));
  }
  for (const auto& topic : options_.topics.inputs) {
    const auto* payload = v1::Envelope::descriptor()->FindOneofByName("payload");
    for (int i = 0; i < payload->field_count(); ++i) {
      v1::Envelope probe;
      probe.GetReflection()->MutableMessage(&probe, payload->field(i));
      metrics_.EventsConsumed(topic, core::PayloadName(probe));
    }
  }
}

StreamEngine::~StreamEngine() {
  if (consumer_) consumer_->close();
}

Status StreamEngine::Start() {
  if (Status st = OutboxDrainer::Create(options_, &metrics_, wall_ms_, &store_, &drainer_); !st.ok()) return st;

  // The brokers must answer within the bounded wait, and every topic must exist.
  RdKafka::Metadata* md = nullptr;
  const RdKafka::ErrorCode err = drainer_->producer()->metadata(true, nullptr, &md, options_.broker_wait_ms);
  if (err != RdKafka::ERR_NO_ERROR) {
    const auto it = options_.kafka.find("bootstrap.servers");
    return Status::Error(fmt::format("cannot reach the Kafka brokers at '{}' within {} ms: {}",
                                     it == options_.kafka.end() ? "" : it->second, options_.broker_wait_ms,
                                     RdKafka::err2str(err)));
  }
  std::unique_ptr<RdKafka::Metadata> metadata(md);
  std::vector<std::string> needed = options_.topics.inputs;
  needed.insert(needed.end(), {options_.topics.alerts, options_.topics.block_status, options_.topics.order_decisions,
                               options_.topics.dead_letter});
  std::vector<std::string> missing;
  for (const auto& name : needed) {
    bool found = false;
    for (const auto* t : *metadata->topics()) {
      if (t->topic() == name && t->err() == RdKafka::ERR_NO_ERROR && !t->partitions()->empty()) found = true;
    }
    if (!found) missing.push_back(name);
  }
  if (!missing.empty()) {
    return Status::Error(
        fmt::format("topics missing on the cluster: {} (create them first; see the README)", fmt::join(missing, ", ")));
  }
  {
    std::lock_guard<std::mutex> lock(probe_mu_);
    broker_ok_ = true;
    probe_at_ = std::chrono::steady_clock::now();
  }

  // Outputs committed but not acknowledged before the last stop are sent again.
  next_seq_ = store_.NextOutboxSeq();
  std::vector<std::pair<uint64_t, v1::OutboxRecord>> page;
  uint64_t from = 0;
  size_t resent = 0;
  do {
    if (Status st = store_.ScanOutbox(from, 10000, &page); !st.ok()) return st;
    for (auto& [seq, rec] : page) {
      from = seq + 1;
      drainer_->Send(seq, rec);
      ++resent;
    }
  } while (page.size() == 10000);
  outbox_depth_ = static_cast<int64_t>(resent);
  if (resent > 0) spdlog::info("re-sending {} outputs left in the outbox", resent);
  on_hold_ = stored_on_hold_ = store_.GetCounter(kOnHoldCounter);
  for (int rule = 1; rule <= v1::Rule_MAX; ++rule) {
    const std::string name = v1::Rule_Name(static_cast<v1::Rule>(rule));
    active_alerts_[rule] = stored_active_alerts_[rule] = store_.GetCounter(ActiveCounter(rule));
    metrics_.AlertsActive(name).Set(static_cast<double>(active_alerts_[rule]));
  }
  timers_pending_ = stored_timers_pending_ = store_.GetCounter(kTimersCounter);
  metrics_.customers_on_hold.Set(static_cast<double>(on_hold_));
  metrics_.timers_pending.Set(static_cast<double>(timers_pending_));

  std::map<std::string, std::string> defaults = {{"enable.auto.commit", "false"},
                                                 {"enable.auto.offset.store", "false"},
                                                 {"auto.offset.reset", "earliest"},
                                                 {"enable.partition.eof", "false"},
                                                 {"group.id", options_.group_id}};
  for (const auto& [k, v] : options_.kafka) defaults[k] = v;
  std::unique_ptr<RdKafka::Conf> conf;
  if (Status st = MakeKafkaConf(defaults, options_.kafka_consumer, &conf); !st.ok()) return st;
  std::string errstr;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), errstr) != RdKafka::Conf::CONF_OK) {
    return Status::Error(errstr);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), errstr));
  if (!consumer_) return Status::Error(fmt::format("creating the consumer: {}", errstr));
  if (const auto e = consumer_->subscribe(options_.topics.inputs); e != RdKafka::ERR_NO_ERROR) {
    return Status::Error(fmt::format("subscribing: {}", RdKafka::err2str(e)));
  }
  spdlog::info("consuming {} as group '{}' ({} mode)", fmt::join(options_.topics.inputs, ", "), options_.group_id,
               options_.time_mode == TimeMode::kLive ? "live" : "event-time");
  return Status::Ok();
}

void StreamEngine::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                std::vector<RdKafka::TopicPartition*>& partitions) {
  metrics_.rebalances.Increment();
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    OnAssign(partitions);
    consumer->assign(partitions);
  } else {
    OnRevoke(partitions);
    consumer->unassign();
  }
  metrics_.partitions_assigned.Set(static_cast<double>(cursors_.size()));
  ready_ = !cursors_.empty();
  metrics_.ready.Set(ready_ ? 1 : 0);
}

void StreamEngine::OnAssign(std::vector<RdKafka::TopicPartition*>& partitions) {
  input_ = Input();
  // Positions and timers are read from RocksDB: the batch in flight must be in it.
  if (Status st = FinishInFlight(); !st.ok()) fatal_ = st;
  // The earliest offsets the brokers still hold, for every partition in one request per
  // broker (one query per partition took 0.7 s of start-up at 64 partitions).
  std::map<TopicPartitionKey, int64_t> earliest;
  {
    std::vector<RdKafka::TopicPartition*> query;
    for (auto* tp : partitions) {
      query.push_back(RdKafka::TopicPartition::create(tp->topic(), tp->partition(), RdKafka::Topic::OFFSET_BEGINNING));
    }
    if (const auto qerr = consumer_->offsetsForTimes(query, 5000); qerr == RdKafka::ERR_NO_ERROR) {
      for (const auto* q : query) {
        if (q->err() == RdKafka::ERR_NO_ERROR && q->offset() >= 0) earliest[{q->topic(), q->partition()}] = q->offset();
      }
    } else {
      spdlog::warn(
          "cannot read the earliest offsets on the brokers: {}; records lost to retention are reported "
          "when consumption skips them",
          RdKafka::err2str(qerr));
    }
    RdKafka::TopicPartition::destroy(query);
  }
  for (auto* tp : partitions) {
    Cursor cursor;
    bool found = false;
    if (Status st = store_.GetPosition(tp->topic(), tp->partition(), &cursor.pos, &found); !st.ok()) {
      fatal_ = st;
      continue;
    }
    const auto e = earliest.find({tp->topic(), tp->partition()});
    const int64_t low = e == earliest.end() ? 0 : e->second;
    const int64_t next = found ? cursor.pos.next_offset() : 0;
    if (next < low) {
      spdlog::error("{}[{}]: records {}..{} were deleted by the broker before they were consumed; {} events lost",
                    tp->topic(), tp->partition(), next, low - 1, low - next);
      metrics_.offsets_lost.Increment(static_cast<double>(low - next));
      // Read on from the log start, and store that, so the reset the old position would
      // cause and the gap the next record would show do not count them again.
      cursor.pos.set_next_offset(low);
      cursor.dirty = true;
    }
    tp->set_offset(found || next < low ? cursor.pos.next_offset() : RdKafka::Topic::OFFSET_BEGINNING);
    watermarks_[tp->partition()] = std::max(Watermark(tp->partition()), cursor.pos.watermark_ms());
    if (Status st = LoadTimers(tp->partition()); !st.ok()) fatal_ = st;
    cursors_[{tp->topic(), tp->partition()}] = cursor;
    spdlog::info("assigned {}[{}] from offset {}", tp->topic(), tp->partition(), next);
  }
}

void StreamEngine::OnRevoke(std::vector<RdKafka::TopicPartition*>& partitions) {
  input_ = Input();
  // Finish and commit the batch in flight before the partitions go; after an error
  // (fatal_ set), neither: the revocation then comes from the consumer's close() on the
  // way out, and what the batch did is read again after a restart.
  if (fatal_.ok()) {
    if (Status st = CommitBatch(); !st.ok()) fatal_ = st;
    if (Status st = FinishInFlight(); !st.ok()) fatal_ = st;
  } else {
    spdlog::warn("revocation after an error: the batch in progress is not committed");
    // The batch in flight still reads the cached states erased below: wait for it.
    (void)FinishInFlight();
  }
  // Records read ahead from these partitions go too: an assignment reads from the
  // stored positions again.
  std::erase_if(ahead_, [&partitions](const Ahead& a) {
    if (a.msg->err() != RdKafka::ERR_NO_ERROR) return false;
    return std::any_of(partitions.begin(), partitions.end(), [&a](const RdKafka::TopicPartition* tp) {
      return tp->partition() == a.msg->partition() && tp->topic() == a.msg->topic_name();
    });
  });
  std::set<int32_t> gone;
  for (auto* tp : partitions) {
    cursors_.erase({tp->topic(), tp->partition()});
    metrics_.RemoveConsumerLag(tp->topic(), tp->partition());
    gone.insert(tp->partition());
    spdlog::info("revoked {}[{}]", tp->topic(), tp->partition());
  }
  for (const auto& [key, _] : cursors_) gone.erase(key.second);
  cache_.EraseIf([&gone](const CustomerCache::Node& n) { return gone.count(n.value.state.partition()) > 0; });
  for (int32_t p : gone) {
    watermarks_.erase(p);
    timers_.erase(p);
  }
  if (!gone.empty()) board_.ForgetPartitions([&gone](int32_t p) { return gone.count(p) > 0; });
}

int64_t StreamEngine::Watermark(int32_t partition) const {
  const auto it = watermarks_.find(partition);
  return it == watermarks_.end() ? 0 : it->second;
}

Status StreamEngine::Load(const std::string& customer_id, int32_t partition, Cached** out) {
  const uint64_t hash = CustomerCache::HashOf(customer_id);
  CustomerCache::Node* node = cache_.Find(customer_id, hash);
  if (node == nullptr) {
    auto fresh = std::make_unique<CustomerCache::Node>();
    fresh->key = customer_id;
    Cached& c = fresh->value;
    c.id = &fresh->key;
    bool found = false;
    // No snapshot needed: a customer out of the cache has nothing in the batch in flight.
    Status st = store_.GetCustomer(customer_id, &c.state, &found);
    // The deadline the index holds for this customer: the checkpoint's, or the last
    // logged step's.
    int64_t indexed_wake = 0;
    if (st.ok() && found) {
      c.stored = true;
      c.checkpoint_seq = c.state.step_seq();
      indexed_wake = c.state.timer_ms();
      st = store_.GetSteps(customer_id, c.checkpoint_seq, &loaded_steps_);
      if (st.ok() && !loaded_steps_.empty()) {
        st = store::ReplaySteps(engine_, customer_id, loaded_steps_, c.state, &indexed_wake);
        metrics_.state_steps_replayed.Increment(static_cast<double>(loaded_steps_.size()));
        // The ids of the events replayed were not archived (the checkpoint archives them):
        // counting the ticks among them too archives a few ids twice, never one too few.
        // A full ring's worth is archived now, before the next event evicts one of them.
        c.unarchived = static_cast<uint8_t>(std::min<size_t>(loaded_steps_.size(), core::kRecentEventIds));
        if (c.unarchived == core::kRecentEventIds) ArchiveEventIds(c, wall_ms_());
      }
      c.logged_seq = c.state.step_seq();
    }
    if (!st.ok()) return st;
    if (!found) c.state.set_partition(partition);
    c.stored_timer_ms = c.state.timer_ms();
    c.published_block_version = c.state.block_version();
    c.published_release_until_ms = c.state.release_until_ms();
    node = cache_.Insert(std::move(fresh), hash);
    Cached& loaded = node->value;
    if (indexed_wake != store::kUnknownWake && indexed_wake != loaded.state.timer_ms()) {
      // The replay ran under changed rules and moved the deadline: rescheduled from what
      // the index holds, and stored at the next commit.
      const int64_t replayed = loaded.state.timer_ms();
      spdlog::warn("{}: deadline moved from {} to {} (the rules changed since it was set)", customer_id, indexed_wake,
                   replayed);
      loaded.state.set_timer_ms(indexed_wake);
      loaded.stored_timer_ms = indexed_wake;
      Reschedule(loaded, replayed);
      MarkDirty(loaded);
    }
  }
  node->value.handoff.Settle();
  node->value.touched = batch_no_;
  *out = &node->value;
  return Status::Ok();
}

void StreamEngine::ArchiveEventIds(Cached& c, int64_t now_ms) {
  const size_t from = batch_archived_ids_.size();
  core::AppendLatestEventIds(c.state, c.unarchived, batch_archived_ids_);
  batch_->PutEventIds(*c.id, c.state.step_seq(), c.state.last_event_ms(),
                      std::span<const uint64_t>(batch_archived_ids_).subspan(from), now_ms);
  c.unarchived = 0;
}

void StreamEngine::MarkDirty(Cached& c) {
  if (c.dirty || c.id == nullptr) return;  // no id: nothing to store
  c.dirty = true;
  // The key's first 16 bytes, big-endian and zero-padded: they order the batch's keys
  // without reading the strings, which are cache misses, for ids up to 16 bytes and
  // for longer ones that differ early (an 8-byte prefix tied for ids like CUST-012345).
  KeyPrefix prefix = 0;
  for (size_t i = 0; i < 16; ++i) prefix = (prefix << 8) | (i < c.id->size() ? static_cast<uint8_t>((*c.id)[i]) : 0);
  dirty_.push_back({prefix, &c});
}

void StreamEngine::LogStep(Cached& c, size_t step_start) {
  if (c.id == nullptr) return;
  const auto index = static_cast<int32_t>(steps_.size());
  steps_.push_back({static_cast<uint32_t>(step_start), static_cast<uint32_t>(step_bytes_->size() - step_start)});
  if (c.last_step >= 0) {
    steps_[static_cast<size_t>(c.last_step)].next = index;
  } else {
    c.first_step = index;
  }
  c.last_step = index;
  c.state.set_step_seq(c.state.step_seq() + 1);
}

void StreamEngine::Reschedule(Cached& c, int64_t next_wake_ms) {
  v1::CustomerState& s = c.state;
  if (s.timer_ms() == next_wake_ms) return;
  const int32_t p = s.partition();
  DeadlineIndex& index = timers_[p];
  // RocksDB's copy of the index moves at commit, once per customer and batch.
  if (s.timer_ms() != 0) {
    if (next_wake_ms == 0) --timers_pending_;
  } else if (next_wake_ms != 0) {
    ++timers_pending_;
  }
  const int64_t armed = index.Arm(s.customer_id(), next_wake_ms);
  // A stored deadline no state holds (see FireTimers), found before it came due.
  if (armed != 0 && armed != s.timer_ms() && armed != next_wake_ms) DropStoredDeadline(c, p, armed);
  s.set_timer_ms(next_wake_ms);
  ++batch_ops_;
}

void StreamEngine::DropStoredDeadline(Cached& c, int32_t partition, int64_t fire_ms) {
  spdlog::warn("{}: stored deadline {} is not the state's {}; moved", c.state.customer_id(), fire_ms,
               c.state.timer_ms());
  if (c.id != nullptr) stale_timers_.push_back({partition, fire_ms, c.id, false});
  c.stored_timer_ms = store::kUnknownWake;  // the state's own deadline is put at commit
}

v1::OutboxRecord& StreamEngine::Enqueue(v1::OutboxRecord::Kind kind, const std::string& key,
                                        const std::string& output_id, int64_t cause_time_ms) {
  const uint64_t seq = next_seq_++;
  v1::OutboxRecord& rec = batch_outbox_.Add(seq);  // serialized into the batch at commit
  rec.set_kind(kind);
  rec.set_key(key);
  rec.set_output_id(output_id);
  rec.set_event_time_ms(cause_time_ms);
  rec.set_created_ms(wall_ms_());
  ++outbox_depth_;
  ++batch_ops_;
  return rec;
}

void StreamEngine::Emit(const core::StepOutputs& out, bool was_hold, const v1::CustomerState& after,
                        int64_t cause_time_ms) {
  for (const auto& a : out.alerts) {
    if (a.status() == v1::Alert::FIRING) {
      const bool fresh = a.output_id().ends_with("/1-firing");  // a new episode
      metrics_.AlertsFired(core::RuleName(a.rule()), core::SeverityName(a.severity()), !fresh).Increment();
      if (fresh) ++active_alerts_[a.rule()];
    } else {
      metrics_.AlertsResolved(core::RuleName(a.rule())).Increment();
      --active_alerts_[a.rule()];
    }
    a.SerializeToString(
        Enqueue(v1::OutboxRecord::ALERT, a.customer_id(), a.output_id(), cause_time_ms).mutable_value());
  }
  for (const auto& b : out.blocks) {
    b.SerializeToString(
        Enqueue(v1::OutboxRecord::BLOCK_STATUS, b.customer_id(), b.output_id(), cause_time_ms).mutable_value());
  }
  for (const auto& d : out.decisions) {
    metrics_.Orders(core::DecisionName(d.decision())).Increment();
    d.SerializeToString(
        Enqueue(v1::OutboxRecord::ORDER_DECISION, d.customer_id(), d.output_id(), cause_time_ms).mutable_value());
  }
  const bool is_hold = after.block_status() == v1::BlockStatus::HOLD;
  if (is_hold != was_hold) on_hold_ += is_hold ? 1 : -1;
}

void StreamEngine::DeadLetter(RdKafka::Message& msg, v1::RejectReason reason, const std::string& detail) {
  const std::string reason_name = v1::RejectReason_Name(reason);
  metrics_.DeadLettered(reason_name).Increment();
  spdlog::warn("dead letter {}[{}]@{}: {}: {}", msg.topic_name(), msg.partition(), msg.offset(), reason_name, detail);
  const std::string key = msg.key() != nullptr ? *msg.key() : "";
  v1::OutboxRecord& rec =
      Enqueue(v1::OutboxRecord::DEAD_LETTER, key,
              fmt::format("dead-letter/{}/{}/{}", msg.topic_name(), msg.partition(), msg.offset()), 0);
  rec.set_value(static_cast<const char*>(msg.payload()), msg.len());
  auto add_header = [&rec](std::string name, std::string value) {
    v1::RecordHeader* h = rec.add_headers();
    h->set_key(std::move(name));
    h->set_value(std::move(value));
  };
  add_header("creditwatch.reason", reason_name);
  add_header("creditwatch.detail", detail);
  add_header("creditwatch.source.topic", msg.topic_name());
  add_header("creditwatch.source.partition", std::to_string(msg.partition()));
  add_header("creditwatch.source.offset", std::to_string(msg.offset()));
  if (RdKafka::Headers* h = msg.headers(); h != nullptr) {
    for (const auto& hdr : h->get_all()) {
      if (hdr.value() != nullptr) {
        add_header(hdr.key(), std::string(static_cast<const char*>(hdr.value()), hdr.value_size()));
      }
    }
  }
}

Status StreamEngine::LoadTimers(int32_t partition) {
  if (timers_.count(partition)) return Status::Ok();
  std::vector<store::DueTimer> all;
  if (Status st = store_.AllTimers(partition, &all); !st.ok()) return st;
  DeadlineIndex& index = timers_[partition];
  for (const auto& t : all) {
    // A customer has one deadline. Two stored ones come from steps logged without their
    // deadline and replayed under changed rules: the earliest is kept, and when it comes
    // due the customer's state decides (FireTimers); the later ones go now.
    if (const int64_t armed = index.ArmedAt(t.customer_id); armed != 0) {
      spdlog::warn("{}: stored deadline {} besides {}; deleted", t.customer_id, t.fire_ms, armed);
      batch_->DeleteTimer(partition, t.fire_ms, t.customer_id);
      continue;
    }
    index.Arm(t.customer_id, t.fire_ms);
  }
  return Status::Ok();
}

Status StreamEngine::FireTimers(int32_t partition, DeadlineIndex& index, int64_t now_ms, bool exhaustive) {
  size_t fired = 0;
  int64_t fire_ms = 0;
  const std::string* earliest = nullptr;
  std::string customer;
  // Earliest first; a fired timer may re-arm its customer at a time that is also due
  // (catching up on several deadlines), which this loop then fires in turn.
  while (index.EarliestDue(now_ms, &fire_ms, &earliest)) {
    if (!exhaustive && fired >= static_cast<size_t>(options_.max_timers_per_batch)) break;
    customer = *earliest;  // the index may change below
    Cached* c = nullptr;
    if (Status st = Load(customer, partition, &c); !st.ok()) return st;
    // Loading may have moved the customer's deadline (Load): then this one is not armed.
    if (index.ArmedAt(customer) != fire_ms) continue;
    if (c->state.timer_ms() != fire_ms) {
      // A stored deadline no state holds: its customer's steps were logged without their
      // deadline (an earlier version) and replayed under changed rules. The entry goes;
      // the state's own deadline is armed, and stored at commit (put again if present).
      DropStoredDeadline(*c, partition, fire_ms);
      index.Arm(customer, c->state.timer_ms());
      MarkDirty(*c);
      continue;
    }
    const bool was_hold = c->state.block_status() == v1::BlockStatus::HOLD;
    out_.Clear();
    const core::StepResult r = engine_.Tick(c->state, fire_ms, out_);
    metrics_.timers_fired.Increment();
    ++fired;
    Emit(out_, was_hold, c->state, fire_ms);
    Reschedule(*c, r.next_wake_ms);
    const size_t step_start = step_bytes_->size();
    store::AppendTickStep(fire_ms, c->state.timer_ms(), *step_bytes_);
    LogStep(*c, step_start);
    MarkDirty(*c);
  }
  return Status::Ok();
}

prometheus::Counter& StreamEngine::InputTopic::Consumed(obs::EngineMetrics& metrics, const v1::Envelope& e) {
  const auto kind = static_cast<size_t>(e.payload_case());
  if (kind >= consumed.size()) return metrics.EventsConsumed(name, core::PayloadName(e));
  if (consumed[kind] == nullptr) consumed[kind] = &metrics.EventsConsumed(name, core::PayloadName(e));
  return *consumed[kind];
}

const StreamEngine::Input& StreamEngine::InputOf(RdKafka::Message& msg) {
  const char* topic = rd_kafka_topic_name(msg.c_ptr()->rkt);
  if (input_.topic != nullptr && input_.partition == msg.partition() && input_.topic->name == topic) return input_;
  InputTopic& t = input_topics_.try_emplace(topic, InputTopic{topic}).first->second;
  const auto cur = cursors_.find({t.name, msg.partition()});
  input_ = Input{&t, msg.partition(), nullptr, nullptr};
  if (cur != cursors_.end()) {
    input_.cursor = &cur->second;
    input_.watermark = &watermarks_[msg.partition()];
    const auto timers = timers_.find(msg.partition());  // made on assignment (LoadTimers)
    if (timers != timers_.end()) input_.timers = &timers->second;
  }
  return input_;
}

std::unique_ptr<RdKafka::Message> StreamEngine::NextMessage(int timeout_ms) {
  std::unique_ptr<RdKafka::Message> msg;
  if (ahead_.empty()) {
    // A poll that may block: the time it takes is time the loop waits for input.
    const auto t0 = timeout_ms > 0 ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    msg.reset(consumer_->consume(timeout_ms));
    if (timeout_ms > 0) {
      metrics_.loop_wait_input_seconds.Increment(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
  } else {
    msg = std::move(ahead_.front().msg);
    ahead_.pop_front();
  }
  if (msg->err() != RdKafka::ERR_NO_ERROR) return msg;
  while (ahead_.size() < kReadAhead) {
    std::unique_ptr<RdKafka::Message> next(consumer_->consume(0));
    if (next->err() == RdKafka::ERR__TIMED_OUT) break;
    const bool record = next->err() == RdKafka::ERR_NO_ERROR;
    const uint64_t hash =
        record ? CustomerCache::HashOf({static_cast<const char*>(next->key_pointer()), next->key_len()}) : 0;
    if (record) cache_.Prefetch(hash);
    ahead_.push_back({std::move(next), hash});
    if (!record) break;  // an event in the stream: handled in its turn
  }
  // In stages, each one record ahead of the next, so each fetch has a record's time to
  // arrive: a record's cache slot when it is read, its customer's node (the key and the
  // state's message) one record later, and what the state points to one record after that.
  if (ahead_.size() >= 2) cache_.PrefetchNode(ahead_[1].key_hash, sizeof(CustomerCache::Node));
  if (!ahead_.empty()) {
    if (const CustomerCache::Node* next = cache_.Peek(ahead_.front().key_hash)) core::PrefetchState(next->value.state);
  }
  return msg;
}

Status StreamEngine::ProcessMessage(RdKafka::Message& msg) {
  const Input& in = InputOf(msg);
  if (in.cursor == nullptr) return Status::Ok();  // not ours (any more)
  Cursor& cursor = *in.cursor;
  const int32_t partition = in.partition;
  if (msg.offset() < cursor.pos.next_offset()) return Status::Ok();  // applied before
  if (cursor.pos.next_offset() > 0 && msg.offset() > cursor.pos.next_offset()) {
    // The log start comes with every fetch response: no request to the broker here.
    int64_t low = -1;
    int64_t high = -1;
    const bool known =
        consumer_->get_watermark_offsets(in.topic->name, partition, &low, &high) == RdKafka::ERR_NO_ERROR;
    const int64_t lost = OffsetsLostToRetention(cursor.pos.next_offset(), msg.offset(), known ? low : -1);
    if (lost > 0) {
      spdlog::error("{}[{}]: offsets {}..{} were deleted by the broker before they were consumed; {} events lost",
                    in.topic->name, partition, cursor.pos.next_offset(), msg.offset() - 1, lost);
      metrics_.offsets_lost.Increment(static_cast<double>(lost));
    }
  }
  cursor.pos.set_next_offset(msg.offset() + 1);
  cursor.dirty = true;
  ++batch_ops_;

  v1::Envelope& e = envelope_;  // reused: parsing keeps the string buffers of the last event
  if (!e.ParseFromArray(msg.payload(), static_cast<int>(msg.len()))) {
    metrics_.Rejected(v1::RejectReason_Name(v1::UNDECODABLE)).Increment();
    DeadLetter(msg, v1::UNDECODABLE, "the record is not a creditwatch.v1.Envelope");
    return Status::Ok();
  }
  in.topic->Consumed(metrics_, e).Increment();
  const std::string_view record_key(static_cast<const char*>(msg.key_pointer()), msg.key_len());
  if (!record_key.empty() && !e.customer_id().empty() && record_key != e.customer_id()) {
    metrics_.Rejected(v1::RejectReason_Name(v1::KEY_MISMATCH)).Increment();
    DeadLetter(msg, v1::KEY_MISMATCH,
               fmt::format("record key '{}' differs from customer_id '{}'", record_key, e.customer_id()));
    return Status::Ok();
  }
  const int64_t wall = wall_ms_();
  if (e.event_time_ms() > wall + options_.max_future_skew_ms) {
    metrics_.Rejected(v1::RejectReason_Name(v1::EVENT_TIME_IN_FUTURE)).Increment();
    DeadLetter(
        msg, v1::EVENT_TIME_IN_FUTURE,
        fmt::format("event_time_ms {} is {} ms ahead of the clock", e.event_time_ms(), e.event_time_ms() - wall));
    return Status::Ok();
  }
  int64_t now = wall;
  if (options_.time_mode == TimeMode::kEventTime) {
    now = std::max(*in.watermark, e.event_time_ms());
    *in.watermark = now;
    cursor.pos.set_watermark_ms(now);
    if (in.timers != nullptr) {
      if (Status st = FireTimers(partition, *in.timers, now, /*exhaustive=*/true); !st.ok()) return st;
    }
  }
  Cached* c = nullptr;
  std::optional<Cached> scratch;  // for an event without a customer (rejected by the core)
  if (!e.customer_id().empty()) {
    if (Status st = Load(e.customer_id(), partition, &c); !st.ok()) return st;
  } else {
    c = &scratch.emplace();
  }
  // A customer's events mostly come in time order, and its state tells most re-deliveries
  // apart by itself (core::MayRedeliverForgotten): the core reports one of its latest ids
  // as a duplicate. An id leaves the ring only after it was archived: the others are
  // looked for in the archives of the batches not yet in RocksDB (a scan of their lists:
  // this path is rare), then in RocksDB (the customer's archive of ids).
  if (!e.event_id().empty() && core::MayRedeliverForgotten(c->state, e)) {
    const uint64_t h = core::StableHash(e.event_id());
    bool seen = std::ranges::find(batch_archived_ids_, h) != batch_archived_ids_.end() ||
                std::ranges::find(inflight_archived_ids_, h) != inflight_archived_ids_.end();
    if (!seen) {
      if (Status st = store_.SeenEvent(e.customer_id(), e.event_id(), e.event_time_ms(), &seen); !st.ok()) return st;
    }
    if (seen) {
      metrics_.duplicates.Increment();
      return Status::Ok();
    }
  }
  const bool was_hold = c->state.block_status() == v1::BlockStatus::HOLD;
  out_.Clear();
  const core::StepResult r = engine_.Apply(c->state, e, now, out_);
  switch (r.kind) {
    case core::StepKind::kDuplicate: metrics_.duplicates.Increment(); return Status::Ok();
    case core::StepKind::kRejected:
      metrics_.Rejected(v1::RejectReason_Name(r.rejection.reason)).Increment();
      DeadLetter(msg, r.rejection.reason, r.rejection.detail);
      return Status::Ok();
    case core::StepKind::kApplied: break;
  }
  if (r.unknown_allocations > 0) {
    spdlog::warn("{}: payment allocated to {} unknown invoice(s), kept as unapplied cash", e.customer_id(),
                 r.unknown_allocations);
  }
  // Ids are archived a customer's checkpoint at a time (WriteDirty), or when the ring of
  // recent ids would otherwise forget one not archived yet.
  if (++c->unarchived >= core::kRecentEventIds) ArchiveEventIds(*c, wall);
  metrics_.last_event_time_seconds.Set(static_cast<double>(e.event_time_ms()) / 1000.0);
  Emit(out_, was_hold, c->state, e.event_time_ms());
  Reschedule(*c, r.next_wake_ms);
  const size_t step_start = step_bytes_->size();
  store::AppendEventStep({static_cast<const char*>(msg.payload()), msg.len()}, now, c->state.timer_ms(), *step_bytes_);
  LogStep(*c, step_start);
  MarkDirty(*c);
  return Status::Ok();
}

// Writes the batch's changed customers and their deadline-index moves in key order:
// with the memtables' insert hints, sorted inserts search from the previous one's
// position instead of from the top of the skiplist. A changed customer is written as
// its steps in this batch, or as a checkpoint of its whole state (which replaces its
// logged steps) when it is new to RocksDB or has logged checkpoint_steps steps.
void StreamEngine::WriteDirty() {
  std::sort(dirty_.begin(), dirty_.end(), [](const Dirty& a, const Dirty& b) {
    return a.prefix != b.prefix ? a.prefix < b.prefix : *a.c->id < *b.c->id;
  });
  timer_moves_.clear();
  size_t checkpoints = 0;
  size_t steps_logged = 0;
  // The customers' nodes have mostly left the caches since their events: fetch the parts
  // read here (the key, the state message's scalars, which come last in it, and the
  // node's own fields) a few customers ahead.
  constexpr size_t kAhead = 4;
  auto prefetch = [](const Cached* c) {
    __builtin_prefetch(&c->id);
    const char* from = reinterpret_cast<const char*>(&c->state + 1) - 128;
    core::PrefetchBytes(from, static_cast<size_t>(reinterpret_cast<const char*>(c + 1) - from));
  };
  for (size_t k = 0; k < std::min(kAhead, dirty_.size()); ++k) prefetch(dirty_[k].c);
  const int64_t wall = wall_ms_();
  for (size_t k = 0; k < dirty_.size(); ++k) {
    if (k + kAhead < dirty_.size()) prefetch(dirty_[k + kAhead].c);
    Cached* c = dirty_[k].c;
    const uint32_t seq = c->state.step_seq();
    if (!c->stored || seq - c->checkpoint_seq >= options_.checkpoint_steps) {
      batch_->PutCustomerDeferred(*c->id, c->state, c->handoff);
      if (c->unarchived > 0) ArchiveEventIds(*c, wall);
      inflight_dirty_.push_back(c);
      for (uint32_t s = c->checkpoint_seq; s < c->logged_seq; ++s) step_writes_.push_back({*c->id, s, false, {}});
      c->checkpoint_seq = seq;
      c->stored = true;
      ++checkpoints;
    } else {
      uint32_t s = c->logged_seq;
      for (int32_t i = c->first_step; i >= 0; i = steps_[static_cast<size_t>(i)].next) {
        const PendingStep& p = steps_[static_cast<size_t>(i)];
        step_writes_.push_back({*c->id, s++, true, std::string_view(*step_bytes_).substr(p.offset, p.size)});
      }
      steps_logged += s - c->logged_seq;
    }
    c->logged_seq = seq;
    c->first_step = c->last_step = -1;
    c->dirty = false;
    // The board learns a customer's status when the engine first writes it, then each change.
    const bool changed = c->state.block_version() != c->published_block_version ||
                         c->state.release_until_ms() != c->published_release_until_ms;
    if (changed || !c->on_board) {
      batch_views_.push_back({*c->id, store::BlockView::Of(c->state), changed});
      c->published_block_version = c->state.block_version();
      c->published_release_until_ms = c->state.release_until_ms();
      c->on_board = true;
    }
    const int64_t wake_ms = c->state.timer_ms();
    if (wake_ms == c->stored_timer_ms) continue;
    const int32_t p = c->state.partition();
    if (c->stored_timer_ms > 0) timer_moves_.push_back({p, c->stored_timer_ms, c->id, false});
    if (wake_ms != 0) timer_moves_.push_back({p, wake_ms, c->id, true});
    c->stored_timer_ms = wake_ms;
  }
  timer_moves_.insert(timer_moves_.end(), stale_timers_.begin(), stale_timers_.end());
  stale_timers_.clear();
  metrics_.state_checkpoints.Increment(static_cast<double>(checkpoints));
  metrics_.state_steps_logged.Increment(static_cast<double>(steps_logged));
  dirty_.clear();
  steps_.clear();  // step_bytes_ stays until the batch is committed: step_writes_ point into it
  // The order of the timers' keys: partition, fire time, customer.
  std::sort(timer_moves_.begin(), timer_moves_.end(), [](const TimerMove& a, const TimerMove& b) {
    return std::tie(a.partition, a.fire_ms, *a.customer) < std::tie(b.partition, b.fire_ms, *b.customer);
  });
  for (const TimerMove& m : timer_moves_) {
    if (m.put) {
      batch_->PutTimer(m.partition, m.fire_ms, *m.customer);
    } else {
      batch_->DeleteTimer(m.partition, m.fire_ms, *m.customer);
    }
  }
}

// Acknowledgements come nearly in sequence order: a run of consecutive sequence numbers
// goes with one range tombstone (in a backlog, most of them; they were an eighth of
// the committing thread as single deletes). Short runs stay single deletes: every
// range tombstone costs each later read of the outbox until it is flushed.
void StreamEngine::DeleteAcked(std::vector<uint64_t>& acked) {
  constexpr size_t kMinRun = 16;
  std::sort(acked.begin(), acked.end());
  for (size_t i = 0; i < acked.size();) {
    size_t j = i + 1;
    while (j < acked.size() && acked[j] == acked[j - 1] + 1) ++j;
    if (j - i >= kMinRun) {
      batch_->DeleteOutboxRange(acked[i], acked[j - 1] + 1);
    } else {
      for (size_t k = i; k < j; ++k) batch_->DeleteOutbox(acked[k]);
    }
    i = j;
  }
}

Status StreamEngine::CommitBatch() {
  if (!fatal_.ok()) return fatal_;
  std::vector<uint64_t> acked = drainer_ ? drainer_->TakeAcked() : std::vector<uint64_t>{};
  if (batch_ops_ == 0 && dirty_.empty() && acked.empty()) return Status::Ok();
  // One batch in flight: the previous one must be durable, and its outputs handed to
  // the producer, before this one is written (and before its states are handed off).
  if (Status st = FinishInFlight(); !st.ok()) return st;
  WriteDirty();
  for (auto& [key, cursor] : cursors_) {
    if (!cursor.dirty) continue;
    batch_->PutPosition(key.first, key.second, cursor.pos);
    cursor.dirty = false;
  }
  DeleteAcked(acked);
  outbox_depth_ -= static_cast<int64_t>(acked.size());
  // Counters are written, and their gauges set, when they changed: at light load a batch
  // holds a few events, and rewriting every counter in each one was most of what it wrote.
  auto put_counter = [&](std::string_view name, int64_t value, int64_t& stored) {
    if (value == stored) return false;
    stored = value;
    batch_->PutCounter(name, value);
    return true;
  };
  if (put_counter(kOnHoldCounter, on_hold_, stored_on_hold_)) {
    metrics_.customers_on_hold.Set(static_cast<double>(on_hold_));
  }
  for (const auto& [rule, n] : active_alerts_) {
    if (put_counter(ActiveCounter(rule), n, stored_active_alerts_[rule])) {
      metrics_.AlertsActive(v1::Rule_Name(static_cast<v1::Rule>(rule))).Set(static_cast<double>(n));
    }
  }
  if (put_counter(kTimersCounter, timers_pending_, stored_timers_pending_)) {
    metrics_.timers_pending.Set(static_cast<double>(timers_pending_));
  }
  std::swap(batch_, inflight_batch_);
  inflight_outbox_.swap(batch_outbox_);
  inflight_batch_->PutOutboxDeferred(&inflight_outbox_);
  // The batch before is committed (FinishInFlight above): its step writes and encodings
  // are done with, and take the next batch's.
  inflight_step_writes_.swap(step_writes_);
  inflight_step_bytes_.swap(step_bytes_);  // the pointers: the views stay valid
  inflight_batch_->PutStepsDeferred(&inflight_step_writes_);
  step_writes_.clear();
  step_bytes_->clear();
  inflight_archived_ids_.swap(batch_archived_ids_);  // emptied by FinishInFlight above
  inflight_views_.swap(batch_views_);
  inflight_produced_ = 0;
  committer_->Submit(inflight_batch_.get(), [this] {
    // On the committing thread, once the batch is durable: its outputs go to the producer
    // at once, not when the loop next gets to FinishInFlight (a whole batch later while it
    // is behind). In order: the first the producer does not take, and those after it, are
    // left to the loop.
    size_t n = 0;
    while (drainer_ != nullptr && n < inflight_outbox_.size() &&
           drainer_->ProduceCommitted(inflight_outbox_[n].first, inflight_outbox_[n].second)) {
      ++n;
    }
    inflight_produced_ = n;
  });
  metrics_.batches.Increment();
  batch_ops_ = 0;
  ++batch_no_;
  if (cache_.size() > options_.cache_customers) EvictCustomers();
  metrics_.outbox_depth.Set(static_cast<double>(outbox_depth_));
  metrics_.status_board_customers.Set(static_cast<double>(board_.size()));
  return Status::Ok();
}

// Bounded memory: to three quarters of the bound or below, least recently used first (by
// batch), never a customer of the batch in flight. Choosing by slot position instead
// would leave the survivors crowded at one end of the cache's slots, and its probes long.
void StreamEngine::EvictCustomers() {
  const size_t target = options_.cache_customers * 3 / 4;
  std::vector<uint64_t> touched;
  touched.reserve(cache_.size());
  cache_.ForEach([&touched](const CustomerCache::Node& n) { touched.push_back(n.value.touched); });
  // Every customer used before the `excess`-th oldest's batch goes, that batch too: the
  // whole batch or none, so what stays does not depend on where customers sit.
  const size_t excess = cache_.size() - target;
  std::nth_element(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(excess - 1), touched.end());
  // All are clean now except the batch in flight's (touched == batch_no_ - 1).
  const uint64_t cutoff = std::min(touched[excess - 1] + 1, batch_no_ - 1);
  cache_.EraseIf([cutoff](const CustomerCache::Node& n) { return n.value.touched < cutoff; });
}

Status StreamEngine::FinishInFlight() {
  if (!committer_->InFlight()) return Status::Ok();
  size_t helped = 0;
  for (auto it = inflight_dirty_.rbegin(); it != inflight_dirty_.rend(); ++it) {
    if (++helped % 32 == 0 && committer_->Done()) break;
    (*it)->handoff.Help();
  }
  inflight_dirty_.clear();
  const auto t0 = std::chrono::steady_clock::now();
  if (Status st = committer_->Wait(); !st.ok()) return st;
  metrics_.loop_wait_commit_seconds.Increment(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  for (size_t i = 0; i < inflight_outbox_.size(); ++i) {
    const auto& [seq, rec] = inflight_outbox_[i];
    if (i < inflight_produced_) {
      drainer_->Track(seq, rec);
    } else {
      drainer_->Send(seq, rec);
    }
  }
  for (const BoardUpdate& u : inflight_views_) {
    if (u.changed) {
      board_.Publish(u.customer_id, u.view);
    } else {
      board_.Offer(u.customer_id, u.view);
    }
  }
  inflight_outbox_.clear();
  inflight_archived_ids_.clear();
  inflight_views_.clear();
  return Status::Ok();
}

void StreamEngine::Periodic() {
  const int64_t now = wall_ms_();
  if (now - last_periodic_ms_ < 1000) return;
  last_periodic_ms_ = now;
  const int64_t oldest = drainer_->OldestInFlightSinceMs();
  metrics_.outbox_oldest_age_seconds.Set(oldest < 0 ? 0.0
                                                    : static_cast<double>(std::max<int64_t>(now - oldest, 0)) / 1000.0);
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [key, cursor] : cursors_) {
    int64_t low = 0;
    int64_t high = 0;
    if (consumer_->get_watermark_offsets(key.first, key.second, &low, &high) == RdKafka::ERR_NO_ERROR && high >= 0) {
      metrics_.ConsumerLag(key.first, key.second)
          .Set(static_cast<double>(std::max<int64_t>(high - cursor.pos.next_offset(), 0)));
    }
    if (cursor.pos.next_offset() > 0) {
      offsets.push_back(RdKafka::TopicPartition::create(key.first, key.second, cursor.pos.next_offset()));
    }
  }
  // Group offsets are for lag monitoring only; positions come from RocksDB.
  if (!offsets.empty()) consumer_->commitAsync(offsets);
  RdKafka::TopicPartition::destroy(offsets);
  const store::StoreStats st = store_.Stats();
  metrics_.rocksdb_live_bytes.Set(static_cast<double>(st.live_data_bytes));
  metrics_.rocksdb_pending_compaction_bytes.Set(static_cast<double>(st.pending_compaction_bytes));
  metrics_.rocksdb_block_cache_usage_bytes.Set(static_cast<double>(st.block_cache_usage_bytes));
  metrics_.rocksdb_block_cache_capacity_bytes.Set(static_cast<double>(st.block_cache_capacity_bytes));
}

bool StreamEngine::BrokerReachable() {
  std::lock_guard<std::mutex> lock(probe_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - probe_at_ < std::chrono::seconds(1)) return broker_ok_;
  RdKafka::Metadata* md = nullptr;
  const RdKafka::ErrorCode err = drainer_->producer()->metadata(false, nullptr, &md, 2000);
  delete md;
  if (broker_ok_ && err != RdKafka::ERR_NO_ERROR)
    spdlog::warn("the Kafka brokers do not answer: {}", RdKafka::err2str(err));
  broker_ok_ = err == RdKafka::ERR_NO_ERROR;
  probe_at_ = std::chrono::steady_clock::now();
  return broker_ok_;
}

Status StreamEngine::Run(const std::atomic<bool>& stop) {
  Status st = RunLoop(stop);
  if (!st.ok() && fatal_.ok()) fatal_ = st;  // the consumer's close() must not commit after this
  return st;
}

Status StreamEngine::RunLoop(const std::atomic<bool>& stop) {
  store::RunAsBatchWork();  // lookups and scrapes are answered ahead of the batch loop
  while (!stop.load() && fatal_.ok()) {
    if (committer_->Done()) {
      if (Status st = FinishInFlight(); !st.ok()) return st;
    }
    const auto t0 = std::chrono::steady_clock::now();
    int batch_records = 0;
    if (options_.time_mode == TimeMode::kLive) {
      const int64_t now = wall_ms_();
      // The deadline index is kept per assigned partition (loaded on assignment, dropped
      // on revocation); FireTimers returns at once when nothing is due.
      for (auto& [p, index] : timers_) {
        if (Status st = FireTimers(p, index, now, /*exhaustive=*/false); !st.ok()) return st;
      }
    }
    // A batch ends at max_batch records, when the local queue runs dry, or at the
    // pacer's time cap: every record of a batch waits for its commit.
    auto batch_deadline = std::chrono::steady_clock::time_point::max();
    auto end = BatchPacer::End::kQueueDry;
    int dry_waits = pacer_.dry_waits();
    int dry_timeout = 0;
    for (int i = 0; fatal_.ok(); ++i) {
      // The clock is read every 16 records: a backlog takes one in about 10 µs.
      if (i == options_.max_batch || (i % 16 == 15 && std::chrono::steady_clock::now() >= batch_deadline)) {
        end = BatchPacer::End::kCap;
        break;
      }
      // While a batch is being written, wait briefly so its outputs are tracked soon after
      // (the committing thread has produced them) and the next batch can be submitted.
      const int timeout = i > 0 ? dry_timeout : committer_->InFlight() ? 1 : options_.poll_timeout_ms;
      dry_timeout = 0;
      std::unique_ptr<RdKafka::Message> msg = NextMessage(timeout);
      if (i == 0) batch_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(pacer_.cap_ms());
      const ErrorClass cls = Classify(msg->err());
      if (cls == ErrorClass::kNone) {
        if (Status st = ProcessMessage(*msg); !st.ok()) return st;
        ++batch_records;
        continue;
      }
      if (msg->err() == RdKafka::ERR__TIMED_OUT) {
        if (i == 0 || dry_waits == 0) break;
        --dry_waits;
        dry_timeout = 1;
        continue;
      }
      if (cls == ErrorClass::kBenign) continue;
      metrics_.consume_errors.Increment();
      if (cls == ErrorClass::kOffsetLost) {
        // Counted in offsets_lost when the next record shows how many were skipped.
        spdlog::error("consumer: position lost to retention: {}", msg->errstr());
      } else if (cls == ErrorClass::kFatal) {
        return Status::Error(fmt::format("consumer: fatal error: {}", msg->errstr()));
      } else {
        spdlog::warn("consumer: {}", msg->errstr());
        break;
      }
    }
    if (!fatal_.ok()) break;
    pacer_.BatchEnded(end);
    if (batch_records > 0) metrics_.batch_records.Observe(static_cast<double>(batch_records));
    drainer_->Poll();
    const uint64_t committed_before = batch_no_;
    if (Status st = CommitBatch(); !st.ok()) return st;
    // Only batches that committed work count: idle polls would drown the distribution.
    if (batch_no_ != committed_before) {
      metrics_.batch_duration.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    Periodic();
  }
  if (!fatal_.ok()) return fatal_;
  spdlog::info("stopping: committing the last batch and draining {} outputs", drainer_->InFlight());
  if (Status st = CommitBatch(); !st.ok()) return st;
  if (Status st = FinishInFlight(); !st.ok()) return st;
  const bool drained = drainer_->Drain(options_.shutdown_drain_ms);
  if (!drained) spdlog::warn("{} outputs not acknowledged yet; they stay in the outbox", drainer_->InFlight());
  if (Status st = CommitBatch(); !st.ok()) return st;
  if (Status st = FinishInFlight(); !st.ok()) return st;
  ahead_.clear();  // not applied: read again after a restart
  consumer_->close();
  consumer_.reset();
  ready_ = false;
  spdlog::info("stopped cleanly");
  return Status::Ok();
}

}  // namespace creditwatch::stream
