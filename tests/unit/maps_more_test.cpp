// LPM trie, prog_array / array_of_maps and hash_of_maps semantics (ring buffer
// and perf event array: maps_stream_test.cpp).  Expected errnos and the LPM
// iteration order were checked against the running kernel's maps.
#include <gtest/gtest.h>
#include <linux/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "unit/maps_test_util.h"
#include "userbpf/maps.h"

namespace userbpf::maps {
namespace {

MapSpec spec_of(MapType t, uint32_t key, uint32_t value, uint32_t max, uint32_t flags = 0) {
  return maps_test::spec(t, key, value, max, flags);
}

std::unique_ptr<Map> must_create(const MapSpec& s) {
  auto m = create_map(s);
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().str());
  return m.ok() ? std::move(*m) : nullptr;
}

// ---------------------------------------------------------------- LPM trie

std::vector<uint8_t> lpm_key(uint32_t prefixlen, std::initializer_list<uint8_t> data, size_t data_size = 4) {
  std::vector<uint8_t> k(4 + data_size, 0);
  std::memcpy(k.data(), &prefixlen, 4);
  size_t i = 4;
  for (uint8_t b : data) k[i++] = b;
  return k;
}

std::unique_ptr<Map> make_v4_trie(uint32_t max = 100) {
  return must_create(spec_of(MapType::LpmTrie, 8, 4, max, BPF_F_NO_PREALLOC));
}

long put(Map& m, const std::vector<uint8_t>& k, uint32_t v, uint64_t flags = BPF_ANY) {
  return m.update(k.data(), &v, flags);
}

// Value at the longest matching prefix, -1 when none.
int64_t get(Map& m, const std::vector<uint8_t>& k) {
  void* v = m.lookup(k.data());
  if (!v) return -1;
  uint32_t x;
  std::memcpy(&x, v, 4);
  return x;
}

TEST(LpmTrie, CreateChecksLikeTheKernel) {
  EXPECT_FALSE(create_map(spec_of(MapType::LpmTrie, 8, 4, 10, 0)).ok());  // needs BPF_F_NO_PREALLOC
  EXPECT_FALSE(create_map(spec_of(MapType::LpmTrie, 4, 4, 10, BPF_F_NO_PREALLOC)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::LpmTrie, 261, 4, 10, BPF_F_NO_PREALLOC)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::LpmTrie, 8, 0, 10, BPF_F_NO_PREALLOC)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::LpmTrie, 8, 4, 0, BPF_F_NO_PREALLOC)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::LpmTrie, 8, 4, 10, BPF_F_NO_PREALLOC | BPF_F_ZERO_SEED)).ok());
  auto bad = create_map(spec_of(MapType::LpmTrie, 8, 4, 10, 0));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(bad.error().message.find("map 'm'"), std::string::npos);
  EXPECT_TRUE(create_map(spec_of(MapType::LpmTrie, 5, 1, 1, BPF_F_NO_PREALLOC)).ok());
  EXPECT_TRUE(create_map(spec_of(MapType::LpmTrie, 260, 4, 10, BPF_F_NO_PREALLOC)).ok());
}

TEST(LpmTrie, Ipv4LongestPrefixMatch) {
  auto m = make_v4_trie();
  ASSERT_TRUE(m);
  ASSERT_EQ(put(*m, lpm_key(8, {10}), 8), 0);
  ASSERT_EQ(put(*m, lpm_key(16, {10, 1}), 16), 0);
  ASSERT_EQ(put(*m, lpm_key(24, {10, 1, 2}), 24), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 2, 3})), 24);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 9, 9})), 16);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 9, 9, 9})), 8);
  EXPECT_EQ(get(*m, lpm_key(32, {11, 0, 0, 1})), -1);
  // The query's own prefix length bounds the match.
  EXPECT_EQ(get(*m, lpm_key(20, {10, 1, 2, 3})), 16);
  EXPECT_EQ(get(*m, lpm_key(8, {10, 1, 2, 3})), 8);
  EXPECT_EQ(get(*m, lpm_key(7, {10, 1, 2, 3})), -1);
  EXPECT_EQ(get(*m, lpm_key(33, {10, 1, 2, 3})), -1);
  // A default route catches everything else.
  ASSERT_EQ(put(*m, lpm_key(0, {}), 99), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {11, 0, 0, 1})), 99);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 2, 3})), 24);
  // Deleting the most specific prefix falls back to the next one.
  ASSERT_EQ(m->remove(lpm_key(24, {10, 1, 2}).data()), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 2, 3})), 16);
  ASSERT_EQ(m->remove(lpm_key(8, {10}).data()), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 9, 9, 9})), 99);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 0, 0})), 16);
  // sys_lookup copies the value.
  uint32_t v = 0;
  EXPECT_EQ(m->sys_lookup(lpm_key(32, {10, 1, 7, 7}).data(), &v), 0);
  EXPECT_EQ(v, 16u);
}

TEST(LpmTrie, SiblingsUnderAnIntermediateNode) {
  auto m = make_v4_trie();
  ASSERT_TRUE(m);
  // 10.0/16 and 10.128/16 diverge at bit 8: they hang below an intermediate 10/8
  // node, which is not a key.
  ASSERT_EQ(put(*m, lpm_key(16, {10, 0}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(16, {10, 128}), 2), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 0, 5, 5})), 1);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 128, 5, 5})), 2);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 64, 5, 5})), -1);
  EXPECT_EQ(get(*m, lpm_key(8, {10})), -1);
  EXPECT_EQ(m->remove(lpm_key(8, {10}).data()), -ENOENT);
  EXPECT_EQ(put(*m, lpm_key(8, {10}), 3, BPF_EXIST), -ENOENT);
  // Adding the intermediate prefix as a key turns it into a real one.
  ASSERT_EQ(put(*m, lpm_key(8, {10}), 3, BPF_NOEXIST), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 64, 5, 5})), 3);
  ASSERT_EQ(m->remove(lpm_key(16, {10, 0}).data()), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 0, 5, 5})), 3);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 128, 5, 5})), 2);
  ASSERT_EQ(m->remove(lpm_key(8, {10}).data()), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 128, 5, 5})), 2);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 0, 5, 5})), -1);
}

TEST(LpmTrie, UpdateFlagsAndErrors) {
  auto m = make_v4_trie(2);
  ASSERT_TRUE(m);
  ASSERT_EQ(put(*m, lpm_key(8, {10}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(16, {10, 1}), 2), 0);
  EXPECT_EQ(put(*m, lpm_key(24, {10, 1, 2}), 3), -ENOSPC);  // full
  EXPECT_EQ(put(*m, lpm_key(16, {10, 1}), 5), 0);          // replacing still works when full
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 0, 0})), 5);
  EXPECT_EQ(put(*m, lpm_key(16, {10, 1}), 6, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(put(*m, lpm_key(16, {10, 1}), 6, BPF_EXIST), 0);
  EXPECT_EQ(get(*m, lpm_key(32, {10, 1, 0, 0})), 6);
  EXPECT_EQ(put(*m, lpm_key(20, {10, 1}), 7, BPF_EXIST), -ENOENT);
  EXPECT_EQ(put(*m, lpm_key(8, {10}), 7, 4), -EINVAL);
  EXPECT_EQ(put(*m, lpm_key(33, {10}), 7), -EINVAL);
  EXPECT_EQ(m->remove(lpm_key(33, {10}).data()), -EINVAL);
  EXPECT_EQ(m->remove(lpm_key(20, {10, 1}).data()), -ENOENT);
  EXPECT_EQ(m->remove(lpm_key(16, {10, 2}).data()), -ENOENT);
  EXPECT_EQ(m->remove(lpm_key(16, {10, 1}).data()), 0);
  EXPECT_EQ(m->remove(lpm_key(16, {10, 1}).data()), -ENOENT);
  EXPECT_EQ(put(*m, lpm_key(24, {10, 1, 2}), 3), 0);  // room again
}

std::string key_text(const std::vector<uint8_t>& k) {
  uint32_t plen;
  std::memcpy(&plen, k.data(), 4);
  std::string s;
  for (size_t i = 4; i < k.size(); ++i) s += (i > 4 ? "." : "") + std::to_string(k[i]);
  return s + "/" + std::to_string(plen);
}

std::vector<std::string> all_keys(Map& m, size_t key_size) {
  std::vector<std::string> out;
  std::vector<uint8_t> cur(key_size), next(key_size);
  const void* prev = nullptr;
  while (m.get_next_key(prev, next.data()) == 0 && out.size() < 100000) {
    out.push_back(key_text(next));
    cur = next;
    prev = cur.data();
  }
  return out;
}

TEST(LpmTrie, IterationIsPostOrderLikeTheKernel) {
  auto m = make_v4_trie();
  ASSERT_TRUE(m);
  std::vector<uint8_t> none(8);
  EXPECT_EQ(m->get_next_key(nullptr, none.data()), -ENOENT);
  // Keys keep the bytes they were stored with, also past the prefix length.
  ASSERT_EQ(put(*m, lpm_key(8, {10, 0, 0, 0}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(16, {10, 1, 0, 0}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(24, {10, 1, 2, 0}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(8, {192, 1, 2, 0}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(0, {192, 1, 2, 0}), 1), 0);
  ASSERT_EQ(put(*m, lpm_key(16, {10, 128, 2, 0}), 1), 0);
  // What the kernel's trie_get_next_key() returned for the same inserts.
  const std::vector<std::string> want = {"10.1.2.0/24", "10.1.0.0/16", "10.128.2.0/16",
                                         "10.0.0.0/8",  "192.1.2.0/8", "192.1.2.0/0"};
  EXPECT_EQ(all_keys(*m, 8), want);
  // A key that is not stored restarts at the first key.
  std::vector<uint8_t> next(8);
  ASSERT_EQ(m->get_next_key(lpm_key(12, {10}).data(), next.data()), 0);
  EXPECT_EQ(key_text(next), "10.1.2.0/24");
  ASSERT_EQ(m->get_next_key(lpm_key(33, {10}).data(), next.data()), 0);
  EXPECT_EQ(key_text(next), "10.1.2.0/24");
  EXPECT_EQ(m->get_next_key(lpm_key(0, {192, 1, 2, 0}).data(), next.data()), -ENOENT);
}

// Reference: the longest stored prefix covering the query, by brute force.
struct Ref {
  std::map<std::pair<uint32_t, std::vector<uint8_t>>, uint32_t> entries;  // (plen, masked data) -> value
  static std::vector<uint8_t> masked(const uint8_t* d, size_t n, uint32_t plen) {
    std::vector<uint8_t> out(d, d + n);
    for (size_t i = 0; i < n; ++i) {
      const int keep = static_cast<int>(plen) - static_cast<int>(i * 8);
      if (keep <= 0) out[i] = 0;
      else if (keep < 8) out[i] &= static_cast<uint8_t>(0xff << (8 - keep));
    }
    return out;
  }
  int64_t lookup(const uint8_t* d, size_t n, uint32_t plen) const {
    for (int p = static_cast<int>(plen); p >= 0; --p) {
      auto it = entries.find({static_cast<uint32_t>(p), masked(d, n, static_cast<uint32_t>(p))});
      if (it != entries.end()) return it->second;
    }
    return -1;
  }
};

TEST(LpmTrie, Ipv6RandomAgainstReference) {
  constexpr size_t kData = 16;
  constexpr uint32_t kMax = 400;
  auto m = must_create(spec_of(MapType::LpmTrie, 4 + kData, 4, kMax, BPF_F_NO_PREALLOC));
  ASSERT_TRUE(m);
  std::mt19937 rng(1234);
  Ref ref;
  std::vector<std::vector<uint8_t>> stored;
  // Prefixes share a few leading bytes so that the trie gets deep and branchy.
  auto random_key = [&](uint32_t plen) {
    std::vector<uint8_t> k(4 + kData);
    std::memcpy(k.data(), &plen, 4);
    k[4] = 0x20;
    k[5] = 0x01;
    for (size_t i = 6; i < k.size(); ++i) k[i] = static_cast<uint8_t>(rng() & (i < 8 ? 0x3 : 0xff));
    return k;
  };
  for (int round = 0; round < 3; ++round) {
    for (uint32_t i = 0; i < kMax * 2; ++i) {
      auto k = random_key(static_cast<uint32_t>(rng() % 129));
      uint32_t plen;
      std::memcpy(&plen, k.data(), 4);
      const auto id = std::make_pair(plen, Ref::masked(k.data() + 4, kData, plen));
      const uint32_t v = static_cast<uint32_t>(rng());
      const bool exists = ref.entries.count(id) > 0;
      const long r = m->update(k.data(), &v, BPF_ANY);
      if (!exists && ref.entries.size() >= kMax) {
        EXPECT_EQ(r, -ENOSPC);
        continue;
      }
      ASSERT_EQ(r, 0);
      ref.entries[id] = v;
      if (!exists) stored.push_back(k);
    }
    for (int q = 0; q < 2000; ++q) {
      auto k = random_key(static_cast<uint32_t>(rng() % 129));
      uint32_t plen;
      std::memcpy(&plen, k.data(), 4);
      ASSERT_EQ(get(*m, k), ref.lookup(k.data() + 4, kData, plen)) << "round " << round << " query " << q;
    }
    // Iteration yields every key exactly once.
    std::set<std::pair<uint32_t, std::vector<uint8_t>>> seen;
    std::vector<uint8_t> cur(4 + kData), next(4 + kData);
    const void* prev = nullptr;
    size_t steps = 0;
    while (m->get_next_key(prev, next.data()) == 0 && steps++ < 10 * kMax) {
      uint32_t plen;
      std::memcpy(&plen, next.data(), 4);
      EXPECT_TRUE(seen.insert({plen, Ref::masked(next.data() + 4, kData, plen)}).second);
      cur = next;
      prev = cur.data();
    }
    EXPECT_EQ(seen.size(), ref.entries.size());
    // Delete about half, then the next round refills.
    std::shuffle(stored.begin(), stored.end(), rng);
    const size_t keep = stored.size() / 2;
    for (size_t i = keep; i < stored.size(); ++i) {
      uint32_t plen;
      std::memcpy(&plen, stored[i].data(), 4);
      ASSERT_EQ(m->remove(stored[i].data()), 0);
      ref.entries.erase({plen, Ref::masked(stored[i].data() + 4, kData, plen)});
    }
    stored.resize(keep);
  }
}

TEST(LpmTrie, NodePoolIsReusedAcrossManyInsertDeleteCycles) {
  auto m = make_v4_trie(8);
  ASSERT_TRUE(m);
  for (uint32_t cycle = 0; cycle < 200; ++cycle) {
    for (uint8_t i = 0; i < 8; ++i) ASSERT_EQ(put(*m, lpm_key(24 + i % 8, {10, static_cast<uint8_t>(cycle), static_cast<uint8_t>(i * 32)}), i), 0);
    for (uint8_t i = 0; i < 8; ++i)
      ASSERT_EQ(m->remove(lpm_key(24 + i % 8, {10, static_cast<uint8_t>(cycle), static_cast<uint8_t>(i * 32)}).data()), 0);
  }
  std::vector<uint8_t> next(8);
  EXPECT_EQ(m->get_next_key(nullptr, next.data()), -ENOENT);
}

// ---------------------------------------------------------------- prog_array / array_of_maps

TEST(IdArray, ProgArrayStoresIds) {
  auto m = must_create(spec_of(MapType::ProgArray, 4, 4, 4));
  ASSERT_TRUE(m);
  ASSERT_NE(dynamic_cast<IdArrayMap*>(m.get()), nullptr);
  auto& ids = *dynamic_cast<IdArrayMap*>(m.get());
  uint32_t k = 1, v = 77, out = 0;
  EXPECT_EQ(m->sys_lookup(&k, &out), -ENOENT);
  EXPECT_EQ(m->sys_update(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(ids.id_at(1), 77u);
  EXPECT_EQ(ids.id_at(0), 0u);
  EXPECT_EQ(ids.id_at(4), 0u);
  EXPECT_EQ(m->sys_lookup(&k, &out), 0);
  EXPECT_EQ(out, 77u);
  EXPECT_EQ(m->lookup(&k), nullptr);  // programs cannot look into a prog_array
  EXPECT_EQ(m->sys_update(&k, &v, BPF_NOEXIST), -EINVAL);  // fd arrays take BPF_ANY only
  EXPECT_EQ(m->sys_update(&k, &v, BPF_EXIST), -EINVAL);
  uint32_t zero = 0;
  EXPECT_EQ(m->sys_update(&k, &zero, BPF_ANY), -EINVAL);
  uint32_t big = 4;
  EXPECT_EQ(m->sys_update(&big, &v, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->sys_delete(&big), -E2BIG);
  EXPECT_EQ(m->sys_delete(&k), 0);
  EXPECT_EQ(m->sys_delete(&k), -ENOENT);
  EXPECT_EQ(ids.id_at(1), 0u);
  uint32_t next = 99;
  EXPECT_EQ(m->get_next_key(nullptr, &next), 0);
  EXPECT_EQ(next, 0u);
  uint32_t last = 3;
  EXPECT_EQ(m->get_next_key(&last, &next), -ENOENT);
  EXPECT_EQ(m->get_next_key(&big, &next), 0);
  EXPECT_EQ(next, 0u);
}

TEST(IdArray, CreateChecks) {
  EXPECT_FALSE(create_map(spec_of(MapType::ProgArray, 4, 8, 4)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::ProgArray, 8, 4, 4)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::ProgArray, 4, 4, 0)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::ArrayOfMaps, 4, 4, 4, BPF_F_RDONLY_PROG)).ok());
  auto s = spec_of(MapType::ArrayOfMaps, 4, 4, 4);
  s.inner = std::make_shared<MapSpec>(spec_of(MapType::ArrayOfMaps, 4, 4, 4));
  auto r = create_map(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
  s.inner = std::make_shared<MapSpec>(spec_of(MapType::ProgArray, 4, 4, 4));
  r = create_map(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Unsupported);
}

TEST(IdArray, ArrayOfMapsChecksInnerMaps) {
  auto tmpl = spec_of(MapType::Array, 4, 4, 4);
  auto s = spec_of(MapType::ArrayOfMaps, 4, 4, 2);
  s.inner = std::make_shared<MapSpec>(tmpl);
  auto outer = must_create(s);
  auto inner = must_create(tmpl);
  auto other_size = must_create(spec_of(MapType::Array, 4, 4, 8));
  auto other_type = must_create(spec_of(MapType::Hash, 4, 4, 4));
  ASSERT_TRUE(outer && inner && other_size && other_type);
  uint32_t k = 0, id = inner->id(), out = 0;
  EXPECT_EQ(outer->lookup(&k), nullptr);
  ASSERT_EQ(outer->sys_update(&k, &id, BPF_ANY), 0);
  EXPECT_EQ(outer->lookup(&k), static_cast<void*>(inner.get()));
  EXPECT_EQ(outer->sys_lookup(&k, &out), 0);
  EXPECT_EQ(out, inner->id());
  id = other_size->id();
  EXPECT_EQ(outer->sys_update(&k, &id, BPF_ANY), -EINVAL);
  id = other_type->id();
  EXPECT_EQ(outer->sys_update(&k, &id, BPF_ANY), -EINVAL);
  id = 0xfffffff0u;  // no such map
  EXPECT_EQ(outer->sys_update(&k, &id, BPF_ANY), -EINVAL);
  id = outer->id();  // no nesting
  EXPECT_EQ(outer->sys_update(&k, &id, BPF_ANY), -EINVAL);
  EXPECT_EQ(outer->lookup(&k), static_cast<void*>(inner.get()));  // failed updates changed nothing
  EXPECT_EQ(outer->sys_delete(&k), 0);
  EXPECT_EQ(outer->lookup(&k), nullptr);
  EXPECT_EQ(outer->sys_delete(&k), -ENOENT);
}

TEST(IdArray, InnerMapFlagAllowsOtherSizes) {
  auto tmpl = spec_of(MapType::Array, 4, 4, 4, BPF_F_INNER_MAP);
  auto s = spec_of(MapType::ArrayOfMaps, 4, 4, 2);
  s.inner = std::make_shared<MapSpec>(tmpl);
  auto outer = must_create(s);
  auto bigger = must_create(spec_of(MapType::Array, 4, 4, 16, BPF_F_INNER_MAP));
  auto no_flag = must_create(spec_of(MapType::Array, 4, 4, 4));
  ASSERT_TRUE(outer && bigger && no_flag);
  uint32_t k = 1, id = bigger->id();
  EXPECT_EQ(outer->sys_update(&k, &id, BPF_ANY), 0);
  id = no_flag->id();  // map_flags must be equal
  EXPECT_EQ(outer->sys_update(&k, &id, BPF_ANY), -EINVAL);
}

// ---------------------------------------------------------------- hash_of_maps

TEST(HashOfMaps, StoreLookupDelete) {
  auto tmpl = spec_of(MapType::Array, 4, 4, 4);
  auto s = spec_of(MapType::HashOfMaps, 8, 4, 2);
  s.inner = std::make_shared<MapSpec>(tmpl);
  auto outer = must_create(s);
  auto a = must_create(tmpl);
  auto b = must_create(tmpl);
  auto wrong = must_create(spec_of(MapType::Array, 4, 8, 4));
  ASSERT_TRUE(outer && a && b && wrong);
  EXPECT_GE(outer->block().fd(), 0);
  uint64_t k5 = 5, k6 = 6, k7 = 7;
  uint32_t ida = a->id(), idb = b->id(), idw = wrong->id(), out = 0;
  EXPECT_EQ(outer->lookup(&k5), nullptr);
  ASSERT_EQ(outer->sys_update(&k5, &ida, BPF_ANY), 0);
  EXPECT_EQ(outer->lookup(&k5), static_cast<void*>(a.get()));
  EXPECT_EQ(outer->sys_lookup(&k5, &out), 0);
  EXPECT_EQ(out, ida);
  EXPECT_EQ(outer->sys_update(&k5, &idw, BPF_ANY), -EINVAL);
  EXPECT_EQ(outer->sys_update(&k5, &idb, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(outer->sys_update(&k6, &idb, BPF_EXIST), -ENOENT);
  ASSERT_EQ(outer->sys_update(&k6, &idb, BPF_ANY), 0);
  EXPECT_EQ(outer->sys_update(&k7, &ida, BPF_ANY), -E2BIG);  // full
  EXPECT_EQ(outer->lookup(&k6), static_cast<void*>(b.get()));
  std::set<uint64_t> keys;
  uint64_t cur = 0, next = 0;
  const void* prev = nullptr;
  while (outer->get_next_key(prev, &next) == 0 && keys.size() < 10) {
    keys.insert(next);
    cur = next;
    prev = &cur;
  }
  EXPECT_EQ(keys, (std::set<uint64_t>{5, 6}));
  EXPECT_EQ(outer->sys_delete(&k5), 0);
  EXPECT_EQ(outer->sys_delete(&k5), -ENOENT);
  EXPECT_EQ(outer->lookup(&k5), nullptr);
  EXPECT_EQ(outer->sys_lookup(&k5, &out), -ENOENT);
}

TEST(HashOfMaps, CreateChecks) {
  EXPECT_FALSE(create_map(spec_of(MapType::HashOfMaps, 8, 8, 2)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::HashOfMaps, 0, 4, 2)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::HashOfMaps, 8, 4, 0)).ok());
  auto s = spec_of(MapType::HashOfMaps, 8, 4, 2, BPF_F_NO_PREALLOC);
  s.inner = std::make_shared<MapSpec>(spec_of(MapType::HashOfMaps, 8, 4, 2));
  EXPECT_FALSE(create_map(s).ok());
  s.inner = std::make_shared<MapSpec>(spec_of(MapType::Hash, 8, 4, 2));
  EXPECT_TRUE(create_map(s).ok());
}

}  // namespace
}  // namespace userbpf::maps
