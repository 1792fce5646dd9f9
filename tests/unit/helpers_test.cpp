// Standard helpers called directly: maps, time/task, probe_read, strings,
// ring buffer and perf output, with their kernel return values and error paths.
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "unit/helpers_test_util.h"

namespace userbpf::helpers_test {
namespace {

using maps::MapType;

TEST(HelperNames, KernelIdsAndNames) {
  EXPECT_EQ(helpers::helper_name(1), "bpf_map_lookup_elem");
  EXPECT_EQ(helpers::helper_name(6), "bpf_trace_printk");
  EXPECT_EQ(helpers::helper_name(12), "bpf_tail_call");
  EXPECT_EQ(helpers::helper_name(BPF_FUNC_loop), "bpf_loop");
  EXPECT_EQ(BPF_FUNC_loop, 181);
  EXPECT_EQ(helpers::helper_name(130), "bpf_ringbuf_output");
  EXPECT_EQ(helpers::helper_name(0), "");
  EXPECT_EQ(helpers::helper_name(-3), "");
  EXPECT_EQ(helpers::helper_name(100000), "");
  vm::HelperRegistry reg;
  helpers::register_standard_helpers(reg);
  for (int32_t id : {1, 2, 3, 4, 5, 6, 7, 8, 12, 14, 15, 16, 25, 45, 87, 88, 89, 105, 106, 112, 113, 114, 115, 118, 125,
                     130, 131, 132, 133, 134, 160, 164, 165, 177, 181, 182}) {
    const vm::HelperInfo* h = reg.find(id);
    ASSERT_NE(h, nullptr) << id;
    EXPECT_EQ(h->name, helpers::helper_name(id));
  }
}

// ---- maps ----------------------------------------------------------------------------------

TEST(MapHelpers, HashLookupUpdateDelete) {
  Harness h({map_spec(MapType::Hash, 4, 8, 4)});
  ASSERT_TRUE(h.ok());
  uint32_t key = 7;
  uint64_t value = 0x1122334455667788ull;
  h.allow(&key, 4, false);
  h.allow(&value, 8, false);
  const uint64_t m = h.map_ptr(0);
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, m, addr(&key)), 0u);
  EXPECT_EQ(h.scall(BPF_FUNC_map_update_elem, m, addr(&key), addr(&value), BPF_NOEXIST), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_map_update_elem, m, addr(&key), addr(&value), BPF_NOEXIST), -EEXIST);
  EXPECT_EQ(h.scall(BPF_FUNC_map_update_elem, m, addr(&key), addr(&value), 99), -EINVAL);
  const uint64_t p = h.call(BPF_FUNC_map_lookup_elem, m, addr(&key));
  ASSERT_NE(p, 0u);
  EXPECT_TRUE(h.ctx.accessible(p, 8, true)) << "value memory must be program memory";
  uint64_t got;
  std::memcpy(&got, reinterpret_cast<void*>(p), 8);
  EXPECT_EQ(got, value);
  EXPECT_EQ(h.scall(BPF_FUNC_map_delete_elem, m, addr(&key)), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_map_delete_elem, m, addr(&key)), -ENOENT);
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, m, addr(&key)), 0u);
}

TEST(MapHelpers, RefusesForgedMapsAndUncheckedPointers) {
  Harness h({map_spec(MapType::Array, 4, 8, 4)});
  ASSERT_TRUE(h.ok());
  uint32_t key = 1;
  uint64_t value = 5;
  h.allow(&key, 4, false);
  // Not a map: any pointer the program makes up, including real host memory.
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, addr(&value), addr(&key)), 0u);
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, 0x1234, addr(&key)), 0u);
  EXPECT_EQ(h.scall(BPF_FUNC_map_update_elem, 0, addr(&key), addr(&value), 0), -EINVAL);
  // value not registered as program memory: -EFAULT, map untouched.
  EXPECT_EQ(h.scall(BPF_FUNC_map_update_elem, h.map_ptr(0), addr(&key), addr(&value), 0), -EFAULT);
  // Key pointer outside program memory: no lookup.
  uint32_t hidden = 1;
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, h.map_ptr(0), addr(&hidden)), 0u);
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, h.map_ptr(0), 8), 0u);
  EXPECT_NE(h.call(BPF_FUNC_map_lookup_elem, h.map_ptr(0), addr(&key)), 0u);
  // Array: out-of-range key, delete refused as in the kernel.
  key = 4;
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, h.map_ptr(0), addr(&key)), 0u);
  EXPECT_EQ(h.scall(BPF_FUNC_map_delete_elem, h.map_ptr(0), addr(&key)), -EINVAL);
}

TEST(MapHelpers, QueuePushPopPeekAndTypeChecks) {
  Harness h({map_spec(MapType::Queue, 0, 4, 2), map_spec(MapType::Hash, 4, 4, 2, "h")});
  ASSERT_TRUE(h.ok());
  uint32_t v = 10, out = 0;
  h.allow(&v, 4, false);
  h.allow(&out, 4, true);
  const uint64_t q = h.map_ptr(0);
  EXPECT_EQ(h.scall(BPF_FUNC_map_pop_elem, q, addr(&out)), -ENOENT);
  EXPECT_EQ(h.scall(BPF_FUNC_map_push_elem, q, addr(&v), 0), 0);
  v = 11;
  EXPECT_EQ(h.scall(BPF_FUNC_map_push_elem, q, addr(&v), 0), 0);
  v = 12;
  EXPECT_EQ(h.scall(BPF_FUNC_map_push_elem, q, addr(&v), 0), -E2BIG);
  EXPECT_EQ(h.scall(BPF_FUNC_map_push_elem, q, addr(&v), BPF_EXIST), 0);  // drops the oldest (10)
  EXPECT_EQ(h.scall(BPF_FUNC_map_peek_elem, q, addr(&out)), 0);
  EXPECT_EQ(out, 11u);
  EXPECT_EQ(h.scall(BPF_FUNC_map_pop_elem, q, addr(&out)), 0);
  EXPECT_EQ(out, 11u);
  EXPECT_EQ(h.scall(BPF_FUNC_map_pop_elem, q, addr(&out)), 0);
  EXPECT_EQ(out, 12u);
  // pop into read-only memory: -EFAULT.
  EXPECT_EQ(h.scall(BPF_FUNC_map_pop_elem, q, addr(&v)), -EFAULT);
  // The verifier's map/helper compatibility: no lookups on queues, no push on hashes.
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, q, addr(&v)), 0u);
  EXPECT_EQ(h.scall(BPF_FUNC_map_push_elem, h.map_ptr(1), addr(&v), 0), -EINVAL);
}

TEST(MapHelpers, MapInMapInnerMapUsableAfterLookup) {
  auto inner_spec = map_spec(MapType::Array, 4, 8, 2, "inner");
  auto outer = map_spec(MapType::ArrayOfMaps, 4, 4, 2, "outer");
  outer.inner = std::make_shared<maps::MapSpec>(inner_spec);
  Harness h({outer});
  ASSERT_TRUE(h.ok());
  // An inner map made outside the object, inserted from user space.
  auto inner = maps::create_map(inner_spec);
  ASSERT_TRUE(inner.ok()) << inner.error().str();
  uint32_t slot = 1, id = (*inner)->id();
  ASSERT_EQ(h.map(0)->sys_update(&slot, &id, 0), 0);
  h.allow(&slot, 4, false);
  // Before the lookup the program has no business passing it.
  uint32_t k = 0;
  h.allow(&k, 4, false);
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, reinterpret_cast<uint64_t>(inner->get()), addr(&k)), 0u);
  const uint64_t got = h.call(BPF_FUNC_map_lookup_elem, h.map_ptr(0), addr(&slot));
  ASSERT_EQ(got, reinterpret_cast<uint64_t>(inner->get()));
  const uint64_t v = h.call(BPF_FUNC_map_lookup_elem, got, addr(&k));
  ASSERT_NE(v, 0u);
  EXPECT_TRUE(h.ctx.accessible(v, 8, true)) << "inner map values must become program memory";
  // Updates of map-in-map from programs are refused (verifier rule).
  EXPECT_EQ(h.scall(BPF_FUNC_map_update_elem, h.map_ptr(0), addr(&slot), addr(&slot), 0), -EINVAL);
  // Destroyed: no longer accepted even though the pointer was handed out.
  inner->reset();
  EXPECT_EQ(h.call(BPF_FUNC_map_lookup_elem, got, addr(&k)), 0u);
}

// ---- time and task -----------------------------------------------------------------------

uint64_t now(clockid_t c) {
  timespec ts{};
  clock_gettime(c, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

TEST(TaskHelpers, ClocksPidsAndRandom) {
  Harness h;
  ASSERT_TRUE(h.ok());
  const uint64_t a = now(CLOCK_MONOTONIC);
  const uint64_t k = h.call(BPF_FUNC_ktime_get_ns);
  const uint64_t b = now(CLOCK_MONOTONIC);
  EXPECT_LE(a, k);
  EXPECT_LE(k, b);
  const uint64_t boot = h.call(BPF_FUNC_ktime_get_boot_ns);
  EXPECT_GE(boot, a);
  EXPECT_LE(boot, now(CLOCK_BOOTTIME));
  const uint64_t coarse = h.call(BPF_FUNC_ktime_get_coarse_ns);
  EXPECT_LE(coarse, now(CLOCK_MONOTONIC_COARSE));
  EXPECT_GT(coarse + 100'000'000ull, a);
  const uint64_t j1 = h.call(BPF_FUNC_jiffies64);
  usleep(20000);
  const uint64_t j2 = h.call(BPF_FUNC_jiffies64);
  EXPECT_GT(j1, (1ull << 32) - 300 * 1000);  // starts at INITIAL_JIFFIES
  EXPECT_GT(j2, j1);
  EXPECT_EQ(h.call(BPF_FUNC_get_current_pid_tgid),
            (static_cast<uint64_t>(getpid()) << 32) | static_cast<uint32_t>(gettid()));
  EXPECT_EQ(h.call(BPF_FUNC_get_current_uid_gid), (static_cast<uint64_t>(getgid()) << 32) | getuid());
  EXPECT_LT(h.call(BPF_FUNC_get_smp_processor_id), static_cast<uint64_t>(maps::num_possible_cpus()));
  uint64_t seen_or = 0, seen_and = ~0ull;
  for (int i = 0; i < 64; ++i) {
    const uint64_t r = h.call(BPF_FUNC_get_prandom_u32);
    EXPECT_LE(r, 0xffffffffull);
    seen_or |= r;
    seen_and &= r;
  }
  EXPECT_EQ(seen_or, 0xffffffffull);  // every bit varies across 64 draws
  EXPECT_EQ(seen_and, 0u);
}

TEST(TaskHelpers, CurrentCommCopiesPadsAndTruncates) {
  Harness h;
  ASSERT_TRUE(h.ok());
  char saved[17] = {};
  prctl(PR_GET_NAME, saved, 0, 0, 0);
  prctl(PR_SET_NAME, "helpers-comm", 0, 0, 0);
  char buf[20];
  std::memset(buf, 'x', sizeof buf);
  h.allow(buf, sizeof buf);
  EXPECT_EQ(h.scall(BPF_FUNC_get_current_comm, addr(buf), 20), 0);
  EXPECT_STREQ(buf, "helpers-comm");
  for (size_t i = std::strlen("helpers-comm"); i < 20; ++i) EXPECT_EQ(buf[i], 0) << i;  // strscpy_pad
  std::memset(buf, 'x', sizeof buf);
  EXPECT_EQ(h.scall(BPF_FUNC_get_current_comm, addr(buf), 5), 0);
  EXPECT_STREQ(buf, "help");
  EXPECT_EQ(buf[5], 'x');
  EXPECT_EQ(h.scall(BPF_FUNC_get_current_comm, addr(buf), 0), -EINVAL);
  EXPECT_EQ(h.scall(BPF_FUNC_get_current_comm, addr(buf), 21), -EFAULT);
  prctl(PR_SET_NAME, saved, 0, 0, 0);
}

// ---- probe_read --------------------------------------------------------------------------

TEST(ProbeRead, ReadsAnyProcessMemoryAndFaultsSafely) {
  Harness h;
  ASSERT_TRUE(h.ok());
  char dst[16];
  h.allow(dst, sizeof dst);
  static const char secret[] = "not program memory";
  for (int32_t id : {BPF_FUNC_probe_read, BPF_FUNC_probe_read_user, BPF_FUNC_probe_read_kernel}) {
    std::memset(dst, 'x', sizeof dst);
    EXPECT_EQ(h.scall(id, addr(dst), 8, addr(secret)), 0);
    EXPECT_EQ(std::memcmp(dst, secret, 8), 0);
    // A faulting read: -EFAULT and the destination zero-filled.
    std::memset(dst, 'x', sizeof dst);
    EXPECT_EQ(h.scall(id, addr(dst), 16, 16), -EFAULT);
    for (char c : dst) EXPECT_EQ(c, 0);
  }
  // An unmapped page right after a mapped one: a read crossing into it fails whole.
  const long pg = sysconf(_SC_PAGESIZE);
  auto* area = static_cast<char*>(mmap(nullptr, static_cast<size_t>(pg) * 2, PROT_READ | PROT_WRITE,
                                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(area, MAP_FAILED);
  ASSERT_EQ(munmap(area + pg, static_cast<size_t>(pg)), 0);
  std::memset(area, 'a', static_cast<size_t>(pg));
  std::memset(dst, 'x', sizeof dst);
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read, addr(dst), 8, addr(area + pg - 4)), -EFAULT);
  EXPECT_EQ(dst[0], 0);
  // Destination not program memory: refused, nothing written.
  char other[8] = {'q'};
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read, addr(other), 8, addr(secret)), -EFAULT);
  EXPECT_EQ(other[0], 'q');
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read, addr(dst), 0, 0), 0);

  // _str: length with NUL, truncation, a string ending just before the hole.
  std::memset(dst, 'x', sizeof dst);
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read_str, addr(dst), 16, addr("hello")), 6);
  EXPECT_STREQ(dst, "hello");
  EXPECT_EQ(dst[6], 'x') << "no padding after the NUL";
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read_user_str, addr(dst), 4, addr("hello")), 4);
  EXPECT_STREQ(dst, "hel");
  area[pg - 1] = '\0';
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read_kernel_str, addr(dst), 16, addr(area + pg - 3)), 3);
  EXPECT_STREQ(dst, "aa");
  area[pg - 1] = 'a';  // now the string runs into the hole
  std::memset(dst, 'x', sizeof dst);
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read_str, addr(dst), 16, addr(area + pg - 3)), -EFAULT);
  for (char c : dst) EXPECT_EQ(c, 0);
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read_str, addr(dst), 3, addr(area + pg - 3)), 3) << "stops before the hole";
  EXPECT_EQ(h.scall(BPF_FUNC_probe_read_str, addr(dst), 0, 0), 0);
  munmap(area, static_cast<size_t>(pg));
}

// ---- ring buffer and perf output ---------------------------------------------------------

TEST(RingbufHelpers, ReserveSubmitDiscardOutputQuery) {
  Harness h({map_spec(MapType::Ringbuf, 0, 0, 4096)});
  ASSERT_TRUE(h.ok());
  const uint64_t rb = h.map_ptr(0);
  auto* ring = static_cast<maps::RingbufMap*>(h.map(0));
  const uint64_t p1 = h.call(BPF_FUNC_ringbuf_reserve, rb, 8, 0);
  ASSERT_NE(p1, 0u);
  EXPECT_TRUE(h.ctx.accessible(p1, 8, true));
  const uint64_t p2 = h.call(BPF_FUNC_ringbuf_reserve, rb, 4, 0);
  ASSERT_NE(p2, 0u);
  EXPECT_EQ(h.call(BPF_FUNC_ringbuf_reserve, rb, 8, 1), 0u) << "flags must be 0";
  std::memcpy(reinterpret_cast<void*>(p1), "record-1", 8);
  std::memcpy(reinterpret_cast<void*>(p2), "dis!", 4);
  std::vector<std::string> got;
  auto consume = [&] {
    return ring->consume([&](const void* d, uint32_t n) {
      got.emplace_back(static_cast<const char*>(d), n);
      return 0;
    });
  };
  EXPECT_EQ(consume(), 0) << "nothing committed yet";
  // Forged sample pointers are ignored, not committed.
  h.call(BPF_FUNC_ringbuf_submit, p1 + 8, 0);
  h.call(BPF_FUNC_ringbuf_submit, 0x1000, 0);
  EXPECT_EQ(consume(), 0);
  h.call(BPF_FUNC_ringbuf_discard, p2, 0);
  h.call(BPF_FUNC_ringbuf_submit, p1, 0);
  h.call(BPF_FUNC_ringbuf_submit, p1, 0);  // twice: the second is ignored
  char msg[5] = "out!";
  h.allow(msg, 5, false);
  EXPECT_EQ(h.scall(BPF_FUNC_ringbuf_output, rb, addr(msg), 4, 0), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_ringbuf_output, rb, addr(msg), 4, 8), -EINVAL);
  EXPECT_EQ(h.scall(BPF_FUNC_ringbuf_output, rb, addr(msg), 6, 0), -EFAULT);
  EXPECT_EQ(h.scall(BPF_FUNC_ringbuf_output, rb, addr(msg), 8192, 0), -EFAULT);
  EXPECT_EQ(h.call(BPF_FUNC_ringbuf_query, rb, BPF_RB_RING_SIZE), 4096u);
  EXPECT_EQ(h.call(BPF_FUNC_ringbuf_query, rb, BPF_RB_AVAIL_DATA), 16u + 16u + 16u);
  EXPECT_EQ(consume(), 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], "record-1");
  EXPECT_EQ(got[1], "out!");
  EXPECT_EQ(h.call(BPF_FUNC_ringbuf_query, rb, BPF_RB_AVAIL_DATA), 0u);
  // Too big to ever fit: NULL.
  EXPECT_EQ(h.call(BPF_FUNC_ringbuf_reserve, rb, 8192, 0), 0u);
  // Not a ring buffer.
  EXPECT_EQ(h.scall(BPF_FUNC_ringbuf_output, addr(msg), addr(msg), 4, 0), -EINVAL);
}

TEST(PerfHelpers, EventOutputReachesConsumer) {
  Harness h({map_spec(MapType::PerfEventArray, 4, 4, 2)});
  ASSERT_TRUE(h.ok());
  auto* pe = static_cast<maps::PerfEventArrayMap*>(h.map(0));
  uint64_t data = 0xabcdef;
  h.allow(&data, 8, false);
  // Slots start empty as in the kernel (no perf event installed): -ENOENT.
  EXPECT_EQ(h.scall(BPF_FUNC_perf_event_output, 0, h.map_ptr(0), 1, addr(&data), 8), -ENOENT);
  const uint32_t slot = 1, event = 0;
  ASSERT_EQ(pe->sys_update(&slot, &event, BPF_ANY), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_perf_event_output, 0, h.map_ptr(0), 1, addr(&data), 8), 0);
  EXPECT_EQ(h.scall(BPF_FUNC_perf_event_output, 0, h.map_ptr(0), 1, addr(&data), 16), -EFAULT);
  EXPECT_EQ(h.scall(BPF_FUNC_perf_event_output, 0, addr(&data), 1, addr(&data), 8), -EINVAL);
  uint64_t seen = 0;
  EXPECT_EQ(pe->consume(1, [&](const void* d, uint32_t n) {
    EXPECT_GE(n, 8u);
    std::memcpy(&seen, d, 8);
    return 0;
  }),
            1);
  EXPECT_EQ(seen, data);
}

}  // namespace
}  // namespace userbpf::helpers_test
