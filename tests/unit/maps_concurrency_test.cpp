// Maps under concurrent use, and maps shared through their memfd: a second
// mapping (or a second Map object, or a forked process) sees the same elements.
#include <linux/bpf.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "maps_test_util.h"

using namespace maps_test;

namespace {

void run_threads(int n, const std::function<void(int)>& fn) {
  std::vector<std::thread> ts;
  for (int t = 0; t < n; ++t) ts.emplace_back(fn, t);
  for (auto& t : ts) t.join();
}

// ------------------------------------------------------------- concurrency --

class ArrayAtomicAdd : public ::testing::TestWithParam<int> {};

TEST_P(ArrayAtomicAdd, LosesNoUpdate) {
  const int nthreads = GetParam();
  constexpr int kAdds = 200000;
  auto m = make(spec(MapType::Array, 4, 8, 4));
  ASSERT_NE(m, nullptr);
  run_threads(nthreads, [&](int) {
    uint32_t k = 1;
    for (int i = 0; i < kAdds; ++i) {
      auto* p = static_cast<uint64_t*>(m->lookup(&k));
      __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
    }
  });
  uint32_t k = 1;
  uint64_t got = 0;
  ASSERT_EQ(m->sys_lookup(&k, &got), 0);
  EXPECT_EQ(got, uint64_t{kAdds} * nthreads);
}
INSTANTIATE_TEST_SUITE_P(Threads, ArrayAtomicAdd, ::testing::Values(2, 8));

TEST(HashConcurrency, DisjointInsertsAllLand) {
  constexpr int kThreads = 4, kPerThread = 5000;
  for (MapType t : {MapType::Hash, MapType::LruHash}) {
    auto m = make(spec(t, 8, 8, kThreads * kPerThread));
    ASSERT_NE(m, nullptr);
    std::atomic<int> failures{0};
    run_threads(kThreads, [&](int id) {
      for (uint64_t i = 0; i < kPerThread; ++i) {
        const uint64_t key = (uint64_t(id) << 32) | i, val = key * 3 + 1;
        if (m->update(&key, &val, BPF_NOEXIST) != 0) failures++;
      }
    });
    EXPECT_EQ(failures.load(), 0);
    for (uint64_t id = 0; id < kThreads; ++id)
      for (uint64_t i = 0; i < kPerThread; ++i) {
        const uint64_t key = (id << 32) | i;
        uint64_t got = 0;
        ASSERT_EQ(m->sys_lookup(&key, &got), 0) << "key " << key;
        ASSERT_EQ(got, key * 3 + 1);
      }
    EXPECT_EQ(all_keys(*m).size(), size_t{kThreads} * kPerThread);
  }
}

// Threads insert and delete in their own key ranges while others read; the final
// contents must be exactly the union of what each thread believes it left.
TEST(HashConcurrency, InsertDeleteChurnStaysConsistent) {
  constexpr int kThreads = 4, kKeysPerThread = 8, kOps = 50000;  // few buckets: heavy contention
  auto m = make(spec(MapType::Hash, 4, 4, kThreads * kKeysPerThread));
  ASSERT_NE(m, nullptr);
  std::vector<std::set<uint32_t>> expected(kThreads);
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::thread reader([&] {
    while (!stop.load()) {
      for (uint32_t k = 0; k < kThreads * kKeysPerThread; ++k) {
        // Values read through lookup() pointers may be rewritten at any time (the
        // element can be deleted and reused, as in the kernel), so check contents
        // through the copying syscall side: a value always carries its key.
        uint32_t v = 0;
        if (m->sys_lookup(&k, &v) == 0 && (v & 0xffff) != k) errors++;
        if (m->lookup(&k) == reinterpret_cast<void*>(1)) errors++;  // exercise the program side too
      }
      all_keys(*m);  // iteration racing with updates must not crash or hang
    }
  });
  run_threads(kThreads, [&](int id) {
    std::mt19937 rng(id);
    for (int op = 0; op < kOps; ++op) {
      const uint32_t k = id * kKeysPerThread + rng() % kKeysPerThread;
      const uint32_t v = (uint32_t(op) << 16) | k;
      if (rng() % 2) {
        const long r = m->update(&k, &v, BPF_NOEXIST);
        if (r == 0 ? !expected[id].insert(k).second : (r != -EEXIST || !expected[id].count(k))) errors++;
      } else {
        const long r = m->remove(&k);
        if (r == 0 ? expected[id].erase(k) != 1 : (r != -ENOENT || expected[id].count(k))) errors++;
      }
    }
  });
  stop = true;
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  std::set<uint32_t> want;
  for (auto& s : expected) want.insert(s.begin(), s.end());
  auto keys = all_keys(*m);
  std::set<uint32_t> got;
  for (auto& k : keys) EXPECT_TRUE(got.insert(u32_of(k)).second) << "duplicate key in iteration";
  EXPECT_EQ(got, want);
  // The free list is intact: the map can be filled to exactly max_entries.
  for (uint32_t k = 0; k < kThreads * kKeysPerThread; ++k) {
    const uint32_t v = k;
    ASSERT_EQ(m->update(&k, &v, BPF_ANY), 0) << k;
  }
  const uint32_t extra = 1u << 30, v = 0;
  EXPECT_EQ(m->update(&extra, &v, BPF_ANY), -E2BIG);
}

TEST(HashConcurrency, LruInsertsAlwaysSucceed) {
  auto m = make(spec(MapType::LruHash, 4, 4, 32));
  ASSERT_NE(m, nullptr);
  std::atomic<int> failures{0};
  run_threads(4, [&](int id) {
    for (uint32_t i = 0; i < 20000; ++i) {
      const uint32_t k = id * 1000000 + i;
      if (m->update(&k, &k, BPF_ANY) != 0) failures++;
    }
  });
  EXPECT_EQ(failures.load(), 0);
  auto keys = all_keys(*m);
  EXPECT_LE(keys.size(), 32u);
  EXPECT_GE(keys.size(), 28u) << "evictions beyond need";
  std::set<uint32_t> seen;
  for (auto& k : keys) EXPECT_TRUE(seen.insert(u32_of(k)).second);
}

TEST(QueueConcurrency, EveryPushedValuePoppedOnce) {
  auto m = make(spec(MapType::Queue, 0, 4, 64));
  ASSERT_NE(m, nullptr);
  constexpr int kPerProducer = 20000;
  std::vector<std::atomic<int>> seen(2 * kPerProducer);
  std::atomic<int> popped{0};
  run_threads(4, [&](int id) {
    if (id < 2) {
      for (uint32_t i = 0; i < kPerProducer; ++i) {
        const uint32_t v = id * kPerProducer + i;
        while (m->push(&v, BPF_ANY) == -E2BIG) std::this_thread::yield();
      }
    } else {
      while (popped.load() < 2 * kPerProducer) {
        uint32_t v;
        if (m->pop(&v) == 0) {
          seen.at(v)++;
          popped++;
        } else {
          std::this_thread::yield();
        }
      }
    }
  });
  for (auto& s : seen) ASSERT_EQ(s.load(), 1);
}

// ----------------------------------------------------------------- sharing --

TEST(MapSharing, SecondMappingOfTheBlockSeesArrayValues) {
  auto m = make(spec(MapType::Array, 4, 8, 16));
  ASSERT_NE(m, nullptr);
  const auto& b = m->block();
  ASSERT_GE(b.fd(), 0);
  void* second = mmap(nullptr, b.size(), PROT_READ | PROT_WRITE, MAP_SHARED, b.fd(), 0);
  ASSERT_NE(second, MAP_FAILED);
  ASSERT_NE(second, b.data());
  uint32_t k = 5;
  auto* p = static_cast<uint8_t*>(m->lookup(&k));
  const size_t off = p - b.data();
  const uint64_t v = 0x1122334455667788;
  ASSERT_EQ(m->update(&k, &v, BPF_ANY), 0);
  uint64_t seen;
  std::memcpy(&seen, static_cast<uint8_t*>(second) + off, 8);
  EXPECT_EQ(seen, v);
  const uint64_t w = 77;
  std::memcpy(static_cast<uint8_t*>(second) + off, &w, 8);
  ASSERT_EQ(m->sys_lookup(&k, &seen), 0);
  EXPECT_EQ(seen, w);
  munmap(second, b.size());
}

TEST(MapSharing, AttachedObjectsShareAllFamilies) {
  auto check_pair = [](Map& a, Map& b) {
    ASSERT_NE(a.block().data(), b.block().data()) << "must be a second mapping";
  };
  {  // hash: elements, chains and free list live in the block
    const MapSpec s = spec(MapType::Hash, 8, 8, 128);
    auto a = make(s);
    ASSERT_NE(a, nullptr);
    auto rb = userbpf::maps::attach_map(s, a->block().fd());
    ASSERT_TRUE(rb.ok()) << rb.error().str();
    auto& b = **rb;
    check_pair(*a, b);
    for (uint64_t k = 0; k < 100; ++k) ASSERT_EQ(a->update(&k, &k, BPF_NOEXIST), 0);
    for (uint64_t k = 0; k < 100; ++k) {
      auto* p = static_cast<uint64_t*>(b.lookup(&k));
      ASSERT_NE(p, nullptr) << k;
      EXPECT_EQ(*p, k);
    }
    uint64_t k = 100, v = 5;
    EXPECT_EQ(b.update(&k, &v, BPF_NOEXIST), 0);
    EXPECT_EQ(a->update(&k, &v, BPF_NOEXIST), -EEXIST);
    EXPECT_EQ(b.remove(&k), 0);
    EXPECT_EQ(a->lookup(&k), nullptr);
    EXPECT_EQ(all_keys(*a), all_keys(b));
  }
  {  // array
    const MapSpec s = spec(MapType::PercpuArray, 4, 4, 4);
    auto a = make(s);
    ASSERT_NE(a, nullptr);
    auto rb = userbpf::maps::attach_map(s, a->block().fd());
    ASSERT_TRUE(rb.ok()) << rb.error().str();
    std::vector<uint8_t> in(a->sys_value_size(), 9), out(a->sys_value_size());
    uint32_t k = 3;
    ASSERT_EQ(a->sys_update(&k, in.data(), BPF_ANY), 0);
    ASSERT_EQ((*rb)->sys_lookup(&k, out.data()), 0);
    EXPECT_EQ(out[0], 9);
  }
  {  // queue and bloom filter
    const MapSpec qs = spec(MapType::Queue, 0, 4, 4), bs = spec(MapType::BloomFilter, 0, 4, 64);
    auto qa = make(qs), ba = make(bs);
    ASSERT_TRUE(qa && ba);
    auto qb = userbpf::maps::attach_map(qs, qa->block().fd());
    auto bb = userbpf::maps::attach_map(bs, ba->block().fd());
    ASSERT_TRUE(qb.ok() && bb.ok());
    uint32_t v = 42, got = 0;
    ASSERT_EQ(qa->push(&v, BPF_ANY), 0);
    EXPECT_EQ((*qb)->pop(&got), 0);
    EXPECT_EQ(got, 42u);
    EXPECT_EQ(qa->pop(&got), -ENOENT);
    ASSERT_EQ(ba->push(&v, BPF_ANY), 0);
    EXPECT_EQ((*bb)->peek(&v), 0);
  }
}

TEST(MapSharing, AttachChecksTheSpec) {
  const MapSpec s = spec(MapType::Hash, 8, 8, 128);
  auto a = make(s);
  ASSERT_NE(a, nullptr);
  EXPECT_FALSE(userbpf::maps::attach_map(spec(MapType::Hash, 8, 16, 128), a->block().fd()).ok());
  EXPECT_FALSE(userbpf::maps::attach_map(spec(MapType::Array, 4, 8, 128), a->block().fd()).ok());
  EXPECT_FALSE(userbpf::maps::attach_map(s, -1).ok());
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  EXPECT_FALSE(userbpf::maps::attach_map(s, pipefd[0]).ok());
  close(pipefd[0]);
  close(pipefd[1]);
}

TEST(MapSharing, ForkedProcessUpdatesTheSameHashMap) {
  const MapSpec s = spec(MapType::Hash, 4, 4, 64);
  auto a = make(s);
  ASSERT_NE(a, nullptr);
  uint32_t k = 1, v = 10;
  ASSERT_EQ(a->update(&k, &v, BPF_ANY), 0);
  const int fd = a->block().fd();
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    // Child: a fresh mapping at another address, through its own Map object.
    auto b = userbpf::maps::attach_map(s, fd);
    int rc = b.ok() ? 0 : 1;
    if (b.ok()) {
      uint32_t key = 1, got = 0;
      if ((*b)->sys_lookup(&key, &got) != 0 || got != 10) rc = 2;
      for (uint32_t i = 2; i < 20; ++i) {
        const uint32_t val = i * 100;
        if ((*b)->update(&i, &val, BPF_NOEXIST) != 0) rc = 3;
      }
      if ((*b)->remove(&key) != 0) rc = 4;
    }
    _exit(rc);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(a->lookup(&k), nullptr) << "child's delete not visible";
  for (uint32_t i = 2; i < 20; ++i) {
    uint32_t got = 0;
    ASSERT_EQ(a->sys_lookup(&i, &got), 0) << i;
    EXPECT_EQ(got, i * 100);
  }
  EXPECT_EQ(all_keys(*a).size(), 18u);
}

}  // namespace
