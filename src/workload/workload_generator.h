// A seeded synthetic accounts-receivable workload: customers across segments and risk
// classes with limits and payment terms, orders that become invoices, and payments whose
// timing follows a behaviour profile per customer. Same options, same event sequence,
// byte for byte (own PRNG and integer arithmetic only). Not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

#include "creditwatch/v1/events.pb.h"

namespace creditwatch::workload {

enum class Profile : int {
  kGood = 0,        // pays on time
  kSlow,            // pays 5-20 days late, steadily
  kDeteriorating,   // pays on time at first, then later and later
  kBouncer,         // some payments bounce and are paid again
  kOverLimit,       // orders large amounts against a small limit
  kDisputer,        // disputes part of some invoices
  kPromiseBreaker,  // misses due dates, promises to pay and often breaks the promise
  kCount
};
inline constexpr int kProfileCount = static_cast<int>(Profile::kCount);
const char* ProfileName(Profile p);

struct WorkloadOptions {
  uint64_t seed = 42;                    // Default: 42
  int customers = 1000;                  // Default: 1000
  int64_t start_ms = 1'767'225'600'000;  // Default: 2026-01-01T00:00:00Z; first event time
  std::string currency = "EUR";          // Default: EUR
  std::string id_prefix = "CUST";        // customer ids: CUST-000042
  // Relative weights of the profiles, in Profile order. Default: mostly good payers.
  std::array<int, kProfileCount> mix = {50, 15, 10, 7, 8, 5, 5};
  // Mean days between orders per customer. Default: 6.
  int order_interval_days = 6;
  // Per mille of customers put on manual hold (released a few days later). Default: 20.
  int manual_hold_per_mille = 20;
  // Mean days between credit limit reviews per customer. Default: 30.
  int limit_review_days = 30;
};

class WorkloadGenerator {
 public:
  explicit WorkloadGenerator(WorkloadOptions options);

  // The next event in event-time order. The stream never ends.
  void Next(v1::Envelope* out);
  // Event time of the next event.
  int64_t PeekTime() const { return queue_.top().at_ms; }

  Profile ProfileOf(int customer) const { return customers_[static_cast<size_t>(customer)].profile; }
  const WorkloadOptions& options() const { return options_; }

 private:
  enum class Action : uint8_t {
    kUpsert,
    kOrder,
    kInvoice,
    kPay,
    kReverse,
    kRepay,
    kDispute,
    kResolveDispute,
    kPromise,
    kHold,
    kRelease,
    kLimitReview,
    kCreditNote,
    kCancelOrder
  };
  struct Task {
    int64_t at_ms;
    uint64_t seq;  // tie-break: deterministic order
    int customer;
    Action action;
    int64_t amount;
    int ref;  // invoice / payment / order / dispute number for the customer
    bool operator>(const Task& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };
  struct Customer {
    std::string id;
    Profile profile;
    int64_t limit;
    int terms_days;
    int orders = 0;
    int invoices = 0;
    int payments = 0;
    int disputes = 0;
    int promises = 0;
    int events = 0;
  };

  uint64_t Rand();
  int64_t Uniform(int64_t lo, int64_t hi);  // inclusive
  void Schedule(int64_t at, int customer, Action a, int64_t amount = 0, int ref = 0);
  void Fill(const Task& t, v1::Envelope* e);
  int PayDelayDays(const Customer& c);
  void SetMoney(v1::Money* m, int64_t minor) const;

  WorkloadOptions options_;
  uint64_t rng_;
  uint64_t seq_ = 0;
  std::vector<Customer> customers_;
  std::priority_queue<Task, std::vector<Task>, std::greater<>> queue_;
};

}  // namespace creditwatch::workload
