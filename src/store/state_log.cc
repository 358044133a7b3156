#include "store/state_log.h"

#include <fmt/format.h>
#include <google/protobuf/io/coded_stream.h>
#include <spdlog/spdlog.h>

namespace creditwatch::store {

namespace {
// A field's key (number and wire type) and a varint after it, in protobuf's wire format:
// the varint is the field's value, or the length of a length-delimited one.
enum WireType : uint32_t { kVarint = 0, kLengthDelimited = 2 };
void AppendKeyAndVarint(std::string& out, uint32_t field, WireType type, uint64_t value) {
  using google::protobuf::io::CodedOutputStream;
  uint8_t buf[2 * 10];  // two varints of at most 10 bytes each
  uint8_t* end = CodedOutputStream::WriteVarint32ToArray((field << 3) | type, buf);
  end = CodedOutputStream::WriteVarint64ToArray(value, end);
  out.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(end - buf));
}
}  // namespace

void AppendEventStep(std::string_view record, int64_t now_ms, int64_t wake_ms, std::string& out) {
  AppendKeyAndVarint(out, v1::LoggedStep::kNowMsFieldNumber, kVarint, static_cast<uint64_t>(now_ms));
  AppendKeyAndVarint(out, v1::LoggedStep::kEventFieldNumber, kLengthDelimited, record.size());
  out.append(record);
  AppendKeyAndVarint(out, v1::LoggedStep::kWakeMsFieldNumber, kVarint, static_cast<uint64_t>(wake_ms));
}

void AppendTickStep(int64_t fire_ms, int64_t wake_ms, std::string& out) {
  AppendKeyAndVarint(out, v1::LoggedStep::kNowMsFieldNumber, kVarint, static_cast<uint64_t>(fire_ms));
  AppendKeyAndVarint(out, v1::LoggedStep::kTickMsFieldNumber, kVarint, static_cast<uint64_t>(fire_ms));
  AppendKeyAndVarint(out, v1::LoggedStep::kWakeMsFieldNumber, kVarint, static_cast<uint64_t>(wake_ms));
}

Status ReplaySteps(const core::CreditEngine& engine, std::string_view customer_id,
                   const std::vector<std::string>& steps, v1::CustomerState& state, int64_t* logged_wake) {
  v1::LoggedStep step;
  v1::Envelope event;
  core::StepOutputs discarded;  // sent when the step was first applied
  for (const std::string& bytes : steps) {
    if (!step.ParseFromString(bytes)) {
      return Status::Error(fmt::format("customer '{}': logged step {} does not parse", customer_id, state.step_seq()));
    }
    if (logged_wake != nullptr) *logged_wake = step.has_wake_ms() ? step.wake_ms() : kUnknownWake;
    discarded.Clear();
    core::StepResult r;
    if (step.step_case() == v1::LoggedStep::kEvent) {
      if (!event.ParseFromString(step.event())) {
        return Status::Error(
            fmt::format("customer '{}': the event of logged step {} does not parse", customer_id, state.step_seq()));
      }
      r = engine.Apply(state, event, step.now_ms(), discarded);
    } else if (step.step_case() == v1::LoggedStep::kTickMs) {
      r = engine.Tick(state, step.tick_ms(), discarded);
    } else {
      return Status::Error(fmt::format("customer '{}': logged step {} is empty", customer_id, state.step_seq()));
    }
    if (r.kind != core::StepKind::kApplied) {
      spdlog::warn("customer '{}': logged step {} is no longer applied (the rules changed since); skipped", customer_id,
                   state.step_seq());
      state.set_step_seq(state.step_seq() + 1);
      continue;
    }
    FinishStep(state, r.next_wake_ms);
  }
  return Status::Ok();
}

Status ReadCustomer(const CreditStore& store, const core::CreditEngine& engine, std::string_view customer_id,
                    v1::CustomerState* state, bool* found) {
  std::vector<std::string> steps;
  if (Status st = store.GetCustomer(customer_id, state, found, &steps); !st.ok() || !*found) return st;
  return ReplaySteps(engine, customer_id, steps, *state);
}

}  // namespace creditwatch::store
