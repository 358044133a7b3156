// AsyncCommitter: commits one StoreBatch at a time on its own thread, so the engine loop
// folds the next poll batch while RocksDB writes the previous one (WAL and memtable
// inserts). At most one batch is in flight. Thread-safety: Submit, Wait and Done belong
// to one caller thread; the batch, and what the after-commit task reads or writes, are
// not touched by the caller between Submit and Wait (Wait orders the task's writes
// before the caller's reads).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/status.h"
#include "store/credit_store.h"

namespace creditwatch::store {

class AsyncCommitter {
 public:
  explicit AsyncCommitter(CreditStore& store);
  ~AsyncCommitter();  // waits for the batch in flight
  AsyncCommitter(const AsyncCommitter&) = delete;
  AsyncCommitter& operator=(const AsyncCommitter&) = delete;

  // REQUIRES: nothing in flight (Wait() returned since the last Submit).
  // `after_commit`, when given, runs on the committing thread once the batch is durable
  // (not when the commit failed), before Wait() returns.
  void Submit(StoreBatch* batch, std::function<void()> after_commit = {});
  // Blocks until the batch in flight is committed; its status (Ok when none was).
  [[nodiscard]] Status Wait();
  bool InFlight() const { return in_flight_; }
  // True when the batch in flight has finished (Wait() will not block).
  bool Done();

 private:
  void Loop();

  CreditStore& store_;
  std::mutex mu_;
  std::condition_variable cv_;
  StoreBatch* pending_ = nullptr;  // submitted, not yet committed
  std::function<void()> after_commit_;
  bool finished_ = false;  // the last submitted batch is committed
  bool stop_ = false;
  Status result_;
  bool in_flight_ = false;  // caller-side view
  std::thread thread_;
};

}  // namespace creditwatch::store
