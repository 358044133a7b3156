#include "store/async_committer.h"

#include <pthread.h>

#include "store/scheduling.h"

namespace creditwatch::store {

AsyncCommitter::AsyncCommitter(CreditStore& store) : store_(store), thread_([this] { Loop(); }) {}

AsyncCommitter::~AsyncCommitter() {
  static_cast<void>(Wait());  // the caller has seen (or chose to drop) the result
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AsyncCommitter::Submit(StoreBatch* batch, std::function<void()> after_commit) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_ = batch;
    after_commit_ = std::move(after_commit);
    finished_ = false;
  }
  in_flight_ = true;
  cv_.notify_all();
}

Status AsyncCommitter::Wait() {
  if (!in_flight_) return Status::Ok();
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return finished_; });
  in_flight_ = false;
  return result_;
}

bool AsyncCommitter::Done() {
  if (!in_flight_) return true;
  std::lock_guard<std::mutex> lock(mu_);
  return finished_;
}

void AsyncCommitter::Loop() {
  pthread_setname_np(pthread_self(), "cw-commit");  // as top -H and perf show it
  RunAsBatchWork();
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || pending_ != nullptr; });
    if (pending_ == nullptr) return;  // stopping, nothing left
    StoreBatch* batch = pending_;
    std::function<void()> after = std::move(after_commit_);
    after_commit_ = nullptr;
    lock.unlock();
    Status st = store_.Commit(*batch);
    if (st.ok() && after) after();
    lock.lock();
    pending_ = nullptr;
    result_ = std::move(st);
    finished_ = true;
    cv_.notify_all();
  }
}

}  // namespace creditwatch::store
