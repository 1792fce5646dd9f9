// Ring buffer and perf event array: the helpers' semantics, record layout,
// wrap-around, full buffers, and many producers with a concurrent consumer.
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "unit/maps_test_util.h"
#include "userbpf/maps.h"

namespace userbpf::maps {
namespace {

MapSpec spec_of(MapType t, uint32_t key, uint32_t value, uint32_t max, uint32_t flags = 0) {
  return maps_test::spec(t, key, value, max, flags);
}

std::unique_ptr<RingbufMap> make_ring(uint32_t size) {
  auto m = create_map(spec_of(MapType::Ringbuf, 0, 0, size));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().str());
  if (!m.ok()) return nullptr;
  auto* rb = dynamic_cast<RingbufMap*>(m->get());
  EXPECT_NE(rb, nullptr);
  if (!rb) return nullptr;
  m->release();
  return std::unique_ptr<RingbufMap>(rb);
}

std::vector<std::string> drain(RingbufMap& rb) {
  std::vector<std::string> out;
  rb.consume([&](const void* d, uint32_t n) {
    out.emplace_back(static_cast<const char*>(d), n);
    return 0;
  });
  return out;
}

// ---------------------------------------------------------------- ringbuf

TEST(Ringbuf, CreateChecks) {
  EXPECT_FALSE(create_map(spec_of(MapType::Ringbuf, 4, 0, 4096)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::Ringbuf, 0, 4, 4096)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::Ringbuf, 0, 0, 12288)).ok());  // not a power of 2
  EXPECT_FALSE(create_map(spec_of(MapType::Ringbuf, 0, 0, 2048)).ok());   // below a page
  EXPECT_FALSE(create_map(spec_of(MapType::Ringbuf, 0, 0, 0)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::Ringbuf, 0, 0, 4096, BPF_F_NO_PREALLOC)).ok());
  auto r = create_map(spec_of(MapType::Ringbuf, 0, 0, 2048));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::InvalidArgument);
  EXPECT_TRUE(create_map(spec_of(MapType::Ringbuf, 0, 0, 8192)).ok());
}

TEST(Ringbuf, OutputConsumeAndQuery) {
  auto rb = make_ring(4096);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->query(BPF_RB_RING_SIZE), 4096u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
  EXPECT_EQ(rb->output("hello", 5, 0), 0);
  EXPECT_EQ(rb->output("x", 1, BPF_RB_NO_WAKEUP), 0);
  EXPECT_EQ(rb->output("0123456789abcdef", 16, BPF_RB_FORCE_WAKEUP), 0);
  EXPECT_EQ(rb->output("bad", 3, 4), -EINVAL);
  // Each record: 8-byte header + data rounded up to 8.
  EXPECT_EQ(rb->query(BPF_RB_PROD_POS), 16u + 16u + 24u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 56u);
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 0u);
  EXPECT_EQ(rb->query(99), 0u);
  EXPECT_EQ(drain(*rb), (std::vector<std::string>{"hello", "x", "0123456789abcdef"}));
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 56u);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
  EXPECT_TRUE(drain(*rb).empty());
  // Element operations are refused.
  uint32_t k = 0, v = 0;
  EXPECT_EQ(rb->lookup(&k), nullptr);
  EXPECT_EQ(rb->sys_lookup(&k, &v), -EINVAL);
  EXPECT_EQ(rb->sys_update(&k, &v, 0), -EINVAL);
  EXPECT_EQ(rb->sys_delete(&k), -EINVAL);
  EXPECT_EQ(rb->get_next_key(nullptr, &k), -524);
}

TEST(Ringbuf, ReserveSubmitDiscardAndBusyRecords) {
  auto rb = make_ring(4096);
  ASSERT_TRUE(rb);
  EXPECT_EQ(rb->reserve(8, 1), nullptr);     // flags must be 0
  EXPECT_EQ(rb->reserve(4096, 0), nullptr);  // record + header must fit the ring
  auto* a = static_cast<char*>(rb->reserve(3, 0));
  ASSERT_NE(a, nullptr);
  // Header: len with BUSY set, pg_off of the header's page counted from the
  // start of the kernel's struct bpf_ringbuf (data starts at page 3).
  uint32_t hdr[2];
  std::memcpy(hdr, a - 8, 8);
  EXPECT_EQ(hdr[0], 3u | (1u << 31));
  EXPECT_EQ(hdr[1], 3u);
  // The record lies in memory the program may write.
  bool covered = false;
  for (const auto& s : rb->program_memory())
    covered |= s.writable && reinterpret_cast<uintptr_t>(a) >= s.start && reinterpret_cast<uintptr_t>(a) + 3 <= s.start + s.size;
  EXPECT_TRUE(covered);
  std::memcpy(a, "abc", 3);
  auto* b = static_cast<char*>(rb->reserve(2, 0));
  ASSERT_NE(b, nullptr);
  std::memcpy(b, "de", 2);
  EXPECT_EQ(rb->output("fg", 2, 0), 0);
  // The consumer stops at the first record still being written.
  EXPECT_TRUE(drain(*rb).empty());
  rb->discard(b, 0);  // b is done but a still holds the line
  EXPECT_TRUE(drain(*rb).empty());
  rb->submit(a, 0);
  EXPECT_EQ(drain(*rb), (std::vector<std::string>{"abc", "fg"}));
  std::memcpy(hdr, b - 8, 8);
  EXPECT_EQ(hdr[0], 2u | (1u << 30));
  // Submitting again or a foreign pointer changes nothing.
  rb->submit(a, 0);
  int local = 0;
  rb->submit(&local, 0);
  EXPECT_TRUE(drain(*rb).empty());
}

TEST(Ringbuf, FullRingReturnsEagain) {
  auto rb = make_ring(4096);
  ASSERT_TRUE(rb);
  std::vector<char> rec(1000, 'r');
  // 1008-byte records: four fit (positions must stay within size - 1 of the consumer).
  for (int i = 0; i < 4; ++i) ASSERT_EQ(rb->output(rec.data(), rec.size(), 0), 0) << i;
  EXPECT_EQ(rb->output(rec.data(), rec.size(), 0), -EAGAIN);
  EXPECT_EQ(rb->reserve(1000, 0), nullptr);
  EXPECT_EQ(rb->output(rec.data(), 56, 0), -EAGAIN);  // 4032 + 64 > 4095
  EXPECT_EQ(rb->output(rec.data(), 48, 0), 0);        // 4032 + 56 still fits
  EXPECT_EQ(drain(*rb).size(), 5u);
  EXPECT_EQ(rb->output(rec.data(), rec.size(), 0), 0);
}

TEST(Ringbuf, BusyRecordKeepsItsSpaceWhenConsumerPosIsForced) {
  // A consumer may write consumer_pos (page 1 of the block) arbitrarily; like the
  // kernel's pending_pos, producers still never overwrite a record being written.
  auto rb = make_ring(4096);
  ASSERT_TRUE(rb);
  std::vector<char> rec(2000, 'r');
  void* busy = rb->reserve(2000, 0);
  ASSERT_NE(busy, nullptr);
  auto* cons = rb->block().at<std::atomic<uint64_t>>(4096);
  ASSERT_EQ(cons->load(), 0u);
  cons->store(rb->query(BPF_RB_PROD_POS));
  EXPECT_EQ(rb->query(BPF_RB_CONS_POS), 2008u);
  EXPECT_EQ(rb->output(rec.data(), 2000, 0), 0);      // 2 * 2008 bytes since the busy record
  EXPECT_EQ(rb->output(rec.data(), 1500, 0), -EAGAIN);  // would reach into it
  rb->submit(busy, 0);
  EXPECT_EQ(rb->output(rec.data(), 1500, 0), 0);
}

TEST(Ringbuf, RecordsWrapAroundTheEndContiguously) {
  auto rb = make_ring(4096);
  ASSERT_TRUE(rb);
  uint32_t seq = 0, next = 0;
  bool wrapped = false;
  for (int round = 0; round < 200; ++round) {
    // Sizes that do not divide the ring, so records straddle its end.
    for (int i = 0; i < 3; ++i) {
      std::vector<uint8_t> rec(100 + (seq % 37) * 13);
      for (size_t j = 0; j < rec.size(); ++j) rec[j] = static_cast<uint8_t>(seq * 7 + j);
      std::memcpy(rec.data(), &seq, 4);
      const uint64_t before = rb->query(BPF_RB_PROD_POS);
      ASSERT_EQ(rb->output(rec.data(), rec.size(), 0), 0);
      if ((before & 4095) + 8 + rec.size() > 4096) wrapped = true;
      ++seq;
    }
    long n = rb->consume([&](const void* d, uint32_t size) {
      const auto* p = static_cast<const uint8_t*>(d);
      uint32_t got;
      std::memcpy(&got, p, 4);
      EXPECT_EQ(got, next);
      EXPECT_EQ(size, 100 + (next % 37) * 13);
      for (size_t j = 4; j < size; ++j)
        if (p[j] != static_cast<uint8_t>(next * 7 + j)) {
          ADD_FAILURE() << "record " << next << " byte " << j;
          break;
        }
      ++next;
      return 0;
    });
    ASSERT_EQ(n, 3);
  }
  EXPECT_TRUE(wrapped);
  EXPECT_EQ(next, seq);
}

TEST(Ringbuf, CallbackErrorStopsAfterConsumingThatRecord) {
  auto rb = make_ring(4096);
  ASSERT_TRUE(rb);
  ASSERT_EQ(rb->output("a", 1, 0), 0);
  ASSERT_EQ(rb->output("b", 1, 0), 0);
  EXPECT_EQ(rb->consume([](const void*, uint32_t) { return -5; }), -5);
  EXPECT_EQ(drain(*rb), (std::vector<std::string>{"b"}));
}

TEST(Ringbuf, ConcurrentProducersAndConsumer) {
  constexpr int kThreads = 4, kPerThread = 10000;
  auto rb = make_ring(16384);
  ASSERT_TRUE(rb);
  std::atomic<int> producers_left{kThreads};
  std::vector<std::vector<uint8_t>> seen(kThreads, std::vector<uint8_t>(kPerThread, 0));
  std::atomic<long> corrupt{0}, out_of_order{0};
  std::thread consumer([&] {
    std::vector<int> last(kThreads, -1);
    auto cb = [&](const void* d, uint32_t size) {
      // Record: u32 thread, u32 seq, then (seq % 29) filler bytes derived from both.
      uint32_t t, s;
      std::memcpy(&t, d, 4);
      std::memcpy(&s, static_cast<const uint8_t*>(d) + 4, 4);
      if (t >= kThreads || s >= kPerThread || size != 8 + s % 29) {
        ++corrupt;
        return 0;
      }
      const auto* p = static_cast<const uint8_t*>(d) + 8;
      for (uint32_t j = 0; j < s % 29; ++j)
        if (p[j] != static_cast<uint8_t>(t * 31 + s + j)) ++corrupt;
      if (static_cast<int>(s) <= last[t]) ++out_of_order;
      last[t] = static_cast<int>(s);
      ++seen[t][s];
      return 0;
    };
    while (producers_left.load() > 0) {
      if (rb->consume(cb) == 0) std::this_thread::yield();
    }
    rb->consume(cb);
  });
  std::vector<std::thread> producers;
  for (uint32_t t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      uint8_t rec[8 + 29];
      for (uint32_t s = 0; s < kPerThread; ++s) {
        std::memcpy(rec, &t, 4);
        std::memcpy(rec + 4, &s, 4);
        for (uint32_t j = 0; j < s % 29; ++j) rec[8 + j] = static_cast<uint8_t>(t * 31 + s + j);
        // Alternate between the two ways programs produce records.
        if (s % 2) {
          while (rb->output(rec, 8 + s % 29, 0) == -EAGAIN) std::this_thread::yield();
        } else {
          void* p;
          while (!(p = rb->reserve(8 + s % 29, 0))) std::this_thread::yield();
          std::memcpy(p, rec, 8 + s % 29);
          rb->submit(p, 0);
        }
      }
      --producers_left;
    });
  }
  for (auto& p : producers) p.join();
  consumer.join();
  EXPECT_EQ(corrupt.load(), 0);
  EXPECT_EQ(out_of_order.load(), 0);
  long missing = 0, dup = 0;
  for (const auto& v : seen)
    for (uint8_t c : v) {
      missing += c == 0;
      dup += c > 1;
    }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(dup, 0);
  EXPECT_EQ(rb->query(BPF_RB_AVAIL_DATA), 0u);
}

// ---------------------------------------------------------------- perf_event_array

// Slots start empty as in the kernel; `install` puts a "perf event" in each, as
// a consumer does before reading.
std::unique_ptr<PerfEventArrayMap> make_perf(uint32_t max, bool install = true) {
  auto m = create_map(spec_of(MapType::PerfEventArray, 4, 4, max));
  EXPECT_TRUE(m.ok()) << (m.ok() ? "" : m.error().str());
  if (!m.ok()) return nullptr;
  auto* p = dynamic_cast<PerfEventArrayMap*>(m->get());
  EXPECT_NE(p, nullptr);
  if (!p) return nullptr;
  m->release();
  const uint32_t event = 0;
  for (uint32_t i = 0; install && i < p->spec().max_entries; ++i) EXPECT_EQ(p->sys_update(&i, &event, BPF_ANY), 0);
  return std::unique_ptr<PerfEventArrayMap>(p);
}

std::vector<std::string> drain(PerfEventArrayMap& m, uint32_t idx) {
  std::vector<std::string> out;
  m.consume(idx, [&](const void* d, uint32_t n) {
    out.emplace_back(static_cast<const char*>(d), n);
    return 0;
  });
  return out;
}

TEST(PerfEventArray, CreateChecks) {
  auto p = make_perf(0);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->spec().max_entries, static_cast<uint32_t>(num_possible_cpus()));
  EXPECT_FALSE(create_map(spec_of(MapType::PerfEventArray, 4, 8, 4)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::PerfEventArray, 8, 4, 4)).ok());
  EXPECT_FALSE(create_map(spec_of(MapType::PerfEventArray, 4, 4, 4, BPF_F_RDONLY_PROG)).ok());
}

TEST(PerfEventArray, RoutesByIndexAndPadsLikePerf) {
  auto p = make_perf(4);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->output(1, "hello", 5), 0);
  EXPECT_EQ(p->output(2, "12345678", 8), 0);
  EXPECT_EQ(p->output(1, "abcd", 4), 0);
  EXPECT_EQ(p->output(4, "x", 1), -E2BIG);
  EXPECT_EQ(p->output(uint64_t{1} << 32, "x", 1), -EINVAL);
  EXPECT_TRUE(drain(*p, 0).empty());
  // Raw sample sizes are padded so that size + 4 is a multiple of 8.
  EXPECT_EQ(drain(*p, 1), (std::vector<std::string>{std::string("hello\0\0\0\0\0\0\0", 12), "abcd"}));
  EXPECT_EQ(drain(*p, 2), (std::vector<std::string>{std::string("12345678\0\0\0\0", 12)}));
  EXPECT_TRUE(drain(*p, 1).empty());
  EXPECT_EQ(p->consume(4, [](const void*, uint32_t) { return 0; }), -E2BIG);
  uint32_t k = 0, v = 0;
  EXPECT_EQ(p->lookup(&k), nullptr);
  EXPECT_EQ(p->sys_lookup(&k, &v), -524);
}

TEST(PerfEventArray, CurrentCpuFlag) {
  auto p = make_perf(0);
  ASSERT_TRUE(p);
  cpu_set_t old;
  ASSERT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(old), &old), 0);
  int target = -1;
  for (int c = CPU_SETSIZE - 1; c >= 0 && target < 0; --c)
    if (CPU_ISSET(c, &old) && c < num_possible_cpus()) target = c;
  ASSERT_GE(target, 0);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(target, &one);
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
  const long r = p->output(BPF_F_CURRENT_CPU, "cpu", 3);
  pthread_setaffinity_np(pthread_self(), sizeof(old), &old);
  ASSERT_EQ(r, 0);
  EXPECT_EQ(drain(*p, static_cast<uint32_t>(target)).size(), 1u);
  for (int c = 0; c < num_possible_cpus(); ++c) EXPECT_TRUE(drain(*p, static_cast<uint32_t>(c)).empty());
}

TEST(PerfEventArray, FullBufferLosesRecords) {
  auto p = make_perf(2);
  ASSERT_TRUE(p);
  std::vector<char> rec(1020, 'z');  // 1024 bytes with the size field
  const uint32_t fit = PerfEventArrayMap::kBufferBytes / 1024;
  for (uint32_t i = 0; i < fit; ++i) ASSERT_EQ(p->output(0, rec.data(), rec.size()), 0) << i;
  EXPECT_EQ(p->output(0, rec.data(), rec.size()), -ENOSPC);
  EXPECT_EQ(p->output(0, rec.data(), 1), -ENOSPC);
  EXPECT_EQ(p->lost(0), 2u);
  EXPECT_EQ(p->lost(1), 0u);
  EXPECT_EQ(p->output(1, rec.data(), rec.size()), 0);  // other index unaffected
  EXPECT_EQ(drain(*p, 0).size(), fit);
  // Space is free again; the buffer wraps.
  for (int i = 0; i < 3 * static_cast<int>(fit); ++i) {
    rec[0] = static_cast<char>('a' + i % 26);
    ASSERT_EQ(p->output(0, rec.data(), 13), 0);
    auto got = drain(*p, 0);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].size(), 20u);
    EXPECT_EQ(got[0][0], rec[0]);
  }
  EXPECT_EQ(p->lost(0), 2u);
}

TEST(PerfEventArray, EmptySlotRefusesOutput) {
  auto fresh = make_perf(2, false);
  ASSERT_TRUE(fresh);
  EXPECT_EQ(fresh->output(0, "x", 1), -ENOENT);
  EXPECT_EQ(fresh->output(BPF_F_CURRENT_CPU, "x", 1), -ENOENT);
  EXPECT_EQ(fresh->output(2, "x", 1), -E2BIG);
}

TEST(PerfEventArray, DeletedSlotRefusesOutput) {
  auto p = make_perf(2);
  ASSERT_TRUE(p);
  uint32_t k = 1, v = 5, big = 2;
  EXPECT_EQ(p->sys_delete(&k), 0);
  EXPECT_EQ(p->output(1, "x", 1), -ENOENT);
  EXPECT_EQ(p->sys_delete(&k), -ENOENT);
  EXPECT_EQ(p->sys_delete(&big), -E2BIG);
  EXPECT_EQ(p->sys_update(&k, &v, BPF_NOEXIST), -EINVAL);
  EXPECT_EQ(p->sys_update(&big, &v, BPF_ANY), -E2BIG);
  EXPECT_EQ(p->sys_update(&k, &v, BPF_ANY), 0);
  EXPECT_EQ(p->output(1, "x", 1), 0);
  uint32_t next = 9;
  EXPECT_EQ(p->get_next_key(nullptr, &next), 0);
  EXPECT_EQ(next, 0u);
  EXPECT_EQ(p->get_next_key(&k, &next), -ENOENT);
}

TEST(PerfEventArray, ConcurrentProducersOneIndex) {
  auto p = make_perf(1);
  ASSERT_TRUE(p);
  constexpr int kThreads = 4, kPerThread = 5000;
  std::atomic<int> left{kThreads};
  std::atomic<long> got{0}, bad{0};
  std::thread consumer([&] {
    auto cb = [&](const void* d, uint32_t size) {
      uint32_t x[2];
      std::memcpy(x, d, 8);
      if (size != 12 || x[0] != ~x[1]) ++bad;
      ++got;
      return 0;
    };
    while (left.load() > 0) p->consume(0, cb);
    p->consume(0, cb);
  });
  std::vector<std::thread> ts;
  for (int t = 0; t < kThreads; ++t)
    ts.emplace_back([&, t] {
      for (uint32_t s = 0; s < kPerThread; ++s) {
        uint32_t x[2] = {static_cast<uint32_t>(t) * 100000 + s, ~(static_cast<uint32_t>(t) * 100000 + s)};
        while (p->output(0, x, 8) == -ENOSPC) std::this_thread::yield();
      }
      --left;
    });
  for (auto& t : ts) t.join();
  consumer.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_EQ(got.load(), kThreads * kPerThread);
}

}  // namespace
}  // namespace userbpf::maps
