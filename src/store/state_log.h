// A customer's state is its stored checkpoint plus the steps logged since then. The
// engine writes a changed customer's whole state only every few steps (a checkpoint);
// in between, each batch logs the steps themselves: the input record's bytes, or a fired
// timer, with the clock the step ran with. Replaying them in order through the core,
// which is deterministic, gives back the state the engine held. This keeps the cost of
// a step near the size of its input, where writing the whole state (kilobytes, with its
// serialization and compaction) cost more than the step itself.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/credit_engine.h"
#include "core/status.h"
#include "creditwatch/v1/engine.pb.h"
#include "creditwatch/v1/state.pb.h"
#include "store/credit_store.h"

namespace creditwatch::store {

// What the engine does to a state after a step, and what a replay does again: the core's
// next wake becomes the state's timer, and the step is counted.
inline void FinishStep(v1::CustomerState& state, int64_t next_wake_ms) {
  state.set_timer_ms(next_wake_ms);
  state.set_step_seq(state.step_seq() + 1);
}

// Appends a logged applied event (the record's bytes, as consumed) to `out`, encoded as
// a LoggedStep: written directly, so the record is copied once.
// `wake_ms` is the customer's deadline after the step (0: none), as the index stores it.
void AppendEventStep(std::string_view record, int64_t now_ms, int64_t wake_ms, std::string& out);
// Appends a logged fired timer to `out`, encoded as a LoggedStep.
void AppendTickStep(int64_t fire_ms, int64_t wake_ms, std::string& out);

// The deadline the index holds is not known (the last step was logged without it).
inline constexpr int64_t kUnknownWake = -1;

// Replays `steps` (logged after `state`'s checkpoint, in order) onto `state`. A step the
// core no longer applies (the rules changed since it was logged) is skipped with a
// warning and still counted; a step that does not decode is an error. `logged_wake`,
// when given, receives the last step's logged deadline (kUnknownWake when it has none):
// what the deadline index holds, which a replay under changed rules may not reproduce.
Status ReplaySteps(const core::CreditEngine& engine, std::string_view customer_id,
                   const std::vector<std::string>& steps, v1::CustomerState& state, int64_t* logged_wake = nullptr);

// A customer's current state: its checkpoint and the steps logged since, read from one
// snapshot, replayed. *found is false for a customer never stored.
Status ReadCustomer(const CreditStore& store, const core::CreditEngine& engine, std::string_view customer_id,
                    v1::CustomerState* state, bool* found);

}  // namespace creditwatch::store
