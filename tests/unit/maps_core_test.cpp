// Array and hash map families: creation checks, update flags, errno results,
// iteration and the per-CPU value layout, against the kernel's semantics.
#include <linux/bpf.h>
#include <sched.h>

#include <cerrno>
#include <set>

#include "maps_test_util.h"

using namespace maps_test;
using userbpf::ErrorKind;
using userbpf::maps::num_possible_cpus;

namespace {

void expect_create_error(const MapSpec& s, const std::string& reason_part) {
  auto r = userbpf::maps::create_map(s);
  ASSERT_FALSE(r.ok()) << "created a map from a bad spec (" << reason_part << ")";
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
  EXPECT_NE(r.error().message.find("map 'm'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(reason_part), std::string::npos) << r.error().message;
}

// Pins the calling thread to one CPU for the test's duration so that
// current_cpu() cannot change between a lookup and the check.
class PinnedCpu {
 public:
  PinnedCpu() {
    sched_getaffinity(0, sizeof(old_), &old_);
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &old_)) {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        pinned_ = sched_setaffinity(0, sizeof(one), &one) == 0;
        break;
      }
  }
  ~PinnedCpu() { sched_setaffinity(0, sizeof(old_), &old_); }
  bool ok() const { return pinned_; }

 private:
  cpu_set_t old_{};
  bool pinned_ = false;
};

// ------------------------------------------------------------------- array --

TEST(ArrayMap, CreateChecks) {
  expect_create_error(spec(MapType::Array, 8, 4, 4), "key_size must be 4");
  expect_create_error(spec(MapType::Array, 4, 0, 4), "value_size");
  expect_create_error(spec(MapType::Array, 4, 4, 0), "max_entries");
  expect_create_error(spec(MapType::Array, 4, 4, 4, BPF_F_NO_PREALLOC), "flags");
  expect_create_error(spec(MapType::Array, 4, 4, 4, BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG), "read-only");
  expect_create_error(spec(MapType::PercpuArray, 4, 4, 4, BPF_F_MMAPABLE), "MMAPABLE");
  expect_create_error(spec(MapType::Array, 4, 0xffffffffu, 0xffffffffu), "too big");
  expect_create_error(spec(MapType::Array, 4, 1 << 20, 1 << 20), "too big");
  expect_create_error(spec(MapType::PercpuArray, 4, 1 << 16, 4), "too big");
  EXPECT_NE(make(spec(MapType::Array, 4, 4, 4, BPF_F_MMAPABLE)), nullptr);
}

TEST(ArrayMap, LookupUpdateAndFlags) {
  auto m = make(spec(MapType::Array, 4, 12, 5));
  ASSERT_NE(m, nullptr);
  for (uint32_t i = 0; i < 5; ++i) {
    auto* v = static_cast<uint8_t*>(m->lookup(&i));
    ASSERT_NE(v, nullptr);
    for (int b = 0; b < 12; ++b) EXPECT_EQ(v[b], 0) << "values start zeroed";
  }
  uint32_t out_of_range = 5;
  EXPECT_EQ(m->lookup(&out_of_range), nullptr);

  uint8_t val[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, got[12] = {};
  uint32_t k = 3;
  EXPECT_EQ(m->update(&k, val, BPF_ANY), 0);
  EXPECT_EQ(std::memcmp(m->lookup(&k), val, 12), 0);
  val[0] = 42;
  EXPECT_EQ(m->update(&k, val, BPF_EXIST), 0);
  EXPECT_EQ(m->sys_lookup(&k, got), 0);
  EXPECT_EQ(got[0], 42);
  EXPECT_EQ(m->update(&k, val, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->update(&k, val, BPF_NOEXIST | BPF_EXIST), -EINVAL);
  EXPECT_EQ(m->update(&k, val, BPF_F_LOCK), -EINVAL) << "no bpf_spin_lock in the value";
  EXPECT_EQ(m->update(&k, val, 8), -EINVAL);
  EXPECT_EQ(m->update(&out_of_range, val, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->sys_lookup(&out_of_range, got), -ENOENT);
  EXPECT_EQ(m->remove(&k), -EINVAL);
  EXPECT_EQ(m->sys_delete(&k), -EINVAL);

  // Writes through the program-side pointer are the map's value.
  static_cast<uint8_t*>(m->lookup(&k))[11] = 99;
  EXPECT_EQ(m->sys_lookup(&k, got), 0);
  EXPECT_EQ(got[11], 99);
  EXPECT_EQ(m->sys_value_size(), 12u);
}

TEST(ArrayMap, ValuesUseEightByteGranules) {
  auto m = make(spec(MapType::Array, 4, 3, 4));
  ASSERT_NE(m, nullptr);
  uint32_t k0 = 0, k1 = 1, k3 = 3;
  auto* p0 = static_cast<uint8_t*>(m->lookup(&k0));
  EXPECT_EQ(static_cast<uint8_t*>(m->lookup(&k1)) - p0, 8);
  EXPECT_EQ(static_cast<uint8_t*>(m->lookup(&k3)) - p0, 24);
  auto mem = m->program_memory();
  ASSERT_EQ(mem.size(), 1u);
  EXPECT_EQ(mem[0].start, reinterpret_cast<uintptr_t>(p0));
  EXPECT_EQ(mem[0].size, 32u);
  EXPECT_TRUE(mem[0].writable);
}

TEST(ArrayMap, GetNextKey) {
  auto m = make(spec(MapType::Array, 4, 4, 7));
  ASSERT_NE(m, nullptr);
  uint32_t next = 1234;
  EXPECT_EQ(m->get_next_key(nullptr, &next), 0);
  EXPECT_EQ(next, 0u);
  uint32_t far = 1000;
  next = 1234;
  EXPECT_EQ(m->get_next_key(&far, &next), 0);
  EXPECT_EQ(next, 0u) << "an out-of-range key restarts at index 0";
  uint32_t last = 6;
  EXPECT_EQ(m->get_next_key(&last, &next), -ENOENT);
  auto keys = all_keys(*m);
  ASSERT_EQ(keys.size(), 7u);
  for (uint32_t i = 0; i < 7; ++i) EXPECT_EQ(u32_of(keys[i]), i);
}

TEST(PercpuArrayMap, SyscallLayoutIsPerCpuInEightByteGranules) {
  const int ncpus = num_possible_cpus();
  ASSERT_GT(ncpus, 0);
  auto m = make(spec(MapType::PercpuArray, 4, 4, 3));
  ASSERT_NE(m, nullptr);
  ASSERT_EQ(m->sys_value_size(), 8u * ncpus);
  std::vector<uint8_t> in(8 * ncpus), out(8 * ncpus, 0xee);
  for (int c = 0; c < ncpus; ++c) {
    const uint32_t v = 1000 + c;
    std::memcpy(&in[8 * c], &v, 4);
    std::memset(&in[8 * c + 4], 0x77, 4);  // padding: must not reach the map
  }
  uint32_t k = 2;
  EXPECT_EQ(m->sys_update(&k, in.data(), BPF_ANY), 0);
  EXPECT_EQ(m->sys_lookup(&k, out.data()), 0);
  for (int c = 0; c < ncpus; ++c) {
    uint32_t v, pad;
    std::memcpy(&v, &out[8 * c], 4);
    std::memcpy(&pad, &out[8 * c + 4], 4);
    EXPECT_EQ(v, 1000u + c) << "cpu " << c;
    EXPECT_EQ(pad, 0u) << "cpu " << c;
  }
  EXPECT_EQ(m->sys_update(&k, in.data(), BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->sys_update(&k, in.data(), BPF_F_LOCK), -EINVAL);
  uint32_t bad = 3;
  EXPECT_EQ(m->sys_update(&bad, in.data(), BPF_ANY), -E2BIG);

  // The program side sees and writes only this CPU's slot.
  PinnedCpu pin;
  ASSERT_TRUE(pin.ok());
  const int me = userbpf::maps::current_cpu();
  ASSERT_GE(me, 0);
  ASSERT_LT(me, ncpus);
  auto* p = static_cast<uint32_t*>(m->lookup(&k));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 1000u + me);
  const uint32_t mine = 7;
  EXPECT_EQ(m->update(&k, &mine, BPF_ANY), 0);
  EXPECT_EQ(m->sys_lookup(&k, out.data()), 0);
  for (int c = 0; c < ncpus; ++c) {
    uint32_t v;
    std::memcpy(&v, &out[8 * c], 4);
    EXPECT_EQ(v, c == me ? 7u : 1000u + c) << "cpu " << c;
  }
}

// -------------------------------------------------------------------- hash --

TEST(HashMap, CreateChecks) {
  expect_create_error(spec(MapType::Hash, 0, 4, 4), "key_size");
  expect_create_error(spec(MapType::Hash, 4, 0, 4), "value_size");
  expect_create_error(spec(MapType::Hash, 4, 4, 0), "max_entries");
  expect_create_error(spec(MapType::Hash, 4, 4, 4, BPF_F_MMAPABLE), "flags");
  expect_create_error(spec(MapType::Hash, 4, 4, 4, BPF_F_NO_COMMON_LRU), "LRU");
  expect_create_error(spec(MapType::PercpuHash, 4, 4, 4, BPF_F_NUMA_NODE), "NUMA");
  expect_create_error(spec(MapType::Hash, 0xffffffffu, 0xffffffffu, 4), "too big");
  expect_create_error(spec(MapType::Hash, 4, 1 << 20, 1 << 20), "too big");
  expect_create_error(spec(MapType::Hash, 4, 4, 0xffffffffu), "too big");
  auto r = userbpf::maps::create_map(spec(MapType::LruHash, 4, 4, 4, BPF_F_NO_PREALLOC));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(make(spec(MapType::Hash, 4, 4, 4, BPF_F_NO_PREALLOC)), nullptr);
  EXPECT_NE(make(spec(MapType::LruHash, 4, 4, 4, BPF_F_NO_COMMON_LRU)), nullptr);
}

TEST(HashMap, UpdateFlagsAndErrors) {
  auto m = make(spec(MapType::Hash, 8, 4, 3));
  ASSERT_NE(m, nullptr);
  uint64_t k1 = 1, k2 = 2, k3 = 3, k4 = 4;
  uint32_t v = 10, got = 0;
  EXPECT_EQ(m->lookup(&k1), nullptr);
  EXPECT_EQ(m->update(&k1, &v, BPF_EXIST), -ENOENT);
  EXPECT_EQ(m->update(&k1, &v, BPF_NOEXIST), 0);
  EXPECT_EQ(m->update(&k1, &v, BPF_NOEXIST), -EEXIST);
  v = 11;
  EXPECT_EQ(m->update(&k1, &v, BPF_EXIST), 0);
  ASSERT_NE(m->lookup(&k1), nullptr);
  EXPECT_EQ(*static_cast<uint32_t*>(m->lookup(&k1)), 11u);
  EXPECT_EQ(m->update(&k1, &v, BPF_NOEXIST | BPF_EXIST), -EINVAL);
  EXPECT_EQ(m->update(&k1, &v, BPF_F_LOCK), -EINVAL);
  EXPECT_EQ(m->update(&k1, &v, 16), -EINVAL);

  EXPECT_EQ(m->update(&k2, &v, BPF_ANY), 0);
  EXPECT_EQ(m->update(&k3, &v, BPF_ANY), 0);
  EXPECT_EQ(m->update(&k4, &v, BPF_ANY), -E2BIG) << "full plain hash map";
  v = 33;
  EXPECT_EQ(m->update(&k3, &v, BPF_ANY), 0) << "updating an existing key of a full map";
  EXPECT_EQ(m->sys_lookup(&k3, &got), 0);
  EXPECT_EQ(got, 33u);

  EXPECT_EQ(m->remove(&k4), -ENOENT);
  EXPECT_EQ(m->sys_lookup(&k4, &got), -ENOENT);
  EXPECT_EQ(m->remove(&k2), 0);
  EXPECT_EQ(m->lookup(&k2), nullptr);
  EXPECT_EQ(m->remove(&k2), -ENOENT);
  EXPECT_EQ(m->update(&k4, &v, BPF_NOEXIST), 0) << "a deleted element's room is reused";
  EXPECT_EQ(all_keys(*m).size(), 3u);
}

TEST(HashMap, PointersStayValidAcrossOtherUpdates) {
  auto m = make(spec(MapType::Hash, 4, 8, 64));
  ASSERT_NE(m, nullptr);
  uint32_t k = 5;
  uint64_t v = 1;
  ASSERT_EQ(m->update(&k, &v, BPF_ANY), 0);
  auto* p = static_cast<uint64_t*>(m->lookup(&k));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 8, 0u) << "values are 8-byte aligned";
  for (uint32_t i = 100; i < 160; ++i) ASSERT_EQ(m->update(&i, &v, BPF_ANY), 0);
  EXPECT_EQ(m->lookup(&k), p);
  *p = 0xabcdef;
  uint64_t got = 0;
  EXPECT_EQ(m->sys_lookup(&k, &got), 0);
  EXPECT_EQ(got, 0xabcdefu);
  auto mem = m->program_memory();
  ASSERT_EQ(mem.size(), 1u);
  EXPECT_GE(reinterpret_cast<uintptr_t>(p), mem[0].start);
  EXPECT_LE(reinterpret_cast<uintptr_t>(p) + 8, mem[0].start + mem[0].size);
}

TEST(HashMap, GetNextKeyVisitsEveryKeyOnce) {
  auto m = make(spec(MapType::Hash, 4, 4, 1000));
  ASSERT_NE(m, nullptr);
  std::set<uint32_t> inserted;
  for (uint32_t i = 0; i < 700; ++i) {
    const uint32_t k = i * 7919 + 3;
    ASSERT_EQ(m->update(&k, &i, BPF_ANY), 0);
    inserted.insert(k);
  }
  auto keys = all_keys(*m);
  ASSERT_EQ(keys.size(), inserted.size());
  std::set<uint32_t> seen;
  for (auto& k : keys) EXPECT_TRUE(seen.insert(u32_of(k)).second) << "key visited twice";
  EXPECT_EQ(seen, inserted);

  uint32_t first = 0, next = 0, missing = 1;
  ASSERT_EQ(m->get_next_key(nullptr, &first), 0);
  ASSERT_EQ(m->get_next_key(&missing, &next), 0);
  EXPECT_EQ(next, first) << "a missing key restarts at the first key";
  const uint32_t last = u32_of(keys.back());
  EXPECT_EQ(m->get_next_key(&last, &next), -ENOENT);

  auto empty = make(spec(MapType::Hash, 4, 4, 10));
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->get_next_key(nullptr, &next), -ENOENT);
}

TEST(PercpuHashMap, SyscallLayoutAndProgramSide) {
  const int ncpus = num_possible_cpus();
  for (MapType t : {MapType::PercpuHash, MapType::LruPercpuHash}) {
    auto m = make(spec(t, 4, 12, 8));
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->sys_value_size(), 16u * ncpus);
    std::vector<uint8_t> in(16 * ncpus, 0x55), out(16 * ncpus, 0xee);
    for (int c = 0; c < ncpus; ++c) in[16 * c] = static_cast<uint8_t>(c + 1);
    uint32_t k = 9;
    EXPECT_EQ(m->sys_update(&k, in.data(), BPF_NOEXIST), 0);
    EXPECT_EQ(m->sys_update(&k, in.data(), BPF_NOEXIST), -EEXIST);
    EXPECT_EQ(m->sys_update(&k, in.data(), BPF_F_LOCK), -EINVAL);
    EXPECT_EQ(m->sys_lookup(&k, out.data()), 0);
    for (int c = 0; c < ncpus; ++c) {
      EXPECT_EQ(out[16 * c], c + 1);
      for (int b = 1; b < 12; ++b) EXPECT_EQ(out[16 * c + b], 0x55);
      for (int b = 12; b < 16; ++b) EXPECT_EQ(out[16 * c + b], 0) << "padding is zero";
    }
    // A new element from the program side: this CPU's value, zero elsewhere.
    PinnedCpu pin;
    ASSERT_TRUE(pin.ok());
    const int me = userbpf::maps::current_cpu();
    uint8_t val[12];
    std::memset(val, 0x21, sizeof(val));
    uint32_t k2 = 10;
    EXPECT_EQ(m->update(&k2, val, BPF_ANY), 0);
    auto* p = static_cast<uint8_t*>(m->lookup(&k2));
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p[0], 0x21);
    EXPECT_EQ(m->sys_lookup(&k2, out.data()), 0);
    for (int c = 0; c < ncpus; ++c) EXPECT_EQ(out[16 * c + 5], c == me ? 0x21 : 0) << "cpu " << c;
  }
}

// --------------------------------------------------------------------- LRU --

TEST(LruHashMap, FullMapEvictsTheStaleElement) {
  for (MapType t : {MapType::LruHash, MapType::LruPercpuHash}) {
    auto m = make(spec(t, 4, 8, 4));
    ASSERT_NE(m, nullptr);
    uint64_t v = 0;
    for (uint32_t k = 0; k < 4; ++k) ASSERT_EQ(m->update(&k, &v, BPF_NOEXIST), 0);
    uint32_t k0 = 0;
    ASSERT_NE(m->lookup(&k0), nullptr);  // key 0 is now the most recently used
    uint32_t k4 = 4;
    ASSERT_EQ(m->update(&k4, &v, BPF_NOEXIST), 0) << "an LRU map takes inserts when full";
    EXPECT_NE(m->lookup(&k0), nullptr) << "recently used key 0 evicted";
    uint32_t k1 = 1;
    EXPECT_EQ(m->lookup(&k1), nullptr) << "stale key 1 should have been evicted";
    EXPECT_NE(m->lookup(&k4), nullptr);
    EXPECT_EQ(all_keys(*m).size(), 4u);
  }
}

TEST(LruHashMap, ManyInsertsKeepTheSizeBound) {
  auto m = make(spec(MapType::LruHash, 4, 4, 16));
  ASSERT_NE(m, nullptr);
  for (uint32_t k = 0; k < 1000; ++k) {
    ASSERT_EQ(m->update(&k, &k, BPF_ANY), 0) << k;
    ASSERT_NE(m->lookup(&k), nullptr) << "just inserted key " << k << " missing";
  }
  auto keys = all_keys(*m);
  EXPECT_EQ(keys.size(), 16u);
  for (auto& key : keys) {
    uint32_t got = 0;
    const uint32_t k = u32_of(key);
    ASSERT_EQ(m->sys_lookup(&k, &got), 0);
    EXPECT_EQ(got, k);
  }
  // Flags still apply to LRU maps.
  uint32_t absent = 5000, present = 999, v = 0;
  EXPECT_EQ(m->update(&absent, &v, BPF_EXIST), -ENOENT);
  EXPECT_EQ(m->update(&present, &v, BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(m->remove(&absent), -ENOENT);
  EXPECT_EQ(m->remove(&present), 0);
  EXPECT_EQ(all_keys(*m).size(), 15u);
}

}  // namespace
