// Properties over random event sequences for one customer.
#include <rapidcheck.h>
#include <rapidcheck/catch.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "core/credit_engine.h"
#include "core/ledger.h"
#include "support/harness.h"

using namespace cwtest;

namespace {

struct Op {
  int kind;
  int a;
  int b;
  int dt_hours;
};

void showValue(const Op& op, std::ostream& os) {
  os << "{kind " << op.kind % 12 << ", a " << op.a << ", b " << op.b << ", dt " << op.dt_hours << "h}";
}

// Turns random ops into a plausible event history (ids drawn from small pools so
// payments, disputes and reversals hit real invoices and orders).
std::vector<v1::Envelope> Build(const std::vector<Op>& ops) {
  Events ev("R-1");
  std::vector<v1::Envelope> out;
  int64_t t = kT0;
  out.push_back(ev.Customer(t, 5'000'000));
  for (const auto& op : ops) {
    t += int64_t{op.dt_hours % 240} * 3'600'000;
    const std::string inv = "I" + std::to_string(op.a % 8);
    const int64_t amount = 1'000 + int64_t{op.b % 2'000'000};
    switch (op.kind % 12) {
      case 0: out.push_back(ev.Invoice(t, inv, amount, t + (op.b % 60) * kDay)); break;
      case 1: {
        // Ids from a small pool, so reversals find them; some payments split over two invoices.
        const std::string id = "P" + std::to_string(op.b % 12);
        const std::string other = "I" + std::to_string((op.a + 1) % 8);
        out.push_back(op.a % 3 == 0 ? ev.Payment(t, id, amount, {{inv, amount / 2}, {other, amount - amount / 2}})
                                    : ev.Payment(t, id, amount, {{inv, amount}}));
        break;
      }
      case 2: out.push_back(ev.Order(t, "O" + std::to_string(op.a % 6), amount)); break;
      case 3: out.push_back(ev.OrderCancelled(t, "O" + std::to_string(op.a % 6))); break;
      case 4: out.push_back(ev.Reversal(t, "P" + std::to_string(op.b % 12))); break;
      case 5: out.push_back(ev.Dispute(t, "D" + std::to_string(op.b % 5), inv, amount)); break;
      case 6:
        out.push_back(
            ev.DisputeResolved(t, "D" + std::to_string(op.b % 5),
                               op.a % 2 ? v1::DisputeResolved::CREDITED : v1::DisputeResolved::CUSTOMER_PAYS));
        break;
      case 7: out.push_back(ev.Promise(t, "PR" + std::to_string(op.b % 4), amount, t + (op.a % 10) * kDay)); break;
      case 8: out.push_back(ev.Limit(t, amount * 3)); break;
      case 9:
        out.push_back(op.a % 2 ? ev.Hold(t, op.b % 3 ? t + kDay : 0) : ev.Release(t, op.b % 2 ? t + kDay : 0));
        break;
      case 10: out.push_back(ev.Cancel(t, inv, op.b % 3 ? amount / 2 : 0)); break;
      default: out.push_back(ev.Payment(t, "P" + std::to_string(op.b), amount, {})); break;
    }
  }
  return out;
}

Op GenOp() {
  return Op{*rc::gen::inRange(0, 12), *rc::gen::inRange(0, 100), *rc::gen::inRange(0, 5'000'000),
            *rc::gen::inRange(0, 240)};
}

// Runs events in order with timers in between; returns every output serialized.
std::string Run(const std::vector<v1::Envelope>& events, Harness& h, bool apply_twice) {
  std::string all;
  auto collect = [&](const core::StepOutputs& o) {
    for (const auto& a : o.alerts) all += a.SerializeAsString();
    for (const auto& b : o.blocks) all += b.SerializeAsString();
    for (const auto& d : o.decisions) all += d.SerializeAsString();
  };
  for (const auto& e : events) {
    collect(h.RunTimersUntil(e.event_time_ms()));
    h.Apply(e);
    collect(h.out);
    if (apply_twice) {
      h.Apply(e);
      RC_ASSERT(h.out.size() == 0u);
    }
    RC_ASSERT(core::Exposure(h.state) == core::RecomputeExposure(h.state));
  }
  return all;
}

// Runs a random history, timers included, and checks `invariant` after every event.
template <typename Invariant>
void ForEachStep(Invariant invariant) {
  const auto events = Build(*rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp)));
  Harness h;
  for (const auto& e : events) {
    h.RunTimersUntil(e.event_time_ms());
    h.Apply(e);
    invariant(h);
  }
}

}  // namespace

TEST_CASE("properties of the core over random histories", "[unit][core][property]") {
  rc::prop("applying an event twice equals applying it once", [] {
    const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp));
    const auto events = Build(ops);
    Harness once;
    Harness twice;
    const std::string a = Run(events, once, false);
    const std::string b = Run(events, twice, true);
    RC_ASSERT(a == b);
    RC_ASSERT(once.state.SerializeAsString() == twice.state.SerializeAsString());
  });

  rc::prop("the dedup floor lets no re-delivery of an applied event pass unlooked-for", [] {
    // Every applied event is either in the ring of recent ids (Apply says duplicate) or
    // one the caller must look for in its longer memory.
    const auto events = Build(*rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp)));
    Harness h;
    std::vector<const v1::Envelope*> applied;
    for (const auto& e : events) {
      h.RunTimersUntil(e.event_time_ms());
      h.Apply(e);
      if (h.last.kind == core::StepKind::kApplied) applied.push_back(&e);
      const auto& ring = h.state.recent_event_ids();
      for (const v1::Envelope* p : applied) {
        const bool in_ring = std::find(ring.begin(), ring.end(), core::StableHash(p->event_id())) != ring.end();
        RC_ASSERT(in_ring || core::MayRedeliverForgotten(h.state, *p));
      }
    }
  });

  rc::prop("an event evaluates everything it changes: a Tick right after it emits nothing", [] {
    const auto events = Build(*rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp)));
    Harness h;
    for (const auto& e : events) {
      h.RunTimersUntil(e.event_time_ms());
      h.Apply(e);
      h.Tick(e.event_time_ms());
      RC_ASSERT(h.out.size() == 0u);
    }
  });

  rc::prop("exposure always equals the sum of its parts", [] {
    const auto events = Build(*rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp)));
    Harness h;
    Run(events, h, false);  // asserts after every step
    int64_t receivables = 0;
    for (const auto& inv : h.state.invoices()) {
      RC_ASSERT(inv.paid() <= inv.amount());
      RC_ASSERT(inv.disputed() >= 0);
      receivables += inv.amount() - inv.paid();
    }
    RC_ASSERT(receivables == h.state.open_receivables());
  });

  rc::prop("an invoice's disputed amount is what its open disputes cover, up to what is open", [] {
    ForEachStep([](const Harness& h) {
      for (const auto& inv : h.state.invoices()) {
        int64_t covered = 0;
        for (const auto& d : h.state.disputes()) {
          if (d.invoice_id() == inv.invoice_id()) covered += d.amount();
        }
        RC_ASSERT(inv.disputed() == std::clamp<int64_t>(covered, 0, std::max<int64_t>(inv.amount() - inv.paid(), 0)));
      }
    });
  });

  rc::prop("a promise not yet judged counts exactly the payments to it that were not reversed", [] {
    ForEachStep([](const Harness& h) {
      for (const auto& p : h.state.promises()) {
        if (p.broken()) continue;  // judged: older payments may have left the history
        int64_t counted = 0;
        for (const auto& r : h.state.payments()) {
          if (r.reversed()) continue;
          for (const auto& c : r.promise_credits()) {
            if (c.promise_seq() == p.seq()) counted += c.amount();
          }
        }
        RC_ASSERT(p.paid() == counted);
      }
    });
  });

  rc::prop("the payments' packed index mirrors the payment history, entry by entry", [] {
    ForEachStep([](const Harness& h) {
      const auto& s = h.state;
      RC_ASSERT(s.payment_id_hashes_size() == s.payments_size());
      RC_ASSERT(s.payment_received_ms_size() == s.payments_size());
      RC_ASSERT(s.payment_unrepaid_size() == s.payments_size());
      for (int i = 0; i < s.payments_size(); ++i) {
        const auto& r = s.payments(i);
        RC_ASSERT(s.payment_id_hashes(i) == core::StableHash(r.payment_id()));
        RC_ASSERT(s.payment_received_ms(i) == r.received_ms());
        RC_ASSERT(s.payment_unrepaid(i) == (r.reversed() ? std::max<int64_t>(r.amount() - r.repaid(), 0) : 0));
      }
    });
  });

  rc::prop("the invoices' packed index mirrors the open invoices, entry by entry", [] {
    ForEachStep([](const Harness& h) {
      const auto& s = h.state;
      const core::InvoiceIndex index(s);
      RC_ASSERT(s.invoice_index_size() == s.invoices_size() * core::InvoiceIndex::kStride);
      for (int i = 0; i < s.invoices_size(); ++i) {
        const auto& inv = s.invoices(i);
        RC_ASSERT(index.id_hash(i) == core::StableHash(inv.invoice_id()));
        RC_ASSERT(index.due_ms(i) == inv.due_ms());
        RC_ASSERT(index.collectible(i) == inv.amount() - inv.paid() - inv.disputed());
        RC_ASSERT(index.alerted_level(i) == inv.alerted_level());
      }
    });
  });

  rc::prop("two runs over the same input give byte-identical outputs", [] {
    const auto events = Build(*rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp)));
    Harness h1;
    Harness h2;
    RC_ASSERT(Run(events, h1, false) == Run(events, h2, false));
  });

  rc::prop("no alert is RESOLVED that was not FIRING; output ids are unique", [] {
    const auto events = Build(*rc::gen::container<std::vector<Op>>(rc::gen::exec(GenOp)));
    Harness h;
    std::set<std::string> open;
    std::set<std::string> ids;
    for (const auto& e : events) {
      const auto timers = h.RunTimersUntil(e.event_time_ms());
      core::StepOutputs step = timers;
      h.Apply(e);
      step.Append(h.out);
      for (const auto& a : step.alerts) {
        RC_ASSERT(ids.insert(a.output_id()).second);
        if (a.status() == v1::Alert::FIRING) {
          open.insert(a.alert_id());
        } else {
          RC_ASSERT(open.erase(a.alert_id()) == 1u);
        }
      }
      for (const auto& b : step.blocks) RC_ASSERT(ids.insert(b.output_id()).second);
      for (const auto& d : step.decisions) RC_ASSERT(ids.insert(d.output_id()).second);
    }
    // Every active alert in the state is one that fired.
    RC_ASSERT(open.size() == static_cast<size_t>(h.state.alerts_size()));
  });
}
