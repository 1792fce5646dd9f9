// Queue, stack and bloom filter maps: push/pop/peek semantics, flags and the
// errno results of the operations these maps do not have.
#include <linux/bpf.h>

#include <cerrno>

#include "maps_test_util.h"

using namespace maps_test;

namespace {

void expect_create_error(const MapSpec& s, const std::string& reason_part) {
  auto r = userbpf::maps::create_map(s);
  ASSERT_FALSE(r.ok()) << "created a map from a bad spec (" << reason_part << ")";
  EXPECT_EQ(r.error().kind, userbpf::ErrorKind::InvalidArgument);
  EXPECT_NE(r.error().message.find("map 'm'"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find(reason_part), std::string::npos) << r.error().message;
}

// ------------------------------------------------------------ queue/stack --

TEST(QueueStackMap, CreateChecks) {
  for (MapType t : {MapType::Queue, MapType::Stack}) {
    expect_create_error(spec(t, 4, 4, 4), "key_size must be 0");
    expect_create_error(spec(t, 0, 0, 4), "value_size");
    expect_create_error(spec(t, 0, 4, 0), "max_entries");
    expect_create_error(spec(t, 0, 4, 4, BPF_F_NO_PREALLOC), "flags");
    expect_create_error(spec(t, 0, 0xffffffffu, 0xffffffffu), "too big");
    expect_create_error(spec(t, 0, 1 << 20, 1 << 20), "too big");
  }
}

TEST(QueueMap, FifoOrderAndFullness) {
  auto m = make(spec(MapType::Queue, 0, 8, 3));
  ASSERT_NE(m, nullptr);
  uint64_t v = 0;
  EXPECT_EQ(m->pop(&v), -ENOENT);
  EXPECT_EQ(m->peek(&v), -ENOENT);
  for (uint64_t i = 1; i <= 3; ++i) ASSERT_EQ(m->push(&i, BPF_ANY), 0);
  uint64_t four = 4;
  EXPECT_EQ(m->push(&four, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->push(&four, BPF_NOEXIST), -EINVAL);
  EXPECT_EQ(m->push(&four, 4), -EINVAL);
  EXPECT_EQ(m->peek(&v), 0);
  EXPECT_EQ(v, 1u);
  EXPECT_EQ(m->push(&four, BPF_EXIST), 0) << "BPF_EXIST overwrites the oldest";
  for (uint64_t want : {2, 3, 4}) {
    ASSERT_EQ(m->pop(&v), 0);
    EXPECT_EQ(v, want);
  }
  EXPECT_EQ(m->pop(&v), -ENOENT);
  // Wrap around the ring many times.
  uint64_t next_in = 100, next_out = 100;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 2; ++i, ++next_in) ASSERT_EQ(m->push(&next_in, BPF_ANY), 0);
    for (int i = 0; i < 2; ++i, ++next_out) {
      ASSERT_EQ(m->pop(&v), 0);
      ASSERT_EQ(v, next_out);
    }
  }
}

TEST(StackMap, LifoOrderAndOverwrite) {
  auto m = make(spec(MapType::Stack, 0, 4, 3));
  ASSERT_NE(m, nullptr);
  uint32_t v = 0;
  EXPECT_EQ(m->pop(&v), -ENOENT);
  for (uint32_t i = 1; i <= 3; ++i) ASSERT_EQ(m->push(&i, BPF_ANY), 0);
  uint32_t four = 4;
  EXPECT_EQ(m->push(&four, BPF_ANY), -E2BIG);
  EXPECT_EQ(m->peek(&v), 0);
  EXPECT_EQ(v, 3u);
  EXPECT_EQ(m->push(&four, BPF_EXIST), 0) << "drops the oldest (1)";
  for (uint32_t want : {4, 3, 2}) {
    ASSERT_EQ(m->pop(&v), 0);
    EXPECT_EQ(v, want);
  }
  EXPECT_EQ(m->peek(&v), -ENOENT);
  for (uint32_t i = 0; i < 100; ++i) {  // wraps the ring
    ASSERT_EQ(m->push(&i, BPF_EXIST), 0);
  }
  for (uint32_t want : {99, 98, 97}) {
    ASSERT_EQ(m->pop(&v), 0);
    EXPECT_EQ(v, want);
  }
  EXPECT_EQ(m->pop(&v), -ENOENT);
}

TEST(QueueStackMap, KeyedOperationsAreInvalid) {
  for (MapType t : {MapType::Queue, MapType::Stack}) {
    auto m = make(spec(t, 0, 4, 4));
    ASSERT_NE(m, nullptr);
    uint32_t v = 7, got = 0, key = 0;
    EXPECT_EQ(m->lookup(&key), nullptr);
    EXPECT_EQ(m->update(&key, &v, BPF_ANY), -EINVAL);
    EXPECT_EQ(m->remove(&key), -EINVAL);
    EXPECT_EQ(m->get_next_key(nullptr, &got), -EINVAL);
    // The bpf(2) lookup peeks and update pushes.
    EXPECT_EQ(m->sys_lookup(nullptr, &got), -ENOENT);
    EXPECT_EQ(m->sys_update(nullptr, &v, BPF_ANY), 0);
    EXPECT_EQ(m->sys_lookup(nullptr, &got), 0);
    EXPECT_EQ(got, 7u);
    EXPECT_EQ(m->pop(&got), 0) << "sys_lookup must not remove";
    EXPECT_TRUE(m->program_memory().empty());
  }
}

// ----------------------------------------------------------- bloom filter --

TEST(BloomFilter, CreateChecks) {
  expect_create_error(spec(MapType::BloomFilter, 4, 4, 100), "key_size must be 0");
  expect_create_error(spec(MapType::BloomFilter, 0, 0, 100), "value_size");
  expect_create_error(spec(MapType::BloomFilter, 0, 4, 0), "max_entries");
  expect_create_error(spec(MapType::BloomFilter, 0, 4, 100, 0, 16), "map_extra");
  expect_create_error(spec(MapType::BloomFilter, 0, 4, 100, BPF_F_NO_PREALLOC), "flags");
}

TEST(BloomFilter, PushedValuesArePresent) {
  for (uint64_t hashes : {0, 1, 3, 15}) {
    auto m = make(spec(MapType::BloomFilter, 0, 8, 1000, BPF_F_ZERO_SEED, hashes));
    ASSERT_NE(m, nullptr);
    for (uint64_t i = 0; i < 100; ++i) {
      uint64_t v = i * 1000003;
      ASSERT_EQ(m->push(&v, BPF_ANY), 0);
    }
    for (uint64_t i = 0; i < 100; ++i) {
      uint64_t v = i * 1000003;
      EXPECT_EQ(m->peek(&v), 0) << "no false negatives";
    }
    // 100 of 1000 entries: false positives must be rare.
    int negatives = 0;
    for (uint64_t i = 0; i < 1000; ++i) {
      uint64_t v = (i + 1) * 1000003 + 17;
      negatives += m->peek(&v) == -ENOENT;
    }
    EXPECT_GE(negatives, 950) << "hashes " << hashes;
  }
}

TEST(BloomFilter, UnsupportedOperations) {
  auto m = make(spec(MapType::BloomFilter, 0, 4, 16));
  ASSERT_NE(m, nullptr);
  uint32_t v = 5, key = 0;
  EXPECT_EQ(m->peek(&v), -ENOENT);
  EXPECT_EQ(m->push(&v, BPF_EXIST), -EINVAL);
  EXPECT_EQ(m->push(&v, BPF_NOEXIST), -EINVAL);
  EXPECT_EQ(m->peek(&v), -ENOENT) << "a rejected push must not add";
  EXPECT_EQ(m->lookup(&key), nullptr);
  EXPECT_EQ(m->update(&key, &v, BPF_ANY), -EINVAL);
  EXPECT_EQ(m->remove(&key), -EOPNOTSUPP);
  EXPECT_EQ(m->get_next_key(nullptr, &key), -EOPNOTSUPP);
  EXPECT_EQ(m->pop(&v), -EOPNOTSUPP);
  // bpf(2): update adds, lookup tests.
  EXPECT_EQ(m->sys_update(nullptr, &v, BPF_ANY), 0);
  EXPECT_EQ(m->sys_lookup(nullptr, &v), 0);
  EXPECT_EQ(m->peek(&v), 0);
}

}  // namespace
