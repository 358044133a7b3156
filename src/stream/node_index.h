// NodeIndex: heap nodes keyed by a string, found through one flat array of slots (the
// key's 64-bit hash and the node's address, 16 bytes) probed linearly. A slot's place
// follows from the hash alone, so a caller that knows a key early can fetch its slot
// from memory ahead of the lookup (Prefetch), and then the node itself (PrefetchNode):
// the customer cache looks up one customer per record, each usually a cache miss.
// Nodes never move, so pointers to them stay valid until they are erased. Erasure is in
// bulk (EraseIf: evictions and revoked partitions), rebuilding the slots.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/prefetch.h"

namespace creditwatch::stream {

template <typename T, typename Hash = std::hash<std::string_view>>
class NodeIndex {
 public:
  struct Node {
    std::string key;
    T value;
  };

  NodeIndex() = default;
  NodeIndex(const NodeIndex&) = delete;
  NodeIndex& operator=(const NodeIndex&) = delete;
  ~NodeIndex() {
    for (const Slot& s : slots_) delete s.node;
  }

  static uint64_t HashOf(std::string_view key) { return static_cast<uint64_t>(Hash{}(key)); }

  // Starts fetching the slot where a lookup of `hash` begins.
  void Prefetch(uint64_t hash) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[hash & mask_]);
  }
  // Starts fetching the first `bytes` of the node of `hash`, if it is among the first
  // slots probed (it reads them: Prefetch them first).
  void PrefetchNode(uint64_t hash, size_t bytes) const {
    if (const Node* node = Peek(hash)) core::PrefetchBytes(node, bytes);
  }
  // The node a lookup of `hash` most likely finds, without comparing keys (so possibly
  // another key's, or nullptr when none is among the first slots probed): for fetching
  // what the node points to ahead of the lookup. It reads the slots and the node: fetch
  // them first.
  const Node* Peek(uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_, probes = 0; probes < 4; i = (i + 1) & mask_, ++probes) {
      const Slot& s = slots_[i];
      if (s.node == nullptr) return nullptr;
      if (s.hash == hash) return s.node;
    }
    return nullptr;
  }

  Node* Find(std::string_view key, uint64_t hash) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.node == nullptr) return nullptr;
      if (s.hash == hash && s.node->key == key) return s.node;
    }
  }
  Node* Find(std::string_view key) const { return Find(key, HashOf(key)); }

  // Takes ownership of `node`, whose key must not be present. Returns it.
  Node* Insert(std::unique_ptr<Node> node, uint64_t hash) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    Node* n = node.release();
    Place(Slot{hash, n});
    ++size_;
    return n;
  }
  Node* Insert(std::unique_ptr<Node> node) {
    const uint64_t h = HashOf(node->key);
    return Insert(std::move(node), h);
  }

  // Erases (and destroys) every node for which pred(const Node&) holds; returns how many.
  // Whatever it keeps, the slots stay a plain linear-probing table of the survivors.
  template <typename Pred>
  size_t EraseIf(Pred&& pred) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size(), Slot{});
    const size_t before = size_;
    for (Slot& s : old) {
      if (s.node == nullptr) continue;
      if (pred(static_cast<const Node&>(*s.node))) {
        delete s.node;
        --size_;
      } else {
        Place(s);
      }
    }
    return before - size_;
  }

  // Calls f(const Node&) for every node, in no particular order.
  template <typename F>
  void ForEach(F&& f) const {
    for (const Slot& s : slots_) {
      if (s.node != nullptr) f(static_cast<const Node&>(*s.node));
    }
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    uint64_t hash = 0;
    Node* node = nullptr;  // nullptr: empty
  };

  void Place(const Slot& s) {
    size_t i = s.hash & mask_;
    while (slots_[i].node != nullptr) i = (i + 1) & mask_;
    slots_[i] = s;
  }

  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 64 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old) {
      if (s.node != nullptr) Place(s);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace creditwatch::stream
