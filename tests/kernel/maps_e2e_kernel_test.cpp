// End to end against the kernel, with map state: each packet program of
// tests/progs (every map type, tail calls, global data, loops, bpf-to-bpf calls,
// adjust_head ...) is loaded fresh by libbpf into the kernel and by userbpf, and
// the same sequence of packets runs through both with BPF_PROG_TEST_RUN and
// hooks::test_run.  State carries over between runs as in the kernel; after
// every run the retval, the output packet and the contents of every map must
// agree:
//   - iterable maps: every key with its lookup result (hash orders differ, so
//     entries are sorted by key; per-CPU values are compared as the multiset of
//     the per-CPU slots, since the kernel and we may run on different CPUs;
//     map-in-map and prog_array values are ids, compared as present/absent);
//   - queue / stack: the peeked value, and all elements popped at the end;
//   - bloom filter: membership of every one-byte value;
//   - ring buffer: the records consumed after the run.
// LRU maps are compared only while not full (eviction order is not specified).
// Skipped when this process cannot load BPF programs.
#include <gtest/gtest.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <sched.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/kernel_bpf.h"
#include "support/packets.h"
#include "userbpf/hooks.h"
#include "userbpf/loader.h"
#include "userbpf/maps.h"
#include "userbpf/runtime.h"

namespace userbpf::testing {
namespace {

using packets::Bytes;
using maps::MapType;

std::string hex(const Bytes& b, size_t max = 512) {
  std::ostringstream s;
  static const char* d = "0123456789abcdef";
  for (size_t i = 0; i < b.size() && i < max; ++i) s << d[b[i] >> 4] << d[b[i] & 15] << ((i % 32 == 31) ? "\n" : " ");
  if (b.size() > max) s << "...";
  return s.str();
}

// ---- one run ---------------------------------------------------------------------

struct Outcome {
  bool ok = false;
  std::string err;
  uint32_t retval = 0;
  Bytes data_out;
};

Outcome kernel_run(int fd, const Bytes& pkt) {
  Outcome o;
  Bytes out(pkt.size() + 4096);
  LIBBPF_OPTS(bpf_test_run_opts, t);
  t.data_in = pkt.data();
  t.data_size_in = static_cast<uint32_t>(pkt.size());
  t.data_out = out.data();
  t.data_size_out = static_cast<uint32_t>(out.size());
  t.repeat = 1;
  if (bpf_prog_test_run_opts(fd, &t) != 0) {
    o.err = "errno " + std::to_string(errno);
    return o;
  }
  o.ok = true;
  o.retval = t.retval;
  o.data_out.assign(out.begin(), out.begin() + t.data_size_out);
  return o;
}

Outcome user_run(const runtime::Program& prog, const Bytes& pkt) {
  Outcome o;
  hooks::TestRunInput in;
  in.data = pkt;
  auto r = hooks::test_run(prog, in);
  if (!r) {
    o.err = r.error().str();
    return o;
  }
  o.ok = true;
  o.retval = r->retval;
  o.data_out = std::move(r->data_out);
  return o;
}

std::string compare_runs(const Outcome& k, const Outcome& u) {
  if (k.ok != u.ok) return "kernel " + (k.ok ? std::string("ran") : "failed (" + k.err + ")") + ", userbpf " +
                           (u.ok ? std::string("ran") : "failed: " + u.err) + "\n";
  if (!k.ok) return {};
  std::string d;
  if (k.retval != u.retval) d += "retval kernel " + std::to_string(k.retval) + " userbpf " + std::to_string(u.retval) + "\n";
  if (k.data_out != u.data_out) d += "data_out differs\nkernel:\n" + hex(k.data_out) + "\nuserbpf:\n" + hex(u.data_out) + "\n";
  return d;
}

// ---- map contents, normalised so that both sides can be compared -----------------

struct Snapshot {
  std::vector<std::string> lines;  // one per entry / record / queue element
  size_t entries = 0;              // iterable maps: number of keys
  bool operator==(const Snapshot& o) const { return lines == o.lines; }
};

bool is_percpu(uint32_t t) {
  return t == static_cast<uint32_t>(MapType::PercpuArray) || t == static_cast<uint32_t>(MapType::PercpuHash) ||
         t == static_cast<uint32_t>(MapType::LruPercpuHash);
}
bool holds_ids(uint32_t t) {
  return t == static_cast<uint32_t>(MapType::ProgArray) || t == static_cast<uint32_t>(MapType::ArrayOfMaps) ||
         t == static_cast<uint32_t>(MapType::HashOfMaps);
}
bool is_lru(uint32_t t) {
  return t == static_cast<uint32_t>(MapType::LruHash) || t == static_cast<uint32_t>(MapType::LruPercpuHash);
}

// The value as compared: per-CPU slots sorted (the multiset of values over
// CPUs), ids reduced to "present".
std::string value_text(uint32_t type, uint32_t value_size, long rc, Bytes v) {
  if (rc != 0) return "rc " + std::to_string(rc);
  if (holds_ids(type)) return "id";
  if (is_percpu(type)) {
    const size_t stride = (value_size + 7) / 8 * 8;
    std::vector<Bytes> slots;
    for (size_t off = 0; off + stride <= v.size(); off += stride)
      slots.emplace_back(v.begin() + static_cast<std::ptrdiff_t>(off),
                         v.begin() + static_cast<std::ptrdiff_t>(off + value_size));
    std::sort(slots.begin(), slots.end());
    std::string s;
    for (auto& b : slots) s += "[" + hex(b) + "]";
    return s;
  }
  return hex(v);
}

// Kernel and userbpf views of one map, behind the same few operations.
struct MapAccess {
  std::function<long(const void* key, void* next)> next_key;
  std::function<long(const void* key, void* value)> lookup;     // bpf(2) lookup (peek for queue/stack/bloom)
  std::function<long(void* value)> pop;                         // queue / stack
  std::function<void(std::vector<std::string>&)> consume_ring;  // ringbuf
};

Snapshot snapshot(const maps::MapSpec& spec, const MapAccess& a, bool drain) {
  Snapshot s;
  const uint32_t t = spec.type;
  const size_t vsize = is_percpu(t) ? (spec.value_size + 7) / 8 * 8 * maps::num_possible_cpus() : spec.value_size;
  if (t == static_cast<uint32_t>(MapType::Ringbuf)) {
    a.consume_ring(s.lines);
    return s;
  }
  if (t == static_cast<uint32_t>(MapType::Queue) || t == static_cast<uint32_t>(MapType::Stack)) {
    Bytes v(vsize);
    const long rc = a.lookup(nullptr, v.data());
    s.lines.push_back("peek " + value_text(t, spec.value_size, rc, v));
    while (drain) {
      const long r = a.pop(v.data());
      s.lines.push_back("pop " + value_text(t, spec.value_size, r, v));
      if (r != 0 || s.lines.size() > spec.max_entries + 4) break;
    }
    return s;
  }
  if (t == static_cast<uint32_t>(MapType::BloomFilter)) {
    // Membership of every value whose low byte varies (the test programs add
    // one-byte keys); the rest of the value is zero.
    std::string bits;
    for (uint32_t x = 0; x < 256; ++x) {
      Bytes v(vsize, 0);
      v[0] = static_cast<uint8_t>(x);
      bits += a.lookup(nullptr, v.data()) == 0 ? '1' : '0';
    }
    s.lines.push_back(bits);
    return s;
  }
  Bytes key(spec.key_size), next(spec.key_size);
  bool first = true;
  std::vector<std::pair<Bytes, std::string>> entries;
  for (size_t guard = 0; guard < spec.max_entries + 1024; ++guard) {
    const long rc = a.next_key(first ? nullptr : key.data(), next.data());
    if (rc != 0) {
      if (rc != -ENOENT) s.lines.push_back("get_next_key rc " + std::to_string(rc));
      break;
    }
    first = false;
    key = next;
    Bytes v(vsize);
    const long lr = a.lookup(key.data(), v.data());
    entries.emplace_back(key, value_text(t, spec.value_size, lr, v));
  }
  std::sort(entries.begin(), entries.end());
  s.entries = entries.size();
  for (auto& [k, v] : entries) s.lines.push_back(hex(k) + "=> " + v);
  return s;
}

long neg_errno(int rc) { return rc == 0 ? 0 : -errno; }

MapAccess kernel_access(int fd, ring_buffer* rb, std::vector<std::string>* records) {
  MapAccess a;
  a.next_key = [fd](const void* k, void* n) { return neg_errno(bpf_map_get_next_key(fd, k, n)); };
  a.lookup = [fd](const void* k, void* v) { return neg_errno(bpf_map_lookup_elem(fd, k, v)); };
  a.pop = [fd](void* v) { return neg_errno(bpf_map_lookup_and_delete_elem(fd, nullptr, v)); };
  a.consume_ring = [rb, records](std::vector<std::string>& out) {
    records->clear();
    if (rb) {
      const int n = ring_buffer__consume(rb);
      if (n < 0) out.push_back("consume rc " + std::to_string(n));
    }
    out.insert(out.end(), records->begin(), records->end());
  };
  return a;
}

MapAccess user_access(maps::Map& m) {
  MapAccess a;
  a.next_key = [&m](const void* k, void* n) { return m.get_next_key(k, n); };
  a.lookup = [&m](const void* k, void* v) {
    const uint32_t t = m.type();
    if (t == static_cast<uint32_t>(MapType::BloomFilter)) return m.peek(v);
    return m.sys_lookup(k, v);
  };
  a.pop = [&m](void* v) { return m.pop(v); };
  a.consume_ring = [&m](std::vector<std::string>& out) {
    auto* rb = dynamic_cast<maps::RingbufMap*>(&m);
    if (!rb) return;
    const long n = rb->consume([&](const void* d, uint32_t size) {
      out.push_back(std::to_string(size) + ": " + hex(Bytes(static_cast<const uint8_t*>(d),
                                                             static_cast<const uint8_t*>(d) + size)));
      return 0;
    });
    if (n < 0) out.push_back("consume rc " + std::to_string(n));
  };
  return a;
}

int record_cb(void* ctx, void* data, size_t size) {
  auto* out = static_cast<std::vector<std::string>*>(ctx);
  const auto* p = static_cast<const uint8_t*>(data);
  out->push_back(std::to_string(size) + ": " + hex(Bytes(p, p + size)));
  return 0;
}

// ---- the two loads of one object -----------------------------------------------

struct KernelSide {
  bpf_object* obj = nullptr;
  std::vector<ring_buffer*> rings;
  std::vector<std::unique_ptr<std::vector<std::string>>> records;
  ~KernelSide() {
    for (ring_buffer* r : rings) ring_buffer__free(r);
    bpf_object__close(obj);
  }
};

struct MapPair {
  std::string name;
  maps::MapSpec spec;
  MapAccess kernel, user;
};

// Keeps the test thread on one CPU for a sequence, so that per-CPU maps and
// LRU free lists behave as with one CPU on both sides.
class PinCpu {
 public:
  PinCpu() {
    ok_ = sched_getaffinity(0, sizeof(old_), &old_) == 0;
    if (!ok_) return;
    cpu_set_t one;
    CPU_ZERO(&one);
    const int cpu = sched_getcpu();
    CPU_SET(cpu < 0 ? 0 : cpu, &one);
    ok_ = sched_setaffinity(0, sizeof(one), &one) == 0;
  }
  ~PinCpu() {
    if (ok_) sched_setaffinity(0, sizeof(old_), &old_);
  }

 private:
  cpu_set_t old_;
  bool ok_ = false;
};

struct Step {
  std::string name;
  Bytes data;
};

// What a sequence exercised, so that a test can check it compared something.
struct Coverage {
  std::set<uint32_t> retvals;  // kernel retvals seen
  size_t ring_records = 0;     // kernel ring buffer records consumed
  size_t map_lines = 0;        // kernel map entries / elements compared
};

// Runs `steps` through program `prog_name` of a fresh load on both sides
// (userbpf on `engine`) and reports every difference.
void run_sequence(const std::string& file, const std::string& prog_name, const std::vector<Step>& steps,
                  const char* engine, Coverage& cov) {
  SCOPED_TRACE(file + " / " + prog_name + " / " + engine);
  const std::string path = std::string(USERBPF_PROGS_DIR) + "/" + file;
  KernelSide k;
  k.obj = bpf_object__open_file(path.c_str(), nullptr);
  ASSERT_TRUE(k.obj) << path;
  ASSERT_EQ(bpf_object__load(k.obj), 0) << path << ": the kernel refused it";
  auto spec = loader::load_object(path);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  runtime::ObjectOptions oo;
  oo.engine = engine;
  auto uobj = runtime::Object::load(std::move(*spec), oo);
  ASSERT_TRUE(uobj.ok()) << uobj.error().str();
  runtime::Object& u = **uobj;

  bpf_program* kp = bpf_object__find_program_by_name(k.obj, prog_name.c_str());
  const runtime::Program* up = u.find_program(prog_name);
  ASSERT_TRUE(kp && up) << prog_name;

  // Pair the maps by name (global data maps are named as libbpf names them).
  std::vector<MapPair> pairs;
  size_t kernel_maps = 0;
  bpf_map* km = nullptr;
  bpf_object__for_each_map(km, k.obj) {
    ++kernel_maps;
    const std::string name = bpf_map__name(km);
    maps::Map* m = nullptr;
    for (size_t i = 0; i < u.num_maps(); ++i)
      if (u.map(i) && u.map(i)->spec().name == name) m = u.map(i);
    ASSERT_TRUE(m) << "no userbpf map named " << name;
    EXPECT_EQ(m->type(), bpf_map__type(km)) << name;
    MapPair p;
    p.name = name;
    p.spec = m->spec();
    p.spec.max_entries = bpf_map__max_entries(km);
    k.records.push_back(std::make_unique<std::vector<std::string>>());
    ring_buffer* rb = nullptr;
    if (bpf_map__type(km) == BPF_MAP_TYPE_RINGBUF) {
      rb = ring_buffer__new(bpf_map__fd(km), record_cb, k.records.back().get(), nullptr);
      ASSERT_TRUE(rb) << name;
      k.rings.push_back(rb);
    }
    p.kernel = kernel_access(bpf_map__fd(km), rb, k.records.back().get());
    p.user = user_access(*m);
    pairs.push_back(std::move(p));
  }
  size_t user_maps = 0;
  for (size_t i = 0; i < u.num_maps(); ++i) user_maps += u.map(i) != nullptr;
  EXPECT_EQ(user_maps, kernel_maps);

  PinCpu pin;
  size_t diffs = 0;
  for (size_t si = 0; si < steps.size() && diffs < 5; ++si) {
    const Step& st = steps[si];
    const bool last = si + 1 == steps.size();
    const Outcome ko = kernel_run(bpf_program__fd(kp), st.data);
    if (ko.ok) cov.retvals.insert(ko.retval);
    std::string d = compare_runs(ko, user_run(*up, st.data));
    for (MapPair& p : pairs) {
      const Snapshot ks = snapshot(p.spec, p.kernel, last);
      const Snapshot us = snapshot(p.spec, p.user, last);
      cov.map_lines += ks.lines.size();
      if (p.spec.type == static_cast<uint32_t>(MapType::Ringbuf)) cov.ring_records += ks.lines.size();
      if (is_lru(p.spec.type) && (ks.entries >= p.spec.max_entries || us.entries >= p.spec.max_entries)) continue;
      if (ks == us) continue;
      d += "map " + p.name + " differs\n";
      const size_t n = std::max(ks.lines.size(), us.lines.size());
      for (size_t i = 0; i < n; ++i) {
        const std::string kl = i < ks.lines.size() ? ks.lines[i] : "(none)";
        const std::string ul = i < us.lines.size() ? us.lines[i] : "(none)";
        if (kl != ul) d += "  kernel:  " + kl + "\n  userbpf: " + ul + "\n";
      }
    }
    if (!d.empty()) ++diffs;
    EXPECT_TRUE(d.empty()) << "step " << si << " (" << st.name << "):\n" << d;
  }
}

// ---- packet sequences ----------------------------------------------------------

Bytes udp_packet(const packets::Ip4& src, const packets::Ip4& dst, uint16_t sport, const Bytes& payload) {
  return packets::ethernet(packets::kMacB, packets::kMacA, 0x0800,
                           packets::ipv4(src, dst, 17, packets::udp4(src, dst, sport, 7777, payload)));
}

std::vector<Step> standard_steps() {
  std::vector<Step> v;
  for (auto& p : packets::standard_packets()) v.push_back({p.name, p.data});
  return v;
}

// Control bytes for xdp_map_types: key, operation bits, value, LPM prefix.
std::vector<Step> map_types_steps() {
  const packets::Ip4 ips[] = {{10, 0, 0, 1},   {10, 0, 0, 77},    {10, 0, 1, 5}, {192, 168, 1, 2},
                              {192, 168, 1, 200}, {172, 16, 5, 4}, {8, 8, 8, 8}};
  std::vector<Step> v;
  auto add = [&](const std::string& name, const packets::Ip4& s, const packets::Ip4& d, uint16_t sport,
                 std::initializer_list<uint8_t> ctl, size_t len = 400) {
    Bytes pl = packets::pattern(len, static_cast<uint8_t>(v.size()));
    size_t i = 0;
    for (uint8_t c : ctl)
      if (i < pl.size()) pl[i++] = c;
    v.push_back({name, udp_packet(s, d, sport, pl)});
  };
  // Hand-picked first: inserts, repeats (EEXIST), pushes until full, big ring records.
  add("insert", ips[0], ips[3], 1000, {1, 0x01 | 0x08, 5, 0});
  add("repeat_noexist", ips[0], ips[3], 1000, {1, 0x01 | 0x02 | 0x08, 6, 1});
  add("fill_ring", ips[3], ips[0], 2000, {2, 0x08 | 0x20, 7, 2});
  add("push_full", ips[5], ips[1], 3000, {3, 0x08, 8, 3});
  add("push_overwrite", ips[6], ips[2], 3000, {4, 0x08, 9, 4});
  add("pop_delete", ips[2], ips[4], 4000, {1, 0x04 | 0x10 | 0x40 | 0x80, 10, 3});
  add("lpm_readd", ips[4], ips[3], 4000, {1, 0x01, 11, 3});
  add("short_payload", ips[0], ips[1], 1000, {5, 0xff, 1, 1}, 8);
  add("no_control_bytes", ips[0], ips[1], 1000, {}, 2);
  // Then pseudo-random control bytes, with non-UDP frames between.
  std::mt19937 rng(12345);
  const auto std_pk = packets::standard_packets();
  for (int i = 0; i < 40; ++i) {
    const uint8_t key = static_cast<uint8_t>(rng() % 16), ops = static_cast<uint8_t>(rng());
    const uint8_t val = static_cast<uint8_t>(rng()), pfx = static_cast<uint8_t>(rng());
    add("random" + std::to_string(i), ips[rng() % 7], ips[rng() % 7], static_cast<uint16_t>(1000 * (1 + rng() % 4)),
        {key, ops, val, pfx}, i % 9 == 8 ? 100 : 400);
    if (i % 7 == 3) {
      const auto& p = std_pk[rng() % std_pk.size()];
      v.push_back({p.name, p.data});
    }
  }
  return v;
}

// xdp_tail_calls: c[0] is the slot the entry jumps to, c[1] the trail length.
std::vector<Step> tail_call_steps() {
  std::vector<Step> v;
  for (uint8_t slot : {0, 1, 2, 3, 4, 5, 6, 7, 8, 200, 4, 2}) {
    Bytes pl(60, 0);
    pl[0] = slot;
    v.push_back({"slot" + std::to_string(slot), udp_packet(packets::kIpA, packets::kIpB, 1000, pl)});
  }
  Bytes short_pl(10, 0);
  v.push_back({"no_trail", udp_packet(packets::kIpA, packets::kIpB, 1000, short_pl)});
  for (auto& s : standard_steps())
    if (s.name == "arp_broadcast" || s.name == "ipv6_udp" || s.name == "ipv4_udp") v.push_back(s);
  return v;
}

struct ObjCase {
  std::string file;
  std::vector<Step> (*steps)();
};

void PrintTo(const ObjCase& c, std::ostream* os) { *os << c.file; }

class MapsE2E : public ::testing::TestWithParam<ObjCase> {};

TEST_P(MapsE2E, RunsAndMapsMatchKernel) {
  if (!kernel_bpf_available()) GTEST_SKIP() << kernel_bpf_unavailable_reason();
  const ObjCase& c = GetParam();
  auto spec = loader::load_object(std::string(USERBPF_PROGS_DIR) + "/" + c.file);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  const std::vector<Step> steps = c.steps();
  size_t ran = 0;
  for (const auto& p : spec->programs) {
    if (!hooks::supports_test_run(p.prog_type)) continue;
    // "auto" is the JIT for these verified programs (on hosts it supports).
    for (const char* engine : {"auto", "interp"}) {
      Coverage cov;
      run_sequence(c.file, p.name, steps, engine, cov);
      // The sequences are built to take several paths: make sure they did.
      if (p.name == "xdp_map_types") {
        EXPECT_GE(cov.retvals.size(), 3u);  // XDP_PASS, XDP_TX, XDP_ABORTED
        EXPECT_GT(cov.ring_records, steps.size());
      }
      if (p.name == "xdp_entry") {
        EXPECT_GE(cov.retvals.size(), 4u);
      }
    }
    ++ran;
  }
  EXPECT_GT(ran, 0u);
}

std::vector<ObjCase> all_cases() {
  std::vector<ObjCase> v;
  for (const char* cpu : {"v3", "v4"}) {
    const std::string s = std::string(".") + cpu + ".bpf.o";
    v.push_back({"xdp_map_types" + s, map_types_steps});
    v.push_back({"xdp_tail_calls" + s, tail_call_steps});
    for (const char* name : {"maps_globals", "loop_subprog", "callbacks", "v4_ops", "xdp_firewall", "map_in_map",
                             "array_lookup", "xdp_parse", "xdp_rewrite", "xdp_adjust", "tc_classify", "tc_skb",
                             "socket_ldabs"})
      v.push_back({name + s, standard_steps});
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(Progs, MapsE2E, ::testing::ValuesIn(all_cases()), [](const auto& info) {
  std::string n = info.param.file;
  for (char& ch : n)
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return n;
});

}  // namespace
}  // namespace userbpf::testing
