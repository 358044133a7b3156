#include "stream/node_index.h"

#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <string>

namespace creditwatch::stream {
namespace {

// Every key in one probe chain: matches must be confirmed on the key itself.
struct CollidingHash {
  size_t operator()(std::string_view) const { return 7; }
};

template <typename Index>
typename Index::Node* Add(Index& index, const std::string& key, int value) {
  auto node = std::make_unique<typename Index::Node>();
  node->key = key;
  node->value = value;
  return index.Insert(std::move(node));
}

TEST_CASE("node index: an inserted key is found with its node, others are not", "[unit]") {
  NodeIndex<int> index;
  CHECK(index.Find("c-1") == nullptr);
  auto* n = Add(index, "c-1", 10);
  CHECK(index.Find("c-1") == n);
  CHECK(index.Find("c-1")->value == 10);
  CHECK(index.Find("c-2") == nullptr);
  CHECK(index.Find("c-") == nullptr);
  CHECK(index.size() == 1);
  // Peek finds a node by its hash alone, for prefetching what it points to.
  CHECK(index.Peek(NodeIndex<int>::HashOf("c-1")) == n);
  CHECK(index.Peek(NodeIndex<int>::HashOf("c-2")) == nullptr);
  CHECK(NodeIndex<int>().Peek(NodeIndex<int>::HashOf("c-1")) == nullptr);
}

TEST_CASE("node index: colliding hashes are told apart by the key", "[unit]") {
  NodeIndex<int, CollidingHash> index;
  for (int i = 0; i < 40; ++i) Add(index, "id-" + std::to_string(i), i);
  for (int i = 0; i < 40; ++i) {
    auto* n = index.Find("id-" + std::to_string(i));
    REQUIRE(n != nullptr);
    CHECK(n->value == i);
  }
  CHECK(index.Find("id-40") == nullptr);
  // Erasing from the middle of the chain keeps the rest reachable.
  CHECK(index.EraseIf([](const auto& n) { return n.value % 3 == 0; }) == 14);
  for (int i = 0; i < 40; ++i) CHECK((index.Find("id-" + std::to_string(i)) == nullptr) == (i % 3 == 0));
  // Prefetching is a hint: harmless for keys present or not.
  index.Prefetch(7);
  index.PrefetchNode(7, 256);
  // Peek does not compare keys: with one hash for all, it finds one of the chain's nodes.
  const auto* peeked = index.Peek(7);
  REQUIRE(peeked != nullptr);
  CHECK(index.Find(peeked->key) == peeked);
}

TEST_CASE("node index: nodes stay put through growth, and agree with std::map through erasures", "[unit]") {
  NodeIndex<int> index;
  std::map<std::string, NodeIndex<int>::Node*> ref;
  uint64_t x = 99;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 3000; ++i) {
      x = x * 6364136223846793005ULL + 1442695040888963407ULL;
      const std::string key = "cust-" + std::to_string(x >> 50);
      if (index.Find(key) != nullptr) continue;
      ref[key] = Add(index, key, static_cast<int>(x >> 60));
    }
    // Bulk erasure, as the cache's eviction does; ForEach sees exactly the nodes.
    size_t even = 0;
    for (auto it = ref.begin(); it != ref.end();) {
      if (it->second->value % 2 == 0) {
        ++even;
        it = ref.erase(it);
      } else {
        ++it;
      }
    }
    CHECK(index.EraseIf([](const auto& n) { return n.value % 2 == 0; }) == even);
    CHECK(index.size() == ref.size());
    size_t seen = 0;
    index.ForEach([&](const auto& n) {
      ++seen;
      CHECK(ref.at(n.key) == &n);
    });
    CHECK(seen == ref.size());
    for (const auto& [key, node] : ref) {
      REQUIRE(index.Find(key) == node);  // the same node, never moved
      CHECK(node->key == key);
    }
  }
}

}  // namespace
}  // namespace creditwatch::stream
