#include "app/gen_command.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/util/delimited_message_util.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "app/commands.h"

namespace creditwatch::app {

Status KafkaPublisher::Open(const std::string& bootstrap) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto& [k, v] : std::map<std::string, std::string>{{"bootstrap.servers", bootstrap},
                                                               {"linger.ms", "5"},
                                                               {"enable.idempotence", "true"},
                                                               {"partitioner", "murmur2_random"},
                                                               {"queue.buffering.max.messages", "500000"}}) {
    if (conf->set(k, v, err) != RdKafka::Conf::CONF_OK) return Status::Error(err);
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) return Status::Error(err);
  return Status::Ok();
}

Status KafkaPublisher::Publish(const std::string& topic, const v1::Envelope& e) {
  bytes_.clear();
  e.SerializeToString(&bytes_);
  for (;;) {
    const auto err =
        producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, bytes_.data(),
                           bytes_.size(), e.customer_id().data(), e.customer_id().size(), 0, nullptr, nullptr);
    if (err == RdKafka::ERR_NO_ERROR) break;
    if (err != RdKafka::ERR__QUEUE_FULL) return Status::Error(fmt::format("produce: {}", RdKafka::err2str(err)));
    producer_->poll(10);
  }
  producer_->poll(0);
  return Status::Ok();
}

Status KafkaPublisher::Flush(int timeout_ms) {
  if (producer_->flush(timeout_ms) != RdKafka::ERR_NO_ERROR) {
    return Status::Error(fmt::format("{} events not delivered", producer_->outq_len()));
  }
  return Status::Ok();
}

int RunGen(const GenOptions& o_in, const std::atomic<bool>& stop) {
  GenOptions o = o_in;
  if (o.live) {
    if (o.rate > 0) {
      spdlog::error("gen: --live writes each event when its time comes: drop --rate");
      return 2;
    }
    if (o.history_days < 0) {
      spdlog::error("gen: --history-days must be 0 or more");
      return 2;
    }
    o.workload.start_ms = WallMs() - int64_t{o.history_days} * 86'400'000;
  }
  workload::WorkloadGenerator gen(o.workload);
  KafkaPublisher kafka;
  std::ofstream file;
  std::unique_ptr<google::protobuf::io::OstreamOutputStream> zout;
  if (!o.out_file.empty()) {
    file.open(o.out_file, std::ios::binary | std::ios::trunc);
    if (!file) {
      spdlog::error("cannot write {}", o.out_file);
      return 2;
    }
    zout = std::make_unique<google::protobuf::io::OstreamOutputStream>(&file);
  } else if (o.bootstrap.empty()) {
    spdlog::error("gen: give --bootstrap (Kafka) or --out (file)");
    return 2;
  } else if (Status st = kafka.Open(o.bootstrap); !st.ok()) {
    spdlog::error("gen: {}", st.message());
    return 2;
  }
  v1::Envelope e;
  const auto start = std::chrono::steady_clock::now();
  int64_t n = 0;
  for (; (o.events == 0 || n < o.events) && !stop.load(); ++n) {
    if (o.rate > 0) {
      const auto due = start + std::chrono::duration<double>(static_cast<double>(n) / o.rate);
      std::this_thread::sleep_until(std::chrono::time_point_cast<std::chrono::steady_clock::duration>(due));
    }
    gen.Next(&e);
    if (o.live) {
      // Not before its time: an engine in live mode refuses events from the future.
      for (int64_t wait = e.event_time_ms() - WallMs(); wait > 0 && !stop.load(); wait = e.event_time_ms() - WallMs()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(wait, 200)));
      }
      if (stop.load()) break;
    }
    if (zout) {
      google::protobuf::util::SerializeDelimitedToZeroCopyStream(e, zout.get());
    } else if (Status st = kafka.Publish(o.topic, e); !st.ok()) {
      spdlog::error("gen: {}", st.message());
      return 1;
    }
  }
  if (!zout) {
    if (Status st = kafka.Flush(30000); !st.ok()) {
      spdlog::error("gen: {}", st.message());
      return 1;
    }
  }
  zout.reset();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("gen: wrote {} events in {:.2f} s", n, secs);
  return 0;
}

}  // namespace creditwatch::app
